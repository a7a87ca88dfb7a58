"""Full-rank Gaussian guide: a Normal with a learned Cholesky factor."""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
from jax.scipy.linalg import solve_triangular

from probflow.inference.vi.families.base import (
    Family,
    check_positive_transform,
    inverse_positive_transform,
    positive_transform,
)

__all__ = ["FullRank"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


@dataclasses.dataclass(frozen=True)
class FullRank(Family):
    """Normal guide ``N(loc, L L^T)`` with a lower-triangular `L` (ADVI full-rank).

    Params: ``{"loc": [d], "raw_scale_tril": [d, d]}``; `L` is the strictly lower part
    of `raw_scale_tril` plus a positive diagonal ``softplus(diag)`` (or ``exp``); the
    upper triangle is ignored (it gets zero gradient).

    Args:
        scale_transform: ``"softplus"`` (default) or ``"exp"`` for the diagonal.
        init_scale: the diagonal of `L` at the start (`L` starts diagonal).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> family = FullRank(init_scale=2.0)
        >>> params = family.init(jax.random.key(0), jnp.zeros(2))
        >>> family.covariance(params).tolist()
        [[4.0, 0.0], [0.0, 4.0]]
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
        return {"loc": loc, "raw_scale_tril": jnp.eye(loc.size, dtype=loc.dtype) * raw}

    def init_from_gaussian(self, key, loc, covariance):
        params = self.init(key, loc)
        tril = jnp.linalg.cholesky(covariance)
        raw_diag = inverse_positive_transform(self.scale_transform, jnp.diagonal(tril))
        raw = jnp.tril(tril, -1) + jnp.diag(raw_diag)
        return {**params, "raw_scale_tril": raw.astype(params["loc"].dtype)}

    def scale_tril(self, params):
        """The lower-triangular factor `L` with a positive diagonal, ``[d, d]``."""
        raw = params["raw_scale_tril"]
        diag = positive_transform(self.scale_transform, jnp.diagonal(raw))
        return jnp.tril(raw, -1) + jnp.diag(diag)

    def _log_det(self, params):
        raw_diag = jnp.diagonal(params["raw_scale_tril"])
        return jnp.sum(jnp.log(positive_transform(self.scale_transform, raw_diag)))

    def noise(self, key, params, n):
        loc = params["loc"]
        return jax.random.normal(key, (n,) + loc.shape, loc.dtype)

    def sample_and_log_prob_from_noise(self, params, eps):
        loc, tril = params["loc"], self.scale_tril(params)
        z = loc + eps @ tril.T
        log_q = -0.5 * jnp.sum(eps * eps, -1) - self._log_det(params) - loc.size * _HALF_LOG_2PI
        return z, log_q

    def log_prob(self, params, z):
        loc, tril = params["loc"], self.scale_tril(params)
        eps = solve_triangular(tril, (z - loc).T, lower=True).T
        return -0.5 * jnp.sum(eps * eps, -1) - self._log_det(params) - loc.size * _HALF_LOG_2PI

    def entropy(self, params):
        return self._log_det(params) + params["loc"].size * (0.5 + _HALF_LOG_2PI)

    def mean(self, params):
        return params["loc"]

    def covariance(self, params):
        """The covariance matrix ``L L^T``, ``[d, d]``."""
        tril = self.scale_tril(params)
        return tril @ tril.T
