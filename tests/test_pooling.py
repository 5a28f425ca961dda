"""Max pooling over non-overlapping windows as a reshape (comparison._pooling) equals JAX's own
``reduce_window`` maximum, forward and backward, ties included (jax only; any Keras backend)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("jax") is None, reason="jax is not installed"
)

CASES = [  # (shape, pool, padding, channels_last)
    ((2, 8, 8, 3), (2, 2), "same", True),
    ((2, 7, 9, 3), (2, 2), "same", True),
    ((2, 7, 9, 3), (2, 2), "valid", True),
    ((1, 5, 5, 1), (4, 4), "same", True),  # padding before and after (1, 2)
    ((3, 6, 7, 2), (3, 2), "same", True),
    ((2, 3, 7, 9), (2, 2), "same", False),  # channels first
    ((2, 3, 7, 9), (3, 2), "valid", False),
    ((2, 11, 4), (2,), "same", True),  # one spatial axis
    ((2, 5, 6, 7, 2), (2, 2, 3), "same", True),  # three
]


def _reference(x, pool, padding, channels_last):
    """What Keras' max pooling on JAX computes: ``reduce_window`` of max, strides = pool."""
    import jax
    import jax.numpy as jnp

    window = (1, *pool, 1) if channels_last else (1, 1, *pool)
    return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, window, window, padding.upper())


@pytest.mark.parametrize(("shape", "pool", "padding", "channels_last"), CASES)
def test_the_window_maximum_and_its_gradient_equal_reduce_window(
    shape, pool, padding, channels_last
):
    import jax

    from keras_imbalance.comparison._pooling import window_max

    rng = np.random.default_rng(len(shape) + sum(pool))
    for x in (
        rng.normal(size=shape).astype(np.float32),
        rng.integers(0, 3, size=shape).astype(np.float32),  # windows full of ties
    ):
        want, want_vjp = jax.vjp(lambda a: _reference(a, pool, padding, channels_last), x)
        got, got_vjp = jax.vjp(lambda a: window_max(a, pool, padding == "same", channels_last), x)
        assert got.shape == want.shape
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
        grad = rng.normal(size=want.shape).astype(np.float32)
        np.testing.assert_array_equal(np.asarray(got_vjp(grad)[0]), np.asarray(want_vjp(grad)[0]))


def test_a_window_of_equal_values_sends_its_gradient_to_its_first_cell():
    # hand-computed: the 2 x 2 windows of a 4 x 4 image; XLA's select-and-scatter gives each
    # window's gradient to its first maximum in row-major order
    import jax

    from keras_imbalance.comparison._pooling import window_max

    x = np.ones((1, 4, 4, 1), np.float32)
    x[0, 2:, 2:, 0] = [[1.0, 2.0], [2.0, 2.0]]
    grad = jax.grad(lambda a: window_max(a, (2, 2), False, True).sum())(x)[0, :, :, 0]
    expected = [[1, 0, 1, 0], [0, 0, 0, 0], [1, 0, 0, 1], [0, 0, 0, 0]]
    np.testing.assert_array_equal(np.asarray(grad), expected)


def test_overlapping_windows_integer_inputs_and_other_paddings_keep_keras_own():
    import jax.numpy as jnp

    from keras_imbalance.comparison._pooling import _max_pool

    calls = []

    def keras_own(*args):
        calls.append(args[1:])
        return "keras"

    x = jnp.zeros((1, 4, 4, 2), jnp.float32)
    assert _max_pool(x, 2, 1, "valid", None, keras_own=keras_own) == "keras"  # overlapping
    assert _max_pool(x, (3, 3), (2, 2), "same", None, keras_own=keras_own) == "keras"
    assert _max_pool(x.astype(jnp.int32), 2, None, "same", None, keras_own=keras_own) == "keras"
    assert _max_pool(x, 2, None, "causal", None, keras_own=keras_own) == "keras"
    assert calls == [(2, 1, "valid", None), ((3, 3), (2, 2), "same", None),
                     (2, None, "same", None), (2, None, "causal", None)]  # fmt: skip
    # strides None or equal to the pool: the window maximum, (1, 2, 2, 2) here
    assert _max_pool(x, 2, None, "valid", None, keras_own=keras_own).shape == (1, 2, 2, 2)
    assert _max_pool(x, [2, 2], (2, 2), "same", None, keras_own=keras_own).shape == (1, 2, 2, 2)
    assert len(calls) == 4
