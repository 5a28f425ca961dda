"""``compare`` on multi-label targets: an ``(N, K)`` 0/1 matrix, several labels per row.

Each label is its own binary problem, and the network outputs one logit per label. The
strategies (:data:`MULTILABEL_STRATEGIES`) act per label or on the rows:

- ``none``: binary cross-entropy per label (``keras.losses.BinaryCrossentropy``), decision
  ``p >= 0.5``; ``none+threshold``: the same fit, a threshold per label tuned on the validation
  rows for the ranking metric;
- ``balanced``: per-label weights ``n / (2 n_pos)`` on positives and ``n / (2 n_neg)`` on
  negatives (:class:`~keras_imbalance.losses.WeightedBinaryCrossentropy`);
- ``focal``: binary focal loss per label, ``gamma = 2``, ``alpha = n_neg / n`` (so
  ``alpha / (1 - alpha) = n_neg / n_pos``, the balanced ratio;
  :class:`~keras_imbalance.losses.BinaryFocalCrossentropy`);
- ``logit_adjusted``: the logit offset ``log(p / (1 - p))`` of each label's prior ``p`` added
  in training only (the binary form of Menon et al. 2021);
- ``ml_ros``, ``mlsmote``: the rows of ``resample(method=...)`` (Charte et al. 2015);
- ``label_batches``: :class:`~keras_imbalance.sampling.BalancedBatches` ``(mode="labels")``,
  redrawn every epoch;
- ``powerset_ros``, ``powerset_smote`` (opt-in): resampling of the label combinations;
- ``ensemble``: the mean per-label probabilities of the :data:`MULTILABEL_ENSEMBLE_MEMBERS`
  fits, decision ``p >= 0.5``.

Scores: every metric of :data:`~._settings.MULTILABEL_METRICS` is the mean over the labels
of that metric on the label's own 0/1 problem (balanced accuracy, G-mean, F1 of the
positives, MCC, average precision of the positives); each fold row also holds each label's
recall, precision and PR-AUC (``per_label``) and its test positives (``test_counts``).

Folds, the validation split and early stopping are stratified on each row's *rarest* positive
label (the label with the fewest positives in the data; rows without a label form a stratum
of their own), so every fold holds rows of the rare labels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from keras_imbalance import _names
from keras_imbalance._validation import Text, invalid
from keras_imbalance.comparison import _data
from keras_imbalance.comparison._ensemble import Collector, same_rows
from keras_imbalance.comparison._kind import Kind
from keras_imbalance.comparison._scoring import kept_rows
from keras_imbalance.comparison._settings import MULTILABEL_METRICS, TUNE_FOR
from keras_imbalance.comparison._strategies import (
    BalancedBatchesStrategy,
    EnsembleStrategy,
    ResampleStrategy,
    Strategy,
    baselines,
)
from keras_imbalance.targets import analyse

#: the per-label scores each fold row keeps
PER_LABEL = ("recall", "precision", "pr_auc")


# --------------------------------------------------------------------------------------------
# strategies
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BinaryLossSpec:
    """The loss of one copy, per label ``k``: ``-(pos_k y log s(z') + neg_k (1 - y) log(1 -
    s(z'))) * (1 - p_t) ** gamma`` with ``z' = z + offsets_k`` (see
    :class:`~._packed_losses.PackedBinaryCrossentropy`); None: 1 (or 0 for the offsets)."""

    pos_weight: tuple | None = None
    neg_weight: tuple | None = None
    gamma: float = 0.0
    offsets: tuple | None = None


class _Binary:
    """Mixin: binary cross-entropy per label, unweighted."""

    def loss_spec(self, y, n_classes):
        return BinaryLossSpec()


@dataclass(frozen=True)
class LabelStrategy(_Binary, Strategy):
    """Plain binary cross-entropy per label (``none``, ``none+threshold``)."""


def _positives(y: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """``(n_pos, n_neg, n)`` per label, each at least 1 (a label a fold lacks stays finite)."""
    n = len(y)
    pos = np.asarray(y, dtype=np.float64).sum(axis=0)
    return np.maximum(pos, 1.0), np.maximum(n - pos, 1.0), n


#: per-label values of the fit labels that a :class:`LabelLossStrategy` option may name,
#: from each label's ``(n_pos, n_neg, n)``
LABEL_RULES = {
    "balanced_positive": lambda pos, neg, n: n / (2 * pos),  # scikit-learn's "balanced"
    "balanced_negative": lambda pos, neg, n: n / (2 * neg),
    "negative_share": lambda pos, neg, n: neg / (pos + neg),
}


@dataclass(frozen=True)
class LabelLossStrategy(LabelStrategy):
    """A public binary loss of :mod:`keras_imbalance.losses` per label: ``loss_class`` names
    the class, ``options`` its settings as ``(name, value)`` pairs, a value named in
    :data:`LABEL_RULES` being computed per label on the fit labels. The packed loss is built
    from the public loss's config (its ``family()``), so a loss of the binary family needs
    no code here. Registry: ``balanced``, ``focal``."""

    loss: str = "balanced"
    loss_class: str = "WeightedBinaryCrossentropy"
    options: tuple = ()
    kind = "loss"
    param_field = "loss"

    def loss_config(self, y, n_classes) -> dict:
        """The config of the public loss this strategy trains with on fit labels ``y``."""
        counts = _positives(y)
        config = {"from_logits": True}
        for name, value in self.options:
            config[name] = LABEL_RULES[value](*counts).tolist() if value in LABEL_RULES else value
        return config

    def public_loss(self, y, n_classes):
        """The public Keras loss of this strategy trained alone on fit labels ``y``."""
        from keras_imbalance import losses

        return getattr(losses, self.loss_class)(**self.loss_config(y, n_classes))

    def loss_spec(self, y, n_classes):
        from keras_imbalance.losses._core import family_of

        family = family_of(self.public_loss(y, n_classes))
        k = np.asarray(y).shape[1]

        def per_label(value):
            return None if value is None else tuple(np.broadcast_to(value, (k,)).tolist())

        return BinaryLossSpec(
            per_label(family["pos_weight"]),
            per_label(family["neg_weight"]),
            gamma=float(family["gamma"]),
        )


@dataclass(frozen=True)
class LabelOffsetStrategy(LabelStrategy):
    """Binary cross-entropy on logits shifted in training by each label's log prior odds
    ``log(p / (1 - p))`` (the binary form of Menon et al.'s logit adjustment; no public loss
    of the package has it)."""

    loss: str = "logit_adjusted"
    kind = "loss"
    param_field = "loss"

    def loss_spec(self, y, n_classes):
        n_pos, n_neg, _ = _positives(y)
        return BinaryLossSpec(offsets=tuple(np.log(n_pos / n_neg)))


@dataclass(frozen=True)
class LabelResampleStrategy(_Binary, ResampleStrategy):
    """Rows of ``resample(method=...)`` on the label matrix: ``ml_ros``, ``mlsmote``, or a
    label-powerset method (``random_over``, ``smote``: ``layout="multilabel"``)."""

    @property
    def interpolates(self) -> bool:
        return self.method in ("mlsmote", "smote")

    def resample_options(self) -> dict:
        return {} if self.method in ("ml_ros", "mlsmote") else {"layout": "multilabel"}

    def neighbor_defaults(self) -> dict:
        return {"k_neighbors": 5} if self.interpolates else {}

    def neighbor_params(self, y):
        """``k_neighbors`` lowered to what the rarest label (``mlsmote``) or the rarest label
        combination it over-samples (powerset ``smote``) allows."""
        if self.method == "mlsmote":
            smallest = int(np.asarray(y).sum(axis=0).min())
            return {"k_neighbors": max(1, min(5, smallest - 1))}
        if self.method == "smote":
            return _powerset_smote(y)
        return {}


def _powerset_smote(y) -> dict:
    """SMOTE on the label combinations: every combination of 3 rows or more is raised to the
    largest one's count (rarer combinations are left as they are), ``k_neighbors`` up to 5."""
    combos, counts = np.unique(np.asarray(y), axis=0, return_counts=True)
    smallest = int(counts[counts >= 3].min()) if np.any(counts >= 3) else 2
    target = {
        tuple(int(v) for v in c): int(counts.max())
        for c, m in zip(combos, counts, strict=True)
        if m >= 3
    }
    return {"k_neighbors": max(1, min(5, smallest - 1)), "sampling_strategy": target}


@dataclass(frozen=True)
class LabelBatchesStrategy(_Binary, BalancedBatchesStrategy):
    """Label-balanced draws (``BalancedBatches(mode="labels")``) redrawn every epoch."""

    mode: str = "labels"

    def plan_options(self) -> dict:
        return {"mode": "labels"}


def _registry() -> dict[str, Strategy]:
    out: dict[str, Strategy] = {
        **baselines(
            LabelStrategy,
            "binary cross-entropy per label, p >= 0.5",
            "binary cross-entropy per label, a threshold per label tuned on the validation rows",
        ),
        "balanced": LabelLossStrategy(
            "balanced",
            "per-label weights n / (2 n_pos) on positives, n / (2 n_neg) on negatives",
            loss="balanced",
            loss_class="WeightedBinaryCrossentropy",
            options=(("pos_weight", "balanced_positive"), ("neg_weight", "balanced_negative")),
        ),
        "focal": LabelLossStrategy(
            "focal",
            "binary focal loss per label, gamma = 2, alpha = n_neg / n",
            loss="focal",
            loss_class="BinaryFocalCrossentropy",
            options=(("alpha", "negative_share"), ("gamma", 2.0)),
        ),
        "logit_adjusted": LabelOffsetStrategy(
            "logit_adjusted",
            "per-label logit offset log(p / (1 - p)) in training (Menon et al. 2021)",
        ),
        "ml_ros": LabelResampleStrategy(
            "ml_ros", "ML-ROS on the training part (Charte et al. 2015)", method="ml_ros"
        ),
        "mlsmote": LabelResampleStrategy(
            "mlsmote", "MLSMOTE on the training part (Charte et al. 2015)", method="mlsmote"
        ),
        "label_batches": LabelBatchesStrategy(
            "label_batches",
            "BalancedBatches(mode='labels'): rows drawn by their rarest label, every epoch",
        ),
        "powerset_ros": LabelResampleStrategy(
            "powerset_ros",
            "RandomOverSampler on the label combinations (label powerset)",
            method="random_over",
        ),
        "powerset_smote": LabelResampleStrategy(
            "powerset_smote",
            "SMOTE on the label combinations of 3 rows or more (label powerset)",
            method="smote",
        ),
        "ensemble": EnsembleStrategy(
            "ensemble",
            "mean per-label probabilities of the fold's MULTILABEL_ENSEMBLE_MEMBERS fits",
        ),
    }
    return out


#: Every strategy of a multi-label comparison, by name.
MULTILABEL_STRATEGIES: dict[str, Strategy] = _registry()

#: The fits ``ensemble`` averages on a multi-label target: one per way of training for
#: balanced labels (per-label weights, logit adjustment, MLSMOTE, label-balanced batches).
MULTILABEL_ENSEMBLE_MEMBERS: frozenset[str] = frozenset(
    {"balanced", "logit_adjusted", "mlsmote", "label_batches"}
)

#: Run when ``strategies=None`` (the label-powerset ones are opt-in).
MULTILABEL_DEFAULT_STRATEGIES: tuple[str, ...] = tuple(
    n for n in _names.MULTILABEL_STRATEGIES if not n.startswith("powerset_")
)

_ALIASES = {
    "threshold": "none+threshold",
    "plain": "none",
    "weighted": "balanced",
    "focal_loss": "focal",
    "logit_adjustment": "logit_adjusted",
    "labels": "label_batches",
    "balanced_batches": "label_batches",
    "powerset": "powerset_ros",
}


# --------------------------------------------------------------------------------------------
# scores
# --------------------------------------------------------------------------------------------


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=np.float64)))


