"""Probability distributions with TFP shape semantics, as JAX pytrees.

Example:
    >>> import jax
    >>> from probflow import distributions as dist
    >>> dist.Normal(0.0, 1.0).sample(jax.random.key(0), (2,)).shape
    (2,)
"""

from probflow.distributions import constraints
from probflow.distributions.distribution import Distribution
from probflow.distributions.kl import kl_divergence, register_kl

# -- continuous univariate families --------------------------------------------------
from probflow.distributions.normal import Normal

# -- discrete and multivariate families ------------------------------------------------

# -- meta distributions: Independent, Transformed, mixtures, Deterministic, joints -----
from probflow.distributions.deterministic import Deterministic
from probflow.distributions.independent import Independent
from probflow.distributions.joint import JointDistributionNamed
from probflow.distributions.mixture import Mixture, MixtureSameFamily
from probflow.distributions.transformed import TransformedDistribution

__all__ = [name for name in dir() if not name.startswith("_")]
