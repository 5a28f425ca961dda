import numpy as np
import pytest

from keras_imbalance import class_counts, describe


@pytest.mark.parametrize(
    ("y", "layout", "counts", "element_shape"),
    [
        ([0, 1, 1, 0, 0], "binary", [3, 2], (5,)),
        ([[0], [1], [1]], "binary", [1, 2], (3,)),
        ([True, False, False], "binary", [2, 1], (3,)),
        ([2, 0, 2, 5], "sparse", [1, 2, 1], (4,)),
        ([2.0, 0.0, 2.0], "sparse", [1, 2], (3,)),
        (["dog", "cat", "dog"], "sparse", [1, 2], (3,)),
        ([[1, 0, 0], [0, 0, 1], [0, 0, 1]], "onehot", [1, 0, 2], (3,)),
        ([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4]], "onehot", [2, 1], (3,)),
        ([[1, 1, 0], [0, 0, 1]], "multilabel", [1, 1, 1], (2, 3)),
        ([[0, 2, 3], [1, 1, 2]], "sequence", [1, 2, 2, 1], (2, 3)),
        (np.eye(3)[[[0, 1], [2, 2]]], "sequence", [1, 1, 2], (2, 2)),
        (np.zeros((2, 4, 5), int) + np.arange(5) % 2, "dense", [24, 16], (2, 4, 5)),
        (np.eye(2)[np.zeros((2, 3, 3), int)], "dense", [18, 0], (2, 3, 3)),
        (np.zeros((2, 3, 3, 1)), "dense", [18], (2, 3, 3)),
    ],
)
def test_layout_guess_and_counts(y, layout, counts, element_shape):
    info = describe(y)
    assert info.layout == layout
    assert info.counts.tolist() == counts
    assert info.element_shape == element_shape


def test_string_labels_keep_mapping_in_sorted_order():
    info = describe(np.array(["b", "c", "a", "c"], dtype=object))
    assert info.classes.tolist() == ["a", "b", "c"]
    assert info.class_ids.tolist() == [0, 1, 2]
    assert info.counts_dict() == {"a": 1, "b": 1, "c": 2}


def test_layout_override_reads_one_per_row_matrix_as_multilabel():
    y = np.eye(3)[[0, 1, 2, 2]]
    assert describe(y).layout == "onehot"
    info = describe(y, layout="multilabel")
    assert info.counts.tolist() == [1, 1, 2]
    assert info.negatives.tolist() == [3, 3, 2]


def test_mask_and_ignore_class_exclude_elements():
    y = np.array([[1, 2, 0], [2, 0, 0]])
    mask = np.array([[True, True, False], [True, False, False]])
    assert describe(y, mask=mask).counts_dict() == {1: 1, 2: 2}
    assert describe(y, ignore_class=0).counts_dict() == {1: 1, 2: 2}
    seg = np.array([[[0, 255], [1, 1]]])
    assert describe(seg, ignore_class=255).counts_dict() == {0: 1, 1: 2}


def test_padded_onehot_sequence_needs_mask():
    y = np.eye(3)[[[0, 1, 2], [1, 1, 1]]].astype(float)
    y[1, 2] = 0  # padding step
    with pytest.raises(ValueError, match="layout='sequence'"):
        describe(y)
    info = describe(y, layout="sequence", mask=[[1, 1, 1], [1, 1, 0]])
    assert info.counts.tolist() == [1, 3, 1]
    with pytest.raises(ValueError, match="mask"):
        describe(y, layout="sequence")


def test_classes_adds_absent_and_rejects_unknown():
    assert describe([3, 3, 5], classes=[3, 4, 5]).counts.tolist() == [2, 0, 1]
    with pytest.raises(ValueError, match="classes"):
        describe([3, 3, 5], classes=[3, 4])


@pytest.mark.parametrize(
    ("y", "kwargs", "match"),
    [
        ([], {}, "non-empty"),
        ([0.5, 1.0], {}, "whole numbers"),
        ([0, np.nan], {}, "finite"),
        ([[0.5, np.nan], [1, 0]], {}, "finite"),
        ([[0.2, 0.2], [0.5, 0.5]], {"layout": "onehot"}, "summing to 1"),
        ([0, 2, 1], {"layout": "binary"}, "layout"),
        ([0, 1, 1], {"layout": "onehot"}, "layout"),
        ([0, 1], {"layout": "tabular"}, "layout"),
        ([[0, 1], [1, 0]], {"mask": [[1, 0, 1]]}, "mask"),
        ([0, 1, 1], {"mask": [False, False, False]}, "at least one"),
        (np.array([1, "a"], dtype=object), {}, "all numbers or all strings"),
    ],
)
def test_bad_input_names_the_argument(y, kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match) as err:
        describe(y, **kwargs)
    assert "Invalid value for argument" in str(err.value)


def test_counts_streamed_from_batches_equal_counts_of_concatenation():
    rng = np.random.default_rng(0)
    ys = [rng.integers(0, 4, size=n) for n in (5, 7, 3)]
    batches = [(None, y) for y in ys]
    assert class_counts(iter(batches)) == describe(np.concatenate(ys)).counts_dict()


