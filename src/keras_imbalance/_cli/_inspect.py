"""``keras-imbalance inspect``: class counts, weights per strategy, column roles."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from keras_imbalance._cli._common import UsageError, check, console, plain
from keras_imbalance._cli._parquet import (
    NOT_READ,
    CountedSource,
    input_files,
    is_parquet,
    read_counts,
)
from keras_imbalance._cli._source import (
    EXAMPLES_PER_CLASS,
    is_folder,
    outside,
    read_frame,
    read_source,
    target_columns,
)
from keras_imbalance._outputs import PNG_SOFTWARE, Output


def cmd_inspect(args) -> int:
    folder = is_folder(args.data)
    several = len(target_columns(args.target)) > 1  # several 0/1 columns
    # a Parquet file or directory: the label column only (a multi-label file: in memory)
    parquet = is_parquet(args.data) and not (several and not folder)
    if parquet:
        inputs = input_files(args.data)
    else:
        inputs = [args.data] if Path(args.data).exists() and not folder else []
    outputs = [Output("--plot", args.plot, "png")] if args.plot else []
    if folder:
        outside(args.data, outputs, "Parquet directory" if parquet else "image folder")
    check(outputs, inputs, args.force)
    if not folder and several:
        return _inspect_multilabel(args)
    if parquet:
        counted = read_counts(args.data, args)
        report = counts_report(counted)
        _say(args, report)
        if args.plot:
            _bars(args, counted.name, counted.target, report)
        return 0
    source = read_source(args.data, args, images="examples")
    report = class_report(source.name, source.y)
    if source.is_folder:
        report["image_shape"] = list(source.x.shape[1:])
        report["image_files"] = int(len(source.y))
    else:
        report["n_features"] = int(source.x.shape[1])
        report["columns"], report["missing"] = column_roles(source.x)
        dropped = {str(c): f"an id: {why}" for c, why in source.id_reasons.items()}
        report["columns"]["dropped"] = {**dropped, **report["columns"]["dropped"]}
    _say(args, report)
    if args.plot and source.is_folder:
        from keras_imbalance import __version__
        from keras_imbalance.report import image_grid

        fig = image_grid(source.examples, counts=report["counts"], per_class=EXAMPLES_PER_CLASS)
        fig.savefig(
            args.plot, dpi=110, format="png", metadata={"Software": f"{PNG_SOFTWARE} {__version__}"}
        )
        print(f"example images written to {args.plot}", file=_notes(args))
    elif args.plot:
        _bars(args, source.name, source.y.name, report)
    return 0


def _bars(args, name: str, target: str, report: dict) -> None:
    title = f"{name}: {target} (imbalance ratio {report['imbalance_ratio']:.1f})"
    bar_chart(report["counts"], args.plot, title)
    print(f"bar chart written to {args.plot}", file=_notes(args))


def _notes(args):
    return sys.stderr if args.json else sys.stdout


def class_report(source: str, y) -> dict:
    from keras_imbalance import class_weights, describe
    from keras_imbalance.weights import WEIGHT_STRATEGIES

    values = y.to_numpy()
    labels = values.astype(str) if values.dtype == object else values
    info = describe(labels)
    weights = {s: class_weights(labels, s) for s in WEIGHT_STRATEGIES}
    return _class_facts(source, str(y.name), info, weights)


def counts_report(source: CountedSource) -> dict:
    """The report of a Parquet source read out of core: the keys of a table's report where
    the same facts are known (counts, imbalance ratio, weights per strategy), then the
    schema and a note on what was not read."""
    from dataclasses import replace

    import numpy as np

    from keras_imbalance import class_weights, describe
    from keras_imbalance.weights import WEIGHT_STRATEGIES

    # the distinct labels give the classes, their ids and the layout; the counts their sizes
    info = describe(source.distinct)
    sizes = np.asarray([source.counts[plain(c)] for c in info.classes], dtype=np.int64)
    total = int(sizes.sum())
    info = replace(info, counts=sizes, n_samples=total, n_elements=total)
    weights = {s: class_weights(source.counts, s) for s in WEIGHT_STRATEGIES}
    report = _class_facts(source.name, source.target, info, weights)
    report["n_features"] = len(source.schema) - 1
    report["files"] = source.files
    report["schema"] = {c: t for c, t in source.schema.items() if c != source.target}
    report["not_shown"] = NOT_READ
    return report


def _class_facts(source: str, target: str, info, weights: dict) -> dict:
    return {
        "data": source,
        "target": target,
        "n_samples": int(info.n_samples),
        "layout": info.layout,
        "counts": {str(k): v for k, v in info.counts_dict().items()},
        "imbalance_ratio": round(info.imbalance_ratio, 3),
        "class_weights": {
            s: {
                str(c): round(w[i], 6)
                for c, i in zip(info.classes.tolist(), info.class_ids.tolist(), strict=True)
            }
            for s, w in weights.items()
        },
    }


def column_roles(x) -> tuple[dict, dict]:
    """(roles, missing counts) of the feature columns; every problem of the table raises (one
    line, exit 2), as ``resample`` and ``compare`` would refuse them."""
    import warnings

    from keras_imbalance.tables import check_table

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the dropped columns are listed instead
        spec = check_table(x, argument="DATA")
    roles = {
        "numeric": [str(c) for c in spec.numeric],
        "categorical": [str(c) for c in spec.categorical],
        "dropped": {str(c): reason for c, reason in spec.dropped.items()},
    }
    gaps = x.isna().sum()
    return roles, {str(c): int(n) for c, n in gaps.items() if n}


def _say(args, report: dict) -> None:
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print(report)


def _names(names, limit: int = 8) -> str:
    names = list(names)
    more = f", ... ({len(names) - limit} more)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _print(report: dict) -> None:
    """The report as text: user text (names, classes) is never read as rich markup."""
    from rich.table import Table

    out = console()
    if "image_shape" in report:
        shape = " x ".join(str(d) for d in report["image_shape"])
        what = f"{report['n_samples']} image files, images of {shape} (height x width x channels)"
    else:
        what = f"{report['n_samples']} samples, {report['n_features']} features"
    out.print(
        f"{report['data']}: {what}, target {report['target']} ({report['layout']}), "
        f"imbalance ratio {report['imbalance_ratio']}",
        markup=False,
    )
    if "columns" in report:
        roles = report["columns"]
        parts = [
            f"{len(roles['numeric'])} numeric",
            f"{len(roles['categorical'])} categorical"
            + (f" ({_names(roles['categorical'])})" if roles["categorical"] else ""),
        ]
        if roles["dropped"]:
            dropped = [f"{c} ({r})" for c, r in roles["dropped"].items()]
            parts.append(f"{len(dropped)} dropped: {_names(dropped, 4)}")
        out.print("columns: " + ", ".join(parts), markup=False)
        missing = report["missing"]
        out.print(
            "missing values: "
            + (_names([f"{c} {n}" for c, n in missing.items()]) if missing else "none"),
            markup=False,
        )
    if "schema" in report:  # a Parquet source read out of core: the footers, no values
        columns = [f"{c} ({t})" for c, t in report["schema"].items()]
        out.print(f"columns (schema only): {_names(columns)}", markup=False)
        out.print(f"note: {report['not_shown']}", markup=False)
    table = Table(title="class counts and weights per strategy")
    table.add_column("class", overflow="fold")  # wrapped on a terminal, never cut
    table.add_column("count", justify="right")
    for strategy in report["class_weights"]:
        table.add_column(strategy, justify="right", overflow="fold")
    from rich.text import Text

    for cls, count in report["counts"].items():
        table.add_row(
            Text(cls),
            str(count),
            *(f"{report['class_weights'][s][cls]:.4g}" for s in report["class_weights"]),
        )
    out.print(table)


def bar_chart(counts: dict, path: str, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from keras_imbalance import __version__

    fig, ax = plt.subplots(figsize=(max(4, 0.6 * len(counts) + 2), 3.2))
    ax.bar([str(k) for k in counts], list(counts.values()), color="#4C72B0")
    ax.set_xlabel("class")
    ax.set_ylabel("samples")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    # the Software text marks the file as ours: a later run may overwrite it without --force
    fig.savefig(path, dpi=110, format="png", metadata={"Software": f"{PNG_SOFTWARE} {__version__}"})
    plt.close(fig)


def _inspect_multilabel(args) -> int:
    """``inspect --target a,b,c``: label counts, MeanIR and SCUMBLE before and after resampling."""

    from keras_imbalance.resampling import resampled_label_stats

    columns = target_columns(args.target)
    frame, _, source, _ = read_frame(args.data, None)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise UsageError(f"--target columns {missing} are not columns of {args.data!r}")
    y = frame[columns]
    x = frame.drop(columns=columns)
    if not y.isin([0, 1]).all().all():
        raise UsageError(f"--target columns {columns} must hold 0/1 labels (one column per label)")
    try:  # mlsmote runs on the one-hot encoding of a raw table, as resample does
        stats = resampled_label_stats(x, y.to_numpy(), random_state=0)
    except (TypeError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    report = {"data": source, "target": columns, "n_samples": len(y), "layout": "multilabel"}
    report["label_counts"] = dict(zip(columns, stats["none"]["label_counts"], strict=True))
    report["resampling"] = {
        m: {k: round(s[k], 4) for k in ("mean_ir", "max_ir", "cvir", "scumble")}
        for m, s in stats.items()
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{source}: {len(y)} samples, {len(columns)} labels, counts {report['label_counts']}")
        print(f"{'resampling':<12}{'MeanIR':>9}{'MaxIR':>9}{'CVIR':>9}{'SCUMBLE':>9}")
        for m, r in report["resampling"].items():
            print(
                f"{m:<12}"
                + "".join(f"{r[k]:>9.4g}" for k in ("mean_ir", "max_ir", "cvir", "scumble"))
            )
    if args.plot:
        bar_chart(report["label_counts"], args.plot, f"{source}: positives per label")
        print(f"bar chart written to {args.plot}", file=_notes(args))
    return 0
