"""Keras metrics: batch-by-batch accumulation, layouts, fit/evaluate and save/load vs scikit-learn."""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
from imblearn.metrics import geometric_mean_score
from sklearn import metrics as skm

from keras_imbalance.metrics import (
    BalancedAccuracy,
    GeometricMean,
    MacroF1,
    MatthewsCorrelation,
    PerClassRecall,
)

CLASSES = {
    "balanced_accuracy": BalancedAccuracy,
    "geometric_mean": GeometricMean,
    "matthews_correlation": MatthewsCorrelation,
    "macro_f1": MacroF1,
    "per_class_recall": PerClassRecall,
}
TOL = {"rtol": 1e-5, "atol": 1e-6}  # float32 state


def reference(name, y_true, y_pred, sample_weight=None, num_classes=2):
    """scikit-learn / imbalanced-learn on hard labels (the trusted value)."""
    if name == "balanced_accuracy":
        return skm.balanced_accuracy_score(y_true, y_pred, sample_weight=sample_weight)
    if name == "geometric_mean":
        return geometric_mean_score(y_true, y_pred, sample_weight=sample_weight)
    if name == "matthews_correlation":
        return skm.matthews_corrcoef(y_true, y_pred, sample_weight=sample_weight)
    if name == "macro_f1":
        return skm.f1_score(
            y_true, y_pred, average="macro", sample_weight=sample_weight, zero_division=0
        )
    return skm.recall_score(
        y_true,
        y_pred,
        labels=range(num_classes),
        average=None,
        sample_weight=sample_weight,
        zero_division=0,
    )


def value(metric):
    return keras.ops.convert_to_numpy(metric.result())


def multiclass_data(seed, n, k, p=None):
    rng = np.random.default_rng(seed)
    y = rng.choice(k, size=n, p=p)
    scores = rng.random((n, k)).astype("float32")
    scores[np.arange(n), y] += 0.6  # better than chance
    return y, scores, rng


@pytest.mark.backend
@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("name", sorted(CLASSES))
@pytest.mark.parametrize("one_hot", [False, True])
def test_multiclass_batches_accumulate_to_reference(name, one_hot):
    k = 4
    y, scores, rng = multiclass_data(0, 240, k, p=[0.6, 0.25, 0.1, 0.05])
    sw = (rng.random(240) * 2).astype("float32")
    labels = scores.argmax(axis=1)
    y_in = np.eye(k, dtype="float32")[y] if one_hot else y
    metric = CLASSES[name](num_classes=k)
    for start in range(0, 240, 60):
        batch = slice(start, start + 60)
        metric.update_state(y_in[batch], scores[batch], sample_weight=sw[batch])
        # after each batch: the reference on everything seen so far
        seen = slice(0, start + 60)
        expected = reference(name, y[seen], labels[seen], sw[seen], num_classes=k)
        np.testing.assert_allclose(value(metric), expected, **TOL)
    # a single batch alone after reset
    metric.reset_state()
    metric.update_state(y_in[:60], scores[:60], sample_weight=sw[:60])
    expected = reference(name, y[:60], labels[:60], sw[:60], num_classes=k)
    np.testing.assert_allclose(value(metric), expected, **TOL)


@pytest.mark.backend
@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("name", sorted(CLASSES))
def test_class_absent_from_a_batch(name):
    # batch 1 has no class 2 at all; batch 2 brings it; class 3 is only ever predicted
    y1, p1 = np.array([0, 0, 1, 1, 0]), np.array([0, 1, 1, 1, 0])
    y2, p2 = np.array([2, 2, 0, 1]), np.array([2, 3, 0, 0])
    metric = CLASSES[name](num_classes=4)
    metric.update_state(y1, np.eye(4, dtype="float32")[p1])
    np.testing.assert_allclose(value(metric), reference(name, y1, p1, num_classes=4), **TOL)
    metric.update_state(y2, np.eye(4, dtype="float32")[p2])
    y, p = np.r_[y1, y2], np.r_[p1, p2]
    np.testing.assert_allclose(value(metric), reference(name, y, p, num_classes=4), **TOL)


