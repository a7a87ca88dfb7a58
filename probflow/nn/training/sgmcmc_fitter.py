"""``fit(method="sgld" | "psgld" | "sghmc")``: stochastic-gradient MCMC over epochs.

The sampler runs in the same compiled epoch loop as VI training (`GradientFitter`'s
loop, callbacks included): each minibatch step is one kernel step of
`probflow.inference.sgmcmc` on the minibatch log posterior
``log p(w) + (N / b) * sum_batch log p(y | x, w)`` (b = the unmasked rows). The step
size, whether a step injects noise (cyclical SG-MCMC explores without it) and which
steps are kept as draws (burn-in, thinning) are tables over the global step, computed
on the host and carried in the train state; kept draws go into a preallocated buffer
in the state, so an epoch stays one `lax.scan` with no host sync.

Several chains run at once, as an ensemble's members do: positions are stacked along a
leading chain axis and each step vmaps the kernel over chains (chain c starts from the
initialisation drawn with ``fold_in(key, c)`` and steps with ``fold_in(step key, c)``,
so chain 0 of a k-chain fit is the 1-chain fit). All chains see the same minibatch
sequence. Chains from separate initialisations cover separate modes, which one chain
of a network posterior does not leave in any affordable run: on digits, pooling 4-20
chains is what brings SGHMC's test NLL below MAP's (benchmarks/README.md).

`model.train_state.params` holds the chains' current positions in weight space
(``{"layers": weights, "likelihood": head params}``, leaves ``[chain, ...]``; frozen
layers are not sampled and enter as fixed weights); after the fit the kept draws are
the model's posterior (a `fitted.DrawsPosterior`, leaves ``[chain, draw, ...]``),
pooled by `predict` / `evaluate` / `posterior_samples`, with their chains kept in
`to_arviz`.

References: Welling & Teh (2011); Li et al. (2016); Chen, Fox & Guestrin (2014);
Springenberg et al. (2016) for scale-adapted SGHMC; Zhang et al. (2020) for cyclical
SG-MCMC.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from probflow._seed import as_key
from probflow.inference import sgmcmc
from probflow.nn.training.fitted import DrawsPosterior, WeightDraws
from probflow.nn.training.fitters import (
    GradientFitter,
    _check_int,
    ensure_head_params,
    register_fitter,
)
from probflow.nn.training.inputs import training_data
from probflow.nn.training.objectives import (
    Objective,
    metric_stats,
    needs_interval,
    predictions,
    weighted_mask,
)
from probflow.nn.training.posterior import stack_draws
from probflow.nn.training.predict import evaluate_arrays
from probflow.nn.training.programs import GradientPrograms, programs_for
from probflow.nn.training.state import new_train_state
from probflow.nn.training.weights_target import (
    fixed_weights,
    initial_weights,
    layers_log_prior,
    log_likelihood,
    log_prior,
    network_outputs,
)

__all__ = ["DEFAULT_FRICTION", "SGMCMCFitter", "SamplerCarry", "default_step_size",
           "step_tables"]

# Default step sizes. SGLD and plain SGHMC step on the summed log posterior, whose
# gradient grows with n_train, so their steps are base / n_train: a learning rate of
# about 0.05 on the mean loss for SGLD (step_size * N / 2) and an effective
# momentum-SGD rate of 0.1 for SGHMC (step_size * N / friction, friction 0.05). pSGLD
# and scale-adapted SGHMC divide the gradient by its RMS, which already carries the
# factor n_train, so their steps are absolute (RMSprop's scale for pSGLD; dividing it
# by n_train too left a network at its initialisation). Scale-adapted SGHMC's 3e-3
# (the paper's epsilon ~0.055) was the best of 1e-3 / 3e-3 / 1e-2 on digits and lands
# within 0.35 NUTS sd of the posterior mean on the 50-point regression of
# tests/nn/test_methods.py after 150 epochs, where plain SGHMC's 0.3 / n (which suits
# digits) blows up to 20-30x NUTS's spread: one absolute step fits both.
_BASE_STEP = {"sgld": 0.1, "psgld": 1e-3, "sghmc": 0.005, "adaptive_sghmc": 3e-3}
_PER_EXAMPLE_STEP = {"sgld": True, "psgld": False, "sghmc": True, "adaptive_sghmc": False}

# SGHMC's friction alpha (both forms): Springenberg et al.'s mdecay, and the kernels'
# default. On digits 0.05 beat 0.1 for scale-adapted SGHMC (test NLL 0.092 vs 0.095,
# 3 seeds x 20 chains).
DEFAULT_FRICTION = 0.05


def _kernel_name(method, adapt_mass):
    return "adaptive_sghmc" if method == "sghmc" and adapt_mass else method


def default_step_size(method, num_train, *, adapt_mass=True):
    """The step size `fit(method=...)` uses when none is given.

    Example:
        >>> default_step_size("sgld", 1000)
        0.0001
        >>> default_step_size("sghmc", 1000), default_step_size("sghmc", 1000, adapt_mass=False)
        (0.003, 5e-06)
    """
    name = _kernel_name(method, adapt_mass)
    return _BASE_STEP[name] / num_train if _PER_EXAMPLE_STEP[name] else _BASE_STEP[name]


class SamplerCarry(NamedTuple):
    """SG-MCMC state beyond the position (``train_state.opt_state`` of these fits).

    Attributes:
        kernel_state: the kernel's NamedTuple state.
        step_sizes: ``[total_steps]`` step size of each global step.
        noisy: ``[total_steps]`` whether the step injects noise (sampling stage).
        slots: ``[total_steps]`` draw-buffer slot the step's result goes to, or -1.
        draws: buffer of kept positions, leaves ``[chain, max_draws, ...]``.
        draw_logdensity: minibatch log posterior at each kept step, ``[chain, max_draws]``.
        draw_step_size: step size of each kept step, ``[max_draws]``.
    """

    kernel_state: Any
    step_sizes: Any
    noisy: Any
    slots: Any
    draws: Any
    draw_logdensity: Any
    draw_step_size: Any


def step_tables(total_steps, *, step_size, burn_in_steps, thin, num_cycles=None,
                exploration_ratio=0.5):
    """Host tables over the global step: ``(step_sizes, noisy, slots)``.

    Args:
        total_steps: steps of the whole fit.
        step_size: a float, or a schedule ``step -> step size`` (`sgmcmc.schedules`).
        burn_in_steps: steps discarded first.
        thin: keep one step in `thin` after burn-in (counting from its end).
        num_cycles: None for a plain run; an int for cyclical SG-MCMC (cosine step size,
            no noise and no draws in the first `exploration_ratio` of each cycle).
        exploration_ratio: fraction of each cycle spent exploring.

    Returns:
        numpy arrays ``step_sizes`` (float32), ``noisy`` (bool), ``slots`` (int32).

    Example:
        >>> sizes, noisy, slots = step_tables(6, step_size=0.1, burn_in_steps=2, thin=2)
        >>> slots.tolist()
        [-1, -1, -1, 0, -1, 1]
    """
    steps = np.arange(total_steps)
    if num_cycles is not None:
        if callable(step_size):
            raise ValueError("`step_size` must be a float with `num_cycles` (the cyclical "
                             f"schedule is built from it); got {step_size!r}")
        schedule = sgmcmc.schedules.cyclical(step_size, total_steps, num_cycles)
        sampling = sgmcmc.schedules.cyclical_is_sampling(total_steps, num_cycles,
                                                         exploration_ratio)
        noisy = np.asarray(jax.vmap(sampling)(jnp.asarray(steps)), bool)
    else:
        schedule = step_size if callable(step_size) else sgmcmc.schedules.constant(step_size)
        noisy = np.ones(total_steps, bool)
    sizes = np.asarray(jax.vmap(schedule)(jnp.asarray(steps)), np.float32)
    after = steps - burn_in_steps + 1
    kept = (after > 0) & (after % thin == 0) & noisy
    slots = np.where(kept, np.cumsum(kept) - 1, -1).astype(np.int32)
    return sizes, noisy, slots


class _Sampling(Objective):
    """Names and regulariser of an SG-MCMC fit (the loss is MAP's, at the position)."""

    mean_weights = False
    regulariser_name = "neg_log_prior"
    uses_kl_weight = False

    def __init__(self, name):
        self.name = name

    def regulariser(self, model, layer_params, key):
        del key
        return -layers_log_prior(model, layer_params)


class _SGMCMCPrograms(GradientPrograms):
    """`GradientPrograms` whose step is a kernel step instead of an optimizer step."""

    def __init__(self, model, objective, frozen, kernel):
        self.kernel = kernel
        super().__init__(model, objective, frozen)

    def fixed_arguments(self):
        return fixed_weights(self.model)

    def train_step(self, state, batch, num_train, fixed):
        model = self.model
        xs, ys, mask, sample_weights = batch
        ll_weights = weighted_mask(mask, sample_weights)
        key, key_step, key_metric = jax.random.split(state.key, 3)
        carry = state.opt_state
        index = jnp.minimum(state.step, carry.step_sizes.shape[0] - 1)
        count = jnp.maximum(jnp.sum(mask), 1.0)
        num_chains = jax.tree_util.tree_leaves(state.params)[0].shape[0]

        def logdensity(weights, unused_batch):
            del unused_batch
            pointwise = log_likelihood(model, weights, state.layer_state, xs, ys, fixed)
            scaled = sum(w * jnp.sum(ll_weights * ll)
                         for w, ll in zip(model.loss_weights, pointwise)) * (num_train / count)
            return log_prior(model, weights) + scaled

        def chain_step(chain, kernel_state):
            # fold_in by chain index: chain c's noise does not depend on how many chains
            # run beside it, so chain 0 of a k-chain fit is the 1-chain fit.
            return self.kernel.step(jax.random.fold_in(key_step, chain), kernel_state, None,
                                    logdensity, carry.step_sizes[index],
                                    add_noise=carry.noisy[index])

        # The position lives in `params` (callbacks may replace it); keep the kernel in step.
        kernel_state = carry.kernel_state._replace(position=state.params)
        kernel_state, info = jax.vmap(chain_step)(jnp.arange(num_chains), kernel_state)
        slot = carry.slots[index]
        safe, keep = jnp.maximum(slot, 0), slot >= 0

        def store(buffer, value):  # buffer [chain, max_draws, ...], value [chain, ...]
            return buffer.at[:, safe].set(jnp.where(keep, value, buffer[:, safe]))

        carry = carry._replace(
            kernel_state=kernel_state,
            draws=jax.tree_util.tree_map(store, carry.draws, kernel_state.position),
            draw_logdensity=store(carry.draw_logdensity, info.logdensity),
            draw_step_size=carry.draw_step_size.at[safe].set(
                jnp.where(keep, carry.step_sizes[index], carry.draw_step_size[safe])),
        )

        # Logs of the pre-step positions (the forward pass XLA shares with the gradient),
        # averaged over chains as an ensemble's are over members.
        def chain_logs(weights, chain_key):
            outputs = network_outputs(model, weights, state.layer_state, xs, fixed)
            pointwise = log_likelihood(model, weights, state.layer_state, xs, ys, fixed)
            nll = -sum(jnp.sum(ll_weights * ll) for ll in pointwise) / count
            neg_log_prior = -log_prior(model, weights)
            _, preds = predictions(model, weights["likelihood"], [o[None] for o in outputs],
                                   ys, chain_key, need_interval=needs_interval(model))
            return nll, neg_log_prior, metric_stats(model, ys, preds, mask, sample_weights)

        nll, neg_log_prior, stats = jax.vmap(chain_logs)(
            state.params, jax.random.split(key_metric, num_chains))
        logs = {"loss": jnp.mean(nll + neg_log_prior / num_train),
                "neg_log_prior": jnp.mean(neg_log_prior), "count": jnp.sum(mask),
                # Summed over chains: the metrics come out as chain means.
                "stats": jax.tree_util.tree_map(lambda a: jnp.sum(a, axis=0), stats)}
        new_state = state._replace(params=kernel_state.position, opt_state=carry, key=key,
                                   step=state.step + 1)
        return new_state, logs

    def evaluate(self, state, data, key, *, num_samples, batch_size, num_train, steps=None,
                 hooks=None):
        """Validation logs at the chains' current positions (one draw per chain)."""
        del num_samples, num_train
        num_chains = jax.tree_util.tree_leaves(state.params)[0].shape[0]
        weights = jax.tree_util.tree_map(lambda a: a[:, None], state.params)
        layer_state = jax.tree_util.tree_map(
            lambda a: jnp.broadcast_to(a, (num_chains, 1) + jnp.shape(a)), state.layer_state)
        return evaluate_arrays(self.model, data, num_samples=num_chains,
                               batch_size=batch_size, seed=key, steps=steps,
                               draws=WeightDraws(weights, layer_state),
                               fixed=self.fixed_arguments(), hooks=hooks)


def _kernel(method, friction, temperature, adapt_mass, num_adapt_steps):
    name = _kernel_name(method, adapt_mass)
    if name == "adaptive_sghmc":
        return sgmcmc.adaptive_sghmc(friction=friction, temperature=temperature,
                                     num_adapt_steps=num_adapt_steps)
    if name == "sghmc":
        return sgmcmc.sghmc(friction=friction, temperature=temperature)
    if name == "psgld":
        return sgmcmc.psgld(temperature=temperature)
    return sgmcmc.sgld(temperature=temperature)


def _initial_chains(model, key, num_chains):
    """Stacked starting positions (chain c from ``fold_in(key, c)``) and the layer state."""
    starts = [initial_weights(model, jax.random.fold_in(key, c)) for c in range(num_chains)]
    weights = jax.tree_util.tree_map(lambda *a: jnp.stack(a), *[w for w, _ in starts])
    # SG-MCMC never updates the layer state (inference mode): one copy serves every chain.
    return weights, starts[0][1]


class SGMCMCFitter(GradientFitter):
    """Fits a network by SGLD, pSGLD or SGHMC over epochs of minibatches, k chains at once.

    Args:
        method: ``"sgld"``, ``"psgld"`` or ``"sghmc"``.

    Method options of ``model.fit(..., method=method, **options)``:

    * ``num_chains`` (4): independent chains, each from its own initialisation, vmapped
      in one compiled program; their draws are pooled by `predict`, `evaluate` and
      `posterior_samples`. The draw buffer holds ``num_chains * draws`` copies of the
      weights: thin more (or fewer chains) for large networks.
    * ``adapt_mass`` (SGHMC only; default True): scale-adapted SGHMC (Springenberg et al.
      2016, `sgmcmc.adaptive_sghmc`), whose per-weight mass makes one absolute step
      size fit networks of any data size. The mass adapts with the paper's window in
      the first half of burn-in and averages over all steps after it, so the chains
      settle under a near-fixed mass before draws are kept. False runs plain SGHMC
      (unit mass).
    * ``step_size``: a float or a schedule ``step -> size``; default
      `default_step_size` (3e-3 for scale-adapted SGHMC, 0.005 / n_train for plain
      SGHMC, 0.1 / n_train for SGLD, 1e-3 for pSGLD).
    * ``burn_in`` (epochs discarded; default half of `epochs`), ``thin`` (steps between
      kept draws; default one draw per epoch).
    * ``num_cycles`` (cyclical SG-MCMC, Zhang et al. 2020), ``exploration_ratio`` (0.5).
    * ``friction`` (SGHMC's alpha, `DEFAULT_FRICTION` = 0.05) and ``temperature``
      (1.0: the posterior itself; below 1 a cold posterior, Wenzel et al. 2020).
    * ``distribution`` / ``mesh`` split each minibatch over devices
      (`probflow.distribute.DataParallel`).

    Example:
        >>> import numpy as np
        >>> from probflow import nn
        >>> model = nn.Sequential([nn.Dense(4, activation="tanh"), nn.Dense(1)])
        >>> model.compile(likelihood="normal")
        >>> x = np.linspace(-1, 1, 32, dtype="float32")[:, None]
        >>> _ = model.fit(x, np.sin(3 * x[:, 0]), epochs=4, batch_size=8,
        ...               method="sghmc", num_chains=2, verbose=0)
        >>> model.posterior_samples(4)["layers"][model.layers[0].name]["kernel"].shape
        (4, 1, 4)
    """

    options = ("num_chains", "step_size", "burn_in", "thin", "num_cycles", "exploration_ratio",
               "friction", "temperature", "adapt_mass", "distribution", "mesh")

    def __init__(self, method):
        super().__init__(_Sampling(method))
        self.method = method
        self._settings = None

    def programs(self, model):
        kernel = _kernel(self.method, *self._settings)

        def factory(model, objective, frozen):
            return _SGMCMCPrograms(model, objective, frozen, kernel)

        # One cached program set per method and settings (and frozen layers).
        return programs_for(model, self.objective, factory=factory,
                            variant=("sgmcmc", self.method) + self._settings)

    def fit(self, model, x, y, *, epochs, batch_size, validation_data, validation_split,
            shuffle, callbacks, seed, verbose, initial_epoch, validation_samples,
            num_chains=4, step_size=None, burn_in=None, thin=None, num_cycles=None,
            exploration_ratio=0.5, friction=DEFAULT_FRICTION, temperature=1.0,
            adapt_mass=None, distribution=None, mesh=None, **data_options):
        _check_int("epochs", epochs, 1)
        _check_int("batch_size", batch_size, 1)
        _check_int("num_chains", num_chains, 1)
        validation_steps = data_options.pop("validation_steps", None)
        data = training_data(model, x, y, batch_size=batch_size,
                             validation_data=validation_data,
                             validation_split=validation_split, method=self.method,
                             **data_options)
        num_train = data.num_train
        steps_per_epoch = data.steps_per_epoch
        if steps_per_epoch is None:
            raise ValueError(
                f"method={self.method!r} lays out its step sizes and kept draws over "
                "epochs * steps_per_epoch steps: pass steps_per_epoch= with an iterable "
                "without len()")
        burn_in = epochs // 2 if burn_in is None else burn_in
        _check_int("burn_in", burn_in, 0)
        if burn_in >= epochs:
            raise ValueError(f"`burn_in` (epochs) must be < epochs={epochs}; got {burn_in}")
        thin = steps_per_epoch if thin is None else thin
        _check_int("thin", thin, 1)
        if adapt_mass and self.method != "sghmc":
            raise ValueError(f"`adapt_mass` applies to method='sghmc' only; got "
                             f"adapt_mass={adapt_mass!r} with method={self.method!r}")
        adapt_mass = self.method == "sghmc" and (adapt_mass is None or bool(adapt_mass))
        if step_size is None:
            step_size = default_step_size(self.method, num_train, adapt_mass=adapt_mass)
        elif not callable(step_size) and not float(step_size) > 0:
            raise ValueError(f"`step_size` must be > 0 or a schedule; got {step_size!r}")
        if num_cycles is not None:
            _check_int("num_cycles", num_cycles, 1)
        # The mass adapts with the paper's window in the first half of burn-in, then
        # averages over all steps (see `sgmcmc.adaptive_sghmc`); the second half lets the
        # chains settle under the slowly moving mass before draws are kept.
        self._settings = (float(friction), float(temperature), adapt_mass,
                          burn_in * steps_per_epoch // 2 if adapt_mass else None)

        frozen = model.frozen_layer_names
        run = model.training_run
        resume = (initial_epoch > 0 and model.train_state is not None
                  and run["kind"] == self.method and run["frozen"] == frozen
                  and isinstance(model.train_state.opt_state, SamplerCarry))
        if not resume:
            sizes, noisy, slots = step_tables(
                epochs * steps_per_epoch, step_size=step_size,
                burn_in_steps=burn_in * steps_per_epoch, thin=thin, num_cycles=num_cycles,
                exploration_ratio=exploration_ratio)
            max_draws = int(slots.max()) + 1
            if max_draws < 1:
                raise ValueError(
                    f"no draws would be kept: {epochs} epochs of {steps_per_epoch} steps with "
                    f"burn_in={burn_in} epochs and thin={thin} steps; fit longer or thin less")
            key_init, key_train, _ = jax.random.split(as_key(seed), 3)
            ensure_head_params(model, key_init)
            # Unbuilt layers get chain 0's initialisation (their state is what chains run with).
            model.build_variables(jax.random.fold_in(key_init, 0))
            weights, layer_state = _initial_chains(model, key_init, num_chains)
            kernel = _kernel(self.method, *self._settings)
            dtype = jnp.result_type(float)
            carry = SamplerCarry(
                jax.vmap(kernel.init)(weights), jnp.asarray(sizes, dtype), jnp.asarray(noisy),
                jnp.asarray(slots),
                jax.tree_util.tree_map(
                    lambda a: jnp.zeros((num_chains, max_draws) + a.shape[1:], a.dtype),
                    weights),
                jnp.zeros((num_chains, max_draws), dtype), jnp.zeros(max_draws, dtype))
            state = new_train_state(weights, layer_state, _NoOptimizer, key_train)
            model.begin_training(state._replace(opt_state=carry), kind=self.method,
                                 layer_backed=False, frozen=frozen)
        return super().fit(
            model, data, None, epochs=epochs, batch_size=batch_size,
            validation_data=validation_data, validation_split=validation_split, shuffle=shuffle,
            callbacks=callbacks, seed=seed, verbose=verbose, initial_epoch=initial_epoch,
            validation_samples=validation_samples, distribution=distribution, mesh=mesh,
            validation_steps=validation_steps)

    def start_run(self, model, key_init, key_train, num_train):
        # The chains' run was set up in `fit`; the loop continues it as it is.
        del key_init, num_train
        model.train_state = model.train_state._replace(key=key_train)

    def finish(self, model, posterior, num_train):
        """The kept draws of every chain as the fitted posterior."""
        del posterior
        state = model.train_state
        carry = state.opt_state
        done = int(state.step)
        num_draws = int(np.sum(np.asarray(carry.slots)[:done] >= 0))
        if num_draws == 0:
            raise ValueError(f"the fit stopped after {done} steps, before the first kept draw "
                             "(burn-in); no posterior draws were collected")
        chains = jax.tree_util.tree_leaves(state.params)[0].shape[0]

        def first(a):
            return a[:, :num_draws]

        stats = {"lp": first(carry.draw_logdensity),
                 "step_size": jnp.broadcast_to(carry.draw_step_size[:num_draws],
                                               (chains, num_draws))}
        return DrawsPosterior(
            self.method, num_train,
            stack_draws(jax.tree_util.tree_map(first, carry.draws), state.layer_state),
            fixed_weights(model), {k: np.asarray(v) for k, v in stats.items()})


class _NoOptimizerType:
    """Stands in for optax at state creation: SG-MCMC has no optimizer state."""

    @staticmethod
    def init(params):
        del params
        return ()


_NoOptimizer = _NoOptimizerType()

for _name in ("sgld", "psgld", "sghmc"):
    register_fitter(_name, SGMCMCFitter(_name))
