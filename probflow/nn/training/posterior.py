"""Weight draws from a fitted network's posterior, whatever the method, and `to_arviz`.

The posterior is `model.fitted_posterior` (`training.fitted`): the layers' variational
parameters or point weights after ``vi`` / ``map``, or stored weight draws after
``nuts``, ``hmc``, SG-MCMC or ``ensemble``. `posterior_samples` and `to_arviz` read
either form here, so the code that turns a posterior into draws exists once.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from probflow._seed import as_key
from probflow.nn.training.fitted import DrawsPosterior, PointPosterior, WeightDraws
from probflow.nn.training.weights_target import pointwise_and_predictive

__all__ = [
    "WeightDraws",
    "check_fitted",
    "draw_indices",
    "posterior_samples",
    "stack_draws",
    "to_arviz",
]


def stack_draws(weights, layer_state) -> WeightDraws:
    """`WeightDraws` from weights with leaves ``[chain, draw, ...]`` and a layer state
    that is either per draw too or one state shared by all draws (broadcast here)."""
    lead = jax.tree_util.tree_leaves(weights)[0].shape[:2]
    state_leaves = jax.tree_util.tree_leaves(layer_state)
    if state_leaves and state_leaves[0].shape[:2] != lead:
        layer_state = jax.tree_util.tree_map(
            lambda a: jnp.broadcast_to(a, lead + jnp.shape(a)), layer_state)
    return WeightDraws(weights, layer_state)


def draw_indices(num_draws: int, num_samples: int) -> np.ndarray:
    """`num_samples` evenly spaced indices into `num_draws` draws (repeats when more).

    Example:
        >>> draw_indices(10, 4).tolist()
        [0, 2, 5, 7]
    """
    return (np.arange(num_samples) * num_draws) // num_samples


def check_fitted(model, what):
    """The model's fitted posterior, or a ValueError saying what to do first."""
    posterior = model.fitted_posterior
    heads_ready = model.compiled and all(h.built for h in model.heads)
    if posterior is None or not heads_ready or (posterior.reads_layers and not model.built):
        raise ValueError(f"`{what}` needs a fitted model: call compile and fit first")
    return posterior


@functools.partial(jax.jit, static_argnums=(0, 3, 4))
def _variational_samples(model, params, key, num_samples, mean_weights):
    layers = {}
    for i, layer in enumerate(model.layers):
        name = model.layer_name(layer)
        layer_params = params["layers"][name]
        if layer.is_bayesian and not mean_weights:
            keys = jax.random.split(jax.random.fold_in(key, i), num_samples)
            layers[name] = jax.vmap(lambda k, p=layer_params, lay=layer: lay.sample_weights(k, p))(keys)
        else:
            layers[name] = _repeat(layer.mean_weights(layer_params), num_samples)
    return {"layers": layers, "likelihood": _repeat(params["likelihood"], num_samples)}


def _repeat(tree, n):
    return jax.tree_util.tree_map(lambda a: jnp.broadcast_to(a, (n,) + jnp.shape(a)), tree)


def posterior_samples(model, num_samples=100, seed=0):
    """Weight draws from any fitted posterior; see `Model.posterior_samples`."""
    posterior = check_fitted(model, "posterior_samples")
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
        raise ValueError(f"`num_samples` must be an int >= 1; got {num_samples!r}")
    if isinstance(posterior, DrawsPosterior):
        flat = posterior.draws.flat()
        index = draw_indices(_num_flat(flat), num_samples)
        return jax.tree_util.tree_map(lambda a: a[index], flat.weights)
    return _variational_samples(model, model.params, as_key(seed), num_samples,
                                isinstance(posterior, PointPosterior))


def _num_flat(flat: WeightDraws) -> int:
    return int(jax.tree_util.tree_leaves(flat.weights)[0].shape[0])


def arviz_draws(model, num_samples, seed):
    """``(WeightDraws [chain, draw, ...], stats or None)`` for `to_arviz`."""
    posterior = check_fitted(model, "to_arviz")
    if isinstance(posterior, DrawsPosterior):
        draws, stats = posterior.draws, posterior.stats
        if num_samples is not None:
            # Thin each chain evenly, keeping the chain structure for R-hat.
            per_chain = max(1, num_samples // draws.shape[0])
            index = draw_indices(draws.shape[1], per_chain)
            thinned = jax.tree_util.tree_map(lambda a: a[:, index], draws)
            stats = None if stats is None else {k: v[:, index] for k, v in stats.items()}
            return thinned, stats
        return draws, stats
    weights = posterior_samples(model, 1000 if num_samples is None else num_samples, seed)
    state = model.layer_state
    n = _num_flat(WeightDraws(weights, None))
    add_chain = functools.partial(jax.tree_util.tree_map, lambda a: a[None])
    return WeightDraws(add_chain(weights), add_chain(_repeat(state, n))), None


def _weight_var_names(model, weights):
    """``{arviz name: array}`` for the posterior group: ``layer.weight``, ``likelihood.p``."""
    out = {}
    for layer_name, layer_weights in weights["layers"].items():
        for weight_name, value in layer_weights.items():
            out[f"{layer_name}.{weight_name}"] = value
    heads = weights["likelihood"]
    for i, head_params in enumerate(heads):
        prefix = "likelihood" if len(heads) == 1 else f"likelihood_{i}"
        for param_name, value in head_params.items():
            out[f"{prefix}.{param_name}"] = value
    return out


def to_arviz(model, x, y, *, num_samples=None, seed=0, batch_size=64):
    """ArviZ InferenceData of the fitted network on `(x, y)`; see `Model.to_arviz`."""
    from probflow.inference.arviz import to_inference_data
    from probflow.nn.training.data import prepare_xy

    posterior = check_fitted(model, "to_arviz")
    xs, ys = prepare_xy(model, x, y)
    draws, stats = arviz_draws(model, num_samples, seed)
    num_chains, num_draws = draws.shape
    fixed = posterior.fixed if isinstance(posterior, DrawsPosterior) else {}
    log_lik, predictive = pointwise_and_predictive(
        model, draws.flat(), [jnp.asarray(a) for a in xs], [jnp.asarray(a) for a in ys],
        as_key(seed), batch_size=batch_size, fixed=fixed)

    def chains(a):
        a = np.asarray(a)
        return a.reshape((num_chains, num_draws) + a.shape[1:])

    names = model.output_names()
    posterior = {k: np.asarray(v) for k, v in _weight_var_names(model, draws.weights).items()}
    dims = {k: [f"{k}_dim_{i}" for i in range(v.ndim - 2)] for k, v in posterior.items()}
    return to_inference_data(
        posterior=posterior,
        sample_stats=stats,
        log_likelihood={n: chains(v) for n, v in zip(names, log_lik)},
        posterior_predictive={n: chains(v) for n, v in zip(names, predictive)},
        observed_data={n: np.asarray(v) for n, v in zip(names, ys)},
        dims=dims,
    )
