"""`validate_args=True` catches every invalid parameter of every family.

Off by default (NumPyro/TFP convention: validation costs host syncs), so each case
below also checks that the same parameters are accepted silently without the flag.
Each invalid case names the parameter the error message must name.
"""

import jax.numpy as jnp
import numpy as np
import pytest

from probflow import distributions as dist

EYE = np.eye(2)
NOT_PD = np.array([[1.0, 2.0], [2.0, 1.0]])
NOT_SYMMETRIC = np.array([[2.0, 0.5], [0.0, 2.0]])
NEG_DIAG = np.array([[-1.0, 0.0], [0.3, 1.0]])
UPPER = np.array([[1.0, 0.5], [0.0, 1.0]])

# (family, kwargs with one invalid parameter, the parameter's name)
INVALID = [
    (dist.Normal, dict(loc=0.0, scale=-1.0), "scale"),
    (dist.Normal, dict(loc=0.0, scale=0.0), "scale"),
    (dist.Normal, dict(loc=np.nan, scale=1.0), "loc"),
    (dist.Normal, dict(loc=np.inf, scale=1.0), "loc"),
    (dist.LogNormal, dict(loc=0.0, scale=-1.0), "scale"),
    (dist.HalfNormal, dict(scale=-1.0), "scale"),
    (dist.HalfCauchy, dict(scale=0.0), "scale"),
    (dist.Cauchy, dict(loc=0.0, scale=-2.0), "scale"),
    (dist.Laplace, dict(loc=0.0, scale=-2.0), "scale"),
    (dist.Logistic, dict(loc=0.0, scale=-2.0), "scale"),
    (dist.Gumbel, dict(loc=0.0, scale=-2.0), "scale"),
    (dist.StudentT, dict(df=-1.0, loc=0.0, scale=1.0), "df"),
    (dist.StudentT, dict(df=3.0, loc=0.0, scale=-1.0), "scale"),
    (dist.TruncatedNormal, dict(loc=0.0, scale=-1.0, low=0.0, high=1.0), "scale"),
    (dist.TruncatedNormal, dict(loc=0.0, scale=1.0, low=1.0, high=0.0), "high"),
    (dist.Uniform, dict(low=1.0, high=0.0), "high"),
    (dist.Uniform, dict(low=0.0, high=0.0), "high"),
    (dist.Exponential, dict(rate=-1.0), "rate"),
    (dist.Gamma, dict(concentration=-1.0, rate=1.0), "concentration"),
    (dist.Gamma, dict(concentration=1.0, rate=0.0), "rate"),
    (dist.InverseGamma, dict(concentration=0.0, scale=1.0), "concentration"),
    (dist.InverseGamma, dict(concentration=1.0, scale=-1.0), "scale"),
    (dist.Chi2, dict(df=-1.0), "df"),
    (dist.Beta, dict(concentration1=0.0, concentration0=1.0), "concentration1"),
    (dist.Beta, dict(concentration1=1.0, concentration0=-1.0), "concentration0"),
    (dist.Weibull, dict(scale=-1.0, concentration=1.0), "scale"),
    (dist.Weibull, dict(scale=1.0, concentration=0.0), "concentration"),
    (dist.Pareto, dict(scale=0.0, alpha=1.0), "scale"),
    (dist.Pareto, dict(scale=1.0, alpha=-1.0), "alpha"),
    (dist.VonMises, dict(loc=0.0, concentration=-1.0), "concentration"),
    (dist.Bernoulli, dict(probs=1.5), "probs"),
    (dist.Bernoulli, dict(probs=-0.1), "probs"),
    (dist.Bernoulli, dict(logits=np.nan), "logits"),
    (dist.Binomial, dict(total_count=-1.0, probs=0.5), "total_count"),
    (dist.Binomial, dict(total_count=2.5, probs=0.5), "total_count"),
    (dist.Binomial, dict(total_count=3.0, probs=1.1), "probs"),
    (dist.NegativeBinomial, dict(total_count=0.0, probs=0.5), "total_count"),
    (dist.NegativeBinomial, dict(total_count=2.0, probs=-0.5), "probs"),
    (dist.Geometric, dict(probs=0.0), "probs"),
    (dist.Geometric, dict(probs=1.5), "probs"),
    (dist.Poisson, dict(rate=-1.0), "rate"),
    (dist.Categorical, dict(probs=np.array([0.5, 0.7])), "probs"),
    (dist.Categorical, dict(probs=np.array([1.2, -0.2])), "probs"),
    (dist.Categorical, dict(logits=np.array([0.0, np.nan])), "logits"),
    (dist.OneHotCategorical, dict(probs=np.array([0.5, 0.7])), "probs"),
    (dist.Multinomial, dict(total_count=3.0, probs=np.array([0.5, 0.7])), "probs"),
    (dist.Multinomial, dict(total_count=-3.0, probs=np.array([0.5, 0.5])), "total_count"),
    (dist.Dirichlet, dict(concentration=np.array([1.0, 0.0])), "concentration"),
    (dist.MultivariateNormal, dict(loc=np.zeros(2), covariance_matrix=NOT_PD),
     "covariance_matrix"),
    (dist.MultivariateNormal, dict(loc=np.zeros(2), covariance_matrix=NOT_SYMMETRIC),
     "covariance_matrix"),
    (dist.MultivariateNormal, dict(loc=np.zeros(2), scale_tril=NEG_DIAG), "scale_tril"),
    (dist.MultivariateNormal, dict(loc=np.zeros(2), scale_tril=UPPER), "scale_tril"),
    (dist.MultivariateNormal, dict(loc=np.array([0.0, np.nan]), scale_tril=EYE), "loc"),
    (dist.LowRankMultivariateNormal, dict(loc=np.zeros(2), cov_factor=np.ones((2, 1)),
                                          cov_diag=-np.ones(2)), "cov_diag"),
    (dist.LowRankMultivariateNormal, dict(loc=np.zeros(2), cov_factor=np.full((2, 1), np.nan),
                                          cov_diag=np.ones(2)), "cov_factor"),
    (dist.Wishart, dict(df=0.5, scale_tril=EYE), "df"),
    (dist.Wishart, dict(df=3.0, scale_tril=NEG_DIAG), "scale_tril"),
    (dist.Wishart, dict(df=3.0, scale_matrix=NOT_PD), "scale_matrix"),
    (dist.LKJCholesky, dict(dimension=2, concentration=0.0), "concentration"),
    (dist.Deterministic, dict(loc=np.nan), "loc"),
]


