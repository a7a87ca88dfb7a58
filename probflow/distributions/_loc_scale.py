"""Private base of the real-line location-scale families: X = loc + scale * Z."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from probflow.distributions import constraints
from probflow.distributions._util import promote_params
from probflow.distributions.distribution import Distribution

__all__ = ["LocationScale"]


class LocationScale(Distribution):
    """Base for families parameterised by ``loc`` (real) and ``scale`` (> 0) on R.

    Subclasses implement the standardised density and cdf; the constructor,
    parameter constraints and inverse-cdf sampling live here once.
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real

    def __init__(self, loc=0.0, scale=1.0, *, validate_args=False):
        self.loc, self.scale = promote_params(loc, scale)
        self._validate(validate_args, loc=self.loc, scale=self.scale)

    def _sample_by_icdf(self, key, sample_shape):
        # u = 0 would map to an infinite draw: start at the smallest normal float.
        u = jax.random.uniform(
            key, sample_shape + self.batch_shape, self.dtype, minval=jnp.finfo(self.dtype).tiny
        )
        return self.icdf(u)
