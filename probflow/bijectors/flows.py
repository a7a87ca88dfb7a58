"""Normalizing-flow bijectors for variational inference: `MaskedAutoregressive` and
`RealNVP`, plus ready-made stacks `masked_autoregressive_flow` and `real_nvp_flow`.

How to use them (e.g. a "flow" VI family): push a standard Normal base through a
`Chain` of flow layers, interleaved with `Permute` so every dimension gets to depend on
every other one. The flow is an ordinary pytree: its network weights are its leaves,
so ``jax.grad`` / optax can update the `Chain` itself. Every layer is initialised with a
zero last layer, so a fresh layer is the identity map and a fresh stack only permutes
coordinates (log-det 0): VI starts from the base distribution.

    >>> import jax, jax.numpy as jnp
    >>> from probflow import bijectors as bij
    >>> flow = bij.masked_autoregressive_flow(jax.random.key(0), 3, num_layers=2)
    >>> z = jax.random.normal(jax.random.key(1), (5, 3))       # base draws
    >>> x, log_det = flow.forward_and_log_det(z)            # q(x) = N(z) - log_det
    >>> x.shape, log_det.shape
    ((5, 3), (5,))
    >>> bool(jnp.allclose(log_det, 0.0))                    # volume-preserving at init
    True

Layers can also be built one at a time: ``params = MaskedAutoregressive.init_params(key,
event_size, hidden_sizes=(32, 32))`` then ``MaskedAutoregressive(params)``; likewise
``RealNVP.init_params(key, event_size, mask=..., parity=...)`` and ``RealNVP(params,
mask=..., parity=...)`` (give the same mask to both). Both act on the last axis
(``event_ndims = 1``) and accept any leading batch dims.

Every layer soft-clamps its log-scale to ``(-log_scale_bound, log_scale_bound)`` (5 by
default) with ``bound * tanh(raw / bound)``: the identity near 0, so initialisation and
small scales are untouched, while a layer can never scale by more than ``exp(bound)``,
so a draw cannot overflow however large the raw network output gets.

Direction: `forward` is the sampling direction. For `MaskedAutoregressive` (MAF,
Papamakarios et al. 2017) the inverse (density evaluation of given points) is one
network pass and the forward is sequential over dimensions (a `lax.fori_loop`); for
`RealNVP` (Dinh et al. 2017) both directions are one pass.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from probflow.bijectors._networks import (
    apply_mlp,
    check_bound,
    init_mlp,
    made_masks,
    soft_clamp,
    widths_of,
)
from probflow.bijectors.bijector import Bijector
from probflow.bijectors.chain import Chain
from probflow.bijectors.reshape import Permute

__all__ = ["MaskedAutoregressive", "RealNVP", "masked_autoregressive_flow", "real_nvp_flow"]

# Default limit on |log-scale| per layer: exp(+-5) spans a factor 2e4 each way, ample for
# a layer, and keeps stacks of layers far from float32 overflow.
LOG_SCALE_BOUND = 5.0


def _check_sizes(owner, event_size, hidden_sizes):
    if not isinstance(event_size, (int, np.integer)) or event_size < 1:
        raise ValueError(f"{owner}: `event_size` must be a positive int; got {event_size!r}")
    hidden_sizes = tuple(hidden_sizes)
    if not all(isinstance(h, (int, np.integer)) and h >= 1 for h in hidden_sizes):
        raise ValueError(f"{owner}: `hidden_sizes` must be positive ints; got {hidden_sizes!r}")
    return int(event_size), tuple(int(h) for h in hidden_sizes)


def _check_event(owner, x, event_size):
    x = jnp.asarray(x)
    if x.ndim < 1 or x.shape[-1] != event_size:
        raise ValueError(
            f"{owner}: expected inputs ending in dimension {event_size}; got shape {x.shape}"
        )
    return x


class MaskedAutoregressive(Bijector):
    """Masked autoregressive affine flow: ``y_i = x_i exp(a_i(y_<i)) + m_i(y_<i)``.

    The shift ``m`` and log-scale ``a`` come from a MADE network, so dimension i of the
    output depends only on earlier ones and the Jacobian is triangular. The network's
    raw log-scale is soft-clamped: ``a = bound * tanh(raw / bound)``.

    Args:
        params: the network, as returned by `init_params` (a list of ``{"w", "b"}``).
        activation: hidden-layer nonlinearity (static); default ``jax.nn.relu``.
        log_scale_bound: the soft limit on ``|a|`` (static); None for no limit.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> params = MaskedAutoregressive.init_params(jax.random.key(0), 4, (16,))
        >>> maf = MaskedAutoregressive(params)
        >>> maf.forward(jnp.ones(4))            # identity at initialisation
        Array([1., 1., 1., 1.], dtype=float32)
    """

    event_ndims = 1

    def __init__(self, params, *, activation=jax.nn.relu, log_scale_bound=LOG_SCALE_BOUND):
        widths = widths_of(params, "MaskedAutoregressive")
        if widths[-1] != 2 * widths[0]:
            raise ValueError(
                "MaskedAutoregressive: the last layer must have 2 * event_size outputs "
                f"(shift and log-scale); got {widths[-1]} for event_size {widths[0]}"
            )
        self.params = list(params)
        self.activation = activation
        self.log_scale_bound = check_bound("MaskedAutoregressive", log_scale_bound)

    @staticmethod
    def init_params(key, event_size, hidden_sizes=(32, 32)):
        """Network parameters for a `MaskedAutoregressive` layer that starts at identity.

        Args:
            key: a `jax.random` key.
            event_size: the dimension of the vectors the flow acts on.
            hidden_sizes: widths of the hidden layers.

        Returns:
            A list of ``{"w": [in, out], "b": [out]}`` dicts (last layer zero).

        Example:
            >>> import jax
            >>> p = MaskedAutoregressive.init_params(jax.random.key(0), 3, (8, 8))
            >>> [layer["w"].shape for layer in p]
            [(3, 8), (8, 8), (8, 6)]
        """
        event_size, hidden_sizes = _check_sizes("MaskedAutoregressive", event_size, hidden_sizes)
        return init_mlp(key, (event_size, *hidden_sizes, 2 * event_size))

    @property
    def event_size(self) -> int:
        return int(jnp.shape(self.params[0]["w"])[0])

    def _shift_and_log_scale(self, y):
        widths = [jnp.shape(layer["w"])[1] for layer in self.params[:-1]]
        masks = made_masks(self.event_size, widths, 2)
        out = apply_mlp(self.params, y, self.activation, masks)
        log_scale = soft_clamp(out[..., self.event_size :], self.log_scale_bound)
        return out[..., : self.event_size], log_scale

    def forward_and_log_det(self, x):
        x = _check_event("MaskedAutoregressive", x, self.event_size)

        # Pass k fixes output dimension k; after event_size passes the shift and
        # log-scale were computed from the final y (they only read earlier dims).
        def body(_, carry):
            y, _ = carry
            shift, log_scale = self._shift_and_log_scale(y)
            return x * jnp.exp(log_scale) + shift, log_scale

        y, log_scale = jax.lax.fori_loop(
            0, self.event_size, body, (jnp.zeros_like(x), jnp.zeros_like(x))
        )
        return y, jnp.sum(log_scale, axis=-1)

    def inverse_and_log_det(self, y):
        y = _check_event("MaskedAutoregressive", y, self.event_size)
        shift, log_scale = self._shift_and_log_scale(y)
        return (y - shift) * jnp.exp(-log_scale), -jnp.sum(log_scale, axis=-1)

    def __repr__(self):
        widths = widths_of(self.params, "MaskedAutoregressive")
        return f"MaskedAutoregressive(widths={widths})"


def _coupling_mask(owner, event_size, mask, parity):
    if mask is None:
        if parity not in (0, 1):
            raise ValueError(f"{owner}: `parity` must be 0 or 1; got {parity!r}")
        return tuple(i % 2 == parity for i in range(event_size))
    mask = tuple(bool(m) for m in np.asarray(mask).reshape(-1))
    if len(mask) != event_size:
        raise ValueError(f"{owner}: `mask` must have {event_size} entries; got {len(mask)}")
    return mask


class RealNVP(Bijector):
    """Affine coupling layer: dims where `mask` is True pass through and condition an
    affine map ``y = x exp(a(x_kept)) + m(x_kept)`` of the others.

    Args:
        params: the conditioner network from `init_params` (built with the same mask).
        mask: booleans, one per dimension, True where the input passes through; default
            alternating dims chosen by `parity`.
        parity: with no `mask`, dims ``i`` with ``i % 2 == parity`` pass through.
        activation: hidden-layer nonlinearity (static); default ``jax.nn.relu``.
        log_scale_bound: the soft limit on ``|a|`` (static): ``a = bound * tanh(raw /
            bound)`` of the network's raw output; None for no limit.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> params = RealNVP.init_params(jax.random.key(0), 4, parity=1)
        >>> RealNVP(params, parity=1).forward(jnp.arange(4.0))   # identity at init
        Array([0., 1., 2., 3.], dtype=float32)
    """

    event_ndims = 1

    def __init__(
        self, params, *, mask=None, parity=0, activation=jax.nn.relu, log_scale_bound=LOG_SCALE_BOUND
    ):
        widths = widths_of(params, "RealNVP")
        if widths[-1] % 2:
            raise ValueError(f"RealNVP: the last layer must have an even width; got {widths[-1]}")
        event_size = widths[0] + widths[-1] // 2
        self.mask = _coupling_mask("RealNVP", event_size, mask, parity)
        num_kept = sum(self.mask)
        if num_kept != widths[0]:
            raise ValueError(
                f"RealNVP: `params` expect {widths[0]} pass-through dims but the mask keeps "
                f"{num_kept}; build params with the same mask/parity"
            )
        self.params = list(params)
        self.activation = activation
        self.log_scale_bound = check_bound("RealNVP", log_scale_bound)

    @staticmethod
    def init_params(key, event_size, hidden_sizes=(32, 32), *, mask=None, parity=0):
        """Conditioner parameters for a `RealNVP` layer that starts at identity.

        Args:
            key: a `jax.random` key.
            event_size: the dimension of the vectors the flow acts on.
            hidden_sizes: widths of the hidden layers.
            mask: as for `RealNVP` (pass the same one to the constructor).
            parity: as for `RealNVP`.

        Returns:
            A list of ``{"w": [in, out], "b": [out]}`` dicts (last layer zero).

        Example:
            >>> import jax
            >>> p = RealNVP.init_params(jax.random.key(0), 5, (8,))
            >>> [layer["w"].shape for layer in p]
            [(3, 8), (8, 4)]
        """
        event_size, hidden_sizes = _check_sizes("RealNVP", event_size, hidden_sizes)
        mask = _coupling_mask("RealNVP", event_size, mask, parity)
        num_kept = sum(mask)
        return init_mlp(key, (num_kept, *hidden_sizes, 2 * (event_size - num_kept)))

    def _split(self, x):
        kept = np.flatnonzero(self.mask)
        changed = np.flatnonzero(~np.asarray(self.mask))
        out = apply_mlp(self.params, x[..., kept], self.activation)
        log_scale = soft_clamp(out[..., len(changed) :], self.log_scale_bound)
        return changed, out[..., : len(changed)], log_scale

    def forward_and_log_det(self, x):
        x = _check_event("RealNVP", x, len(self.mask))
        changed, shift, log_scale = self._split(x)
        y = x.at[..., changed].set(x[..., changed] * jnp.exp(log_scale) + shift)
        return y, jnp.sum(log_scale, axis=-1)

    def inverse_and_log_det(self, y):
        y = _check_event("RealNVP", y, len(self.mask))
        changed, shift, log_scale = self._split(y)
        x = y.at[..., changed].set((y[..., changed] - shift) * jnp.exp(-log_scale))
        return x, -jnp.sum(log_scale, axis=-1)

    def __repr__(self):
        return f"RealNVP(mask={[int(m) for m in self.mask]})"


def masked_autoregressive_flow(key, event_size, *, num_layers=2, hidden_sizes=(32, 32)):
    """A `Chain` of `num_layers` MAF layers with reversing `Permute`s in between.

    Args:
        key: a `jax.random` key.
        event_size: the dimension of the vectors the flow acts on.
        num_layers: number of `MaskedAutoregressive` layers.
        hidden_sizes: hidden widths of each layer's MADE network.

    Returns:
        A `Chain` (the identity map at initialisation); its leaves are the weights.

    Example:
        >>> import jax
        >>> flow = masked_autoregressive_flow(jax.random.key(0), 2, num_layers=3)
        >>> len(flow.bijectors)
        5
    """
    reverse = Permute(list(range(event_size))[::-1])
    layers = []
    for k in jax.random.split(key, num_layers):
        layers += [
            MaskedAutoregressive(MaskedAutoregressive.init_params(k, event_size, hidden_sizes)),
            reverse,
        ]
    return Chain(layers[:-1])


def real_nvp_flow(key, event_size, *, num_layers=4, hidden_sizes=(32, 32)):
    """A `Chain` of `num_layers` `RealNVP` couplings with alternating parity.

    Args:
        key: a `jax.random` key.
        event_size: the dimension of the vectors the flow acts on (at least 2).
        num_layers: number of coupling layers.
        hidden_sizes: hidden widths of each conditioner network.

    Returns:
        A `Chain` (the identity map at initialisation); its leaves are the weights.

    Example:
        >>> import jax
        >>> real_nvp_flow(jax.random.key(0), 4, num_layers=2)
        Chain([RealNVP(mask=[1, 0, 1, 0]), RealNVP(mask=[0, 1, 0, 1])])
    """
    if not isinstance(event_size, (int, np.integer)) or event_size < 2:
        raise ValueError(f"real_nvp_flow: `event_size` must be an int >= 2; got {event_size!r}")
    layers = [
        RealNVP(RealNVP.init_params(k, event_size, hidden_sizes, parity=i % 2), parity=i % 2)
        for i, k in enumerate(jax.random.split(key, num_layers))
    ]
    return Chain(layers)
