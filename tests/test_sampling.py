"""Balanced batches: class balance (chi-square), exact per-epoch counts without replacement,
redraws, reachability, SMOTE geometry, seeds."""

import pickle
from concurrent.futures import ThreadPoolExecutor

import keras
import numpy as np
import pytest
from scipy.stats import chisquare, spearmanr
from sklearn.neighbors import NearestNeighbors

import keras_imbalance.sampling as sampling
from keras_imbalance.sampling import BalancedBatches
from keras_imbalance.sampling._inputs import _prepare
from keras_imbalance.sampling._plan import _exact_counts, _permute, _Pools


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
        if name != "BATCH_STRATEGIES":
            assert obj.__doc__ and "Examples" in obj.__doc__, name


@pytest.mark.parametrize("replacement", [False, True])
def test_oversample_batches_are_balanced_chisquare(replacement):
    x, y = imbalanced(2000, 40)
    ds = BalancedBatches(x, y, batch_size=64, random_state=1, replacement=replacement)
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
    ds = BalancedBatches(x, y, strategy=wanted, batch_size=50, random_state=3)
    assert ds.epoch_size == 1000 and len(ds) == 20
    counts = np.bincount(epoch_labels(ds), minlength=3)
    assert chisquare(counts, f_exp=1000 * np.array([0.5, 0.3, 0.2])).pvalue > 1e-3
    np.testing.assert_allclose(ds.class_probabilities, [0.5, 0.3, 0.2])


def test_string_labels_and_onehot_labels_are_balanced():
    y = np.array(["cat"] * 90 + ["dog"] * 10)
    x = np.arange(100, dtype="float32")[:, None]
    ds = BalancedBatches(x, y, batch_size=20, random_state=0)
    assert list(ds.classes) == ["cat", "dog"]
    labels = epoch_labels(ds)
    assert chisquare([np.sum(labels == "cat"), np.sum(labels == "dog")]).pvalue > 1e-3
    onehot = np.eye(3, dtype="float32")[np.repeat([0, 2], [95, 5])]  # column 1 never hot
    ds = BalancedBatches(x, onehot, batch_size=10, random_state=0)
    assert ds.epoch_size == 2 * 95  # absent class 1 is not drawn
    assert np.all(epoch_labels(ds)[:, 1] == 0)


def test_undersample_epoch_size_and_majority_changes_between_epochs():
    x, y = imbalanced(1000, 20)
    ds = BalancedBatches(x, y, strategy="undersample", batch_size=16, random_state=0)
    assert ds.epoch_size == 2 * 20 and len(ds) == 3  # k x minority, last batch of 8 kept
    assert [len(ds[i][1]) for i in range(3)] == [16, 16, 8]
    first = set(epoch_rows(ds)[epoch_labels(ds) == 0])
    ds.on_epoch_end()
    second = set(epoch_rows(ds)[epoch_labels(ds) == 0])
    # ~20 of 980 majority rows per epoch: two epochs sharing more than 5 is a 1e-5 event
    assert len(first & second) <= 5 and first != second


def plan_of(y, **kwargs):
    """The draw plan alone (no x): rows of a whole epoch are cheap to inspect."""
    return _prepare(None, y, need_x=False, **kwargs)[1]


def test_undersample_epoch_shows_every_minority_row_once_and_distinct_majority_rows():
    x, y = imbalanced(1000, 37)
    ds = BalancedBatches(x, y, strategy="undersample", batch_size=16, random_state=3)
    seen = []
    for _ in range(3):
        rows, labels = epoch_rows(ds), epoch_labels(ds)
        assert len(rows) == 2 * 37
        np.testing.assert_array_equal(np.sort(rows[labels == 1]), np.arange(963, 1000))
        majority = rows[labels == 0]
        assert len(majority) == 37 and len(np.unique(majority)) == 37  # no repeats
        seen.append(set(majority.tolist()))
        ds.on_epoch_end()
    # a fresh subset each epoch: 37 of 963 rows, expected overlap 1.4, P(overlap > 8) < 1e-5
    assert len(seen[0] & seen[1]) <= 8 and len(seen[1] & seen[2]) <= 8


def test_oversample_epoch_shows_every_majority_row_once_and_minority_rows_evenly():
    y = np.repeat([0, 1, 2], [9000, 700, 300])  # rows sorted by class
    plan = plan_of(y, strategy="oversample", batch_size=100, random_state=1)
    assert plan.epoch_size == 27_000 and plan.num_batches == 270  # two blocks of 16,300 slots
    for epoch in (0, 1):
        rows = plan.epoch_indices(epoch)
        counts = np.bincount(rows, minlength=10_000)
        np.testing.assert_array_equal(np.bincount(y[rows]), [9000, 9000, 9000])
        assert np.all(counts[:9000] == 1)
        # 9000 / 700 = 12.86: every row 12 or 13 times, 9000 - 12 * 700 = 600 of them 13 times
        assert set(counts[9000:9700]) == {12, 13} and np.sum(counts[9000:9700] == 13) == 600
        assert np.all(counts[9700:] == 30)  # 9000 / 300 = 30 exactly
    extra = [
        set(np.flatnonzero(np.bincount(plan.epoch_indices(e))[9000:9700] == 13)) for e in (0, 1)
    ]
    assert extra[0] != extra[1]  # which rows get the 13th copy is redrawn


