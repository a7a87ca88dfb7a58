"""The network as a log density over its weights: what NUTS/HMC, SG-MCMC and ensembles share.

A position is the weight-space view of the trainable part of the model,
``{"layers": {layer name: weights}, "likelihood": [head params]}``: every trainable
layer's weights (`Layer.weight_shapes`; a Bayesian layer contributes its weights, not
its variational parameters) and each likelihood head's raw parameters (e.g. the
softplus-inverse noise scale). Everything is unconstrained, so no bijectors are needed.
Frozen layers (``trainable=False``) are not sampled: their posterior-mean weights are
*fixed* data, ``{layer name: weights}``, merged into every position's forward pass.

The log density is ``sum_layers log_prior(weights) + sum_heads log N(raw | 0, 3)
+ sum_examples log p(y | x, weights)``: the layers' own priors (Normal(0, 1) unless
given), and a weakly-informative Normal(0, 3) on raw head parameters so that the
posterior is proper.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax.scipy.stats import norm

from probflow.inference.target import Target

__all__ = [
    "HEAD_PRIOR_SCALE",
    "fixed_weights",
    "initial_weights",
    "layers_log_prior",
    "log_likelihood",
    "log_prior",
    "network_target",
    "pointwise_and_predictive",
]

#: Scale of the Normal(0, scale) prior on the raw (unconstrained) head parameters.
HEAD_PRIOR_SCALE = 3.0


def initial_weights(model, key, *, frozen=None):
    """A starting position: the trainable layers' initialisers (posterior means) and
    head inits, all drawn from `key` (so each chain or member starts elsewhere).

    Args:
        model: a compiled model with built heads.
        key: a `jax.random` key.
        frozen: layer names left out of the position (default: the frozen layers).

    Returns:
        ``(weights, layer_state)``; the layer state is the layers' own when they are
        built (pure: nothing is built here, so it may run under `jax.eval_shape`).
    """
    layer_params, layer_state = model.init(key)
    frozen = model.frozen_layer_names if frozen is None else frozen
    layers = {
        model.layer_name(layer): layer.mean_weights(layer_params[model.layer_name(layer)])
        for layer in model.layers if model.layer_name(layer) not in frozen
    }
    heads = [h.init(jax.random.fold_in(key, 10_000 + i)) for i, h in enumerate(model.heads)]
    if model.built:
        layer_state = model.layer_state
    return {"layers": layers, "likelihood": heads}, layer_state


def fixed_weights(model) -> dict:
    """The frozen layers' posterior-mean weights, ``{layer name: weights}``."""
    frozen = model.frozen_layer_names
    return {model.layer_name(layer): layer.mean_weights(layer.params)
            for layer in model.layers if model.layer_name(layer) in frozen}


def layers_log_prior(model, layer_weights):
    """Sum of the weight priors of the layers in ``{layer name: weights}`` (frozen
    layers are absent: their prior is a constant)."""
    total = jnp.zeros((), jnp.result_type(float))
    for layer in model.layers:
        name = model.layer_name(layer)
        if name in layer_weights:
            total = total + layer.log_prior(layer_weights[name])
    return total


def log_prior(model, weights):
    """Log prior density of a position: layer priors plus the head-parameter prior."""
    total = layers_log_prior(model, weights["layers"])
    for leaf in jax.tree_util.tree_leaves(weights["likelihood"]):
        total = total + jnp.sum(norm.logpdf(leaf, 0.0, HEAD_PRIOR_SCALE))
    return total


def network_outputs(model, weights, layer_state, xs, fixed=None):
    """The network's outputs at explicit weights (inference mode): a list per output.

    `fixed` holds the frozen layers' weights, merged with the position's.
    """
    layers = weights["layers"] if not fixed else {**weights["layers"], **fixed}
    outputs, _ = model.forward(layers, layer_state, xs, training=False,
                               explicit_weights=True)
    return outputs


def log_likelihood(model, weights, layer_state, xs, ys, fixed=None):
    """Pointwise log likelihood: a list with one ``(n,)`` array per output."""
    outputs = network_outputs(model, weights, layer_state, xs, fixed)
    return [head.log_likelihood(p, out, y)
            for head, p, out, y in zip(model.heads, weights["likelihood"], outputs, ys)]


