"""The `Distribution` base class: the small abstract surface and everything derived once.

A family implements what is specific to it:

* ``arg_constraints``: dict parameter name -> constraint (checked with validate_args),
* ``support`` (class attribute or property),
* ``_sample(key, sample_shape)`` returning ``sample_shape + batch_shape + event_shape``,
* ``_log_prob(value)``, reducing event dims only,
* optionally ``cdf``, ``icdf``, ``mean``, ``variance``, ``mode``, ``entropy``, ...,
* ``_param_event_ndims`` for parameters that carry event dims (e.g. ``{"loc": 1}``),
* ``event_shape`` when it is not ``()``.

The base derives `sample` (shape normalisation), `log_prob` (-inf outside the support,
value validation), `prob`, `log_cdf`, `survival_function`, `stddev`, `batch_shape`,
`expand`, and pytree registration (via `PytreeObject`).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from probflow._pytree import PytreeObject
from probflow.distributions import constraints
from probflow.distributions._util import (
    as_key,
    as_shape,
    as_value,
    check_param_shapes,
    is_concrete,
    validate_param,
)

__all__ = ["Distribution"]


class Distribution(PytreeObject):
    """Base class of every probability distribution.

    Shapes follow TFP: a draw has shape ``sample_shape + batch_shape + event_shape``
    and `log_prob` reduces the event dimensions only.

    Example:
        >>> import jax
        >>> from probflow import distributions as dist
        >>> d = dist.Normal(0.0, [1.0, 2.0])
        >>> d.batch_shape, d.event_shape
        ((2,), ())
        >>> d.sample(jax.random.key(0), (3,)).shape
        (3, 2)
    """

    arg_constraints: dict = {}
    support: constraints.Constraint = constraints.real
    has_rsample: bool = True
    _param_event_ndims: dict = {}

    # -- construction -------------------------------------------------------------
    def _validate(self, validate_args: bool, **params) -> None:
        """Stores `validate_args` and checks `params`.

        Shapes always (free, and it names the family and parameter where JAX would fail
        later with a message from inside lax); values against `arg_constraints` only
        with `validate_args`.
        """
        self.validate_args = bool(validate_args)
        # The parameters that define batch_shape (those in arg_constraints), so a family
        # that passes extra arrays here is not held to the broadcasting rule.
        batch_params = {n: v for n, v in params.items() if n in self.arg_constraints}
        check_param_shapes(type(self).__name__, batch_params, self._param_event_ndims)
        if not self.validate_args:
            return
        for name, value in params.items():
            if value is None:
                continue
            constraint = self.arg_constraints.get(name)
            if constraint is not None:
                validate_param(type(self).__name__, name, value, constraint)

    # -- shapes ---------------------------------------------------------------------
    @property
    def batch_shape(self) -> tuple:
        """Shape of the independent, non-identical batch of distributions."""
        shapes = []
        for name in self._batch_param_names():
            value = self.__dict__[name]
            k = self._param_event_ndims.get(name, 0)
            shape = jnp.shape(value)
            shapes.append(shape[: len(shape) - k])
        return tuple(jnp.broadcast_shapes(*shapes)) if shapes else ()

    @property
    def event_shape(self) -> tuple:
        """Shape of one draw of a single distribution in the batch."""
        return ()

    def _batch_param_names(self):
        return [n for n in self.arg_constraints if self.__dict__.get(n) is not None]

    @property
    def _shape(self):
        return self.batch_shape + self.event_shape

    @property
    def dtype(self):
        for name in self._batch_param_names():
            return jnp.result_type(self.__dict__[name])
        return jnp.result_type(float)

    # -- sampling -------------------------------------------------------------------
    def sample(self, key, sample_shape=()):
        """Draws samples.

        Args:
            key: a `jax.random` key, or an int seed (made into ``jax.random.key(seed)``).
            sample_shape: int or tuple of ints, prepended to the batch and event shape.

        Returns:
            An array of shape ``sample_shape + batch_shape + event_shape``.
        """
        return self._sample(as_key(key, type(self).__name__), as_shape(sample_shape))

    def sample_and_log_prob(self, key, sample_shape=()):
        """Draws samples and returns them with their log densities."""
        x = self.sample(key, sample_shape)
        return x, self.log_prob(x)

    def _sample(self, key, sample_shape):
        raise NotImplementedError(f"{type(self).__name__} does not implement sampling")

    # -- densities ------------------------------------------------------------------
    def log_prob(self, value):
        """Log density (or mass) of `value`, -inf outside the support.

        Args:
            value: array whose rightmost dims match ``batch_shape + event_shape``
                (broadcasting allowed).

        Returns:
            Array of shape ``broadcast(value.shape[:-event_ndims], batch_shape)``.
        """
        value = self._as_value(value)
        if self.validate_args:
            self._validate_sample(value)
        support = self.support
        lp = self._log_prob(value)
        if support is constraints.real or support is constraints.real_vector:
            return lp
        inside = support.check(value)
        return jnp.where(inside, lp, -jnp.inf)

    def _as_value(self, value):
        """`value` as an array, with our error for a non-numeric or ill-shaped one."""
        return as_value(type(self).__name__, value, self.batch_shape, self.event_shape)

    def _log_prob(self, value):
        raise NotImplementedError(f"{type(self).__name__} does not implement log_prob")

    def _validate_sample(self, value):
        if not is_concrete(value):
            return
        ok = np.asarray(self.support.check(value))
        if not np.all(ok):
            raise ValueError(
                f"{type(self).__name__}.log_prob: `value` must be {self.support.description}; "
                f"got {np.array2string(np.asarray(value), threshold=6, precision=4)}"
            )

    def prob(self, value):
        """Density (or mass) of `value`: ``exp(log_prob(value))``."""
        return jnp.exp(self.log_prob(value))

    def cdf(self, value):
        """Cumulative distribution function P(X <= value)."""
        raise NotImplementedError(f"{type(self).__name__} has no cdf")

    def log_cdf(self, value):
        """Log of the cdf; families override with a stable formula where one exists."""
        return jnp.log(self.cdf(value))

    def survival_function(self, value):
        """P(X > value) = 1 - cdf(value)."""
        return 1.0 - self.cdf(value)

    def log_survival_function(self, value):
        """Log of the survival function."""
        return jnp.log1p(-self.cdf(value))

    def icdf(self, p):
        """Inverse cdf (quantile function) at probability `p`."""
        raise NotImplementedError(f"{type(self).__name__} has no icdf")

    # -- moments --------------------------------------------------------------------
    def mean(self):
        """Mean, of shape ``batch_shape + event_shape``."""
        raise NotImplementedError(f"{type(self).__name__} has no mean")

    def variance(self):
        """Variance, of shape ``batch_shape + event_shape``."""
        raise NotImplementedError(f"{type(self).__name__} has no variance")

    def stddev(self):
        """Standard deviation: ``sqrt(variance())``."""
        return jnp.sqrt(self.variance())

    def mode(self):
        """Mode, of shape ``batch_shape + event_shape``."""
        raise NotImplementedError(f"{type(self).__name__} has no mode")

    def entropy(self):
        """Differential (or Shannon) entropy, of shape ``batch_shape``."""
        raise NotImplementedError(f"{type(self).__name__} has no entropy")

    # -- reshaping ------------------------------------------------------------------
    def expand(self, batch_shape):
        """Returns the same family with parameters broadcast to `batch_shape`.

        Args:
            batch_shape: the new batch shape; must be broadcast-compatible with the
                current one.

        Returns:
            A distribution of the same type with ``batch_shape == batch_shape``.
        """
        batch_shape = as_shape(batch_shape, "batch_shape")
        try:
            jnp.broadcast_shapes(self.batch_shape, batch_shape)
        except ValueError:
            raise ValueError(
                f"{type(self).__name__}.expand: `batch_shape` {batch_shape} is not "
                f"broadcast-compatible with the current batch shape {self.batch_shape}"
            ) from None
        changes = {}
        for name in self._batch_param_names():
            value = self.__dict__[name]
            k = self._param_event_ndims.get(name, 0)
            event = jnp.shape(value)[jnp.ndim(value) - k :]
            changes[name] = jnp.broadcast_to(value, batch_shape + tuple(event))
        return self._replace(**changes)

    def __repr__(self):
        return f"{type(self).__name__}(batch_shape={self.batch_shape}, event_shape={self.event_shape})"
