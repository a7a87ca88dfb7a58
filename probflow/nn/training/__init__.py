"""Fitting machinery behind `Model.fit`: train state, objectives, compiled programs,
the callback-driven epoch loop and the method dispatcher.

Example:
    >>> from probflow.nn.training import TrainState, get_fitter
    >>> type(get_fitter("vi")).__name__
    'GradientFitter'
"""

from probflow.nn.training.fitted import (
    DrawsPosterior,
    FittedPosterior,
    PointPosterior,
    VariationalPosterior,
    WeightDraws,
)
from probflow.nn.training.fitters import GradientFitter, get_fitter, register_fitter
from probflow.nn.training.objectives import MAP, VI, Objective
from probflow.nn.training.state import (
    TrainState,
    get_learning_rate,
    make_optimizer,
    set_learning_rate,
)

__all__ = [name for name in dir() if not name.startswith("_")]
