"""The LKJ distribution over Cholesky factors of correlation matrices."""

from __future__ import annotations

import math
import operator

import jax
import jax.numpy as jnp
from jax.scipy.special import gammaln

from probflow.distributions import constraints
from probflow.distributions._util import promote_params
from probflow.distributions.distribution import Distribution

__all__ = ["LKJCholesky"]


class LKJCholesky(Distribution):
    """LKJ prior on the Cholesky factor L of a correlation matrix R = L L^T.

    The density of R is proportional to ``det(R)^(concentration - 1)``
    (Lewandowski, Kurowicka & Joe 2009). `log_prob` is the density of L with respect to
    Lebesgue measure on its strictly-lower-triangular entries (row i's diagonal is then
    fixed by the unit row norm), normalised exactly:
    ``sum_i (d - i + 2 eta - 3) log L_ii`` (rows i = 1..d-1, 0-based) plus the log of
    the onion method's normaliser. Draws use the onion method.

    Args:
        dimension: d, the matrix size (a Python int >= 2).
        concentration: eta > 0; 1 is uniform over correlation matrices, larger values
            concentrate near the identity.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> import jax
        >>> from probflow import distributions as dist
        >>> d = dist.LKJCholesky(3, 2.0)
        >>> d.sample(jax.random.key(0)).shape
        (3, 3)
    """

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky
    has_rsample = False

    def __init__(self, dimension, concentration=1.0, *, validate_args=False):
        try:
            valid = not isinstance(dimension, bool) and operator.index(dimension) >= 2
        except TypeError:
            valid = False
        if not valid:
            raise ValueError(f"LKJCholesky: `dimension` must be an int >= 2; got {dimension!r}")
        self.dimension = operator.index(dimension)
        (self.concentration,) = promote_params(concentration)
        self._validate(validate_args, concentration=self.concentration)

    @property
    def event_shape(self) -> tuple:
        return (self.dimension, self.dimension)

    def _row_betas(self):
        """Second Beta parameter of each row's squared off-diagonal norm, rows 1..d-1."""
        rows = jnp.arange(1, self.dimension, dtype=self.dtype)
        eta = self.concentration[..., None]
        return rows, eta + 0.5 * (self.dimension - 1 - rows)

    def _sample(self, key, sample_shape):
        # Onion method: row i's off-diagonal part is sqrt(y_i) u_i, y_i ~ Beta(i/2, beta_i),
        # u_i uniform on the unit sphere in R^i; its diagonal is sqrt(1 - y_i).
        key_radius, key_direction = jax.random.split(key)
        d = self.dimension
        shape = sample_shape + self.batch_shape
        rows, betas = self._row_betas()
        a = jnp.broadcast_to(rows / 2.0, shape + (d - 1,))
        b = jnp.broadcast_to(betas, shape + (d - 1,))
        y = jax.random.beta(key_radius, a, b, shape + (d - 1,), self.dtype)
        y = jnp.concatenate([jnp.zeros(shape + (1,), self.dtype), y], axis=-1)
        normal = jax.random.normal(key_direction, shape + (d, d), self.dtype)
        normal = jnp.tril(normal, k=-1)
        norm = jnp.linalg.norm(normal, axis=-1, keepdims=True)
        direction = normal / jnp.where(norm > 0, norm, 1.0)
        off_diagonal = jnp.sqrt(y)[..., None] * direction
        diagonal = jnp.sqrt(jnp.clip(1.0 - y, 0.0, 1.0))
        return off_diagonal + diagonal[..., None] * jnp.eye(d, dtype=self.dtype)

    def _log_normaliser(self):
        d = self.dimension
        rows, betas = self._row_betas()
        eta = self.concentration[..., None]
        per_row = gammaln(eta + 0.5 * (d - 1)) - gammaln(betas) - 0.5 * rows * math.log(math.pi)
        return jnp.sum(per_row, axis=-1)

    def _log_prob(self, value):
        d = self.dimension
        rows, _ = self._row_betas()
        eta = self.concentration[..., None]
        log_diagonal = jnp.log(jnp.diagonal(value, axis1=-2, axis2=-1)[..., 1:])
        exponents = d - rows + 2.0 * eta - 3.0
        return jnp.sum(exponents * log_diagonal, axis=-1) + self._log_normaliser()

    def mean(self):
        raise NotImplementedError("LKJCholesky: the mean of a Cholesky factor has no closed form")
