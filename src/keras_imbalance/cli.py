"""Command line: ``keras-imbalance inspect | weights | resample | compare`` (layer 4).

Parses arguments and calls the documented public API only. Nothing heavy is imported before a
command needs it: ``--help`` loads numpy at most, ``inspect`` pandas (Pillow for an image
folder, matplotlib for ``--plot``), never scikit-learn, imbalanced-learn or Keras.

DATA is a CSV or Parquet table (raw: categorical columns and missing values are fine), a
bundled dataset name, or, for ``inspect``, ``weights`` and ``compare``, a folder with one
sub-folder of images per class (Keras' ``image_dataset_from_directory`` layout).

Errors a user can fix (bad file, missing column, bad option, an output path that would
overwrite an input or a file keras-imbalance did not write) print one line and exit with 2,
before any work starts.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

from keras_imbalance._outputs import PNG_SOFTWARE, Output, OutputError, check_outputs

EXIT_USAGE = 2
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a Unix tool killed by a closed pipe returns
EXAMPLES_PER_CLASS = 8  # example images per class in inspect's --plot and compare's report
METRICS = ("balanced_accuracy", "geometric_mean", "macro_f1", "matthews_correlation", "pr_auc")
#: ``format`` of the document ``keras-imbalance weights --json`` prints.
WEIGHTS_FORMAT = "keras-imbalance-class-weight/1"


class UsageError(Exception):
    """A problem with the user's input: reported on one line, exit code 2."""


# --------------------------------------------------------------------------- inputs


def _read_table(data: str, target: str | None):
    """(features DataFrame, target Series, source name, input files) from a file or a name."""
    import pandas as pd

    path = Path(data)
    if not path.exists():
        from keras_imbalance import datasets

        if data in datasets.list_datasets():
            frame = datasets.load_dataset(data, as_frame=True)
            target = target or "target"
        else:
            raise UsageError(
                f"DATA {data!r} is neither a file nor a bundled dataset "
                f"({', '.join(datasets.list_datasets())})"
            )
    else:
        if path.is_dir():
            raise UsageError(f"DATA {data!r} is a folder: expected a .csv, .tsv or .parquet file")
        suffix = path.suffix.lower()
        try:
            if suffix == ".parquet":
                frame = pd.read_parquet(path)
            elif suffix in (".csv", ".txt", ".tsv"):
                frame = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",")
            else:
                raise UsageError(f"DATA {data!r}: expected a .csv, .tsv or .parquet file")
        except UsageError:
            raise
        except ImportError as exc:
            raise UsageError(f"DATA {data!r}: reading Parquet needs pyarrow ({exc})") from None
        except Exception as exc:  # pandas raises many kinds on malformed files
            raise UsageError(
                f"DATA {data!r} could not be read: {type(exc).__name__}: {exc}"
            ) from None
    if frame.empty:
        raise UsageError(f"DATA {data!r} has no rows")
    if target is None:
        raise UsageError("--target is required for a data file (the label column)")
    if target not in frame.columns:
        raise UsageError(
            f"--target {target!r} is not a column of {data!r}; columns: {list(frame.columns)[:20]}"
        )
    y = frame[target]
    if _nested([target], frame):
        raise UsageError(
            f"--target column {target!r} holds lists or dicts (a nested Parquet type): "
            "expected one label per row"
        )
    if y.isna().any():
        raise UsageError(f"--target column {target!r} has {int(y.isna().sum())} missing labels")
    if y.nunique() < 2:
        raise UsageError(
            f"--target column {target!r} has a single class ({_plain(y.iloc[0])!r}): nothing to balance"
        )
    inputs = [str(path)] if path.exists() else []
    return frame.drop(columns=[target]), y, (path.name if path.exists() else data), inputs


def _nested(columns, frame) -> list:
    """Columns holding lists, dicts or arrays (Parquet list / struct / map types)."""
    out = []
    for column in columns:
        values = frame[column]
        if (
            values.dtype == object
            and values.map(
                lambda v: isinstance(v, (list, tuple, dict, set)) or hasattr(v, "__array__")
            ).any()
        ):
            out.append(column)
    return out


def _labels(y):
    values = y.to_numpy()
    return values.astype(str) if values.dtype == object else values


def _is_folder(data: str | None) -> bool:
    return data is not None and Path(data).is_dir()


