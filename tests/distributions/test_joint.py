"""JointDistributionNamed: sampling, joint density, and conditioning into a Target."""

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats as st

from probflow import distributions as dist
from probflow.inference import Target

# Eight schools (Rubin 1981), inlined from posteriordb's eight_schools data.
Y = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
SIGMA = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])


def eight_schools(sigma):
    """The non-centred model; `sigma` is data closed over by the likelihood."""
    return dist.JointDistributionNamed(
        {
            "mu": dist.Normal(np.float64(0.0), np.float64(5.0)),
            "tau": dist.HalfCauchy(np.float64(5.0)),
            "theta_trans": dist.Normal(np.zeros(8), np.float64(1.0)),
            "theta": lambda mu, tau, theta_trans: dist.Deterministic(mu + tau * theta_trans),
            "y": lambda theta: dist.Normal(theta, sigma),
        }
    )


def hand_logdensity(z):
    """Eight schools on unconstrained space, written out: tau = exp(u), log-Jacobian u."""
    mu, u, theta_trans = z["mu"], z["tau"], z["theta_trans"]
    tau = jnp.exp(u)
    lp = jnp.sum(jax.scipy.stats.norm.logpdf(theta_trans))
    lp += jax.scipy.stats.norm.logpdf(mu, 0.0, 5.0)
    lp += -jnp.log1p((tau / 5.0) ** 2)  # half-Cauchy(5) up to a constant
    lp += jnp.sum(jax.scipy.stats.norm.logpdf(Y, mu + tau * theta_trans, SIGMA))
    return lp + u


@jax.jit
def logdensity(target, z):
    return target.logdensity(z)


@jax.jit
def logdensity_and_grad(target, z):
    return jax.value_and_grad(target.logdensity)(z)


@partial(jax.jit, static_argnums=2)
def joint_sample(jd, key, shape):
    return jd.sample(key, shape)


@jax.jit
def joint_log_prob(jd, values):
    return jd.log_prob(values)


def random_points(key, n):
    keys = jax.random.split(key, 3)
    return [
        {
            "mu": 5.0 * jax.random.normal(k, (), jnp.float64),
            "tau": jax.random.uniform(k, (), jnp.float64, -2.0, 3.0),
            "theta_trans": jax.random.normal(jax.random.fold_in(k, 1), (8,), jnp.float64),
        }
        for k in jax.random.split(keys[0], n)
    ]


def test_sample_and_log_prob_shapes(key):
    jd = eight_schools(SIGMA.astype(np.float32))
    assert jd.event_shape == {"mu": (), "tau": (), "theta_trans": (8,), "theta": (8,), "y": (8,)}
    draws = joint_sample(jd, key, (4, 3))
    assert {k: v.shape for k, v in draws.items()} == {
        "mu": (4, 3),
        "tau": (4, 3),
        "theta_trans": (4, 3, 8),
        "theta": (4, 3, 8),
        "y": (4, 3, 8),
    }
    np.testing.assert_allclose(
        draws["theta"],
        draws["mu"][..., None] + draws["tau"][..., None] * draws["theta_trans"],
        rtol=1e-5,
    )
    lp = joint_log_prob(jd, draws)
    assert lp.shape == (4, 3)
    one = {k: v[1, 2] for k, v in draws.items()}
    expected = (
        st.norm(0, 5).logpdf(one["mu"])
        + st.halfcauchy(scale=5).logpdf(one["tau"])
        + st.norm().logpdf(one["theta_trans"]).sum()
        + st.norm(one["theta"], SIGMA).logpdf(one["y"]).sum()
    )
    np.testing.assert_allclose(lp[1, 2], expected, rtol=1e-5)
    with pytest.raises(ValueError, match=r"missing \['y'\]"):
        jd.log_prob({k: v for k, v in draws.items() if k != "y"})


def test_eight_schools_condition_matches_hand_written(x64, key):
    target = eight_schools(SIGMA).condition(y=Y)
    assert isinstance(target, Target)
    assert target.size == 10
    assert set(target.example) == {"mu", "tau", "theta_trans"}
    points = random_points(key, 5)
    differences = [float(logdensity(target, z) - hand_logdensity(z)) for z in points]
    # Same density up to the normalising constants the hand version drops.
    np.testing.assert_allclose(differences, differences[0], rtol=0, atol=1e-9)
    for z in points[:3]:
        _, grad = logdensity_and_grad(target, z)
        expected = jax.grad(hand_logdensity)(z)
        for name in z:
            np.testing.assert_allclose(grad[name], expected[name], rtol=1e-10, atol=1e-12)
    # Derived (Deterministic) nodes are reported, not sampled.
    values = target.constrain(points[0])
    np.testing.assert_allclose(values["tau"], np.exp(points[0]["tau"]), rtol=1e-12)
    np.testing.assert_allclose(
        values["theta"], values["mu"] + values["tau"] * values["theta_trans"], rtol=1e-12
    )


