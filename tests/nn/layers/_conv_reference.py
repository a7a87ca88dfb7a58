"""A slow, obviously-correct convolution for the tests: scipy.signal.correlate per
(example, in-channel, filter), with explicit dilation, TF-style padding and striding."""

import math

import numpy as np
from scipy import signal


def padding_amounts(length, window, stride, dilation, padding):
    """(before, after) zeros along one axis, as TensorFlow / Keras pad."""
    effective = (window - 1) * dilation + 1
    if padding == "valid":
        return 0, 0
    if padding == "causal":
        return effective - 1, 0
    out = math.ceil(length / stride)
    total = max((out - 1) * stride + effective - length, 0)
    return total // 2, total - total // 2


def reference_conv(x, kernel, strides, padding, dilation):
    """x: (N, *spatial, C_in); kernel: (*window, C_in, C_out); float64 result."""
    x = np.asarray(x, np.float64)
    kernel = np.asarray(kernel, np.float64)
    rank = x.ndim - 2
    window = kernel.shape[:rank]
    effective = tuple((k - 1) * d + 1 for k, d in zip(window, dilation))
    dilated = np.zeros(effective + kernel.shape[rank:])
    dilated[tuple(slice(None, None, d) for d in dilation)] = kernel
    pads = [padding_amounts(n, k, s, d, padding) for n, k, s, d in zip(x.shape[1:-1], window, strides, dilation)]
    xp = np.pad(x, [(0, 0)] + pads + [(0, 0)])
    outputs = []
    for example in xp:
        channels = []
        for o in range(kernel.shape[-1]):
            acc = sum(
                signal.correlate(example[..., c], dilated[..., c, o], mode="valid")
                for c in range(kernel.shape[-2])
            )
            channels.append(acc[tuple(slice(None, None, s) for s in strides)])
        outputs.append(np.stack(channels, -1))
    return np.stack(outputs)


def reference_pool(x, pool, strides, padding, reduction):
    """Windowed max / mean over the spatial axes of (N, *spatial, C), ignoring padding."""
    x = np.asarray(x, np.float64)
    rank = x.ndim - 2
    spatial = x.shape[1:-1]
    pads = [padding_amounts(n, p, s, 1, padding) for n, p, s in zip(spatial, pool, strides)]
    outs = [
        (n + b + a - p) // s + 1 for n, (b, a), p, s in zip(spatial, pads, pool, strides)
    ]
    y = np.zeros((x.shape[0], *outs, x.shape[-1]))
    for index in np.ndindex(*outs):
        slices = []
        for i, (b, _), p, s, n in zip(index, pads, pool, strides, spatial):
            start = i * s - b
            slices.append(slice(max(start, 0), min(start + p, n)))
        window = x[(slice(None), *slices, slice(None))]
        axes = tuple(range(1, rank + 1))
        y[(slice(None), *index, slice(None))] = window.max(axes) if reduction == "max" else window.mean(axes)
    return y
