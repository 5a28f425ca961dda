"""The self-contained HTML report of a strategy comparison."""

from __future__ import annotations

import html
import json
import math
import os
import warnings

import numpy as np

from keras_imbalance._validation import check_number, invalid
from keras_imbalance.report import _plots

_CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;
     background:#f5f6f8;color:#1f2933;line-height:1.45}
main{max-width:1080px;margin:0 auto;padding:24px 28px 48px;background:#fff;min-height:100vh}
h1{font-size:26px;margin:4px 0 2px} h2{font-size:19px;margin:30px 0 8px;
   border-bottom:2px solid #e4e7eb;padding-bottom:4px}
.sub{color:#616e7c;margin:0 0 16px;font-size:14px}
.rec{border-left:5px solid #3b6ea8;background:#eef4fb;padding:12px 16px;margin:14px 0;
     font-size:15px}
.rec.warn{border-color:#d9822b;background:#fdf3e7}
.rec{white-space:pre-line} tr.ref td{color:#8a5a1c;font-style:italic}
.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:8px;
       margin:10px 0}
.fact{background:#f5f7fa;border-radius:6px;padding:8px 10px;font-size:13px}
.fact b{display:block;font-size:16px;color:#1f2933}
table{border-collapse:collapse;font-size:13px;margin:8px 0;width:100%}
th,td{padding:4px 8px;border-bottom:1px solid #e4e7eb;text-align:right;white-space:nowrap}
th{background:#f0f2f5;position:sticky;top:0} td.l,th.l{text-align:left}
tr.best td{background:#eaf5ea;font-weight:600} tr.base td{color:#616e7c}
img{max-width:100%;height:auto;display:block;margin:8px 0}
pre{background:#f5f7fa;padding:10px;overflow:auto;max-height:420px;font-size:12px}
.note{color:#616e7c;font-size:12.5px} details{margin:8px 0} summary{cursor:pointer}
.scroll{overflow-x:auto}
"""


def _version() -> str:
    from keras_imbalance import __version__

    return __version__


def _pooled_confusion(folds, key) -> np.ndarray:
    """The confusion matrix of ``key`` = (model, strategy) summed over its test folds."""
    part = folds[(folds["model"] == key[0]) & (folds["strategy"] == key[1])]
    return np.sum([np.asarray(c, dtype=float) for c in part["confusion"]], axis=0)


def _cost_table(folds, key, classes, costs, label) -> str:
    """Per 1,000 rows of the recommended strategy's test folds: rows of each class caught and
    missed, false alarms (rows wrongly given that class) and the cost of its decisions."""
    cm = _pooled_confusion(folds, key)
    per = 1000.0 / max(cm.sum(), 1)
    head = "<tr><th class='l'>class</th><th>caught</th><th>missed</th><th>false alarms</th>"
    head += "<th>cost of misses</th></tr>"
    rows = []
    for i, name in enumerate(classes):
        caught = cm[i, i]
        missed = cm[i].sum() - caught
        alarms = cm[:, i].sum() - caught
        miss_cost = (cm[i] * costs[i]).sum()
        rows.append(
            f"<tr><td class='l'>{_e(name)}</td><td>{caught * per:.1f}</td>"
            f"<td>{missed * per:.1f}</td><td>{alarms * per:.1f}</td>"
            f"<td>{miss_cost * per:.1f}</td></tr>"
        )
    total = (cm * costs).sum() * per
    return (
        f"<h2>Costs: per 1,000 rows</h2><p class='note'>{_e(label)}, test folds pooled, "
        "deciding by least expected cost. Cost of misses: the cost of the rows of that class "
        f"that were mistaken.</p><table>{head}{''.join(rows)}"
        f"<tr><td class='l'><b>total cost</b></td><td colspan='4'><b>{total:.1f}</b></td></tr>"
        "</table>"
    )


def _evidence(rec) -> tuple:
    """(test rows per class and repeat, the 'thin' threshold) of the recommendation."""
    evidence = rec.get("evidence") or {}
    return list(evidence.get("test_rows_per_class") or []), evidence.get("thin_below", 5)


def _thin_note(board, rec, classes) -> str:
    """A sentence for the leaderboard note when intervals rest on few test rows (the dagger)."""
    if "thin" not in board or not board["thin"].fillna(False).astype(bool).any():
        return ""
    per_class, below = _evidence(rec)
    few = ", ".join(
        f"{c} ({'never tested' if n == 0 else f'{n:g} test rows'})"
        for c, n in zip(classes, per_class, strict=False)
        if n < below
    )
    return f" &dagger; The interval rests on fewer than {below} test rows per repeat of class {_e(few)}."


def _features_fact(data: dict) -> tuple:
    """("features", count) for a table; ("input shape", shape) for higher-rank rows."""
    shape = data.get("input_shape")
    if shape is None:  # results files written before N-D inputs
        return ("features", str(data.get("n_features", "?")))
    if len(shape) == 1:
        return ("features", str(shape[0]))
    return ("input shape", " x ".join(str(d) for d in shape))


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _fmt(value, digits=3) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return _e(value)
    return "&ndash;" if not math.isfinite(v) else f"{v:.{digits}f}"


def _img(fig, alt) -> str:
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{_plots.png_base64(fig)}">'


_SHORT = {
    "balanced_accuracy": "bal. acc.",
    "geometric_mean": "G-mean",
    "macro_f1": "macro-F1",
    "matthews_correlation": "MCC",
    "pr_auc": "PR-AUC",
}


def _label(row, several_models) -> str:
    if row.get("reference") in (True,):  # a reference row: its model name says it all
        return str(row["model"])
    return f"{row['strategy']} · {row['model']}" if several_models else str(row["strategy"])


def _pooled(rows, k, positive):
    """Pool the stored test scores of rows: (y_binary, score) for the PR curve."""
    ys, ps = [], []
    for r in rows:
        s = r.get("scores") or {}
        if not s.get("y"):
            continue
        y = np.asarray(s["y"], dtype=np.int64)
        p = np.asarray(s["proba"], dtype=np.float64)
        if k == 2:
            score = p if positive == 1 else 1.0 - p
            ys.append(y == positive)
            ps.append(score)
        else:  # micro-average: every (sample, class) pair is one binary decision
            ys.append((y[:, None] == np.arange(k)[None, :]).ravel())
            ps.append(p.ravel())
    if not ys:
        return None, None
    return np.concatenate(ys), np.concatenate(ps)


def _reference_note(board, rec) -> str:
    """The sentence on reference rows and chance level under the leaderboard."""
    out = ""
    if "reference" in board and board["reference"].fillna(False).astype(bool).any():
        out += (
            " Rows of model <i>reference:&hellip;</i> (hatched orange in the chart) are classical "
            "pipelines scored on the same folds and rows; they are never recommended."
        )
    if rec.get("chance_level") is not None:
        out += (
            f" The dashed line is chance level ({_fmt(rec['chance_level'])}): the best a "
            "predictor that ignores the features scores in expectation."
        )
    return out


def _leaderboard_table(board, metric, several_models, winner, baseline_key) -> str:
    shown = ("rank", "model", "strategy", "mean", "std", "ci_low", "ci_high", "n_folds")
    told = ("aliases", "note", "variant", "test_rows_min", "thin", "reference", "recommended")
    others = [c for c in board.columns if c not in shown and c not in told]
    head = (
        ["#", "strategy"]
        + (["model"] if several_models else [])
        + [f"{_SHORT.get(metric, metric)} (mean)", "std", "95% interval", "folds"]
        + [_SHORT.get(c, c) for c in others]
    )
    out = ["<div class='scroll'><table><tr>"]
    for i, h in enumerate(head):
        out.append(
            f"<th class='{'l' if i in (1, 2) and h in ('strategy', 'model') else ''}'>{_e(h)}</th>"
        )
    out.append("</tr>")
    for _, r in board.iterrows():
        key = (r["model"], r["strategy"])
        cls = "best" if key == winner else ("base" if key == baseline_key else "")
        cls = "ref" if r.get("reference") in (True,) else cls
        name = _e(r["strategy"]) + (" (recommended)" if key == winner else "")
        if r.get("aliases"):
            name += f" <span class='note'>(= {_e(r['aliases'])})</span>"
        if r.get("note"):
            name += f" <span class='note'>[{_e(r['note'])}]</span>"
        if isinstance(r.get("variant"), str) and r["variant"]:  # with_variants: who decided
            name += f" <span class='note'>(variant: {_e(r['variant'])})</span>"
        cells = [str(int(r["rank"])), f"<td class='l'>{name}</td>"]
        if several_models:
            cells.append(f"<td class='l'>{_e(r['model'])}</td>")
        cells += [
            _fmt(r["mean"]),
            _fmt(r["std"]),
            f"{_fmt(r['ci_low'])} &ndash; {_fmt(r['ci_high'])}"
            + (" &dagger;" if r.get("thin") else ""),
            str(int(r["n_folds"])),
        ]
        cells += [_fmt(r[c]) for c in others]
        tds = "".join(c if c.startswith("<td") else f"<td>{c}</td>" for c in cells)
        out.append(f"<tr class='{cls}'>{tds}</tr>")
    out.append("</table></div>")
    return "".join(out)


def _cv_text(cfg) -> str:
    cv = cfg["cv"]
    if isinstance(cv, dict):
        return f"{cv['n_splits']} user-given splits ({_e(cv['splitter'])})"
    return f"{cv}-fold stratified cross-validation &times; {cfg['repeats']} repeat(s)"


def detail_keys(board, top: int, winner, baseline) -> list:
    """(model, strategy) of the detailed plots: the ``top`` rows, then the recommended
    ``winner`` and the ``baseline`` when they rank lower."""
    keys = list(zip(board["model"], board["strategy"], strict=True))
    chosen = keys[:top]
    for extra in (winner, baseline):
        if extra not in chosen and extra in keys:
            chosen.append(extra)
    return chosen


def _fold_means(folds, key, column, name=None) -> np.ndarray:
    """Mean over ``key``'s folds of a per-label vector column (``name``: of a dict column)."""
    part = folds[(folds["model"] == key[0]) & (folds["strategy"] == key[1])]
    values = [v if name is None else v[name] for v in part[column]]
    stacked = np.array([[math.nan if a is None else a for a in v] for v in values], dtype=float)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a label never scored: all NaN
        return np.nanmean(stacked, axis=0)


def _per_label_section(result, keys, label_of, target) -> str:
    """Multi-label: each label's recall / precision / PR-AUC under the shown strategies;
    segmentation: each class's IoU (means over the test folds)."""
    folds, names = result.folds, list(result.classes)
    counts = list(result.class_counts)
    if target == "multilabel":
        title, unit = "Per-label recall, precision and PR-AUC", "positive rows"
        note = (
            "Each cell: recall / precision / PR-AUC of the label's positives, means over the "
            "test folds (&ndash;: the label had no positive test row, or nothing was predicted "
            "positive)."
        )
        columns = [
            np.stack(
                [_fold_means(folds, key, "per_label", m) for m in ("recall", "precision", "pr_auc")]
            )
            for key in keys
        ]
        cell = " / ".join
    else:
        title, unit = "Per-class IoU", "pixels"
        note = (
            "IoU of each class over the pixels of a test fold, mean over the folds "
            f"(rarest class: {_e(result.config.get('rare_class', '?'))})."
        )
        columns = [_fold_means(folds, key, "per_class_iou")[None, :] for key in keys]
        cell = "".join
    head = "".join(f"<th>{_e(label_of[key])}</th>" for key in keys)
    rows = []
    for i, name in enumerate(names):
        cells = "".join(f"<td>{cell(_fmt(v, 2) for v in column[:, i])}</td>" for column in columns)
        rows.append(f"<tr><td class='l'>{_e(name)}</td><td>{counts[i]:,}</td>{cells}</tr>")
    return (
        f"<h2>{title}</h2><div class='scroll'><table><tr><th class='l'>"
        f"{'label' if target == 'multilabel' else 'class'}</th><th>{unit}</th>{head}</tr>"
        f"{''.join(rows)}</table></div><p class='note'>{note}</p>"
    )


def render_html(result, *, top: int = 4, examples=None, json_name=None) -> str:
    """The report of ``result`` as one HTML string (images embedded as base64 PNG).

    ``examples`` (optional, image data): ``{class name: images}`` shown as a grid after the
    class distribution (see :func:`keras_imbalance.report.image_grid`). The page embeds the
    results without the per-row test scores (its size does not grow with the rows of the
    data); ``json_name``, the file holding them beside the report, is named in the page."""
    board = result.leaderboard
    board = board[board["rank"] > 0] if len(board) else board  # skipped strategies: listed apart
    folds = result.folds
    rec = result.recommendation
    cfg = result.config
    classes = list(result.classes)
    counts = np.asarray(result.class_counts)
    k = len(classes)
    several_models = board["model"].nunique() > 1 if len(board) else False
    winner = (rec.get("winner_model"), rec.get("winner_strategy"))
    baseline_key = (
        rec.get("baseline_model", rec.get("winner_model")),
        rec.get("baseline_strategy", "none"),
    )

    def label(row):
        return _label(row, several_models)

    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<meta name='generator' content='keras-imbalance {_version()}'>",
        "<title>keras-imbalance: strategy comparison</title>",
        f"<style>{_CSS}</style></head><body><main>",
        "<h1>Imbalance strategy comparison</h1>",
        f"<p class='sub'>{_cv_text(cfg)}, ranked by <b>{_e(result.metric)}</b> &middot; Keras backend "
        f"{_e(cfg.get('backend', '?'))} &middot; models: "
        f"{_e(', '.join(cfg.get('models', {})))}</p>",
    ]
    warn = "" if rec.get("beats_baseline") else " warn"
    parts.append(f"<div class='rec{warn}'><b>Recommendation.</b> {_e(rec.get('text', ''))}</div>")
    by_metric = rec.get("by_metric") or {}
    if by_metric:
        cells = "".join(
            f"<tr><td class='l'>{_e(_SHORT.get(m, m))}</td><td class='l'>{_e(t['strategy'])}"
            + (f" ({_e(t['model'])})" if several_models else "")
            + f"</td><td>{_fmt(t['mean'])}</td></tr>"
            for m, t in by_metric.items()
        )
        parts.append(
            "<p class='note'>Top row under each metric (how much the choice depends on it):</p>"
            f"<table><tr><th class='l'>metric</th><th class='l'>top row</th><th>mean</th></tr>"
            f"{cells}</table>"
        )
    ratio = counts.max() / max(counts.min(), 1)
    facts = [
        ("samples", f"{int(cfg['data'].get('n_samples', counts.sum())):,}"),
        _features_fact(cfg["data"]),
        ("labels" if cfg.get("target") == "multilabel" else "classes", str(k)),
        ("imbalance ratio", f"{ratio:.1f} : 1"),
        ("strategies", str(len(cfg["strategies"]))),
        ("fold results", str(len(folds))),
    ]
    parts.append(
        "<div class='facts'>"
        + "".join(f"<div class='fact'>{_e(n)}<b>{_e(v)}</b></div>" for n, v in facts)
        + "</div>"
    )

    parts.append("<h2>Class distribution</h2>")
    parts.append(_img(_plots.class_distribution(classes, counts), "class distribution"))
    if examples:
        parts.append("<h2>Example images</h2>")
        grid = _plots.image_grid(examples, counts=dict(zip(classes, counts.tolist(), strict=True)))
        parts.append(_img(grid, "example images per class"))
        parts.append(
            "<p class='note'>The first images of each class, as the models saw them "
            "(after loading and resizing).</p>"
        )

    parts.append("<h2>Leaderboard</h2>")
    if len(board):
        parts.append(
            _img(
                _plots.leaderboard_chart(
                    board, result.metric, label, winner, rec.get("chance_level")
                ),
                "leaderboard",
            )
        )
        parts.append(_leaderboard_table(board, result.metric, several_models, winner, baseline_key))
    thin = _thin_note(board, rec, classes)
    parts.append(
        "<p class='note'>The other metric columns are means over the same folds. "
        "Intervals: corrected resampled t interval (Nadeau &amp; Bengio 2003), "
        "which widens the naive interval because cross-validation folds share training rows. "
        f"Rule: {_e(rec.get('rule', ''))}.{thin}{_reference_note(board, rec)}</p>"
    )
    skipped = cfg.get("skipped") or {}
    if skipped:
        parts.append("<h2>Skipped strategies</h2><ul>")
        parts += [f"<li><b>{_e(name)}</b>: {_e(reason)}</li>" for name, reason in skipped.items()]
        parts.append(
            "</ul><p class='note'>Default strategies the data cannot run are skipped; "
            "a strategy named explicitly stops the comparison with this reason instead.</p>"
        )

    keys = detail_keys(board, top, winner, baseline_key)
    label_of = {(r["model"], r["strategy"]): label(r) for _, r in board.iterrows()}

    target = cfg.get("target", "multiclass")
    if len(board) and target != "multiclass":
        parts.append(_per_label_section(result, keys, label_of, target))
    if len(board) and target == "multiclass":
        parts.append("<h2>Per-class recall</h2>")
        mat = []
        for _, r in board.iterrows():
            part = folds[(folds["model"] == r["model"]) & (folds["strategy"] == r["strategy"])]
            recalls = np.stack([np.asarray(v, dtype=float) for v in part["per_class_recall"]])
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # untested class: all NaN
                mat.append(np.nanmean(recalls, axis=0))
        per_class, below = _evidence(rec)
        ticks = [
            c if n >= below else (f"{c} (untested)" if n == 0 else f"{c} (n={n:g})")
            for c, n in zip(classes, per_class, strict=False)
        ] or classes
        parts.append(
            _img(
                _plots.recall_heatmap(
                    np.stack(mat), [label(r) for _, r in board.iterrows()], ticks
                ),
                "per-class recall",
            )
        )
        parts.append(
            "<p class='note'>Mean recall of each true class over the test folds; a class "
            f"with fewer than {below} test rows per repeat is labelled with its count "
            "(n=...): its recall rests on too few rows to compare strategies.</p>"
        )

        parts.append("<h2>Confusion matrices of the top and the recommended strategies</h2>")
        matrices = []
        for key in keys:
            part = folds[(folds["model"] == key[0]) & (folds["strategy"] == key[1])]
            matrices.append(
                np.sum(np.stack([np.asarray(c, dtype=float) for c in part["confusion"]]), axis=0)
            )
        parts.append(
            _img(
                _plots.confusion_grid(matrices, [label_of[k_] for k_ in keys], classes),
                "confusion matrices",
            )
        )
        parts.append(
            "<p class='note'>Counts summed over all test folds (each sample is tested "
            "once per repeat); colour = share of the true class (row).</p>"
        )

        parts.append("<h2>Precision-recall curves</h2>")
        from sklearn.metrics import average_precision_score, precision_recall_curve

        positive = int(np.argmin(counts)) if k == 2 else None
        curves = []
        for key in keys:
            rows = [r for r in result.rows if r["model"] == key[0] and r["strategy"] == key[1]]
            y_bin, score = _pooled(rows, k, positive)
            if y_bin is None or not y_bin.any():
                continue
            precision, recall, _ = precision_recall_curve(y_bin, score)
            ap = average_precision_score(y_bin, score)
            curves.append((label_of[key], recall, precision, ap, float(y_bin.mean())))
        # a tuned threshold does not change the scores: drop its curve if `none` is shown
        point = None
        costs = (cfg.get("settings") or {}).get("costs")
        if costs is not None and k == 2 and winner in keys:
            cm = _pooled_confusion(folds, winner)
            caught, missed = cm[positive, positive], cm[positive].sum() - cm[positive, positive]
            alarms = cm[:, positive].sum() - caught
            if caught + alarms > 0:
                point = (
                    f"{label_of[winner]}: cost operating point",
                    caught / max(caught + missed, 1),
                    caught / (caught + alarms),
                )
        if curves:
            pos_label = classes[positive] if k == 2 else "each class (micro-average)"
            parts.append(
                _img(_plots.pr_curves(curves, pos_label, point), "precision-recall curves")
            )
            parts.append(
                "<p class='note'>Test-fold scores pooled over folds. A tuned "
                "threshold moves the operating point, not the curve.</p>"
            )

    costs = (cfg.get("settings") or {}).get("costs")
    if costs is not None and len(board) and winner[0] is not None:
        parts.append(_cost_table(folds, winner, classes, np.asarray(costs), label_of[winner]))

    # the per-row test scores (what the curves above were drawn from) are most of the raw
    # numbers: they go to the JSON file beside the report, not into the page (a 0.47 MB table
    # made a 9.7 MB report when the page held them twice, once base64-encoded)
    doc = json.loads(result.to_json(None, include_scores=False))
    summary = {k_: doc[k_] for k_ in ("recommendation", "leaderboard", "config")}
    parts.append("<h2>Raw numbers</h2>")
    parts.append(
        "<p>"
        + (
            f"The full JSON, every fold with its test scores, is <code>{_e(json_name)}</code> "
            "beside this report. "
            if json_name
            else ""
        )
        + f"Every fold's metrics ({len(doc['folds'])} folds) are in the page's "
        "<code>comparison-data</code> script element; below, the leaderboard, the "
        "recommendation and the settings.</p>"
    )
    parts.append(
        "<details><summary>Leaderboard, recommendation and settings (JSON)</summary>"
        f"<pre>{_e(json.dumps(summary, indent=1))}</pre></details>"
    )
    parts.append(
        "<script type='application/json' id='comparison-data'>"
        + json.dumps(doc).replace("<", "\\u003c")
        + "</script>"
    )
    parts.append("<p class='note'>Generated by keras-imbalance.</p></main></body></html>")
    return "\n".join(parts)


def write_report(result, path, *, top=4, json_path="auto", examples=None):
    """Write the self-contained HTML report of a comparison (and its raw JSON next to it).

    The page holds the class distribution, the leaderboard (chart with 95 % intervals and a
    table of every metric), the recommendation, the per-class recall of every strategy, the
    confusion matrices and pooled precision-recall curves of the ``top`` strategies (plus the
    recommended one and the ``none`` baseline), all as base64 PNG images (matplotlib, Agg
    canvas), and the raw numbers (embedded without the per-row test scores, which only the
    JSON file holds: the page's size does not grow with the rows of the data). Nothing is
    fetched from the network.

    Parameters
    ----------
    result : ComparisonResult
        What :func:`keras_imbalance.compare` returned (or
        :func:`keras_imbalance.comparison.load_results`).
    path : str or path-like
        The HTML file to write.
    top : int, default=4
        How many of the best strategies get confusion matrices and precision-recall curves.
    json_path : str, path-like, "auto" or None, default="auto"
        Where to write the raw JSON: ``"auto"`` is ``path`` with the suffix ``.json``;
        ``None`` writes no separate file (the page keeps every number but the per-row test
        scores).
    examples : mapping of class name to images, optional
        For image data: a few images per class (shape (m, height, width[, channels]), values
        in [0, 1]), shown as a grid after the class distribution
        (:func:`keras_imbalance.report.image_grid`).

    Returns
    -------
    str
        The path of the HTML file.

    Examples
    --------
    >>> from keras_imbalance.comparison import load_results  # doctest: +SKIP
    >>> write_report(load_results("runs/yeast4.jsonl"), "report.html")  # doctest: +SKIP
    'report.html'
    """
    if not all(hasattr(result, a) for a in ("leaderboard", "folds", "recommendation", "rows")):
        raise invalid(
            "result", "a ComparisonResult (from keras_imbalance.compare)", result, kind=TypeError
        )
    top = check_number("top", top, low=1, integer=True)
    path = os.fspath(path)
    if json_path == "auto":
        json_path = os.path.splitext(path)[0] + ".json"
    json_name = None if json_path is None else os.path.basename(os.fspath(json_path))
    text = render_html(result, top=top, examples=examples, json_name=json_name)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    if json_path is not None:
        result.to_json(json_path)
    return path
