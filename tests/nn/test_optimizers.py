"""`nn.optimizers.get_optimizer`: names and Keras keywords against optax references.

Each case runs three updates of the optimizer under test and of the optax
transformation (or the hand-derived update) it must equal, on a two-array params tree
whose gradients change every step, so momentum and accumulator states matter.
"""

import json

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from probflow import nn
from probflow.nn.optimizers import (
    get_optimizer,
    optimizer_config,
    optimizer_from_config,
    optimizer_names,
)
from probflow.nn.training.state import get_learning_rate, make_optimizer, set_learning_rate

PARAMS = {"w": jnp.array([[0.5, -1.0], [2.0, 0.25]]), "b": jnp.array([0.1, -0.3])}
GRADS = [
    {"w": jnp.array([[0.3, -0.2], [1.5, 0.05]]), "b": jnp.array([0.01, -0.4])},
    {"w": jnp.array([[-0.1, 0.7], [0.2, -2.0]]), "b": jnp.array([3.0, 0.2])},
    {"w": jnp.array([[0.0, 0.1], [-0.3, 0.4]]), "b": jnp.array([-0.5, 0.5])},
]


def _run(opt):
    """Three update steps; returns the list of update trees."""
    params, state, out = PARAMS, opt.init(PARAMS), []
    for grads in GRADS:
        updates, state = opt.update(grads, state, params)
        params = optax.apply_updates(params, updates)
        out.append(updates)
    return out


def _assert_same(got, want, rtol=1e-6):
    for g, w in zip(got, want):
        for name in PARAMS:
            np.testing.assert_allclose(g[name], w[name], rtol=rtol, atol=1e-7)


@pytest.mark.parametrize("name, reference", [
    ("adam", optax.adam(1e-3)),
    ("Adam", optax.adam(1e-3)),
    ("adamw", optax.adamw(1e-3)),
    ("AdamW", optax.adamw(1e-3)),
    ("sgd", optax.sgd(1e-2)),
    ("SGD", optax.sgd(1e-2)),
    ("rmsprop", optax.rmsprop(1e-3)),
    ("RMSprop", optax.rmsprop(1e-3)),
    ("adagrad", optax.adagrad(1e-2)),
    ("nadam", optax.nadam(1e-3)),
    ("adamax", optax.adamax(1e-3)),
    ("lion", optax.lion(1e-4)),
    ("adadelta", optax.adadelta(1e-3)),
])
def test_each_name_steps_as_its_optax_reference(name, reference):
    _assert_same(_run(get_optimizer(name)), _run(reference))


def test_float_and_schedule_mean_adam():
    _assert_same(_run(get_optimizer(0.05)), _run(optax.adam(0.05)))
    schedule = optax.exponential_decay(0.1, 1, 0.5)
    _assert_same(_run(get_optimizer(schedule)), _run(optax.adam(schedule)))
    _assert_same(_run(get_optimizer("sgd", learning_rate=schedule)), _run(optax.sgd(schedule)))


@pytest.mark.parametrize("name, keywords, reference", [
    ("adam", dict(beta_1=0.5, beta_2=0.9, epsilon=1e-3), optax.adam(0.1, b1=0.5, b2=0.9, eps=1e-3)),
    ("adam", dict(amsgrad=True), optax.amsgrad(0.1)),
    ("adamw", dict(weight_decay=0.3), optax.adamw(0.1, weight_decay=0.3)),
    # Adam's decoupled decay is AdamW's update (Loshchilov & Hutter 2019).
    ("adam", dict(weight_decay=0.3), optax.adamw(0.1, weight_decay=0.3)),
    ("lion", dict(weight_decay=0.3, beta_1=0.8), optax.lion(0.1, b1=0.8, weight_decay=0.3)),
    ("sgd", dict(momentum=0.9), optax.sgd(0.1, momentum=0.9)),
    ("sgd", dict(momentum=0.9, nesterov=True), optax.sgd(0.1, momentum=0.9, nesterov=True)),
    ("sgd", dict(momentum=0.0), optax.sgd(0.1)),
    ("rmsprop", dict(rho=0.5, momentum=0.7, centered=True, epsilon=1e-4),
     optax.rmsprop(0.1, decay=0.5, momentum=0.7, centered=True, eps=1e-4)),
    ("adagrad", dict(initial_accumulator_value=0.5, epsilon=1e-3),
     optax.adagrad(0.1, initial_accumulator_value=0.5, eps=1e-3)),
    ("adadelta", dict(rho=0.5, epsilon=1e-3), optax.adadelta(0.1, rho=0.5, eps=1e-3)),
    ("nadam", dict(beta_1=0.6), optax.nadam(0.1, b1=0.6)),
    ("adam", dict(clipvalue=0.25), optax.chain(optax.clip(0.25), optax.adam(0.1))),
    ("sgd", dict(global_clipnorm=0.5), optax.chain(optax.clip_by_global_norm(0.5), optax.sgd(0.1))),
])
def test_keyword_changes_the_update_as_optax_does(name, keywords, reference):
    got = _run(get_optimizer(name, 0.1, **keywords))
    _assert_same(got, _run(reference))
    # The keyword matters: without it the update differs (Keras's momentum=0 is plain SGD).
    if keywords != {"momentum": 0.0}:
        assert not np.allclose(got[-1]["w"], _run(get_optimizer(name, 0.1))[-1]["w"])