@pytest.mark.backend
@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("name", sorted(CLASSES))
@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.7])
def test_binary_threshold_probabilities_and_logits(name, threshold):
    rng = np.random.default_rng(1)
    y = (rng.random(200) < 0.15).astype("float32")
    logits = (rng.normal(size=200) + 2 * y - 1).astype("float32")
    probs = 1 / (1 + np.exp(-logits))
    hard = (probs > threshold).astype(int)
    expected = reference(name, y.astype(int), hard)
    for y_in, p_in, from_logits in [
        (y, probs, False),  # (N,) and (N,)
        (y[:, None], probs[:, None], False),  # (N, 1) and (N, 1)
        (y, logits[:, None], True),  # (N,) and (N, 1) logits
    ]:
        metric = CLASSES[name](threshold=threshold, from_logits=from_logits)
        metric.update_state(y_in[:120], p_in[:120])
        metric.update_state(y_in[120:], p_in[120:])
        np.testing.assert_allclose(value(metric), expected, **TOL)


@pytest.mark.backend
def test_binary_two_unit_softmax_is_read_by_argmax():
    y = np.array([0, 1, 1, 0, 1])
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7], [0.1, 0.9]], "float32")
    metric = BalancedAccuracy(threshold=0.05)  # threshold must not matter here
    metric.update_state(y, probs)
    # recalls: class 0 -> 1/2, class 1 -> 2/3
    np.testing.assert_allclose(value(metric), (0.5 + 2 / 3) / 2, **TOL)


@pytest.mark.backend
@pytest.mark.filterwarnings("ignore")
def test_sequences_with_per_step_weights_equal_flattened_reference():
    k = 3
    rng = np.random.default_rng(2)
    y = rng.integers(0, k, (6, 5))
    scores = rng.random((6, 5, k)).astype("float32")
    steps = (rng.random((6, 5)) < 0.7).astype("float32")  # a padding mask as sample_weight
    labels = scores.argmax(-1)
    for name, cls in CLASSES.items():
        metric = cls(num_classes=k)
        metric.update_state(y[:3], scores[:3], sample_weight=steps[:3])
        metric.update_state(y[3:, :, None], scores[3:], sample_weight=steps[3:])
        expected = reference(name, y.ravel(), labels.ravel(), steps.ravel(), num_classes=k)
        np.testing.assert_allclose(value(metric), expected, **TOL)


@pytest.mark.backend
@pytest.mark.filterwarnings("ignore")
def test_segmentation_ignore_class_and_per_image_weights():
    k = 3
    rng = np.random.default_rng(3)
    y = rng.integers(0, k, (4, 6, 6))
    y[:, 0, :] = 255  # "void" border
    scores = rng.random((4, 6, 6, k)).astype("float32")
    image_w = np.array([1.0, 2.0, 0.5, 1.0], "float32")  # (N,) broadcast over pixels
    keep = y != 255
    sw = np.broadcast_to(image_w[:, None, None], y.shape)[keep]
    labels = scores.argmax(-1)
    for name, cls in CLASSES.items():
        metric = cls(num_classes=k, ignore_class=255)
        metric.update_state(y, scores, sample_weight=image_w)
        expected = reference(name, y[keep], labels[keep], sw, num_classes=k)
        np.testing.assert_allclose(value(metric), expected, **TOL)


@pytest.mark.backend
def test_per_class_recall_class_id_and_reset():
    y = np.array([0, 1, 2, 2])
    pred = np.eye(3, dtype="float32")[[0, 2, 2, 1]]
    metric = PerClassRecall(num_classes=3, class_id=2)
    metric.update_state(y, pred)
    np.testing.assert_allclose(value(metric), 0.5, **TOL)
    metric.reset_state()
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(metric.confusion), np.zeros((3, 3)))
    np.testing.assert_allclose(value(metric), 0.0)


