"""Predictive metrics: accuracy, nll, brier, expected calibration error, rmse, coverage.

Public functions are pure functions of targets and a prediction (class probabilities,
a point prediction, a distribution or an interval). The trainer streams the same
metrics over batches: each `Metric` turns a batch into sums (`stats`, with a mask for
padded rows) and the sums into a value (`result`), so an epoch's value is exact, not an
average of batch values (RMSE and ECE are not averages of their batch values).

Classification conventions: `probs` has the classes on its last axis and `y` holds
integer labels of shape ``probs.shape[:-1]`` (or one-hot rows of ``probs.shape``); for
binary problems `probs` is P(y = 1) with the shape of `y`.
"""

from __future__ import annotations

from collections.abc import Callable as _Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

__all__ = [
    "Metric",
    "Prediction",
    "accuracy",
    "brier",
    "check_metrics_for_heads",
    "expected_calibration_error",
    "get_metric",
    "metric_from_function",
    "interval_calibration",
    "interval_coverage",
    "nll",
    "reliability_table",
    "rmse",
]


class Prediction(NamedTuple):
    """What the trainer knows about a batch when it computes metrics.

    Attributes:
        point: predictive mean (class probabilities for classifiers), ``(n, ...)``.
        log_lik: log predictive density of each example's targets, ``(n,)``.
        lower: lower end of the central 95% predictive interval, or None.
        upper: upper end, or None.
        binary: whether `point` holds P(y = 1) of binary targets (None: infer).
    """

    point: Any
    log_lik: Any
    lower: Any = None
    upper: Any = None
    binary: Any = None


class Metric(NamedTuple):
    """A streamable metric: ``result(sum of stats(y, prediction, mask) over batches)``.

    Attributes:
        name: the key in logs.
        stats: ``(y, prediction: Prediction, mask: (n,)) -> pytree of sums``.
        result: ``sums -> scalar``.
    """

    name: str
    stats: _Callable
    result: _Callable


def _rows(values, mask):
    """Sums `values` (n, ...) over examples weighted by `mask`, and the element count."""
    per_row = jnp.sum(values.reshape(values.shape[:1] + (-1,)), axis=-1)
    per_row_count = values[0].size
    return jnp.sum(mask * per_row), jnp.sum(mask) * per_row_count


def _labels_and_onehot(y, probs, binary):
    """Returns (labels, onehot, probs-with-class-axis) for either classification form."""
    y = jnp.asarray(y)
    if binary is None:
        binary = not (probs.ndim == y.ndim + 1 or (y.shape == probs.shape and probs.ndim >= 2
                                                    and probs.shape[-1] > 1))
    if binary:
        probs = jnp.stack([1.0 - probs, probs], axis=-1)
        labels = y.astype(jnp.int32)
    elif y.shape == probs.shape:
        labels = jnp.argmax(y, axis=-1)
    else:
        labels = y.astype(jnp.int32)
    onehot = jax.nn.one_hot(labels, probs.shape[-1], dtype=probs.dtype)
    return labels, onehot, probs


def _binary(pred, binary):
    return pred.binary if binary is None else binary


def _mask_for(y, mask):
    return jnp.ones(jnp.shape(y)[:1]) if mask is None else mask


# -- streaming definitions -------------------------------------------------------------
def _accuracy_stats(y, pred, mask, binary=None):
    labels, _, probs = _labels_and_onehot(y, pred.point, _binary(pred, binary))
    return _rows((jnp.argmax(probs, -1) == labels).astype(jnp.float32), mask)


def _brier_stats(y, pred, mask, binary=None):
    _, onehot, probs = _labels_and_onehot(y, pred.point, _binary(pred, binary))
    # One Brier score per label: squared error summed over the class axis.
    correct = jnp.sum((probs - onehot) ** 2, axis=-1)
    return _rows(correct, mask)


def _nll_stats(y, pred, mask):
    return jnp.sum(-mask * pred.log_lik), jnp.sum(mask)


def _sq_error_stats(y, pred, mask):
    return _rows((pred.point - jnp.reshape(y, pred.point.shape)) ** 2, mask)


def _coverage_stats(y, pred, mask):
    y = jnp.reshape(y, pred.lower.shape)
    return _rows(((y >= pred.lower) & (y <= pred.upper)).astype(jnp.float32), mask)


def _ratio(sums):
    total, count = sums
    return total / jnp.maximum(count, 1)


