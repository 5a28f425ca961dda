"""``keras-imbalance compare``: every check first, then the comparison, the leaderboard and
the report."""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

from keras_imbalance import _names
from keras_imbalance._cli._common import (
    UsageError,
    check,
    console,
    cpu_count,
    plain,
    random_state,
)
from keras_imbalance._cli._progress import Progress
from keras_imbalance._cli._source import Source, flags_for, is_folder, outside, read_source
from keras_imbalance._outputs import Output

DEFAULT_JOBS = {"jax": 1, "torch": 2}  # jax: the compiled fold in this process is faster than
# two workers that each import Keras and trace its programs again (docs/benchmarks.md)
WORKER_BYTES = 600e6
WORKER_IDLE_SECONDS = 10  # a worker process with nothing to do exits after this  # a worker process with Keras and torch loaded, before any data


def cmd_compare(args) -> int:
    seed = random_state(args)
    data = args.data or "yeast4"
    folder = is_folder(data)
    flags_for(args, folder=folder, data=data)
    strategies = strategy_names(args.strategies)
    subsample = parse_subsample(args.subsample)
    budget = parse_time(args.budget)
    costs = parse_costs(args.cost)
    jobs = cap_jobs(args.jobs)
    variants = parse_variants(args.variants, folder)
    if folder:  # the outputs are checked before the images are read: that may take a while
        stem = Path(data).resolve().name or "images"
    else:
        source = read_source(data, args)
        stem = Path(source.name).stem
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
        outside(data, outputs)
    existing = check(outputs, [] if folder else source.inputs, args.force)
    if folder:
        source = read_source(data, args)
    features, model_fn = _features(source, args.save_model)
    if variants is not None:  # the default table models with their measured variants
        from keras_imbalance.comparison import DEFAULT_MODELS, with_variants

        model_fn = {n: with_variants(b, choose=variants) for n, b in DEFAULT_MODELS.items()}
    jobs = fit_memory(jobs, features)
    labels = source.labels
    check_folds(source, args.cv)
    if costs is not None:
        names = {str(plain(label)) for label in set(labels.tolist())}
        unknown = [c for c in costs if c not in names]
        if unknown:
            raise UsageError(f"--cost: no class {unknown} in the data (classes {sorted(names)})")
    options = {  # compare()'s arguments
        "strategies": strategies,
        "model_fn": model_fn,
        "cv": args.cv,
        "repeats": args.repeats,
        "metric": args.metric,
        "costs": costs,
        "epochs": args.epochs,
        "refit": not args.no_refit,
        "n_jobs": jobs,
        "results_path": results,
        "random_state": seed,
        "references": _references(args.references),
        "subsample": subsample,
        "time_budget": budget,
    }
    return _run(args, source, features, labels, options, report, existing)


def parse_subsample(text: str):
    """``--subsample``: 'auto', 'none' (None) or a whole number >= 2."""
    word = text.strip().lower()
    if word in ("auto", "none"):
        return None if word == "none" else "auto"
    try:
        value = int(word)
    except ValueError:
        value = 0
    if value < 2:
        raise UsageError(
            f"--subsample {text!r}: expected auto, none or a whole number of rows per class >= 2"
        )
    return value


def parse_time(text: str | None):
    """``--budget``: seconds (checked by the comparison's own parser), None without it."""
    if text is None:
        return None
    from keras_imbalance.comparison._budget import BUDGET_FORMS, parse_budget

    try:
        return parse_budget(text)
    except (TypeError, ValueError):
        raise UsageError(f"--budget {text!r}: expected {BUDGET_FORMS}") from None


def _references(text: str | None):
    """The --references list (None: the defaults; 'none': no reference rows)."""
    if text is None:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise UsageError(
            "--references: expected comma-separated names (logistic, balanced_rf, smote_knn) "
            f"or 'none', got {text!r}"
        )
    return [n for n in names if n != "none"]


def parse_variants(text: str | None, folder: bool):
    """``--variants best|average``: how each strategy uses the default table models'
    measured hyperparameter variants (``with_variants(builder, choose=...)``); None
    without the flag."""
    if text is None:
        return None
    from keras_imbalance.comparison import DEFAULT_MODELS
    from keras_imbalance.comparison._models import CHOOSE

    word = text.strip().lower()
    if word not in CHOOSE:
        raise UsageError(f"--variants: expected one of {', '.join(CHOOSE)}, got {text!r}")
    if folder:
        raise UsageError(
            "--variants: measured variants exist for the default table models "
            f"({', '.join(DEFAULT_MODELS)}), not for the image CNN"
        )
    return word


