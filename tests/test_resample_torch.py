"""TorchNeighbors (neighbors="torch"): the neighbours of scikit-learn, computed with torch.

CI runs the CPU device only; where CUDA is available the same tests also run on "cuda"
(benchmarks/bench_resample_gpu.py checks 1e6-row outputs on a GPU machine).
"""

import builtins
import pickle
import subprocess
import sys

import numpy as np
import pytest
from imblearn.over_sampling import SMOTE, BorderlineSMOTE
from scipy import sparse
from sklearn.base import clone
from sklearn.neighbors import NearestNeighbors

from keras_imbalance.resampling import NEIGHBORS, TorchNeighbors, resample

torch = pytest.importorskip("torch")

DEVICES = [
    "cpu",
    pytest.param(
        "cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
    ),
]


def _exact_reference(x, q, k):
    """Brute force with the direct formula, ties broken by the smaller index."""
    d2 = ((q[:, None, :] - x[None, :, :]) ** 2).sum(-1)
    order = np.lexsort((np.broadcast_to(np.arange(len(x)), d2.shape), d2), axis=-1)[:, :k]
    return np.take_along_axis(d2, order, 1), order


def _with_duplicates(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(1500, 20))
    x[1000:1100] = x[:100]  # 100 rows with one duplicate each
    x[1100:1130] = x[200]  # one row repeated 31 times: more copies than candidates
    return x


@pytest.mark.parametrize("device", DEVICES)
def test_hand_computed_example(device):
    x = np.array([[0.0], [1.0], [3.0], [7.0]])
    nn = TorchNeighbors(n_neighbors=2, device=device).fit(x)
    dist, ind = nn.kneighbors([[2.9], [6.0]])
    np.testing.assert_array_equal(ind, [[2, 1], [3, 2]])
    np.testing.assert_allclose(dist, [[0.1, 1.9], [1.0, 3.0]])
    # X=None: the point itself is left out (0 -> 1, 2; 3 -> 2, 1)
    np.testing.assert_array_equal(
        nn.kneighbors(return_distance=False), [[1, 2], [0, 2], [1, 0], [2, 1]]
    )


@pytest.mark.parametrize("device", DEVICES)
def test_equals_sklearn_on_distinct_rows(device):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3000, 20))
    queries = x[:700] + 0.01
    ref_d, ref_i = NearestNeighbors(n_neighbors=6).fit(x).kneighbors(queries)
    # a small block size: several query blocks
    est = TorchNeighbors(n_neighbors=6, device=device, block_size=97).fit(x)
    got_d, got_i = est.kneighbors(queries)
    np.testing.assert_array_equal(got_i, ref_i)
    np.testing.assert_allclose(got_d, ref_d, rtol=1e-7, atol=1e-6)
    ref_self = NearestNeighbors(n_neighbors=3).fit(x).kneighbors(return_distance=False)
    np.testing.assert_array_equal(est.kneighbors(n_neighbors=3, return_distance=False), ref_self)
    graph = est.kneighbors_graph(queries[:50], n_neighbors=4, mode="distance")
    ref_graph = (
        NearestNeighbors(n_neighbors=4).fit(x).kneighbors_graph(queries[:50], mode="distance")
    )
    assert sparse.issparse(graph)
    np.testing.assert_allclose(graph.toarray(), ref_graph.toarray(), atol=1e-6)


