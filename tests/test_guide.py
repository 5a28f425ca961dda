"""The documentation's code runs as written and prints what the pages say it prints.

Every ``>>>`` line of the getting-started page and of the user guide (docs/guide/*.rst) is a
doctest: a page whose sentence no longer matches the code fails here, not in a reader's
terminal. Each page runs in a fresh namespace, in the order of its lines.
"""

from __future__ import annotations

import doctest
import os
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGES = [DOCS / "getting_started.rst", *sorted((DOCS / "guide").glob("*.rst"))]
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def test_every_guide_page_has_doctests():
    # the guide answers each question with code: a page without a >>> line is a regression
    parser = doctest.DocTestParser()
    empty = [
        page.name
        for page in PAGES
        if page.name != "index.rst" and not parser.get_examples(page.read_text())
    ]
    assert not empty, f"pages without a runnable example: {empty}"
    assert len(PAGES) >= 12


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_guide_page_doctests(page, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", os.environ.get("KERAS_BACKEND", "torch"))
    monkeypatch.chdir(tmp_path)  # pages that write files write them here
    result = doctest.testfile(
        str(page), module_relative=False, optionflags=FLAGS, globs={}, verbose=False
    )
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of {page.name}"
