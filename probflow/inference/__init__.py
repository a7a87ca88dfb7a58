"""Inference engines: MCMC (HMC, NUTS), variational inference, SG-MCMC.

Example:
    >>> from probflow.inference import Target
"""

from probflow.inference.target import Target

# -- MCMC (sample, MCMCResult, kernels) -------------------------------------------------
from probflow.inference import mcmc
from probflow.inference.mcmc import MCMCResult, sample

# -- variational inference -------------------------------------------------------------
from probflow.inference import vi

# -- SG-MCMC ---------------------------------------------------------------------------
from probflow.inference import sgmcmc

__all__ = [name for name in dir() if not name.startswith("_")]
