"""`Lambda`: a layer made of a function, saved by a registered name.

Loading a model never runs code from the file, so a `Lambda` cannot store its
function's code: the function is registered under a name
(`register_lambda_function`) in the program that saves and in the one that loads, and
the saved config holds only that name. Saving a `Lambda` whose function is not
registered raises at `get_config` (so at `model.save`), naming the fix.

Example:
    >>> import jax.numpy as jnp
    >>> @register_lambda_function("double")
    ... def double(x):
    ...     return 2 * x
    >>> layer = Lambda(double)
    >>> layer.apply({}, {}, jnp.ones((1, 2)))[0].tolist(), layer.get_config()["function"]
    ([[2.0, 2.0]], 'double')
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from probflow.nn.layers.layer import Layer, as_input_shape
from probflow.nn.layers.registry import register_layer

__all__ = ["Lambda", "register_lambda_function", "registered_lambda_functions"]

_FUNCTIONS: dict = {}


def register_lambda_function(name: str, fn=None):
    """Registers `fn` under `name` so `Lambda` layers using it can be saved and loaded.

    Use as a decorator, ``@register_lambda_function("name")``, or call it with the
    function. Registering the same name again replaces the function (a reloaded module
    re-registers its functions).

    Args:
        name: a non-empty str, the name written to saved models.
        fn: the function; omitted when used as a decorator.

    Returns:
        `fn` (or the decorator).

    Example:
        >>> import jax.numpy as jnp
        >>> square = register_lambda_function("square_it", lambda x: x * x)
        >>> Lambda("square_it").apply({}, {}, jnp.array([[3.0]]))[0].tolist()
        [[9.0]]
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"register_lambda_function: `name` must be a non-empty str; got {name!r}")

    def register(function):
        if not callable(function):
            raise TypeError(f"register_lambda_function: `fn` must be callable; got "
                            f"{type(function).__name__}")
        _FUNCTIONS[name] = function
        return function

    return register if fn is None else register(fn)


def registered_lambda_functions() -> dict:
    """A copy of the name -> function registry.

    Example:
        >>> isinstance(registered_lambda_functions(), dict)
        True
    """
    return dict(_FUNCTIONS)


def _function_name(function):
    for name, registered in _FUNCTIONS.items():
        if registered is function:
            return name
    return None


def _is_shape_list(input_shape):
    return isinstance(input_shape, (list, tuple)) and bool(input_shape) and all(
        isinstance(s, (list, tuple)) for s in input_shape)


@register_layer
class Lambda(Layer):
    """Applies ``function(x)`` to the batch (``x`` a list when called on several inputs).

    The function must be jax-traceable and keep the batch axis first; it has no
    weights. Keras's ``mask`` and ``arguments`` options are not supported (close over
    constants in the function instead).

    Args:
        function: a callable, or the name of a registered function
            (`register_lambda_function`); only registered functions can be saved.
        output_shape: the per-example output shape; None infers it with
            `jax.eval_shape`.
        name: layer name.

    Example:
        >>> import jax.numpy as jnp
        >>> Lambda(lambda x: x[:, :2]).output_shape((5,))
        (2,)
        >>> Lambda(lambda xs: xs[0] * xs[1]).output_shape([(3,), (3,)])
        (3,)
    """

    def __init__(self, function, output_shape=None, *, name=None):
        super().__init__(name=name)
        if isinstance(function, str):
            if function not in _FUNCTIONS:
                raise ValueError(f"Lambda: `function` {function!r} is not a registered function; "
                                 f"known: {sorted(_FUNCTIONS)}. Register it with "
                                 "probflow.nn.layers.register_lambda_function(name, fn)")
            function = _FUNCTIONS[function]
        if not callable(function):
            raise TypeError(f"Lambda: `function` must be callable or a registered name; got "
                            f"{type(function).__name__}")
        self.function = function
        self._output = None if output_shape is None else as_input_shape(
            output_shape, f"Lambda {self.name!r} `output_shape`")
        self._config = {"function": function, "output_shape": self._output}

    def _validated_shape(self, input_shape):
        owner = f"Lambda {self.name!r}"
        if _is_shape_list(input_shape):
            return [as_input_shape(s, owner) for s in input_shape]
        return as_input_shape(input_shape, owner)

    def _output_shape(self, input_shape):
        inferred = self._inferred_shape(input_shape)
        if self._output is not None and inferred != self._output:
            raise ValueError(f"Lambda {self.name!r}: `output_shape` {self._output} does not match "
                             f"what the function returns for inputs of shape {input_shape}: "
                             f"{inferred}")
        return inferred

    def _inferred_shape(self, input_shape):
        batch = 2

        def spec(shape):
            return jax.ShapeDtypeStruct((batch,) + tuple(shape), jnp.float32)

        args = [spec(s) for s in input_shape] if isinstance(input_shape, list) else spec(input_shape)
        try:
            out = jax.eval_shape(self.function, args)
        except Exception as err:  # the user's function: say what it was called on
            raise ValueError(f"Lambda {self.name!r}: the function failed on inputs of per-example "
                             f"shape {input_shape}: {type(err).__name__}: {err}") from err
        shape = getattr(out, "shape", None)
        if shape is None or tuple(shape[:1]) != (batch,):
            raise ValueError(f"Lambda {self.name!r}: the function must return one array with the "
                             f"batch axis first; for {batch} examples it returned "
                             f"{getattr(out, 'shape', type(out).__name__)}")
        return tuple(shape[1:])

    def _check_input_shape(self, input_shape):
        self._output_shape(input_shape)

    def apply(self, params, state, x, *, key=None, training=False):
        del params, key, training
        return self.function(x), state

    def _json_value(self, argument, value):
        if argument != "function":
            return super()._json_value(argument, value)
        name = _function_name(value)
        if name is None:
            raise ValueError(
                f"Lambda {self.name!r}: cannot save function {value!r}: loading never runs code "
                "from a file, so a Lambda is saved by a registered name. Decorate the function "
                "with @probflow.nn.layers.register_lambda_function('some_name') (in the program "
                "that loads the model too)"
            )
        return name
