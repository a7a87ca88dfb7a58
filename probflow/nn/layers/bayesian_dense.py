"""Bayesian dense layers: `DenseReparameterization` and `DenseFlipout`."""

from __future__ import annotations

from probflow.nn.layers.bayesian import BayesianLinear
from probflow.nn.layers.dense import _check_units, _DenseOps
from probflow.nn.layers.registry import register_layer

__all__ = ["DenseReparameterization", "DenseFlipout"]


class _BayesianDense(_DenseOps, BayesianLinear):
    """Abstract: the constructor shared by the two estimators."""

    def __init__(
        self,
        units,
        *,
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
        self.units = _check_units(f"{type(self).__name__} {self.name!r}", units)
        config = self._setup_bayesian(
            activation=activation,
            use_bias=use_bias,
            prior=prior,
            posterior=posterior,
            bias_prior=bias_prior,
            bias_posterior=bias_posterior,
            bias_initializer=bias_initializer,
            kl_method=kl_method,
        )
        self._config = {"units": units, **config}


_ARGS_DOC = """
    Args:
        units: number of output features.
        activation: None (linear), a name or a callable.
        use_bias: whether to add a bias.
        prior: weight prior, any probflow distribution with a scalar event (default
            Normal(0, 1); scale mixtures welcome).
        posterior: kernel posterior, a `MeanFieldNormal` (default: glorot-uniform
            means, scale 1e-3).
        bias_prior: bias prior; defaults to `prior`.
        bias_posterior: bias posterior (default: zero means, scale 1e-3); ``None``
            makes the bias a point estimate initialised by `bias_initializer`.
        bias_initializer: initialiser of a point-estimated bias.
        kl_method: "auto" (analytic when registered, else Monte Carlo), "analytic"
            or "mc".
        name: layer name; Keras-style automatic when None.
"""


@register_layer
class DenseReparameterization(_BayesianDense):
    __doc__ = (
        """Dense layer with Normal weights, one weight draw per call (reparameterization).
"""
        + _ARGS_DOC
        + """
    Example:
        >>> import jax, jax.numpy as jnp
        >>> layer = DenseReparameterization(2)
        >>> params, state = layer.init(jax.random.key(0), (3,))
        >>> sorted(params)
        ['bias_loc', 'bias_raw_scale', 'kernel_loc', 'kernel_raw_scale']
        >>> y, _ = layer.apply(params, state, jnp.ones((4, 3)), key=jax.random.key(1))
        >>> y.shape
        (4, 2)
    """
    )

    _estimator = "reparameterization"


@register_layer
class DenseFlipout(_BayesianDense):
    __doc__ = (
        """Dense layer with Normal weights and Flipout perturbations (Wen et al. 2018).

    Same model and posterior as `DenseReparameterization`; gradients have lower
    variance because each example sees a pseudo-independent weight perturbation.
"""
        + _ARGS_DOC
        + """
    Example:
        >>> import jax, jax.numpy as jnp
        >>> layer = DenseFlipout(2, activation="relu")
        >>> params, state = layer.init(jax.random.key(0), (3,))
        >>> y, _ = layer.apply(params, state, jnp.ones((4, 3)), key=jax.random.key(1))
        >>> y.shape, layer.count_params((3,))
        ((4, 2), {'trainable': 16, 'non_trainable': 0, 'stochastic': 8})
    """
    )

    _estimator = "flipout"
