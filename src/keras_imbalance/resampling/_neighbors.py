"""Exact k-nearest-neighbour search for imbalanced-learn's samplers (numpy only).

``ExactNeighbors`` has the interface imbalanced-learn asks of a neighbours estimator
(``fit``, ``kneighbors``, ``kneighbors_graph``, ``n_neighbors``, cloneable) and returns the
true Euclidean nearest neighbours, like :class:`sklearn.neighbors.NearestNeighbors`; it only
avoids comparing every query with every point:

1. ``fit`` partitions the points into Voronoi cells (a few Lloyd iterations of k-means on a
   sample, then every point goes to its nearest centroid) and stores them sorted by cell.
2. A query in cell ``a`` is first compared with the points of the ``n_probe`` cells nearest to
   ``a``; its k-th distance so far, ``r``, bounds the answer.
3. A point ``b`` of another cell ``j`` is closer to ``c_j`` than to ``c_a``, so it lies beyond
   the bisecting hyperplane of ``c_a`` and ``c_j``::

       ||q - b|| >= (||q - c_j||^2 - ||q - c_a||^2) / (2 ||c_j - c_a||)

   Cells whose bound is at least ``r`` cannot hold a neighbour and are skipped; the others are
   scanned (the result is exact whatever the clustering).

Distances are computed blockwise as ``||q||^2 + ||b||^2 - 2 q.b`` (one GEMM per block) on
centred float64 data, and the retained candidates are re-ranked with the direct formula
``sum((q - b)^2)``, so rounding in the GEMM cannot change the answer.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator

from keras_imbalance._validation import Text, check_number, invalid

_BLOCK = 1 << 21  # distance-matrix entries per block (16 MiB of float64)
_SLACK = 1e-9  # relative safety margin on the pruning bound (GEMM rounding)


class _GraphMixin:
    """``kneighbors`` (argument checks, self-queries) around the subclass's ``_query``, and
    ``kneighbors_graph`` from it, in scikit-learn's sparse format."""

    def kneighbors(self, X=None, n_neighbors=None, return_distance=True):
        """Indices (and distances) of the ``n_neighbors`` nearest fitted points.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features), optional
            Query points. ``None`` queries the fitted points, each excluded from its own
            neighbours (scikit-learn's convention).
        n_neighbors : int, optional
            Defaults to the constructor's value.
        return_distance : bool, default=True

        Returns
        -------
        dist : ndarray of shape (n_queries, n_neighbors)
            Euclidean distances, ascending (only if ``return_distance``).
        ind : ndarray of shape (n_queries, n_neighbors)
            Indices into the fitted points.
        """
        if not hasattr(self, "n_samples_fit_"):
            raise invalid(
                "self",
                f"a fitted {type(self).__name__} (call fit first)",
                Text("unfitted"),
                kind=RuntimeError,
            )
        k = self.n_neighbors if n_neighbors is None else n_neighbors
        k = check_number("n_neighbors", k, low=1, integer=True)
        q = None if X is None else _as_matrix(X, "X")
        if q is not None and q.shape[1] != self.n_features_in_:
            raise invalid("X", f"{self.n_features_in_} features", Text(f"{q.shape[1]} features"))
        k_search = k + 1 if q is None else k
        if k_search > self.n_samples_fit_:
            raise invalid(
                "n_neighbors",
                f"at most the number of fitted points ({self.n_samples_fit_}"
                f"{', minus 1 when X is None' if q is None else ''})",
                k,
            )
        dist2, ind = self._query(q, k_search)
        if q is None:
            dist2, ind = _drop_self(dist2, ind, k)
        if not return_distance:
            return ind
        return np.sqrt(dist2), ind

    def kneighbors_graph(self, X=None, n_neighbors=None, mode="connectivity"):
        """Sparse (n_queries, n_samples_fit) graph of the neighbours (scikit-learn's format)."""
        from scipy import sparse

        if mode not in ("connectivity", "distance"):
            raise invalid("mode", "one of {'connectivity', 'distance'}", mode)
        dist, ind = self.kneighbors(X, n_neighbors, return_distance=True)
        n_q, k = ind.shape
        data = np.ones(n_q * k) if mode == "connectivity" else dist.ravel()
        indptr = np.arange(0, n_q * k + 1, k)
        return sparse.csr_matrix((data, ind.ravel(), indptr), shape=(n_q, self.n_samples_fit_))


