"""Multi-label resampling: MLSMOTE, ML-ROS and ML-RUS (Charte et al. 2015), and the measures
they rest on (IRLbl, MeanIR, CVIR, SCUMBLE). Numpy and scikit-learn; never imports Keras.

For a 0/1 label matrix ``Y`` of shape (N, K) with ``n_l`` positives for label ``l``:

- ``IRLbl(l) = max_j n_j / n_l``: 1 for the most frequent label, large for rare ones;
- ``MeanIR = mean_l IRLbl(l)``, ``MaxIR = max_l IRLbl(l)``, ``CVIR = sd(IRLbl) / MeanIR``;
  a label is a *minority* label when ``IRLbl(l) > MeanIR``, a *majority* one when below;
- ``SCUMBLE = mean_i (1 - G_i / A_i)``, with ``G_i`` and ``A_i`` the geometric and arithmetic
  means of the IRLbl of row ``i``'s positive labels (the Atkinson index of its labels'
  imbalance; 0 for a row with fewer than two labels). High SCUMBLE: rare labels mostly
  appear together with frequent ones, so resampling rows cannot raise one without the other.

Labels with no positive row have an infinite IRLbl and are left out of every mean.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from keras_imbalance._validation import check_keywords, check_number, invalid

_PARAMS = {
    "mlsmote": {"k_neighbors": 5},
    "ml_ros": {"percentage": 25},
    "ml_rus": {"percentage": 25},
}


# --------------------------------------------------------------------------- measures


def _irlbl(counts: np.ndarray) -> np.ndarray:
    """``max_j n_j / n_l``; inf for a label without positives."""
    counts = np.asarray(counts, dtype=np.float64)
    out = np.full(counts.shape, np.inf)
    present = counts > 0
    out[present] = counts.max() / counts[present]
    return out


def _mean_ir(counts: np.ndarray) -> float:
    ir = _irlbl(counts)
    return float(ir[np.isfinite(ir)].mean())


def _label_matrix(y: Any, layout: str | None = None) -> np.ndarray:
    """``y`` read as a multi-label 0/1 matrix (bool (N, K)); other layouts raise."""
    from keras_imbalance.targets import analyse

    if layout is not None and layout != "multilabel":
        raise invalid("layout", "'multilabel' (or None) for multi-label measures", layout)
    analysis = analyse(y, layout="multilabel")
    return analysis.binary_matrix


def multilabel_stats(y: Any) -> dict:
    """Imbalance measures of a multi-label target: IRLbl, MeanIR, MaxIR, CVIR and SCUMBLE.

    See the module docstring for the formulas (Charte et al. 2015 for IRLbl / MeanIR / CVIR,
    Charte et al. 2014 for SCUMBLE). MeanIR near 1 means balanced labels; the multi-label
    resamplers of :func:`keras_imbalance.resample` (``"mlsmote"``, ``"ml_ros"``,
    ``"ml_rus"``) aim to lower it. SCUMBLE above about 0.1 warns that rare labels mostly share
    rows with frequent ones, where resampling rows helps little.

    Parameters
    ----------
    y : array-like of shape (n_samples, n_labels)
        0/1 (or bool) label matrix, or a DataFrame of 0/1 columns; read as multi-label even when
        every row has exactly one positive label.

    Returns
    -------
    dict
        ``n_samples``, ``n_labels``, ``label_counts`` (positives per label), ``irlbl`` (per
        label; ``inf`` for a label without positives), ``mean_ir``, ``max_ir``, ``cvir``,
        ``scumble``, ``scumble_per_label`` (mean SCUMBLE of the rows having each label; 0
        without rows), ``cardinality`` (mean number of positive labels per row).

    References
    ----------
    Charte, Rivera, del Jesus, Herrera, "Addressing imbalance in multilabel classification:
    Measures and random resampling algorithms", Neurocomputing 163 (2015).
    Charte, Rivera, del Jesus, Herrera, "Concurrence among imbalanced labels and its influence
    on multilabel resampling algorithms", HAIS 2014.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([[1, 0, 0], [1, 0, 0], [1, 1, 0], [1, 0, 1], [0, 1, 0], [1, 0, 0]])
    >>> stats = multilabel_stats(y)
    >>> stats["irlbl"], round(stats["mean_ir"], 4)     # counts 5, 2, 1
    ([1.0, 2.5, 5.0], 2.8333)
    >>> # rows 2 and 3 hold two labels: (1 - sqrt(2.5) / 1.75 + 1 - sqrt(5) / 3) / 6
    >>> round(stats["scumble"], 4)
    0.0585
    """
    matrix = _label_matrix(y)
    n, k = matrix.shape
    counts = matrix.sum(axis=0)
    ir = _irlbl(counts)
    finite = ir[np.isfinite(ir)]
    mean_ir = float(finite.mean())
    cvir = float(finite.std(ddof=1) / mean_ir) if finite.size > 1 else 0.0
    scumble_rows = _scumble_rows(matrix, ir)
    per_label = np.zeros(k)
    has = counts > 0
    per_label[has] = (scumble_rows @ matrix[:, has]) / counts[has]
    return {
        "n_samples": int(n),
        "n_labels": int(k),
        "label_counts": counts.astype(int).tolist(),
        "irlbl": ir.tolist(),
        "mean_ir": mean_ir,
        "max_ir": float(finite.max()),
        "cvir": cvir,
        "scumble": float(scumble_rows.mean()),
        "scumble_per_label": per_label.tolist(),
        "cardinality": float(matrix.sum() / n),
    }


def _scumble_rows(matrix: np.ndarray, ir: np.ndarray) -> np.ndarray:
    """``1 - G_i / A_i`` over each row's positive labels (0 below two labels)."""
    active = matrix.sum(axis=1)
    safe = np.where(np.isfinite(ir), ir, 1.0)  # a label without positives is in no row
    log_ir = np.log(safe)
    with np.errstate(invalid="ignore", divide="ignore"):
        geometric = np.exp((matrix @ log_ir) / active)
        arithmetic = (matrix @ safe) / active
        out = 1.0 - geometric / arithmetic
    return np.where(active > 1, out, 0.0)


