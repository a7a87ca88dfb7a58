"""Shared base of the Bayesian dense and conv layers (mean-field Normal weights).

Each stochastic weight tensor ``w`` (the kernel, and the bias unless
``bias_posterior=None``) has posterior params ``{w}_loc`` and ``{w}_raw_scale`` with
``scale = softplus(raw_scale)``. Two gradient estimators share everything else:

* reparameterization (Kingma & Welling 2014; Blundell et al. 2015): one weight draw
  ``w = loc + scale * eps`` per call, shared by the whole batch;
* flipout (Wen et al. 2018): the same shared ``eps``, decorrelated per example by random
  signs on the inputs and outputs of the perturbation.

Keys: `apply(key=k)` splits ``k`` into ``(key_weights, key_signs)`` and draws ``eps``
from ``key_weights``; `kl(params, k)` does the same split, so a Monte-Carlo KL taken with
the same key is evaluated at the same weight draw as the forward pass.
"""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp

from probflow.nn.layers._linear import LinearLayer
from probflow.nn.layers.activations import get_activation
from probflow.nn.layers.flipout import flipout_perturbation
from probflow.nn.layers.initializers import get_initializer
from probflow.nn.layers.posteriors import MeanFieldNormal, check_posterior
from probflow.nn.layers.priors import check_prior

__all__ = ["BayesianLinear"]

_KL_METHODS = ("auto", "analytic", "mc")


def _split_key(key, owner):
    if key is None:
        raise ValueError(
            f"{owner}: `key` is required to draw weights; pass key=jax.random.key(...) "
            "(for the posterior mean use apply_with_weights(mean_weights(params), ...))"
        )
    return jax.random.split(key)