class ExactNeighbors(_GraphMixin, BaseEstimator):
    """Exact Euclidean k-nearest neighbours, pruned with Voronoi cells; numpy only.

    A drop-in neighbours estimator for imbalanced-learn (``SMOTE(k_neighbors=...)``,
    ``BorderlineSMOTE(m_neighbors=...)``, ``ADASYN(n_neighbors=...)``) and for
    :func:`keras_imbalance.resample` (``neighbors="exact"``). It returns the same neighbours as
    :class:`sklearn.neighbors.NearestNeighbors` (brute force), but skips the cells that the
    bisector bound ``(||q - c_j||^2 - ||q - c_a||^2) / (2 ||c_j - c_a||)`` proves too far.
    How much it skips depends on the data: clustered or low-dimensional data prunes most
    cells, isotropic noise in many dimensions little (it then costs about a brute-force pass).

    Parameters
    ----------
    n_neighbors : int, default=5
        Neighbours returned by :meth:`kneighbors` (imbalanced-learn passes k + 1: the first
        neighbour of a fitted point is itself).
    n_cells : int or "auto", default="auto"
        Voronoi cells; ``"auto"`` = ``round(sqrt(n_samples / 2))`` (1 below 2048 samples,
        which is a plain blocked brute force).
    n_probe : int, default=8
        Cells scanned first, before the bound is used to skip others (speed only).
    random_state : int, default=0
        Seed of the k-means sample (speed only: the result does not depend on it).

    Attributes
    ----------
    n_samples_fit_ : int
    centroids_ : ndarray of shape (n_cells, n_features)

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[0.0], [1.0], [3.0], [7.0]])
    >>> ExactNeighbors(n_neighbors=2).fit(x).kneighbors([[2.9]], return_distance=False)
    array([[2, 1]])
    """

    _exact = True

    def __init__(self, n_neighbors=5, *, n_cells="auto", n_probe=8, random_state=0):
        self.n_neighbors = n_neighbors
        self.n_cells = n_cells
        self.n_probe = n_probe
        self.random_state = random_state

    # ----------------------------------------------------------------------- fit

    def fit(self, X, y=None):
        """Index the points ``X`` of shape (n_samples, n_features); ``y`` is ignored."""
        check_number("n_neighbors", self.n_neighbors, low=1, integer=True)
        check_number("n_probe", self.n_probe, low=1, integer=True)
        x = _as_matrix(X, "X")
        n = x.shape[0]
        if self.n_cells == "auto":
            cells = 1 if n < 2048 else int(round(np.sqrt(n / 2)))
        else:
            cells = check_number("n_cells", self.n_cells, low=1, integer=True)
            cells = min(cells, n)
        self._mean = x.mean(axis=0)
        xc = x - self._mean
        if cells == 1:
            centroids = np.zeros((1, x.shape[1]))
            assign = np.zeros(n, dtype=np.int64)
        else:
            centroids = _kmeans(xc, cells, self.random_state)
            assign = _nearest_centroid(xc, centroids)
            used = np.unique(assign)  # drop empty cells
            centroids = centroids[used]
            assign = np.searchsorted(used, assign)
        order = np.argsort(assign, kind="stable")
        self._x = np.ascontiguousarray(xc[order])
        self._sq = np.einsum("ij,ij->i", self._x, self._x)
        self._index = order
        counts = np.bincount(assign, minlength=len(centroids))
        self._start = np.concatenate([[0], np.cumsum(counts)])
        self.centroids_ = centroids
        self._csq = np.einsum("ij,ij->i", centroids, centroids)
        # distances between centroids, for the bisector bound
        cc = self._csq[:, None] + self._csq[None, :] - 2 * centroids @ centroids.T
        self._cdist = np.sqrt(np.maximum(cc, 0))
        self.n_samples_fit_ = n
        self.n_features_in_ = x.shape[1]
        return self

    # ----------------------------------------------------------------------- query

    def _query(self, q, k_search):
        """Squared distances and indices (n_q, k_search) of the centred queries ``q`` (the
        fitted points, in their original order, when None)."""
        q = self._x[np.argsort(self._index)] if q is None else q - self._mean
        # keep two spare candidates so GEMM rounding at the k-th place cannot drop a neighbour
        spare = min(k_search + 2, self.n_samples_fit_)
        dist2, ind = self._search(q, spare)
        return dist2[:, :k_search], ind[:, :k_search]

    # ----------------------------------------------------------------------- internals

    def _search(self, q, k):
        n_q = q.shape[0]
        best_d = np.full((n_q, k), np.inf)
        best_i = np.zeros((n_q, k), dtype=np.int64)
        qsq = np.einsum("ij,ij->i", q, q)
        cells = len(self.centroids_)
        home = _nearest_centroid(q, self.centroids_) if cells > 1 else np.zeros(n_q, np.int64)
        order = np.argsort(home, kind="stable")
        bounds = np.searchsorted(home[order], np.arange(cells + 1))
        probe = min(self.n_probe, cells)
        for a in range(cells):
            rows = order[bounds[a] : bounds[a + 1]]
            if rows.size == 0:
                continue
            qa, qa_sq = q[rows], qsq[rows]
            bd, bi = best_d[rows], best_i[rows]
            if cells == 1:
                self._scan(qa, qa_sq, bd, bi, np.array([0]), None)
            else:
                # squared distances to every centroid, and the bisector lower bound per cell
                dc = qa_sq[:, None] + self._csq[None, :] - 2 * qa @ self.centroids_.T
                dc = np.maximum(dc, 0)
                sep = self._cdist[a]
                with np.errstate(divide="ignore", invalid="ignore"):
                    lower = np.maximum(dc - dc[:, a : a + 1], 0) / (2 * sep)
                lower[:, sep == 0] = 0  # coincident centroids (and the home cell): no bound
                near = np.argsort(self._cdist[a], kind="stable")
                first = near[:probe]
                # make sure the first pass holds k points
                while self._start[first + 1].sum() - self._start[first].sum() < k:
                    probe_more = min(len(near), len(first) * 2)
                    first = near[:probe_more]
                self._scan(qa, qa_sq, bd, bi, first, None)
                if not self._exact:
                    best_d[rows], best_i[rows] = bd, bi
                    continue
                rest = np.ones(cells, dtype=bool)
                rest[first] = False
                todo = np.flatnonzero(rest)
                # visit the remaining cells by their smallest bound, re-checking the bound
                # (sorted by the group's smallest bound: once that exceeds every query's
                # radius, no later cell can hold a neighbour)
                low_min = lower[:, todo].min(axis=0)
                srt = np.argsort(low_min, kind="stable")
                todo, low_min = todo[srt], low_min[srt]
                per_chunk = max(1, int(probe))
                for s in range(0, len(todo), per_chunk):
                    chunk = todo[s : s + per_chunk]
                    radius = np.sqrt(bd[:, -1]) * (1 + _SLACK) + 1e-12
                    if low_min[s] >= radius.max():
                        break
                    need = lower[:, chunk] < radius[:, None]
                    if not need.any():
                        continue
                    self._scan(qa, qa_sq, bd, bi, chunk[need.any(axis=0)], need.any(axis=1))
            best_d[rows], best_i[rows] = bd, bi
        # exact re-ranking: direct distances of the retained candidates, ties by index
        diff = q[:, None, :] - self._x[best_i]
        exact = np.einsum("ijk,ijk->ij", diff, diff)
        ind = self._index[best_i]
        rank = np.lexsort((ind, exact), axis=-1)
        return np.take_along_axis(exact, rank, 1), np.take_along_axis(ind, rank, 1)

    def _scan(self, qa, qa_sq, bd, bi, cell_ids, row_mask):
        """Merge the points of ``cell_ids`` into the running top-k (``bd``, ``bi``) in place."""
        idx = np.concatenate([np.arange(self._start[c], self._start[c + 1]) for c in cell_ids])
        if idx.size == 0:
            return
        rows = np.arange(len(qa)) if row_mask is None else np.flatnonzero(row_mask)
        k = bd.shape[1]
        step = max(1, _BLOCK // max(1, len(rows)))
        for s in range(0, idx.size, step):
            part = idx[s : s + step]
            xb = self._x[part]
            d = qa_sq[rows, None] + self._sq[part][None, :] - 2 * (qa[rows] @ xb.T)
            hit = d < bd[rows, -1:]
            hit_rows = np.flatnonzero(hit.any(axis=1))
            if hit_rows.size == 0:
                continue
            r = rows[hit_rows]
            dd = np.where(hit[hit_rows], d[hit_rows], np.inf)
            cand_d = np.concatenate([bd[r], dd], axis=1)
            cand_i = np.concatenate([bi[r], np.broadcast_to(part, dd.shape)], axis=1)
            keep = np.argpartition(cand_d, k - 1, axis=1)[:, :k] if cand_d.shape[1] > k else None
            if keep is not None:
                cand_d = np.take_along_axis(cand_d, keep, 1)
                cand_i = np.take_along_axis(cand_i, keep, 1)
            srt = np.argsort(cand_d, axis=1, kind="stable")
            bd[r] = np.take_along_axis(cand_d, srt, 1)
            bi[r] = np.take_along_axis(cand_i, srt, 1)


def _as_matrix(X, name):
    if isinstance(X, np.ndarray) and X.dtype == np.float64 and X.ndim == 2:
        arr = X
    else:
        if hasattr(X, "detach") and hasattr(X, "cpu"):  # torch tensor
            X = X.detach().cpu().numpy()
        try:
            arr = np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError):
            raise invalid(
                name, "a numeric array of shape (n_samples, n_features)", X, kind=TypeError
            ) from None
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise invalid(name, "a non-empty array of shape (n_samples, n_features)", arr)
    if not np.all(np.isfinite(arr)):
        raise invalid(name, "finite values (no NaN or inf)", arr)
    return arr


