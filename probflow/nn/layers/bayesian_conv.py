"""Bayesian convolutions: Conv1D/Conv2D with Reparameterization or Flipout estimators.

Flipout signs are drawn per example and per channel and shared over spatial positions,
so each example sees a pseudo-independent perturbation of the one shared kernel draw.
"""

from __future__ import annotations

from probflow.nn.layers.bayesian import BayesianLinear
from probflow.nn.layers.conv import _ConvOps
from probflow.nn.layers.registry import register_layer

__all__ = [
    "Conv1DReparameterization",
    "Conv1DFlipout",
    "Conv2DReparameterization",
    "Conv2DFlipout",
]


class _BayesianConv(_ConvOps, BayesianLinear):
    """Abstract: the constructor shared by the four Bayesian convolutions."""

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
        prior=None,
        posterior=None,
        bias_prior=None,
        bias_posterior="default",
        bias_initializer="zeros",
        kl_method="auto",
        name=None,
    ):
        super().__init__(name=name)
        config = self._setup_conv(filters, kernel_size, strides, padding, dilation_rate)
        config.update(
            self._setup_bayesian(
                activation=activation,
                use_bias=use_bias,
                prior=prior,
                posterior=posterior,
                bias_prior=bias_prior,
                bias_posterior=bias_posterior,
                bias_initializer=bias_initializer,
                kl_method=kl_method,
            )
        )
        self._config = config


_ARGS_DOC = """
    Args:
        filters, kernel_size, strides, padding, dilation_rate, activation, use_bias: as
            for the deterministic convolution.
        prior: weight prior, any probflow distribution with a scalar event (default
            Normal(0, 1)).
        posterior: kernel posterior, a `MeanFieldNormal` (default: glorot-uniform
            means, scale 1e-3).
        bias_prior: defaults to `prior`.
        bias_posterior: default zero means, scale 1e-3; ``None`` for a point estimate.
        bias_initializer: initialiser of a point-estimated bias.
        kl_method: "auto", "analytic" or "mc".
        name: layer name.
"""


def _example(cls_name, shape):
    return f"""
    Example:
        >>> import jax, jax.numpy as jnp
        >>> from probflow import nn
        >>> layer = nn.{cls_name}(4, 3, padding="same")
        >>> params, state = layer.init(jax.random.key(0), {shape})
        >>> y, _ = layer.apply(params, state, jnp.ones((2,) + {shape}), key=jax.random.key(1))
        >>> y.shape == (2,) + {shape}[:-1] + (4,)
        True
    """


@register_layer
class Conv1DReparameterization(_BayesianConv):
    __doc__ = (
        "1-D convolution with Normal weights, one kernel draw per call.\n"
        + _ARGS_DOC
        + _example("Conv1DReparameterization", (6, 2))
    )
    _spatial_rank = 1
    _estimator = "reparameterization"


@register_layer
class Conv1DFlipout(_BayesianConv):
    __doc__ = (
        "1-D convolution with Normal weights and Flipout (Wen et al. 2018).\n"
        + _ARGS_DOC
        + _example("Conv1DFlipout", (6, 2))
    )
    _spatial_rank = 1
    _estimator = "flipout"


@register_layer
class Conv2DReparameterization(_BayesianConv):
    __doc__ = (
        "2-D convolution with Normal weights, one kernel draw per call.\n"
        + _ARGS_DOC
        + _example("Conv2DReparameterization", (5, 5, 2))
    )
    _spatial_rank = 2
    _estimator = "reparameterization"


@register_layer
class Conv2DFlipout(_BayesianConv):
    __doc__ = (
        "2-D convolution with Normal weights and Flipout (Wen et al. 2018).\n"
        + _ARGS_DOC
        + _example("Conv2DFlipout", (5, 5, 2))
    )
    _spatial_rank = 2
    _estimator = "flipout"
