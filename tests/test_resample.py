"""Tests of keras_imbalance.resampling: imbalanced-learn is the trusted reference."""

import numpy as np
import pandas as pd
import pytest
from imblearn.combine import SMOTETomek
from imblearn.over_sampling import ADASYN, SMOTE, SMOTENC, BorderlineSMOTE, RandomOverSampler
from imblearn.under_sampling import RandomUnderSampler, TomekLinks
from scipy import sparse
from sklearn.neighbors import NearestNeighbors

import keras_imbalance
from keras_imbalance import resampling
from keras_imbalance.resampling import METHODS, ApproximateNeighbors, ExactNeighbors, resample


def _data(n_major=80, n_minor=24, d=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_major + n_minor, d))
    y = np.r_[np.zeros(n_major, int), np.ones(n_minor, int)]
    x[y == 1] += 1.2  # overlapping classes: borderline and Tomek links exist
    return x, y


def _reference(method, seed=0):
    return {
        "random_over": RandomOverSampler(random_state=seed),
        "random_under": RandomUnderSampler(random_state=seed),
        "smote": SMOTE(random_state=seed),
        "borderline_smote1": BorderlineSMOTE(random_state=seed, kind="borderline-1"),
        "borderline_smote2": BorderlineSMOTE(random_state=seed, kind="borderline-2"),
        "adasyn": ADASYN(random_state=seed),
        "smotenc": SMOTENC(categorical_features=[0], random_state=seed),
        "tomek": TomekLinks(),
        "smote_tomek": SMOTETomek(random_state=seed),
    }[method]


@pytest.mark.parametrize("method", METHODS)
def test_equals_imbalanced_learn(method):
    x, y = _data()
    if method == "smotenc":
        x[:, 0] = np.arange(len(x)) % 3
    params = {"categorical_features": [0]} if method == "smotenc" else {}
    x_ref, y_ref = _reference(method).fit_resample(x, y)
    x_res, y_res = resample(x, y, method, random_state=0, **params)
    np.testing.assert_array_equal(x_res, x_ref)
    np.testing.assert_array_equal(y_res, y_ref)
    assert x_res.dtype == x_ref.dtype


def test_sampler_object_and_string_labels():
    x, y = _data()
    labels = np.where(y == 1, "fraud", "ok")
    x_ref, y_ref = SMOTE(random_state=3, k_neighbors=3).fit_resample(x, labels)
    x_res, y_res = resample(x, labels, SMOTE(random_state=3, k_neighbors=3))
    np.testing.assert_array_equal(x_res, x_ref)
    np.testing.assert_array_equal(y_res, y_ref)
    assert y_res.dtype.kind == "U"
    with pytest.raises(ValueError, match="`random_state`"):
        resample(x, y, SMOTE(), random_state=0)


@pytest.mark.parametrize("trailing", [(28, 28, 1), (7, 3)])
def test_nd_inputs_keep_shape_and_rows(trailing):
    rng = np.random.default_rng(1)
    n_major, n_minor = 40, 10
    x = rng.random((n_major + n_minor,) + trailing).astype(np.float32)
    y = np.r_[np.zeros(n_major, int), np.ones(n_minor, int)]
    before = x.copy()
    x_res, y_res = resample(x, y, "smote", random_state=0, k_neighbors=3)
    assert x_res.shape == (2 * n_major,) + trailing
    assert x_res.dtype == np.float32
    assert np.bincount(y_res).tolist() == [n_major, n_major]
    np.testing.assert_array_equal(x_res[: len(x)], x)  # original rows unchanged, first
    np.testing.assert_array_equal(x, before)  # caller's array untouched
    x_ref, _ = SMOTE(random_state=0, k_neighbors=3).fit_resample(x.reshape(len(x), -1), y)
    np.testing.assert_array_equal(x_res.reshape(len(x_res), -1), x_ref)