def _nearest_centroid(x, centroids):
    csq = np.einsum("ij,ij->i", centroids, centroids)
    out = np.empty(x.shape[0], dtype=np.int64)
    step = max(1, _BLOCK // len(centroids))
    for s in range(0, x.shape[0], step):
        # ||x||^2 is the same for every centroid: argmin of ||c||^2 - 2 x.c
        out[s : s + step] = np.argmin(csq[None, :] - 2 * x[s : s + step] @ centroids.T, axis=1)
    return out


def _kmeans(x, cells, seed, iterations=6):
    rng = np.random.default_rng(seed if isinstance(seed, numbers.Integral) else 0)
    sample = x[rng.choice(x.shape[0], size=min(x.shape[0], 32 * cells), replace=False)]
    centroids = sample[rng.choice(sample.shape[0], size=cells, replace=False)].copy()
    for _ in range(iterations):
        assign = _nearest_centroid(sample, centroids)
        counts = np.bincount(assign, minlength=cells)
        sums = np.zeros_like(centroids)
        np.add.at(sums, assign, sample)
        filled = counts > 0
        centroids[filled] = sums[filled] / counts[filled, None]
    return centroids


def _drop_self(dist2, ind, k):
    """Remove each fitted point from its own neighbour list (else drop the first, as scikit-learn)."""
    n = ind.shape[0]
    is_self = ind == np.arange(n)[:, None]
    drop = np.where(is_self.any(axis=1), is_self.argmax(axis=1), 0)  # as scikit-learn
    keep = np.ones(ind.shape, dtype=bool)
    keep[np.arange(n), drop] = False
    return dist2[keep].reshape(n, k), ind[keep].reshape(n, k)


class ApproximateNeighbors(ExactNeighbors):
    """Approximate Euclidean k-nearest neighbours: the ``n_probe`` nearest Voronoi cells only.

    The first pass of :class:`ExactNeighbors` without the bound check (an inverted-file
    index, "IVF", as in faiss): each query is compared with the points of the ``n_probe``
    cells whose centroids are nearest to its own cell's centroid, about
    ``n_probe / n_cells`` of the data. Neighbours can be missed: measure recall@k on your data
    (``docs/benchmarks.md`` reports it for the benchmark data) and raise ``n_probe`` if it
    is too low. Distances of the returned neighbours are exact.

    Parameters
    ----------
    n_neighbors : int, default=5
    n_cells : int or "auto", default="auto"
        As in :class:`ExactNeighbors`.
    n_probe : int, default=24
        Cells scanned per query: more = higher recall, slower.
    random_state : int, default=0
        Seed of the k-means sample (changes which neighbours may be missed).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(5000, 8))
    >>> nn = ApproximateNeighbors(n_neighbors=3, n_probe=40).fit(x)
    >>> nn.kneighbors(x[:2], return_distance=False).shape
    (2, 3)
    """

    _exact = False

    def __init__(self, n_neighbors=5, *, n_cells="auto", n_probe=24, random_state=0):
        super().__init__(n_neighbors, n_cells=n_cells, n_probe=n_probe, random_state=random_state)
