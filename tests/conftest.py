import os

# Tests run on the torch backend unless the caller chose another (scripts/test-backends.sh).
os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("OMP_NUM_THREADS", "1")
