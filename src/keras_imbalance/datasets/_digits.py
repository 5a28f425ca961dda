"""A long-tailed version of scikit-learn's digits, for benchmarks that need many classes."""

from __future__ import annotations

import numpy as np

from .._validation import check_number, check_option, invalid

# Every digit class has at least 174 images; 50 of each go to the balanced test split and
# at most 120 of the remaining ones (>= 124 per class) to the long-tailed training split.
N_TEST_PER_CLASS = 50
N_MAX = 120
N_CLASSES = 10
PROFILES = ("exponential", "step")


def long_tail_counts(n_max, n_classes, imbalance_ratio, profile="exponential"):
    """Per-class training counts of a long-tailed profile (class 0 the head).

    ``exponential``: ``n_c = round(n_max * imbalance_ratio ** (-c / (n_classes - 1)))``;
    ``step``: the first ``n_classes // 2`` classes get ``n_max``, the others
    ``round(n_max / imbalance_ratio)``. Rounding is half-up and every count is at least 1.
    """
    c = np.arange(n_classes, dtype=np.float64)
    if profile == "exponential":
        raw = n_max * imbalance_ratio ** (-c / max(n_classes - 1, 1))
    else:
        raw = np.where(c < n_classes // 2, float(n_max), n_max / imbalance_ratio)
    return np.maximum(np.floor(raw + 0.5), 1).astype(np.int64)


def load_digits_lt(*, imbalance_ratio=100, profile="exponential", random_state=0):
    """Long-tailed digits: a small 10-class benchmark with a known imbalance profile.

    scikit-learn's digits (1,797 images of 8 x 8 pixels, 10 classes, 174 to 183 per class)
    are split per class: ``50`` random images of every class form a *balanced* test split,
    and the training split takes, from the remaining images of class ``c``, the count of
    an exponential long-tail profile with class 0 the head::

        n_c = round(n_max * imbalance_ratio ** (-c / (K - 1))),  n_max = 120, K = 10

    (half-up rounding, at least 1 per class). With the default ``imbalance_ratio=100``
    the training counts are ``[120, 72, 43, 26, 15, 9, 6, 3, 2, 1]`` (297 images) and
    the test split has 500 images (50 per class); the two splits are disjoint.
    ``imbalance_ratio=1`` gives 120 per class; ``imbalance_ratio=10`` gives
    ``[120, 93, 72, 56, 43, 33, 26, 20, 15, 12]``. ``profile="step"`` (Cao et al. 2019)
    gives ``n_max`` to classes 0-4 and ``round(n_max / imbalance_ratio)`` to classes 5-9.

    Parameters
    ----------
    imbalance_ratio : float, default=100
        Head count over tail count before rounding, in ``[1, 120]``.
    profile : {"exponential", "step"}, default="exponential"
        Shape of the per-class training counts.
    random_state : int, default=0
        Seed of the per-class draw and of the shuffling of both splits.

    Returns
    -------
    x_train : ndarray of shape (n_train, 64), float32
        Pixel intensities scaled to ``[0, 1]`` (raw values divided by 16).
    y_train : ndarray of shape (n_train,), int64
        Digit labels, shuffled (classes are not in blocks).
    x_test : ndarray of shape (500, 64), float32
    y_test : ndarray of shape (500,), int64
        50 images of every digit.

    References
    ----------
    Cui, Jia, Lin, Song & Belongie (2019), "Class-Balanced Loss Based on Effective Number
    of Samples" (exponential profile); Cao, Wei, Gaidon, Arechiga & Ma (2019), "Learning
    Imbalanced Datasets with Label-Distribution-Aware Margin Loss" (step profile).
    Data: the UCI "Optical Recognition of Handwritten Digits" test set, via
    :func:`sklearn.datasets.load_digits`.

    Examples
    --------
    >>> import numpy as np
    >>> from keras_imbalance.datasets import load_digits_lt
    >>> x_train, y_train, x_test, y_test = load_digits_lt()
    >>> x_train.shape, x_test.shape
    ((297, 64), (500, 64))
    >>> np.bincount(y_train).tolist()
    [120, 72, 43, 26, 15, 9, 6, 3, 2, 1]
    """
    from sklearn.datasets import load_digits

    ratio = check_number("imbalance_ratio", imbalance_ratio, low=1.0, high=float(N_MAX))
    check_option("profile", profile, PROFILES)
    if isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer)):
        raise invalid("random_state", "an integer seed", random_state, kind=TypeError)
    counts = long_tail_counts(N_MAX, N_CLASSES, ratio, profile)

    digits = load_digits()
    x_all = (digits.data / 16.0).astype(np.float32)
    y_all = digits.target.astype(np.int64)
    rng = np.random.default_rng(random_state)
    train_idx, test_idx = [], []
    for c in range(N_CLASSES):
        idx = rng.permutation(np.flatnonzero(y_all == c))
        test_idx.append(idx[:N_TEST_PER_CLASS])
        train_idx.append(idx[N_TEST_PER_CLASS : N_TEST_PER_CLASS + counts[c]])
    train_idx = rng.permutation(np.concatenate(train_idx))
    test_idx = rng.permutation(np.concatenate(test_idx))
    return x_all[train_idx], y_all[train_idx], x_all[test_idx], y_all[test_idx]
