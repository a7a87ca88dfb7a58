"""Constraints: the supports of distributions and the domains of their parameters.

A constraint answers `check(x)` (a boolean array, reduced over its `event_dim`
rightmost dimensions) and is what `probflow.bijectors.for_constraint` maps to the
bijector from unconstrained space onto that set.

Example:
    >>> from probflow.distributions import constraints
    >>> bool(constraints.positive.check(2.0))
    True
    >>> constraints.interval(0.0, 1.0)
    interval(0.0, 1.0)
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from probflow._pytree import PytreeObject

__all__ = [
    "Constraint",
    "boolean",
    "corr_cholesky",
    "greater_than",
    "independent",
    "integer_interval",
    "integer_greater_than",
    "interval",
    "less_than",
    "lower_cholesky",
    "nonnegative",
    "nonnegative_integer",
    "ordered_vector",
    "positive",
    "positive_definite",
    "positive_integer",
    "real",
    "real_vector",
    "simplex",
    "unit_interval",
    "is_discrete",
]


class Constraint(PytreeObject):
    """Base class: a set, with a membership check over `event_dim` trailing dims.

    Attributes:
        event_dim: number of rightmost dimensions that form one element of the set.
        is_discrete: whether the set is countable (no bijector from R^n exists).
    """

    event_dim = 0
    is_discrete = False
    description = "a value in the support"

    def check(self, x):
        """Returns a boolean array: whether each element (event) of `x` is in the set."""
        raise NotImplementedError

    def feasible_like(self, x):
        """A point inside the set with the shape of `x` (used to keep log_prob finite)."""
        return jnp.zeros_like(x)

    def __repr__(self):
        return type(self).__name__.lstrip("_")


def _reduce_event(ok, event_dim):
    return jnp.all(ok, axis=tuple(range(-event_dim, 0))) if event_dim else ok


class _Real(Constraint):
    description = "a finite real number"

    def check(self, x):
        return jnp.isfinite(x)

    def __repr__(self):
        return "real"


class _RealVector(Constraint):
    event_dim = 1
    description = "a vector of finite reals"

    def check(self, x):
        return _reduce_event(jnp.isfinite(x), 1)

    def __repr__(self):
        return "real_vector"


class _Independent(Constraint):
    """Wraps a constraint so that `reinterpreted` batch dims count as event dims."""

    def __init__(self, base, reinterpreted_batch_ndims):
        self.base = base
        self.reinterpreted_batch_ndims = int(reinterpreted_batch_ndims)

    @property
    def event_dim(self):
        return self.base.event_dim + self.reinterpreted_batch_ndims

    @property
    def is_discrete(self):
        return self.base.is_discrete

    @property
    def description(self):
        return self.base.description

    def check(self, x):
        return _reduce_event(self.base.check(x), self.reinterpreted_batch_ndims)

    def feasible_like(self, x):
        return self.base.feasible_like(x)

    def __repr__(self):
        return f"independent({self.base!r}, {self.reinterpreted_batch_ndims})"


class _GreaterThan(Constraint):
    def __init__(self, lower_bound):
        self.lower_bound = lower_bound

    @property
    def description(self):
        return f"a real number greater than {self.lower_bound}"

    def check(self, x):
        return x > self.lower_bound

    def feasible_like(self, x):
        return jnp.broadcast_to(self.lower_bound + 1.0, jnp.shape(x)).astype(jnp.result_type(x))

    def __repr__(self):
        return f"greater_than({_fmt(self.lower_bound)})"


class _Positive(_GreaterThan):
    description = "a positive real number (> 0)"

    def __init__(self):
        self.lower_bound = 0.0

    def __repr__(self):
        return "positive"


class _Nonnegative(Constraint):
    description = "a non-negative real number (>= 0)"

    def check(self, x):
        return x >= 0

    def feasible_like(self, x):
        return jnp.ones_like(x)

    def __repr__(self):
        return "nonnegative"


class _LessThan(Constraint):
    def __init__(self, upper_bound):
        self.upper_bound = upper_bound

    @property
    def description(self):
        return f"a real number less than {self.upper_bound}"

    def check(self, x):
        return x < self.upper_bound

    def feasible_like(self, x):
        return jnp.broadcast_to(self.upper_bound - 1.0, jnp.shape(x)).astype(jnp.result_type(x))

    def __repr__(self):
        return f"less_than({_fmt(self.upper_bound)})"


class _Interval(Constraint):
    """The closed interval [low, high] (densities may vanish on the edges)."""

    def __init__(self, lower_bound, upper_bound):
        self.lower_bound = lower_bound
        self.upper_bound = upper_bound

    @property
    def description(self):
        return f"a real number in [{self.lower_bound}, {self.upper_bound}]"

    def check(self, x):
        return (x >= self.lower_bound) & (x <= self.upper_bound)

    def feasible_like(self, x):
        mid = (self.lower_bound + self.upper_bound) / 2
        return jnp.broadcast_to(mid, jnp.shape(x)).astype(jnp.result_type(x))

    def __repr__(self):
        return f"interval({_fmt(self.lower_bound)}, {_fmt(self.upper_bound)})"


class _UnitInterval(_Interval):
    description = "a probability in [0, 1]"

    def __init__(self):
        self.lower_bound = 0.0
        self.upper_bound = 1.0

    def __repr__(self):
        return "unit_interval"


class _Boolean(Constraint):
    is_discrete = True
    description = "0 or 1"

    def check(self, x):
        return (x == 0) | (x == 1)

    def __repr__(self):
        return "boolean"


class _IntegerInterval(Constraint):
    is_discrete = True

    def __init__(self, lower_bound, upper_bound):
        self.lower_bound = lower_bound
        self.upper_bound = upper_bound

    @property
    def description(self):
        return f"an integer in [{self.lower_bound}, {self.upper_bound}]"

    def check(self, x):
        return (x >= self.lower_bound) & (x <= self.upper_bound) & (x == jnp.floor(x))

    def feasible_like(self, x):
        return jnp.broadcast_to(self.lower_bound, jnp.shape(x)).astype(jnp.result_type(x))

    def __repr__(self):
        return f"integer_interval({_fmt(self.lower_bound)}, {_fmt(self.upper_bound)})"


class _IntegerGreaterThan(Constraint):
    is_discrete = True

    def __init__(self, lower_bound):
        self.lower_bound = lower_bound

    @property
    def description(self):
        return f"an integer >= {self.lower_bound}"

    def check(self, x):
        return (x >= self.lower_bound) & (x == jnp.floor(x))

    def feasible_like(self, x):
        return jnp.broadcast_to(self.lower_bound, jnp.shape(x)).astype(jnp.result_type(x))

    def __repr__(self):
        return f"integer_greater_than({_fmt(self.lower_bound)})"


class _Simplex(Constraint):
    event_dim = 1
    description = "a probability vector (non-negative, summing to 1)"

    def check(self, x):
        x = jnp.asarray(x)
        tol = 1e-6 if x.dtype == jnp.float32 else 1e-12
        return jnp.all(x >= 0, axis=-1) & (jnp.abs(jnp.sum(x, axis=-1) - 1) < tol * x.shape[-1] * 10)

    def feasible_like(self, x):
        return jnp.full_like(x, 1.0 / jnp.shape(x)[-1])

    def __repr__(self):
        return "simplex"


class _OrderedVector(Constraint):
    event_dim = 1
    description = "a strictly increasing vector"

    def check(self, x):
        return jnp.all(x[..., 1:] > x[..., :-1], axis=-1) & jnp.all(jnp.isfinite(x), axis=-1)

    def feasible_like(self, x):
        return jnp.broadcast_to(jnp.arange(jnp.shape(x)[-1], dtype=jnp.result_type(x)), jnp.shape(x))

    def __repr__(self):
        return "ordered_vector"


class _LowerCholesky(Constraint):
    """Lower-triangular matrices with a positive diagonal."""

    event_dim = 2
    description = "a lower-triangular matrix with positive diagonal"

    def check(self, x):
        lower = jnp.all(jnp.triu(x, k=1) == 0, axis=(-2, -1))
        diag = jnp.all(jnp.diagonal(x, axis1=-2, axis2=-1) > 0, axis=-1)
        return lower & diag

    def feasible_like(self, x):
        return jnp.broadcast_to(jnp.eye(jnp.shape(x)[-1], dtype=jnp.result_type(x)), jnp.shape(x))

    def __repr__(self):
        return "lower_cholesky"


class _CorrCholesky(_LowerCholesky):
    """Cholesky factors of correlation matrices: lower-triangular, unit-norm rows."""

    description = "the Cholesky factor of a correlation matrix (unit-norm rows)"

    def check(self, x):
        x = jnp.asarray(x)
        tol = 1e-4 if x.dtype == jnp.float32 else 1e-8
        unit_rows = jnp.all(jnp.abs(jnp.sum(x * x, axis=-1) - 1) < tol, axis=-1)
        return super().check(x) & unit_rows

    def __repr__(self):
        return "corr_cholesky"


class _PositiveDefinite(Constraint):
    event_dim = 2
    description = "a symmetric positive-definite matrix"

    def check(self, x):
        x = jnp.asarray(x)
        tol = 1e-5 if x.dtype == jnp.float32 else 1e-10
        symmetric = jnp.all(jnp.abs(x - jnp.swapaxes(x, -1, -2)) < tol * (1 + jnp.abs(x)), axis=(-2, -1))
        positive = jnp.all(jnp.linalg.eigvalsh(x) > 0, axis=-1)
        return symmetric & positive

    def feasible_like(self, x):
        return jnp.broadcast_to(jnp.eye(jnp.shape(x)[-1], dtype=jnp.result_type(x)), jnp.shape(x))

    def __repr__(self):
        return "positive_definite"


def _fmt(value):
    if isinstance(value, (int, float)):
        return repr(value)
    arr = np.asarray(value) if not hasattr(value, "aval") or _concrete(value) else None
    if arr is None:
        return "<traced>"
    return repr(arr.item()) if arr.size == 1 else f"array{arr.shape}"


def _concrete(value):
    try:
        np.asarray(value)
        return True
    except Exception:
        return False


def is_discrete(constraint: Constraint) -> bool:
    """Whether `constraint` is a countable set (no smooth bijection from R^n onto it)."""
    return bool(constraint.is_discrete)


real = _Real()
real_vector = _RealVector()
positive = _Positive()
nonnegative = _Nonnegative()
unit_interval = _UnitInterval()
boolean = _Boolean()
nonnegative_integer = _IntegerGreaterThan(0)
positive_integer = _IntegerGreaterThan(1)
simplex = _Simplex()
ordered_vector = _OrderedVector()
lower_cholesky = _LowerCholesky()
corr_cholesky = _CorrCholesky()
positive_definite = _PositiveDefinite()
independent = _Independent
greater_than = _GreaterThan
less_than = _LessThan
interval = _Interval
integer_interval = _IntegerInterval
integer_greater_than = _IntegerGreaterThan


# -- constraints of the discrete and structured families (issue 19) -------------------
class _Integer(Constraint):
    is_discrete = True
    description = "an integer"

    def check(self, x):
        return jnp.isfinite(x) & (x == jnp.floor(x))

    def __repr__(self):
        return "integer"


class _CorrMatrix(Constraint):
    """Correlation matrices: symmetric positive-definite with a unit diagonal."""

    event_dim = 2
    description = "a correlation matrix (symmetric positive-definite, unit diagonal)"

    def check(self, x):
        x = jnp.asarray(x)
        tol = 1e-5 if x.dtype == jnp.float32 else 1e-10
        unit = jnp.all(jnp.abs(jnp.diagonal(x, axis1=-2, axis2=-1) - 1) < tol, axis=-1)
        return positive_definite.check(x) & unit

    def feasible_like(self, x):
        return positive_definite.feasible_like(x)

    def __repr__(self):
        return "corr_matrix"


class _ZeroSum(Constraint):
    """Vectors whose entries sum to zero (the last axis)."""

    event_dim = 1
    description = "a vector of finite reals summing to zero"

    def check(self, x):
        x = jnp.asarray(x)
        tol = 1e-4 if x.dtype == jnp.float32 else 1e-9
        scale = 1.0 + jnp.sum(jnp.abs(x), axis=-1)
        return jnp.all(jnp.isfinite(x), axis=-1) & (jnp.abs(jnp.sum(x, axis=-1)) < tol * scale)

    def __repr__(self):
        return "zero_sum"


integer = _Integer()
corr_matrix = _CorrMatrix()
zero_sum = _ZeroSum()
__all__ += ["corr_matrix", "integer", "zero_sum"]
