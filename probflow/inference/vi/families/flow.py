"""Normalizing-flow guide: a standard Normal pushed through flow layers and an affine map.

``z = loc + scale * f(eps)``, ``eps ~ N(0, I)``, where `f` stacks flow layers from
`probflow.bijectors.flows` with reversing permutations in between:

* ``"iaf"`` (default): inverse autoregressive flow (Kingma et al. 2016), i.e.
  `Invert(MaskedAutoregressive)`: drawing and scoring one's own draws is one network
  pass per layer; scoring arbitrary points (only the STL estimator needs it) is
  sequential over dimensions.
* ``"realnvp"``: affine coupling layers (Dinh et al. 2017), one pass both ways; needs
  at least 2 dimensions.

Every flow layer starts at the identity, so a fresh guide equals the mean-field start
``N(loc, init_scale^2)``. Params: ``{"loc": [d], "raw_scale": [d], "layers": [...]}``
with ``layers`` the per-layer network weights (plain arrays; the structure is static).
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp

from probflow.inference.vi.families.base import (
    Family,
    check_positive_transform,
    inverse_positive_transform,
    positive_transform,
)

__all__ = ["Flow"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
_FLOW_TYPES = ("iaf", "realnvp")


@dataclasses.dataclass(frozen=True)
class Flow(Family):
    """Normalizing-flow guide (IAF or RealNVP layers on a Normal base, then affine).

    Args:
        flow_type: ``"iaf"`` (default) or ``"realnvp"``.
        num_layers: number of flow layers.
        hidden_sizes: hidden widths of each layer's network.
        init_scale: the affine scale at the start (the flow starts at identity). 1 by
            default, unlike the Gaussian families' 0.1: with a narrow start the
            networks must learn the target's shape in a 1/init_scale-magnified space,
            which fits far worse (measured on a banana: ELBO -0.38 vs -0.01).
        scale_transform: ``"softplus"`` (default) or ``"exp"`` for the affine scale.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> family = Flow(num_layers=2, hidden_sizes=(8,))
        >>> params = family.init(jax.random.key(0), jnp.zeros(3))
        >>> z, log_q = family.sample_and_log_prob(jax.random.key(1), params, 4)
        >>> bool(jnp.allclose(family.log_prob(params, z), log_q, atol=1e-4))
        True
    """

    flow_type: str = "iaf"
    num_layers: int = 4
    hidden_sizes: tuple = (32, 32)
    init_scale: float = 1.0
    scale_transform: str = "softplus"

    def __post_init__(self):
        if self.flow_type not in _FLOW_TYPES:
            raise ValueError(f"`flow_type` must be one of {_FLOW_TYPES}; got {self.flow_type!r}")
        if not (isinstance(self.num_layers, int) and self.num_layers >= 1):
            raise ValueError(f"`num_layers` must be an int >= 1; got {self.num_layers!r}")
        # Hashable for jit caching even when given as a list.
        object.__setattr__(self, "hidden_sizes", tuple(int(h) for h in self.hidden_sizes))
        check_positive_transform(self.scale_transform)
        if not self.init_scale > 0:
            raise ValueError(f"`init_scale` must be > 0; got {self.init_scale!r}")

    def init(self, key, loc):
        from probflow.bijectors import MaskedAutoregressive, RealNVP

        loc = jnp.asarray(loc)
        d = loc.size
        if self.flow_type == "realnvp" and d < 2:
            raise ValueError(f"Flow(flow_type='realnvp') needs at least 2 dimensions; got {d}")
        keys = jax.random.split(key, self.num_layers)
        if self.flow_type == "iaf":
            layers = [MaskedAutoregressive.init_params(k, d, self.hidden_sizes) for k in keys]
        else:
            layers = [
                RealNVP.init_params(k, d, self.hidden_sizes, parity=i % 2)
                for i, k in enumerate(keys)
            ]
        layers = jax.tree_util.tree_map(lambda x: x.astype(loc.dtype), layers)
        raw = inverse_positive_transform(self.scale_transform, self.init_scale)
        return {"loc": loc, "raw_scale": jnp.full_like(loc, raw), "layers": layers}

    def bijector(self, params):
        """The flow part `f` as a probflow `Chain` (base draws -> pre-affine values)."""
        from probflow.bijectors import Chain, Invert, MaskedAutoregressive, Permute, RealNVP

        d = params["loc"].size
        reverse = Permute(list(range(d))[::-1])
        if self.flow_type == "realnvp":
            # Alternating parities already mix the dimensions; no permutation needed.
            layers = [RealNVP(p, parity=i % 2) for i, p in enumerate(params["layers"])]
            return Chain(layers)
        layers = []
        for p in params["layers"]:
            layers += [Invert(MaskedAutoregressive(p)), reverse]
        return Chain(layers[:-1])

    def scale(self, params):
        """The affine scale, shape ``[d]``."""
        return positive_transform(self.scale_transform, params["raw_scale"])

    def _base_log_prob(self, eps):
        return -0.5 * jnp.sum(eps * eps, -1) - eps.shape[-1] * _HALF_LOG_2PI

    def noise(self, key, params, n):
        loc = params["loc"]
        return jax.random.normal(key, (n,) + loc.shape, loc.dtype)

    def sample_and_log_prob_from_noise(self, params, eps):
        loc, scale = params["loc"], self.scale(params)
        x, log_det = self.bijector(params).forward_and_log_det(eps)
        z = loc + scale * x
        return z, self._base_log_prob(eps) - log_det - jnp.sum(jnp.log(scale))

    def log_prob(self, params, z):
        loc, scale = params["loc"], self.scale(params)
        eps, log_det = self.bijector(params).inverse_and_log_det((z - loc) / scale)
        return self._base_log_prob(eps) + log_det - jnp.sum(jnp.log(scale))

    def mean(self, params):
        """Monte-Carlo estimate of the mean (4096 draws, fixed key): no closed form."""
        return jnp.mean(self.sample(jax.random.key(0), params, 4096), axis=0)
