"""Finite mixtures: `MixtureSameFamily` (one batched family) and `Mixture` (a list).

Both take the mixing weights from a categorical distribution (anything with `logits`
or `probs` over the rightmost axis, such as `Categorical`). The density is
``log sum_k w_k p_k(x)`` via logsumexp; a draw picks a component per batch member and
gathers its draw; moments follow the laws of total expectation and variance.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from probflow.distributions._util import as_shape
from probflow.distributions.distribution import Distribution

__all__ = ["Mixture", "MixtureSameFamily"]


def _log_weights(owner, name, cat):
    """Normalised log mixing weights ``batch_shape + (K,)`` of a categorical distribution."""
    if hasattr(cat, "logits_parameter"):
        return cat.logits_parameter()
    logits = getattr(cat, "logits", None)
    if logits is not None:
        return jax.nn.log_softmax(logits, axis=-1)
    probs = getattr(cat, "probs", None)
    if probs is not None:
        probs = jnp.asarray(probs)
        return jnp.log(probs) - jnp.log(jnp.sum(probs, axis=-1, keepdims=True))
    raise TypeError(
        f"{owner}: `{name}` must be a categorical distribution with `logits` or `probs`; "
        f"got {type(cat).__name__}"
    )


def _mix(cat, log_weights, component_lp):
    """``log sum_k w_k p_k(x)`` over the last axis.

    With `probs`, the weights enter linearly: in log space a weight of
    0 is -inf and its gradient 0 * inf = NaN, while d/dw_k of the mixture is finite.
    """
    probs = getattr(cat, "probs", None)
    if probs is None:
        return jax.nn.logsumexp(log_weights + component_lp, axis=-1)
    weights = probs / jnp.sum(probs, axis=-1, keepdims=True)
    # By hand: jax's `logsumexp(b=)` masks entries with b == 0 and so their gradient.
    shift = jax.lax.stop_gradient(jnp.max(component_lp, axis=-1, keepdims=True))
    shift = jnp.where(jnp.isfinite(shift), shift, 0.0)
    total = jnp.sum(weights * jnp.exp(component_lp - shift), axis=-1)
    return jnp.log(total) + shift[..., 0]


def _expand_weights(log_weights, event_ndims):
    """Appends singleton event dims so weights broadcast against component moments."""
    return log_weights.reshape(log_weights.shape + (1,) * event_ndims)


def _gather(draws, index, axis, event_ndims):
    """Picks ``draws[..., index, <event>]`` along the component `axis`."""
    index = index.reshape(index.shape + (1,) * (1 + event_ndims))
    return jnp.squeeze(jnp.take_along_axis(draws, index, axis=axis), axis)


def _mixture_moments(log_weights, means, variances, event_ndims):
    """Mean and variance of a mixture from per-component moments (component axis last
    before the event dims): law of total expectation / variance."""
    axis = -1 - event_ndims
    w = jnp.exp(_expand_weights(log_weights, event_ndims))
    mean = jnp.sum(w * means, axis=axis)
    spread = means - jnp.expand_dims(mean, axis)
    variance = jnp.sum(w * (variances + spread**2), axis=axis)
    return mean, variance


class MixtureSameFamily(Distribution):
    """A mixture whose components are the last batch dim of one distribution.

    Args:
        mixture_distribution: categorical over K components, batch shape
            ``batch_shape`` (its `logits`/`probs` have shape ``batch_shape + (K,)``).
        components_distribution: a distribution with batch shape ``batch_shape + (K,)``.

    Example:
        >>> import jax.numpy as jnp
        >>> from probflow import distributions as dist
        >>> weights = dist.Categorical(probs=jnp.array([0.3, 0.7]))
        >>> mix = dist.MixtureSameFamily(weights, dist.Normal(jnp.array([-1.0, 1.0]), 1.0))
        >>> round(float(mix.mean()), 4)
        0.4
    """

    has_rsample = False

    def __init__(self, mixture_distribution, components_distribution, *, validate_args=False):
        if not isinstance(components_distribution, Distribution):
            raise TypeError(
                "MixtureSameFamily: `components_distribution` must be a Distribution; got "
                f"{type(components_distribution).__name__}"
            )
        log_weights = _log_weights(
            "MixtureSameFamily", "mixture_distribution", mixture_distribution
        )
        comp_batch = components_distribution.batch_shape
        if not comp_batch:
            raise ValueError(
                "MixtureSameFamily: `components_distribution` must have at least one batch "
                "dim (the component axis); got batch_shape ()"
            )
        if log_weights.shape[-1] != comp_batch[-1]:
            raise ValueError(
                "MixtureSameFamily: the number of categories of `mixture_distribution` "
                f"({log_weights.shape[-1]}) must equal the last batch dim of "
                f"`components_distribution` (batch_shape {comp_batch})"
            )
        try:
            jnp.broadcast_shapes(log_weights.shape, comp_batch)
        except ValueError:
            raise ValueError(
                "MixtureSameFamily: `mixture_distribution` batch shape "
                f"{log_weights.shape[:-1]} does not broadcast with the components' batch "
                f"shape {comp_batch[:-1]}"
            ) from None
        self.mixture_distribution = mixture_distribution
        self.components_distribution = components_distribution
        self.validate_args = bool(validate_args)

    @property
    def log_weights(self):
        """Normalised log mixing weights, ``batch_shape + (K,)``."""
        return _log_weights("MixtureSameFamily", "mixture_distribution", self.mixture_distribution)

    @property
    def batch_shape(self):
        comp = self.components_distribution.batch_shape
        return tuple(jnp.broadcast_shapes(self.log_weights.shape[:-1], comp[:-1]))

    @property
    def event_shape(self):
        return self.components_distribution.event_shape

    def expand(self, batch_shape):
        batch_shape = as_shape(batch_shape, "batch_shape")
        num_components = self.log_weights.shape[-1]
        return self._replace(
            mixture_distribution=self.mixture_distribution.expand(batch_shape),
            components_distribution=self.components_distribution.expand(
                batch_shape + (num_components,)
            ),
        )

    @property
    def dtype(self):
        return self.components_distribution.dtype

    @property
    def support(self):
        return self.components_distribution.support

    def _sample(self, key, sample_shape):
        key_component, key_draw = jax.random.split(key)
        batch = self.batch_shape
        index = jax.random.categorical(key_component, self.log_weights, shape=sample_shape + batch)
        draws = self.components_distribution.sample(key_draw, sample_shape)
        draws = jnp.broadcast_to(
            draws, sample_shape + batch + (self.log_weights.shape[-1],) + self.event_shape
        )
        return _gather(draws, index, len(sample_shape) + len(batch), len(self.event_shape))

    def log_prob(self, value):
        value = self._as_value(value)
        event_ndims = len(self.event_shape)
        # Insert the component axis just before the event dims of the value.
        component_lp = self.components_distribution.log_prob(
            jnp.expand_dims(value, value.ndim - event_ndims)
        )
        return _mix(self.mixture_distribution, self.log_weights, component_lp)

    def cdf(self, value):
        value = jnp.asarray(value)
        return jnp.sum(
            jnp.exp(self.log_weights) * self.components_distribution.cdf(value[..., None]), axis=-1
        )

    def mean(self):
        return self._moments()[0]

    def variance(self):
        return self._moments()[1]

    def _moments(self):
        comp = self.components_distribution
        axis_shape = self.batch_shape + (self.log_weights.shape[-1],) + self.event_shape
        means = jnp.broadcast_to(comp.mean(), axis_shape)
        variances = jnp.broadcast_to(comp.variance(), axis_shape)
        return _mixture_moments(self.log_weights, means, variances, len(self.event_shape))


class Mixture(Distribution):
    """A mixture of distributions of possibly different families.

    Args:
        cat: categorical over ``len(components)`` components (`logits`/`probs` of shape
            ``batch_shape + (K,)``).
        components: a list of K distributions with equal batch and event shapes.

    Example:
        >>> import jax.numpy as jnp
        >>> from probflow import distributions as dist
        >>> weights = dist.Categorical(probs=jnp.array([0.5, 0.5]))
        >>> mix = dist.Mixture(weights, [dist.Normal(-1.0, 1.0), dist.Normal(1.0, 2.0)])
        >>> round(float(mix.variance()), 4)   # 0.5 * (1 + 1) + 0.5 * (4 + 1)
        3.5
    """

    has_rsample = False

    def __init__(self, cat, components, *, validate_args=False):
        components = list(components)
        if not components:
            raise ValueError("Mixture: `components` must be a non-empty list of distributions")
        for i, component in enumerate(components):
            if not isinstance(component, Distribution):
                raise TypeError(
                    f"Mixture: `components[{i}]` must be a Distribution; "
                    f"got {type(component).__name__}"
                )
        log_weights = _log_weights("Mixture", "cat", cat)
        if log_weights.shape[-1] != len(components):
            raise ValueError(
                f"Mixture: `cat` has {log_weights.shape[-1]} categories but "
                f"{len(components)} components were given"
            )
        first = components[0]
        for i, component in enumerate(components[1:], start=1):
            if (component.batch_shape, component.event_shape) != (
                first.batch_shape,
                first.event_shape,
            ):
                raise ValueError(
                    "Mixture: all components must have equal batch and event shapes; "
                    f"components[0] has {first.batch_shape} + {first.event_shape}, "
                    f"components[{i}] has {component.batch_shape} + {component.event_shape}"
                )
        self.cat = cat
        self.components = components
        self.validate_args = bool(validate_args)

    @property
    def log_weights(self):
        """Normalised log mixing weights, ``batch_shape + (K,)``."""
        return _log_weights("Mixture", "cat", self.cat)

    @property
    def batch_shape(self):
        return tuple(
            jnp.broadcast_shapes(self.log_weights.shape[:-1], self.components[0].batch_shape)
        )

    @property
    def event_shape(self):
        return self.components[0].event_shape

    def expand(self, batch_shape):
        batch_shape = as_shape(batch_shape, "batch_shape")
        return self._replace(
            cat=self.cat.expand(batch_shape),
            components=[c.expand(batch_shape) for c in self.components],
        )

    @property
    def dtype(self):
        return self.components[0].dtype

    @property
    def support(self):
        supports = [c.support for c in self.components]
        if all(repr(s) == repr(supports[0]) for s in supports):
            return supports[0]
        raise ValueError(
            "Mixture: the components have different supports "
            f"({', '.join(repr(s) for s in supports)}); the mixture's support is their union, "
            "which has no single constraint"
        )

    def _stack(self, arrays, event_ndims):
        """Stacks per-component arrays on a component axis placed before the event dims."""
        shape = jnp.broadcast_shapes(*[a.shape for a in arrays])
        arrays = [jnp.broadcast_to(a, shape) for a in arrays]
        return jnp.stack(arrays, axis=len(shape) - event_ndims)

    def _sample(self, key, sample_shape):
        key_component, *keys = jax.random.split(key, len(self.components) + 1)
        batch = self.batch_shape
        event_ndims = len(self.event_shape)
        index = jax.random.categorical(key_component, self.log_weights, shape=sample_shape + batch)
        draws = [c.sample(k, sample_shape) for c, k in zip(self.components, keys)]
        draws = [jnp.broadcast_to(d, sample_shape + batch + self.event_shape) for d in draws]
        stacked = self._stack(draws, event_ndims)
        return _gather(stacked, index, len(sample_shape) + len(batch), event_ndims)

    def log_prob(self, value):
        value = self._as_value(value)
        component_lp = self._stack([c.log_prob(value) for c in self.components], 0)
        return _mix(self.cat, self.log_weights, component_lp)

    def cdf(self, value):
        cdfs = self._stack([c.cdf(value) for c in self.components], 0)
        return jnp.sum(jnp.exp(self.log_weights) * cdfs, axis=-1)

    def mean(self):
        return self._moments()[0]

    def variance(self):
        return self._moments()[1]

    def _moments(self):
        event_ndims = len(self.event_shape)
        shape = self.batch_shape + self.event_shape
        means = [jnp.broadcast_to(c.mean(), shape) for c in self.components]
        variances = [jnp.broadcast_to(c.variance(), shape) for c in self.components]
        return _mixture_moments(
            self.log_weights,
            self._stack(means, event_ndims),
            self._stack(variances, event_ndims),
            event_ndims,
        )
