"""The explicit train state and the optimizer plumbing around it.

Everything training changes lives in one `TrainState` pytree (params, layer state,
optimizer state, RNG key, epoch and step counters, KL weight), so a checkpoint is
`train_state` and resuming is assigning it back: nothing hides in Python objects.

The learning rate lives inside the optimizer state: named optimizers (and a float or
schedule learning rate) are built with `optax.inject_hyperparams`, which stores
``hyperparams["learning_rate"]`` in the state as an array. `set_learning_rate`
replaces that array between epochs, so a scheduler changes it without recompiling
(a schedule given by the user is re-evaluated from the step count each update, so
`set_learning_rate` refuses to change it rather than be silently overridden). The KL
weight (beta) is likewise an array in the state.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

__all__ = [
    "TrainState",
    "get_learning_rate",
    "make_optimizer",
    "merge_trainable",
    "set_learning_rate",
    "split_trainable",
]


class TrainState(NamedTuple):
    """The complete state of a training run.

    Attributes:
        params: ``{"layers": {layer name: params}, "likelihood": [head params, ...]}``.
        layer_state: ``{layer name: state}`` (non-trainable, e.g. batch-norm stats).
        opt_state: the optax state (holds the learning rate when injected).
        key: the typed `jax.random` key the next step splits.
        epoch: number of completed epochs (int32 array).
        step: number of completed optimizer steps (int32 array).
        kl_weight: multiplier (beta) of the KL term in the VI loss (float array).
    """

    params: Any
    layer_state: Any
    opt_state: Any
    key: Any
    epoch: Any
    step: Any
    kl_weight: Any


def make_optimizer(optimizer="adam", learning_rate=None, **keywords) -> optax.GradientTransformation:
    """Resolves `Model.compile`'s optimizer into an optax transformation.

    A thin delegate to `probflow.nn.optimizers.get_optimizer`, which documents the
    names and the Keras keywords (``clipnorm``, ``weight_decay``, ``momentum``, ...).

    Args:
        optimizer: a name (``"adam"``, ``"sgd"``, ...), a float (Adam with that learning
            rate), an optax schedule (Adam following it) or an optax
            `GradientTransformation` (used as is).
        learning_rate: float or schedule for a named optimizer; None for its default.
        **keywords: Keras optimizer keywords, passed on.

    Returns:
        An optax transformation; for names, floats and schedules it is wrapped with
        `optax.inject_hyperparams` so the learning rate sits in the optimizer state.

    Example:
        >>> import jax.numpy as jnp
        >>> opt = make_optimizer("sgd", 0.1)
        >>> float(get_learning_rate(opt.init({"w": jnp.zeros(2)})))
        0.10000000149011612
    """
    from probflow.nn.optimizers import get_optimizer

    return get_optimizer(optimizer, learning_rate, **keywords)


def _is_injected(node) -> bool:
    # optax has several injected-state classes; all are NamedTuples with `hyperparams`.
    return hasattr(node, "_fields") and isinstance(getattr(node, "hyperparams", None), dict)


def _hyperparam_states(opt_state):
    """All injected-hyperparameter states inside a (possibly chained) optax state."""
    found = []

    def visit(node):
        if _is_injected(node):
            found.append(node)
        elif isinstance(node, (tuple, list)):
            for child in node:
                visit(child)

    visit(opt_state)
    return found


def get_learning_rate(opt_state):
    """The learning rate stored in an optimizer state, or None when not injected.

    Example:
        >>> import optax, jax.numpy as jnp
        >>> get_learning_rate(optax.adam(1e-3).init(jnp.zeros(1))) is None
        True
    """
    for state in _hyperparam_states(opt_state):
        if "learning_rate" in state.hyperparams:
            return state.hyperparams["learning_rate"]
    return None


_SCHEDULED_LEARNING_RATE = (
    "the learning rate follows the schedule given as `learning_rate` (or `optimizer`) to "
    "compile, which is re-evaluated every step: a callback (LearningRateScheduler, "
    "ReduceLROnPlateau) or `model.learning_rate = ...` cannot change it. Compile with a "
    "float learning rate to change it between epochs, or drop the callback and let the "
    "schedule drive it"
)


def set_learning_rate(opt_state, value):
    """Returns `opt_state` with its injected learning rate replaced by `value`.

    The new value keeps the old array's dtype and shape, so a jitted step that takes the
    state as an argument is not recompiled.

    Raises:
        ValueError: when the optimizer state has no injected learning rate (the user
            passed a plain optax transformation; wrap it with `optax.inject_hyperparams`),
            or when the learning rate is a schedule (the schedule would silently undo the
            change at the next step).

    Example:
        >>> opt = make_optimizer("adam", 1e-3)
        >>> s = set_learning_rate(opt.init(jnp.zeros(1)), 5e-4)
        >>> round(float(get_learning_rate(s)), 6)
        0.0005
    """
    done = [False]

    def replace(node):
        if not done[0] and _is_injected(node) and "learning_rate" in node.hyperparams:
            if "learning_rate" in (getattr(node, "hyperparams_states", None) or {}):
                raise ValueError(_SCHEDULED_LEARNING_RATE)
            old = node.hyperparams["learning_rate"]
            hyper = dict(node.hyperparams)
            # full_like keeps dtype, shape and weak type: the jit cache key is unchanged.
            hyper["learning_rate"] = jnp.full_like(old, value)
            done[0] = True
            return node._replace(hyperparams=hyper)
        if isinstance(node, tuple) and not hasattr(node, "_fields"):
            return tuple(replace(child) for child in node)
        if isinstance(node, tuple) and hasattr(node, "_fields"):
            return type(node)(*[replace(child) for child in node])
        if isinstance(node, list):
            return [replace(child) for child in node]
        return node

    new_state = replace(opt_state)
    if not done[0]:
        raise ValueError(
            "the optimizer state has no injected learning rate: pass the optimizer by name or "
            "wrap it with optax.inject_hyperparams to change the learning rate while training"
        )
    return new_state


def split_trainable(params, frozen):
    """``(trainable, fixed)``: `params` without the frozen layers, and those layers.

    The trainable part keeps the full structure's shape (``{"layers": ...,
    "likelihood": ...}``) so, with nothing frozen, it is `params` itself and the
    optimizer state is what it always was.

    Example:
        >>> trainable, fixed = split_trainable({"layers": {"a": 1, "b": 2}, "likelihood": []},
        ...                                    frozenset({"a"}))
        >>> trainable, fixed
        ({'layers': {'b': 2}, 'likelihood': []}, {'a': 1})
    """
    if not frozen:
        return params, {}
    layers = params["layers"]
    trainable = {name: value for name, value in layers.items() if name not in frozen}
    fixed = {name: value for name, value in layers.items() if name in frozen}
    return {**params, "layers": trainable}, fixed


def merge_trainable(trainable, fixed):
    """Inverse of `split_trainable`.

    Example:
        >>> merge_trainable({"layers": {"b": 2}, "likelihood": []}, {"a": 1})["layers"]
        {'b': 2, 'a': 1}
    """
    if not fixed:
        return trainable
    return {**trainable, "layers": {**trainable["layers"], **fixed}}


def new_train_state(params, layer_state, optimizer, key, *, kl_weight=1.0,
                    frozen=frozenset()) -> TrainState:
    """A fresh `TrainState` at epoch 0, step 0; the optimizer state covers only the
    layers not in `frozen`."""
    return TrainState(
        params=params,
        layer_state=layer_state,
        opt_state=optimizer.init(split_trainable(params, frozen)[0]),
        key=key,
        epoch=jnp.zeros((), jnp.int32),
        step=jnp.zeros((), jnp.int32),
        kl_weight=jnp.asarray(kl_weight, jnp.result_type(float)),
    )


def tree_is_finite(tree) -> bool:
    """Whether every leaf of `tree` is finite (host check)."""
    return all(bool(jnp.all(jnp.isfinite(leaf))) for leaf in jax.tree_util.tree_leaves(tree))
