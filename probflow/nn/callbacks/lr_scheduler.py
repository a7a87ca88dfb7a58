"""`LearningRateScheduler`: set the learning rate at the start of every epoch."""

from __future__ import annotations

import inspect

from probflow.nn.callbacks.base import Callback

__all__ = ["LearningRateScheduler"]


def _num_positional(fn) -> int:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 1
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params):
        return 2
    return sum(p.kind in kinds for p in params)


class LearningRateScheduler(Callback):
    """Sets ``model.learning_rate = schedule(...)`` before each epoch.

    The learning rate is an array inside the optimizer state (`optax.inject_hyperparams`),
    so changing it never recompiles the training program. The model must be compiled
    with a named optimizer (or one wrapped in `inject_hyperparams`).

    Args:
        schedule: ``fn(epoch, lr) -> new lr`` (Keras) or ``fn(epoch) -> lr``, e.g. an
            optax schedule, evaluated at the 0-based epoch index. For a rate that changes
            every step, give the optax schedule to ``compile(learning_rate=...)`` instead.
        verbose: 1 prints the rate each epoch.

    Example:
        >>> import optax
        >>> cb = LearningRateScheduler(optax.exponential_decay(0.1, 1, 0.5))
        >>> round(cb.rate(2, 0.1), 6)
        0.025
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"`schedule` must be callable; got {type(schedule).__name__}")
        self.schedule = schedule
        self.verbose = verbose
        self._with_lr = _num_positional(schedule) >= 2

    def rate(self, epoch: int, current: float) -> float:
        """The schedule's learning rate for `epoch` given the `current` one."""
        value = self.schedule(epoch, current) if self._with_lr else self.schedule(epoch)
        value = float(value)
        if not value >= 0:
            raise ValueError(f"LearningRateScheduler: the schedule returned {value} for epoch "
                             f"{epoch}; a learning rate must be >= 0")
        return value

    def on_epoch_begin(self, epoch, logs=None):
        current = self.model.learning_rate
        if current is None:
            raise ValueError(
                "LearningRateScheduler needs the learning rate in the optimizer state: compile "
                "with a named optimizer or wrap yours with optax.inject_hyperparams"
            )
        self.model.learning_rate = self.rate(epoch, current)
        if self.verbose:
            print(f"Epoch {epoch + 1}: learning rate {self.model.learning_rate:.6g}")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = self.model.learning_rate
