"""The No-U-Turn Sampler: multinomial, iterative, with Stan's termination checks.

Hoffman & Gelman (2014); Betancourt (2017) for multinomial sampling and the
generalised criterion; Stan's `base_nuts` for the extra checks across merged subtrees.

The whole trajectory is built in ONE `lax.while_loop` whose body is one leapfrog
step: doublings are not nested loops. Leaf ``n`` of the subtree being built closes
every aligned block that ends at it (block sizes ``2^j`` dividing ``n + 1``); those
blocks' U-turn checks are evaluated together, vectorised over levels, from fixed-size
checkpoint arrays (one row per level) that hold, for the most recent block start of
each level, the momentum sum before it, its momentum and velocity, and the momentum
and velocity of the leaf just before it. When the subtree is complete it is merged
into the tree in the same iteration (biased progressive sampling, the merged U-turn
check) and the next direction is taken. The carry holds only what these checks and
the proposal need.

Within a subtree a leaf replaces the subtree's proposal with probability
``w_leaf / w_subtree_so_far`` (progressive uniform sampling), which picks a leaf with
probability proportional to its weight, as Stan's recursive scheme does.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax
import jax.numpy as jnp

from probflow.inference.mcmc._random import hash_uniform
from probflow.inference.mcmc.integrators import IntegratorState, leapfrog
from probflow.inference.mcmc.kernel import ChainState, KernelParams, SampleInfo, init_state
from probflow.inference.mcmc.metrics import Metric, sample_momentum, velocity

__all__ = ["NUTS"]


class _Tree(NamedTuple):
    """The while-loop carry of one NUTS transition.

    Only `proposal`, `proposal_energy`, `sum_accept`, `num_steps`, `depth`,
    `diverging` and `done` are read after the loop; a finished chain of a batch may
    let every other field drift (see `_body`).
    """

    leaf: jax.Array  # index of the next leaf inside the current subtree
    depth: jax.Array  # depth of the subtree being built = doublings merged so far
    num_steps: jax.Array
    forward: jax.Array  # direction of the subtree being built
    position: jax.Array  # the end being extended
    momentum: jax.Array
    velocity: jax.Array
    grad: jax.Array
    far_position: jax.Array  # the other end of the merged tree
    far_momentum: jax.Array
    far_velocity: jax.Array
    far_grad: jax.Array
    rho_tree: jax.Array
    rho_subtree: jax.Array
    block_rho: jax.Array  # [levels, d]: momentum sum before each block's first leaf
    block_momentum: jax.Array  # [levels, d]: momentum of each block's first leaf
    block_velocity: jax.Array
    prev_momentum: jax.Array  # [levels, d]: momentum of the leaf before each block
    prev_velocity: jax.Array
    log_weight_tree: jax.Array
    log_weight_subtree: jax.Array
    proposal: ChainState
    proposal_energy: jax.Array
    sub_proposal: ChainState
    sub_proposal_energy: jax.Array
    sum_accept: jax.Array
    diverging: jax.Array
    done: jax.Array


class _Constants(NamedTuple):
    """Per-transition values the tree loop reads but never changes."""

    step_size: jax.Array
    metric: Metric
    initial_energy: jax.Array
    directions: jax.Array  # bit k: direction of doubling k
    leaf_seed: jax.Array
    merge_seed: jax.Array


@dataclasses.dataclass(frozen=True)
class NUTS:
    """The No-U-Turn Sampler kernel (multinomial, iterative, Stan's criterion).

    Args:
        max_tree_depth: at most ``2**max_tree_depth - 1`` leapfrog steps a transition.
        max_energy_error: an energy error above this marks the transition divergent.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from probflow.inference.mcmc import NUTS, kernel_params
        >>> logdensity = lambda x: -0.5 * x @ x
        >>> kernel = NUTS(max_tree_depth=5)
        >>> state = kernel.init(jnp.zeros(2), logdensity)
        >>> state, info = kernel.step(jax.random.key(0), state, logdensity,
        ...                           kernel_params(0.5, jnp.ones(2)))
        >>> state.position.shape, int(info.n_steps) <= 31
        ((2,), True)
    """

    max_tree_depth: int = 10
    max_energy_error: float = 1000.0

    def __post_init__(self):
        if not isinstance(self.max_tree_depth, int) or not 1 <= self.max_tree_depth <= 30:
            raise ValueError(
                f"`max_tree_depth` must be an int in [1, 30]; got {self.max_tree_depth!r}"
            )

    def init(self, position, logdensity_fn) -> ChainState:
        """Evaluates the log density and its gradient at the flat `position`."""
        return init_state(position, logdensity_fn)

    def step(self, key, state: ChainState, logdensity_fn, params: KernelParams):
        """One NUTS transition.

        Args:
            key: a `jax.random` key.
            state: the current `ChainState`.
            logdensity_fn: flat position -> scalar log density.
            params: `KernelParams` (step size and metric).

        Returns:
            ``(new_state, SampleInfo)``.
        """
        value_and_grad = jax.value_and_grad(logdensity_fn)
        consts, tree = _start(key, state, params, self.max_tree_depth)
        tree = jax.lax.while_loop(
            lambda t: ~t.done,
            lambda t: _body(value_and_grad, consts, t, True, self.max_tree_depth,
                            self.max_energy_error),
            tree,
        )
        return _finish(tree)

    def step_chains(self, keys, states: ChainState, logdensity_fn, params: KernelParams):
        """One NUTS transition of each chain in a batch; equal to ``vmap(step)``, faster.

        Under `vmap` a while loop carries every field through a select on each
        iteration (old value for finished chains); here the loop runs over the batch
        with an explicit "still building" mask that gates only the fields read after
        the loop, so the carry is updated in place.

        Args:
            keys: one key per chain, ``[C]``.
            states: `ChainState` with a leading chain axis.
            logdensity_fn: flat position (one chain) -> scalar log density.
            params: `KernelParams` with a leading chain axis.

        Returns:
            ``(new_states, SampleInfo)``, each leaf with a leading chain axis.

        Example:
            >>> import jax, jax.numpy as jnp
            >>> from probflow.inference.mcmc import NUTS, kernel_params
            >>> logdensity = lambda x: -0.5 * x @ x
            >>> kernel = NUTS()
            >>> states = jax.vmap(lambda x: kernel.init(x, logdensity))(jnp.zeros((3, 2)))
            >>> params = jax.vmap(lambda _: kernel_params(0.5, jnp.ones(2)))(jnp.arange(3))
            >>> keys = jax.random.split(jax.random.key(0), 3)
            >>> new, info = kernel.step_chains(keys, states, logdensity, params)
            >>> new.position.shape, info.n_steps.shape
            ((3, 2), (3,))
        """
        value_and_grad = jax.value_and_grad(logdensity_fn)
        depth, max_error = self.max_tree_depth, self.max_energy_error
        consts, tree = jax.vmap(lambda k, s, p: _start(k, s, p, depth))(keys, states, params)
        body = jax.vmap(lambda c, t, a: _body(value_and_grad, c, t, a, depth, max_error))
        tree = jax.lax.while_loop(
            lambda t: ~jnp.all(t.done), lambda t: body(consts, t, ~t.done), tree
        )
        return jax.vmap(_finish)(tree)


def _start(key, state: ChainState, params: KernelParams, max_tree_depth):
    """The loop constants and the one-leaf tree at the chain's current state."""
    metric, dtype = params.metric, state.position.dtype
    key_momentum, key_bits = jax.random.split(key)
    momentum = sample_momentum(key_momentum, metric, state.position)
    directions, leaf_seed, merge_seed = jax.random.bits(key_bits, (3,), jnp.uint32)
    vel = velocity(metric, momentum)
    initial_energy = -state.logdensity + 0.5 * jnp.dot(momentum, vel)
    rows = jnp.zeros((max_tree_depth,) + momentum.shape, dtype)
    zero, false, fzero = jnp.zeros((), jnp.int32), jnp.zeros((), bool), jnp.zeros((), dtype)
    consts = _Constants(params.step_size, metric, initial_energy, directions, leaf_seed,
                        merge_seed)
    tree = _Tree(
        zero, zero, zero, (directions & 1) == 1,
        state.position, momentum, vel, state.grad,
        state.position, momentum, vel, state.grad,
        momentum, jnp.zeros_like(momentum), rows, rows, rows, rows, rows,
        fzero, fzero, state, initial_energy, state, initial_energy,
        fzero, false, false,
    )
    return consts, tree


def _finish(tree: _Tree):
    info = SampleInfo(
        diverging=tree.diverging,
        energy=tree.proposal_energy,
        tree_depth=tree.depth,
        n_steps=tree.num_steps,
        acceptance_rate=tree.sum_accept / tree.num_steps.astype(tree.sum_accept.dtype),
    )
    return tree.proposal, info


def _body(value_and_grad, consts: _Constants, tree: _Tree, active, max_tree_depth,
          max_energy_error) -> _Tree:
    """One leapfrog step of the trajectory, its checks, and the merge when a subtree ends.

    `active` is False for a chain of a batch whose trajectory is finished: its step size
    becomes 0 (it stays where it is) and only the output fields are frozen.
    """
    metric, dtype = consts.metric, tree.position.dtype
    levels = jnp.arange(max_tree_depth, dtype=jnp.int32)
    level_masks = (jnp.int32(1) << levels) - 1
    step = jnp.where(active, jnp.where(tree.forward, consts.step_size, -consts.step_size), 0.0)
    new = leapfrog(
        value_and_grad, metric,
        IntegratorState(tree.position, tree.momentum, jnp.zeros((), dtype), tree.grad), step,
    )
    new_velocity = velocity(metric, new.momentum)
    first = tree.leaf == 0
    # Checkpoints: this leaf starts a block at every level 2^j dividing its index.
    starts = ((tree.leaf & level_masks) == 0)[:, None]
    rho_before = jnp.where(first, jnp.zeros_like(tree.rho_subtree), tree.rho_subtree)
    block_rho = jnp.where(starts, rho_before, tree.block_rho)
    block_momentum = jnp.where(starts, new.momentum, tree.block_momentum)
    block_velocity = jnp.where(starts, new_velocity, tree.block_velocity)
    prev_momentum = jnp.where(starts, tree.momentum, tree.prev_momentum)
    prev_velocity = jnp.where(starts, tree.velocity, tree.prev_velocity)
    rho_subtree = rho_before + new.momentum
    kinetic2, keeps_going = _checks(
        new.momentum, new_velocity, rho_subtree, block_rho, block_momentum, block_velocity,
        prev_momentum, prev_velocity, tree.far_velocity, tree.rho_tree,
    )
    energy = -new.logdensity + 0.5 * kinetic2
    energy = jnp.where(jnp.isnan(energy), jnp.inf, energy)
    log_weight = consts.initial_energy - energy
    diverging = -log_weight > max_energy_error
    active = jnp.asarray(active)
    num_steps = tree.num_steps + active.astype(jnp.int32)

    # Progressive uniform sampling inside the subtree.
    log_weight_subtree = jnp.where(
        first, log_weight, jnp.logaddexp(tree.log_weight_subtree, log_weight)
    )
    take_leaf = hash_uniform(consts.leaf_seed, num_steps, dtype) < jnp.exp(
        log_weight - log_weight_subtree
    )
    leaf_state = ChainState(new.position, new.logdensity, new.grad)
    sub_proposal = _select(take_leaf, leaf_state, tree.sub_proposal)
    sub_proposal_energy = jnp.where(take_leaf, energy, tree.sub_proposal_energy)

    # Blocks of size 2^j (j >= 1) ending here (rows 0..levels-2 of the checks); the
    # last row is the check for merging the subtree into the tree.
    ends = ((tree.leaf + 1) & level_masks[1:]) == 0
    turning = jnp.any(ends & ~keeps_going[:-1])

    # Merge the finished subtree into the tree (biased progressive sampling). The top
    # row is written only at a subtree's first leaf (a subtree has fewer than
    # 2^(levels-1) + 1 leaves), so it holds the subtree's first leaf and the tree's
    # end next to it: a static index instead of a per-chain gather by depth.
    last = tree.leaf + 1 == (jnp.int32(1) << tree.depth)
    merge = last & ~turning & ~diverging
    take_subtree = merge & active & (
        hash_uniform(consts.merge_seed, tree.depth, dtype)
        < jnp.exp(log_weight_subtree - tree.log_weight_tree)
    )
    proposal = _select(take_subtree, sub_proposal, tree.proposal)
    proposal_energy = jnp.where(take_subtree, sub_proposal_energy, tree.proposal_energy)
    log_weight_tree = jnp.where(
        merge, jnp.logaddexp(tree.log_weight_tree, log_weight_subtree), tree.log_weight_tree
    )
    tree_continues = keeps_going[-1]
    rho_tree = jnp.where(merge, tree.rho_tree + rho_subtree, tree.rho_tree)
    depth = tree.depth + (merge & active).astype(jnp.int32)
    done = diverging | turning | (merge & (~tree_continues | (depth >= max_tree_depth)))

    # Next doubling: extend from the end its direction points to.
    forward = jnp.where(
        merge, ((consts.directions >> depth.astype(jnp.uint32)) & 1) == 1, tree.forward
    )
    swap = merge & (forward != tree.forward)
    near = (new.position, new.momentum, new_velocity, new.grad)
    far = (tree.far_position, tree.far_momentum, tree.far_velocity, tree.far_grad)
    near, far = (
        tuple(jnp.where(swap, f, n) for n, f in zip(near, far)),
        tuple(jnp.where(swap, n, f) for n, f in zip(near, far)),
    )
    return _Tree(
        jnp.where(merge, 0, tree.leaf + 1), depth, num_steps, forward, *near, *far,
        rho_tree, rho_subtree, block_rho, block_momentum, block_velocity,
        prev_momentum, prev_velocity, log_weight_tree, log_weight_subtree,
        proposal, proposal_energy, sub_proposal, sub_proposal_energy,
        tree.sum_accept + jnp.where(active, jnp.exp(jnp.minimum(log_weight, 0.0)), 0.0),
        tree.diverging | (active & diverging), tree.done | (active & done),
    )


def _checks(momentum, vel, rho_subtree, block_rho, block_momentum, block_velocity,
            prev_momentum, prev_velocity, far_velocity, rho_tree):
    """``p . v`` of the new leaf and every U-turn check it closes, as ONE reduction.

    Row j < levels-1 checks the block of size 2^(j+1) ending at the leaf (first half:
    the level-j rows' past; second half: the level-j block ending here); the last row
    checks merging the subtree into the tree (A = the tree, B = the subtree, whose first
    leaf and the tree's end next to it sit in the top rows). A single reduction matters:
    on the CPU each dot product of more than 32 numbers is a separate two-pass kernel.

    Returns:
        ``(p . v, keeps_going [levels])`` (Stan's three-part criterion per row).
    """
    v_a_far = jnp.concatenate([block_velocity[1:], far_velocity[None]])
    rho_a = jnp.concatenate([block_rho[:-1] - block_rho[1:], rho_tree[None]])
    p_a_near = jnp.concatenate([prev_momentum[:-1], prev_momentum[-1:]])
    v_a_near = jnp.concatenate([prev_velocity[:-1], prev_velocity[-1:]])
    p_b_near = jnp.concatenate([block_momentum[:-1], block_momentum[-1:]])
    v_b_near = jnp.concatenate([block_velocity[:-1], block_velocity[-1:]])
    rho_b = jnp.concatenate([rho_subtree - block_rho[:-1], rho_subtree[None]])
    v_b_far = jnp.broadcast_to(vel, v_a_far.shape)
    whole, across_a, across_b = rho_a + rho_b, rho_a + p_b_near, rho_b + p_a_near
    lhs = jnp.concatenate([momentum[None], v_a_far, v_b_far, v_a_far, v_b_near, v_a_near,
                           v_b_far])
    rhs = jnp.concatenate([vel[None], whole, whole, across_a, across_a, across_b, across_b])
    dots = jnp.sum(lhs * rhs, axis=-1)
    keeps_going = jnp.all(dots[1:].reshape(6, -1) > 0, axis=0)
    return dots[0], keeps_going


def _select(predicate, a, b):
    return jax.tree_util.tree_map(lambda x, y: jnp.where(predicate, x, y), a, b)