def test_clipnorm_rescales_each_array_by_its_own_norm():
    # Keras clips per variable: w's gradient (norm > 1) is rescaled, b's (norm < 1) not.
    grads = {"w": jnp.array([[3.0, 0.0], [0.0, 4.0]]), "b": jnp.array([0.3, 0.4])}
    opt = get_optimizer("sgd", 1.0, clipnorm=1.0)
    updates, _ = opt.update(grads, opt.init(PARAMS), PARAMS)
    np.testing.assert_allclose(updates["w"], -grads["w"] / 5.0, rtol=1e-6)
    np.testing.assert_allclose(updates["b"], -grads["b"], rtol=1e-6)


def test_weight_decay_is_decoupled_and_scaled_by_the_learning_rate():
    # Keras: w <- w - lr * g - lr * weight_decay * w (SGD has no decay of its own).
    lr, decay = 0.1, 0.2
    opt = get_optimizer("sgd", lr, weight_decay=decay)
    updates, _ = opt.update(GRADS[0], opt.init(PARAMS), PARAMS)
    for name in PARAMS:
        np.testing.assert_allclose(updates[name], -lr * GRADS[0][name] - lr * decay * PARAMS[name],
                                   rtol=1e-6)


def test_learning_rate_stays_injected_with_clipping_and_decay_chained():
    opt = get_optimizer("sgd", 0.1, clipnorm=10.0, weight_decay=0.5)
    state = opt.init(PARAMS)
    assert float(get_learning_rate(state)) == pytest.approx(0.1)
    traces = []

    @jax.jit
    def step(state):
        traces.append(1)
        return opt.update(GRADS[0], state, PARAMS)

    base, _ = step(state)
    doubled, _ = step(set_learning_rate(state, 0.2))
    # Both the gradient step and the decay scale with the new rate; no retrace.
    for name in PARAMS:
        np.testing.assert_allclose(doubled[name], 2 * base[name], rtol=1e-6)
    assert len(traces) == 1


def test_set_learning_rate_refuses_a_schedule():
    opt = get_optimizer("adam", optax.linear_schedule(0.1, 0.0, 10), clipnorm=1.0)
    with pytest.raises(ValueError, match="schedule"):
        set_learning_rate(opt.init(PARAMS), 0.5)


def test_learning_rate_scheduler_with_a_compiled_schedule_raises_clearly():
    model = nn.Sequential([nn.Input((2,)), nn.Dense(1)])
    model.compile(optimizer="sgd", learning_rate=optax.linear_schedule(0.1, 0.0, 10))
    x = np.zeros((8, 2), np.float32)
    scheduler = nn.callbacks.LearningRateScheduler(lambda epoch: 0.01)
    with pytest.raises(ValueError, match="follows the schedule"):
        model.fit(x, x[:, 0], epochs=1, verbose=0, callbacks=[scheduler])


def test_make_optimizer_delegates():
    _assert_same(_run(make_optimizer("sgd", 0.1, momentum=0.9)),
                 _run(get_optimizer("sgd", 0.1, momentum=0.9)))
    transformation = optax.sgd(0.3)
    assert make_optimizer(transformation) is transformation


def test_unknown_keyword_names_it_and_lists_the_accepted_ones():
    with pytest.raises(TypeError, match=r"\['amsgrad'\].*accepts.*momentum"):
        get_optimizer("sgd", amsgrad=True)
    with pytest.raises(TypeError, match="use_ema"):
        get_optimizer("adam", use_ema=True)


@pytest.mark.parametrize("call, error, match", [
    (lambda: get_optimizer("ftrl"), ValueError, "no FTRL"),
    (lambda: get_optimizer("adamm"), ValueError, "must be one of"),
    (lambda: get_optimizer("sgd", clipnorm=1.0, clipvalue=1.0), ValueError, "at most one"),
    (lambda: get_optimizer(optax.sgd(0.1), clipnorm=1.0), TypeError, "clipnorm"),
    (lambda: get_optimizer(0.1, learning_rate=0.2), TypeError, "once"),
    (lambda: get_optimizer("sgd", -0.1), ValueError, "learning_rate"),
    (lambda: get_optimizer("sgd", momentum=1.5), ValueError, "momentum"),
    (lambda: get_optimizer("sgd", nesterov=1), TypeError, "nesterov"),
    (lambda: get_optimizer("adam", weight_decay="big"), TypeError, "weight_decay"),
    (lambda: get_optimizer(["adam"]), TypeError, "optimizer"),
])
def test_bad_input_raises_naming_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_names_listed():
    assert optimizer_names() == sorted(["adadelta", "adagrad", "adam", "adamax", "adamw",
                                        "lion", "nadam", "rmsprop", "sgd"])


def test_config_round_trips_through_json_with_the_same_updates_and_state_layout():
    config = optimizer_config("RMSprop", 0.05, rho=0.8, clipnorm=1.0, weight_decay=0.1,
                              momentum=None)
    assert config == {"name": "rmsprop", "learning_rate": 0.05,
                      "keywords": {"rho": 0.8, "clipnorm": 1.0, "weight_decay": 0.1}}
    rebuilt = optimizer_from_config(json.loads(json.dumps(config)))
    original = get_optimizer("RMSprop", 0.05, rho=0.8, clipnorm=1.0, weight_decay=0.1)
    assert (jax.tree_util.tree_structure(rebuilt.init(PARAMS))
            == jax.tree_util.tree_structure(original.init(PARAMS)))
    _assert_same(_run(rebuilt), _run(original))
    assert optimizer_config(0.01) == {"name": "adam", "learning_rate": 0.01, "keywords": {}}
    assert optimizer_config("adam", optax.linear_schedule(0.1, 0.0, 5)) is None
    assert optimizer_config(optax.sgd(0.1)) is None
    with pytest.raises(TypeError, match="bogus"):
        optimizer_config("adam", bogus=1)
    with pytest.raises(ValueError, match="config"):
        optimizer_from_config({"keywords": {}})
