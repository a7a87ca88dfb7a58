"""nutpie's low-rank modified mass matrix (`sample(dense_mass="low_rank")`).

On a Gaussian with covariance S the gradients at any draws are -S^-1 (x - mean), so the
geometric mean of the scaled draws' covariance and the inverse of the scaled gradients'
covariance is the scaled S itself, whatever the draws (to the regulariser): the
estimate is exact along every direction it keeps, and leaves D alone (within the
eigenvalue cutoff of the truth) along the others.
"""

import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from probflow.inference import sample
from probflow.inference.mcmc._one_at_a_time import one_at_a_time
from probflow.inference.mcmc.low_rank import (
    REGULARISER,
    history_init,
    history_push,
    low_rank_inverse_mass,
    low_rank_min_draws,
)

from .test_sample import COVARIANCE, check_moments, correlated_log_prob

SETTINGS = dict(num_warmup=300, num_samples=1000, num_chains=4, progress_bar=False,
                adaptation="nutpie")


def filled_history(num, length, seed=0):
    # Draws from N(0, COVARIANCE) with their exact gradients.
    x = np.random.default_rng(seed).multivariate_normal(np.zeros(5), COVARIANCE, num)
    history = history_init(5, jnp.float64, length)
    for xi in x:
        history = history_push(history, xi, -np.linalg.solve(COVARIANCE, xi))
    return history


def expected(diagonal, cutoff):
    # D^1/2 (I + sum over eigenvalues outside [1/c, c] of (l - 1) u u^T) D^1/2, from the
    # true covariance whitened by D.
    root = np.sqrt(diagonal)
    values, vectors = np.linalg.eigh(COVARIANCE / np.outer(root, root))
    values = np.where((values > cutoff) | (values < 1 / cutoff), values, 1.0)
    return np.outer(root, root) * ((vectors * values) @ vectors.T)


@pytest.mark.parametrize("cutoff", [1.0, 2.0, 100.0])
def test_estimate_is_the_truth_along_kept_directions(x64, cutoff):
    # 30 draws in a 40-slot buffer, D off by up to 3x: with cutoff 1 every direction
    # is kept and the estimate is the covariance. The regulariser eps (added to unit-scale
    # whitened covariances) is the only error: relative eps / lambda_min with whitened
    # eigenvalues down to ~0.1, i.e. ~1e-2 of the largest entry (measured 0.054 of 9).
    diagonal = np.diag(COVARIANCE) * np.array([1.0, 3.0, 0.5, 1.0, 0.4])
    estimate = low_rank_inverse_mass(filled_history(30, 40), 100, jnp.asarray(diagonal),
                                     cutoff=cutoff)
    np.testing.assert_allclose(estimate, expected(diagonal, cutoff),
                               atol=20 * REGULARISER * np.max(COVARIANCE))


def test_only_the_foreground_draws_count(x64):
    # 60 pushed into 40 slots; with count 15 (3 per dimension) only the newest 15 are
    # used. Replacing the older ones with garbage must not change the estimate.
    history = filled_history(60, 40)
    diagonal = jnp.asarray(np.diag(COVARIANCE))
    estimate = low_rank_inverse_mass(history, 15, diagonal, cutoff=1.0)
    newest = (np.arange(60)[-15:]) % 40
    garbage = np.setdiff1d(np.arange(40), newest)
    spoiled = history._replace(draws=history.draws.at[garbage].set(1e3),
                               grads=history.grads.at[garbage].set(-7.0))
    np.testing.assert_array_equal(low_rank_inverse_mass(spoiled, 15, diagonal, cutoff=1.0),
                                  estimate)
    # 15 draws span all 5 directions: still the truth.
    np.testing.assert_allclose(estimate, COVARIANCE, atol=20 * REGULARISER * COVARIANCE.max())


def test_too_few_draws_per_dimension_leave_the_diagonal(x64):
    # Under 3 draws per dimension the spectra are mostly noise: no correction at all.
    assert low_rank_min_draws(40, 5) == 15 and low_rank_min_draws(40, 50) == 40
    history = filled_history(60, 40)
    diagonal = jnp.asarray(np.diag(COVARIANCE))
    np.testing.assert_array_equal(low_rank_inverse_mass(history, 14, diagonal, cutoff=1.0),
                                  np.diag(diagonal))


@pytest.fixture(scope="module")
def low_rank_run():
    return sample(correlated_log_prob, jnp.zeros(5), dense_mass="low_rank", seed=4, **SETTINGS)


