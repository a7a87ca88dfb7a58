"""Convergence diagnostics in NumPy: rank-normalised split R-hat and bulk ESS.

Vehtari, Gelman, Simpson, Carpenter & Buerkner (2021), "Rank-normalization, folding,
and localization". Used after every run to warn about problems without importing
ArviZ (slow to import) on the sampling path.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.special import ndtri
from scipy.stats import rankdata

__all__ = ["rhat", "ess_bulk", "ess", "convergence_warnings"]


def _split(x):
    """[chain, draw, ...] -> [2 * chain, draw // 2, ...] (drops a middle draw if odd)."""
    half = x.shape[1] // 2
    return np.concatenate([x[:, :half], x[:, x.shape[1] - half:]], axis=0)


def _rank_normalise(x):
    flat = x.reshape(-1, *x.shape[2:])
    ranks = rankdata(flat, axis=0, method="average")
    z = ndtri((ranks - 0.375) / (flat.shape[0] + 0.25))
    return z.reshape(x.shape)


def _plain_rhat(x):
    n = x.shape[1]
    within = x.var(axis=1, ddof=1).mean(axis=0)
    between = n * x.mean(axis=1).var(axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt(((n - 1) / n * within + between / n) / within)


def rhat(x):
    """Rank-normalised split R-hat (the max of bulk and folded), per trailing coordinate.

    Args:
        x: array ``[chain, draw, ...]``.

    Returns:
        Array of shape ``x.shape[2:]``.

    Example:
        >>> x = np.random.default_rng(0).normal(size=(4, 500))
        >>> bool(rhat(x) < 1.01)
        True
    """
    x = _split(np.asarray(x, np.float64))
    bulk = _plain_rhat(_rank_normalise(x))
    folded = _plain_rhat(_rank_normalise(np.abs(x - np.median(x, axis=(0, 1)))))
    return np.maximum(bulk, folded)


def ess(x):
    """Effective sample size of `x` (no rank normalisation), Geyer's monotone sequence.

    Args:
        x: array ``[chain, draw, ...]``.

    Returns:
        Array of shape ``x.shape[2:]``.

    Example:
        >>> x = np.random.default_rng(0).normal(size=(4, 1000))
        >>> 3000 < float(ess(x)) < 5000
        True
    """
    x = np.asarray(x, np.float64)
    num_chains, n = x.shape[:2]
    centred = x - x.mean(axis=1, keepdims=True)
    size = 1 << int(np.ceil(np.log2(2 * n)))
    spectrum = np.fft.rfft(centred, n=size, axis=1)
    autocov = np.fft.irfft(spectrum * np.conj(spectrum), n=size, axis=1)[:, :n] / n
    within = autocov[:, 0].mean(axis=0) * n / (n - 1.0)
    total_var = within * (n - 1.0) / n
    if num_chains > 1:
        total_var = total_var + x.mean(axis=1).var(axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = 1.0 - (within - autocov.mean(axis=0)) / total_var
    rho[0] = 1.0
    pairs = n // 2
    pair_sums = rho[0 : 2 * pairs : 2] + rho[1 : 2 * pairs : 2]
    # Truncate at the first non-positive pair; enforce a monotone decreasing sequence.
    keep = np.cumprod(pair_sums > 0, axis=0).astype(bool)
    monotone = np.minimum.accumulate(np.where(keep, pair_sums, np.inf), axis=0)
    tau = -1.0 + 2.0 * np.sum(np.where(keep, monotone, 0.0), axis=0)
    total = num_chains * n
    tau = np.maximum(tau, 1.0 / np.log10(total))
    return np.where(np.isfinite(tau), total / tau, np.nan)


def ess_bulk(x):
    """Bulk effective sample size (ESS of rank-normalised split chains).

    Example:
        >>> x = np.random.default_rng(0).normal(size=(4, 1000))
        >>> 3000 < float(ess_bulk(x)) < 5000
        True
    """
    return ess(_rank_normalise(_split(np.asarray(x, np.float64))))


def convergence_warnings(samples: dict, diverging, *, warn: bool = True) -> list[str]:
    """Checks divergences, R-hat > 1.01 and bulk ESS < 100 per chain; warns (like PyMC).

    Args:
        samples: dict name -> array ``[chain, draw, ...]``.
        diverging: boolean array ``[chain, draw]``.
        warn: emit `warnings.warn` for each problem.

    Returns:
        The list of messages.
    """
    messages = []
    diverging = np.asarray(diverging)
    num_chains, num_draws = diverging.shape
    count = int(diverging.sum())
    if count:
        messages.append(
            f"There were {count} divergences after warmup ({count / diverging.size:.1%} of "
            "draws). Increase target_accept or reparameterise the model."
        )
    bad_rhat, bad_ess = [], []
    for name, value in samples.items():
        value = np.asarray(value)
        if value.ndim < 2 or not np.issubdtype(value.dtype, np.floating) or num_draws < 4:
            continue
        flat = value.reshape(num_chains, num_draws, -1)
        if num_chains > 1 and np.nanmax(rhat(flat)) > 1.01:
            bad_rhat.append(name)
        if np.nanmin(ess_bulk(flat)) < 100 * num_chains:
            bad_ess.append(name)
    if bad_rhat:
        messages.append(f"R-hat > 1.01 for: {', '.join(bad_rhat)}. The chains have not mixed; "
                        "run longer or reparameterise.")
    if bad_ess:
        messages.append(f"Bulk ESS < 100 per chain for: {', '.join(bad_ess)}. Estimates may be "
                        "unreliable; draw more samples.")
    if warn:
        for message in messages:
            warnings.warn(message, UserWarning, stacklevel=3)
    return messages
