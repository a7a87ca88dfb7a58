"""Reference values for the further continuous families (issue 19), in float64.

Families with a scipy.stats counterpart are compared with it; the others
(HalfStudentT, Kumaraswamy, LogitNormal, SinhArcsinh) with the small reference classes
below: closed-form densities written with numpy/scipy.special, moments and entropies by
adaptive quadrature (`scipy.integrate.quad`), never by our formulas. Reuses `Case`,
`PROBS` and `relative_error` from `_scipy_cases`.

Run ``python -m tests.distributions._scipy_cases_more`` for the table of worst relative
errors per method and family.
"""

from __future__ import annotations

import functools

import jax
import numpy as np
import scipy.special as sp
import scipy.stats as st
from scipy import integrate

from probflow import distributions as dist
from tests.distributions._scipy_cases import ALL, PROBS, SCIPY_NAMES, Case, relative_error

_VALUE_METHODS = ("log_prob", "cdf", "log_cdf", "survival_function", "log_survival_function")


def _quad(fn, lo, hi):
    return integrate.quad(fn, lo, hi, epsabs=0.0, epsrel=1e-12, limit=500)[0]


class _Reference:
    """numpy/scipy reference of one batch of distributions (the frozen-scipy interface)."""

    def logcdf(self, x):
        return np.log(self.cdf(x))

    def sf(self, x):
        return 1.0 - self.cdf(x)

    def logsf(self, x):
        return np.log(self.sf(x))

    def std(self):
        return np.sqrt(self.var())


class _NormalTransform(_Reference):
    """X = g(Z), Z standard Normal, g increasing: moments and entropy by quadrature in z."""

    def _expect(self, fn):
        return np.array([
            _quad(lambda z: fn(i, z) * st.norm.pdf(z), -np.inf, np.inf) for i in range(self.n)  # noqa: B023
        ])

    def mean(self):
        return self._expect(lambda i, z: self.forward(i, z))

    def var(self):
        mean = self.mean()
        return self._expect(lambda i, z: (self.forward(i, z) - mean[i]) ** 2)

    def entropy(self):
        return 0.5 * np.log(2 * np.pi * np.e) + self._expect(self.log_derivative)

    def ppf(self, p):
        return self.forward(slice(None), st.norm.ppf(p))

    def cdf(self, x):
        return st.norm.cdf(self.z(x))

    def logcdf(self, x):
        return st.norm.logcdf(self.z(x))

    def sf(self, x):
        return st.norm.sf(self.z(x))

    def logsf(self, x):
        return st.norm.logsf(self.z(x))


class LogitNormalRef(_NormalTransform):
    def __init__(self, p):
        self.loc, self.scale, self.n = p["loc"], p["scale"], len(p["loc"])

    def forward(self, i, z):
        return sp.expit(self.loc[i] + self.scale[i] * z)

    def log_derivative(self, i, z):
        y = self.loc[i] + self.scale[i] * z
        return np.log(self.scale[i]) - np.logaddexp(0, -y) - np.logaddexp(0, y)

    def z(self, x):
        return (sp.logit(x) - self.loc) / self.scale

    def logpdf(self, x):
        return st.norm.logpdf(self.z(x)) - np.log(self.scale) - np.log(x) - np.log1p(-x)


class SinhArcsinhRef(_NormalTransform):
    def __init__(self, p):
        self.loc, self.scale, self.skew, self.tail = p["loc"], p["scale"], p["skewness"], p["tailweight"]
        self.n = len(self.loc)
        self.c = self.scale * 2 / np.sinh(np.arcsinh(2.0) * self.tail)

    def forward(self, i, z):
        return self.loc[i] + self.c[i] * np.sinh((np.arcsinh(z) + self.skew[i]) * self.tail[i])

    def log_derivative(self, i, z):
        angle = (np.arcsinh(z) + self.skew[i]) * self.tail[i]
        return np.log(self.c[i] * self.tail[i] * np.cosh(angle) / np.sqrt(1 + z * z))

    def z(self, x):
        return np.sinh(np.arcsinh((x - self.loc) / self.c) / self.tail - self.skew)

    def logpdf(self, x):
        z = self.z(x)
        dz_dx = np.sqrt(1 + z * z) / (self.tail * self.c * np.sqrt(1 + ((x - self.loc) / self.c) ** 2))
        return st.norm.logpdf(z) + np.log(dz_dx)


