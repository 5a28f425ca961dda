"""Command line: ``keras-imbalance inspect | weights | resample | compare`` (layer 4).

Parses arguments and calls the documented public API only.

Errors a user can fix (bad file, missing column, bad option) print one line and exit with 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

EXIT_USAGE = 2


class UsageError(Exception):
    """A problem with the user's input: reported on one line, exit code 2."""


def _read_table(data: str, target: str | None):
    """(features DataFrame, target Series, source name) from a CSV, Parquet or bundled name."""
    import pandas as pd

    from keras_imbalance import datasets

    path = Path(data)
    if not path.exists():
        if data in datasets.list_datasets():
            frame = datasets.load_dataset(data, as_frame=True)
            target = target or "target"
        else:
            raise UsageError(
                f"DATA {data!r} is neither a file nor a bundled dataset "
                f"({', '.join(datasets.list_datasets())})"
            )
    else:
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
    if y.isna().any():
        raise UsageError(f"--target column {target!r} has {int(y.isna().sum())} missing labels")
    if y.nunique() < 2:
        raise UsageError(
            f"--target column {target!r} has a single class ({y.iloc[0]!r}): nothing to balance"
        )
    return frame.drop(columns=[target]), y, (path.name if path.exists() else data)


def _labels(y):
    values = y.to_numpy()
    return values.astype(str) if values.dtype == object else values


