"""The posteriordb reference models written as `JointDistributionNamed`s.

`probflow.datasets.posteriordb` writes each model by hand as a log density; here the
same eight models are written the way a user would, as a joint distribution of named
nodes, and conditioned on the data. The two writings check each other (their log
densities must agree up to a constant), and the joint versions are what the MCMC
reference tests sample.

Covariates and, for the time-series models, the observed past values are data the
nodes close over: arK regresses on lagged observations and ARMA(1,1) computes its
conditional mean from the observed series by a `lax.scan`, exactly as the Stan
models condition on them. A draw of ``y`` from those joints is therefore a one-step-
ahead predictive draw, not a fresh series. Flat improper priors (kidiq's beta,
mesquite, earnings) are `ImproperUniform` nodes.

Example:
    >>> from probflow.datasets import posteriordb, posteriordb_joint
    >>> if posteriordb.find_root() is not None:
    ...     post = posteriordb_joint.load_joint("kidiq-kidscore_momiq")
    ...     sorted(post.target.example)
    ... else:
    ...     ['beta', 'sigma']
    ['beta', 'sigma']
"""

from __future__ import annotations

import dataclasses
import os

import jax
import jax.numpy as jnp
import numpy as np

from probflow import distributions as dist
from probflow.datasets import posteriordb
from probflow.distributions import constraints
from probflow.distributions._util import promote_params

__all__ = ["joint_model", "load_joint"]


def joint_model(name: str, data: dict):
    """Builds one posteriordb model as a `JointDistributionNamed` plus its observations.

    Args:
        name: one of `posteriordb.POSTERIORS`.
        data: the model's data as posteriordb ships it (``Posterior.data``): a dict of
            Stan data names -> numbers, lists or arrays.

    Returns:
        ``(joint, observed)``: the `JointDistributionNamed` and the dict of observed
        node values to pass to ``joint.condition(**observed)``. The latent node names
        match the hand-written targets' parameter names.

    Raises:
        ValueError: for an unknown `name`.

    Example:
        >>> import numpy as np
        >>> data = {"N": 3, "earn": [2e4, 3e4, 5e4], "height": [60, 66, 72]}
        >>> jd, observed = joint_model("earnings-logearn_height", data)
        >>> jd.names, sorted(observed)
        (('beta', 'sigma', 'y'), ['y'])
    """
    if name not in _BUILDERS:
        raise ValueError(
            f"unknown posterior `name` {name!r}; expected one of {list(posteriordb.POSTERIORS)}"
        )
    return _BUILDERS[name](data)


def load_joint(name: str, root: str | os.PathLike | None = None) -> posteriordb.Posterior:
    """Loads a reference posterior with the joint-distribution writing of its model.

    Args:
        name: one of `posteriordb.POSTERIORS`.
        root: the posteriordb folder (see `posteriordb.find_root`).

    Returns:
        A `posteriordb.Posterior` whose target is ``joint.condition(**observed)``; data,
        reference and `quantities` (reference names, eight schools' transformed
        ``theta[j]`` included) are those of `posteriordb.load`, since the latent
        node names match.

    Raises:
        ValueError: for an unknown name.
        FileNotFoundError: when no posteriordb folder is found.
    """
    post = posteriordb.load(name, root)
    joint, observed = joint_model(name, post.data)
    return dataclasses.replace(post, target=joint.condition(**observed))


# -- helpers ----------------------------------------------------------------------------


def _array(values):
    """Data as a float array of the default float dtype (float64 under x64).

    Prior scales go through it too: distributions keep Python-scalar parameters in
    float32 even under x64, and the latent nodes' dtype is their prior's.
    """
    return jnp.asarray(np.asarray(values, float), jnp.result_type(float))


def _design(*columns):
    """A design matrix with an intercept column followed by `columns`."""
    columns = [np.asarray(c, float) for c in columns]
    return _array(np.stack([np.ones_like(columns[0]), *columns], axis=1))


