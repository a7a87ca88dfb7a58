"""Dense (fully connected) layer: ``y = activation(x @ kernel + bias)`` on the last axis."""

from __future__ import annotations

import jax.numpy as jnp

from probflow.nn.layers._linear import LinearLayer
from probflow.nn.layers.registry import register_layer

__all__ = ["Dense"]


def _check_units(owner, units):
    if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
        raise ValueError(f"{owner}: `units` must be a positive int; got {units!r}")
    return units


class _DenseOps:
    """The dense map on the last axis; any leading per-example axes are kept (Keras)."""

    _spatial_rank = 0

    @property
    def _out_channels(self):
        return self.units

    def _check_input_shape(self, input_shape):
        if len(input_shape) < 1:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: `input_shape` must have at least one "
                f"dim (features); got {input_shape}"
            )

    def _kernel_shape(self, input_shape):
        return (input_shape[-1], self.units)

    def _output_shape(self, input_shape):
        return input_shape[:-1] + (self.units,)

    def _linear(self, x, kernel):
        return jnp.matmul(x, kernel)

    def _sign_shape(self, x_shape, channels):
        # One sign per row of the linear map (Wen et al. 2018, per example).
        return tuple(x_shape[:-1]) + (channels,)


@register_layer
class Dense(_DenseOps, LinearLayer):
    """Fully connected layer on the last axis.

    Args:
        units: number of output features.
        activation: None (linear), a name (relu, tanh, ...) or a callable.
        use_bias: whether to add a bias.
        kernel_initializer: Keras name or ``(key, shape, dtype) -> array``.
        bias_initializer: as `kernel_initializer`.
        prior: weight prior used by `log_prior` (NUTS / SG-MCMC / MAP); default
            Normal(0, 1).
        name: layer name; Keras-style automatic when None.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> layer = Dense(4, activation="relu")
        >>> params, state = layer.init(jax.random.key(0), (3,))
        >>> params["kernel"].shape, params["bias"].shape
        ((3, 4), (4,))
        >>> layer.apply(params, state, jnp.ones((2, 3)))[0].shape
        (2, 4)
    """

    def __init__(
        self,
        units,
        *,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        prior=None,
        name=None,
    ):
        super().__init__(name=name)
        self.units = _check_units(f"Dense {self.name!r}", units)
        config = self._setup_linear(
            activation=activation,
            use_bias=use_bias,
            prior=prior,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
        )
        self._config = {"units": units, **config}
