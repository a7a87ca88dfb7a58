"""The No-U-Turn Sampler: multinomial, iterative, with Stan's termination checks.

Hoffman & Gelman (2014); Betancourt (2017) for multinomial sampling and the
generalised criterion; Stan's `base_nuts` for the extra checks across merged subtrees.

The whole trajectory is built in ONE `lax.while_loop` whose body is one leapfrog
step: doublings are not nested loops. Leaf ``n`` of the subtree being built closes
every aligned block that ends at it (block sizes ``2^j`` dividing ``n + 1``); only
those blocks' U-turn checks are evaluated, from a small stack of checkpoints (one row
written per leaf, at row ``popcount(n)``) holding, for each leaf a pending check may
need, the momentum sum before it, its momentum and velocity, and the momentum and
velocity of the leaf just before it: O(d) memory traffic per leapfrog step. When the
subtree is complete it is merged into the tree in the same iteration (biased
progressive sampling, the merged U-turn check) and the next direction is taken. The carry holds only what these checks and
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
import numpy as np

from probflow.inference.mcmc._random import hash_uniform
from probflow.inference.mcmc.integrators import IntegratorState, leapfrog
from probflow.inference.mcmc.kernel import ChainState, KernelParams, SampleInfo, init_state
from probflow.inference.mcmc.metrics import Metric, momentum_from_noise, velocity

__all__ = ["NUTS", "NUTSNoise"]

_ZERO = np.int32(0)  # index dtype of dynamic slices must match the int32 leaf
_FIELDS = ("rho_before", "momentum", "velocity", "prev_momentum", "prev_velocity")


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
    # [max_tree_depth, 5, d], row popcount(leaf) (< max_tree_depth: a subtree being built
    # has depth <= max_tree_depth - 1): (momentum sum before the leaf, its
    # momentum, its velocity, the momentum and velocity of the leaf before it).
    checkpoints: jax.Array
    log_weight_tree: jax.Array
    log_weight_subtree: jax.Array
    proposal: ChainState
    proposal_energy: jax.Array
    sub_proposal: ChainState
    sub_proposal_energy: jax.Array
    sum_accept: jax.Array
    diverging: jax.Array
    done: jax.Array


class NUTSNoise(NamedTuple):
    """The random numbers one NUTS transition consumes (see `NUTS.noise`).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> noise = NUTS().noise(jax.random.key(0), jnp.zeros(3))
        >>> noise.momentum.shape, noise.bits.dtype
        ((3,), dtype('uint32'))
    """

    momentum: jax.Array  # standard normal, shaped like the flat position
    bits: jax.Array  # uint32 [3]: doubling directions, leaf seed, merge seed


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

    def noise(self, key, position) -> NUTSNoise:
        """The random numbers of one transition, drawn from its `key`.

        ``step(key, ...)`` equals ``step_from_noise(noise(key, position), ...)``; a
        sampling loop can draw many transitions' noise in one vectorised call ahead of
        the loop (on the CPU each `jax.random` call is a small loop of its own, which
        costs as much as several leapfrog steps of a cheap model).

        Args:
            key: a `jax.random` key.
            position: the flat position (for shape and dtype only).

        Returns:
            `NUTSNoise`.

        Example:
            >>> import jax, jax.numpy as jnp
            >>> NUTS().noise(jax.random.key(0), jnp.zeros(2)).bits.shape
            (3,)
        """
        key_momentum, key_bits = jax.random.split(key)
        position = jnp.asarray(position)
        return NUTSNoise(jax.random.normal(key_momentum, position.shape, position.dtype),
                         jax.random.bits(key_bits, (3,), jnp.uint32))

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
        return self.step_from_noise(self.noise(key, state.position), state, logdensity_fn,
                                    params)

    def step_from_noise(self, noise: NUTSNoise, state: ChainState, logdensity_fn,
                        params: KernelParams):
        """One NUTS transition with the random numbers given (`noise` of its key).

        Example:
            >>> import jax, jax.numpy as jnp
            >>> from probflow.inference.mcmc import kernel_params
            >>> kernel, x = NUTS(max_tree_depth=3), jnp.zeros(2)
            >>> _, info = kernel.step_from_noise(
            ...     kernel.noise(jax.random.key(0), x), kernel.init(x, jnp.sum), jnp.sum,
            ...     kernel_params(0.1, jnp.ones(2)))
            >>> int(info.n_steps)     # a linear log density never turns: 2**3 - 1 steps
            7
        """
        value_and_grad = jax.value_and_grad(logdensity_fn)
        consts, tree = _start(noise, state, params, self.max_tree_depth)
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
        noise = jax.vmap(self.noise)(keys, states.position)
        return self.step_chains_from_noise(noise, states, logdensity_fn, params)

    def step_chains_from_noise(self, noise: NUTSNoise, states: ChainState, logdensity_fn,
                               params: KernelParams):
        """`step_chains` with each chain's random numbers given (leading chain axis).

        Example:
            >>> import jax, jax.numpy as jnp
            >>> from probflow.inference.mcmc import kernel_params
            >>> f, kernel = (lambda x: -0.5 * x @ x), NUTS()
            >>> states = jax.vmap(lambda x: kernel.init(x, f))(jnp.zeros((3, 2)))
            >>> params = jax.vmap(lambda _: kernel_params(0.5, jnp.ones(2)))(jnp.arange(3))
            >>> keys = jax.random.split(jax.random.key(0), 3)
            >>> noise = jax.vmap(kernel.noise)(keys, states.position)
            >>> new, _ = kernel.step_chains_from_noise(noise, states, f, params)
            >>> bool(jnp.all(new.position == kernel.step_chains(keys, states, f, params)[0].position))
            True
        """
        consts, trees = self.start_chains(noise, states, params)
        trees = jax.lax.while_loop(
            lambda t: ~jnp.all(t.done),
            lambda t: self.extend_chains(consts, t, logdensity_fn), trees,
        )
        return self.finish_chains(trees)

    # -- the pieces of a batched transition, for a loop that schedules chains itself -----
    # A scheduler that keeps every chain busy (`_ragged`) runs `extend_chains` once per
    # iteration and restarts a chain whose trajectory is done with `start_chains`,
    # while the others go on: the same three functions as `step_chains_from_noise`, so
    # the trajectories are the same numbers.

    def start_chains(self, noise: NUTSNoise, states: ChainState, params: KernelParams):
        """The one-leaf trees of a batch of chains: ``(constants, trees)``.

        Args:
            noise: `NUTSNoise` with a leading chain axis.
            states: `ChainState` at which the trajectories start (leading chain axis).
            params: `KernelParams` (leading chain axis).

        Returns:
            ``(constants, trees)``: opaque pytrees for `extend_chains`/`finish_chains`.

        Example:
            >>> import jax, jax.numpy as jnp
            >>> from probflow.inference.mcmc import kernel_params
            >>> f, kernel = (lambda x: -0.5 * x @ x), NUTS()
            >>> states = jax.vmap(lambda x: kernel.init(x, f))(jnp.zeros((3, 2)))
            >>> params = jax.vmap(lambda _: kernel_params(0.5, jnp.ones(2)))(jnp.arange(3))
            >>> noise = jax.vmap(kernel.noise)(jax.random.split(jax.random.key(0), 3),
            ...                                states.position)
            >>> consts, trees = kernel.start_chains(noise, states, params)
            >>> while not bool(trees.done.all()):
            ...     trees = kernel.extend_chains(consts, trees, f)
            >>> kernel.finish_chains(trees)[1].n_steps.shape
            (3,)
        """
        depth = self.max_tree_depth
        return jax.vmap(lambda n, s, p: _start(n, s, p, depth))(noise, states, params)

    def extend_chains(self, consts: _Constants, trees: _Tree, logdensity_fn) -> _Tree:
        """One leapfrog step (and its checks) of every chain whose tree is not ``done``.

        A done chain stays where it is: its step size is 0 and its outputs are frozen.

        Args:
            consts, trees: from `start_chains` (or a previous `extend_chains`).
            logdensity_fn: flat position (one chain) -> scalar log density.

        Returns:
            The trees after the step; ``trees.done`` marks finished trajectories.
        """
        value_and_grad = jax.value_and_grad(logdensity_fn)
        depth, max_error = self.max_tree_depth, self.max_energy_error
        return jax.vmap(lambda c, t: _body(value_and_grad, c, t, ~t.done, depth, max_error))(
            consts, trees
        )

    def finish_chains(self, trees: _Tree):
        """``(new_states, SampleInfo)`` of finished trees (leading chain axis)."""
        return jax.vmap(_finish)(trees)


def _start(noise: NUTSNoise, state: ChainState, params: KernelParams, max_tree_depth):
    """The loop constants and the one-leaf tree at the chain's current state."""
    metric, dtype = params.metric, state.position.dtype
    momentum = momentum_from_noise(metric, noise.momentum)
    directions, leaf_seed, merge_seed = noise.bits[0], noise.bits[1], noise.bits[2]
    vel = velocity(metric, momentum)
    initial_energy = -state.logdensity + 0.5 * jnp.dot(momentum, vel)
    rows = jnp.zeros((max_tree_depth, len(_FIELDS)) + momentum.shape, dtype)
    zero, false, fzero = jnp.zeros((), jnp.int32), jnp.zeros((), bool), jnp.zeros((), dtype)
    consts = _Constants(params.step_size, metric, initial_energy, directions, leaf_seed,
                        merge_seed)
    tree = _Tree(
        zero, zero, zero, (directions & 1) == 1,
        state.position, momentum, vel, state.grad,
        state.position, momentum, vel, state.grad,
        momentum, jnp.zeros_like(momentum), rows,
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
    step = jnp.where(active, jnp.where(tree.forward, consts.step_size, -consts.step_size), 0.0)
    new = leapfrog(
        value_and_grad, metric,
        IntegratorState(tree.position, tree.momentum, jnp.zeros((), dtype), tree.grad), step,
    )
    new_velocity = velocity(metric, new.momentum)
    first = tree.leaf == 0
    rho_before = jnp.where(first, jnp.zeros_like(tree.rho_subtree), tree.rho_subtree)
    rho_subtree = rho_before + new.momentum
    # One checkpoint row per leaf, at row popcount(leaf): a row is overwritten only
    # once no block that starts at its leaf can still close (see `_checks`).
    row = jnp.stack([rho_before, new.momentum, new_velocity, tree.momentum, tree.velocity])
    checkpoints = _write_row(tree.checkpoints, row, jax.lax.population_count(tree.leaf))
    kinetic2, tree_continues, turning = _checks(
        new.momentum, new_velocity, rho_subtree, checkpoints, tree.leaf, tree.far_velocity,
        tree.rho_tree, active,
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


    # Merge the finished subtree into the tree (biased progressive sampling).
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
        rho_tree, rho_subtree, checkpoints, log_weight_tree, log_weight_subtree,
        proposal, proposal_energy, sub_proposal, sub_proposal_energy,
        tree.sum_accept + jnp.where(active, jnp.exp(jnp.minimum(log_weight, 0.0)), 0.0),
        tree.diverging | (active & diverging), tree.done | (active & done),
    )


def _checks(momentum, vel, rho_subtree, checkpoints, leaf, far_velocity, rho_tree, active):
    """``p . v`` of the new leaf, the merge check, and the U-turn checks the leaf closes.

    Leaf ``n`` with ``k`` trailing one bits closes the blocks of size ``2^(j+1)``,
    ``j < k``, that end at it. Their halves start at leaves ``n + 1 - 2^i``,
    ``1 <= i <= k``, and at ``n`` itself; those leaves' popcounts ``h + k - i``
    (``h`` = popcount of ``n``'s bits above the trailing ones) are consecutive, so
    block ``r < k`` has its first half A starting at row ``h + r`` and its second half
    B at row ``h + r + 1``. A row is overwritten only by a leaf of larger popcount,
    i.e. after every block that starts at its leaf has closed. Only these ``k`` checks
    are evaluated (a loop, mean ``k`` ~ 1 per leaf), so a step reads O(d) numbers, not
    O(levels x d). The merge check (A = the tree, B = the subtree, whose first leaf has
    popcount 0 and sits in row 0 with the tree's end next to it) and ``p . v`` are one
    reduction: on the CPU each dot product is a separate kernel.

    Returns:
        ``(p . v, the merged tree keeps going, a closed block turned)``, each check
        Stan's three-part criterion.
    """
    trailing_ones = jax.lax.population_count(leaf ^ (leaf + 1)) - 1
    high = jax.lax.population_count(leaf) - trailing_ones
    # A finished chain of a batch checks nothing: it would only keep the loop running.
    n_closing = jnp.where(active, trailing_ones, 0)
    subtree_first = checkpoints[0]
    rho_a, v_a_far = rho_tree, far_velocity
    p_b_near, v_b_near, p_a_near, v_a_near = (subtree_first[i] for i in range(1, 5))
    whole, across_a, across_b = rho_a + rho_subtree, rho_a + p_b_near, rho_subtree + p_a_near
    lhs = jnp.stack([momentum, v_a_far, vel, v_a_far, v_b_near, v_a_near, vel])
    rhs = jnp.stack([vel, whole, whole, across_a, across_a, across_b, across_b])
    dots = jnp.sum(lhs * rhs, axis=-1)

    def closed_block(carry):
        r, turned = carry
        a = jax.lax.dynamic_index_in_dim(checkpoints, high + r, keepdims=False)
        b = jax.lax.dynamic_index_in_dim(checkpoints, high + r + 1, keepdims=False)
        rho_a, rho_b = b[0] - a[0], rho_subtree - b[0]
        whole, across_a, across_b = rho_a + rho_b, rho_a + b[1], rho_b + b[3]
        lhs = jnp.stack([a[2], vel, a[2], b[2], b[4], vel])
        rhs = jnp.stack([whole, whole, across_a, across_a, across_b, across_b])
        return r + 1, turned | jnp.any(jnp.sum(lhs * rhs, axis=-1) <= 0)

    _, turned = jax.lax.while_loop(
        lambda carry: (carry[0] < n_closing) & ~carry[1], closed_block,
        (jnp.zeros_like(leaf), jnp.zeros((), bool)),
    )
    return dots[0], jnp.all(dots[1:] > 0), turned


# Rows a batch of chains writes with one in-place update each, where vmap would make a
# scatter. XLA:CPU compiles a while loop into one native kernel only when it holds no
# scatter (`xla_cpu_small_while_loop_byte_threshold`; see benchmarks/README.md), and
# the per-chain updates cost about what one scatter does otherwise.
_MAX_UNROLLED_CHAINS = 16


@jax.custom_batching.custom_vmap
def _write_row(stack, row, index):
    """``stack`` with ``stack[index] = row``, in place."""
    return jax.lax.dynamic_update_slice(stack, row[None], (index,) + (_ZERO,) * row.ndim)


@_write_row.def_vmap
def _write_row_batched(axis_size, in_batched, stack, row, index):
    stack, row, index = (
        x if batched else jnp.broadcast_to(x, (axis_size,) + jnp.shape(x))
        for x, batched in zip((stack, row, index), in_batched)
    )
    if axis_size > _MAX_UNROLLED_CHAINS:
        return jax.vmap(_write_row.fun)(stack, row, index), True
    zeros = (_ZERO,) * (row.ndim - 1)
    for chain in range(axis_size):
        stack = jax.lax.dynamic_update_slice(
            stack, row[chain][None, None], (np.int32(chain), index[chain].astype(np.int32)) + zeros
        )
    return stack, True


def _select(predicate, a, b):
    return jax.tree_util.tree_map(lambda x, y: jnp.where(predicate, x, y), a, b)
