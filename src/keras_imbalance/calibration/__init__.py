"""Calibration after re-weighting or resampling: prior correction and decision thresholds.

Training with class weights, a re-weighted loss or resampled data shifts a model's
probabilities towards the minority classes, as if the training priors were balanced.
This subpackage (numpy only, never imports Keras) undoes or exploits that shift:

- :func:`correct_priors`: Bayes' rule for a known change of class priors;
- :func:`estimate_priors_em`: the deployment priors estimated from unlabelled predictions
  (Saerens, Latinne & Decaestecker 2002);
- :func:`tune_threshold` / :func:`apply_threshold`: a binary decision threshold (exact
  search) or multiclass log-space offsets (coordinate ascent) tuned on validation data for
  F1, G-mean or balanced accuracy, and their application to new probabilities.
"""

from ._priors import correct_priors, estimate_priors_em
from ._threshold import apply_threshold, tune_threshold

__all__ = ["apply_threshold", "correct_priors", "estimate_priors_em", "tune_threshold"]
