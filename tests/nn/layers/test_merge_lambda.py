"""Merge layers and Lambda: values against numpy, shape rules and errors, and functional /
Sequential models that use them, fitted by VI and MAP and saved / loaded bit-identically."""

import jax.numpy as jnp
import numpy as np
import pytest

from probflow import nn
from probflow.nn.layers import (
    Add,
    Average,
    Concatenate,
    Dot,
    Lambda,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    register_lambda_function,
)

RNG = np.random.default_rng(3)


@register_lambda_function("test_merge_square")
def square(x):
    return x * x


@register_lambda_function("test_merge_first_times_last")
def first_times_last(xs):
    return xs[0] * xs[-1]


def _apply(layer, arrays):
    shapes = [a.shape[1:] for a in arrays]
    params, state = layer.init(None, shapes)
    assert params == {} and state == {}
    y, _ = layer.apply(params, state, [jnp.asarray(a) for a in arrays])
    assert y.shape[1:] == layer.output_shape(shapes)
    return np.asarray(y)


# Shapes (batch 2): same shape, a size-1 axis, and a lower-rank input.
A = RNG.normal(size=(2, 4, 3)).astype("float32")
B = RNG.normal(size=(2, 4, 1)).astype("float32")
C = RNG.normal(size=(2, 3)).astype("float32")


@pytest.mark.parametrize("layer, reference", [
    (Add(), lambda a, b, c: a + b + c[:, None]),
    (Multiply(), lambda a, b, c: a * b * c[:, None]),
    (Average(), lambda a, b, c: (a + b + c[:, None]) / 3),
    (Maximum(), lambda a, b, c: np.maximum(np.maximum(a, b), c[:, None])),
    (Minimum(), lambda a, b, c: np.minimum(np.minimum(a, b), c[:, None])),
])
def test_elementwise_merges_broadcast_as_keras(layer, reference):
    np.testing.assert_allclose(_apply(layer, [A, B, C]), reference(A, B, C), rtol=1e-6)


def test_subtract_takes_exactly_two():
    np.testing.assert_allclose(_apply(Subtract(), [A, B]), A - B, rtol=1e-6)
    with pytest.raises(ValueError, match=r"Subtract .* exactly 2 inputs"):
        Subtract().output_shape([(3,), (3,), (3,)])


def test_concatenate_axes():
    a, b = RNG.normal(size=(2, 2, 3)), RNG.normal(size=(2, 4, 3))
    np.testing.assert_allclose(_apply(Concatenate(axis=1), [a, b]), np.concatenate([a, b], 1),
                               rtol=1e-6)
    c = RNG.normal(size=(2, 2, 5))
    np.testing.assert_allclose(_apply(Concatenate(), [a, c]), np.concatenate([a, c], -1),
                               rtol=1e-6)
    assert Concatenate(axis=-2).output_shape([(2, 3), (4, 3)]) == (6, 3)


def test_dot_matches_einsum_and_normalises():
    a, b = RNG.normal(size=(3, 4)), RNG.normal(size=(3, 4))
    np.testing.assert_allclose(_apply(Dot(axes=1), [a, b]), np.einsum("ni,ni->n", a, b)[:, None],
                               rtol=1e-5)
    cosine = np.einsum("ni,ni->n", a, b) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    np.testing.assert_allclose(_apply(Dot(axes=-1, normalize=True), [a, b])[:, 0], cosine,
                               rtol=1e-5)
    m, v = RNG.normal(size=(3, 2, 4)), RNG.normal(size=(3, 4, 5))
    np.testing.assert_allclose(_apply(Dot(axes=(2, 1)), [m, v]), np.einsum("nij,njk->nik", m, v),
                               rtol=1e-5)