def _ece_stats(y, pred, mask, num_bins=15, binary=None):
    labels, _, probs = _labels_and_onehot(y, pred.point, _binary(pred, binary))
    confidence = jnp.max(probs, axis=-1)
    correct = (jnp.argmax(probs, -1) == labels).astype(probs.dtype)
    confidence, correct = confidence.reshape(-1), correct.reshape(-1)
    weight = jnp.repeat(mask, confidence.size // max(mask.size, 1))
    # Bins (k/B, (k+1)/B]; confidence 0 cannot happen for a max over classes.
    bins = jnp.clip(jnp.ceil(confidence * num_bins).astype(jnp.int32) - 1, 0, num_bins - 1)
    count = jnp.zeros(num_bins).at[bins].add(weight)
    conf_sum = jnp.zeros(num_bins).at[bins].add(weight * confidence)
    correct_sum = jnp.zeros(num_bins).at[bins].add(weight * correct)
    return count, conf_sum, correct_sum


def _ece_result(sums):
    count, conf_sum, correct_sum = sums
    return jnp.sum(jnp.abs(conf_sum - correct_sum)) / jnp.maximum(jnp.sum(count), 1)


_METRICS = {
    "accuracy": Metric("accuracy", _accuracy_stats, _ratio),
    "nll": Metric("nll", _nll_stats, _ratio),
    "brier": Metric("brier", _brier_stats, _ratio),
    "ece": Metric("ece", _ece_stats, _ece_result),
    "rmse": Metric("rmse", _sq_error_stats, lambda s: jnp.sqrt(_ratio(s))),
    "mse": Metric("mse", _sq_error_stats, _ratio),
    "coverage": Metric("coverage", _coverage_stats, _ratio),
}
_ALIASES = {"acc": "accuracy", "expected_calibration_error": "ece", "interval_coverage": "coverage"}


def get_metric(spec) -> Metric:
    """Resolves a metric name, a `Metric` or a function for `Model.compile(metrics=...)`.

    Args:
        spec: ``"accuracy"``, ``"nll"``, ``"brier"``, ``"ece"``, ``"rmse"``, ``"mse"``,
            ``"coverage"`` (95% predictive interval), a `Metric`, or a Keras-style
            function ``fn(y_true, y_pred)`` (see `metric_from_function`).

    Returns:
        A `Metric`.

    Example:
        >>> get_metric("acc").name
        'accuracy'
    """
    if isinstance(spec, Metric):
        return spec
    if isinstance(spec, str):
        name = _ALIASES.get(spec.lower(), spec.lower())
        if name in _METRICS:
            return _METRICS[name]
        raise ValueError(f"`metrics` entries must be one of {sorted(_METRICS)}, a Metric or a "
                         f"function fn(y_true, y_pred); got {spec!r}")
    if callable(spec):
        return metric_from_function(spec)
    raise TypeError(f"`metrics` entries must be names, Metric objects or functions; got "
                    f"{type(spec).__name__}")


def metric_from_function(fn, name=None) -> Metric:
    """Wraps a Keras custom metric ``fn(y_true, y_pred)`` as a streamed mean over examples.

    `y_true` is the batch of prepared targets (integer labels for classifiers), `y_pred`
    the posterior predictive point prediction (class probabilities for classifiers,
    P(y = 1) for binary ones, the predictive mean for regression). `fn` may return one
    value per example, per element (averaged over the non-batch axes), or one scalar
    for the batch (then evaluated one example at a time); the epoch's value is the mean
    over all examples, padded rows excluded, so it does not depend on the batch size.

    Args:
        fn: a jax-traceable function of two arrays with a leading batch axis.
        name: the key in logs; default ``fn.__name__`` (a lambda needs a name).

    Returns:
        A `Metric`.

    Example:
        >>> import jax.numpy as jnp
        >>> def max_error(y_true, y_pred):
        ...     return jnp.max(jnp.abs(y_true - y_pred), axis=-1)
        >>> metric = metric_from_function(max_error)
        >>> sums = metric.stats(jnp.zeros((2, 3)), Prediction(jnp.ones((2, 3)), None),
        ...                     jnp.ones(2))
        >>> metric.name, float(metric.result(sums))
        ('max_error', 1.0)
    """
    from probflow.nn.utils import per_example_values

    if not callable(fn):
        raise TypeError(f"metric_from_function: `fn` must be callable; got {type(fn).__name__}")
    name = getattr(fn, "__name__", None) if name is None else name
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"metric_from_function: the metric needs a name (an identifier) for the "
                         f"logs; got {name!r}: pass a named function or name=...")

    def stats(y, pred, mask):
        values = per_example_values(fn, y, pred.point)
        return jnp.sum(mask * values), jnp.sum(mask)

    return Metric(name, stats, _ratio)


