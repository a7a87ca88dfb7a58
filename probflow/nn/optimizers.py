"""Keras optimizer names and keywords, built from optax transformations.

`get_optimizer("adam", 1e-3, clipnorm=1.0, weight_decay=1e-4)` returns one optax
transformation. The learning rate is always injected (`optax.inject_hyperparams`), so
it lives in the optimizer state as an array that `training.state.set_learning_rate`
changes between epochs without recompiling, whatever clipping and weight decay are
chained around the optimizer.

Keras keywords map onto optax arguments: ``beta_1``/``beta_2``/``epsilon`` ->
``b1``/``b2``/``eps``, ``rho`` -> ``decay`` (RMSprop) or ``rho`` (Adadelta),
``momentum``, ``nesterov``, ``centered``, ``initial_accumulator_value``, ``amsgrad``
(Adam/AdamW use `optax.amsgrad`). Defaults that are not given are optax's (for
example Adam's ``eps=1e-8``, where Keras uses 1e-7; AdamW's ``weight_decay=1e-4``
where Keras uses 0.004). Gradient clipping runs first: ``clipvalue`` elementwise,
``clipnorm`` per weight array (as Keras), ``global_clipnorm`` over all arrays
together (`optax.clip_by_global_norm`). ``weight_decay`` is decoupled, as in Keras:
each step subtracts ``learning_rate * weight_decay * w`` from every weight ``w``
(AdamW and Lion take it through their own optax argument, which is the same update).

Example:
    >>> import jax.numpy as jnp
    >>> from probflow.nn.training.state import get_learning_rate
    >>> opt = get_optimizer("SGD", 0.1, momentum=0.9, clipnorm=1.0)
    >>> float(get_learning_rate(opt.init({"w": jnp.zeros(2)})))
    0.10000000149011612
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
import optax

__all__ = ["get_optimizer", "optimizer_config", "optimizer_from_config", "optimizer_names"]

_CLIP_KEYWORDS = ("clipnorm", "clipvalue", "global_clipnorm")
_COMMON_KEYWORDS = _CLIP_KEYWORDS + ("weight_decay",)
_ADAM_KEYWORDS = {"beta_1": "b1", "beta_2": "b2", "epsilon": "eps"}


class _Spec(NamedTuple):
    factory: object
    default_learning_rate: float
    keywords: dict  # Keras keyword -> optax argument
    own_decay: bool = False  # optax's factory takes a decoupled `weight_decay` itself


_SPECS = {
    "adam": _Spec(optax.adam, 1e-3, {**_ADAM_KEYWORDS, "amsgrad": None}),
    "adamw": _Spec(optax.adamw, 1e-3, {**_ADAM_KEYWORDS, "amsgrad": None}, own_decay=True),
    "sgd": _Spec(optax.sgd, 1e-2, {"momentum": "momentum", "nesterov": "nesterov"}),
    "rmsprop": _Spec(optax.rmsprop, 1e-3, {"rho": "decay", "epsilon": "eps",
                                           "momentum": "momentum", "nesterov": "nesterov",
                                           "centered": "centered"}),
    "adagrad": _Spec(optax.adagrad, 1e-2, {"initial_accumulator_value":
                                           "initial_accumulator_value", "epsilon": "eps"}),
    "nadam": _Spec(optax.nadam, 1e-3, dict(_ADAM_KEYWORDS)),
    "adamax": _Spec(optax.adamax, 1e-3, dict(_ADAM_KEYWORDS)),
    "lion": _Spec(optax.lion, 1e-4, {"beta_1": "b1", "beta_2": "b2"}, own_decay=True),
    "adadelta": _Spec(optax.adadelta, 1e-3, {"rho": "rho", "epsilon": "eps"}),
}
# Keras names that optax has no transformation for: say so instead of "unknown".
_UNAVAILABLE = {"ftrl": "optax has no FTRL optimizer",
                "adafactor": "use optax.adafactor(...) and pass the transformation",
                "lamb": "use optax.lamb(...) and pass the transformation"}
_POSITIVE = {"clipnorm", "clipvalue", "global_clipnorm", "epsilon", "learning_rate"}
_UNIT_INTERVAL = {"beta_1", "beta_2", "rho", "momentum"}


def optimizer_names() -> list:
    """The optimizer names `get_optimizer` accepts (case-insensitive).

    Example:
        >>> "adamw" in optimizer_names()
        True
    """
    return sorted(_SPECS)


def _clip_each_by_norm(max_norm):
    """Keras's ``clipnorm``: rescale each array whose L2 norm exceeds `max_norm`."""

    def clip(update, params):
        del params
        norm = jnp.sqrt(jnp.sum(jnp.square(update)))
        return update * (max_norm / jnp.maximum(norm, max_norm))

    return optax.stateless_with_tree_map(clip)