def cmd_inspect(args) -> int:
    from keras_imbalance import class_weights, describe
    from keras_imbalance.weights import STRATEGIES

    if args.target and "," in args.target:  # several 0/1 columns: a multi-label target
        return _inspect_multilabel(args)
    x, y, source = _read_table(args.data, args.target)
    info = describe(_labels(y))
    if info.n_classes < 2:
        raise UsageError(
            f"--target {y.name!r} has a single class ({info.classes[0]!r}): nothing to balance"
        )
    counts = info.counts_dict()
    weights = {s: class_weights(_labels(y), s) for s in STRATEGIES}
    report = {
        "data": source,
        "target": str(y.name),
        "n_samples": int(info.n_samples),
        "n_features": int(x.shape[1]),
        "layout": info.layout,
        "counts": {str(k): v for k, v in counts.items()},
        "imbalance_ratio": round(info.imbalance_ratio, 3),
        "class_weights": {
            s: {
                str(c): round(w[i], 6)
                for c, i in zip(info.classes.tolist(), info.class_ids.tolist(), strict=True)
            }
            for s, w in weights.items()
        },
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_inspect(report)
    if args.plot:
        _bar_chart(
            counts, args.plot, f"{source}: {y.name} (imbalance ratio {info.imbalance_ratio:.1f})"
        )
        print(f"bar chart written to {args.plot}")
    return 0


def _print_inspect(report: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(
        f"[bold]{report['data']}[/]: {report['n_samples']} samples, {report['n_features']} features, "
        f"target [bold]{report['target']}[/] ({report['layout']}), imbalance ratio "
        f"[bold]{report['imbalance_ratio']}[/]"
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

    fig, ax = plt.subplots(figsize=(max(4, 0.6 * len(counts) + 2), 3.2))
    ax.bar([str(k) for k in counts], list(counts.values()), color="#4C72B0")
    ax.set_xlabel("class")
    ax.set_ylabel("samples")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _inspect_multilabel(args) -> int:
    """``inspect --target a,b,c``: label counts, MeanIR and SCUMBLE before and after resampling."""
    import pandas as pd

    from keras_imbalance.resampling import MULTILABEL_METHODS, resampled_label_stats

    columns = [c.strip() for c in args.target.split(",") if c.strip()]
    x, first, source = _read_table(args.data, columns[0])
    missing = [c for c in columns[1:] if c not in x.columns]
    if missing:
        raise UsageError(f"--target columns {missing} are not columns of {args.data!r}")
    y = pd.concat([first, x[columns[1:]]], axis=1)
    x = x.drop(columns=columns[1:])
    if not y.isin([0, 1]).all().all():
        raise UsageError(f"--target columns {columns} must hold 0/1 labels (one column per label)")
    numeric = x.select_dtypes(include=["number", "bool"]).shape[1] == x.shape[1]
    methods = [m for m in MULTILABEL_METHODS if numeric or m != "mlsmote"]  # MLSMOTE interpolates
    try:
        stats = resampled_label_stats(x, y.to_numpy(), methods=methods, random_state=0)
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
        print(f"bar chart written to {args.plot}")
    return 0


def cmd_weights(args) -> int:
    from keras_imbalance import class_weights

    _, y, _ = _read_table(args.data, args.target)
    options = {}
    for item in args.option or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--option {item!r}: expected KEY=VALUE")
        options[key] = _number(value)
    weights = class_weights(_labels(y), args.strategy, normalize=args.normalize, **options)
    print(json.dumps(weights, indent=2 if args.indent else None))
    return 0


def cmd_resample(args) -> int:
    import pandas as pd

    from keras_imbalance import resample

    x, y, _ = _read_table(args.data, args.target)
    out = Path(args.output)
    if Path(args.data).exists() and out.resolve() == Path(args.data).resolve():
        raise UsageError(f"-o {args.output!r} is the input file: resample never overwrites DATA")
    if out.exists() and not args.force:
        raise UsageError(f"-o {args.output!r} exists: pass --force to overwrite it")
    if out.suffix.lower() not in (".csv", ".parquet"):
        raise UsageError(f"-o {args.output!r}: expected a .csv or .parquet file name")
    params = {}
    non_numeric = [c for c in x.columns if not pd.api.types.is_numeric_dtype(x[c])]
    if args.method == "smotenc":
        if not non_numeric:
            raise UsageError(
                "--method smotenc needs categorical (non-numeric) feature columns; none found"
            )
        params["categorical_features"] = [x.columns.get_loc(c) for c in non_numeric]
    elif non_numeric:
        raise UsageError(
            f"non-numeric feature columns {non_numeric[:10]}: encode them, or use --method smotenc"
        )
    xr, yr = resample(x, y, method=args.method, random_state=args.seed, **params)
    frame = xr.copy()
    frame[y.name] = yr.to_numpy()
    if out.suffix.lower() == ".parquet":
        frame.to_parquet(out, index=False)
    else:
        frame.to_csv(out, index=False)
    before = y.value_counts().sort_index().to_dict()
    after = pd.Series(yr).value_counts().sort_index().to_dict()
    print(f"{len(y)} -> {len(yr)} rows; class counts {before} -> {after}; written to {out}")
    return 0


def _numeric_features(x, command: str):
    import pandas as pd

    non_numeric = [c for c in x.columns if not pd.api.types.is_numeric_dtype(x[c])]
    if non_numeric:
        raise UsageError(
            f"non-numeric feature columns {non_numeric[:10]}: {command} needs numbers (encode them first)"
        )
    if x.isna().any().any():
        bad = [c for c in x.columns if x[c].isna().any()]
        raise UsageError(f"missing values in feature columns {bad[:10]}: impute them first")
    return x.to_numpy(dtype="float32")


def cmd_compare(args) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from keras_imbalance import compare
    from keras_imbalance.targets import describe

    data = args.data or "yeast4"
    x, y, source = _read_table(data, args.target)
    features = _numeric_features(x, "compare")
    info = describe(_labels(y))
    labels = _labels(y)
    stem = Path(source).stem
    results = args.results or f"{stem}-results.jsonl"
    report = args.report or f"{stem}-report.html"
    if args.save_model is not None:
        if not args.save_model.endswith(".keras"):
            raise UsageError(f"--save-model {args.save_model!r}: the file name must end in .keras")
        if Path(args.save_model).exists() and not args.force:
            raise UsageError(
                f"--save-model {args.save_model!r} exists: pass --force to overwrite it"
            )
    strategies = (
        None
        if args.strategies is None
        else [s.strip() for s in args.strategies.split(",") if s.strip()]
    )
    console = Console(stderr=True)
    console.print(
        f"[bold]{source}[/]: {info.n_samples} samples, {features.shape[1]} features, "
        f"classes {info.counts_dict()} (imbalance ratio {info.imbalance_ratio:.1f}); "
        f"results -> {results}"
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
                cv=args.cv,
                repeats=args.repeats,
                metric=args.metric,
                epochs=args.epochs,
                refit=not args.no_refit,
                n_jobs=args.jobs,
                results_path=results,
                random_state=args.seed,
                progress=progress,
            )
        except KeyboardInterrupt:
            console.print(
                f"interrupted: finished folds are kept in {results}; run the same command again to resume"
            )
            return 130
    _print_leaderboard(result, console, args.top)
    result.to_html(report)
    console.print(f"report written to {report}")
    print(result.recommendation["text"])
    if args.save_model is not None:
        rec = result.recommendation
        console.print(
            f"training {rec['winner_model']}:{rec['winner_strategy']} on all {info.n_samples} rows"
        )
        model = result.fit_recommended(features, labels)
        model.save(args.save_model)
        classes = ", ".join(result.classes)
        console.print(
            f"model written to {args.save_model}: raw features -> probabilities of [{classes}]"
        )
    return 0


def _print_leaderboard(result, console, top: int) -> None:
    """The ``top`` rows, plus the recommended one (in bold green) when it ranks lower."""
    from rich.table import Table

    full = result.leaderboard
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
        table.add_row(
            str(row["rank"]),
            str(row["model"]),
            str(row["strategy"]) + (" (recommended)" if winner else ""),
            f"{row['mean']:.3f}",
            f"{row['ci_low']:.3f} - {row['ci_high']:.3f}",
            f"{row['geometric_mean']:.3f}",
            f"{row['matthews_correlation']:.3f}",
            style="bold green" if winner else None,
        )
    console.print(table)


def _number(text: str):
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def build_parser() -> argparse.ArgumentParser:
    from keras_imbalance.resampling import METHODS
    from keras_imbalance.weights import STRATEGIES

    parser = argparse.ArgumentParser(
        prog="keras-imbalance",
        description="Make Keras classifiers work on class-imbalanced data.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "inspect", help="class counts, imbalance ratio and the weights of every strategy"
    )
    p.add_argument(
        "data", help="CSV or Parquet file, or a bundled dataset name (yeast4, ecoli3, digits_lt)"
    )
    p.add_argument(
        "--target",
        help="label column (default for bundled data: target); a,b,c: 0/1 columns of a "
        "multi-label target (MeanIR and SCUMBLE before and after MLSMOTE / ML-ROS / ML-RUS)",
    )
    p.add_argument("--plot", metavar="PNG", help="write a bar chart of the class counts")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("weights", help="print a class_weight dict, ready to paste into model.fit")
    p.add_argument("data")
    p.add_argument("--target")
    p.add_argument(
        "--strategy",
        default="balanced",
        choices=list(STRATEGIES),
    )
    p.add_argument("--normalize", choices=["mean", "max", "none"])
    p.add_argument(
        "--option", action="append", metavar="KEY=VALUE", help="strategy option, e.g. beta=0.99"
    )
    p.add_argument("--indent", action="store_true")
    p.set_defaults(func=cmd_weights)

    p = sub.add_parser("resample", help="write a resampled copy of DATA (never overwrites DATA)")
    p.add_argument("data")
    p.add_argument("--target")
    p.add_argument(
        "--method",
        default="smote",
        choices=list(METHODS),
    )
    p.add_argument("-o", "--output", required=True, help="output .csv or .parquet")
    p.add_argument("--force", action="store_true", help="overwrite OUTPUT if it exists")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_resample)

    p = sub.add_parser(
        "compare", help="rank imbalance strategies on DATA by cross-validation; HTML report"
    )
    p.add_argument("data", nargs="?", help="CSV, Parquet or bundled dataset (default: yeast4)")
    p.add_argument("--target")
    p.add_argument(
        "--strategies",
        help="comma-separated, e.g. none,balanced,smote (default: all standard ones)",
    )
    p.add_argument("--cv", type=int, default=5)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument(
        "--metric",
        default="balanced_accuracy",
        choices=[
            "balanced_accuracy",
            "geometric_mean",
            "macro_f1",
            "matthews_correlation",
            "pr_auc",
        ],
    )
    p.add_argument(
        "--no-refit",
        action="store_true",
        help="score the early-stopped model instead of retraining on the whole training fold",
    )
    p.add_argument("--jobs", type=int, default=2, help="parallel folds (default 2)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--results",
        help="JSON-lines results file; re-running resumes it (default: DATA-results.jsonl)",
    )
    p.add_argument("--report", help="HTML report path (default: DATA-report.html)")
    p.add_argument("--top", type=int, default=10, help="leaderboard rows to print")
    p.add_argument(
        "--save-model",
        metavar="FILE.keras",
        help="train the recommended strategy on all rows and save it (Keras model: raw "
        "features -> class probabilities)",
    )
    p.add_argument("--force", action="store_true", help="overwrite --save-model's file")
    p.set_defaults(func=cmd_compare)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"keras-imbalance {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (ValueError, TypeError) as exc:
        # our validation errors are written for the user: one line, exit 2
        print(f"keras-imbalance {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
