"""`for_constraint`: the bijector from unconstrained space onto a constraint's set.

The choices follow Stan, so unconstrained positions (and so MCMC and VI results) line
up with Stan and NumPyro:

================================  ============================================
constraint                        bijector (unconstrained -> constrained)
================================  ============================================
real, real_vector                 Identity
positive, nonnegative             Exp
greater_than(a)                   Chain([Shift(a), Exp()])
less_than(b)                      Chain([Shift(b), Scale(-1), Exp()])
unit_interval                     Sigmoid()
interval(a, b)                    Sigmoid(low=a, high=b)
simplex                           StickBreaking
ordered_vector                    Ordered
corr_cholesky                     CorrCholesky
lower_cholesky                    FillScaleTriL(Exp())
positive_definite                 PositiveDefinite (Exp on the Cholesky diagonal)
corr_matrix                       Chain([CorrCholeskyOuterProduct(), CorrCholesky()])
zero_sum                          ZeroSum (R^(n-1) onto the zero-sum subspace)
independent(c, n)                 for_constraint(c) (the Target sums the log-dets)
================================  ============================================

Bounds held by a constraint (possibly arrays, e.g. Uniform's) become array leaves of
the bijector. Other constraint types can be added with `register_constraint_bijector`.

Example:
    >>> import jax.numpy as jnp
    >>> from probflow import bijectors as bij
    >>> from probflow.distributions import constraints
    >>> b = bij.for_constraint(constraints.greater_than(1.0))
    >>> float(b.forward(jnp.array(0.0)))
    2.0
"""

from __future__ import annotations

from collections.abc import Callable

from probflow.bijectors.affine import Scale, Shift
from probflow.bijectors.bijector import Bijector
from probflow.bijectors.chain import Chain
from probflow.bijectors.corr_cholesky import CorrCholesky
from probflow.bijectors.corr_matrix import CorrCholeskyOuterProduct
from probflow.bijectors.elementwise import Exp, Identity, Sigmoid
from probflow.bijectors.ordered import Ordered
from probflow.bijectors.positive_definite import PositiveDefinite
from probflow.bijectors.simplex import StickBreaking
from probflow.bijectors.triangular import FillScaleTriL
from probflow.bijectors.zero_sum import ZeroSum

__all__ = ["for_constraint", "register_constraint_bijector"]

_REGISTRY: dict[type, Callable] = {}
_DEFAULTS_LOADED = False


def register_constraint_bijector(constraint_type: type):
    """Decorator: registers ``fn(constraint) -> Bijector`` for a constraint class.

    Lookup follows the class's MRO, so a subclass may override its parent's choice.

    Args:
        constraint_type: the constraint's class (e.g. ``type(constraints.positive)``).

    Returns:
        The decorator, which returns the function unchanged.

    Example:
        >>> from probflow.distributions.constraints import Constraint
        >>> class Circle(Constraint):
        ...     pass
        >>> @register_constraint_bijector(Circle)
        ... def _(constraint):
        ...     return Identity()
        >>> for_constraint(Circle())
        Identity()
    """

    def decorator(fn):
        _REGISTRY[constraint_type] = fn
        return fn

    return decorator


def _load_defaults():
    # Deferred: the constraints module lives in the distributions package, which may
    # itself import bijectors.
    global _DEFAULTS_LOADED
    from probflow.distributions import constraints as c

    defaults = {
        type(c.real): lambda _: Identity(),
        type(c.real_vector): lambda _: Identity(),
        type(c.positive): lambda _: Exp(),
        type(c.nonnegative): lambda _: Exp(),
        c.greater_than: lambda k: Chain([Shift(k.lower_bound), Exp()]),
        c.less_than: lambda k: Chain([Shift(k.upper_bound), Scale(-1.0), Exp()]),
        type(c.unit_interval): lambda _: Sigmoid(),
        c.interval: lambda k: Sigmoid(low=k.lower_bound, high=k.upper_bound),
        type(c.simplex): lambda _: StickBreaking(),
        type(c.ordered_vector): lambda _: Ordered(),
        type(c.corr_cholesky): lambda _: CorrCholesky(),
        type(c.lower_cholesky): lambda _: FillScaleTriL(Exp()),
        type(c.positive_definite): lambda _: PositiveDefinite(),
        c.independent: lambda k: for_constraint(k.base),
        type(c.corr_matrix): lambda _: Chain([CorrCholeskyOuterProduct(), CorrCholesky()]),
        type(c.zero_sum): lambda _: ZeroSum(),
    }
    for constraint_type, fn in defaults.items():
        _REGISTRY.setdefault(constraint_type, fn)
    _DEFAULTS_LOADED = True


def for_constraint(constraint) -> Bijector:
    """The bijector from unconstrained R^n onto the set `constraint` describes.

    Args:
        constraint: a `probflow.distributions.constraints.Constraint`.

    Returns:
        A `Bijector` whose forward map lands in `constraint` (Stan's choices; see the
        module docstring).

    Raises:
        ValueError: for a discrete constraint (observe such variables instead) or a
            constraint with no registered bijector.
        TypeError: when `constraint` is not a Constraint.

    Example:
        >>> import jax.numpy as jnp
        >>> from probflow.distributions import constraints
        >>> for_constraint(constraints.simplex).forward(jnp.zeros(1))
        Array([0.5, 0.5], dtype=float32)
    """
    from probflow.distributions.constraints import Constraint

    if not _DEFAULTS_LOADED:
        _load_defaults()
    if not isinstance(constraint, Constraint):
        raise TypeError(
            f"for_constraint: `constraint` must be a Constraint; got {type(constraint).__name__}"
        )
    if constraint.is_discrete:
        raise ValueError(
            f"for_constraint: constraint {constraint!r} cannot be unconstrained: discrete "
            f"support ({constraint.description}) has no smooth bijection from R^n; observe "
            "it instead (or marginalise it out)"
        )
    for cls in type(constraint).__mro__:
        fn = _REGISTRY.get(cls)
        if fn is not None:
            return fn(constraint)
    raise ValueError(
        f"for_constraint: no bijector is registered for constraint {constraint!r} "
        f"(type {type(constraint).__name__}); register one with register_constraint_bijector"
    )
