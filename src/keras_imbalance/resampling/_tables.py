"""``resample`` on raw tables: categorical columns and missing values (layer 1, no Keras).

The neighbour-based methods need numbers. A DataFrame with categorical columns or missing
values goes through :class:`keras_imbalance.tables.TableEncoder` (fitted on the rows being
resampled): numeric columns median-imputed and standardised plus missing indicators, and one
integer code per categorical column.

- ``smote`` / ``smotenc`` / the SMOTE step of ``smote_tomek``: SMOTE-NC on those codes
  (imbalanced-learn's ``SMOTENC``; ``SMOTEN`` when every used column is categorical, plain
  ``SMOTE`` when none is);
- ``borderline_smote1/2``, ``adasyn``: on the one-hot model representation, each synthetic
  one-hot block read back as its largest entry (the nearer source row's category);
- ``tomek`` and the Tomek step of ``smote_tomek``: links on the one-hot model representation.

Original rows are copied from the caller's DataFrame; synthetic rows are decoded by
:meth:`TableEncoder.from_mixed` with the original dtypes and categories.

Gaps (issue 20): a synthetic numeric value comes from the observed values of its two source
rows only (interpolated where both have it, the other row's value where one misses it,
missing where both do), not from a point pulled towards the imputed median; and a row that
misses every numeric column with gaps (among those its class has values in) is copied but
takes no part in the neighbour search or the interpolation. Median imputation puts such a
row at the centre of the table, between the classes, where ADASYN and Borderline-SMOTE make
most of their rows, and two such rows are each other's nearest neighbours: before, 12 of 112
synthetic rows of ADASYN on palmerpenguins had no measurement at all.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pandas as pd

from keras_imbalance._validation import Text, invalid
from keras_imbalance.resampling._samplers import _run, _sampler
from keras_imbalance.tables import TableEncoder, TableSpec, _listing, check_table


def table_spec(x: pd.DataFrame) -> TableSpec:
    """:func:`check_table` of ``x``, without its warning: the columns it sets aside are
    copied here, not dropped, and named in the notes."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return check_table(x, argument="x")


def resample_table(
    x: pd.DataFrame, spec, method, labels, strategy, random_state, neighbors, params
):
    """``(x_res, y_labels, source, notes)`` for a raw DataFrame ``x`` (see the module doc)."""
    encoder = TableEncoder(spec, standardize=True, min_frequency=None).fit(x)
    mixed = encoder.to_mixed(x)
    if method == "smotenc" and not encoder.categorical_indices:
        raise invalid(
            "method",
            "'smote' for a table without categorical columns (smotenc needs at least one)",
            method,
        )
    notes = []
    if method == "tomek":
        from imblearn.under_sampling import TomekLinks

        _, y_out, source = _run(
            TomekLinks(sampling_strategy=strategy), _model(encoder, mixed), labels
        )
        out = None
    else:
        oversample = functools.partial(
            _oversample,
            encoder,
            spec,
            method,
            random_state=random_state,
            neighbors=neighbors,
            params=params,
            notes=notes,
        )
        blank = _blank_rows(x, spec, labels)
        if blank.any():
            out, y_out, source = _around_blank_rows(
                oversample, mixed, labels, strategy, blank, method, params, spec
            )
            notes.append(_blank_note(x, spec, blank))
        else:
            out, y_out, source = oversample(mixed, labels, strategy)
        if method == "smote_tomek" and source is not None:
            from imblearn.under_sampling import TomekLinks

            _, y_out, kept = _run(TomekLinks(sampling_strategy="all"), _model(encoder, out), y_out)
            out, source = out[kept], source[kept]
    if source is None:  # pragma: no cover - imbalanced-learn's samplers keep originals first
        raise invalid("method", "a sampler that keeps the original rows first", method)
    notes += _notes(x, spec, encoder, method)
    return _assemble(x, encoder, out, source), np.asarray(y_out), source, tuple(notes)


def _oversample(
    encoder, spec, method, mixed, labels, strategy, *, random_state, neighbors, params, notes
):
    """The over-sampling step of ``method`` on ``mixed`` rows: ``(out, y_out, source)``,
    ``out`` in the mixed representation (SMOTE-NC / SMOTEN on the codes, the others on the
    one-hot representation decoded back). Appends what it did to ``notes``."""
    cats = encoder.categorical_indices
    n_numeric = len(encoder.mixed_names) - len(cats)
    if method in ("smote", "smotenc", "smote_tomek"):
        if cats and n_numeric:
            sampler = _sampler("smotenc", strategy, random_state, neighbors, _nc(params, cats))
            notes.append(f"SMOTE-NC on the categorical columns {_names(spec.categorical)}")
        elif cats:
            from imblearn.over_sampling import SMOTEN

            sampler = SMOTEN(sampling_strategy=strategy, random_state=random_state, **params)
            notes.append(f"SMOTEN: every column used is categorical {_names(spec.categorical)}")
        else:
            sampler = _sampler("smote", strategy, random_state, neighbors, params)
        return _observed_only(encoder, mixed, *_run(sampler, mixed, labels))
    sampler = _sampler(method, strategy, random_state, neighbors, params)
    if not cats:
        return _observed_only(encoder, mixed, *_run(sampler, mixed, labels))
    # borderline SMOTE, ADASYN: on the one-hot representation, decoded back
    rows = _model(encoder, mixed)
    model_out, y_out, source = _observed_only(encoder, rows, *_run(sampler, rows, labels))
    notes.append(
        f"{method} on the one-hot encoded categorical columns {_names(spec.categorical)}; "
        "a synthetic row takes the category of the nearer source row"
    )
    return encoder.from_model(model_out), y_out, source


