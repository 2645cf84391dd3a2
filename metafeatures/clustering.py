"""Clustering meta-features: the classes taken as clusters (pymfe's ``clustering`` group).

Definitions are pymfe 0.4.4's with its defaults (Euclidean distance on ``N``, ``sc`` counting
classes of fewer than 15 instances, ``sil`` on every row):

- ``ch``: Calinski-Harabasz index; ``vdb``: Davies-Bouldin index (both as scikit-learn's, from
  the class centroids, computed on all rows in one chunked pass);
- ``int``: mean over pairs of classes of the mean distance between their instances;
- ``vdu``: Dunn index as pymfe writes it: the smallest inter-class distance divided by the
  product of the two class sizes (pymfe's "normalised" distance), over the largest intra-class
  distance;
- ``sil``: mean silhouette (a singleton class scores 0); ``pb``: point-biserial correlation
  between "same class" and the distance, over all pairs of instances;
- ``nre``: entropy (nats) of the class proportions; ``sc``: classes with fewer than 15
  instances.

Cost control: ``int``, ``vdu``, ``sil`` and ``pb`` need every pairwise distance of a seeded,
class-stratified subsample of at most ``SAMPLE_SIZES["clustering"]`` (2000) rows of ``N``
(missing values imputed with the column means). One pass computes them in row blocks of about
``CHUNK_BYTES`` and keeps only per-class reductions (sums, minima, maxima) and pair sums: the
(m, m) matrix is never held. ``ch``, ``vdb``, ``nre`` and ``sc`` use all rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from metafeatures._input import Target
from metafeatures._registry import REGISTRY
from metafeatures._resources import (
    CHUNK_BYTES,
    Config,
    Encoded,
    Moments,
    need_columns,
    stratified_subsample,
)

G = "clustering"

#: pymfe's ``sc`` counts the classes with fewer instances than this (its ``size`` default).
SC_SIZE = 15


@dataclass(frozen=True)
class Distances:
    """Pairwise Euclidean distances of the clustering subsample (rows sorted by class), kept
    as the reductions the measures need; the (m, m) matrix is never held (it is computed in
    row blocks of about ``CHUNK_BYTES``).

    Attributes:
        starts: (K,) first row of each class in the sorted sample.
        counts: (K,) rows per class in the sample.
        y: (m,) class code of each row (non-decreasing).
        n_pairs: m (m - 1) / 2 pairs of distinct rows.
        total: sum of the distances over the pairs.
        spread: sum over the pairs of (distance - mean distance) ** 2.
    """

    starts: np.ndarray
    counts: np.ndarray
    y: np.ndarray
    n_pairs: int
    total: float
    spread: float


@dataclass(frozen=True)
class ClassBlocks:
    """Per (row, class) and per (class, class) reductions of the square distance matrix.

    Attributes:
        row_sums: (m, K) sum of the distances of each row to the rows of each class.
        pair_sums: (K, K) sum of the distances between the rows of two classes.
        pair_mins: (K, K) smallest distance between the rows of two classes.
        intra_max: (K,) largest distance inside each class (NaN for a singleton).
    """

    row_sums: np.ndarray
    pair_sums: np.ndarray
    pair_mins: np.ndarray
    intra_max: np.ndarray


@dataclass(frozen=True)
class _Pass:
    dist: Distances
    blocks: ClassBlocks


@REGISTRY.resource("cl_pass", requires=("encoded", "moments", "target", "config"))
def _cl_pass(enc: Encoded, mom: Moments, target: Target, config: Config) -> _Pass:
    """One pass over the Euclidean distances of a seeded stratified subsample of N (all rows
    up to the size), in row blocks: per-class sums, minima and maxima, and the pair sums of
    ``pb``. Memory: the sample and one (block, m) slab, not the (m, m) matrix."""
    need_columns(enc)
    from scipy.spatial.distance import cdist

    assert target.codes is not None
    idx = stratified_subsample(enc.n, config.sample_sizes[G], target.codes, config.seed)
    codes = target.codes[idx]
    order = np.argsort(codes, kind="stable")
    X = enc.take(idx[order], fill=mom.mean)
    present, y = np.unique(codes[order], return_inverse=True)
    counts = np.bincount(y, minlength=present.size)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    m, k = y.size, counts.size
    row_sums = np.empty((m, k))
    row_mins = np.empty((m, k))
    row_maxs = np.empty((m, k))
    # pb's sums over the pairs, shifted by the first block's mean distance (stable variance)
    shift: float | None = None
    s1 = s2 = 0.0
    step = int(max(1, min(m, CHUNK_BYTES // (8 * max(m, 1)))))
    for r0 in range(0, m, step):
        r1 = min(m, r0 + step)
        D = cdist(X[r0:r1], X)  # the same values as pdist's
        rows = np.arange(r1 - r0)
        if shift is None:
            shift = float(D.sum() / max(D.size - (r1 - r0), 1))
        row_sums[r0:r1] = np.add.reduceat(D, starts, axis=1)
        dev = D - shift
        s1 += float(dev.sum()) + (r1 - r0) * shift  # the diagonal zeros contribute -shift
        dev *= dev
        s2 += float(dev.sum()) - (r1 - r0) * shift * shift
        del dev
        D[rows, rows + r0] = np.inf
        row_mins[r0:r1] = np.minimum.reduceat(D, starts, axis=1)
        D[rows, rows + r0] = -np.inf
        row_maxs[r0:r1] = np.maximum.reduceat(D, starts, axis=1)
    n_pairs = m * (m - 1) // 2
    s1, s2 = s1 / 2.0, s2 / 2.0  # every pair was seen twice
    shift = shift or 0.0
    total = s1 + n_pairs * shift
    spread = s2 - s1 * s1 / n_pairs if n_pairs else 0.0
    pair_sums = np.add.reduceat(row_sums, starts, axis=0)
    pair_mins = np.minimum.reduceat(row_mins, starts, axis=0)
    pair_maxs = np.maximum.reduceat(row_maxs, starts, axis=0)
    intra_max = np.where(counts > 1, np.diagonal(pair_maxs), np.nan)
    dist = Distances(starts, counts, y, n_pairs, total, max(spread, 0.0))
    return _Pass(dist, ClassBlocks(row_sums, pair_sums, pair_mins, intra_max))


@REGISTRY.resource("cl_dist", requires=("cl_pass",))
def _cl_dist(cl_pass: _Pass) -> Distances:
    """The clustering sample's classes and pair sums of its distances."""
    return cl_pass.dist