# Metrics that read class probabilities: meaningless on a regression head's mean.
CLASSIFICATION_METRICS = frozenset({"accuracy", "brier", "ece"})


def check_metrics_for_heads(metrics, heads) -> None:
    """Raises ValueError when a classification metric is asked of a regression head.

    `accuracy`, `brier` and `ece` read the point prediction as class probabilities; on
    a "normal" or "poisson" head they return numbers (an accuracy of 1.0, an ECE of
    1.6) that mean nothing. A model with at least one classifier head passes (the
    trainer reports these metrics for those heads only), and custom callable heads are
    let through: their kind is unknown.

    Args:
        metrics: the resolved `Metric`s.
        heads: the model's likelihood heads (objects with `name` and `is_classifier`).

    Example:
        >>> from probflow.nn.likelihoods import get_likelihood
        >>> check_metrics_for_heads([get_metric("rmse")], [get_likelihood("normal")])
        >>> check_metrics_for_heads([get_metric("accuracy")], [get_likelihood("normal")])
        Traceback (most recent call last):
        ...
        ValueError: metrics ['accuracy'] need a classification likelihood ('bernoulli' or 'categorical'); got the 'normal' likelihood: use 'nll', 'rmse' or 'coverage' for regression
    """
    wanted = [m.name for m in metrics if m.name in CLASSIFICATION_METRICS]
    if not wanted:
        return
    # With several outputs the trainer reports these metrics for the classifier heads
    # only (``accuracy_1``): refuse only a model that has none to report them for.
    if any(getattr(h, "name", None) == "custom" or getattr(h, "is_classifier", False)
           for h in heads):
        return
    got = [getattr(h, "name", type(h).__name__) for h in heads]
    got = repr(got[0]) if len(got) == 1 else str(got)
    raise ValueError(
        f"metrics {wanted} need a classification likelihood ('bernoulli' or 'categorical'); "
        f"got the {got} likelihood: use 'nll', 'rmse' or 'coverage' for regression"
    )


# -- pure functions ----------------------------------------------------------------------
def accuracy(y, probs, *, binary=None):
    """Fraction of examples whose most probable class is the label.

    Args:
        y: integer labels (or one-hot rows); for binary problems 0/1 of `probs`' shape.
        probs: class probabilities (classes last) or P(y = 1) for binary problems.
        binary: force the binary (True) or multi-class (False) reading; None infers it.

    Returns:
        A scalar in [0, 1].

    Example:
        >>> import jax.numpy as jnp
        >>> float(accuracy(jnp.array([0, 1]), jnp.array([[0.9, 0.1], [0.8, 0.2]])))
        0.5
    """
    pred = Prediction(jnp.asarray(probs), None)
    return _ratio(_accuracy_stats(y, pred, _mask_for(y, None), binary))


def brier(y, probs, *, binary=None):
    """Mean Brier score: squared distance between `probs` and the one-hot label.

    Example:
        >>> import jax.numpy as jnp
        >>> float(brier(jnp.array([0]), jnp.array([[0.5, 0.5]])))
        0.5
    """
    pred = Prediction(jnp.asarray(probs), None)
    return _ratio(_brier_stats(y, pred, _mask_for(y, None), binary))


def expected_calibration_error(y, probs, *, num_bins=15, binary=None):
    """Expected calibration error of the top-class confidence (Guo et al. 2017).

    Confidences fall in `num_bins` equal-width bins; ECE is the example-weighted mean
    of ``|mean confidence - accuracy|`` over bins.

    Example:
        >>> import jax.numpy as jnp
        >>> probs = jnp.array([[0.9, 0.1], [0.9, 0.1]])
        >>> round(float(expected_calibration_error(jnp.array([0, 1]), probs)), 4)
        0.4
    """
    pred = Prediction(jnp.asarray(probs), None)
    return _ece_result(_ece_stats(y, pred, _mask_for(y, None), num_bins, binary))


def nll(y, dist):
    """Mean negative log-likelihood per example of `y` under a distribution.

    Args:
        y: targets, leading batch axis.
        dist: a probflow distribution with batch axis first.

    Example:
        >>> from probflow import distributions as dist
        >>> round(float(nll(jnp.zeros(3), dist.Normal(jnp.zeros(3), 1.0))), 4)
        0.9189
    """
    lp = dist.log_prob(y)
    lp = jnp.sum(lp.reshape(lp.shape[:1] + (-1,)), axis=-1)
    return -jnp.mean(lp)


