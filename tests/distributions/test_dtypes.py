"""dtype follows the inputs: float32 by default, float64 under x64 (DESIGN.md)."""

import jax.numpy as jnp
import numpy as np

from probflow import distributions as dist


def test_python_scalars_take_the_default_float():
    assert dist.Normal(0.0, 1.0).loc.dtype == jnp.float32
    assert dist.Poisson(3).rate.dtype == jnp.float32


def test_python_scalars_are_float64_under_x64(x64):
    assert dist.Normal(0.0, 1.0).loc.dtype == jnp.float64
    assert dist.Gamma(2, 3).sample(__import__("jax").random.key(0)).dtype == jnp.float64


def test_float32_arrays_keep_their_dtype_under_x64(x64):
    d = dist.Normal(jnp.zeros(2, jnp.float32), 1.0)
    assert d.loc.dtype == jnp.float32 and d.scale.dtype == jnp.float32
    assert dist.Normal(np.zeros(2, np.float64), 1.0).loc.dtype == jnp.float64
