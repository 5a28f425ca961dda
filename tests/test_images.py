"""Image folders (issue 13 item 2): load_image_folder against the files written, Keras' layout
and order, its one-line errors; the default CNN; the grid of example images."""

import os

import numpy as np
import pytest

from keras_imbalance import class_counts
from keras_imbalance.datasets import ImageFolder, load_image_folder

Image = pytest.importorskip("PIL.Image")


def _digits():
    from sklearn.datasets import load_digits

    digits = load_digits()
    return (digits.images * 255 / 16).round().astype(np.uint8), digits.target


def write_folder(root, counts, *, size=None):
    """``root/<class>/<i>.png``: 8 x 8 grey digits (class i of ``counts`` = digit i)."""
    images, target = _digits()
    written = {}
    for digit, (name, count) in enumerate(counts.items()):
        os.makedirs(root / name, exist_ok=True)
        arrays = images[target == digit][:count]
        for i, array in enumerate(arrays):
            picture = Image.fromarray(array)
            if size is not None:
                picture = picture.resize(size[::-1])
            picture.save(root / name / f"{i:02d}.png")
        written[name] = arrays
    return written


def test_pixels_labels_and_class_names(tmp_path):
    written = write_folder(tmp_path, {"zero": 5, "one": 3, "two": 2})
    folder = load_image_folder(tmp_path)
    assert isinstance(folder, ImageFolder)
    x, y, class_names = folder  # unpacks as three values
    assert class_names == ["one", "two", "zero"]  # sorted, as Keras does
    assert folder.class_indices == {"one": 0, "two": 1, "zero": 2}
    assert x.dtype == np.float32 and x.shape == (10, 8, 8, 3)
    assert y.tolist() == [0] * 3 + [1] * 2 + [2] * 5
    expected = np.concatenate([written["one"], written["two"], written["zero"]])
    np.testing.assert_array_equal(np.rint(x[..., 0] * 255).astype(np.uint8), expected)
    np.testing.assert_array_equal(x[..., 0], x[..., 2])  # grey -> RGB copies the channel
    assert x.min() >= 0 and x.max() <= 1


def test_keras_file_order_hidden_folders_and_suffixes(tmp_path):
    for name in ("b", "a"):
        os.makedirs(tmp_path / name / "sub")
    values = {"a/z.PNG": 10, "a/m.jpg": 20, "a/sub/b.png": 30, "b/x.bmp": 40, "b/y.gif": 50}
    for path, value in values.items():
        Image.fromarray(np.full((2, 2), value, np.uint8)).save(tmp_path / path)
    (tmp_path / "a" / "notes.txt").write_text("not an image")
    os.makedirs(tmp_path / ".cache")
    Image.fromarray(np.zeros((2, 2), np.uint8)).save(tmp_path / ".cache" / "c.png")
    x, y, names = load_image_folder(tmp_path, color_mode="grayscale")
    assert names == ["a", "b"] and x.shape == (5, 2, 2, 1)
    # folders sorted, then files sorted within each: a/m.jpg, a/z.PNG, a/sub/b.png, b/...
    seen = np.rint(x[:, 0, 0, 0] * 255)
    np.testing.assert_allclose(seen, [20, 10, 30, 40, 50], atol=2)  # JPEG may round by 1 or 2
    assert class_counts(str(tmp_path)) == {"a": 3, "b": 2}  # the same files, counted


def test_resize_color_modes_and_max_per_class(tmp_path):
    written = write_folder(tmp_path, {"zero": 4, "one": 4})
    x, _, _ = load_image_folder(tmp_path, image_size=(4, 6), color_mode="grayscale")
    assert x.shape == (8, 4, 6, 1)
    reference = np.asarray(Image.fromarray(written["one"][0]).resize((6, 4), Image.BILINEAR))
    np.testing.assert_array_equal(np.rint(x[0, ..., 0] * 255).astype(np.uint8), reference)
    assert load_image_folder(tmp_path, image_size=5, color_mode="rgba").x.shape == (8, 5, 5, 4)
    small = load_image_folder(tmp_path, max_per_class=2)
    assert small.y.tolist() == [0, 0, 1, 1]
    np.testing.assert_array_equal(small.x[2:], load_image_folder(tmp_path).x[4:6])


def test_unreadable_and_empty_files_are_skipped_and_counted(tmp_path):
    write_folder(tmp_path, {"zero": 4, "one": 3})
    (tmp_path / "one" / "empty.png").write_bytes(b"")
    (tmp_path / "one" / "broken.jpg").write_bytes(b"not a jpeg")
    with pytest.warns(
        UserWarning, match=r"skipped 2 unreadable or empty image file\(s\) of the 9 read"
    ):
        folder = load_image_folder(tmp_path)
    assert np.bincount(folder.y).tolist() == [3, 4]
    # class_counts counts files without opening them: the two skipped ones too
    assert class_counts(str(tmp_path)) == {"one": 5, "zero": 4}


