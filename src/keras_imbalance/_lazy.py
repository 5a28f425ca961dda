"""Names a package imports on first access (PEP 562), so that importing the package stays light.

Standard library only. ``resampling``, ``sampling`` and ``metrics`` build their module-level
``__getattr__`` and ``__dir__`` here.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from collections.abc import Mapping
from typing import Any


def lazy_names(
    package: str,
    table: Mapping[str, str],
    deprecated: Mapping[str, tuple[str, Any]] | None = None,
):
    """``__getattr__`` and ``__dir__`` for ``package`` (its ``__name__``).

    A name of ``table`` (name -> module) is imported from its module on first access and kept
    in the package; a name of ``deprecated`` (old name -> (message, value)) returns its value
    with a DeprecationWarning; any other name raises AttributeError.
    """
    module = sys.modules[package]
    deprecated = deprecated or {}

    def __getattr__(name: str):
        if name in table:
            value = getattr(importlib.import_module(table[name]), name)
            setattr(module, name, value)
            return value
        if name in deprecated:
            message, value = deprecated[name]
            warnings.warn(message, DeprecationWarning, stacklevel=2)
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__():
        return sorted(set(vars(module)) | set(module.__all__))

    return __getattr__, __dir__
