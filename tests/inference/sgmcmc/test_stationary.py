"""SG-MCMC kernels hit the exact stationary variance of their discretised dynamics.

On a 1-D Gaussian target ``log p = -P theta^2 / 2`` with gradient noise ``s * z``
(z ~ N(0, 1), passed in as the "batch"), each kernel is a linear recursion
``state' = A state + noise``, so its stationary covariance solves the discrete
Lyapunov equation ``S = A S A^T + Q`` exactly, finite step included. Many independent
chains run to stationarity and their final positions are iid draws, so the variance
estimate has relative sd ``sqrt(2 / num_chains)`` and no ESS guesswork: a noise term
off by 10% fails. The step sizes are large enough that the discretised variance
differs from the continuous ``T / P`` by several percent, so these tests check the
update rule itself, not only its small-step limit.

Expected values:

* SGLD: ``theta' = (1 - h P / 2) theta + h s z / 2 + sqrt(h T) xi``.
* SGHMC (unit mass, learning rate eta, friction alpha):
  ``v' = (1 - alpha) v - eta P theta + eta s z + sigma xi``, ``theta' = theta + v'``,
  with ``sigma^2 = 2 alpha eta T`` without noise estimation. With it, sigma^2 =
  ``2 alpha eta T - eta^2 V_hat`` (Chen et al. 2014, tempered), so the total noise is
  ``2 alpha eta T`` again and the variance is that of the noise-free chain.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.linalg import solve_discrete_lyapunov
from scipy.stats import norm

from probflow.inference import sgmcmc

NUM_CHAINS = 10_000


def _sgld_variance(step_size, precision, noise_sd, temperature):
    a = 1 - step_size * precision / 2
    q = step_size * temperature + (step_size * noise_sd / 2) ** 2
    return q / (1 - a * a)


def _lyapunov_variance(learning_rate, precision, friction, noise_var):
    """Stationary variance of theta for v' = (1 - a) v - lr P theta + noise, theta' = theta + v'."""
    transition = np.array([[1 - learning_rate * precision, 1 - friction],
                           [-learning_rate * precision, 1 - friction]])
    return solve_discrete_lyapunov(transition, noise_var * np.ones((2, 2)))[0, 0]


def _sghmc_variance(step_size, precision, noise_sd, temperature, friction, estimate_noise):
    injected = 2 * friction * step_size * temperature
    # With the estimate, the injected noise makes up exactly the gradient noise's share.
    q = injected if estimate_noise else injected + (step_size * noise_sd) ** 2
    return _lyapunov_variance(step_size, precision, friction, q)


@functools.partial(jax.jit, static_argnums=(0, 1))
def _final_states(kernel, num_steps, key, step_size, precision, noise_sd):
    def logdensity(theta, z):
        return -0.5 * precision * theta**2 + noise_sd * z * theta

    def chain(key):
        def one_step(state, key):
            key_grad, key_step = jax.random.split(key)
            z = jax.random.normal(key_grad)
            state, _ = kernel.step(key_step, state, z, logdensity, step_size)
            return state, None

        state, _ = jax.lax.scan(one_step, kernel.init(jnp.zeros(())),
                                jax.random.split(key, num_steps))
        return state

    return jax.vmap(chain)(jax.random.split(key, NUM_CHAINS))


# (kernel settings, step size, precision P, gradient-noise sd s, temperature, steps).
# Each chain starts at 0 and forgets it geometrically (spectral radius of A, at most
# 0.84 here, 0.983 for the noise-estimate cases): the step counts leave < 1e-6 of it.
CASES = {
    "sgld": (("sgld", {}), 0.15, 4.0, 0.0, 1.0, 300),
    "sgld-cold-noisy": (("sgld", {}), 0.1, 4.0, 2.0, 0.5, 300),
    "sghmc": (("sghmc", {"estimate_noise": False}), 0.6, 1.0, 0.0, 1.0, 300),
    "sghmc-cold-noisy": (("sghmc", {"estimate_noise": False}), 0.3, 1.0, 0.5, 0.3, 300),
    # Gradient noise s^2 = 30 against the position's own gradient variance P^2 var = P T
    # (which the running estimate also sees): the estimate is 1-2% high, a < 1% bias.
    "sghmc-estimated-noise": (("sghmc", {"estimate_noise": True}), 0.005, 1.0, 30**0.5, 1.0,
                              1000),
    "sghmc-estimated-noise-cold": (("sghmc", {"estimate_noise": True}), 0.005, 1.0, 30**0.5,
                                   0.5, 1000),
}
FRICTION = 0.3
# Two checks (mean, variance) per case at family-wise alpha = 1e-3.
Z_CRIT = norm.ppf(1 - 1e-3 / (2 * 2 * len(CASES)))


@pytest.mark.parametrize("case", sorted(CASES))
def test_stationary_variance_is_exact(case):
    (name, settings), step_size, precision, noise_sd, temperature, num_steps = CASES[case]
    if name == "sgld":
        kernel = sgmcmc.sgld(temperature=temperature)
        expected = _sgld_variance(step_size, precision, noise_sd, temperature)
    else:
        kernel = sgmcmc.sghmc(friction=FRICTION, temperature=temperature, **settings)
        expected = _sghmc_variance(step_size, precision, noise_sd, temperature, FRICTION,
                                   settings["estimate_noise"])
    tolerance = Z_CRIT * np.sqrt(2 / NUM_CHAINS)
    if not settings.get("estimate_noise"):
        # The discretised chain is measurably off the continuous variance T / P ...
        assert abs(expected * precision / temperature - 1) > 2 * tolerance
    draws = np.asarray(_final_states(kernel, num_steps, jax.random.key(0), step_size,
                                     precision, noise_sd).position, np.float64)
    z_mean = abs(draws.mean()) / np.sqrt(expected / NUM_CHAINS)
    assert z_mean < Z_CRIT, (draws.mean(), z_mean)
    # ... and the chain matches the discretised value within Monte-Carlo error.
    assert abs(draws.var() / expected - 1) < tolerance, (draws.var(), expected,
                                                         temperature / precision)


