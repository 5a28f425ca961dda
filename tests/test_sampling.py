"""Balanced batches: class balance (chi-square), redraws, reachability, SMOTE geometry, seeds."""

import pickle
from concurrent.futures import ThreadPoolExecutor

import keras
import numpy as np
import pytest
from scipy.stats import chisquare
from sklearn.neighbors import NearestNeighbors

import keras_imbalance.sampling as sampling
from keras_imbalance.sampling import BalancedBatches
from keras_imbalance.sampling._plan import _Pools


def imbalanced(n=1000, minority=50, features=3, seed=0):
    """x[:, 0] is the row id, so every batch row can be traced back to its source row."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype("float32")
    x[:, 0] = np.arange(n)
    y = (np.arange(n) >= n - minority).astype(int)
    return x, y


def epoch_rows(ds):
    return np.concatenate([ds[i][0][:, 0] for i in range(len(ds))]).astype(int)


def epoch_labels(ds):
    return np.concatenate([ds[i][1] for i in range(len(ds))])


def test_public_names_have_docstrings():
    for name in sampling.__all__:
        if name == "BalancedSampler":
            pytest.importorskip("torch")
        obj = getattr(sampling, name)
        if name != "STRATEGIES":
            assert obj.__doc__ and "Examples" in obj.__doc__, name


def test_oversample_batches_are_balanced_chisquare():
    x, y = imbalanced(2000, 40)
    ds = BalancedBatches(x, y, batch_size=64, seed=1)
    labels = np.concatenate([epoch_labels(ds) for _ in range(2) if not ds.on_epoch_end()])
    counts = np.bincount(labels, minlength=2)
    assert chisquare(counts).pvalue > 1e-3  # uniform over the 2 classes
    # ... and the same counts are far from the data's own 98 / 2 proportions.
    assert chisquare(counts, f_exp=counts.sum() * np.array([0.98, 0.02])).pvalue < 1e-12
    # every batch holds both classes (a 64-row batch at 50 %: P(one class only) ~ 1e-19)
    assert all(len(np.unique(ds[i][1])) == 2 for i in range(len(ds)))


def test_dict_proportions_chisquare_three_classes():
    y = np.repeat([0, 1, 2], [700, 250, 50])
    x = np.arange(1000, dtype="float32")[:, None]
    wanted = {0: 0.5, 1: 0.3, 2: 0.2}
    ds = BalancedBatches(x, y, strategy=wanted, batch_size=50, seed=3)
    assert ds.epoch_size == 1000 and len(ds) == 20
    counts = np.bincount(epoch_labels(ds), minlength=3)
    assert chisquare(counts, f_exp=1000 * np.array([0.5, 0.3, 0.2])).pvalue > 1e-3
    np.testing.assert_allclose(ds.class_probabilities, [0.5, 0.3, 0.2])


def test_string_labels_and_onehot_labels_are_balanced():
    y = np.array(["cat"] * 90 + ["dog"] * 10)
    x = np.arange(100, dtype="float32")[:, None]
    ds = BalancedBatches(x, y, batch_size=20, seed=0)
    assert list(ds.classes) == ["cat", "dog"]
    labels = epoch_labels(ds)
    assert chisquare([np.sum(labels == "cat"), np.sum(labels == "dog")]).pvalue > 1e-3
    onehot = np.eye(3, dtype="float32")[np.repeat([0, 2], [95, 5])]  # column 1 never hot
    ds = BalancedBatches(x, onehot, batch_size=10, seed=0)
    assert ds.epoch_size == 2 * 95  # absent class 1 is not drawn
    assert np.all(epoch_labels(ds)[:, 1] == 0)


def test_undersample_epoch_size_and_majority_changes_between_epochs():
    x, y = imbalanced(1000, 20)
    ds = BalancedBatches(x, y, strategy="undersample", batch_size=16, seed=0)
    assert ds.epoch_size == 2 * 20 and len(ds) == 3  # k x minority, last batch of 8 kept
    assert [len(ds[i][1]) for i in range(3)] == [16, 16, 8]
    first = set(epoch_rows(ds)[epoch_labels(ds) == 0])
    ds.on_epoch_end()
    second = set(epoch_rows(ds)[epoch_labels(ds) == 0])
    # ~20 of 980 majority rows per epoch: two epochs sharing more than 5 is a 1e-5 event
    assert len(first & second) <= 5 and first != second


def test_every_row_is_reachable():
    x, y = imbalanced(300, 10)
    ds = BalancedBatches(x, y, batch_size=32, seed=7)
    seen = set()
    for _ in range(12):  # P(a majority row unseen in 12 epochs of 290 draws) = e^-12
        seen |= set(epoch_rows(ds).tolist())
        ds.on_epoch_end()
    assert seen == set(range(300))


def test_same_seed_same_batches_any_order_threads_and_pickled_copies():
    x, y = imbalanced(500, 25)
    a = BalancedBatches(x, y, batch_size=32, seed=11, workers=2)
    b = BalancedBatches(x, y, batch_size=32, seed=11)
    order = np.random.default_rng(0).permutation(len(a))
    with ThreadPoolExecutor(4) as pool:
        threaded = dict(zip(order, pool.map(lambda i: a[int(i)], order), strict=True))
    copy = pickle.loads(pickle.dumps(b))  # what a multiprocessing worker holds
    for i in range(len(b)):
        np.testing.assert_array_equal(threaded[i][0], b[i][0])
        np.testing.assert_array_equal(copy[i][0], b[i][0])
    c = BalancedBatches(x, y, batch_size=32, seed=12)
    assert not np.array_equal(epoch_rows(c), epoch_rows(b))
    b.on_epoch_end()
    assert not np.array_equal(epoch_rows(a), epoch_rows(b))  # epoch 1 differs from epoch 0
    a.epoch = 1
    np.testing.assert_array_equal(epoch_rows(a), epoch_rows(b))


def test_sample_weights_follow_their_rows():
    x, y = imbalanced(400, 20)
    w = np.arange(400) / 400.0
    ds = BalancedBatches(x, y, sample_weight=w, batch_size=50, seed=0)
    xb, yb, wb = ds[0]
    np.testing.assert_allclose(wb, xb[:, 0] / 400.0)
    np.testing.assert_array_equal(yb, y[xb[:, 0].astype(int)])
    assert sum(len(ds[i][2]) for i in range(len(ds))) == ds.epoch_size


@pytest.mark.parametrize("shape", [(28, 28, 1), (7, 5)])
def test_images_and_sequences_with_onehot_labels(shape):
    n = 120
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n,) + shape).astype("float32")
    x.reshape(n, -1)[:, 0] = np.arange(n)
    labels = np.repeat([0, 1, 2], [100, 15, 5])
    y = np.eye(3, dtype="float32")[labels]
    ds = BalancedBatches(x, y, batch_size=30, seed=0)
    assert ds.epoch_size == 300 and len(ds) == 10
    xb, yb = ds[3]
    assert xb.shape == (30,) + shape and yb.shape == (30, 3)
    rows = xb.reshape(30, -1)[:, 0].astype(int)
    np.testing.assert_array_equal(xb, x[rows])
    np.testing.assert_array_equal(yb, y[rows])


def test_multi_output_y_stratified_by_named_output():
    x, y = imbalanced(300, 30)
    aux = np.arange(300, dtype="float32") * 2
    ds = BalancedBatches(x, {"cls": y, "aux": aux}, stratify_by="cls", batch_size=40, seed=0)
    xb, yb = ds[0]
    assert set(yb) == {"cls", "aux"}
    rows = xb[:, 0].astype(int)
    np.testing.assert_array_equal(yb["cls"], y[rows])
    np.testing.assert_array_equal(yb["aux"], aux[rows])
    labels = np.concatenate([ds[i][1]["cls"] for i in range(len(ds))])
    assert chisquare(np.bincount(labels)).pvalue > 1e-3
    with pytest.raises(ValueError, match="stratify_by.*'cls', 'aux'"):
        BalancedBatches(x, {"cls": y, "aux": aux})
    listed = BalancedBatches(x, [aux, y], stratify_by=1, seed=0, batch_size=40)
    assert isinstance(listed[0][1], list)


def test_smote_rows_lie_on_segments_between_same_class_neighbours():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 1, (200, 2)), rng.normal(4, 1, (12, 2))]).astype("float64")
    y = np.repeat([0, 1], [200, 12])
    k = 3
    ds = BalancedBatches(x, y, strategy="smote", k_neighbors=k, batch_size=64, seed=5)
    minority = x[y == 1]
    nbrs = NearestNeighbors(n_neighbors=k + 1).fit(minority).kneighbors(minority)[1][:, 1:]
    xb = np.concatenate([ds[i][0] for i in range(len(ds))])
    yb = epoch_labels(ds)
    real = (xb[:, None, :] == x[None]).all(axis=2).any(axis=1)
    assert np.all(yb[~real] == 1)  # synthetic rows are minority rows
    synthetic = xb[~real]
    # expected synthetic share of minority draws: 1 - 12 / 200
    assert abs(len(synthetic) / np.sum(yb == 1) - (1 - 12 / 200)) < 0.05
    for row in synthetic:
        found = False
        for a in range(12):
            for b in nbrs[a]:
                d = minority[b] - minority[a]
                u = np.dot(row - minority[a], d) / np.dot(d, d)
                if -1e-9 <= u <= 1 + 1e-9 and np.allclose(minority[a] + u * d, row, atol=1e-9):
                    found = True
        assert found, row


def test_smote_on_images_interpolates_pixels_and_weights():
    rng = np.random.default_rng(1)
    x = rng.random((60, 4, 4, 1)).astype("float32")
    y = np.repeat([0, 1], [50, 10])
    w = np.repeat([1.0, 3.0], [50, 10])
    ds = BalancedBatches(
        x, y, sample_weight=w, strategy="smote", k_neighbors=2, batch_size=25, seed=0
    )
    xb, yb, wb = ds[0]
    assert xb.dtype == np.float32 and xb.shape == (25, 4, 4, 1)
    np.testing.assert_allclose(wb[yb == 1], 3.0)  # interpolated between equal weights
    assert np.all((xb >= 0) & (xb <= 1))  # convex combinations of pixels in [0, 1)


def test_pools_match_flatnonzero_in_both_storage_modes():
    rng = np.random.default_rng(0)
    for probs in ([0.97, 0.02, 0.01], [0.4, 0.35, 0.25]):
        codes = rng.choice(3, size=200_000, p=probs).astype(np.int8)
        pools = _Pools(codes, np.bincount(codes, minlength=3))
        assert (pools.implicit == 0) == (probs[0] > 0.5)
        for c in range(3):
            np.testing.assert_array_equal(pools.members(c), np.flatnonzero(codes == c))
        if pools.implicit == 0:  # only the minority rows are stored, twice
            assert pools.nbytes == 2 * 4 * int(np.sum(codes != 0))


def test_bad_inputs_raise_clear_errors():
    x, y = imbalanced(100, 4)
    with pytest.raises(ValueError, match="k_neighbors.*4 samples.*lower it to 3"):
        BalancedBatches(x, y, strategy="smote", k_neighbors=5)
    y1 = y.copy()
    y1[-4:-1] = 0
    with pytest.raises(ValueError, match="at least 2 samples.*class 1 with 1 sample"):
        BalancedBatches(x, y1, strategy="smote")
    bad = x.copy()
    bad[17, 1] = np.nan
    with pytest.raises(ValueError, match="finite.*row 17"):
        BalancedBatches(bad, y)
    with pytest.raises(ValueError, match="class 7, which is absent from y"):
        BalancedBatches(x, y, strategy={0: 0.5, 7: 0.5})
    with pytest.raises(ValueError, match="`x`.*100 rows of y.*99 rows"):
        BalancedBatches(x[:99], y)
    with pytest.raises(ValueError, match="`sample_weight`.*100 rows"):
        BalancedBatches(x, y, sample_weight=np.ones(98))
    with pytest.raises(ValueError, match="`strategy`. Expected one of"):
        BalancedBatches(x, y, strategy="random")
    with pytest.raises(TypeError, match="`batch_size`"):
        BalancedBatches(x, y, batch_size=2.5)
    with pytest.raises(ValueError, match="one class per sample"):
        BalancedBatches(x, np.zeros((100, 6), dtype=int) + np.arange(6) % 2)
    with pytest.raises(TypeError, match="floating-point"):
        BalancedBatches(x.astype(int), y, strategy="smote", k_neighbors=2)
    with pytest.raises(IndexError):
        BalancedBatches(x, y, batch_size=50)[10]


def test_torch_sampler_reproduces_the_keras_batches():
    torch = pytest.importorskip("torch")
    from keras_imbalance.sampling import BalancedSampler

    x, y = imbalanced(300, 15)
    sampler = BalancedSampler(y, batch_size=32, seed=4)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(x)), batch_size=32, sampler=sampler
    )
    ds = BalancedBatches(x, y, batch_size=32, seed=4)
    for _ in range(2):
        got = [b[0].numpy() for b in loader]
        assert len(got) == len(ds)
        for i, xb in enumerate(got):
            np.testing.assert_array_equal(xb, ds[i][0])
        ds.on_epoch_end()
    assert sampler.epoch == 2
    labels = y[np.fromiter(iter(sampler), int)]
    assert chisquare(np.bincount(labels)).pvalue > 1e-3
    with pytest.raises(ValueError, match="SMOTE creates rows"):
        BalancedSampler(y, strategy="smote")


@pytest.mark.backend
def test_model_fit_with_balanced_batches_advances_epochs():
    x, y = imbalanced(400, 20, features=4)
    x[:, 0] /= 400.0
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy")
    ds = BalancedBatches(x, y, batch_size=64, seed=0)
    history = model.fit(ds, epochs=2, verbose=0)
    # fit calls on_epoch_end after each epoch (and Keras 3 once more when it starts)
    assert ds.epoch >= 2 and np.all(np.isfinite(history.history["loss"]))
    threaded = BalancedBatches(x, y, batch_size=64, seed=0, workers=2)
    model.fit(threaded, epochs=1, verbose=0)
    assert threaded.epoch >= 1


@pytest.mark.backend
def test_tf_dataset_yields_the_same_batches_per_epoch():
    pytest.importorskip("tensorflow")
    from keras_imbalance.sampling import balanced_tf_dataset

    x, y = imbalanced(200, 10)
    w = np.linspace(0.5, 1.5, 200)
    tf_ds = balanced_tf_dataset(x, y, sample_weight=w, batch_size=48, seed=2)
    ds = BalancedBatches(x, y, sample_weight=w, batch_size=48, seed=2)
    for _ in range(2):
        got = list(tf_ds.as_numpy_iterator())
        assert len(got) == len(ds) and got[-1][0].shape[0] == ds.epoch_size - 48 * (len(ds) - 1)
        for i, (xb, yb, wb) in enumerate(got):
            np.testing.assert_array_equal(yb, ds[i][1])
            np.testing.assert_array_equal(xb, ds[i][0])
            np.testing.assert_allclose(wb, ds[i][2])
        ds.on_epoch_end()
