"""`JointDistributionNamed`: a joint distribution from a dict of nodes, and its `Target`.

Each value of the dict is a distribution, or a callable whose argument names are
earlier keys (as TFP's JointDistributionNamed): ``{"tau": HalfCauchy(5.0),
"x": lambda tau: Normal(0.0, tau)}``. Nodes resolve in insertion order. One draw of the
joint is one draw of every node (a node's batch dims belong to the draw), so
`log_prob` sums every node's log density over all of its dims.

`condition(**observed)` turns the model into a `probflow.inference.Target` over the
unobserved nodes in unconstrained space (Stan's transforms, via
`probflow.bijectors.for_constraint`). The target's functions are built once per joint
and observed shape, and the observed values travel as the target's `data`, so a
jitted sampler that takes the target as an argument is not recompiled for new data.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from probflow.distributions._util import as_key, as_shape
from probflow.distributions.deterministic import Deterministic
from probflow.distributions.distribution import Distribution
from probflow.inference.target import Target

__all__ = ["JointDistributionNamed"]


class JointDistributionNamed(Distribution):
    """A joint distribution over named nodes, each possibly depending on earlier ones.

    Args:
        model: dict name -> `Distribution`, or name -> callable returning a
            `Distribution` whose argument names are earlier keys (arguments with
            defaults that are not keys keep their defaults).

    Example:
        >>> import jax
        >>> from probflow import distributions as dist
        >>> jd = dist.JointDistributionNamed({
        ...     "mu": dist.Normal(0.0, 1.0),
        ...     "y": lambda mu: dist.Normal(mu, 1.0).expand((3,)),
        ... })
        >>> draw = jd.sample(jax.random.key(0))
        >>> jd.event_shape
        {'mu': (), 'y': (3,)}
        >>> jd.log_prob(draw).shape
        ()
        >>> target = jd.condition(y=draw["y"])
        >>> target.size
        1
    """

    def __init__(self, model, *, validate_args=False):
        if not isinstance(model, Mapping):
            raise TypeError(
                "JointDistributionNamed: `model` must be a dict of name -> Distribution or "
                f"callable; got {type(model).__name__}"
            )
        if not model:
            raise ValueError("JointDistributionNamed: `model` must have at least one node; got {}")
        names = list(model)
        distributions, nodes = {}, []
        for position, name in enumerate(names):
            if not isinstance(name, str):
                raise TypeError(f"JointDistributionNamed: keys must be strings; got {name!r}")
            value = model[name]
            if isinstance(value, Distribution):
                distributions[name] = value
                nodes.append((name, None, ()))
            elif callable(value):
                parents = _parent_names(name, value, names[:position], names)
                nodes.append((name, value, parents))
            else:
                raise TypeError(
                    f"JointDistributionNamed: node `{name}` must be a Distribution or a "
                    f"callable returning one; got {type(value).__name__}"
                )
        self.distributions = distributions
        self.nodes = tuple(nodes)
        # Per-instance cache of condition() plans; static aux data compared by identity,
        # so the target functions stay the same objects across condition() calls.
        self._plans = _PlanCache()
        self.validate_args = bool(validate_args)

    # -- structure --------------------------------------------------------------------
    @property
    def names(self) -> tuple:
        """Node names in resolution (insertion) order."""
        return tuple(name for name, _, _ in self.nodes)

    @property
    def batch_shape(self):
        return ()

    @property
    def event_shape(self) -> dict:
        """dict name -> shape of that node in one joint draw (its batch + event shape)."""
        shapes = jax.eval_shape(self._sample_one, jax.random.key(0))
        return {name: tuple(shapes[name].shape) for name in self.names}

    # -- sampling -----------------------------------------------------------------------
    def _sample_one(self, key):
        keys = jax.random.split(key, len(self.nodes))
        values = {}
        for node, node_key in zip(self.nodes, keys):
            values[node[0]] = _resolve_node(node, values, self.distributions).sample(node_key)
        return values

    def sample(self, key, sample_shape=()):
        """Draws joint samples.

        Args:
            key: a `jax.random` key, or an int seed.
            sample_shape: int or tuple; prepended to every node's shape.

        Returns:
            dict name -> array of shape ``sample_shape + event_shape[name]``.
        """
        key = as_key(key, "JointDistributionNamed")
        sample_shape = as_shape(sample_shape)
        if not sample_shape:
            return self._sample_one(key)
        keys = jax.random.split(key, math.prod(sample_shape))
        draws = jax.vmap(self._sample_one)(keys)
        return {name: x.reshape(sample_shape + x.shape[1:]) for name, x in draws.items()}

    # -- densities ------------------------------------------------------------------------
    def _log_prob_one(self, values):
        env, total = {}, 0.0
        for node in self.nodes:
            name = node[0]
            dist = _resolve_node(node, env, self.distributions)
            env[name] = values[name]
            total = total + jnp.sum(dist.log_prob(values[name]))
        return total

    def log_prob(self, value):
        """Joint log density: the sum of every node's log density over all its dims.

        Args:
            value: dict name -> array for every node, each of shape
                ``sample_shape + event_shape[name]`` (same `sample_shape` for all).

        Returns:
            Array of shape ``sample_shape``.
        """
        values = self._check_values("log_prob", value)
        shapes = self.event_shape
        lead = None
        for name in self.names:
            x = values[name]
            node_lead = x.shape[: x.ndim - len(shapes[name])]
            if x.shape[len(node_lead) :] != shapes[name] or (
                lead is not None and node_lead != lead
            ):
                raise ValueError(
                    f"JointDistributionNamed.log_prob: `value['{name}']` must have shape "
                    f"sample_shape + {shapes[name]} with the same sample_shape as the other "
                    f"nodes (sample_shape {lead if lead is not None else 'free'}); got {x.shape}"
                )
            lead = node_lead
        if not lead:
            return self._log_prob_one(values)
        flat = {name: x.reshape((-1,) + x.shape[len(lead) :]) for name, x in values.items()}
        return jax.vmap(self._log_prob_one)(flat).reshape(lead)

    def _check_values(self, method, value):
        if not isinstance(value, Mapping):
            raise TypeError(
                f"JointDistributionNamed.{method}: expected a dict name -> array; "
                f"got {type(value).__name__}"
            )
        missing = [n for n in self.names if n not in value]
        extra = [n for n in value if n not in self.names]
        if missing or extra:
            raise ValueError(
                f"JointDistributionNamed.{method}: expected values for exactly the nodes "
                f"{list(self.names)}; missing {missing}, unknown {extra}"
            )
        return {name: jnp.asarray(value[name]) for name in self.names}

    # -- conditioning ----------------------------------------------------------------------
    def condition(self, **observed):
        """The posterior over the unobserved nodes given `observed`, as a `Target`.

        Unobserved `Deterministic` nodes are not parameters: they are computed from
        their parents and appear in ``target.constrain(z)`` beside the sampled nodes.

        Args:
            **observed: name -> observed array, for some of the nodes.

        Returns:
            A `probflow.inference.Target` over unconstrained values of the remaining
            nodes; ``target.log_likelihood(values)`` gives the pointwise log density of
            each observed node.

        Raises:
            ValueError: for an unknown name, a discrete unobserved node, or nothing
                left to infer.
        """
        unknown = [name for name in observed if name not in self.names]
        if unknown:
            raise ValueError(
                f"JointDistributionNamed.condition: unknown node name(s) {unknown}; "
                f"valid names are {list(self.names)}"
            )
        observed = {name: jnp.asarray(observed[name]) for name in self.names if name in observed}
        signature = tuple((n, x.shape, x.dtype.name) for n, x in observed.items())
        plan = self._plans.get(signature)
        if plan is None:
            plan = _TargetPlan(self.nodes, self.distributions, observed)
            self._plans[signature] = plan
        return _JointTarget(plan, self.distributions, observed)

    def __repr__(self):
        return f"JointDistributionNamed({list(self.names)})"


class _PlanCache(dict):
    """A dict hashed by identity, so it can sit in a pytree's static aux data."""

    __hash__ = object.__hash__

    def __eq__(self, other):
        return self is other


