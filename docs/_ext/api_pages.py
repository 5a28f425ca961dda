"""Write one API page per public module from its ``__all__`` (run by conf.py at each build).

Every name a module exports appears on its page, so a name added to an ``__all__`` is in the
reference at the next build with nothing to edit here. A name exported by several modules
(``keras_imbalance.compare`` is ``keras_imbalance.comparison.compare``) is documented once, on
the page of the first module below that exports it; the other pages link to it. Functions and
classes get a page of their own (autodoc + numpydoc); constants are listed with their value.
"""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

# (module, one line shown in the API index); the order decides where a shared name lives
MODULES = [
    ("keras_imbalance.targets", "layouts, classes and counts of any target"),
    ("keras_imbalance.weights", "class weights and per-element sample weights"),
    ("keras_imbalance.losses", "Keras losses for imbalanced targets"),
    ("keras_imbalance.metrics", "metrics exact over batches, Keras and numpy"),
    ("keras_imbalance.sampling", "class- and label-balanced batches"),
    ("keras_imbalance.resampling", "over- and under-sampling of any data shape"),
    ("keras_imbalance.calibration", "priors, thresholds and costs"),
    ("keras_imbalance.comparison", "cross-validated comparison of strategies"),
    ("keras_imbalance.models", "models for imbalanced tables"),
    ("keras_imbalance.tables", "raw tables: column roles and encoding"),
    ("keras_imbalance.datasets", "bundled and benchmark datasets, image folders"),
    ("keras_imbalance.report", "the HTML report of a comparison"),
]
TOP = "keras_imbalance"
OUT = "ref"  # folder under docs/api/ (git-ignored: written at every build)
KINDS = ("Functions", "Classes", "Constants")


def public_names(module_name: str) -> list[str]:
    """The module's ``__all__``; for a module without one, the names the package re-exports."""
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None)
    if names is None:
        top = importlib.import_module(TOP)
        names = [n for n, home in top._EXPORTS.items() if home == module_name]
    return [n for n in names if not (n.startswith("__") and n.endswith("__"))]


def _kind(obj) -> str:
    if inspect.isclass(obj):
        return "Classes"
    if callable(obj):
        return "Functions"
    return "Constants"


def summary(obj) -> str:
    """The first sentence of the docstring's first paragraph (never cut inside a literal)."""
    doc = inspect.getdoc(obj) or ""
    para = " ".join(doc.strip().split("\n\n")[0].split())
    for match in re.finditer(r"\.(\s|$)", para):
        head = para[: match.start() + 1]
        if head.count("`") % 2 == 0:
            return head
    return para


def _title(text: str, char: str = "=") -> str:
    return f"{text}\n{char * len(text)}\n"


def _stub(path: Path, module_name: str, name: str, kind: str) -> None:
    full = f"{module_name}.{name}"
    if kind == "Classes":
        body = f".. autoclass:: {name}\n   :members:\n   :no-inherited-members:\n"
    else:
        body = f".. autofunction:: {name}\n"
    _write(path / f"{full}.rst", f"{_title(full)}\n.. currentmodule:: {module_name}\n\n{body}")


def _value(obj) -> str:
    text = repr(obj)
    if isinstance(obj, dict):
        text = repr({k: (v.__name__ if callable(v) else v) for k, v in obj.items()})
    return text if len(text) <= 400 else text[:397] + "..."


def write_api_pages(api_dir: Path) -> None:
    """Write ``api/ref/<module>.rst`` for every module, its stubs, and the reference index."""
    out = api_dir / OUT
    stubs = out / "generated"
    stubs.mkdir(parents=True, exist_ok=True)
    home: dict[int, str] = {}  # id(function or class) -> its documented dotted name
    pages = {}
    for module_name, _ in MODULES:
        module = importlib.import_module(module_name)
        groups: dict[str, list[str]] = {kind: [] for kind in KINDS}
        links: list[tuple[str, str]] = []
        for name in public_names(module_name):
            obj = getattr(module, name)
            kind = _kind(obj)
            if kind != "Constants":
                if id(obj) in home:
                    links.append((name, home[id(obj)]))
                    continue
                home[id(obj)] = f"{module_name}.{name}"
            groups[kind].append(name)
        pages[module_name] = (module, groups, links)

    for module_name, (module, groups, links) in pages.items():
        text = [_title(f"``{module_name}``"), f".. automodule:: {module_name}\n   :no-members:\n"]
        text.append(f".. currentmodule:: {module_name}\n")
        for kind in ("Functions", "Classes"):
            names = groups[kind]
            if not names:
                continue
            text.append(_title(kind, "-"))
            rows = []
            for name in names:
                _stub(stubs, module_name, name, kind)
                line = summary(getattr(module, name)) or " "
                rows.append(f"   * - :obj:`{name} <{module_name}.{name}>`\n     - {line}\n")
            text.append(".. list-table::\n   :widths: 30 70\n\n" + "".join(rows))
            text.append(
                ".. toctree::\n   :hidden:\n\n"
                + "".join(f"   generated/{module_name}.{n}\n" for n in names)
            )
        if groups["Constants"]:
            text.append(_title("Constants", "-"))
            for name in groups["Constants"]:
                value = _value(getattr(module, name)).replace("\n", " ")
                text.append(f".. py:data:: {name}\n   :value: {value}\n")
        if links:
            text.append(_title("Also exported here", "-"))
            text.extend(f"- ``{n}``: :obj:`{target}`\n" for n, target in links)
        _write(out / f"{module_name}.rst", "\n".join(text))

    # the top-level package: every name it exports, linked to its documented home
    top = importlib.import_module(TOP)
    rows = []
    for name in public_names(TOP):
        obj = getattr(top, name)
        target = home.get(id(obj))
        if target is None:  # a top-level name that no module above exports
            raise RuntimeError(f"{TOP}.{name} is exported by no module of api_pages.MODULES")
        rows.append(f"   * - :obj:`{name} <{target}>`\n     - {summary(obj) or ' '}\n")
    text = [
        _title(f"``{TOP}``"),
        f".. automodule:: {TOP}\n   :no-members:\n",
        "The package exports these names (``import keras_imbalance as ki``; ``ki.NAME``); "
        "each is documented in the module that defines it.\n",
        ".. list-table::\n   :widths: 30 70\n\n" + "".join(rows),
        f"``{TOP}.__version__`` is the installed version ({top.__version__}).\n",
    ]
    _write(out / f"{TOP}.rst", "\n".join(text))
    index = [
        _title("API reference"),
        "Generated from the docstrings (numpydoc). Every name in a module's ``__all__`` "
        "has an entry; the command line is in :doc:`/cli`.\n",
        ".. list-table::\n   :widths: 35 65\n\n"
        + f"   * - :doc:`{TOP} <{TOP}>`\n     - the names of ``import keras_imbalance as ki``\n"
        + "".join(f"   * - :doc:`{m} <{m}>`\n     - {line}\n" for m, line in MODULES),
        ".. toctree::\n   :hidden:\n\n" + f"   {TOP}\n" + "".join(f"   {m}\n" for m, _ in MODULES),
    ]
    _write(out / "index.rst", "\n".join(index))


def _write(path: Path, text: str) -> None:
    """Write only when the text changed, so Sphinx rebuilds only what changed."""
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
