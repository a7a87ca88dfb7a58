"""Callbacks that `vi.fit` runs between compiled chunks of optimisation steps.

The protocol is one callable: ``callback(info: FitInfo) -> bool | None``. It runs on
the host after each chunk (never inside the compiled loop), sees Python/NumPy values,
and stops the fit by returning True or raising `StopIteration`. The reason the fit
stopped is kept in ``VIResult.stop_reason`` (a callback's ``reason`` attribute when it
has one, else its repr). These are separate from the nn trainer's Keras-style
callbacks, which have per-epoch hooks.

Example:
    >>> import numpy as np
    >>> info = FitInfo(step=200, num_steps=1000, losses=np.r_[np.full(100, 5.0), np.full(100, 5.0)],
    ...                params=None, nonfinite_step=None)
    >>> Convergence(tol=1e-3, window=100)(info)
    True
"""

from __future__ import annotations

import warnings
from typing import Any, NamedTuple

import numpy as np

__all__ = ["Convergence", "FitInfo", "TerminateOnNaN"]


class FitInfo(NamedTuple):
    """What a callback sees after each chunk.

    Attributes:
        step: number of optimisation steps done so far.
        num_steps: the number requested.
        losses: NumPy array ``[step]`` of the negative-ELBO estimates so far: a
            read-only view of the fit's loss record (no copy per chunk); keep it, or
            copy it to change it.
        params: the family's current parameters (last finite ones).
        nonfinite_step: index of the first step with a non-finite loss or gradient,
            or None. From that step on the parameters are frozen.

    Example:
        >>> import jax.numpy as jnp
        >>> from probflow.inference import vi
        >>> seen = []
        >>> _ = vi.fit(lambda x: -0.5 * x @ x, init=jnp.zeros(2), num_steps=50, num_chunks=2,
        ...            callbacks=[lambda info: seen.append(info.step)], progress_bar=False)
        >>> seen
        [25, 50]
    """

    step: int
    num_steps: int
    losses: np.ndarray
    params: Any
    nonfinite_step: int | None


class Convergence:
    """Stops when the mean loss changes by less than `tol` (relative) between windows.

    Compares the mean negative ELBO over the last `window` steps with the mean over
    the `window` steps before them: ``|m_new - m_old| / max(|m_old|, 1) < tol``.
    Window means, not single steps, because the loss is a noisy estimate.

    Args:
        tol: relative-change threshold.
        window: number of steps in each window; checked once ``2 * window`` steps ran.

    Example:
        >>> Convergence(tol=1e-4, window=500).reason
        'converged: relative change of the mean loss < 0.0001 over 500 steps'
    """

    def __init__(self, tol: float = 1e-3, window: int = 200):
        if not tol > 0:
            raise ValueError(f"`tol` must be > 0; got {tol!r}")
        if not (isinstance(window, int) and window >= 1):
            raise ValueError(f"`window` must be an int >= 1; got {window!r}")
        self.tol = tol
        self.window = window
        self.reason = f"converged: relative change of the mean loss < {tol} over {window} steps"

    def __call__(self, info: FitInfo) -> bool:
        losses = np.asarray(info.losses)
        if losses.shape[0] < 2 * self.window:
            return False
        new = losses[-self.window :].mean()
        old = losses[-2 * self.window : -self.window].mean()
        if not (np.isfinite(new) and np.isfinite(old)):
            return False
        return bool(abs(new - old) / max(abs(old), 1.0) < self.tol)

    def __repr__(self):
        return f"Convergence(tol={self.tol}, window={self.window})"


class TerminateOnNaN:
    """Stops the fit, with a warning, after a chunk that hit a non-finite loss.

    `vi.fit` always adds one when the user's callbacks do not include it. The
    parameters kept are the last finite ones: the compiled loop stops updating them at
    the first non-finite loss or gradient.

    Example:
        >>> TerminateOnNaN()(FitInfo(3, 10, np.array([1.0, 2.0, np.nan]), None, 2))
        True
    """

    reason = "non-finite loss"

    def __call__(self, info: FitInfo) -> bool:
        if info.nonfinite_step is None:
            return False
        warnings.warn(
            f"vi.fit: the loss or its gradient became non-finite at step "
            f"{info.nonfinite_step}; stopping and keeping the last finite parameters "
            "(try a smaller learning rate, a smaller init_scale, or init='map')",
            RuntimeWarning,
            stacklevel=3,
        )
        return True

    def __repr__(self):
        return "TerminateOnNaN()"
