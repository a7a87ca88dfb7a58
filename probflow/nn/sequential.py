"""`Sequential`: a plain stack of layers, built from the data's shape when needed."""

from __future__ import annotations

from probflow.nn.functional import Input, SymbolicTensor, connect
from probflow.nn.model import Model
from probflow.nn.saving.registry import register_model_class

__all__ = ["Sequential"]


@register_model_class
class Sequential(Model):
    """A linear stack of layers.

    Args:
        layers: list of layers; may start with an `nn.Input(shape)` to fix the input
            shape now, otherwise the model is built from the data at the first `fit`
            (or `build(input_shape)`).
        name: display name.

    Example:
        >>> from probflow import nn
        >>> model = nn.Sequential([nn.Input((4,)), nn.Dense(8), nn.Dense(2)])
        >>> model.output_shape
        (2,)
    """

    def __init__(self, layers=None, *, name=None):
        self.name = name or "sequential"
        self._init_shell()
        self._input = None
        self._stack = []
        for item in list(layers or []):
            self.add(item)

    def add(self, layer) -> None:
        """Appends a layer (or, first, an `nn.Input`)."""
        if isinstance(layer, SymbolicTensor):
            if self._stack or self._input is not None:
                raise ValueError("nn.Input can only be the first entry of a Sequential model")
            self._input = layer
        else:
            if not (hasattr(layer, "apply") and hasattr(layer, "output_shape")):
                raise TypeError(f"`layers` entries must be layers; got {type(layer).__name__}")
            self._stack.append(layer)
            # The layers keep their weights; a run or posterior of the old graph is void.
            self._end_run()
            self._fitted_posterior = None
            self.program_cache = {}
        self._graph_ready = False
        if self._input is not None and self._stack:
            self._build_graph(self._input)

    def _build_graph(self, input_tensor):
        tensor = input_tensor
        for layer in self._stack:
            tensor = connect(layer, tensor)
        self._set_graph(input_tensor, tensor)

    def build(self, input_shape) -> None:
        """Fixes the per-example input shape (no batch dim) and wires the layers."""
        if not self._stack:
            raise ValueError("a Sequential model needs at least one layer")
        shape = tuple(input_shape)
        if self._graph_ready and self.input_shape == shape:
            return
        if self._graph_ready and self.built:
            raise ValueError(f"`x` must have per-example shape {self.input_shape} (the shape the "
                             f"model was built with); got {shape}")
        self._input = Input(shape)
        self._build_graph(self._input)

    @property
    def stack(self) -> list:
        """The layers in the order they were added (saving writes this list)."""
        return list(self._stack)

    def ensure_graph(self, input_shapes):
        if not self._graph_ready:
            if len(input_shapes) != 1:
                raise ValueError(f"a Sequential model takes one input; got {len(input_shapes)}")
            self.build(input_shapes[0])
