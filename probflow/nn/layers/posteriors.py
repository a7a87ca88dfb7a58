"""Variational posterior families for Bayesian layers' weights.

`MeanFieldNormal` is an independent Normal per weight with a softplus-parameterised
scale: params ``{"loc", "raw_scale"}`` with ``scale = softplus(raw_scale)``. The loc
starts from a Keras initialiser, the scale small, so a fresh Bayesian layer behaves like
its deterministic twin and the KL does not swamp the likelihood early on.

Example:
    >>> import jax, jax.numpy as jnp
    >>> q = MeanFieldNormal(init_scale=1e-3)
    >>> p = q.init(jax.random.key(0), (2, 3), jnp.float32)
    >>> round(float(q.distribution(p).scale[0, 0]), 6)
    0.001
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from probflow.nn.layers.initializers import get_initializer, initializer_name
from probflow.nn.layers.serialization import register_serializable

__all__ = ["MeanFieldNormal", "check_posterior"]


@register_serializable
class MeanFieldNormal:
    """Mean-field Normal posterior initialiser.

    Args:
        loc_initializer: Keras initialiser name or callable for the means.
        init_scale: initial standard deviation of every weight, > 0.

    Example:
        >>> MeanFieldNormal(loc_initializer="zeros").get_config()
        {'loc_initializer': 'zeros', 'init_scale': 0.001}
    """

    def __init__(self, *, loc_initializer="glorot_uniform", init_scale=1e-3):
        init_scale = float(init_scale)
        if not (init_scale > 0 and math.isfinite(init_scale)):
            raise ValueError(f"MeanFieldNormal: `init_scale` must be > 0; got {init_scale}")
        self.loc_initializer = get_initializer(loc_initializer)
        self._loc_initializer_spec = loc_initializer
        self.init_scale = init_scale
        # Inverse softplus, in float64 on the host so tiny scales stay exact.
        self._raw_scale = math.log(math.expm1(init_scale))

    def init(self, key, shape, dtype):
        """Returns ``{"loc": ..., "raw_scale": ...}`` for weights of `shape`."""
        return {
            "loc": self.loc_initializer(key, tuple(shape), dtype),
            "raw_scale": jnp.full(tuple(shape), self._raw_scale, dtype),
        }

    @staticmethod
    def scale(raw_scale):
        """The standard deviation from its unconstrained parameter."""
        return jax.nn.softplus(raw_scale)

    @classmethod
    def distribution(cls, params):
        """The posterior as a probflow Normal (batch shape = weight shape)."""
        from probflow.distributions import Normal

        return Normal(params["loc"], cls.scale(params["raw_scale"]))

    def get_config(self):
        """JSON-serialisable constructor arguments."""
        return {
            "loc_initializer": initializer_name(self._loc_initializer_spec),
            "init_scale": self.init_scale,
        }

    @classmethod
    def from_config(cls, config):
        """Rebuilds from `get_config`'s output."""
        return cls(**config)

    def __repr__(self):
        return f"MeanFieldNormal(loc_initializer={self._loc_initializer_spec!r}, init_scale={self.init_scale})"


def check_posterior(posterior, argument: str, owner: str, *, allow_none=False):
    """Validates a `posterior=` argument (None means the default unless `allow_none`)."""
    if posterior is None and allow_none:
        return None
    if posterior is None:
        return MeanFieldNormal()
    if not isinstance(posterior, MeanFieldNormal):
        raise TypeError(
            f"{owner}: `{argument}` must be a MeanFieldNormal (e.g. "
            f"MeanFieldNormal(init_scale=1e-3)){' or None' if allow_none else ''}; "
            f"got {type(posterior).__name__}"
        )
    return posterior
