"""load_image_folder(lazy=True): the same rows as the eager load, decoded when asked for, and
compare on it gives the eager result (same images, order, scaling, fingerprint)."""

import os
import pickle

import numpy as np
import pytest
from PIL import Image

from keras_imbalance.comparison import _data
from keras_imbalance.datasets import load_image_folder
from keras_imbalance.datasets._images import ImageFiles


def _folder(root, counts, seed=0, sizes=((9, 7),)):
    rng = np.random.default_rng(seed)
    for c, (name, count) in enumerate(counts.items()):
        os.makedirs(root / name)
        for i in range(count):
            h, w = sizes[i % len(sizes)]
            pixels = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
            pixels[..., c % 3] //= 4  # the classes differ in one channel
            Image.fromarray(pixels).save(root / name / f"{i:03d}.png")
    return root


def _eager_and_lazy(root, image_size):
    """The folder ``root`` loaded whole and read on demand, at ``image_size``."""
    eager = load_image_folder(root, image_size=image_size)
    return eager, load_image_folder(root, image_size=image_size, lazy=True)


@pytest.fixture
def folder(tmp_path):
    root = _folder(tmp_path / "imgs", {"a": 14, "b": 6, "c": 4}, sizes=((9, 7), (6, 6)))
    (root / "a" / "broken.png").write_bytes(b"not a png")
    (root / "b" / "empty.png").write_bytes(b"")
    return root


@pytest.mark.parametrize("color_mode", ["rgb", "grayscale"])
def test_lazy_rows_equal_the_eager_array(folder, color_mode):
    with pytest.warns(UserWarning, match="skipped 2"):
        eager = load_image_folder(folder, image_size=(5, 4), color_mode=color_mode)
    with pytest.warns(UserWarning, match="skipped 2"):  # the same files skipped
        lazy = load_image_folder(folder, image_size=(5, 4), color_mode=color_mode, lazy=True)
    x = lazy.x
    assert isinstance(x, ImageFiles) and x.shape == eager.x.shape and x.dtype == np.float32
    assert lazy.y.tolist() == eager.y.tolist() and lazy.class_names == eager.class_names
    assert np.array_equal(np.asarray(x), eager.x)  # bit for bit: v / 255 in float32
    rows = np.array([[5, 0], [23, 5]])
    assert np.array_equal(x[rows], eager.x[rows])
    assert np.array_equal(x[3:11:2, 1], eager.x[3:11:2, 1])
    assert np.array_equal(x[-1], eager.x[-1])
    assert np.array_equal(x[eager.y == 2], eager.x[eager.y == 2])
    with pytest.raises(IndexError, match="row 24 is out of range for 24 images"):
        x[[0, 24]]


def test_a_bounded_cache_and_a_cheap_pickle(folder):
    with pytest.warns(UserWarning):
        x = load_image_folder(folder, image_size=(5, 4), lazy=True).x
    row = 5 * 4 * 3  # bytes of one 8-bit image
    x.cache_bytes = 3 * row
    x.take(np.arange(10))
    assert x.decoded == 10 and x.cached == 3  # the 3 most recent stay
    x.take(np.array([9, 8, 0]))
    assert x.decoded == 11  # 9 and 8 from the cache, 0 decoded again
    copy = pickle.loads(pickle.dumps(x))
    assert copy.cached == 0 and copy.files == x.files
    assert len(pickle.dumps(x)) < 100 * len(x.files)  # names, not pixels


def test_own_size_only_when_all_images_share_it(tmp_path):
    root = _folder(tmp_path / "one", {"a": 3, "b": 2})
    lazy = load_image_folder(root, lazy=True)
    assert lazy.x.shape == (5, 9, 7, 3)
    assert np.array_equal(np.asarray(lazy.x), load_image_folder(root).x)
    mixed = _folder(tmp_path / "two", {"a": 3, "b": 2}, sizes=((9, 7), (6, 6)))
    with pytest.raises(ValueError, match="different sizes"):
        load_image_folder(mixed, lazy=True)


def test_the_fingerprint_hash_reads_in_chunks_and_equals_the_arrays(folder):
    with pytest.warns(UserWarning):
        eager = load_image_folder(folder, image_size=(5, 4))
    with pytest.warns(UserWarning):
        lazy = load_image_folder(folder, image_size=(5, 4), lazy=True)
    assert _data.data_hash(lazy.x, lazy.y) == _data.data_hash(eager.x, eager.y)
    assert _data.features(lazy.x) == (lazy.x, None)  # passed through, nothing decoded
    assert np.array_equal(_data.take(lazy.x, [4, 1]), eager.x[[4, 1]])


