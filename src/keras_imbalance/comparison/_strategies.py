"""The strategy registry: name -> how a strategy changes training and the decision rule.

A strategy has two parts:

- a *training recipe* (``kind`` + ``param``): plain fit, a ``class_weight`` dict, a loss object,
  a resampled training set or balanced batches;
- a *decision rule*: ``argmax`` of the model's logits, or a threshold / per-class offsets tuned
  on the validation split (``tuned=True``).

``ensemble`` trains nothing of its own: it averages the test-fold class probabilities of the
fold's fits of the strategies in :data:`ENSEMBLE_MEMBERS` (every model).

Strategies that share a training recipe (``none`` and ``none+threshold``) share one fit per
fold: the engine trains once and scores every decision rule of the group.
"""

from __future__ import annotations

from dataclasses import dataclass

from keras_imbalance._validation import invalid

__all__ = [
    "STRATEGIES",
    "DEFAULT_STRATEGIES",
    "ENSEMBLE_MEMBERS",
    "ALIASES",
    "Strategy",
    "resolve_strategies",
]


@dataclass(frozen=True)
class Strategy:
    """One entry of the registry (immutable).

    Attributes
    ----------
    name : str
        Canonical, CLI-friendly name (no spaces).
    kind : {"plain", "class_weight", "loss", "resample", "batches", "ensemble"}
        What changes in training (``ensemble``: nothing; it combines the other fits).
    param : str or None
        The weight strategy, loss name or resampling method (``None`` for ``plain``).
    tuned : bool
        Whether the decision rule is tuned on the validation split.
    description : str
        One line for the report.
    """

    name: str
    kind: str
    param: str | None
    tuned: bool
    description: str

    @property
    def group(self) -> str:
        """Training recipe shared by strategies that need one fit only."""
        return f"{self.kind}:{self.param}"


_WEIGHT_TEXT = {
    "balanced": "class_weight n / (k * count_c) (scikit-learn 'balanced')",
    "reference": "class_weight count_majority / count_c",
    "sqrt": "class_weight sqrt(n / (k * count_c)) (damped)",
    "log": "class_weight ln(1 + n / (k * count_c)) (damped)",
    "log_mu": "class_weight max(1, ln(0.15 n / count_c))",
    "effective_number": "class_weight (1 - beta) / (1 - beta ** count_c), beta = 0.999",
}
_LOSS_TEXT = {
    "weighted_ce": "WeightedSparseCategoricalCrossentropy with 'balanced' class weights",
    "focal": "SparseCategoricalFocalCrossentropy, gamma = 2, alpha = 'balanced' weights",
    "logit_adjusted": "LogitAdjustedCrossentropy, tau = 1 (Menon et al. 2021)",
    "balanced_softmax": "BalancedSoftmaxCrossentropy (Ren et al. 2020)",
    "ldam": "LDAMCrossentropy, max margin 0.5, scale 30 (Cao et al. 2019)",
}
_RESAMPLE_TEXT = {
    "random_over": "RandomOverSampler on the training part",
    "random_under": "RandomUnderSampler on the training part",
    "smote": "SMOTE on the training part",
    "borderline_smote1": "Borderline-SMOTE 1 on the training part",
    "borderline_smote2": "Borderline-SMOTE 2 on the training part",
    "adasyn": "ADASYN on the training part",
    "tomek": "Tomek-links cleaning of the training part",
    "smote_tomek": "SMOTE then Tomek links on the training part",
}


def _registry() -> dict[str, Strategy]:
    out = {
        "none": Strategy("none", "plain", None, False, "plain training, argmax decision"),
        "none+threshold": Strategy(
            "none+threshold",
            "plain",
            None,
            True,
            "plain training, decision threshold tuned on the validation split",
        ),
    }
    for name, text in _WEIGHT_TEXT.items():
        out[name] = Strategy(name, "class_weight", name, False, text)
    for name, text in _LOSS_TEXT.items():
        out[name] = Strategy(name, "loss", name, False, text)
    for name, text in _RESAMPLE_TEXT.items():
        out[name] = Strategy(name, "resample", name, False, text)
    out["balanced_batches"] = Strategy(
        "balanced_batches",
        "batches",
        "oversample",
        False,
        "BalancedBatches: class-balanced mini-batches redrawn every epoch",
    )
    out["ensemble"] = Strategy(
        "ensemble",
        "ensemble",
        None,
        False,
        "mean class probabilities of the fold's fits of ENSEMBLE_MEMBERS (every model), argmax",
    )
    return out


