"""Every public name exists, has a docstring, and the numpy layer never imports Keras."""

import importlib
import subprocess
import sys

import pytest

import keras_imbalance

PACKAGES = [
    "keras_imbalance",
    "keras_imbalance.weights",
    "keras_imbalance.tables",
    "keras_imbalance.metrics",
    "keras_imbalance.losses",
    "keras_imbalance.calibration",
    "keras_imbalance.datasets",
    "keras_imbalance.resampling",
    "keras_imbalance.sampling",
    "keras_imbalance.models",
    "keras_imbalance.comparison",
    "keras_imbalance.report",
]


def _public(package):
    module = importlib.import_module(package)  # a missing subpackage fails, never skips
    assert getattr(module, "__file__", None) is not None, f"{package} is a bare folder"
    return module, list(getattr(module, "__all__", []))


def test_the_list_covers_every_subpackage():
    """PACKAGES names every subpackage and public module the package declares."""
    declared = {f"keras_imbalance.{name}" for name in keras_imbalance._SUBPACKAGES}
    # targets has no __all__: its public names are the top level's
    assert declared - {"keras_imbalance.targets"} == set(PACKAGES) - {"keras_imbalance"}


def test_a_missing_subpackage_fails_instead_of_skipping():
    with pytest.raises(ModuleNotFoundError):
        _public("keras_imbalance.no_such_subpackage")


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_name_exists_and_is_documented(package):
    module, names = _public(package)
    assert module.__doc__, f"{package} has no module docstring"
    assert names, f"{package} has no __all__"
    for name in names:
        obj = getattr(module, name)
        if name.startswith("__") or not callable(obj):
            continue
        assert obj.__doc__ and obj.__doc__.strip(), f"{package}.{name} has no docstring"


@pytest.mark.parametrize(
    "module",
    [
        "keras_imbalance",
        "keras_imbalance.targets",
        "keras_imbalance.tables",
        "keras_imbalance.weights",
        "keras_imbalance.calibration",
        "keras_imbalance.datasets",
        "keras_imbalance.metrics",
    ],
)
def test_numpy_layer_does_not_import_keras(module):
    code = (
        f"import sys, {module}\n"
        "import keras_imbalance as ki\n"
        "ki.class_weights([0, 0, 1]); ki.sample_weights([0, 1], 'balanced')\n"
        "assert 'keras' not in sys.modules, 'keras imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_top_level_names_resolve():
    for name in (
        "describe",
        "class_counts",
        "class_weights",
        "sample_weights",
        "fit_kwargs",
        "weighted",
    ):
        assert callable(getattr(keras_imbalance, name))
    with pytest.raises(AttributeError):
        keras_imbalance.no_such_name  # noqa: B018