def _parent_names(name, fn, earlier, names):
    """The keys a node's callable depends on, from its signature."""
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        raise TypeError(
            f"JointDistributionNamed: cannot read the signature of node `{name}`'s callable "
            f"{fn!r}; use a def or lambda whose argument names are earlier keys"
        ) from None
    parents = []
    for parameter in parameters:
        if parameter.kind in (
            parameter.VAR_POSITIONAL,
            parameter.VAR_KEYWORD,
            parameter.POSITIONAL_ONLY,
        ):
            raise TypeError(
                f"JointDistributionNamed: node `{name}`'s callable must take named arguments "
                f"(earlier keys); got the {parameter.kind.description} parameter `{parameter.name}`"
            )
        if parameter.name in earlier:
            parents.append(parameter.name)
        elif parameter.default is not parameter.empty:
            continue
        elif parameter.name in names:
            raise ValueError(
                f"JointDistributionNamed: node `{name}` depends on `{parameter.name}`, which "
                f"comes later (or is itself); a callable may only use earlier keys "
                f"{list(earlier)}"
            )
        else:
            raise ValueError(
                f"JointDistributionNamed: node `{name}` has argument `{parameter.name}`, which "
                f"is not a key of the model; expected one of the earlier keys {list(earlier)}"
            )
    return tuple(parents)


