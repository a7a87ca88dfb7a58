"""``fit(method="nuts" | "hmc")``: full-batch MCMC over the network's weights.

The model's trainable weights (with the layers' priors) and its likelihood heads' raw
parameters form a `Target` (`weights_target.network_target`; frozen layers enter as
fixed data), sampled by `probflow.inference.sample`. The draws become the model's
posterior (a `fitted.DrawsPosterior`), so predict / evaluate / to_arviz work as after
VI. Each chain starts at its own draw of the layers' initialisers. The target's functions are cached
on the model, so a second fit of the same compiled model (even on new data of the same
shape) reuses the compiled sampler.
"""

from __future__ import annotations

import warnings

import jax
import numpy as np

from probflow._seed import as_key
from probflow.inference.mcmc.sample import DEFAULT_ADAPTATION, DEFAULT_NUM_WARMUP
from probflow.nn.callbacks.base import CallbackList
from probflow.nn.callbacks.history import History
from probflow.nn.training.data import prepare_xy, split_validation
from probflow.nn.training.fitted import DrawsPosterior
from probflow.nn.training.fitters import register_fitter
from probflow.nn.training.posterior import stack_draws
from probflow.nn.training.predict import evaluate_arrays
from probflow.nn.training.streams import evaluation_data
from probflow.nn.training.weights_target import fixed_weights, initial_weights, network_target

__all__ = ["MCMCFitter"]


def _stack(trees):
    return jax.tree_util.tree_map(lambda *leaves: np.stack(leaves), *trees)


class MCMCFitter:
    """Fits a network by NUTS or HMC on the full data set.

    Args:
        kernel: ``"nuts"`` or ``"hmc"``.

    Method options of ``model.fit(..., method=kernel, **options)``: ``num_warmup``
    (300; 1000 with ``adaptation="stan"``), ``num_samples`` (1000), ``num_chains`` (4), ``target_accept`` (0.8),
    ``max_tree_depth`` (10), ``dense_mass`` (False), ``chain_method``
    ("vectorized"), ``schedule`` ("lockstep"), ``adaptation`` (see
    `probflow.inference.sample`; ``num_warmup`` and ``adaptation`` default to
    `sample()`'s defaults).
    `epochs`, `batch_size` and `shuffle` do not apply (full batch).
    After the fit, ``model.fitted_posterior.stats`` holds the sampler statistics
    (``diverging``, ``acceptance_rate``, ``tree_depth``, ...) as ``[chain, draw]`` arrays.

    Example:
        >>> import numpy as np
        >>> from probflow import nn
        >>> model = nn.Sequential([nn.Dense(4, activation="tanh"), nn.Dense(1)])
        >>> model.compile(likelihood="normal")
        >>> x = np.linspace(-1, 1, 20, dtype="float32")[:, None]
        >>> _ = model.fit(x, np.sin(3 * x[:, 0]), method="nuts", num_warmup=50,
        ...               num_samples=50, num_chains=2, verbose=0)
        >>> model.predict(x[:3], num_samples=10).shape
        (3, 1)
    """

    options = ("num_warmup", "num_samples", "num_chains", "target_accept", "max_tree_depth",
               "dense_mass", "chain_method", "schedule", "adaptation")

    def __init__(self, kernel):
        self.kernel = kernel

    def fit(self, model, x, y, *, epochs, batch_size, validation_data, validation_split,
            shuffle, callbacks, seed, verbose, initial_epoch, validation_samples,
            num_warmup=None, num_samples=1000, num_chains=4,
            target_accept=0.8, max_tree_depth=10, dense_mass=False,
            chain_method="vectorized", schedule="lockstep",
            adaptation=DEFAULT_ADAPTATION):
        from probflow.inference import sample

        del epochs, batch_size, shuffle, initial_epoch
        if num_warmup is None:  # an unknown adaptation: sample() names the choices
            num_warmup = DEFAULT_NUM_WARMUP.get(adaptation)
        if y is None:
            raise ValueError(
                f"method={self.kernel!r} samples the posterior of the full data set and needs "
                "arrays x and y; got y=None (an iterable of batches?): concatenate a finite "
                "stream's batches into arrays, or fit it with method='sgld' / 'sghmc' / 'vi'")
        if verbose not in (0, 1, 2):
            raise ValueError(f"`verbose` must be 0, 1 or 2; got {verbose!r}")
        xs, ys = prepare_xy(model, x, y)
        (xs, ys), validation = split_validation(xs, ys, validation_split)
        if validation_data is not None:
            if not isinstance(validation_data, tuple) or len(validation_data) not in (2, 3):
                raise ValueError("`validation_data` must be a tuple (x_val, y_val) or (x_val, "
                                 "y_val, val_sample_weight) with method="
                                 f"{self.kernel!r}")
            validation = evaluation_data(model, *validation_data[:2], batch_size=256,
                                         sample_weight=(validation_data[2]
                                                        if len(validation_data) == 3 else None),
                                         xname="validation_data[0]",
                                         yname="validation_data[1]", wname="validation_data[2]")
        key_init, key_run, key_val = jax.random.split(as_key(seed), 3)
        if isinstance(num_chains, bool) or not isinstance(num_chains, int) or num_chains < 1:
            raise ValueError(f"`num_chains` must be an int >= 1; got {num_chains!r}")
        # Unbuilt layers get chain 0's initialisation (their state is what chains run with).
        model.build_variables(jax.random.fold_in(key_init, 0))
        starts = [initial_weights(model, jax.random.fold_in(key_init, c))
                  for c in range(num_chains)]
        layer_state = starts[0][1]
        fixed = fixed_weights(model)
        target = network_target(model, xs, ys, layer_state, starts[0][0], fixed)

        history = History()
        cbs = CallbackList(list(callbacks or []) + [history], model=model, params={
            "epochs": 1, "steps": 1, "verbose": verbose, "method": self.kernel,
            "num_warmup": num_warmup, "num_samples": num_samples, "num_chains": num_chains,
        })
        model.history = history
        cbs.on_train_begin()
        cbs.on_epoch_begin(0)
        result = sample(
            target, _stack([s[0] for s in starts]), kernel=self.kernel, num_warmup=num_warmup,
            num_samples=num_samples, num_chains=num_chains, chain_method=chain_method,
            target_accept=target_accept, max_tree_depth=max_tree_depth, dense_mass=dense_mass,
            seed=key_run, progress_bar=verbose > 0, check_convergence=False, schedule=schedule,
            adaptation=adaptation,
        )
        posterior = DrawsPosterior(
            self.kernel, xs[0].shape[0], stack_draws(result.samples, layer_state), fixed,
            {k: np.asarray(v) for k, v in result.stats.items()})
        divergences = int(np.sum(result.stats["diverging"]))
        if divergences:
            warnings.warn(
                f"{divergences} divergent transitions in {num_chains * num_samples} draws "
                "after warmup: raise target_accept (e.g. 0.95), standardise x and y, or "
                "use tighter weight priors", UserWarning, stacklevel=3)
        logs = {
            "divergences": float(divergences),
            "acceptance_rate": float(np.mean(result.stats["acceptance_rate"])),
            "step_size": float(np.mean(result.step_size)),
        }
        if validation is not None:
            val_logs = evaluate_arrays(model, validation, num_samples=validation_samples,
                                       seed=key_val, draws=posterior.draws, fixed=fixed)
            logs.update({f"val_{k}": v for k, v in val_logs.items()})
        cbs.on_epoch_end(0, logs)
        cbs.on_train_end(logs)
        return history, posterior


register_fitter("nuts", MCMCFitter("nuts"))
register_fitter("hmc", MCMCFitter("hmc"))
