"""Complexity meta-features (Lorena et al., 2019, "How complex is your classification
problem?"; pymfe's ``complexity`` group).

Cost control: the class-balance (``c1``, ``c2``) and dimensionality (``t2``, ``t3``, ``t4``)
measures use all rows (``t3``/``t4`` from the eigenvalues of the full covariance matrix). The
others work on a seeded, class-stratified subsample of at most ``SAMPLE_SIZES["complexity"]``
(2000) rows of ``N`` (missing values imputed with column means): feature overlap (``f1``,
``f1v``, ``f2``, ``f3``, ``f4``), linearity (``l1``, ``l2``, ``l3``: a linear SVM per pair of
classes), neighbourhood (``n1``-``n4``, ``t1``, ``lsc``) and network (``density``,
``cls_coef``, ``hubs``) measures. Distances are pymfe's Gower distances of numeric data: the mean
over the columns of ``|x - z| / range``. On data that fits the sample the values equal pymfe's
(pymfe computes the distances in float32, we in float64; see ``test_golden_pymfe``).
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse

from metafeatures import _resources
from metafeatures._input import Target
from metafeatures._registry import REGISTRY
from metafeatures._resources import (
    Config,
    Encoded,
    Moments,
    float32_safe,
    need_columns,
    need_cov,
    single_threaded,
    stratified_subsample,
)

G = "complexity"


# -- all rows ---------------------------------------------------------------------------------
@REGISTRY.measure("c1", group=G, requires=("target",), target="classes")
def c1(target: Target) -> float:
    """Entropy of the class proportions divided by log(K) (1 = balanced; NaN with one class)."""
    k = target.n_classes
    if k < 2:
        return float("nan")
    p = target.counts / target.counts.sum()
    return float(-np.sum(p * np.log(p)) / np.log(k))


@REGISTRY.measure("c2", group=G, requires=("target",), target="classes")
def c2(target: Target) -> float:
    """Imbalance ratio: 1 - 1 / IR, IR = (K - 1) / K * sum_i n_i / (n - n_i) (0 = balanced)."""
    k = target.n_classes
    n = target.counts.sum()
    if k < 2:
        return float("nan")
    ir = (k - 1) / k * np.sum(target.counts / (n - target.counts))
    return float(1.0 - 1.0 / ir)


@REGISTRY.measure("t2", group=G, requires=("encoded",))
def t2(enc: Encoded) -> float:
    """Columns of N per instance (p / n)."""
    return enc.p / enc.n


def _n_components_95(cov: np.ndarray) -> int:
    vals = np.clip(np.linalg.eigvalsh(cov)[::-1], 0.0, None)
    total = vals.sum()
    if total <= 0:
        return 1
    cum = np.cumsum(vals / total)
    return min(int(np.searchsorted(cum, 0.95, side="right")) + 1, int(vals.size))


@REGISTRY.measure("t3", group=G, requires=("cov", "encoded"))
def t3(cov: np.ndarray | None, enc: Encoded) -> float:
    """Principal components for 95 % of the variance of N, per instance (NaN when the
    covariance overflowed, values above about 1e150, as pymfe)."""
    cov = need_cov(cov)
    return _n_components_95(cov) / enc.n if np.all(np.isfinite(cov)) else float("nan")


@REGISTRY.measure("t4", group=G, requires=("cov",))
def t4(cov: np.ndarray | None) -> float:
    """Principal components for 95 % of the variance of N, per column of N (NaN as ``t3``)."""
    cov = need_cov(cov)
    return _n_components_95(cov) / cov.shape[0] if np.all(np.isfinite(cov)) else float("nan")


# -- the complexity sample --------------------------------------------------------------------
@dataclass(frozen=True)
class Sample:
    """The complexity subsample: ``X`` (m, p) unscaled (except the columns beyond 1e30 or
    below 1e-30 in magnitude, divided by their largest |x| so that squares neither overflow nor
    underflow: no measure that reads ``X`` changes when a column is multiplied by a positive
    constant), ``scaled`` min-max scaled, ``y`` codes, ``masks`` (K, m) class membership,
    ``counts`` (K,), ``pairs`` (P, 2) class pairs."""

    X: np.ndarray
    scaled: np.ndarray
    y: np.ndarray
    masks: np.ndarray
    counts: np.ndarray
    pairs: np.ndarray


@REGISTRY.resource("cx_sample", requires=("encoded", "moments", "target", "config"))
def _cx_sample(enc: Encoded, mom: Moments, target: Target, config: Config) -> Sample:
    """Seeded stratified subsample of N for the complexity measures."""
    need_columns(enc)
    assert target.codes is not None
    idx = stratified_subsample(enc.n, config.sample_sizes["complexity"], target.codes, config.seed)
    X = float32_safe(enc.take(idx, fill=mom.mean))
    codes = target.codes[idx]
    present = np.unique(codes)
    y = np.searchsorted(present, codes)
    lo, hi = X.min(axis=0), X.max(axis=0)
    rng = hi - lo
    scaled = np.where(rng > 0, (X - lo) / np.where(rng > 0, rng, 1.0), 0.0)
    masks = np.stack([y == k for k in range(present.size)])
    pairs = np.array(list(itertools.combinations(range(present.size), 2)), dtype=np.int64)
    return Sample(X, scaled, y, masks, masks.sum(axis=1), pairs.reshape(-1, 2))


@REGISTRY.resource("cx_dist", requires=("cx_sample",))
def _cx_dist(s: Sample) -> np.ndarray:
    """(m, m) Gower distances of the complexity sample (mean absolute difference of the min-max
    scaled columns)."""
    return _gower(s.scaled, s.scaled)


def _gower(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Gower distance between rows of min-max scaled numeric data: mean absolute difference."""
    from scipy.spatial.distance import cdist

    return cdist(a, b, metric="cityblock") / max(a.shape[1], 1)


