"""The tests themselves: data that do not depend on which tests ran before (issue 20)."""

import ast
import pathlib
import zlib

import numpy as np

TESTS = pathlib.Path(__file__).parent


def _module_level_generators(path: pathlib.Path) -> list:
    """Names bound at module level to a random generator (``np.random.default_rng(...)``,
    ``np.random.RandomState(...)``) or calls of ``np.random.seed``: shared draws whose values
    depend on the order the tests run in."""
    found = []
    for node in ast.parse(path.read_text()).body:
        calls = (
            [n for n in ast.walk(node) if isinstance(n, ast.Call)]
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            else []
        )
        for call in calls:
            name = ast.unparse(call.func)
            if name.endswith(("random.default_rng", "random.RandomState", "random.seed")):
                found.append(f"{path.name}:{node.lineno} {name}")
    return found


def test_no_test_module_draws_from_a_shared_generator():
    found = [hit for path in sorted(TESTS.glob("*.py")) for hit in _module_level_generators(path)]
    assert found == []


def test_the_rng_fixture_is_seeded_by_the_test_id(rng, request):
    expected = np.random.default_rng(zlib.crc32(request.node.nodeid.encode())).random(3)
    np.testing.assert_array_equal(rng.random(3), expected)
