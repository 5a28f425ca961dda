import os
import zlib

import numpy as np
import pytest

# Tests run on the torch backend unless the caller chose another (scripts/test-backends.sh).
os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("OMP_NUM_THREADS", "1")
# TensorFlow's oneDNN kernels are not deterministic from run to run on CPU: the test that a
# packed segmentation copy (a small U-Net) ends with its lone fit's weights failed 2 runs in
# 7 with them, by up to 5e-5 on weights of ~0.2, and passed 7 in 7 without them.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


@pytest.fixture
def rng(request):
    """A random generator of the test's own, seeded by its id (file, name and parameters):
    the data a test draws do not depend on which tests ran before it, or in what order."""
    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))
