"""Keras losses as probflow likelihoods, and custom loss functions as Gibbs likelihoods.

A Keras loss is a negative log-likelihood in disguise: cross-entropy is the categorical
(or Bernoulli) likelihood, mean squared error the Normal likelihood with a fixed scale,
mean absolute error the Laplace likelihood. `likelihood_for_loss` maps the Keras name
(function or class spelling) to the probflow head; the head's noise scale is learned
rather than fixed, which changes the optimum of the weights only through that scale.

`from_logits`, as in Keras: False (Keras's default) means the network outputs
probabilities (it ends in a softmax / sigmoid), so the head is built with
``inputs="probs"`` and takes the log of the clipped probabilities; True means raw
logits. probflow's own ``likelihood="categorical"`` reads logits.
`output_activation_check` warns when the last activation and the head disagree (a
softmax under a logits head is softmax applied twice); it never edits the model.

A plain function ``fn(y_true, y_pred) -> per-example loss`` becomes `LossLikelihood`:
``log p(y | outputs) = -scale * fn(y, outputs)`` up to a constant, the generalised-Bayes
(Gibbs) posterior of Bissiri, Holmes & Walker (2016). It has no noise model, so
predictive draws carry weight uncertainty only, and nothing is sampled from it.

Example:
    >>> head = likelihood_for_loss("sparse_categorical_crossentropy")
    >>> head.name, head.inputs
    ('categorical', 'probs')
"""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np

from probflow.nn import likelihoods
from probflow.nn.utils import per_example_values

__all__ = ["LossLikelihood", "likelihood_for_loss", "loss_names", "output_activation_check"]


def _normalise(name: str) -> str:
    # "SparseCategoricalCrossentropy" and "sparse_categorical_crossentropy" meet here.
    return name.replace("_", "").lower()


# normalised name -> (likelihood class, kind of from_logits handling)
_LOSSES = {
    "sparsecategoricalcrossentropy": (likelihoods.Categorical, "probs"),
    "categoricalcrossentropy": (likelihoods.Categorical, "probs"),
    "binarycrossentropy": (likelihoods.Bernoulli, "probs"),
    "mse": (likelihoods.Normal, None),
    "meansquarederror": (likelihoods.Normal, None),
    "mae": (likelihoods.Laplace, None),
    "meanabsoluteerror": (likelihoods.Laplace, None),
    "poisson": (likelihoods.Poisson, "rate"),
}
_NO_LIKELIHOOD = {
    "huber": "the Huber loss is no log-density of a noise model; for robust regression "
             "use likelihood='studentt', or pass a Huber function as a custom loss "
             "(a Gibbs likelihood, see LossLikelihood)",
    "kldivergence": "KL divergence compares two distributions (soft labels), it is not a "
                    "likelihood of targets; use 'categorical_crossentropy' with labels or "
                    "pass a custom loss function",
    "kld": "see 'kl_divergence': no likelihood of targets",
}
_WITHOUT_LIKELIHOOD = ("hinge", "squared_hinge", "categorical_hinge", "log_cosh",
                       "cosine_similarity", "mean_squared_logarithmic_error",
                       "mean_absolute_percentage_error", "msle", "mape", "ctc", "dice", "tversky")


def loss_names() -> list:
    """The Keras loss names `likelihood_for_loss` maps (in Keras's function spelling).

    Example:
        >>> "binary_crossentropy" in loss_names()
        True
    """
    return sorted(["sparse_categorical_crossentropy", "categorical_crossentropy",
                   "binary_crossentropy", "mse", "mean_squared_error", "mae",
                   "mean_absolute_error", "poisson"])


def _name_and_logits(loss, from_logits):
    """A Keras loss object (anything with get_config) gives its class name and flag."""
    if isinstance(loss, str):
        return loss, from_logits
    config = loss.get_config() if callable(getattr(loss, "get_config", None)) else {}
    if from_logits is None and isinstance(config, dict):
        from_logits = config.get("from_logits")
    return type(loss).__name__, from_logits


