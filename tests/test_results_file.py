"""The results file of `compare`: header checked before any change, one run at a time (issue 11)."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from keras_imbalance.comparison._results import FORMAT, ResultsFile, dumps, fingerprint

CONFIG = {"cv": 2, "metric": "balanced_accuracy", "strategies": ["none"]}


def _header(config=CONFIG):
    return dumps(
        {"type": "header", "format": FORMAT, "fingerprint": fingerprint(config), "config": config}
    )


def _row(key):
    return dumps({"type": "fold", "key": key, "metrics": {}})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"my notes\nline two without an end", "not a results-file header"),  # torn last line
        (b"line one\nline two\n", "not a results-file header"),
        (b'{"type":"header","form', "torn header line"),  # was truncated to 0 bytes
        (b"no newline at all", "no complete first line"),
        (b'{"type": "fold"}\n{"x": 1', "not a results-file header"),
    ],
)
def test_a_file_that_is_refused_is_left_unchanged(tmp_path, content, message):
    path = tmp_path / "notes.txt"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=rf"`results_path`.*{message}.*left unchanged") as info:
        ResultsFile(path, CONFIG)
    assert "\n" not in str(info.value)
    assert path.read_bytes() == content


def test_another_comparison_with_a_torn_row_is_refused_unchanged(tmp_path):
    path = tmp_path / "r.jsonl"
    content = (_header({**CONFIG, "cv": 3}) + "\n" + _row("a") + "\n" + _row("b")[:9]).encode()
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"different settings \(cv\)"):
        ResultsFile(path, CONFIG)
    assert path.read_bytes() == content


def test_a_corrupt_middle_row_is_refused_unchanged(tmp_path):
    path = tmp_path / "r.jsonl"
    content = (_header() + "\nnot json\n" + _row("b") + "\n" + _row("c")[:5]).encode()
    path.write_bytes(content)
    with pytest.raises(ValueError, match="corrupt at line 2"):
        ResultsFile(path, CONFIG)
    assert path.read_bytes() == content


def test_own_file_resumes_and_only_then_drops_a_torn_row(tmp_path):
    path = tmp_path / "r.jsonl"
    complete = _header() + "\n" + _row("a") + "\n"
    path.write_bytes((complete + _row("b")[:7]).encode())
    with ResultsFile(path, CONFIG) as store:
        assert list(store.rows) == ["a"]
        assert path.read_text() == complete
        store.append({"type": "fold", "key": "c", "metrics": {}})
    assert [json.loads(line)["key"] for line in path.read_text().splitlines()[1:]] == ["a", "c"]
    with pytest.raises(RuntimeError, match="closed"):
        store.append({"type": "fold", "key": "d"})


def test_a_directory_is_one_clear_error(tmp_path):
    with pytest.raises(ValueError, match=r"`results_path`.*a file path, not a directory"):
        ResultsFile(tmp_path, CONFIG)


HOLDER = textwrap.dedent(
    """
    import sys
    from keras_imbalance.comparison._results import ResultsFile
    store = ResultsFile(sys.argv[1], {"cv": 2, "metric": "balanced_accuracy", "strategies": ["none"]})
    store.append({"type": "fold", "key": "first", "metrics": {}})
    print("LOCKED", flush=True)
    sys.stdin.read()  # hold the file until the test closes our stdin
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="fcntl locks are POSIX")
def test_a_second_run_on_the_same_file_is_refused_while_the_first_holds_it(tmp_path):
    path = tmp_path / "r.jsonl"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert holder.stdout.readline().strip() == "LOCKED"
        before = path.read_bytes()
        with pytest.raises(ValueError, match=r"`results_path`.*locked by another compare run"):
            ResultsFile(path, CONFIG)
        assert path.read_bytes() == before  # the header write no longer truncates its rows
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    with ResultsFile(path, CONFIG) as store:  # free again once the first run ended
        assert list(store.rows) == ["first"]


def test_in_one_process_a_new_results_file_takes_the_lock_over(tmp_path):
    path = tmp_path / "r.jsonl"
    first = ResultsFile(path, CONFIG)  # e.g. kept alive by an interrupted run's traceback
    second = ResultsFile(path, CONFIG)
    with pytest.raises(RuntimeError, match="took the file over"):
        first.append({"type": "fold", "key": "x"})
    second.append({"type": "fold", "key": "y", "metrics": {}})
    second.close()
    first.close()
    assert [json.loads(line)["key"] for line in path.read_text().splitlines()[1:]] == ["y"]
