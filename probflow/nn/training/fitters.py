"""`fit`'s dispatcher: a method name -> a fitter object with ``fit(model, x, y, ...)``.

"vi" and "map" are `GradientFitter`s (one objective each, same compiled loop). MCMC and
SG-MCMC fitters ("nuts", "hmc", "sgld", "sghmc", "ensemble") plug in with
`register_fitter(name, fitter)`; each receives the same keyword arguments as
`Model.fit` and returns ``(history, fitted_posterior)`` (`training.fitted`), which
`Model.fit` assigns.
"""

from __future__ import annotations

import importlib

import jax

from probflow._seed import as_key
from probflow.distribute.data_parallel import resolve_distribution
from probflow.nn.callbacks.base import CallbackList
from probflow.nn.callbacks.history import History
from probflow.nn.callbacks.progress import ProgressBar
from probflow.nn.training.fitted import PointPosterior, VariationalPosterior
from probflow.nn.training.inputs import ArrayData, training_data
from probflow.nn.training.loop import run_epochs
from probflow.nn.training.objectives import MAP, VI
from probflow.nn.training.programs import programs_for
from probflow.nn.training.state import (
    get_learning_rate,
    new_train_state,
    set_learning_rate,
    split_trainable,
)
from probflow.nn.training.streams import IterableStream

__all__ = ["GradientFitter", "get_fitter", "register_fitter"]

# Fitters that live in their own modules register themselves on import; they import
# this module, so they are loaded on first lookup rather than at import time.
_BUILTIN_FITTER_MODULES = ("mcmc_fitter", "sgmcmc_fitter", "ensemble_fitter")


def _check_int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"`{name}` must be an int >= {minimum}; got {value!r}")


def ensure_head_params(model, key_init) -> None:
    """Initialises the likelihood heads' parameters when the model has none."""
    if model.head_params is None:
        model.head_params = [h.init(jax.random.fold_in(key_init, 10_000 + i))
                             for i, h in enumerate(model.heads)]


def ensure_train_state(model, key_init, key_train, *, posterior):
    """Starts the layer-backed run of a vi/map fit, or continues the current one.

    Unbuilt layers are built from `key_init` (built ones keep their weights). A run
    that continues keeps its optimizer state and counters and takes `key_train`; when
    the frozen layers changed since, its optimizer state is made afresh for the new
    trainable set, keeping the current learning rate.
    """
    model.build_variables(key_init)
    ensure_head_params(model, key_init)
    frozen = model.frozen_layer_names
    run = model.training_run
    state = model.train_state
    if state is not None and run["kind"] == "gradient" and run["layer_backed"]:
        if run["frozen"] != frozen:
            rate = get_learning_rate(state.opt_state)
            opt_state = model.optimizer.init(split_trainable(state.params, frozen)[0])
            if rate is not None:
                opt_state = set_learning_rate(opt_state, rate)
            state = state._replace(opt_state=opt_state)
        state = state._replace(key=key_train)
    else:
        state = new_train_state(model.params, model.layer_state, model.optimizer, key_train,
                                kl_weight=model.initial_kl_weight, frozen=frozen)
    model.begin_training(state, kind="gradient", layer_backed=True, frozen=frozen,
                         posterior=posterior)


