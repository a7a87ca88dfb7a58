import jax
import jax.numpy as jnp

import probflow as pf
from probflow.inference import Target


def test_version_and_aliases():
    assert isinstance(pf.__version__, str)
    assert pf.dist is pf.distributions


def test_target_from_logdensity_is_cached_by_function():
    fn = lambda p: -0.5 * jnp.sum(p["x"] ** 2)
    t1 = Target.from_logdensity(fn, {"x": jnp.zeros(3)})
    t2 = Target.from_logdensity(fn, {"x": jnp.ones(3)})
    f = jax.jit(lambda t, z: t.logdensity(z))
    assert float(f(t1, {"x": jnp.ones(3)})) == -1.5
    f(t2, {"x": jnp.ones(3)})
    assert f._cache_size() == 1
