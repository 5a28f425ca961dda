"""The one runner of a comparison: a :class:`~._plan.Plan`'s missing (model, repeat, fold)
tasks, in parallel with joblib, every row appended to the results file as it arrives.

Per task one packed fit trains every strategy (:func:`~._fold.fit_fold`) and the kind's
:class:`~._kind.FoldTarget` scores each on the test fold; the ensemble rows are built from
their members' rows (also from a resumed file).
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from keras_imbalance.comparison import _data, _ensemble, _references, _stats, _verdict
from keras_imbalance.comparison._comparison import ComparisonResult
from keras_imbalance.comparison._fold import fit_fold, predict_logits, variant_text
from keras_imbalance.comparison._results import ResultsFile, folds_frame, row_key
from keras_imbalance.comparison._scoring import reweigh
from keras_imbalance.comparison._settings import METRICS
from keras_imbalance.comparison._strategies import Strategy


@dataclass
class Task:
    """One model on one fold: the strategies still missing from the results."""

    model_name: str
    model_fn: Any
    strategies: list
    repeat: int
    fold: int
    seed: int
    train_idx: np.ndarray
    test_idx: np.ndarray


class _Threads:
    """Pin BLAS/OpenMP and torch to one thread inside a worker; restore afterwards."""

    def __enter__(self):
        from threadpoolctl import threadpool_limits

        self._limits = threadpool_limits(1)
        self._torch = None
        import keras

        if keras.backend.backend() == "torch":
            import torch

            self._torch = torch.get_num_threads()
            torch.set_num_threads(1)
        return self

    def __exit__(self, *exc):
        if self._torch is not None:
            import torch

            torch.set_num_threads(self._torch)
        self._limits.restore_original_limits()
        return False


_WATCHED = False


def _end_with_parent() -> None:
    """Exit this process as soon as its parent is gone: a joblib worker of a killed
    ``compare`` must not go on training for minutes (its parent changes when it is
    re-parented). Started once per worker process, never in the calling process."""
    global _WATCHED
    if _WATCHED:
        return
    _WATCHED = True
    parent = os.getppid()

    def watch():
        import time

        while os.getppid() == parent:
            time.sleep(0.25)
        os._exit(1)

    threading.Thread(target=watch, name="keras-imbalance-parent-watch", daemon=True).start()


def run_task(
    task: Task, x, labels, settings, backend: str, caller: int = -1, spec=None, target=None
) -> list:
    """Train and score one :class:`Task`; one result row per (recipe, decision rule).
    ``caller`` is the process id of ``compare``'s process (a worker watches its parent);
    ``target``: the kind's :class:`~._kind.FoldTarget`, which scores the test rows."""
    if os.getpid() != caller:
        _end_with_parent()
    if "keras" not in sys.modules:
        os.environ.setdefault("KERAS_BACKEND", backend)
    from keras_imbalance.comparison import _compiled

    if _compiled.enabled():
        # the persistent compilation cache from the first JAX operation on: building the
        # models runs dozens of small eager programs (initializers), compiled anew by each
        # process otherwise (0.7 CPU s of the README job)
        _compiled.enable_cache()
    with _Threads():
        fitted = fit_fold(
            task.model_fn,
            task.strategies,
            x,
            labels,
            task.train_idx,
            settings,
            task.seed,
            target.k,
            spec,
            target,
        )
        return fold_rows(task, fitted, x, labels, settings, target)


def fold_rows(task, fitted, x, labels, settings, target) -> list:
    """One result row per (recipe, rule) of a fitted fold: the bookkeeping shared by every
    kind, and the scores of its test rows (``target.scores``)."""
    y_test = labels[task.test_idx]
    x_test = _data.take(x, task.test_idx)
    share = fitted.seconds / max(1, len(fitted.deciders))
    rows = []
    for (i, rule), decider in fitted.deciders.items():
        names = fitted.recipes[i].names.get(rule, [])
        if not names:
            continue  # a rule trained only to serve another (e.g. argmax of a tuned recipe)
        logits = predict_logits(fitted, (i, rule), x_test)
        threshold = decider.threshold
        row = {
            "type": "fold",
            "key": row_key(task.model_name, names[0], task.repeat, task.fold),
            "model": task.model_name,
            "strategy": names[0],
            "aliases": names[1:],
            "repeat": task.repeat,
            "fold": task.fold,
        }
        row.update(
            target.scores(
                y_test,
                logits,
                threshold,
                settings.max_scores,
                task.seed,
                prior=decider.prior,
                costs=decider.costs,
            )
        )
        row.update(
            {
                "threshold": None if threshold is None else np.asarray(threshold).tolist(),
                "best_epoch": decider.best_epoch,
                "epochs_run": decider.epochs_run,
                "refit": decider.refit,
                "batch_size": int(decider.batch_size),
                "fit_seconds": round(share, 3),
                "copies": fitted.copies,
                "note": decider.note,
                "variant": variant_text(decider, fitted.model_fn),
                "prior": None if decider.prior is None else decider.prior.tolist(),
                "n_fit": decider.n_fit,
                "n_val": fitted.n_val,
                "n_test": int(len(y_test)),
            }
        )
        if (i, rule) in fitted.validation:  # ensemble selection's validation predictions
            row["validation"] = _ensemble.validation_record(
                fitted, (i, rule), settings.max_scores, task.seed
            )
        # last: the stored scores, and every score for the ensemble (removed before storing)
        row["scores"] = row.pop("scores", None)
        row["_all_scores"] = row.pop("_all_scores", None)
        rows.append(row)
    return rows


