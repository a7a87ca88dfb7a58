"""Keras loss names -> likelihood heads, probability inputs, the activation check, and
custom loss functions as Gibbs likelihoods (log-densities against scipy in float64)."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats

from probflow import nn
from probflow.nn import likelihoods
from probflow.nn.losses import (
    LossLikelihood,
    likelihood_for_loss,
    loss_names,
    output_activation_check,
)

RNG = np.random.default_rng(7)


@pytest.mark.parametrize("loss, from_logits, cls, inputs", [
    ("sparse_categorical_crossentropy", None, likelihoods.Categorical, "probs"),
    ("SparseCategoricalCrossentropy", True, likelihoods.Categorical, "logits"),
    ("categorical_crossentropy", False, likelihoods.Categorical, "probs"),
    ("CategoricalCrossentropy", None, likelihoods.Categorical, "probs"),
    ("binary_crossentropy", None, likelihoods.Bernoulli, "probs"),
    ("BinaryCrossentropy", True, likelihoods.Bernoulli, "logits"),
    ("mse", None, likelihoods.Normal, None),
    ("mean_squared_error", None, likelihoods.Normal, None),
    ("MeanSquaredError", None, likelihoods.Normal, None),
    ("mae", None, likelihoods.Laplace, None),
    ("MeanAbsoluteError", None, likelihoods.Laplace, None),
    ("poisson", None, likelihoods.Poisson, "rate"),
    ("Poisson", True, likelihoods.Poisson, "log_rate"),
])
def test_loss_names_map_to_heads(loss, from_logits, cls, inputs):
    head = likelihood_for_loss(loss, from_logits=from_logits)
    assert type(head) is cls
    assert getattr(head, "inputs", None) == inputs
    assert likelihood_for_loss(loss, from_logits=from_logits) is not head  # fresh each time


def test_keras_loss_object_is_read_by_class_name_and_config():
    class SparseCategoricalCrossentropy:  # what a keras.losses object looks like
        def get_config(self):
            return {"from_logits": True, "name": "sparse_categorical_crossentropy"}

        def __call__(self, y_true, y_pred):
            raise AssertionError("never called")

    assert likelihood_for_loss(SparseCategoricalCrossentropy()).inputs == "logits"
    assert likelihood_for_loss(SparseCategoricalCrossentropy(), from_logits=False).inputs == "probs"


@pytest.mark.parametrize("loss, error, match", [
    ("huber", ValueError, "studentt"),
    ("Huber", ValueError, "studentt"),
    ("kl_divergence", ValueError, "not a likelihood"),
    ("KLDivergence", ValueError, "not a likelihood"),
    ("hinge", ValueError, "no probflow likelihood"),
    ("cross_entropy", ValueError, "must be one of"),
    (3, TypeError, "loss"),
])
def test_losses_without_a_likelihood_say_so(loss, error, match):
    with pytest.raises(error, match=match):
        likelihood_for_loss(loss)


def test_from_logits_is_refused_where_it_means_nothing():
    with pytest.raises(TypeError, match="from_logits"):
        likelihood_for_loss("mse", from_logits=True)
    with pytest.raises(TypeError, match="from_logits"):
        likelihood_for_loss(lambda y, p: (y - p) ** 2, from_logits=False)
    with pytest.raises(TypeError, match="from_logits"):
        likelihood_for_loss("mse", from_logits="yes")
    assert "poisson" in loss_names()


def _log_lik(head, output_shape, target_shape, outputs, y):
    head.build(output_shape, target_shape)
    return np.asarray(head.log_likelihood(head.init(None), jnp.asarray(outputs), jnp.asarray(y)))


def test_probability_inputs_give_keras_cross_entropies(x64):
    probs = RNG.dirichlet(np.ones(4), size=6)
    labels = RNG.integers(0, 4, size=6)
    got = _log_lik(likelihood_for_loss("sparse_categorical_crossentropy"), (4,), (), probs, labels)
    np.testing.assert_allclose(got, np.log(probs[np.arange(6), labels]), rtol=1e-10)
    p = RNG.uniform(0.05, 0.95, size=(6, 1))
    y = RNG.integers(0, 2, size=(6, 1)).astype(float)
    got = _log_lik(likelihood_for_loss("binary_crossentropy"), (1,), (1,), p, y)
    np.testing.assert_allclose(got, scipy.stats.bernoulli.logpmf(y, p)[:, 0], rtol=1e-10)
    # Probabilities of exactly 0 / 1 are clipped (Keras's epsilon), so the loss stays finite.
    got = _log_lik(likelihood_for_loss("binary_crossentropy"), (1,), (1,),
                   np.array([[0.0], [1.0]]), np.array([[1.0], [0.0]]))
    np.testing.assert_allclose(got, np.log(1e-7), rtol=1e-6)


def test_rate_and_laplace_heads_against_scipy(x64):
    rate = RNG.uniform(0.5, 4.0, size=(5, 1))
    counts = RNG.poisson(2.0, size=(5, 1)).astype(float)
    got = _log_lik(likelihood_for_loss("poisson"), (1,), (1,), rate, counts)
    np.testing.assert_allclose(got, scipy.stats.poisson.logpmf(counts, rate)[:, 0], rtol=1e-10)
    head = likelihood_for_loss("mae")
    loc, y = RNG.normal(size=(5, 1)), RNG.normal(size=(5, 1))
    head.build((1,), (1,))
    params = head.init(None)
    scale = float(head.distribution(params, jnp.asarray(loc)).scale[0, 0])
    got = np.asarray(head.log_likelihood(params, jnp.asarray(loc), jnp.asarray(y)))
    np.testing.assert_allclose(got, scipy.stats.laplace.logpdf(y, loc, scale)[:, 0], rtol=1e-10)


def test_inputs_option_is_validated():
    with pytest.raises(ValueError, match="inputs"):
        likelihoods.Categorical(inputs="probabilities")
    with pytest.raises(ValueError, match="inputs"):
        likelihoods.Poisson(inputs="probs")


@pytest.mark.parametrize("activation, head, match", [
    ("softmax", "categorical", "applied twice"),
    ("sigmoid", likelihoods.Bernoulli(), "applied twice"),
    ("exponential", "poisson", "applied twice"),
    (None, likelihoods.Categorical(inputs="probs"), "not probabilities"),
    ("relu", likelihoods.Bernoulli(inputs="probs"), "not probabilities"),
    ("linear", likelihoods.Poisson(inputs="rate"), "not positive rates"),
])
def test_activation_check_warns_on_disagreement(activation, head, match):
    with pytest.warns(UserWarning, match=match):
        assert match in output_activation_check(activation, head)


@pytest.mark.parametrize("activation, head", [
    ("softmax", likelihoods.Categorical(inputs="probs")),
    (None, "categorical"),
    ("sigmoid", likelihoods.Bernoulli(inputs="probs")),
    ("softplus", likelihoods.Poisson(inputs="rate")),
    ("softmax", "normal"),  # no link to compare
    (lambda x: x, "categorical"),  # unregistered callable: nothing known
])
def test_activation_check_is_silent_when_they_agree(activation, head):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert output_activation_check(activation, head) is None


def test_activation_check_reads_a_layer():
    with pytest.warns(UserWarning, match="softmax"):
        output_activation_check(nn.Dense(3, activation="softmax"), "categorical")
    with pytest.warns(UserWarning, match="sigmoid"):
        output_activation_check(nn.Activation("sigmoid"), "bernoulli")
    with pytest.warns(UserWarning, match="softmax"):
        output_activation_check(jax.nn.softmax, "categorical")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # A layer without an activation says nothing about what reaches the head.
        assert output_activation_check(nn.Flatten(), likelihoods.Categorical(inputs="probs")) is None


def test_loss_likelihood_per_example_elementwise_and_scalar_forms_agree():
    y = jnp.asarray(RNG.normal(size=(4, 3)), jnp.float32)
    out = jnp.asarray(RNG.normal(size=(4, 3)), jnp.float32)
    want = -np.mean((np.asarray(y) - np.asarray(out)) ** 2, axis=-1)
    forms = [lambda t, p: jnp.mean((t - p) ** 2, axis=-1),  # Keras's per-example form
             lambda t, p: (t - p) ** 2,  # elementwise: averaged over non-batch axes
             lambda t, p: jnp.mean((t - p) ** 2)]  # one scalar: evaluated per example
    for fn in forms:
        head = LossLikelihood(fn)
        head.build((3,), (3,))
        np.testing.assert_allclose(head.log_likelihood({}, out, y), want, rtol=1e-6)
    head = LossLikelihood(forms[0], scale=2.5)
    head.build((3,), (3,))
    np.testing.assert_allclose(head.log_likelihood({}, out, y), 2.5 * want, rtol=1e-6)


def test_loss_likelihood_keeps_integer_labels_and_checks_its_function():
    def sparse_ce(y_true, y_pred):
        return -jnp.log(jnp.take_along_axis(y_pred, y_true[:, None], axis=-1)[:, 0])

    head = LossLikelihood(sparse_ce)
    head.build((3,), ())
    y = head.prepare_targets(np.array([0, 2]))
    assert y.dtype == np.int32
    probs = jnp.array([[0.5, 0.25, 0.25], [0.1, 0.1, 0.8]])
    np.testing.assert_allclose(head.log_likelihood({}, probs, jnp.asarray(y)),
                               np.log([0.5, 0.8]), rtol=1e-6)
    bad = LossLikelihood(lambda t, p: jnp.zeros((7,)))
    with pytest.raises(ValueError, match="batch axis first"):
        bad.build((3,), ())
    broken = LossLikelihood(lambda t, p: t + p)
    with pytest.raises(ValueError, match="failed"):
        broken.build((3,), (2,))
    with pytest.raises(ValueError, match="scale"):
        LossLikelihood(sparse_ce, scale=0.0)


def test_fit_with_keras_loss_and_softmax_output_then_save_and_load(tmp_path):
    # Two separable classes; the network ends in softmax as a Keras user writes it.
    x = RNG.normal(size=(64, 2)).astype("float32")
    labels = (x[:, 0] + x[:, 1] > 0).astype("int32")
    model = nn.Sequential([nn.Input((2,)), nn.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", learning_rate=0.1, metrics=["accuracy"],
                  likelihood=likelihood_for_loss("sparse_categorical_crossentropy"))
    history = model.fit(x, labels, epochs=15, batch_size=32, verbose=0, method="map")
    assert history.history["accuracy"][-1] > 0.9
    probs = model.predict(x[:5], num_samples=2)
    np.testing.assert_allclose(probs.sum(-1), 1.0, rtol=1e-5)
    model.save(tmp_path / "m.probflow")
    loaded = nn.load_model(tmp_path / "m.probflow")
    assert loaded._heads[0].inputs == "probs"
    np.testing.assert_array_equal(loaded.predict(x[:5], num_samples=2), probs)


def test_fit_with_a_custom_loss_function():
    x = RNG.normal(size=(64, 1)).astype("float32")
    y = (2.0 * x[:, 0] + 1.0).astype("float32")

    def absolute_error(y_true, y_pred):
        return jnp.abs(y_true - y_pred[:, 0])

    model = nn.Sequential([nn.Input((1,)), nn.Dense(1)])
    model.compile(optimizer="adam", learning_rate=0.1, likelihood=LossLikelihood(absolute_error))
    history = model.fit(x, y, epochs=40, batch_size=32, verbose=0, method="map")
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    # Deterministic predictive: every draw is the network output.
    draws = model.predictive(x[:3], num_samples=3)
    np.testing.assert_allclose(draws[0], draws[1])
    np.testing.assert_allclose(model.predict(x[:3], num_samples=1)[:, 0], y[:3], atol=0.3)
