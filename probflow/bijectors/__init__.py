"""Bijectors: invertible maps with log-Jacobians, and `for_constraint`."""

from probflow.bijectors.bijector import Bijector

__all__ = ["Bijector"]
