"""Posterior predictive: `predict`, `predictive`, `predict_interval`, `evaluate`.

Inputs go through in fixed-size padded chunks (one compiled shape, bounded memory).
Chunk `c` uses ``fold_in(key, c)``; inside a chunk, `num_samples` forward passes run
under `vmap`. So the same seed and batch size give the same answer bit for bit.

The forward passes integrate over `model.fitted_posterior` in either form
(`training.fitted`): the layers' variational params / MAP point (weights drawn in each
pass), or stored weight draws (nuts, hmc, SG-MCMC, ensemble; `num_samples` evenly
spaced draws, each run through `apply_with_weights` with the frozen layers' fixed
weights).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from probflow._seed import as_key
from probflow.nn.likelihoods import Bernoulli
from probflow.nn.metrics import Prediction
from probflow.nn.training.fitted import DrawsPosterior, PointPosterior
from probflow.nn.training.objectives import (
    _interval,
    metric_results,
    metric_stats,
    needs_interval,
    weighted_mask,
)
from probflow.nn.training.posterior import check_fitted, draw_indices
from probflow.nn.training.programs import programs_for
from probflow.nn.training.state import TrainState
from probflow.nn.training.streams import eval_chunks, evaluation_data, input_chunks

__all__ = ["evaluate", "evaluate_arrays", "predict", "predict_interval", "predictive"]


def _check_samples(num_samples):
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
        raise ValueError(f"`num_samples` must be an int >= 1; got {num_samples!r}")


def _programs(model):
    cache = model.program_cache
    if "predict" not in cache:
        static = ("num_samples", "kind", "mean_weights")
        cache["predict"] = {
            "point": jax.jit(functools.partial(_chunk_point, model), static_argnames=static),
            "draws": jax.jit(functools.partial(_chunk_draws, model), static_argnames=static),
            "eval": jax.jit(functools.partial(_chunk_eval, model), static_argnames=static),
        }
    return cache["predict"]


def _source(model, num_samples, draws=None, fixed=None):
    """What the chunk programs integrate over: ``(kind, tree)``.

    ``("params", (params, layer_state))`` after vi/map (weights drawn per forward pass);
    ``("draws", (WeightDraws, fixed))`` after sampling methods: `num_samples` evenly
    spaced stored draws (so predictions are deterministic given the fit) and the frozen
    layers' weights.
    """
    if draws is None:
        posterior = model.fitted_posterior
        if not isinstance(posterior, DrawsPosterior):
            return "params", (model.params, model.layer_state)
        draws, fixed = posterior.draws, posterior.fixed
    flat = draws.flat()
    total = jax.tree_util.tree_leaves(flat.weights)[0].shape[0]
    index = jnp.asarray(draw_indices(total, num_samples))
    return "draws", (jax.tree_util.tree_map(lambda a: a[index], flat), fixed or {})


def _mean_weights(model) -> bool:
    return isinstance(model.fitted_posterior, PointPosterior)


def _forward_samples(model, kind, tree, xs, key, num_samples, mean_weights):
    """Network outputs and head params for `num_samples` posterior draws (vmapped)."""

    def one(k, draw):
        key_fwd, _ = jax.random.split(k)
        if kind == "draws":
            layers = {**fixed, **draw.weights["layers"]}
            outputs, _ = model.forward(layers, draw.layer_state, xs,
                                       key=key_fwd, training=False, explicit_weights=True)
            return outputs, draw.weights["likelihood"]
        params, layer_state = tree
        outputs, _ = model.forward(params["layers"], layer_state, xs, key=key_fwd,
                                   training=False, mean_weights=mean_weights)
        return outputs, params["likelihood"]

    keys = jax.random.split(key, num_samples)
    # Shared head params (vi, map) come out of vmap broadcast to [num_samples, ...], so
    # both kinds look alike below.
    draws, fixed = tree if kind == "draws" else (None, None)
    outputs, head_params = jax.vmap(one)(keys, draws)
    return keys, outputs, head_params


def _heads_dists(model, kind, tree, xs, key, num_samples, mean_weights):
    keys, outputs, head_params = _forward_samples(model, kind, tree, xs, key, num_samples,
                                                  mean_weights)
    dists = [jax.vmap(h.distribution)(p, o)
             for h, p, o in zip(model.heads, head_params, outputs)]
    return keys, dists


def _chunk_point(model, source, xs, key, num_samples, kind, mean_weights):
    _, dists = _heads_dists(model, kind, source, xs, key, num_samples, mean_weights)
    return [jnp.mean(jax.vmap(h.point)(d), axis=0) for h, d in zip(model.heads, dists)]


def _chunk_draws(model, source, xs, key, num_samples, kind, mean_weights):
    keys, dists = _heads_dists(model, kind, source, xs, key, num_samples, mean_weights)
    draw_keys = jax.vmap(lambda k: jax.random.split(k)[1])(keys)
    return [jax.vmap(lambda k, d: d.sample(k))(draw_keys, d) for d in dists]


def _chunk_eval(model, source, xs, ys, mask, weights, key, num_samples, kind, mean_weights):
    """Summed NLL and metric stats of one padded batch under `num_samples` draws."""
    key_fwd, key_pred = jax.random.split(key)
    _, outputs, head_params = _forward_samples(model, kind, source, xs, key_fwd, num_samples,
                                               mean_weights)
    expected, preds = 0.0, []
    for i, (head, params, out, y) in enumerate(zip(model.heads, head_params, outputs, ys)):
        log_lik = jax.vmap(lambda p, o, h=head, t=y: h.log_likelihood(p, o, t))(params, out)
        expected = expected + jnp.mean(log_lik, axis=0)
        dist = jax.vmap(head.distribution)(params, out)
        lower = upper = None
        if needs_interval(model):
            lower, upper = _interval(dist, jax.random.fold_in(key_pred, i), num_samples)
        preds.append(Prediction(
            jnp.mean(jax.vmap(head.point)(dist), axis=0),
            jax.scipy.special.logsumexp(log_lik, axis=0) - jnp.log(num_samples),
            lower, upper, binary=isinstance(head, Bernoulli)))
    return {"nll_sum": jnp.sum(-weighted_mask(mask, weights) * expected),
            "count": jnp.sum(mask), "stats": metric_stats(model, ys, preds, mask, weights)}


def _size_logs(hooks, mask):
    # Reading the mask syncs with the device: only when someone listens.
    return None if hooks is None else {"size": int(np.sum(np.asarray(mask) > 0))}


def _call(hooks, hook, batch, logs=None):
    if hooks is not None:
        getattr(hooks, hook)(batch, logs)


def _chunked(model, x, fn, *, num_samples, seed, batch_size, axis, hooks=None):
    """Runs `fn` on padded chunks of `x` and concatenates the per-output results."""
    _check_samples(num_samples)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"`batch_size` must be an int >= 1; got {batch_size!r}")
    key = as_key(seed)
    kind, source = _source(model, num_samples)
    pieces = []
    for c, (chunk, rows) in enumerate(input_chunks(model, x, batch_size)):
        _call(hooks, "on_predict_batch_begin", c, {"size": rows})
        out = fn(source, [jnp.asarray(a) for a in chunk], jax.random.fold_in(key, c),
                 num_samples=num_samples, kind=kind, mean_weights=_mean_weights(model))
        index = (slice(None),) * axis + (slice(0, rows),)
        pieces.append([np.asarray(o[index]) for o in out])
        _call(hooks, "on_predict_batch_end", c, {"size": rows, "outputs": pieces[-1]})
    if not pieces:
        raise ValueError("`x` yielded no batches")
    results = [np.concatenate([p[i] for p in pieces], axis=axis) for i in range(len(pieces[0]))]
    return _as_outputs(model, results)


def _as_outputs(model, results):
    """One array, a list, or a dict by output name: as the model's outputs were given."""
    if model.single_output:
        return results[0]
    if model.dict_outputs:
        return dict(zip(model.output_keys(), results))
    return results