class GradientFitter:
    """Fits by minimising an `Objective` with the compiled optax loop.

    Args:
        objective: `VI()` or `MAP()`.

    Method options of ``model.fit``: ``distribution`` (a
    `probflow.distribute.DataParallel`) or ``mesh`` (a `jax.sharding.Mesh`) to split
    each batch over devices; the result equals a one-device fit up to float rounding.
    """

    options = ("distribution", "mesh")

    #: `fit` arguments about the data, passed to `inputs.training_data`.
    data_options = ("sample_weight", "class_weight", "steps_per_epoch", "num_train", "stream",
                    "validation_steps")

    def __init__(self, objective):
        self.objective = objective

    def programs(self, model):
        """The model's cached compiled programs for this objective and frozen layers."""
        return programs_for(model, self.objective)

    def start_run(self, model, key_init, key_train, num_train):
        """Builds or continues the run state; returns the posterior this fit makes."""
        kind = PointPosterior if self.objective.mean_weights else VariationalPosterior
        posterior = kind(self.objective.name, num_train)
        ensure_train_state(model, key_init, key_train, posterior=posterior)
        return posterior

    def fit(self, model, x, y, *, epochs, batch_size, validation_data, validation_split,
            shuffle, callbacks, seed, verbose, initial_epoch, validation_samples,
            distribution=None, mesh=None, **data_options):
        """Runs the epochs; `data_options` are `inputs.training_data`'s (sample_weight, ...)."""
        _check_int("epochs", epochs, 0)
        _check_int("batch_size", batch_size, 1)
        strategy = resolve_distribution(distribution, mesh)
        if strategy is not None:
            strategy.check_batch_size(batch_size)
            # Every process runs this loop; only the first one reports progress.
            verbose = verbose if jax.process_index() == 0 else 0
        _check_int("initial_epoch", initial_epoch, 0)
        _check_int("validation_samples", validation_samples, 1)
        if verbose not in (0, 1, 2):
            raise ValueError(f"`verbose` must be 0, 1 or 2; got {verbose!r}")
        validation_steps = data_options.pop("validation_steps", None)
        data = training_data(model, x, y, batch_size=batch_size,
                             validation_data=validation_data,
                             validation_split=validation_split, method=self.objective.name,
                             **data_options)
        if strategy is not None and isinstance(data.train, IterableStream):
            # Before anything compiles: a step's rows are split evenly over the devices.
            data.train.check_rows_split(strategy)
        key_init, key_train, key_val = jax.random.split(as_key(seed), 3)
        num_train = data.num_train
        posterior = self.start_run(model, key_init, key_train, num_train)

        history = History()
        cbs = list(callbacks or [])
        if verbose:
            cbs.append(ProgressBar(mode="bar" if verbose == 1 else "line"))
        # Last, as in Keras: it records the keys other callbacks add to the epoch's
        # logs (learning_rate, kl_weight).
        cbs.append(history)
        cb_list = CallbackList(cbs, model=model, params={
            "epochs": epochs, "steps": data.steps_per_epoch, "verbose": verbose,
            "batch_size": batch_size, "initial_epoch": initial_epoch, "method": self.objective.name,
        })
        model.history = history
        model.initial_epoch = initial_epoch
        programs = self.programs(model).for_distribution(strategy)
        train = data.train
        if isinstance(train, ArrayData):
            train = programs.place((train.xs, train.ys, train.weights))
        run_epochs(model, programs, train, data.validation, epochs=epochs,
                   batch_size=batch_size, shuffle=shuffle, callbacks=cb_list,
                   validation_samples=validation_samples, val_key=key_val,
                   num_train=num_train, validation_steps=validation_steps)
        return history, self.finish(model, posterior, num_train)

    def finish(self, model, posterior, num_train):
        """The fitted posterior once the epochs ran (subclasses: their draws)."""
        del model, num_train
        return posterior


_FITTERS = {"vi": GradientFitter(VI()), "map": GradientFitter(MAP())}


def register_fitter(name: str, fitter) -> None:
    """Makes ``model.fit(..., method=name)`` use `fitter` (an object with `fit`).

    Example:
        >>> class Dummy:
        ...     def fit(self, model, x, y, **options):
        ...         return None
        >>> register_fitter("dummy", Dummy())
        >>> type(get_fitter("dummy")).__name__
        'Dummy'
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"`name` must be a non-empty str; got {name!r}")
    if not callable(getattr(fitter, "fit", None)):
        raise TypeError(f"`fitter` must have a fit method; got {type(fitter).__name__}")
    _FITTERS[name.lower()] = fitter


def get_fitter(method):
    """The fitter registered for `method` (``"vi"``, ``"map"``, ...)."""
    if not isinstance(method, str):
        raise TypeError(f"`method` must be a str; got {type(method).__name__}")
    for module in _BUILTIN_FITTER_MODULES:
        importlib.import_module(f"probflow.nn.training.{module}")
    fitter = _FITTERS.get(method.lower())
    if fitter is not None:
        return fitter
    raise ValueError(f"`method` must be one of {sorted(_FITTERS)}; got {method!r}")
