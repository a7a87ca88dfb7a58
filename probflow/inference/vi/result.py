"""`VIResult` (what `vi.fit` returns) and `VIPosterior` (the fitted guide, constrained).

`VIPosterior` is a probflow `Distribution` over the *constrained* parameters: the
family's guide on the flat unconstrained vector, unflattened to the target's structure
and pushed through the target's bijectors. Its `sample` returns a dict (the target's
structure) of constrained draws; its `log_prob` takes one constrained position and
includes the change of variables. `posterior.unconstrained` is the guide itself (a
`GuideDistribution` with event shape ``[d]``).
"""

from __future__ import annotations

from functools import partial

import jax
import numpy as np
from jax.flatten_util import ravel_pytree

from probflow.distributions.distribution import Distribution
from probflow.inference.vi._loop import flat_logdensity
from probflow.inference.vi.elbo import negative_elbo

__all__ = ["VIPosterior", "VIResult"]


@partial(jax.jit, static_argnames=("family", "num_samples"))
def _draw(key, target, params, *, family, num_samples):
    z = family.sample(key, params, num_samples)
    _, unravel = ravel_pytree(target.example)
    return target.constrain(jax.vmap(unravel)(z))


@partial(jax.jit, static_argnames=("family", "num_particles"))
def _elbo(key, target, params, *, family, num_particles):
    return -negative_elbo(key, params, family, flat_logdensity(target), num_particles=num_particles)


class VIPosterior(Distribution):
    """The fitted guide as a distribution over the target's constrained parameters.

    Args:
        target: the `Target` that was fitted.
        family: the `Family` (static).
        params: the fitted family parameters.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from probflow.inference import Target, vi
        >>> t = Target.from_logdensity(lambda p: -0.5 * jnp.sum(p["x"] ** 2), {"x": jnp.zeros(2)})
        >>> post = vi.fit(t, num_steps=10, progress_bar=False).posterior
        >>> post.sample(jax.random.key(0), (5,))["x"].shape
        (5, 2)
    """

    def __init__(self, target, family, params):
        self.target = target
        self.family = family
        self.params = params
        self._validate(False)

    @property
    def unconstrained(self):
        """The guide over the flat unconstrained vector (a `GuideDistribution`)."""
        return self.family.distribution(self.params)

    @property
    def dtype(self):
        return jax.tree_util.tree_leaves(self.params)[0].dtype

    def _sample(self, key, sample_shape):
        n = 1
        for s in sample_shape:
            n *= s
        draws = _draw(key, self.target, self.params, family=self.family, num_samples=n)
        return jax.tree_util.tree_map(lambda x: x.reshape(sample_shape + x.shape[1:]), draws)

    def log_prob(self, values):
        """Log density of ONE constrained position `values` (a pytree like the target's).

        ``log q(unconstrain(values)) - log|det d constrain / dz|``. For a batch of
        positions, `jax.vmap` it.
        """
        z = self.target.unconstrain(values)
        _, log_det = self.target.constrain_with_log_det(z)
        flat, _ = ravel_pytree(z)
        return self.family.log_prob(self.params, flat[None])[0] - log_det

    def __repr__(self):
        return f"VIPosterior(family={self.family!r}, target={self.target!r})"


class VIResult:
    """The outcome of `vi.fit`.

    Attributes:
        posterior: `VIPosterior`, the fitted guide over constrained parameters.
        params: the family's fitted parameters (last finite ones).
        losses: NumPy array of the negative-ELBO estimate at each step run.
        family: the `Family` used.
        target: the `Target` fitted.
        stop_reason: why the fit stopped (``"num_steps reached"``, a callback's reason).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from probflow.inference import Target, vi
        >>> t = Target.from_logdensity(lambda x: -0.5 * x @ x, jnp.zeros(2))
        >>> result = vi.fit(t, num_steps=20, progress_bar=False)
        >>> result.losses.shape, result.sample(jax.random.key(0), 3).shape
        ((20,), (3, 2))
    """

    def __init__(self, target, family, params, losses, stop_reason):
        self.target = target
        self.family = family
        self.params = params
        self.losses = np.asarray(losses)
        self.stop_reason = stop_reason
        self.posterior = VIPosterior(target, family, params)

    def sample(self, key, n: int):
        """Draws `n` constrained positions: the target's structure with leading ``[n]``."""
        if not (isinstance(n, (int, np.integer)) and n >= 1):
            raise ValueError(f"`n` must be an int >= 1; got {n!r}")
        return _draw(key, self.target, self.params, family=self.family, num_samples=int(n))

    def elbo(self, key, num_particles: int = 1000):
        """A Monte-Carlo estimate of the ELBO at the fitted parameters.

        Args:
            key: a `jax.random` key.
            num_particles: number of draws averaged.

        Returns:
            A scalar array.
        """
        return _elbo(key, self.target, self.params, family=self.family, num_particles=int(num_particles))

    def to_arviz(self, num_samples: int = 1000, seed=0):
        """An ArviZ InferenceData of `num_samples` draws, as one chain.

        Includes `observed_data` and `log_likelihood` when the target has them.

        Args:
            num_samples: number of draws.
            seed: int or key for the draws.

        Returns:
            `arviz.InferenceData`.
        """
        from probflow._seed import as_key
        from probflow.inference.arviz import to_inference_data

        draws = self.sample(as_key(seed), num_samples)
        named = draws if isinstance(draws, dict) else {"x": draws}
        posterior = {name: np.asarray(value)[None] for name, value in named.items()}
        log_likelihood = None
        if getattr(self.target, "log_likelihood_fn", None) is not None:
            pointwise = jax.vmap(self.target.log_likelihood)(draws)
            log_likelihood = {k: np.asarray(v)[None] for k, v in pointwise.items()}
        observed = getattr(self.target, "observed", None)
        return to_inference_data(
            posterior=posterior,
            observed_data=observed,
            log_likelihood=log_likelihood,
        )

    def summary(self, num_samples: int = 1000, seed=0, **kwargs):
        """ArviZ summary statistics (mean, sd, HDI) of `num_samples` guide draws.

        Convergence diagnostics (R-hat, ESS) are left out: VI draws are independent.
        Extra keyword arguments go to `arviz.summary`.
        """
        import arviz as az

        kwargs.setdefault("kind", "stats")
        return az.summary(self.to_arviz(num_samples, seed), **kwargs)

    def __repr__(self):
        last = self.losses[-1] if self.losses.size else float("nan")
        return (
            f"VIResult(family={self.family!r}, steps={self.losses.size}, "
            f"final_loss={last:.4g}, stop_reason={self.stop_reason!r})"
        )
