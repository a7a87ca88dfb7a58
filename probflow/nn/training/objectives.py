"""Training objectives and the per-batch predictive summaries shared by train and eval.

An objective says how the network is run (sampled weights, or posterior-mean weights)
and what regularises the per-example negative log-likelihood:

* `VI` — Bayes by backprop: ``mean NLL + beta * KL(q || p) / n_train`` (the negative
  ELBO per example; the KL is a Monte-Carlo estimate for layers without a closed form).
* `MAP` — point estimate at the posterior-mean weights with the prior as regulariser:
  ``mean NLL + (-log p(w)) / n_train``.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.scipy.special import logsumexp

from probflow.nn.likelihoods import Bernoulli
from probflow.nn.metrics import Prediction

__all__ = ["MAP", "VI", "Objective", "metric_stats", "predictions"]


class Objective:
    """Base: `regulariser(model, layer_params, key)`; `mean_weights` picks the forward."""

    name = "objective"
    mean_weights = False
    regulariser_name = "kl"
    uses_kl_weight = False

    def regulariser(self, model, layer_params, key):
        raise NotImplementedError


class VI(Objective):
    """Negative ELBO per example: mean NLL + beta * KL / n."""

    name = "vi"
    mean_weights = False
    regulariser_name = "kl"
    uses_kl_weight = True

    def regulariser(self, model, layer_params, key):
        return model.kl(layer_params, key)


class MAP(Objective):
    """Negative log posterior per example at the posterior-mean weights."""

    name = "map"
    mean_weights = True
    regulariser_name = "neg_log_prior"
    uses_kl_weight = False

    def regulariser(self, model, layer_params, key):
        del key
        return -model.log_prior_at_mean(layer_params)


def objective_terms(objective, model, params, layer_state, xs, ys, mask, key, kl_weight,
                    num_train, frozen=None, weights=None):
    """The training loss of one (masked) batch and what the logs need.

    `frozen` names the frozen layers (batch norm among them runs in inference mode).
    `weights` (per-example sample weights, or None) multiply each example's NLL term;
    the mean still divides by the number of unmasked rows, as Keras's
    ``sum_over_batch_size`` does, so a weight of 2 counts an example twice against the
    same KL / n_train.

    Returns:
        ``(loss, (nll, regulariser, outputs, new_layer_state))`` for `value_and_grad`.
    """
    # The regulariser gets the forward key: a Monte-Carlo KL then uses the drawn weights.
    key_forward = key
    outputs, new_state = model.forward(
        params["layers"], layer_state, xs, key=key_forward, training=True,
        mean_weights=objective.mean_weights, frozen=frozen,
    )
    log_lik = 0.0
    for head, head_params, out, y, weight in zip(model.heads, params["likelihood"], outputs, ys,
                                                 model.loss_weights):
        log_lik = log_lik + weight * head.log_likelihood(head_params, out, y)
    count = jnp.maximum(jnp.sum(mask), 1.0)
    nll = -jnp.sum(weighted_mask(mask, weights) * log_lik) / count
    reg = objective.regulariser(model, params["layers"], key_forward)
    weight = kl_weight if objective.uses_kl_weight else 1.0
    loss = nll + weight * reg / num_train
    return loss, (nll, reg, outputs, new_state)


def weighted_mask(mask, weights):
    """The per-example multipliers of the log-likelihood: `mask`, times `weights` if given."""
    return mask if weights is None else mask * weights


def _interval(dist, key, num_samples, ci=0.95):
    tail = (1.0 - ci) / 2.0
    if num_samples == 1 and hasattr(dist, "icdf"):
        try:
            # One weight draw: the likelihood's own quantiles (draws would be degenerate).
            return dist.icdf(tail)[0], dist.icdf(1.0 - tail)[0]
        except NotImplementedError:
            pass
    draws = dist.sample(key)
    return jnp.quantile(draws, tail, axis=0), jnp.quantile(draws, 1.0 - tail, axis=0)


def predictions(model, head_params, outputs, ys, key, *, need_interval):
    """Per-output predictive summaries of `S` forward passes.

    Args:
        model: the model (for its heads).
        head_params: list of head params.
        outputs: list of network outputs with a leading sample axis ``(S, n, ...)``.
        ys: list of prepared targets ``(n, ...)``.
        key: key for predictive draws (interval metrics).
        need_interval: compute the 95% interval (only when a metric uses it).

    Returns:
        ``(expected_log_lik, [Prediction, ...])``: ``expected_log_lik`` is the mean over
        draws of the per-example log-likelihood summed over outputs, ``(n,)``.
    """
    expected, preds = 0.0, []
    for i, (head, params, out, y) in enumerate(zip(model.heads, head_params, outputs, ys)):
        num_samples = out.shape[0]
        log_lik = jax.vmap(lambda o, p=params, h=head, t=y: h.log_likelihood(p, o, t))(out)
        expected = expected + jnp.mean(log_lik, axis=0)
        log_pred = logsumexp(log_lik, axis=0) - math.log(num_samples)
        dist = jax.vmap(lambda o, p=params, h=head: h.distribution(p, o))(out)
        point = jnp.mean(jax.vmap(head.point)(dist), axis=0)
        lower = upper = None
        if need_interval:
            lower, upper = _interval(dist, jax.random.fold_in(key, i), num_samples)
        preds.append(Prediction(point, log_pred, lower, upper, binary=isinstance(head, Bernoulli)))
    return expected, preds


def metric_stats(model, ys, preds, mask, weights=None) -> dict:
    """Sums of every compiled metric over the (masked) batch, keyed by log name.

    The weighted metrics (``compile(weighted_metrics=...)``) sum with the mask times
    the per-example sample `weights` (None: unweighted), so their epoch value is the
    weighted mean ``sum(w * value) / sum(w)``, as Keras's.
    """
    stats = {}
    suffixes = [""] if len(preds) == 1 else [f"_{i}" for i in range(len(preds))]
    weighted = weighted_mask(mask, weights)
    for i, (y, pred, suffix) in enumerate(zip(ys, preds, suffixes)):
        for metric in model.metrics_for_output(i):
            stats[metric.name + suffix] = metric.stats(y, pred, mask)
        for metric in model.weighted_metrics:
            stats[metric.name + suffix] = metric.stats(y, pred, weighted)
    return stats


def metric_results(model, stats) -> dict:
    """Metric values from summed stats (inverse of the naming in `metric_stats`)."""
    by_name = {m.name: m for m in model.compiled_metrics + model.weighted_metrics}
    out = {}
    for log_name, sums in stats.items():
        base = log_name if log_name in by_name else log_name.rsplit("_", 1)[0]
        out[log_name] = by_name[base].result(sums)
    return out


def needs_interval(model) -> bool:
    return any(m.name in ("coverage", "weighted_coverage")
               for m in model.compiled_metrics + model.weighted_metrics)
