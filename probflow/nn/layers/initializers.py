"""Weight initialisers by Keras name, on top of `jax.nn.initializers`.

An initialiser is a function ``(key, shape, dtype) -> array``. Fans follow Keras: the
last axis is the output, the one before it the input, the rest a receptive field (so a
conv kernel ``(kh, kw, c_in, c_out)`` has fan_in ``kh * kw * c_in``).

Example:
    >>> import jax, jax.numpy as jnp
    >>> init = get_initializer("glorot_uniform")
    >>> init(jax.random.key(0), (3, 4), jnp.float32).shape
    (3, 4)
"""

from __future__ import annotations

import jax

__all__ = ["get_initializer", "initializer_name"]

_INITIALIZERS = {
    "glorot_uniform": jax.nn.initializers.glorot_uniform(),
    "glorot_normal": jax.nn.initializers.glorot_normal(),
    "he_normal": jax.nn.initializers.he_normal(),
    "he_uniform": jax.nn.initializers.he_uniform(),
    "lecun_normal": jax.nn.initializers.lecun_normal(),
    "lecun_uniform": jax.nn.initializers.lecun_uniform(),
    "random_normal": jax.nn.initializers.normal(0.05),
    "zeros": jax.nn.initializers.zeros,
    "ones": jax.nn.initializers.ones,
}


def get_initializer(spec):
    """Returns an initialiser function from a name or a callable.

    Args:
        spec: one of the names above, or a callable ``(key, shape, dtype) -> array``.

    Returns:
        The initialiser.

    Example:
        >>> get_initializer("zeros") is get_initializer("zeros")
        True
    """
    if callable(spec):
        return spec
    if isinstance(spec, str) and spec in _INITIALIZERS:
        return _INITIALIZERS[spec]
    raise ValueError(
        f"initializer must be one of {sorted(_INITIALIZERS)} or a callable "
        f"(key, shape, dtype) -> array; got {spec!r}"
    )


def initializer_name(spec):
    """The JSON form of an initialiser: its name; custom callables cannot be saved."""
    if isinstance(spec, str):
        return spec
    for name, fn in _INITIALIZERS.items():
        if fn is spec:
            return name
    raise ValueError(
        f"cannot serialise custom initializer {spec!r}; pass one of {sorted(_INITIALIZERS)} "
        "by name to make the layer saveable"
    )
