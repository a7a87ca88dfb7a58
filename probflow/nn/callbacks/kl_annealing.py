"""`KLAnnealing`: schedule the weight (beta) of the KL term of the VI loss."""

from __future__ import annotations

from probflow.nn.callbacks.base import Callback

__all__ = ["KLAnnealing"]


class KLAnnealing(Callback):
    """Sets ``model.kl_weight`` (beta) before each epoch; the loss is NLL + beta * KL / n.

    beta is an array of the train state, so annealing never recompiles.

    * ``"linear"``: from `start` to `end` over `warmup_epochs`, then `end`
      (Bowman et al. 2016).
    * ``"cyclical"``: cycles of `cycle_epochs`; within a cycle beta rises linearly from
      `start` to `end` over the first `ratio` of it, then stays at `end` (Fu et al. 2019).
    * a callable ``fn(epoch) -> beta``.

    Args:
        schedule: ``"linear"``, ``"cyclical"`` or a callable.
        warmup_epochs: epochs of the linear ramp.
        cycle_epochs: epochs per cycle (cyclical).
        ratio: rising fraction of a cycle, in (0, 1].
        start: beta at the start of a ramp.
        end: beta after the ramp.

    Example:
        >>> cb = KLAnnealing("linear", warmup_epochs=4)
        >>> [cb.beta(e) for e in range(6)]
        [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
        >>> cyc = KLAnnealing("cyclical", cycle_epochs=4, ratio=0.5)
        >>> [cyc.beta(e) for e in range(6)]
        [0.0, 0.5, 1.0, 1.0, 0.0, 0.5]
    """

    def __init__(self, schedule="linear", *, warmup_epochs=10, cycle_epochs=10, ratio=0.5,
                 start=0.0, end=1.0):
        super().__init__()
        if not (callable(schedule) or schedule in ("linear", "cyclical")):
            raise ValueError(f"`schedule` must be 'linear', 'cyclical' or a callable; got "
                             f"{schedule!r}")
        for name, value in (("warmup_epochs", warmup_epochs), ("cycle_epochs", cycle_epochs)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"`{name}` must be an int >= 1; got {value!r}")
        if not 0.0 < ratio <= 1.0:
            raise ValueError(f"`ratio` must be in (0, 1]; got {ratio}")
        self.schedule = schedule
        self.warmup_epochs = warmup_epochs
        self.cycle_epochs = cycle_epochs
        self.ratio = float(ratio)
        self.start = float(start)
        self.end = float(end)

    def beta(self, epoch: int) -> float:
        """The KL weight for 0-based `epoch`."""
        if callable(self.schedule):
            value = float(self.schedule(epoch))
        else:
            if self.schedule == "linear":
                progress = epoch / self.warmup_epochs
            else:
                progress = (epoch % self.cycle_epochs) / (self.cycle_epochs * self.ratio)
            value = self.start + (self.end - self.start) * min(1.0, progress)
        if not value >= 0:
            raise ValueError(f"KLAnnealing: beta must be >= 0; got {value} for epoch {epoch}")
        return value

    def on_epoch_begin(self, epoch, logs=None):
        self.model.kl_weight = self.beta(epoch)

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["kl_weight"] = self.model.kl_weight
