"""Smoke test of examples/: every script runs with --quick and writes its plots.

Each example runs in a subprocess (PROBFLOW_QUICK=1, MPLBACKEND=Agg, cwd = a temporary
folder, so ./probflow-output/ lands there). The runs are dominated by XLA compilation,
single-threaded, so the selected examples are started two at a time as soon as the
first of them is needed; each test then waits for its own run.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
TIMEOUT_S = 900


def _has(module):
    return importlib.util.find_spec(module) is not None


def _has_callbacks_and_saving():
    from probflow import nn

    return hasattr(nn, "load_model") and hasattr(nn.callbacks, "BackupAndRestore")


def _posteriordb_found():
    from probflow.datasets import posteriordb

    return posteriordb.find_root() is not None


# script -> (PNG files it must write, condition for the PNGs or None, needs, slow)
CASES = {
    "quickstart.py": (["quickstart_predictive.png", "quickstart_trace.png"], None, [], False),
    "eight_schools_nuts.py": (["eight_schools_trace.png", "eight_schools_funnel.png"], None,
                              [], False),
    "logistic_regression_vi_vs_nuts.py": (["logistic_vi_vs_nuts.png"], None, [], False),
    "bnn_regression_uncertainty.py": (["bnn_uncertainty.png"], None, [], True),
    "bayesian_cnn_digits.py": (["digits_reliability.png"], None, ["sklearn"], True),
    "custom_logdensity_hmc.py": (["custom_logdensity_draws.png"], None, [], False),
    # Without a posteriordb folder the script says so and exits 0 without a plot.
    "posteriordb_reference.py": (["posteriordb_zscores.png"], _posteriordb_found, [], False),
    "callbacks_and_checkpoints.py": (["moons_training.png", "moons_best.probflow",
                                      "moons_training.csv"], None, ["callbacks"], True),
    "sgmcmc_bnn.py": (["sgmcmc_bnn.png"], None, [], False),
    "transfer_learning_digits.py": (["transfer_learning.png"], None, ["sklearn"], False),
}


def _missing(needs):
    missing = [m for m in ["matplotlib", *needs] if m != "callbacks" and not _has(m)]
    if "callbacks" in needs and not _has_callbacks_and_saving():
        missing.append("probflow.nn callbacks/saving")
    return missing


def _run(script, workdir):
    env = dict(os.environ, PROBFLOW_QUICK="1", MPLBACKEND="Agg")
    # The examples import probflow from this checkout even when it is not installed.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, str(EXAMPLES / script), "--quick"], cwd=workdir,
                          env=env, capture_output=True, text=True, timeout=TIMEOUT_S)


@pytest.fixture(scope="module")
def launched(request, tmp_path_factory):
    """Starts every selected, runnable example (two at a time); script -> (future, dir)."""
    selected = [item.callspec.params["script"] for item in request.session.items
                if getattr(item, "module", None) is request.module and hasattr(item, "callspec")
                and "script" in item.callspec.params]
    runnable = [s for s in dict.fromkeys(selected) if not _missing(CASES[s][2])]
    pool = ThreadPoolExecutor(max_workers=2)
    runs = {}
    for script in runnable:
        workdir = tmp_path_factory.mktemp(Path(script).stem)
        runs[script] = (pool.submit(_run, script, workdir), workdir)
    yield runs
    pool.shutdown(wait=True, cancel_futures=True)


def test_every_example_is_listed():
    scripts = {p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_")}
    assert scripts == set(CASES)


@pytest.mark.parametrize("script", [
    pytest.param(name, marks=[pytest.mark.slow] if CASES[name][3] else [], id=name[:-3])
    for name in CASES
])
def test_example_runs_quick(script, launched):
    pngs, condition, needs, _ = CASES[script]
    missing = _missing(needs)
    if missing:
        pytest.skip(f"{script} needs {', '.join(missing)}")
    future, workdir = launched[script]
    proc = future.result()
    assert proc.returncode == 0, (
        f"{script} exited with {proc.returncode}\n--- stdout ---\n{proc.stdout[-3000:]}"
        f"\n--- stderr ---\n{proc.stderr[-5000:]}"
    )
    if condition is not None and not condition():
        return
    out = workdir / "probflow-output"
    for name in pngs:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, (
            f"{script} did not write probflow-output/{name}; found "
            f"{sorted(p.name for p in out.glob('*')) if out.is_dir() else 'no folder'}")


def test_quick_flag_from_environment(monkeypatch, tmp_path):
    """PROBFLOW_QUICK=1 and --quick both switch the common parser to tiny settings."""
    monkeypatch.syspath_prepend(str(EXAMPLES))
    from _common import parse_args

    monkeypatch.delenv("PROBFLOW_QUICK", raising=False)
    assert not parse_args("x", ["--output", str(tmp_path / "a")]).quick
    assert parse_args("x", ["--quick", "--output", str(tmp_path / "b")]).quick
    monkeypatch.setenv("PROBFLOW_QUICK", "1")
    args = parse_args("x", ["--output", str(tmp_path / "c")])
    assert args.quick and args.output.is_dir()
    monkeypatch.setenv("PROBFLOW_QUICK", "0")
    assert not parse_args("x", ["--output", str(tmp_path / "d")]).quick
