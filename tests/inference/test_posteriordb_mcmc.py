"""probflow NUTS on the eight posteriordb reference posteriors, checked against Stan.

Each model is the `JointDistributionNamed` writing (`posteriordb_joint`), sampled with
4 chains and compared, per reference parameter, with posteriordb's gold-standard
summaries (Stan NUTS, 10,000 draws) as its README asks:

* mean: ``|mean - mean_ref| <= z * sd_ref * sqrt(1/ESS + 1/10000)`` where ESS is
  ArviZ's bulk ESS of our draws of that quantity and 1/10000 the reference's own
  Monte-Carlo error; ``z = Phi^-1(1 - alpha/(2m))``, alpha = 1e-3 family-wise over the
  m mean and sd checks of this file;
* sd: ``|sd / sd_ref - 1| <= 0.15`` (README: needs ESS >~ 400, asserted first),
  except eight schools' heavy-tailed tau (below);
* R-hat < 1.01; no divergences, except eight schools (at most 1% of draws).

All eight run as ``slow`` with `sample()`'s defaults: the nutpie-style warmup of 300
iterations and ``dense_mass="auto"`` (the low-rank metric: every model here has at
most 42 dimensions), + 1000 draws per chain (sblrc: 2000, see `SLOW_RUN_FOR`). Three
quick ones also run in the default suite with Stan's windowed warmup, 500 + 500, and
as ``slow`` with Stan's 1000 + 1000, under the same derived tolerances. Each
run prints one line (wall time incl. compilation, min ESS, divergences, worst |z|,
worst sd error); see it with ``pytest -s``.
"""

import json
import math
import time

import arviz as az
import jax
import numpy as np
import pytest
from scipy.special import ndtri

from probflow.datasets import posteriordb, posteriordb_joint
from probflow.inference import sample

ROOT = posteriordb.find_root()
pytestmark = pytest.mark.skipif(
    ROOT is None, reason="posteriordb reference posteriors not found (../shared/posteriordb)"
)

EIGHT_SCHOOLS = "eight_schools-eight_schools_noncentered"
REFERENCE_DRAWS = 10_000  # posteriordb: 10 chains x 1000 thinned draws
NUM_CHAINS = 4
SEED = 0
MIN_ESS_FOR_SD_CHECK = 400  # README: below this the 15% sd check fails too often
SD_TOLERANCE = 0.15
TAU_KURTOSIS = 9.0  # README: eight schools' tau has kurtosis ~ 9

# dense_mass per model for Stan's windows (which have no low-rank metric), and why. A
# dense metric pays off where the posterior is strongly correlated in unconstrained
# space; elsewhere a diagonal one is enough and cheaper to adapt.
DENSE_MASS = {
    # Non-centred: theta_trans, mu, log tau are nearly independent a posteriori.
    EIGHT_SCHOOLS: False,
    # Lagged regressors are mildly correlated; diagonal mixes well (ESS > 2500).
    "arK-arK": False,
    # Four parameters on similar scales, weakly correlated.
    "arma-arma11": False,
    # beta[1], beta[2] corr ~ -0.99 (mom_iq not centred): diagonal took ~26
    # leapfrog steps per draw, dense ~4.
    "kidiq-kidscore_momiq": True,
    # beta corr ~ -0.998 (height not centred): diagonal ~66 steps per draw, dense ~20.
    "earnings-logearn_height": True,
    # Seven regression coefficients on un-centred log covariates, strongly correlated.
    "mesquite-logmesquite": True,
    # Ordered means, scales and weight are nearly independent (well separated modes).
    "low_dim_gauss_mix-low_dim_gauss_mix": False,
    # README: simulated, strongly correlated coefficients with sd ~1e-3 next to
    # sigma's ~0.08; mass-matrix adaptation matters.
    "sblrc-blr": True,
}
FAST = ("kidiq-kidscore_momiq", "earnings-logearn_height", "arma-arma11")
# (warmup, kept draws) per chain; warmup None: sample()'s default.
SLOW_RUN, FAST_RUN, STAN_RUN = (None, 1000), (500, 500), (1000, 1000)
# sblrc's sigma moves with the log-density level, which NUTS explores slowly: its bulk
# ESS is ~0.2 per draw (700-900 of 4000; NumPyro's NUTS gets the same), and at that
# ESS its R-hat lands on either side of 1.01 by chance. Twice the draws fix that.
SLOW_RUN_FOR = {"sblrc-blr": (None, 2000)}


def _num_reference_params(name):
    with open(ROOT / name / "reference.json") as f:
        return len(json.load(f)["params"])


def _family_z(alpha=1e-3):
    """Phi^-1(1 - alpha / (2m)) over the m mean and sd checks of this file."""
    if ROOT is None:
        return math.nan
    runs = list(posteriordb.POSTERIORS) + 2 * list(FAST)
    m = sum(2 * _num_reference_params(name) for name in runs)
    return float(ndtri(1 - alpha / (2 * m)))


Z_CRIT = _family_z()


