"""Bijectors: invertible maps with log-Jacobians, and `for_constraint`.

Example:
    >>> import jax.numpy as jnp
    >>> from probflow import bijectors as bij
    >>> b = bij.Chain([bij.Exp(), bij.Shift(1.0)])       # exp(x + 1)
    >>> y, log_det = b.forward_and_log_det(jnp.array(0.0))
    >>> round(float(log_det), 4)
    1.0
"""

from probflow.bijectors.affine import Affine, Scale, Shift
from probflow.bijectors.bijector import Bijector
from probflow.bijectors.chain import Chain, Invert
from probflow.bijectors.corr_cholesky import CorrCholesky
from probflow.bijectors.elementwise import Exp, Identity, Power, Sigmoid, Softplus, Tanh
from probflow.bijectors.flows import (
    MaskedAutoregressive,
    RealNVP,
    masked_autoregressive_flow,
    real_nvp_flow,
)
from probflow.bijectors.for_constraint import for_constraint, register_constraint_bijector
from probflow.bijectors.ordered import Ordered
from probflow.bijectors.positive_definite import CholeskyOuterProduct, PositiveDefinite
from probflow.bijectors.reshape import Permute, Reshape
from probflow.bijectors.simplex import StickBreaking
from probflow.bijectors.triangular import FillScaleTriL, FillTriangular

# -- bijectors of the structured families (issue 19)
from probflow.bijectors.corr_matrix import CorrCholeskyOuterProduct
from probflow.bijectors.zero_sum import ZeroSum

# The name DESIGN.md lists for the vector -> positive-definite matrix bijector.
CholeskyOfPositiveDefinite = PositiveDefinite

__all__ = [
    "Affine",
    "Bijector",
    "Chain",
    "CholeskyOfPositiveDefinite",
    "CholeskyOuterProduct",
    "CorrCholesky",
    "CorrCholeskyOuterProduct",
    "Exp",
    "FillScaleTriL",
    "FillTriangular",
    "Identity",
    "Invert",
    "MaskedAutoregressive",
    "Ordered",
    "Permute",
    "Power",
    "RealNVP",
    "PositiveDefinite",
    "Reshape",
    "Scale",
    "Shift",
    "Sigmoid",
    "Softplus",
    "StickBreaking",
    "Tanh",
    "ZeroSum",
    "for_constraint",
    "masked_autoregressive_flow",
    "real_nvp_flow",
    "register_constraint_bijector",
]