def _folder_name(data: str) -> str:
    return Path(data).resolve().name or "images"


def _warned(command: str, caught) -> None:
    """Warnings of the library as one ``warning:`` line each (no source line)."""
    for item in caught:
        print(f"keras-imbalance {command}: warning: {item.message}", file=sys.stderr)


def _read_images(data: str, args, **options):
    """``load_image_folder`` with its warnings (skipped files) as one line each."""
    import warnings

    from keras_imbalance.datasets import load_image_folder

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        folder = load_image_folder(data, image_size=args.image_size, **options)
    _warned(args.command, caught)
    return folder


def _outside(data: str, outputs: list[Output]) -> None:
    """An output inside an image folder would become part of it (a PNG, one of its images)."""
    root = os.path.realpath(data)
    for out in outputs:
        where = os.path.realpath(out.path)
        if os.path.commonpath([root, where]) == root:
            raise UsageError(
                f"{out.say()} is inside the image folder {data!r}: write it somewhere else"
            )


def _flags_for(args, *, folder: bool) -> None:
    """``--target`` names a column of a table; ``--image-size`` resizes an image folder."""
    if folder and getattr(args, "target", None) is not None:
        raise UsageError(
            "--target is for tables: the classes of an image folder are its sub-folders"
        )
    if not folder and getattr(args, "image_size", None) is not None:
        raise UsageError("--image-size is for a folder of images; DATA is a table")


def _folder_labels(data: str):
    """One label per image file (counted, not opened: ``class_counts`` on the folder)."""
    import numpy as np
    import pandas as pd

    from keras_imbalance import class_counts

    counts = class_counts(data)
    empty = [name for name, n in counts.items() if n == 0]
    if empty:
        raise UsageError(
            f"DATA {data!r}: expected image files in every class sub-folder; no image file "
            f"in {empty[:10]}"
        )
    if len(counts) < 2:
        raise UsageError(
            f"DATA {data!r} has a single class folder ({list(counts)[0]!r}): nothing to balance "
            "(one sub-folder of images per class)"
        )
    return pd.Series(np.repeat(list(counts), list(counts.values())), name="class folder")


def _check(outputs: list[Output], inputs: list[str], force: bool) -> list[Output]:
    """:func:`keras_imbalance._outputs.check_outputs`, reported as a usage error."""
    try:
        return check_outputs(outputs, inputs, force=force)
    except OutputError as exc:
        raise UsageError(str(exc)) from None


def _random_state(args) -> int:
    if args.seed is not None:
        print(
            f"keras-imbalance {args.command}: --seed is deprecated, use --random-state",
            file=sys.stderr,
        )
        if args.random_state is None:
            return args.seed
    return 0 if args.random_state is None else args.random_state


# --------------------------------------------------------------------------- inspect


def cmd_inspect(args) -> int:
    if _is_folder(args.data):
        return _inspect_folder(args)
    _flags_for(args, folder=False)
    inputs = [args.data] if Path(args.data).exists() else []
    outputs = [Output("--plot", args.plot, "png")] if args.plot else []
    _check(outputs, inputs, args.force)
    if args.target and "," in args.target:  # several 0/1 columns: a multi-label target
        return _inspect_multilabel(args)
    x, y, source, _ = _read_table(args.data, args.target)
    report = _class_report(source, y)
    report["n_features"] = int(x.shape[1])
    report["columns"], report["missing"] = _column_roles(x)
    _say_inspect(args, report)
    if args.plot:
        title = f"{source}: {y.name} (imbalance ratio {report['imbalance_ratio']:.1f})"
        _bar_chart(report["counts"], args.plot, title)
        print(f"bar chart written to {args.plot}", file=sys.stderr if args.json else sys.stdout)
    return 0


def _inspect_folder(args) -> int:
    _flags_for(args, folder=True)
    outputs = [Output("--plot", args.plot, "png")] if args.plot else []
    _outside(args.data, outputs)
    _check(outputs, [], args.force)
    source = _folder_name(args.data)
    y = _folder_labels(args.data)  # every image file, counted (not opened)
    examples = _read_images(args.data, args, max_per_class=EXAMPLES_PER_CLASS)
    report = _class_report(source, y)
    report["image_shape"] = list(examples.x.shape[1:])
    report["image_files"] = int(len(y))
    _say_inspect(args, report)
    if args.plot:
        from keras_imbalance import __version__
        from keras_imbalance.report import image_grid

        grid = {name: examples.x[examples.y == i] for i, name in enumerate(examples.class_names)}
        fig = image_grid(grid, counts=report["counts"], per_class=EXAMPLES_PER_CLASS)
        fig.savefig(
            args.plot, dpi=110, format="png", metadata={"Software": f"{PNG_SOFTWARE} {__version__}"}
        )
        print(
            f"example images written to {args.plot}",
            file=sys.stderr if args.json else sys.stdout,
        )
    return 0


