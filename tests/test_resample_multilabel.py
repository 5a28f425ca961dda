"""Multi-label resampling: IRLbl / MeanIR / CVIR / SCUMBLE by hand, MLSMOTE's label vote,
ML-ROS / ML-RUS counts, containers (N-D x, pandas, weights), neighbour backends, errors."""

import numpy as np
import pandas as pd
import pytest

import keras_imbalance as ki
from keras_imbalance.resampling import multilabel_stats


def vote_example():
    """Only label 1 is a minority label (IRLbl 5.5 > MeanIR 2.58); its rows sit at x = 0, 1, 3, 10."""
    rows = [
        ([0.0], [0, 1, 1, 0]),
        ([1.0], [1, 1, 0, 0]),
        ([3.0], [0, 1, 1, 1]),
        ([10.0], [1, 1, 0, 0]),
    ]
    rows += [([50.0 + i], [1, 0, 0, 0]) for i in range(10)]
    rows += [([200.0 + i], [1, 0, 1, 1]) for i in range(10)]
    x = np.array([r[0] for r in rows])
    y = np.array([r[1] for r in rows])
    return x, y


def test_stats_hand_computed():
    y = np.array([[1, 0, 0], [1, 0, 0], [1, 1, 0], [1, 0, 1], [0, 1, 0], [1, 0, 0]])
    s = multilabel_stats(y)
    assert s["label_counts"] == [5, 2, 1]
    np.testing.assert_allclose(s["irlbl"], [1.0, 2.5, 5.0])  # 5 / 5, 5 / 2, 5 / 1
    assert s["mean_ir"] == pytest.approx(8.5 / 3) and s["max_ir"] == 5.0
    sd = np.sqrt(((1 - 8.5 / 3) ** 2 + (2.5 - 8.5 / 3) ** 2 + (5 - 8.5 / 3) ** 2) / 2)
    assert s["cvir"] == pytest.approx(sd / (8.5 / 3))
    # SCUMBLE: 1 - geometric / arithmetic mean of the IRLbl of each row's labels
    row2, row3 = 1 - np.sqrt(1 * 2.5) / 1.75, 1 - np.sqrt(1 * 5.0) / 3.0
    assert s["scumble"] == pytest.approx((row2 + row3) / 6)
    np.testing.assert_allclose(s["scumble_per_label"], [(row2 + row3) / 5, row2 / 2, row3])
    assert s["cardinality"] == pytest.approx(8 / 6)
    # a one-positive-per-row matrix is still multi-label here (no concurrence: SCUMBLE 0)
    assert multilabel_stats(np.eye(3)[[0, 0, 1, 2]])["scumble"] == 0.0
    # a label without positives: IRLbl inf, left out of the means
    s = multilabel_stats(np.array([[1, 0, 0], [1, 1, 0]]))
    assert s["irlbl"] == [1.0, 2.0, float("inf")] and s["mean_ir"] == 1.5


def test_mlsmote_label_set_is_the_neighbours_vote():
    x, y = vote_example()
    # neighbours among the label-1 rows (k = 2): 0 -> {1, 3}, 1 -> {0, 3}, 3 -> {1, 0}, 10 -> {3, 1}
    # votes over the row and its 2 neighbours, set when > 3 / 2:
    #   x=0: [1,3,2,1] -> [0,1,1,0]; x=1: same; x=3: same; x=10: [2,3,1,1] -> [1,1,0,0]
    x_res, y_res = ki.resample(x, y, "mlsmote", k_neighbors=2, random_state=0)
    assert len(x_res) == len(x) + 4  # one synthetic row per row having the minority label
    np.testing.assert_array_equal(x_res[: len(x)], x)
    np.testing.assert_array_equal(y_res[: len(x)], y)
    np.testing.assert_array_equal(
        y_res[len(x) :], [[0, 1, 1, 0], [0, 1, 1, 0], [0, 1, 1, 0], [1, 1, 0, 0]]
    )
    # each synthetic row lies between its base row and one of its 2 neighbours
    near = {0.0: (1.0, 3.0), 1.0: (0.0, 3.0), 3.0: (1.0, 0.0), 10.0: (3.0, 1.0)}
    for base, new in zip((0.0, 1.0, 3.0, 10.0), x_res[len(x) :, 0], strict=True):
        assert any(min(base, b) <= new <= max(base, b) for b in near[base])
    # deterministic with random_state, different with another seed
    again = ki.resample(x, y, "mlsmote", k_neighbors=2, random_state=0)[0]
    np.testing.assert_array_equal(again, x_res)
    assert not np.array_equal(ki.resample(x, y, "mlsmote", k_neighbors=2, random_state=1)[0], x_res)