def _knn_precomputed() -> Any:
    from sklearn.neighbors import KNeighborsClassifier

    return KNeighborsClassifier(n_neighbors=1, metric="precomputed")


def _cx_measure(name: str, requires: tuple[str, ...], summarised: bool = False):  # type: ignore[no-untyped-def]
    return REGISTRY.measure(name, group=G, requires=requires, target="classes", min_classes=2,
                            summarised=summarised)


@_cx_measure("f1", ("cx_sample",), summarised=True)
def f1(s: Sample) -> np.ndarray:
    """Maximum Fisher's discriminant ratio, per attribute: 1 / (1 + between / within)."""
    mean = s.X.mean(axis=0)
    numer = np.zeros(s.X.shape[1])
    denom = np.zeros(s.X.shape[1])
    for k, mask in enumerate(s.masks):
        xk = s.X[mask]
        ck = xk.mean(axis=0)
        numer += s.counts[k] * (ck - mean) ** 2
        denom += ((xk - ck) ** 2).sum(axis=0)
    return 1.0 / (1.0 + numer / denom)


@_cx_measure("f1v", ("cx_sample",), summarised=True)
def f1v(s: Sample) -> np.ndarray:
    """Directional-vector Fisher's discriminant ratio, per pair of classes."""
    if s.X.shape[1] > _resources.MAX_MATRIX_COLUMNS:  # a (p, p) covariance per class
        need_cov(None)  # raises the MeasureError that says so
    covs = []
    cents = []
    for mask in s.masks:
        xk = s.X[mask]
        cents.append(xk.mean(axis=0))
        covs.append(np.atleast_2d(np.cov(xk, rowvar=False, ddof=1)) if xk.shape[0] > 1
                    else np.full((s.X.shape[1],) * 2, np.nan))
    out = np.zeros(len(s.pairs))
    for i, (a, b) in enumerate(s.pairs):
        d = (cents[a] - cents[b])[:, None]
        w = (s.counts[a] * covs[a] + s.counts[b] * covs[b]) / (s.counts[a] + s.counts[b])
        if not np.all(np.isfinite(w)):
            out[i] = np.nan
            continue
        direc = np.linalg.pinv(w) @ d
        numer = np.float64((direc.T @ (d @ d.T) @ direc).item())
        out[i] = numer / np.float64((direc.T @ w @ direc).item())  # 0/0: NaN, undefined
    return 1.0 / (1.0 + out)


def _pair_bounds(xa: np.ndarray, xb: np.ndarray) -> tuple[np.ndarray, ...]:
    max_a, max_b, min_a, min_b = xa.max(0), xb.max(0), xa.min(0), xb.min(0)
    return (np.maximum(max_a, max_b), np.minimum(min_a, min_b),
            np.minimum(max_a, max_b), np.maximum(min_a, min_b))


@_cx_measure("f2", ("cx_sample",), summarised=True)
def f2(s: Sample) -> np.ndarray:
    """Volume of the overlapping region, per pair of classes."""
    out = np.zeros(len(s.pairs))
    for i, (a, b) in enumerate(s.pairs):
        maxmax, minmin, minmax, maxmin = _pair_bounds(s.X[s.masks[a]], s.X[s.masks[b]])
        out[i] = np.prod(np.maximum(0.0, minmax - maxmin) / (maxmax - minmin))
    return out