def test_onehot_in_onehot_out_and_soft_labels():
    x, y = _data()
    onehot = np.eye(2, dtype=np.float32)[y]
    x_res, y_res = resample(x, onehot, "smote", random_state=0)
    x_ref, y_ref = SMOTE(random_state=0).fit_resample(x, y)
    np.testing.assert_array_equal(x_res, x_ref)
    np.testing.assert_array_equal(y_res, np.eye(2, dtype=np.float32)[y_ref])
    assert y_res.dtype == np.float32
    # soft labels: original rows keep theirs, synthetic rows get the hard row of their class
    soft = np.where(onehot == 1, 0.9, 0.1).astype(np.float32)
    _, y_soft = resample(x, soft, "smote", random_state=0)
    np.testing.assert_array_equal(y_soft[: len(x)], soft)
    np.testing.assert_array_equal(y_soft[len(x) :], np.eye(2, dtype=np.float32)[y_ref[len(x) :]])


def test_multilabel_resampled_on_label_powerset():
    x, y = _data()
    rng = np.random.default_rng(2)
    labels = np.stack([y, (rng.random(len(y)) < 0.3).astype(int)], axis=1)
    x_res, y_res = resample(x, labels, "random_over", layout="multilabel", random_state=0)
    combos, counts = np.unique(y_res, axis=0, return_counts=True)
    assert len(combos) == 4 and len(set(counts.tolist())) == 1
    # every output row is an input row with its own label row
    for row, lab in zip(x_res, y_res, strict=True):
        i = np.flatnonzero((x == row).all(axis=1))[0]
        np.testing.assert_array_equal(lab, labels[i])


def test_pandas_in_pandas_out():
    x, y = _data()
    frame = pd.DataFrame(x, columns=["a", "b", "c", "d"])
    frame["count"] = np.arange(len(x)) % 5
    target = pd.Series(np.where(y == 1, "yes", "no"), name="churn")
    x_res, y_res = resample(frame, target, "smote", random_state=0)
    assert isinstance(x_res, pd.DataFrame) and isinstance(y_res, pd.Series)
    assert list(x_res.columns) == list(frame.columns)
    assert x_res.dtypes.to_dict() == frame.dtypes.to_dict()
    assert y_res.name == "churn"
    assert y_res.value_counts().to_dict() == {"no": 80, "yes": 80}
    x_ref, _ = SMOTE(random_state=0).fit_resample(frame.to_numpy(), target.to_numpy())
    pd.testing.assert_frame_equal(x_res.iloc[: len(x)], frame)
    np.testing.assert_allclose(x_res[["a", "b", "c", "d"]].to_numpy(), x_ref[:, :4])
    np.testing.assert_array_equal(x_res["count"].to_numpy()[len(x) :], np.round(x_ref[len(x) :, 4]))


def test_smote_rows_lie_on_segments_between_same_class_rows():
    x, y = _data()
    x_res, y_res = resample(x, y, "smote", random_state=0)
    minority = x[y == 1]
    for s in x_res[len(x) :]:
        a = minority[:, None, :]
        b = minority[None, :, :]
        direction = b - a
        norm2 = np.maximum((direction**2).sum(-1), 1e-300)
        t = ((s - a) * direction).sum(-1) / norm2
        residual = np.linalg.norm(s - (a + t[..., None] * direction), axis=-1)
        ok = (residual < 1e-9) & (t >= -1e-12) & (t <= 1 + 1e-12)
        assert ok.any()


def test_sample_weights_carried():
    x, y = _data()
    w = np.linspace(0.5, 2.0, len(y))
    w_before = w.copy()
    res = resample(x, y, "smote", sample_weight=w, random_state=0)
    y_res, w_res = res.y, res.sample_weight
    np.testing.assert_array_equal(w_res[: len(x)], w)
    np.testing.assert_allclose(w_res[len(x) :], w[y == 1].mean())  # synthetic: class mean
    assert w_res.shape == y_res.shape
    np.testing.assert_array_equal(w, w_before)
    # duplicated and kept rows carry their source row's weight
    for method in ("random_over", "random_under", "tomek"):
        res = resample(x, y, method, sample_weight=w, random_state=0)
        source = [np.flatnonzero((x == row).all(axis=1))[0] for row in res.x]
        np.testing.assert_array_equal(res.sample_weight, w[source])
        np.testing.assert_array_equal(res.sample_indices, source)


# --------------------------------------------------------------------------- neighbours


def _clustered(n=6000, d=12, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=6, size=(30, d))
    return centres[rng.integers(0, 30, n)] + rng.normal(size=(n, d))