def test_dict_proportions_give_exact_counts_per_epoch():
    y = np.repeat([0, 1, 2], [700, 250, 50])
    plan = plan_of(y, strategy={0: 0.5, 1: 0.3, 2: 0.2}, batch_size=64, random_state=0)
    rows = plan.epoch_indices(0)
    counts = np.bincount(rows, minlength=1000)
    np.testing.assert_array_equal(np.bincount(y[rows]), [500, 300, 200])
    assert np.all(counts[:700] <= 1) and np.sum(counts[:700]) == 500  # a subset, no repeats
    assert set(counts[700:950]) == {1, 2} and np.sum(counts[700:950] == 2) == 50
    assert np.all(counts[950:] == 4)
    # largest remainders: 10 * (0.45, 0.35, 0.2) = (4.5, 3.5, 2) -> (5, 3, 2)
    np.testing.assert_array_equal(_exact_counts(10, np.array([0.45, 0.35, 0.2])), [5, 3, 2])
    np.testing.assert_array_equal(_exact_counts(7, np.array([0.5, 0.0, 0.5])), [4, 0, 3])


def test_without_replacement_order_is_unrelated_to_row_order():
    y = np.repeat([0, 1], [6000, 400])  # sorted by class, as rows sorted by time often are
    plan = plan_of(y, strategy="oversample", batch_size=64, random_state=2)
    rows = plan.epoch_indices(0)
    slot = np.arange(rows.size)
    majority = y[rows] == 0
    # majority rows appear once each: their epoch position is uncorrelated with their row id
    assert spearmanr(rows[majority], slot[majority]).pvalue > 1e-3
    # ... and spread evenly over the epoch (chi-square over 20 equal slot bins, both classes)
    for c in (0, 1):
        per_bin = np.bincount(slot[y[rows] == c] * 20 // rows.size, minlength=20)
        assert chisquare(per_bin).pvalue > 1e-3
    # batch means of majority row ids do not drift with the batch index
    means = [rows[i : i + 64][majority[i : i + 64]].mean() for i in range(0, rows.size, 64)]
    assert spearmanr(np.arange(len(means)), means).pvalue > 1e-3
    # per-batch class counts scatter around 32 like a hypergeometric draw (variance ~ 16)
    minority = np.add.reduceat((~majority).astype(int), np.arange(0, rows.size, 64))[:-1]
    assert abs(minority.mean() - 32) < 1 and 10 < minority.var() < 24


def test_permutation_is_a_bijection_and_uniform_over_keys():
    for n in (1, 2, 3, 5, 64, 1000, 65_537):
        got = _permute(np.arange(n, dtype=np.uint64), n, key=12345)
        np.testing.assert_array_equal(np.sort(got), np.arange(n))
    # the image of 0 under 5,000 keys is uniform over [0, 7) (chi-square)
    images = [int(_permute(np.zeros(1, dtype=np.uint64), 7, key=k)[0]) for k in range(5000)]
    assert chisquare(np.bincount(images, minlength=7)).pvalue > 1e-3
    a = _permute(np.arange(1000, dtype=np.uint64), 1000, key=1)
    b = _permute(np.arange(1000, dtype=np.uint64), 1000, key=2)
    assert np.mean(a == b) < 0.02


def test_permutation_by_table_equals_the_network_walked_element_by_element():
    from keras_imbalance.sampling._plan import _feistel, _round_keys

    rng = np.random.default_rng(4)
    for n in (2, 3, 40, 64, 65, 1100, 5000, 70_000):
        bits, key = int(n - 1).bit_length(), int(rng.integers(2**62))
        keys = _round_keys(key)
        for m in (1, 7, n // 3 + 1, n):  # table walks and network walks both
            x = rng.choice(n, size=min(m, n), replace=False).astype(np.uint64)
            expected = []
            for v in x[:300]:  # the definition: apply the network until the value is < n
                v = _feistel(np.array([v]), bits, keys)
                while v[0] >= n:
                    v = _feistel(v, bits, keys)
                expected.append(int(v[0]))
            np.testing.assert_array_equal(_permute(x, n, key)[:300], expected)


def test_blocks_give_the_same_batches_in_any_order():
    y = np.repeat([0, 1], [20_000, 100])
    forward = plan_of(y, batch_size=64, random_state=9)  # 40,000 draws: 3 blocks of 256 batches
    backward = plan_of(y, batch_size=64, random_state=9)
    n = forward.num_batches
    ahead = {i: forward.draws(1, i).index for i in range(n)}
    for i in reversed(range(n)):
        np.testing.assert_array_equal(backward.draws(1, i).index, ahead[i])
    copy = pickle.loads(pickle.dumps(forward))
    np.testing.assert_array_equal(copy.draws(1, 300).index, ahead[300])


def test_with_replacement_every_row_is_reachable_and_an_epoch_repeats_rows():
    x, y = imbalanced(300, 10)
    ds = BalancedBatches(x, y, batch_size=32, random_state=7, replacement=True)
    majority = epoch_rows(ds)[epoch_labels(ds) == 0]
    # 290 draws among 290 rows with replacement: about 1 - 1/e = 63 % distinct
    assert 0.55 < len(np.unique(majority)) / 290 < 0.72
    seen = set()
    for _ in range(12):  # P(a majority row unseen in 12 epochs of 290 draws) = e^-12
        seen |= set(epoch_rows(ds).tolist())
        ds.on_epoch_end()
    assert seen == set(range(300))


@pytest.mark.parametrize("replacement", [False, True])
def test_same_seed_same_batches_any_order_threads_and_pickled_copies(replacement):
    x, y = imbalanced(500, 25)
    a = BalancedBatches(x, y, batch_size=32, random_state=11, workers=2, replacement=replacement)
    b = BalancedBatches(x, y, batch_size=32, random_state=11, replacement=replacement)
    order = np.random.default_rng(0).permutation(len(a))
    with ThreadPoolExecutor(4) as pool:
        threaded = dict(zip(order, pool.map(lambda i: a[int(i)], order), strict=True))
    copy = pickle.loads(pickle.dumps(b))  # what a multiprocessing worker holds
    for i in range(len(b)):
        np.testing.assert_array_equal(threaded[i][0], b[i][0])
        np.testing.assert_array_equal(copy[i][0], b[i][0])
    c = BalancedBatches(x, y, batch_size=32, random_state=12, replacement=replacement)
    assert not np.array_equal(epoch_rows(c), epoch_rows(b))
    b.on_epoch_end()
    assert not np.array_equal(epoch_rows(a), epoch_rows(b))  # epoch 1 differs from epoch 0
    a.epoch = 1
    np.testing.assert_array_equal(epoch_rows(a), epoch_rows(b))


def test_sample_weights_follow_their_rows():
    x, y = imbalanced(400, 20)
    w = np.arange(400) / 400.0
    ds = BalancedBatches(x, y, sample_weight=w, batch_size=50, random_state=0)
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
    ds = BalancedBatches(x, y, batch_size=30, random_state=0)
    assert ds.epoch_size == 300 and len(ds) == 10
    xb, yb = ds[3]
    assert xb.shape == (30,) + shape and yb.shape == (30, 3)
    rows = xb.reshape(30, -1)[:, 0].astype(int)
    np.testing.assert_array_equal(xb, x[rows])
    np.testing.assert_array_equal(yb, y[rows])


def test_multi_output_y_stratified_by_named_output():
    x, y = imbalanced(300, 30)
    aux = np.arange(300, dtype="float32") * 2
    ds = BalancedBatches(
        x, {"cls": y, "aux": aux}, stratify_by="cls", batch_size=40, random_state=0
    )
    xb, yb = ds[0]
    assert set(yb) == {"cls", "aux"}
    rows = xb[:, 0].astype(int)
    np.testing.assert_array_equal(yb["cls"], y[rows])
    np.testing.assert_array_equal(yb["aux"], aux[rows])
    labels = np.concatenate([ds[i][1]["cls"] for i in range(len(ds))])
    assert chisquare(np.bincount(labels)).pvalue > 1e-3
    with pytest.raises(ValueError, match="stratify_by.*'cls', 'aux'"):
        BalancedBatches(x, {"cls": y, "aux": aux})
    listed = BalancedBatches(x, [aux, y], stratify_by=1, random_state=0, batch_size=40)
    assert isinstance(listed[0][1], list)


@pytest.mark.parametrize("replacement", [False, True])
def test_smote_rows_lie_on_segments_between_same_class_neighbours(replacement):
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 1, (200, 2)), rng.normal(4, 1, (12, 2))]).astype("float64")
    y = np.repeat([0, 1], [200, 12])
    k = 3
    ds = BalancedBatches(
        x,
        y,
        strategy="smote",
        k_neighbors=k,
        batch_size=64,
        random_state=5,
        replacement=replacement,
    )
    minority = x[y == 1]
    nbrs = NearestNeighbors(n_neighbors=k + 1).fit(minority).kneighbors(minority)[1][:, 1:]
    xb = np.concatenate([ds[i][0] for i in range(len(ds))])
    yb = epoch_labels(ds)
    real = (xb[:, None, :] == x[None]).all(axis=2).any(axis=1)
    assert np.all(yb[~real] == 1)  # synthetic rows are minority rows
    synthetic = xb[~real]
    if replacement:  # expected synthetic share of minority draws: 1 - 12 / 200
        assert abs(len(synthetic) / np.sum(yb == 1) - (1 - 12 / 200)) < 0.05
    else:  # exactly one real copy of each of the 12 minority rows, 188 synthetic rows
        assert len(synthetic) == 200 - 12
        real_minority = xb[real & (yb == 1)]
        assert len(real_minority) == 12 and len(np.unique(real_minority, axis=0)) == 12
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
        x, y, sample_weight=w, strategy="smote", k_neighbors=2, batch_size=25, random_state=0
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
    with pytest.raises(
        TypeError, match="`replacement`. Expected a bool.*Received: replacement='yes'"
    ):
        BalancedBatches(x, y, replacement="yes")


