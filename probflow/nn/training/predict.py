"""Posterior predictive: `predict`, `predictive`, `predict_interval`, `evaluate`.

Inputs go through in fixed-size padded chunks (one compiled shape, bounded memory).
Chunk `c` uses ``fold_in(key, c)``; inside a chunk, `num_samples` forward passes run
under `vmap`. So the same seed and batch size give the same answer bit for bit.

The forward passes integrate over the model's posterior in either form (see
`posterior`): variational params / a MAP point (weights drawn in each pass), or
stored weight draws (nuts, hmc, SG-MCMC, ensemble; `num_samples` evenly spaced draws,
each run through `apply_with_weights`).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from probflow._seed import as_key
from probflow.nn.training.data import prepare_inputs, prepare_xy

__all__ = ["evaluate", "evaluate_arrays", "predict", "predict_interval", "predictive"]


def _check_fitted(model, what):
    heads_ready = model._heads is not None and all(h.built for h in model._heads)
    if not heads_ready or (model.train_state is None and model._weight_draws is None):
        raise ValueError(f"`{what}` needs a fitted model: call compile and fit first")


def _check_samples(num_samples):
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
        raise ValueError(f"`num_samples` must be an int >= 1; got {num_samples!r}")


def _programs(model):
    cache = model._programs
    if "predict" not in cache:
        static = ("num_samples", "kind", "mean_weights")
        cache["predict"] = {
            "point": jax.jit(functools.partial(_chunk_point, model), static_argnames=static),
            "draws": jax.jit(functools.partial(_chunk_draws, model), static_argnames=static),
            "eval": jax.jit(functools.partial(_chunk_eval, model), static_argnames=static),
        }
    return cache["predict"]


def _source(model, num_samples, draws=None):
    """What the chunk programs integrate over: ``(kind, tree)``.

    ``("params", (params, layer_state))`` after vi/map (weights drawn per forward pass);
    ``("draws", WeightDraws)`` after sampling methods: `num_samples` evenly spaced
    stored draws, so predictions are deterministic given the fit.
    """
    from probflow.nn.training.posterior import draw_indices

    draws = model._weight_draws if draws is None else draws
    if draws is None:
        state = model.train_state
        return "params", (state.params, state.layer_state)
    flat = draws.flat()
    total = jax.tree_util.tree_leaves(flat.weights)[0].shape[0]
    index = jnp.asarray(draw_indices(total, num_samples))
    return "draws", jax.tree_util.tree_map(lambda a: a[index], flat)


def _forward_samples(model, kind, tree, xs, key, num_samples, mean_weights):
    """Network outputs and head params for `num_samples` posterior draws (vmapped)."""

    def one(k, draw):
        key_fwd, _ = jax.random.split(k)
        if kind == "draws":
            outputs, _ = model.forward(draw.weights["layers"], draw.layer_state, xs,
                                       key=key_fwd, training=False, explicit_weights=True)
            return outputs, draw.weights["likelihood"]
        params, layer_state = tree
        outputs, _ = model.forward(params["layers"], layer_state, xs, key=key_fwd,
                                   training=False, mean_weights=mean_weights)
        return outputs, params["likelihood"]

    keys = jax.random.split(key, num_samples)
    # Shared head params (vi, map) come out of vmap broadcast to [num_samples, ...], so
    # both kinds look alike below.
    draws = tree if kind == "draws" else None
    outputs, head_params = jax.vmap(one)(keys, draws)
    return keys, outputs, head_params


def _heads_dists(model, kind, tree, xs, key, num_samples, mean_weights):
    keys, outputs, head_params = _forward_samples(model, kind, tree, xs, key, num_samples,
                                                  mean_weights)
    dists = [jax.vmap(h.distribution)(p, o)
             for h, p, o in zip(model._heads, head_params, outputs)]
    return keys, dists


def _chunk_point(model, source, xs, key, num_samples, kind, mean_weights):
    _, dists = _heads_dists(model, kind, source, xs, key, num_samples, mean_weights)
    return [jnp.mean(jax.vmap(h.point)(d), axis=0) for h, d in zip(model._heads, dists)]


def _chunk_draws(model, source, xs, key, num_samples, kind, mean_weights):
    keys, dists = _heads_dists(model, kind, source, xs, key, num_samples, mean_weights)
    draw_keys = jax.vmap(lambda k: jax.random.split(k)[1])(keys)
    return [jax.vmap(lambda k, d: d.sample(k))(draw_keys, d) for d in dists]


def _chunk_eval(model, source, xs, ys, mask, key, num_samples, kind, mean_weights):
    """Summed NLL and metric stats of one padded batch under `num_samples` draws."""
    from probflow.nn.likelihoods import Bernoulli
    from probflow.nn.metrics import Prediction
    from probflow.nn.training.objectives import _interval, metric_stats, needs_interval

    key_fwd, key_pred = jax.random.split(key)
    _, outputs, head_params = _forward_samples(model, kind, source, xs, key_fwd, num_samples,
                                               mean_weights)
    expected, preds = 0.0, []
    for i, (head, params, out, y) in enumerate(zip(model._heads, head_params, outputs, ys)):
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
    return {"nll_sum": jnp.sum(-mask * expected), "count": jnp.sum(mask),
            "stats": metric_stats(model, ys, preds, mask)}


def _chunked(model, x, fn, *, num_samples, seed, batch_size, axis):
    """Runs `fn` on padded chunks of `x` and concatenates the per-output results."""
    _check_samples(num_samples)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"`batch_size` must be an int >= 1; got {batch_size!r}")
    xs = prepare_inputs(model, x)
    n = xs[0].shape[0]
    size = max(1, min(batch_size, n))
    key = as_key(seed)
    kind, source = _source(model, num_samples)
    pieces = []
    # An empty `x` runs one all-padding chunk, so the result is empty but well shaped.
    for c, start in enumerate(range(0, max(n, 1), size)):
        stop = min(start + size, n)
        pad = size - (stop - start)
        chunk = [np.pad(a[start:stop], [(0, pad)] + [(0, 0)] * (a.ndim - 1)) for a in xs]
        out = fn(source, [jnp.asarray(a) for a in chunk], jax.random.fold_in(key, c),
                 num_samples=num_samples, kind=kind, mean_weights=bool(model._mean_weights))
        index = (slice(None),) * axis + (slice(0, stop - start),)
        pieces.append([np.asarray(o[index]) for o in out])
    results = [np.concatenate([p[i] for p in pieces], axis=axis) for i in range(len(pieces[0]))]
    return results[0] if model._single_output else results


def predict(model, x, *, num_samples=100, seed=0, batch_size=256):
    """Posterior predictive mean; see `Model.predict`."""
    _check_fitted(model, "predict")
    return _chunked(model, x, _programs(model)["point"], num_samples=num_samples, seed=seed,
                    batch_size=batch_size, axis=0)


def predictive(model, x, *, num_samples=100, seed=0, batch_size=256):
    """Posterior predictive draws ``(num_samples, n, ...)``; see `Model.predictive`."""
    _check_fitted(model, "predictive")
    return _chunked(model, x, _programs(model)["draws"], num_samples=num_samples, seed=seed,
                    batch_size=batch_size, axis=1)


def predict_interval(model, x, *, ci=0.95, num_samples=1000, seed=0, batch_size=256):
    """Central `ci` interval of the posterior predictive; see `Model.predict_interval`."""
    if not 0.0 < ci < 1.0:
        raise ValueError(f"`ci` must be in (0, 1); got {ci}")
    draws = predictive(model, x, num_samples=num_samples, seed=seed, batch_size=batch_size)
    tail = (1.0 - ci) / 2.0

    def bounds(d):
        return np.quantile(d, tail, axis=0), np.quantile(d, 1.0 - tail, axis=0)

    if model._single_output:
        return bounds(draws)
    pairs = [bounds(d) for d in draws]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def evaluate(model, x, y, *, num_samples=10, batch_size=256, seed=0):
    """Loss and metrics under the posterior predictive; see `Model.evaluate`."""
    _check_fitted(model, "evaluate")
    _check_samples(num_samples)
    xs, ys = prepare_xy(model, x, y)
    if model._weight_draws is None:
        from probflow.nn.training.fitters import get_fitter

        programs = get_fitter(model._fitted_method).programs(model)
        num_train = getattr(model, "_num_train", xs[0].shape[0])
        return programs.evaluate(model.train_state, xs, ys, as_key(seed),
                                 num_samples=num_samples, batch_size=batch_size,
                                 num_train=num_train)
    return evaluate_arrays(model, xs, ys, num_samples=num_samples, batch_size=batch_size,
                           seed=seed)


def evaluate_arrays(model, xs, ys, *, num_samples=10, batch_size=256, seed=0, draws=None):
    """`evaluate` on prepared arrays, integrating over the model's weight draws.

    ``loss`` is the per-example expected NLL (the mean over draws; sampling methods
    have no KL term); ``nll`` and the other metrics use the predictive mixture.

    Args:
        draws: a `posterior.WeightDraws` to use instead of the model's own (e.g. the
            current SG-MCMC position during training).

    Returns:
        dict name -> Python float.
    """
    from probflow.nn.training.objectives import metric_results

    kind, source = _source(model, num_samples, draws)
    program = _programs(model)["eval"]
    key = as_key(seed)
    n = xs[0].shape[0]
    size = max(1, min(batch_size, n))
    totals = None
    for b, start in enumerate(range(0, n, size)):
        stop = min(start + size, n)
        pad = [(0, size - (stop - start))]
        xb = [jnp.asarray(np.pad(a[start:stop], pad + [(0, 0)] * (a.ndim - 1))) for a in xs]
        yb = [jnp.asarray(np.pad(a[start:stop], pad + [(0, 0)] * (a.ndim - 1))) for a in ys]
        mask = (jnp.arange(size) < stop - start).astype(jnp.result_type(float))
        out = program(source, xb, yb, mask, jax.random.fold_in(key, b),
                      num_samples=num_samples, kind=kind,
                      mean_weights=bool(model._mean_weights))
        totals = out if totals is None else jax.tree_util.tree_map(jnp.add, totals, out)
    logs = {"loss": totals["nll_sum"] / jnp.maximum(totals["count"], 1.0)}
    logs.update(metric_results(model, totals["stats"]))
    return {k: float(v) for k, v in logs.items()}
