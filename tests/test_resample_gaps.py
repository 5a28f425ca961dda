"""Resampling a raw table with gaps (issue 20): no synthetic row without a measurement.

Before, a synthetic row copied the gaps of its nearer source row, and median imputation put
the rows without any measurement at the centre of the table, where ADASYN and
Borderline-SMOTE make most of their rows: ADASYN on palmerpenguins wrote 12 of 112 rows
whose every measurement was missing.
"""

import numpy as np
import pandas as pd
import pytest

from keras_imbalance.resampling import resample

MEASURES = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]


def _penguins():
    """A palmerpenguins-like table: 3 species, 4 measurements with gaps, island, sex and a
    year that is never missing; 3 rows without any measurement, two of them Gentoo."""
    rng = np.random.default_rng(0)
    centres = {
        "Adelie": (38.8, 18.3, 190, 3700),
        "Gentoo": (47.5, 15.0, 217, 5076),
        "Chinstrap": (48.8, 18.4, 196, 3733),
    }
    sizes = {"Adelie": 152, "Gentoo": 124, "Chinstrap": 68}
    parts = []
    for species, n in sizes.items():
        values = np.asarray(centres[species]) + rng.normal(size=(n, 4)) * [2.6, 1.2, 6.5, 450]
        part = pd.DataFrame(values, columns=MEASURES)
        part["species"] = species
        parts.append(part)
    frame = pd.concat(parts, ignore_index=True)
    frame["flipper_length_mm"] = frame["flipper_length_mm"].round().astype("Int64")
    frame["island"] = rng.choice(["Biscoe", "Dream", "Torgersen"], len(frame))
    frame["sex"] = rng.choice(["male", "female"], len(frame))
    frame["year"] = rng.choice([2007, 2008, 2009], len(frame))
    frame.loc[[3, 160, 200], MEASURES] = np.nan
    frame.loc[[3, 160, 200, 9, 10], "sex"] = np.nan
    frame.loc[[20, 170, 290], "body_mass_g"] = np.nan  # single gaps
    y = frame.pop("species")
    return frame, y


@pytest.mark.parametrize(
    "method", ["adasyn", "smote", "borderline_smote1", "borderline_smote2", "smote_tomek"]
)
def test_no_synthetic_row_without_a_measurement(method):
    frame, y = _penguins()
    res = resample(frame, y, method, random_state=0)
    synth = res.x[res.sample_indices < 0]
    assert len(synth) > 50
    assert not synth[MEASURES].isna().all(axis=1).any()
    assert not synth[MEASURES].isna().any(axis=1).any()  # no source pair misses one together
    blank = f"3 row(s) missing every numeric column with gaps {MEASURES} kept as they are"
    assert any(n.startswith(blank) for n in res.notes)
    orig = res.sample_indices >= 0
    pd.testing.assert_frame_equal(
        res.x[orig].reset_index(drop=True),
        frame.iloc[res.sample_indices[orig]].reset_index(drop=True),
    )
    if method != "smote_tomek":  # every original row kept once, the blank ones too
        np.testing.assert_array_equal(res.sample_indices[orig], np.arange(len(frame)))
    if method == "smote":  # the numbers asked for are those of every row
        assert res.y.value_counts().to_dict() == {"Adelie": 152, "Gentoo": 152, "Chinstrap": 152}


def test_a_value_one_source_row_misses_is_the_other_rows_value():
    # 4 minority rows and k_neighbors=3: each one's neighbours are the 3 others, two of which
    # miss a. The majority lies far above, so the median (what the neighbour search puts in
    # a gap) lies far outside the minority's values 0 and 1: a value pulled towards it would
    # leave [0, 1]; the value of the source row that has it is 0 or 1 exactly.
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "a": np.r_[rng.normal(10, 1, 20), [0.0, 1.0, np.nan, np.nan]],
            "b": np.r_[rng.normal(10, 1, 20), [0.0, 0.5, 1.0, 1.5]],
        }
    )
    frame.loc[0, "b"] = np.nan  # b has gaps too: a row missing only a still has a measurement
    y = np.r_[np.zeros(20, int), np.ones(4, int)]
    res = resample(frame, y, "smote", k_neighbors=3, random_state=0)
    synth = res.x[res.sample_indices < 0]
    a = synth["a"].to_numpy()
    assert len(a) == 16 and not synth["b"].isna().any()
    both_missing = np.isnan(a)
    one_missing = np.isclose(a, 0.0, atol=1e-9) | np.isclose(a, 1.0, atol=1e-9)
    between = (a > 0) & (a < 1)  # both source rows have a: interpolated
    assert (both_missing | one_missing | between).all()
    assert one_missing.sum() >= 4 and both_missing.sum() >= 1
    assert "missing only where both of its source rows miss it" in " ".join(res.notes)