def _target_functions(model):
    # Cached per compiled model: the same function objects make the Target's static
    # part equal across fits, so `inference.sample` hits its compile cache.
    cache = model.program_cache
    if "weights_target" not in cache:
        def log_prob_fn(weights, data):
            pointwise = log_likelihood(model, weights, data["layer_state"], data["x"], data["y"],
                                       data["fixed"])
            return log_prior(model, weights) + sum(
                w * jnp.sum(ll) for w, ll in zip(model.loss_weights, pointwise))

        def log_likelihood_fn(weights, data):
            pointwise = log_likelihood(model, weights, data["layer_state"], data["x"], data["y"],
                                       data["fixed"])
            return dict(zip(model.output_names(), pointwise))

        cache["weights_target"] = (log_prob_fn, log_likelihood_fn)
    return cache["weights_target"]


def network_target(model, xs, ys, layer_state, example, fixed=None):
    """The full-data posterior over the network's weights as an inference `Target`.

    Args:
        model: a compiled model whose heads are built.
        xs: list of input arrays ``(n, ...)``.
        ys: list of prepared target arrays ``(n, ...)``.
        layer_state: the layer state the network runs with (inference mode).
        example: a position (gives the structure, shapes and dtypes).
        fixed: the frozen layers' weights (`fixed_weights`), or None.

    Returns:
        A `Target` (pass it to `probflow.inference.sample` or `vi.fit`).

    Example:
        >>> import numpy as np, jax
        >>> from probflow import nn
        >>> model = nn.Sequential([nn.Dense(2, activation="tanh"), nn.Dense(1)])
        >>> model.compile(likelihood="normal")
        >>> from probflow.nn.training.data import prepare_xy
        >>> xs, ys = prepare_xy(model, np.zeros((5, 1), "float32"), np.zeros(5, "float32"))
        >>> weights, state = initial_weights(model, jax.random.key(0))
        >>> network_target(model, xs, ys, state, weights).size
        8
    """
    log_prob_fn, log_likelihood_fn = _target_functions(model)
    data = {"x": [jnp.asarray(a) for a in xs], "y": [jnp.asarray(a) for a in ys],
            "layer_state": layer_state, "fixed": fixed or {}}
    observed = dict(zip(model.output_names(), [jnp.asarray(a) for a in ys]))
    example = jax.tree_util.tree_map(jnp.asarray, example)
    return Target(log_prob_fn, example, data=data, log_likelihood_fn=log_likelihood_fn,
                  observed=observed, init_center=example)


@functools.partial(jax.jit, static_argnums=(0, 5))
def _pointwise_and_predictive(model, draws, xs, ys, key, batch_size, fixed):
    num = jax.tree_util.tree_leaves(draws.weights)[0].shape[0]

    def one(args):
        index, weights, layer_state = args
        outputs = network_outputs(model, weights, layer_state, xs, fixed)
        draw_key = jax.random.fold_in(key, index)
        lls, preds = [], []
        for i, (head, p, out, y) in enumerate(zip(model.heads, weights["likelihood"], outputs,
                                                    ys)):
            lls.append(head.log_likelihood(p, out, y))
            dist = head.distribution(p, out)
            preds.append(dist.sample(jax.random.fold_in(draw_key, i)).reshape(y.shape))
        return lls, preds

    return jax.lax.map(one, (jnp.arange(num), draws.weights, draws.layer_state),
                       batch_size=min(batch_size, num))


def pointwise_and_predictive(model, flat_draws, xs, ys, key, *, batch_size=64, fixed=None):
    """Per draw: pointwise log likelihood and one posterior-predictive draw of `ys`.

    Args:
        model: the fitted model.
        flat_draws: a `WeightDraws` with leaves ``[S, ...]``.
        xs: list of input arrays; ys: list of prepared targets.
        key: key for the predictive draws (folded with the draw index).
        batch_size: draws evaluated at once (bounds memory).
        fixed: the frozen layers' weights shared by every draw.

    Returns:
        ``(log_lik, predictive)``: lists per output of ``[S, n]`` and ``[S, n, ...]``.
    """
    return _pointwise_and_predictive(model, flat_draws, xs, ys, key, int(batch_size),
                                     fixed or {})
