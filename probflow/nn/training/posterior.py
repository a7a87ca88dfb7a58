"""What a fitted network's predictions integrate over, whatever the method.

After ``vi`` or ``map`` the posterior is ``model.train_state.params`` (variational
parameters, or a point at the posterior-mean weights). After ``nuts``, ``hmc``,
SG-MCMC or ``ensemble`` it is a set of weight draws, `WeightDraws`: the weight-space
view of every layer (``{"layers": {name: weights}, "likelihood": [head params]}``)
with leaves ``[chain, draw, ...]`` (an ensemble is one chain whose draws are the
members). `predict`, `predictive`, `evaluate`, `predict_interval`, `posterior_samples`
and `to_arviz` read either form through this module, so the prediction code exists
once.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from probflow._seed import as_key

__all__ = [
    "WeightDraws",
    "dispatch_fit",
    "draw_indices",
    "posterior_samples",
    "set_weight_draws",
    "to_arviz",
]

# Methods whose train_state is not the variational one (weight-space or stacked members):
# switching to or from them starts a fresh train state.
OWN_STATE_METHODS = ("sgld", "psgld", "sghmc", "ensemble")


class WeightDraws(NamedTuple):
    """Posterior draws of a network's weights.

    Attributes:
        weights: ``{"layers": {layer name: {weight: [chain, draw, ...]}},
            "likelihood": [head params with leaves [chain, draw, ...]]}``.
        layer_state: ``{layer name: state}`` with leaves ``[chain, draw, ...]``.
    """

    weights: Any
    layer_state: Any

    @property
    def shape(self) -> tuple:
        """``(num_chains, num_draws)``."""
        return tuple(jax.tree_util.tree_leaves(self.weights)[0].shape[:2])

    def flat(self) -> WeightDraws:
        """The draws with chains merged: leaves ``[chain * draw, ...]``."""
        return jax.tree_util.tree_map(lambda a: a.reshape((-1,) + a.shape[2:]), self)


def set_weight_draws(model, weights, layer_state, *, method, stats=None) -> None:
    """Makes `weights` (leaves ``[chain, draw, ...]``) the model's posterior.

    Args:
        model: the fitted model.
        weights: weight-space draws (see `WeightDraws`).
        layer_state: the layer state the draws run with: leaves ``[chain, draw, ...]``,
            or one state shared by all draws (broadcast here).
        method: the method name recorded as ``model._fitted_method``.
        stats: optional dict of ``[chain, draw]`` arrays (ArviZ's ``sample_stats``).
    """
    lead = jax.tree_util.tree_leaves(weights)[0].shape[:2]
    state_leaves = jax.tree_util.tree_leaves(layer_state)
    if state_leaves and state_leaves[0].shape[:2] != lead:
        layer_state = jax.tree_util.tree_map(
            lambda a: jnp.broadcast_to(a, lead + jnp.shape(a)), layer_state)
    model._weight_draws = WeightDraws(weights, layer_state)
    model._sample_stats = None if stats is None else {k: np.asarray(v) for k, v in stats.items()}
    model._fitted_method = method
    model._mean_weights = False
    model.built = True


def dispatch_fit(model, method, options, x, y, **fit_args):
    """`Model.fit`'s body: resolves the fitter, checks its options, runs it."""
    from probflow.nn.training.fitters import get_fitter

    fitter = get_fitter(method)
    method = method.lower()
    accepted = tuple(getattr(fitter, "options", ()))
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise TypeError(
            f"fit(method={method!r}) got unexpected option(s) {unknown}; it accepts "
            f"{sorted(accepted) if accepted else 'no extra options'}"
        )
    previous = model._fitted_method
    if previous is not None and previous != method and (
        previous in OWN_STATE_METHODS or method in OWN_STATE_METHODS
    ):
        model.train_state = None
        model._carried_weights = None
    model._weight_draws = None
    model._sample_stats = None
    return fitter.fit(model, x, y, **fit_args, **options)


def draw_indices(num_draws: int, num_samples: int) -> np.ndarray:
    """`num_samples` evenly spaced indices into `num_draws` draws (repeats when more).

    Example:
        >>> draw_indices(10, 4).tolist()
        [0, 2, 5, 7]
    """
    return (np.arange(num_samples) * num_draws) // num_samples


def _check_fitted(model, what):
    heads_ready = model._heads is not None and all(h.built for h in model._heads)
    if not heads_ready or (model._weight_draws is None and model.train_state is None):
        raise ValueError(f"`{what}` needs a fitted model: call compile and fit first")


@functools.partial(jax.jit, static_argnums=(0, 3, 4))
def _variational_samples(model, params, key, num_samples, mean_weights):
    layers = {}
    for i, layer in enumerate(model._layers):
        name = model._layer_names[id(layer)]
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
    _check_fitted(model, "posterior_samples")
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
        raise ValueError(f"`num_samples` must be an int >= 1; got {num_samples!r}")
    draws = model._weight_draws
    if draws is not None:
        flat = draws.flat()
        index = draw_indices(_num_flat(flat), num_samples)
        return jax.tree_util.tree_map(lambda a: a[index], flat.weights)
    return _variational_samples(model, model.train_state.params, as_key(seed), num_samples,
                                bool(model._mean_weights))


def _num_flat(flat: WeightDraws) -> int:
    return int(jax.tree_util.tree_leaves(flat.weights)[0].shape[0])


def arviz_draws(model, num_samples, seed):
    """``(WeightDraws [chain, draw, ...], stats or None)`` for `to_arviz`."""
    draws = model._weight_draws
    if draws is not None:
        if num_samples is not None:
            # Thin each chain evenly, keeping the chain structure for R-hat.
            per_chain = max(1, num_samples // draws.shape[0])
            index = draw_indices(draws.shape[1], per_chain)
            thinned = jax.tree_util.tree_map(lambda a: a[:, index], draws)
            stats = None if model._sample_stats is None else {
                k: v[:, index] for k, v in model._sample_stats.items()}
            return thinned, stats
        return draws, model._sample_stats
    weights = posterior_samples(model, 1000 if num_samples is None else num_samples, seed)
    state = model.train_state.layer_state
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


def output_names(model) -> list:
    """ArviZ names of the observed outputs: ``["y"]`` or ``["y_0", "y_1", ...]``."""
    n = len(model._heads)
    return ["y"] if n == 1 else [f"y_{i}" for i in range(n)]


def to_arviz(model, x, y, *, num_samples=None, seed=0, batch_size=64):
    """ArviZ InferenceData of the fitted network on `(x, y)`; see `Model.to_arviz`."""
    from probflow.inference.arviz import to_inference_data
    from probflow.nn.training.data import prepare_xy
    from probflow.nn.training.weights_target import pointwise_and_predictive

    _check_fitted(model, "to_arviz")
    xs, ys = prepare_xy(model, x, y)
    draws, stats = arviz_draws(model, num_samples, seed)
    num_chains, num_draws = draws.shape
    log_lik, predictive = pointwise_and_predictive(
        model, draws.flat(), [jnp.asarray(a) for a in xs], [jnp.asarray(a) for a in ys],
        as_key(seed), batch_size=batch_size)

    def chains(a):
        a = np.asarray(a)
        return a.reshape((num_chains, num_draws) + a.shape[1:])

    names = output_names(model)
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
