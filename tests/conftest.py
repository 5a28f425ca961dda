import os
import zlib

import numpy as np
import pytest

# Tests run on the torch backend unless the caller chose another (scripts/test-backends.sh).
os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture
def rng(request):
    """A random generator of the test's own, seeded by its id (file, name and parameters):
    the data a test draws do not depend on which tests ran before it, or in what order."""
    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))
