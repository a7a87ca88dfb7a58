"""Mean-field Gaussian guide: independent Normals on every unconstrained coordinate."""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp

from probflow.inference.vi.families.base import (
    Family,
    check_positive_transform,
    inverse_positive_transform,
    positive_transform,
)

__all__ = ["MeanField"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


@dataclasses.dataclass(frozen=True)
class MeanField(Family):
    """Diagonal Normal guide ``N(loc, diag(scale^2))`` (ADVI mean-field; Kucukelbir et al. 2017).

    Params: ``{"loc": [d], "raw_scale": [d]}`` with ``scale = softplus(raw_scale)`` (or
    ``exp``).

    Args:
        scale_transform: ``"softplus"`` (default) or ``"exp"``.
        init_scale: the scale every coordinate starts with.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> family = MeanField(init_scale=0.5)
        >>> params = family.init(jax.random.key(0), jnp.ones(2))
        >>> [round(float(s), 4) for s in family.scale(params)]
        [0.5, 0.5]
    """

    scale_transform: str = "softplus"
    init_scale: float = 0.1

    def __post_init__(self):
        check_positive_transform(self.scale_transform)
        if not self.init_scale > 0:
            raise ValueError(f"`init_scale` must be > 0; got {self.init_scale!r}")

    def init(self, key, loc):
        del key
        loc = jnp.asarray(loc)
        raw = inverse_positive_transform(self.scale_transform, self.init_scale)
        return {"loc": loc, "raw_scale": jnp.full_like(loc, raw)}

    def init_from_gaussian(self, key, loc, covariance):
        params = self.init(key, loc)
        raw = inverse_positive_transform(self.scale_transform, jnp.sqrt(jnp.diagonal(covariance)))
        return {**params, "raw_scale": raw.astype(params["loc"].dtype)}

    def scale(self, params):
        """Standard deviations of the guide, shape ``[d]``."""
        return positive_transform(self.scale_transform, params["raw_scale"])

    def noise(self, key, params, n):
        loc = params["loc"]
        return jax.random.normal(key, (n,) + loc.shape, loc.dtype)

    def sample_and_log_prob_from_noise(self, params, eps):
        loc, scale = params["loc"], self.scale(params)
        z = loc + scale * eps
        log_q = -0.5 * jnp.sum(eps * eps, -1) - jnp.sum(jnp.log(scale)) - loc.size * _HALF_LOG_2PI
        return z, log_q

    def log_prob(self, params, z):
        loc, scale = params["loc"], self.scale(params)
        eps = (z - loc) / scale
        return -0.5 * jnp.sum(eps * eps, -1) - jnp.sum(jnp.log(scale)) - loc.size * _HALF_LOG_2PI

    def entropy(self, params):
        loc = params["loc"]
        return jnp.sum(jnp.log(self.scale(params))) + loc.size * (0.5 + _HALF_LOG_2PI)

    def mean(self, params):
        return params["loc"]

    def covariance(self, params):
        """The (diagonal) covariance matrix ``[d, d]``."""
        return jnp.diag(self.scale(params) ** 2)
