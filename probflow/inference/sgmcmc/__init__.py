"""Stochastic-gradient MCMC for big data: SGLD, pSGLD, SGHMC (plain or scale-adapted), cyclical schedules.

Example:
    >>> from probflow.inference import sgmcmc
    >>> kernel = sgmcmc.sghmc(friction=0.1)
"""

from probflow.inference.sgmcmc import schedules
from probflow.inference.sgmcmc.gradients import minibatch_logdensity
from probflow.inference.sgmcmc.kernels import (
    AdaptiveSGHMCState,
    PSGLDState,
    SGHMCState,
    SGLDState,
    SGMCMCKernel,
    adaptive_sghmc,
    psgld,
    sghmc,
    sgld,
)
from probflow.inference.sgmcmc.sample import SGMCMCResult, sample

__all__ = [name for name in dir() if not name.startswith("_")]
