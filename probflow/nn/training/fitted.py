"""The fitted posterior of a network: one value of a small sum type.

Every fitter returns one of these and `Model.fit` assigns it once
(`model.fitted_posterior`); predict, evaluate, to_arviz, save and load read it.

* `PointPosterior` (``map``): predictions run the layers' posterior-mean weights.
* `VariationalPosterior` (``vi``): predictions draw weights from the layers'
  variational parameters.
* `DrawsPosterior` (``nuts``, ``hmc``, ``sgld``, ``psgld``, ``sghmc``, ``ensemble``):
  weight draws ``[chain, draw, ...]`` of the trainable layers (an ensemble is one
  chain whose draws are its members), the frozen layers' fixed weights, and the
  sampler statistics.

The first two hold no arrays: the layers own the variables they describe, so there is
one copy of every weight.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax

__all__ = [
    "DrawsPosterior",
    "FittedPosterior",
    "PointPosterior",
    "VariationalPosterior",
    "WeightDraws",
]


class WeightDraws(NamedTuple):
    """Posterior draws of a network's weights (a pytree: it goes through `jit`).

    Attributes:
        weights: ``{"layers": {layer name: {weight: [chain, draw, ...]}},
            "likelihood": [head params with leaves [chain, draw, ...]]}``; frozen layers
            are absent (see `DrawsPosterior.fixed`).
        layer_state: ``{layer name: state}`` with leaves ``[chain, draw, ...]``.
    """

    weights: Any
    layer_state: Any

    @property
    def shape(self) -> tuple:
        """``(num_chains, num_draws)``."""
        return tuple(jax.tree_util.tree_leaves(self.weights)[0].shape[:2])

    def flat(self) -> WeightDraws:
        """The draws with chains merged: leaves ``[chain * draw, ...]``."""
        return jax.tree_util.tree_map(lambda a: a.reshape((-1,) + a.shape[2:]), self)


@dataclasses.dataclass(frozen=True)
class FittedPosterior:
    """Base of the three kinds. `method` is the ``fit(method=...)`` that made it;
    `num_train` the number of training examples (the KL divisor of `evaluate`'s loss)."""

    method: str
    num_train: int

    @property
    def reads_layers(self) -> bool:
        """Whether predictions run the layers' own variables (vi, map)."""
        return not isinstance(self, DrawsPosterior)


@dataclasses.dataclass(frozen=True)
class PointPosterior(FittedPosterior):
    """A point estimate: the layers' posterior-mean weights (MAP).

    Example:
        >>> PointPosterior("map", 100).reads_layers
        True
    """


@dataclasses.dataclass(frozen=True)
class VariationalPosterior(FittedPosterior):
    """The layers' variational parameters (Bayes by backprop).

    Example:
        >>> VariationalPosterior("vi", 100).method
        'vi'
    """


@dataclasses.dataclass(frozen=True)
class DrawsPosterior(FittedPosterior):
    """Weight draws of the trainable layers, with the frozen layers' weights fixed.

    Attributes:
        draws: `WeightDraws`, leaves ``[chain, draw, ...]``.
        fixed: ``{layer name: weights}`` of the frozen layers (shared by every draw).
        stats: ``{name: [chain, draw] array}`` of sampler statistics, or None.

    Example:
        >>> import jax.numpy as jnp
        >>> draws = WeightDraws({"layers": {"d": {"w": jnp.zeros((2, 5, 3))}},
        ...                      "likelihood": []}, {"d": {}})
        >>> DrawsPosterior("nuts", 10, draws, {}, None).draws.shape
        (2, 5)
    """

    draws: WeightDraws = None
    fixed: dict = dataclasses.field(default_factory=dict)
    stats: dict | None = None