def test_target_batch_dims_likelihood_and_init(x64, key):
    target = eight_schools(SIGMA).condition(y=Y)
    z = target.init(key)
    assert all(np.all(np.abs(np.asarray(v)) <= 2.0) for v in z.values())
    batch = jax.tree_util.tree_map(
        lambda x: jnp.stack([x, x + 0.1, x - 0.1]).reshape((3, 1) + x.shape), z
    )
    values = target.constrain(batch)
    assert values["theta"].shape == (3, 1, 8) and values["tau"].shape == (3, 1)
    back = target.unconstrain(values)
    for name in batch:
        np.testing.assert_allclose(back[name], batch[name], rtol=1e-10, atol=1e-12)
    log_lik = target.log_likelihood(values)
    assert set(log_lik) == {"y"} and log_lik["y"].shape == (3, 1, 8)
    expected = st.norm(np.asarray(values["theta"]), SIGMA).logpdf(Y)
    np.testing.assert_allclose(log_lik["y"], expected, rtol=1e-10)
    np.testing.assert_array_equal(target.observed["y"], Y)
    constrained, log_det = target.constrain_with_log_det(z)
    assert set(constrained) == {"mu", "tau", "theta_trans"}
    np.testing.assert_allclose(log_det, z["tau"], rtol=1e-12)


def test_condition_reuses_compiled_function(key):
    jd = eight_schools(SIGMA.astype(np.float32))
    f = jax.jit(lambda t, z: t.logdensity(z))
    first = jd.condition(y=Y.astype(np.float32))
    second = jd.condition(y=Y.astype(np.float32)[::-1] + 1.0)
    z = first.init(key)
    a, b = f(first, z), f(second, z)
    assert f._cache_size() == 1
    assert float(a) != float(b)  # the new data did reach the compiled program


def test_dynamic_support_matches_hand_written(x64, key):
    jd = dist.JointDistributionNamed(
        {
            "tau": dist.Exponential(np.float64(1.0)),
            "x": lambda tau: dist.Uniform(np.float64(0.0), tau * np.ones(3)),
        }
    )
    target = jd.condition()
    assert target.plan.dynamic == {"x"}

    def hand(z):
        u, v = z["tau"], z["x"]
        tau = jnp.exp(u)
        # x = tau * sigmoid(v): log-Jacobian log(tau) + log sigmoid(v) + log sigmoid(-v).
        log_jac = u + jnp.sum(jnp.log(tau) + jax.nn.log_sigmoid(v) + jax.nn.log_sigmoid(-v))
        return -tau + 3 * -jnp.log(tau) + log_jac

    for k in jax.random.split(key, 4):
        z = target.init(k)
        np.testing.assert_allclose(logdensity(target, z), hand(z), rtol=1e-10)
    values = target.constrain(z)
    assert np.all((values["x"] > 0) & (values["x"] < values["tau"]))
    back = target.unconstrain(values)
    np.testing.assert_allclose(back["x"], z["x"], rtol=1e-8)


def test_errors():
    with pytest.raises(ValueError, match="`b`, which comes later"):
        dist.JointDistributionNamed(
            {"a": lambda b: dist.Normal(b, 1.0), "b": dist.Normal(0.0, 1.0)}
        )
    with pytest.raises(ValueError, match="`c`, which is not a key"):
        dist.JointDistributionNamed(
            {"a": dist.Normal(0.0, 1.0), "b": lambda c: dist.Normal(c, 1.0)}
        )
    with pytest.raises(TypeError, match="node `a` must be a Distribution"):
        dist.JointDistributionNamed({"a": 3.0})
    jd = dist.JointDistributionNamed(
        {"rate": dist.Exponential(1.0), "k": lambda rate: dist.Poisson(rate)}
    )
    with pytest.raises(
        ValueError, match=r"unknown node name\(s\) \['kk'\]; valid names are \['rate', 'k'\]"
    ):
        jd.condition(kk=3.0)
    with pytest.raises(ValueError, match="node `k` \\(Poisson\\) is discrete"):
        jd.condition(rate=1.0)
    with pytest.raises(ValueError, match="nothing is left to infer"):
        jd.condition(rate=1.0, k=2.0)
    with pytest.raises(ValueError, match="observed `k` must broadcast"):
        dist.JointDistributionNamed(
            {"rate": dist.Exponential(1.0), "k": lambda rate: dist.Poisson(rate * jnp.ones(3))}
        ).condition(k=jnp.ones(4))
    # A discrete node that is observed is fine.
    assert jd.condition(k=2.0).size == 1