def test_counts_from_pydataset_and_dataloader():
    import keras
    import torch

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return np.zeros((2, 1)), np.array([i % 2, 1])

    assert class_counts(Batches()) == {0: 2, 1: 4}
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.zeros(7, 2), torch.tensor([0, 1, 1, 2, 2, 2, 2])),
        batch_size=3,
    )
    assert class_counts(loader) == {0: 1, 1: 2, 2: 4}


def test_counts_from_directory_match_keras_class_order(tmp_path):
    for name, n in {"b_dog": 2, "a_cat": 3, "c_eel": 1}.items():
        (tmp_path / name / "sub").mkdir(parents=True)
        for i in range(n):
            (tmp_path / name / f"{i}.PNG").write_bytes(b"")
        (tmp_path / name / "notes.txt").write_text("not an image")
        (tmp_path / name / "sub" / "x.jpg").write_bytes(b"")
    counts = class_counts(str(tmp_path))
    assert counts == {"a_cat": 4, "b_dog": 3, "c_eel": 2}
    assert list(counts) == sorted(counts)


# ----------------------------------------------------------------------------- issue 11


@pytest.mark.parametrize(
    "shape", [(2, 3, 4, 5), (2, 3, 4, 5, 6)], ids=["volume (N, D, H, W)", "5-D labels"]
)
@pytest.mark.parametrize("layout", [None, "dense"])
def test_label_volumes_are_one_label_per_voxel(shape, layout):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=shape)
    info = describe(y, layout=layout)
    assert info.layout == "dense"
    assert info.element_shape == shape
    assert info.counts.tolist() == np.bincount(y.ravel(), minlength=3).tolist()
    # a one-hot last axis is still a class axis
    onehot = np.eye(3)[y[..., 0]]
    assert describe(onehot, layout=layout).element_shape == shape[:-1]
    # a mask of the voxels' shape says one label per voxel, whatever the values
    assert describe(y, layout=layout, mask=np.ones(shape, bool)).element_shape == shape


def test_a_missing_directory_is_not_iterated_as_characters(tmp_path):
    with pytest.raises(ValueError, match=r"argument `data`.*no such directory: '/") as info:
        class_counts(str(tmp_path / "nowhere"))
    assert "batches shaped" not in str(info.value)
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(TypeError, match=r"argument `data`.*a file: '/"):
        class_counts(tmp_path / "file.txt")


def test_a_list_of_batches_is_counted_like_weighted_reads_it():
    from keras_imbalance import class_weights, weighted

    batches = [(np.zeros((2, 3)), np.array([0, 1])), (np.zeros((2, 3)), np.array([1, 1]))]
    assert class_counts(batches) == {0: 1, 1: 3}
    assert class_weights(batches) == pytest.approx({0: 2.0, 1: 4 / 6})
    got = [w.tolist() for _, _, w in weighted(batches)]
    assert got == [pytest.approx([2.0, 4 / 6]), pytest.approx([4 / 6, 4 / 6])]
    # a list of label rows is still labels
    assert class_counts([[0, 1], [1, 0], [1, 0]]) == {0: 2, 1: 1}
    assert class_counts([(0, 1), (1, 0)]) == {0: 1, 1: 1}


def test_class_counts_errors_name_data():
    with pytest.raises(ValueError, match=r"argument `data`.*integer class labels"):
        class_counts([0.5, 1.0])


def test_validation_targets_outside_the_training_classes_name_validation_data():
    from keras_imbalance import fit_kwargs

    with pytest.raises(ValueError, match=r"`validation_data`.*training targets \[0, 1\].*y_val"):
        fit_kwargs([0, 1, 1], validation_data=(None, [0, 5]))
    with pytest.raises(ValueError, match=r"`validation_data`.*2 columns.*y_val with 3 columns"):
        fit_kwargs(np.eye(2), validation_data=(None, np.eye(3)))
    with pytest.raises(ValueError, match=r"`validation_data`.*layout of the training targets"):
        fit_kwargs([0, 1], validation_data=(None, np.eye(3)))


def test_streamed_batches_of_two_layouts_name_both_batches_and_not_layout():
    sparse = (np.zeros((3, 2)), np.array([0, 1, 2]))
    onehot = (np.zeros((2, 2)), np.eye(3)[[0, 2]])
    for batches, first, other in (
        ([sparse, onehot], "sparse", "onehot"),
        ([onehot, sparse, sparse], "onehot", "sparse"),
    ):
        with pytest.raises(ValueError) as info:
            class_counts(iter(batches))
        text = str(info.value)
        assert text.startswith("Invalid value for argument `data`.")
        assert f"batch 0 has layout {first!r} and batch 1 has layout {other!r}" in text
        assert "pass `layout=`" in text and "\n" not in text
    # binary then sparse batches are one layout (sparse labels), as before
    assert class_counts(iter([(None, np.array([0, 1])), (None, np.array([2, 1]))])) == {
        0: 1,
        1: 2,
        2: 1,
    }
    # a batch with a problem of its own is named by its number
    with pytest.raises(ValueError, match=r"`data \(y batch 1\)`.*integer class labels"):
        class_counts(iter([(None, np.array([0, 1])), (None, np.array([0.5, 1.0]))]))
    # a layout the user gave is still the one named
    with pytest.raises(ValueError, match=r"argument `layout`. layout='onehot'"):
        class_counts(iter([onehot, sparse]), layout="onehot")
