"""Eight schools with NUTS from a script: centred vs non-centred, read in ArviZ.

The classic hierarchical model (Rubin 1981) written twice as a `JointDistributionNamed`:

* centred: ``theta ~ Normal(mu, tau)`` — its funnel between `tau` and `theta` makes
  NUTS diverge;
* non-centred: ``theta = mu + tau * theta_std`` with ``theta_std ~ Normal(0, 1)`` —
  the same posterior without the funnel.

Both are sampled with `probflow.inference.sample` (4 chains, Stan's warmup); the script
prints divergences, R-hat and bulk ESS and the ArviZ summary of the non-centred fit,
and writes a trace plot and a pair plot of (theta[0], log tau) coloured by divergences.

Run:  python examples/eight_schools_nuts.py [--quick]
"""

from __future__ import annotations

import arviz as az
import jax.numpy as jnp
import numpy as np
from _common import parse_args, save_figure

import probflow as pf
from probflow import distributions as dist

EFFECTS = jnp.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
STD_ERRORS = jnp.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])


def centred():
    return dist.JointDistributionNamed({
        "mu": dist.Normal(0.0, 5.0),
        "tau": dist.HalfCauchy(5.0),
        "theta": lambda mu, tau: dist.Normal(mu, tau).expand((8,)),
        "y": lambda theta: dist.Normal(theta, STD_ERRORS),
    })


def non_centred():
    return dist.JointDistributionNamed({
        "mu": dist.Normal(0.0, 5.0),
        "tau": dist.HalfCauchy(5.0),
        "theta_std": dist.Normal(0.0, 1.0).expand((8,)),
        "y": lambda mu, tau, theta_std: dist.Normal(mu + tau * theta_std, STD_ERRORS),
    })


def report(name, result):
    """One line per parameterisation: divergences, worst R-hat, smallest bulk ESS."""
    summary = az.summary(result.to_arviz(), var_names=["mu", "tau"], kind="diagnostics")
    print(f"{name:12s} divergences {int(np.sum(result.stats['diverging'])):4d}   "
          f"max R-hat {summary['r_hat'].max():.3f}   min bulk ESS {summary['ess_bulk'].min():7.1f}")


def main(argv=None):
    args = parse_args("Eight schools with NUTS: centred vs non-centred", argv)
    warmup, draws = (100, 100) if args.quick else (1000, 1000)
    settings = dict(num_warmup=warmup, num_samples=draws, num_chains=4, seed=1,
                    progress_bar=not args.quick, check_convergence=False)

    runs = {}
    for name, model in (("centred", centred()), ("non-centred", non_centred())):
        runs[name] = pf.inference.sample(model.condition(y=EFFECTS), **settings)
        report(name, runs[name])

    result = runs["non-centred"]
    idata = result.to_arviz()
    # theta itself, recovered from the non-centred draws.
    theta = result.samples["mu"][..., None] + result.samples["tau"][..., None] * \
        result.samples["theta_std"]
    idata.posterior["theta"] = (("chain", "draw", "school"), np.asarray(theta))
    print()
    print(az.summary(idata, var_names=["mu", "tau", "theta"], round_to=2).to_string())

    axes = az.plot_trace(idata, var_names=["mu", "tau"])
    save_figure(axes.ravel()[0].figure, args.output / "eight_schools_trace.png")

    centred_idata = runs["centred"].to_arviz()
    centred_idata.posterior["log_tau"] = np.log(centred_idata.posterior["tau"])
    axes = az.plot_pair(centred_idata, var_names=["theta", "log_tau"],
                        coords={"theta_dim_0": [0]}, divergences=True)
    figure = np.ravel(axes)[0].figure
    figure.suptitle("centred parameterisation: the funnel (divergent transitions circled)")
    save_figure(figure, args.output / "eight_schools_funnel.png")


if __name__ == "__main__":
    main()
