"""Data-parallel fit on 4 forced CPU devices equals the one-device fit.

VI and MAP (batch norm included), SGHMC and a deep ensemble, fused epochs and the
batch-hook path, validation and prediction afterwards.

The device count of a JAX process is fixed when jax first initialises its backend, so
the multi-device checks run in one child process that sets
``XLA_FLAGS=--xla_force_host_platform_device_count=4`` before importing jax, runs every
fit once and prints the numbers as JSON; the tests below read them. What would break
them: per-example Flipout noise or the batch permutation depending on the sharding,
the NLL mean or the KL / n scaling taken per device instead of over the whole batch,
batch-norm statistics per device, or a batch that is not split at all (no all-reduce).
"""

import json
import os
import socket
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest
from jax.sharding import AxisType, Mesh

from probflow import distribute

CHILD = textwrap.dedent('''
    import os
    os.environ["XLA_FLAGS"] = ("--xla_force_host_platform_device_count=4 "
                               "--xla_cpu_multi_thread_eigen=false")
    import json
    import jax
    import numpy as np
    from probflow import distribute, nn
    from probflow.nn.callbacks.base import Callback

    out = {"device_count": jax.device_count()}
    rng = np.random.default_rng(0)
    # 72 rows in batches of 16: four full batches and a masked partial one.
    X = rng.normal(size=(72, 3)).astype("float32")
    Y = (X @ np.array([1.0, -2.0, 0.5]) + 0.3 * rng.normal(size=72)).astype("float32")
    XV, YV = X[:20] + 0.1, Y[:20]

    class Snapshot(Callback):
        def on_train_begin(self, logs=None):
            self.initial = [np.asarray(a) for a in jax.tree_util.tree_leaves(self.model.params)]

    class BatchHook(Callback):
        sizes = []
        def on_batch_end(self, batch, logs=None):
            self.sizes.append(logs["size"])

    def leaves_of(tree):
        return [np.asarray(a) for a in jax.tree_util.tree_leaves(tree)]

    def leaves(model):
        return leaves_of(model.params)

    def max_diff(a, b):
        return max(float(np.max(np.abs(u - v))) for u, v in zip(a, b))

    def vi_model():
        model = nn.Sequential([nn.DenseFlipout(8, activation="relu"), nn.DenseFlipout(1)])
        model.compile(optimizer="adam", likelihood="normal", metrics=["rmse"],
                      learning_rate=0.01)
        return model

    def fit(model, **kw):
        return model.fit(X, Y, epochs=3, batch_size=16, verbose=0, seed=3, **kw).history

    snap = Snapshot()
    single = vi_model()
    h_single = fit(single, validation_data=(XV, YV), callbacks=[snap])
    parallel = vi_model()
    h_parallel = fit(parallel, validation_data=(XV, YV),
                     distribution=distribute.DataParallel())
    hooked = vi_model()
    hook = BatchHook()
    h_hooked = fit(hooked, distribution=distribute.DataParallel(), callbacks=[hook])
    out["vi"] = {
        "moved": max_diff(leaves(single), snap.initial),
        "params_diff": max_diff(leaves(single), leaves(parallel)),
        "hooked_params_diff": max_diff(leaves(single), leaves(hooked)),
        "single": h_single, "parallel": h_parallel, "hooked": h_hooked,
        "hook_sizes": hook.sizes,
        "first_leaf": leaves(single)[0].ravel()[:6].tolist(),
        # Prediction after a data-parallel fit reads the replicated parameters.
        "predict_diff": float(np.max(np.abs(
            single.predict(X[:8], num_samples=4, seed=0)
            - parallel.predict(X[:8], num_samples=4, seed=0)))),
        "replicated": all(a.sharding.is_fully_replicated
                          for a in jax.tree_util.tree_leaves(parallel.params)),
        "param_devices": len(jax.tree_util.tree_leaves(parallel.params)[0].sharding.device_set),
    }
    # The compiled data-parallel epoch sums gradients across devices; the single one
    # has nothing to sum.
    from probflow.nn.training.programs import programs_for

    programs = programs_for(parallel, "vi")
    variant = programs.for_distribution(distribute.DataParallel())
    xs, ys = variant.place(([X], [Y]))
    hlo = variant._run_epoch.lower(parallel.train_state, {}, xs, ys, batch_size=16,
                                   shuffle=True).compile().as_text()
    state = jax.device_get(parallel.train_state)
    hlo_single = programs._run_epoch.lower(state, {}, [X], [Y], batch_size=16,
                                           shuffle=True).compile().as_text()
    out["hlo"] = {"parallel_all_reduce": "all-reduce" in hlo,
                  "per_device_rows": "f32[4,8]" in hlo,
                  "single_all_reduce": "all-reduce" in hlo_single}

    def map_model():
        # No bias before batch norm: its gradient is zero up to rounding, and Adam's
        # normalisation would turn that rounding into full-size steps.
        model = nn.Sequential([nn.Dense(8, use_bias=False), nn.BatchNormalization(),
                               nn.Activation("relu"),
                               nn.DenseFlipout(1)])
        model.compile(optimizer="adam", likelihood="normal", learning_rate=0.01)
        return model

    map_single, map_parallel = map_model(), map_model()
    out["map"] = {
        "single": fit(map_single, method="map"),
        "parallel": fit(map_parallel, method="map", mesh=distribute.make_mesh(2)),
    }
    out["map"]["params_diff"] = max_diff(leaves(map_single), leaves(map_parallel))
    out["map"]["state_diff"] = max_diff(
        [np.asarray(a) for a in jax.tree_util.tree_leaves(map_single.layer_state)],
        [np.asarray(a) for a in jax.tree_util.tree_leaves(map_parallel.layer_state)])

    def plain_model():
        model = nn.Sequential([nn.Dense(8, activation="tanh"), nn.Dense(1)])
        model.compile(optimizer="adam", likelihood="normal", learning_rate=0.01)
        return model

    # SG-MCMC (noise injected after the first epoch) and a deep ensemble (members
    # vmapped, each seeing the whole split batch): the kept draws / members match.
    for method, extra, parallel_kw in [
            ("sghmc", {}, dict(distribution=distribute.DataParallel())),
            ("ensemble", dict(num_members=3), dict(mesh=distribute.make_mesh(2)))]:
        one, many = plain_model(), plain_model()
        h_one = fit(one, method=method, **extra)
        h_many = fit(many, method=method, **extra, **parallel_kw)
        draws_one, draws_many = leaves_of(one.posterior_samples(4)), \
            leaves_of(many.posterior_samples(4))
        out[method] = {"single": h_one, "parallel": h_many,
                       "draws_diff": max_diff(draws_one, draws_many),
                       "draws_size": max(float(np.max(np.abs(d))) for d in draws_one)}

    errors = {}
    for name, kw in {"batch_size": dict(batch_size=10, distribution=distribute.DataParallel()),
                     "both": dict(distribution=distribute.DataParallel(),
                                  mesh=distribute.make_mesh(2))}.items():
        try:
            vi_model().fit(X, Y, epochs=1, verbose=0, **kw)
            errors[name] = None
        except (ValueError, TypeError) as err:
            errors[name] = f"{type(err).__name__}: {err}"
    # A stream's batch rows must split over the devices too: caught before compiling.
    compiles = []
    jax.monitoring.register_event_duration_secs_listener(
        lambda event, secs, **kw: compiles.append(event)
        if event == "/jax/core/compile/backend_compile_duration" else None)
    model = vi_model()
    before = len(compiles)
    try:
        model.fit([(X[:10], Y[:10]), (X[10:20], Y[10:20])], epochs=1, verbose=0,
                  distribution=distribute.DataParallel())
        errors["stream_batch_size"] = None
    except ValueError as err:
        errors["stream_batch_size"] = f"{type(err).__name__}: {err}"
    errors["stream_compiles"] = len(compiles) - before
    out["errors"] = errors
    print("RESULT " + json.dumps(out))
''')