# --------------------------------------------------------------------------- algorithms


def _check_params(method: str, params: dict) -> dict:
    allowed = _PARAMS[method]
    check_keywords(params, allowed, f"a parameter of method={method!r}")
    out = {**allowed, **params}
    if method == "mlsmote":
        out["k_neighbors"] = check_number("k_neighbors", out["k_neighbors"], low=1, integer=True)
    elif method == "ml_ros":
        out["percentage"] = check_number("percentage", out["percentage"], low=0.0)
    else:
        out["percentage"] = check_number(
            "percentage", out["percentage"], low=0.0, high=100.0, high_inclusive=False
        )
    return out


def _minority_labels(counts: np.ndarray) -> tuple[np.ndarray, float]:
    ir = _irlbl(counts)
    mean_ir = float(ir[np.isfinite(ir)].mean())
    return np.flatnonzero(np.isfinite(ir) & (ir > mean_ir)), mean_ir


def _neighbours(points: np.ndarray, k: int, neighbors: Any) -> np.ndarray:
    """The ``k`` nearest other rows of every row of ``points`` (positions, shape (n, k))."""
    from keras_imbalance.resampling._samplers import _neighbor_backend

    estimator = _neighbor_backend(neighbors, k)
    if isinstance(estimator, int):  # 'sklearn'
        from sklearn.neighbors import NearestNeighbors

        estimator = NearestNeighbors(n_neighbors=k + 1)
    estimator.fit(points)
    # X=None: each row's neighbours without itself (scikit-learn's convention, kept by ours)
    return np.asarray(estimator.kneighbors(None, n_neighbors=k, return_distance=False))


