"""Likelihood heads: turn a network's output into a probflow distribution over targets.

A head is built once per fit from the network's per-example output shape and the
targets' per-example shape (`build`), may own trainable parameters (`init`; e.g. the
homoscedastic noise scale), and maps ``(params, outputs)`` to a distribution whose
``batch_shape + event_shape`` is ``(n,) + target_shape`` (`distribution`). The trainer
sums `log_prob` over everything but the batch axis, so each example contributes one
log-likelihood term.

Shipped heads ("normal", "studentt", "laplace", "bernoulli", "categorical", "poisson")
and any callable ``fn(outputs) -> Distribution`` through `Callable`. Bernoulli and
Categorical read the outputs as logits unless built with ``inputs="probs"`` (Keras's
``from_logits=False``: the network ends in a sigmoid / softmax); Poisson reads the log
rate unless ``inputs="rate"``.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "Bernoulli",
    "Categorical",
    "Callable",
    "Laplace",
    "Likelihood",
    "Normal",
    "Poisson",
    "StudentT",
    "get_likelihood",
]

_MIN_SCALE = 1e-6
# Probabilities read as logits are clipped to [eps, 1 - eps] first (Keras's epsilon).
_PROB_EPSILON = 1e-7


def _family(name):
    from probflow import distributions

    try:
        return getattr(distributions, name)
    except AttributeError:
        raise NotImplementedError(
            f"this likelihood needs probflow.distributions.{name}, which is not available"
        ) from None


def _check_inputs(owner, inputs, allowed):
    if inputs not in allowed:
        raise ValueError(f"{owner} likelihood: `inputs` must be one of {list(allowed)}; got "
                         f"{inputs!r}")
    return inputs


def _softplus_inverse(y: float) -> float:
    return float(y + math.log(-math.expm1(-y)))


class Likelihood:
    """Base class of likelihood heads.

    Subclasses implement `_build`, `distribution` and, where the prediction is not the
    distribution's mean, `point`. Attributes after `build`: `output_shape` (network
    output per example) and `target_shape` (targets per example, as the distribution
    sees them).

    Example:
        >>> import jax.numpy as jnp
        >>> head = get_likelihood("normal")
        >>> head.build((1,), ())
        >>> d = head.distribution(head.init(None), jnp.zeros((4, 1)))
        >>> d.batch_shape
        (4, 1)
    """

    name = "likelihood"
    is_classifier = False
    #: numpy dtype the targets are cast to before they go on device.
    target_kind = "float"

    def __init__(self):
        self.output_shape = None
        self.target_shape = None

    @property
    def built(self) -> bool:
        return self.target_shape is not None

    def build(self, output_shape, target_shape) -> None:
        """Fixes the shapes; raises ValueError when outputs and targets do not fit."""
        self.output_shape = tuple(output_shape)
        self.target_shape = tuple(self._build(self.output_shape, tuple(target_shape)))

    def _build(self, output_shape, target_shape):
        # Targets must carry exactly one value per output unit.
        if math.prod(target_shape) != math.prod(output_shape):
            raise ValueError(
                f"{self.name} likelihood: targets of per-example shape {target_shape} do "
                f"not match network outputs of per-example shape {output_shape}"
            )
        return output_shape

    def init(self, key) -> dict:
        """Trainable parameters of the head (an empty dict for most heads)."""
        del key
        return {}

    def distribution(self, params, outputs):
        """The distribution of targets given a batch of network `outputs`."""
        raise NotImplementedError

    def prepare_targets(self, y: np.ndarray) -> np.ndarray:
        """Reshapes/casts host targets `y` (leading batch axis) to ``(n,) + target_shape``."""
        y = np.asarray(y)
        return y.reshape((y.shape[0],) + self.target_shape).astype(self._target_dtype(y))

    def _target_dtype(self, y):
        # Integer counts/labels become the default float dtype (float64 under x64).
        return y.dtype if np.issubdtype(y.dtype, np.floating) else jnp.result_type(float)

    def check_targets(self, y: np.ndarray, argname: str = "y") -> None:
        """Raises ValueError for targets outside the likelihood's support."""

    def point(self, dist):
        """The point prediction: the mean (class probabilities for classifiers)."""
        return dist.mean()

    def log_likelihood(self, params, outputs, y):
        """Per-example log-likelihood, shape ``(n,)``."""
        lp = self.distribution(params, outputs).log_prob(y)
        return jnp.sum(lp.reshape(lp.shape[:1] + (-1,)), axis=-1)

    def __repr__(self):
        return f"{type(self).__name__}()"


