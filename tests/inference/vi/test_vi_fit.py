"""The `vi.fit` driver: determinism, compile caching, NaN handling, callbacks, init, errors."""

import importlib
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from probflow import bijectors as bij
from probflow.inference import Target, vi
from probflow.inference.vi import _loop
from probflow.inference.vi._loop import TRACE_COUNT


def _gaussian_log_prob(values, data):
    return -0.5 * jnp.sum((values["x"] - data) ** 2)


def _gaussian_target(center):
    return Target(_gaussian_log_prob, {"x": jnp.zeros(2)}, data=jnp.asarray(center, jnp.float32))


def test_same_seed_same_losses_bit_for_bit():
    target = _gaussian_target([1.0, -1.0])
    first = vi.fit(target, num_steps=300, seed=3, progress_bar=False)
    second = vi.fit(target, num_steps=300, seed=3, progress_bar=False)
    other = vi.fit(target, num_steps=300, seed=4, progress_bar=False)
    assert first.losses.dtype == np.float32 and first.losses.shape == (300,)
    np.testing.assert_array_equal(first.losses, second.losses)
    for a, b in zip(jax.tree_util.tree_leaves(first.params), jax.tree_util.tree_leaves(second.params)):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first.losses, other.losses)
    # A key works as a seed, and means the same as the int it came from.
    keyed = vi.fit(target, num_steps=300, seed=jax.random.key(3), progress_bar=False)
    np.testing.assert_array_equal(first.losses, keyed.losses)


FAST = optax.adam(0.1)


def test_second_fit_with_new_data_does_not_recompile():
    vi.fit(_gaussian_target([0.0, 0.0]), optimizer=FAST, num_steps=250, num_chunks=5,
           progress_bar=False)
    traced = TRACE_COUNT["chunk"]
    result = vi.fit(_gaussian_target([5.0, 2.0]), optimizer=FAST, num_steps=250, num_chunks=5,
                    progress_bar=False, seed=1)
    assert TRACE_COUNT["chunk"] == traced
    # ...and the second fit really used the new data.
    np.testing.assert_allclose(result.params["loc"], [5.0, 2.0], atol=0.5)


def _assert_same_fit(a, b):
    np.testing.assert_array_equal(a.losses, b.losses)
    for x, y in zip(jax.tree_util.tree_leaves(a.params), jax.tree_util.tree_leaves(b.params)):
        np.testing.assert_array_equal(x, y)


def _recording_launches(monkeypatch):
    """Patches `vi.fit`'s chunk programs to record each launch's (length, guarded)."""
    fit_module = importlib.import_module("probflow.inference.vi.fit")
    launches = []

    def recording_chunk_program(*args):
        program = _loop.chunk_program(*args)

        def run(*a, length, guarded):
            launches.append((length, guarded))
            return program(*a, length=length, guarded=guarded)

        return run

    monkeypatch.setattr(fit_module, "chunk_program", recording_chunk_program)
    return launches


def test_chunking_does_not_change_the_result(monkeypatch):
    # 230 steps as one chunk (two blocks of 100 and a ragged block of 30), as the quiet
    # default (at most 4 chunks: 58, 58, 58, 56), and as 7 chunks of 33 steps with a
    # listening callback (one ragged block per chunk): bit for bit the same fit.
    launches = _recording_launches(monkeypatch)
    target = _gaussian_target([1.0, 2.0])
    one = vi.fit(target, num_steps=230, num_chunks=1, progress_bar=False)
    assert launches == [(230, False)]
    launches.clear()
    quiet = vi.fit(target, num_steps=230, num_chunks=7, progress_bar=False)
    assert launches == [(58, False)] * 3 + [(56, False)]
    launches.clear()
    steps_seen = []
    listened = vi.fit(target, num_steps=230, num_chunks=7, progress_bar=False,
                      callbacks=[lambda info: steps_seen.append(info.step)])
    assert [n for n, _ in launches] == [33] * 6 + [32]
    assert steps_seen == [33, 66, 99, 132, 165, 198, 230]
    _assert_same_fit(one, quiet)
    _assert_same_fit(one, listened)


