"""ADASYN's run-time refusals in one line (issue 20): ``resample`` raises a ValueError naming
the method, the class and what to do; the command line exits 2; ``compare`` refuses an
ADASYN strategy the user named before any fit (or skips it with a warning)."""

import pickle

import numpy as np
import pandas as pd
import pytest

from keras_imbalance.resampling import resample


def _separated(seed=0):
    rng = np.random.default_rng(seed)
    x = np.r_[rng.normal(size=(40, 2)), rng.normal(size=(10, 2)) + 20.0]
    y = np.r_[np.zeros(40, int), np.ones(10, int)]
    return x, y


def test_adasyn_on_separated_classes_is_one_line_naming_the_class():
    from imblearn.over_sampling import ADASYN

    x, y = _separated()
    with pytest.raises(RuntimeError, match="Not any neigbours"):  # imbalanced-learn's own
        ADASYN(random_state=0).fit_resample(x, y)
    with pytest.raises(ValueError) as info:
        resample(x, y, "adasyn", random_state=0)
    text = str(info.value)
    assert text.startswith("Invalid value for argument `method`.")
    assert "no row of class 1 has a row of another class among its 5 nearest" in text
    assert "method='smote'" in text and text.endswith("Received: method='adasyn'")
    assert "\n" not in text
    # string labels, a third class that overlaps the majority: the separated one is named
    rng = np.random.default_rng(1)
    x3 = np.r_[x, rng.normal(size=(12, 2))]
    y3 = np.array(["a", "b", "c"])[np.r_[y, np.full(12, 2)]]
    with pytest.raises(ValueError, match=r"no row of class 'b' has a row"):
        resample(x3, y3, "adasyn", random_state=0)
    # a sampler object given by the caller gets the same line
    with pytest.raises(ValueError, match=r"`method`.*no row of class 1"):
        resample(x, y, ADASYN(n_neighbors=3))


def test_adasyn_rounding_to_no_rows_is_one_line():
    from imblearn.over_sampling import ADASYN

    # 11 against 10 rows: one row to make, spread over 10 rows with equal shares of 0.1
    x = np.r_[np.arange(11.0), np.arange(10.0) + 0.5].reshape(-1, 1)
    y = np.r_[np.zeros(11, int), np.ones(10, int)]
    with pytest.raises(ValueError, match="No samples will be generated"):
        ADASYN(random_state=0).fit_resample(x, y)
    with pytest.raises(ValueError) as info:
        resample(x, y, "adasyn", random_state=0)
    assert str(info.value).startswith("Invalid value for argument `method`.")
    assert "rounds to 0 new rows" in str(info.value)


def test_other_sampler_errors_pass_through_and_the_error_pickles():
    from keras_imbalance.resampling._failures import ResamplingInfeasible

    class Broken:
        def fit_resample(self, x, y):
            raise RuntimeError("Not any neigbours belong to the majority class")

    x, y = _separated()
    with pytest.raises(RuntimeError, match="Not any neigbours"):
        resample(x, y, Broken())  # not ADASYN: not ours to reword
    with pytest.raises(ResamplingInfeasible) as info:
        resample(x, y, "adasyn")
    back = pickle.loads(pickle.dumps(info.value))  # joblib workers send it to the parent
    assert (str(back), back.method, back.label, back.reason()) == (
        str(info.value),
        "adasyn",
        1,
        info.value.reason(),
    )
    assert back.reason("fraud").startswith("no row of class 'fraud' has a row")


def test_adasyn_still_equals_imbalanced_learn_where_it_runs():
    from imblearn.over_sampling import ADASYN

    rng = np.random.default_rng(2)
    x = rng.normal(size=(60, 3))
    y = np.r_[np.zeros(45, int), np.ones(15, int)]
    x[y == 1] += 0.8
    ours = resample(x, y, "adasyn", random_state=4)
    ref_x, ref_y = ADASYN(random_state=4).fit_resample(x, y)
    np.testing.assert_array_equal(ours.x, ref_x)
    np.testing.assert_array_equal(ours.y, ref_y)


def test_cli_resample_exits_2_with_one_line(tmp_path, capsys):
    from keras_imbalance.cli import main

    x, y = _separated()
    data = tmp_path / "sep.csv"
    pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "t": y}).to_csv(data, index=False)
    out = tmp_path / "out.csv"
    code = main(["resample", str(data), "--target", "t", "--method", "adasyn", "-o", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and not out.exists()
    assert len(err.splitlines()) == 1 and "`method`" in err and "no row of class 1" in err


def test_compare_refuses_a_named_adasyn_before_any_fit():
    from keras_imbalance import compare

    x, y = _separated()

    def never(input_shape, n_classes):  # the refusal comes before any model is built
        raise AssertionError("a model was built")

    with pytest.raises(ValueError) as info:
        compare(x, y, strategies=["smote", "adasyn"], model_fn=never, cv=2, epochs=1)
    text = str(info.value)
    assert text.startswith("Invalid value for argument `strategies`.")
    assert "'adasyn' cannot: in the early-stopping fit part of repeat 0, fold 0" in text
    assert "no row of class '1' has a row of another class" in text and "\n" not in text
    # the class by its name
    names = np.array(["common", "rare"])[y]
    with pytest.raises(ValueError, match=r"no row of class 'rare' has a row"):
        compare(x, names, strategies=["adasyn"], model_fn=never, cv=2, epochs=1)


def test_an_unnamed_infeasible_strategy_is_skipped_with_a_warning():
    from keras_imbalance.comparison._feasible import refuse_infeasible
    from keras_imbalance.comparison._plan import skip_or_refuse

    problems = {"adasyn": "in the training fold of repeat 0, fold 1, no row of class 1 ..."}
    with pytest.warns(
        UserWarning, match=r"default strategies skipped on this data: adasyn: in the"
    ):
        assert skip_or_refuse(problems, False, []) == problems
    assert refuse_infeasible({}, []) is None
    with pytest.raises(ValueError, match=r"but 'adasyn' cannot: in the training fold"):
        refuse_infeasible(problems, [])


def test_compare_runs_adasyn_where_it_can():
    from keras_imbalance import compare

    rng = np.random.default_rng(3)
    x = rng.normal(size=(80, 2))
    y = np.r_[np.zeros(60, int), np.ones(20, int)]
    x[y == 1] += 1.0
    result = compare(x, y, strategies=["adasyn"], cv=2, epochs=2, refit=False)
    assert "adasyn" in set(result.leaderboard["strategy"]) and not result.skipped
