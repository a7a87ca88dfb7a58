"""JSON forms of layer constructor arguments: distributions, posteriors, plain values.

A probflow distribution becomes ``{"class": "Normal", "params": {"loc": 0.0, "scale": 1.0}}``;
nested distributions (mixtures) nest the same way. Loading looks classes up by name in
`probflow.distributions` (or the posterior registry) and never runs code from the file.

Example:
    >>> from probflow import distributions as dist
    >>> serialize_distribution(dist.Normal(0.0, 0.1))
    {'class': 'Normal', 'params': {'loc': 0.0, 'scale': 0.10000000149011612}}
"""

from __future__ import annotations

import jax
import numpy as np

__all__ = [
    "serialize_distribution",
    "deserialize_distribution",
    "serialize_value",
    "deserialize_value",
    "register_serializable",
]

# Non-distribution config objects (posterior families) that know get_config/from_config.
_SERIALIZABLE: dict = {}


def register_serializable(cls):
    """Class decorator: lets a config object with get_config/from_config round-trip."""
    _SERIALIZABLE[cls.__name__] = cls
    return cls


def _array_to_json(value):
    arr = np.asarray(value)
    return arr.item() if arr.ndim == 0 else arr.tolist()


def serialize_distribution(distribution) -> dict:
    """Returns the JSON form of a probflow distribution.

    Args:
        distribution: an instance of a class exported by `probflow.distributions`
            whose array attributes are its constructor arguments.

    Returns:
        ``{"class": name, "params": {...}}`` with arrays as floats or nested lists.

    Raises:
        ValueError: when the distribution cannot be rebuilt from that form.
    """
    from probflow import distributions

    name = type(distribution).__name__
    if getattr(distributions, name, None) is not type(distribution):
        raise ValueError(
            f"cannot serialise prior of type {name}: only classes exported by "
            "probflow.distributions can be saved"
        )
    params = {}
    for attr, value in vars(distribution).items():
        if attr.startswith("_") or value is None:
            continue
        if attr == "validate_args":
            if value:
                params[attr] = True
            continue
        params[attr] = serialize_value(value)
    config = {"class": name, "params": params}
    try:
        deserialize_distribution(config)
    except Exception as err:
        raise ValueError(
            f"cannot serialise prior {distribution!r}: rebuilding {name}(**{sorted(params)}) "
            f"failed with {type(err).__name__}: {err}"
        ) from None
    return config


def deserialize_distribution(config: dict):
    """Rebuilds a distribution from `serialize_distribution`'s output."""
    from probflow import distributions

    cls = getattr(distributions, config["class"], None)
    if not (isinstance(cls, type) and issubclass(cls, distributions.Distribution)):
        raise ValueError(
            f"deserialize_distribution: unknown distribution class {config['class']!r}"
        )
    params = {k: deserialize_value(v) for k, v in config.get("params", {}).items()}
    return cls(**params)


def serialize_value(value):
    """JSON form of one config value (distribution, posterior, array, tuple, scalar)."""
    from probflow.distributions import Distribution

    if isinstance(value, Distribution):
        return serialize_distribution(value)
    if type(value).__name__ in _SERIALIZABLE and hasattr(value, "get_config"):
        return {"class": type(value).__name__, "params": value.get_config()}
    if isinstance(value, (jax.Array, np.ndarray, np.generic)):
        return _array_to_json(value)
    if isinstance(value, (list, tuple)):
        return [serialize_value(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise ValueError(f"cannot serialise config value {value!r} of type {type(value).__name__}")


def deserialize_value(value):
    """Inverse of `serialize_value` (tuples come back as lists)."""
    if isinstance(value, dict) and "class" in value:
        cls = _SERIALIZABLE.get(value["class"])
        if cls is not None:
            return cls.from_config(value.get("params", {}))
        return deserialize_distribution(value)
    if isinstance(value, list):
        return [deserialize_value(v) for v in value]
    return value