def _observed_only(encoder, rows, out, y_out, source):
    """``(out, y_out, source)`` with synthetic numeric values made from the observed values
    of their source rows only (``out`` changed in place; ``rows``: what the sampler saw).

    The samplers interpolate the median-imputed value ``fill`` and its missing indicator
    ``m`` alike: ``v = a + u (b - a)``, ``m = m_a + u (m_b - m_a)``. Where both source rows
    have the value, ``m = 0`` and ``v`` is kept; where both miss it, ``m = 1`` and it stays
    missing. Where exactly one misses it, ``0 < m < 1`` is the weight of that row, and the
    other row's value is ``(v - m * fill) / (1 - m)`` (the same formula for either order):
    the synthetic row takes that observed value rather than a point pulled towards the
    median, and is missing only where both of its source rows are. Both representations
    (mixed and model) start with the numeric columns, then their missing indicators.
    """
    indicated = getattr(encoder, "_indicated", [])
    synth = np.flatnonzero(np.asarray(source) < 0) if source is not None else []
    if not len(indicated) or not len(synth):
        return out, y_out, source
    p = len(encoder.spec.numeric)
    for k, i in enumerate(indicated):
        gaps = np.flatnonzero(rows[:, p + k] == 1)
        if not gaps.size:
            continue
        fill = rows[gaps[0], i]  # every imputed row holds the same value
        m = out[synth, p + k]
        one = synth[(m > 0) & (m < 1)]
        m = out[one, p + k]
        out[one, i] = (out[one, i] - m * fill) / (1 - m)
        out[one, p + k] = 0.0
    return out, y_out, source


def _blank_rows(x: pd.DataFrame, spec, labels: np.ndarray) -> np.ndarray:
    """Rows without a measurement: each misses every numeric column that has gaps, among
    those its class has values in (a column never missing is no measurement of the row; a
    column its class never has is nothing to interpolate). False without such columns."""
    blank = np.zeros(len(x), dtype=bool)
    if not spec.numeric:
        return blank
    gaps = x[list(spec.numeric)].isna().to_numpy()
    with_gaps = gaps.any(axis=0)
    if not with_gaps.any():
        return blank
    for label in np.unique(labels):
        rows = labels == label
        own = gaps[rows]
        usable = with_gaps & ~own.all(axis=0)
        if usable.any():
            blank[rows] = own[:, usable].all(axis=1)
    return blank


def _around_blank_rows(oversample, mixed, labels, strategy, blank, method, params, spec):
    """Over-sample with the ``blank`` rows (no numeric value) kept but left out of the
    neighbour search and the interpolation.

    Median imputation puts a blank row where no real row is, at the centre of the numeric
    columns: between the classes, where ADASYN and Borderline-SMOTE make most of their rows,
    and a synthetic row copies the gaps of its nearer source row, so a blank source makes
    rows without any measurement. The sampler runs on the other rows, asked for the numbers
    of new rows ``strategy`` gives on every row; the blank rows stay in the output (first
    the original rows in their order, then the synthetic ones, as imbalanced-learn orders
    them).
    """
    from imblearn.utils import check_sampling_strategy

    from keras_imbalance.resampling._target import _check_neighbor_counts, _Target

    wanted = check_sampling_strategy(strategy, labels, "over-sampling")
    keep = ~blank
    measured = labels[keep]
    present, counts = np.unique(measured, return_counts=True)
    have = dict(zip(present.tolist(), counts.tolist(), strict=True))
    short = [
        (label, have.get(_plain(label), 0))
        for label, n_new in wanted.items()
        if n_new and have.get(_plain(label), 0) < 2
    ]
    if short:
        label, m = short[0]
        raise invalid(
            "x",
            f"at least 2 rows with a measurement in each class that method={method!r} "
            "over-samples (a row missing every numeric column with gaps takes no part in the "
            "interpolation: impute or drop such rows, or use 'random_over')",
            Text(f"a table whose class {_plain(label)!r} has {m} such row(s)"),
        )
    targets = {label: have[_plain(label)] + int(n_new) for label, n_new in wanted.items() if n_new}
    sub = _Target(measured, None, len(measured))
    try:
        _check_neighbor_counts(method, params, sub, targets, len(measured))
    except ValueError as err:
        raise ValueError(
            f"{str(err).rstrip('.')} ({int(blank.sum())} row(s) missing every numeric column "
            "with gaps take no part in the neighbour search)"
        ) from None
    n = len(labels)
    if not targets:  # nothing to make
        return mixed, labels, np.arange(n)
    out, y_out, source = oversample(mixed[keep], measured, targets)
    synth = source < 0
    return (
        np.concatenate([mixed, out[synth]]),
        np.concatenate([labels, np.asarray(y_out)[synth]]),
        np.concatenate([np.arange(n), np.full(int(synth.sum()), -1)]),
    )


