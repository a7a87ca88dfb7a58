"""Inference engines: MCMC (HMC, NUTS), variational inference, SG-MCMC."""

from probflow.inference.target import Target

__all__ = ["Target"]