def test_column_blocks_and_retries_under_a_small_memory_budget(monkeypatch):
    from keras_imbalance.resampling import _torch_neighbors

    # 200 kB: the fitted points are split into blocks of 65 columns and the wide retries of
    # the 31 copies of row 200 are re-ranked a few queries at a time
    monkeypatch.setattr(_torch_neighbors, "_CPU_BUDGET", 200_000)
    x = _with_duplicates(seed=3)
    est = TorchNeighbors(n_neighbors=6, device="cpu").fit(x)
    assert est._plan(22)[1] < len(x)
    got_d, got_i = est.kneighbors(x[::5])
    ref_d2, ref_i = _exact_reference(x, x[::5], 6)
    np.testing.assert_array_equal(got_i, ref_i)
    np.testing.assert_allclose(got_d**2, ref_d2, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("self_query", [False, True])
def test_duplicates_same_rows_as_sklearn_and_ties_by_index(self_query, device):
    x = _with_duplicates()
    k = 11
    est = TorchNeighbors(n_neighbors=k, device=device).fit(x)
    ref = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(x)
    if self_query:
        got_d, got_i = est.kneighbors()
        ref_d, ref_i = ref.kneighbors()
    else:
        got_d, got_i = est.kneighbors(x[::3])
        ref_d, ref_i = ref.kneighbors(x[::3])
    # scikit-learn orders equal distances arbitrarily: between duplicates the index may
    # differ, the neighbour rows (what a sampler interpolates to) and distances may not
    np.testing.assert_array_equal(x[got_i], x[ref_i])
    np.testing.assert_allclose(got_d, ref_d, atol=1e-6)
    # and the index order is the documented one: (distance, index)
    q = x if self_query else x[::3]
    ref2, ref_ind = _exact_reference(x, q, k + 1 if self_query else k)
    if self_query:
        # each point drops itself; where it is not among the k + 1 (more copies than
        # neighbours, rows 1111-1129), the first column is dropped, as scikit-learn does
        ref_ind = np.array(
            [[j for j in row if j != i] if i in row else row[1:] for i, row in enumerate(ref_ind)]
        )
        assert (got_i != np.arange(len(x))[:, None]).all()
        np.testing.assert_array_equal(got_i[1129], np.arange(1100, 1111))
    else:
        np.testing.assert_allclose(got_d**2, ref2, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(got_i, ref_ind)


@pytest.mark.parametrize("device", DEVICES)
def test_certificate_falls_back_where_float32_cannot_rank(device):
    # two clusters at +-1000 with a spread of 0.01: float32 distances there are pure rounding
    # noise (||b||^2 ~ 5e6, float32 step ~ 0.5 >> distances ~ 5e-4), so only the exact
    # re-ranking with wider candidate sets gives the right answer
    rng = np.random.default_rng(2)
    x = np.concatenate(
        [1e3 + 1e-2 * rng.normal(size=(400, 5)), -1e3 + 1e-2 * rng.normal(size=(400, 5))]
    )
    est = TorchNeighbors(n_neighbors=5, device=device).fit(x)
    ref_d, ref_i = NearestNeighbors(n_neighbors=5, algorithm="brute").fit(x).kneighbors(x[::4])
    got_d, got_i = est.kneighbors(x[::4])
    np.testing.assert_array_equal(got_i, ref_i)
    # scikit-learn's own distances carry the GEMM cancellation error (~1e-7 here); ours are
    # the direct formula's
    np.testing.assert_allclose(got_d, ref_d, atol=1e-6)
    np.testing.assert_allclose(got_d**2, _exact_reference(x, x[::4], 5)[0], rtol=1e-12)
    # the float32 candidates alone would have been wrong
    xc = torch.from_numpy(x - x.mean(0)).float()
    approx = torch.topk(torch.cdist(xc[::4], xc), 5, largest=False).indices.numpy()
    assert not np.array_equal(approx, ref_i)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("method", ["smote", "borderline_smote1"])
def test_resample_identical_to_imblearn_default(method, device):
    rng = np.random.default_rng(4)
    centres = rng.normal(scale=6, size=(30, 16))
    x = centres[rng.integers(0, 30, 3000)] + rng.normal(size=(3000, 16))
    y = (rng.random(len(x)) < 0.15).astype(int)
    x[y == 1] += 0.5
    sampler = SMOTE if method == "smote" else BorderlineSMOTE
    x_ref, y_ref = sampler(random_state=7).fit_resample(x, y)
    x_res, y_res = resample(x, y, method, random_state=7, neighbors="torch")  # default device
    np.testing.assert_array_equal(x_res, x_ref)
    np.testing.assert_array_equal(y_res, y_ref)
    # an estimator object given to imbalanced-learn directly
    nn = TorchNeighbors(n_neighbors=6, device=device)
    x_obj, _ = sampler(random_state=7, k_neighbors=nn).fit_resample(x, y)
    np.testing.assert_array_equal(x_obj, x_ref)


def test_clone_and_params():
    est = TorchNeighbors(n_neighbors=7, device="cpu", block_size=64)
    copy = clone(est)
    assert copy is not est
    assert copy.get_params() == {"n_neighbors": 7, "device": "cpu", "block_size": 64}
    fitted = clone(est).fit(np.eye(8))
    assert fitted.device_ == "cpu" and fitted.n_samples_fit_ == 8
    assert not hasattr(clone(fitted), "n_samples_fit_")
    # a fitted sampler (holding the fitted estimator) can be pickled
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(
        again.kneighbors(return_distance=False), fitted.kneighbors(return_distance=False)
    )
    assert "torch" in NEIGHBORS


def test_bad_input():
    x = np.random.default_rng(0).normal(size=(20, 3))
    with pytest.raises(ValueError, match=r"`n_neighbors`.*at most the number of fitted points"):
        TorchNeighbors(n_neighbors=21, device="cpu").fit(x).kneighbors(x)
    with pytest.raises(ValueError, match=r"`X`.*3 features"):
        TorchNeighbors(device="cpu").fit(x).kneighbors(x[:, :2])
    with pytest.raises(ValueError, match=r"`device`"):
        TorchNeighbors(device="tpu").fit(x)
    with pytest.raises(TypeError, match=r"`block_size`"):
        TorchNeighbors(block_size=2.5).fit(x)
    with pytest.raises(RuntimeError, match=r"call fit first"):
        TorchNeighbors().kneighbors(x)


def test_missing_torch_error_names_the_argument(monkeypatch):
    real_import = builtins.__import__

    def no_torch(name, *args, **kwargs):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("No module named 'torch'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    x = np.random.default_rng(0).normal(size=(40, 3))
    y = np.array([0] * 30 + [1] * 10)
    with pytest.raises(ImportError, match=r"`neighbors`.*PyTorch.*pip install torch"):
        resample(x, y, "smote", neighbors="torch")


def test_importing_resampling_does_not_import_torch():
    code = "import sys, keras_imbalance.resampling; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
