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
"""

from __future__ import annotations

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
    cats = encoder.categorical_indices
    n_numeric = len(encoder.mixed_names) - len(cats)
    if method == "smotenc" and not cats:
        raise invalid(
            "method",
            "'smote' for a table without categorical columns (smotenc needs at least one)",
            method,
        )
    notes = []
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
        out, y_out, source = _run(sampler, mixed, labels)
        if method == "smote_tomek":
            from imblearn.under_sampling import TomekLinks

            _, y_out, kept = _run(TomekLinks(sampling_strategy="all"), _model(encoder, out), y_out)
            out, source = out[kept], source[kept]
    elif method == "tomek":
        from imblearn.under_sampling import TomekLinks

        _, y_out, source = _run(
            TomekLinks(sampling_strategy=strategy), _model(encoder, mixed), labels
        )
        out = None
    elif cats:  # borderline SMOTE, ADASYN: on the one-hot representation, decoded back
        sampler = _sampler(method, strategy, random_state, neighbors, params)
        model_out, y_out, source = _run(sampler, _model(encoder, mixed), labels)
        out = encoder.from_model(model_out)
        notes.append(
            f"{method} on the one-hot encoded categorical columns {_names(spec.categorical)}; "
            "a synthetic row takes the category of the nearer source row"
        )
    else:
        sampler = _sampler(method, strategy, random_state, neighbors, params)
        out, y_out, source = _run(sampler, mixed, labels)
    if source is None:  # pragma: no cover - imbalanced-learn's samplers keep originals first
        raise invalid("method", "a sampler that keeps the original rows first", method)
    notes += _notes(x, spec, encoder, method)
    return _assemble(x, encoder, out, source), np.asarray(y_out), source, tuple(notes)


def resample_table_multilabel(x: pd.DataFrame, spec, matrix, params, random_state, neighbors):
    """MLSMOTE on a raw DataFrame ``x``: neighbours and interpolation on the one-hot model
    representation, as for ``borderline_smote*``. Returns ``(x_res, source, label matrix,
    made_for, notes)`` (see :func:`~keras_imbalance.resampling._multilabel.run_multilabel`)."""
    from keras_imbalance.resampling._multilabel import run_multilabel

    encoder = TableEncoder(spec, standardize=True, min_frequency=None).fit(x)
    mixed = encoder.to_mixed(x)
    source, synth, out_matrix, made_for = run_multilabel(
        "mlsmote", _model(encoder, mixed), matrix, params, random_state, neighbors
    )
    out = mixed
    if synth is not None and len(synth):
        out = np.concatenate([mixed, encoder.from_model(synth)])
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
                "; a synthetic row's numeric value is missing where the nearer of its two "
                "source rows has it missing"
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
