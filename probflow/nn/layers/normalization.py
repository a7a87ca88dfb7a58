"""Batch normalization (Ioffe & Szegedy 2015) with moving statistics as layer state."""

from __future__ import annotations

import jax.numpy as jnp
from jax import lax

from probflow.nn.layers.layer import Layer
from probflow.nn.layers.priors import check_prior
from probflow.nn.layers.registry import register_layer

__all__ = ["BatchNormalization"]


@register_layer
class BatchNormalization(Layer):
    """Normalises each channel (last axis) by batch statistics in training and by moving
    averages at inference.

    In training the statistics are taken over every axis but the last (batch and
    spatial), and the state's moving averages move towards them:
    ``moving = momentum * moving + (1 - momentum) * batch_statistic`` (the biased batch
    variance, as Keras). Params ``gamma`` / ``beta`` are trainable; state
    ``moving_mean`` / ``moving_variance`` is not.

    Args:
        momentum: weight of the old moving statistic, in [0, 1).
        epsilon: added to the variance before the square root, > 0.
        center: learn an offset ``beta``.
        scale: learn a scale ``gamma``.
        prior: prior on gamma / beta for `log_prior`; default Normal(0, 1).
        name: layer name.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> bn = BatchNormalization()
        >>> params, state = bn.init(jax.random.key(0), (3,))
        >>> x = jnp.arange(12.0).reshape(4, 3)
        >>> y, new_state = bn.apply(params, state, x, training=True)
        >>> [round(float(v), 3) for v in new_state["moving_mean"]]
        [0.045, 0.055, 0.065]
    """

    stateful = True
    inference_when_frozen = True

    def __init__(self, *, momentum=0.99, epsilon=1e-3, center=True, scale=True, prior=None, name=None):
        super().__init__(name=name)
        owner = f"BatchNormalization {self.name!r}"
        momentum, epsilon = float(momentum), float(epsilon)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"{owner}: `momentum` must be in [0, 1); got {momentum}")
        if not epsilon > 0.0:
            raise ValueError(f"{owner}: `epsilon` must be > 0; got {epsilon}")
        self.momentum, self.epsilon = momentum, epsilon
        self.center, self.scale = bool(center), bool(scale)
        self.prior = check_prior(prior, "prior", owner)
        self._config = {
            "momentum": momentum,
            "epsilon": epsilon,
            "center": self.center,
            "scale": self.scale,
            "prior": self.prior,
        }

    def _check_input_shape(self, input_shape):
        if len(input_shape) < 1:
            raise ValueError(
                f"BatchNormalization {self.name!r}: `input_shape` needs a channel axis; got {input_shape}"
            )

    def _init_params(self, key, input_shape):
        del key
        dtype = jnp.result_type(float)
        channels = input_shape[-1]
        params = {}
        if self.scale:
            params["gamma"] = jnp.ones((channels,), dtype)
        if self.center:
            params["beta"] = jnp.zeros((channels,), dtype)
        return params

    def _init_state(self, input_shape):
        dtype = jnp.result_type(float)
        channels = input_shape[-1]
        return {"moving_mean": jnp.zeros((channels,), dtype), "moving_variance": jnp.ones((channels,), dtype)}

    def apply(self, params, state, x, *, key=None, training=False):
        del key
        x = jnp.asarray(x)
        if x.ndim < 2 or x.shape[-1] != state["moving_mean"].shape[0]:
            raise ValueError(
                f"BatchNormalization {self.name!r}: input `x` must have shape "
                f"(batch, ..., {state['moving_mean'].shape[0]}); got {x.shape}"
            )
        if training:
            axes = tuple(range(x.ndim - 1))
            mean = jnp.mean(x, axis=axes)
            variance = jnp.mean(jnp.square(x - mean), axis=axes)
            # The moving averages are bookkeeping, not part of the loss being differentiated.
            m = self.momentum
            new_state = {
                "moving_mean": m * state["moving_mean"] + (1 - m) * lax.stop_gradient(mean),
                "moving_variance": m * state["moving_variance"] + (1 - m) * lax.stop_gradient(variance),
            }
        else:
            mean, variance, new_state = state["moving_mean"], state["moving_variance"], state
        y = (x - mean) * lax.rsqrt(variance + self.epsilon)
        if self.scale:
            y = y * params["gamma"]
        if self.center:
            y = y + params["beta"]
        return y, new_state
