#!/usr/bin/env bash
# Run the backend-marked numerical core (losses, metrics, weights, balanced batches) on the
# jax and tensorflow Keras backends. Builds its own venv (.venv-backends) on first use.
#   bash scripts/test-backends.sh            # jax and tensorflow
#   bash scripts/test-backends.sh jax        # one backend
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv-backends}
if [ ! -x "$VENV/bin/python" ]; then
  python3.11 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q jax tensorflow-cpu torch==2.13.0 -e ".[test]"
fi
backends=("$@")
[ ${#backends[@]} -gt 0 ] || backends=(jax tensorflow)
for backend in "${backends[@]}"; do
  echo "=== KERAS_BACKEND=$backend ==="
  KERAS_BACKEND=$backend OMP_NUM_THREADS=1 "$VENV/bin/python" -m pytest -q -m backend tests
done