@pytest.mark.parametrize("replacement", [False, True])
def test_torch_sampler_reproduces_the_keras_batches(replacement):
    torch = pytest.importorskip("torch")
    from keras_imbalance.sampling import BalancedSampler

    x, y = imbalanced(300, 15)
    sampler = BalancedSampler(y, batch_size=32, random_state=4, replacement=replacement)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(x)), batch_size=32, sampler=sampler
    )
    ds = BalancedBatches(x, y, batch_size=32, random_state=4, replacement=replacement)
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
    ds = BalancedBatches(x, y, batch_size=64, random_state=0)
    history = model.fit(ds, epochs=2, verbose=0)
    # fit calls on_epoch_end after each epoch (and Keras 3 once more when it starts)
    assert ds.epoch >= 2 and np.all(np.isfinite(history.history["loss"]))
    threaded = BalancedBatches(x, y, batch_size=64, random_state=0, workers=2)
    model.fit(threaded, epochs=1, verbose=0)
    assert threaded.epoch >= 1


@pytest.mark.backend
def test_tf_dataset_yields_the_same_batches_per_epoch():
    pytest.importorskip("tensorflow")
    from keras_imbalance.sampling import balanced_tf_dataset

    x, y = imbalanced(200, 10)
    w = np.linspace(0.5, 1.5, 200)
    tf_ds = balanced_tf_dataset(x, y, sample_weight=w, batch_size=48, random_state=2)
    ds = BalancedBatches(x, y, sample_weight=w, batch_size=48, random_state=2)
    for _ in range(2):
        got = list(tf_ds.as_numpy_iterator())
        assert len(got) == len(ds) and got[-1][0].shape[0] == ds.epoch_size - 48 * (len(ds) - 1)
        for i, (xb, yb, wb) in enumerate(got):
            np.testing.assert_array_equal(yb, ds[i][1])
            np.testing.assert_array_equal(xb, ds[i][0])
            np.testing.assert_allclose(wb, ds[i][2])
        ds.on_epoch_end()


