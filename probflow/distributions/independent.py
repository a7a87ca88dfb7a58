"""`Independent`: reinterprets rightmost batch dims of a distribution as event dims."""

from __future__ import annotations

import numbers

from probflow.distributions import constraints
from probflow.distributions._util import as_shape, sum_rightmost
from probflow.distributions.distribution import Distribution
from probflow.distributions.kl import kl_divergence, register_kl

__all__ = ["Independent"]


class Independent(Distribution):
    """Treats the `reinterpreted_batch_ndims` rightmost batch dims of `base` as event dims.

    `log_prob` sums the base log density over those dims, so a batch of independent
    scalars becomes one vector-valued distribution (the joint of the batch).

    Args:
        base: the distribution whose batch dims are reinterpreted.
        reinterpreted_batch_ndims: how many rightmost batch dims become event dims;
            between 0 and ``len(base.batch_shape)``.

    Example:
        >>> import jax.numpy as jnp
        >>> from probflow import distributions as dist
        >>> d = dist.Independent(dist.Normal(jnp.zeros((2, 3)), 1.0), 1)
        >>> d.batch_shape, d.event_shape
        ((2,), (3,))
        >>> d.log_prob(jnp.zeros((2, 3))).shape
        (2,)
    """

    def __init__(self, base, reinterpreted_batch_ndims, *, validate_args=False):
        if not isinstance(base, Distribution):
            raise TypeError(
                f"Independent: `base` must be a Distribution; got {type(base).__name__}"
            )
        if isinstance(reinterpreted_batch_ndims, bool) or not isinstance(
            reinterpreted_batch_ndims, numbers.Integral
        ):
            raise TypeError(
                "Independent: `reinterpreted_batch_ndims` must be an int; "
                f"got {reinterpreted_batch_ndims!r}"
            )
        n = int(reinterpreted_batch_ndims)
        if not 0 <= n <= len(base.batch_shape):
            raise ValueError(
                "Independent: `reinterpreted_batch_ndims` must be between 0 and "
                f"len(base.batch_shape) = {len(base.batch_shape)} (base batch_shape "
                f"{base.batch_shape}); got {n}"
            )
        self.base = base
        self.reinterpreted_batch_ndims = n
        self.validate_args = bool(validate_args)

    # -- shapes ---------------------------------------------------------------------
    @property
    def batch_shape(self):
        shape = self.base.batch_shape
        return shape[: len(shape) - self.reinterpreted_batch_ndims]

    @property
    def event_shape(self):
        shape = self.base.batch_shape
        return shape[len(shape) - self.reinterpreted_batch_ndims :] + self.base.event_shape

    @property
    def dtype(self):
        return self.base.dtype

    @property
    def has_rsample(self):
        return self.base.has_rsample

    @property
    def support(self):
        if self.reinterpreted_batch_ndims == 0:
            return self.base.support
        return constraints.independent(self.base.support, self.reinterpreted_batch_ndims)

    # -- sampling and densities ----------------------------------------------------------
    def _sample(self, key, sample_shape):
        return self.base.sample(key, sample_shape)

    def log_prob(self, value):
        # The base already returns -inf outside its support; only the sum is new here.
        value = self._as_value(value)
        if self.validate_args:
            self._validate_sample(value)
        return sum_rightmost(self.base.log_prob(value), self.reinterpreted_batch_ndims)

    def mean(self):
        return self.base.mean()

    def variance(self):
        return self.base.variance()

    def stddev(self):
        return self.base.stddev()

    def mode(self):
        return self.base.mode()

    def entropy(self):
        return sum_rightmost(self.base.entropy(), self.reinterpreted_batch_ndims)

    def expand(self, batch_shape):
        batch_shape = as_shape(batch_shape, "batch_shape")
        reinterpreted = self.base.batch_shape[
            len(self.base.batch_shape) - self.reinterpreted_batch_ndims :
        ]
        return self._replace(base=self.base.expand(batch_shape + reinterpreted))


@register_kl(Independent, Independent)
def _kl_independent_independent(p, q):
    p_base_event = len(p.base.event_shape)
    q_base_event = len(q.base.event_shape)
    if p.event_shape != q.event_shape or p_base_event != q_base_event:
        raise NotImplementedError(
            "KL(Independent || Independent) needs equal event shapes and equal base event "
            f"ranks; got event shapes {p.event_shape} and {q.event_shape}, base event "
            f"ranks {p_base_event} and {q_base_event}"
        )
    return sum_rightmost(kl_divergence(p.base, q.base), p.reinterpreted_batch_ndims)
