"""The one bridge from probflow to ArviZ (MCMC, VI and nn all go through it).

Version switch in one place: ArviZ < 1.0 builds `InferenceData` with keyword groups
(``az.from_dict(posterior=..., sample_stats=...)``); ArviZ >= 1.0 (a `DataTree`)
takes one dict of groups (``az.from_dict({"posterior": ...})``).
"""

from __future__ import annotations

import inspect

import numpy as np

__all__ = ["to_inference_data"]


def _as_numpy(group):
    if group is None:
        return None
    if not isinstance(group, dict):
        raise TypeError(f"each group must be a dict name -> array; got {type(group).__name__}")
    return {str(name): np.asarray(value) for name, value in group.items()}


def to_inference_data(posterior, sample_stats=None, observed_data=None, log_likelihood=None,
                      posterior_predictive=None, coords=None, dims=None):
    """Builds an ArviZ `InferenceData` (or `DataTree` on ArviZ >= 1.0).

    Args:
        posterior: dict name -> array ``[chain, draw, ...]``.
        sample_stats: dict name -> array ``[chain, draw]`` (e.g. diverging, energy).
        observed_data: dict name -> array (no chain/draw dims).
        log_likelihood: dict name -> pointwise array ``[chain, draw, ...]``.
        posterior_predictive: dict name -> array ``[chain, draw, ...]``.
        coords: dict dim name -> coordinate values.
        dims: dict variable name -> list of dim names (beyond chain, draw).

    Returns:
        The ArviZ object holding the given groups.

    Example:
        >>> import numpy as np
        >>> idata = to_inference_data({"x": np.zeros((2, 10, 3))},
        ...                           sample_stats={"diverging": np.zeros((2, 10), bool)})
        >>> dict(idata.posterior.sizes)["draw"]
        10
    """
    import arviz as az

    groups = {
        "posterior": _as_numpy(posterior),
        "sample_stats": _as_numpy(sample_stats),
        "observed_data": _as_numpy(observed_data),
        "log_likelihood": _as_numpy(log_likelihood),
        "posterior_predictive": _as_numpy(posterior_predictive),
    }
    groups = {name: group for name, group in groups.items() if group}
    if "posterior" not in groups:
        raise ValueError("`posterior` must be a non-empty dict name -> [chain, draw, ...] array")
    coords = dict(coords) if coords else None
    dims = {k: list(v) for k, v in dims.items()} if dims else None
    if "posterior" in inspect.signature(az.from_dict).parameters:
        return az.from_dict(**groups, coords=coords, dims=dims)
    return az.from_dict(groups, coords=coords, dims=dims)
