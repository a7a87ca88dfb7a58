"""Symbolic tensors and the graph behind the functional model API.

``x = nn.Input((3,))`` is a `SymbolicTensor`: a per-example shape (no batch dim) and
the node that produced it. Calling a layer on symbolic tensors goes through `connect`,
which records a `Node` (layer, input tensors) and returns the output tensor with the
layer's `output_shape`. `nn.Model(inputs, outputs)` walks these nodes back from the
outputs, orders them topologically and runs them as one pure function. Calling the same
layer object twice records two nodes for one layer: both share that layer's params.
"""

from __future__ import annotations

import itertools

__all__ = ["Input", "Node", "SymbolicTensor", "connect", "is_symbolic", "topological_nodes"]

_counter = itertools.count()


class SymbolicTensor:
    """A placeholder for a batch of per-example arrays of shape `shape`.

    Attributes:
        shape: per-example shape (no batch dimension).
        node: the `Node` that produced it; None for an `Input`.
        name: display name.
    """

    def __init__(self, shape, node=None, name=None):
        self.shape = _as_shape(shape)
        self.node = node
        self.name = name or f"tensor_{next(_counter)}"

    def __repr__(self):
        return f"SymbolicTensor(shape={self.shape}, name={self.name!r})"


class Node:
    """One call of a layer on symbolic inputs.

    Attributes:
        layer: the layer object called.
        inputs: a `SymbolicTensor` or a list of them (what the layer was called on).
        output: the `SymbolicTensor` it produced.
    """

    def __init__(self, layer, inputs):
        self.layer = layer
        self.inputs = inputs
        self.output = None

    @property
    def input_tensors(self) -> list:
        """The inputs as a flat list."""
        return list(self.inputs) if isinstance(self.inputs, (list, tuple)) else [self.inputs]

    @property
    def input_shape(self):
        """The per-example input shape, or a list of shapes for several inputs."""
        if isinstance(self.inputs, (list, tuple)):
            return [t.shape for t in self.inputs]
        return self.inputs.shape


def _as_shape(shape) -> tuple:
    if isinstance(shape, int):
        shape = (shape,)
    try:
        shape = tuple(int(d) for d in shape)
    except TypeError:
        raise TypeError(f"`shape` must be an int or a tuple of ints; got {shape!r}") from None
    if any(d <= 0 for d in shape):
        raise ValueError(f"`shape` must hold positive sizes (no batch dim); got {shape}")
    return shape


def Input(shape, *, name=None) -> SymbolicTensor:  # noqa: N802 - Keras spelling
    """Declares a model input of per-example shape `shape` (no batch dimension).

    Args:
        shape: int or tuple of ints, e.g. ``(28, 28, 1)``.
        name: optional display name.

    Returns:
        A `SymbolicTensor` to call layers on.

    Example:
        >>> x = Input((3,))
        >>> x.shape
        (3,)
    """
    return SymbolicTensor(shape, node=None, name=name or f"input_{next(_counter)}")


def is_symbolic(inputs) -> bool:
    """Whether `inputs` is a symbolic tensor or a non-empty list of them.

    Example:
        >>> is_symbolic(Input(2)), is_symbolic([Input(2), Input(3)]), is_symbolic(1.0)
        (True, True, False)
    """
    if isinstance(inputs, SymbolicTensor):
        return True
    return (
        isinstance(inputs, (list, tuple))
        and len(inputs) > 0
        and all(isinstance(t, SymbolicTensor) for t in inputs)
    )


def connect(layer, inputs) -> SymbolicTensor:
    """Records a call of `layer` on symbolic `inputs`; what `Layer.__call__` delegates to.

    Args:
        layer: a layer (anything with ``output_shape(input_shape)``).
        inputs: a `SymbolicTensor` or a list of them (multi-input layers receive a list
            of shapes in `output_shape`/`init` and a list of arrays in `apply`).

    Returns:
        The output `SymbolicTensor`.

    Example:
        >>> class Twice:
        ...     def output_shape(self, input_shape):
        ...         return tuple(2 * d for d in input_shape)
        >>> connect(Twice(), Input((3,))).shape
        (6,)
    """
    if not is_symbolic(inputs):
        raise TypeError(
            "`inputs` must be a SymbolicTensor (from nn.Input or a layer call) or a "
            f"list of them; got {type(inputs).__name__}"
        )
    node = Node(layer, list(inputs) if isinstance(inputs, (list, tuple)) else inputs)
    try:
        shape = layer.output_shape(node.input_shape)
    except (ValueError, TypeError) as err:
        raise ValueError(
            f"{type(layer).__name__} cannot take inputs of shape {node.input_shape}: {err}"
        ) from err
    node.output = SymbolicTensor(shape, node=node)
    return node.output


def topological_nodes(inputs: list, outputs: list) -> list:
    """Nodes between `inputs` and `outputs`, each after the nodes it depends on.

    Args:
        inputs: the model's input `SymbolicTensor`s.
        outputs: the model's output `SymbolicTensor`s.

    Returns:
        A list of `Node`s in execution order.

    Raises:
        ValueError: when an output depends on a symbolic input not in `inputs`.
    """
    input_ids = {id(t) for t in inputs}
    order, done, visiting = [], set(), set()

    def visit(tensor):
        if id(tensor) in input_ids:
            return
        node = tensor.node
        if node is None:
            raise ValueError(
                f"an output depends on input {tensor.name!r} (shape {tensor.shape}) that is "
                "not among the model's `inputs`"
            )
        if id(node) in done:
            return
        if id(node) in visiting:  # cannot happen with immutable tensors, but be safe
            raise ValueError("the layer graph has a cycle")
        visiting.add(id(node))
        for t in node.input_tensors:
            visit(t)
        visiting.discard(id(node))
        done.add(id(node))
        order.append(node)

    for t in outputs:
        visit(t)
    return order