@REGISTRY.resource("cl_blocks", requires=("cl_pass",))
def _cl_blocks(cl_pass: _Pass) -> ClassBlocks:
    """Class-block sums, minima and maxima of the distance matrix (rows sorted by class)."""
    return cl_pass.blocks


def _cl_measure(name: str, requires: tuple[str, ...], min_classes: int = 2):  # type: ignore[no-untyped-def]
    return REGISTRY.measure(name, group=G, requires=requires, target="classes",
                            min_classes=min_classes)


@_cl_measure("int", ("cl_dist", "cl_blocks"))
def int_(dist: Distances, blocks: ClassBlocks) -> float:
    """INT index: mean over pairs of classes of the mean distance between their instances."""
    k = dist.counts.size
    if k < 2:
        return float("nan")
    sizes = np.outer(dist.counts, dist.counts).astype(np.float64)
    iu = np.triu_indices(k, 1)
    return float(np.sum(blocks.pair_sums[iu] / sizes[iu]) * 2.0 / (k * (k - 1.0)))


@_cl_measure("vdu", ("cl_dist", "cl_blocks"))
def vdu(dist: Distances, blocks: ClassBlocks) -> float:
    """Dunn index (pymfe): min over class pairs of (closest inter-class distance / (n_a n_b)),
    over the largest intra-class distance."""
    k = dist.counts.size
    intra = blocks.intra_max[np.isfinite(blocks.intra_max)]
    if k < 2 or intra.size == 0:
        return float("nan")
    sizes = np.outer(dist.counts, dist.counts).astype(np.float64)
    iu = np.triu_indices(k, 1)
    return float(np.min(blocks.pair_mins[iu] / sizes[iu]) / np.max(intra))


@_cl_measure("sil", ("cl_dist", "cl_blocks"))
def sil(dist: Distances, blocks: ClassBlocks) -> float:
    """Mean silhouette coefficient of the classes (Euclidean; a singleton class scores 0;
    NaN unless 2 <= classes <= rows - 1, where scikit-learn refuses the data)."""
    k = dist.counts.size
    m = dist.y.size
    if not 2 <= k <= m - 1:
        return float("nan")
    rows = np.arange(m)
    sums = blocks.row_sums.copy()
    intra = sums[rows, dist.y] / (dist.counts[dist.y] - 1.0)
    sums[rows, dist.y] = np.inf
    inter = (sums / dist.counts).min(axis=1)
    s = (inter - intra) / np.maximum(intra, inter)
    return float(np.mean(np.nan_to_num(s)))


