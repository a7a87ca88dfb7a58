"""The `Bijector` base class: implement `forward_and_log_det` and `inverse_and_log_det`.

Everything else (`forward`, `inverse`, the two log-det methods) is derived once here.
Log-determinants are reduced over the bijector's `event_ndims` rightmost input
dimensions: an elementwise bijector (event_ndims = 0) returns one log-det per element.
"""

from __future__ import annotations

from probflow._pytree import PytreeObject

__all__ = ["Bijector"]


class Bijector(PytreeObject):
    """A smooth invertible map with a tractable Jacobian determinant.

    Attributes:
        event_ndims: number of rightmost input dims that form one event (the dims the
            log-det is reduced over); same as `event_ndims_in`.
        event_ndims_out: the same for the output; differs for bijectors that change
            rank (CorrCholesky maps a vector to a matrix).

    Example:
        >>> import jax.numpy as jnp
        >>> from probflow import bijectors as bij
        >>> y, log_det = bij.Exp().forward_and_log_det(jnp.array(0.5))
        >>> bool(jnp.allclose(bij.Exp().inverse(y), 0.5))
        True
    """

    event_ndims: int = 0
    # Name of the constraint (in probflow.distributions.constraints) the forward map
    # lands in; None when unknown. Read through `codomain`.
    _codomain: str | None = None

    @property
    def codomain(self):
        """The set the forward map lands in, as a constraint; None when unknown.

        `TransformedDistribution` uses it as its support, so `log_prob` is -inf (not
        NaN) outside the image.
        """
        if self._codomain is None:
            return None
        from probflow.distributions import constraints

        return getattr(constraints, self._codomain)

    @property
    def event_ndims_in(self) -> int:
        return self.event_ndims

    @property
    def event_ndims_out(self) -> int:
        return self.event_ndims

    def forward_and_log_det(self, x):
        """Returns ``(forward(x), log|det J_forward(x)|)``."""
        raise NotImplementedError

    def inverse_and_log_det(self, y):
        """Returns ``(inverse(y), log|det J_inverse(y)|)``."""
        raise NotImplementedError

    def forward(self, x):
        """Maps `x` forward."""
        return self.forward_and_log_det(x)[0]

    def inverse(self, y):
        """Maps `y` back."""
        return self.inverse_and_log_det(y)[0]

    def forward_log_det_jacobian(self, x):
        """log|det J| of the forward map at `x`, reduced over `event_ndims` dims."""
        return self.forward_and_log_det(x)[1]

    def inverse_log_det_jacobian(self, y):
        """log|det J| of the inverse map at `y` (= -forward log-det at inverse(y))."""
        return self.inverse_and_log_det(y)[1]

    def forward_shape(self, shape):
        """Output shape for an input of `shape` (identity for shape-preserving maps)."""
        return tuple(shape)

    def inverse_shape(self, shape):
        """Input shape for an output of `shape`."""
        return tuple(shape)

    def __repr__(self):
        return f"{type(self).__name__}()"
