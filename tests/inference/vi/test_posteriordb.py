"""Full-rank VI against posteriordb reference posteriors (slow).

VI is not exact, so the check is coarse and stated in posterior sds: the mean of every
reference quantity under the fitted guide (constrained, from 20,000 draws) is within
0.5 reference sd of the reference mean. For a near-Gaussian posterior on the
unconstrained space a full-rank Gaussian is close to exact (Laplace-like), so 0.5 sd is
a loose bound that still catches a wrong transform, a missing Jacobian or a stuck
optimiser (each moves means by several sds on these models).

Near-Gaussian (checked on every reference quantity): kidiq, earnings, sblrc, mesquite
(linear regressions; sigma's log-posterior is close to Gaussian at these N). Not
near-Gaussian: eight_schools, whose `tau` has a heavy right tail (kurtosis ~9) and a
funnel-shaped joint with the school effects on the log scale; a Gaussian on log tau
under-disperses it, so only `mu` and the `theta[j]` are held to the bound there, and
`tau` to a looser one (1 sd) that still catches gross failure.
"""

import jax
import numpy as np
import optax
import pytest

from probflow.datasets import posteriordb
from probflow.inference import vi

pytestmark = pytest.mark.slow

ROOT = posteriordb.find_root()
# The regressions are badly conditioned (kidiq / earnings: uncentred predictors,
# correlations -0.99 / -0.998; sblrc: sds from 1e-3 to 0.08). Adam's steps have a fixed
# size in parameter units, so from a uniform(-2, 2) start it neither reaches nor resolves
# them in any sensible number of steps (measured: kidiq 3.6 sd off, sblrc sigma 39 sd off
# after 8000 steps). init="laplace" (L-BFGS mode + inverse Hessian) starts the guide
# close, and a small learning rate refines it. Eight schools' Laplace start is poor (its
# mode in log tau is far from the bulk), so it starts at the MAP with the usual rate.
LAPLACE = dict(init="laplace", num_steps=4000,
               optimizer=optax.adam(optax.exponential_decay(1e-3, 2000, 0.1)))
MAP = dict(init="map", num_steps=8000,
           optimizer=optax.adam(optax.exponential_decay(1e-2, 4000, 0.1)))

CASES = {
    "kidiq-kidscore_momiq": (LAPLACE, {}),
    "earnings-logearn_height": (LAPLACE, {}),
    "sblrc-blr": (LAPLACE, {}),
    "mesquite-logmesquite": (LAPLACE, {}),
    "eight_schools-eight_schools_noncentered": (MAP, {"tau": 1.0}),
}


@pytest.mark.skipif(ROOT is None, reason="no posteriordb folder (set PROBFLOW_POSTERIORDB or "
                    "put it at ../shared/posteriordb)")
@pytest.mark.parametrize("name", list(CASES))
def test_fullrank_means_match_the_reference(name):
    post = posteriordb.load(name, ROOT)
    settings, tolerances = CASES[name]
    result = vi.fit(post.target, "fullrank", num_particles=4, stl=True, map_steps=500,
                    progress_bar=False, **settings)
    assert result.stop_reason == "num_steps reached"
    draws = post.quantities(result.sample(jax.random.key(0), 20_000))
    failures = []
    for param, ref in post.reference.items():
        z = abs(float(np.mean(draws[param])) - ref["mean"]) / ref["sd"]
        if z > tolerances.get(param, 0.5):
            failures.append(f"{param}: |mean - ref| = {z:.2f} sd")
    assert not failures, failures