def label_scores(y: np.ndarray, proba: np.ndarray, threshold=None) -> dict:
    """Per-label confusion counts and scores of probabilities ``proba`` (n, K) decided at
    ``threshold`` (one per label; None: 0.5): ``metrics`` (means over the labels),
    ``per_label`` and ``test_counts``."""
    from sklearn.metrics import average_precision_score

    from keras_imbalance import metrics

    y = np.asarray(y).astype(bool)
    cut = 0.5 if threshold is None else np.asarray(threshold, dtype=np.float64)
    pred = proba >= cut
    tp = (pred & y).sum(axis=0)
    fp = (pred & ~y).sum(axis=0)
    fn = (~pred & y).sum(axis=0)
    tn = (~pred & ~y).sum(axis=0)
    k = y.shape[1]
    values = {m: np.zeros(k) for m in MULTILABEL_METRICS}
    per_label = {name: np.full(k, np.nan) for name in PER_LABEL}
    for label in range(k):
        cm = np.array([[tn[label], fp[label]], [fn[label], tp[label]]], dtype=np.float64)
        for m in ("balanced_accuracy", "geometric_mean", "matthews_correlation"):
            values[m][label] = metrics.from_confusion(cm, m)
        denominator = 2 * tp[label] + fp[label] + fn[label]
        values["macro_f1"][label] = 2 * tp[label] / denominator if denominator else 0.0
        if y[:, label].any():
            per_label["recall"][label] = tp[label] / (tp[label] + fn[label])
            ap = float(average_precision_score(y[:, label], proba[:, label]))
            per_label["pr_auc"][label] = ap
        if tp[label] + fp[label]:
            per_label["precision"][label] = tp[label] / (tp[label] + fp[label])
    values["pr_auc"] = per_label["pr_auc"]
    with np.errstate(all="ignore"):
        means = {m: _nanmean(v) for m, v in values.items()}
    return {
        "metrics": means,
        "per_label": {name: v.tolist() for name, v in per_label.items()},
        "test_counts": y.sum(axis=0).astype(int).tolist(),
    }


