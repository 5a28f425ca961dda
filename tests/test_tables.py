"""Raw tables (issue 13 item 1): check_table's roles and one-message errors, TableEncoder against
hand-computed values and scikit-learn, and resample on tables with categories and gaps."""

import os
import subprocess
import sys
import warnings
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from keras_imbalance import resample
from keras_imbalance.tables import (
    HIGH_CARDINALITY_MIN,
    HIGH_CARDINALITY_SHARE,
    TableEncoder,
    TableSpec,
    check_table,
)

SQRT2 = np.sqrt(2.0)


# --------------------------------------------------------------------------- check_table


def test_roles_of_every_column_type():
    n = 120
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "int": np.arange(n),
            "float": rng.normal(size=n),
            "Int64": pd.array([1, None] * (n // 2), dtype="Int64"),
            "Float64": pd.array([0.5, None, 1.5] * (n // 3), dtype="Float64"),
            "numbers": pd.Series([1, None, 2.5] * (n // 3), dtype=object),
            "decimals": pd.Series([Decimal("1.5"), None, Decimal(2)] * (n // 3), dtype=object),
            "str": pd.Series(["a", "b", None] * (n // 3), dtype="str"),
            "object": pd.Series(["x", "y", None] * (n // 3), dtype=object),
            "category": pd.Categorical(["u", "v"] * (n // 2), categories=["u", "v", "w"]),
            "bool": [True, False] * (n // 2),
            "boolean": pd.array([True, None] * (n // 2), dtype="boolean"),
            "when": pd.date_range("2024-01-01", periods=n),
            "id": [f"id{i}" for i in range(n)],
        }
    )
    with pytest.warns(UserWarning, match=r"dropped 2 column.*'when': dates.*'id': 120 distinct"):
        spec = check_table(frame)
    assert spec.numeric == ("int", "float", "Int64", "Float64", "numbers", "decimals")
    assert spec.categorical == ("str", "object", "category", "bool", "boolean")
    assert set(spec.dropped) == {"when", "id"}
    assert spec.columns == tuple(frame.columns)
    assert spec.features == spec.numeric + spec.categorical
    with pytest.raises(AttributeError):
        spec.numeric = ()  # frozen


@pytest.mark.parametrize(
    ("distinct", "rows", "dropped"),
    [
        (HIGH_CARDINALITY_MIN + 1, 2 * HIGH_CARDINALITY_MIN, True),  # 51 of 100: both rules
        (HIGH_CARDINALITY_MIN + 1, 2 * HIGH_CARDINALITY_MIN + 2, False),  # 51 of 102: not > half
        (HIGH_CARDINALITY_MIN, HIGH_CARDINALITY_MIN, False),  # 50 of 50: not > 50 values
    ],
)
def test_high_cardinality_threshold(distinct, rows, dropped):
    assert HIGH_CARDINALITY_SHARE == 0.5
    values = [f"v{i % distinct}" for i in range(rows)]
    frame = pd.DataFrame({"text": values, "x": np.arange(rows, dtype=float)})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        spec = check_table(frame)
    assert ("text" in spec.dropped) is dropped
    assert any("'text'" in str(w.message) for w in caught) is dropped


def test_every_problem_in_one_message_naming_the_argument():
    frame = pd.DataFrame(
        {
            "tags": [[1, 2], [3], [4], [5]],
            "meta": [{"k": 1}, None, {"k": 2}, None],
            "empty": [None] * 4,
            "country": ["FR"] * 4,
            "ratio": [1.0, np.inf, -np.inf, 2.0],
            "mixed": ["a", 1, "b", 2],
            "blob": [bytearray(b"x"), bytearray(b"y"), None, None],
            "fine": [1, 2, 3, 4],
        }
    )
    with pytest.raises(ValueError) as info:
        check_table(frame, argument="features")
    message = str(info.value)
    assert "\n" not in message and message.startswith("Invalid value for argument `features`")
    for part in (
        "'tags', 'meta'",
        "entirely missing: 'empty'",
        "single value in every row (nothing to learn): 'country' ('FR')",
        "inf values: 'ratio' (2)",
        "'mixed' (int and str)",
        "unhashable values: 'blob' (bytearray)",
    ):
        assert part in message, part
    assert "'fine'" not in message


def test_type_problems_alone_are_a_type_error_and_not_a_dataframe_too():
    with pytest.raises(TypeError, match=r"`x`.*lists, dicts or arrays.*'tags'"):
        check_table(pd.DataFrame({"tags": [[1], [2]], "a": [1, 2]}))
    with pytest.raises(TypeError, match=r"`x`. Expected a pandas DataFrame"):
        check_table(np.zeros((3, 2)))


def test_parquet_list_columns_are_nested(tmp_path):
    pytest.importorskip("pyarrow")
    path = tmp_path / "nested.parquet"
    pd.DataFrame({"f": [[1, 2], [3], [4, 5]], "a": [1.0, 2.0, 3.0]}).to_parquet(path)
    frame = pd.read_parquet(path)
    with pytest.raises(TypeError, match=r"nested Parquet types.*'f'"):
        check_table(frame)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"a": pd.Series([], dtype=float)}), "no rows"),
        (pd.DataFrame(index=range(3)), "no columns"),
        (pd.DataFrame([[1, 2], [3, 4]], columns=["a", "a"]), "duplicate column names: 'a'"),
    ],
)
def test_empty_and_duplicate(frame, message):
    with pytest.raises(ValueError, match=message):
        check_table(frame)


def test_every_column_dropped_is_an_error():
    frame = pd.DataFrame({"id": [f"u{i}" for i in range(60)]})
    with pytest.raises(ValueError, match=r"no column left to use.*'id'"):
        check_table(frame)


def test_a_value_and_missing_values_are_two_categories():
    spec = check_table(pd.DataFrame({"flag": ["yes", None, "yes"], "a": [1, 2, 3]}))
    assert spec.categorical == ("flag",)


def test_check_table_imports_no_scikit_learn():
    code = (
        "import sys, pandas as pd\n"
        "from keras_imbalance.tables import check_table\n"
        "check_table(pd.DataFrame({'a': [1.0, None], 'b': ['x', 'y']}))\n"
        "assert not {'sklearn', 'scipy', 'keras'} & set(sys.modules), sorted(sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


# --------------------------------------------------------------------------- TableEncoder


@pytest.fixture
def part_a():
    return pd.DataFrame(
        {
            "age": [20.0, np.nan, 40.0, 60.0],
            "n": np.array([1, 2, 3, 4], dtype=np.int64),
            "city": pd.Series(["Oslo", "Lyon", None, "Lyon"], dtype="str"),
            "vip": [True, False, False, True],
        }
    )


def test_to_mixed_and_to_model_by_hand(part_a):
    enc = TableEncoder(check_table(part_a), min_frequency=None).fit(part_a)
    # age: median 40 fills the gap -> [20, 40, 40, 60], mean 40, std sqrt(200); n: mean 2.5,
    # std sqrt(1.25); one indicator (age had a gap); codes sorted: Lyon 0, Oslo 1, (other 2),
    # missing 3; vip False 0, True 1
    s = np.sqrt(1.25)
    expected = np.array(
        [
            [-SQRT2, -1.5 / s, 0, 1, 1],
            [0.0, -0.5 / s, 1, 0, 0],
            [0.0, 0.5 / s, 0, 3, 0],
            [SQRT2, 1.5 / s, 0, 0, 1],
        ]
    )
    mixed = enc.to_mixed(part_a)
    assert mixed.dtype == np.float64
    np.testing.assert_allclose(mixed, expected, atol=1e-12)
    assert enc.mixed_names == ["age", "n", "age missing", "city", "vip"]
    assert enc.categorical_indices == [3, 4]
    model = enc.to_model(mixed)
    assert model.dtype == np.float32 and model.shape == (4, enc.n_features_out)
    assert enc.feature_names_out == [
        "age",
        "n",
        "age missing",
        "city=Lyon",
        "city=Oslo",
        "city=<missing>",
        "vip=False",
        "vip=True",
    ]
    onehot = np.array([[0, 1, 0, 0, 1], [1, 0, 0, 1, 0], [0, 0, 1, 1, 0], [1, 0, 0, 0, 1]])
    np.testing.assert_allclose(model, np.hstack([expected[:, :3], onehot]), atol=1e-6)
    np.testing.assert_array_equal(enc.transform(part_a), model)


def test_matches_scikit_learn_transformers(part_a):
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    enc = TableEncoder(check_table(part_a), min_frequency=None).fit(part_a)
    numeric = part_a[["age", "n"]].to_numpy(dtype=float)
    ref_num = StandardScaler().fit_transform(
        SimpleImputer(strategy="median").fit_transform(numeric)
    )
    cats = part_a[["city", "vip"]].astype(object).where(part_a[["city", "vip"]].notna(), np.nan)
    ref_cat = OneHotEncoder(sparse_output=False).fit_transform(cats.to_numpy())
    ref = np.hstack([ref_num, np.isnan(numeric[:, :1]), ref_cat])
    np.testing.assert_allclose(enc.transform(part_a), ref, atol=1e-6)


def test_infrequent_categories_match_one_hot_encoder():
    from sklearn.preprocessing import OneHotEncoder

    values = ["a"] * 5 + ["b"] * 3 + ["c", "d"] + [None] * 2
    frame = pd.DataFrame({"k": pd.Series(values, dtype=object), "x": np.arange(12.0)})
    enc = TableEncoder(check_table(frame), min_frequency=2).fit(frame)
    codes = enc.to_mixed(frame)[:, enc.categorical_indices[0]]
    # a 0, b 1, other (c, d: fewer than 2 rows) 2, missing 3
    np.testing.assert_array_equal(codes, [0] * 5 + [1] * 3 + [2, 2] + [3, 3])
    assert enc.feature_names_out[-4:] == ["k=a", "k=b", "k=<other>", "k=<missing>"]
    test = pd.DataFrame({"k": pd.Series(["d", "zzz", None, "b"], dtype=object), "x": 1.0})
    ours = enc.transform(test)[:, -4:]
    ohe = OneHotEncoder(min_frequency=2, handle_unknown="infrequent_if_exist", sparse_output=False)
    ohe.fit(frame[["k"]].to_numpy(dtype=object))
    ref = ohe.transform(test[["k"]].to_numpy(dtype=object))
    assert list(ohe.get_feature_names_out()) == ["x0_a", "x0_b", "x0_None", "x0_infrequent_sklearn"]
    np.testing.assert_array_equal(ours, ref[:, [0, 1, 3, 2]])  # ours: other before missing


def test_max_categories_groups_the_rest():
    frame = pd.DataFrame({"k": list("aaaabbbcc d"), "x": np.arange(11.0)})
    enc = TableEncoder(check_table(frame), min_frequency=None, max_categories=3).fit(frame)
    assert enc.feature_names_out[1:] == ["k=a", "k=b", "k=<other>"]


def test_fitted_on_part_a_never_looks_at_part_b(part_a):
    enc = TableEncoder(check_table(part_a), min_frequency=None).fit(part_a)
    before = enc.to_mixed(part_a)
    part_b = pd.DataFrame(
        {
            "age": [np.nan, 1000.0],
            "n": np.array([10, 0], dtype=np.int64),
            "city": pd.Series(["Rome", "Oslo"], dtype="str"),
            "vip": [False, True],
        }
    )
    mixed_b = enc.to_mixed(part_b)
    s = np.sqrt(1.25)
    # part A's median (40), mean (40) and scale (sqrt 200) and A's codes; Rome unseen: other
    expected = [[0.0, 7.5 / s, 1, 2, 0], [960 / np.sqrt(200), -2.5 / s, 0, 1, 1]]
    np.testing.assert_allclose(mixed_b, expected, atol=1e-12)
    # an unseen category has no column: its one-hot block is zeros (nothing was grouped)
    np.testing.assert_array_equal(enc.to_model(mixed_b)[0, 3:6], [0, 0, 0])
    # rows are encoded one by one: no statistic of the transformed batch is used
    np.testing.assert_array_equal(enc.to_mixed(part_b.iloc[[1]]), mixed_b[[1]])
    np.testing.assert_array_equal(enc.to_mixed(part_a), before)


def test_from_mixed_restores_columns_dtypes_and_categories():
    frame = pd.DataFrame(
        {
            "f": [1.5, np.nan, -2.0, 4.0, 0.0, 3.0],
            "i": np.array([3, 1, 4, 1, 5, 9], dtype=np.int64),
            "I": pd.array([1, None, 3, 4, None, 6], dtype="Int64"),
            "s": pd.Series(["a", "b", None, "a", "b", "a"], dtype="str"),
            "c": pd.Categorical(["u", "v", "u", None, "v", "u"], categories=["w", "v", "u"]),
            "b": [True, False, True, True, False, False],
        }
    )
    enc = TableEncoder(check_table(frame), min_frequency=None).fit(frame)
    back = enc.from_mixed(enc.to_mixed(frame))
    pd.testing.assert_frame_equal(back, frame, check_exact=False, rtol=1e-12)
    assert list(back["c"].cat.categories) == ["w", "v", "u"]


def test_from_mixed_on_synthetic_rows():
    frame = pd.DataFrame({"f": [0.0, np.nan, 10.0], "i": [0, 10, 20], "k": ["x", "y", "x"]})
    enc = TableEncoder(check_table(frame), standardize=False, min_frequency=None).fit(frame)
    assert enc.mixed_names == ["f", "i", "f missing", "k"]
    synthetic = np.array([[2.5, 7.4, 0.3, 1.0], [2.5, 7.6, 0.7, 0.0]])
    back = enc.from_mixed(synthetic)
    # integers rounded, missing where the interpolated indicator is above 0.5
    assert back["i"].tolist() == [7, 8] and back["i"].dtype == np.int64
    assert back["f"].iloc[0] == 2.5 and np.isnan(back["f"].iloc[1])
    assert back["k"].tolist() == ["y", "x"]


def test_from_model_reads_interpolated_one_hot_rows():
    frame = pd.DataFrame({"k": ["x", "y", "z", None], "a": [1.0, 2.0, 3.0, 4.0]})
    enc = TableEncoder(check_table(frame), min_frequency=None).fit(frame)
    rows = enc.transform(frame).astype(np.float64)
    np.testing.assert_allclose(enc.from_model(rows), enc.to_mixed(frame), atol=1e-6)
    mid = 0.3 * rows[0] + 0.7 * rows[1]  # nearer to the 'y' row
    assert enc.from_mixed(enc.from_model(mid[None]))["k"].tolist() == ["y"]


def test_encoder_errors():
    frame = pd.DataFrame({"a": [1.0, 2.0], "k": ["x", "y"]})
    spec = check_table(frame)
    enc = TableEncoder(spec)
    with pytest.raises(ValueError, match="not fitted"):
        enc.to_mixed(frame)
    with pytest.raises(TypeError, match="`spec`"):
        TableEncoder("a, k")
    with pytest.raises(ValueError, match="`min_frequency`"):
        TableEncoder(spec, min_frequency=0)
    enc.fit(frame)
    with pytest.raises(ValueError, match=r"`frame`.*without \['k'\]"):
        enc.to_mixed(frame[["a"]])
    with pytest.raises(ValueError, match=r"`mixed`.*shape \(n, 2\)"):
        enc.from_mixed(np.zeros((1, 3)))
    # two rows: both categories are seen fewer than 5 times, so 'other' (0) and missing (1)
    with pytest.raises(ValueError, match=r"`mixed`.*codes 0..1 in the column of 'k'"):
        enc.from_mixed(np.array([[0.0, 7.0]]))
    with pytest.raises(TypeError, match=r"numbers in the numeric column 'a'"):
        enc.to_mixed(pd.DataFrame({"a": ["1", "two"], "k": ["x", "y"]}))


def test_spec_hashes_and_a_fitted_encoder_pickles(part_a):
    import pickle

    spec = check_table(part_a)
    assert hash(spec) == hash(check_table(part_a.copy())) and spec == check_table(part_a)
    enc = TableEncoder(spec, min_frequency=None).fit(part_a)
    clone = pickle.loads(pickle.dumps(enc))  # what a joblib worker receives
    np.testing.assert_array_equal(clone.to_mixed(part_a), enc.to_mixed(part_a))
    assert clone.feature_names_out == enc.feature_names_out


def test_spec_only_columns_are_read():
    spec = TableSpec(numeric=("a",), categorical=(), dropped={}, columns=("a",))
    frame = pd.DataFrame({"a": [1.0, 3.0], "extra": ["ignored", "too"]})
    np.testing.assert_allclose(TableEncoder(spec).fit(frame).to_mixed(frame), [[-1.0], [1.0]])


# --------------------------------------------------------------------------- resample on tables


def _fraud(n=240, seed=0, gaps=True):
    rng = np.random.default_rng(seed)
    y = pd.Series(np.where(np.arange(n) % 8 == 0, "fraud", "ok"), name="label")
    fraud = (y == "fraud").to_numpy()
    frame = pd.DataFrame(
        {
            "amount": rng.gamma(2.0, 50.0, n) + 200 * fraud,
            "items": rng.integers(1, 9, n),
            "country": pd.Series(rng.choice(["FR", "DE", "IT"], n), dtype="str"),
            "channel": pd.Categorical(
                rng.choice(["web", "app"], n), categories=["web", "app", "shop"]
            ),
            "new": rng.random(n) < 0.3,
            "ref": [f"tx{i}" for i in range(n)],
        }
    )
    if gaps:
        frame.loc[rng.random(n) < 0.05, "amount"] = np.nan
        frame.loc[rng.random(n) < 0.05, "country"] = None
    return frame, y


@pytest.mark.parametrize("method", ["random_over", "random_under"])
def test_random_methods_pass_any_column_through(method):
    frame, y = _fraud()
    frame["tags"] = [[i] for i in range(len(frame))]  # even nested cells: rows are copied
    res = resample(frame, y, method, random_state=0)
    assert (res.sample_indices >= 0).all()
    expected = frame.iloc[res.sample_indices].reset_index(drop=True)
    pd.testing.assert_frame_equal(res.x, expected)
    assert res.y.value_counts().nunique() == 1 and res.notes == ()


def test_smote_on_a_raw_table_is_smote_nc_with_original_types():
    frame, y = _fraud()
    w = np.linspace(1.0, 2.0, len(y))
    res = resample(frame, y, "smote", sample_weight=w, random_state=0)
    x = res.x
    assert list(x.columns) == list(frame.columns) and (x.dtypes == frame.dtypes).all()
    assert list(x["channel"].cat.categories) == ["web", "app", "shop"]
    orig = res.sample_indices >= 0
    pd.testing.assert_frame_equal(
        x[orig].reset_index(drop=True), frame.iloc[res.sample_indices[orig]].reset_index(drop=True)
    )
    synth = x[~orig]
    assert len(synth) == 210 - 30 and (res.y[~orig] == "fraud").all()
    minority = frame[(y == "fraud").to_numpy()]
    for column in ("country", "channel", "new"):  # SMOTE-NC: categories of the minority rows
        assert set(synth[column].dropna()) <= set(minority[column].dropna())
    # between two minority rows, one of them imputed with the median when it has a gap
    low = min(minority["amount"].min(), frame["amount"].median())
    assert synth["amount"].dropna().between(low - 1e-9, minority["amount"].max() + 1e-9).all()
    assert synth["items"].between(1, 8).all()
    assert synth["ref"].isna().all()  # an id is not interpolated
    np.testing.assert_allclose(res.sample_weight[~orig], w[(y == "fraud").to_numpy()].mean())
    text = " ".join(res.notes)
    assert "SMOTE-NC on the categorical columns ['country', 'channel', 'new']" in text
    assert "imputed" in text and "'ref'" in text


def test_smote_nc_path_equals_imbalanced_learn_on_a_table_it_takes():
    from imblearn.over_sampling import SMOTENC

    frame, y = _fraud(gaps=False)
    frame = frame[["amount", "country"]].copy()
    # already standardised (population std), so our standardisation changes nothing
    a = frame["amount"]
    frame["amount"] = (a - a.mean()) / a.std(ddof=0)
    ours = resample(frame, y, "smote", random_state=3)
    ref_x, ref_y = SMOTENC(categorical_features=[1], random_state=3).fit_resample(frame, y)
    np.testing.assert_allclose(ours.x["amount"], ref_x["amount"], atol=1e-9)
    assert ours.x["country"].tolist() == ref_x["country"].tolist()
    assert ours.y.tolist() == ref_y.tolist()


@pytest.mark.parametrize(("share", "expect_all_missing"), [(1.0, True), (0.0, False)])
def test_synthetic_gaps_follow_the_source_rows(share, expect_all_missing):
    frame, y = _fraud(gaps=False)
    fraud = np.flatnonzero((y == "fraud").to_numpy())
    frame.loc[fraud[: int(share * len(fraud))], "amount"] = np.nan
    frame.loc[1, "amount"] = np.nan  # a majority gap: the indicator exists in both cases
    res = resample(frame, y, "smote", random_state=0)
    synth = res.x[res.sample_indices < 0]
    assert bool(synth["amount"].isna().all()) is expect_all_missing
    assert bool(synth["amount"].notna().all()) is not expect_all_missing


@pytest.mark.parametrize("method", ["borderline_smote1", "adasyn", "smote_tomek", "tomek"])
def test_other_methods_on_a_raw_table(method):
    frame, y = _fraud()
    res = resample(frame, y, method, random_state=0)
    assert (res.x.dtypes == frame.dtypes).all()
    orig = res.sample_indices >= 0
    pd.testing.assert_frame_equal(
        res.x[orig].reset_index(drop=True),
        frame.iloc[res.sample_indices[orig]].reset_index(drop=True),
    )
    if method == "tomek":
        assert orig.all() and len(res.x) < len(frame)
    else:
        assert (~orig).sum() > 0
        synth = res.x[~orig]
        assert set(synth["country"].dropna()) <= {"FR", "DE", "IT"}
    assert res.notes


def test_smotenc_needs_a_categorical_column_and_bad_tables_get_one_line():
    frame, y = _fraud(gaps=False)
    with pytest.raises(ValueError, match=r"`method`.*'smote' for a table without categorical"):
        resample(frame[["amount", "items"]], y, "smotenc")
    bad = frame.assign(empty=None, one="same", nested=[[1]] * len(frame))
    with pytest.raises(ValueError) as info:
        resample(bad, y, "smote")
    assert all(c in str(info.value) for c in ("'empty'", "'one'", "'nested'"))
    assert "\n" not in str(info.value)


def test_numeric_tables_keep_the_plain_path():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3))
    y = np.array([0] * 32 + [1] * 8)
    frame = pd.DataFrame(x, columns=list("abc"))
    a = resample(frame, y, "smote", random_state=0)
    b = resample(x, y, "smote", random_state=0)
    np.testing.assert_array_equal(a.x.to_numpy(), b.x)
    assert a.notes == ()


def test_id_columns_by_name_and_by_values():
    from keras_imbalance.tables import ID_MIN_ROWS, id_columns

    n = ID_MIN_ROWS
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "Unnamed: 0": np.arange(n),
            "Subject_ID": rng.integers(0, 3, n),  # by its name, whatever it holds
            "row": rng.permutation(n) + 1,  # 1..n shuffled
            "ticket": np.cumsum(rng.integers(1, 9, n)) + 10_000,  # handed out in turn
            "income": rng.permutation(n) * 37,  # distinct, neither: a measurement
            "age": rng.integers(20, 25, n),  # repeats
            "score": np.arange(n, dtype=float),  # not integers
        }
    )
    assert id_columns(frame) == {
        "Unnamed: 0": "the name of an id column",
        "Subject_ID": "the name of an id column",
        "row": f"the {n} consecutive integers 1..{n}",
        "ticket": f"{n} distinct integers, increasing row by row",
    }
    assert "row" not in id_columns(frame.iloc[: n - 1])  # too few rows to tell
