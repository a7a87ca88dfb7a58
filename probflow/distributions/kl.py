"""KL divergence with a registry of analytic pairs.

Families register their analytic pairs at the bottom of their own file::

    @register_kl(Normal, Normal)
    def _kl_normal_normal(p, q): ...

`kl_divergence(p, q)` dispatches on the most specific registered pair along both
classes' MROs.
"""

from __future__ import annotations

__all__ = ["kl_divergence", "register_kl"]

_KL_REGISTRY: dict = {}


def register_kl(type_p, type_q):
    """Decorator registering an analytic ``KL(p || q)`` for a pair of types.

    Args:
        type_p: class of the first argument.
        type_q: class of the second argument.

    Returns:
        The decorator; the decorated function takes ``(p, q)`` and returns an array of
        the broadcast batch shape.

    Example:
        >>> from probflow.distributions import Normal, kl_divergence
        >>> class Shifted(Normal):  # a new family (registering Normal itself would
        ...     pass                 # replace the analytic Normal-Normal KL for the process)
        >>> @register_kl(Shifted, Normal)
        ... def _kl(p, q):
        ...     return kl_divergence(Normal(p.loc, p.scale), q)
        >>> float(kl_divergence(Shifted(0.0, 1.0), Normal(0.0, 1.0)))
        0.0
    """

    def decorator(fn):
        _KL_REGISTRY[(type_p, type_q)] = fn
        return fn

    return decorator


def _lookup(type_p, type_q):
    best, best_rank = None, None
    for i, sp in enumerate(type_p.__mro__):
        for j, sq in enumerate(type_q.__mro__):
            fn = _KL_REGISTRY.get((sp, sq))
            if fn is not None and (best_rank is None or i + j < best_rank):
                best, best_rank = fn, i + j
    return best


def kl_divergence(p, q):
    """KL(p || q), analytic where a pair is registered.

    Args:
        p: a distribution.
        q: a distribution with the same event shape.

    Returns:
        Array of shape ``broadcast(p.batch_shape, q.batch_shape)``.

    Raises:
        NotImplementedError: when no analytic pair is registered (estimate it by Monte
            Carlo with ``p.sample`` and ``log_prob`` instead).

    Example:
        >>> from probflow.distributions import Normal, kl_divergence
        >>> float(kl_divergence(Normal(0.0, 1.0), Normal(0.0, 1.0)))
        0.0
    """
    fn = _lookup(type(p), type(q))
    if fn is None:
        raise NotImplementedError(
            f"no analytic KL registered for ({type(p).__name__}, {type(q).__name__}); "
            "register one with probflow.distributions.register_kl or use a Monte-Carlo estimate"
        )
    return fn(p, q)
