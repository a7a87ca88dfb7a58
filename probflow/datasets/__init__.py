"""Datasets: posteriordb reference posteriors (read from disk) and synthetic problems.

Example:
    >>> from probflow import datasets
    >>> X, y, w = datasets.logistic_regression_data(100, 5)
"""

from probflow.datasets import posteriordb, posteriordb_joint
from probflow.datasets.synthetic import (
    correlated_gaussian_covariance,
    correlated_gaussian_logdensity,
    heteroscedastic_regression,
    logistic_regression_data,
    logistic_regression_logdensity,
    scaled_gaussian_logdensity,
)

__all__ = [name for name in dir() if not name.startswith("_")]