def _resume_ensemble(collectors, splits, done) -> list[dict]:
    """The missing ensemble rows of folds whose members are all in a resumed file.

    A member row stored with a subset of its test scores (more test rows than ``max_scores``)
    cannot be averaged: it is dropped from ``done`` and fitted again.
    """
    out = []
    for collector in collectors:
        for repeat, fold, _, _ in splits:
            if collector.key(repeat, fold) in done:
                continue
            for model, strategy in collector.members:
                key = row_key(model, strategy, repeat, fold)
                row = done.get(key)
                if row is None:
                    continue
                if row["scores"].get("index") is not None:
                    for alias in _keys_of(row):
                        done.pop(alias, None)
                    continue
                combined = collector.add(row, row["scores"], strategy)
                if combined is not None:
                    out.append(combined)
    return out


def _keys_of(row: dict) -> list:
    """The row's key and the keys of the strategies it answers for (aliases)."""
    return [row["key"]] + [
        row_key(row["model"], a, row["repeat"], row["fold"]) for a in row.get("aliases") or []
    ]


def execute(plan, results_path, progress, n_jobs, run=run_task) -> ComparisonResult:
    """Run the missing (model, repeat, fold) tasks of ``plan`` (in parallel with joblib;
    ``run(task, x, labels, settings, backend, caller, spec, target)`` runs one), append every
    row to the results file as it arrives, and build the result."""
    settings, splits, models, trained = plan.settings, plan.splits, plan.models, plan.trained
    collectors, config, backend = plan.collectors, plan.config, plan.config["backend"]
    store = ResultsFile(results_path, config) if results_path is not None else None
    side = None  # the reference tasks' thread, where they run beside the Keras tasks
    try:
        done: dict[str, dict] = {}  # key of every strategy a stored row answers for -> the row
        for row in store.rows.values() if store is not None else ():
            if not _references.usable(row, plan.references):
                continue  # a reference not asked for now, or with another pipeline
            for key in _keys_of(row):
                done[key] = row
        resumed = _resume_ensemble(collectors, splits, done)
        keys = {row_key(m, s.name, r, f) for r, f, _, _ in splits for m in models for s in trained}
        keys |= {c.key(r, f) for c in collectors for r, f, _, _ in splits}
        keys |= _references.keys(plan.references, splits)
        total = len(keys)
        count = len(keys & done.keys())

        def record(row):
            nonlocal count
            if store is not None:
                store.append(row)
            fresh = [key for key in _keys_of(row) if key not in done]
            for key in _keys_of(row):
                done[key] = row
            count += len(fresh)
            if progress is not None:
                progress(count, total, row)

        for row in resumed:
            record(row)

        tasks = []
        for repeat, fold, train_idx, test_idx in splits:
            for model_name, fn in models.items():
                missing = [
                    s for s in trained if row_key(model_name, s.name, repeat, fold) not in done
                ]
                if missing:
                    tasks.append(
                        Task(
                            model_name,
                            fn,
                            _with_partners(missing, trained),
                            repeat,
                            fold,
                            plan.seeds[(repeat, fold)],
                            train_idx,
                            test_idx,
                        )
                    )

        tasks += _references.tasks(plan.references, splits, plan.seeds, done)

        if _side_thread(tasks, n_jobs):  # the references beside the Keras fits, in a thread
            side = _References([t for t in tasks if isinstance(t, _references.ReferenceTask)], plan)
            tasks = [t for t in tasks if not isinstance(t, _references.ReferenceTask)]
        if tasks:
            from joblib import Parallel, delayed

            # early-stopped models run longest: start them first, so no worker idles at the end
            # (the reference pipelines, seconds each, last)
            tasks.sort(
                key=lambda t: (
                    isinstance(t, _references.ReferenceTask),
                    _data.fixed_epochs(t.model_fn, settings.epochs) is not None,
                )
            )
            parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
            results = parallel(
                delayed(_references.run_reference)(
                    t, plan.x, plan.y, settings, plan.spec, plan.target
                )
                if isinstance(t, _references.ReferenceTask)
                else delayed(run)(
                    t, plan.x, plan.y, settings, backend, os.getpid(), plan.spec, plan.target
                )
                for t in tasks
            )
            if side is not None:  # their rows last, as from the one queue of tasks
                results = itertools.chain(results, side.rows())
            factors = None if plan.sample is None else plan.sample.factors
            for rows in results:
                for row in rows:
                    all_scores = row.pop("_all_scores")
                    if factors is not None:  # a sampled search: Keras and reference rows alike
                        reweigh(row, all_scores, factors, settings.costs)
                    if all(key in done for key in _keys_of(row)):
                        continue  # answered by a stored row already (a resumed fold)
                    record(row)
                    for collector in collectors:
                        for name in [row["strategy"], *row["aliases"]]:
                            combined = collector.add(row, all_scores, name)
                            if combined is not None:
                                record(combined)
    finally:
        try:
            if side is not None:
                side.stop()
        finally:
            if store is not None:
                store.close()  # releases the lock on the results file

    unique = {id(row): row for row in done.values()}
    return build_result(list(unique.values()), config, results_path)


