"""probflow: probabilistic programming and Bayesian deep learning on JAX.

Example:
    >>> import probflow as pf
    >>> d = pf.dist.Normal(0.0, 1.0)
"""

from probflow import bijectors, datasets, distribute, distributions, inference, nn
from probflow._version import __version__

dist = distributions

__all__ = [
    "__version__", "bijectors", "datasets", "dist", "distribute", "distributions", "inference",
    "nn",
]
