"""Checking and preparing `fit` / `evaluate` data on the host, before anything compiles.

Every user mistake is caught here with a message naming shapes or values: x/y length
mismatch, a feature shape the built model cannot take, labels outside the likelihood's
support (e.g. out of range for "categorical"), NaN or infinity in x or y.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from probflow.nn.utils import as_array_list, check_finite

__all__ = ["example_weights", "prepare_inputs", "prepare_xy", "split_validation"]


def _float(array):
    return array if np.issubdtype(array.dtype, np.floating) else array.astype(np.float32)


def by_keys(data, keys, argname):
    """A dict of arrays in the order of `keys` (a model's input / output names);
    anything else unchanged.

    Example:
        >>> by_keys({"b": 2, "a": 1}, ["a", "b"], "x")
        [1, 2]
    """
    if not isinstance(data, dict):
        return data
    unknown, missing = sorted(set(data) - set(keys)), [k for k in keys if k not in data]
    if unknown or missing:
        raise ValueError(f"`{argname}` dict keys must be the model's names {keys}; got "
                         f"{sorted(data)}")
    return [data[k] for k in keys]


def _check_numeric(arrays, argname):
    for array in arrays:
        if array.dtype.kind not in "biuf":
            raise TypeError(f"`{argname}` must be numeric (bool, int or float); got dtype "
                            f"{array.dtype} (shape {array.shape})")


def prepare_inputs(model, x, argname="x"):
    """Validates inputs against the model: returns a list of float numpy arrays."""
    if model.graph_ready:
        x = by_keys(x, model.input_keys(), argname)
    n_inputs = len(model.inputs) if model.graph_ready else 1
    xs = as_array_list(x, n_inputs, argname)
    _check_numeric(xs, argname)
    model.ensure_graph([a.shape[1:] for a in xs])
    lengths = {a.shape[0] for a in xs}
    if len(lengths) > 1:
        raise ValueError(f"all arrays in `{argname}` must have the same number of examples; got "
                         f"shapes {[a.shape for a in xs]}")
    for i, (array, shape) in enumerate(zip(xs, model.input_shapes)):
        if array.shape[1:] != tuple(shape):
            which = f" (input {i})" if n_inputs > 1 else ""
            raise ValueError(
                f"`{argname}`{which} must have shape (n, {', '.join(map(str, shape))}) for this "
                f"model; got {array.shape}"
            )
    if xs[0].shape[0]:  # an empty batch (predict) has nothing to check
        check_finite(xs, argname)
    return [_float(a) for a in xs]


def prepare_xy(model, x, y, *, xname="x", yname="y"):
    """Validates `(x, y)` and builds the likelihood heads on first use.

    Returns:
        ``(xs, ys)``: lists of numpy arrays ready to go on device.
    """
    if not model.compiled:
        raise ValueError("the model must be compiled before fitting: call "
                         "model.compile(optimizer=..., likelihood=...)")
    xs = prepare_inputs(model, x, xname)
    ys = as_array_list(by_keys(y, model.output_keys(), yname), len(model.outputs), yname)
    _check_numeric(ys, yname)
    n = xs[0].shape[0]
    for array in ys:
        if array.shape[0] != n:
            raise ValueError(f"`{xname}` and `{yname}` must have the same number of examples; "
                             f"got {xname} shape {xs[0].shape} and {yname} shape {array.shape}")
    if n == 0:
        raise ValueError(f"`{xname}` must hold at least one example; got shape {xs[0].shape}")
    check_finite(ys, yname)
    prepared = []
    for head, shape, array in zip(model.heads, model.output_shapes, ys):
        if not head.built:
            head.build(shape, array.shape[1:])
        head.check_targets(array, yname)
        try:
            prepared.append(head.prepare_targets(array))
        except ValueError:
            raise ValueError(
                f"`{yname}` of shape {array.shape} does not fit the {head.name} likelihood "
                f"built for per-example targets of shape {head.target_shape}"
            ) from None
    return xs, prepared


def example_weights(model, ys, sample_weight=None, class_weight=None, *, name="sample_weight"):
    """Per-example weights of the NLL terms from Keras's `sample_weight` / `class_weight`.

    Args:
        model: the compiled model (its heads say whether labels are classes).
        ys: the prepared targets (`prepare_xy`), one array per output.
        sample_weight: None or ``(n,)`` finite, non-negative weights.
        class_weight: None or a dict ``class label -> weight`` (classifier heads only;
            labels missing from it weigh 1); multiplied into `sample_weight`.
        name: how to call `sample_weight` in messages.

    Returns:
        None (no weighting) or a float ``(n,)`` numpy array.

    Example:
        >>> import numpy as np
        >>> from probflow import nn
        >>> m = nn.Sequential([nn.Input((2,)), nn.Dense(3)])
        >>> m.compile(likelihood="categorical")
        >>> _, ys = prepare_xy(m, np.zeros((3, 2)), np.array([0, 2, 2]))
        >>> example_weights(m, ys, class_weight={2: 0.5}).tolist()
        [1.0, 0.5, 0.5]
    """
    if sample_weight is None and class_weight is None:
        return None
    n = ys[0].shape[0]
    weights = np.ones(n, np.float64)
    if sample_weight is not None:
        sw = np.asarray(sample_weight)
        if sw.dtype == object or not np.issubdtype(sw.dtype, np.number) or sw.shape != (n,):
            raise ValueError(f"`{name}` must be a numeric array of shape ({n},), one weight per "
                             f"example; got shape {sw.shape} and dtype {sw.dtype}")
        if not (np.isfinite(sw).all() and (sw >= 0).all()):
            raise ValueError(f"`{name}` must hold finite weights >= 0; got min {sw.min()} "
                             f"(or NaN/inf)")
        weights = weights * sw
    if class_weight is not None:
        weights = weights * _class_weights(model, ys, class_weight)
    # The default float dtype (float64 under x64), as the masks they multiply.
    return weights.astype(jnp.result_type(float))


def _class_weights(model, ys, class_weight):
    if not isinstance(class_weight, dict):
        raise TypeError(f"`class_weight` must be a dict class label -> weight; got "
                        f"{type(class_weight).__name__}")
    if len(model.heads) != 1 or not model.heads[0].is_classifier:
        names = [h.name for h in model.heads]
        raise ValueError("`class_weight` needs a single classifier output (categorical or "
                         f"bernoulli likelihood); this model's likelihoods are {names}: use "
                         "`sample_weight` instead")
    labels = ys[0].reshape(ys[0].shape[0], -1)
    if labels.shape[1] != 1:
        raise ValueError("`class_weight` needs one class label per example; got targets of "
                         f"shape {ys[0].shape}")
    labels = labels[:, 0].astype(np.int64)
    table = {int(k): float(v) for k, v in class_weight.items()}
    if any(not (np.isfinite(v) and v >= 0) for v in table.values()):
        raise ValueError(f"`class_weight` values must be finite and >= 0; got {class_weight}")
    return np.array([table.get(int(c), 1.0) for c in labels], np.float64)


def split_validation(xs, ys, validation_split):
    """Holds out the last `validation_split` fraction of the examples (Keras semantics)."""
    if not 0.0 <= validation_split < 1.0:
        raise ValueError(f"`validation_split` must be in [0, 1); got {validation_split}")
    n = xs[0].shape[0]
    n_val = int(round(n * validation_split))
    if validation_split == 0.0 or n_val == 0:
        return (xs, ys), None
    if n_val >= n:
        raise ValueError(f"`validation_split`={validation_split} leaves no training examples "
                         f"out of {n}")
    cut = n - n_val
    return ([a[:cut] for a in xs], [a[:cut] for a in ys]), ([a[cut:] for a in xs],
                                                              [a[cut:] for a in ys])