def likelihood_for_loss(loss, *, from_logits=None) -> likelihoods.Likelihood:
    """The probflow likelihood head that a Keras loss stands for.

    Args:
        loss: a Keras loss name (``"sparse_categorical_crossentropy"``,
            ``"categorical_crossentropy"``, ``"binary_crossentropy"``, ``"mse"`` /
            ``"mean_squared_error"``, ``"mae"`` / ``"mean_absolute_error"``,
            ``"poisson"``; class spellings such as ``"BinaryCrossentropy"`` too), a Keras
            loss object of those classes (read by name and ``get_config()``), or a
            function ``fn(y_true, y_pred) -> loss`` (a `LossLikelihood`).
        from_logits: for cross-entropies, whether the network outputs logits (True) or
            probabilities (False; None means Keras's default, False). For ``"poisson"``,
            True means the network outputs the log rate (Keras: the rate). Regression
            losses take no `from_logits`.

    Returns:
        A fresh `Likelihood`.

    Raises:
        ValueError: for a loss no likelihood fits (``"huber"``, ``"kl_divergence"``,
            hinge losses, ...), naming an alternative, or an unknown name.
        TypeError: for `from_logits` with a regression loss, or a non-bool.

    Example:
        >>> likelihood_for_loss("BinaryCrossentropy", from_logits=True).inputs
        'logits'
        >>> likelihood_for_loss("mae").name
        'laplace'
    """
    if from_logits is not None and not isinstance(from_logits, bool):
        raise TypeError(f"likelihood_for_loss: `from_logits` must be None or a bool; got "
                        f"{from_logits!r}")
    if not isinstance(loss, str) and not hasattr(loss, "get_config"):
        if callable(loss):
            if from_logits is not None:
                raise TypeError("likelihood_for_loss: `from_logits` does not apply to a custom "
                                "loss function (it receives the raw network outputs)")
            return LossLikelihood(loss)
        raise TypeError(f"likelihood_for_loss: `loss` must be a name, a Keras loss or a function "
                        f"fn(y_true, y_pred); got {type(loss).__name__}")
    name, from_logits = _name_and_logits(loss, from_logits)
    key = _normalise(name)
    if key in _NO_LIKELIHOOD:
        raise ValueError(f"likelihood_for_loss: no likelihood fits `loss` {name!r}: "
                         f"{_NO_LIKELIHOOD[key]}")
    if key in {_normalise(n) for n in _WITHOUT_LIKELIHOOD}:
        raise ValueError(f"likelihood_for_loss: `loss` {name!r} has no probflow likelihood; pass "
                         "the loss function itself (a Gibbs likelihood, see LossLikelihood) or "
                         f"choose a likelihood; mapped losses: {loss_names()}")
    if key not in _LOSSES:
        raise ValueError(f"likelihood_for_loss: `loss` must be one of {loss_names()} (or a "
                         f"Keras class spelling, or a function); got {name!r}")
    cls, kind = _LOSSES[key]
    if kind is None:
        if from_logits:
            raise TypeError(f"likelihood_for_loss: `from_logits` does not apply to {name!r}")
        return cls()
    if kind == "rate":
        return cls(inputs="log_rate" if from_logits else "rate")
    return cls(inputs="logits" if from_logits else "probs")


# -- the last activation against the head --------------------------------------------------
# Activations that already produce what a head reads; the first two per kind are the
# link functions a logits / log-rate head applies itself.
_PRODUCES = {"probs": ("softmax", "sigmoid"), "rate": ("exponential", "softplus", "relu")}
_RAW = {"logits": "probs", "log_rate": "rate"}


def _activation_name(activation):
    """The registered name of an activation, "linear" for None, "custom" when unknown."""
    from probflow.nn.layers.activations import activation_name

    if hasattr(activation, "apply") and hasattr(activation, "get_config"):  # a layer
        config = activation.get_config()
        if "activation" not in config:
            return "custom"  # Flatten, Reshape, ...: its input's activation is not known here
        activation = config["activation"]
    if activation is jax.nn.softmax:
        return "softmax"  # our registered softmax wraps jax's with axis=-1
    try:
        name = activation_name(activation)
    except ValueError:
        return "custom"  # an unregistered callable: nothing to say about it
    return "linear" if name is None else name