def _features(source: Source, save_model):
    """(features, model_fn) of a Source: images go to the default CNN; a numeric table as
    float32; a raw one (categorical columns, missing values) as it is. ``--save-model`` writes
    one Keras model of raw numbers, so it needs a numeric table without gaps."""
    import pandas as pd

    from keras_imbalance._cli._inspect import column_roles

    if source.is_folder:
        from keras_imbalance.comparison import cnn_model

        _check_testable(source.y.value_counts(), "the image folder")
        return source.x, {"cnn": cnn_model}
    _check_testable(source.y.value_counts(), f"--target {str(source.y.name)!r}")
    x = source.x
    roles, missing = column_roles(x)
    if not (roles["categorical"] or roles["dropped"] or missing):
        return x.to_numpy(dtype="float32"), None
    if save_model is not None:
        raise UsageError(
            f"--save-model {save_model!r}: a raw table (categorical columns, missing values or "
            "dropped columns) has no single Keras model of raw numbers; in Python, "
            "result.fit_recommended(x, y) returns a TablePipeline with .save(folder)"
        )
    return (x if isinstance(x, pd.DataFrame) else pd.DataFrame(x)), None


def _check_testable(counts, what: str) -> None:
    """A class is tested only if it also has a row to train on: 2 classes need 2 rows."""
    if (counts >= 2).sum() < 2:
        raise UsageError(
            f"{what}: at least 2 classes need 2 rows or more to be tested "
            f"(counts {dict((str(plain(k)), int(v)) for k, v in counts.items())})"
        )


def check_folds(source: Source, cv: int | None) -> None:
    """Stratified folds: no more folds than the largest class has rows (None: the default 5
    or fewer)."""
    cv = 5 if cv is None else cv
    counts = source.y.value_counts()
    largest, smallest = int(counts.max()), int(counts.min())
    if cv > largest:
        raise UsageError(
            f"--cv {cv}: at most {largest} folds here (the rows of the largest class; with more "
            f"than {smallest} folds, the rows of the smallest class, some folds test none of "
            "it); 5 or 10 are usual"
        )


def cap_jobs(jobs: int | None) -> int:
    """``--jobs`` at most the CPUs of this machine (more only share them, and each worker holds
    a copy of the data and of Keras)."""
    cpus = cpu_count()
    if jobs is None:  # the default: 1 on jax, else 2 (1 on a machine with one CPU)
        return min(DEFAULT_JOBS.get(os.environ.get("KERAS_BACKEND", ""), 2), cpus)
    if jobs > cpus:
        print(
            f"keras-imbalance compare: --jobs {jobs} is more than the {cpus} CPUs here: "
            f"running {cpus} folds at a time",
            file=sys.stderr,
        )
        return cpus
    return jobs


