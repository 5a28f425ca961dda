"""What :func:`keras_imbalance.compare` returns: :class:`ComparisonResult`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from keras_imbalance._validation import Text, invalid
from keras_imbalance.comparison._fit import fit_strategy
from keras_imbalance.comparison._models import DEFAULT_MODELS
from keras_imbalance.comparison._results import FORMAT, _jsonable
from keras_imbalance.comparison._settings import TrainingSettings
from keras_imbalance.comparison._strategies import ENSEMBLE_MEMBERS


@dataclass
class ComparisonResult:
    """What :func:`keras_imbalance.compare` returns.

    Attributes
    ----------
    leaderboard : pandas.DataFrame
        One row per (model, strategy), best first: ``rank, model, strategy, aliases`` (the
        strategies that trained identically and share the row), ``note`` (settings lowered
        for the data, e.g. ``k_neighbors=2``), ``mean, std, ci_low, ci_high, n_folds`` for the
        ranking ``metric``, ``test_rows_min`` (test rows per repeat of the class with the
        fewest) and ``thin`` (``test_rows_min < 5``: the interval rests on too few rows of a
        class), and the mean of every other metric. Default strategies the data could not run
        come last with ``rank`` 0, no score and the reason in ``note`` (see :attr:`skipped`).
        ``reference`` marks the reference pipelines' rows (model ``reference:<name>``; see
        ``compare(references=...)``), ranked with the others but never recommended;
        ``recommended`` marks the recommended row, which comes first (keeping its ``rank``).
    recommendation : dict
        ``text``: at most five lines in numbers (``summary``: the winner and its interval, the
        gain over ``none``, the best reference, chance level, what would make the evidence
        firmer), then the prose (the winner, whether it beats ``none`` beyond noise, that the
        evidence is thin, that no candidate beats chance); ``winner_model``,
        ``winner_strategy``, ``beats_baseline``, ``mean_difference``, ``ci_low``, ``ci_high``,
        ``n_pairs``, ``rule``, ``thin_evidence``, ``evidence``; ``chance_level`` (the best
        expected score of a predictor that ignores the features; None for masks),
        ``beats_chance`` (some candidate's 95 % interval lies beyond it),
        ``winner_beats_chance``; ``best_reference`` (None without references): ``name``,
        ``mean``, ``mean_difference`` (recommendation minus reference) with
        ``difference_ci_low`` / ``difference_ci_high`` (the same corrected resampled t
        interval of the paired per-fold differences), ``standing``, ``sampled``.
    folds : pandas.DataFrame
        One row per (model, strategy, repeat, fold) with every metric, the per-class recall,
        the confusion matrix, the tuned threshold and the training bookkeeping.
    config : dict
        The settings and data summary the results file was fingerprinted with.
    metric : str
        The ranking metric.
    classes : list of str
        Class names, in the order of the confusion matrices and recalls (multi-label: the
        label names).
    class_counts : list of int
        Samples per class in the whole data (multi-label: positive rows per label;
        segmentation: pixels per class).
    rows : list of dict
        The raw result lines (with the test-fold scores used for precision-recall curves).
    results_path : str or None
        The JSON-lines file the folds were appended to.
    settings : TrainingSettings
        How every candidate was trained (also in ``config["settings"]``).
    """

    leaderboard: Any
    recommendation: dict
    folds: Any
    config: dict
    metric: str
    classes: list
    class_counts: list
    rows: list = field(repr=False, default_factory=list)
    results_path: str | None = None

    @property
    def skipped(self) -> dict:
        """``{strategy: reason}`` of the default strategies the data could not run."""
        return dict(self.config.get("skipped") or {})

    @property
    def settings(self) -> TrainingSettings:
        return TrainingSettings.from_config(self.config.get("settings", {}))

    def to_json(self, path=None, *, include_scores: bool = True) -> str:
        """Write (and return) the raw numbers as one JSON document.

        Parameters
        ----------
        path : str or path-like, optional
            Where to write; ``None`` only returns the text.
        include_scores : bool, default=True
            Keep the per-fold test scores (needed to redraw precision-recall curves).

        Returns
        -------
        str
            The JSON text: ``config``, ``classes``, ``class_counts``, ``metric``,
            ``leaderboard`` (records), ``recommendation`` and ``folds`` (the result lines).
        """
        rows = self.rows
        if not include_scores:
            rows = [{k: v for k, v in r.items() if k != "scores"} for r in rows]
        doc = {
            "format": FORMAT,
            "config": self.config,
            "metric": self.metric,
            "classes": self.classes,
            "class_counts": self.class_counts,
            "leaderboard": self.leaderboard.to_dict(orient="records"),
            "recommendation": self.recommendation,
            "folds": rows,
        }
        text = json.dumps(_jsonable(doc), indent=1, allow_nan=False)
        if path is not None:
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
        return text

    def fit_recommended(self, x, y, *, model_fn=None):
        """Train the recommended strategy on ``(x, y)`` with the comparison's settings.

        Calls :func:`keras_imbalance.comparison.fit_strategy` with the winner of
        :attr:`recommendation` (for ``ensemble``: every model and the averaged strategies of
        the comparison) and the comparison's training settings.

        Parameters
        ----------
        x, y : array-like
            Usually all the data the comparison ran on.
        model_fn : callable or dict of str to callable, default=None
            The builders the comparison ran, by name; needed only for custom models
            (``None`` works when the comparison used the default models).

        Returns
        -------
        keras.Model
            Raw features -> class probabilities (columns in the order of :attr:`classes`).
        """
        rec, cfg = self.recommendation, self.config
        target = cfg.get("target", "multiclass")
        if target != "multiclass":
            raise invalid(
                "result",
                "a comparison of one class per row (fit_recommended does not train "
                f"{target} strategies: compile your model with the recommended strategy's loss "
                "from keras_imbalance.losses, or its rows from keras_imbalance.resample)",
                Text(f"a {target} comparison"),
            )
        strategy, winner = rec.get("winner_strategy"), rec.get("winner_model")
        if strategy is None:
            raise ValueError("No finished folds: there is no recommendation to train.")
        ensemble = strategy == "ensemble"
        # the joint ensemble averages every model; a model's own ensemble only that model
        names = list(cfg["models"]) if ensemble and winner not in cfg["models"] else [winner]
        if model_fn is None:
            custom = [
                n
                for n in names
                if n not in DEFAULT_MODELS
                or not cfg["models"][n].startswith("keras_imbalance.comparison._models.")
            ]
            if custom:
                raise invalid(
                    "model_fn",
                    f"the builders of the custom models {custom} the comparison ran",
                    None,
                )
            builders = {n: DEFAULT_MODELS[n] for n in names}
        elif callable(model_fn) and not isinstance(model_fn, dict):
            builders = {n: model_fn for n in names}
        else:
            missing = [n for n in names if n not in model_fn]
            if missing:
                raise invalid("model_fn", f"a dict with the models {names}", sorted(model_fn))
            builders = {n: model_fn[n] for n in names}
        members = [s for s in cfg["strategies"] if s in ENSEMBLE_MEMBERS] if ensemble else None
        settings = TrainingSettings.from_config(cfg.get("settings", {}))
        return fit_strategy(
            x,
            y,
            strategy,
            model_fn=builders,
            members=members,
            settings=settings,
        )

    def to_html(self, path, *, top: int = 4) -> str:
        """Write the self-contained HTML report (see :func:`keras_imbalance.report.write_report`)."""
        from keras_imbalance.report import write_report

        return write_report(self, path, top=top)

    def __repr__(self) -> str:
        with_pd = self.leaderboard.head(10).to_string(index=False, float_format="%.3f")
        return f"ComparisonResult(metric={self.metric!r})\n{with_pd}\n{self.recommendation['text']}"