def test_adapted_metric_whitens_a_correlated_gaussian(low_rank_run):
    # Every whitened eigenvalue outside [1/2, 2] is corrected exactly, the others are
    # left: the covariance in the adapted metric's whitening has eigenvalues within
    # [1/2, 2] (float32 and the regulariser: 5% slack). The exact diagonal D alone,
    # sqrt(S_ii / (S^-1)_ii), leaves 0.17 .. 11.9 on this target.
    for inverse_mass in low_rank_run.inverse_mass_matrix:
        values = whitened_eigenvalues(inverse_mass)
        assert values.min() > 0.5 / 1.05 and values.max() < 2.0 * 1.05, values


def whitened_eigenvalues(inverse_mass):
    # The spectrum of COVARIANCE in the metric's whitening (all 1 for the exact metric).
    lower = np.linalg.cholesky(np.asarray(inverse_mass, np.float64))
    return np.linalg.eigvalsh(np.linalg.solve(lower, np.linalg.solve(lower, COVARIANCE).T))


def test_correlated_gaussian_moments(low_rank_run):
    check_moments(low_rank_run.samples["x"], 0.0, np.sqrt(np.diag(COVARIANCE)))
    assert int(low_rank_run.stats["diverging"].sum()) == 0


def test_same_seed_same_draws(low_rank_run):
    again = sample(correlated_log_prob, jnp.zeros(5), dense_mass="low_rank", seed=4, **SETTINGS)
    np.testing.assert_array_equal(again.samples["x"], low_rank_run.samples["x"])
    np.testing.assert_array_equal(again.inverse_mass_matrix, low_rank_run.inverse_mass_matrix)


@pytest.mark.parametrize("dense_mass", ["lowrank", "dense", "diag"])
def test_unknown_metric_is_refused(dense_mass):
    with pytest.raises(ValueError, match="`dense_mass` must be False, True, 'low_rank' or 'auto'"):
        sample(correlated_log_prob, jnp.zeros(5), dense_mass=dense_mass, **SETTINGS)


def test_low_rank_needs_the_nutpie_adaptation():
    with pytest.raises(ValueError, match="`dense_mass='low_rank'` needs `adaptation='nutpie'`"):
        sample(correlated_log_prob, jnp.zeros(5), dense_mass="low_rank",
               **dict(SETTINGS, adaptation="stan"))


SCALES = np.array([1e-3, 1e-3, 1.0, 30.0, 1e-2])
SCALED_PRECISION = (np.linalg.inv(COVARIANCE) / np.outer(SCALES, SCALES)).astype(np.float32)


def scaled_log_prob(x):
    # COVARIANCE rescaled to sds 1e-3 .. 90 around a mean of 3, started ~3 away.
    z = x - 3.0
    return -0.5 * z @ (SCALED_PRECISION @ z)


def test_float32_badly_scaled_correlated_gaussian():
    # float32, scales over five orders of magnitude: early in warmup the scaled gradients
    # are huge and rounding made the scaled covariances indefinite; one non-finite
    # metric then left every chain stuck with a nan step size (seen on posteriordb's
    # sblrc in float32). The eigenvalue floors and the Cholesky check keep it usable.
    result = sample(scaled_log_prob, jnp.zeros(5), dense_mass="low_rank", seed=1, **SETTINGS)
    assert np.all(np.isfinite(result.step_size))
    check_moments(result.samples["x"], 3.0, np.sqrt(np.diag(COVARIANCE)) * SCALES)


# Run in a child process: before the fix this program hung in `block_until_ready` with
# every thread idle (jaxlib's batched CPU QR waiting on the thread pool it ran on), and a
# hang in the test process would stall the whole suite instead of failing this test.
_FOUR_CHAINS_D80 = """
import jax, jax.numpy as jnp, numpy as np
from probflow.inference import sample
result = sample(lambda x: -0.5 * jnp.sum(x ** 2), jnp.zeros(80), num_chains=4,
                num_warmup=40, num_samples=10, dense_mass="low_rank", progress_bar=False,
                check_convergence=False, seed=0)
assert all(np.isfinite(np.asarray(x)).all() for x in jax.tree.leaves(result.samples))
print("finished", np.asarray(result.inverse_mass_matrix).shape)
"""


def test_four_chains_at_d80_finish():
    out = subprocess.run([sys.executable, "-c", _FOUR_CHAINS_D80], capture_output=True,
                         text=True, timeout=240)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "finished (4, 80, 80)" in out.stdout


def test_one_at_a_time_matches_the_vectorised_batch():
    rng = np.random.default_rng(0)
    factors = rng.normal(size=(3, 4, 4))
    matrices = jnp.asarray(factors @ factors.transpose(0, 2, 1) + 4 * np.eye(4), jnp.float32)
    np.testing.assert_allclose(jax.vmap(one_at_a_time(jnp.linalg.cholesky))(matrices),
                               jnp.linalg.cholesky(matrices), rtol=1e-6, atol=1e-6)
    # An unbatched argument is broadcast over the batch.
    scaled = jax.vmap(one_at_a_time(lambda m, s: m * s), in_axes=(None, 0))
    np.testing.assert_array_equal(scaled(matrices[0], jnp.arange(3.0)),
                                  matrices[0][None] * jnp.arange(3.0)[:, None, None])