@pytest.mark.parametrize("method", ["smote", "adasyn"])
def test_equals_imbalanced_learn_on_the_rows_with_a_value(method):
    from imblearn.over_sampling import ADASYN, SMOTE

    rng = np.random.default_rng(2)
    a = np.r_[rng.normal(0, 1, 70), rng.normal(1.0, 1, 25)]
    y = np.r_[np.zeros(70, int), np.ones(25, int)]
    a[[3, 40, 72, 80, 91]] = np.nan  # 2 majority and 3 minority rows without a value
    res = resample(pd.DataFrame({"a": a}), y, method, random_state=5)
    keep = ~np.isnan(a)
    n_new = 70 - 25  # asked on every row: "auto" balances 70 against 25
    sampler = {"smote": SMOTE, "adasyn": ADASYN}[method]
    strategy = {1: int(keep[y == 1].sum()) + n_new}
    ref_x, ref_y = sampler(sampling_strategy=strategy, random_state=5).fit_resample(
        a[keep].reshape(-1, 1), y[keep]
    )
    ref_synth = ref_x[keep.sum() :, 0]
    synth = res.sample_indices < 0
    np.testing.assert_allclose(res.x["a"].to_numpy()[synth], ref_synth, rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(res.y[synth], ref_y[keep.sum() :])
    np.testing.assert_array_equal(res.sample_indices[~synth], np.arange(len(a)))
    if method == "smote":
        assert np.bincount(res.y).tolist() == [70, 70]


def test_a_class_without_two_measured_rows_is_one_line():
    a = [1.0, 2, 3, 4, 5, 6, 7, 8, np.nan, np.nan, 9.0]
    frame = pd.DataFrame({"a": a, "c": list("xyxyxyxyxyx")})
    y = np.array([0] * 8 + [1] * 3)
    with pytest.raises(ValueError) as info:
        resample(frame, y, "smote", k_neighbors=1, random_state=0)
    text = str(info.value)
    assert text.startswith("Invalid value for argument `x`. Expected at least 2 rows with a")
    assert "class 1 has 1 such row(s)" in text and "\n" not in text
    frame["a"] = [1.0, 2, 3, 4, 5, 6, 7, 8, np.nan, 9, 10]
    y = np.array([0] * 7 + [1] * 4)  # 4 rows of class 1, 3 with a value
    with pytest.raises(ValueError, match=r"`k_neighbors`.*k_neighbors=2 or below.*take no part"):
        resample(frame, y, "smote", k_neighbors=3, random_state=0)


def test_mlsmote_takes_observed_values_too():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "a": np.r_[rng.normal(10, 1, 20), [0.0, 1.0, np.nan, np.nan]],
            "b": np.r_[rng.normal(10, 1, 20), [0.0, 0.5, 1.0, 1.5]],
        }
    )
    frame.loc[0, "b"] = np.nan
    labels = np.zeros((24, 2), dtype=int)
    labels[:20, 0] = 1
    labels[20:, 1] = 1  # IRLbl 5 against MeanIR 3: each of the 4 rows makes one row
    res = resample(frame, labels, "mlsmote", k_neighbors=3, random_state=0)
    a = res.x["a"].to_numpy()[res.sample_indices < 0]
    assert len(a) == 4
    one_missing = np.isclose(a, 0.0, atol=1e-6) | np.isclose(a, 1.0, atol=1e-6)
    assert (np.isnan(a) | one_missing | ((a > 0) & (a < 1))).all()
    assert one_missing.sum() >= 1
