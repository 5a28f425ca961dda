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


class _OnThisBackend(doctest.DocTestParser):
    """The pages choose torch with ``os.environ.setdefault("KERAS_BACKEND", "torch")``, which
    echoes the backend already chosen: on a jax or tensorflow run of the suite that line
    echoes that backend's name, and every other line must print what the page says."""

    def __init__(self, backend: str):
        self.backend = backend

    def parse(self, string, name="<string>"):
        parts = super().parse(string, name)
        for part in parts:
            if isinstance(part, doctest.Example) and "setdefault(\"KERAS_BACKEND\"" in part.source:
                part.want = part.want.replace("'torch'", repr(self.backend))
        return parts


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_guide_page_doctests(page, tmp_path, monkeypatch):
    backend = os.environ.get("KERAS_BACKEND", "torch")
    monkeypatch.setenv("KERAS_BACKEND", backend)
    monkeypatch.chdir(tmp_path)  # pages that write files write them here
    result = doctest.testfile(
        str(page),
        module_relative=False,
        optionflags=FLAGS,
        globs={},
        verbose=False,
        parser=_OnThisBackend(backend),
    )
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of {page.name}"


def test_api_reference_covers_every_public_subpackage():
    # the reference is generated from each module's __all__ (docs/_ext/api_pages.py); a new
    # public subpackage must be added to its MODULES, or it would be missing from the site
    import sys

    import keras_imbalance

    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        import api_pages
    finally:
        sys.path.remove(str(DOCS / "_ext"))
    documented = {name.split(".", 1)[1] for name, _ in api_pages.MODULES}
    assert documented == set(keras_imbalance._SUBPACKAGES)
    # every top-level name has a documented home in one of those modules
    homes = set()
    for module_name, _ in api_pages.MODULES:
        module = __import__(module_name, fromlist=["_"])
        homes |= {id(getattr(module, n)) for n in api_pages.public_names(module_name)}
    top = [n for n in keras_imbalance.__all__ if not n.startswith("__")]
    assert [n for n in top if id(getattr(keras_imbalance, n)) not in homes] == []
