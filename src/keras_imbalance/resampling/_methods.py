"""Names of the resampling methods and neighbour searches (no import beyond the standard library).

Kept apart from ``_core`` so that the command line can list them without importing
imbalanced-learn or scikit-learn.
"""

METHODS = (
    "random_over",
    "random_under",
    "smote",
    "borderline_smote1",
    "borderline_smote2",
    "adasyn",
    "smotenc",
    "tomek",
    "smote_tomek",
)
MULTILABEL_METHODS = ("mlsmote", "ml_ros", "ml_rus")  # multi-label y only (Charte et al. 2015)
NEIGHBORS = ("sklearn", "exact", "approximate", "torch")
