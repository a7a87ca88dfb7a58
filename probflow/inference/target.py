"""`Target`: what the inference engines eat.

An unnormalised log density over a pytree of *unconstrained* parameters, the bijectors
that map them back to constrained space (log-Jacobians included in `logdensity`), a
way to draw an initial point, and, for a conditioned model, the observed data and the
pointwise log likelihood that ArviZ needs.

A `Target` is itself a pytree: data, observed values and bijector parameters are
leaves; the user's functions are static. So a jitted sampler that takes the target as
an argument is compiled once per (functions, shapes) and reused for new data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from probflow._pytree import PytreeObject
from probflow.bijectors.bijector import Bijector

__all__ = ["Target"]


def _is_bijector(x) -> bool:
    return isinstance(x, Bijector)


class Target(PytreeObject):
    """An unnormalised log density on unconstrained space, plus its transforms.

    Args:
        log_prob_fn: ``log_prob_fn(values)`` or, when `data` is given,
            ``log_prob_fn(values, data)``: the log density of *constrained* values
            (a pytree shaped like `example` after the bijectors), up to a constant.
        example: a pytree of arrays (or `jax.ShapeDtypeStruct`s) with the structure,
            shapes and dtypes of one *unconstrained* position.
        bijectors: a pytree matching `example` (a prefix of it) whose leaves are
            `Bijector`s mapping unconstrained -> constrained; None for identity.
        data: pytree of arrays handed to `log_prob_fn` (observations, covariates).
            Leaves of the target, so new data of the same shape does not recompile.
        log_likelihood_fn: optional ``fn(values, data) -> dict name -> pointwise
            log-likelihood arrays`` (for ArviZ's `log_likelihood` group and LOO).
        observed: optional dict name -> observed array (ArviZ's `observed_data`).
        init_center: optional unconstrained pytree around which `init` draws.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from probflow.inference import Target
        >>> t = Target.from_logdensity(lambda p: -0.5 * jnp.sum(p["x"] ** 2),
        ...                            {"x": jnp.zeros(3)})
        >>> float(t.logdensity({"x": jnp.ones(3)}))
        -1.5
    """

    def __init__(
        self,
        log_prob_fn: Callable,
        example: Any,
        *,
        bijectors: Any = None,
        data: Any = None,
        log_likelihood_fn: Callable | None = None,
        observed: dict | None = None,
        init_center: Any = None,
    ):
        if not callable(log_prob_fn):
            raise TypeError(f"`log_prob_fn` must be callable; got {type(log_prob_fn).__name__}")
        self.log_prob_fn = log_prob_fn
        self.log_likelihood_fn = log_likelihood_fn
        leaves, treedef = jax.tree_util.tree_flatten(example)
        if not leaves:
            raise ValueError("`example` must contain at least one array; got an empty pytree")
        self.position_treedef = treedef
        self.position_shapes = tuple(
            (tuple(jnp.shape(leaf)), jnp.dtype(_leaf_dtype(leaf)).name) for leaf in leaves
        )
        self.bijectors = bijectors
        self.data = data
        self.observed = dict(observed) if observed else None
        self.init_center = init_center

    # -- constructors ---------------------------------------------------------------
    @classmethod
    def from_logdensity(cls, logdensity_fn: Callable, init: Any) -> Target:
        """Wraps a plain log-density function of a pytree (BlackJAX style).

        Args:
            logdensity_fn: ``fn(position) -> scalar`` log density, up to a constant.
            init: an example position: gives the structure, shapes and dtypes, and the
                centre around which `init(key)` draws starting points.

        Returns:
            A `Target` with identity transforms.

        Example:
            >>> import jax.numpy as jnp
            >>> t = Target.from_logdensity(lambda x: -x @ x / 2, jnp.zeros(2))
            >>> t.size
            2
        """
        init = jax.tree_util.tree_map(_as_float_position, init)
        return cls(logdensity_fn, init, init_center=init)

    # -- the hot path ---------------------------------------------------------------
    def _log_prob(self, values):
        if self.data is None:
            lp = self.log_prob_fn(values)
        else:
            lp = self.log_prob_fn(values, self.data)
        if jnp.shape(lp) != ():
            # Checked at trace time (free): a vector would be summed or broadcast by the
            # engines and give a wrong posterior without a word.
            raise ValueError(
                "the log density must return a scalar (one number per position); got shape "
                f"{jnp.shape(lp)}; sum independent terms with jnp.sum"
            )
        return lp

    def logdensity(self, z):
        """Log density at unconstrained position `z`, log-Jacobians included."""
        if self.bijectors is None:
            return self._log_prob(z)
        values, log_det = self.constrain_with_log_det(z)
        return self._log_prob(values) + log_det

    def constrain_with_log_det(self, z):
        """Maps `z` to constrained values and returns the summed log-Jacobian."""
        if self.bijectors is None:
            return z, jnp.zeros((), _first_dtype(z))
        bijectors, treedef = jax.tree_util.tree_flatten(self.bijectors, is_leaf=_is_bijector)
        parts = treedef.flatten_up_to(z)
        values, log_det = [], jnp.zeros((), _first_dtype(z))
        for bijector, part in zip(bijectors, parts):
            value, ldj = bijector.forward_and_log_det(part)
            values.append(value)
            log_det = log_det + jnp.sum(ldj)
        return treedef.unflatten(values), log_det

    # -- transforms -----------------------------------------------------------------
    def constrain(self, z):
        """Maps unconstrained `z` (leading batch dims allowed) to constrained values."""
        if self.bijectors is None:
            return z
        return jax.tree_util.tree_map(
            lambda b, x: b.forward(x), self.bijectors, z, is_leaf=_is_bijector
        )

    def unconstrain(self, values):
        """Maps constrained `values` back to unconstrained space."""
        if self.bijectors is None:
            return values
        return jax.tree_util.tree_map(
            lambda b, y: b.inverse(y), self.bijectors, values, is_leaf=_is_bijector
        )

    def log_likelihood(self, values):
        """Pointwise log likelihood of constrained `values`: dict name -> array.

        Raises:
            ValueError: when the target has no likelihood (e.g. a bare log density).
        """
        if self.log_likelihood_fn is None:
            raise ValueError(
                "this Target has no pointwise log likelihood; build it from a conditioned "
                "JointDistributionNamed or pass `log_likelihood_fn=`"
            )
        return self.log_likelihood_fn(values, self.data)

    # -- initial points ---------------------------------------------------------------
    def observed_outside_support(self, z):
        """Messages naming observed values outside their likelihood's support at `z`.

        A plain target knows no supports: it reports nothing; a conditioned joint
        distribution overrides this.
        """
        del z
        return []

    def init(self, key):
        """Draws a starting point: uniform(-2, 2) in unconstrained space (as Stan).

        Around `init_center` when the target has one (e.g. from `from_logdensity`).
        """
        keys = jax.random.split(key, len(self.position_shapes))
        leaves = [
            jax.random.uniform(k, shape, dtype, minval=-2.0, maxval=2.0)
            for k, (shape, dtype) in zip(keys, self.position_shapes)
        ]
        z = jax.tree_util.tree_unflatten(self.position_treedef, leaves)
        if self.init_center is not None:
            z = jax.tree_util.tree_map(jnp.add, self.init_center, z)
        return z

    # -- structure --------------------------------------------------------------------
    @property
    def example(self):
        """A zero position with the target's structure (unconstrained)."""
        leaves = [jnp.zeros(shape, dtype) for shape, dtype in self.position_shapes]
        return jax.tree_util.tree_unflatten(self.position_treedef, leaves)

    @property
    def size(self) -> int:
        """Number of unconstrained real coordinates."""
        total = 0
        for shape, _ in self.position_shapes:
            n = 1
            for s in shape:
                n *= s
            total += n
        return total

    def ravel(self, z):
        """Flattens a position to a 1-D vector; returns ``(vector, unravel_fn)``."""
        return ravel_pytree(z)

    def __repr__(self):
        return f"Target(size={self.size}, structure={self.position_treedef})"


def _as_float_position(leaf):
    """An array of positions; integers and booleans become the default float."""
    dtype = getattr(leaf, "dtype", None) or np.asarray(leaf).dtype
    if np.dtype(dtype).kind not in "biufc":
        raise TypeError(f"positions must be numeric arrays; got dtype {dtype}")
    array = jnp.asarray(leaf)
    if jnp.issubdtype(array.dtype, jnp.inexact):
        return array
    return array.astype(jnp.result_type(float))


def _leaf_dtype(leaf):
    # Positions are real: an integer example (jnp.zeros(3, int)) means float positions.
    dtype = getattr(leaf, "dtype", None) or jnp.result_type(leaf)
    return dtype if jnp.issubdtype(dtype, jnp.inexact) else jnp.result_type(float)


def _first_dtype(z):
    leaves = jax.tree_util.tree_leaves(z)
    return leaves[0].dtype if leaves else jnp.float32