class BayesianLinear(LinearLayer):
    """Abstract: a dense or conv layer whose weights have a mean-field Normal posterior.

    Concrete classes combine an ops mixin with this base and set ``_estimator`` to
    ``"reparameterization"`` or ``"flipout"``.
    """

    is_bayesian = True
    _estimator = "reparameterization"

    def _setup_bayesian(
        self, *, activation, use_bias, prior, posterior, bias_prior, bias_posterior,
        bias_initializer, kl_method,
    ):
        owner = f"{type(self).__name__} {self.name!r}"
        self.activation = get_activation(activation)
        self.use_bias = bool(use_bias)
        self.prior = check_prior(prior, "prior", owner)
        self.bias_prior = self.prior if bias_prior is None else check_prior(bias_prior, "bias_prior", owner)
        self.posterior = check_posterior(posterior, "posterior", owner)
        if isinstance(bias_posterior, str) and bias_posterior == "default":
            bias_posterior = MeanFieldNormal(loc_initializer="zeros")
        self.bias_posterior = check_posterior(bias_posterior, "bias_posterior", owner, allow_none=True)
        self.bias_initializer = get_initializer(bias_initializer)
        if kl_method not in _KL_METHODS:
            raise ValueError(f"{owner}: `kl_method` must be one of {_KL_METHODS}; got {kl_method!r}")
        self.kl_method = kl_method
        return {
            "activation": activation,
            "use_bias": self.use_bias,
            "prior": self.prior,
            "posterior": self.posterior,
            "bias_prior": None if bias_prior is None else self.bias_prior,
            "bias_posterior": self.bias_posterior,
            "bias_initializer": bias_initializer,
            "kl_method": kl_method,
        }

    # -- deterministic -> Bayesian ------------------------------------------------------
    @classmethod
    def from_layer(cls, layer, *, init_scale=1e-3, prior=None, bias_posterior="default",
                   kl_method="auto", name=None):
        """A Bayesian copy of a trained `Dense` / `Conv1D` / `Conv2D` layer.

        Its posterior means are the layer's trained weights and its posterior scales
        start at `init_scale`, so the Bayesian network starts where the deterministic
        one ended and VI only has to learn the uncertainty around it.

        Args:
            layer: a built deterministic layer of the matching kind (Dense for the
                dense variants, Conv2D for the 2-D ones, ...).
            init_scale: initial posterior standard deviation of every weight, > 0.
            prior: weight prior (default Normal(0, 1)).
            bias_posterior: as in the constructor (``None``: point-estimated bias).
            kl_method: as in the constructor.
            name: the new layer's name (default: automatic).

        Returns:
            The new layer, built, with ``kernel_loc`` equal to the layer's kernel.

        Example:
            >>> import jax.numpy as jnp
            >>> from probflow import nn
            >>> dense = nn.Dense(2)
            >>> _ = dense(jnp.ones((1, 3)))                # builds its weights
            >>> bayes = nn.DenseFlipout.from_layer(dense)
            >>> bool(jnp.all(bayes.params["kernel_loc"] == dense.params["kernel"]))
            True
        """
        owner = f"{cls.__name__}.from_layer"
        if (not isinstance(layer, LinearLayer) or layer.is_bayesian
                or layer._spatial_rank != cls._spatial_rank
                or ("units" in layer._config) != (cls._spatial_rank == 0)):
            kind = "Dense" if cls._spatial_rank == 0 else f"Conv{cls._spatial_rank}D"
            raise TypeError(f"{owner}: `layer` must be a deterministic {kind} layer; got "
                            f"{type(layer).__name__}")
        if not layer.built:
            raise ValueError(f"{owner}: `layer` {layer.name!r} has no weights yet; fit or "
                             "build it first")
        shared = ("units", "filters", "kernel_size", "strides", "padding", "dilation_rate",
                  "activation", "use_bias")
        config = {k: layer._config[k] for k in shared if k in layer._config}
        if isinstance(bias_posterior, str) and bias_posterior == "default":
            bias_posterior = MeanFieldNormal(loc_initializer="zeros", init_scale=init_scale)
        new = cls(**config, prior=prior, posterior=MeanFieldNormal(init_scale=init_scale),
                  bias_posterior=bias_posterior, kl_method=kl_method, name=name)
        new.build_variables(None, layer.built_input_shape)
        trained = layer.params
        params = new.params
        params["kernel_loc"] = trained["kernel"]
        if "bias_loc" in params:
            params["bias_loc"] = trained["bias"]
        elif "bias" in params:
            params["bias"] = trained["bias"]
        new.assign_variables(params=params)
        return new

    # -- parameters ------------------------------------------------------------------
    @property
    def stochastic_weights(self) -> tuple:
        """Names of the weights drawn from the posterior."""
        bayesian_bias = self.use_bias and self.bias_posterior is not None
        return ("kernel", "bias") if bayesian_bias else ("kernel",)

    def _posterior_for(self, name):
        return self.posterior if name == "kernel" else self.bias_posterior

    def _prior_for(self, name):
        return self.prior if name == "kernel" else self.bias_prior

    def _init_params(self, key, input_shape):
        dtype = jnp.result_type(float)
        shapes = self.weight_shapes(input_shape)
        params = {}
        for (name, shape), subkey in zip(shapes.items(), jax.random.split(key, len(shapes))):
            if name in self.stochastic_weights:
                for field, value in self._posterior_for(name).init(subkey, shape, dtype).items():
                    params[f"{name}_{field}"] = value
            else:
                params[name] = self.bias_initializer(subkey, shape, dtype)
        return params

    def _count_stochastic(self, input_shape):
        shapes = self.weight_shapes(input_shape)
        return sum(int(jnp.prod(jnp.asarray(shapes[n]))) for n in self.stochastic_weights)

    def posterior_distributions(self, params) -> dict:
        """Weight name -> the posterior as a probflow Normal."""
        return {
            name: MeanFieldNormal.distribution(
                {"loc": params[f"{name}_loc"], "raw_scale": params[f"{name}_raw_scale"]}
            )
            for name in self.stochastic_weights
        }

    def _noise(self, key, params):
        # One draw for all stochastic tensors: fewer RNG kernels to compile and run.
        locs = [params[f"{name}_loc"] for name in self.stochastic_weights]
        sizes = [loc.size for loc in locs]
        flat = jax.random.normal(key, (sum(sizes),), locs[0].dtype)
        pieces = jnp.split(flat, list(itertools.accumulate(sizes))[:-1])
        return {
            name: piece.reshape(loc.shape)
            for name, piece, loc in zip(self.stochastic_weights, pieces, locs)
        }

    # -- weight-space view -----------------------------------------------------------
    def mean_weights(self, params) -> dict:
        weights = {"kernel": params["kernel_loc"]}
        if self.use_bias:
            weights["bias"] = params["bias_loc"] if "bias" in self.stochastic_weights else params["bias"]
        return weights

    def sample_weights(self, key, params) -> dict:
        weights = self.mean_weights(params)
        for name, eps in self._noise(key, params).items():
            weights[name] = weights[name] + MeanFieldNormal.scale(params[f"{name}_raw_scale"]) * eps
        return weights

    # -- forward ---------------------------------------------------------------------
    def apply(self, params, state, x, *, key=None, training=False):
        del training  # Bayesian layers draw weights in training and at prediction alike.
        key_weights, key_signs = _split_key(key, f"{type(self).__name__} {self.name!r}")
        if self._estimator == "reparameterization":
            weights = self.sample_weights(key_weights, params)
            return self.apply_with_weights(weights, state, x)
        eps = self._noise(key_weights, params)
        kernel_loc = params["kernel_loc"]
        x = self._check_x(x, kernel_loc)
        kernel_delta = MeanFieldNormal.scale(params["kernel_raw_scale"]) * eps["kernel"]
        y = self._linear(x, kernel_loc) + flipout_perturbation(
            key_signs,
            self._linear,
            x,
            kernel_delta,
            in_sign_shape=self._sign_shape(x.shape, x.shape[-1]),
            out_sign_shape=self._sign_shape(x.shape, self._out_channels),
        )
        if self.use_bias:
            # The bias enters additively, so a shared draw is already unbiased; flipping
            # its sign would not reduce variance of anything.
            bias = self.mean_weights(params)["bias"]
            if "bias" in eps:
                bias = bias + MeanFieldNormal.scale(params["bias_raw_scale"]) * eps["bias"]
            y = y + bias
        return self.activation(y), state

    # -- KL --------------------------------------------------------------------------
    def kl(self, params, key=None):
        """KL(posterior || prior), summed over the stochastic weights.

        Analytic where `probflow.distributions.kl_divergence` knows the pair (and
        ``kl_method`` is not ``"mc"``); otherwise the one-draw Monte-Carlo estimate
        ``log q(w) - log p(w)`` at the weight draw `apply` makes with the same `key`.

        Args:
            params: the layer's params.
            key: a `jax.random` key; required for the Monte-Carlo estimate.

        Returns:
            A scalar.
        """
        from probflow.distributions import kl_divergence

        owner = f"{type(self).__name__} {self.name!r}"
        posteriors = self.posterior_distributions(params)
        total = jnp.zeros((), jnp.result_type(*[q.loc for q in posteriors.values()]))
        eps = None
        for name, q in posteriors.items():
            p = self._prior_for(name)
            if self.kl_method != "mc":
                try:
                    total = total + jnp.sum(kl_divergence(q, p))
                    continue
                except NotImplementedError:
                    if self.kl_method == "analytic":
                        raise
            if eps is None:
                eps = self._noise(_split_key(key, owner)[0], params)
            w = q.loc + q.scale * eps[name]
            total = total + jnp.sum(q.log_prob(w) - p.log_prob(w))
        return total
