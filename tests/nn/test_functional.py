"""Sequential and functional models: shapes, multi-input/output graphs, layer reuse."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from probflow import nn
from probflow.nn.functional import SymbolicTensor, connect, is_symbolic


class Concat(nn.Layer):
    """Test-only merge layer: concatenates a list of inputs on the last axis."""

    def output_shape(self, input_shape):
        shapes = [tuple(s) for s in input_shape]
        return shapes[0][:-1] + (sum(s[-1] for s in shapes),)

    def init(self, key, input_shape):
        del key, input_shape
        return {}, {}

    def apply(self, params, state, x, *, key=None, training=False):
        return jnp.concatenate(x, axis=-1), state


def test_sequential_with_input_has_output_shape():
    model = nn.Sequential([nn.Input((4,)), nn.Dense(8), nn.Dense(3)])
    assert model.input_shape == (4,)
    assert model.output_shape == (3,)
    params, state = model.init(jax.random.key(0))
    (y,), _ = model.forward(params, state, [jnp.ones((5, 4))])
    assert y.shape == (5, 3)


def test_sequential_builds_from_shape_later():
    model = nn.Sequential([nn.Dense(8), nn.Dense(2)])
    assert not model._graph_ready
    model.build((6,))
    assert model.output_shape == (2,)
    params, _ = model.init(jax.random.key(0))
    assert params[model.layers[0].name]["kernel"].shape == (6, 8)


def test_functional_multi_input_multi_output_shapes():
    a, b = nn.Input((3,)), nn.Input((2,))
    merged = Concat()([a, b])
    hidden = nn.Dense(4, activation="relu")(merged)
    out1, out2 = nn.Dense(1)(hidden), nn.Dense(5)(hidden)
    model = nn.Model([a, b], [out1, out2])
    assert model.input_shape == [(3,), (2,)]
    assert model.output_shape == [(1,), (5,)]
    params, state = model.init(jax.random.key(1))
    outs, _ = model.forward(params, state, [jnp.ones((7, 3)), jnp.ones((7, 2))])
    assert [o.shape for o in outs] == [(7, 1), (7, 5)]
    assert len(params) == 4  # Concat, hidden Dense, two heads


def test_layer_reuse_shares_params():
    x = nn.Input((3,))
    shared = nn.Dense(3, activation="tanh")
    y = shared(shared(x))
    model = nn.Model(x, y)
    assert len(model.layers) == 1
    params, state = model.init(jax.random.key(2))
    assert list(params) == [shared.name]
    data = jax.random.normal(jax.random.key(3), (4, 3))
    (out,), _ = model.forward(params, state, [data])
    p = params[shared.name]
    once, _ = shared.apply(p, {}, data)
    twice, _ = shared.apply(p, {}, once)
    np.testing.assert_allclose(out, twice, rtol=1e-6)
    # Gradients from both calls accumulate into the one shared entry.
    grad = jax.grad(lambda q: jnp.sum(model.forward(q, state, [data])[0][0]))(params)
    assert grad[shared.name]["kernel"].shape == (3, 3)


def test_reuse_on_other_shape_is_an_error():
    shared = nn.Dense(2)
    a, b = nn.Input((3,)), nn.Input((4,))
    with pytest.raises(ValueError, match="reused on inputs of shape"):
        nn.Model([a, b], [shared(a), shared(b)])


def test_unknown_input_and_duplicate_names_are_errors():
    a, b = nn.Input((3,)), nn.Input((3,))
    with pytest.raises(ValueError, match="not among the model's `inputs`"):
        nn.Model(a, Concat()([a, b]))
    x = nn.Input((3,))
    y = nn.Dense(2, name="twin")(nn.Dense(3, name="twin")(x))
    with pytest.raises(ValueError, match="named 'twin'"):
        nn.Model(x, y)


def test_connect_and_input_validation():
    assert is_symbolic(nn.Input(2)) and not is_symbolic(np.ones(2))
    with pytest.raises(TypeError, match="inputs"):
        connect(nn.Dense(2), np.ones((2, 2)))
    with pytest.raises(ValueError, match="positive"):
        nn.Input((0, 3))
    with pytest.raises(TypeError, match="outputs"):
        nn.Model(nn.Input(2), "nope")
    with pytest.raises(ValueError, match="cannot take inputs"):
        Concat()(nn.Input((2, 3)))  # a single tensor is not a list of shapes
    assert isinstance(nn.Dense(2)(nn.Input((3,))), SymbolicTensor)


def test_layer_called_on_array_runs_eagerly_and_on_other_objects_is_a_type_error():
    # Keras: calling a layer on an array runs it (building its weights on first use).
    assert nn.Dense(2)(np.ones((2, 3))).shape == (2, 2)
    with pytest.raises(TypeError):
        nn.Dense(2)("not a tensor")
