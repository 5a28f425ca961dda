"""imbalanced-learn's run-time refusals in our own words (layer 1, no Keras).

Some samplers decide only while they run that they cannot resample the data: ADASYN weighs
each row of a class it over-samples by the share of its ``n_neighbors`` nearest rows that
belong to other classes, and stops with a ``RuntimeError`` when that share is 0 for every row
of the class (well-separated classes), or with a ``ValueError`` when the rounded weights ask
for no row at all. :func:`fit_resample` runs a sampler and turns those into one
:func:`~keras_imbalance._validation.invalid` line that names the method, the class and what
to do instead; any other error passes through unchanged.
"""

from __future__ import annotations

import numpy as np

from keras_imbalance._validation import Text, invalid


class ResamplingInfeasible(ValueError):
    """A method cannot resample these rows (ADASYN on separated classes): a ValueError, so
    the command line answers with one line and exit 2. For a caller that skips the method
    instead (``compare``): ``method``, ``label`` (the class it stopped at, as the sampler saw
    it; None when no one class is to blame) and :meth:`reason` (why, naming the class)."""

    def __init__(self, message: str, method: str, template: str, label=None):
        super().__init__(message)
        self.method = method
        self.template = template
        self.label = label

    def reason(self, name=None) -> str:
        """Why, naming the class ``name`` (default: ``label``, as the sampler saw it)."""
        return self.template.format(label=repr(self.label if name is None else name))

    def __reduce__(self):  # rebuilt with every field in a joblib worker's parent
        return (type(self), (str(self), self.method, self.template, self.label))


def fit_resample(sampler, x, labels):
    """``sampler.fit_resample(x, labels)``, with ADASYN's refusals as :class:`ResamplingInfeasible`."""
    try:
        return sampler.fit_resample(x, labels)
    except (RuntimeError, ValueError) as err:
        failure = _adasyn_failure(sampler, x, labels, err)
        if failure is None:
            raise
        raise failure from None


def _adasyn_failure(sampler, x, labels, err):
    from imblearn.over_sampling import ADASYN

    if not isinstance(sampler, ADASYN):
        return None
    text = str(err)
    label = None
    if isinstance(err, RuntimeError) and "neigbours belong to the majority" in text:
        k = sampler.nn_.n_neighbors - 1
        label = _isolated_class(sampler, x, labels)
        template = (
            f"no row of class {{label}} has a row of another class among its {k} nearest "
            "neighbours (the classes are separated), so ADASYN has no row to favour"
        )
    elif isinstance(err, ValueError) and text.startswith("No samples will be generated"):
        template = (
            "ADASYN spreads the few rows to make over many rows of the class, and each "
            "row's share rounds to 0 new rows"
        )
    else:
        return None
    failure = ResamplingInfeasible("", "adasyn", template, label)
    message = invalid(
        "method",
        f"a method that can resample these data: {failure.reason()}; use method='smote' or "
        "'random_over' instead",
        Text("'adasyn'"),
    )
    return ResamplingInfeasible(str(message), "adasyn", template, label)


def _isolated_class(sampler, x, labels):
    """The first class ADASYN over-samples whose rows have no neighbour of another class
    (the one it stopped at), recomputed with its fitted neighbour search."""
    labels = np.asarray(labels)
    for label, n_new in sampler.sampling_strategy_.items():
        if n_new == 0:
            continue
        rows = np.flatnonzero(labels == label)
        sampler.nn_.fit(x)
        near = sampler.nn_.kneighbors(_rows(x, rows), return_distance=False)[:, 1:]
        if not np.any(labels[near] != label):
            return label.item() if isinstance(label, np.generic) else label
    return None  # pragma: no cover - imbalanced-learn stopped at one of them


def _rows(x, rows):
    return x.iloc[rows] if hasattr(x, "iloc") else x[rows]