def predict(model, x, *, num_samples=100, seed=0, batch_size=256, hooks=None):
    """Posterior predictive mean; see `Model.predict`."""
    check_fitted(model, "predict")
    return _chunked(model, x, _programs(model)["point"], num_samples=num_samples, seed=seed,
                    batch_size=batch_size, axis=0, hooks=hooks)


def predictive(model, x, *, num_samples=100, seed=0, batch_size=256, hooks=None):
    """Posterior predictive draws ``(num_samples, n, ...)``; see `Model.predictive`."""
    check_fitted(model, "predictive")
    return _chunked(model, x, _programs(model)["draws"], num_samples=num_samples, seed=seed,
                    batch_size=batch_size, axis=1, hooks=hooks)


def predict_interval(model, x, *, ci=0.95, num_samples=1000, seed=0, batch_size=256):
    """Central `ci` interval of the posterior predictive; see `Model.predict_interval`."""
    if not 0.0 < ci < 1.0:
        raise ValueError(f"`ci` must be in (0, 1); got {ci}")
    draws = predictive(model, x, num_samples=num_samples, seed=seed, batch_size=batch_size)
    tail = (1.0 - ci) / 2.0

    def bounds(d):
        return np.quantile(d, tail, axis=0), np.quantile(d, 1.0 - tail, axis=0)

    if model.single_output:
        return bounds(draws)
    items = list(draws.values()) if model.dict_outputs else draws
    pairs = [bounds(d) for d in items]
    return (_as_outputs(model, [p[0] for p in pairs]),
            _as_outputs(model, [p[1] for p in pairs]))


