"""Synthetic problems with fixed seeds: the benchmark targets and toy regression data.

Each `*_logdensity` function returns a plain JAX log density of a flat vector (the same
function is handed to every library in `benchmarks/`) together with its dimension.

Example:
    >>> import jax.numpy as jnp
    >>> logdensity, dim = scaled_gaussian_logdensity(10)
    >>> float(logdensity(jnp.zeros(dim)))
    -0.0
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

__all__ = [
    "correlated_gaussian_covariance",
    "correlated_gaussian_logdensity",
    "heteroscedastic_regression",
    "logistic_regression_data",
    "logistic_regression_logdensity",
    "scaled_gaussian_logdensity",
]


def logistic_regression_data(num_examples: int = 5000, num_features: int = 25, *, seed: int = 0):
    """Synthetic logistic-regression data with standardised features.

    Args:
        num_examples: rows.
        num_features: columns (an intercept is added by the log density).
        seed: numpy seed.

    Returns:
        ``(X, y, true_weights)`` as float32/int32 numpy arrays; ``true_weights`` has the
        intercept first.

    Example:
        >>> X, y, w = logistic_regression_data(10, 3)
        >>> X.shape, y.shape, w.shape
        ((10, 3), (10,), (4,))
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((num_examples, num_features)).astype(np.float32)
    weights = rng.normal(0.0, 1.0, num_features + 1).astype(np.float32)
    logits = weights[0] + X @ weights[1:]
    y = (rng.uniform(size=num_examples) < 1.0 / (1.0 + np.exp(-logits))).astype(np.int32)
    return X, y, weights


def logistic_regression_logdensity(X, y, *, prior_scale: float = 1.0):
    """Log posterior of Bayesian logistic regression, intercept first, N(0, prior_scale).

    Args:
        X: features ``[n, d]``.
        y: 0/1 labels ``[n]``.
        prior_scale: sd of the independent Normal prior on every coefficient.

    Returns:
        ``(logdensity_fn, dim)`` with ``dim = d + 1``.

    Example:
        >>> import jax.numpy as jnp
        >>> X, y, _ = logistic_regression_data(20, 3)
        >>> logdensity, dim = logistic_regression_logdensity(X, y)
        >>> dim, logdensity(jnp.zeros(dim)).shape
        (4, ())
    """
    X = jnp.asarray(X)
    y = jnp.asarray(y, X.dtype)

    def logdensity(theta):
        logits = theta[0] + X @ theta[1:]
        loglik = jnp.sum(y * logits - jnp.logaddexp(0.0, logits))
        return loglik - 0.5 * jnp.sum((theta / prior_scale) ** 2)

    return logdensity, X.shape[1] + 1


def scaled_gaussian_logdensity(dim: int = 100, *, low: float = 0.01, high: float = 100.0):
    """Independent Gaussian with sds log-spaced from `low` to `high`.

    Returns:
        ``(logdensity_fn, dim)``; the true sds are ``np.geomspace(low, high, dim)``.

    Example:
        >>> import jax.numpy as jnp
        >>> logdensity, dim = scaled_gaussian_logdensity(3, low=1.0, high=4.0)
        >>> float(logdensity(jnp.array([1.0, 2.0, 4.0])))
        -1.5
    """
    scales = jnp.asarray(np.geomspace(low, high, dim), jnp.float32)

    def logdensity(x):
        return -0.5 * jnp.sum((x / scales) ** 2)

    return logdensity, dim


def correlated_gaussian_covariance(dim: int = 50, *, condition_number: float = 1e3, seed: int = 0):
    """A random covariance with log-spaced eigenvalues (condition number as given).

    Example:
        >>> import numpy as np
        >>> cov = correlated_gaussian_covariance(4, condition_number=100.0)
        >>> round(float(np.linalg.cond(cov)))
        100
    """
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    eigenvalues = np.geomspace(1.0, condition_number, dim)
    return (q * eigenvalues) @ q.T


def correlated_gaussian_logdensity(dim: int = 50, *, condition_number: float = 1e3, seed: int = 0):
    """Zero-mean Gaussian with a dense covariance of the given condition number.

    Returns:
        ``(logdensity_fn, dim)``; the covariance is
        ``correlated_gaussian_covariance(dim, condition_number=..., seed=...)``.

    Example:
        >>> import jax.numpy as jnp
        >>> logdensity, dim = correlated_gaussian_logdensity(5)
        >>> abs(float(logdensity(jnp.zeros(dim))))
        0.0
    """
    covariance = correlated_gaussian_covariance(dim, condition_number=condition_number, seed=seed)
    precision = jnp.asarray(np.linalg.inv(covariance), jnp.float32)

    def logdensity(x):
        return -0.5 * x @ precision @ x

    return logdensity, dim


def heteroscedastic_regression(num_examples: int = 200, *, seed: int = 0, low: float = -3.0,
                               high: float = 3.0):
    """1-D regression with noise that grows with |x|: y = sin(x) + (0.1 + 0.2|x|) eps.

    Returns:
        ``(x [n, 1], y [n, 1], noise_sd [n, 1])`` float32 numpy arrays.

    Example:
        >>> x, y, sd = heteroscedastic_regression(5)
        >>> x.shape, y.shape
        ((5, 1), (5, 1))
    """
    rng = np.random.default_rng(seed)
    x = rng.uniform(low, high, (num_examples, 1)).astype(np.float32)
    noise_sd = (0.1 + 0.2 * np.abs(x)).astype(np.float32)
    y = (np.sin(x) + noise_sd * rng.standard_normal(x.shape)).astype(np.float32)
    return x, y, noise_sd