def _side_thread(tasks: list, n_jobs) -> bool:
    """Whether the reference tasks run in a thread of this process beside the Keras tasks:
    when joblib would run every task here, one after the other (``n_jobs=1``), and there are
    both. Their estimators (trees, neighbours, solvers) and the compiled epochs release the
    GIL, so the second core works while the first trains; the rows are the same."""
    from joblib import effective_n_jobs

    refs = sum(isinstance(t, _references.ReferenceTask) for t in tasks)
    return 0 < refs < len(tasks) and effective_n_jobs(n_jobs) == 1


class _References:
    """The reference tasks of a sequential run, one after the other in a daemon thread
    started at once; :meth:`rows` yields their row lists in task order (raising what a task
    raised), :meth:`stop` drops the tasks not yet started (an interrupted run)."""

    def __init__(self, tasks: list, plan):
        self._tasks, self._plan = list(tasks), plan
        self._done: list = []
        self._error: BaseException | None = None
        self._stopped = False
        self._ready = threading.Condition()
        # one thread limit for this process while the thread runs: nested limits taken and
        # released by two threads in turn would restore each other's originals
        self._limits = _references.controller().limit(limits=1)
        self._thread = threading.Thread(
            target=self._run, name="keras-imbalance-references", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        plan = self._plan
        try:
            for task in self._tasks:
                if self._stopped:
                    break
                rows = _references.run_reference(
                    task, plan.x, plan.y, plan.settings, plan.spec, plan.target, limit=False
                )
                with self._ready:
                    self._done.append(rows)
                    self._ready.notify()
        except BaseException as exc:  # raised again in the calling thread by rows()
            with self._ready:
                self._error = exc
                self._ready.notify()

    def rows(self):
        for i in range(len(self._tasks)):
            with self._ready:
                self._ready.wait_for(lambda i=i: len(self._done) > i or self._error is not None)
                if len(self._done) <= i:
                    raise self._error
                rows = self._done[i]
            yield rows

    def stop(self) -> None:
        """Wait for the task under way (no new one starts), then lift the thread limit."""
        self._stopped = True
        self._thread.join()
        self._limits.restore_original_limits()


def _with_partners(missing: list[Strategy], trained: list[Strategy]) -> list[Strategy]:
    """``missing`` plus the strategies sharing a recipe with one of them (``none`` and
    ``none+threshold`` train one copy: a resumed fold missing one retrains both)."""
    groups = {s.group for s in missing}
    return [s for s in trained if s.group in groups]


def build_result(rows, config, results_path=None) -> ComparisonResult:
    """The :class:`ComparisonResult` of a list of result rows (e.g. a results file's lines)."""
    metric = config["metric"]
    order = {name: i for i, name in enumerate(config["strategies"])}
    rows = sorted(
        rows, key=lambda r: (r["model"], order.get(r["strategy"], 99), r["repeat"], r["fold"])
    )
    metrics = tuple(config.get("metrics", METRICS))
    folds = folds_frame(rows, metrics, tuple(config.get("fold_columns", ())))
    cv = config["cv"]
    ratio = cv["test_train_ratio"] if isinstance(cv, dict) else 1.0 / (cv - 1)
    scored = [m for m in (*metrics, "expected_cost") if m in folds]
    board = _stats.leaderboard(folds, metric, scored, ratio)
    # reference rows are ranked with the others but never recommended
    candidates = board[~_verdict.is_reference(board["model"])] if len(board) else board
    candidates.attrs["rows"] = len(board)
    rec = _stats.recommend(
        folds[~_verdict.is_reference(folds["model"])] if len(folds) else folds,
        candidates,
        metric,
        ratio,
        baseline=config.get("baseline", "none"),
        prefer=config.get("prefer", "ensemble"),
        classes=config["data"]["classes"],
    )
    rec = _verdict.complete(rec, folds, board, metric, ratio, config)
    board = _verdict.ordered(board, rec)
    board = _stats.with_skipped(board, config.get("skipped") or {})
    for column in ("reference", "recommended"):
        board[column] = board[column].fillna(False).astype(bool)
    return ComparisonResult(
        leaderboard=board,
        recommendation=rec,
        folds=folds,
        config=config,
        metric=metric,
        classes=list(config["data"]["classes"]),
        class_counts=list(config["data"]["class_counts"]),
        rows=rows,
        results_path=None if results_path is None else os.fspath(results_path),
    )