def _class_report(source: str, y) -> dict:
    from keras_imbalance import class_weights, describe
    from keras_imbalance.weights import WEIGHT_STRATEGIES

    info = describe(_labels(y))
    weights = {s: class_weights(_labels(y), s) for s in WEIGHT_STRATEGIES}
    return {
        "data": source,
        "target": str(y.name),
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


def _column_roles(x) -> tuple[dict, dict]:
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


def _say_inspect(args, report: dict) -> None:
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_inspect(report)


def _names(names, limit: int = 8) -> str:
    names = list(names)
    more = f", ... ({len(names) - limit} more)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _print_inspect(report: dict) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    if "image_shape" in report:
        shape = " x ".join(str(d) for d in report["image_shape"])
        what = f"{report['n_samples']} image files, images of {shape} (height x width x channels)"
    else:
        what = f"{report['n_samples']} samples, {report['n_features']} features"
    console.print(
        f"[bold]{escape(report['data'])}[/]: {what}, target [bold]{escape(report['target'])}[/] "
        f"({report['layout']}), imbalance ratio [bold]{report['imbalance_ratio']}[/]"
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
        console.print(escape("columns: " + ", ".join(parts)), soft_wrap=True)
        missing = report["missing"]
        console.print(
            escape(
                "missing values: "
                + (_names([f"{c} {n}" for c, n in missing.items()]) if missing else "none")
            ),
            soft_wrap=True,
        )
    table = Table(title="class counts and weights per strategy")
    table.add_column("class")
    table.add_column("count", justify="right")
    for strategy in report["class_weights"]:
        table.add_column(strategy, justify="right")
    for cls, count in report["counts"].items():
        table.add_row(
            cls,
            str(count),
            *(f"{report['class_weights'][s][cls]:.4g}" for s in report["class_weights"]),
        )
    console.print(table)


def _bar_chart(counts: dict, path: str, title: str) -> None:
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
    import pandas as pd

    from keras_imbalance.resampling import resampled_label_stats

    columns = [c.strip() for c in args.target.split(",") if c.strip()]
    x, first, source, _ = _read_table(args.data, columns[0])
    missing = [c for c in columns[1:] if c not in x.columns]
    if missing:
        raise UsageError(f"--target columns {missing} are not columns of {args.data!r}")
    y = pd.concat([first, x[columns[1:]]], axis=1)
    x = x.drop(columns=columns[1:])
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
        _bar_chart(report["label_counts"], args.plot, f"{source}: positives per label")
        print(f"bar chart written to {args.plot}", file=sys.stderr if args.json else sys.stdout)
    return 0


# --------------------------------------------------------------------------- weights


def cmd_weights(args) -> int:
    from keras_imbalance import class_weights, describe

    if _is_folder(args.data):
        _flags_for(args, folder=True)
        y, source = _folder_labels(args.data), _folder_name(args.data)
    else:
        _, y, source, _ = _read_table(args.data, args.target)
    options = {}
    for item in args.option or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--option {item!r}: expected KEY=VALUE")
        options[key] = _number(value)
    labels = _labels(y)
    weights = class_weights(labels, args.strategy, normalize=args.normalize, **options)
    info = describe(labels)
    names = {int(i): _plain(c) for i, c in zip(info.class_ids, info.classes, strict=True)}
    if args.json:
        doc = {
            "format": WEIGHTS_FORMAT,
            "data": source,
            "target": str(y.name),
            "strategy": args.strategy,
            "normalize": args.normalize,
            "class_weight": {str(k): v for k, v in weights.items()},
            "labels": {str(k): v for k, v in names.items()},
        }
        print(json.dumps(doc, indent=2 if args.indent else None))
        return 0
    print(f"# class_weight for model.fit: keras-imbalance weights, strategy {args.strategy!r}")
    if any(str(label) != str(i) for i, label in names.items()):
        mapping = ", ".join(f"{i} = {label!r}" for i, label in names.items())
        print(f"# keys are class ids; the labels of column {str(y.name)!r}: {mapping}")
    else:
        print(f"# keys are the labels of column {str(y.name)!r}")
    print(
        "# load it with keras_imbalance.load_class_weight(path) (int keys: Keras ignores str keys)"
    )
    print("{" + ", ".join(f"{k}: {v!r}" for k, v in weights.items()) + "}")
    return 0


def _plain(value):
    return value.item() if hasattr(value, "item") else value


# --------------------------------------------------------------------------- resample


def cmd_resample(args) -> int:
    import pandas as pd

    random_state = _random_state(args)
    inputs = [args.data] if Path(args.data).exists() else []
    _check([Output("-o", args.output, "table")], inputs, args.force)
    x, y, _, _ = _read_table(args.data, args.target)
    from keras_imbalance import resample

    # raw tables as they are: categorical columns and missing values are the library's to handle
    result = resample(x, y, method=args.method, random_state=random_state)
    xr, yr = result
    frame = xr.copy()
    frame[y.name] = yr.to_numpy()
    out = Path(args.output)
    if out.suffix.lower() == ".parquet":
        frame.to_parquet(out, index=False)
    else:
        frame.to_csv(out, index=False)
    before = y.value_counts().sort_index().to_dict()
    after = pd.Series(yr).value_counts().sort_index().to_dict()
    for note in result.notes:
        print(f"note: {note}")
    print(f"{len(y)} -> {len(yr)} rows; class counts {before} -> {after}; written to {out}")
    return 0


# --------------------------------------------------------------------------- compare


def _table_features(x, save_model):
    """The feature columns for ``compare``: a numeric table as float32, a raw one (categorical
    columns, missing values) as it is, after one check of every problem of the table (one
    line, exit 2). ``--save-model`` writes one Keras model of raw numbers, so it needs a
    numeric table without gaps."""
    import pandas as pd

    roles, missing = _column_roles(x)
    raw = bool(roles["categorical"] or roles["dropped"] or missing)
    if not raw:
        return x.to_numpy(dtype="float32")
    if save_model is not None:
        raise UsageError(
            f"--save-model {save_model!r}: a raw table (categorical columns, missing values or "
            "dropped columns) has no single Keras model of raw numbers; in Python, "
            "result.fit_recommended(x, y) returns a TablePipeline with .save(folder)"
        )
    return x if isinstance(x, pd.DataFrame) else pd.DataFrame(x)


def _strategy_names(text: str | None) -> list[str] | None:
    """The --strategies list, checked against the comparison's names before any work."""
    if text is None:
        return None
    from keras_imbalance.comparison import ALIASES, STRATEGIES

    names = [s.strip() for s in text.split(",") if s.strip()]
    keys = {n: "".join(n.lower().split()) for n in names}  # spacing and case as compare reads
    unknown = [n for n in names if ALIASES.get(keys[n], keys[n]) not in STRATEGIES]
    if unknown:
        raise UsageError(
            f"--strategies: unknown {', '.join(repr(n) for n in unknown)}; known: "
            f"{', '.join(STRATEGIES)}"
        )
    return names


def cmd_compare(args) -> int:
    random_state = _random_state(args)
    data = args.data or "yeast4"
    folder = _is_folder(data)
    if folder:
        _flags_for(args, folder=True)
        source, inputs = _folder_name(data), []
    else:
        _flags_for(args, folder=False)
        x, y, source, inputs = _read_table(data, args.target)
        features = _table_features(x, args.save_model)
        labels = _labels(y)
        _check_testable(y.value_counts(), f"--target {str(y.name)!r}")
    stem = Path(source).stem
    results = args.results or f"{stem}-results.jsonl"
    report = args.report or f"{stem}-report.html"
    outputs = [
        Output("--results", results, "results"),
        Output("--report", report, "html"),
        Output("--report's JSON", str(Path(report).with_suffix(".json")), "report-json"),
    ]
    if args.save_model is not None:
        outputs.append(Output("--save-model", args.save_model, "keras"))
    if folder:
        _outside(data, outputs)
    existing = _check(outputs, inputs, args.force)
    strategies = _strategy_names(args.strategies)
    costs = _costs(args.cost)
    model_fn, examples = None, None
    if folder:  # checked before the images are read: that may take a while
        import numpy as np
        import pandas as pd

        from keras_imbalance.comparison import cnn_model

        images = _read_images(data, args)
        features = images.x
        labels = np.asarray(images.class_names)[images.y]
        _check_testable(pd.Series(labels).value_counts(), "the image folder")
        model_fn = {"cnn": cnn_model}
        examples = {
            name: features[images.y == i][:EXAMPLES_PER_CLASS]
            for i, name in enumerate(images.class_names)
        }
    if costs is not None:
        names = {str(_plain(label)) for label in set(labels.tolist())}
        unknown = [c for c in costs if c not in names]
        if unknown:
            raise UsageError(f"--cost: no class {unknown} in the data (classes {sorted(names)})")

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from keras_imbalance import compare, describe
    from keras_imbalance._outputs import written_by_us
    from keras_imbalance.report import write_report

    for out in existing:  # --force on a results file keras-imbalance did not write: start anew
        if out.kind == "results" and not written_by_us(Path(out.path), "results"):
            os.remove(out.path)
    info = describe(labels)
    console = Console(stderr=True)
    what = (
        f"{info.n_samples} images of {' x '.join(str(d) for d in features.shape[1:])}"
        if folder
        else f"{info.n_samples} samples, {features.shape[1]} features"
    )
    console.print(
        f"[bold]{source}[/]: {what}, classes {info.counts_dict()} (imbalance ratio "
        f"{info.imbalance_ratio:.1f}); results -> {results}"
    )
    with Progress(
        TextColumn("[bold]compare"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task("", total=None)

        def progress(done, total, row):
            bar.update(
                task,
                completed=done,
                total=total,
                description=f"{row.get('model', '')} {row.get('strategy', '')}".strip(),
            )

        try:
            result = compare(
                features,
                labels,
                strategies=strategies,
                model_fn=model_fn,
                cv=args.cv,
                repeats=args.repeats,
                metric=args.metric,
                costs=costs,
                epochs=args.epochs,
                refit=not args.no_refit,
                n_jobs=args.jobs,
                results_path=results,
                random_state=random_state,
                progress=progress,
                references=None
                if args.references is None
                else [
                    n.strip() for n in args.references.split(",") if n.strip() not in ("", "none")
                ],
            )
        except KeyboardInterrupt:
            console.print(
                f"interrupted: finished folds are kept in {results}; run the same command again to resume"
            )
            return 130
    _print_leaderboard(result, console, args.top)
    write_report(result, report, examples=examples)
    console.print(f"report written to {report}")
    # the comparison words its hint for Python callers; the flag here is --repeats
    print(_for_the_command_line(result.recommendation["text"]))
    if args.save_model is not None:
        rec = result.recommendation
        console.print(
            f"training {rec['winner_model']}:{rec['winner_strategy']} on all {info.n_samples} rows"
        )
        model = result.fit_recommended(features, labels, model_fn=model_fn)
        model.save(args.save_model)
        classes = ", ".join(result.classes)
        inputs_are = "images (pixel values in [0, 1])" if folder else "raw features"
        console.print(
            f"model written to {args.save_model}: {inputs_are} -> probabilities of [{classes}]"
        )
    return 0


def _check_testable(counts, what: str) -> None:
    """A class is tested only if it also has a row to train on: 2 classes need 2 rows."""
    if (counts >= 2).sum() < 2:
        raise UsageError(
            f"{what}: at least 2 classes need 2 rows or more to be tested "
            f"(counts {dict((str(_plain(k)), int(v)) for k, v in counts.items())})"
        )


def _print_leaderboard(result, console, top: int) -> None:
    """The ``top`` rows, plus the recommended one (in bold green) when it ranks lower; the
    strategies a row also answers for, a dagger on intervals that rest on fewer than 5 test
    rows of a class, and the skipped strategies with their reasons."""
    from rich.table import Table

    full = result.leaderboard
    full = full[full["rank"] > 0]
    rec = result.recommendation
    is_winner = (full["model"] == rec.get("winner_model")) & (
        full["strategy"] == rec.get("winner_strategy")
    )
    board = full[(full["rank"] <= top) | is_winner]
    metric = result.config.get("metric", "score") if isinstance(result.config, dict) else "score"
    table = Table(title=f"leaderboard: {metric} (mean over folds, 95 % interval)")
    for name in ("rank", "model", "strategy", "mean", "95 % interval", "g-mean", "MCC"):
        table.add_column(name, justify="left" if name in ("model", "strategy") else "right")
    for index, row in board.iterrows():
        winner = bool(is_winner[index])
        name = str(row["strategy"])
        if row.get("aliases"):
            name += f" (= {row['aliases']})"
        table.add_row(
            str(row["rank"]),
            str(row["model"]),
            name + (" (recommended)" if winner else ""),
            f"{row['mean']:.3f}",
            f"{row['ci_low']:.3f} - {row['ci_high']:.3f}" + (" †" if row.get("thin") else ""),
            f"{row['geometric_mean']:.3f}",
            f"{row['matthews_correlation']:.3f}",
            style="bold green" if winner else None,
        )
    console.print(table)
    if len(board) and board["thin"].fillna(False).astype(bool).any():
        evidence = rec.get("evidence") or {}
        few = [
            f"{c} ({'never tested' if n == 0 else f'{n:g} test rows'})"
            for c, n in zip(result.classes, evidence.get("test_rows_per_class", []), strict=False)
            if n < evidence.get("thin_below", 5)
        ]
        console.print(
            f"† the interval rests on fewer than {evidence.get('thin_below', 5)} test rows per "
            f"repeat of class {', '.join(few)}"
        )
    for name, reason in result.skipped.items():
        console.print(f"skipped {name}: {reason}")
    tops = rec.get("by_metric") or {}
    if tops:
        console.print(
            "top row by metric: "
            + "; ".join(
                f"{m} {t['model']}:{t['strategy']} {t['mean']:.3f}" for m, t in tops.items()
            )
        )


def _costs(items):
    """``{class: cost}`` of ``--cost CLASS=COST`` flags (None without any)."""
    if not items:
        return None
    out = {}
    for item in items:
        name, sep, value = item.rpartition("=")
        try:
            cost = float(value)
        except ValueError:
            cost = math.nan
        if not sep or not name or not (cost > 0 and math.isfinite(cost)):
            raise UsageError(
                f"--cost {item!r}: expected CLASS=COST with a positive number, e.g. fraud=50"
            )
        out[name] = cost
    return out


def _for_the_command_line(text: str) -> str:
    """The recommendation's Python hints (``repeats=3``, ``cv=5``) as this CLI's flags."""
    import re

    text = text.replace("(repeats=...)", "(--repeats N)")
    return re.sub(r"\b(repeats|cv)=(\d+)", lambda m: f"--{m.group(1)} {m.group(2)}", text)


# --------------------------------------------------------------------------- parser


def _number(text: str):
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def _at_least(low: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected a number >= {low}, got {value}")
        return value

    parse.__name__ = f"int >= {low}"
    return parse


def _add_random_state(p) -> None:
    p.add_argument(
        "--random-state", type=int, default=None, help="seed of the sampler / splits (default 0)"
    )
    p.add_argument("--seed", type=int, default=None, help=argparse.SUPPRESS)  # deprecated


def _image_size(text: str) -> tuple[int, int]:
    height, sep, width = text.lower().partition("x")
    try:
        size = (int(height), int(width if sep else height))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected HEIGHTxWIDTH such as 64x64 (or one number), got {text!r}"
        ) from None
    if min(size) < 1:
        raise argparse.ArgumentTypeError(f"expected sizes >= 1, got {text!r}")
    return size


def _add_image_size(p) -> None:
    p.add_argument(
        "--image-size",
        type=_image_size,
        metavar="HxW",
        help="resize the images of an image folder to HEIGHTxWIDTH, e.g. 64x64 (needed when "
        "their sizes differ)",
    )


def _add_force(p, what: str) -> None:
    p.add_argument(
        "--force",
        action="store_true",
        help=f"overwrite {what} even if keras-imbalance did not write it",
    )


def build_parser() -> argparse.ArgumentParser:
    from keras_imbalance.resampling import METHODS
    from keras_imbalance.weights import WEIGHT_STRATEGIES

    parser = argparse.ArgumentParser(
        prog="keras-imbalance",
        description="Make Keras classifiers work on class-imbalanced data.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "inspect",
        help="class counts, imbalance ratio, the weights of every strategy, and the column "
        "roles of a table",
    )
    p.add_argument(
        "data",
        help="CSV or Parquet file, a bundled dataset name (yeast4, ecoli3, digits_lt), or a "
        "folder with one sub-folder of images per class",
    )
    p.add_argument(
        "--target",
        help="label column (default for bundled data: target); a,b,c: 0/1 columns of a "
        "multi-label target (MeanIR and SCUMBLE before and after MLSMOTE / ML-ROS / ML-RUS)",
    )
    p.add_argument(
        "--plot",
        metavar="FILE.png",
        help="write a bar chart of the class counts (a table) or a grid of example images per "
        "class (an image folder)",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _add_image_size(p)
    _add_force(p, "--plot's file")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser(
        "weights",
        help="print a class_weight dict with int keys, ready to paste into model.fit",
    )
    p.add_argument("data")
    p.add_argument("--target")
    p.add_argument("--strategy", default="balanced", choices=list(WEIGHT_STRATEGIES))
    p.add_argument("--normalize", choices=["mean", "max", "none"])
    p.add_argument(
        "--option", action="append", metavar="KEY=VALUE", help="strategy option, e.g. beta=0.99"
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print a JSON document (weights and the label of each class id) for "
        "keras_imbalance.load_class_weight",
    )
    p.add_argument("--indent", action="store_true", help="indent the --json document")
    p.set_defaults(func=cmd_weights)

    p = sub.add_parser("resample", help="write a resampled copy of DATA (never overwrites DATA)")
    p.add_argument("data")
    p.add_argument("--target")
    p.add_argument("--method", default="smote", choices=list(METHODS))
    p.add_argument("-o", "--output", required=True, help="output .csv or .parquet")
    _add_force(p, "OUTPUT")
    _add_random_state(p)
    p.set_defaults(func=cmd_resample)

    p = sub.add_parser(
        "compare", help="rank imbalance strategies on DATA by cross-validation; HTML report"
    )
    p.add_argument(
        "data",
        nargs="?",
        help="CSV, Parquet, bundled dataset (default: yeast4), or a folder with one sub-folder "
        "of images per class (compared with a small CNN)",
    )
    p.add_argument("--target")
    _add_image_size(p)
    p.add_argument(
        "--strategies",
        help="comma-separated, e.g. none,balanced,smote (default: all standard ones)",
    )
    p.add_argument("--cv", type=_at_least(2), default=5)
    p.add_argument("--repeats", type=_at_least(1), default=1)
    p.add_argument("--epochs", type=_at_least(1), default=100)
    p.add_argument(
        "--metric",
        default=None,
        choices=list(METRICS),
        help="ranking metric (default: balanced_accuracy; expected cost with --cost)",
    )
    p.add_argument(
        "--cost",
        action="append",
        metavar="CLASS=COST",
        help="cost of missing a row of CLASS (repeat for each class; unnamed classes cost 1): "
        "rank by expected cost and decide by least expected cost",
    )
    p.add_argument(
        "--no-refit",
        action="store_true",
        help="score the early-stopped model instead of retraining on the whole training fold",
    )
    p.add_argument(
        "--references",
        help="comma-separated classical pipelines scored on the same folds, never recommended: "
        "logistic, balanced_rf, smote_knn (default: all three on a table), or 'none'",
    )
    p.add_argument("--jobs", type=int, default=2, help="parallel folds (default 2)")
    _add_random_state(p)
    p.add_argument(
        "--results",
        help="JSON-lines results file; re-running resumes it (default: DATA-results.jsonl)",
    )
    p.add_argument(
        "--report", help="HTML report path, its JSON beside it (default: DATA-report.html)"
    )
    p.add_argument("--top", type=int, default=10, help="leaderboard rows to print")
    p.add_argument(
        "--save-model",
        metavar="FILE.keras",
        help="train the recommended strategy on all rows and save it (Keras model: raw "
        "features -> class probabilities)",
    )
    _add_force(p, "--results, --report and --save-model files")
    p.set_defaults(func=cmd_compare)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = args.func(args)
        sys.stdout.flush()  # a closed pipe fails here, inside the handler below
        return code
    except (UsageError, ValueError, TypeError) as exc:
        # UsageError and our validation errors are written for the user: one line, exit 2
        print(f"keras-imbalance {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # `keras-imbalance ... | head`: the reader left; no traceback, and no second error
        # when Python flushes stdout at exit
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return EXIT_BROKEN_PIPE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
