"""What ``compare`` on image files read on demand keeps per row (``load_image_folder(...,
lazy=True)``): row numbers and labels, never a row of pixels beyond a bounded chunk.

- a training fold of image files holds int64 row numbers and labels only (8 bytes a row for
  each array, counted here), and the byte budget of a packed fit charges it those, not two
  float32 copies of every image;
- the fingerprint hash reads the files a chunk at a time and hashes each chunk's own buffer
  (tracemalloc's peak within one chunk's float32 and 8-bit pixels);
- every test row's scores, which the ensemble reads while a fold is scored, are arrays (8
  bytes a value) with the values of the stored lists.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tracemalloc

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from keras_imbalance.comparison import TrainingSettings, _data, _fold  # noqa: E402
from keras_imbalance.comparison._ensemble import Collector  # noqa: E402
from keras_imbalance.comparison._scoring import every_score, stored_scores  # noqa: E402
from keras_imbalance.comparison._strategies import STRATEGIES  # noqa: E402
from test_images_lazy import _eager_and_lazy, _folder  # noqa: E402


def _flat(input_shape, n_classes):
    """A linear model on the pixels, trained one epoch (no early stopping)."""
    import keras

    inputs = keras.Input(input_shape)
    out = keras.layers.Dense(n_classes)(keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, out)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    return model


_flat.fixed_epochs = 1


@pytest.fixture
def images(tmp_path):
    return _eager_and_lazy(_folder(tmp_path / "imgs", {"a": 24, "b": 10, "c": 6}, seed=3), (8, 8))


def _settings():
    return TrainingSettings(epochs=1, batch_size=8, random_state=0)


def test_a_lazy_fold_holds_row_numbers_and_labels_only(images):
    # every array a fold of image files keeps: labels and row numbers (int64, 8 bytes a row
    # each) -- the fold's rows, its validation rows, its fit part; no decoded pixels
    _, lazy = images
    train = np.arange(0, 40, 2)
    fold = _fold._Fold(_flat, lazy.x, lazy.y, train, _settings(), 5, 3)
    n, n_val = train.size, fold.y_val.size
    n_fit = n - n_val
    assert isinstance(fold.raw, _data.LazyRows) and isinstance(fold.x_val, _data.LazyRows)
    held = {}
    for name, value in vars(fold).items():
        if isinstance(value, _data.LazyRows):
            held[name] = value.ids.nbytes
        elif isinstance(value, np.ndarray):
            held[name] = value.nbytes
    assert held == {
        "y": 8 * n,  # labels of the fold
        "raw": 8 * n,  # its rows: row numbers in the folder
        "fit_pos": 8 * n_fit,  # the fit part: positions in the fold
        "val_rows": 8 * n_val,  # the validation rows: row numbers in the data
        "x_val": 8 * n_val,  # and as a view of the files
        "y_val": 8 * n_val,  # their labels
    }
    # a packed fit's budget charges a part of image files its row numbers; a part of
    # decoded rows two float32 copies (the store and the compiled fit's device copy)
    assert fold.part_bytes(100) == 800
    eager_fold = _fold._Fold(_flat, images[0].x, images[0].y, train, _settings(), 5, 3)
    assert eager_fold.part_bytes(100) == 2 * 4 * 8 * 8 * 3 * 100


def test_a_lazy_fold_is_not_split_by_a_budget_its_row_numbers_fit(images, monkeypatch):
    # two whole-fold copies of 40 rows: row ids and weights charged 48 bytes a row each
    # (3,840 B) plus the part, 320 B of row numbers (lazy) or 61,440 B of float32 rows
    # (2 x 40 x 768, the array): an 8 KiB budget packs the lazy fold in one fit and splits
    # the array's into a fit per copy
    eager, lazy = images
    monkeypatch.setenv("KERAS_IMBALANCE_PACK_BYTES", "8K")
    strategies = [STRATEGIES["none"], STRATEGIES["balanced"]]
    every = np.arange(len(eager.y))
    fits = {}
    for name, data in (("lazy", lazy), ("eager", eager)):
        fitted = _fold.fit_fold(_flat, strategies, data.x, data.y, every, _settings(), 2, 3)
        fits[name] = (fitted.fits, fitted.copies)
    assert fits == {"lazy": (1, 2), "eager": (2, 1)}


def test_the_fingerprint_hash_holds_one_chunk_of_pixels(tmp_path):
    # with no decode cache, hashing 40 images of 32 x 32 x 3 (one chunk) holds the chunk's
    # float32 rows (491,520 B) and its 8-bit pixels (122,880 B) at once, plus what Pillow
    # takes to decode one file (it reads in blocks of 64 KiB, ImageFile.MAXBLOCK), not a
    # bytes copy of the chunk besides (491,520 B more); the digest is the array's bytes and
    # the labels'
    root = _folder(tmp_path / "imgs", {"a": 24, "b": 10, "c": 6}, seed=3)
    eager, lazy = _eager_and_lazy(root, (32, 32))
    lazy.x.cache_bytes = 0
    codes = np.asarray(lazy.y, dtype=np.int64)
    tracemalloc.start()
    try:
        digest = _data.data_hash(lazy.x, codes)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    floats, pixels = 40 * 32 * 32 * 3 * 4, 40 * 32 * 32 * 3
    assert floats + pixels <= peak < floats + pixels + (64 << 10) + (16 << 10)
    want = hashlib.sha256(str(eager.x.shape).encode())
    want.update(eager.x.tobytes())
    want.update(codes.tobytes())
    assert digest == want.hexdigest() == _data.data_hash(eager.x, codes)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("k", [2, 4])
def test_every_score_is_the_stored_lists_as_arrays(k, dtype):
    # float32: the probabilities of a model's float32 logits, rounded as float32 in both
    rng = np.random.default_rng(k)
    y = rng.integers(0, k, 50)
    logits = rng.normal(size=(50, k)).astype(dtype)
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    lists = stored_scores(y, proba, float("inf"), 0)
    arrays = every_score(y, proba)
    assert arrays["index"] is lists["index"] is None
    assert arrays["y"].dtype == np.int64 and np.array_equal(arrays["y"], lists["y"])
    rounded = np.round(proba, 5)  # in proba's dtype, as the results file always kept them
    assert lists["proba"] == (rounded[:, 1] if k == 2 else rounded).tolist()
    want = np.asarray(lists["proba"], dtype=np.float64)
    assert arrays["proba"].dtype == np.float64 and np.array_equal(arrays["proba"], want)
    # 8 bytes a value: the label and P(class 1) (binary) or every class's probability
    assert arrays["y"].nbytes + arrays["proba"].nbytes == 50 * 8 * (2 if k == 2 else 1 + k)


def test_the_ensemble_of_array_scores_equals_that_of_stored_lists():
    # a fold's ensemble row from every_score's arrays (a fold just scored) and from the
    # lists of a results file (a resumed fold): the same row
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 40)
    members = [("cnn", "balanced"), ("cnn", "focal")]
    parts = []
    for m, (model, strategy) in enumerate(members):
        logits = rng.normal(size=(40, 3)) + m
        proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        row = {"model": model, "strategy": strategy, "repeat": 0, "fold": 0}
        row.update({"variant": "", "refit": True, "fit_seconds": 1.0, "n_val": 8})
        parts.append((row, every_score(y, proba), stored_scores(y, proba, float("inf"), 0)))
    rows = []
    for which in (1, 2):  # the arrays, then the lists
        collector = Collector(members, "cnn", 3, 2000, {(0, 0): 7})
        out = [collector.add(part[0], part[which]) for part in parts]
        assert out[0] is None and out[1] is not None
        rows.append(out[1])
    assert rows[0] == rows[1]