@pytest.mark.parametrize(
    ("layout", "argument", "message"),
    [
        ({"zero": 3}, "path", r"at least 2 class sub-folders.*single class folder \['zero'\]"),
        ({"zero": 0, "one": 0}, "path", r"image files \(\.bmp.*no image file in \['one', 'zero'\]"),
        ({"zero": 3, "one": 0}, "path", r"image files in every class.*no image file in \['one'\]"),
        ("unreadable", "path", r"readable image in every class.*class 'one': all 2 file"),
        ("mixed", "image_size", r"different sizes \(8x8: 3 images.*6x5: 2 images"),
    ],
)
def test_bad_folders_get_one_line(tmp_path, layout, argument, message):
    if layout == "unreadable":
        write_folder(tmp_path, {"zero": 3})
        os.makedirs(tmp_path / "one")
        (tmp_path / "one" / "a.png").write_bytes(b"")
        (tmp_path / "one" / "b.png").write_bytes(b"\x89PNG broken")
    elif layout == "mixed":
        write_folder(tmp_path, {"zero": 3})
        write_folder(tmp_path / "tmp", {"zero": 0, "one": 2}, size=(6, 5))
        os.rename(tmp_path / "tmp" / "one", tmp_path / "one")
        os.rmdir(tmp_path / "tmp" / "zero")
        os.rmdir(tmp_path / "tmp")
    else:
        for name in layout:
            os.makedirs(tmp_path / name)
        write_folder(tmp_path, {k: v for k, v in layout.items() if v})
    with pytest.raises(ValueError, match=message) as info:
        load_image_folder(tmp_path)
    text = str(info.value)
    assert "\n" not in text and text.startswith(f"Invalid value for argument `{argument}`")
    if layout == "mixed":  # resizing makes them one size
        assert load_image_folder(tmp_path, image_size=(8, 8)).x.shape == (5, 8, 8, 3)


def test_bad_arguments(tmp_path):
    write_folder(tmp_path, {"zero": 2, "one": 2})
    with pytest.raises(ValueError, match=r"`path`.*no such directory"):
        load_image_folder(tmp_path / "missing")
    with pytest.raises(ValueError, match=r"`color_mode`"):
        load_image_folder(tmp_path, color_mode="cmyk")
    with pytest.raises(ValueError, match=r"`image_size`. Expected \(height, width\)"):
        load_image_folder(tmp_path, image_size=(0, 4))
    with pytest.raises(ValueError, match=r"`classes`.*\['two'\]"):
        load_image_folder(tmp_path, classes=["one", "two"])
    assert load_image_folder(tmp_path, classes=["zero", "one"]).class_names == ["zero", "one"]


# --------------------------------------------------------------------------- CNN and grid


def test_cnn_model_contract():
    import keras

    from keras_imbalance.comparison import cnn_model

    model = cnn_model((8, 8, 3), 4)
    assert model.output_shape == (None, 4)
    assert model.layers[-1].get_config()["activation"] == "linear"  # logits, no softmax
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert [type(layer).__name__ for layer in model.layers].count("Conv2D") == 2
    out = model.predict(np.random.default_rng(0).random((5, 8, 8, 3)), verbose=0)
    assert out.shape == (5, 4) and not np.allclose(out.sum(axis=1), 1.0)
    assert cnn_model((5, 7), 2).output_shape == (None, 2)  # (h, w): one channel
    with pytest.raises(ValueError, match="`input_shape`"):
        cnn_model((64,), 2)
    with pytest.raises(ValueError, match="`n_classes`"):
        cnn_model((8, 8, 1), 1)


def test_image_grid_rows_and_errors():
    from keras_imbalance.report import image_grid

    fig = image_grid(
        {"a": np.zeros((3, 4, 4, 1)), "b": np.ones((1, 4, 4, 3), np.float32)},
        counts={"a": 30, "b": 1},
        per_class=2,
    )
    assert len(fig.axes) == 4  # 2 classes x min(2, 3) images
    assert "(n=30)" in fig.axes[0].get_ylabel()
    with pytest.raises(ValueError, match=r"`examples`.*class 'a'"):
        image_grid({"a": np.zeros((3, 4))})
    with pytest.raises(TypeError, match=r"`examples`"):
        image_grid({})
