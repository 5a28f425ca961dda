"""Balanced batches over a class-per-folder image tree, images read when a batch needs them."""

import numpy as np
import pytest
from PIL import Image

from keras_imbalance.datasets import load_image_folder
from keras_imbalance.sampling import BalancedBatches


@pytest.fixture()
def folder(tmp_path):
    rng = np.random.default_rng(0)
    for name, n in (("ants", 30), ("bees", 5), ("wasps", 3)):
        (tmp_path / name / "sub").mkdir(parents=True)
        for i in range(n):
            pixels = rng.integers(0, 256, size=(10, 12, 3), dtype=np.uint8)
            where = tmp_path / name / ("sub" if i % 2 else "") / f"{i:02d}.png"
            Image.fromarray(pixels).save(where)
    return tmp_path


def test_streamed_batches_equal_loaded_batches(folder):
    loaded = load_image_folder(folder, image_size=(6, 8))
    streamed = BalancedBatches.from_image_folder(
        folder, image_size=(6, 8), batch_size=7, random_state=4
    )
    memory = BalancedBatches(loaded.x, loaded.y, batch_size=7, random_state=4)
    assert streamed.class_names == loaded.class_names == ["ants", "bees", "wasps"]
    assert len(streamed) == len(memory) == -(-3 * 30 // 7)
    for i in range(len(streamed)):
        np.testing.assert_array_equal(streamed[i][0], memory[i][0])
        np.testing.assert_array_equal(streamed[i][1], memory[i][1])
    # no array of the images but the decode cache's slab, within its bytes
    x = streamed._source.x
    held = [v for v in vars(x).values() if isinstance(v, np.ndarray) and v.ndim > 1]
    assert all(v is x._slab for v in held) and x._slab.nbytes <= x.cache_bytes


def test_plain_epoch_shows_every_image_once(folder):
    batches = BalancedBatches.from_image_folder(
        folder, image_size=4, strategy=None, batch_size=10, random_state=0, color_mode="grayscale"
    )
    assert batches[0][0].shape == (10, 4, 4, 1)
    labels = np.concatenate([batches[i][1] for i in range(len(batches))])
    assert np.bincount(labels).tolist() == [30, 5, 3]
    images = np.concatenate([batches[i][0] for i in range(len(batches))])
    assert len({img.tobytes() for img in images}) == 38  # every image once


def test_unreadable_image_named_when_read(folder):
    (folder / "bees" / "broken.png").write_bytes(b"not an image")
    batches = BalancedBatches.from_image_folder(folder, image_size=4, strategy=None, batch_size=39)
    with pytest.raises(ValueError, match="broken.png"):
        batches[0]
    with pytest.raises(ValueError, match="image_size"):
        BalancedBatches.from_image_folder(folder, image_size=None)
