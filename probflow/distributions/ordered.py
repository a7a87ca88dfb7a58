"""Ordinal regression likelihoods: `OrderedLogistic` and `OrderedProbit`.

An ordered outcome ``Y in {0, ..., K-1}`` comes from a latent ``predictor + noise``
cut at ``K - 1`` increasing `cutpoints`: ``P(Y <= k) = F(cutpoints_k - predictor)``
with F the logistic (or standard normal) cdf. Each category's log mass is the log of a
difference of cdfs, computed from whichever tail keeps the digits.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.special import log_ndtr

from probflow.distributions import constraints
from probflow.distributions._discrete_quantile import discrete_quantile
from probflow.distributions._util import promote_params
from probflow.distributions.categorical import Categorical, kl_categorical_probs
from probflow.distributions.distribution import Distribution
from probflow.distributions.exponential import log1mexp
from probflow.distributions.kl import register_kl

__all__ = ["OrderedLogistic", "OrderedProbit"]


def _log_interval_mass(log_cdf, lower, upper):
    """``log(F(upper) - F(lower))`` for a symmetric F, ``lower < upper``, either may be infinite."""
    first, last = jnp.isneginf(lower), jnp.isposinf(upper)
    # Finite stand-ins keep the unused branches (and their gradients) finite.
    lo = jnp.where(first, upper - 1.0, lower)
    hi = jnp.where(last, lo + 1.0, upper)
    # Mirror intervals in the right tail to the left, where F keeps its digits.
    flip = lo > 0
    a, b = jnp.where(flip, -hi, lo), jnp.where(flip, -lo, hi)
    log_b = log_cdf(b)
    between = log_b + log1mexp(log_cdf(a) - log_b)
    return jnp.where(first, log_cdf(hi), jnp.where(last, log_cdf(-lo), between))


class _Ordered(Distribution):
    """Abstract: categories from a latent variable cut at `cutpoints`."""

    arg_constraints = {"predictor": constraints.real, "cutpoints": constraints.ordered_vector}
    _param_event_ndims = {"predictor": 0, "cutpoints": 1}
    has_rsample = False

    def __init__(self, predictor, cutpoints, *, validate_args=False):
        self.predictor, self.cutpoints = promote_params(predictor, cutpoints)
        if self.cutpoints.ndim < 1:
            raise ValueError(
                f"{type(self).__name__}: `cutpoints` must have at least one dimension "
                f"(K - 1 cutpoints for K categories); got shape {self.cutpoints.shape}"
            )
        self._validate(validate_args, predictor=self.predictor, cutpoints=self.cutpoints)

    @staticmethod
    def _log_cdf(x):
        raise NotImplementedError

    @property
    def num_categories(self) -> int:
        """K = number of cutpoints + 1."""
        return self.cutpoints.shape[-1] + 1

    @property
    def support(self):
        return constraints.integer_interval(0, self.num_categories - 1)

    def logits_parameter(self):
        """Log-probabilities of the K categories, shape ``batch_shape + (K,)``."""
        shifted = self.cutpoints - self.predictor[..., None]
        inf = jnp.full(shifted.shape[:-1] + (1,), jnp.inf, shifted.dtype)
        lower = jnp.concatenate([-inf, shifted], axis=-1)
        upper = jnp.concatenate([shifted, inf], axis=-1)
        return _log_interval_mass(self._log_cdf, lower, upper)

    def probs_parameter(self):
        """Probabilities of the K categories."""
        return jnp.exp(self.logits_parameter())

    def _categorical(self):
        return Categorical(logits=self.logits_parameter())

    def _sample(self, key, sample_shape):
        return self._categorical().sample(key, sample_shape)

    def _log_prob(self, value):
        return self._categorical().log_prob(value)

    def cdf(self, value):
        return self._categorical().cdf(value)

    def icdf(self, p):
        """The smallest category k with ``cdf(k) >= p``."""
        p = jnp.asarray(p, self.dtype)
        p = jnp.broadcast_to(p, jnp.broadcast_shapes(p.shape, self.batch_shape))
        return jnp.minimum(discrete_quantile(self.cdf, p, 0.0), self.num_categories - 1.0)

    def mean(self):
        k = jnp.arange(self.num_categories, dtype=self.dtype)
        return jnp.sum(self.probs_parameter() * k, axis=-1)

    def variance(self):
        k = jnp.arange(self.num_categories, dtype=self.dtype)
        p = self.probs_parameter()
        m = jnp.sum(p * k, axis=-1, keepdims=True)
        return jnp.sum(p * (k - m) ** 2, axis=-1)

    def mode(self):
        return self._categorical().mode()

    def entropy(self):
        return self._categorical().entropy()


class OrderedLogistic(_Ordered):
    """Ordinal outcome with ``P(Y <= k) = sigmoid(cutpoints_k - predictor)``.

    Args:
        predictor: the latent location, shape broadcastable with ``cutpoints[..., 0]``.
        cutpoints: K - 1 strictly increasing cut points in the last axis.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> import jax.numpy as jnp
        >>> from probflow import distributions as dist
        >>> d = dist.OrderedLogistic(0.0, jnp.array([-1.0, 1.0]))
        >>> [round(p, 4) for p in d.probs_parameter().tolist()]
        [0.2689, 0.4621, 0.2689]
    """

    @staticmethod
    def _log_cdf(x):
        return jax.nn.log_sigmoid(x)


class OrderedProbit(_Ordered):
    """Ordinal outcome with ``P(Y <= k) = Phi(cutpoints_k - predictor)``.

    Args:
        predictor: the latent location, shape broadcastable with ``cutpoints[..., 0]``.
        cutpoints: K - 1 strictly increasing cut points in the last axis.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> import jax.numpy as jnp
        >>> from probflow import distributions as dist
        >>> d = dist.OrderedProbit(0.0, jnp.array([0.0]))
        >>> d.probs_parameter().tolist()
        [0.5, 0.5]
    """

    @staticmethod
    def _log_cdf(x):
        return log_ndtr(x)


register_kl(_Ordered, _Ordered)(kl_categorical_probs)
