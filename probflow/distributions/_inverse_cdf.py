"""Inverse cdfs by bisection, for families whose quantile function has no closed form.

The bisection runs on an unconstrained coordinate ``u`` with ``x = to_value(u)``
increasing and onto the support, over a bracket that covers every finite float, so no
family-specific starting bracket is needed; ~110 halvings reach the last bit. One
Newton step at the end carries the gradient by the implicit function theorem:
``dx/dtheta = -(dF/dtheta) / f`` and ``dx/dp = 1 / f``.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax import lax

__all__ = ["bisection_icdf"]

_NUM_HALVINGS = 110
# The coordinate maps: (to_value, bracket half-width as a function of the dtype).
_SPACES = {
    "real": (jnp.sinh, lambda finfo: math.asinh(float(finfo.max))),
    "positive": (jnp.exp, lambda finfo: math.log(float(finfo.max))),
    "unit": (jax.nn.sigmoid, lambda finfo: math.log(float(finfo.max))),
}


def bisection_icdf(distribution, p, space):
    """The value x with ``distribution.cdf(x) = p``, for a continuous increasing cdf.

    Args:
        distribution: a univariate `Distribution` with `cdf` and `log_prob`.
        p: probabilities, broadcasting against the batch shape.
        space: ``"real"``, ``"positive"`` or ``"unit"``: the support, searched through
            ``sinh``, ``exp`` or ``sigmoid`` of the bisected coordinate.

    Returns:
        Array of shape ``broadcast(p.shape, batch_shape)``.

    Example:
        >>> from probflow import distributions as dist
        >>> round(float(bisection_icdf(dist.Normal(0.0, 1.0), 0.975, "real")), 4)
        1.96
    """
    to_value, half_width = _SPACES[space]
    dtype = distribution.dtype
    p = jnp.asarray(p, dtype)
    shape = jnp.broadcast_shapes(jnp.shape(p), distribution.batch_shape)
    frozen = lax.stop_gradient(distribution)
    target = lax.stop_gradient(jnp.broadcast_to(p, shape))
    width = half_width(jnp.finfo(dtype))
    if space == "positive":
        lower = jnp.full(shape, math.log(float(jnp.finfo(dtype).tiny)), dtype)
    else:
        lower = jnp.full(shape, -width, dtype)
    upper = jnp.full(shape, width, dtype)

    def halve(_, bracket):
        low, high = bracket
        middle = 0.5 * (low + high)
        below = frozen.cdf(to_value(middle)) < target
        return jnp.where(below, middle, low), jnp.where(below, high, middle)

    low, high = lax.fori_loop(0, _NUM_HALVINGS, halve, (lower, upper))
    x = lax.stop_gradient(to_value(0.5 * (low + high)))
    # The Newton step is (numerically) zero; its derivative is the implicit gradient.
    density = lax.stop_gradient(jnp.exp(distribution.log_prob(x)))
    usable = density > 0
    step = (distribution.cdf(x) - p) / jnp.where(usable, density, 1.0)
    return x - jnp.where(usable, step - lax.stop_gradient(step), 0.0)