def _nanmean(values) -> float:
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    return float(v.mean()) if v.size else math.nan


def _stored(y, proba, limit, seed) -> dict:
    keep, index = kept_rows(len(y), limit, seed)
    return {
        "index": index,
        "y": np.asarray(y)[keep].astype(int).tolist(),
        "proba": np.round(proba[keep], 5).tolist(),
    }


def tune_labels(y: np.ndarray, proba: np.ndarray, metric: str) -> list:
    """A threshold per label tuned on validation rows for ``metric`` (its binary form); 0.5
    for a label whose validation rows hold one value only."""
    from keras_imbalance import calibration

    out = []
    for label in range(y.shape[1]):
        column = np.asarray(y[:, label]).astype(int)
        if column.min() == column.max():
            out.append(0.5)
            continue
        out.append(
            float(calibration.tune_threshold(column, proba[:, label], metric=TUNE_FOR[metric]))
        )
    return out


class MultilabelTarget:
    """What the fold engine needs to know about a multi-label target (see :mod:`._fold`)."""

    kind = "multilabel"
    squash = "sigmoid"  # one probability per label (averaged variants: _fold.mean_logits)

    def __init__(self, k: int, strata: np.ndarray):
        self.k = int(k)
        self.strata = strata

    def check_model(self, model, k, sample) -> None:
        from keras_imbalance.comparison._packing import check_model

        check_model(model, k, sample, unit="label", squash="sigmoid")

    def packed_loss(self, specs, k):
        from keras_imbalance.comparison._packed_losses import PackedBinaryCrossentropy

        def table(name, default):
            return [
                [default] * k if getattr(s, name) is None else list(getattr(s, name)) for s in specs
            ]

        return PackedBinaryCrossentropy(
            table("pos_weight", 1.0),
            table("neg_weight", 1.0),
            [s.gamma for s in specs],
            table("offsets", 0.0),
        )

    def tune(self, y, logits, metric, rule="tuned"):
        return tune_labels(y, sigmoid(logits), metric)

    def rule_score(self, metric, y, logits, rule, prior=None) -> float:
        proba = sigmoid(logits)
        threshold = tune_labels(y, proba, metric) if rule == "tuned" else None
        return label_scores(y, proba, threshold)["metrics"][metric]

    def scores(self, y, logits, threshold, max_scores, seed, prior=None, costs=None) -> dict:
        proba = sigmoid(logits)
        return {
            **label_scores(y, proba, threshold),
            "scores": _stored(y, proba, max_scores, seed),
            "_all_scores": _stored(y, proba, math.inf, seed),
        }