@_cx_measure("f3", ("cx_sample",), summarised=True)
def f3(s: Sample) -> np.ndarray:
    """Maximum individual feature efficiency, per pair: the share of the pair's instances in the
    overlap of the attribute that overlaps least."""
    out = np.zeros(len(s.pairs))
    for i, (a, b) in enumerate(s.pairs):
        xa, xb = s.X[s.masks[a]], s.X[s.masks[b]]
        _, _, minmax, maxmin = _pair_bounds(xa, xb)
        both = np.vstack([xa, xb])
        overlap = ((both >= maxmin) & (both <= minmax)).sum(axis=0)
        out[i] = overlap.min() / (s.counts[a] + s.counts[b])
    return out


@_cx_measure("f4", ("cx_sample",), summarised=True)
def f4(s: Sample) -> np.ndarray:
    """Collective feature efficiency, per pair: the share of instances left in the overlap after
    repeatedly removing the ones the least-overlapping attribute separates."""
    out = np.zeros(len(s.pairs))
    for i, (a, b) in enumerate(s.pairs):
        union = s.masks[a] | s.masks[b]
        sub = s.X[union]
        in_a = s.masks[a][union]
        in_b = s.masks[b][union]
        cols = np.arange(sub.shape[1])
        view = sub[:, cols]
        while view.size > 0:
            xa, xb = view[in_a], view[in_b]
            if xa.size == 0 or xb.size == 0:
                minmax = np.full(view.shape[1], -np.inf)
                maxmin = np.full(view.shape[1], np.inf)
            else:
                minmax = np.minimum(xa.max(0), xb.max(0))
                maxmin = np.maximum(xa.min(0), xb.min(0))
            region = (view >= maxmin) & (view <= minmax)
            j = int(np.argmin(region.sum(axis=0)))
            keep = region[:, j]
            sub, in_a, in_b = sub[keep], in_a[keep], in_b[keep]
            cols = np.delete(cols, j)
            view = sub[:, cols]
        out[i] = sub.shape[0] / (s.counts[a] + s.counts[b])
    return out


# -- linearity --------------------------------------------------------------------------------
def _svc(seed: int) -> Any:
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    return Pipeline([
        ("scaler", StandardScaler()),
        ("svc", LinearSVC(penalty="l2", loss="hinge", C=2.0, tol=0.01, max_iter=100000,
                          random_state=seed)),
    ])


@dataclass(frozen=True)
class _SVCFits:
    models: tuple[Any, ...]


@REGISTRY.resource("cx_svc", requires=("cx_sample", "config"))
def _cx_svc(s: Sample, config: Config) -> _SVCFits:
    """A standardised linear SVM (hinge loss, C=2) per pair of classes, as pymfe's."""
    from sklearn.exceptions import ConvergenceWarning

    models = []
    with single_threaded(), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for a, b in s.pairs:
            union = s.masks[a] | s.masks[b]
            models.append(_svc(config.seed).fit(s.X[union], s.masks[a][union]))
    return _SVCFits(tuple(models))


@_cx_measure("l1", ("cx_sample", "cx_svc"), summarised=True)
def l1(s: Sample, fits: _SVCFits) -> np.ndarray:
    """Sum of the error distances of a linear classifier, per pair: 1 - 1 / (1 + sum|f(x)| / n)
    over the misclassified instances."""
    out = np.zeros(len(s.pairs))
    for i, ((a, b), model) in enumerate(zip(s.pairs, fits.models)):
        union = s.masks[a] | s.masks[b]
        sub, target = s.X[union], s.masks[a][union]
        wrong = sub[model.predict(sub) != target]
        dist = np.abs(model.decision_function(wrong)).sum() if wrong.size else 0.0
        out[i] = dist / (s.counts[a] + s.counts[b])
    return 1.0 - 1.0 / (1.0 + out)


@_cx_measure("l2", ("cx_sample", "cx_svc"), summarised=True)
def l2(s: Sample, fits: _SVCFits) -> np.ndarray:
    """Training error rate of a linear classifier, per pair of classes."""
    out = np.zeros(len(s.pairs))
    for i, ((a, b), model) in enumerate(zip(s.pairs, fits.models)):
        union = s.masks[a] | s.masks[b]
        out[i] = np.mean(model.predict(s.X[union]) != s.masks[a][union])
    return out