def _sd_tolerance(name, param, draws, z_crit):
    """15%, or for eight schools' tau the bound its kurtosis and ESS imply.

    tau's tail (kurtosis ~ 9) makes its sample sd noisy: the relative sd of s is
    about 0.5 * sqrt((kurtosis - 1) / ESS_sq), ESS_sq being the ESS of the centred
    squares. With the ESS these runs get (~1000-3000 for the squares) z times that
    can exceed 15%; the README asks to loosen it then rather than fail on noise.
    """
    if not (name == EIGHT_SCHOOLS and param == "tau"):
        return SD_TOLERANCE
    squares = (draws - draws.mean()) ** 2
    ess_squares = float(az.ess(squares, method="mean"))
    return max(SD_TOLERANCE, z_crit * 0.5 * math.sqrt((TAU_KURTOSIS - 1) / ess_squares))


def _run_and_check(name, num_warmup, num_draws, adaptation=None, dense_mass=None):
    post = posteriordb_joint.load_joint(name, ROOT)
    start = time.perf_counter()
    options = {} if adaptation is None else {"adaptation": adaptation}
    dense_mass = DENSE_MASS[name] if dense_mass is None else dense_mass
    result = sample(post.target, num_warmup=num_warmup, num_samples=num_draws,
                    num_chains=NUM_CHAINS, dense_mass=dense_mass, seed=SEED,
                    progress_bar=False, check_convergence=False, **options)
    quantities = post.quantities(jax.block_until_ready(result.samples))
    wall = time.perf_counter() - start

    failures, rows, loosened = [], [], ""
    for param, ref in post.reference.items():
        draws = np.asarray(quantities[param], np.float64)
        assert draws.shape == (NUM_CHAINS, num_draws), param
        ess = float(az.ess(draws, method="bulk"))
        rhat = float(az.rhat(draws))
        z = (draws.mean() - ref["mean"]) / (ref["sd"] * math.sqrt(1 / ess + 1 / REFERENCE_DRAWS))
        sd_error = draws.std(ddof=1) / ref["sd"] - 1
        sd_tol = _sd_tolerance(name, param, draws, Z_CRIT)
        if sd_tol != SD_TOLERANCE:
            loosened += f", {param} sd error {sd_error:+.1%} within {sd_tol:.0%}"
        rows.append((param, ess, rhat, z, sd_error))
        numbers = (f"{param}: mean {draws.mean():.6g} vs {ref['mean']:.6g} (z={z:+.2f}), "
                   f"sd {draws.std(ddof=1):.4g} vs {ref['sd']:.4g} ({sd_error:+.1%}), "
                   f"ESS {ess:.0f}, R-hat {rhat:.4f}")
        if abs(z) > Z_CRIT:
            failures.append(f"mean off by more than {Z_CRIT:.2f} MCSE: {numbers}")
        if ess < MIN_ESS_FOR_SD_CHECK:
            failures.append(f"ESS below {MIN_ESS_FOR_SD_CHECK}: {numbers}")
        elif abs(sd_error) > sd_tol:
            failures.append(f"sd off by more than {sd_tol:.0%}: {numbers}")
        if not rhat < 1.01:
            failures.append(f"R-hat >= 1.01: {numbers}")

    divergences = int(np.sum(result.stats["diverging"]))
    # The non-centred eight schools still meets the funnel's neck now and then (Stan
    # reports the odd divergence too); the others have none in Stan.
    allowed = int(0.01 * NUM_CHAINS * num_draws) if name == EIGHT_SCHOOLS else 0
    if divergences > allowed:
        failures.append(f"{divergences} divergences (allowed {allowed})")

    worst_z = max(rows, key=lambda r: abs(r[3]))
    worst_sd = max(rows, key=lambda r: abs(r[4]))
    print(f"\n{name} [{adaptation or 'default'} {num_warmup or 'default'}+{num_draws} x "
          f"{NUM_CHAINS}, "
          f"dense_mass={dense_mass}]: "
          f"wall {wall:.1f} s, min ESS {min(r[1] for r in rows):.0f}, "
          f"max R-hat {max(r[2] for r in rows):.4f}, divergences {divergences}, "
          f"worst |z| {abs(worst_z[3]):.2f} ({worst_z[0]}), "
          f"worst sd error {worst_sd[4]:+.1%} ({worst_sd[0]}){loosened}, z_crit {Z_CRIT:.2f}")
    assert not failures, f"{name}:\n  " + "\n  ".join(failures)


@pytest.mark.slow
@pytest.mark.parametrize("name", posteriordb.POSTERIORS)
def test_nuts_matches_the_reference_posterior(name, x64):
    _run_and_check(name, *SLOW_RUN_FOR.get(name, SLOW_RUN), dense_mass="auto")


@pytest.mark.parametrize("name", FAST)
def test_nuts_matches_the_reference_posterior_quick(name, x64):
    _run_and_check(name, *FAST_RUN, adaptation="stan")


# Stan's windows at their own default length, still a choice of sample().
@pytest.mark.slow
@pytest.mark.parametrize("name", FAST)
def test_stan_warmup_matches_the_reference_posterior(name, x64):
    _run_and_check(name, *STAN_RUN, adaptation="stan")


def test_family_wise_multiplier_is_derived_from_the_number_of_checks():
    # 46 reference parameters in the slow runs + 10 in each set of three (Stan's
    # warmup, quick and slow), 2 checks each.
    assert Z_CRIT == pytest.approx(float(ndtri(1 - 1e-3 / (2 * 132))), rel=1e-12)
    assert 4.3 < Z_CRIT < 4.6