class LabelCollector(Collector):
    """The multi-label ``ensemble``: mean per-label probabilities of the members, ``>= 0.5``."""

    def _scored(self, fold, parts) -> dict:
        same_rows(fold, parts)
        y = np.asarray(parts[0][1]["y"], dtype=np.int64)
        proba = np.mean([np.asarray(s["proba"], dtype=np.float64) for _, s in parts], axis=0)
        return {
            **label_scores(y, proba),
            "n_test": int(len(y)),
            "scores": _stored(y, proba, self.max_scores, self.seeds[fold]),
        }


# --------------------------------------------------------------------------------------------
# the plan
# --------------------------------------------------------------------------------------------


def label_matrix(y, n: int) -> tuple[np.ndarray, list[str]]:
    """``(Y, label names)``: ``y`` as an ``(n, K)`` int 0/1 matrix, every label with positive
    and negative rows (one error naming every label that has not)."""
    names = [str(c) for c in y.columns] if hasattr(y, "columns") else None
    try:
        arr = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError):
        raise invalid("y", "a 0/1 label matrix of shape (n_samples, n_labels)", y) from None
    if arr.ndim != 2 or arr.shape[0] != n or arr.shape[1] < 2:
        raise invalid("y", f"a 0/1 label matrix of shape ({n}, n_labels >= 2) matching x", arr)
    if not np.isin(arr, (0.0, 1.0)).all():
        raise invalid("y", "a multi-label matrix of 0/1 values (or bools)", arr)
    names = names or [str(i) for i in range(arr.shape[1])]
    positives = arr.sum(axis=0)
    empty = [names[i] for i in np.flatnonzero(positives == 0)]
    full = [names[i] for i in np.flatnonzero(positives == n)]
    if empty or full:
        parts = ([f"no positive row for labels {empty}"] if empty else []) + (
            [f"only positive rows for labels {full}"] if full else []
        )
        raise invalid(
            "y",
            "a multi-label matrix where every label has positive and negative rows (drop the "
            "other columns: a label without both has nothing to learn or score)",
            Text("; ".join(parts)),
        )
    return analyse(arr, layout="multilabel").binary_matrix.astype(np.int64), names