@pytest.mark.parametrize("data", ["clustered", "noise"])
def test_exact_neighbors_equal_sklearn(data):
    x = _clustered() if data == "clustered" else np.random.default_rng(1).normal(size=(3000, 20))
    queries = x[:700] + 0.01
    ref_d, ref_i = NearestNeighbors(n_neighbors=6).fit(x).kneighbors(queries)
    est = ExactNeighbors(n_neighbors=6).fit(x)
    assert len(est.centroids_) > 1  # the pruned search is the one under test
    got_d, got_i = est.kneighbors(queries)
    np.testing.assert_array_equal(got_i, ref_i)
    np.testing.assert_allclose(got_d, ref_d, rtol=1e-7, atol=1e-6)
    # X=None: each fitted point excluded from its own neighbours
    ref_self = NearestNeighbors(n_neighbors=3).fit(x).kneighbors(return_distance=False)
    np.testing.assert_array_equal(est.kneighbors(n_neighbors=3, return_distance=False), ref_self)
    graph = est.kneighbors_graph(queries[:50], n_neighbors=4, mode="distance")
    ref_graph = (
        NearestNeighbors(n_neighbors=4).fit(x).kneighbors_graph(queries[:50], mode="distance")
    )
    assert sparse.issparse(graph)
    np.testing.assert_allclose(graph.toarray(), ref_graph.toarray(), atol=1e-6)


def test_approximate_with_every_cell_probed_is_exact():
    x = _clustered(3000)
    exact = ExactNeighbors(n_neighbors=5).fit(x).kneighbors(x[:300], return_distance=False)
    approx = ApproximateNeighbors(n_neighbors=5, n_probe=10_000).fit(x)
    np.testing.assert_array_equal(approx.kneighbors(x[:300], return_distance=False), exact)


@pytest.mark.parametrize("method", ["smote", "borderline_smote1", "adasyn"])
def test_exact_backend_gives_same_resampling(method):
    rng = np.random.default_rng(4)
    x = _clustered(3000, d=16)
    y = (rng.random(len(x)) < 0.15).astype(int)
    x[y == 1] += 0.5
    x_ref, y_ref = resample(x, y, method, random_state=7)
    x_res, y_res = resample(x, y, method, random_state=7, neighbors="exact")
    np.testing.assert_array_equal(x_res, x_ref)
    np.testing.assert_array_equal(y_res, y_ref)
    x_obj, _ = resample(x, y, method, random_state=7, neighbors=ExactNeighbors(n_cells=20))
    np.testing.assert_array_equal(x_obj, x_ref)


# --------------------------------------------------------------------------- bad input


def test_k_neighbors_too_large_says_what_to_lower_to():
    x, y = _data(n_minor=4)
    with pytest.raises(ValueError, match=r"`k_neighbors`.*class 1.*k_neighbors=3 or below"):
        resample(x, y, "smote")
    with pytest.raises(ValueError, match=r"`n_neighbors`.*n_neighbors=3"):
        resample(x, y, "adasyn")
    with pytest.raises(ValueError, match=r"`k_neighbors`"):
        resample(x, y, "smote", k_neighbors=ExactNeighbors(n_neighbors=9))


def test_class_with_one_sample():
    x, y = _data(n_minor=1)
    with pytest.raises(ValueError, match=r"`y`.*class 1 has 1 sample.*random_over"):
        resample(x, y, "smote")


def test_nan_in_x():
    x, y = _data()
    x[5, 2] = np.nan
    with pytest.raises(ValueError, match=r"`x`.*finite.*row 5"):
        resample(x, y, "smote")
    with pytest.raises(ValueError, match=r"`x`.*finite.*row 5"):
        resample(x, y, "random_over", shrinkage=0.5)  # a smoothed bootstrap needs numbers
    # a row-drawing method copies the NaN (issue 13: random_over never needs numbers)
    frame = pd.DataFrame(x, columns=list("abcd"))
    res = resample(frame, y, "random_over", random_state=0)
    copies = res.sample_indices == 5
    assert copies.sum() >= 1 and res.x.loc[copies, "c"].isna().all()
    assert int(res.x["c"].isna().sum()) == int(copies.sum())


def test_sampling_strategy_names_unknown_class():
    x, y = _data()
    with pytest.raises(ValueError, match=r"`sampling_strategy`.*\[0, 1\].*class 2 is not in y"):
        resample(x, y, "smote", sampling_strategy={2: 100})


