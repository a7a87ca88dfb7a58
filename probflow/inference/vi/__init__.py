"""Variational inference: `fit` a guide family to a `Target` by maximising the ELBO.

Example:
    >>> import jax.numpy as jnp
    >>> from probflow.inference import vi
    >>> result = vi.fit(lambda x: -0.5 * x @ x, init=jnp.zeros(2), num_steps=100,
    ...                 progress_bar=False)
    >>> result.losses.shape
    (100,)
"""

from probflow.inference.vi import callbacks, families
from probflow.inference.vi.callbacks import Convergence, FitInfo, TerminateOnNaN
from probflow.inference.vi.elbo import negative_elbo
from probflow.inference.vi.families import (
    Family,
    Flow,
    FullRank,
    GuideDistribution,
    LowRank,
    MeanField,
    resolve_family,
)
from probflow.inference.vi.fit import fit
from probflow.inference.vi.result import VIPosterior, VIResult

__all__ = [
    "Convergence",
    "Family",
    "FitInfo",
    "Flow",
    "FullRank",
    "GuideDistribution",
    "LowRank",
    "MeanField",
    "TerminateOnNaN",
    "VIPosterior",
    "VIResult",
    "callbacks",
    "families",
    "fit",
    "negative_elbo",
    "resolve_family",
]