def test_config_round_trip_and_registration():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 5, 40)
    y[:4] = 255  # ignored
    scores = rng.random((40, 5)).astype("float32")
    for cls in CLASSES.values():
        metric = cls(num_classes=5, threshold=0.3, ignore_class=255, name="m")
        config = metric.get_config()
        clone = cls.from_config(config)
        assert clone.get_config() == config
        assert keras.saving.get_registered_object(f"keras_imbalance>{cls.__name__}") is cls
        # the clone computes what the original computes (same settings, not only same config)
        for m in (metric, clone):
            m.update_state(y, scores)
        np.testing.assert_allclose(value(clone), value(metric), **TOL)
    config = PerClassRecall(num_classes=4, class_id=1).get_config()
    assert config["class_id"] == 1 and config["num_classes"] == 4


@pytest.mark.parametrize(
    "make,fragment,exc",
    [
        (lambda: MacroF1(num_classes=1), "num_classes", ValueError),
        (lambda: MacroF1(num_classes=2.5), "num_classes", TypeError),
        (lambda: MacroF1(threshold=1.5), "threshold", ValueError),
        (lambda: MacroF1(from_logits="yes"), "from_logits", TypeError),
        (lambda: PerClassRecall(num_classes=3, class_id=3), "class_id", ValueError),
    ],
)
def test_bad_settings_name_the_argument(make, fragment, exc):
    with pytest.raises(exc, match=f"argument `{fragment}`"):
        make()


def test_bad_shapes_name_the_argument():
    with pytest.raises(ValueError, match="argument `y_pred`"):
        MacroF1(num_classes=3).update_state(np.zeros(4), np.zeros((4, 4), "float32"))
    with pytest.raises(ValueError, match="argument `y_true`"):
        MacroF1(num_classes=3).update_state(np.zeros((4, 2)), np.zeros((4, 3), "float32"))


# ---- in a real model -------------------------------------------------------------------------


def compiled_model(k=3):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(k, activation="softmax")])
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.0),  # weights stay fixed during fit
        loss="sparse_categorical_crossentropy",
        metrics=[
            BalancedAccuracy(num_classes=k),
            GeometricMean(num_classes=k),
            MatthewsCorrelation(num_classes=k),
            MacroF1(num_classes=k),
            PerClassRecall(num_classes=k),
            PerClassRecall(num_classes=k, class_id=1, name="recall_1"),
        ],
    )
    return model


def fit_data(seed=4):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(96, 4)).astype("float32")
    y = np.minimum((rng.random(96) * 4).astype(int), 2)  # imbalanced: class 2 is half
    return x, y


def expected_logs(y, pred_labels, k=3):
    out = {n: reference(n, y, pred_labels, num_classes=k) for n in CLASSES}
    out["recall_1"] = out["per_class_recall"][1]
    return out


@pytest.mark.backend
@pytest.mark.filterwarnings("ignore")
def test_fit_and_evaluate_report_reference_values():
    keras.utils.set_random_seed(0)
    x, y = fit_data()
    model = compiled_model()
    history = model.fit(x, y, batch_size=32, epochs=1, verbose=0, validation_data=(x, y))
    labels = model.predict(x, verbose=0).argmax(axis=1)
    expected = expected_logs(y, labels)
    logs = model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    for name, want in expected.items():
        np.testing.assert_allclose(np.asarray(logs[name]), want, **TOL)
        np.testing.assert_allclose(np.asarray(history.history[name][0]), want, **TOL)
        np.testing.assert_allclose(np.asarray(history.history["val_" + name][0]), want, **TOL)


