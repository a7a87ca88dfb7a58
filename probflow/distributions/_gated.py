"""Private base of the zero-inflated and hurdle families: a discrete base plus a gate.

The gate is the probability of the extra (or only) zero, given as `gate` or as
`gate_logits`; ``log gate`` and ``log(1 - gate)`` are computed stably from either.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from probflow.distributions import constraints
from probflow.distributions._util import validate_param
from probflow.distributions.bernoulli import check_probs_or_logits
from probflow.distributions.distribution import Distribution


class GatedDistribution(Distribution):
    """Abstract: a univariate discrete `base` and a gate probability of zero."""

    has_rsample = False

    def _init_gate(self, owner, base, gate, gate_logits, validate_args):
        if not isinstance(base, Distribution):
            raise TypeError(f"{owner}: `base` must be a Distribution; got {type(base).__name__}")
        if base.event_shape != () or not base.support.is_discrete:
            raise ValueError(
                f"{owner}: `base` must be a univariate discrete distribution; got "
                f"{type(base).__name__} with event_shape {base.event_shape} and support "
                f"{base.support!r}"
            )
        check_probs_or_logits(owner, gate, gate_logits)
        given = gate if gate is not None else gate_logits
        value = jnp.asarray(given, dtype=base.dtype)
        self.base = base
        self.gate = value if gate is not None else None
        self.gate_logits = value if gate is None else None
        self.validate_args = bool(validate_args)
        if self.validate_args:
            name, constraint = (
                ("gate", constraints.unit_interval)
                if gate is not None
                else ("gate_logits", constraints.real)
            )
            validate_param(owner, name, value, constraint)

    # -- shapes -----------------------------------------------------------------------
    def _gate_value(self):
        return self.gate if self.gate is not None else self.gate_logits

    @property
    def batch_shape(self):
        return tuple(jnp.broadcast_shapes(self.base.batch_shape, jnp.shape(self._gate_value())))

    @property
    def dtype(self):
        return self.base.dtype

    @property
    def support(self):
        return self.base.support

    def expand(self, batch_shape):
        batch_shape = tuple(batch_shape)
        changes = {"base": self.base.expand(batch_shape)}
        if self.gate is not None:
            changes["gate"] = jnp.broadcast_to(self.gate, batch_shape)
        else:
            changes["gate_logits"] = jnp.broadcast_to(self.gate_logits, batch_shape)
        return self._replace(**changes)

    def _broadcast(self, value):
        value = jnp.asarray(value, self.dtype)
        return jnp.broadcast_to(value, jnp.broadcast_shapes(value.shape, self.batch_shape))

    # -- gate -------------------------------------------------------------------------
    def gate_probs(self):
        """The gate probability, whichever parametrisation was given."""
        return self.gate if self.gate is not None else jax.nn.sigmoid(self.gate_logits)

    def _log_gate(self):
        """``(log gate, log(1 - gate))`` at full relative precision at both ends."""
        if self.gate_logits is not None:
            return -jax.nn.softplus(-self.gate_logits), -jax.nn.softplus(self.gate_logits)
        return jnp.log(self.gate), jnp.log1p(-self.gate)

    def _draw_gate(self, key, shape):
        return jax.random.uniform(key, shape, self.dtype) < self.gate_probs()
