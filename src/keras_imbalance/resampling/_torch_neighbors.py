"""Exact k-nearest-neighbour search with torch (CUDA GPU when available, else CPU).

``TorchNeighbors`` has the interface imbalanced-learn asks of a neighbours estimator
(``fit``, ``kneighbors``, ``kneighbors_graph``, ``n_neighbors``, cloneable) and returns the
neighbours of :class:`sklearn.neighbors.NearestNeighbors`. torch is imported on first use
only, so this module stays importable (layer 1) without it.

Per block of queries (the block sizes follow the free device memory):

1. Candidates, in float32 on the device, from the blockwise GEMM identity::

       ||q - b||^2 = ||q||^2 + (||b||^2 - 2 q.b)

   ``torch.addmm`` gives ``||b||^2 - 2 q.b`` (``||q||^2`` is the same for the whole row and
   cannot change its order) and ``torch.topk`` keeps ``c = k + margin`` candidates.
2. Exact re-ranking: ``sum((q - b)^2)`` in float64 from the original rows, ties broken by
   the smaller index.
3. Certificate: rounding moves a float32 value by at most
   ``e = 2 (d + 6) u (||q||^2 + max_b ||b||^2)`` (centred data, ``u = 2^-24``), so every point
   outside the candidates is at squared distance at least ``t + ||q||^2 - e``, where ``t`` is
   the c-th float32 value. If the k-th exact distance is not below that bound, the query is
   searched again with 4 times as many candidates (at most all the points): the answer is
   exact whatever the rounding.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator

from keras_imbalance._validation import Text, check_number, invalid
from keras_imbalance.resampling._neighbors import _as_matrix, _GraphMixin

_MARGIN = 16  # spare float32 candidates per query before the exact re-ranking
_GROW = 4  # candidate growth factor for the queries the certificate rejects
_CPU_BUDGET = 256 << 20  # bytes of temporary memory per block on the CPU
_GPU_BUDGET = 8 << 30  # at most this much of the free device memory per block
_GPU_FRACTION = 0.5  # and at most this fraction of it
_MIN_ROWS = 256  # query rows per block before the fitted points are split into column blocks
_U64 = 2.0**-53


def _import_torch(argument: str):
    """Import torch, or raise an ImportError that names ``argument``."""
    try:
        import torch
    except ImportError:
        raise invalid(
            argument,
            "PyTorch to be installed for the torch neighbour search (pip install torch); "
            "'exact' is the numpy-only exact search",
            Text("torch"),
            kind=ImportError,
        ) from None
    return torch


def require_torch(argument: str = "neighbors") -> None:
    """Raise an ImportError naming ``argument`` when torch cannot be imported."""
    _import_torch(argument)


class TorchNeighbors(_GraphMixin, BaseEstimator):
    """Exact Euclidean k-nearest neighbours computed with torch, on a CUDA GPU if available.

    A drop-in neighbours estimator for imbalanced-learn (``SMOTE(k_neighbors=...)``,
    ``BorderlineSMOTE(m_neighbors=...)``, ``ADASYN(n_neighbors=...)``) and for
    :func:`keras_imbalance.resample` (``neighbors="torch"``). It returns the neighbours of
    :class:`sklearn.neighbors.NearestNeighbors` (brute force), so a sampler with a fixed seed
    gives the same output. Candidates come from the float32 GEMM identity
    ``||q - b||^2 = ||q||^2 + ||b||^2 - 2 q.b`` and ``torch.topk``; they are re-ranked with the
    exact float64 distance ``sum((q - b)^2)`` and a rounding-error bound proves that no point
    outside the candidates can be closer (else the query is searched again with more
    candidates), so the result does not depend on float32 rounding.

    Ties: equal distances are ordered by index. scikit-learn orders them as its heap and
    introsort leave them, so between exact duplicates of a row the two may return different
    (but identical-valued) rows, and on data with many exactly equal distances between
    different rows (integer or 0/1 features) the order of tied neighbours may differ.

    Parameters
    ----------
    n_neighbors : int, default=5
        Neighbours returned by :meth:`kneighbors` (imbalanced-learn passes k + 1: the first
        neighbour of a fitted point is itself).
    device : str, torch.device or None, default=None
        Where to compute: ``None`` = ``"cuda"`` when ``torch.cuda.is_available()``, else
        ``"cpu"``.
    block_size : int or None, default=None
        Query rows per block. ``None`` chooses it from the free memory
        (``torch.cuda.mem_get_info``: at most half of it and 8 GiB; 256 MiB on the CPU).

    Attributes
    ----------
    n_samples_fit_ : int
    n_features_in_ : int
    device_ : str
        The device used, e.g. ``"cuda:0"`` or ``"cpu"``.

    Notes
    -----
    torch is imported by :meth:`fit`, not when this module is imported. The fitted points are
    kept on the device in float64 (re-ranking) and float32 (candidates): ``12 * n * d`` bytes.
    If float32 matrix products may run in reduced precision (TF32 or bfloat16 enabled by
    ``torch.set_float32_matmul_precision`` or ``torch.backends.*.fp32_precision``), or the
    data are too large for float32, the candidates are computed in float64 instead.

    References
    ----------
    Johnson, Douze, Jegou, "Billion-scale similarity search with GPUs", IEEE Transactions on
    Big Data (2019) (GEMM + k-selection on the GPU).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[0.0], [1.0], [3.0], [7.0]])
    >>> nn = TorchNeighbors(n_neighbors=2, device="cpu").fit(x)
    >>> nn.kneighbors([[2.9]], return_distance=False)
    array([[2, 1]])
    """

    def __init__(self, n_neighbors=5, *, device=None, block_size=None):
        self.n_neighbors = n_neighbors
        self.device = device
        self.block_size = block_size

    # ----------------------------------------------------------------------- fit

    def fit(self, X, y=None):
        """Copy the points ``X`` of shape (n_samples, n_features) to the device; ``y`` is ignored."""
        check_number("n_neighbors", self.n_neighbors, low=1, integer=True)
        if self.block_size is not None:
            check_number("block_size", self.block_size, low=1, integer=True)
        torch = _import_torch("neighbors")
        device = _resolve_device(torch, self.device)
        x = _as_matrix(X, "X")
        n, d = x.shape
        x64 = torch.from_numpy(np.ascontiguousarray(x)).to(device)
        mean = x64.mean(dim=0)
        xc = x64 - mean  # one correctly rounded subtraction per coordinate
        sq = (xc * xc).sum(dim=1)
        max_sq = float(sq.max())
        dtype = torch.float32
        if max_sq > 1e30 or not _ieee_float32_matmul(torch, device.type):
            dtype = torch.float64
        self._x64 = x64
        self._mean = mean
        self._xc = xc.to(dtype)
        self._sq = sq.to(dtype)
        self._max_sq = max_sq
        self._unit = 2.0**-24 if dtype == torch.float32 else _U64
        self.n_samples_fit_ = n
        self.n_features_in_ = d
        self.device_ = str(device)
        return self

    # ----------------------------------------------------------------------- query

    def _query(self, q, k_search):
        """Squared distances and indices (n_q, k_search) of the queries ``q`` (the fitted
        points when None), as numpy arrays."""
        torch = _import_torch("neighbors")
        n_q = self.n_samples_fit_ if q is None else q.shape[0]
        dist2 = np.empty((n_q, k_search))
        ind = np.empty((n_q, k_search), dtype=np.int64)
        # queries travel to the device in chunks (at most ~64 MiB of float64 at a time)
        chunk = max(1, (8 << 20) // self.n_features_in_)
        for s in range(0, n_q, chunk):
            e = min(n_q, s + chunk)
            if q is None:
                q64 = self._x64[s:e]
            else:
                q64 = torch.from_numpy(np.ascontiguousarray(q[s:e])).to(self._x64.device)
            d2, i = self._search(q64, k_search)
            dist2[s:e], ind[s:e] = d2.cpu().numpy(), i.cpu().numpy()
        return dist2, ind

    # ----------------------------------------------------------------------- internals

    def _search(self, q64, k):
        """Exact squared distances and indices (n_q, k) on the device, ties by index."""
        torch = _import_torch("neighbors")
        n = self.n_samples_fit_
        n_q = q64.shape[0]
        qc64 = q64 - self._mean
        qsq = (qc64 * qc64).sum(dim=1)
        qc = qc64.to(self._xc.dtype)
        out_d = torch.empty((n_q, k), dtype=torch.float64, device=q64.device)
        out_i = torch.empty((n_q, k), dtype=torch.int64, device=q64.device)
        rows = torch.arange(n_q, device=q64.device)
        cand = min(n, k + _MARGIN)
        while rows.numel():
            step, col_step = self._plan(cand)
            failed = []
            for s in range(0, rows.numel(), step):
                r = rows[s : s + step]
                d2, idx, ok = self._block(q64[r], qc[r], qsq[r], k, cand, col_step)
                out_d[r[ok]], out_i[r[ok]] = d2[ok], idx[ok]
                failed.append(r[~ok])
            rows = torch.cat(failed)
            cand = min(n, cand * _GROW)
        return out_d, out_i

    def _block(self, q64, qc, qsq, k, cand, col_step):
        """Candidates in float32, exact re-ranking in float64, and the certificate."""
        torch = _import_torch("neighbors")
        n = self.n_samples_fit_
        vals, idx = [], []
        for c in range(0, n, col_step):
            e = min(n, c + col_step)
            # ||b||^2 - 2 q.b for every pair of the block (one fused GEMM)
            part = torch.addmm(self._sq[c:e].unsqueeze(0), qc, self._xc[c:e].T, alpha=-2.0)
            v, i = torch.topk(part, min(cand, e - c), dim=1, largest=False, sorted=False)
            del part
            vals.append(v)
            idx.append(i + c)
        v, i = torch.cat(vals, dim=1), torch.cat(idx, dim=1)
        if v.shape[1] > cand:
            v, j = torch.topk(v, cand, dim=1, largest=False, sorted=False)
            i = torch.gather(i, 1, j)
        # exact squared distances from the original float64 rows, ordered by (distance, index)
        diff = self._x64[i] - q64.unsqueeze(1)
        d2 = (diff * diff).sum(dim=2)
        del diff
        i, srt = torch.sort(i, dim=1)
        d2 = torch.gather(d2, 1, srt)
        d2, srt = torch.sort(d2, dim=1, stable=True)
        i = torch.gather(i, 1, srt)
        d2, i = d2[:, :k], i[:, :k]
        if cand >= n:  # every point was a candidate
            ok = torch.ones(q64.shape[0], dtype=torch.bool, device=q64.device)
            return d2, i, ok
        # every point outside the candidates has a float32 value >= t, so its squared
        # distance is at least t + ||q||^2 - err (err bounds the rounding of both terms)
        d = self.n_features_in_
        t = v.max(dim=1).values.to(torch.float64)
        err = 2.0 * (d + 6) * self._unit * (qsq + self._max_sq)
        lower = (t + qsq - err) * (1.0 - 4.0 * (d + 4) * _U64)
        ok = d2[:, -1] < lower
        return d2, i, ok

    def _plan(self, cand):
        """Query rows and fitted-point columns per block, from the memory budget."""
        torch = _import_torch("neighbors")
        n, d = self.n_samples_fit_, self.n_features_in_
        device = self._x64.device
        if device.type == "cuda":
            free, _total = torch.cuda.mem_get_info(device)
            cached = torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device)
            budget = int(min(_GPU_BUDGET, _GPU_FRACTION * (free + cached)))
        else:
            budget = _CPU_BUDGET
        esize = self._xc.element_size()
        # per query row and fitted point: the GEMM output plus topk's work space
        col_step = n
        if 3 * esize * n * _MIN_ROWS > budget:
            col_step = max(1, budget // (3 * esize * _MIN_ROWS))
        blocks = -(-n // col_step)
        merged = blocks * min(cand, col_step)
        per_row = 3 * esize * col_step + 24 * merged + 3 * 8 * cand * (d + 2)
        step = max(1, budget // per_row)
        if self.block_size is not None:
            # the user's block size, unless the re-ranking of a wide retry would not fit
            step = min(int(self.block_size), max(1, budget // (3 * 8 * cand * (d + 2))))
        return step, col_step


def _resolve_device(torch, device):
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(device, (str, torch.device)):
        raise invalid("device", "None, a str or a torch.device", device, kind=TypeError)
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError):
        raise invalid(
            "device", "a torch device such as 'cpu', 'cuda' or 'cuda:1'", device
        ) from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise invalid("device", "'cpu' or None (no CUDA device is available)", device)
        if dev.index is None:
            dev = torch.device("cuda", torch.cuda.current_device())
        elif dev.index >= torch.cuda.device_count():
            raise invalid("device", f"a CUDA index below {torch.cuda.device_count()}", device)
    elif dev.type != "cpu":
        raise invalid("device", "'cpu', 'cuda' or 'cuda:<index>'", device)
    return dev


def _ieee_float32_matmul(torch, device_type):
    """True when float32 matrix products on ``device_type`` are plain IEEE float32."""
    try:
        backends = torch.backends
        matmul = backends.cuda.matmul if device_type == "cuda" else backends.mkldnn.matmul
        precision = getattr(matmul, "fp32_precision", None)
        if precision in (None, "none"):
            precision = getattr(backends, "fp32_precision", None)
        if precision == "ieee":
            return True
        if precision not in (None, "none"):
            return False  # "tf32" or "bf16"
        return torch.get_float32_matmul_precision() == "highest"
    except Exception:  # unknown torch version or mixed legacy / new settings: be safe
        return False