def test_noise_estimate_matters():
    """The cases above would fail without (or with a wrong) gradient-noise correction."""
    _, step_size, precision, noise_sd, _, _ = CASES["sghmc-estimated-noise-cold"]
    corrected = _sghmc_variance(step_size, precision, noise_sd, 0.5, FRICTION, True)
    uncorrected = _sghmc_variance(step_size, precision, noise_sd, 0.5, FRICTION, False)
    # Subtracting eta^2 V * T (the untempered formula) leaves eta^2 V (1 - T) extra.
    untempered = _sghmc_variance(step_size, precision, noise_sd * 0.5**0.5, 0.5, FRICTION,
                                 False)
    tolerance = Z_CRIT * np.sqrt(2 / NUM_CHAINS)
    assert uncorrected / corrected - 1 > 3 * tolerance
    assert untempered / corrected - 1 > 3 * tolerance


# -- scale-adapted SGHMC ----------------------------------------------------------------
# Each chain ends with its own mass m = 1 / sqrt(V_hat); given m the update is SGHMC
# with learning rate eta * m and injected noise max(2 alpha eta T m - eta^2, 0), plus the
# gradient noise (eta m s)^2. Its exact stationary variance var(m) is that of the
# Lyapunov equation; the chains' final positions are independent with variances
# var(m_c), so mean(theta^2) has expectation mean(var(m_c)) and sd
# sqrt(2 mean(var(m_c)^2) / num_chains). (Theta's spread hardly depends on m: the
# continuous limit is T / P for any mass, which is why the adaptation may go on.)
ADAPTIVE_CASES = {
    # (keep_averaging, step size eta, precision, gradient-noise sd, temperature)
    "frozen-after-burn-in": (False, 0.1, 4.0, 0.0, 1.0),
    # Here the gradient noise exceeds the tempered total: the injected noise is clipped
    # at 0 and the chain runs hot by the excess.
    "frozen-cold-noisy": (False, 0.2, 4.0, 3.0, 0.5),
    # Averages over all steps after burn-in: the mass still moves, by ~1/3000 of its
    # fluctuation per step at the end, far too little to show.
    "averaging-after-burn-in": (True, 0.1, 4.0, 0.0, 1.0),
    "averaging-cold-noisy": (True, 0.2, 4.0, 3.0, 0.5),
}
ADAPTIVE_STEPS = 3000
ADAPTIVE_Z_CRIT = norm.ppf(1 - 1e-3 / (2 * 2 * len(ADAPTIVE_CASES)))


def _adaptive_variance(step_size, inverse_mass, precision, noise_sd, temperature, friction):
    learning_rate = step_size * inverse_mass
    injected = max(2 * friction * temperature * learning_rate - step_size**2, 0.0)
    return _lyapunov_variance(learning_rate, precision, friction,
                              injected + (learning_rate * noise_sd) ** 2)


@pytest.mark.parametrize("case", sorted(ADAPTIVE_CASES))
def test_adaptive_sghmc_stationary_variance_is_exact(case):
    keep_averaging, step_size, precision, noise_sd, temperature = ADAPTIVE_CASES[case]
    kernel = sgmcmc.adaptive_sghmc(friction=FRICTION, temperature=temperature,
                                   num_adapt_steps=1000, keep_averaging=keep_averaging)
    state = _final_states(kernel, ADAPTIVE_STEPS, jax.random.key(1), step_size, precision,
                          noise_sd)
    theta = np.asarray(state.position, np.float64)
    inverse_mass = 1 / np.sqrt(np.asarray(state.grad_square, np.float64))
    # Masses settle near sqrt(P T + s^2) (the mean squared gradient) but differ by chain.
    assert np.all(np.isfinite(inverse_mass)) and inverse_mass.std() > 0
    expected = np.array([_adaptive_variance(step_size, m, precision, noise_sd, temperature,
                                            FRICTION) for m in inverse_mass])
    # The step is large enough that the exact value is measurably off T / P.
    tolerance = ADAPTIVE_Z_CRIT * np.sqrt(2 * np.mean(expected**2) / NUM_CHAINS)
    assert abs(expected.mean() - temperature / precision) > 1.5 * tolerance
    z_mean = abs(theta.mean()) / np.sqrt(expected.mean() / NUM_CHAINS)
    assert z_mean < ADAPTIVE_Z_CRIT, (theta.mean(), z_mean)
    assert abs(np.mean(theta**2) - expected.mean()) < tolerance, (
        np.mean(theta**2), expected.mean(), temperature / precision)


def test_adaptive_sghmc_mass_freezes_after_adaptation():
    kernel = sgmcmc.adaptive_sghmc(num_adapt_steps=3, keep_averaging=False)
    state = kernel.init(jnp.ones(2))

    def logdensity(theta, scale):
        return -0.5 * scale * jnp.sum(theta**2)

    squares = []
    for step in range(5):
        state, _ = kernel.step(jax.random.key(step), state, 10.0**step, logdensity, 1e-3)
        squares.append(np.asarray(state.grad_square))
    assert not np.allclose(squares[2], squares[1])
    np.testing.assert_array_equal(squares[4], squares[2])
    assert int(state.count) == 5
