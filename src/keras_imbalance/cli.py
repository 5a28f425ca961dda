"""Command line: ``keras-imbalance inspect | weights | resample | compare`` (layer 4).

Parses arguments and calls the documented public API only. Nothing heavy is imported before a
command needs it: ``--help`` loads the standard library only (the names of strategies and
methods come from ``keras_imbalance._names``), ``inspect`` pandas (Pillow for an image folder,
matplotlib for ``--plot``), never scikit-learn, imbalanced-learn or Keras.

DATA is a CSV or Parquet table (raw: categorical columns and missing values are fine), a
bundled dataset name, or, for ``inspect``, ``weights`` and ``compare``, a folder with one
sub-folder of images per class (Keras' ``image_dataset_from_directory`` layout). Every command
reads it once into a ``Source`` (``keras_imbalance._cli._source``): a repeated column name is
an error, id columns are dropped with a warning, labels written several ways are an error.
A Parquet file or a directory of Parquet files is read out of core by ``inspect``,
``weights`` (the label column only) and ``resample`` (rows streamed, where the method allows):
``keras_imbalance._cli._parquet``.

Errors a user can fix (bad file, missing column, bad option, an output path that would
overwrite an input or a file keras-imbalance did not write, or that is not writable) print one
line and exit with 2, before any work starts. Warnings print as one plain line each.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from pathlib import Path

from keras_imbalance import _names
from keras_imbalance._cli._common import (
    MAX_SEED,
    UsageError,
    check,
    plain,
    random_state,
    warnings_as_lines,
)
from keras_imbalance._cli._compare import cmd_compare
from keras_imbalance._cli._inspect import cmd_inspect
from keras_imbalance._cli._pages import run_with_huge_pages
from keras_imbalance._cli._parquet import is_parquet, read_counts, resample_source
from keras_imbalance._cli._source import EXAMPLES_PER_CLASS, is_folder, read_source
from keras_imbalance._outputs import Output

__all__ = ["EXAMPLES_PER_CLASS", "UsageError", "build_parser", "main"]

EXIT_USAGE = 2
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a Unix tool killed by a closed pipe returns
METRICS = _names.METRICS
#: ``format`` of the document ``keras-imbalance weights --json`` prints.
WEIGHTS_FORMAT = "keras-imbalance-class-weight/1"


# --------------------------------------------------------------------------- weights


def cmd_weights(args) -> int:
    from keras_imbalance import class_weights, describe

    options = {}
    for item in args.option or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--option {item!r}: expected KEY=VALUE, e.g. beta=0.99")
        if key in options:
            raise UsageError(f"--option: {key!r} is given twice: give each option once")
        options[key] = _number(value)
    if is_parquet(args.data):  # the label column only, a row group at a time
        counted = read_counts(args.data, args)
        labels, name, target = counted.counts, counted.name, counted.target
        distinct = counted.distinct
    else:
        source = read_source(args.data, args, images="labels")
        labels = distinct = source.labels
        name, target = source.name, str(source.y.name)
    weights = class_weights(labels, args.strategy, normalize=args.normalize, **options)
    info = describe(distinct)
    names = {int(i): plain(c) for i, c in zip(info.class_ids, info.classes, strict=True)}
    if args.json:
        doc = {
            "format": WEIGHTS_FORMAT,
            "data": name,
            "target": target,
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
        print(f"# keys are class ids; the labels of column {target!r}: {mapping}")
    else:
        print(f"# keys are the labels of column {target!r}")
    print(
        "# load it with keras_imbalance.load_class_weight(path) (int keys: Keras ignores str keys)"
    )
    print("{" + ", ".join(f"{k}: {v!r}" for k, v in weights.items()) + "}")
    return 0


# --------------------------------------------------------------------------- resample


def cmd_resample(args) -> int:
    import pandas as pd

    seed = random_state(args)
    if is_parquet(args.data) and (code := resample_source(args, seed)) is not None:
        return code  # streamed out of core
    if Path(args.data).is_dir():
        raise UsageError(f"DATA {args.data!r} is a folder: resample writes tables (.csv, .parquet)")
    inputs = [args.data] if Path(args.data).exists() else []
    check([Output("-o", args.output, "table")], inputs, args.force)
    source = read_source(args.data, args)
    from keras_imbalance import resample

    # raw tables as they are: categorical columns and missing values are the library's to handle
    result = resample(source.x, source.y, method=args.method, random_state=seed)
    frame = result.x.copy()
    if source.ids is not None:
        frame = _with_ids(frame, source.ids, result.sample_indices)
    frame[source.y.name] = result.y.to_numpy()
    if source.columns:  # the file's column order
        frame = frame[[c for c in source.columns if c in frame.columns]]
    out = Path(args.output)
    if out.suffix.lower() == ".parquet":
        frame.to_parquet(out, index=False)
    else:
        frame.to_csv(out, index=False)
    before = source.y.value_counts().sort_index().to_dict()
    after = pd.Series(result.y).value_counts().sort_index().to_dict()
    for note in result.notes:
        print(f"note: {note}")
    print(
        f"{len(source.y)} -> {len(result.y)} rows; class counts {before} -> {after}; written to {out}"
    )
    return 0


def _with_ids(frame, ids, indices):
    """The id columns back: an output row that is the first copy of an input row
    keeps its id; a synthetic row or a second copy gets a missing id (never a duplicate)."""
    import numpy as np
    import pandas as pd

    rows = np.full(len(frame), -1) if indices is None else np.asarray(indices)
    first = np.zeros(len(rows), dtype=bool)
    if rows.size:
        _, at = np.unique(rows, return_index=True)
        first[at] = True
    first &= rows >= 0
    out = {}
    for column in ids.columns:
        values = pd.Series(pd.NA, index=range(len(frame)), dtype="object")
        values[first] = ids[column].to_numpy()[rows[first]]
        out[column] = values.convert_dtypes() if values.notna().any() else values
    return pd.concat([pd.DataFrame(out), frame.reset_index(drop=True)], axis=1)


# --------------------------------------------------------------------------- parser


def _number(text: str):
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def _whole(low: int, high: int | None = None, what: str = "a number"):
    """An argparse type: a whole number in [low, high]; argparse names the flag."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low or (high is not None and value > high):
            allowed = f">= {low}" if high is None else f"from {low} to {high}"
            raise argparse.ArgumentTypeError(f"expected {what} {allowed}, got {value}")
        return value

    parse.__name__ = f"int >= {low}"
    return parse