def _check_number(owner, keyword, value):
    if isinstance(value, bool) and keyword in ("nesterov", "centered", "amsgrad"):
        return value
    if keyword in ("nesterov", "centered", "amsgrad"):
        raise TypeError(f"{owner}: `{keyword}` must be a bool; got {value!r}")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{owner}: `{keyword}` must be a number; got {value!r}")
    value = float(value)
    if keyword in _POSITIVE and not value > 0:
        raise ValueError(f"{owner}: `{keyword}` must be > 0; got {value}")
    if keyword in _UNIT_INTERVAL and not 0 <= value < 1:
        raise ValueError(f"{owner}: `{keyword}` must lie in [0, 1); got {value}")
    if not value >= 0:
        raise ValueError(f"{owner}: `{keyword}` must be >= 0; got {value}")
    return value


def _resolve_name(optimizer):
    name = optimizer.lower()
    if name in _UNAVAILABLE:
        raise ValueError(f"get_optimizer: `optimizer` {optimizer!r} is not available: "
                         f"{_UNAVAILABLE[name]}")
    if name not in _SPECS:
        raise ValueError(
            f"get_optimizer: `optimizer` must be one of {optimizer_names()} (any case), a "
            f"learning rate, an optax schedule or an optax GradientTransformation; got "
            f"{optimizer!r}"
        )
    return name


def get_optimizer(optimizer="adam", learning_rate=None, **keywords) -> optax.GradientTransformation:
    """Builds an optax optimizer from a Keras name and Keras keyword arguments.

    Args:
        optimizer: a name (``"adam"``, ``"adamw"``, ``"sgd"``, ``"rmsprop"``,
            ``"adagrad"``, ``"nadam"``, ``"adamax"``, ``"lion"``, ``"adadelta"``; Keras
            class spellings such as ``"Adam"`` or ``"RMSprop"`` too), a float (Adam
            with that learning rate), an optax schedule (Adam following it) or an optax
            `GradientTransformation` (returned as is; no keywords then).
        learning_rate: float > 0 or an optax schedule; None for the optimizer's default
            (1e-3; 1e-2 for SGD and Adagrad; 1e-4 for Lion). A schedule is evaluated
            from the step count at every update, so callbacks cannot change it
            (`set_learning_rate` raises).
        **keywords: Keras optimizer keywords: ``clipnorm``, ``clipvalue``,
            ``global_clipnorm`` (at most one of these), ``weight_decay`` (decoupled),
            and per optimizer ``beta_1``, ``beta_2``, ``epsilon``, ``amsgrad``,
            ``momentum``, ``nesterov``, ``rho``, ``centered``,
            ``initial_accumulator_value``. None means "not given".

    Returns:
        An optax transformation whose state holds the learning rate
        (``hyperparams["learning_rate"]``).

    Raises:
        TypeError: for a keyword the optimizer does not take (the message lists the
            accepted ones) or a keyword given with an optax transformation.
        ValueError: for an unknown name or an out-of-range value.

    Example:
        >>> import jax.numpy as jnp
        >>> opt = get_optimizer("adam", 0.01, beta_1=0.8, weight_decay=1e-4)
        >>> params = {"w": jnp.ones(2)}
        >>> updates, _ = opt.update({"w": jnp.ones(2)}, opt.init(params), params)
        >>> updates["w"].shape
        (2,)
    """
    keywords = {k: v for k, v in keywords.items() if v is not None}
    if isinstance(optimizer, optax.GradientTransformation):
        if learning_rate is not None or keywords:
            given = (["learning_rate"] if learning_rate is not None else []) + sorted(keywords)
            raise TypeError(f"get_optimizer: {given} only apply to a named optimizer; got an "
                            "optax transformation (configure it in optax instead)")
        return optimizer
    if not isinstance(optimizer, bool) and (isinstance(optimizer, (int, float))
                                            or callable(optimizer)):
        if learning_rate is not None:
            raise TypeError("get_optimizer: give the learning rate once: `optimizer` is "
                            f"already a learning rate ({optimizer!r})")
        optimizer, learning_rate = "adam", optimizer
    if not isinstance(optimizer, str):
        raise TypeError(f"get_optimizer: `optimizer` must be a name, a learning rate, a "
                        f"schedule or an optax transformation; got {type(optimizer).__name__}")
    name = _resolve_name(optimizer)
    spec = _SPECS[name]
    owner = f"get_optimizer({optimizer!r})"
    accepted = sorted(set(spec.keywords) | set(_COMMON_KEYWORDS))
    unknown = sorted(set(keywords) - set(accepted))
    if unknown:
        raise TypeError(f"{owner}: unknown keyword(s) {unknown}; {name} accepts {accepted}")
    keywords = {k: _check_number(owner, k, v) for k, v in keywords.items()}
    clips = [k for k in _CLIP_KEYWORDS if k in keywords]
    if len(clips) > 1:
        raise ValueError(f"{owner}: give at most one of {list(_CLIP_KEYWORDS)}; got {clips}")
    if learning_rate is None:
        learning_rate = spec.default_learning_rate
    if not callable(learning_rate):
        learning_rate = _check_number(owner, "learning_rate", learning_rate)
    return optax.inject_hyperparams(_factory(name, spec, keywords))(learning_rate=learning_rate)


