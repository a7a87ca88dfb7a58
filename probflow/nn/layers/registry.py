"""Layer classes registered by name, so saved models can be rebuilt without pickles.

Example:
    >>> from probflow.nn.layers.registry import get_layer_class
    >>> get_layer_class("Dense").__name__
    'Dense'
"""

from __future__ import annotations

__all__ = ["register_layer", "get_layer_class", "registered_layers"]

_LAYERS: dict = {}


def register_layer(cls):
    """Class decorator: registers a layer class under its class name.

    Args:
        cls: a layer class with ``get_config()`` and a ``from_config(config)``
            classmethod.

    Returns:
        `cls`, unchanged.

    Example:
        >>> from probflow.nn.layers.layer import Layer
        >>> @register_layer
        ... class Identity(Layer):
        ...     def apply(self, params, state, x, *, key=None, training=False):
        ...         return x, state
        >>> get_layer_class("Identity") is Identity
        True
    """
    name = cls.__name__
    existing = _LAYERS.get(name)
    if existing is not None and existing is not cls and existing.__module__ != cls.__module__:
        raise ValueError(
            f"register_layer: a layer named {name!r} is already registered "
            f"(from {existing.__module__}); rename the class"
        )
    _LAYERS[name] = cls
    return cls


def get_layer_class(name: str):
    """Returns the layer class registered under `name`.

    Args:
        name: the class name, e.g. ``"Dense"``.

    Returns:
        The class.

    Raises:
        ValueError: for an unknown name, listing the known ones.

    Example:
        >>> get_layer_class("Activation").__name__
        'Activation'
    """
    # The built-in layers are registered already: importing this module imports the
    # probflow.nn.layers package first, which loads every layer module.
    try:
        return _LAYERS[name]
    except KeyError:
        raise ValueError(
            f"get_layer_class: `name` must be a registered layer class; got {name!r}. "
            f"Known: {sorted(_LAYERS)}"
        ) from None


def registered_layers() -> dict:
    """Returns a copy of the name -> class registry.

    Example:
        >>> registered_layers()["Dense"].__name__
        'Dense'
    """
    return dict(_LAYERS)
