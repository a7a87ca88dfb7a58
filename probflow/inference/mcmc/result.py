"""`MCMCResult`: draws in constrained space, per-draw statistics, ArviZ export."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["MCMCResult"]


class MCMCResult:
    """The outcome of `sample()`.

    Attributes:
        samples: dict name -> array ``[chain, draw, ...]`` in constrained space.
        stats: dict of ``[chain, draw]`` arrays: diverging, energy, tree_depth, n_steps,
            acceptance_rate, step_size, lp (unconstrained log density, Jacobian included).
        step_size: adapted step size per chain, ``[chain]``.
        inverse_mass_matrix: adapted inverse mass matrix per chain, ``[chain, d]`` or
            ``[chain, d, d]`` (over the flattened unconstrained position).
        warmup_stats: dict of ``[chain]`` arrays: ``n_steps``, the leapfrog steps (=
            gradient evaluations) spent in warmup transitions, so that
            ``warmup_stats["n_steps"] + stats["n_steps"].sum(1)`` is a chain's gradient
            budget (Stan's step-size searches at window ends, ~10 each, excluded).
        target: the `Target` that was sampled.
        unconstrained: flat unconstrained draws ``[chain, draw, d]``.

    Example:
        >>> import jax.numpy as jnp
        >>> from probflow.inference import sample
        >>> r = sample(lambda x: -0.5 * x @ x, jnp.zeros(2), num_warmup=50, num_samples=50,
        ...            num_chains=2, progress_bar=False, check_convergence=False)
        >>> sorted(r.stats)[:3], r.step_size.shape
        (['acceptance_rate', 'diverging', 'energy'], (2,))
    """

    def __init__(self, target, samples, stats, step_size, inverse_mass_matrix, unconstrained,
                 warmup_stats=None):
        self.target = target
        self.warmup_stats = {} if warmup_stats is None else warmup_stats
        self.samples = samples
        self.stats = stats
        self.step_size = step_size
        self.inverse_mass_matrix = inverse_mass_matrix
        self.unconstrained = unconstrained

    @classmethod
    def from_run(cls, target, flat_draws, logdensity, infos, params, warmup_steps):
        """Builds the result from the compiled program's outputs."""
        samples, stats = _samples_and_stats(target, flat_draws, logdensity, infos,
                                            params.step_size)
        return cls(target, samples, stats, params.step_size, params.metric.inverse_mass_matrix,
                   flat_draws, {"n_steps": warmup_steps})

    @property
    def num_chains(self) -> int:
        return int(self.stats["lp"].shape[0])

    @property
    def num_samples(self) -> int:
        return int(self.stats["lp"].shape[1])

    def log_likelihood(self):
        """Pointwise log likelihood per draw: dict name -> ``[chain, draw, ...]``."""
        return _pointwise_log_likelihood(self.target, self.samples)

    def to_arviz(self, *, coords=None, dims=None):
        """ArviZ `InferenceData`: posterior, sample_stats, and when the target knows them,
        observed_data and log_likelihood (so `az.loo` works).

        Args:
            coords, dims: optional ArviZ coordinates; by default vector parameters get
                dims ``<name>_dim_<i>``.

        Returns:
            An `arviz.InferenceData`.
        """
        from probflow.inference.arviz import to_inference_data

        log_likelihood = None
        if getattr(self.target, "log_likelihood_fn", None) is not None:
            log_likelihood = self.log_likelihood()
        observed = getattr(self.target, "observed", None)
        return to_inference_data(
            posterior=self.samples, sample_stats=self.stats, observed_data=observed,
            log_likelihood=log_likelihood, coords=coords, dims=dims,
        )

    def summary(self, **kwargs):
        """`arviz.summary` of the posterior (mean, sd, hdi, mcse, ess, r_hat)."""
        import arviz as az

        return az.summary(self.to_arviz(), **kwargs)

    def __repr__(self):
        names = ", ".join(f"{k}{tuple(np.shape(v)[2:])}" for k, v in self.samples.items())
        return (f"MCMCResult(chains={self.num_chains}, draws={self.num_samples}, "
                f"divergences={int(np.sum(self.stats['diverging']))}, params=[{names}])")


@jax.jit
def _samples_and_stats(target, flat_draws, logdensity, infos, step_size):
    # One compiled call: as eager ops, the broadcast alone compiled two programs.
    _, unravel = jax.flatten_util.ravel_pytree(target.example)
    samples = _as_dict(target.constrain(jax.vmap(jax.vmap(unravel))(flat_draws)))
    stats = {
        "diverging": infos.diverging,
        "energy": infos.energy,
        "tree_depth": infos.tree_depth,
        "n_steps": infos.n_steps,
        "acceptance_rate": infos.acceptance_rate,
        "step_size": jnp.broadcast_to(step_size[:, None], logdensity.shape),
        "lp": logdensity,
    }
    return samples, stats


def _as_dict(values):
    if isinstance(values, dict):
        return dict(values)
    return {"x": values}


@functools.partial(jax.jit)
def _pointwise_log_likelihood(target, samples):
    values = samples if isinstance(target.example, dict) else samples["x"]
    return jax.vmap(jax.vmap(target.log_likelihood))(values)
