"""Reference posteriors from posteriordb, written as probflow Targets.

The data and the gold-standard summaries (Stan NUTS, 10 chains x 1000 thinned draws)
are read from a posteriordb folder laid out as ``<posterior>/data.json`` and
``<posterior>/reference.json`` (in development: ``../shared/posteriordb`` beside the
repository; elsewhere set ``PROBFLOW_POSTERIORDB``). Nothing from posteriordb ships
inside probflow.

Each model is written from its description (Stan's constraints, flat improper priors
where the model states none, half-distributions as restrictions to (0, inf)), with the
Stan unconstraining transforms, so draws line up with Stan and NumPyro.

Example:
    >>> from probflow.datasets import posteriordb
    >>> root = posteriordb.find_root()
    >>> if root is not None:
    ...     post = posteriordb.load("kidiq-kidscore_momiq", root)
    ...     sorted(post.reference)
    ... else:
    ...     ['beta[1]', 'beta[2]', 'sigma']
    ['beta[1]', 'beta[2]', 'sigma']
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.stats import beta as beta_dist
from jax.scipy.stats import cauchy, norm

__all__ = ["POSTERIORS", "Posterior", "find_root", "load", "reference_quantities"]

POSTERIORS = (
    "eight_schools-eight_schools_noncentered",
    "arK-arK",
    "arma-arma11",
    "kidiq-kidscore_momiq",
    "mesquite-logmesquite",
    "low_dim_gauss_mix-low_dim_gauss_mix",
    "sblrc-blr",
    "earnings-logearn_height",
)


@dataclass(frozen=True)
class Posterior:
    """A reference posterior: its Target, data and gold-standard summaries.

    Attributes:
        name: posteriordb name, e.g. ``"kidiq-kidscore_momiq"``.
        target: a `probflow.inference.Target` over the model's parameters.
        data: the raw data (dict of numpy arrays / ints) as posteriordb ships it.
        reference: dict reference-parameter name -> {"mean", "sd", "q05", "q95"}.
        quantities: ``fn(samples) -> dict name -> array``: the reference-named
            quantities (1-based names, transformed parameters included) from a dict
            of constrained draws with any leading batch dims.
    """

    name: str
    target: object
    data: dict
    reference: dict
    quantities: Callable


def find_root(root: str | os.PathLike | None = None) -> Path | None:
    """Locates a posteriordb folder; None when there is none.

    Args:
        root: an explicit folder; else ``$PROBFLOW_POSTERIORDB``; else
            ``../shared/posteriordb`` beside the repository or the working directory.

    Returns:
        The folder, or None when no candidate exists.

    Example:
        >>> find_root("/nonexistent") is None
        True
    """
    if root is not None:
        path = Path(root)
        return path if path.is_dir() else None
    candidates = []
    if os.environ.get("PROBFLOW_POSTERIORDB"):
        candidates.append(Path(os.environ["PROBFLOW_POSTERIORDB"]))
    repo = Path(__file__).resolve().parents[2]
    candidates += [
        repo.parent / "shared" / "posteriordb",
        Path.cwd().parent / "shared" / "posteriordb",
        Path.cwd() / "shared" / "posteriordb",
    ]
    for path in candidates:
        if (path / POSTERIORS[0] / "reference.json").is_file():
            return path
    return None


def load(name: str, root: str | os.PathLike | None = None) -> Posterior:
    """Loads one reference posterior as a `Posterior`.

    Args:
        name: one of `POSTERIORS`.
        root: the posteriordb folder (see `find_root`).

    Returns:
        The `Posterior` with its Target built on the data.

    Raises:
        ValueError: for an unknown name.
        FileNotFoundError: when no posteriordb folder is found.
    """
    if name not in _MODELS:
        raise ValueError(f"unknown posterior `name` {name!r}; expected one of {list(POSTERIORS)}")
    folder = find_root(root)
    if folder is None:
        raise FileNotFoundError(
            "no posteriordb folder found: pass `root=` or set PROBFLOW_POSTERIORDB "
            "(expected ../shared/posteriordb beside the repository)"
        )
    with open(folder / name / "data.json") as f:
        data = json.load(f)
    with open(folder / name / "reference.json") as f:
        reference = json.load(f)["params"]
    build, extra = _MODELS[name]
    target = build({k: np.asarray(v) for k, v in data.items()})

    def quantities(samples):
        out = reference_quantities(samples)
        if extra is not None:
            out.update(extra(samples))
        return out

    return Posterior(name, target, data, reference, quantities)


def reference_quantities(samples: dict) -> dict:
    """Names draws the posteriordb way: ``beta[1]`` for ``samples["beta"][..., 0]``.

    Args:
        samples: dict name -> array ``[*batch, *param_shape]`` where scalars have no
            trailing dims and vectors one. The batch rank is taken as the smallest
            rank among the values (the scalar parameters').

    Returns:
        dict of 1-based names -> arrays of the batch shape.
    """
    batch_ndim = min(jnp.ndim(v) for v in samples.values())
    out = {}
    for key, value in samples.items():
        value = np.asarray(value)
        if value.ndim == batch_ndim:
            out[key] = value
        else:
            flat = value.reshape(value.shape[:batch_ndim] + (-1,))
            for i in range(flat.shape[-1]):
                out[f"{key}[{i + 1}]"] = flat[..., i]
    return out


# -- the models ------------------------------------------------------------------------


def _target(log_prob_fn, example, bijector_names, data, log_likelihood_fn=None, observed=None):
    from probflow import bijectors as bij
    from probflow.inference.target import Target

    makers = {"real": bij.Identity, "positive": bij.Exp, "ordered": bij.Ordered,
              "unit": bij.Sigmoid}
    bijectors = {k: makers[v]() for k, v in bijector_names.items()}
    data = jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.result_type(float)), data)
    return Target(log_prob_fn, example, bijectors=bijectors, data=data,
                  log_likelihood_fn=log_likelihood_fn, observed=observed)


def _zeros(*shape):
    return jnp.zeros(shape, jnp.result_type(float))


# eight schools, non-centred
def _eight_schools_loglik(v, d):
    theta = v["mu"] + v["tau"] * v["theta_trans"]
    return {"y": norm.logpdf(d["y"], theta, d["sigma"])}


def _eight_schools_lp(v, d):
    return (
        jnp.sum(norm.logpdf(v["theta_trans"])) + jnp.sum(_eight_schools_loglik(v, d)["y"])
        + norm.logpdf(v["mu"], 0.0, 5.0) + cauchy.logpdf(v["tau"], 0.0, 5.0)
    )


def _eight_schools(raw):
    data = {"y": raw["y"], "sigma": raw["sigma"]}
    example = {"theta_trans": _zeros(int(raw["J"])), "mu": _zeros(), "tau": _zeros()}
    return _target(_eight_schools_lp, example, {"theta_trans": "real", "mu": "real",
                   "tau": "positive"}, data, _eight_schools_loglik, {"y": raw["y"]})


def _eight_schools_theta(samples):
    theta = np.asarray(samples["mu"])[..., None] + np.asarray(samples["tau"])[..., None] * np.asarray(samples["theta_trans"])
    return {f"theta[{j + 1}]": theta[..., j] for j in range(theta.shape[-1])}


# AR(K)
def _ark_loglik(v, d):
    loc = v["alpha"] + d["lags"] @ v["beta"]
    return {"y": norm.logpdf(d["y_next"], loc, v["sigma"])}


def _ark_lp(v, d):
    return (
        norm.logpdf(v["alpha"], 0.0, 10.0) + jnp.sum(norm.logpdf(v["beta"], 0.0, 10.0))
        + cauchy.logpdf(v["sigma"], 0.0, 2.5) + jnp.sum(_ark_loglik(v, d)["y"])
    )


def _ark(raw):
    k, y = int(raw["K"]), np.asarray(raw["y"], float)
    lags = np.stack([y[k - j - 1 : len(y) - j - 1] for j in range(k)], axis=1)
    data = {"lags": lags, "y_next": y[k:]}
    example = {"alpha": _zeros(), "beta": _zeros(k), "sigma": _zeros()}
    return _target(_ark_lp, example, {"alpha": "real", "beta": "real", "sigma": "positive"},
                   data, _ark_loglik, {"y": y[k:]})


# ARMA(1, 1)
def _arma_residuals(v, y):
    def step(prev, y_pair):
        y_prev, err_prev = prev
        err = y_pair - (v["mu"] + v["phi"] * y_prev + v["theta"] * err_prev)
        return (y_pair, err), err

    _, errors = jax.lax.scan(step, (v["mu"], jnp.zeros_like(v["mu"])), y)
    return errors


def _arma_loglik(v, d):
    return {"y": norm.logpdf(_arma_residuals(v, d["y"]), 0.0, v["sigma"])}


def _arma_lp(v, d):
    return (
        norm.logpdf(v["mu"], 0.0, 10.0) + norm.logpdf(v["phi"], 0.0, 2.0)
        + norm.logpdf(v["theta"], 0.0, 2.0) + cauchy.logpdf(v["sigma"], 0.0, 2.5)
        + jnp.sum(_arma_loglik(v, d)["y"])
    )


def _arma(raw):
    example = {"mu": _zeros(), "phi": _zeros(), "theta": _zeros(), "sigma": _zeros()}
    return _target(_arma_lp, example, {"mu": "real", "phi": "real", "theta": "real",
                   "sigma": "positive"}, {"y": raw["y"]}, _arma_loglik, {"y": raw["y"]})


# Linear regressions: y ~ N(X beta, sigma) with a prior on (beta, sigma).
def _regression_loglik(v, d):
    return {"y": norm.logpdf(d["y"], d["X"] @ v["beta"], v["sigma"])}


def _flat_regression_lp(v, d):
    return jnp.sum(_regression_loglik(v, d)["y"])


def _kidiq_lp(v, d):
    return _flat_regression_lp(v, d) + cauchy.logpdf(v["sigma"], 0.0, 2.5)


def _sblrc_lp(v, d):
    return (
        _flat_regression_lp(v, d) + jnp.sum(norm.logpdf(v["beta"], 0.0, 10.0))
        + norm.logpdf(v["sigma"], 0.0, 10.0)
    )


def _regression(lp, X, y):
    X, y = np.asarray(X, float), np.asarray(y, float)
    example = {"beta": _zeros(X.shape[1]), "sigma": _zeros()}
    return _target(lp, example, {"beta": "real", "sigma": "positive"}, {"X": X, "y": y},
                   _regression_loglik, {"y": y})


def _kidiq(raw):
    X = np.stack([np.ones(len(raw["mom_iq"])), raw["mom_iq"]], axis=1)
    return _regression(_kidiq_lp, X, raw["kid_score"])


def _earnings(raw):
    X = np.stack([np.ones(len(raw["height"])), raw["height"]], axis=1)
    return _regression(_flat_regression_lp, X, np.log(np.asarray(raw["earn"], float)))


def _mesquite(raw):
    logs = [np.log(np.asarray(raw[k], float)) for k in
            ("diam1", "diam2", "canopy_height", "total_height", "density")]
    X = np.stack([np.ones(len(raw["weight"])), *logs, np.asarray(raw["group"], float)], axis=1)
    return _regression(_flat_regression_lp, X, np.log(np.asarray(raw["weight"], float)))


def _sblrc(raw):
    return _regression(_sblrc_lp, raw["X"], raw["y"])


# Two-component Gaussian mixture with ordered means.
def _gauss_mix_loglik(v, d):
    mu, sigma, theta = v["mu"], v["sigma"], v["theta"]
    lower = jnp.log(theta) + norm.logpdf(d["y"], mu[0], sigma[0])
    upper = jnp.log1p(-theta) + norm.logpdf(d["y"], mu[1], sigma[1])
    return {"y": jnp.logaddexp(lower, upper)}


def _gauss_mix_lp(v, d):
    return (
        jnp.sum(norm.logpdf(v["mu"], 0.0, 2.0)) + jnp.sum(norm.logpdf(v["sigma"], 0.0, 2.0))
        + beta_dist.logpdf(v["theta"], 5.0, 5.0) + jnp.sum(_gauss_mix_loglik(v, d)["y"])
    )


def _gauss_mix(raw):
    example = {"mu": _zeros(2), "sigma": _zeros(2), "theta": _zeros()}
    return _target(_gauss_mix_lp, example, {"mu": "ordered", "sigma": "positive",
                   "theta": "unit"}, {"y": raw["y"]}, _gauss_mix_loglik, {"y": raw["y"]})


_MODELS = {
    "eight_schools-eight_schools_noncentered": (_eight_schools, _eight_schools_theta),
    "arK-arK": (_ark, None),
    "arma-arma11": (_arma, None),
    "kidiq-kidscore_momiq": (_kidiq, None),
    "mesquite-logmesquite": (_mesquite, None),
    "low_dim_gauss_mix-low_dim_gauss_mix": (_gauss_mix, None),
    "sblrc-blr": (_sblrc, None),
    "earnings-logearn_height": (_earnings, None),
}
