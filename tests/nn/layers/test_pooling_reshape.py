"""Pooling, Flatten and Reshape: Keras shapes, numerics against a numpy reference."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _conv_reference import reference_pool

from probflow import nn


@pytest.mark.parametrize(
    "make, input_shape, out_shape",
    [
        (lambda: nn.MaxPooling2D(), (8, 8, 3), (4, 4, 3)),
        (lambda: nn.MaxPooling2D(3, strides=2, padding="same"), (7, 7, 1), (4, 4, 1)),
        (lambda: nn.AveragePooling2D((2, 3)), (5, 7, 2), (2, 2, 2)),
        (lambda: nn.MaxPooling1D(), (9, 4), (4, 4)),
        (lambda: nn.AveragePooling1D(3, strides=1, padding="same"), (9, 4), (9, 4)),
        (lambda: nn.GlobalAveragePooling2D(), (5, 5, 3), (3,)),
        (lambda: nn.GlobalAveragePooling2D(keepdims=True), (5, 5, 3), (1, 1, 3)),
        (lambda: nn.GlobalMaxPooling1D(), (5, 3), (3,)),
        (lambda: nn.Flatten(), (4, 4, 3), (48,)),
        (lambda: nn.Reshape((2, -1)), (4, 3), (2, 6)),
        (lambda: nn.Reshape((3, 4)), (12,), (3, 4)),
    ],
)
def test_shapes_and_zero_params(make, input_shape, out_shape):
    layer = make()
    assert layer.output_shape(input_shape) == out_shape
    assert layer.count_params(input_shape) == {"trainable": 0, "non_trainable": 0, "stochastic": 0}
    params, state = layer.init(jax.random.key(0), input_shape)
    y, _ = layer.apply(params, state, jnp.ones((2,) + input_shape))
    assert y.shape == (2,) + out_shape


POOL_CASES = [
    (2, None, "valid"),
    (3, 2, "valid"),
    (3, 2, "same"),
    ((2, 3), (1, 2), "same"),
    (2, 1, "same"),
]


@pytest.mark.parametrize("pool, strides, padding", POOL_CASES)
@pytest.mark.parametrize("cls, reduction", [(nn.MaxPooling2D, "max"), (nn.AveragePooling2D, "mean")])
def test_pool2d_matches_reference(cls, reduction, pool, strides, padding, x64):
    layer = cls(pool, strides=strides, padding=padding)
    x = np.random.default_rng(0).normal(size=(2, 7, 6, 3))
    y, _ = layer.apply({}, {}, jnp.asarray(x))
    expected = reference_pool(x, layer.pool_size, layer.strides, padding, reduction)
    assert y.shape == expected.shape == (2,) + layer.output_shape((7, 6, 3))
    np.testing.assert_allclose(np.asarray(y), expected, rtol=1e-12)


@pytest.mark.parametrize("cls, reduction", [(nn.MaxPooling1D, "max"), (nn.AveragePooling1D, "mean")])
def test_pool1d_matches_reference(cls, reduction, x64):
    layer = cls(3, strides=2, padding="same")
    x = np.random.default_rng(1).normal(size=(2, 8, 2))
    y, _ = layer.apply({}, {}, jnp.asarray(x))
    np.testing.assert_allclose(np.asarray(y), reference_pool(x, (3,), (2,), "same", reduction), rtol=1e-12)


def test_global_pooling_numerics(x64):
    x = np.random.default_rng(2).normal(size=(2, 3, 4, 5))
    np.testing.assert_allclose(nn.GlobalAveragePooling2D().apply({}, {}, jnp.asarray(x))[0], x.mean((1, 2)))
    np.testing.assert_allclose(nn.GlobalMaxPooling2D().apply({}, {}, jnp.asarray(x))[0], x.max((1, 2)))


def test_max_pool_gradient_goes_to_the_maximum():
    x = jnp.asarray([[[[1.0], [5.0]], [[2.0], [3.0]]]])  # (1, 2, 2, 1)
    grad = jax.grad(lambda x: nn.MaxPooling2D().apply({}, {}, x)[0].sum())(x)
    np.testing.assert_array_equal(np.asarray(grad).ravel(), [0.0, 1.0, 0.0, 0.0])


def test_flatten_and_reshape_keep_order():
    x = jnp.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(nn.Flatten().apply({}, {}, x)[0], np.arange(24.0).reshape(2, 12))
    np.testing.assert_array_equal(nn.Reshape((4, 3)).apply({}, {}, x)[0], np.arange(24.0).reshape(2, 4, 3))


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match="target_shape"):
        nn.Reshape((5, -1)).output_shape((4, 3))
    with pytest.raises(ValueError, match="at most one -1"):
        nn.Reshape((-1, -1))
    with pytest.raises(ValueError, match="smaller than the pool"):
        nn.MaxPooling2D(4).output_shape((3, 3, 1))
    with pytest.raises(ValueError, match="padding"):
        nn.MaxPooling2D(padding="full")
