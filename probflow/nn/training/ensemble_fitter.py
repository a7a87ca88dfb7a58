"""``fit(method="ensemble", num_members=k)``: a deep ensemble of MAP fits, vmapped.

Lakshminarayanan et al. (2017): k copies of the network, each from its own random
initialisation, trained on the MAP objective (NLL + (-log prior) / n at posterior-mean
weights). The members are one stacked pytree (leading axis k) trained in the same
compiled epoch loop as VI: each step vmaps the member losses and takes one optimizer
step on their sum, which for element-wise optimizers (Adam, SGD, RMSprop, ...) is k
independent trainings on the same minibatch sequence. After the fit the members'
weights are the posterior draws (one chain of k draws), so predictions average the
members' predictive distributions.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from probflow._seed import as_key
from probflow.nn.training.fitted import DrawsPosterior, WeightDraws
from probflow.nn.training.fitters import (
    GradientFitter,
    _check_int,
    ensure_head_params,
    register_fitter,
)
from probflow.nn.training.inputs import training_data
from probflow.nn.training.objectives import (
    MAP,
    metric_stats,
    needs_interval,
    objective_terms,
    predictions,
)
from probflow.nn.training.predict import evaluate_arrays
from probflow.nn.training.programs import GradientPrograms, programs_for
from probflow.nn.training.state import new_train_state
from probflow.nn.training.weights_target import fixed_weights

__all__ = ["EnsembleFitter"]


class _Ensemble(MAP):
    name = "ensemble"


def _member_weights(model, layer_params):
    """Posterior-mean weights of the members' layers (stacked, leading axis k)."""
    def one(params):
        return {model.layer_name(layer): layer.mean_weights(params[model.layer_name(layer)])
                for layer in model.layers if model.layer_name(layer) in params}

    return jax.vmap(one)(layer_params)


class _EnsemblePrograms(GradientPrograms):
    """`GradientPrograms` over stacked members: vmapped losses, one optimizer step.

    The members stack only the trainable layers; the frozen layers' params are one
    copy shared by all, read from the layers before each call (`fixed_arguments`).
    """

    def fixed_arguments(self):
        return {self.model.layer_name(layer): layer.params for layer in self.model.layers
                if self.model.layer_name(layer) in self.frozen}

    def train_step(self, state, batch, num_train, fixed):
        model, objective = self.model, self.objective
        xs, ys, mask, weights = batch
        key, key_step, key_metric = jax.random.split(state.key, 3)
        num_members = jax.tree_util.tree_leaves(state.params)[0].shape[0]
        member_keys = jax.random.split(key_step, num_members)

        def total_loss(params):
            def member(p, layer_state, k):
                merged = {**p, "layers": {**p["layers"], **fixed}}
                return objective_terms(objective, model, merged, layer_state, xs, ys, mask, k,
                                       state.kl_weight, num_train, frozen=self.frozen,
                                       weights=weights)

            losses, aux = jax.vmap(member)(params, state.layer_state, member_keys)
            return jnp.sum(losses), (losses, aux)

        (_, (losses, (_, reg, outputs, layer_state))), grads = jax.value_and_grad(
            total_loss, has_aux=True)(state.params)
        updates, opt_state = model.optimizer.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)

        def member_stats(head_params, member_outputs, k):
            _, preds = predictions(model, head_params, [o[None] for o in member_outputs], ys,
                                   k, need_interval=needs_interval(model))
            return metric_stats(model, ys, preds, mask, weights)

        # Logs: member averages (summed stats over members give member-mean metrics).
        stats = jax.vmap(member_stats)(state.params["likelihood"], outputs,
                                       jax.random.split(key_metric, num_members))
        logs = {
            "loss": jnp.mean(losses),
            objective.regulariser_name: jnp.mean(reg),
            "count": jnp.sum(mask),
            "stats": jax.tree_util.tree_map(lambda a: jnp.sum(a, axis=0), stats),
        }
        new_state = state._replace(params=params, layer_state=layer_state, opt_state=opt_state,
                                   key=key, step=state.step + 1)
        return new_state, logs

    def evaluate(self, state, data, key, *, num_samples, batch_size, num_train, steps=None,
                 hooks=None):
        """Validation logs of the ensemble's predictive (``loss`` = mean member NLL)."""
        del num_samples, num_train
        draws = _draws(self.model, state)
        num_members = jax.tree_util.tree_leaves(state.params)[0].shape[0]
        return evaluate_arrays(self.model, data, num_samples=num_members,
                               batch_size=batch_size, seed=key, steps=steps, draws=draws,
                               fixed=fixed_weights(self.model), hooks=hooks)


