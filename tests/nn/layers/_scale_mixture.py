"""A two-component Normal scale-mixture prior (Blundell et al. 2015) for the tests.

Written here, on the Distribution base only, so the layer tests do not depend on the
mixture module; it has no analytic KL against a Normal, so layers fall back to Monte
Carlo.
"""

import jax.numpy as jnp
import numpy as np
from scipy import stats

from probflow.distributions import Distribution, constraints
from probflow.distributions._util import promote_params


class ScaleMixtureNormal(Distribution):
    """``weight * N(0, scale1) + (1 - weight) * N(0, scale2)``."""

    arg_constraints = {
        "weight": constraints.unit_interval,
        "scale1": constraints.positive,
        "scale2": constraints.positive,
    }

    def __init__(self, weight, scale1, scale2):
        self.weight, self.scale1, self.scale2 = promote_params(weight, scale1, scale2)
        self._validate(False)

    def _log_prob(self, value):
        def normal_lp(scale):
            return -0.5 * (value / scale) ** 2 - jnp.log(scale) - 0.5 * jnp.log(2 * jnp.pi)

        return jnp.logaddexp(
            jnp.log(self.weight) + normal_lp(self.scale1),
            jnp.log1p(-self.weight) + normal_lp(self.scale2),
        )

    def numpy_log_prob(self, value):
        w, s1, s2 = (float(v) for v in (self.weight, self.scale1, self.scale2))
        return np.logaddexp(
            np.log(w) + stats.norm.logpdf(value, 0, s1), np.log1p(-w) + stats.norm.logpdf(value, 0, s2)
        )


def quadrature_kl(loc, scale, log_prior, num_nodes=80):
    """sum_i KL(N(loc_i, scale_i) || prior) by Gauss-Hermite quadrature, in float64."""
    nodes, weights = np.polynomial.hermite.hermgauss(num_nodes)
    loc = np.asarray(loc, np.float64).ravel()[:, None]
    scale = np.asarray(scale, np.float64).ravel()[:, None]
    w = loc + np.sqrt(2.0) * scale * nodes
    cross = (weights * log_prior(w)).sum(1) / np.sqrt(np.pi)  # E_q[log p(w)]
    neg_entropy = -(0.5 + 0.5 * np.log(2 * np.pi) + np.log(scale[:, 0]))
    return float(np.sum(neg_entropy - cross))