class _OrderedNormal(dist.Distribution):
    """IID Normal(loc, scale) coordinates restricted to increasing order, unnormalised.

    The log density is the sum of the Normal log densities on the ordered set (the
    restriction is not renormalised, as in Stan's ``ordered`` with a per-element
    prior; the missing log(n!) is a constant). Draws sort IID Normal draws, which has
    exactly this density up to that constant.
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.ordered_vector

    def __init__(self, loc, scale, size):
        self.loc, self.scale = promote_params(loc, scale)
        self.size = int(size)
        self.validate_args = False

    @property
    def event_shape(self):
        return (self.size,)

    def _sample(self, key, sample_shape):
        shape = sample_shape + self.batch_shape + self.event_shape
        eps = jax.random.normal(key, shape, self.dtype)
        return jnp.sort(self.loc[..., None] + self.scale[..., None] * eps, axis=-1)

    def _log_prob(self, value):
        normal = dist.Normal(self.loc[..., None], self.scale[..., None])
        return jnp.sum(normal.log_prob(value), axis=-1)


def _flat(support, *event_shape):
    return dist.ImproperUniform(support, event_shape=event_shape)


# -- the models --------------------------------------------------------------------------


def _eight_schools(data):
    y, sigma = _array(data["y"]), _array(data["sigma"])
    joint = dist.JointDistributionNamed({
        "theta_trans": dist.Normal(0.0, _array(1.0)).expand((int(data["J"]),)),
        "mu": dist.Normal(0.0, _array(5.0)),
        "tau": dist.HalfCauchy(_array(5.0)),
        "y": lambda theta_trans, mu, tau: dist.Normal(mu + tau * theta_trans, sigma),
    })
    return joint, {"y": y}


def _ark(data):
    order, series = int(data["K"]), np.asarray(data["y"], float)
    # Column k holds y_{t-k-1} for t = K+1..T: the regressors of beta[k+1].
    lags = _array(np.stack([series[order - k - 1 : len(series) - k - 1] for k in range(order)], 1))
    joint = dist.JointDistributionNamed({
        "alpha": dist.Normal(0.0, _array(10.0)),
        "beta": dist.Normal(0.0, _array(10.0)).expand((order,)),
        "sigma": dist.HalfCauchy(_array(2.5)),
        "y": lambda alpha, beta, sigma: dist.Normal(alpha + lags @ beta, sigma),
    })
    return joint, {"y": _array(series[order:])}


def _arma_conditional_mean(mu, phi, theta, y):
    """E[y_t | y_<t] of ARMA(1,1) given the observed series (y_0 = mu, e_0 = 0)."""

    def step(carry, y_t):
        y_prev, error_prev = carry
        mean_t = mu + phi * y_prev + theta * error_prev
        return (y_t, y_t - mean_t), mean_t

    _, means = jax.lax.scan(step, (mu, jnp.zeros_like(mu)), y)
    return means


def _arma(data):
    y = _array(data["y"])
    joint = dist.JointDistributionNamed({
        "mu": dist.Normal(0.0, _array(10.0)),
        "phi": dist.Normal(0.0, _array(2.0)),
        "theta": dist.Normal(0.0, _array(2.0)),
        "sigma": dist.HalfCauchy(_array(2.5)),
        "y": lambda mu, phi, theta, sigma: dist.Normal(
            _arma_conditional_mean(mu, phi, theta, y), sigma
        ),
    })
    return joint, {"y": y}


def _linear_regression(design, response, beta_prior, sigma_prior):
    joint = dist.JointDistributionNamed({
        "beta": beta_prior,
        "sigma": sigma_prior,
        "y": lambda beta, sigma: dist.Normal(design @ beta, sigma),
    })
    return joint, {"y": _array(response)}


def _kidiq(data):
    return _linear_regression(
        _design(data["mom_iq"]), data["kid_score"],
        _flat(constraints.real, 2), dist.HalfCauchy(_array(2.5)),
    )


def _earnings(data):
    return _linear_regression(
        _design(data["height"]), np.log(np.asarray(data["earn"], float)),
        _flat(constraints.real, 2), _flat(constraints.positive),
    )


def _mesquite(data):
    logged = [np.log(np.asarray(data[k], float)) for k in
              ("diam1", "diam2", "canopy_height", "total_height", "density")]
    design = _design(*logged, data["group"])
    return _linear_regression(
        design, np.log(np.asarray(data["weight"], float)),
        _flat(constraints.real, design.shape[1]), _flat(constraints.positive),
    )


def _sblrc(data):
    design = _array(data["X"])
    return _linear_regression(
        design, data["y"],
        dist.Normal(0.0, _array(10.0)).expand((design.shape[1],)), dist.HalfNormal(_array(10.0)),
    )


def _gauss_mix(data):
    y = _array(data["y"])

    def likelihood(mu, sigma, theta):
        weights = dist.Categorical(logits=jnp.stack([jnp.log(theta), jnp.log1p(-theta)]))
        return dist.MixtureSameFamily(weights, dist.Normal(mu, sigma)).expand(y.shape)

    joint = dist.JointDistributionNamed({
        "mu": _OrderedNormal(0.0, _array(2.0), 2),
        "sigma": dist.HalfNormal(_array(2.0)).expand((2,)),
        "theta": dist.Beta(_array(5.0), _array(5.0)),
        "y": likelihood,
    })
    return joint, {"y": y}


_BUILDERS = {
    "eight_schools-eight_schools_noncentered": _eight_schools,
    "arK-arK": _ark,
    "arma-arma11": _arma,
    "kidiq-kidscore_momiq": _kidiq,
    "mesquite-logmesquite": _mesquite,
    "low_dim_gauss_mix-low_dim_gauss_mix": _gauss_mix,
    "sblrc-blr": _sblrc,
    "earnings-logearn_height": _earnings,
}
