"""Label-balanced batches (mode='labels'): exact per-epoch label shares from the plan, the
move toward balance against plain shuffling, determinism across workers and copies, errors."""

import pickle
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from keras_imbalance.sampling import BalancedBatches


def tagged(seed=0):
    """60 x [1,0,0], 20 x [0,1,0], 10 x [1,0,1], 10 x [0,0,0]; x[:, 0] is the row id.

    Positives 70 / 20 / 10 (and 10 rows without a label). Rarest-label groups: label 0 (60 rows,
    n = 70), label 1 (20, n = 20), label 2 (10, n = 10), none (10): draw probabilities
    proportional to 60/70, 1, 1, 1.
    """
    y = np.array([[1, 0, 0]] * 60 + [[0, 1, 0]] * 20 + [[1, 0, 1]] * 10 + [[0, 0, 0]] * 10)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))
    y = y[order]
    x = np.stack([np.arange(len(y)), rng.normal(size=len(y))], axis=1).astype("float32")
    return x, y


def epoch(ds):
    rows = np.concatenate([ds[i][0][:, 0] for i in range(len(ds))]).astype(int)
    labels = np.concatenate([ds[i][1] for i in range(len(ds))])
    return rows, labels


def test_exact_label_shares_per_epoch_and_balance_against_shuffling():
    x, y = tagged()
    ds = BalancedBatches(x, y, batch_size=16, random_state=3, mode="labels")
    assert ds.epoch_size == 100 and ds.classes.tolist() == [0, 1, 2, -1]
    np.testing.assert_allclose(ds.class_probabilities, np.array([60 / 70, 1, 1, 1]) / (60 / 70 + 3))
    for e in range(3):
        ds.epoch = e
        rows, labels = epoch(ds)
        np.testing.assert_array_equal(labels, y[rows])
        # E_g = 100 p_g = 22.2, 25.9, 25.9, 25.9 -> largest remainders: 22, 26, 26, 26 draws,
        # so the positives per epoch are exactly 22 + 26, 26 and 26, whatever the seed and epoch
        np.testing.assert_array_equal(labels.sum(axis=0), [48, 26, 26])
        # every row of the groups drawn more often than they have rows appears (26 > 20, 10)
        assert set(np.flatnonzero(y[:, 1])) <= set(rows)
    # plain shuffling shows the data's own shares, 0.70 / 0.20 / 0.10: max / min 7; here 1.85
    shuffled = y.mean(axis=0)
    balanced = labels.mean(axis=0)
    assert balanced.max() / balanced.min() < shuffled.max() / shuffled.min() / 3
    assert balanced[2] > 2 * shuffled[2]


def test_without_co_occurrence_it_is_class_balance_over_labels():
    y = np.eye(3, dtype=int)[[0] * 70 + [1] * 20 + [2] * 10]
    x = np.arange(100, dtype="float32")[:, None]
    ds = BalancedBatches(x, y, batch_size=10, random_state=0, mode="labels")
    _, labels = epoch(ds)
    np.testing.assert_array_equal(labels.sum(axis=0), [34, 33, 33])


def test_skewed_labels_move_toward_balance_over_many_labels():
    rng = np.random.default_rng(0)
    priors = np.array([0.4, 0.2, 0.1, 0.05, 0.02, 0.01])
    y = (rng.random((3000, 6)) < priors).astype(np.int8)
    x = np.arange(3000, dtype="float32")[:, None]
    ds = BalancedBatches(x, y, batch_size=64, random_state=1, mode="labels")
    _, labels = epoch(ds)
    before, after = y.mean(axis=0), labels.mean(axis=0)
    assert np.all(after[2:] > before[2:])  # every rare label gains
    assert after.max() / after.min() < (before.max() / before.min()) / 5


@pytest.mark.parametrize("replacement", [False, True])
def test_same_batches_with_threads_pickled_copies_and_the_torch_sampler(replacement):
    x, y = tagged(1)
    a = BalancedBatches(
        x, y, batch_size=8, random_state=5, mode="labels", workers=2, replacement=replacement
    )
    b = BalancedBatches(x, y, batch_size=8, random_state=5, mode="labels", replacement=replacement)
    order = np.random.default_rng(0).permutation(len(a))
    with ThreadPoolExecutor(4) as pool:
        threaded = dict(zip(order, pool.map(lambda i: a[int(i)], order), strict=True))
    copy = pickle.loads(pickle.dumps(b))
    for i in range(len(b)):
        np.testing.assert_array_equal(threaded[i][0], b[i][0])
        np.testing.assert_array_equal(copy[i][1], b[i][1])
    other = BalancedBatches(
        x, y, batch_size=8, random_state=6, mode="labels", replacement=replacement
    )
    assert not np.array_equal(epoch(other)[0], epoch(b)[0])
    torch = pytest.importorskip("torch")
    from keras_imbalance.sampling import BalancedSampler

    sampler = BalancedSampler(
        y, batch_size=8, random_state=5, mode="labels", replacement=replacement
    )
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(x)), batch_size=8, sampler=sampler
    )
    got = np.concatenate([xb[0].numpy() for xb in loader])
    np.testing.assert_array_equal(got, np.concatenate([b[i][0] for i in range(len(b))]))


def test_weights_follow_rows_and_bad_inputs_raise():
    x, y = tagged()
    w = np.linspace(0.5, 1.5, 100)
    ds = BalancedBatches(x, y, sample_weight=w, batch_size=32, random_state=0, mode="labels")
    xb, yb, wb = ds[0]
    np.testing.assert_allclose(wb, w[xb[:, 0].astype(int)])
    with pytest.raises(ValueError, match="`mode`. Expected one of \\('classes', 'labels'\\)"):
        BalancedBatches(x, y, mode="label")
    with pytest.raises(ValueError, match="`y`. Expected a multi-label 0/1 matrix"):
        BalancedBatches(x, y[:, 0] * 3, mode="labels")
    with pytest.raises(ValueError, match="`strategy`. Expected 'oversample' \\(the default\\)"):
        BalancedBatches(x, y, strategy="undersample", mode="labels")


@pytest.mark.backend
def test_tf_dataset_in_labels_mode_yields_the_same_batches():
    pytest.importorskip("tensorflow")
    from keras_imbalance.sampling import balanced_tf_dataset

    x, y = tagged()
    tf_ds = balanced_tf_dataset(x, y, batch_size=16, random_state=2, mode="labels")
    ds = BalancedBatches(x, y, batch_size=16, random_state=2, mode="labels")
    got = list(tf_ds.as_numpy_iterator())
    assert len(got) == len(ds)
    for i, (xb, yb) in enumerate(got):
        np.testing.assert_array_equal(xb, ds[i][0])
        np.testing.assert_array_equal(yb, ds[i][1])