def _jobs(text: str) -> int:
    from keras_imbalance._cli._common import cpu_count

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"expected a number of folds trained at once from 1 to {cpu_count()} (the CPUs "
            f"here), got {value}"
        )
    return value


def _add_random_state(p) -> None:
    seed = _whole(0, MAX_SEED, "a seed")
    p.add_argument(
        "--random-state",
        type=seed,
        default=None,
        metavar="N",
        help=f"seed of the sampler and the splits, 0 to {MAX_SEED} (default 0)",
    )
    p.add_argument("--seed", type=seed, default=None, help=argparse.SUPPRESS)  # deprecated


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


def _add_table_options(p, *, images: bool = True, target_help: str | None = None) -> None:
    """The options of reading DATA: the label column, id columns, labels, image size."""
    p.add_argument(
        "--target",
        metavar="COLUMN",
        help=target_help or "the label column of a table (default for bundled data: target)",
    )
    p.add_argument(
        "--keep-id-columns",
        action="store_true",
        help="keep id columns (Unnamed: 0, rownames, id, *_id, distinct integers) as "
        "features; by default they are dropped with a warning",
    )
    p.add_argument(
        "--normalize-labels",
        action="store_true",
        help="merge labels that differ only by surrounding spaces, case or the writing of a "
        "number ('ok'/'ok ', 'Yes'/'yes', '01'/'1') into their most frequent spelling; by "
        "default they are an error",
    )
    if images:
        p.add_argument(
            "--image-size",
            type=_image_size,
            metavar="HxW",
            help="resize the images of an image folder to HEIGHTxWIDTH, e.g. 64x64 (needed "
            "when their sizes differ); checked against the free memory before reading",
        )


def _add_force(p, what: str) -> None:
    p.add_argument(
        "--force",
        action="store_true",
        help=f"overwrite {what} even if keras-imbalance did not write it",
    )


#: compare's whole-number options: (flag, lowest, highest, default, what it counts, help);
#: the highest keeps a run on a 2-core machine finite (every repeat x fold keeps its row
#: indices, and every epoch of every copy is trained)
COUNTS = (
    ("--cv", 2, None, None, "a number of folds",
     "stratified cross-validation folds (default 5, or 3 on a sampled search whose test folds "
     "keep 100 rows of every class; at most the rows of the largest class)"),
    ("--repeats", 1, 50, 1, "a number of repeats",
     "repeat the cross-validation with other splits (default 1, at most 50; more repeats give "
     "tighter intervals)"),
    ("--epochs", 1, 10_000, 100, "a number of epochs",
     "most training epochs per model (default 100, at most 10000; early stopping usually "
     "ends sooner)"),
    ("--top", 1, None, 10, "a number of rows", "leaderboard rows to print (default 10)"),
)  # fmt: skip
DATA_HELP = (
    "CSV or Parquet file, a directory of Parquet files (only the label column is read), a "
    "bundled dataset name (yeast4, ecoli3, digits_lt), or a folder with one sub-folder of "
    "images per class"
)


