"""Parameter sets and scipy counterparts for the continuous families' accuracy tests.

Each case lists random parameters plus extreme ones (tiny and huge scales, large and
small concentrations), the scipy.stats frozen distribution with the same
parameterisation, and the methods to compare. `compare(case)` evaluates every method
of one family in a single jitted call (float64) and returns ``{method: (ours, scipy)}``.

Run ``python -m tests.distributions._scipy_cases`` for the table of worst relative
errors per method and family.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import numpy as np
import scipy.stats as st
from scipy import integrate

from probflow import distributions as dist

# Probabilities at which values (via scipy's ppf) and our icdf are compared.
PROBS = np.array([1e-4, 0.01, 0.1, 0.5, 0.9, 0.99, 1 - 1e-4])

# Our method name -> scipy's.
SCIPY_NAMES = {
    "log_prob": "logpdf",
    "cdf": "cdf",
    "log_cdf": "logcdf",
    "survival_function": "sf",
    "log_survival_function": "logsf",
    "icdf": "ppf",
    "mean": "mean",
    "variance": "var",
    "stddev": "std",
    "entropy": "entropy",
}
_VALUE_METHODS = ("log_prob", "cdf", "log_cdf", "survival_function", "log_survival_function")
ALL = tuple(SCIPY_NAMES)


class Case(NamedTuple):
    name: str
    family: type
    params: dict  # name -> float64 array of shape (n,)
    scipy: callable  # params -> frozen scipy distribution (broadcasting over n)
    methods: tuple = ALL
    values: callable = None  # frozen -> (k, n) values; default: ppf at PROBS
    # method -> params -> reference array, where scipy itself is not accurate enough.
    references: dict = {}


def _positive(rng, lo, hi, extremes, n=8):
    return np.concatenate([10 ** rng.uniform(np.log10(lo), np.log10(hi), n), extremes])


def _real(rng, extremes, n=8):
    return np.concatenate([rng.uniform(-5, 5, n), extremes])


def _truncated_normal_entropy(p):
    # scipy's truncnorm.entropy loses ~1e-7 relative far in a tail; integrate instead.
    out = []
    for loc, scale, low, high in zip(p["loc"], p["scale"], p["low"], p["high"]):
        a, b = (low - loc) / scale, (high - loc) / scale
        standard = st.truncnorm(a, b)
        integrand = lambda x: -standard.pdf(x) * standard.logpdf(x)  # noqa: B023
        lo, hi = max(a, -40.0), min(b, 40.0)
        value = integrate.quad(integrand, lo, hi, epsabs=0, epsrel=1e-13, limit=200)[0]
        out.append(value + np.log(scale))
    return np.array(out)


def _cases():
    rng = np.random.default_rng(20240601)
    scale = _positive(rng, 0.1, 10.0, [1e-6, 1e6])
    loc = _real(rng, [1e3, -1e3])
    log_scale = _positive(rng, 0.1, 3.0, [1e-4, 8.0])
    log_loc = _real(rng, [-20.0, 20.0])
    df = _positive(rng, 0.3, 30.0, [2e3, 1e6])
    conc = _positive(rng, 0.05, 20.0, [1e3, 1e5])
    conc_b = _positive(rng, 0.05, 20.0, [1e5, 0.1])
    rate = _positive(rng, 0.01, 100.0, [1e-6, 1e6])
    weibull_k = _positive(rng, 0.2, 20.0, [0.05, 1e3])
    pareto_alpha = _positive(rng, 0.2, 20.0, [0.05, 1e3])
    low = _real(rng, [0.0, -1e3])
    width = _positive(rng, 0.1, 10.0, [1e-6, 1e6])
    # Truncation points, standardised: both tails, one-sided, and deep in a tail.
    trunc_a = np.concatenate([rng.uniform(-3, 1, 8), [6.0, -np.inf]])
    trunc_b = np.concatenate([trunc_a[:8] + rng.uniform(0.2, 4, 8), [8.0, np.inf]])
    kappa = _positive(rng, 0.05, 50.0, [1e-4, 1e5])
    angle = rng.uniform(-3, 3, 10)
    truncation = dict(loc=loc, scale=scale, low=loc + scale * trunc_a, high=loc + scale * trunc_b)
    return [
        Case("Normal", dist.Normal, dict(loc=loc, scale=scale), lambda p: st.norm(p["loc"], p["scale"])),
        Case("LogNormal", dist.LogNormal, dict(loc=log_loc, scale=log_scale),
             lambda p: st.lognorm(p["scale"], scale=np.exp(p["loc"]))),
        Case("HalfNormal", dist.HalfNormal, dict(scale=scale), lambda p: st.halfnorm(scale=p["scale"])),
        Case("TruncatedNormal", dist.TruncatedNormal, truncation,
             # Standardise the bounds as stored (rounded), as our implementation sees them.
             lambda p: st.truncnorm((p["low"] - p["loc"]) / p["scale"],
                                    (p["high"] - p["loc"]) / p["scale"], p["loc"], p["scale"]),
             references={"entropy": _truncated_normal_entropy}),
        Case("Cauchy", dist.Cauchy, dict(loc=loc, scale=scale), lambda p: st.cauchy(p["loc"], p["scale"])),
        Case("HalfCauchy", dist.HalfCauchy, dict(scale=scale), lambda p: st.halfcauchy(scale=p["scale"])),
        Case("StudentT", dist.StudentT, dict(df=df, loc=loc, scale=scale),
             lambda p: st.t(p["df"], p["loc"], p["scale"]),
             tuple(m for m in ALL if m not in ("icdf", "mean"))),
        Case("Laplace", dist.Laplace, dict(loc=loc, scale=scale), lambda p: st.laplace(p["loc"], p["scale"])),
        Case("Logistic", dist.Logistic, dict(loc=loc, scale=scale), lambda p: st.logistic(p["loc"], p["scale"])),
        Case("Gumbel", dist.Gumbel, dict(loc=loc, scale=scale), lambda p: st.gumbel_r(p["loc"], p["scale"])),
        Case("Uniform", dist.Uniform, dict(low=low, high=low + width),
             lambda p: st.uniform(p["low"], p["high"] - p["low"])),
        Case("Exponential", dist.Exponential, dict(rate=rate), lambda p: st.expon(scale=1 / p["rate"])),
        Case("Gamma", dist.Gamma, dict(concentration=conc, rate=rate),
             lambda p: st.gamma(p["concentration"], scale=1 / p["rate"]),
             tuple(m for m in ALL if m != "icdf")),
        Case("InverseGamma", dist.InverseGamma, dict(concentration=conc, scale=scale),
             lambda p: st.invgamma(p["concentration"], scale=p["scale"]),
             tuple(m for m in ALL if m != "icdf")),
        Case("Chi2", dist.Chi2, dict(df=df), lambda p: st.chi2(p["df"]),
             tuple(m for m in ALL if m != "icdf")),
        Case("Beta", dist.Beta, dict(concentration1=conc, concentration0=conc_b),
             lambda p: st.beta(p["concentration1"], p["concentration0"]),
             tuple(m for m in ALL if m != "icdf")),
        Case("Weibull", dist.Weibull, dict(scale=scale, concentration=weibull_k),
             lambda p: st.weibull_min(p["concentration"], scale=p["scale"])),
        Case("Pareto", dist.Pareto, dict(scale=scale, alpha=pareto_alpha),
             lambda p: st.pareto(p["alpha"], scale=p["scale"])),
        Case("VonMises", dist.VonMises, dict(loc=angle, concentration=kappa),
             lambda p: st.vonmises(p["concentration"], p["loc"]),
             ("log_prob", "mean", "entropy"),
             values=lambda frozen: np.linspace(-3.1, 3.1, 7)[:, None] * np.ones(10)),
    ]


CASES = {case.name: case for case in _cases()}


@functools.cache
def _evaluator(name):
    case = CASES[name]

    @jax.jit
    def evaluate(params, values, probs):
        d = case.family(**params)
        out = {}
        for method in case.methods:
            if method in _VALUE_METHODS:
                out[method] = getattr(d, method)(values)
            elif method == "icdf":
                out[method] = d.icdf(probs)
            else:
                out[method] = getattr(d, method)()
        return out

    return evaluate


def compare(name):
    """Returns ``{method: (ours, scipy)}`` for family `name`; call with x64 enabled."""
    case = CASES[name]
    frozen = case.scipy(case.params)
    n = len(next(iter(case.params.values())))
    values = case.values(frozen) if case.values else frozen.ppf(PROBS[:, None] * np.ones(n))
    probs = PROBS[:, None] * np.ones(n)
    ours = _evaluator(name)(case.params, values, probs)
    out = {}
    for method, value in ours.items():
        scipy_method = getattr(frozen, SCIPY_NAMES[method])
        if method in case.references:
            ref = case.references[method](case.params)
        elif method in _VALUE_METHODS:
            ref = scipy_method(values)
        elif method == "icdf":
            ref = scipy_method(probs)
        else:
            ref = scipy_method()
        out[method] = (np.asarray(value), np.broadcast_to(ref, np.shape(value)))
    return out


def relative_error(ours, ref, *, atol=0.0):
    """Largest ``|ours - ref| / |ref|`` over entries where ``|ref| > atol``; equal infs/NaNs count 0."""
    ours, ref = np.asarray(ours, float), np.asarray(ref, float)
    same = (ours == ref) | (np.isnan(ours) & np.isnan(ref))
    mask = ~same & (np.abs(ref) > atol)
    if not mask.any():
        return 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(np.max(np.abs(ours[mask] - ref[mask]) / np.abs(ref[mask])))


def main():
    jax.config.update("jax_enable_x64", True)
    rows = {name: {m: relative_error(*pair) for m, pair in compare(name).items()} for name in CASES}
    methods = [m for m in ALL if any(m in r for r in rows.values())]
    short = {"survival_function": "sf", "log_survival_function": "log_sf"}
    print("| family | " + " | ".join(short.get(m, m) for m in methods) + " |")
    print("|---" * (len(methods) + 1) + "|")
    for name, row in rows.items():
        cells = [f"{row[m]:.1e}" if m in row else "-" for m in methods]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
