"""The compiled programs of gradient-based fitting: train step, fused epoch, evaluation.

Keras-3 style: `train_step(state, batch) -> (state, logs)` is pure and stateless; the
model object is the shell around it. `run_epoch` is one jitted program: a permutation
of the examples (drawn from the state's key), padding to whole batches with a mask so
every example counts exactly once, and a `lax.scan` of `train_step` over the batches.
When a callback needs batch hooks, the trainer calls `epoch_batches` and then
`step_on_indices` per batch instead: the same step, the same indices, the same keys.
"""

from __future__ import annotations

import copy
import math

import jax
import jax.numpy as jnp
import numpy as np
import optax

from probflow.nn.training.objectives import (
    MAP,
    VI,
    metric_results,
    metric_stats,
    needs_interval,
    objective_terms,
    predictions,
    weighted_mask,
)
from probflow.nn.training.state import merge_trainable, split_trainable
from probflow.nn.training.streams import eval_chunks

__all__ = ["GradientPrograms", "programs_for"]

_OBJECTIVES = {"vi": VI(), "map": MAP()}


def programs_for(model, objective, frozen=None, *, factory=None, variant=None):
    """The model's cached `GradientPrograms` for `objective` and a frozen-layer set.

    Args:
        model: the compiled model (its `program_cache` holds the programs).
        objective: an `Objective`, or ``"vi"`` / ``"map"``.
        frozen: frozen layer names (default: the model's current ones). They are
            static in the programs: another set compiles other programs.
        factory: ``fn(model, objective, frozen) -> GradientPrograms`` for subclasses.
        variant: a hashable that tells apart programs of one factory with other settings
            (default: the factory's name).

    Returns:
        The programs.
    """
    if isinstance(objective, str):
        objective = _OBJECTIVES[objective]
    frozen = model.frozen_layer_names if frozen is None else frozenset(frozen)
    factory = factory or GradientPrograms
    key = (factory.__name__ if variant is None else variant, objective.name, frozen)
    cache = model.program_cache
    if key not in cache:
        cache[key] = factory(model, objective, frozen)
    return cache[key]


def _gather(arrays, idx):
    return [a[idx] for a in arrays]


def _step_totals(logs, objective):
    """What an epoch sums of a step's logs (or of stacked logs, summed afterwards)."""
    count = logs["count"]
    return {"loss_sum": count * logs["loss"], "count": count,
            "reg_sum": logs[objective.regulariser_name],
            "steps": jnp.ones_like(count), "stats": logs["stats"]}