def output_activation_check(activation, likelihood):
    """Warns when the network's last activation and the likelihood head disagree.

    Decision: warn, never strip. The head could silently drop a final softmax, but then
    `model.predict` would no longer run the model the user wrote; the warning names the
    fix instead: drop the activation, or read the outputs as probabilities
    (``inputs="probs"``, Keras's ``from_logits=False``).

    Args:
        activation: the last layer's activation: a name, a registered function, None,
            or the layer itself (its ``get_config()["activation"]``).
        likelihood: a likelihood head (or a name for `get_likelihood`).

    Returns:
        The warning message, or None when they agree (or nothing is known).

    Example:
        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     print(output_activation_check("softmax", "categorical")[:34])
        softmax output under a categorical
    """
    head = likelihoods.get_likelihood(likelihood)
    inputs = getattr(head, "inputs", None)
    if inputs is None:
        return None
    name = _activation_name(activation)
    message = None
    if inputs in _RAW and name in _PRODUCES[_RAW[inputs]][:2]:
        message = (f"{name} output under a {head.name} likelihood that reads {inputs}: the "
                   f"likelihood applies its own link, so {name} is applied twice. Remove the "
                   f"final {name} activation, or build the head with inputs="
                   f"{_RAW[inputs]!r} (Keras: from_logits=False)")
    elif inputs in _PRODUCES and name not in _PRODUCES[inputs] and name != "custom":
        wanted = "probabilities" if inputs == "probs" else "positive rates"
        message = (f"{name} output under a {head.name} likelihood that reads {inputs}: the "
                   f"outputs are not {wanted}; end the network in "
                   f"{' / '.join(_PRODUCES[inputs])}, or read raw outputs (Keras: "
                   "from_logits=True)")
    if message is not None:
        warnings.warn(message, UserWarning, stacklevel=2)
    return message


# -- custom loss functions -------------------------------------------------------------------
class LossLikelihood(likelihoods.Likelihood):
    """A Keras-style loss ``fn(y_true, y_pred)`` used as a negative log-likelihood.

    ``log p(y | outputs) = -scale * fn(y, outputs)`` per example, up to a constant: the
    Gibbs (generalised-Bayes) posterior ``p(w | data) ∝ p(w) exp(-scale * sum loss)``
    (Bissiri, Holmes & Walker 2016). `scale` is that posterior's learning rate: it sets
    how much the data outweigh the prior, which a loss without a noise model cannot say.
    `fn` may return one value per example, per element (averaged over the non-batch
    axes, as Keras does), or a scalar for the whole batch (it is then evaluated one
    example at a time, so padded rows stay out). The predictive distribution is the
    network output itself (`Deterministic`): no noise is sampled.

    Args:
        fn: ``fn(y_true, y_pred) -> loss`` on a batch (leading batch axis).
        scale: positive multiplier of the loss (1.0: the loss is the NLL).

    Example:
        >>> import jax.numpy as jnp
        >>> head = LossLikelihood(lambda y, p: jnp.mean(jnp.abs(y - p), axis=-1))
        >>> head.build((2,), (2,))
        >>> head.log_likelihood({}, jnp.zeros((3, 2)), jnp.ones((3, 2))).tolist()
        [-1.0, -1.0, -1.0]
    """

    name = "loss"

    def __init__(self, fn, *, scale=1.0):
        super().__init__()
        if not callable(fn):
            raise TypeError(f"LossLikelihood: `fn` must be callable; got {type(fn).__name__}")
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not scale > 0:
            raise ValueError(f"LossLikelihood: `scale` must be a number > 0; got {scale!r}")
        self.fn = fn
        self.scale = float(scale)
        self.name = getattr(fn, "__name__", "loss")

    def _build(self, output_shape, target_shape):
        batch = 2
        pred = jax.ShapeDtypeStruct((batch,) + output_shape, jnp.float32)
        errors = []
        # Targets are float or integer labels; the shapes are all that is known here.
        for dtype in (jnp.float32, jnp.int32):
            try:
                out = jax.eval_shape(self.fn, jax.ShapeDtypeStruct((batch,) + target_shape, dtype),
                                     pred)
                break
            except Exception as err:  # the user's function: report what it was called with
                errors.append(err)
        else:
            err = errors[0]
            raise ValueError(
                f"custom loss {self.name!r}: calling it on targets of per-example shape "
                f"{target_shape} and outputs of per-example shape {output_shape} failed: "
                f"{type(err).__name__}: {err}"
            ) from err
        if not hasattr(out, "shape") or (out.shape and out.shape[:1] != (batch,)):
            raise ValueError(f"custom loss {self.name!r} must return a scalar or an array with "
                             f"the batch axis first; got {getattr(out, 'shape', out)}")
        return target_shape

    def _target_dtype(self, y):
        # Integer labels stay integers: a custom sparse loss indexes with them.
        return np.int32 if np.issubdtype(y.dtype, np.integer) else super()._target_dtype(y)

    def log_likelihood(self, params, outputs, y):
        del params
        return -self.scale * per_example_values(self.fn, y, outputs)

    def distribution(self, params, outputs):
        del params
        return likelihoods._family("Deterministic")(outputs)

    def __repr__(self):
        return f"LossLikelihood({self.name}, scale={self.scale})"
