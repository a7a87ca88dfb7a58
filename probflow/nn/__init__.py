"""Keras-style neural networks with Bayesian layers.

Example:
    >>> from probflow import nn
"""

# -- layers (deterministic and Bayesian) -----------------------------------------------

# -- models, training, likelihoods, callbacks, saving ----------------------------------

__all__ = [name for name in dir() if not name.startswith("_")]
