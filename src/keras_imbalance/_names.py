"""The names a user types: strategies, metrics, weight strategies, resampling methods.

Standard library only (the resampling methods come from their own standard-library table,
``resampling._methods``), so that the command line parses and checks its flags (and prints
``--help``) without importing numpy, scikit-learn or Keras. The engine's registries
(``comparison.STRATEGIES``, ``comparison.METRICS``, ``weights.WEIGHT_STRATEGIES``,
``resampling.METHODS``, ...) hold the behaviour behind each name; ``tests/test_cli_names.py``
checks that every tuple here equals the registry it names, in order, so a name added to the
engine without being added here (or the reverse) fails the test suite.
"""

from __future__ import annotations

from keras_imbalance.resampling._methods import METHODS

#: Class-weight strategies (``weights.WEIGHT_STRATEGIES``; ``weights --strategy``).
WEIGHT_STRATEGIES = ("balanced", "reference", "sqrt", "log", "log_mu", "effective_number")
#: Resampling methods (``resampling.METHODS``; ``resample --method``): read from the one
#: method table, itself standard library only.
RESAMPLING_METHODS = METHODS
#: ``compare``'s strategies for one class per row (``comparison.STRATEGIES``), in order: the
#: baseline and its tuned threshold, every class-weight strategy, the losses, every resampling
#: method but ``smotenc`` (it needs categorical columns), balanced batches and the ensemble.
STRATEGIES = (
    "none",
    "none+threshold",
    *WEIGHT_STRATEGIES,
    "weighted_ce",
    "focal",
    "logit_adjusted",
    "balanced_softmax",
    "ldam",
    *(method for method in RESAMPLING_METHODS if method != "smotenc"),
    "balanced_batches",
    "ensemble",
)
#: Other spellings ``compare`` accepts (``comparison.ALIASES``): alias -> strategy.
ALIASES = {
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
#: ``compare``'s strategies for a multi-label target (``comparison.MULTILABEL_STRATEGIES``).
MULTILABEL_STRATEGIES = (
    "none",
    "none+threshold",
    "balanced",
    "focal",
    "logit_adjusted",
    "ml_ros",
    "mlsmote",
    "label_batches",
    "powerset_ros",
    "powerset_smote",
    "ensemble",
)
#: ``compare``'s strategies for segmentation masks (``comparison.SEGMENTATION_STRATEGIES``).
SEGMENTATION_STRATEGIES = (
    "none",
    "weighted_ce_balanced",
    "weighted_ce_median_frequency",
    "dice",
    "ce+dice",
    "focal_tversky",
)
#: Strategies renamed since 0.1, per target kind: old name -> name now. The old name is a
#: deprecated alias (a DeprecationWarning, removed in 0.2); results files keep the old name
#: (their format froze it), so that a file written by 0.1 resumes with the same fingerprint.
RENAMED = {"segmentation": {"ce": "none"}}
#: Ranking metrics of ``compare`` (``comparison.METRICS``; ``--metric``).
METRICS = ("balanced_accuracy", "geometric_mean", "macro_f1", "matthews_correlation", "pr_auc")
#: Ranking metrics of a segmentation ``compare`` (``comparison.SEGMENTATION_METRICS``).
SEGMENTATION_METRICS = ("mean_iou", "rare_iou", "mean_dice")


def strategy_key(name: str) -> str:
    """A strategy name as ``compare`` reads it: spaces removed, lower case, aliases resolved."""
    key = "".join(name.lower().split())
    return ALIASES.get(key, key)