def test_seed_is_the_deprecated_name_of_random_state():
    x, y = imbalanced(200, 20)
    with pytest.warns(DeprecationWarning, match="random_state="):
        old = BalancedBatches(x, y, batch_size=16, seed=3)
    new = BalancedBatches(x, y, batch_size=16, random_state=3)
    np.testing.assert_array_equal(old[0][0], new[0][0])
    assert new.random_state == 3
    with pytest.warns(DeprecationWarning, match="random_state"):
        assert new.seed == 3
    with pytest.raises(TypeError, match="`seed`"):
        BalancedBatches(x, y, random_state=1, seed=1)
    with pytest.raises(TypeError, match="argument `random_state`"):
        BalancedBatches(x, y, random_state="a")
    import keras_imbalance.sampling as sampling

    assert sampling.BATCH_STRATEGIES == ("oversample", "undersample", "smote")
    with pytest.warns(DeprecationWarning, match="BATCH_STRATEGIES"):
        assert sampling.STRATEGIES is sampling.BATCH_STRATEGIES


def test_balanced_tf_dataset_takes_the_arguments_of_balanced_batches():
    """One declaration of the arguments: those of BalancedBatches but ``shard`` and the
    PyDataset keywords; another name is refused before tensorflow is needed."""
    import inspect

    from keras_imbalance.sampling import BalancedBatches, balanced_tf_dataset

    ours = inspect.signature(balanced_tf_dataset).parameters
    theirs = inspect.signature(BalancedBatches).parameters
    assert list(ours) == [n for n in theirs if n not in ("shard", "kwargs")]
    assert all(ours[n].default == theirs[n].default for n in ours)
    with pytest.raises(TypeError, match="workers"):
        balanced_tf_dataset(np.zeros((4, 1)), np.array([0, 0, 1, 1]), workers=2)