def _plain(label):
    return label.item() if isinstance(label, np.generic) else label


def _blank_note(x: pd.DataFrame, spec, blank) -> str:
    numeric = x[list(spec.numeric)]
    with_gaps = list(numeric.columns[numeric.isna().any(axis=0).to_numpy()])
    return (
        f"{int(blank.sum())} row(s) missing every numeric column with gaps "
        f"{_names(with_gaps)} kept as they are, but left out of the neighbour search and "
        "the interpolation (no synthetic row is made from them)"
    )


def resample_table_multilabel(x: pd.DataFrame, spec, matrix, params, random_state, neighbors):
    """MLSMOTE on a raw DataFrame ``x``: neighbours and interpolation on the one-hot model
    representation, as for ``borderline_smote*``. Returns ``(x_res, source, label matrix,
    made_for, notes)`` (see :func:`~keras_imbalance.resampling._multilabel.run_multilabel`)."""
    from keras_imbalance.resampling._multilabel import run_multilabel

    encoder = TableEncoder(spec, standardize=True, min_frequency=None).fit(x)
    mixed = encoder.to_mixed(x)
    rows = _model(encoder, mixed)
    source, synth, out_matrix, made_for = run_multilabel(
        "mlsmote", rows, matrix, params, random_state, neighbors
    )
    out = mixed
    if synth is not None and len(synth):
        both = np.concatenate([rows, synth])  # synthetic values from observed values only
        _observed_only(encoder, rows, both, None, np.r_[np.arange(len(rows)), -np.ones(len(synth))])
        out = np.concatenate([mixed, encoder.from_model(both[len(rows) :])])
    notes = []
    if encoder.categorical_indices:
        notes.append(
            f"mlsmote on the one-hot encoded categorical columns {_names(spec.categorical)}; "
            "a synthetic row takes the category of the nearer source row"
        )
    notes += _notes(x, spec, encoder, "mlsmote")
    return _assemble(x, encoder, out, source), source, out_matrix, made_for, tuple(notes)


def _nc(params: dict, cats: list) -> dict:
    return {**params, "categorical_features": cats}


def _model(encoder: TableEncoder, mixed: np.ndarray) -> np.ndarray:
    return encoder.to_model(mixed).astype(np.float64)


def _names(columns) -> str:
    return f"[{_listing([repr(str(c)) for c in columns])}]"


def _notes(x: pd.DataFrame, spec, encoder, method) -> list:
    notes = []
    if method != "tomek" and spec.numeric:
        notes.append("numeric columns standardised for the neighbour search")
    elif method == "tomek":
        notes.append("Tomek links on standardised numeric and one-hot encoded categorical columns")
    gaps = x[list(spec.features)].isna().sum()
    gaps = gaps[gaps > 0]
    if len(gaps):
        cells = int(gaps.sum())
        text = (
            f"{cells} missing value(s) in {_names(list(gaps.index))} imputed (numeric: training "
            "median; categorical: a category of its own) for the neighbour search"
        )
        if method != "tomek":
            text += (
                "; a synthetic row's numeric value is missing only where both of its source "
                "rows miss it (where one does, it takes the other's value)"
            )
        notes.append(text)
    if spec.dropped:
        notes.append(
            f"columns {_names(list(spec.dropped))} (ids, free text or dates) are not used to "
            "find neighbours" + ("; synthetic rows leave them missing" if method != "tomek" else "")
        )
    return notes


def _assemble(x: pd.DataFrame, encoder, out, source: np.ndarray) -> pd.DataFrame:
    """Original rows copied from ``x``; synthetic rows decoded from ``out`` (mixed rows)."""
    orig = source >= 0
    parts = [x.iloc[source[orig]].reset_index(drop=True)]
    synth = np.flatnonzero(~orig)
    if synth.size:
        rows = encoder.from_mixed(out[synth])
        parts.append(_like(rows, x))
    both = pd.concat(parts, ignore_index=True)
    order = np.concatenate([np.flatnonzero(orig), synth])
    return both.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)


def _like(rows: pd.DataFrame, x: pd.DataFrame) -> pd.DataFrame:
    """Synthetic rows with ``x``'s dtypes where their values allow it (checked, one line)."""
    for column, dtype in x.dtypes.items():
        if rows[column].dtype != dtype:
            try:
                rows[column] = rows[column].astype(dtype)
            except (TypeError, ValueError):
                raise invalid(
                    "x",
                    f"a column {column!r} whose dtype {dtype} holds missing values",
                    Text("a synthetic row that leaves it missing"),
                    kind=TypeError,
                ) from None
    return rows
