"""The `Family` protocol for variational guides, and the Distribution built from one.

A family is a frozen (hashable) description of a variational distribution over a flat
unconstrained vector of size ``d``. It is config only; its parameters live in a pytree
of arrays that the optimiser updates. A family implements:

* ``init(key, loc) -> params`` — parameters centred at ``loc`` (a ``[d]`` vector);
* either ``noise(key, params, n)`` (the parameter-free randomness of `n` draws, a pytree
  with leading axis `n`) and ``sample_and_log_prob_from_noise(params, noise) -> (z [n, d],
  log_q [n])``, or only ``sample_and_log_prob(key, params, n)``; both reparameterised.
  The split form lets `vi.fit` draw a whole chunk's noise in one vectorised call
  outside its step loop, which keeps random-number generation out of the loop body
  (several times faster per step on small models);
* ``log_prob(params, z) -> [n]`` for ``z`` of shape ``[n, d]``;
* ``mean(params) -> [d]``;
* optionally ``entropy(params)`` (closed form; the base returns None) and ``sample``.

Everything else (`sample`, `distribution`) is derived here. Being frozen dataclasses,
two equal families hash equal, so `vi.fit` compiles once per family configuration.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from probflow.distributions import constraints
from probflow.distributions.distribution import Distribution

__all__ = ["Family", "GuideDistribution", "positive_transform", "inverse_positive_transform"]


@dataclasses.dataclass(frozen=True)
class Family:
    """Base class of variational families over a flat unconstrained vector.

    Subclass it as a frozen dataclass whose fields are the family's settings, and
    implement `init`, `noise` and `sample_and_log_prob_from_noise` (or just
    `sample_and_log_prob`), `log_prob` and `mean` (see the module docstring); `entropy`
    returns None unless the family has a closed form.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from probflow.inference.vi.families import MeanField
        >>> family = MeanField()
        >>> params = family.init(jax.random.key(0), jnp.zeros(3))
        >>> z, log_q = family.sample_and_log_prob(jax.random.key(1), params, 5)
        >>> z.shape, log_q.shape
        ((5, 3), (5,))
    """

    def init(self, key, loc):
        """Returns the parameters of a guide centred at `loc` (shape ``[d]``)."""
        raise NotImplementedError(f"{type(self).__name__} must implement `init`")

    def init_from_gaussian(self, key, loc, covariance):
        """Parameters approximating ``N(loc, covariance)`` (e.g. a Laplace fit).

        The base ignores `covariance` and calls `init`; the Gaussian families override.
        """
        del covariance
        return self.init(key, loc)

    def noise(self, key, params, n: int):
        """The randomness of `n` draws (a pytree, leading axis `n`), or None.

        None (the base) means the family draws only through `sample_and_log_prob`.
        """
        del key, params, n
        return None

    def sample_and_log_prob_from_noise(self, params, noise):
        """Maps `noise` from `noise` to points ``[n, d]`` and their log densities ``[n]``."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement `sample_and_log_prob_from_noise` "
            "(with `noise`) or `sample_and_log_prob`"
        )

    def sample_and_log_prob(self, key, params, n: int):
        """Draws `n` reparameterised points ``[n, d]`` and their log densities ``[n]``."""
        noise = self.noise(key, params, n)
        if noise is None:
            raise NotImplementedError(
                f"{type(self).__name__} must implement `sample_and_log_prob` or `noise`"
            )
        return self.sample_and_log_prob_from_noise(params, noise)

    def sample(self, key, params, n: int):
        """Draws `n` reparameterised points, shape ``[n, d]``."""
        return self.sample_and_log_prob(key, params, n)[0]

    def log_prob(self, params, z):
        """Log density of points `z` of shape ``[n, d]``; returns ``[n]``."""
        raise NotImplementedError(f"{type(self).__name__} must implement `log_prob`")

    def entropy(self, params):
        """Closed-form entropy (a scalar), or None when the family has none."""
        del params
        return None

    def mean(self, params):
        """Mean of the guide, shape ``[d]``."""
        raise NotImplementedError(f"{type(self).__name__} must implement `mean`")

    def distribution(self, params) -> GuideDistribution:
        """The guide as a probflow `Distribution` with event shape ``[d]``."""
        return GuideDistribution(self, params)


class GuideDistribution(Distribution):
    """A `Family` with fixed parameters, seen as a probflow `Distribution`.

    Its event is the flat unconstrained vector (``event_shape == (d,)``); its batch
    shape is ``()``.

    Args:
        family: the `Family` (static).
        params: the family's parameter pytree (leaves).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from probflow.inference.vi.families import MeanField
        >>> family = MeanField()
        >>> q = family.distribution(family.init(jax.random.key(0), jnp.zeros(2)))
        >>> q.sample(jax.random.key(1), (4,)).shape, q.event_shape
        ((4, 2), (2,))
    """

    support = constraints.real_vector

    def __init__(self, family: Family, params):
        if not isinstance(family, Family):
            raise TypeError(f"`family` must be a Family; got {type(family).__name__}")
        self.family = family
        self.params = params
        self._validate(False)

    @property
    def event_shape(self) -> tuple:
        draw = jax.eval_shape(lambda p: self.family.sample(jax.random.key(0), p, 1), self.params)
        return tuple(draw.shape[1:])

    @property
    def dtype(self):
        return jax.tree_util.tree_leaves(self.params)[0].dtype

    def _sample(self, key, sample_shape):
        n = 1
        for s in sample_shape:
            n *= s
        z = self.family.sample(key, self.params, n)
        return z.reshape(sample_shape + self.event_shape)

    def sample_and_log_prob(self, key, sample_shape=()):
        shape = (sample_shape,) if isinstance(sample_shape, int) else tuple(sample_shape)
        n = 1
        for s in shape:
            n *= s
        z, log_q = self.family.sample_and_log_prob(key, self.params, n)
        return z.reshape(shape + self.event_shape), log_q.reshape(shape)

    def _log_prob(self, value):
        d = self.event_shape[0]
        batch = jnp.shape(value)[:-1]
        return self.family.log_prob(self.params, jnp.reshape(value, (-1, d))).reshape(batch)

    def mean(self):
        return self.family.mean(self.params)

    def entropy(self):
        h = self.family.entropy(self.params)
        if h is None:
            raise NotImplementedError(f"{type(self.family).__name__} has no closed-form entropy")
        return h


# -- positive parameterisations shared by the Gaussian families ------------------------

_POSITIVE_TRANSFORMS = ("softplus", "exp")


def check_positive_transform(name: str) -> None:
    """Raises ValueError unless `name` is a known positive parameterisation."""
    if name not in _POSITIVE_TRANSFORMS:
        raise ValueError(
            f"`scale_transform` must be one of {_POSITIVE_TRANSFORMS}; got {name!r}"
        )


def positive_transform(name: str, raw):
    """Maps unconstrained `raw` to a positive scale with softplus or exp."""
    return jax.nn.softplus(raw) if name == "softplus" else jnp.exp(raw)


def inverse_positive_transform(name: str, scale):
    """Inverse of `positive_transform` (for initialising at a given scale)."""
    scale = jnp.asarray(scale)
    # log(expm1(s)) overflows nowhere for the small scales used at init.
    return jnp.log(jnp.expm1(scale)) if name == "softplus" else jnp.log(scale)
