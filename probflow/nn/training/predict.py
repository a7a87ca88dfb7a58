"""Posterior predictive: `predict`, `predictive`, `predict_interval`, `evaluate`.

Inputs go through in fixed-size padded chunks (one compiled shape, bounded memory).
Chunk `c` uses ``fold_in(key, c)``; inside a chunk, `num_samples` forward passes run
under `vmap`. So the same seed and batch size give the same answer bit for bit.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from probflow._seed import as_key
from probflow.nn.training.data import prepare_inputs, prepare_xy

__all__ = ["evaluate", "predict", "predict_interval", "predictive"]


def _check_fitted(model, what):
    if model.train_state is None or model._heads is None or not all(h.built for h in model._heads):
        raise ValueError(f"`{what}` needs a fitted model: call compile and fit first")


def _check_samples(num_samples):
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
        raise ValueError(f"`num_samples` must be an int >= 1; got {num_samples!r}")


def _programs(model):
    cache = model._programs
    if "predict" not in cache:
        cache["predict"] = {
            "point": jax.jit(functools.partial(_chunk_point, model),
                             static_argnames=("num_samples",)),
            "draws": jax.jit(functools.partial(_chunk_draws, model),
                             static_argnames=("num_samples",)),
        }
    return cache["predict"]


def _heads_dists(model, params, layer_state, xs, key, num_samples):
    def one(k):
        key_fwd, _ = jax.random.split(k)
        outputs, _ = model.forward(params["layers"], layer_state, xs, key=key_fwd,
                                   training=False, mean_weights=model._mean_weights)
        return [h.distribution(p, o) for h, p, o in zip(model._heads, params["likelihood"],
                                                       outputs)]

    keys = jax.random.split(key, num_samples)
    return keys, jax.vmap(one)(keys)


def _chunk_point(model, params, layer_state, xs, key, num_samples):
    _, dists = _heads_dists(model, params, layer_state, xs, key, num_samples)
    return [jnp.mean(jax.vmap(h.point)(d), axis=0) for h, d in zip(model._heads, dists)]


def _chunk_draws(model, params, layer_state, xs, key, num_samples):
    keys, dists = _heads_dists(model, params, layer_state, xs, key, num_samples)
    draw_keys = jax.vmap(lambda k: jax.random.split(k)[1])(keys)
    return [jax.vmap(lambda k, d: d.sample(k))(draw_keys, d) for d in dists]


def _chunked(model, x, fn, *, num_samples, seed, batch_size, axis):
    """Runs `fn` on padded chunks of `x` and concatenates the per-output results."""
    _check_samples(num_samples)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"`batch_size` must be an int >= 1; got {batch_size!r}")
    xs = prepare_inputs(model, x)
    n = xs[0].shape[0]
    size = max(1, min(batch_size, n))
    key = as_key(seed)
    state = model.train_state
    pieces = []
    for c, start in enumerate(range(0, n, size)):
        stop = min(start + size, n)
        pad = size - (stop - start)
        chunk = [np.pad(a[start:stop], [(0, pad)] + [(0, 0)] * (a.ndim - 1)) for a in xs]
        out = fn(state.params, state.layer_state, [jnp.asarray(a) for a in chunk],
                 jax.random.fold_in(key, c), num_samples=num_samples)
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
    from probflow.nn.training.fitters import get_fitter

    xs, ys = prepare_xy(model, x, y)
    programs = get_fitter(model._fitted_method).programs(model)
    num_train = getattr(model, "_num_train", xs[0].shape[0])
    return programs.evaluate(model.train_state, xs, ys, as_key(seed), num_samples=num_samples,
                             batch_size=batch_size, num_train=num_train)
