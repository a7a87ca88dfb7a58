"""The Wishart distribution over symmetric positive-definite matrices."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.linalg import solve_triangular
from jax.scipy.special import digamma, multigammaln

from probflow.distributions import constraints
from probflow.distributions._util import is_concrete, promote_params, validate_param
from probflow.distributions.distribution import Distribution
from probflow.distributions.multivariate_normal import log_diag_sum

__all__ = ["Wishart", "WishartFamily", "init_scale_and_df"]


class WishartFamily(Distribution):
    """What `Wishart` and `InverseWishart` share: `df`, a scale factor, matrix events.

    Subclasses set the sampling and density; this holds the constructor (exactly one of
    `scale_tril` and `scale_matrix`), the constraints and the shapes.
    """

    arg_constraints = {"df": constraints.positive, "scale_tril": constraints.lower_cholesky}
    _param_event_ndims = {"scale_tril": 2}
    support = constraints.positive_definite
    has_rsample = False

    def __init__(self, df, scale_tril=None, scale_matrix=None, *, validate_args=False):
        init_scale_and_df(self, type(self).__name__, df, scale_tril, scale_matrix, validate_args)

    @property
    def event_shape(self) -> tuple:
        return self.scale_tril.shape[-2:]

    @property
    def _d(self) -> int:
        return self.scale_tril.shape[-1]


class Wishart(WishartFamily):
    """Wishart distribution with `df` degrees of freedom and scale ``S = L L^T``.

    A draw is ``sum_{j < df} x_j x_j^T`` with ``x_j ~ Normal(0, S)`` for integer df;
    any real ``df > d - 1`` is allowed. Give exactly one of `scale_tril` (L) and
    `scale_matrix` (S).

    Args:
        df: degrees of freedom, > d - 1.
        scale_tril: lower-triangular L with positive diagonal, shape ``batch + (d, d)``.
        scale_matrix: symmetric positive-definite S, shape ``batch + (d, d)``.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> import jax.numpy as jnp
        >>> from probflow import distributions as dist
        >>> d = dist.Wishart(4.0, scale_tril=jnp.eye(2))
        >>> d.mean().tolist()
        [[4.0, 0.0], [0.0, 4.0]]
    """

    def _sample(self, key, sample_shape):
        # Bartlett decomposition: X = L A A^T L^T, A lower-triangular with
        # A_ii^2 ~ Chi2(df - i) and standard normal entries below the diagonal.
        key_diag, key_lower = jax.random.split(key)
        d = self._d
        shape = sample_shape + self.batch_shape
        half_dof = 0.5 * (self.df[..., None] - jnp.arange(d, dtype=self.dtype))
        chi2 = 2.0 * jax.random.gamma(key_diag, jnp.broadcast_to(half_dof, shape + (d,)), shape + (d,))
        lower = jnp.tril(jax.random.normal(key_lower, shape + (d, d), self.dtype), k=-1)
        bartlett = lower + jnp.sqrt(chi2.astype(self.dtype))[..., None] * jnp.eye(d, dtype=self.dtype)
        factor = self.scale_tril @ bartlett
        return factor @ jnp.swapaxes(factor, -1, -2)

    def _log_normaliser(self):
        d = self._d
        return (
            0.5 * self.df * d * math.log(2.0)
            + self.df * log_diag_sum(self.scale_tril)
            + multigammaln(0.5 * self.df, d)
        )

    def _log_prob(self, value):
        d = self._d
        # Inside the support a Cholesky factor exists; elsewhere the base masks to -inf.
        value_tril = jnp.linalg.cholesky(value)
        log_det_value = 2.0 * log_diag_sum(value_tril)
        # tr(S^-1 X) = ||L^-1 L_X||_F^2.
        batch = jnp.broadcast_shapes(value.shape[:-2], self.scale_tril.shape[:-2])
        scale_tril = jnp.broadcast_to(self.scale_tril, batch + (d, d))
        whitened = solve_triangular(scale_tril, jnp.broadcast_to(value_tril, batch + (d, d)), lower=True)
        trace = jnp.sum(whitened**2, axis=(-2, -1))
        return 0.5 * (self.df - d - 1.0) * log_det_value - 0.5 * trace - self._log_normaliser()

    def _scale_matrix(self):
        return self.scale_tril @ jnp.swapaxes(self.scale_tril, -1, -2)

    def mean(self):
        return jnp.broadcast_to(self.df[..., None, None] * self._scale_matrix(), self._shape)

    def variance(self):
        """Elementwise variance ``df (S_ij^2 + S_ii S_jj)``."""
        s = self._scale_matrix()
        diag = jnp.diagonal(s, axis1=-2, axis2=-1)
        v = self.df[..., None, None] * (s**2 + diag[..., :, None] * diag[..., None, :])
        return jnp.broadcast_to(v, self._shape)

    def mode(self):
        """``(df - d - 1) S`` where ``df >= d + 1``, NaN otherwise."""
        d = self._d
        m = jnp.where(self.df >= d + 1.0, self.df - d - 1.0, jnp.nan)
        return jnp.broadcast_to(m[..., None, None] * self._scale_matrix(), self._shape)

    def entropy(self):
        d = self._d
        half_df = 0.5 * self.df
        multi_digamma = jnp.sum(
            digamma(half_df[..., None] - 0.5 * jnp.arange(d, dtype=self.dtype)), axis=-1
        )
        h = (
            self._log_normaliser()
            - 0.5 * (self.df - d - 1.0) * (multi_digamma + d * math.log(2.0) + 2.0 * log_diag_sum(self.scale_tril))
            + 0.5 * self.df * d
        )
        return jnp.broadcast_to(h, self.batch_shape)


def init_scale_and_df(dist, owner, df, scale_tril, scale_matrix, validate_args):
    """Sets ``dist.df`` and ``dist.scale_tril`` from exactly one of the two scale forms.

    Shared by `Wishart` and `InverseWishart`: checks that exactly one of `scale_tril`
    and `scale_matrix` is given and square, factorises a `scale_matrix`, validates the
    parameters (``df > d - 1`` included) when `validate_args`.
    """
    if (scale_tril is None) == (scale_matrix is None):
        given = "both" if scale_tril is not None else "neither"
        raise ValueError(f"{owner}: pass exactly one of `scale_tril` or `scale_matrix`; got {given}")
    name = "scale_tril" if scale_tril is not None else "scale_matrix"
    df, matrix = promote_params(df, scale_tril if scale_tril is not None else scale_matrix)
    if matrix.ndim < 2 or matrix.shape[-1] != matrix.shape[-2]:
        raise ValueError(
            f"{owner}: `{name}` must be a square matrix (shape (..., d, d)); got shape {matrix.shape}"
        )
    if scale_matrix is not None:
        if validate_args:
            validate_param(owner, "scale_matrix", matrix, constraints.positive_definite)
        matrix = jnp.linalg.cholesky(matrix)
    dist.df, dist.scale_tril = df, matrix
    dist._validate(validate_args, df=dist.df, scale_tril=dist.scale_tril)
    d = matrix.shape[-1]
    if validate_args and is_concrete(df) and not np.all(np.asarray(df) > d - 1):
        raise ValueError(f"{owner}: `df` must be greater than d - 1 = {d - 1}; got {np.asarray(df)}")
