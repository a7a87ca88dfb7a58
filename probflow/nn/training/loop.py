"""The epoch loop: callbacks, validation, stop requests and Ctrl-C around compiled epochs.

With no callback overriding a batch hook, an epoch is one call of the fused program
(`GradientPrograms.run_epoch`) and the host syncs once per epoch to read its logs.
Otherwise each batch is one call of the same jitted step, with the training-batch hooks
(`on_train_batch_begin` / `_end`, alias `on_batch_*`) in between; so too under
``run_eagerly``. A `streams.BatchStream` (a generator, a Grain pipeline, a memmap) runs
each epoch through `stream_loop.run_stream_epoch` instead. The validation pass of each
epoch runs between `on_test_begin` and `on_test_end` (Keras's order).
`model.train_state` is the source of truth between epochs: callbacks may replace it
(restore a backup, change the learning rate or KL weight).
"""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np

from probflow.nn.training.stream_loop import run_stream_epoch
from probflow.nn.training.streams import BatchStream

__all__ = ["run_epochs"]


def _to_floats(logs) -> dict:
    host = jax.device_get(logs)
    # Keras order: loss first, then the rest as compiled (jax sorts dict keys).
    first = [k for k in ("loss", "nll") if k in host]
    return {k: float(np.asarray(host[k])) for k in first + [k for k in host if k not in first]}


def _batch_loop_epoch(model, programs, xs, ys, weights, *, batch_size, shuffle, callbacks,
                      num_train):
    """One epoch as a Python loop over jitted steps (the batch-hook path)."""
    num_examples = xs[0].shape[0]
    state, idx, mask = programs.epoch_batches(model.train_state, num_examples,
                                              batch_size=batch_size, shuffle=shuffle)
    model.train_state = state
    collected = []
    for b in range(idx.shape[0]):
        callbacks.on_batch_begin(b, {"batch": b, "size": int(jnp.sum(mask[b]))})
        state, logs = programs.step_on_indices(model.train_state, xs, ys, idx[b], mask[b],
                                               weights, num_train)
        model.train_state = state
        collected.append(logs)
        batch_logs = {k: float(v) for k, v in logs.items() if k != "stats"}
        batch_logs["size"] = batch_logs.pop("count")
        callbacks.on_batch_end(b, batch_logs)
        if model.stop_training:
            break
    stacked = jax.tree_util.tree_map(lambda *a: jnp.stack(a), *collected)
    model.train_state = model.train_state._replace(epoch=model.train_state.epoch + 1)
    return programs.summarize(stacked)


def _train_epoch(model, programs, train, *, batch_size, shuffle, callbacks, num_train):
    if isinstance(train, BatchStream):
        return run_stream_epoch(model, programs, train, shuffle=shuffle, callbacks=callbacks)
    xs, ys, weights = train
    # None unless `fit(num_train=...)` says the arrays are part of a larger set: the
    # fused program is then the one compiled without it.
    override = None if num_train == xs[0].shape[0] else num_train
    # run_eagerly: the step-by-step path, so a custom layer sees each batch.
    if callbacks.has_batch_hooks or model.run_eagerly:
        return _batch_loop_epoch(model, programs, xs, ys, weights, batch_size=batch_size,
                                 shuffle=shuffle, callbacks=callbacks, num_train=override)
    model.train_state, epoch_logs = programs.run_epoch(
        model.train_state, xs, ys, batch_size=batch_size, shuffle=shuffle, weights=weights,
        num_train=override)
    return epoch_logs


def run_epochs(model, programs, train, validation, *, epochs, batch_size, shuffle, callbacks,
               validation_samples, val_key, num_train, validation_steps=None):
    """Runs epochs ``model.initial_epoch .. epochs - 1`` and returns the last logs.

    Args:
        model: the model; `model.train_state` is read and written.
        programs: the `GradientPrograms` for this model and objective.
        train: ``(xs, ys, weights)`` device arrays (weights None: unweighted), or a
            `streams.BatchStream`.
        validation: ``(xs, ys)`` host arrays, a `BatchStream`, or None.
        epochs: index one past the last epoch.
        batch_size: examples per step.
        shuffle: reshuffle each epoch.
        callbacks: a `CallbackList` (already attached to the model).
        validation_samples: posterior draws per validation example.
        val_key: key folded with the epoch index for validation draws.
        num_train: examples in the training set (the KL divisor of the validation loss).
        validation_steps: batches of a validation stream per evaluation (None: a pass).
    """
    logs = {}
    model.stop_training = False
    # Read by BackupAndRestore: only a run that ends normally may drop its backup.
    model.training_completed = False
    callbacks.on_train_begin()
    finished = None
    try:
        epoch = int(model.initial_epoch)
        while epoch < epochs and not model.stop_training:
            callbacks.on_epoch_begin(epoch)
            epoch_logs = _train_epoch(model, programs, train, batch_size=batch_size,
                                      shuffle=shuffle, callbacks=callbacks, num_train=num_train)
            if epoch_logs is None:
                # Keras's behaviour when a generator runs dry: stop, keep what was trained.
                warnings.warn(f"the training data ran out at epoch {epoch}: pass a re-iterable "
                              "source (a list, a Grain data set) or steps_per_epoch with an "
                              "endless generator; stopping", UserWarning, stacklevel=4)
                model.stop_training = True
                break
            logs = _to_floats(epoch_logs)
            if validation is not None:
                callbacks.on_test_begin()
                val_logs = programs.evaluate(
                    model.train_state, validation, jax.random.fold_in(val_key, epoch),
                    num_samples=validation_samples, batch_size=max(batch_size, 256),
                    num_train=num_train, steps=validation_steps,
                    hooks=callbacks if callbacks.has_test_batch_hooks else None,
                )
                callbacks.on_test_end(dict(val_logs))
                logs.update({f"val_{k}": v for k, v in val_logs.items()})
            finished = epoch  # trained and logged: Ctrl-C from here on keeps it
            callbacks.on_epoch_end(epoch, logs)
            finished = None
            epoch += 1
        model.training_completed = True
    except KeyboardInterrupt:
        # The interrupted epoch's result was never assigned, so model.train_state holds
        # the last completed epoch (or step, on the batch path): weights stay consistent.
        model.stop_training = True
        history = getattr(model, "history", None)
        if finished is not None and history is not None and finished not in history.epoch:
            # Interrupted inside a callback at the end of an epoch whose weights are kept:
            # History (the last callback) must still record that epoch.
            history.on_epoch_end(finished, logs)
        print("probflow: training interrupted (Ctrl-C); keeping the last completed state")
    finally:
        callbacks.on_train_end(logs)
    return logs