def _resolve_node(node, values, distributions):
    """The distribution of `node` given its parents' values."""
    name, fn, parents = node
    if fn is None:
        return distributions[name]
    dist = fn(**{parent: values[parent] for parent in parents})
    if not isinstance(dist, Distribution):
        raise TypeError(
            f"JointDistributionNamed: node `{name}`'s callable must return a Distribution; "
            f"got {type(dist).__name__}"
        )
    return dist


# -- the conditioned model as a Target ---------------------------------------------------
_OBSERVED, _LATENT, _DERIVED = "observed", "latent", "derived"


def _unconstraining_bijector(dist):
    """The bijector from unconstrained space onto `dist`'s support (Stan's choice)."""
    from probflow.bijectors import Chain, for_constraint
    from probflow.distributions.independent import Independent
    from probflow.distributions.transformed import TransformedDistribution

    if isinstance(dist, Independent):
        # Log-dets are summed over every dim anyway; only the base's support matters.
        return _unconstraining_bijector(dist.base)
    if isinstance(dist, TransformedDistribution) and dist.support is _real():
        # Image of the base's support under the bijector, known or not by name.
        return Chain([dist.bijector, _unconstraining_bijector(dist.base)])
    return for_constraint(dist.support)


def _real():
    from probflow.distributions import constraints

    return constraints.real


def _has_tracer(tree) -> bool:
    return any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree_util.tree_leaves(tree))