def _interpolate(X: np.ndarray, y: np.ndarray, masks: np.ndarray, seed: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """pymfe's interpolation: per class, points on random segments between random pairs of
    the class's instances (``RandomState(seed)``, in pymfe's call order)."""
    rs = np.random.RandomState(seed)
    parts, labels = [], []
    for mask in masks:
        xc = X[mask]
        m = xc.shape[0]
        a = xc[rs.choice(m, m)]
        b = xc[rs.choice(m, m)]
        delta = rs.random_sample(xc.shape)
        parts.append(a + (b - a) * delta)
        labels.append(y[mask])
    return np.vstack(parts), np.concatenate(labels)


@_cx_measure("l3", ("cx_sample", "cx_svc", "config"), summarised=True)
def l3(s: Sample, fits: _SVCFits, config: Config) -> np.ndarray:
    """Error rate of the linear classifier on points interpolated within each class, per pair."""
    out = np.zeros(len(s.pairs))
    seed = config.seed
    for i, ((a, b), model) in enumerate(zip(s.pairs, fits.models)):
        union = s.masks[a] | s.masks[b]
        sub, target = s.X[union], s.masks[a][union]
        sub_masks = s.masks[:, union]
        seed += 1  # pymfe increments its seed before each pair
        Xi, yi = _interpolate(sub, target, sub_masks[sub_masks.any(axis=1)], seed)
        out[i] = np.mean(model.predict(Xi) != yi)
    return out


# -- neighbourhood ----------------------------------------------------------------------------
@dataclass(frozen=True)
class _Enemies:
    dist: np.ndarray  # distance to the nearest instance of another class
    index: np.ndarray


@REGISTRY.resource("cx_enemies", requires=("cx_sample", "cx_dist"))
def _cx_enemies(s: Sample, dist: np.ndarray) -> _Enemies:
    """Nearest enemy (instance of another class) of every instance of the sample."""
    m = s.y.size
    en_dist = np.full(m, np.inf)
    en_ind = np.full(m, -1, dtype=np.int64)
    for mask in s.masks:
        own = np.flatnonzero(mask)
        other = np.flatnonzero(~mask)
        if other.size == 0:
            continue
        sub = dist[np.ix_(other, own)]
        pick = other[np.argmin(sub, axis=0)]
        en_ind[own] = pick
        en_dist[own] = dist[pick, own]
    return _Enemies(en_dist, en_ind)


@_cx_measure("n1", ("cx_sample", "cx_dist"))
def n1(s: Sample, dist: np.ndarray) -> float:
    """Share of instances on the class border: endpoints of minimum-spanning-tree edges that
    join different classes."""
    from scipy.sparse.csgraph import minimum_spanning_tree

    mst = minimum_spanning_tree(np.triu(dist, k=1))
    i, j = mst.nonzero()
    diff = s.y[i] != s.y[j]
    return np.unique(np.concatenate([i[diff], j[diff]])).size / s.y.size


@_cx_measure("n2", ("cx_sample", "cx_dist"), summarised=True)
def n2(s: Sample, dist: np.ndarray) -> np.ndarray:
    """Per instance (grouped by class): 1 - 1 / (1 + intra / extra), intra/extra the distance to
    the nearest instance of the same / another class."""
    parts = []
    for mask in s.masks:
        own = np.flatnonzero(mask)
        other = np.flatnonzero(~mask)
        intra = dist[np.ix_(own, own)].copy()
        np.fill_diagonal(intra, np.inf)
        near_intra = intra.min(axis=0)
        near_extra = dist[np.ix_(other, own)].min(axis=0)
        parts.append(near_intra / near_extra)
    ratio = np.concatenate(parts)
    return 1.0 - 1.0 / (1.0 + ratio)


@_cx_measure("n3", ("cx_sample", "cx_dist"), summarised=True)
def n3(s: Sample, dist: np.ndarray) -> np.ndarray:
    """Per instance: 1 if its nearest neighbour (leave-one-out 1-NN) has another class."""
    model = _knn_precomputed().fit(dist, s.y)
    neigh = model.kneighbors(return_distance=False).ravel()
    return (s.y[neigh] != s.y).astype(np.float64)


@_cx_measure("n4", ("cx_sample", "cx_dist", "config"), summarised=True)
def n4(s: Sample, dist: np.ndarray, config: Config) -> np.ndarray:
    """Per interpolated point (pymfe's interpolation of the scaled data): 1 if the 1-NN of the
    sample misclassifies it."""
    Xi, yi = _interpolate(s.scaled, s.y, s.masks, config.seed)
    test = _gower(Xi, s.scaled)
    model = _knn_precomputed().fit(dist, s.y)
    return (model.predict(test) != yi).astype(np.float64)


@_cx_measure("t1", ("cx_sample", "cx_dist", "cx_enemies"))
def t1(s: Sample, dist: np.ndarray, en: _Enemies) -> float:
    """Fraction of hyperspheres (centred at each instance, reaching its nearest enemy) needed to
    cover the data after absorbing the ones inside larger spheres (pymfe's construction)."""
    m = s.y.size
    radius = np.full(m, -1.0)
    for start in range(m):
        if radius[start] >= 0.0:
            continue
        # follow the nearest-enemy chain until a mutual pair or a known radius
        chain = []
        node = start
        while radius[node] < 0.0:
            enemy = int(en.index[node])
            if enemy >= 0 and int(en.index[enemy]) == node:
                radius[node] = radius[enemy] = 0.5 * en.dist[node]
                break
            radius[node] = 0.0  # pymfe marks the node before recursing
            chain.append(node)
            node = enemy
        for node in reversed(chain):
            radius[node] = abs(en.dist[node] - radius[int(en.index[node])])
    within = dist <= radius[None, :]
    order = np.argsort(-within.sum(axis=0))  # pymfe's (default) sort, for the same ties
    count = np.ones(m, dtype=np.int64)
    for i in order:
        if count[i] <= 0:
            continue
        inside = np.flatnonzero(within[:, i])
        total = int(count[inside].sum())
        count[inside] = 0
        count[i] = total
    return float(np.sum(count > 0)) / m


@_cx_measure("lsc", ("cx_sample", "cx_dist", "cx_enemies"))
def lsc(s: Sample, dist: np.ndarray, en: _Enemies) -> float:
    """Local set average cardinality: 1 - (sum of local set sizes) / m**2, the local set of an
    instance being the instances closer to it than its nearest enemy."""
    return float(1.0 - np.sum(dist < en.dist[None, :]) / s.y.size**2)


# -- network ----------------------------------------------------------------------------------
@REGISTRY.resource("cx_graph", requires=("cx_sample", "cx_dist"))
def _cx_graph(s: Sample, dist: np.ndarray) -> scipy.sparse.csr_matrix:
    """Undirected same-class graph of the 15 % nearest neighbours (0/1 adjacency, as pymfe)."""
    m = s.y.size
    k = max(int(round(m * 0.15)), 1)
    from sklearn.neighbors import kneighbors_graph

    adj = kneighbors_graph(dist, n_neighbors=min(k, m - 1), mode="distance",
                           include_self=False, metric="precomputed").tocsr()
    rows, cols = adj.nonzero()  # zero distances are not edges (igraph drops zero weights)
    keep = s.y[rows] == s.y[cols]
    a = scipy.sparse.csr_matrix((np.ones(keep.sum()), (rows[keep], cols[keep])), shape=(m, m))
    a = a.maximum(a.T)
    a.setdiag(0)
    a.eliminate_zeros()
    return a


@_cx_measure("density", ("cx_graph",))
def density(graph: scipy.sparse.csr_matrix) -> float:
    """1 - edge density of the graph."""
    m = graph.shape[0]
    edges = graph.nnz / 2.0
    return float(1.0 - edges / (m * (m - 1) / 2.0)) if m > 1 else float("nan")


@_cx_measure("cls_coef", ("cx_graph",))
def cls_coef(graph: scipy.sparse.csr_matrix) -> float:
    """1 - global clustering coefficient (transitivity) of the graph."""
    deg = np.asarray(graph.sum(axis=1)).ravel()
    triangles = float((graph @ graph).multiply(graph).sum()) / 6.0
    triples = float(np.sum(deg * (deg - 1.0)) / 2.0)
    return float(1.0 - 3.0 * triangles / triples) if triples > 0 else float("nan")


@_cx_measure("hubs", ("cx_graph",), summarised=True)
def hubs(graph: scipy.sparse.csr_matrix) -> np.ndarray:
    """Per instance: 1 - Kleinberg hub score (principal eigenvector of A A^T, max scaled to 1),
    by power iteration from the all-ones vector (deterministic, unlike ARPACK)."""
    m = graph.shape[0]
    if graph.nnz == 0:
        return np.ones(m)
    a = graph.astype(np.float64)
    x = np.ones(m) / np.sqrt(m)
    for _ in range(2000):
        z = a @ (a.T @ x)
        norm = float(np.linalg.norm(z))
        if norm == 0.0:
            break
        z /= norm
        done = float(np.max(np.abs(z - x))) < 1e-13
        x = z
        if done:
            break
    x = np.abs(x)
    return 1.0 - x / x.max()