def rmse(y, prediction):
    """Root mean squared error of a point prediction (or a distribution's mean).

    Example:
        >>> import jax.numpy as jnp
        >>> float(rmse(jnp.array([0.0, 2.0]), jnp.array([0.0, 0.0])))
        1.4142135381698608
    """
    point = prediction.mean() if hasattr(prediction, "log_prob") else jnp.asarray(prediction)
    pred = Prediction(point, None)
    return jnp.sqrt(_ratio(_sq_error_stats(y, pred, _mask_for(y, None))))


def interval_coverage(y, lower, upper):
    """Fraction of target values inside ``[lower, upper]``.

    Example:
        >>> import jax.numpy as jnp
        >>> float(interval_coverage(jnp.array([0.0, 3.0]), jnp.array([-1.0, -1.0]),
        ...                         jnp.array([1.0, 1.0])))
        0.5
    """
    lower = jnp.asarray(lower)
    pred = Prediction(None, None, lower, jnp.asarray(upper))
    return _ratio(_coverage_stats(y, pred, _mask_for(y, None)))


# -- calibration tables --------------------------------------------------------------------
def reliability_table(y, probs, *, num_bins=10, binary=None) -> dict:
    """Reliability diagram data: top-class confidence vs accuracy in equal-width bins.

    Bins are ``(k / num_bins, (k + 1) / num_bins]``, as in `expected_calibration_error`
    (whose value is ``sum(count * |confidence - accuracy|) / sum(count)`` over this table).

    Args:
        y: integer labels (or one-hot rows); 0/1 for binary problems.
        probs: class probabilities (classes last) or P(y = 1) for binary problems.
        num_bins: number of bins.
        binary: force the binary / multi-class reading; None infers it.

    Returns:
        dict of numpy arrays of length `num_bins`: ``bin_lower``, ``bin_upper``,
        ``count``, ``confidence`` (mean top-class probability) and ``accuracy``
        (NaN in empty bins).

    Example:
        >>> import jax.numpy as jnp
        >>> table = reliability_table(jnp.array([0, 1]), jnp.array([[0.9, 0.1], [0.8, 0.2]]),
        ...                           num_bins=5)
        >>> table["count"].tolist(), table["accuracy"][-1].item()
        ([0.0, 0.0, 0.0, 1.0, 1.0], 1.0)
    """
    import numpy as np

    if isinstance(num_bins, bool) or not isinstance(num_bins, int) or num_bins < 1:
        raise ValueError(f"`num_bins` must be an int >= 1; got {num_bins!r}")
    probs = jnp.asarray(probs)
    pred = Prediction(probs, None)
    count, conf_sum, correct_sum = (np.asarray(a, np.float64) for a in _ece_stats(
        y, pred, _mask_for(y, None), num_bins, binary))
    with np.errstate(invalid="ignore", divide="ignore"):
        confidence = np.where(count > 0, conf_sum / count, np.nan)
        accuracy_ = np.where(count > 0, correct_sum / count, np.nan)
    edges = np.arange(num_bins + 1) / num_bins
    return {"bin_lower": edges[:-1], "bin_upper": edges[1:], "count": count,
            "confidence": confidence, "accuracy": accuracy_}


def interval_calibration(y, draws, *, num_levels=10) -> dict:
    """Nominal vs observed coverage of central predictive intervals (regression).

    For each level ``p = k / num_levels`` (k = 1 .. num_levels - 1) the interval runs
    from the ``(1 - p) / 2`` to the ``(1 + p) / 2`` quantile of the predictive draws; a
    calibrated model covers a fraction ``p`` of the targets.

    Args:
        y: targets ``(n, ...)``.
        draws: posterior-predictive draws ``(num_samples, n, ...)``.
        num_levels: number of level steps (at least 2).

    Returns:
        dict of numpy arrays: ``level`` and ``coverage``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> draws = jax.random.normal(jax.random.key(0), (4000, 500))
        >>> y = jax.random.normal(jax.random.key(1), (500,))
        >>> table = interval_calibration(y, draws, num_levels=2)
        >>> table["level"].tolist(), bool(abs(table["coverage"][0] - 0.5) < 0.1)
        ([0.5], True)
    """
    import numpy as np

    if isinstance(num_levels, bool) or not isinstance(num_levels, int) or num_levels < 2:
        raise ValueError(f"`num_levels` must be an int >= 2; got {num_levels!r}")
    draws = np.asarray(draws)
    y = np.asarray(y).reshape(draws.shape[1:])
    levels = np.arange(1, num_levels) / num_levels
    lower = np.quantile(draws, (1 - levels) / 2, axis=0)
    upper = np.quantile(draws, (1 + levels) / 2, axis=0)
    inside = (y >= lower) & (y <= upper)
    coverage = inside.reshape(len(levels), -1).mean(axis=1)
    return {"level": levels, "coverage": coverage}