class _TargetPlan:
    """What `condition` works out once per joint and observed signature.

    The role of every node (observed, latent, derived), which latent nodes have a
    support that depends on their parents (their bijector is rebuilt inside the
    density), the shapes of one point, and the functions handed to `Target`. Hashed
    by identity: the same plan means the same compiled programs.
    """

    def __init__(self, nodes, distributions, observed):
        self.nodes = nodes
        records = {}

        def probe(key, observed):
            keys = jax.random.split(key, len(nodes))
            env = {}
            for node, node_key in zip(nodes, keys):
                name = node[0]
                dist = _resolve_node(node, env, distributions)
                record = records[name] = {
                    "dist": dist,
                    "shape": dist.batch_shape + dist.event_shape,
                }
                if name in observed:
                    env[name] = observed[name]
                    continue
                env[name] = dist.sample(node_key)
                if not isinstance(dist, Deterministic):
                    if dist.support.is_discrete:
                        raise ValueError(
                            f"JointDistributionNamed.condition: node `{name}` "
                            f"({type(dist).__name__}) is discrete and unobserved; gradient-"
                            "based inference needs continuous parameters: observe it or "
                            "marginalise it out of the model"
                        )
                    bijector = _unconstraining_bijector(dist)
                    record["bijector"] = bijector
                    record["unconstrained_shape"] = tuple(bijector.inverse_shape(env[name].shape))
            return env

        shapes = jax.eval_shape(probe, jax.random.key(0), observed)
        roles, static_bijectors, dynamic = {}, {}, set()
        example, value_shapes = {}, {}
        for name, fn, parents in nodes:
            record = records[name]
            if name in observed:
                roles[name] = _OBSERVED
                _check_observed_shape(name, observed[name].shape, record["shape"])
            elif "bijector" not in record:
                roles[name] = _DERIVED
                value_shapes[name] = tuple(shapes[name].shape)
            else:
                roles[name] = _LATENT
                value_shapes[name] = tuple(shapes[name].shape)
                example[name] = jax.ShapeDtypeStruct(
                    record["unconstrained_shape"], shapes[name].dtype
                )
                bijector = record["bijector"]
                if _has_tracer(bijector):
                    if parents:
                        dynamic.add(name)
                        continue
                    # A root node: its bijector is a constant, built outside any trace.
                    root = distributions[name] if fn is None else fn()
                    bijector = _unconstraining_bijector(root)
                static_bijectors[name] = bijector
        if not example:
            raise ValueError(
                "JointDistributionNamed.condition: every node is observed or deterministic; "
                f"nothing is left to infer (observed {list(observed)})"
            )
        self.roles = roles
        self.dynamic = frozenset(dynamic)
        self.static_bijectors = static_bijectors
        self.example = example
        self.value_shapes = value_shapes
        self.latent_shapes = {n: s for n, s in value_shapes.items() if roles[n] == _LATENT}
        # Bound once so the Target's static functions are the same objects every time.
        self.log_prob_fn = self._log_prob
        self.log_likelihood_fn = self._log_likelihood

    def walk(self, data, visit):
        """Resolves the nodes in order; ``visit(name, role, dist)`` returns each value."""
        env = {}
        for node in self.nodes:
            name = node[0]
            dist = _resolve_node(node, env, data["model"])
            env[name] = visit(name, self.roles[name], dist)
        return env

    def _log_prob(self, values, data):
        """Log density of constrained latent `values` plus the observed data (one point)."""
        total = []

        def visit(name, role, dist):
            if role == _DERIVED:
                return dist.mean()
            value = data["observed"][name] if role == _OBSERVED else values[name]
            total.append(jnp.sum(dist.log_prob(value)))
            return value

        self.walk(data, visit)
        return sum(total[1:], total[0])

    def _log_likelihood(self, values, data):
        """dict observed name -> pointwise log density; leading batch dims allowed."""

        def one(values):
            out = {}

            def visit(name, role, dist):
                if role == _OBSERVED:
                    out[name] = dist.log_prob(data["observed"][name])
                    return data["observed"][name]
                return dist.mean() if role == _DERIVED else values[name]

            self.walk(data, visit)
            return out

        return _map_leading(one, values, self.latent_shapes)


