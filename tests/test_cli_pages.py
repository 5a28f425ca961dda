"""``compare DIR`` runs itself again with glibc's malloc asking for transparent huge pages."""

import os
import subprocess
import sys

import pytest

from keras_imbalance import cli
from keras_imbalance._cli import _pages
from keras_imbalance._cli._pages import TUNABLE, _thp_mode, tuned_environment


@pytest.mark.parametrize(
    ("environ", "thp", "glibc", "expected"),
    [
        ({}, "madvise", (2, 36), f"{TUNABLE}=1"),
        ({"PATH": "/bin"}, "madvise", (2, 35), f"{TUNABLE}=1"),
        # other tunables of the user's are kept, ours appended
        (
            {"GLIBC_TUNABLES": "glibc.malloc.arena_max=2"},
            "madvise",
            (2, 41),
            f"glibc.malloc.arena_max=2:{TUNABLE}=1",
        ),
        ({"GLIBC_TUNABLES": f"{TUNABLE}=0"}, "madvise", (2, 36), None),  # the user's choice
        ({"GLIBC_TUNABLES": f"x=1:{TUNABLE}=2"}, "madvise", (2, 36), None),
        ({}, "always", (2, 36), None),  # huge pages without asking: nothing to gain
        ({}, "never", (2, 36), None),  # none to ask for
        ({}, "", (2, 36), None),  # no such file (another kernel)
        ({}, "madvise", (2, 34), None),  # a glibc without the tunable
        ({}, "madvise", (), None),  # another C library
    ],
)
def test_the_environment_asks_for_huge_pages_only_where_that_pays(environ, thp, glibc, expected):
    out = tuned_environment(environ, thp, glibc)
    if expected is None:
        assert out is None
    else:
        assert out == {**environ, "GLIBC_TUNABLES": expected}
        assert "GLIBC_TUNABLES" not in environ or environ["GLIBC_TUNABLES"] != expected


def test_the_kernels_mode_is_the_bracketed_word(tmp_path):
    path = tmp_path / "enabled"
    path.write_text("always [madvise] never\n")
    assert _thp_mode(str(path)) == "madvise"
    path.write_text("[always] madvise never\n")
    assert _thp_mode(str(path)) == "always"
    assert _thp_mode(str(tmp_path / "missing")) == ""


@pytest.mark.skipif(
    _pages._thp_mode() != "madvise"
    or _pages._glibc() < _pages.GLIBC_WITH_TUNABLE
    or not sys.platform.startswith("linux")
    or TUNABLE in os.environ.get("GLIBC_TUNABLES", ""),
    reason="runs again only on Linux, glibc >= 2.35, huge pages on request",
)
def test_the_process_runs_again_once_with_the_tunable():
    code = (
        "import os; from keras_imbalance._cli._pages import run_with_huge_pages; "
        "print(os.environ.get('GLIBC_TUNABLES'), flush=True); run_with_huge_pages(); print('end')"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    # printed before and after running again; the second run does not run a third time
    assert done.stdout.splitlines() == ["None", f"{TUNABLE}=1", "end"]


class _Again(Exception):
    pass


def _record(calls):
    def again():
        calls.append(sys.argv[1:])
        raise _Again

    return again


def test_only_compare_on_an_image_folder_from_the_command_line_runs_again(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(cli, "run_with_huge_pages", _record(calls))
    folder = tmp_path / "images"
    (folder / "a").mkdir(parents=True)
    table = tmp_path / "t.csv"
    table.write_text("x,y\n1,a\n2,b\n")
    monkeypatch.setattr(sys, "argv", ["keras-imbalance", "compare", str(folder)])
    with pytest.raises(_Again):
        cli.main()
    assert calls == [["compare", str(folder)]]
    # a table, another command, or main() called with its arguments (a library caller's
    # process) is never run again
    monkeypatch.setattr(
        sys, "argv", ["keras-imbalance", "compare", str(table), "--strategies", "nosuch"]
    )
    assert cli.main() == 2
    monkeypatch.setattr(sys, "argv", ["keras-imbalance", "inspect", str(folder)])
    cli.main()
    assert cli.main(["compare", str(folder), "--strategies", "nosuch"]) == 2
    assert calls == [["compare", str(folder)]]