def rarest_label(y: np.ndarray, names: list[str]) -> tuple[np.ndarray, list[str]]:
    """Each row's stratum: its positive label with the fewest positives in ``y`` (ties: the
    first), or "no label"; as codes ``0..S-1`` over the strata that occur, and their names."""
    counts = y.sum(axis=0)
    order = np.argsort(counts, kind="stable")  # rarest first
    ranked = y[:, order].astype(bool)
    has = ranked.any(axis=1)
    key = np.where(has, order[np.argmax(ranked, axis=1)], y.shape[1])
    values, codes = np.unique(key, return_inverse=True)
    labels = [*names, "(no label)"]
    return codes.astype(np.int64), [labels[v] for v in values]


def label_problems(trained, splits, y, strata, fraction, fit_part, seeds, names) -> dict:
    """``{strategy: reason}`` for ``mlsmote`` / ``powerset_smote`` when a label has fewer than
    2 positive rows in the rows they resample of some fold (the early-stopping fit part, or
    the training fold)."""
    picked = [s.name for s in trained if s.interpolates]
    if not picked:
        return {}
    part = "early-stopping fit part" if fit_part else "training fold"
    for repeat, fold, train_idx, _ in splits:
        rows = train_idx
        if fit_part:
            fit_pos, _ = _data.validation_split(strata[train_idx], fraction, seeds[(repeat, fold)])
            rows = train_idx[fit_pos]
        counts = y[rows].sum(axis=0)
        thin = np.flatnonzero(counts < 2)
        if thin.size:
            label = thin[0]
            reason = (
                f"label {names[label]!r} has {int(counts[label])} positive row(s) in the {part} "
                f"of repeat {repeat}, fold {fold}; interpolating within a label needs 2"
            )
            return dict.fromkeys(picked, reason)
    return {}


class MultilabelKind(Kind):
    """An ``(N, K)`` 0/1 matrix: several labels per row, each its own binary problem."""

    name = "multilabel"
    strategies = MULTILABEL_STRATEGIES
    default_strategies = MULTILABEL_DEFAULT_STRATEGIES
    aliases = _ALIASES
    ensemble_members = MULTILABEL_ENSEMBLE_MEMBERS
    metrics = MULTILABEL_METRICS
    default_metric = "balanced_accuracy"
    unit = "label"
    instead = "ml_ros"

    def read(self, y, xa):
        return label_matrix(y, xa.shape[0])

    def strata(self, labels, names):
        strata, strata_names = rarest_label(labels, names)
        return strata, strata_names, {}

    def counts(self, labels, names):
        return labels.sum(axis=0)

    def problems(self, trained, splits, labels, strata, names, fraction, fit_part, seeds):
        return label_problems(trained, splits, labels, strata, fraction, fit_part, seeds, names)

    def target(self, labels, names, strata, facts, settings):
        return MultilabelTarget(len(names), strata)

    def collector(self, members, label, target, settings, seeds):
        return LabelCollector(members, label, target.k, settings.max_scores, seeds)

    def config_extra(self, names, facts):
        return {
            "target": "multilabel",
            "metrics": list(MULTILABEL_METRICS),
            "fold_columns": ["per_label", "test_counts"],
            # the rule that keeps the ensemble unless beaten rests on a benchmark of one
            # class per row: here the top row is recommended
            "prefer": None,
            "strata": "each row's rarest positive label",
        }


KIND = MultilabelKind()


__all__ = [
    "MULTILABEL_DEFAULT_STRATEGIES",
    "MULTILABEL_ENSEMBLE_MEMBERS",
    "MULTILABEL_STRATEGIES",
    "BinaryLossSpec",
    "MultilabelKind",
    "MultilabelTarget",
    "label_matrix",
    "label_scores",
    "rarest_label",
]
