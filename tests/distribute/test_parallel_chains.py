"""chain_method="parallel": chains split over forced host devices.

The device count is fixed when JAX starts, so the checks run in a subprocess with
``XLA_FLAGS=--xla_force_host_platform_device_count=4`` set before JAX is imported.

Parallel chains get the same per-chain keys as "vectorized" and run the same per-chain
program, so a chain's draws equal those of a vectorized run over the same block of
chains that its device holds (checked to float tolerance). Against one vectorized
batch of ALL chains they agree only for the first transitions: XLA's CPU code rounds
transcendentals differently for different batch widths (step sizes differ in the 7th
digit after one warmup iteration) and NUTS trajectories amplify that, so long runs
are equal in distribution, not draw for draw.
"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

_SCRIPT = textwrap.dedent("""
    import importlib, json, warnings
    import jax, jax.numpy as jnp, numpy as np
    from probflow.inference import Target, sample
    from probflow.inference.mcmc import NUTS
    sm = importlib.import_module("probflow.inference.mcmc.sample")

    scales = jnp.asarray([0.5, 1.0, 3.0])
    log_prob = lambda p: -0.5 * jnp.sum((p["x"] / scales) ** 2)
    target = Target.from_logdensity(log_prob, {"x": jnp.zeros(3)})
    out = {"devices": jax.device_count()}
    settings = dict(kernel=NUTS(), num_warmup=60, num_samples=40, dense_mass=False,
                    report_progress=False)
    accept = jnp.float32(0.8)
    for num_chains in (4, 6):
        keys = jax.random.split(jax.random.key(num_chains), num_chains)
        pos = jnp.asarray(np.random.default_rng(num_chains).normal(size=(num_chains, 3)),
                          jnp.float32)
        used = sm._num_devices(num_chains)
        per = num_chains // used
        par = sm._run_parallel(target, keys, pos, accept, **settings)
        blocks = [sm._run_vectorized(target, keys[i:i + per], pos[i:i + per], accept,
                                     **settings) for i in range(0, num_chains, per)]
        draws_blocks = np.concatenate([np.asarray(b[0]) for b in blocks])
        steps_blocks = np.concatenate([np.asarray(b[2].n_steps) for b in blocks])
        short = dict(settings, num_warmup=0, num_samples=3)
        short_par = sm._run_parallel(target, keys, pos, accept, **short)
        short_vec = sm._run_vectorized(target, keys, pos, accept, **short)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no fallback warning allowed here
            result = sample(log_prob, {"x": jnp.zeros(3)}, num_warmup=200, num_samples=300,
                            num_chains=num_chains, chain_method="parallel", seed=1,
                            progress_bar=False, check_convergence=False)
        x = np.asarray(result.samples["x"])
        out[str(num_chains)] = {
            "used_devices": used,
            "sharded_over": len(par[0].sharding.device_set),
            "blocks_diff": float(np.max(np.abs(np.asarray(par[0]) - draws_blocks))),
            "blocks_same_steps": bool(np.array_equal(np.asarray(par[2].n_steps), steps_blocks)),
            "short_diff": float(np.max(np.abs(np.asarray(short_par[0]) - np.asarray(short_vec[0])))),
            "shape": list(x.shape),
            "sd": x.reshape(-1, 3).std(0).tolist(),
        }
    print("RESULT" + json.dumps(out))
""")


@pytest.fixture(scope="module")
def outcome():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4",
               JAX_PLATFORMS="cpu")
    proc = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(l for l in proc.stdout.splitlines() if l.startswith("RESULT"))
    return json.loads(line[len("RESULT"):])


def test_four_devices_are_seen(outcome):
    assert outcome["devices"] == 4


# 4 chains: one a device on all 4; 6 chains: the 3 devices that divide them, a batch of
# two on each (what 8 chains on 4 devices would run too, for 5 more compiles).
@pytest.mark.parametrize("num_chains, devices", [("4", 4), ("6", 3)])
def test_parallel_chains(outcome, num_chains, devices):
    row = outcome[num_chains]
    # Chains split evenly over the most devices that divide them, batched within each.
    assert row["used_devices"] == devices
    assert row["sharded_over"] == devices
    # Same keys, same per-chain program as a vectorized run of each device's block.
    assert row["blocks_same_steps"]
    np.testing.assert_allclose(row["blocks_diff"], 0.0, atol=1e-5)
    # Against one batch of all chains: equal over the first transitions (same step
    # size, same keys; see the module docstring for why not over a long run).
    np.testing.assert_allclose(row["short_diff"], 0.0, atol=1e-4)
    # The public driver samples the right distribution (sd 0.5, 1, 3; >= 1200 draws,
    # loose bound: 25% on an sd is > 5 Monte-Carlo standard errors here).
    assert row["shape"] == [int(num_chains), 300, 3]
    np.testing.assert_allclose(row["sd"], [0.5, 1.0, 3.0], rtol=0.25)
