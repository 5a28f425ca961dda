"""Every loss survives model.save -> keras.models.load_model in a fresh process (one subprocess)."""

import json
import textwrap

import keras
import numpy as np

import keras_imbalance.losses as L
from fresh_process import run_fresh

K = 3
LOSSES = {
    "wbce": (
        L.WeightedBinaryCrossentropy(
            pos_weight=[2.0, 0.5, 3.0], neg_weight=0.7, from_logits=True, label_smoothing=0.1
        ),
        "binary",
    ),
    "bfocal": (
        L.BinaryFocalCrossentropy(alpha={0: 0.2, 1: 0.5, 2: 0.9}, gamma=1.5, from_logits=True),
        "binary",
    ),
    "bbal": (L.BatchBalancedBinaryCrossentropy(from_logits=True), "binary"),
    "wce": (
        L.WeightedCategoricalCrossentropy({0: 0.5, 1: 2.0, 2: 4.0}, from_logits=True),
        "onehot",
    ),
    "wsce": (
        L.WeightedSparseCategoricalCrossentropy([0.5, 2.0, 4.0], from_logits=True, ignore_class=-1),
        "sparse",
    ),
    "cfocal": (
        L.CategoricalFocalCrossentropy(
            alpha=[1.0, 2.0, 3.0], gamma=1.0, from_logits=True, label_smoothing=0.1
        ),
        "onehot",
    ),
    "sfocal": (
        L.SparseCategoricalFocalCrossentropy(
            alpha=[1.0, 2.0, 3.0], gamma=3.0, from_logits=True, label_smoothing=0.05
        ),
        "sparse",
    ),
    "la": (
        L.LogitAdjustedCrossentropy(
            class_counts=[50, 10, 2], tau=1.2, sparse=True, from_logits=True
        ),
        "sparse",
    ),
    "la_pri": (L.LogitAdjustedCrossentropy(priors=[0.7, 0.2, 0.1], from_logits=True), "onehot"),
    "bs": (L.BalancedSoftmaxCrossentropy([50, 10, 2], sparse=True, from_logits=True), "sparse"),
    "ldam": (
        L.LDAMCrossentropy(
            [50, 10, 2],
            max_margin=0.4,
            scale=3.0,
            class_weight=[0.2, 1.0, 5.0],
            sparse=True,
            from_logits=True,
        ),
        "sparse",
    ),
}

# Losses whose class weights DeferredReweighting switched during fit before the save: the saved
# config must hold the weights in use (LDAM-DRW reloaded with the old weights: loss 6.533 -> 4.705)
SWITCHED = {
    "ldam_drw": (
        L.LDAMCrossentropy([50, 10, 2], max_margin=0.4, scale=3.0, sparse=True, from_logits=True),
        "sparse",
    ),
    "wsce_drw": (
        L.WeightedSparseCategoricalCrossentropy([1.0, 1.0, 1.0], from_logits=True),
        "sparse",
    ),
}
LOSSES.update(SWITCHED)

CHILD = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import keras
    import keras_imbalance.losses  # registers the classes
    d = np.load(sys.argv[1])
    out = {}
    for name in json.loads(sys.argv[2]):
        model = keras.models.load_model(f"{sys.argv[3]}/{name}.keras")
        out[name] = [type(model.loss).__name__, model.loss.get_config(),
                     float(model.evaluate(d["x"], d["y_" + name], verbose=0)),
                     np.asarray(model.predict(d["x"], verbose=0)).tolist()]
    print("RESULT" + json.dumps(out))
    """
)


def test_all_losses_round_trip_in_fresh_process(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 5)).astype("float32")
    labels = rng.integers(0, K, 20)
    targets = {
        "binary": (rng.random((20, K)) < 0.3).astype("float32"),
        "onehot": np.eye(K, dtype="float32")[labels],
        "sparse": labels,
    }
    expected, arrays = {}, {"x": x}
    for name, (loss, kind) in LOSSES.items():
        model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(K)])
        model.compile(optimizer="sgd", loss=loss)
        if name in SWITCHED:
            drw = L.DeferredReweighting(loss, [0.2, 1.0, 5.0], start_epoch=1)
            model.fit(x, targets[kind], epochs=2, verbose=0, callbacks=[drw])
            assert loss.current_class_weight == [0.2, 1.0, 5.0] or np.allclose(
                loss.current_class_weight, [0.2, 1.0, 5.0]
            )
        model.save(tmp_path / f"{name}.keras")
        arrays["y_" + name] = targets[kind]
        expected[name] = (
            type(loss).__name__,
            loss.get_config(),
            float(model.evaluate(x, targets[kind], verbose=0)),
            np.asarray(model.predict(x, verbose=0)),
        )
    np.savez(tmp_path / "data.npz", **arrays)
    got = run_fresh(CHILD, str(tmp_path / "data.npz"), json.dumps(list(LOSSES)), str(tmp_path))
    for name, (cls, config, value, outputs) in expected.items():
        assert got[name][0] == cls, name
        assert got[name][1] == json.loads(json.dumps(config)), name
        np.testing.assert_allclose(got[name][2], value, rtol=1e-6, err_msg=name)
        np.testing.assert_allclose(got[name][3], outputs, rtol=1e-6, atol=1e-7, err_msg=name)
        # the value is the loss itself, not a silent fallback (e.g. plain CE)
        assert value > 0