@pytest.mark.backend
@pytest.mark.filterwarnings("ignore")
def test_keras_mask_from_a_masking_layer_is_respected():
    if keras.backend.backend() == "jax":
        pytest.skip("Keras keeps masks of jax arrays in a private registry; use sample_weight")
    rng = np.random.default_rng(6)
    x = rng.normal(size=(8, 5, 3)).astype("float32")
    x[:, 3:] = 0.0  # the last two steps are padding
    y = rng.integers(0, 3, (8, 5))
    model = keras.Sequential(
        [
            keras.Input((5, 3)),
            keras.layers.Masking(0.0),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(loss="sparse_categorical_crossentropy", metrics=[BalancedAccuracy(3)])
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    labels = model.predict(x, verbose=0).argmax(-1)
    expected = skm.balanced_accuracy_score(y[:, :3].ravel(), labels[:, :3].ravel())
    np.testing.assert_allclose(logs["balanced_accuracy"], expected, **TOL)


SAVE_LOAD_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import keras, numpy as np
    import keras_imbalance.metrics  # after keras: registers the metric classes
    model = keras.models.load_model(sys.argv[1])  # no custom_objects
    data = np.load(sys.argv[2])
    logs = model.evaluate(data["x"], data["y"], batch_size=16, verbose=0, return_dict=True)
    classes = sorted(type(m).__name__ for m in model.metrics[1].metrics)
    labels = model.predict(data["x"], verbose=0).argmax(axis=1)
    print(json.dumps({
        "logs": {k: np.asarray(v).tolist() for k, v in logs.items()},
        "labels": labels.tolist(),
        "classes": classes,
    }))
    """
)


@pytest.mark.backend
@pytest.mark.filterwarnings("ignore")
def test_save_and_load_in_a_fresh_process(tmp_path):
    keras.utils.set_random_seed(1)
    x, y = fit_data(5)
    model = compiled_model()
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    np.savez(tmp_path / "data.npz", x=x, y=y)
    env = dict(os.environ, KERAS_BACKEND=keras.backend.backend())
    run = subprocess.run(
        [sys.executable, "-c", SAVE_LOAD_SCRIPT, str(path), str(tmp_path / "data.npz")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert sorted(set(out["classes"])) == sorted(cls.__name__ for cls in CLASSES.values())
    labels = np.array(out["labels"])
    np.testing.assert_array_equal(labels, model.predict(x, verbose=0).argmax(axis=1))
    for name, want in expected_logs(y, labels).items():
        np.testing.assert_allclose(np.asarray(out["logs"][name]), want, **TOL)


# ---- issue 11 ----------------------------------------------------------------------------------

# torchmetrics' rare-event confusion matrices (test_matthews_corrcoef_reduce)
RARE_EVENTS = [
    [[19392673, 1], [76216, 0]],
    [[0, 1], [29690, 278]],
    [[6931024, 0], [29690, 278]],
    [[6931024, 29690], [0, 278]],
]


@pytest.mark.backend
@pytest.mark.parametrize("confusion", RARE_EVENTS)
def test_mcc_metric_keeps_rare_events_exact(confusion):
    if keras.backend.backend() == "jax":
        import jax

        if not jax.config.read("jax_enable_x64"):
            pytest.skip("float64 counts on jax need JAX_ENABLE_X64")
    weights = np.ravel(confusion).astype("float64")
    expected = skm.matthews_corrcoef([0, 0, 1, 1], [0, 1, 0, 1], sample_weight=weights)
    # the counts arrive over many batches, each below 2**23 per cell (float32 totals stopped
    # counting past 2**24, and the float32 reduce cancelled the first case to 0.0)
    metric = MatthewsCorrelation()
    left = weights.copy()
    while left.any():
        step = np.minimum(left, 2.0**23)
        metric.update_state(np.array([0, 0, 1, 1]), np.array([0.1, 0.9, 0.1, 0.9]), step)
        left -= step
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(metric.confusion), confusion)
    np.testing.assert_allclose(float(value(metric)), expected, rtol=1e-6, atol=0)


@pytest.mark.backend
@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize(
    ("cls", "options", "ref"),
    [
        (
            BalancedAccuracy,
            {"adjusted": True},
            lambda t, p: skm.balanced_accuracy_score(t, p, adjusted=True),
        ),
        (
            GeometricMean,
            {"correction": 0.01},
            lambda t, p: geometric_mean_score(t, p, correction=0.01),
        ),
        (
            GeometricMean,
            {"average": "macro"},
            lambda t, p: geometric_mean_score(t, p, average="macro"),
        ),
        (
            GeometricMean,
            {"average": "weighted"},
            lambda t, p: geometric_mean_score(t, p, average="weighted"),
        ),
        (
            GeometricMean,
            {"average": None},
            lambda t, p: geometric_mean_score(t, p, average=None, labels=[0, 1, 2, 3]),
        ),
    ],
)
def test_metric_options_accumulate_to_the_reference(cls, options, ref):
    y, scores, _ = multiclass_data(7, 300, 4, p=[0.6, 0.25, 0.1, 0.05])
    scores[y == 3] = 0  # class 3 never predicted right: recall 0
    scores[y == 3, 0] = 1
    metric = cls(num_classes=4, **options)
    for start in range(0, 300, 64):
        metric.update_state(y[start : start + 64], scores[start : start + 64])
    np.testing.assert_allclose(value(metric), ref(y, scores.argmax(axis=1)), **TOL)
    clone = cls.from_config(metric.get_config())
    assert clone.get_config() == metric.get_config()
    assert {k: metric.get_config()[k] for k in options} == options


def test_class_scores_without_num_classes_raise_naming_num_classes():
    scores = np.random.default_rng(0).random((6, 5)).astype("float32")
    labels = np.array([0, 1, 2, 3, 4, 0])
    for y_true in (labels, labels[:, None]):
        with pytest.raises(ValueError, match=r"argument `num_classes`.*\(5, the last axis"):
            BalancedAccuracy().update_state(y_true, scores)
    # one 0/1 label per score (multi-label style) is binary, as documented
    metric = BalancedAccuracy()
    metric.update_state((scores > 0.5).astype("float32"), scores)
    assert float(value(metric)) == 1.0


@pytest.mark.parametrize(
    "prelude",
    [
        "import keras_imbalance.metrics\nimport keras",
        "import keras_imbalance.losses\nimport keras",
        "import keras_imbalance\nfrom keras_imbalance import metrics\nimport keras",
    ],
    ids=["metrics before keras", "only losses", "package then metrics"],
)
@pytest.mark.filterwarnings("ignore")
def test_metrics_load_in_a_fresh_process_whatever_the_import_order(tmp_path, prelude):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(30, 4)).astype("float32")
    y = rng.integers(0, 3, 30)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(
        loss="sparse_categorical_crossentropy",
        metrics=[BalancedAccuracy(num_classes=3, adjusted=True), GeometricMean(3, correction=0.1)],
    )
    path = tmp_path / "model.keras"
    model.save(path)
    np.savez(tmp_path / "data.npz", x=x, y=y)
    expected = model.evaluate(x, y, verbose=0, return_dict=True)
    script = prelude + textwrap.dedent(
        """
        import json, sys
        import numpy as np
        model = keras.models.load_model(sys.argv[1])
        data = np.load(sys.argv[2])
        logs = model.evaluate(data["x"], data["y"], verbose=0, return_dict=True)
        print("LOADED" + json.dumps({k: float(v) for k, v in logs.items()}))
        """
    )
    env = dict(os.environ, KERAS_BACKEND=keras.backend.backend())
    run = subprocess.run(
        [sys.executable, "-c", script, str(path), str(tmp_path / "data.npz")],
        capture_output=True,
        text=True,
        env=env,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    got = json.loads(run.stdout.split("LOADED", 1)[1])
    assert got.keys() == expected.keys()
    for name, want in expected.items():  # the reloaded metrics compute what the saved ones did
        np.testing.assert_allclose(got[name], float(want), **TOL, err_msg=name)
