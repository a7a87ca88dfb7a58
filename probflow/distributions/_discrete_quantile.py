"""Private: the quantile function of a discrete distribution from its cdf, by search."""

from __future__ import annotations

import jax.numpy as jnp
from jax import lax

# Doublings of the bracket before giving up (2^64 past the lower end of the support).
_MAX_DOUBLINGS = 64


def discrete_quantile(cdf, p, lower):
    """The smallest integer ``k >= lower`` with ``cdf(k) >= p``, elementwise.

    Brackets the answer by doubling its distance from `lower`, then bisects, so the cost
    is O(log k) evaluations of `cdf` whatever the scale of the distribution. ``p = 1``
    gives ``inf`` (as scipy's ppf); a quantile beyond ``lower + 2^64`` is capped there,
    and beyond 2^53 (float64; 2^24 in float32) it is exact only to the float spacing.

    Args:
        cdf: function from an array of integers (as floats) to ``P(X <= k)``.
        p: probabilities in [0, 1].
        lower: the smallest value of the support (broadcastable against `p`).

    Returns:
        Quantiles (as floats), shape ``broadcast(p, lower)``.
    """
    p = jnp.asarray(p)
    lower = jnp.broadcast_to(jnp.asarray(lower, p.dtype), p.shape)
    certain = p >= 1.0
    # p = 1 has no finite answer: search for p = 0 there (at once) and return inf.
    target = jnp.where(certain, 0.0, p)

    def below(k):
        return cdf(k) < target

    # Invariant: cdf(lo) < p (lo = lower - 1 has cdf 0), and cdf(hi) >= p once bracketed.
    def widen(state):
        lo, hi, rounds = state
        short = below(hi)
        return jnp.where(short, hi, lo), jnp.where(short, lower + 2.0 * (hi - lower) + 1.0, hi), rounds + 1

    def widening(state):
        _, hi, rounds = state
        return jnp.any(below(hi)) & (rounds < _MAX_DOUBLINGS)

    lo, hi, _ = lax.while_loop(widening, widen, (lower - 1.0, lower, 0))

    def halve(state):
        lo, hi, rounds = state
        mid = jnp.floor(0.5 * (lo + hi))
        # Settled brackets (hi = lo + 1) stay put while others are still halving.
        open_ = hi - lo > 1.0
        short = below(mid)
        lo = jnp.where(open_ & short, mid, lo)
        hi = jnp.where(open_ & ~short, mid, hi)
        return lo, hi, rounds + 1

    def halving(state):
        lo, hi, rounds = state
        # The round cap stops the search where floats are coarser than 1 (k > 2^53).
        return jnp.any(hi - lo > 1.0) & (rounds < _MAX_DOUBLINGS + 2)

    _, hi, _ = lax.while_loop(halving, halve, (lo, hi, 0))
    return jnp.where(certain, jnp.inf, hi)