def test_noise_blocks_are_the_per_step_noise(monkeypatch):
    # A block's noise is drawn ahead of its scan (vmapped over steps); it must be the
    # noise a step would draw for itself, so that results never depend on the block
    # size, nor on whether the noise is drawn ahead at all.
    family = vi.LowRank(rank=2)  # pytree noise (factor and diagonal parts)
    params = family.init(jax.random.key(0), jnp.zeros(3))
    key = jax.random.key(7)
    ahead = _loop.block_noise(family, key, jnp.int32(5), params, 2, 4)
    for i in range(4):
        step = family.noise(jax.random.fold_in(key, 5 + i), params, 2)
        for a, b in zip(jax.tree_util.tree_leaves(ahead), jax.tree_util.tree_leaves(step)):
            np.testing.assert_array_equal(a[i], b)
    # End to end. One step's noise is 2 particles x (2 + 3) values = 10, so a limit of
    # 35 values gives blocks of 3 steps, and 9 values leaves the noise to each step.
    assert _loop.block_size(family, params, 2, 1000) == _loop.BLOCK_STEPS
    target = _gaussian_target([1.0, 2.0])
    kw = dict(family=vi.LowRank(rank=2), num_steps=120, num_particles=2, progress_bar=False)
    default = vi.fit(target, **kw)
    for setting, value, size in [("BLOCK_STEPS", 7, 7), ("MAX_BLOCK_NOISE", 35, 3),
                                 ("MAX_BLOCK_NOISE", 9, 0)]:
        with monkeypatch.context() as patch:
            patch.setattr(_loop, setting, value)
            assert _loop.block_size(family, params, 2, 1000) == size
            _loop.chunk_program.cache_clear()  # the sizes are read when a program is traced
            try:
                _assert_same_fit(default, vi.fit(target, **kw))
            finally:
                _loop.chunk_program.cache_clear()


def _nan_log_prob(values):
    # A constant pull to the right and NaN beyond x = 1: the guide walks into the NaN.
    x = values["x"]
    return jnp.where(x < 1.0, 20.0 * x, jnp.nan)


def test_nan_loss_stops_with_a_warning_and_keeps_finite_params():
    target = Target(_nan_log_prob, {"x": jnp.zeros(())}, init_center={"x": jnp.zeros(())})
    with pytest.warns(RuntimeWarning, match="non-finite at step"):
        result = vi.fit(target, init={"x": jnp.zeros(())}, num_steps=2000,
                        optimizer=optax.sgd(1e-3), progress_bar=False)
    assert result.stop_reason == "non-finite loss"
    losses = result.losses
    assert 1 < losses.size < 2000
    assert np.isnan(losses[-1]) and np.all(np.isfinite(losses[:-1]))
    leaves = jax.tree_util.tree_leaves(result.params)
    assert all(bool(jnp.all(jnp.isfinite(leaf))) for leaf in leaves)
    # The kept centre is where the walk was just before it hit the NaN region.
    assert 0.5 < float(result.params["loc"][0]) < 1.0
    # The same stop, losses and parameters when a callback listens (50 chunks of 40
    # steps instead of the quiet 4 of 500): the replay is per chunk, whatever its size.
    with pytest.warns(RuntimeWarning, match="non-finite at step"):
        listened = vi.fit(target, init={"x": jnp.zeros(())}, num_steps=2000, num_chunks=50,
                          optimizer=optax.sgd(1e-3), progress_bar=False,
                          callbacks=[lambda info: None])
    _assert_same_fit(result, listened)


def test_convergence_callback_stops_early():
    target = _gaussian_target([0.5, 0.5])
    result = vi.fit(target, num_steps=20_000, num_chunks=100, stl=True,
                    callbacks=[vi.Convergence(tol=1e-3, window=200)], progress_bar=False)
    assert result.stop_reason.startswith("converged")
    assert result.losses.size < 20_000 and result.losses.size % 200 == 0


def test_user_callable_protocol():
    seen, kept = [], []

    def stop_after_600(info):
        seen.append((info.step, info.losses.size, info.nonfinite_step))
        kept.append(info.losses)
        with pytest.raises(ValueError, match="read-only"):
            info.losses[0] = 0.0
        assert set(info.params) == {"loc", "raw_scale"}
        return info.step >= 600

    def raise_stop(info):
        if info.step >= 400:
            raise StopIteration("enough")

    target = _gaussian_target([0.0, 0.0])
    result = vi.fit(target, num_steps=1000, num_chunks=10, callbacks=stop_after_600,
                    progress_bar=False)
    assert seen == [(s, s, None) for s in range(100, 700, 100)]
    assert result.losses.size == 600
    assert "stop_after_600" in result.stop_reason
    # What a callback kept is still the losses of its time, not overwritten later.
    for losses in kept:
        np.testing.assert_array_equal(losses, result.losses[: losses.size])
    result = vi.fit(target, num_steps=1000, num_chunks=10, callbacks=[raise_stop],
                    progress_bar=False)
    assert result.losses.size == 400 and result.stop_reason == "enough"


