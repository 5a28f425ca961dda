"""What reading image files on demand keeps and allocates, counted (issue 24, item 6).

- ``ImageFiles``' decode cache holds its pixels in one array of at most ``cache_bytes`` and
  its bookkeeping in two numpy arrays (4 bytes a row of the folder, 12 a cached image): no
  Python object per cached image (an array, a bytes object and a dict entry, ~308 bytes
  beyond the pixels, before), counted by tracemalloc;
- a chunk of a packed fit's store is decoded straight into the caller's buffer (no array
  of the chunk in between), and the compiled fold fed from the files writes every call's
  rows into one of two buffers used in turn (JAX reads them in place), so an epoch
  allocates no chunk of rows per call;
- the CLI keeps the class of each image of a folder as a category (one byte a row), not
  one string object a row.
"""

from __future__ import annotations

import os
import sys
import tracemalloc
from argparse import Namespace

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from keras_imbalance.comparison import _compiled, _data  # noqa: E402
from keras_imbalance.datasets._images import ImageFiles  # noqa: E402
from test_images_lazy import _eager_and_lazy, _folder  # noqa: E402


@pytest.fixture
def images(tmp_path):
    return _eager_and_lazy(_folder(tmp_path / "imgs", {"a": 30, "b": 12, "c": 6}, seed=5), (8, 8))


def _files(lazy, cache_rows: int) -> ImageFiles:
    x = lazy.x
    return ImageFiles(x.folder, x.files, x.size, x.color_mode, x.interpolation, cache_rows * 192)


def _kept(x, rows) -> int:
    """Bytes (tracemalloc) that reading ``rows`` of ``x`` leaves allocated."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        got = x.take(rows)
        del got
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def test_the_cache_holds_its_pixels_and_a_few_bytes_a_row(images, monkeypatch):
    from keras_imbalance.datasets import _images

    eager, lazy = images
    n, row = len(eager.y), 8 * 8 * 3
    # each file "decoded" as a new 8-bit array without Pillow (whose own leftovers would
    # blur the count): what the cache keeps is counted alone
    monkeypatch.setattr(_images, "_read", lambda *a: np.full((8, 8, 3), 7, np.uint8))
    _files(lazy, 4).take(np.arange(n))  # numpy's caches: filled once
    x = _files(lazy, n)
    kept = _kept(x, np.arange(n))
    assert x.decoded == n and x.cached == n
    # the slab's pixels, 4 bytes a row, 4 + 8 a slot, the arrays' headers: nothing per image
    # beyond that (an OrderedDict of arrays kept ~200 to 300 bytes more an image)
    assert x._slab.nbytes == n * row and x._slot_of.nbytes == 4 * n
    assert n * row <= kept <= n * row + 4 * n + 12 * n + 2048, kept  # old: 20,600


def test_cached_rows_are_the_decoded_rows_least_recently_used_leave_first(images):
    eager, lazy = images
    codes = np.rint(eager.x * 255).astype(np.uint8)
    x = _files(lazy, 5)
    rows = np.array([[3, 7, 3], [40, 7, 1]])  # repeats within a call
    assert np.array_equal(x.pixels(rows), codes[rows])
    assert x.decoded == 4 and x.cached == 4
    assert np.array_equal(x.pixels(np.array([7, 1, 9, 2])), codes[[7, 1, 9, 2]])
    assert x.decoded == 6 and x.cached == 5  # 9 and 2 decoded; 3 (used least lately) left
    assert np.array_equal(x.pixels(np.array([40, 3])), codes[[40, 3]])
    assert x.decoded == 7  # 40 kept, 3 decoded again
    buffer = np.full((2, 3, 8, 8, 3), 255, np.uint8)
    got = x.pixels(np.array([[0, 1, 2], [3, 4, 5]]), out=buffer)
    assert np.shares_memory(got, buffer) and np.array_equal(
        buffer, codes[:6].reshape(2, 3, 8, 8, 3)
    )
    with pytest.raises(ValueError, match="out"):
        x.pixels(np.array([0, 1]), out=np.zeros((3, 8, 8, 3), np.uint8))
    assert _files(lazy, 0).pixels(np.array([5, 5])).tolist() == codes[[5, 5]].tolist()


def test_a_chunk_of_the_store_is_decoded_into_the_callers_buffer(images):
    # the store of a fold trained on its fit part and its whole fold (two views of the same
    # files): a chunk of (steps, entries) rows goes into ``out`` with no array of the chunk
    # in between, equal to the decoded rows
    eager, lazy = images
    n = len(eager.y)
    codes = np.rint(eager.x * 255).astype(np.uint8)
    fit = np.arange(0, n, 2)
    store = _data.LazyStack([_data.take(lazy.x, fit), _data.take(lazy.x, np.arange(n))])
    index = np.random.default_rng(0).integers(0, len(store), (16, 40))
    want = codes[np.r_[fit, np.arange(n)][index]]
    assert np.array_equal(store.codes(index), want)  # every row cached now
    buffer = np.zeros((16, 40, 8, 8, 3), np.uint8)
    tracemalloc.start()
    try:
        got = store.codes(index, out=buffer)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert np.shares_memory(got, buffer) and np.array_equal(buffer, want)
    assert peak < buffer.nbytes // 2, peak  # row numbers only (each copy: buffer.nbytes)


@pytest.mark.skipif(
    os.environ.get("KERAS_BACKEND") != "jax", reason="the compiled fold runs on the jax backend"
)
def test_the_fed_program_reads_every_call_from_two_buffers(tmp_path, monkeypatch):
    # 5 steps in calls of 2, 2 and 1 over 3 epochs (test_compiled_fed's fit of 6 x 6
    # images): every call's rows are one of the run's two buffers, in turn
    from test_compiled_fed import _train

    root = _folder(tmp_path / "small", {"a": 30, "b": 12, "c": 6}, seed=4)
    eager, lazy = _eager_and_lazy(root, (6, 6))
    n = len(eager.y)
    store = _data.LazyStack([_data.take(lazy.x, np.arange(n))])
    monkeypatch.setattr(_compiled, "FEED_BYTES", 2 * 3 * 16 * 108 + 1)
    seen = []
    real = _compiled._Run._gather

    def record(run, index, weight, *buffer):
        xs, ys, ws = real(run, index, weight, *buffer)
        seen.append((xs, run.buffers[0], run.buffers[1], index.shape[0]))
        return xs, ys, ws

    monkeypatch.setattr(_compiled._Run, "_gather", record)
    _train(store, eager.y)
    assert [s for *_, s in seen] == [2, 2, 1] * 3
    for j, (xs, first, second, _) in enumerate(seen):
        assert xs is (first, second)[j % 3 % 2]  # call j of its epoch: buffer j % 2
    assert not seen[2][0][1:].any()  # the short call's unused step is zeros


def test_the_cli_keeps_a_folders_classes_as_categories(images, tmp_path):
    from keras_imbalance._cli._source import read_source

    eager, _ = images
    args = Namespace(command="compare", image_size=(8, 8), target=None)
    source = read_source(str(tmp_path / "imgs"), args)
    assert source.y.dtype == "category" and source.y.cat.codes.dtype.itemsize == 1
    names = np.asarray(eager.class_names)[eager.y]
    assert source.labels.tolist() == names.tolist()
    labels_only = read_source(str(tmp_path / "imgs"), args, images="labels")
    assert labels_only.y.dtype == "category"
    assert labels_only.labels.tolist() == names.tolist()
