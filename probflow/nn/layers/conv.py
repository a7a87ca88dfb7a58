"""Convolutions, channels-last like Keras: `Conv1D` (NWC) and `Conv2D` (NHWC).

Kernels are ``spatial + (in_channels, filters)`` (WIO / HWIO). Padding is ``"valid"``
(no padding), ``"same"`` (output length ``ceil(n / stride)``, zeros split as TensorFlow
does, the extra one at the end) or, for Conv1D, ``"causal"`` (zeros on the left only, so
an output never sees later inputs). Like Keras, the ops compute cross-correlation.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import lax

from probflow.nn.layers._linear import LinearLayer
from probflow.nn.layers.registry import register_layer

__all__ = ["Conv1D", "Conv2D", "conv_output_length", "as_tuple"]

_DIMENSION_NUMBERS = {1: ("NWC", "WIO", "NWC"), 2: ("NHWC", "HWIO", "NHWC")}


def as_tuple(value, rank, argument, owner):
    """An int or a length-`rank` sequence of positive ints, as a tuple."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,) * rank
    try:
        value = tuple(int(v) for v in value)
    except TypeError:
        raise TypeError(
            f"{owner}: `{argument}` must be an int or a tuple of {rank} ints; got {value!r}"
        ) from None
    if len(value) != rank or any(v <= 0 for v in value):
        raise ValueError(f"{owner}: `{argument}` must be {rank} positive ints; got {value}")
    return value


def conv_output_length(length, window, stride, dilation, padding):
    """Output length of a convolution or pooling along one axis (Keras/TF rules)."""
    effective = (window - 1) * dilation + 1
    if padding == "valid":
        return (length - effective) // stride + 1 if length >= effective else 0
    return -(-length // stride)  # "same" and "causal": ceil(length / stride)


def check_padding(padding, allowed, owner):
    """Validates a padding name, case-insensitively; returns it in lower case."""
    lowered = padding.lower() if isinstance(padding, str) else padding
    if lowered not in allowed:
        raise ValueError(f"{owner}: `padding` must be one of {allowed}; got {padding!r}")
    return lowered


def flatten_batch(x, rank):
    """Merges all leading batch dims into one, returning the merged array and them."""
    batch = x.shape[: x.ndim - (rank + 1)]
    return x.reshape((-1,) + x.shape[x.ndim - (rank + 1) :]), batch


class _ConvOps:
    """Convolution over `_spatial_rank` axes, channels last; shared by plain and Bayesian."""

    _spatial_rank = 2

    def _setup_conv(self, filters, kernel_size, strides, padding, dilation_rate):
        owner = f"{type(self).__name__} {self.name!r}"
        rank = self._spatial_rank
        if isinstance(filters, bool) or not isinstance(filters, int) or filters <= 0:
            raise ValueError(f"{owner}: `filters` must be a positive int; got {filters!r}")
        self.filters = filters
        self.kernel_size = as_tuple(kernel_size, rank, "kernel_size", owner)
        self.strides = as_tuple(strides, rank, "strides", owner)
        self.dilation_rate = as_tuple(dilation_rate, rank, "dilation_rate", owner)
        allowed = ("valid", "same", "causal") if rank == 1 else ("valid", "same")
        self.padding = check_padding(padding, allowed, owner)
        return {
            "filters": filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "dilation_rate": self.dilation_rate,
        }

    @property
    def _out_channels(self):
        return self.filters

    def _check_input_shape(self, input_shape):
        rank = self._spatial_rank
        what = "width, channels" if rank == 1 else "height, width, channels"
        self._require_rank(input_shape, rank + 1, what)
        out = self._spatial_out(input_shape)
        if any(n <= 0 for n in out):
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: `input_shape` {input_shape} is smaller "
                f"than the dilated kernel {self.kernel_size} (dilation {self.dilation_rate}) "
                "with padding 'valid'"
            )

    def _spatial_out(self, input_shape):
        return tuple(
            conv_output_length(n, k, s, d, self.padding)
            for n, k, s, d in zip(input_shape[:-1], self.kernel_size, self.strides, self.dilation_rate)
        )

    def _kernel_shape(self, input_shape):
        return self.kernel_size + (input_shape[-1], self.filters)

    def _output_shape(self, input_shape):
        return self._spatial_out(input_shape) + (self.filters,)

    def _linear(self, x, kernel):
        rank = self._spatial_rank
        flat, batch = flatten_batch(x, rank)
        padding = self.padding.upper()
        if padding == "CAUSAL":
            left = (self.kernel_size[0] - 1) * self.dilation_rate[0]
            flat = jnp.pad(flat, ((0, 0), (left, 0), (0, 0)))
            padding = "VALID"
        y = lax.conv_general_dilated(
            flat,
            kernel,
            window_strides=self.strides,
            padding=padding,
            rhs_dilation=self.dilation_rate,
            dimension_numbers=_DIMENSION_NUMBERS[rank],
        )
        return y.reshape(batch + y.shape[1:])

    def _sign_shape(self, x_shape, channels):
        # Flipout signs per example and channel, shared over positions (as for the
        # shared kernel, a position-wise sign would not be a valid rank-one flip).
        rank = self._spatial_rank
        return tuple(x_shape[: len(x_shape) - (rank + 1)]) + (1,) * rank + (channels,)


class _Conv(_ConvOps, LinearLayer):
    """Abstract: the point-estimated convolution's constructor."""

    def __init__(
        self,
        filters,
        kernel_size,
        *,
        strides=1,
        padding="valid",
        dilation_rate=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        prior=None,
        name=None,
    ):
        super().__init__(name=name)
        config = self._setup_conv(filters, kernel_size, strides, padding, dilation_rate)
        config.update(
            self._setup_linear(
                activation=activation,
                use_bias=use_bias,
                prior=prior,
                kernel_initializer=kernel_initializer,
                bias_initializer=bias_initializer,
            )
        )
        self._config = config


_ARGS_DOC = """
    Args:
        filters: number of output channels.
        kernel_size: int or tuple, the window size.
        strides: int or tuple.
        padding: "valid" or "same"{causal}.
        dilation_rate: int or tuple (atrous convolution).
        activation: None (linear), a name or a callable.
        use_bias: whether to add a bias per filter.
        kernel_initializer: Keras name or ``(key, shape, dtype) -> array``.
        bias_initializer: as `kernel_initializer`.
        prior: weight prior for `log_prior` (NUTS / SG-MCMC / MAP); default Normal(0, 1).
        name: layer name; Keras-style automatic when None.
"""


@register_layer
class Conv1D(_Conv):
    __doc__ = (
        "1-D convolution over (width, channels) inputs.\n"
        + _ARGS_DOC.format(causal=' or "causal"')
        + """
    Example:
        >>> import jax, jax.numpy as jnp
        >>> layer = Conv1D(4, 3, padding="causal", dilation_rate=2)
        >>> params, state = layer.init(jax.random.key(0), (10, 2))
        >>> layer.apply(params, state, jnp.ones((1, 10, 2)))[0].shape
        (1, 10, 4)
    """
    )
    _spatial_rank = 1


@register_layer
class Conv2D(_Conv):
    __doc__ = (
        "2-D convolution over (height, width, channels) inputs (NHWC).\n"
        + _ARGS_DOC.format(causal="")
        + """
    Example:
        >>> import jax, jax.numpy as jnp
        >>> layer = Conv2D(8, 3)
        >>> layer.output_shape((8, 8, 1)), layer.count_params((8, 8, 1))["trainable"]
        ((6, 6, 8), 80)
    """
    )
    _spatial_rank = 2
