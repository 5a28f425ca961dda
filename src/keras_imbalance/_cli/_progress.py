"""``compare``'s progress: a bar on a terminal, one plain line per finished (model, fold)
elsewhere (a log file, a pipe, a notebook), and an estimate of the total time after the
first (model, fold)."""

from __future__ import annotations

import time

RESUMED_WITHIN = 0.5  # seconds: rows reported this early were read back, not trained


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


class Progress:
    """The ``progress(done, total, row)`` callback of :func:`keras_imbalance.compare`.

    ``jobs`` folds run at once: the first finished (model, fold) stands for ``jobs`` of
    them when the total time is estimated (the others are about as far along).
    """

    def __init__(self, console, *, jobs: int, terminal: bool, folds: int):
        self.console = console
        self.jobs = max(1, jobs)
        self.folds = folds  # (model, repeat, fold) to train in all
        self.terminal = terminal
        self.start = time.monotonic()
        self.groups: dict = {}  # (model, repeat, fold) -> rows seen
        self.resumed = 0  # (model, fold) read back from the results file
        self.estimated = False
        self.bar = None
        self.task = None

    def __enter__(self):
        if self.terminal:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(
                TextColumn("compare"),
                BarColumn(),
                TextColumn("{task.fields[count]}"),
                TimeElapsedColumn(),
                TextColumn("{task.fields[what]}", markup=False),
                console=self.console,
                transient=False,
            )
            self.bar.__enter__()
            self.task = self.bar.add_task("", total=None, count="", what="training the first fold")
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)
        return False

    def planned(self, facts: dict) -> None:
        """Told by ``compare`` before training: the (model, repeat, fold) tasks of the plan
        and the sentences on its sample and time budget (printed)."""
        self.folds = int(facts.get("model_folds", self.folds))
        for key in ("sample", "budget"):
            if facts.get(key):
                self.console.print(f"compare: {facts[key]}", markup=False)

    def __call__(self, done: int, total: int, row: dict) -> None:
        now = time.monotonic() - self.start
        what = f"{row.get('model', '')} {row.get('strategy', '')}".strip()
        if self.bar is not None:
            self.bar.update(
                self.task, completed=done, total=total, count=f"{done}/{total}", what=what
            )
        if row.get("reference") or row.get("members"):
            return  # a classical reference row or an ensemble's average: no model fold trained
        group = (row.get("model", ""), row.get("repeat", 0), row.get("fold", 0))
        new = group not in self.groups
        self.groups[group] = self.groups.get(group, 0) + 1
        if not new:
            return
        if now < RESUMED_WITHIN:  # stored rows come back before any training starts
            self.resumed += 1
            return
        fold = f"{int(row.get('fold', 0)) + 1}"
        if int(row.get("repeat", 0)) > 0:
            fold += f" (repeat {int(row.get('repeat', 0)) + 1})"
        line = (
            f"compare: {row.get('model', '')} fold {fold} done: "
            f"{len(self.groups)}/{self.folds} model folds, {_clock(now)} elapsed"
        )
        left = self._left(now)
        if self.estimated and not self.terminal:
            line += f", about {_clock(left)} left"
        if not self.terminal:
            self.console.print(line, markup=False)
        if not self.estimated:
            self.estimated = True
            self.console.print(
                f"compare: estimated total time {_clock(now + left)} (about {_clock(left)} "
                f"left for {self.folds - len(self.groups)} more model folds)",
                markup=False,
            )

    def _left(self, now: float) -> float:
        """Seconds left: the time so far per trained (model, fold), the first one standing for
        the ``jobs`` folds that started with it."""
        trained = len(self.groups) - self.resumed
        remaining = max(0, self.folds - len(self.groups))
        counted = max(trained, min(self.jobs, trained + remaining))
        return now * remaining / max(1, counted)


class RowProgress:
    """The ``progress(rows_read, total_rows)`` callback of ``class_counts`` on a Parquet
    source: a bar on a terminal; elsewhere one plain line per tenth of the rows read (and
    the last), so that a log of a long count shows it moving without a line per row group.
    Written to stderr: stdout carries what the command prints (``weights > w.py``)."""

    def __init__(self, console, *, what: str, terminal: bool):
        self.console = console
        self.what = what
        self.terminal = terminal
        self.bar = None
        self.task = None
        self.tenth = -1  # the last tenth of the rows a plain line said
        self.last = None

    def __enter__(self):
        if self.terminal:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self.bar = Progress(
                TextColumn(self.what, markup=False),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("labels"),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self.bar.__enter__()
            self.task = self.bar.add_task("", total=None)
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)
        elif exc[0] is None and self.last is not None and self.tenth < 10:
            self._line(*self.last)  # the end, when no tenth boundary said it
        return False

    def __call__(self, done: int, total: int | None) -> None:
        self.last = (done, total)
        if self.bar is not None:
            self.bar.update(self.task, completed=done, total=total)
            return
        if total:
            tenth = 10 * done // total
            if tenth > self.tenth:
                self.tenth = tenth
                self._line(done, total)

    def _line(self, done: int, total: int | None) -> None:
        share = f" of {total:,} ({100 * done // total}%)" if total else ""
        self.console.print(f"{self.what}: {done:,} labels read{share}", markup=False)
