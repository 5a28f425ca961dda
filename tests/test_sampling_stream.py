"""The streaming rebalancer: asked shares over every window, every row yielded, bounded memory."""

import numpy as np
import pytest

from keras_imbalance.sampling import rebalance


def stream(n=20_000, rare_every=100, seed=0):
    """A fixed stream at 1:100: row i has x = [i, i] and class 1 when i % 100 == 0."""
    del seed
    for i in range(n):
        yield np.array([i, i], dtype="float32"), int(i % rare_every == 0)


def window_shares(labels, classes, width):
    """Share of each class in every window of ``width`` consecutive rows (sliding by one)."""
    out = []
    for c in classes:
        hits = np.concatenate([[0], np.cumsum(labels == c)])
        out.append((hits[width:] - hits[:-width]) / width)
    return np.array(out)


@pytest.mark.parametrize("buffer_size", [64, 256])
def test_balanced_shares_on_every_window_and_no_row_lost(buffer_size):
    out = rebalance(stream(), buffer_size=buffer_size, random_state=3)
    rows = list(out)
    x = np.array([r[0][0] for r in rows]).astype(int)
    y = np.array([r[1] for r in rows])
    # every row read is yielded exactly once as a fresh row; the rest are replays
    assert out.read == 20_000
    assert out.fresh == {1: 200, 0: 19_800}
    assert out.replayed[0] == 0 and out.replayed[1] == len(rows) - 20_000
    assert np.array_equal(np.unique(x), np.arange(20_000))
    assert (y == (x % 100 == 0)).all()  # a replayed row keeps its own label
    assert len(rows) == 2 * 19_800  # balanced: as many class-1 rows as class-0 rows
    start = int(np.argmax(y == 1))  # shares hold from the first rare row on
    shares = window_shares(y[start:], [0, 1], 10 * buffer_size)
    assert np.abs(shares - 0.5).max() <= 0.01
    assert out.max_held <= buffer_size + 2 * buffer_size
    assert out.replays_per_row[1] == pytest.approx((19_800 - 200) / 200)


def test_asked_shares_three_classes_batches_in_and_out():
    rng = np.random.default_rng(0)
    y = rng.choice(3, size=30_000, p=[0.9, 0.08, 0.02])
    x = np.arange(30_000, dtype="float32")[:, None]
    batches = [(x[i : i + 100], y[i : i + 100]) for i in range(0, 30_000, 100)]
    asked = {0: 0.5, 1: 0.3, 2: 0.2}
    out = rebalance(iter(batches), asked, buffer_size=128, random_state=0)
    got = list(out)
    assert all(len(b[1]) == 100 for b in got[:-1]) and got[0][0].shape == (100, 1)
    labels = np.concatenate([b[1] for b in got])
    rows = np.concatenate([b[0][:, 0] for b in got]).astype(int)
    assert (labels == y[rows]).all()
    start = max(int(np.argmax(labels == c)) for c in asked)
    shares = window_shares(labels[start:], [0, 1, 2], 1280)
    assert np.abs(shares - np.array(list(asked.values()))[:, None]).max() <= 0.01
    assert out.fresh == {c: int((y == c).sum()) for c in out.fresh}  # nothing dropped


def test_same_seed_same_output_and_dropped_classes():
    def run(seed):
        return [int(r[0][0]) for r in rebalance(stream(3000), buffer_size=32, random_state=seed)]

    assert run(1) == run(1) and run(1) != run(2)
    out = rebalance(stream(3000, rare_every=3), {1: 1.0}, buffer_size=16)
    assert {y for _, y in out} == {1}
    assert out.dropped == 2000 and out.fresh == {1: 1000}


def test_bad_arguments():
    with pytest.raises(ValueError, match="target"):
        rebalance([], "equal")
    with pytest.raises(TypeError, match="target"):
        rebalance([], 0.5)
    with pytest.raises(ValueError, match="buffer_size"):
        rebalance([], buffer_size=0)
    with pytest.raises(TypeError, match="stream"):
        list(rebalance([np.zeros(3)]))
