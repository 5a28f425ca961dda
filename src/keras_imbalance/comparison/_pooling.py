"""Max pooling over non-overlapping windows as a reshape and a maximum (JAX, for the compiled
fold of a convolutional model on the CPU).

Keras' max pooling on JAX is ``jax.lax.reduce_window``, whose gradient XLA computes as a
select-and-scatter: on the CPU that was half of the default ``cnn_model``'s training step
(its gradient on 240 rows of 28 x 28 x 3: 160 ms of CPU with it, 84 ms with the reshape;
the pooling's gradient alone 63 ms against 7 ms; ``benchmarks/bench_conv_steps.py
pooling``). Where the windows do not overlap (strides equal to the pool size, Keras'
default), the same maximum is a reshape of the padded input into ``(..., out, pool, ...)``
and a reduction over the pool axes, and its gradient goes, as XLA's does, to the first
maximum of each window in row-major order (ties included): the same numbers, forward and
backward.

:func:`window_pooling` puts it in place of ``keras.src.backend.jax.nn.max_pool`` while the
compiled fold traces a model (``_compiled._apply``; Python runs a jitted function's body only
while tracing it, so the compiled programs keep it and nothing else sees it, save a call of
Keras' max pooling from another thread meanwhile, which gets the same numbers). Overlapping
windows, integer inputs and a Keras without that function keep Keras' own.
"""

from __future__ import annotations

import contextlib
import functools
import sys

_KERAS_JAX_NN = "keras.src.backend.jax.nn"


def _pads(size: int, pool: int) -> tuple:
    """XLA's ``SAME`` padding (before, after) of one axis when the stride is the pool."""
    total = -(-size // pool) * pool - size
    return total // 2, total - total // 2


def _layout(ndim: int, channels_last: bool) -> list:
    """The spatial axes of an ``ndim``-dimensional batch."""
    return list(range(1, ndim - 1)) if channels_last else list(range(2, ndim))


def _windows(x, pool: tuple, same: bool, channels_last: bool):
    """``x`` padded (``SAME``, with -inf) or cut (``VALID``) to whole windows and reshaped so
    that each spatial axis of size ``k * p`` becomes two axes ``(k, p)``; the pool axes."""
    import jax.numpy as jnp

    axes = _layout(x.ndim, channels_last)
    if same:
        widths = [(0, 0)] * x.ndim
        for a, p in zip(axes, pool, strict=True):
            widths[a] = _pads(x.shape[a], p)
        x = jnp.pad(x, widths, constant_values=-jnp.inf)
    else:
        whole = {a: x.shape[a] // p * p for a, p in zip(axes, pool, strict=True)}
        x = x[tuple(slice(0, whole[a]) if a in whole else slice(None) for a in range(x.ndim))]
    shape, pools = [], []
    for a in range(x.ndim):
        if a in axes:
            p = pool[axes.index(a)]
            shape += [x.shape[a] // p, p]
            pools.append(len(shape) - 1)
        else:
            shape.append(x.shape[a])
    return x.reshape(shape), pools


def window_max(x, pool: tuple, same: bool, channels_last: bool):
    """The maximum of each non-overlapping ``pool`` window of ``x`` (``same``: windows padded
    as XLA's ``SAME``, else ``VALID``; ``channels_last``: the batch's layout); equal to
    ``jax.lax.reduce_window(x, -inf, max, ...)`` with strides ``pool``, and so is its
    gradient."""
    return _differentiable()(x, pool, same, channels_last)


@functools.cache
def _differentiable():
    """:func:`_maximum` with :func:`_backward` as its gradient (jax imported on first use)."""
    import jax

    fn = jax.custom_vjp(_maximum, nondiff_argnums=(1, 2, 3))
    fn.defvjp(_forward, _backward)
    return fn


def _maximum(x, pool, same, channels_last):
    windows, pools = _windows(x, pool, same, channels_last)
    return windows.max(axis=tuple(pools))


def _forward(x, pool, same, channels_last):
    out = _maximum(x, pool, same, channels_last)
    return out, (x, out)


def _backward(pool, same, channels_last, saved, grad):
    import jax.numpy as jnp

    x, out = saved
    windows, pools = _windows(x, pool, same, channels_last)
    hit = windows == jnp.expand_dims(out, pools)
    # the first maximum of each window in row-major order, as XLA's select-and-scatter
    ends = list(range(hit.ndim - len(pools), hit.ndim))
    flat = jnp.moveaxis(hit, pools, ends)
    shape = flat.shape
    flat = flat.reshape(*shape[: -len(pools)], -1)
    first = flat & (jnp.cumsum(flat, axis=-1) == 1)
    first = jnp.moveaxis(first.reshape(shape), ends, pools)
    spread = jnp.where(first, jnp.expand_dims(grad, pools), 0.0).astype(x.dtype)
    padded = spread.reshape(_merged(windows.shape, pools))
    axes = _layout(x.ndim, channels_last)
    index, widths = [], [(0, 0)] * x.ndim
    for a in range(x.ndim):
        if a not in axes:
            index.append(slice(None))
        elif same:
            before = _pads(x.shape[a], pool[axes.index(a)])[0]
            index.append(slice(before, before + x.shape[a]))
        else:
            index.append(slice(None))
            widths[a] = (0, x.shape[a] - padded.shape[a])
    cut = padded[tuple(index)]
    if not same:  # the rows and columns VALID left out of every window
        cut = jnp.pad(cut, widths)
    return (cut,)


def _merged(shape: tuple, pools: list) -> list:
    """``shape`` with each pool axis merged into the axis before it."""
    merged = []
    for a, s in enumerate(shape):
        if a in pools:
            merged[-1] *= s
        else:
            merged.append(s)
    return merged


def _spatial(value, n: int) -> tuple | None:
    """A pool size or stride as a tuple of ``n`` ints (None: not a form read here)."""
    if isinstance(value, int):
        return (value,) * n
    if (
        isinstance(value, (tuple, list))
        and len(value) == n
        and all(isinstance(v, int) for v in value)
    ):
        return tuple(value)
    return None


def _max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None, *, keras_own):
    """Keras' ``max_pool`` on JAX: by :func:`window_max` when the windows do not overlap."""
    import jax.numpy as jnp
    import keras

    n = inputs.ndim - 2
    pool = _spatial(pool_size, n)
    stride = pool if strides is None else _spatial(strides, n)
    form = data_format or keras.config.image_data_format()
    mode = padding.lower() if isinstance(padding, str) else None
    floating = jnp.issubdtype(inputs.dtype, jnp.floating)
    if pool is None or stride != pool or mode not in ("valid", "same") or not floating:
        return keras_own(inputs, pool_size, strides, padding, data_format)
    return window_max(inputs, pool, mode == "same", form == "channels_last")


@contextlib.contextmanager
def window_pooling():
    """Within: Keras' max pooling on JAX computed by :func:`window_max` (non-overlapping
    windows; see the module's text). Nothing changes when Keras has no such function."""
    module = sys.modules.get(_KERAS_JAX_NN)
    keras_own = getattr(module, "max_pool", None)
    if keras_own is None or getattr(keras_own, "func", None) is _max_pool:
        yield
        return
    module.max_pool = functools.partial(_max_pool, keras_own=keras_own)
    try:
        yield
    finally:
        module.max_pool = keras_own
