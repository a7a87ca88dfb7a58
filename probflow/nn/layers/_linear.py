"""Shared base of Dense and the convolutions: ``y = activation(op(x, kernel) + bias)``.

The operation-specific part (kernel shape, the linear map, output shape, the shape of
Flipout's sign vectors) lives in an ops mixin (`dense._DenseOps`, `conv._ConvOps`); this
base adds what is common to point-estimated and Bayesian variants: activation, bias,
weight prior, the weight-space view and config.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from probflow.nn.layers.activations import activation_name, get_activation
from probflow.nn.layers.initializers import get_initializer, initializer_name
from probflow.nn.layers.layer import Layer
from probflow.nn.layers.priors import check_prior

__all__ = ["LinearLayer"]


class LinearLayer(Layer):
    """Abstract: a linear map of the last (channel) axis plus bias and activation.

    Ops mixins provide ``_out_channels``, ``_kernel_shape(input_shape)``,
    ``_linear(x, kernel)``, ``_output_shape``, ``_check_input_shape`` and
    ``_spatial_rank`` (0 for Dense).
    """

    _spatial_rank = 0

    def _setup_linear(self, *, activation, use_bias, prior, kernel_initializer, bias_initializer):
        owner = f"{type(self).__name__} {self.name!r}"
        self.activation = get_activation(activation)
        self.use_bias = bool(use_bias)
        self.prior = check_prior(prior, "prior", owner)
        self.kernel_initializer = get_initializer(kernel_initializer)
        self.bias_initializer = get_initializer(bias_initializer)
        return {
            "activation": activation,
            "use_bias": self.use_bias,
            "kernel_initializer": kernel_initializer,
            "bias_initializer": bias_initializer,
            "prior": self.prior,
        }

    def _json_value(self, argument, value):
        if argument == "activation":
            return activation_name(value)
        if argument.endswith("_initializer"):
            return initializer_name(value)
        return super()._json_value(argument, value)

    # -- parameters ------------------------------------------------------------------
    def weight_shapes(self, input_shape) -> dict:
        shape = self._validated_shape(input_shape)
        shapes = {"kernel": tuple(self._kernel_shape(shape))}
        if self.use_bias:
            shapes["bias"] = (self._out_channels,)
        return shapes

    def _init_params(self, key, input_shape):
        dtype = jnp.result_type(float)
        key_kernel, key_bias = jax.random.split(key)
        params = {"kernel": self.kernel_initializer(key_kernel, self._kernel_shape(input_shape), dtype)}
        if self.use_bias:
            params["bias"] = self.bias_initializer(key_bias, (self._out_channels,), dtype)
        return params

    # -- forward ---------------------------------------------------------------------
    def _check_x(self, x, kernel):
        x = jnp.asarray(x)
        rank = self._spatial_rank + 2
        if x.ndim < rank or x.shape[-1] != kernel.shape[-2]:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: input `x` must have shape "
                f"(batch, ..., {kernel.shape[-2]}) with at least {rank} dims; got {x.shape}"
            )
        return x

    def apply_with_weights(self, weights, state, x, *, key=None, training=False):
        del key, training
        x = self._check_x(x, weights["kernel"])
        y = self._linear(x, weights["kernel"])
        if self.use_bias:
            y = y + weights["bias"]
        return self.activation(y), state

    def apply(self, params, state, x, *, key=None, training=False):
        return self.apply_with_weights(params, state, x, key=key, training=training)
