"""The README's code runs as written, gives the values its comments promise, and is what CI runs.

A line of a ```python block ending in ``# -> VALUE`` promises that its expression equals VALUE
(a Python literal; floats to the decimals shown, e.g. ``0.37`` means 0.365 to 0.375). The
blocks run together in a fresh process (torch backend) with each promised line replaced by a
check, so a README value that drifts from the code fails here. The ```bash blocks of the set-up
section must each work in a new shell and appear verbatim in .ci/run.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
CI = ROOT / ".ci" / "run"
PROMISE = re.compile(r"^(?P<expr>[^#\s][^#]*?)\s*#\s*->\s*(?P<rest>.+)$")


def _blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", README.read_text(), flags=re.S)


def _literal_prefix(text: str):
    """The longest prefix of ``text`` that is a Python literal: (source, value)."""
    for end in range(len(text), 0, -1):
        source = text[:end].strip()
        try:
            return source, ast.literal_eval(source)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
    raise AssertionError(f"no Python literal after '# ->' in {text!r}")


def promises(code: str) -> list[tuple[int, str, str]]:
    """(line number, expression, literal source) of every ``expr  # -> VALUE`` line."""
    found = []
    for number, line in enumerate(code.splitlines(), 1):
        match = PROMISE.match(line)
        if match:
            found.append((number, match["expr"], _literal_prefix(match["rest"])[0]))
    return found


def matches(actual, expected) -> bool:
    """``actual`` equals the README's ``expected``, floats to the decimals the README shows."""
    if isinstance(expected, float):
        decimals = len(repr(expected).split(".")[1]) if "." in repr(expected) else 0
        return abs(float(actual) - expected) <= 0.5 * 10.0**-decimals + 1e-12
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and list(actual) == list(expected)
            and all(matches(actual[k], v) for k, v in expected.items())
        )
    if isinstance(expected, (list, tuple)):
        if isinstance(actual, np.ndarray):
            actual = actual.tolist() if isinstance(expected, list) else tuple(actual.tolist())
        return (
            type(actual) is type(expected)
            and len(actual) == len(expected)
            and all(matches(a, e) for a, e in zip(actual, expected, strict=True))
        )
    if isinstance(expected, bool):
        return isinstance(actual, (bool, np.bool_)) and bool(actual) is expected
    return type(actual) is type(expected) and actual == expected


CHECK = """
_FAILED = []
def __promise__(actual, expected, where):
    from test_readme import matches
    if not matches(actual, expected):
        _FAILED.append(f"README python line {where}: got {actual!r}, the README says {expected!r}")
"""
REPORT = """
print(f"PROMISES CHECKED: {__checked__}")
if _FAILED:
    raise SystemExit("\\n".join(_FAILED))
"""


def _checked_script(code: str) -> tuple[str, int]:
    lines = code.splitlines()
    found = promises(code)
    for number, expr, literal in found:
        lines[number - 1] = f"__promise__({expr}, {literal}, {number})"
    body = "\n".join(lines)
    return f"{CHECK}\n__checked__ = {len(found)}\n{body}\n{REPORT}", len(found)


def test_promise_parser_reads_values_and_rounding():
    code = "f(y)   # -> {0: 1.0, 1: 2.0}: rare classes weigh more\nx = 1  # a comment\n"
    assert promises(code) == [(1, "f(y)", "{0: 1.0, 1: 2.0}")]
    assert matches({0: 1.0, 1: 2.8124}, {0: 1.0, 1: 2.812})
    assert not matches({0: 1.0, 1: 2.8134}, {0: 1.0, 1: 2.812})
    assert not matches({1: 2.0, 0: 1.0}, {0: 1.0, 1: 2.0})  # key order is what users see
    assert matches(np.array([0.37, 3.7], dtype="float32"), [0.37, 3.7])
    assert not matches("ok", "ok ") and matches(np.bool_(True), True)


def test_readme_python_blocks_give_the_promised_values(tmp_path):
    blocks = _blocks("python")
    assert blocks, "README has no python example"
    script, n_promises = _checked_script("\n".join(blocks))
    # the 30-second example promises its weights, the per-row weights and the mask shape,
    # the compare block its strategies: a README that lost its values would pass silently
    assert n_promises >= 6
    path = tmp_path / "readme_examples.py"
    path.write_text(script)
    env = {
        **os.environ,
        "KERAS_BACKEND": "torch",
        "PYTHONPATH": os.pathsep.join(
            [str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]
        ),
    }
    out = subprocess.run(
        [sys.executable, str(path)], env=env, cwd=tmp_path, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    assert f"PROMISES CHECKED: {n_promises}" in out.stdout


def _setup_blocks() -> list[str]:
    text = README.read_text()
    section = text.split("## Set up and run", 1)[1].split("\n## ", 1)[0]
    return [b.strip() for b in re.findall(r"```bash\n(.*?)```", section, flags=re.S)]


def _docs_block() -> str:
    section = README.read_text().split("## Documentation", 1)[1]
    return re.findall(r"```bash\n(.*?)```", section, flags=re.S)[0].strip()


def test_readme_set_up_blocks_are_what_ci_runs():
    blocks = _setup_blocks()
    assert len(blocks) == 2, "the set-up section has the set-up block and the test block"
    ci = CI.read_text()
    for block in [*blocks, _docs_block()]:
        assert block in ci, f".ci/run does not run the README block {block!r}"


@pytest.mark.parametrize("which", ["test", "docs"])
def test_readme_later_blocks_work_in_a_new_shell(which):
    # only the first block creates the environment; every later one must activate it itself
    block = _setup_blocks()[1] if which == "test" else _docs_block()
    assert block.startswith(". .venv/bin/activate && ")
    assert _setup_blocks()[0].startswith("python3.11 -m venv .venv && . .venv/bin/activate && ")
