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
from probflow.distributions.beta import Beta
from probflow.distributions.cauchy import Cauchy
from probflow.distributions.exponential import Exponential
from probflow.distributions.gamma import Chi2, Gamma
from probflow.distributions.gumbel import Gumbel
from probflow.distributions.half_cauchy import HalfCauchy
from probflow.distributions.half_normal import HalfNormal
from probflow.distributions.inverse_gamma import InverseGamma
from probflow.distributions.laplace import Laplace
from probflow.distributions.logistic import Logistic
from probflow.distributions.lognormal import LogNormal
from probflow.distributions.normal import Normal
from probflow.distributions.pareto import Pareto
from probflow.distributions.student_t import StudentT
from probflow.distributions.truncated_normal import TruncatedNormal
from probflow.distributions.uniform import Uniform
from probflow.distributions.von_mises import VonMises
from probflow.distributions.weibull import Weibull

# -- more continuous families ------------------------------------------------------------
from probflow.distributions.asymmetric_laplace import AsymmetricLaplace
from probflow.distributions.beta_proportion import BetaProportion
from probflow.distributions.chi import Chi
from probflow.distributions.exponentially_modified_gaussian import ExponentiallyModifiedGaussian
from probflow.distributions.frechet import Frechet
from probflow.distributions.generalized_extreme_value import GeneralizedExtremeValue
from probflow.distributions.generalized_normal import GeneralizedNormal
from probflow.distributions.gompertz import Gompertz
from probflow.distributions.half_student_t import HalfStudentT
from probflow.distributions.inverse_gaussian import InverseGaussian
from probflow.distributions.kumaraswamy import Kumaraswamy
from probflow.distributions.levy import Levy
from probflow.distributions.log_logistic import LogLogistic
from probflow.distributions.logit_normal import LogitNormal
from probflow.distributions.moyal import Moyal
from probflow.distributions.rice import Rice
from probflow.distributions.sinh_arcsinh import SinhArcsinh
from probflow.distributions.skew_normal import SkewNormal
from probflow.distributions.triangular import Triangular

# -- discrete and multivariate families ------------------------------------------------
from probflow.distributions.bernoulli import Bernoulli
from probflow.distributions.binomial import Binomial
from probflow.distributions.categorical import Categorical
from probflow.distributions.geometric import Geometric
from probflow.distributions.multinomial import Multinomial
from probflow.distributions.negative_binomial import NegativeBinomial
from probflow.distributions.one_hot_categorical import OneHotCategorical
from probflow.distributions.poisson import Poisson
from probflow.distributions.dirichlet import Dirichlet
from probflow.distributions.lkj_cholesky import LKJCholesky
from probflow.distributions.low_rank_multivariate_normal import LowRankMultivariateNormal
from probflow.distributions.multivariate_normal import MultivariateNormal
from probflow.distributions.wishart import Wishart

# -- meta distributions: Independent, Transformed, mixtures, Deterministic, joints -----
from probflow.distributions.deterministic import Deterministic
from probflow.distributions.independent import Independent
from probflow.distributions.improper import ImproperUniform
from probflow.distributions.joint import JointDistributionNamed
from probflow.distributions.mixture import Mixture, MixtureSameFamily
from probflow.distributions.transformed import TransformedDistribution

# -- more discrete and structured families ---------------------------------------------
from probflow.distributions.beta_binomial import BetaBinomial
from probflow.distributions.dirichlet_multinomial import DirichletMultinomial
from probflow.distributions.discrete_uniform import DiscreteUniform
from probflow.distributions.gamma_poisson import GammaPoisson, NegativeBinomial2
from probflow.distributions.hurdle import HurdleDistribution, HurdleNegativeBinomial2, HurdlePoisson
from probflow.distributions.ordered import OrderedLogistic, OrderedProbit
from probflow.distributions.skellam import Skellam
from probflow.distributions.zero_inflated import (
    ZeroInflatedDistribution,
    ZeroInflatedNegativeBinomial2,
    ZeroInflatedPoisson,
)
from probflow.distributions.zipf import Zipf
from probflow.distributions.ar1 import AR1
from probflow.distributions.car import CAR
from probflow.distributions.censored import Censored
from probflow.distributions.copula import NormalToMarginals, gaussian_copula
from probflow.distributions.gaussian_random_walk import GaussianRandomWalk
from probflow.distributions.inverse_wishart import InverseWishart
from probflow.distributions.lkj import LKJ
from probflow.distributions.matrix_normal import MatrixNormal
from probflow.distributions.multivariate_student_t import MultivariateStudentT
from probflow.distributions.truncated import Truncated
from probflow.distributions.zero_sum_normal import ZeroSumNormal

__all__ = [name for name in dir() if not name.startswith("_")]