def build_parser() -> argparse.ArgumentParser:
    from keras_imbalance import __version__

    parser = argparse.ArgumentParser(
        prog="keras-imbalance",
        description="Make Keras classifiers work on class-imbalanced data.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"keras-imbalance {__version__}",
        help="print the version of keras-imbalance and exit",
    )
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", help="what to do (each has --help)"
    )

    p = sub.add_parser(
        "inspect",
        help="class counts, imbalance ratio, the weights of every strategy, and the column "
        "roles of a table",
    )
    p.add_argument("data", help=DATA_HELP)
    _add_table_options(
        p,
        target_help="the label column (default for bundled data: target); A,B,C: 0/1 columns "
        "of a multi-label target (MeanIR and SCUMBLE before and after MLSMOTE / ML-ROS / ML-RUS)",
    )
    p.add_argument(
        "--plot",
        metavar="FILE.png",
        help="write a bar chart of the class counts (a table) or a grid of example images per "
        "class (an image folder)",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _add_force(p, "--plot's file")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser(
        "weights",
        help="print a class_weight dict with int keys, ready to paste into model.fit",
    )
    p.add_argument("data", help=DATA_HELP)
    _add_table_options(p, images=False)
    p.add_argument(
        "--strategy",
        default="balanced",
        choices=list(_names.WEIGHT_STRATEGIES),
        help="how the weights follow the class counts (default: balanced, n / (k * count))",
    )
    p.add_argument(
        "--normalize",
        choices=["mean", "max", "none"],
        help="rescale the weights: mean over samples 1, largest weight 1, or none (default: "
        "the strategy's own)",
    )
    p.add_argument(
        "--option",
        action="append",
        metavar="KEY=VALUE",
        help="strategy option, e.g. beta=0.99 for effective_number (repeat for several)",
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
    p.add_argument(
        "data",
        help="CSV or Parquet file, a directory of Parquet files (streamed into a .parquet "
        "OUTPUT: random_over, random_under, and the SMOTE family on numeric columns), or a "
        "bundled dataset name",
    )
    _add_table_options(p, images=False)
    p.add_argument(
        "--method",
        default="smote",
        choices=list(_names.RESAMPLING_METHODS),
        help="resampling method (default: smote)",
    )
    p.add_argument(
        "-o", "--output", required=True, metavar="FILE", help="output .csv or .parquet file"
    )
    _add_force(p, "OUTPUT")
    _add_random_state(p)
    p.set_defaults(func=cmd_resample)

    p = sub.add_parser(
        "compare", help="rank imbalance strategies on DATA by cross-validation; HTML report"
    )
    p.add_argument(
        "data",
        help="CSV, Parquet, bundled dataset (default: yeast4), or a folder with one sub-folder of "
        "images per class (compared with a small CNN)",
        nargs="?",
    )
    _add_table_options(p)
    p.add_argument(
        "--strategies",
        metavar="A,B,...",
        help=f"comma-separated, e.g. none,balanced,smote (default: the standard ones); known: "
        f"{', '.join(_names.STRATEGIES)}",
    )
    for flag, low, high, default, what, text in COUNTS:
        p.add_argument(flag, type=_whole(low, high, what), default=default, metavar="N", help=text)
    p.add_argument(
        "--metric",
        default=None,
        choices=list(_names.METRICS),
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
    p.add_argument(
        "--variants",
        metavar="best|average",
        help="train the default table models' measured hyperparameter variants "
        "(comparison.DEFAULT_VARIANTS: learning rates, weight decays) as more copies of the "
        "same packed fit; each strategy keeps the variant its validation rows prefer (best) "
        "or averages them all (average). Off by default: about twice the time",
    )
    p.add_argument(
        "--jobs",
        type=_jobs,
        default=None,
        metavar="N",
        help="folds trained at once (default 1 on the jax backend, 2 on others; at most the number of CPUs, and what the free "
        "memory holds)",
    )
    p.add_argument(
        "--subsample",
        default="auto",
        metavar="N|auto|none",
        help="search on a sample of large classes: at most N rows per class (auto: 50 x the "
        "smallest class and at least 20000, so smaller tables keep every row; none: every row); "
        "--save-model still trains on every row",
    )
    p.add_argument(
        "--budget",
        metavar="TIME",
        help="fit the comparison into TIME (e.g. 90s, 10m, 1h30m): cuts repeats, folds, "
        "sampled rows and epochs, as far as needed, and says what it cut",
    )
    _add_random_state(p)
    p.add_argument(
        "--results",
        metavar="FILE.jsonl",
        help="JSON-lines results file; re-running resumes it (default: DATA-results.jsonl)",
    )
    p.add_argument(
        "--report",
        metavar="FILE.html",
        help="HTML report path, its JSON beside it (default: DATA-report.html)",
    )
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
    # compare's compiled fold runs on jax (installed with the package); torch where it is not
    os.environ.setdefault("KERAS_BACKEND", "jax" if importlib.util.find_spec("jax") else "torch")
    parser = build_parser()
    args = parser.parse_args(argv)
    if argv is None and args.command == "compare" and is_folder(args.data):
        # a folder of images (a convolutional model): run again where huge pages pay
        run_with_huge_pages()
    try:
        with warnings_as_lines(args.command):
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
