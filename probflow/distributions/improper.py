"""`ImproperUniform`: a flat (improper) prior, density 1 on its support.

Stan gives a parameter with no stated prior the constant density 1 on its support
(a flat prior on a regression coefficient, ``p(sigma) = 1`` on ``sigma > 0``). Inside
a `JointDistributionNamed` such a node contributes nothing to the log density; its
support still picks the unconstraining bijector (Exp for `positive`, ...), and the
target adds that bijector's log-Jacobian as for any other node.

There is no normalised distribution to draw from, so `sample` raises.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from probflow.distributions import constraints
from probflow.distributions._util import as_shape
from probflow.distributions.distribution import Distribution

__all__ = ["ImproperUniform"]


class ImproperUniform(Distribution):
    """The improper density equal to 1 on `support` (log density 0), -inf elsewhere.

    Args:
        support: a constraint (`constraints.real`, `constraints.positive`,
            `constraints.ordered_vector`, ...). Its own event dims are the rightmost
            dims of `event_shape`.
        batch_shape: shape of the batch of independent flat densities.
        event_shape: shape of one value; must have at least ``support.event_dim`` dims.
        validate_args: check values in `log_prob` eagerly.

    Sampling raises `NotImplementedError` (nothing to normalise). Inside a trace
    (``jit``, ``jax.eval_shape``) a draw is a NaN placeholder of the right shape and
    dtype instead, so shape inference such as ``JointDistributionNamed.event_shape``
    and ``condition`` works, while any accidental use of the values shows as NaN.

    Example:
        >>> import jax.numpy as jnp
        >>> from probflow import distributions as dist
        >>> flat = dist.ImproperUniform(dist.constraints.positive, batch_shape=(2,))
        >>> flat.log_prob(jnp.array([1.0, -1.0])).tolist()
        [0.0, -inf]
        >>> beta = dist.ImproperUniform(dist.constraints.real, event_shape=(3,))
        >>> beta.batch_shape, beta.event_shape, beta.log_prob(jnp.zeros((4, 3))).shape
        ((), (3,), (4,))
    """

    has_rsample = False

    def __init__(self, support, batch_shape=(), event_shape=(), *, validate_args=False):
        if not isinstance(support, constraints.Constraint):
            raise TypeError(
                "ImproperUniform: `support` must be a constraint from "
                f"probflow.distributions.constraints; got {type(support).__name__}"
            )
        batch_shape = as_shape(batch_shape, "batch_shape")
        event_shape = as_shape(event_shape, "event_shape")
        if len(event_shape) < support.event_dim:
            raise ValueError(
                f"ImproperUniform: `event_shape` must have at least {support.event_dim} "
                f"dim(s) for the support {support!r}; got {event_shape}"
            )
        self.base_support = support
        self.static_batch_shape = batch_shape
        self.static_event_shape = event_shape
        self.validate_args = bool(validate_args)

    @property
    def batch_shape(self) -> tuple:
        return self.static_batch_shape

    @property
    def event_shape(self) -> tuple:
        return self.static_event_shape

    @property
    def support(self):
        extra = len(self.static_event_shape) - self.base_support.event_dim
        if extra == 0:
            return self.base_support
        return constraints.independent(self.base_support, extra)

    def expand(self, batch_shape):
        batch_shape = as_shape(batch_shape, "batch_shape")
        try:
            batch_shape = tuple(jnp.broadcast_shapes(self.batch_shape, batch_shape))
        except ValueError:
            raise ValueError(
                f"ImproperUniform.expand: `batch_shape` {batch_shape} is not "
                f"broadcast-compatible with the current batch shape {self.batch_shape}"
            ) from None
        return self._replace(static_batch_shape=batch_shape)

    def _sample(self, key, sample_shape):
        if not isinstance(key, jax.core.Tracer):
            raise NotImplementedError(
                "ImproperUniform cannot be sampled: a flat density on "
                f"{self.support!r} has no normalised distribution to draw from; give the "
                "node a proper prior, or start samplers from `init=` / target.init(key)"
            )
        shape = sample_shape + self.batch_shape + self.event_shape
        return jnp.full(shape, jnp.nan, self.dtype)

    def _log_prob(self, value):
        event_ndims = len(self.static_event_shape)
        lead = jnp.shape(value)[: jnp.ndim(value) - event_ndims]
        shape = jnp.broadcast_shapes(lead, self.batch_shape)
        return jnp.zeros(shape, jnp.result_type(value, float))