def test_the_correction_is_recomputed_only_at_refactor_iterations(x64):
    # Past 3 draws per dimension, an update without `refactor` keeps the metric as it
    # is (diagonal included); one with it recomputes the correction from the history.
    from probflow.inference.mcmc.gradient_warmup import GradientWarmup
    from probflow.inference.mcmc.kernel import SampleInfo, init_state

    precision = np.linalg.inv(COVARIANCE)
    logdensity = lambda x: -0.5 * x @ (precision @ x)
    value_and_grad = jax.value_and_grad(logdensity)
    warmup = GradientWarmup()
    warm = warmup.init(jax.random.key(0), init_state(jnp.ones(5), logdensity), value_and_grad,
                       dense_mass="low_rank")
    warm_start = warm
    schedule = warmup.schedule(300)
    info = SampleInfo(jnp.asarray(False), *(jnp.asarray(0.8) for _ in SampleInfo._fields[1:]))
    draws = np.random.default_rng(1).multivariate_normal(np.zeros(5), COVARIANCE, 40)

    def update(warm, draw, refactor):
        flags = jax.tree_util.tree_map(lambda f: f[100], schedule)._replace(
            switch=False, search=False, settle=False, watch=False, calibrate=False,
            refactor=refactor, foreground_count=40)
        return warmup.update(jax.random.key(1), warm, init_state(jnp.asarray(draw), logdensity),
                             info, value_and_grad, target_accept=0.8, flags=flags,
                             is_last=False)

    for draw in draws[:-1]:
        warm = update(warm, draw, refactor=False)
    kept = warm.params.metric
    # (the initial metric: nothing recomputed it)
    np.testing.assert_array_equal(kept.inverse_mass_matrix, warm_start.params.metric.inverse_mass_matrix)
    warm = update(warm, draws[-1], refactor=True)
    # 40 draws of a 5-d Gaussian with exact gradients: corrected wherever the whitened
    # variance is outside [1/2, 2] (the initial metric left 0.02 .. 60 here).
    values = whitened_eigenvalues(warm.params.metric.inverse_mass_matrix)
    assert values.min() > 0.5 / 1.05 and values.max() < 2.0 * 1.05, values
    kept = warm.params.metric
    warm = update(warm, draws[0], refactor=False)
    np.testing.assert_array_equal(warm.params.metric.inverse_mass_matrix, kept.inverse_mass_matrix)
    np.testing.assert_array_equal(warm.params.metric.mass_sqrt, kept.mass_sqrt)


def test_above_twice_the_history_the_estimate_works_in_the_span_of_the_data(x64):
    # d = 20 with an 8-slot history: the draws and gradients span at most 16 directions,
    # so the estimate runs in a QR basis of their span. Outside it the scaled
    # covariances are the regulariser alone and their mean is 1, so the result must
    # equal the same estimate in the full identity basis (computed here with numpy).
    rng = np.random.default_rng(3)
    dim, length = 20, 8
    factor = rng.normal(size=(dim, dim)) / np.sqrt(dim) + np.eye(dim)
    covariance = factor @ factor.T
    x = rng.multivariate_normal(np.zeros(dim), covariance, length)
    g = -np.linalg.solve(covariance, x.T).T
    history = history_init(dim, jnp.float64, length)
    for xi, gi in zip(x, g):
        history = history_push(history, xi, gi)
    diagonal = np.diag(covariance) * rng.uniform(0.5, 2.0, dim)
    estimate = low_rank_inverse_mass(history, length, jnp.asarray(diagonal), cutoff=2.0)

    root = np.sqrt(diagonal)
    xs, gs = (x - x.mean(0)) / root, (g - g.mean(0)) * root
    a = xs.T @ xs / length + REGULARISER * np.eye(dim)
    b = gs.T @ gs / length + REGULARISER * np.eye(dim)

    def sqrtm(m):
        w, v = np.linalg.eigh(m)
        return (v * np.sqrt(w)) @ v.T

    b_half = sqrtm(b)
    b_inv_half = np.linalg.inv(b_half)
    mean = b_inv_half @ sqrtm(b_half @ a @ b_half) @ b_inv_half
    values, vectors = np.linalg.eigh(0.5 * (mean + mean.T))
    values = np.where((values > 2.0) | (values < 0.5), values, 1.0)
    expected = np.outer(root, root) * ((vectors * values) @ vectors.T)
    assert not np.allclose(expected, np.diag(diagonal), atol=1e-3)  # something is kept
    np.testing.assert_allclose(estimate, expected, rtol=1e-6, atol=1e-8)