def test_mlsmote_lowers_mean_ir_on_images_and_backends_agree():
    rng = np.random.default_rng(0)
    n = 300
    y = np.stack([rng.random(n) < p for p in (0.6, 0.3, 0.06, 0.04)], axis=1).astype(np.int8)
    x = rng.normal(size=(n, 4, 4, 2)).astype("float32")
    x_res, y_res = ki.resample(x, y, "mlsmote", random_state=3)
    assert x_res.shape[1:] == (4, 4, 2) and x_res.dtype == np.float32 and y_res.dtype == np.int8
    assert multilabel_stats(y_res)["mean_ir"] < multilabel_stats(y)["mean_ir"]
    for backend in ("exact", "approximate"):
        other = ki.resample(x, y, "mlsmote", random_state=3, neighbors=backend)
        np.testing.assert_array_equal(other[0], x_res)
        np.testing.assert_array_equal(other[1], y_res)


def test_ml_ros_counts_and_stopping_rule():
    y = np.array([[1, 0]] * 8 + [[1, 1]] * 2)  # IRLbl [1, 5], MeanIR 3: label 1 is minority
    x = np.arange(10.0)[:, None]
    # 1 clone for 10 %
    x_res, y_res = ki.resample(x, y, "ml_ros", percentage=10, random_state=0)
    assert len(x_res) == 11 and x_res[10, 0] in (8.0, 9.0)
    # 100 % asks for 10 clones, but after c clones of a [1, 1] row IRLbl(1) = (10 + c) / (2 + c)
    # is <= 3 from c = 2 on: label 1 leaves and nothing is left to clone
    x_res, y_res = ki.resample(x, y, "ml_ros", percentage=100, random_state=0)
    assert len(x_res) == 12
    np.testing.assert_array_equal(x_res[:10], x)
    assert set(x_res[10:, 0]) <= {8.0, 9.0}
    np.testing.assert_array_equal(y_res[10:], [[1, 1], [1, 1]])
    # with several minority labels the clones go round them in turns. Counts [100, 2, 2, 50,
    # 50]: IRLbl [1, 50, 50, 2, 2], MeanIR 21, so labels 1 and 2 leave once 100 / n <= 21,
    # at n = 5: three clones each, alternating, although 26 (25 % of 104) were asked for
    y3 = np.array(
        [[1, 0, 0, 1, 0]] * 50
        + [[1, 0, 0, 0, 1]] * 50
        + [[0, 1, 0, 0, 0]] * 2
        + [[0, 0, 1, 0, 0]] * 2
    )
    x3 = np.arange(104.0)[:, None]
    x_res, y_res = ki.resample(x3, y3, "ml_ros", percentage=25, random_state=0)
    assert len(x_res) == 104 + 6
    np.testing.assert_array_equal(y_res[104:, 1:3], [[1, 0], [0, 1]] * 3)


def test_ml_rus_counts_keeps_order_and_spares_minority_rows():
    y = np.array([[1, 0, 0]] * 20 + [[1, 1, 0]] * 3 + [[0, 0, 1]] * 3)
    x = np.arange(26.0)[:, None]
    w = np.linspace(1, 2, 26)
    res = ki.resample(x, y, "ml_rus", percentage=20, random_state=0, sample_weight=w)
    x_res, y_res, w_res = res.x, res.y, res.sample_weight
    assert len(x_res) == 26 - 5  # int(26 * 20 / 100) rows deleted
    assert np.all(np.diff(x_res[:, 0]) > 0)  # kept rows in their order
    rows = x_res[:, 0].astype(int)
    np.testing.assert_array_equal(y_res, y[rows])
    np.testing.assert_array_equal(w_res, w[rows])
    assert set(range(23, 26)) <= set(rows)  # label 2 (minority) rows are never majority-bag rows
    assert multilabel_stats(y_res)["mean_ir"] < multilabel_stats(y)["mean_ir"]


def test_pandas_weights_and_originals_first():
    x, y = vote_example()
    frame = pd.DataFrame(
        {"pos": x[:, 0], "count": np.arange(len(x)), "flag": np.arange(len(x)) % 2}
    )
    labels = pd.DataFrame(y, columns=["a", "b", "c", "d"]).astype("int8")
    w = np.linspace(0.5, 1.5, len(x))
    res = ki.resample(frame, labels, "mlsmote", k_neighbors=2, sample_weight=w, random_state=0)
    x_res, y_res, w_res = res.x, res.y, res.sample_weight
    assert isinstance(res, ki.resampling.Resampled) and res.notes == ()
    np.testing.assert_array_equal(res.sample_indices, np.r_[np.arange(len(x)), [-1] * 4])
    assert isinstance(x_res, pd.DataFrame) and list(x_res.columns) == ["pos", "count", "flag"]
    assert (x_res.dtypes == frame.dtypes).all()
    pd.testing.assert_frame_equal(x_res.iloc[: len(x)], frame)
    assert isinstance(y_res, pd.DataFrame) and list(y_res.columns) == ["a", "b", "c", "d"]
    assert (y_res.dtypes == "int8").all()
    np.testing.assert_array_equal(w_res[: len(x)], w)
    np.testing.assert_allclose(w_res[len(x) :], w[:4].mean())  # the mean weight of label 1's rows
    # ML-ROS copies any x (strings too) and carries each clone's weight
    mixed = frame.assign(name=[f"r{i}" for i in range(len(x))])
    res = ki.resample(mixed, labels, "ml_ros", sample_weight=w, random_state=0)
    x_res, w_res = res.x, res.sample_weight
    source = x_res["count"].to_numpy()
    np.testing.assert_array_equal(res.sample_indices, source)
    np.testing.assert_array_equal(w_res, w[source])
    assert (x_res["name"] == [f"r{i}" for i in source]).all()