class HalfStudentTRef(_Reference):
    def __init__(self, p):
        self.df, self.scale, self.n = p["df"], p["scale"], len(p["df"])

    def logpdf(self, x):
        return np.log(2.0) + st.t.logpdf(x, self.df, 0.0, self.scale)

    def cdf(self, x):
        z = x / self.scale
        # Near 0 the incomplete beta keeps the digits that 1 - 2 sf would lose.
        small = sp.betainc(0.5, self.df / 2, z * z / (self.df + z * z))
        return np.where(z < 1, small, 1 - 2 * st.t.sf(z, self.df))

    def sf(self, x):
        return 2 * st.t.sf(x / self.scale, self.df)

    def ppf(self, p):
        return self.scale * st.t.isf((1 - p) / 2, self.df)

    def _moment(self, k, center=0.0):
        out = []
        for i, df in enumerate(self.df):
            if df <= k:
                out.append(np.inf)
                continue
            integrand = lambda z: 2 * (z - center[i] / self.scale[i]) ** k * st.t.pdf(z, df)  # noqa: B023
            out.append(self.scale[i] ** k * _quad(integrand, 0, np.inf))
        return np.array(out)

    def mean(self):
        return self._moment(1, np.zeros(self.n))

    def var(self):
        return self._moment(2, self.mean())

    def entropy(self):
        return st.t.entropy(self.df) + np.log(self.scale) - np.log(2.0)


class KumaraswamyRef(_Reference):
    def __init__(self, p):
        self.a, self.b, self.n = p["concentration1"], p["concentration0"], len(p["concentration1"])

    def _log_one_minus_power(self, x):
        # log(1 - x^a), as -expm1(a log x): 1 - x^a would cancel for x near 1.
        return np.log(-np.expm1(self.a * np.log(x)))

    def logpdf(self, x):
        a, b = self.a, self.b
        return np.log(a * b) + (a - 1) * np.log(x) + (b - 1) * self._log_one_minus_power(x)

    def cdf(self, x):
        return -np.expm1(self.b * self._log_one_minus_power(x))

    def sf(self, x):
        return np.exp(self.b * self._log_one_minus_power(x))

    def ppf(self, p):
        return (-np.expm1(np.log1p(-p) / self.b)) ** (1 / self.a)

    def _integrate(self, fn):
        return np.array([_quad(lambda x: fn(i, x), 0.0, 1.0) for i in range(self.n)])  # noqa: B023

    def _pdf(self, i, x):
        a, b = self.a[i], self.b[i]
        return a * b * x ** (a - 1) * (1 - x**a) ** (b - 1)

    def mean(self):
        return self._integrate(lambda i, x: x * self._pdf(i, x))

    def var(self):
        mean = self.mean()
        return self._integrate(lambda i, x: (x - mean[i]) ** 2 * self._pdf(i, x))

    def entropy(self):
        return self._integrate(lambda i, x: -sp.xlogy(self._pdf(i, x), self._pdf(i, x)))


def _positive(rng, lo, hi, extremes, n=8):
    return np.concatenate([10 ** rng.uniform(np.log10(lo), np.log10(hi), n), extremes])


def _real(rng, extremes, n=8):
    return np.concatenate([rng.uniform(-5, 5, n), extremes])


def _infinite_unless(finite, frozen, methods):
    """References that are inf where `finite(params)` fails: there scipy gives NaN or,
    for invweibull, Gamma of a negative number, while the moment of these positive
    heavy-tailed variables is +inf."""

    def reference(method, k):
        return lambda p: np.where(finite(p, k), getattr(frozen(p), method)(), np.inf)

    return {ours: reference(method, k) for ours, (method, k) in methods.items()}


_FIRST_TWO = {"mean": ("mean", 1), "variance": ("var", 2), "stddev": ("std", 2)}


def _frechet(p):
    return st.invweibull(p["concentration"], p["loc"], p["scale"])


def _fisk(p):
    return st.fisk(1 / p["scale"], scale=np.exp(p["loc"]))


