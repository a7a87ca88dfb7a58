"""Leapfrog: reversibility and second-order energy error; metrics."""

import jax
import jax.numpy as jnp
import numpy as np

from probflow.inference.mcmc.integrators import IntegratorState, integrate
from probflow.inference.mcmc.metrics import kinetic_energy, make_metric, sample_momentum

COV = np.array([[2.0, 0.6, 0.0], [0.6, 1.0, -0.3], [0.0, -0.3, 0.5]])
PRECISION = np.linalg.inv(COV)


def logdensity(x):
    return -0.5 * x @ (PRECISION @ x) - 0.1 * jnp.sum(x**4)


VALUE_AND_GRAD = jax.value_and_grad(logdensity)


@jax.jit
def run(state, step_size, inverse_mass_matrix):
    metric = make_metric(inverse_mass_matrix)
    # Fixed integration time 1.0, so the global energy error is O(step_size^2).
    return integrate(VALUE_AND_GRAD, metric, state, step_size, jnp.round(1.0 / step_size).astype(int))


def start(x64_dtype=jnp.float64):
    x = jnp.asarray([0.3, -0.5, 0.8], x64_dtype)
    return IntegratorState(x, jnp.asarray([0.7, 0.2, -0.4], x64_dtype), *VALUE_AND_GRAD(x))


def hamiltonian(state, metric):
    return -state.logdensity + kinetic_energy(metric, state.momentum)


def test_reversibility(x64):
    for inverse_mass_matrix in (jnp.asarray([1.0, 0.5, 2.0]), jnp.asarray(COV)):
        s0 = start()
        s1 = run(s0, 0.05, inverse_mass_matrix)
        back = run(s1._replace(momentum=-s1.momentum), 0.05, inverse_mass_matrix)
        np.testing.assert_allclose(back.position, s0.position, atol=1e-10)
        np.testing.assert_allclose(-back.momentum, s0.momentum, atol=1e-10)


def test_energy_error_is_second_order(x64):
    inverse_mass_matrix = jnp.asarray([1.0, 0.5, 2.0])
    metric = make_metric(inverse_mass_matrix)
    s0 = start()
    errors = [abs(float(hamiltonian(run(s0, h, inverse_mass_matrix), metric)
                        - hamiltonian(s0, metric))) for h in (0.1, 0.05, 0.025)]
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    # Halving the step divides the error by ~4 (between 3 and 5 allows the O(h^4) term).
    assert np.all((ratios > 3.0) & (ratios < 5.0)), ratios


def test_dense_metric_momentum_covariance(x64):
    metric = make_metric(jnp.asarray(COV))
    draws = jax.vmap(lambda k: sample_momentum(k, metric, jnp.zeros(3)))(
        jax.random.split(jax.random.key(0), 20000)
    )
    # p ~ N(0, M) with M = COV^-1; entries of the sample covariance have sd ~ sqrt(2/n).
    np.testing.assert_allclose(np.cov(np.asarray(draws).T), PRECISION, atol=0.1)
    np.testing.assert_allclose(metric.mass_sqrt @ metric.mass_sqrt.T, PRECISION, atol=1e-10)
