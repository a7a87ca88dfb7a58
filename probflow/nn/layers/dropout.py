"""Dropout: zeroes a fraction `rate` of inputs in training, scaling the rest by
``1 / (1 - rate)`` so the expectation is unchanged; the identity at inference."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from probflow.nn.layers.layer import Layer
from probflow.nn.layers.registry import register_layer

__all__ = ["Dropout"]


@register_layer
class Dropout(Layer):
    """Inverted dropout (Srivastava et al. 2014).

    Args:
        rate: probability of dropping each input, in [0, 1).
        name: layer name.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> layer = Dropout(0.5)
        >>> x = jnp.ones((1, 4))
        >>> bool(jnp.all(layer.apply({}, {}, x)[0] == x))  # inference: identity
        True
        >>> y, _ = layer.apply({}, {}, x, key=jax.random.key(0), training=True)
        >>> sorted(set(y.ravel().tolist())) in ([0.0, 2.0], [0.0], [2.0])
        True
    """

    def __init__(self, rate, *, name=None):
        super().__init__(name=name)
        rate = float(rate)
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"Dropout: `rate` must be in [0, 1); got {rate}")
        self.rate = rate
        self._config = {"rate": rate}

    def apply(self, params, state, x, *, key=None, training=False):
        del params
        x = jnp.asarray(x)
        if not training or self.rate == 0.0:
            return x, state
        if key is None:
            raise ValueError(
                f"Dropout {self.name!r}: `key` is required when training=True; "
                "pass key=jax.random.key(...)"
            )
        keep = jax.random.bernoulli(key, 1.0 - self.rate, x.shape)
        return jnp.where(keep, x / (1.0 - self.rate), jnp.zeros_like(x)), state
