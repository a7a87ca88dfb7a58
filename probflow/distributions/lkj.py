"""The LKJ distribution over correlation matrices."""

from __future__ import annotations

import jax.numpy as jnp

from probflow.bijectors.corr_matrix import corr_outer_log_det
from probflow.distributions import constraints
from probflow.distributions._util import promote_params
from probflow.distributions.distribution import Distribution
from probflow.distributions.lkj_cholesky import LKJCholesky

__all__ = ["LKJ"]


class LKJ(Distribution):
    """LKJ distribution over d x d correlation matrices: density ``∝ det(R)^(concentration - 1)``.

    The density is with respect to Lebesgue measure on the strictly-lower entries of R
    (Lewandowski, Kurowicka & Joe 2009): `LKJCholesky`'s density of ``L = chol(R)``
    divided by the Jacobian of ``L -> L L^T``. Each off-diagonal entry has
    ``(R_ij + 1) / 2 ~ Beta(b, b)``, ``b = concentration - 1 + d / 2``.

    Args:
        dimension: d, the matrix size (a Python int >= 2).
        concentration: eta > 0; 1 is uniform over correlation matrices.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> import jax
        >>> from probflow import distributions as dist
        >>> d = dist.LKJ(2, 1.0)
        >>> round(float(d.log_prob(jax.numpy.eye(2))), 4)  # uniform on (-1, 1)
        -0.6931
    """

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_matrix
    has_rsample = False

    def __init__(self, dimension, concentration=1.0, *, validate_args=False):
        try:  # LKJCholesky's check of `dimension`, under this family's name
            self.dimension = LKJCholesky(dimension, concentration).dimension
        except ValueError as error:
            raise ValueError(str(error).replace("LKJCholesky", "LKJ")) from None
        (self.concentration,) = promote_params(concentration)
        self._validate(validate_args, concentration=self.concentration)

    @property
    def event_shape(self) -> tuple:
        return (self.dimension, self.dimension)

    def _cholesky(self):
        return LKJCholesky(self.dimension, self.concentration)

    def _sample(self, key, sample_shape):
        factor = self._cholesky().sample(key, sample_shape)
        return factor @ jnp.swapaxes(factor, -1, -2)

    def _log_prob(self, value):
        # Outside the support the Cholesky factor is NaN; the base masks that to -inf.
        factor = jnp.linalg.cholesky(value)
        return self._cholesky()._log_prob(factor) - corr_outer_log_det(factor)

    def mean(self):
        eye = jnp.eye(self.dimension, dtype=self.dtype)
        return jnp.broadcast_to(eye, self.batch_shape + self.event_shape)

    def variance(self):
        d = self.dimension
        off = 1.0 / (2.0 * self.concentration + d - 1.0)
        off_diagonal = 1.0 - jnp.eye(d, dtype=self.dtype)
        return off[..., None, None] * off_diagonal

    def mode(self):
        return self.mean()
