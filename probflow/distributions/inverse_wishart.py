"""The InverseWishart distribution over symmetric positive-definite matrices."""

from __future__ import annotations

import math

import jax.numpy as jnp
from jax.scipy.linalg import cho_solve, solve_triangular
from jax.scipy.special import digamma, multigammaln

from probflow.distributions.multivariate_normal import log_diag_sum
from probflow.distributions.wishart import Wishart, WishartFamily

__all__ = ["InverseWishart"]


class InverseWishart(WishartFamily):
    """The distribution of ``W^-1`` for ``W ~ Wishart(df, S^-1)``; scale ``S = L L^T``.

    ``scipy.stats.invwishart(df, S)``. Give exactly one of `scale_tril` (L) and
    `scale_matrix` (S).

    Args:
        df: degrees of freedom, > d - 1.
        scale_tril: lower-triangular L with positive diagonal, shape ``batch + (d, d)``.
        scale_matrix: symmetric positive-definite S, shape ``batch + (d, d)``.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> import jax.numpy as jnp
        >>> from probflow import distributions as dist
        >>> d = dist.InverseWishart(5.0, scale_tril=jnp.eye(2))
        >>> d.mean().tolist()
        [[0.5, 0.0], [0.0, 0.5]]
    """

    def _scale_matrix(self):
        return self.scale_tril @ jnp.swapaxes(self.scale_tril, -1, -2)

    def _sample(self, key, sample_shape):
        d = self._d
        eye = jnp.broadcast_to(jnp.eye(d, dtype=self.dtype), self.scale_tril.shape)
        # chol(S^-1) from L: S^-1 = L^-T L^-1; factor it afresh to get a lower factor.
        inverse_scale = cho_solve((self.scale_tril, True), eye)
        wishart = Wishart(self.df, scale_tril=jnp.linalg.cholesky(inverse_scale))
        draws = wishart.sample(key, sample_shape)
        factor = jnp.linalg.cholesky(draws)
        eye = jnp.broadcast_to(jnp.eye(d, dtype=self.dtype), draws.shape)
        return cho_solve((factor, True), eye)

    def _log_normaliser(self):
        d = self._d
        return (
            0.5 * self.df * d * math.log(2.0)
            - self.df * log_diag_sum(self.scale_tril)
            + multigammaln(0.5 * self.df, d)
        )

    def _log_prob(self, value):
        d = self._d
        value_tril = jnp.linalg.cholesky(value)
        log_det_value = 2.0 * log_diag_sum(value_tril)
        # tr(S X^-1) = ||L_X^-1 L||_F^2.
        batch = jnp.broadcast_shapes(value.shape[:-2], self.scale_tril.shape[:-2])
        whitened = solve_triangular(
            jnp.broadcast_to(value_tril, batch + (d, d)),
            jnp.broadcast_to(self.scale_tril, batch + (d, d)),
            lower=True,
        )
        trace = jnp.sum(whitened**2, axis=(-2, -1))
        return -0.5 * (self.df + d + 1.0) * log_det_value - 0.5 * trace - self._log_normaliser()

    def mean(self):
        """``S / (df - d - 1)`` where ``df > d + 1``, NaN otherwise."""
        d = self._d
        ratio = jnp.where(self.df > d + 1.0, 1.0 / (self.df - d - 1.0), jnp.nan)
        return jnp.broadcast_to(ratio[..., None, None] * self._scale_matrix(), self._shape)

    def variance(self):
        """Elementwise variance, defined where ``df > d + 3`` (NaN otherwise)."""
        d = self._d
        s = self._scale_matrix()
        diag = jnp.diagonal(s, axis1=-2, axis2=-1)
        m = (self.df - d)[..., None, None]
        numerator = (m + 1.0) * s**2 + (m - 1.0) * diag[..., :, None] * diag[..., None, :]
        v = numerator / (m * (m - 1.0) ** 2 * (m - 3.0))
        v = jnp.where((self.df > d + 3.0)[..., None, None], v, jnp.nan)
        return jnp.broadcast_to(v, self._shape)

    def mode(self):
        d = self._d
        return jnp.broadcast_to(self._scale_matrix() / (self.df + d + 1.0)[..., None, None], self._shape)

    def entropy(self):
        d = self._d
        # E[log det X] = log det S - d log 2 - sum_i digamma((df - i) / 2); E[tr(S X^-1)] = df d.
        multi_digamma = jnp.sum(
            digamma(0.5 * self.df[..., None] - 0.5 * jnp.arange(d, dtype=self.dtype)), axis=-1
        )
        expected_log_det = 2.0 * log_diag_sum(self.scale_tril) - d * math.log(2.0) - multi_digamma
        h = self._log_normaliser() + 0.5 * (self.df + d + 1.0) * expected_log_det + 0.5 * self.df * d
        return jnp.broadcast_to(h, self.batch_shape)