def evaluate(model, x, y=None, *, num_samples=10, batch_size=256, seed=0, steps=None,
             sample_weight=None, hooks=None):
    """Loss and metrics under the posterior predictive; see `Model.evaluate`."""
    posterior = check_fitted(model, "evaluate")
    _check_samples(num_samples)
    data = evaluation_data(model, x, y, batch_size=batch_size, sample_weight=sample_weight)
    if posterior.reads_layers:
        programs = programs_for(model, posterior.method)
        return programs.evaluate(_layer_state_view(model), data, as_key(seed),
                                 num_samples=num_samples, batch_size=batch_size,
                                 num_train=posterior.num_train, steps=steps,
                                 hooks=hooks)
    return evaluate_arrays(model, data, num_samples=num_samples, batch_size=batch_size,
                           seed=seed, steps=steps, hooks=hooks)


def evaluate_arrays(model, data, *, num_samples=10, batch_size=256, seed=0, draws=None,
                    fixed=None, steps=None, hooks=None):
    """`evaluate` on prepared data, integrating over the model's weight draws.

    ``loss`` is the per-example expected NLL (the mean over draws; sampling methods
    have no KL term); ``nll`` and the other metrics use the predictive mixture.

    Args:
        data: ``(xs, ys)`` / ``(xs, ys, sample_weights)`` prepared host arrays or a
            `streams.BatchStream`.
        steps: at most this many batches of a stream (None: one pass).
        draws: a `fitted.WeightDraws` to use instead of the model's own (e.g. the
            current SG-MCMC position during training).
        fixed: with `draws`, the frozen layers' weights.
        hooks: a `CallbackList` whose ``on_test_batch_*`` hooks run per batch.

    Returns:
        dict name -> Python float.
    """
    kind, source = _source(model, num_samples, draws, fixed)
    program = _programs(model)["eval"]
    key = as_key(seed)
    totals = None
    for b, (xb, yb, mask, wb) in enumerate(eval_chunks(data, batch_size, steps=steps)):
        _call(hooks, "on_test_batch_begin", b, _size_logs(hooks, mask))
        out = program(source, xb, yb, mask, wb, jax.random.fold_in(key, b),
                      num_samples=num_samples, kind=kind,
                      mean_weights=_mean_weights(model))
        _call(hooks, "on_test_batch_end", b, _size_logs(hooks, mask))
        totals = out if totals is None else jax.tree_util.tree_map(jnp.add, totals, out)
    if totals is None:
        raise ValueError("the evaluation data yielded no batches (a one-shot generator "
                         "already read?)")
    logs = {"loss": totals["nll_sum"] / jnp.maximum(totals["count"], 1.0)}
    logs.update(metric_results(model, totals["stats"]))
    return {k: float(v) for k, v in logs.items()}


def _layer_state_view(model):
    """A `TrainState` with what `GradientPrograms.evaluate` reads, from the layers."""
    run = model.train_state
    kl_weight = jnp.asarray(model.initial_kl_weight) if run is None else run.kl_weight
    return TrainState(model.params, model.layer_state, None, None, None, None, kl_weight)