def _id(case):
    family, kwargs, name = case
    return f"{family.__name__}-{name}-{kwargs[name]!r}".replace("\n", "")


@pytest.mark.parametrize("case", INVALID, ids=[_id(c) for c in INVALID])
def test_validate_args_names_the_invalid_parameter(case):
    family, kwargs, name = case
    with pytest.raises(ValueError, match=rf"{family.__name__}.*`{name}`"):
        family(**kwargs, validate_args=True)


@pytest.mark.parametrize("case", INVALID, ids=[_id(c) for c in INVALID])
def test_without_validate_args_nothing_is_checked(case):
    family, kwargs, _ = case
    if family is dist.MultivariateNormal and "covariance_matrix" in kwargs:
        pytest.skip("the Cholesky of a non-PD matrix is computed either way (NaN, no check)")
    family(**kwargs)


def test_validate_args_is_off_by_default():
    assert dist.Normal(0.0, 1.0).validate_args is False


def test_valid_parameters_pass_validation():
    dist.Normal(jnp.zeros(2), 1.0, validate_args=True)
    dist.Categorical(probs=np.array([0.25, 0.75]), validate_args=True)
    dist.MultivariateNormal(np.zeros(2), covariance_matrix=EYE, validate_args=True)
    dist.Wishart(3.0, scale_tril=EYE, validate_args=True)
    dist.Uniform(0.0, 1.0, validate_args=True)