@pytest.mark.parametrize("call, match", [
    (lambda: Add(name="plus").output_shape([(3,), (4,)]), r"Add 'plus'.*\[\(3,\), \(4,\)\]"),
    (lambda: Add().output_shape((3,)), "list of inputs"),
    (lambda: Concatenate(name="cat").output_shape([(2, 3), (2, 4, 1)]), "cat.*same rank"),
    (lambda: Concatenate(axis=1).output_shape([(2, 3), (2, 4)]), "every axis but axis 1"),
    (lambda: Concatenate(axis=3).output_shape([(2, 3), (2, 3)]), "not an axis"),
    (lambda: Concatenate(axis=0), "batch axis"),
    (lambda: Dot(axes=1).output_shape([(3,), (4,)]), "same size"),
    (lambda: Maximum().apply({}, {}, jnp.ones((2, 3))), "list of arrays"),
])
def test_shape_errors_name_the_layer_and_shapes(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_merge_on_a_single_symbolic_tensor_fails_at_graph_time():
    x = nn.Input((3,))
    with pytest.raises(ValueError, match="list of inputs"):
        Add()(x)


def test_lambda_shapes_and_errors():
    assert Lambda(lambda x: x.reshape(x.shape[0], -1)).output_shape((2, 3)) == (6,)
    assert Lambda(first_times_last).output_shape([(3,), (1,)]) == (3,)
    assert Lambda("test_merge_square", output_shape=(4,)).output_shape((4,)) == (4,)
    with pytest.raises(ValueError, match="does not match"):
        Lambda(square, output_shape=(5,)).output_shape((4,))
    with pytest.raises(ValueError, match="failed on inputs"):
        Lambda(lambda x: x @ jnp.ones((7, 2))).output_shape((4,))
    with pytest.raises(ValueError, match="batch axis first"):
        Lambda(lambda x: jnp.sum(x)).output_shape((4,))
    with pytest.raises(ValueError, match="not a registered function"):
        Lambda("no_such_function")
    with pytest.raises(TypeError, match="callable"):
        Lambda(3)


def test_unregistered_lambda_refuses_to_save(tmp_path):
    model = nn.Sequential([nn.Input((2,)), Lambda(lambda x: x + 1.0, name="plus_one"),
                           nn.Dense(1)])
    with pytest.raises(ValueError, match="plus_one.*register_lambda_function"):
        model.layers[0].get_config()
    with pytest.raises(ValueError, match="register_lambda_function"):
        model.save(tmp_path / "m.probflow")


def _two_input_model(dense):
    """Every merge layer and a Lambda in one graph over two inputs."""
    a, b = nn.Input((3,)), nn.Input((2,))
    ha, hb = dense(4, activation="tanh")(a), nn.Dense(4, activation="tanh")(b)
    merged = [Add()([ha, hb]), Subtract()([ha, hb]), Multiply()([ha, hb]),
              Average()([ha, hb]), Maximum()([ha, hb]), Minimum()([ha, hb]),
              Lambda(square)(ha), Lambda(first_times_last)([ha, hb]), Dot(axes=1)([ha, hb])]
    out = nn.Dense(1)(Concatenate()(merged))
    return nn.Model([a, b], out)


XA = RNG.normal(size=(48, 3)).astype("float32")
XB = RNG.normal(size=(48, 2)).astype("float32")
Y = (XA.sum(1) * XB[:, 0] + 0.1 * RNG.normal(size=48)).astype("float32")


@pytest.mark.parametrize("method, dense", [("vi", nn.DenseReparameterization), ("map", nn.Dense)])
def test_functional_merge_model_fits_saves_and_loads(method, dense, tmp_path):
    model = _two_input_model(dense)
    model.compile(optimizer="adam", learning_rate=0.03, likelihood="normal")
    history = model.fit([XA, XB], Y, epochs=6, batch_size=16, verbose=0, method=method, seed=1)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]
    path = tmp_path / "merge.probflow"
    model.save(path)
    loaded = nn.load_model(path)
    assert [type(layer).__name__ for layer in loaded.layers] == [
        type(layer).__name__ for layer in model.layers]
    np.testing.assert_array_equal(loaded.predict([XA[:7], XB[:7]], num_samples=4, seed=2),
                                  model.predict([XA[:7], XB[:7]], num_samples=4, seed=2))


def test_sequential_with_lambda_fits_saves_and_loads(tmp_path):
    model = nn.Sequential([nn.Input((3,)), nn.Dense(4), Lambda(square), nn.Dense(1)])
    model.compile(optimizer="adam", learning_rate=0.03, likelihood="normal")
    model.fit(XA, Y, epochs=2, batch_size=16, verbose=0, method="map")
    model.save(tmp_path / "seq.probflow")
    loaded = nn.load_model(tmp_path / "seq.probflow")
    assert loaded.layers[1].function is square
    np.testing.assert_array_equal(loaded.predict(XA[:5], num_samples=2),
                                  model.predict(XA[:5], num_samples=2))
