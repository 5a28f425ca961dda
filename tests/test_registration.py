"""Every Keras class of the package loads in a fresh process whatever was imported first
(issue 20: after only ``import keras_imbalance.metrics`` the 14 losses were not registered and
``keras.models.load_model`` failed with "Could not locate class 'DiceLoss'")."""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest

import keras_imbalance.losses as L
import keras_imbalance.metrics as M
import keras_imbalance.models as models
from fresh_process import run_fresh

LOSS_CLASSES = sorted(
    n
    for n in L.__all__
    if isinstance(getattr(L, n), type) and issubclass(getattr(L, n), keras.losses.Loss)
)
NAMES = (
    LOSS_CLASSES + sorted(M._KERAS_NAMES) + ["EnsembleDense", "PeriodicEmbedding", "PackedEnsemble"]
)

CHILD = """
import json, sys
import numpy as np
{prelude}
import keras
registered = [n for n in json.loads(sys.argv[2])
              if keras.saving.get_registered_object("keras_imbalance>" + n) is not None]
out = {{}}
for name in ("dice", "focal", "ensemble"):
    model = keras.models.load_model(sys.argv[1] + "/" + name + ".keras")
    x = np.load(sys.argv[1] + "/" + name + "_x.npy")
    y = np.load(sys.argv[1] + "/" + name + "_y.npy")
    out[name] = [np.asarray(model.predict(x, verbose=0)).tolist(),
                 np.asarray(model.evaluate(x, y, verbose=0), dtype=float).tolist()]
print("RESULT" + json.dumps({{"registered": registered, "out": out, "keras_first": keras_first}}))
"""

PRELUDES = {
    "package": "import keras_imbalance\nkeras_first = 'keras' in sys.modules",
    "metrics": "import keras_imbalance.metrics\nkeras_first = 'keras' in sys.modules",
    "losses": "import keras_imbalance.losses\nkeras_first = 'keras' in sys.modules",
    "metrics after keras": "import keras\nimport keras_imbalance.metrics\nkeras_first = True",
    "numpy layer": "import keras_imbalance.targets\nkeras_first = 'keras' in sys.modules",
}


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """Three saved models with their outputs on fixed inputs: Dice loss and Dice metric on
    masks, a focal loss with two metrics, and a packed ensemble (the package's layers)."""
    path = tmp_path_factory.mktemp("saved")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 4)).astype("float32")
    labels = rng.integers(0, 3, 16)
    x_seg = rng.normal(size=(16, 4, 4, 2)).astype("float32")
    masks = np.eye(3, dtype="float32")[rng.integers(0, 3, (16, 4, 4))]
    keras.utils.set_random_seed(0)
    dice = keras.Sequential([keras.Input((4, 4, 2)), keras.layers.Dense(3, activation="softmax")])
    dice.compile(loss=L.DiceLoss(), metrics=[M.MeanDice(num_classes=3)])
    dice.fit(x_seg, masks, epochs=1, verbose=0)
    focal = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    focal.compile(
        loss=L.SparseCategoricalFocalCrossentropy(alpha=[1.0, 2.0, 3.0], from_logits=True),
        metrics=[M.BalancedAccuracy(num_classes=3), M.MacroF1(num_classes=3)],
    )
    focal.fit(x, labels, epochs=1, verbose=0)
    ensemble = models.packed_ensemble((4,), 3, k=2, embeddings="periodic")
    ensemble.fit(x, labels, epochs=1, verbose=0)
    expected = {}
    for name, model, inputs, targets in (
        ("dice", dice, x_seg, masks),
        ("focal", focal, x, labels),
        ("ensemble", ensemble, x, labels),
    ):
        model.save(path / f"{name}.keras")
        np.save(path / f"{name}_x.npy", inputs)
        np.save(path / f"{name}_y.npy", targets)
        expected[name] = (
            np.asarray(model.predict(inputs, verbose=0)),
            np.asarray(model.evaluate(inputs, targets, verbose=0), dtype=float),
        )
    return path, expected


def test_the_names_cover_every_keras_class():
    assert len(LOSS_CLASSES) == 14 and "DiceLoss" in LOSS_CLASSES
    for name in NAMES:  # in this process everything is imported: all registered
        assert keras.saving.get_registered_object(f"keras_imbalance>{name}") is not None, name


@pytest.mark.parametrize("prelude", list(PRELUDES))
def test_every_class_loads_in_a_fresh_process_whatever_was_imported_first(saved, prelude):
    path, expected = saved
    code = CHILD.format(prelude=PRELUDES[prelude])
    got = run_fresh(code, str(path), json.dumps(NAMES))
    assert got["registered"] == NAMES
    # the package's own import never imports Keras (the losses do)
    assert got["keras_first"] == (prelude in ("losses", "metrics after keras"))
    for name, (outputs, evaluation) in expected.items():
        predicted, evaluated = got["out"][name]
        np.testing.assert_allclose(predicted, outputs, rtol=1e-5, atol=1e-6, err_msg=name)
        np.testing.assert_allclose(evaluated, evaluation, rtol=1e-5, atol=1e-6, err_msg=name)


def test_importing_the_package_does_not_import_keras():
    code = (
        "import sys, keras_imbalance, keras_imbalance.metrics, keras_imbalance.resampling;"
        "print(sorted(m for m in ('keras', 'torch', 'tensorflow') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