class _LocationScale(Likelihood):
    """Shared by Normal and StudentT: homoscedastic or heteroscedastic scale."""

    def __init__(self, *, heteroscedastic=None, init_scale=1.0):
        super().__init__()
        if heteroscedastic not in (None, True, False):
            raise TypeError(f"`heteroscedastic` must be None or a bool; got {heteroscedastic!r}")
        if not init_scale > 0:
            raise ValueError(f"`init_scale` must be > 0; got {init_scale}")
        self.heteroscedastic = heteroscedastic
        self.init_scale = float(init_scale)

    def _build(self, output_shape, target_shape):
        n_out, n_target = math.prod(output_shape), math.prod(target_shape)
        hetero = self.heteroscedastic
        if hetero is None:
            # Two channels per target value: the network predicts loc and raw scale.
            hetero = n_out == 2 * n_target and output_shape[-1] % 2 == 0
        if hetero:
            if output_shape[-1] % 2 or n_out != 2 * n_target:
                raise ValueError(
                    f"heteroscedastic {self.name} likelihood: network outputs of shape "
                    f"{output_shape} must hold loc and raw scale (2 channels) per target "
                    f"value; targets have per-example shape {target_shape}"
                )
            self.heteroscedastic = True
            return output_shape[:-1] + (output_shape[-1] // 2,)
        self.heteroscedastic = False
        return super()._build(output_shape, target_shape)

    def init(self, key):
        del key
        if self.heteroscedastic:
            return {}
        return {"raw_scale": jnp.asarray(_softplus_inverse(self.init_scale), jnp.float32)}

    def _loc_scale(self, params, outputs):
        if self.heteroscedastic:
            k = outputs.shape[-1] // 2
            loc, raw = outputs[..., :k], outputs[..., k:]
            return loc, jax.nn.softplus(raw) + _MIN_SCALE
        scale = jax.nn.softplus(params["raw_scale"]) + _MIN_SCALE
        return outputs, jnp.broadcast_to(scale.astype(outputs.dtype), outputs.shape)


class Normal(_LocationScale):
    """Gaussian targets: loc from the network, scale learned (softplus).

    Homoscedastic (one trainable raw scale, softplus) unless the network outputs two
    channels per target value (loc, raw scale), which `heteroscedastic=None` detects.

    Args:
        heteroscedastic: None (detect from shapes), True or False.
        init_scale: initial noise scale of the homoscedastic head.

    Example:
        >>> import jax.numpy as jnp
        >>> head = Normal()
        >>> head.build((2,), ())
        >>> head.heteroscedastic
        True
    """

    name = "normal"

    def distribution(self, params, outputs):
        loc, scale = self._loc_scale(params, outputs)
        return _family("Normal")(loc, scale)

    def point(self, dist):
        return dist.loc


class StudentT(_LocationScale):
    """Student-t targets (robust regression): loc from the network, scale and df learned.

    Args:
        df: degrees of freedom; None learns them (softplus, started at 5), a number
            fixes them.
        heteroscedastic: None (detect from shapes), True or False.
        init_scale: initial noise scale of the homoscedastic head.

    Example:
        >>> head = StudentT(df=4.0)
        >>> head.build((1,), ())
        >>> sorted(head.init(None))
        ['raw_scale']
    """

    name = "studentt"

    def __init__(self, *, df=None, heteroscedastic=None, init_scale=1.0):
        super().__init__(heteroscedastic=heteroscedastic, init_scale=init_scale)
        if df is not None and not df > 0:
            raise ValueError(f"`df` must be None (learned) or > 0; got {df}")
        self.df = df

    def init(self, key):
        params = super().init(key)
        if self.df is None:
            params["raw_df"] = jnp.asarray(_softplus_inverse(5.0), jnp.float32)
        return params

    def distribution(self, params, outputs):
        loc, scale = self._loc_scale(params, outputs)
        if self.df is None:
            df = jax.nn.softplus(params["raw_df"]).astype(outputs.dtype) + _MIN_SCALE
        else:
            df = jnp.asarray(self.df, outputs.dtype)
        return _family("StudentT")(jnp.broadcast_to(df, loc.shape), loc, scale)

    def point(self, dist):
        return dist.loc


class Laplace(_LocationScale):
    """Laplace targets: the likelihood whose negative log is the absolute error (Keras "mae").

    Location from the network, scale learned (softplus) or from a second channel, as
    `Normal`.

    Args:
        heteroscedastic: None (detect from shapes), True or False.
        init_scale: initial scale of the homoscedastic head.

    Example:
        >>> import jax.numpy as jnp
        >>> head = Laplace()
        >>> head.build((1,), ())
        >>> round(float(head.distribution(head.init(None), jnp.zeros((1, 1))).scale[0, 0]), 4)
        1.0
    """

    name = "laplace"

    def distribution(self, params, outputs):
        loc, scale = self._loc_scale(params, outputs)
        return _family("Laplace")(loc, scale)

    def point(self, dist):
        return dist.loc


class Bernoulli(Likelihood):
    """Binary targets in {0, 1}; the network outputs logits (or probabilities).

    Args:
        inputs: ``"logits"`` (default) or ``"probs"``: the network ends in a sigmoid
            (Keras's ``from_logits=False``); probabilities are clipped to
            ``[1e-7, 1 - 1e-7]`` before their log-odds are taken.

    Example:
        >>> head = Bernoulli()
        >>> head.build((1,), ())
        >>> head.target_shape
        (1,)
    """

    name = "bernoulli"
    is_classifier = True

    def __init__(self, *, inputs="logits"):
        super().__init__()
        self.inputs = _check_inputs("bernoulli", inputs, ("logits", "probs"))

    def distribution(self, params, outputs):
        del params
        if self.inputs == "probs":
            probs = jnp.clip(outputs, _PROB_EPSILON, 1.0 - _PROB_EPSILON)
            outputs = jnp.log(probs) - jnp.log1p(-probs)
        return _family("Bernoulli")(logits=outputs)

    def check_targets(self, y, argname="y"):
        bad = ~np.isin(y, (0, 1))
        if bad.any():
            raise ValueError(
                f"bernoulli likelihood: `{argname}` must hold 0/1 labels; got "
                f"{np.unique(np.asarray(y)[bad])[:5]}"
            )

    def point(self, dist):
        return jax.nn.sigmoid(dist.logits)


class Categorical(Likelihood):
    """Class labels; the network outputs logits with the classes on the last axis.

    Targets may be integer labels or one-hot rows (converted to labels).

    Args:
        inputs: ``"logits"`` (default) or ``"probs"``: the network ends in a softmax
            (Keras's ``from_logits=False``); probabilities are clipped to ``>= 1e-7``
            and their log is used as logits.

    Example:
        >>> import numpy as np
        >>> head = Categorical()
        >>> head.build((3,), (3,))  # one-hot targets
        >>> head.prepare_targets(np.eye(3)[[2, 0]])
        array([2, 0], dtype=int32)
    """

    name = "categorical"
    is_classifier = True
    target_kind = "int"

    def __init__(self, *, inputs="logits"):
        super().__init__()
        self.inputs = _check_inputs("categorical", inputs, ("logits", "probs"))
        self.one_hot = False

    @property
    def num_classes(self) -> int:
        return self.output_shape[-1]

    def _build(self, output_shape, target_shape):
        label_shape = output_shape[:-1]
        self.one_hot = target_shape == output_shape and output_shape[-1] > 1
        if self.one_hot or math.prod(target_shape) == math.prod(label_shape):
            return label_shape
        raise ValueError(
            f"categorical likelihood: targets of per-example shape {target_shape} must be "
            f"integer labels of shape {label_shape} or one-hot of shape {output_shape}"
        )

    def _is_one_hot(self, y) -> bool:
        # Either form is accepted whatever the head was built with.
        return y.shape[1:] == self.output_shape and self.output_shape[-1] > 1

    def prepare_targets(self, y):
        y = np.asarray(y)
        if self._is_one_hot(y):
            y = np.argmax(y, axis=-1)
        return y.reshape((y.shape[0],) + self.target_shape).astype(np.int32)

    def check_targets(self, y, argname="y"):
        y = np.asarray(y)
        if self._is_one_hot(y):
            if not (np.isin(y, (0, 1)).all() and (y.sum(-1) == 1).all()):
                raise ValueError(f"categorical likelihood: one-hot `{argname}` rows must be 0/1 "
                                 "with exactly one 1")
            return
        if not np.all(np.equal(np.mod(y, 1), 0)):
            raise ValueError(f"categorical likelihood: `{argname}` must hold integer labels; "
                             f"got values such as {y.ravel()[np.mod(y.ravel(), 1) != 0][:3]}")
        lo, hi = y.min(), y.max()
        if lo < 0 or hi >= self.num_classes:
            raise ValueError(
                f"categorical likelihood: labels in `{argname}` must lie in "
                f"[0, {self.num_classes - 1}] for {self.num_classes} output classes; got "
                f"range [{lo}, {hi}]"
            )

    def distribution(self, params, outputs):
        del params
        if self.inputs == "probs":
            outputs = jnp.log(jnp.clip(outputs, _PROB_EPSILON, 1.0))
        return _family("Categorical")(logits=outputs)

    def point(self, dist):
        return jax.nn.softmax(dist.logits, axis=-1)


class Poisson(Likelihood):
    """Count targets; the network outputs the log rate (or the rate).

    Args:
        inputs: ``"log_rate"`` (default) or ``"rate"``: the network's output is the
            rate itself (Keras's "poisson" loss; an exponential or softplus last
            activation), clipped to ``>= 1e-7``.

    Example:
        >>> head = Poisson()
        >>> head.build((1,), ())
        >>> head.name
        'poisson'
    """

    name = "poisson"

    def __init__(self, *, inputs="log_rate"):
        super().__init__()
        self.inputs = _check_inputs("poisson", inputs, ("log_rate", "rate"))

    def distribution(self, params, outputs):
        del params
        if self.inputs == "rate":
            return _family("Poisson")(jnp.maximum(outputs, _PROB_EPSILON))
        return _family("Poisson")(jnp.exp(outputs))

    def check_targets(self, y, argname="y"):
        y = np.asarray(y)
        if (y < 0).any() or not np.all(np.equal(np.mod(y, 1), 0)):
            raise ValueError(f"poisson likelihood: `{argname}` must hold non-negative integer "
                             f"counts; got min {y.min()}")


class Callable(Likelihood):
    """A user function ``fn(outputs) -> probflow Distribution`` as the likelihood.

    Args:
        fn: maps a batch of network outputs (leading batch axis) to a distribution
            whose ``batch_shape + event_shape`` starts with the batch axis.

    Example:
        >>> import jax.numpy as jnp
        >>> from probflow import distributions as dist
        >>> head = Callable(lambda out: dist.Normal(out[..., 0], 0.5))
        >>> head.build((1,), ())
        >>> head.target_shape
        ()
    """

    name = "custom"

    def __init__(self, fn):
        super().__init__()
        if not callable(fn):
            raise TypeError(f"`fn` must be callable; got {type(fn).__name__}")
        self.fn = fn

    def _build(self, output_shape, target_shape):
        dist = jax.eval_shape(self.fn, jax.ShapeDtypeStruct((2,) + output_shape, jnp.float32))
        shape = tuple(dist.batch_shape) + tuple(dist.event_shape)
        if shape[:1] != (2,):
            raise ValueError(
                "custom likelihood: the distribution must keep the batch axis first; for "
                f"2 examples it has shape {shape}"
            )
        if math.prod(shape[1:]) != math.prod(target_shape):
            raise ValueError(
                f"custom likelihood: targets of per-example shape {target_shape} do not fit "
                f"the distribution's per-example shape {shape[1:]}"
            )
        return shape[1:]

    def distribution(self, params, outputs):
        del params
        return self.fn(outputs)


_BY_NAME = {
    "normal": Normal,
    "gaussian": Normal,
    "studentt": StudentT,
    "student_t": StudentT,
    "laplace": Laplace,
    "bernoulli": Bernoulli,
    "categorical": Categorical,
    "poisson": Poisson,
}


def get_likelihood(spec) -> Likelihood:
    """Resolves a name, a `Likelihood` or a callable into a fresh likelihood head.

    Args:
        spec: one of ``"normal"``, ``"studentt"``, ``"laplace"``, ``"bernoulli"``,
            ``"categorical"``, ``"poisson"``, a `Likelihood` instance, or ``fn(outputs) -> Distribution``.

    Returns:
        A `Likelihood`.

    Example:
        >>> get_likelihood("categorical").name
        'categorical'
    """
    if isinstance(spec, Likelihood):
        return spec
    if isinstance(spec, str):
        try:
            return _BY_NAME[spec.lower()]()
        except KeyError:
            raise ValueError(
                f"`likelihood` must be one of {sorted(set(_BY_NAME) - {'gaussian', 'student_t'})}, "
                f"a Likelihood or a callable; got {spec!r}"
            ) from None
    if callable(spec):
        return Callable(spec)
    raise TypeError(
        f"`likelihood` must be a name, a Likelihood or a callable; got {type(spec).__name__}"
    )
