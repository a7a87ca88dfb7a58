"""`TransformedDistribution`: the pushforward of a distribution through a bijector."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from probflow.bijectors.bijector import Bijector
from probflow.distributions import constraints
from probflow.distributions._util import sum_rightmost
from probflow.distributions.distribution import Distribution
from probflow.distributions.independent import Independent

__all__ = ["TransformedDistribution"]


class TransformedDistribution(Distribution):
    """The distribution of ``bijector.forward(x)`` for ``x ~ base``.

    ``log_prob(y) = base.log_prob(x) + log|det J_inverse(y)|`` with
    ``x = bijector.inverse(y)``. When the bijector acts on more dims than the base's
    event (say an event-rank-1 bijector on a batch of scalars), the base's rightmost
    batch dims are reinterpreted as event dims first (`Independent`).

    Moments, cdf and entropy are not available in general (families such as
    `LogNormal` provide them in closed form).

    Args:
        base: the distribution being transformed.
        bijector: a `Bijector` mapping the base's support into the new one.
        support: the image of the base's support under `bijector`, when known (e.g.
            ``constraints.positive`` for `Exp` of a Normal). Defaults to the bijector's
            ``codomain`` attribute if it has one, else `constraints.real`; values
            outside it get log density -inf.
        validate_args: check values in `log_prob` eagerly.

    Example:
        >>> import jax.numpy as jnp
        >>> from probflow import bijectors as bij, distributions as dist
        >>> log_normal = dist.TransformedDistribution(dist.Normal(0.0, 1.0), bij.Exp())
        >>> round(float(log_normal.log_prob(1.0)), 4)   # = Normal(0, 1).log_prob(0)
        -0.9189
    """

    def __init__(self, base, bijector, *, support=None, validate_args=False):
        if not isinstance(base, Distribution):
            raise TypeError(
                f"TransformedDistribution: `base` must be a Distribution; got {type(base).__name__}"
            )
        if not isinstance(bijector, Bijector):
            raise TypeError(
                "TransformedDistribution: `bijector` must be a Bijector; "
                f"got {type(bijector).__name__}"
            )
        if support is not None and not isinstance(support, constraints.Constraint):
            raise TypeError(
                "TransformedDistribution: `support` must be a constraint from "
                f"probflow.distributions.constraints or None; got {type(support).__name__}"
            )
        base_event_ndims = len(base.event_shape)
        extra = bijector.event_ndims_in - base_event_ndims
        if extra > 0:
            if extra > len(base.batch_shape):
                raise ValueError(
                    f"TransformedDistribution: the bijector acts on {bijector.event_ndims_in} "
                    f"rightmost dims but the base has shape "
                    f"{base.batch_shape + base.event_shape}; expected at least that many dims"
                )
            base = Independent(base, extra)
        self.base = base
        self.bijector = bijector
        self.explicit_support = support
        self.validate_args = bool(validate_args)

    # -- shapes ---------------------------------------------------------------------
    @property
    def _event_ndims(self):
        """Rank of the event after the bijector (which may change rank)."""
        b = self.bijector
        return len(self.base.event_shape) + b.event_ndims_out - b.event_ndims_in

    @property
    def _full_shape(self):
        base_shape = self.base.batch_shape + self.base.event_shape
        # Shapes only: eval_shape also catches bijector parameters that broadcast.
        spec = jax.ShapeDtypeStruct(base_shape, self.base.dtype)
        try:
            return tuple(jax.eval_shape(self.bijector.forward, spec).shape)
        except NotImplementedError:
            # A forward map that cannot run (a copula over marginals without an icdf)
            # still has a shape: log_prob only needs the inverse.
            return tuple(self.bijector.forward_shape(base_shape))

    @property
    def batch_shape(self):
        shape = self._full_shape
        return shape[: len(shape) - self._event_ndims]

    @property
    def event_shape(self):
        shape = self._full_shape
        return shape[len(shape) - self._event_ndims :]

    def expand(self, batch_shape):
        return self._replace(base=self.base.expand(batch_shape))

    @property
    def dtype(self):
        return self.base.dtype

    @property
    def has_rsample(self):
        return self.base.has_rsample

    @property
    def support(self):
        if self.explicit_support is not None:
            return self.explicit_support
        codomain = getattr(self.bijector, "codomain", None)
        if isinstance(codomain, constraints.Constraint):
            return codomain
        return constraints.real

    # -- sampling and densities ----------------------------------------------------------
    def _sample(self, key, sample_shape):
        return self.bijector.forward(self.base.sample(key, sample_shape))

    def sample_and_log_prob(self, key, sample_shape=()):
        # Reuses the forward log-det instead of inverting the draw again.
        x = self.base.sample(key, sample_shape)
        y, log_det = self.bijector.forward_and_log_det(x)
        extra = self._event_ndims - self.bijector.event_ndims_out
        return y, self.base.log_prob(x) - sum_rightmost(log_det, extra)

    def log_prob(self, value):
        value = self._as_value(value)
        if self.validate_args:
            self._validate_sample(value)
        x, log_det = self.bijector.inverse_and_log_det(value)
        extra = self._event_ndims - self.bijector.event_ndims_out
        lp = self.base.log_prob(x) + sum_rightmost(log_det, extra)
        support = self.support
        if support is constraints.real:
            return lp
        return jnp.where(support.check(value), lp, -jnp.inf)
