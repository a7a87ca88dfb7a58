"""Model classes by name, so saving can rebuild models without importing `model.py`.

`Model` and `Sequential` register themselves when their modules load; `saving`
sits below them and looks the classes up here (docs/internals.md, "nn state").

Example:
    >>> from probflow import nn
    >>> get_model_class("Sequential") is nn.Sequential
    True
"""

from __future__ import annotations

__all__ = ["get_model_class", "register_model_class"]

_MODELS: dict = {}


def register_model_class(cls):
    """Class decorator: registers a model class under its class name.

    Args:
        cls: the class.

    Returns:
        `cls`, unchanged.
    """
    _MODELS[cls.__name__] = cls
    return cls


def get_model_class(name: str):
    """The model class registered under `name` (``"Model"``, ``"Sequential"``).

    Raises:
        ValueError: for an unknown name.
    """
    # The built-in classes are registered by the time saving runs: it is reached
    # through probflow.nn, whose import loads model.py and sequential.py.
    try:
        return _MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model class {name!r}; known: {sorted(_MODELS)}") from None
