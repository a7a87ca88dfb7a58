"""The generalised no-U-turn criterion (Betancourt 2017), with Stan's extra checks.

A trajectory keeps going while both end velocities point along the summed momentum
``rho``: ``v_start . rho > 0`` and ``v_end . rho > 0``. When two adjacent subtrees A
(built first) and B are merged, Stan also demands the criterion across the seam:
on ``rho_A + p(first leaf of B)`` between A's far end and B's first leaf, and on
``rho_B + p(last leaf of A)`` between A's last leaf and B's far end. This catches
U-turns that fall between the two halves (Stan PR 2800).

All functions work on batches: vectors have shape ``(..., d)``.
"""

from __future__ import annotations

import jax.numpy as jnp

__all__ = ["no_u_turn", "no_u_turn_merged"]


def no_u_turn(v_start, v_end, rho):
    """True while the trajectory from `v_start` to `v_end` with momentum sum `rho` goes on.

    Args:
        v_start, v_end: velocities ``M^-1 p`` at the two ends, shape ``(..., d)``.
        rho: sum of momenta over the trajectory, shape ``(..., d)``.

    Returns:
        Boolean array of shape ``(...)``.

    Example:
        >>> import jax.numpy as jnp
        >>> bool(no_u_turn(jnp.array([1.0]), jnp.array([-1.0]), jnp.array([0.5])))
        False
    """
    return (jnp.sum(v_start * rho, -1) > 0) & (jnp.sum(v_end * rho, -1) > 0)


def no_u_turn_merged(v_a_far, rho_a, p_a_near, v_a_near, p_b_near, v_b_near, rho_b, v_b_far):
    """Stan's criterion for merging subtree A (built first) with subtree B.

    Args:
        v_a_far: velocity at A's end away from B.
        rho_a: momentum sum over A.
        p_a_near, v_a_near: momentum and velocity of A's leaf next to B.
        p_b_near, v_b_near: momentum and velocity of B's leaf next to A.
        rho_b: momentum sum over B.
        v_b_far: velocity at B's end away from A.

    Returns:
        Boolean array: True when the merged tree has not turned (keep going).

    Example:
        >>> import jax.numpy as jnp
        >>> one = jnp.ones(1)
        >>> bool(no_u_turn_merged(one, one, one, one, one, one, one, one))
        True
    """
    whole = no_u_turn(v_a_far, v_b_far, rho_a + rho_b)
    across_a = no_u_turn(v_a_far, v_b_near, rho_a + p_b_near)
    across_b = no_u_turn(v_a_near, v_b_far, rho_b + p_a_near)
    return whole & across_a & across_b