@_cl_measure("pb", ("cl_dist", "cl_blocks"))
def pb(dist: Distances, blocks: ClassBlocks) -> float:
    """Point-biserial correlation between "same class" and the distance over all pairs of
    instances (NaN when either is constant).

    Computed from sums, without the pairs' 0/1 vector: with ``N`` pairs, ``n1`` of them inside
    a class, ``S`` and ``S1`` the sums of their distances and ``SS`` the sum of squares,
    ``r = (S1 - p S) / sqrt(n1 (1 - p) (SS - S^2 / N))`` where ``p = n1 / N``.
    """
    m = dist.y.size
    if m < 2:
        return float("nan")
    n_pairs = dist.n_pairs
    n_same = float(np.sum(dist.counts * (dist.counts - 1.0)) / 2.0)
    total = dist.total
    same_sum = float(np.trace(blocks.pair_sums)) / 2.0  # each pair twice in the square matrix
    p = n_same / n_pairs
    spread = dist.spread
    denom = np.sqrt(n_same * (1.0 - p) * spread)
    return float((same_sum - p * total) / denom) if denom > 0 else float("nan")


@dataclass(frozen=True)
class Dispersion:
    """Centroid statistics of the classes over all rows of N (missing values imputed).

    Attributes:
        means: (K, p) class centroids; counts: (K,) class sizes; between: sum of n_k times the
        squared distance from centroid k to the overall mean; within: sum of squared distances
        of the rows to their centroid; spread: (K,) mean distance of a class's rows to its
        centroid.
    """

    means: np.ndarray
    counts: np.ndarray
    between: float
    within: float
    spread: np.ndarray


@REGISTRY.resource("cl_dispersion", requires=("encoded", "moments", "target", "class_means"))
def _cl_dispersion(enc: Encoded, mom: Moments, target: Target, means: np.ndarray) -> Dispersion:
    """One chunked pass over N: within-class squared distances and distances to centroids."""
    need_columns(enc)
    codes = target.codes
    assert codes is not None
    k = target.n_classes
    within = 0.0
    dist_sums = np.zeros(k)
    for start, stop, chunk in enc.iter_rows(fill=mom.mean):
        c = codes[start:stop]
        diff = chunk - means[c]
        sq = np.einsum("ij,ij->i", diff, diff)
        within += float(sq.sum())
        dist_sums += np.bincount(c, weights=np.sqrt(sq), minlength=k)
    counts = target.counts.astype(np.float64)
    d = means - mom.mean
    between = float(np.sum(counts * np.einsum("ij,ij->i", d, d)))
    return Dispersion(means, target.counts, between, within, dist_sums / counts)


@_cl_measure("ch", ("cl_dispersion",))
def ch(disp: Dispersion) -> float:
    """Calinski-Harabasz index: (between / (K - 1)) / (within / (n - K)); 1 when the within
    dispersion is 0; NaN unless 2 <= K <= n - 1 (scikit-learn refuses the data)."""
    k = disp.counts.size
    n = float(disp.counts.sum())
    if not 2 <= k <= n - 1:
        return float("nan")
    if disp.within == 0.0:
        return 1.0
    return disp.between * (n - k) / (disp.within * (k - 1.0))


@_cl_measure("vdb", ("cl_dispersion",))
def vdb(disp: Dispersion) -> float:
    """Davies-Bouldin index: mean over classes of max_j (s_i + s_j) / d(c_i, c_j), s the mean
    distance to the centroid (0 when every s or every centroid distance is 0, as scikit-learn;
    NaN unless 2 <= K <= n - 1)."""
    from scipy.spatial.distance import cdist

    k = disp.counts.size
    if not 2 <= k <= float(disp.counts.sum()) - 1:
        return float("nan")
    cd = cdist(disp.means, disp.means)
    if np.allclose(disp.spread, 0) or np.allclose(cd, 0):
        return 0.0
    cd[cd == 0] = np.inf
    combined = (disp.spread[:, None] + disp.spread[None, :]) / cd
    return float(np.mean(np.max(combined, axis=1)))


@_cl_measure("nre", ("target",), min_classes=1)
def nre(target: Target) -> float:
    """Normalised relative entropy as pymfe: the entropy (nats) of the class proportions."""
    p = target.counts / target.counts.sum()
    p = p[p > 0]
    return float(-np.sum(p * np.log(p)))


@_cl_measure("sc", ("target",), min_classes=1)
def sc(target: Target) -> float:
    """Number of classes with fewer than 15 instances (pymfe's ``size`` default)."""
    return float(np.sum(target.counts < SC_SIZE))