def optimizer_config(optimizer="adam", learning_rate=None, **keywords):
    """The JSON form of `get_optimizer`'s arguments, or None where they are not data.

    A saved model stores this, so loading rebuilds the same optimizer (same state
    layout: the clipping and decay links of the chain included) without running code.

    Args:
        optimizer, learning_rate, **keywords: as for `get_optimizer`.

    Returns:
        ``{"name": ..., "learning_rate": float or None, "keywords": {...}}`` for a
        named optimizer (or a float learning rate), or None for an optax
        transformation or a schedule.

    Raises:
        TypeError, ValueError: as `get_optimizer` for invalid arguments.

    Example:
        >>> optimizer_config("SGD", 0.1, momentum=0.9)
        {'name': 'sgd', 'learning_rate': 0.1, 'keywords': {'momentum': 0.9}}
    """
    get_optimizer(optimizer, learning_rate, **keywords)  # validates
    if not isinstance(optimizer, bool) and isinstance(optimizer, (int, float)):
        optimizer, learning_rate = "adam", optimizer
    if not isinstance(optimizer, str) or callable(learning_rate):
        return None
    return {"name": optimizer.lower(),
            "learning_rate": None if learning_rate is None else float(learning_rate),
            "keywords": {k: v for k, v in keywords.items() if v is not None}}


def optimizer_from_config(config) -> optax.GradientTransformation:
    """Rebuilds the optimizer `optimizer_config` described.

    Args:
        config: the dict `optimizer_config` returned (e.g. read back from JSON).

    Returns:
        The optax transformation.

    Raises:
        ValueError: for a config that is not of that form.

    Example:
        >>> opt = optimizer_from_config(optimizer_config("adam", 0.01, clipnorm=1.0))
        >>> type(opt).__name__
        'GradientTransformationExtraArgs'
    """
    if not (isinstance(config, dict) and isinstance(config.get("name"), str)
            and isinstance(config.get("keywords", {}), dict)):
        raise ValueError(f"optimizer_from_config: `config` must be a dict with a 'name' and "
                         f"'keywords' from optimizer_config; got {config!r:.200}")
    return get_optimizer(config["name"], config.get("learning_rate"),
                         **config.get("keywords", {}))


def _factory(name, spec, keywords):
    """``fn(learning_rate) -> transformation`` with every other setting closed over."""
    factory = spec.factory
    options = {spec.keywords[k]: v for k, v in keywords.items()
               if spec.keywords.get(k) is not None}
    if name == "sgd" and options.get("momentum") == 0.0:
        options["momentum"] = None  # Keras's momentum=0.0 is plain SGD
    own_decay = spec.own_decay
    if keywords.get("amsgrad"):
        factory, own_decay = optax.amsgrad, False
        if name == "adamw":
            keywords.setdefault("weight_decay", 1e-4)  # optax.adamw's default
    decay = keywords.get("weight_decay")
    if own_decay and decay is not None:
        options["weight_decay"] = decay
        decay = None

    def build(learning_rate):
        parts = []
        if "clipvalue" in keywords:
            parts.append(optax.clip(keywords["clipvalue"]))
        if "clipnorm" in keywords:
            parts.append(_clip_each_by_norm(keywords["clipnorm"]))
        if "global_clipnorm" in keywords:
            parts.append(optax.clip_by_global_norm(keywords["global_clipnorm"]))
        parts.append(factory(learning_rate, **options))
        if decay:
            # Decoupled decay as Keras: w <- w - lr * weight_decay * w, beside the step.
            parts.append(optax.add_decayed_weights(-learning_rate * decay))
        # A lone optimizer keeps the state layout of earlier saves (no chain tuple).
        return parts[0] if len(parts) == 1 else optax.chain(*parts)

    return build