class GradientPrograms:
    """Jitted training/evaluation functions for one compiled model and objective.

    Attributes:
        epoch_calls: Python-level calls of the fused epoch program.
        step_calls: Python-level calls of the per-batch step (batch-hook path).
    """

    def __init__(self, model, objective, frozen=frozenset()):
        self.model = model
        self.objective = objective
        # Frozen layer names: their params are a constant of the step, outside the
        # optimizer (whose state covers the trainable part only).
        self.frozen = frozenset(frozen)
        # A `probflow.distribute.DataParallel`, or None for one device (see
        # `for_distribution`).
        self.distribution = None
        self._variants = {}
        self._totals_shapes = {}
        self.epoch_calls = 0
        self.step_calls = 0
        self._compile()

    def _compile(self):
        model, objective = self.model, self.objective
        self._run_epoch = jax.jit(self._epoch_impl,
                                  static_argnames=("batch_size", "shuffle", "num_train"))
        self._epoch_batches = jax.jit(self._batches_impl,
                                      static_argnames=("num_examples", "batch_size", "shuffle"))
        self._step = jax.jit(self._step_on_indices_impl, static_argnames=("num_train",))
        self._stream_step = jax.jit(self._stream_step_impl, static_argnames=("num_train",))
        self._epoch_key = jax.jit(self._epoch_key_impl)
        self._summarize = jax.jit(self._summarize_impl)
        self._summarize_totals = jax.jit(self._summarize_totals_impl)
        self._eval = jax.jit(self._eval_impl, static_argnames=("num_samples",))
        self._regulariser = jax.jit(
            lambda layer_params, key: objective.regulariser(model, layer_params, key))

    def for_distribution(self, distribution):
        """These programs for a data-parallel `distribution` (None: these very programs).

        The variant shares the model and objective; its step splits each gathered batch
        over the mesh axis and keeps the train state replicated, and XLA partitions the
        step and sums the gradients across devices. Variants are cached per distribution.
        """
        if distribution is None or distribution == self.distribution:
            return self
        if distribution not in self._variants:
            variant = copy.copy(self)
            variant.distribution = distribution
            variant._variants = {}
            variant._totals_shapes = {}
            variant.epoch_calls = variant.step_calls = 0
            variant._compile()
            self._variants[distribution] = variant
        return self._variants[distribution]

    def _placed(self, tree):
        # A no-op for arrays already replicated on the mesh; callbacks may have swapped
        # in host or single-device arrays (a restored backup) between calls.
        return tree if self.distribution is None else self.distribution.replicate(tree)

    def place(self, tree):
        """Device arrays for `tree`: replicated over the mesh when data-parallel."""
        if self.distribution is None:
            return jax.tree_util.tree_map(jnp.asarray, tree)
        return self.distribution.replicate(tree)

    def place_batch(self, batch):
        """A host batch on the device: one asynchronous `jax.device_put` of the tree."""
        if self.distribution is None:
            return jax.device_put(batch)
        return self.distribution.replicate(batch)

    # -- pure pieces -----------------------------------------------------------------------
    def fixed_arguments(self):
        """Host-side values every step takes besides the state (default: none).

        Runs whose state holds only the trainable part (ensemble members, SG-MCMC
        chains) pass the frozen layers' weights here: as an argument, never a constant
        baked into the compiled program, so changed weights are never stale.
        """
        return {}

    def train_step(self, state, batch, num_train, fixed):
        """One optimizer step on a masked batch ``(xs, ys, mask, weights)``: ``(state, logs)``.

        `weights` is None or the per-example sample weights (`objective_terms`).
        """
        del fixed  # the frozen params are inside state.params here
        model, objective = self.model, self.objective
        xs, ys, mask, weights = batch
        key, key_step, key_metric = jax.random.split(state.key, 3)
        trainable, fixed = split_trainable(state.params, self.frozen)

        def loss_fn(trainable_params):
            return objective_terms(objective, model, merge_trainable(trainable_params, fixed),
                                   state.layer_state, xs, ys, mask, key_step, state.kl_weight,
                                   num_train, frozen=self.frozen, weights=weights)

        (loss, (nll, reg, outputs, layer_state)), grads = jax.value_and_grad(
            loss_fn, has_aux=True)(trainable)
        updates, opt_state = model.optimizer.update(grads, state.opt_state, trainable)
        params = merge_trainable(optax.apply_updates(trainable, updates), fixed)
        # Metrics of the step's own forward pass (one weight draw), from pre-update params.
        _, preds = predictions(
            model, state.params["likelihood"], [o[None] for o in outputs], ys, key_metric,
            need_interval=needs_interval(model),
        )
        logs = {
            "loss": loss,
            objective.regulariser_name: reg,
            "count": jnp.sum(mask),
            "stats": metric_stats(model, ys, preds, mask, weights),
        }
        del nll
        new_state = state._replace(params=params, layer_state=layer_state, opt_state=opt_state,
                                   key=key, step=state.step + 1)
        return new_state, logs

    def _batches_impl(self, state, num_examples, batch_size, shuffle):
        key, key_perm = jax.random.split(state.key)
        order = (jax.random.permutation(key_perm, num_examples) if shuffle
                 else jnp.arange(num_examples))
        num_batches = math.ceil(num_examples / batch_size)
        padded = num_batches * batch_size
        # Padding rows point at example 0 and carry mask 0: each example counts once.
        idx = jnp.concatenate([order, jnp.zeros(padded - num_examples, order.dtype)])
        mask = (jnp.arange(padded) < num_examples).astype(jnp.result_type(float))
        return (state._replace(key=key), idx.reshape(num_batches, batch_size),
                mask.reshape(num_batches, batch_size))

    def _step_on_indices_impl(self, state, fixed, xs, ys, idx, mask, weights=None,
                              num_train=None):
        # num_train None: the arrays are the whole training set.
        batch_weights = None if weights is None else weights[idx]
        batch = (_gather(xs, idx), _gather(ys, idx), mask, batch_weights)
        return self._distributed_step(state, fixed, batch,
                                      xs[0].shape[0] if num_train is None else num_train)

    def _distributed_step(self, state, fixed, batch, num_train):
        strategy = self.distribution
        if strategy is None:
            return self.train_step(state, batch, num_train, fixed)
        # Rows split over the devices, state replicated: the compiler partitions the step
        # and inserts the gradient all-reduce; the values are those of one device.
        state, logs = self.train_step(state, strategy.shard_batch(batch), num_train, fixed)
        return strategy.replicate_within(state), logs

    def _stream_step_impl(self, state, fixed, totals, batch, num_train):
        """A step on a batch that came from the host, its logs added to `totals` on device."""
        state, logs = self._distributed_step(state, fixed, batch, num_train)
        totals = jax.tree_util.tree_map(jnp.add, totals, _step_totals(logs, self.objective))
        return state, totals, logs

    def _epoch_key_impl(self, state):
        # The key split `_batches_impl` makes for the permutation: a stream's step keys
        # are then those of the array path's steps.
        key, _ = jax.random.split(state.key)
        return state._replace(key=key)

    def _summarize_impl(self, batch_logs):
        """Epoch logs from stacked per-batch logs: example-weighted means, exact metrics."""
        totals = jax.tree_util.tree_map(lambda a: jnp.sum(a, axis=0),
                                        _step_totals(batch_logs, self.objective))
        return self._summarize_totals_impl(totals)

    def _summarize_totals_impl(self, totals):
        reg_name = self.objective.regulariser_name
        out = {
            "loss": totals["loss_sum"] / jnp.maximum(totals["count"], 1.0),
            reg_name: totals["reg_sum"] / totals["steps"],
        }
        out.update(metric_results(self.model, totals["stats"]))
        return out

    def _epoch_impl(self, state, fixed, xs, ys, batch_size, shuffle, weights=None,
                    num_train=None):
        num_examples = xs[0].shape[0]
        state, idx, mask = self._batches_impl(state, num_examples, batch_size, shuffle)

        def body(carry, inputs):
            batch_idx, batch_mask = inputs
            return self._step_on_indices_impl(carry, fixed, xs, ys, batch_idx, batch_mask,
                                              weights, num_train)

        state, batch_logs = jax.lax.scan(body, state, (idx, mask))
        return state._replace(epoch=state.epoch + 1), self._summarize_impl(batch_logs)

    def _eval_impl(self, params, layer_state, xs, ys, mask, weights, key, num_samples):
        """Summed stats of one padded evaluation batch under `num_samples` draws.

        `weights` (per-example sample weights, or None) weigh the loss term as in
        training and the weighted metrics."""
        model = self.model
        key_fwd, key_pred = jax.random.split(key)

        def forward(k):
            outputs, _ = model.forward(params["layers"], layer_state, xs, key=k, training=False,
                                       mean_weights=self.objective.mean_weights)
            return outputs

        outputs = jax.vmap(forward)(jax.random.split(key_fwd, num_samples))
        expected_ll, preds = predictions(model, params["likelihood"], outputs, ys, key_pred,
                                         need_interval=needs_interval(model))
        return {
            "nll_sum": jnp.sum(-weighted_mask(mask, weights) * expected_ll),
            "count": jnp.sum(mask),
            "stats": metric_stats(model, ys, preds, mask, weights),
        }

    # -- host-facing calls -----------------------------------------------------------------
    def run_epoch(self, state, xs, ys, *, batch_size, shuffle, weights=None, num_train=None):
        """The fused epoch: ``(new_state, epoch logs as device scalars)``.

        `weights`: per-example sample weights on device, or None. `num_train`: the
        training set's size when `xs` is only part of it (None: ``len(xs[0])``).
        """
        self.epoch_calls += 1
        state, fixed, xs, ys, weights = self._placed(
            (state, self.fixed_arguments(), xs, ys, weights))
        return self._run_epoch(state, fixed, xs, ys, batch_size=batch_size, shuffle=shuffle,
                               weights=weights, num_train=num_train)

    def epoch_batches(self, state, num_examples, *, batch_size, shuffle):
        """``(state, idx [num_batches, batch_size], mask)`` for the batch-hook path."""
        return self._epoch_batches(self._placed(state), num_examples=num_examples,
                                   batch_size=batch_size, shuffle=shuffle)

    def step_on_indices(self, state, xs, ys, idx, mask, weights=None, num_train=None):
        """One jitted step on the rows `idx` of the device data."""
        self.step_calls += 1
        return self._step(*self._placed((state, self.fixed_arguments(), xs, ys, idx, mask,
                                         weights)), num_train=num_train)

    def summarize(self, batch_logs):
        return self._summarize(batch_logs)

    # -- the streaming path (training/stream_loop.py) -------------------------------------
    def begin_stream_epoch(self, state):
        """The state a streamed epoch starts from (the array path's epoch key split)."""
        return self._epoch_key(self._placed(state))

    def stream_step(self, state, totals, batch, *, num_train):
        """One jitted step on a device batch ``(xs, ys, mask, weights)``.

        Args:
            state: the train state.
            totals: the epoch's running log sums, or None at the epoch's first step.
            batch: padded device arrays; `weights` None or ``[rows]``.
            num_train: the data set's size (static: the KL divisor).

        Returns:
            ``(state, totals, logs)``, all on device (nothing is read back).
        """
        self.step_calls += 1
        state, fixed = self._placed((state, self.fixed_arguments()))
        if totals is None:
            totals = self._zero_totals(state, fixed, batch, num_train)
        return self._stream_step(state, fixed, totals, batch, num_train=num_train)

    def _zero_totals(self, state, fixed, batch, num_train):
        # Traced once per batch shape (the metric stats' structure comes from the step).
        signature = (num_train, jax.tree_util.tree_structure(batch),
                     tuple(jnp.shape(a) for a in jax.tree_util.tree_leaves(batch)))
        if signature not in self._totals_shapes:
            def step_totals(state, fixed, batch):
                logs = self._distributed_step(state, fixed, batch, num_train)[1]
                return _step_totals(logs, self.objective)

            self._totals_shapes[signature] = jax.eval_shape(step_totals, state, fixed, batch)
        return jax.tree_util.tree_map(lambda a: jnp.zeros(a.shape, a.dtype),
                                      self._totals_shapes[signature])

    def summarize_totals(self, totals):
        """Epoch logs (device scalars) from a streamed epoch's totals."""
        return self._summarize_totals(totals)

    def evaluate(self, state, data, key, *, num_samples, batch_size, num_train, steps=None,
                 hooks=None):
        """Loss and metrics over host data, in padded batches.

        Args:
            data: ``(xs, ys)`` or ``(xs, ys, sample_weights)`` host arrays (batches of
                `batch_size`) or a `streams.BatchStream` (its batches; at most `steps`
                of them).
            hooks: a `CallbackList` whose ``on_test_batch_*`` hooks run per batch.

        Returns:
            dict name -> Python float (``loss``, the regulariser, metrics).
        """
        totals = None
        for b, (xb, yb, mask, wb) in enumerate(eval_chunks(data, batch_size, steps=steps)):
            if hooks is not None:
                hooks.on_test_batch_begin(b, None)
            out = self._eval(state.params, state.layer_state, xb, yb, mask, wb,
                             jax.random.fold_in(key, b), num_samples=num_samples)
            if hooks is not None:
                hooks.on_test_batch_end(b, {"size": int(np.sum(np.asarray(mask) > 0))})
            totals = out if totals is None else jax.tree_util.tree_map(jnp.add, totals, out)
        if totals is None:
            raise ValueError("the evaluation data yielded no batches (a one-shot generator "
                             "already read?)")
        # One KL draw for the whole data set (its own key, apart from the batches').
        reg = self._regulariser(state.params["layers"], jax.random.split(key)[1])
        weight = state.kl_weight if self.objective.uses_kl_weight else 1.0
        count = jnp.maximum(totals["count"], 1.0)
        logs = {
            "loss": totals["nll_sum"] / count + weight * reg / num_train,
            self.objective.regulariser_name: reg,
        }
        logs.update(metric_results(self.model, totals["stats"]))
        return {k: float(v) for k, v in logs.items()}