def _mlsmote(points, matrix, k, neighbors, rng):
    """(synthetic rows, their label sets, the minority label each was made for)."""
    counts = matrix.sum(axis=0)
    minority, _ = _minority_labels(counts)
    rows, labels, made_for = [], [], []
    for label in minority:
        bag = np.flatnonzero(matrix[:, label])
        if bag.size < 2:
            raise ValueError(
                f"Invalid value for argument `y`. Expected at least 2 rows having each minority "
                f"label for method='mlsmote' (it interpolates between two). Received: label "
                f"{int(label)} has 1 row (use method='ml_ros')"
            )
        if k + 1 > bag.size:
            raise ValueError(
                f"Invalid value for argument `k_neighbors`. Expected k_neighbors < the number of "
                f"rows having minority label {int(label)} ({bag.size}). Received: "
                f"k_neighbors={k}; lower it to k_neighbors={bag.size - 1} or below"
            )
        near = _neighbours(points[bag], k, neighbors)  # positions within the bag
        ref = near[np.arange(bag.size), rng.randint(k, size=bag.size)]
        gap = rng.random_sample(bag.size)[:, None]
        base = points[bag]
        rows.append(base + gap * (points[bag[ref]] - base))
        # "ranking": a label is set when more than half of the sample + its k neighbours have it
        votes = matrix[bag].astype(np.int64) + matrix[bag[near]].sum(axis=1)
        labels.append(2 * votes > k + 1)
        made_for.append(np.full(bag.size, label))
    if not rows:
        f = points.shape[1]
        return np.empty((0, f)), np.zeros((0, matrix.shape[1]), bool), np.empty(0, np.int64)
    return np.concatenate(rows), np.concatenate(labels), np.concatenate(made_for)


def _ml_ros(matrix, percentage, rng):
    """Source rows of the clones, in the order they were drawn."""
    n = matrix.shape[0]
    left = int(n * percentage / 100)
    counts = matrix.sum(axis=0).astype(np.float64)
    minority, mean_ir = _minority_labels(counts)
    bags = {int(label): np.flatnonzero(matrix[:, label]) for label in minority}
    active = [int(label) for label in minority]
    clones = []
    while left > 0 and active:
        for label in list(active):
            row = bags[label][rng.randint(bags[label].size)]
            clones.append(row)
            counts += matrix[row]
            if counts.max() / counts[label] <= mean_ir:  # no longer a minority label
                active.remove(label)
            left -= 1
            if left == 0:
                break
    return np.asarray(clones, dtype=np.int64)


def _ml_rus(matrix, percentage, rng):
    """Rows kept (ascending) after deleting rows of the majority labels."""
    n = matrix.shape[0]
    left = int(n * percentage / 100)
    counts = matrix.sum(axis=0).astype(np.float64)
    ir = _irlbl(counts)
    mean_ir = float(ir[np.isfinite(ir)].mean())
    majority = np.flatnonzero(np.isfinite(ir) & (ir < mean_ir))
    bags = {int(label): list(np.flatnonzero(matrix[:, label])) for label in majority}
    active = [int(label) for label in majority]
    alive = np.ones(n, dtype=bool)
    while left > 0 and active:
        for label in list(active):
            bag = bags[label]
            while bag:  # draw a living member; members deleted through another label leave
                j = rng.randint(len(bag))
                row = bag[j]
                bag[j] = bag[-1]
                bag.pop()
                if alive[row]:
                    break
            else:
                active.remove(label)
                continue
            alive[row] = False
            counts -= matrix[row]
            if counts[label] == 0 or counts.max() / counts[label] >= mean_ir:
                active.remove(label)
            left -= 1
            if left == 0:
                break
    return np.flatnonzero(alive)


def run_multilabel(method, x_flat, matrix, params, random_state, neighbors):
    """Run one multi-label method.

    Returns ``(source, synthetic rows or None, label matrix of the output, made_for)``:
    ``source[i]`` is the input row of output row ``i`` (-1 = synthetic), original rows first;
    ``made_for`` is the minority label of each synthetic row.
    """
    from sklearn.utils import check_random_state

    rng = check_random_state(random_state)
    n = matrix.shape[0]
    params = _check_params(method, params)
    if method == "mlsmote":
        points = np.asarray(x_flat, dtype=np.float64)
        synth, labels, made_for = _mlsmote(points, matrix, params["k_neighbors"], neighbors, rng)
        source = np.concatenate([np.arange(n), np.full(len(synth), -1)])
        return source, synth, np.concatenate([matrix, labels]), made_for
    if method == "ml_ros":
        source = np.concatenate([np.arange(n), _ml_ros(matrix, params["percentage"], rng)])
    else:
        source = _ml_rus(matrix, params["percentage"], rng)
    return source, None, matrix[source], np.empty(0, np.int64)