@pytest.fixture(scope="module")
def child():
    env = dict(os.environ)
    env.pop("XLA_FLAGS", None)
    env["JAX_PLATFORMS"] = "cpu"
    proc = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                          env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def test_child_sees_four_devices(child):
    assert child["device_count"] == 4


@pytest.mark.parametrize("key", ["loss", "kl", "rmse", "val_loss", "val_rmse"])
def test_vi_logs_match_single_device(child, key):
    # Equal losses: the NLL is the mean over the whole batch, the KL scaled by 1 / n.
    single, parallel = child["vi"]["single"][key], child["vi"]["parallel"][key]
    assert len(single) == 3
    np.testing.assert_allclose(parallel, single, rtol=1e-5, atol=1e-6)


def test_vi_params_match_single_device(child):
    vi = child["vi"]
    # Training moved the parameters by far more than the tolerance, so different
    # weight noise or a different batch order would show.
    assert vi["moved"] > 1e-2
    assert vi["params_diff"] < 1e-5


def test_predict_after_data_parallel_fit(child):
    assert child["vi"]["predict_diff"] < 1e-5


def test_vi_batch_hook_path_matches(child):
    vi = child["vi"]
    assert vi["hooked_params_diff"] < 1e-5
    np.testing.assert_allclose(vi["hooked"]["loss"], vi["single"]["loss"], rtol=1e-5)
    assert vi["hook_sizes"] == [16, 16, 16, 16, 8] * 3


def test_params_replicated_and_batch_split(child):
    vi = child["vi"]
    assert vi["replicated"]
    assert vi["param_devices"] == 4
    hlo = child["hlo"]
    assert hlo["parallel_all_reduce"] and hlo["per_device_rows"]
    assert not hlo["single_all_reduce"]


def test_map_with_batchnorm_on_mesh_argument_matches(child):
    m = child["map"]
    np.testing.assert_allclose(m["parallel"]["loss"], m["single"]["loss"], rtol=1e-5)
    np.testing.assert_allclose(m["parallel"]["neg_log_prior"], m["single"]["neg_log_prior"],
                               rtol=1e-5)
    assert m["params_diff"] < 1e-5
    # Batch-norm moving statistics over the whole batch, not per device.
    assert m["state_diff"] < 1e-5


