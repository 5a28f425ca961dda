"""Every Keras class of the package registered with Keras, whatever the user imported first.

``keras.models.load_model`` finds a class saved as ``keras_imbalance>DiceLoss`` only once
the module defining it has run its ``keras.saving.register_keras_serializable``. A user who
imported only ``keras_imbalance``, ``keras_imbalance.metrics`` or ``keras_imbalance.losses``
expects any model of ours to load. The package's ``__init__`` calls :func:`install`:

- Keras already imported: :func:`register` imports the modules that define the classes
  (:data:`MODULES`: the 14 losses, the 7 metrics, the layers and the ensemble model);
- otherwise a one-shot import hook waits for ``keras`` to finish importing and registers
  them then, so importing ``keras_imbalance`` (or its numpy layer) never imports Keras itself.

Standard library only.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

#: The modules whose import registers the package's Keras classes.
MODULES = (
    "keras_imbalance.metrics._keras",
    "keras_imbalance.losses",
    "keras_imbalance.models",
)


def register() -> None:
    """Import every module of :data:`MODULES` (a module already being imported finishes, and
    registers its classes, on its own)."""
    for name in MODULES:
        if name not in sys.modules:
            importlib.import_module(name)


class _RegisterAfterKeras(importlib.abc.MetaPathFinder):
    """One-shot import hook: once ``keras`` has finished importing, :func:`register`.

    It finds ``keras`` with the other finders (it takes itself out of ``sys.meta_path`` first)
    and wraps the loader they return; every other name is left to the other finders.
    """

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "keras":
            return None
        _remove_hook()
        spec = importlib.util.find_spec("keras")
        if spec is None or spec.loader is None:
            return spec
        spec.loader = _LoaderThenRegister(spec.loader)
        return spec


class _LoaderThenRegister(importlib.abc.Loader):
    """Runs the real loader of ``keras``, then :func:`register`."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        try:
            self._loader.exec_module(module)
        except BaseException:
            _install_hook()  # keras failed to import: try again on the next import
            raise
        register()

    def __getattr__(self, name):  # get_code, get_resource_reader...: the real loader's
        return getattr(self._loader, name)


_HOOK = _RegisterAfterKeras()


def _install_hook() -> None:
    if _HOOK not in sys.meta_path:
        sys.meta_path.insert(0, _HOOK)


def _remove_hook() -> None:
    while _HOOK in sys.meta_path:
        sys.meta_path.remove(_HOOK)


def install() -> None:
    """Register now when Keras is imported, else when it is (see the module docstring)."""
    if "keras" in sys.modules:
        register()
    else:
        _install_hook()
