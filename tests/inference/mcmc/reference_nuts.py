"""A slow, obviously correct NUTS (recursive, NumPy, float64) for tests only.

It follows Stan's `base_nuts` structure literally: recursive `build_tree`, the
generalised criterion plus the two checks across merged subtrees, biased progressive
sampling between the tree and a new subtree. It consumes randomness exactly as the fast
kernel does (same momentum draw, direction bits, and counter-hashed uniforms, with the
subtree's proposal chosen progressively leaf by leaf) so the two can be compared draw
for draw.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from probflow.inference.mcmc._random import hash_uniform
from probflow.inference.mcmc.metrics import make_metric, sample_momentum


def _criterion(v_start, v_end, rho):
    return float(v_start @ rho) > 0 and float(v_end @ rho) > 0


class _Leaf:
    def __init__(self, q, p, g, v):
        self.q, self.p, self.g, self.v = q, p, g, v


_COMPILED = {}


def _value_and_grad(logdensity_fn):
    if logdensity_fn not in _COMPILED:
        _COMPILED[logdensity_fn] = jax.jit(jax.value_and_grad(logdensity_fn))
    return _COMPILED[logdensity_fn]


def reference_transition(key, position, logdensity_fn, step_size, inverse_mass_matrix,
                         max_tree_depth=10, max_energy_error=1000.0):
    """One NUTS transition with a diagonal metric; returns (position, info dict)."""
    value_and_grad = _value_and_grad(logdensity_fn)
    inv_mass = np.asarray(inverse_mass_matrix, np.float64)
    metric = make_metric(jnp.asarray(inverse_mass_matrix))
    key_momentum, key_bits = jax.random.split(key)
    p0 = np.asarray(sample_momentum(key_momentum, metric, jnp.asarray(position)), np.float64)
    directions, leaf_seed, merge_seed = (int(b) for b in jax.random.bits(key_bits, (3,), jnp.uint32))
    q0 = np.asarray(position, np.float64)
    logp0, g0 = (np.asarray(a, np.float64) for a in value_and_grad(jnp.asarray(q0)))
    H0 = -float(logp0) + 0.5 * p0 @ (inv_mass * p0)
    run = {"steps": 0, "sum_accept": 0.0, "diverging": False}
    sub = {}

    def leapfrog(leaf, eps):
        p = leaf.p + 0.5 * eps * leaf.g
        q = leaf.q + eps * inv_mass * p
        logp, g = (np.asarray(a, np.float64) for a in value_and_grad(jnp.asarray(q)))
        p = p + 0.5 * eps * g
        return _Leaf(q, p, g, inv_mass * p), float(logp)

    def build(start, eps, depth):
        """Returns (valid, first leaf, last leaf, rho) in build order."""
        if depth == 0:
            leaf, logp = leapfrog(start, eps)
            run["steps"] += 1
            energy = -logp + 0.5 * leaf.p @ leaf.v
            if np.isnan(energy):
                energy = np.inf
            log_weight = H0 - energy
            run["sum_accept"] += min(1.0, float(np.exp(log_weight)))
            diverging = -log_weight > max_energy_error
            run["diverging"] |= diverging
            # Progressive uniform sampling over the top-level subtree's leaves.
            total = np.logaddexp(sub["log_weight"], log_weight)
            u = float(hash_uniform(jnp.uint32(leaf_seed), run["steps"], jnp.float64))
            if u < np.exp(log_weight - total):
                sub["proposal"] = (leaf.q, logp, leaf.g, energy)
            sub["log_weight"] = total
            return not diverging, leaf, leaf, leaf.p.copy()
        valid, first, mid_left, rho_left = build(start, eps, depth - 1)
        if not valid:
            return False, None, None, None
        valid, mid_right, last, rho_right = build(mid_left, eps, depth - 1)
        if not valid:
            return False, None, None, None
        rho = rho_left + rho_right
        ok = (
            _criterion(first.v, last.v, rho)
            and _criterion(first.v, mid_right.v, rho_left + mid_right.p)
            and _criterion(mid_left.v, last.v, rho_right + mid_left.p)
        )
        return ok, first, last, rho

    start_leaf = _Leaf(q0, p0, g0, inv_mass * p0)
    ends = {True: start_leaf, False: start_leaf}  # forward-most, backward-most
    rho_tree = p0.copy()
    log_weight_tree = 0.0
    proposal = (q0, float(logp0), g0, H0)
    depth = 0
    while depth < max_tree_depth:
        forward = bool((directions >> depth) & 1)
        start = ends[forward]
        far = ends[not forward]
        sub["log_weight"] = -np.inf
        sub["proposal"] = None
        valid, first, last, rho_sub = build(start, step_size if forward else -step_size, depth)
        if not valid:
            break
        u = float(hash_uniform(jnp.uint32(merge_seed), depth, jnp.float64))
        if u < np.exp(sub["log_weight"] - log_weight_tree):
            proposal = sub["proposal"]
        log_weight_tree = np.logaddexp(log_weight_tree, sub["log_weight"])
        ok = (
            _criterion(far.v, last.v, rho_tree + rho_sub)
            and _criterion(far.v, first.v, rho_tree + first.p)
            and _criterion(start.v, last.v, rho_sub + start.p)
        )
        rho_tree = rho_tree + rho_sub
        ends[forward] = last
        depth += 1
        if not ok:
            break
    info = {
        "n_steps": run["steps"],
        "tree_depth": depth,
        "diverging": run["diverging"],
        "energy": proposal[3],
        "acceptance_rate": run["sum_accept"] / run["steps"],
    }
    return proposal[0], info
