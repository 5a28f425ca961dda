"""A test file run again on the JAX backend, from a session on another backend (the compiled
fold runs on jax only; CI runs on torch)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest

HAS_JAX = importlib.util.find_spec("jax") is not None


def _backend() -> str:
    import keras

    return keras.backend.backend()


def from_another_backend(test):
    """Skip ``test`` on jax (the file's tests run in this session) and without jax."""
    test = pytest.mark.skipif(not HAS_JAX, reason="jax is not installed (pip install jax)")(test)
    return pytest.mark.skipif(
        _backend() == "jax", reason="this session is on jax: the tests run here"
    )(test)


def rerun_on_jax(path: str) -> subprocess.CompletedProcess:
    """``pytest -q path`` in a fresh interpreter with ``KERAS_BACKEND=jax``."""
    env = {**os.environ, "KERAS_BACKEND": "jax", "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", path],
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