def test_init_options():
    target = Target(
        lambda v: -0.5 * jnp.sum(((v["s"] - 2.0) / 0.1) ** 2),
        {"s": jnp.zeros(())},
        bijectors={"s": bij.Exp()},
    )
    # A pytree of unconstrained values: the guide starts exactly there.
    start = vi.fit(target, init={"s": jnp.asarray(0.3)}, num_steps=1, optimizer=optax.sgd(0.0),
                   progress_bar=False)
    assert float(start.params["loc"][0]) == pytest.approx(0.3)
    # "map": centred at the mode of the unconstrained density (log-Jacobian included):
    # maximise -0.5 ((e^u - 2) / 0.1)^2 + u  ->  e^u (e^u - 2) = 0.01.
    mode = np.log((2 + np.sqrt(4 + 0.04)) / 2)
    mapped = vi.fit(target, init="map", map_steps=2000, num_steps=1, optimizer=optax.sgd(0.0),
                    progress_bar=False)
    assert float(mapped.params["loc"][0]) == pytest.approx(mode, abs=1e-3)


def test_result_sampling_posterior_and_summary():
    target = Target(
        lambda v: -0.5 * jnp.sum(v["a"] ** 2) - 0.5 * (v["s"] - 1.0) ** 2,
        {"a": jnp.zeros(3), "s": jnp.zeros(())},
        bijectors={"a": bij.Identity(), "s": bij.Exp()},
    )
    result = vi.fit(target, "fullrank", num_steps=200, progress_bar=False)
    draws = result.sample(jax.random.key(0), 50)
    assert draws["a"].shape == (50, 3) and draws["s"].shape == (50,)
    assert bool(jnp.all(draws["s"] > 0))
    post = result.posterior.sample(jax.random.key(1), (2, 5))
    assert post["a"].shape == (2, 5, 3) and post["s"].shape == (2, 5)
    # log_prob of one constrained point = guide density minus the Exp log-Jacobian.
    one = {"a": jnp.array([0.1, 0.2, 0.3]), "s": jnp.asarray(1.5)}
    z = jnp.array([0.1, 0.2, 0.3, jnp.log(1.5)])
    expected = result.family.log_prob(result.params, z[None])[0] - jnp.log(1.5)
    np.testing.assert_allclose(result.posterior.log_prob(one), expected, rtol=1e-5)
    assert result.posterior.unconstrained.event_shape == (4,)
    assert np.isfinite(float(result.elbo(jax.random.key(2), num_particles=100)))
    idata = result.to_arviz(num_samples=100)
    assert idata.posterior["a"].shape == (1, 100, 3)
    table = result.summary(num_samples=100)
    assert "mean" in table.columns and len(table) == 4
    assert "VIResult" in repr(result)


def test_bare_logdensity_and_progress_bar(monkeypatch):
    launches = _recording_launches(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tqdm may warn about notebook widgets
        result = vi.fit(lambda x: -0.5 * jnp.sum((x - 1.0) ** 2), init=jnp.zeros(2),
                        num_steps=200, progress_bar=True)
    assert result.losses.shape == (200,)
    # The bar alone gets 20 updates (chunks), not `num_chunks=100`.
    assert launches == [(10, False)] * 20


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(family="gauss"), ValueError, "`family` must be one of"),
        (dict(num_steps=0), ValueError, "`num_steps` must be an int >= 1; got 0"),
        (dict(num_particles=1.5), ValueError, "`num_particles`"),
        (dict(optimizer="adam"), TypeError, "`optimizer` must be an optax"),
        (dict(init={"y": jnp.zeros(2)}), ValueError, "`init` must have the target's structure"),
        (dict(init="median"), ValueError, "`init` must be None, 'map'"),
        (dict(stl=True, analytic_entropy=True), ValueError, "exclude each other"),
        (dict(callbacks=[3]), TypeError, "callbacks"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        vi.fit(_gaussian_target([0.0, 0.0]), **{"num_steps": 10, "progress_bar": False, **kwargs})


def test_bad_target():
    with pytest.raises(ValueError, match="`init` must be an example position"):
        vi.fit(lambda x: -x @ x, num_steps=10)
    with pytest.raises(TypeError, match="`target` must be a Target"):
        vi.fit(3.0, num_steps=10)
