"""`fit`'s dispatcher: a method name -> a fitter object with ``fit(model, x, y, ...)``.

"vi" and "map" are `GradientFitter`s (one objective each, same compiled loop). MCMC and
SG-MCMC fitters ("nuts", "hmc", "sgld", "sghmc", "ensemble") plug in with
`register_fitter(name, fitter)`; each receives the same keyword arguments as
`Model.fit` and returns a `History`.
"""

from __future__ import annotations

import importlib

import jax

from probflow._seed import as_key
from probflow.distribute.data_parallel import resolve_distribution
from probflow.nn.callbacks.base import CallbackList
from probflow.nn.callbacks.history import History
from probflow.nn.callbacks.progress import ProgressBar
from probflow.nn.training.data import prepare_xy, split_validation
from probflow.nn.training.loop import run_epochs
from probflow.nn.training.objectives import MAP, VI
from probflow.nn.training.programs import GradientPrograms
from probflow.nn.training.state import new_train_state

__all__ = ["GradientFitter", "get_fitter", "register_fitter"]

# Fitters that live in their own modules register themselves on import; they import
# this module, so they are loaded on first lookup rather than at import time.
_BUILTIN_FITTER_MODULES = ("mcmc_fitter", "sgmcmc_fitter", "ensemble_fitter")


def _check_int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"`{name}` must be an int >= {minimum}; got {value!r}")


def ensure_train_state(model, key_init, key_train):
    """Creates `model.train_state` on first use; otherwise reseeds its RNG key."""
    if model.train_state is not None:
        model.train_state = model.train_state._replace(key=key_train)
        return
    carried = getattr(model, "_carried_weights", None)
    if carried is not None:
        layer_params, layer_state = carried
    else:
        layer_params, layer_state = model.init(key_init)
    head_params = [h.init(jax.random.fold_in(key_init, 10_000 + i))
                   for i, h in enumerate(model._heads)]
    params = {"layers": layer_params, "likelihood": head_params}
    model.train_state = new_train_state(params, layer_state, model._optimizer, key_train,
                                        kl_weight=model._kl_weight_init)
    model.built = True


class GradientFitter:
    """Fits by minimising an `Objective` with the compiled optax loop.

    Args:
        objective: `VI()` or `MAP()`.

    Method options of ``model.fit``: ``distribution`` (a
    `probflow.distribute.DataParallel`) or ``mesh`` (a `jax.sharding.Mesh`) to split
    each batch over devices; the result equals a one-device fit up to float rounding.
    """

    options = ("distribution", "mesh")

    def __init__(self, objective):
        self.objective = objective

    def programs(self, model) -> GradientPrograms:
        """The model's cached compiled programs for this objective."""
        cache = model._programs
        if self.objective.name not in cache:
            cache[self.objective.name] = GradientPrograms(model, self.objective)
        return cache[self.objective.name]

    def fit(self, model, x, y, *, epochs, batch_size, validation_data, validation_split,
            shuffle, callbacks, seed, verbose, initial_epoch, validation_samples,
            distribution=None, mesh=None):
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
        xs, ys = prepare_xy(model, x, y)
        (xs, ys), validation = split_validation(xs, ys, validation_split)
        if validation_data is not None:
            if not (isinstance(validation_data, (tuple, list)) and len(validation_data) == 2):
                raise ValueError("`validation_data` must be a tuple (x_val, y_val); got "
                                 f"{type(validation_data).__name__}")
            validation = prepare_xy(model, *validation_data, xname="validation_data[0]",
                                    yname="validation_data[1]")
        key_init, key_train, key_val = jax.random.split(as_key(seed), 3)
        ensure_train_state(model, key_init, key_train)
        model._fitted_method = self.objective.name
        model._mean_weights = self.objective.mean_weights
        model._num_train = xs[0].shape[0]

        history = History()
        cbs = list(callbacks or [])
        if verbose:
            cbs.append(ProgressBar(mode="bar" if verbose == 1 else "line"))
        # Last, as in Keras: it records the keys other callbacks add to the epoch's
        # logs (learning_rate, kl_weight).
        cbs.append(history)
        num_batches = -(-xs[0].shape[0] // batch_size)
        cb_list = CallbackList(cbs, model=model, params={
            "epochs": epochs, "steps": num_batches, "verbose": verbose,
            "batch_size": batch_size, "initial_epoch": initial_epoch, "method": self.objective.name,
        })
        model.history = history
        model.initial_epoch = initial_epoch
        programs = self.programs(model).for_distribution(strategy)
        device_data = programs.place((xs, ys))
        run_epochs(model, programs, device_data, validation, epochs=epochs,
                   batch_size=batch_size, shuffle=shuffle, callbacks=cb_list,
                   validation_samples=validation_samples, val_key=key_val)
        return history


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
