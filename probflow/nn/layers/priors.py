"""Weight priors: the default Normal(0, 1) and argument checking.

Any probflow distribution with a scalar event can be a weight prior (a Normal, a
Laplace, a scale mixture, ...): it is evaluated elementwise on the weights.

Example:
    >>> default_prior()
    Normal(batch_shape=(), event_shape=())
"""

from __future__ import annotations

__all__ = ["default_prior", "check_prior"]


def default_prior():
    """The default weight prior, Normal(0, 1)."""
    from probflow.distributions import Normal

    return Normal(0.0, 1.0)


def check_prior(prior, argument: str, owner: str):
    """Returns `prior` (or the default when None) after checking it is a distribution."""
    from probflow.distributions import Distribution

    if prior is None:
        return default_prior()
    if not isinstance(prior, Distribution):
        raise TypeError(
            f"{owner}: `{argument}` must be a probflow Distribution (e.g. "
            f"dist.Normal(0.0, 1.0)); got {type(prior).__name__}"
        )
    if prior.event_shape != ():
        raise ValueError(
            f"{owner}: `{argument}` must have a scalar event (it is applied to each "
            f"weight); got event_shape {prior.event_shape}"
        )
    return prior