def _draws(model, state) -> WeightDraws:
    weights = {"layers": _member_weights(model, state.params["layers"]),
               "likelihood": state.params["likelihood"]}
    return jax.tree_util.tree_map(lambda a: a[None], WeightDraws(weights, state.layer_state))


class EnsembleFitter(GradientFitter):
    """Fits a deep ensemble: ``model.fit(..., method="ensemble", num_members=5)``.

    All of `Model.fit`'s training arguments apply (epochs, batch_size, callbacks,
    validation); `model.train_state` holds the stacked members (leading axis
    `num_members`). ``distribution`` / ``mesh`` split each batch over devices (every
    member sees the whole batch; `probflow.distribute.DataParallel`).

    Example:
        >>> import numpy as np
        >>> from probflow import nn
        >>> model = nn.Sequential([nn.Dense(4, activation="tanh"), nn.Dense(1)])
        >>> model.compile(optimizer="adam", likelihood="normal")
        >>> x = np.linspace(-1, 1, 32, dtype="float32")[:, None]
        >>> _ = model.fit(x, np.sin(3 * x[:, 0]), epochs=2, method="ensemble",
        ...               num_members=3, verbose=0)
        >>> model.posterior_samples(3)["layers"][model.layers[0].name]["kernel"].shape
        (3, 1, 4)
    """

    options = ("num_members", "distribution", "mesh")

    def __init__(self):
        super().__init__(_Ensemble())

    def programs(self, model):
        return programs_for(model, self.objective, factory=_EnsemblePrograms)

    def fit(self, model, x, y, *, epochs, batch_size, validation_data, validation_split,
            shuffle, callbacks, seed, verbose, initial_epoch, validation_samples,
            num_members=5, distribution=None, mesh=None, **data_options):
        _check_int("num_members", num_members, 1)
        validation_steps = data_options.pop("validation_steps", None)
        # Prepared once (a generator is read once): builds the graph and the heads.
        data = training_data(model, x, y, batch_size=batch_size,
                             validation_data=validation_data,
                             validation_split=validation_split, method="ensemble",
                             **data_options)
        frozen = model.frozen_layer_names
        run = model.training_run
        resume = (initial_epoch > 0 and model.train_state is not None
                  and run["kind"] == "ensemble" and run["frozen"] == frozen)
        key_init, key_train, _ = jax.random.split(as_key(seed), 3)
        if not resume:
            model.build_variables(key_init)
            ensure_head_params(model, key_init)
            members = [model.init(jax.random.fold_in(key_init, m)) for m in range(num_members)]
            heads = [[h.init(jax.random.fold_in(jax.random.fold_in(key_init, m), 10_000 + i))
                      for i, h in enumerate(model.heads)] for m in range(num_members)]
            stack = jax.tree_util.tree_map(lambda *a: jnp.stack(a), *[
                ({"layers": {k: v for k, v in params.items() if k not in frozen},
                  "likelihood": head}, layer_state)
                for (params, layer_state), head in zip(members, heads)])
            state = new_train_state(stack[0], stack[1], model.optimizer, key_train,
                                    kl_weight=model.initial_kl_weight)
            model.begin_training(state, kind="ensemble", layer_backed=False, frozen=frozen)
        return super().fit(
            model, data, None, epochs=epochs, batch_size=batch_size,
            validation_data=validation_data, validation_split=validation_split, shuffle=shuffle,
            callbacks=callbacks, seed=seed, verbose=verbose, initial_epoch=initial_epoch,
            validation_samples=validation_samples, distribution=distribution, mesh=mesh,
            validation_steps=validation_steps)

    def start_run(self, model, key_init, key_train, num_train):
        # The members' run was set up in `fit`; the loop continues it as it is.
        del key_init, num_train
        model.train_state = model.train_state._replace(key=key_train)

    def finish(self, model, posterior, num_train):
        """The members as one chain of weight draws."""
        del posterior
        draws = _draws(model, model.train_state)
        return DrawsPosterior("ensemble", num_train, draws, fixed_weights(model), None)


register_fitter("ensemble", EnsembleFitter())
