"""`Model.summary()`'s Keras-like table: layer (type), output shape, params, stochastic."""

from __future__ import annotations

import math

import jax

__all__ = ["summary_table"]


def _size(tree) -> int:
    return sum(math.prod(getattr(leaf, "shape", ())) for leaf in jax.tree_util.tree_leaves(tree))


def _layer_counts(model, layer):
    """(trainable entries, stochastic weights) of one layer."""
    shape = model.layer_input_shape(layer)
    if hasattr(layer, "count_params"):
        counts = layer.count_params(shape)
        return counts["trainable"], counts["stochastic"]
    params, _ = jax.eval_shape(lambda k: layer.init(k, shape), jax.random.key(0))
    return _size(params), 0


def summary_table(model) -> str:
    """The summary as a string.

    "Param #" counts trainable entries (a Bayesian layer's posterior loc and scale);
    "Stochastic" counts the weights drawn from a posterior (each has a loc and a scale).

    Example:
        >>> from probflow import nn
        >>> m = nn.Sequential([nn.Input((3,)), nn.Dense(2, name="out")])
        >>> print(summary_table(m).splitlines()[4])
        out (Dense)                  (None, 2)                 8            0
    """
    if not model.graph_ready:
        return (f'Model "{model.name}" is not built yet: call fit or build(input_shape) '
                "to see its layers")
    rows = []
    for node in model.nodes:
        layer = node.layer
        rows.append((node, layer))
    widths = (36, 20, 12, 12)
    header = ("Layer (type)", "Output Shape", "Param #", "Stochastic")
    rule = "=" * sum(widths)

    def line(cells):
        return "".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()

    out = [f'Model: "{model.name}"', rule, line(header), rule]
    total = stochastic_total = 0
    seen = set()
    for node, layer in rows:
        shape = "(None, " + ", ".join(str(d) for d in node.output.shape) + ")"
        first = id(layer) not in seen
        seen.add(id(layer))
        trainable, stochastic = _layer_counts(model, layer) if first else (0, 0)
        total += trainable
        stochastic_total += stochastic
        label = f"{model.layer_name(layer)} ({type(layer).__name__})"
        if not first:
            label += " [shared]"
        elif not layer.trainable:
            label += " [frozen]"
        out.append(line((label, shape, trainable, stochastic)))
    if model.head_params is not None:
        for i, (head, params) in enumerate(zip(model.heads, model.head_params)):
            n = _size(params)
            total += n
            out.append(line((f"likelihood_{i} ({head.name})", "", n, 0)))
    out += [rule, f"Total params: {total:,}", f"Stochastic weights: {stochastic_total:,}", "_" * sum(widths)]
    return "\n".join(out)