def _gev_moments_by_quadrature(method):
    """GEV mean / variance by adaptive quadrature of scipy's density: scipy's own closed
    forms lose up to 1e-4 relative near concentration 0."""

    def moment(xi, loc, scale):
        if (method == "mean" and xi >= 1) or (method != "mean" and xi >= 0.5):
            return np.inf
        standard = st.genextreme(-xi)
        # The mass below z = -20 (and, for a finite upper end, above z = 1000) is below
        # 1e-300; clipping keeps quad from missing the bulk of a 1e5-wide support.
        lo, hi = standard.support()
        lo, hi = max(lo, -20.0), (min(hi, 1e3) if np.isfinite(hi) else hi)

        def integral(fn):
            return _quad(lambda z: fn(z) * standard.pdf(z), lo, 0.0) + _quad(lambda z: fn(z) * standard.pdf(z), 0.0, hi)

        mean = integral(lambda z: z)
        if method == "mean":
            return loc + scale * mean
        var = scale**2 * integral(lambda z: (z - mean) ** 2)
        return np.sqrt(var) if method == "stddev" else var

    def reference(p):
        return np.array([moment(*args) for args in zip(p["concentration"], p["loc"], p["scale"])])

    return reference


def _without(*methods):
    return tuple(m for m in ALL if m not in methods)


