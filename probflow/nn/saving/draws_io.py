"""Posterior weight draws (NUTS, HMC, SG-MCMC, ensembles) to and from flat arrays.

After a sampling method the model predicts from `WeightDraws`, not from its train
state, so an archive that is to predict like the saved model must hold the draws. The
template is abstract (`jax.eval_shape` of the model's own starting weights with the
``[chain, draw]`` dimensions the config names), so every array in a file is checked
against the architecture before anything is built from it.
"""

from __future__ import annotations

import re

import jax
import numpy as np

from probflow.nn.saving.weights import flatten_arrays, unflatten_arrays

__all__ = ["draws_config", "pack_weight_draws", "unpack_weight_draws"]

WEIGHTS_PREFIX = "weight_draws/weights"
STATE_PREFIX = "weight_draws/layer_state"
STATS_PREFIX = "sample_stats"
_STAT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def draws_config(draws) -> dict:
    """The JSON part describing `draws`: ``{"num_chains": c, "num_draws": d}``.

    Example:
        >>> import jax.numpy as jnp
        >>> from probflow.nn.training.fitted import WeightDraws
        >>> draws_config(WeightDraws({"w": jnp.zeros((2, 3, 4))}, {}))
        {'num_chains': 2, 'num_draws': 3}
    """
    num_chains, num_draws = draws.shape
    return {"num_chains": int(num_chains), "num_draws": int(num_draws)}


def pack_weight_draws(draws, stats) -> dict:
    """``{name: numpy array}`` of the draws and their per-draw sampler statistics.

    Args:
        draws: the model's `WeightDraws` (leaves ``[chain, draw, ...]``).
        stats: ``{name: [chain, draw] array}`` or None.

    Returns:
        Flat arrays under ``weight_draws/...`` and ``sample_stats/...``.

    Example:
        >>> import jax.numpy as jnp
        >>> from probflow.nn.training.fitted import WeightDraws
        >>> sorted(pack_weight_draws(WeightDraws({"w": jnp.zeros((1, 2))}, {}), None))
        ['weight_draws/weights/w']
    """
    arrays = flatten_arrays(draws.weights, WEIGHTS_PREFIX)
    arrays.update(flatten_arrays(draws.layer_state, STATE_PREFIX))
    for name, value in (stats or {}).items():
        arrays[f"{STATS_PREFIX}/{name}"] = np.asarray(value)
    return arrays


def _count(spec, name, source):
    value = spec.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{source}: weight_draws.{name} must be an int >= 1; got "
                         f"{value!r:.100}")
    return value


def unpack_weight_draws(model, spec, arrays: dict, *, source, frozen=None):
    """Rebuilds ``(weights, layer_state, stats)`` from `pack_weight_draws`'s arrays.

    Args:
        model: the rebuilt model (compiled, heads built).
        spec: the config's ``weight_draws`` object (see `draws_config`).
        arrays: every array of the archive.
        source: the file, for error messages.
        frozen: the layers that were frozen (not sampled) when the draws were made.

    Returns:
        ``(weights, layer_state, stats)`` ready for `set_weight_draws`; stats is None when
        the file holds none.

    Raises:
        ValueError: naming the array, for anything missing, extra or mis-shaped.
    """
    from probflow.nn.saving.train_state_io import describe_leaf
    from probflow.nn.training.weights_target import initial_weights

    if not isinstance(spec, dict):
        raise ValueError(f"{source}: 'weight_draws' must be an object")
    lead = (_count(spec, "num_chains", source), _count(spec, "num_draws", source))
    weights, layer_state = jax.eval_shape(lambda k: initial_weights(model, k, frozen=frozen),
                                          jax.random.key(0))

    def with_lead(tree):
        return jax.tree_util.tree_map(
            lambda s: jax.ShapeDtypeStruct(lead + tuple(s.shape), s.dtype), tree)

    def describe(name):
        return describe_leaf(name.replace("weight_draws/weights/", "params/", 1)
                             .replace("weight_draws/", "", 1)) + " (of the weight draws)"

    weights = unflatten_arrays(with_lead(weights), arrays, WEIGHTS_PREFIX, source=source,
                               describe=describe)
    layer_state = unflatten_arrays(with_lead(layer_state), arrays, STATE_PREFIX,
                                   source=source, describe=describe)
    stats = {}
    for name, value in arrays.items():
        if not name.startswith(STATS_PREFIX + "/"):
            continue
        stat = name[len(STATS_PREFIX) + 1:]
        if not _STAT_NAME.match(stat):
            raise ValueError(f"{source}: sample statistic name {stat!r:.100} is not an "
                             "identifier")
        if tuple(value.shape) != lead:
            raise ValueError(f"{source}: sample statistic {stat!r} has shape "
                             f"{tuple(value.shape)}; the draws are {lead}")
        stats[stat] = value
    return weights, layer_state, (stats or None)
