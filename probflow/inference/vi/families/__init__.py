"""Variational families (guides) over the flat unconstrained parameter vector.

Example:
    >>> from probflow.inference.vi.families import resolve_family
    >>> resolve_family("fullrank")
    FullRank(scale_transform='softplus', init_scale=0.1)
"""

from probflow.inference.vi.families.base import Family, GuideDistribution
from probflow.inference.vi.families.flow import Flow
from probflow.inference.vi.families.fullrank import FullRank
from probflow.inference.vi.families.lowrank import LowRank
from probflow.inference.vi.families.meanfield import MeanField

_BY_NAME = {"meanfield": MeanField, "fullrank": FullRank, "lowrank": LowRank, "flow": Flow}


def resolve_family(family) -> Family:
    """Returns a `Family` from a name (``"meanfield"``, ...) or a `Family` instance.

    Args:
        family: ``"meanfield" | "fullrank" | "lowrank" | "flow"`` or a `Family`.

    Returns:
        A `Family` instance (defaults for a name).

    Example:
        >>> type(resolve_family("fullrank")).__name__
        'FullRank'
    """
    if isinstance(family, Family):
        return family
    if isinstance(family, str):
        if family in _BY_NAME:
            return _BY_NAME[family]()
    raise ValueError(
        "`family` must be one of 'meanfield', 'fullrank', 'lowrank', 'flow' or a "
        f"Family instance; got {family!r}"
    )


__all__ = ["Family", "Flow", "FullRank", "GuideDistribution", "LowRank", "MeanField", "resolve_family"]
