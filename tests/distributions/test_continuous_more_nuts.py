"""A new family inside `JointDistributionNamed`, sampled by NUTS against a quadrature posterior."""

import numpy as np
import pytest
import scipy.stats as st
from scipy import integrate
from scipy.special import ndtri

from probflow import distributions as dist
from probflow.inference import sample
from probflow.inference.mcmc.diagnostics import ess, ess_bulk, rhat

RATE = 2.0
TRUE_CONCENTRATION = 1.5
NUM_OBSERVATIONS = 20


def _data():
    u = np.random.default_rng(20261206).uniform(size=NUM_OBSERVATIONS)
    return st.gompertz(TRUE_CONCENTRATION, scale=1 / RATE).ppf(u)


def _posterior_moments(y):
    """Mean and sd of p(c | y) for c ~ LogLogistic(0, 1/2), y_i ~ Gompertz(c, RATE), by quadrature."""

    def log_joint(c):
        return st.fisk(2.0).logpdf(c) + st.gompertz(c, scale=1 / RATE).logpdf(y).sum()

    peak = max(log_joint(c) for c in np.linspace(0.05, 10, 400))
    density = lambda c, k: c**k * np.exp(log_joint(c) - peak)  # noqa: E731
    mass, first, second = (integrate.quad(density, 0, np.inf, args=(k,), epsrel=1e-10)[0] for k in range(3))
    mean = first / mass
    return mean, np.sqrt(second / mass - mean**2)


@pytest.mark.slow
def test_nuts_on_a_gompertz_likelihood_with_a_log_logistic_prior():
    y = _data()
    joint = dist.JointDistributionNamed({
        "concentration": dist.LogLogistic(0.0, 0.5),
        "y": lambda concentration: dist.Gompertz(concentration, np.full(NUM_OBSERVATIONS, RATE, np.float32)),
    })
    result = sample(joint.condition(y=y.astype(np.float32)), num_warmup=500, num_samples=1000, num_chains=4,
                    seed=0, progress_bar=False)
    draws = np.asarray(result.samples["concentration"], np.float64)[..., None]  # [chain, draw, 1]
    mean, sd = _posterior_moments(y)
    # Two checks (mean, variance) at alpha = 1e-3.
    critical = ndtri(1 - 1e-3 / (2 * 2))
    z_mean = abs(draws.mean() - mean) / (sd / np.sqrt(ess_bulk(draws)[0]))
    squares = (draws - mean) ** 2
    z_var = abs(squares.mean() - sd**2) / (squares.std() / np.sqrt(ess(squares)[0]))
    assert z_mean < critical and z_var < critical, (z_mean, z_var, draws.mean(), mean)
    assert rhat(draws)[0] < 1.01