def fit_memory(jobs: int, features) -> int:
    """``--jobs`` at most what the free memory holds: each worker process holds Keras and its
    backend (about :data:`WORKER_BYTES`) and a copy of the data, twice (a fold's rows)."""
    from keras_imbalance.datasets._images import available_memory, format_bytes

    free = available_memory()
    nbytes = getattr(features, "nbytes", None)
    if nbytes is None:  # a DataFrame
        nbytes = int(features.memory_usage(deep=True).sum())
    each = WORKER_BYTES + 2 * nbytes
    fits = max(1, int(free // each)) if free else jobs
    if jobs > fits:
        print(
            f"keras-imbalance compare: --jobs {jobs} workers would need about "
            f"{format_bytes(jobs * each)} and {format_bytes(free)} is free: running {fits} at a time",
            file=sys.stderr,
        )
        return fits
    return jobs


def strategy_names(text: str | None) -> list[str] | None:
    """The --strategies list, checked against the comparison's names before any work."""
    if text is None:
        return None
    names = [s.strip() for s in text.split(",") if s.strip()]
    if not names:
        raise UsageError(
            f"--strategies {text!r}: no strategy named; give a comma-separated list such as "
            "none,balanced,smote (or leave the flag out for the standard ones)"
        )
    unknown = [n for n in names if _names.strategy_key(n) not in _names.STRATEGIES]
    if unknown:
        raise UsageError(
            f"--strategies: unknown {', '.join(repr(n) for n in unknown)}; known: "
            f"{', '.join(_names.STRATEGIES)}"
        )
    return names


def parse_costs(items):
    """``{class: cost}`` of ``--cost CLASS=COST`` flags (None without any); a class named twice
    is an error (which cost was meant?)."""
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
        if name in out:
            raise UsageError(
                f"--cost: class {name!r} is given twice ({name}={out[name]:g} and {item}): "
                "give each class one cost"
            )
        out[name] = cost
    return out


def _run(args, source, features, labels, options: dict, report: str, existing) -> int:
    from keras_imbalance import compare, describe
    from keras_imbalance._outputs import written_by_us
    from keras_imbalance.comparison import DEFAULT_MODELS
    from keras_imbalance.report import write_report

    for out in existing:  # --force on a results file keras-imbalance did not write: start anew
        if out.kind == "results" and not written_by_us(Path(out.path), "results"):
            os.remove(out.path)
    model_fn, results = options["model_fn"], options["results_path"]
    info = describe(labels)
    err = console(stderr=True)
    what = (
        f"{info.n_samples} images of {' x '.join(str(d) for d in features.shape[1:])}"
        if source.is_folder
        else f"{info.n_samples} samples, {features.shape[1]} features"
    )
    err.print(
        f"{source.name}: {what}, classes {info.counts_dict()} (imbalance ratio "
        f"{info.imbalance_ratio:.1f}); results -> {results}",
        markup=False,
    )
    folds = len(model_fn or DEFAULT_MODELS) * (args.cv or 5) * args.repeats  # till planned
    bar = Progress(err, jobs=options["n_jobs"], terminal=err.is_terminal, folds=folds)
    from joblib import parallel_config

    # a worker that runs a fold exits with the command (comparison's parent watch); one that
    # never got a fold exits after WORKER_IDLE_SECONDS idle instead of loky's 300 s, so no
    # worker outlives a killed command for long
    with bar, parallel_config(backend="loky", idle_worker_timeout=WORKER_IDLE_SECONDS):
        try:
            result = compare(features, labels, progress=bar, **options)
        except KeyboardInterrupt:
            err.print(
                f"interrupted: finished folds are kept in {results}; run the same command "
                "again to resume",
                markup=False,
            )
            return 130
    print_leaderboard(result, err, args.top)
    write_report(result, report, examples=source.examples)
    err.print(f"report written to {report}", markup=False)
    # the comparison words its hint for Python callers; the flag here is --repeats
    print(_for_the_command_line(result.recommendation["text"]))
    if args.save_model is not None:
        rec = result.recommendation
        err.print(
            f"training {rec['winner_model']}:{rec['winner_strategy']} on all {info.n_samples} rows",
            markup=False,
        )
        model = result.fit_recommended(features, labels, model_fn=model_fn)
        model.save(args.save_model)
        inputs_are = "images (pixel values in [0, 1])" if source.is_folder else "raw features"
        err.print(
            f"model written to {args.save_model}: {inputs_are} -> probabilities of "
            f"[{', '.join(map(str, result.classes))}]",
            markup=False,
        )
    return 0


def print_leaderboard(result, out, top: int) -> None:
    """The ``top`` rows, plus the recommended one (in bold green) when it ranks lower; the
    strategies a row also answers for, a dagger on intervals that rest on fewer than 5 test
    rows of a class, and the skipped strategies with their reasons."""
    from rich.table import Table
    from rich.text import Text

    full = result.leaderboard
    full = full[full["rank"] > 0]
    rec = result.recommendation
    is_winner = (full["model"] == rec.get("winner_model")) & (
        full["strategy"] == rec.get("winner_strategy")
    )
    board = full[(full["rank"] <= top) | is_winner]
    metric = result.config.get("metric", "score") if isinstance(result.config, dict) else "score"
    table = Table(title=f"leaderboard: {metric} (mean over folds, 95 % interval)")
    # --variants: which hyperparameter variant decided (or "average"), where any row has one
    tuned = "variant" in board and bool(board["variant"].fillna("").astype(bool).any())
    columns = ("rank", "model", "strategy", "mean", "95 % interval", "g-mean", "MCC")
    for name in (*columns, "variant") if tuned else columns:
        left = name in ("model", "strategy", "variant")
        table.add_column(name, justify="left" if left else "right", overflow="fold")
    for index, row in board.iterrows():
        winner = bool(is_winner[index])
        name = str(row["strategy"])
        if row.get("aliases"):
            name += f" (= {row['aliases']})"
        cells = [
            str(row["rank"]),
            Text(str(row["model"])),
            Text(name + (" (recommended)" if winner else "")),
            f"{row['mean']:.3f}",
            f"{row['ci_low']:.3f} - {row['ci_high']:.3f}" + (" †" if row.get("thin") else ""),
            f"{row['geometric_mean']:.3f}",
            f"{row['matthews_correlation']:.3f}",
        ]
        if tuned:
            cells.append(Text(str(row.get("variant") or "")))
        table.add_row(*cells, style="bold green" if winner else None)
    out.print(table)
    if len(board) and board["thin"].fillna(False).astype(bool).any():
        evidence = rec.get("evidence") or {}
        few = [
            f"{c} ({'never tested' if n == 0 else f'{n:g} test rows'})"
            for c, n in zip(result.classes, evidence.get("test_rows_per_class", []), strict=False)
            if n < evidence.get("thin_below", 5)
        ]
        out.print(
            f"† the interval rests on fewer than {evidence.get('thin_below', 5)} test rows per "
            f"repeat of class {', '.join(few)}",
            markup=False,
        )
    for name, reason in result.skipped.items():
        out.print(f"skipped {name}: {reason}", markup=False)
    tops = rec.get("by_metric") or {}
    if tops:
        out.print(
            "top row by metric: "
            + "; ".join(
                f"{m} {t['model']}:{t['strategy']} {t['mean']:.3f}" for m, t in tops.items()
            ),
            markup=False,
        )


def _for_the_command_line(text: str) -> str:
    """The recommendation's Python hints (``repeats=3``, ``cv=5``) as this CLI's flags."""
    import re

    text = text.replace("(repeats=...)", "(--repeats N)")
    return re.sub(r"\b(repeats|cv)=(\d+)", lambda m: f"--{m.group(1)} {m.group(2)}", text)
