"""Calibration after re-weighting or resampling: prior correction and decision thresholds.

Training with class weights, a re-weighted loss or resampled data shifts a model's
probabilities towards the minority classes, as if the training priors were balanced.
This subpackage (numpy only, never imports Keras) undoes or exploits that shift:

- :func:`correct_priors`: Bayes' rule for a known change of class priors;
- :func:`estimate_priors_em`: the deployment priors estimated from unlabelled predictions
  (Saerens, Latinne & Decaestecker 2002);
- :func:`tune_threshold` / :func:`apply_threshold`: a binary decision threshold (exact
  search) or multiclass log-space offsets (coordinate ascent) tuned on validation data for
  F1, G-mean, balanced accuracy or a binary cost, and their application to new probabilities;
- :func:`cost_matrix`, :func:`bayes_decision`, :func:`expected_cost`: misclassification
  costs, the decision of least expected cost and the mean cost of decisions.
"""

from ._costs import bayes_decision, cost_matrix, expected_cost
from ._priors import correct_priors, estimate_priors_em
from ._threshold import apply_threshold, tune_threshold

__all__ = [
    "apply_threshold",
    "bayes_decision",
    "correct_priors",
    "cost_matrix",
    "estimate_priors_em",
    "expected_cost",
    "tune_threshold",
]