#: Every strategy :func:`keras_imbalance.compare` knows, by canonical name.
STRATEGIES: dict[str, Strategy] = _registry()

#: Strategies whose fits ``ensemble`` averages (when the run includes them): the recipe measured
#: in docs/benchmarks.md, five ways of training for balanced class priors (inverse-frequency
#: weights, logit adjustment, SMOTE, under-sampling, balanced batches). Left out: ``none``, the
#: damped weights, whose probabilities keep a majority prior, and the other balanced strategies,
#: which repeat these five (``reference``, ``weighted_ce``, ``balanced_softmax``,
#: ``random_over``) or lowered the ensemble when added (``focal``, ``effective_number``,
#: ``borderline_smote1``: yeast4, balanced accuracy 0.821 -> 0.796).
ENSEMBLE_MEMBERS: frozenset[str] = frozenset(
    {"balanced", "logit_adjusted", "smote", "random_under", "balanced_batches"}
)

#: Other spellings accepted for a strategy (normalised: lower case, spaces removed).
ALIASES: dict[str, str] = {
    "none+tunedthreshold": "none+threshold",
    "none+tuned_threshold": "none+threshold",
    "threshold": "none+threshold",
    "tuned_threshold": "none+threshold",
    "plain": "none",
    "class_weight": "balanced",
    "weighted": "weighted_ce",
    "focal_loss": "focal",
    "logit_adjustment": "logit_adjusted",
    "ros": "random_over",
    "rus": "random_under",
    "borderline_smote": "borderline_smote1",
}

#: Strategies run when ``strategies=None``: the baseline and its tuned threshold, every class
#: weight strategy, four losses, four resamplers, balanced batches and the ensemble of the
#: :data:`ENSEMBLE_MEMBERS` fits (``ldam`` and the other resamplers are opt-in). With this package's
#: losses ``balanced_softmax`` equals ``logit_adjusted`` at ``tau = 1`` (both add ``log n_c``
#: to the logits), so the two rows tie.
DEFAULT_STRATEGIES: tuple[str, ...] = (
    "none",
    "none+threshold",
    "balanced",
    "reference",
    "sqrt",
    "log",
    "log_mu",
    "effective_number",
    "weighted_ce",
    "focal",
    "logit_adjusted",
    "balanced_softmax",
    "random_over",
    "random_under",
    "smote",
    "borderline_smote1",
    "balanced_batches",
    "ensemble",
)


def canonical_name(name, argument: str = "strategies") -> str:
    """Canonical strategy name for ``name`` (aliases and spacing accepted)."""
    if not isinstance(name, str):
        expected = "a list of strategy names (str)" if argument == "strategies" else "a str"
        raise invalid(argument, expected, name, kind=TypeError)
    key = "".join(name.lower().split())
    key = ALIASES.get(key, key)
    if key not in STRATEGIES:
        allowed = ", ".join(STRATEGIES)
        raise invalid(argument, f"names among {{{allowed}}} (or their aliases)", name)
    return key


def resolve_strategies(strategies) -> list[Strategy]:
    """Validate a list of strategy names and return the strategies, baseline first.

    ``none`` and ``none+threshold`` are always included (the recommendation needs the
    baseline, and the tuned threshold reuses its fit at no extra cost); duplicates are
    dropped, the user's order is kept otherwise.
    """
    if strategies is None:
        names = list(DEFAULT_STRATEGIES)
    else:
        if isinstance(strategies, str):
            strategies = [strategies]
        try:
            names = list(strategies)
        except TypeError:
            raise invalid(
                "strategies", "a list of strategy names or None", strategies, kind=TypeError
            ) from None
    canon = [canonical_name(n) for n in names]
    ordered = ["none", "none+threshold"] + [n for n in canon if n not in ("none", "none+threshold")]
    seen: list[str] = []
    for n in ordered:
        if n not in seen:
            seen.append(n)
    return [STRATEGIES[n] for n in seen]
