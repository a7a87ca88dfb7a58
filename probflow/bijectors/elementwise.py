"""Elementwise bijectors without an affine parameter: Identity, Exp, Softplus, Sigmoid,
Tanh and Power.

Each acts on every element independently (``event_ndims = 0``), so its log-det has the
shape of its (broadcast) input.

Example:
    >>> import jax.numpy as jnp
    >>> from probflow import bijectors as bij
    >>> y, log_det = bij.Softplus().forward_and_log_det(jnp.array([0.0, 1.0]))
    >>> y.shape, log_det.shape
    ((2,), (2,))
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from probflow.bijectors._util import as_float_array, is_concrete
from probflow.bijectors.bijector import Bijector

__all__ = ["Exp", "Identity", "Power", "Sigmoid", "Softplus", "Tanh"]


class Identity(Bijector):
    """The identity map ``y = x`` (log-det 0).

    Example:
        >>> import jax.numpy as jnp
        >>> float(Identity().forward(jnp.array(3.0)))
        3.0
    """

    _codomain = "real"

    def forward_and_log_det(self, x):
        x = jnp.asarray(x)
        return x, jnp.zeros_like(x)

    def inverse_and_log_det(self, y):
        y = jnp.asarray(y)
        return y, jnp.zeros_like(y)


class Exp(Bijector):
    """``y = exp(x)``: R onto the positive reals; log-det ``x``.

    Example:
        >>> import jax.numpy as jnp
        >>> round(float(Exp().inverse(jnp.array(1.0))), 6)
        0.0
    """

    _codomain = "positive"

    def forward_and_log_det(self, x):
        x = jnp.asarray(x)
        return jnp.exp(x), x

    def inverse_and_log_det(self, y):
        x = jnp.log(y)
        return x, -x


class Softplus(Bijector):
    """``y = log(1 + exp(x))``: R onto the positive reals, close to linear for large x.

    Example:
        >>> import jax.numpy as jnp
        >>> round(float(Softplus().forward(jnp.array(0.0))), 4)
        0.6931
    """

    _codomain = "positive"

    def forward_and_log_det(self, x):
        x = jnp.asarray(x)
        # dy/dx = sigmoid(x); log_sigmoid is stable in both tails.
        return jax.nn.softplus(x), jax.nn.log_sigmoid(x)

    def inverse_and_log_det(self, y):
        y = jnp.asarray(y)
        # x = log(exp(y) - 1) = y + log(1 - exp(-y)), which does not overflow for large y.
        log_one_minus_exp = jnp.log(-jnp.expm1(-y))
        return y + log_one_minus_exp, -log_one_minus_exp


class Sigmoid(Bijector):
    """The logistic sigmoid, optionally scaled onto the interval ``(low, high)``.

    ``y = low + (high - low) * sigmoid(x)``; with no bounds, the unit interval. This is
    Stan's map for bounded parameters. The output is kept strictly inside the interval
    in finite precision, so densities with poles at the edges stay finite.

    Args:
        low: lower end (scalar or array; broadcasts with the input), or None for 0.
        high: upper end, or None for 1. Give both or neither.

    Example:
        >>> import jax.numpy as jnp
        >>> float(Sigmoid(low=-1.0, high=3.0).forward(jnp.array(0.0)))
        1.0
    """

    def __init__(self, low=None, high=None):
        if (low is None) != (high is None):
            raise ValueError(
                f"Sigmoid: give both `low` and `high` or neither; got low={low!r}, high={high!r}"
            )
        self.low = None if low is None else as_float_array(low, "low", "Sigmoid")
        self.high = None if high is None else as_float_array(high, "high", "Sigmoid")
        if self.low is not None and is_concrete(self.low) and is_concrete(self.high):
            # numpy, not jnp: under a trace (a joint's probe) jnp ops on concrete
            # arrays return tracers, which cannot be turned into a bool.
            if not np.all(np.asarray(self.high) > np.asarray(self.low)):
                raise ValueError(
                    f"Sigmoid: `high` must be greater than `low`; got low={self.low}, high={self.high}"
                )

    def forward_and_log_det(self, x):
        x = jnp.asarray(x)
        unit = jax.nn.sigmoid(x)
        # Keep 0 < unit < 1 where sigmoid rounds to an endpoint (|x| > ~17 in float32).
        finfo = jnp.finfo(unit.dtype)
        unit = jnp.clip(unit, finfo.tiny, 1.0 - finfo.epsneg)
        # log sigmoid'(x) = log_sigmoid(x) + log_sigmoid(-x), finite for every x.
        log_det = jax.nn.log_sigmoid(x) + jax.nn.log_sigmoid(-x)
        if self.low is None:
            return unit, log_det
        width = self.high - self.low
        y = self.low + width * unit
        # Rounding can land on an endpoint again after scaling; step back inside.
        low, high = self.low.astype(y.dtype), self.high.astype(y.dtype)
        y = jnp.clip(y, jnp.nextafter(low, high), jnp.nextafter(high, low))
        return y, log_det + jnp.log(width)

    def inverse_and_log_det(self, y):
        y = jnp.asarray(y)
        if self.low is None:
            unit, log_width = y, 0.0
        else:
            width = self.high - self.low
            unit, log_width = (y - self.low) / width, jnp.log(width)
        log_unit, log_rest = jnp.log(unit), jnp.log1p(-unit)
        return log_unit - log_rest, -(log_unit + log_rest + log_width)

    @property
    def codomain(self):
        from probflow.distributions import constraints

        if self.low is None:
            return constraints.unit_interval
        return constraints.interval(self.low, self.high)

    def __repr__(self):
        if self.low is None:
            return "Sigmoid()"
        return f"Sigmoid(low={self.low}, high={self.high})"


class Tanh(Bijector):
    """``y = tanh(x)``: R onto (-1, 1).

    Example:
        >>> import jax.numpy as jnp
        >>> round(float(Tanh().inverse(jnp.array(0.5))), 4)
        0.5493
    """

    @property
    def codomain(self):
        from probflow.distributions import constraints

        return constraints.interval(-1.0, 1.0)

    def forward_and_log_det(self, x):
        x = jnp.asarray(x)
        # log(1 - tanh(x)^2) = 2 (log 2 - x - softplus(-2x)): no cancellation for large |x|.
        log_det = 2.0 * (jnp.log(2.0) - x - jax.nn.softplus(-2.0 * x))
        return jnp.tanh(x), log_det

    def inverse_and_log_det(self, y):
        y = jnp.asarray(y)
        return jnp.arctanh(y), -jnp.log1p(-jnp.square(y))


class Power(Bijector):
    """``y = x ** power`` on the positive reals (power != 0).

    Args:
        power: the exponent (scalar or array).

    Example:
        >>> import jax.numpy as jnp
        >>> float(Power(2.0).forward(jnp.array(3.0)))
        9.0
    """

    def __init__(self, power):
        self.power = as_float_array(power, "power", "Power")
        if is_concrete(self.power) and bool(jnp.any(self.power == 0)):
            raise ValueError(f"Power: `power` must be non-zero; got {self.power}")

    def forward_and_log_det(self, x):
        x = jnp.asarray(x)
        log_x = jnp.log(x)
        log_det = jnp.log(jnp.abs(self.power)) + (self.power - 1.0) * log_x
        return jnp.power(x, self.power), log_det

    def inverse_and_log_det(self, y):
        y = jnp.asarray(y)
        x = jnp.power(y, 1.0 / self.power)
        # -forward log-det at x, written in log(y) = power * log(x).
        log_det = -jnp.log(jnp.abs(self.power)) - (1.0 - 1.0 / self.power) * jnp.log(y)
        return x, log_det

    def __repr__(self):
        return f"Power({self.power})"
