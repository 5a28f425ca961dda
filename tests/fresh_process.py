"""Run a script in a fresh Python process on the current Keras backend (save / load tests)."""

import json
import os
import subprocess
import sys

import keras


def run_fresh(code: str, *args: str, timeout: int = 300):
    """Run ``code`` with ``args``; it prints ``RESULT`` + JSON, which is parsed and returned."""
    env = {**os.environ, "KERAS_BACKEND": keras.backend.backend()}
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.split("RESULT", 1)[1])