def _compare_eager_and_lazy(tmp_path, root, size, strategies, random_state, cache_bytes=None):
    """compare on the eager array and on the lazy folder: the same fingerprint and results."""
    from keras_imbalance import compare
    from keras_imbalance.comparison import cnn_model

    eager, lazy = _eager_and_lazy(root, size)
    if cache_bytes is not None:
        lazy.x.cache_bytes = cache_bytes
    options = dict(
        strategies=strategies,
        model_fn={"cnn": cnn_model},
        cv=2,
        epochs=2,
        n_jobs=1,
        references=False,
        random_state=random_state,
    )
    a = compare(eager.x, eager.y, results_path=tmp_path / "a.jsonl", **options)
    b = compare(lazy.x, lazy.y, results_path=tmp_path / "b.jsonl", **options)
    assert a.config["data"]["hash"] == b.config["data"]["hash"]
    assert a.leaderboard.equals(b.leaderboard)
    timed = [c for c in a.folds.columns if "second" in c or "time" in c]
    assert len(a.folds) >= 2 * len(strategies)
    assert a.folds.drop(columns=timed).equals(b.folds.drop(columns=timed))
    return lazy


def test_compare_on_the_lazy_folder_equals_compare_on_the_array(tmp_path):
    root = _folder(tmp_path / "imgs", {"a": 16, "b": 8, "c": 6})
    _compare_eager_and_lazy(tmp_path, root, (8, 8), ["none", "balanced", "random_over"], 3)


def test_lazy_views_and_stack_equal_the_array(folder):
    with pytest.warns(UserWarning):
        eager = load_image_folder(folder, image_size=(5, 4))
    with pytest.warns(UserWarning):
        x = load_image_folder(folder, image_size=(5, 4), lazy=True).x
    rows = np.array([7, 0, 3, 3, 11, 5])
    view = _data.take(x, rows)
    assert isinstance(view, _data.LazyRows) and view.shape == (6, 5, 4, 3)
    assert np.array_equal(np.asarray(view), eager.x[rows])
    # a view of a view, slices, masks and an int of a view
    assert np.array_equal(np.asarray(_data.take(view, [5, 1])), eager.x[[5, 0]])
    assert np.array_equal(view[1:4], eager.x[rows[1:4]])
    mask = np.arange(6) % 2 == 0
    assert np.array_equal(view[mask], eager.x[rows[mask]])
    assert np.array_equal(view[2], eager.x[3])
    # the pass-through scaler keeps the view (decoded when a batch needs it)
    assert _data.Scaler.fit(view, standardize=True).transform(view) is view
    # a store of lazy blocks and an array of synthetic rows, indexed by (B, C) row numbers
    extra = np.full((2, 5, 4, 3), 0.5, dtype=np.float32)
    store = _data.LazyStack([view, _data.take(x, [1, 2]), extra])
    whole = np.concatenate([eager.x[rows], eager.x[[1, 2]], extra])
    index = np.array([[0, 9], [8, 6], [5, 7]])
    assert store.shape == whole.shape and np.array_equal(store[index], whole[index])
    repeated = _data.repeat_rows(view, 3)
    assert repeated.shape == (6, 3, 5, 4, 3)
    expected = np.broadcast_to(eager.x[rows][:, None], (6, 3, 5, 4, 3))
    assert np.array_equal(repeated[2:5], expected[2:5])


def test_compare_trains_from_the_files_without_a_decoded_store(tmp_path, monkeypatch):
    """The packed fit of a lazy folder gets a store of row numbers (each batch decoded from
    the files; here without any cache, so every batch reads its files), and the result is
    the eager array's."""
    from keras_imbalance.comparison import _packing

    stores = []
    fit = _packing.fit

    def recording(net, rows, epochs, callbacks):
        stores.append(type(rows.store).__name__)
        return fit(net, rows, epochs, callbacks)

    monkeypatch.setattr(_packing, "fit", recording)
    root = _folder(tmp_path / "imgs", {"a": 14, "b": 8})
    lazy = _compare_eager_and_lazy(tmp_path, root, (6, 6), ["none", "balanced"], 1, cache_bytes=0)
    # one packed fit per fold: the eager array's store, then the lazy folder's (the compiled
    # fold on JAX feeds its program from it a chunk of steps at a time)
    assert stores == ["ndarray"] * 2 + ["LazyStack"] * 2
    assert lazy.x.decoded > len(lazy.y)  # rows read again per epoch: nothing kept


def test_the_cli_says_what_a_lazy_folder_reads(tmp_path, monkeypatch, capsys):
    # the lazy load says it reads from the files; the eager one what it holds in memory
    import argparse

    from keras_imbalance._cli import _source

    root = _folder(tmp_path / "imgs", {"a": 14, "b": 6, "c": 4})
    monkeypatch.setattr(_source, "SAY_MEMORY_FROM", 0)
    args = argparse.Namespace(command="compare", image_size=(5, 4))
    lazy = _source.load_images(str(root), args, lazy=True)
    said = capsys.readouterr().err
    assert isinstance(lazy.x, ImageFiles)
    assert "reading 24 images as 5 x 4 x 3 (float32) from their files as rows are needed" in said
    assert "in memory" not in said
    _source.load_images(str(root), args)
    assert "reading 24 images as 5 x 4 x 3 (float32): about" in capsys.readouterr().err