def _cases():
    rng = np.random.default_rng(20261206)
    loc = _real(rng, [1e3, -1e3])
    scale = _positive(rng, 0.1, 10.0, [1e-6, 1e6])
    asymmetry = _positive(rng, 0.1, 10.0, [1e-3, 1e3])
    heavy = _positive(rng, 0.3, 30.0, [2e3, 1e6])  # Student-t degrees of freedom
    moderate_scale = _positive(rng, 0.2, 5.0, [0.05, 20.0])
    rate = _positive(rng, 0.1, 10.0, [1e-3, 1e3])
    gompertz_c = _positive(rng, 0.05, 20.0, [1e-4, 1e3])
    frechet_c = _positive(rng, 0.5, 20.0, [0.3, 100.0])
    log_scale = _positive(rng, 0.05, 0.9, [1e-4, 2.0])
    ig_mean = _positive(rng, 0.1, 10.0, [1e-2, 1e2])
    ig_shape = _positive(rng, 0.1, 10.0, [1e-2, 1e3])
    power = _positive(rng, 0.3, 8.0, [0.1, 100.0])
    skewness = _real(rng, [20.0, -20.0]) / 2
    low = _real(rng, [0.0, -1e3])
    width = _positive(rng, 0.1, 10.0, [1e-6, 1e6])
    # Peaks anywhere, on the lower and on the upper edge.
    peak_fraction = np.concatenate([rng.uniform(0, 1, 8), [0.0, 1.0]])
    unit = _positive(rng, 0.3, 10.0, [0.5, 5.0])
    unit_b = _positive(rng, 0.3, 10.0, [3.0, 0.4])
    proportion = np.concatenate([rng.uniform(0.02, 0.98, 8), [1e-4, 1 - 1e-3]])
    precision = _positive(rng, 0.5, 100.0, [1e4, 2.0])
    nu = np.concatenate([rng.uniform(0, 10, 7), [0.0, 1e-3, 30.0]])
    return [
        Case("HalfStudentT", dist.HalfStudentT, dict(df=heavy, scale=scale), HalfStudentTRef),
        Case("SkewNormal", dist.SkewNormal, dict(loc=loc, scale=scale, skewness=skewness),
             lambda p: st.skewnorm(p["skewness"], p["loc"], p["scale"])),
        Case("AsymmetricLaplace", dist.AsymmetricLaplace, dict(loc=loc, scale=scale, asymmetry=asymmetry),
             lambda p: st.laplace_asymmetric(p["asymmetry"], p["loc"], p["scale"])),
        Case("Gompertz", dist.Gompertz, dict(concentration=gompertz_c, rate=rate),
             lambda p: st.gompertz(p["concentration"], scale=1 / p["rate"])),
        Case("Frechet", dist.Frechet, dict(concentration=frechet_c, loc=loc, scale=scale),
             _frechet,
             references=_infinite_unless(lambda p, k: p["concentration"] > k, _frechet, _FIRST_TWO)),
        Case("GeneralizedExtremeValue", dist.GeneralizedExtremeValue,
             dict(loc=loc, scale=scale, concentration=np.array([-0.8, -0.3, -1e-5, 0.0, 1e-6, 2e-3, 0.2, 0.45,
                                                                 0.7, 1.5])),
             lambda p: st.genextreme(-p["concentration"], p["loc"], p["scale"]),
             references={m: _gev_moments_by_quadrature(m) for m in ("mean", "variance", "stddev")}),
        Case("Rice", dist.Rice, dict(nu=nu, scale=moderate_scale),
             lambda p: st.rice(p["nu"] / p["scale"], scale=p["scale"]), _without("entropy")),
        Case("Chi", dist.Chi, dict(df=heavy), lambda p: st.chi(p["df"])),
        Case("LogLogistic", dist.LogLogistic, dict(loc=_real(rng, [-20.0, 20.0]), scale=log_scale),
             _fisk, references=_infinite_unless(lambda p, k: k * p["scale"] < 1, _fisk, _FIRST_TWO)),
        Case("InverseGaussian", dist.InverseGaussian, dict(loc=ig_mean, concentration=ig_shape),
             lambda p: st.invgauss(p["loc"] / p["concentration"], scale=p["concentration"])),
        Case("ExponentiallyModifiedGaussian", dist.ExponentiallyModifiedGaussian,
             dict(loc=loc, scale=moderate_scale, rate=rate),
             lambda p: st.exponnorm(1 / (p["scale"] * p["rate"]), p["loc"], p["scale"]),
             _without("entropy")),
        Case("Triangular", dist.Triangular, dict(low=low, high=low + width, peak=low + peak_fraction * width),
             lambda p: st.triang((p["peak"] - p["low"]) / (p["high"] - p["low"]), p["low"], p["high"] - p["low"])),
        Case("Moyal", dist.Moyal, dict(loc=loc, scale=scale), lambda p: st.moyal(p["loc"], p["scale"])),
        Case("Levy", dist.Levy, dict(loc=loc, scale=scale), lambda p: st.levy(p["loc"], p["scale"])),
        Case("GeneralizedNormal", dist.GeneralizedNormal, dict(loc=loc, scale=scale, power=power),
             lambda p: st.gennorm(p["power"], p["loc"], p["scale"])),
        Case("Kumaraswamy", dist.Kumaraswamy, dict(concentration1=unit, concentration0=unit_b), KumaraswamyRef),
        Case("BetaProportion", dist.BetaProportion, dict(mean=proportion, concentration=precision),
             lambda p: st.beta(p["mean"] * p["concentration"], (1 - p["mean"]) * p["concentration"]),
             ),
        Case("LogitNormal", dist.LogitNormal, dict(loc=_real(rng, [4.0, -4.0]) / 2, scale=moderate_scale[:10] / 2),
             LogitNormalRef),
        Case("SinhArcsinh", dist.SinhArcsinh,
             dict(loc=loc, scale=scale, skewness=skewness / 5, tailweight=_positive(rng, 0.5, 2.0, [0.3, 3.0])),
             SinhArcsinhRef),
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
    """Returns ``{method: (ours, reference)}`` for family `name`; call with x64 enabled."""
    case = CASES[name]
    frozen = case.scipy(case.params)
    n = len(next(iter(case.params.values())))
    probs = PROBS[:, None] * np.ones(n)
    values = case.values(frozen) if case.values else frozen.ppf(probs)
    ours = _evaluator(name)(case.params, values, probs)
    out = {}
    for method, value in ours.items():
        reference = getattr(frozen, SCIPY_NAMES[method])
        if method in case.references:
            ref = case.references[method](case.params)
        elif method in _VALUE_METHODS:
            ref = reference(values)
        elif method == "icdf":
            ref = reference(probs)
        else:
            ref = reference()
        out[method] = (np.asarray(value), np.broadcast_to(ref, np.shape(value)))
    return out


def main():
    jax.config.update("jax_enable_x64", True)
    rows = {name: {m: relative_error(*pair, atol=1e-10) for m, pair in compare(name).items()} for name in CASES}
    short = {"survival_function": "sf", "log_survival_function": "log_sf"}
    print("| family | " + " | ".join(short.get(m, m) for m in ALL) + " |")
    print("|---" * (len(ALL) + 1) + "|")
    for name, row in rows.items():
        cells = [f"{row[m]:.1e}" if m in row else "-" for m in ALL]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
