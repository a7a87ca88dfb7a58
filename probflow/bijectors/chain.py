"""Composition and inversion: `Chain` and `Invert`.

`Chain([b1, b2, ..., bk])` applies the LAST bijector first (as TFP), so
``Chain([Exp(), Shift(1.0)]).forward(x) == exp(x + 1)``. Bijectors of different
event ranks compose: each one's log-det is summed over the dims that are part of the
chain's event but not of its own (an elementwise `Exp` after `StickBreaking` sums over
the simplex axis).

Example:
    >>> import jax.numpy as jnp
    >>> from probflow import bijectors as bij
    >>> chain = bij.Chain([bij.Exp(), bij.Shift(1.0)])
    >>> round(float(chain.forward(jnp.array(0.0))), 4)
    2.7183
"""

from __future__ import annotations

import jax.numpy as jnp

from probflow.bijectors._util import sum_rightmost
from probflow.bijectors.bijector import Bijector

__all__ = ["Chain", "Invert"]


def _check_bijector(owner, name, value):
    if not isinstance(value, Bijector):
        raise TypeError(f"{owner}: `{name}` must be a Bijector; got {type(value).__name__}")


class Chain(Bijector):
    """The composition ``b1 ∘ b2 ∘ ... ∘ bk`` (the last one is applied first).

    Args:
        bijectors: a sequence of `Bijector`s; empty means the identity.

    Example:
        >>> import jax.numpy as jnp
        >>> from probflow import bijectors as bij
        >>> chain = bij.Chain([bij.Shift(1.0), bij.Exp()])   # y = exp(x) + 1
        >>> float(chain.inverse(jnp.array(2.0)))
        0.0
    """

    def __init__(self, bijectors):
        bijectors = list(bijectors)
        for i, b in enumerate(bijectors):
            _check_bijector("Chain", f"bijectors[{i}]", b)
        self.bijectors = bijectors
        # The chain's input rank must cover every member's input rank, tracking how
        # the members before it (in application order) changed the rank.
        rank_change, event_ndims = 0, 0
        for b in reversed(bijectors):
            event_ndims = max(event_ndims, b.event_ndims_in - rank_change)
            rank_change += b.event_ndims_out - b.event_ndims_in
        self.event_ndims = event_ndims
        self._rank_change = rank_change

    @property
    def event_ndims_out(self) -> int:
        return self.event_ndims + self._rank_change

    @property
    def codomain(self):
        """The outermost member's codomain, when every inner member maps onto R^n."""
        if not self.bijectors:
            return None
        from probflow.distributions import constraints

        inner_onto_reals = all(
            b.codomain is constraints.real for b in self.bijectors[1:]
        )
        return self.bijectors[0].codomain if inner_onto_reals else None

    def forward_and_log_det(self, x):
        x = jnp.asarray(x)
        rank = self.event_ndims
        log_det = jnp.zeros(x.shape[: x.ndim - rank], x.dtype)
        for b in reversed(self.bijectors):
            x, ld = b.forward_and_log_det(x)
            log_det = log_det + sum_rightmost(ld, rank - b.event_ndims_in)
            rank += b.event_ndims_out - b.event_ndims_in
        return x, log_det

    def inverse_and_log_det(self, y):
        y = jnp.asarray(y)
        rank = self.event_ndims_out
        log_det = jnp.zeros(y.shape[: y.ndim - rank], y.dtype)
        for b in self.bijectors:
            y, ld = b.inverse_and_log_det(y)
            log_det = log_det + sum_rightmost(ld, rank - b.event_ndims_out)
            rank += b.event_ndims_in - b.event_ndims_out
        return y, log_det

    def forward_shape(self, shape):
        shape = tuple(shape)
        for b in reversed(self.bijectors):
            shape = b.forward_shape(shape)
        return shape

    def inverse_shape(self, shape):
        shape = tuple(shape)
        for b in self.bijectors:
            shape = b.inverse_shape(shape)
        return shape

    def __repr__(self):
        return f"Chain([{', '.join(repr(b) for b in self.bijectors)}])"


class Invert(Bijector):
    """Swaps the forward and inverse maps of `bijector`.

    Args:
        bijector: the `Bijector` to invert.

    Example:
        >>> import jax.numpy as jnp
        >>> from probflow import bijectors as bij
        >>> float(bij.Invert(bij.Exp()).forward(jnp.array(1.0)))   # log
        0.0
    """

    def __init__(self, bijector):
        _check_bijector("Invert", "bijector", bijector)
        self.bijector = bijector
        self.event_ndims = bijector.event_ndims_out

    @property
    def event_ndims_out(self) -> int:
        return self.bijector.event_ndims_in

    def forward_and_log_det(self, x):
        return self.bijector.inverse_and_log_det(x)

    def inverse_and_log_det(self, y):
        return self.bijector.forward_and_log_det(y)

    def forward_shape(self, shape):
        return self.bijector.inverse_shape(shape)

    def inverse_shape(self, shape):
        return self.bijector.forward_shape(shape)

    def __repr__(self):
        return f"Invert({self.bijector!r})"