def test_lengths_disagree():
    x, y = _data()
    with pytest.raises(ValueError, match=r"`y`.*104 rows.*103 rows"):
        resample(x, y[:-1])
    with pytest.raises(ValueError, match=r"`sample_weight`"):
        resample(x, y, sample_weight=np.ones(3))


def test_unknown_method_lists_allowed():
    x, y = _data()
    with pytest.raises(ValueError, match=r"`method`.*'random_over'.*'smote_tomek'"):
        resample(x, y, "smoote")
    with pytest.raises(TypeError, match=r"`method`"):
        resample(x, y, 3)
    with pytest.raises(ValueError, match=r"`neighbors`.*'exact'"):
        resample(x, y, neighbors="faiss")


def test_per_element_targets_refused():
    x = np.zeros((6, 4, 4))
    y = np.random.default_rng(0).integers(0, 3, (6, 4, 4))
    with pytest.raises(ValueError, match=r"`y`.*one class per sample"):
        resample(x, y, "random_over")


def test_public_names_documented():
    assert keras_imbalance.resampling.resample is resample
    for name in resampling.__all__:
        obj = getattr(resampling, name)
        assert name == "METHODS" or name == "NEIGHBORS" or obj.__doc__, name
    assert set(METHODS) == {
        "random_over",
        "random_under",
        "smote",
        "borderline_smote1",
        "borderline_smote2",
        "adasyn",
        "smotenc",
        "tomek",
        "smote_tomek",
    }


# --------------------------------------------------------------------------- result shape, errors


def test_result_unpacks_to_two_values_whatever_the_arguments():
    x, y = _data()
    plain = resample(x, y, "smote", random_state=0)
    x_res, y_res = plain
    assert plain.sample_weight is None
    weighted = resample(x, y, "smote", random_state=0, sample_weight=np.ones(len(y)))
    np.testing.assert_array_equal(weighted.x, x_res)
    np.testing.assert_array_equal(weighted.y, y_res)
    np.testing.assert_array_equal(weighted.sample_weight, np.ones(len(y_res)))
    # originals first, then synthetic rows marked -1
    np.testing.assert_array_equal(weighted.sample_indices[: len(y)], np.arange(len(y)))
    assert (weighted.sample_indices[len(y) :] == -1).all()
    # the 0.1 three-value unpacking still works, with a DeprecationWarning
    with pytest.warns(DeprecationWarning, match="sample_weight"):
        _, _, w_res = weighted
    assert w_res is weighted.sample_weight


@pytest.mark.parametrize(
    ("method", "kwargs", "message"),
    [
        ("smote", {"sampling_strategy": "bogus"}, r"`sampling_strategy`.*'minority'.*'bogus'"),
        ("random_under", {"sampling_strategy": "minority"}, r"`sampling_strategy`.*'majority'"),
        ("smote", {"sampling_strategy": 1.5}, r"`sampling_strategy`.*\(0, 1\].*1\.5"),
        ("smote", {"sampling_strategy": {0: 5}}, r"`sampling_strategy`.*greater or equal"),
        ("tomek", {"sampling_strategy": {0: 5}}, r"`sampling_strategy`.*list of classes"),
        (
            "smote",
            {"sampling_strategy": True},
            r"`sampling_strategy`.*Received: sampling_strategy=True",
        ),
        ("smote", {"bogus": 1}, r"`bogus`.*SMOTE.*k_neighbors.*bogus=1"),
        ("random_under", {"k_neighbors": 3}, r"`k_neighbors`.*RandomUnderSampler.*replacement"),
        ("borderline_smote1", {"kind": "borderline-2"}, r"`kind`.*chooses it"),
    ],
)
def test_bad_sampler_arguments_get_our_one_line_error(method, kwargs, message):
    x, y = _data()
    with pytest.raises((ValueError, TypeError), match=message) as info:
        resample(x, y, method, **kwargs)
    assert "\n" not in str(info.value)
    assert str(info.value).startswith("Invalid value for argument")


def test_tomek_accepts_a_list_of_classes_to_clean():
    x, y = _data()
    ours = resample(x, y, "tomek", sampling_strategy=[0])
    ref_x, ref_y = TomekLinks(sampling_strategy=[0]).fit_resample(x, y)
    np.testing.assert_array_equal(ours.x, ref_x)
    np.testing.assert_array_equal(ours.y, ref_y)
