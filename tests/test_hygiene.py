"""The tests themselves: data that do not depend on which tests ran before (issue 20)."""

import ast
import pathlib
import zlib

import numpy as np

TESTS = pathlib.Path(__file__).parent


def _module_level_generators(path: pathlib.Path) -> list:
    """Names bound at module level to a random generator (``RNG = np.random.default_rng(0)``,
    ``np.random.RandomState(...)``) and calls of ``np.random.seed``: shared draws whose values
    depend on the order the tests run in. A constant drawn once at import from a generator
    made for it (``X = np.random.default_rng(1).normal(size=3)``) is not shared: no test
    draws from that generator again."""
    makers = ("random.default_rng", "random.RandomState")
    found = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for call in (n for n in ast.walk(node) if isinstance(n, ast.Call)):
            name = ast.unparse(call.func)
            if name.endswith("random.seed"):
                found.append(f"{path.name}:{node.lineno} {name}")
        value = getattr(node, "value", None)
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(value, ast.Call):
            name = ast.unparse(value.func)
            if name.endswith(makers):
                found.append(f"{path.name}:{node.lineno} {name}")
    return found


def test_the_check_tells_a_shared_generator_from_a_constant(tmp_path):
    module = tmp_path / "test_example.py"
    module.write_text(
        "import numpy as np\n"
        "RNG = np.random.default_rng(0)\n"
        "OLD = np.random.RandomState(1)\n"
        "np.random.seed(2)\n"
        "X = np.random.default_rng(3).normal(size=4)\n"
        "def test_a():\n    rng = np.random.default_rng(5)\n"
    )
    assert _module_level_generators(module) == [
        "test_example.py:2 np.random.default_rng",
        "test_example.py:3 np.random.RandomState",
        "test_example.py:4 np.random.seed",
    ]


def test_no_test_module_draws_from_a_shared_generator():
    found = [hit for path in sorted(TESTS.glob("*.py")) for hit in _module_level_generators(path)]
    assert found == []


def test_the_rng_fixture_is_seeded_by_the_test_id(rng, request):
    expected = np.random.default_rng(zlib.crc32(request.node.nodeid.encode())).random(3)
    np.testing.assert_array_equal(rng.random(3), expected)