@pytest.mark.parametrize("method", ["sghmc", "ensemble"])
def test_sgmcmc_and_ensemble_match_single_device(child, method):
    result = child[method]
    np.testing.assert_allclose(result["parallel"]["loss"], result["single"]["loss"], rtol=1e-5)
    assert result["draws_size"] > 0.1
    assert result["draws_diff"] < 1e-5


def test_bad_arguments_name_the_problem(child):
    errors = child["errors"]
    assert errors["batch_size"].startswith("ValueError") and "`batch_size`" in errors["batch_size"]
    assert "got 10" in errors["batch_size"] and "4 devices" in errors["batch_size"]
    assert errors["both"].startswith("ValueError") and "`mesh`" in errors["both"]
    stream = errors["stream_batch_size"]
    assert stream.startswith("ValueError") and "`batch_size`" in stream, stream
    assert "got 10" in stream and "4 devices" in stream and "yields" in stream
    assert errors["stream_compiles"] == 0


WORKER = textwrap.dedent('''
    import os, sys, json
    os.environ["XLA_FLAGS"] = ("--xla_force_host_platform_device_count=2 "
                               "--xla_cpu_multi_thread_eigen=false")
    import jax
    import numpy as np
    from probflow import distribute, nn
    info = distribute.initialize(f"localhost:{sys.argv[2]}", num_processes=2,
                                 process_id=int(sys.argv[1]))
    rng = np.random.default_rng(0)
    X = rng.normal(size=(72, 3)).astype("float32")
    Y = (X @ np.array([1.0, -2.0, 0.5]) + 0.3 * rng.normal(size=72)).astype("float32")
    model = nn.Sequential([nn.DenseFlipout(8, activation="relu"), nn.DenseFlipout(1)])
    model.compile(optimizer="adam", likelihood="normal", metrics=["rmse"], learning_rate=0.01)
    history = model.fit(X, Y, epochs=3, batch_size=16, verbose=1, seed=3,
                        distribution=distribute.DataParallel())
    leaves = jax.tree_util.tree_leaves(model.params)
    print("RESULT " + json.dumps({
        "info": info, "loss": history.history["loss"],
        "replicated": all(a.is_fully_replicated for a in leaves),
        "first_leaf": np.asarray(leaves[0]).ravel()[:6].tolist()}), flush=True)
''')


def _free_port():
    with socket.socket() as sock:
        sock.bind(("localhost", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_two_processes_match_one_process(child, tmp_path):
    """2 processes x 2 devices joined by `initialize` == 1 process x 4 devices."""
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    env["JAX_PLATFORMS"] = "cpu"
    port = str(_free_port())
    procs = [subprocess.Popen([sys.executable, str(script), str(i), port], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(2)]
    outputs = [proc.communicate(timeout=600) for proc in procs]
    results = []
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0, err[-4000:]
        line = [ln for ln in out.splitlines() if ln.startswith("RESULT ")][-1]
        results.append((json.loads(line[len("RESULT "):]), err))
    for index, (result, err) in enumerate(results):
        assert result["info"]["process_index"] == index
        assert result["info"]["device_count"] == 4 and result["info"]["local_device_count"] == 2
        assert result["replicated"]
        np.testing.assert_allclose(result["loss"], child["vi"]["single"]["loss"], rtol=1e-5)
        np.testing.assert_allclose(result["first_leaf"], child["vi"]["first_leaf"], atol=1e-5)
        # The progress bar belongs to process 0.
        assert ("Epoch 3/3" in err) == (index == 0)
    assert results[0][0]["first_leaf"] == results[1][0]["first_leaf"]


# -- in-process (one device) ----------------------------------------------------------------


def test_data_parallel_validates_arguments():
    with pytest.raises(TypeError, match="`mesh`"):
        distribute.DataParallel(mesh="cpu")
    with pytest.raises(ValueError, match="`axis_name`.*'batch'"):
        distribute.DataParallel(distribute.make_mesh(1), axis_name="batch")
    with pytest.raises(ValueError, match="`num_devices`"):
        distribute.make_mesh(jax.device_count() + 1)
    with pytest.raises(TypeError, match="`distribution`"):
        distribute.resolve_distribution("data")


def test_explicit_mesh_becomes_auto_and_strategies_compare_by_mesh():
    devices = np.array(jax.devices()[:1])
    explicit = Mesh(devices, ("data",), axis_types=(AxisType.Explicit,))
    strategy = distribute.DataParallel(explicit)
    assert strategy.mesh.axis_types == (AxisType.Auto,)
    assert strategy == distribute.DataParallel(distribute.make_mesh(1))
    assert strategy != distribute.DataParallel(Mesh(devices, ("rows",)), axis_name="rows")
    assert distribute.resolve_distribution(explicit) == strategy
    strategy.check_batch_size(7)  # one device splits anything


def test_process_info_single_process():
    info = distribute.process_info()
    assert info["process_index"] == 0 and info["process_count"] == 1
    assert info["device_count"] == jax.device_count() and distribute.is_main_process()