def test_bad_inputs_raise_one_line_errors():
    x, y = vote_example()
    cases = [
        (
            dict(method="mlsmote", sampling_strategy="minority"),
            ValueError,
            "`sampling_strategy`. Expected 'auto'",
        ),
        (
            dict(method="mlsmote", percentage=10),
            TypeError,
            "`percentage`. Expected a parameter of method='mlsmote'",
        ),
        (
            dict(method="ml_rus", percentage=100),
            ValueError,
            "`percentage`. Expected a finite number >= 0.0 and < 100.0",
        ),
        (
            dict(method="mlsmote", k_neighbors=4),
            ValueError,
            "`k_neighbors`. Expected k_neighbors < the number of rows having minority label 1 \\(4\\).*k_neighbors=3",
        ),
        (
            dict(method="ml_ros", layout="onehot"),
            ValueError,
            "`layout`. Expected 'multilabel' or None",
        ),
    ]
    for kwargs, exc, match in cases:
        method = kwargs.pop("method")
        with pytest.raises(exc, match=match):
            ki.resample(x, y, method, **kwargs)
    with pytest.raises(
        ValueError, match="`y`. Expected a multi-label 0/1 matrix of shape \\(N, K\\)"
    ):
        ki.resample(x, y[:, 0], "ml_ros")
    with pytest.raises(ValueError, match="label 3 has 1 row"):
        ki.resample(x[:5], y[[0, 1, 2, 3, 4]], "mlsmote", k_neighbors=1)


def test_cli_inspect_reports_mean_ir_and_scumble_before_and_after(tmp_path, capsys):
    import json

    from keras_imbalance.cli import main

    rng = np.random.default_rng(0)
    n = 400
    y = np.stack([rng.random(n) < p for p in (0.5, 0.2, 0.05)], axis=1).astype(int)
    frame = pd.DataFrame(rng.normal(size=(n, 3)), columns=["f0", "f1", "f2"])
    frame[["a", "b", "c"]] = y
    path = tmp_path / "tags.csv"
    frame.to_csv(path, index=False)
    assert main(["inspect", str(path), "--target", "a,b,c", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["label_counts"] == dict(zip("abc", y.sum(axis=0).tolist(), strict=True))
    rows = report["resampling"]
    assert list(rows) == ["none", "mlsmote", "ml_ros", "ml_rus"]
    assert rows["none"]["mean_ir"] == round(multilabel_stats(y)["mean_ir"], 4)
    assert rows["ml_ros"]["mean_ir"] < rows["none"]["mean_ir"]
    assert main(["inspect", str(path), "--target", "a,b,c"]) == 0
    assert "SCUMBLE" in capsys.readouterr().out
    assert main(["inspect", str(path), "--target", "a,zz"]) == 2
    assert "['zz'] are not columns" in capsys.readouterr().err


def test_mlsmote_on_a_raw_table_runs_on_its_encoding():
    x, y = vote_example()
    n = len(x)
    raw = pd.DataFrame(
        {
            "pos": x[:, 0],
            "colour": pd.Categorical(["red", "blue"] * (n // 2)),
            "size": np.where(np.arange(n) % 5 == 0, np.nan, np.arange(n, dtype=float)),
        }
    )
    res = ki.resample(raw, y, "mlsmote", k_neighbors=2, random_state=0)
    assert len(res.x) == n + 4 and (res.x.dtypes == raw.dtypes).all()
    pd.testing.assert_frame_equal(res.x.iloc[:n], raw)  # originals copied as they are
    synth = res.x.iloc[n:]
    assert set(synth["colour"]) <= {"red", "blue"}
    assert synth["pos"].between(0, 10).all()  # between rows having label 1
    assert any("one-hot encoded categorical columns ['colour']" in note for note in res.notes)
    assert any("missing value(s) in ['size']" in note for note in res.notes)
    np.testing.assert_array_equal(res.y[n:, 1], 1)  # made for label 1, which they all keep