class _JointTarget(Target):
    """A `Target` for a conditioned `JointDistributionNamed`.

    One pass over the nodes computes values, log-Jacobians and log densities, so a
    support that depends on parent values (``x ~ Uniform(0, tau)``) gets its bijector
    rebuilt from the current parents; nodes with a fixed support use bijectors that
    are leaves of the target.
    """

    def __init__(self, plan, distributions, observed):
        super().__init__(
            plan.log_prob_fn,
            plan.example,
            bijectors=dict(plan.static_bijectors),
            data={"observed": observed, "model": distributions},
            log_likelihood_fn=plan.log_likelihood_fn,
            observed=observed,
        )
        self.plan = plan

    def _bijector(self, name, dist):
        if name in self.plan.dynamic:
            return _unconstraining_bijector(dist)
        return self.bijectors[name]

    def logdensity(self, z):
        """Log density at unconstrained `z` (one point), log-Jacobians included."""
        total = []

        def visit(name, role, dist):
            if role == _DERIVED:
                return dist.mean()
            if role == _OBSERVED:
                value = self.data["observed"][name]
                total.append(jnp.sum(dist.log_prob(value)))
                return value
            value, log_det = self._bijector(name, dist).forward_and_log_det(z[name])
            total.append(jnp.sum(log_det) + jnp.sum(dist.log_prob(value)))
            return value

        self.plan.walk(self.data, visit)
        return sum(total[1:], total[0])

    def observed_outside_support(self, z):
        """Messages naming each observed node with values outside its support at `z`.

        Eager and host-side (for error messages): the supports are read from the
        node distributions given the parents' values at one unconstrained point `z`.
        """
        problems = []

        def visit(name, role, dist):
            if role == _DERIVED:
                return dist.mean()
            if role == _LATENT:
                return self._bijector(name, dist).forward(z[name])
            value = self.data["observed"][name]
            inside = np.asarray(dist.support.check(value))
            if not inside.all():
                shown = np.broadcast_to(np.asarray(value), inside.shape)
                where = tuple(int(i) for i in np.argwhere(~inside)[0])
                problems.append(
                    f"observed `{name}` has {int((~inside).sum())} value(s) outside the support "
                    f"of its {type(dist).__name__} distribution, which must be "
                    f"{dist.support.description} (e.g. {shown[where].item()!r} at index "
                    f"{where})"
                )
            return value

        self.plan.walk(self.data, visit)
        return problems

    def _constrain_one(self, z):
        log_dets = []

        def visit(name, role, dist):
            if role == _DERIVED:
                return dist.mean()
            if role == _OBSERVED:
                return self.data["observed"][name]
            value, log_det = self._bijector(name, dist).forward_and_log_det(z[name])
            log_dets.append(jnp.sum(log_det))
            return value

        env = self.plan.walk(self.data, visit)
        return env, sum(log_dets[1:], log_dets[0])

    def constrain_with_log_det(self, z):
        """Constrained latent values of one point `z` and the summed log-Jacobian."""
        env, log_det = self._constrain_one(z)
        return {name: env[name] for name in self.plan.latent_shapes}, log_det

    def constrain(self, z):
        """Constrained values of the latent and Deterministic nodes; leading dims allowed."""
        unconstrained_shapes = {name: s.shape for name, s in self.plan.example.items()}

        def one(z):
            env, _ = self._constrain_one(z)
            return {name: env[name] for name in self.plan.value_shapes}

        return _map_leading(one, z, unconstrained_shapes)

    def unconstrain(self, values):
        """Unconstrained position of constrained latent `values`; leading dims allowed."""

        def one(values):
            z = {}

            def visit(name, role, dist):
                if role == _DERIVED:
                    return dist.mean()
                if role == _OBSERVED:
                    return self.data["observed"][name]
                z[name] = self._bijector(name, dist).inverse(values[name])
                return values[name]

            self.plan.walk(self.data, visit)
            return z

        return _map_leading(one, values, self.plan.latent_shapes)


def _map_leading(fn, values, point_shapes):
    """Applies the one-point `fn` over the leading batch dims shared by `values`."""
    missing = [name for name in point_shapes if name not in values]
    if missing:
        raise ValueError(f"expected values for the nodes {list(point_shapes)}; missing {missing}")
    values = {name: jnp.asarray(values[name]) for name in point_shapes}
    name = next(iter(point_shapes))
    lead = values[name].shape[: values[name].ndim - len(point_shapes[name])]
    if not lead:
        return fn(values)
    flat = {n: x.reshape((-1,) + x.shape[len(lead) :]) for n, x in values.items()}
    out = jax.vmap(fn)(flat)
    return jax.tree_util.tree_map(lambda x: x.reshape(lead + x.shape[1:]), out)


def _check_observed_shape(name, shape, node_shape):
    try:
        jnp.broadcast_shapes(tuple(shape), tuple(node_shape))
    except ValueError:
        raise ValueError(
            f"JointDistributionNamed.condition: observed `{name}` must broadcast with the "
            f"node's shape {tuple(node_shape)}; got shape {tuple(shape)}"
        ) from None
