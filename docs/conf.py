"""Sphinx configuration of the keras-imbalance documentation.

Build: ``sphinx-build -W -b html docs docs/_build/html`` (warnings are errors).
``KI_DOCS_GALLERY=off`` builds the gallery pages without running the examples.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("OMP_NUM_THREADS", "1")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(HERE.parent / "examples"))

from api_pages import write_api_pages  # noqa: E402

import keras_imbalance  # noqa: E402

project = "keras-imbalance"
author = "the keras-imbalance developers"
copyright = "the keras-imbalance developers"  # noqa: A001
release = keras_imbalance.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    "cli_reference",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "data", "Thumbs.db", ".DS_Store", "**/README.md"]

# --- API reference: one page per public module, generated from its __all__ ---------------
write_api_pages(HERE / "api")
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"
autodoc_inherit_docstrings = False  # Keras base classes use Google style
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

intersphinx_mapping: dict[str, tuple[str, None]] = {}

# --- Markdown pages (docs/benchmarks.md) ---------------------------------------------------
myst_heading_anchors = 3
myst_enable_extensions = ["dollarmath"]

# --- Gallery: examples/ executed at build time ----------------------------------------------
_run_gallery = os.environ.get("KI_DOCS_GALLERY", "on") != "off"
sphinx_gallery_conf = {
    "examples_dirs": str(HERE.parent / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_" if _run_gallery else r"^$",
    "plot_gallery": "True" if _run_gallery else "False",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "min_reported_time": 1,
    "matplotlib_animations": False,
    "write_computation_times": True,
}

# --- HTML ----------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"keras-imbalance {release}"
html_static_path: list[str] = []
html_theme_options = {
    "navigation_depth": 2,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_sidebars = {"changelog": [], "benchmarks": []}
html_show_sourcelink = False
smartquotes = False  # option names keep their two hyphens
