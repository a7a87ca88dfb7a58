"""Private: the small dense networks inside normalizing-flow bijectors.

A network is a list of layers ``{"w": [in, out], "b": [out]}`` (a plain pytree an
optimizer can update). MADE masks (Germain et al. 2015) are not stored: they follow
from the layer widths, so they never become trainable leaves.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["apply_mlp", "check_bound", "init_mlp", "made_masks", "soft_clamp", "widths_of"]


def init_mlp(key, sizes):
    """Glorot-normal hidden layers and a zero last layer (so a flow starts at identity)."""
    sizes = [int(s) for s in sizes]
    keys = jax.random.split(key, len(sizes) - 1)
    layers = []
    for i, (k, fan_in, fan_out) in enumerate(zip(keys, sizes[:-1], sizes[1:])):
        if i == len(sizes) - 2:
            w = jnp.zeros((fan_in, fan_out))
        else:
            w = jax.random.normal(k, (fan_in, fan_out)) * np.sqrt(2.0 / (fan_in + fan_out))
        layers.append({"w": w, "b": jnp.zeros((fan_out,))})
    return layers


def widths_of(layers, owner: str):
    """The widths ``[in, hidden..., out]`` of a network, checking that its layers chain."""
    if not isinstance(layers, (list, tuple)) or not layers:
        raise TypeError(f"{owner}: `params` must be a non-empty list of layers; got {layers!r}")
    widths = []
    for i, layer in enumerate(layers):
        if not isinstance(layer, dict) or set(layer) != {"w", "b"}:
            raise TypeError(
                f"{owner}: params[{i}] must be a dict with keys 'w' and 'b'; got {layer!r}"
            )
        w_shape, b_shape = jnp.shape(layer["w"]), jnp.shape(layer["b"])
        if len(w_shape) != 2 or b_shape != w_shape[1:] or (widths and widths[-1] != w_shape[0]):
            raise ValueError(
                f"{owner}: params[{i}] has w {w_shape} and b {b_shape}; expected w [in, out] "
                f"with in = {widths[-1] if widths else 'the input size'} and b [out]"
            )
        widths = widths or [w_shape[0]]
        widths.append(w_shape[1])
    return widths


def made_masks(event_size: int, hidden_sizes, num_outputs_per_dim: int):
    """MADE masks for inputs of `event_size` with the natural ordering.

    Output unit ``j * event_size + i`` (for ``j < num_outputs_per_dim``) sees only inputs
    ``< i``, so it may parameterise the transform of dimension i.
    """
    in_degrees = np.arange(1, event_size + 1)
    degrees, masks = in_degrees, []
    for width in hidden_sizes:
        # Cycle through 1..event_size-1 so every hidden degree is useful.
        hidden = np.arange(width) % max(event_size - 1, 1) + 1
        masks.append((hidden[None, :] >= degrees[:, None]).astype(np.float32))
        degrees = hidden
    out_degrees = np.tile(in_degrees, num_outputs_per_dim)
    masks.append((out_degrees[None, :] > degrees[:, None]).astype(np.float32))
    return masks


def apply_mlp(layers, x, activation, masks=None):
    """Runs the network on the last axis of `x` (masked weights where `masks` is given)."""
    h = x
    for i, layer in enumerate(layers):
        w = layer["w"] if masks is None else layer["w"] * masks[i].astype(layer["w"].dtype)
        h = h @ w + layer["b"]
        if i < len(layers) - 1:
            h = activation(h)
    return h


def soft_clamp(raw, bound):
    """``bound * tanh(raw / bound)``: the identity near 0, smoothly limited to ``(-bound, bound)``.

    Flow layers pass their raw log-scales through it so that ``exp(log_scale)`` can
    neither overflow nor underflow, whatever the network outputs (a few large weights
    early in training would otherwise turn a draw into inf and the ELBO into NaN). The
    map stays a bijection with an exact log-det, because the clamped value *is* the
    log-scale used both ways. ``bound=None`` leaves `raw` unchanged.
    """
    if bound is None:
        return raw
    return bound * jnp.tanh(raw / bound)


def check_bound(owner: str, bound):
    """Validates a `log_scale_bound` (a positive number or None); returns it as float."""
    if bound is None:
        return None
    if isinstance(bound, bool) or not isinstance(bound, (int, float, np.integer, np.floating)):
        raise TypeError(f"{owner}: `log_scale_bound` must be a number or None; got {bound!r}")
    if not bound > 0:
        raise ValueError(f"{owner}: `log_scale_bound` must be > 0; got {bound!r}")
    return float(bound)
