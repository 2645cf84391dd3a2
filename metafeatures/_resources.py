"""Shared precomputations used by several groups: the configuration, the encoded numeric view
of the data, per-column moments and order statistics, the covariance matrix, class scatter
matrices and seeded subsamples.

Memory: nothing here holds more than one copy-sized temporary of a row chunk or a column block
(about :data:`CHUNK_BYTES`); the full (n, p) matrix is never copied when it is a float ndarray
without missing values and without categorical attributes.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from metafeatures._input import Prepared, Target
from metafeatures._registry import REGISTRY
from metafeatures.errors import MeasureError

__all__ = [
    "CHUNK_BYTES",
    "MAX_MATRIX_COLUMNS",
    "need_columns",
    "need_cov",
    "float32_safe",
    "single_threaded",
    "Config",
    "Encoded",
    "Moments",
    "OrderStats",
    "SAMPLE_SIZES",
    "stratified_subsample",
]

#: Target size of one temporary block (row chunk or column block) in bytes.
CHUNK_BYTES = 32 * 1024**2

#: Default seeded sample sizes (rows) of the groups that do not scale linearly. Rows are drawn
#: without replacement, stratified by class for classification targets; data with at most this
#: many rows is used whole.
SAMPLE_SIZES: dict[str, int] = {
    "landmarking": 2000,  # cross-validated landmarkers (both the pymfe and auto-sklearn protocols)
    "model-based": 5000,  # the decision tree of the model-based group
    "complexity": 2000,  # neighbourhood, linearity and network complexity measures
    "normality": 5000,  # Shapiro-Wilk tests of nr_norm (pymfe also stops at 5000 rows)
    "clustering": 2000,  # vdu, int, sil, pb: every pairwise distance (ch, vdb use all rows)
    "concept": 2000,  # cohesiveness, conceptvar, impconceptvar, wg_dist: pairwise weights
    "itemset": 100_000,  # two_itemset: one contingency table per pair of attributes
}

#: pymfe's categorical codings (``MFE.fit(transform_cat=...)``; None is also accepted).
TRANSFORM_CAT: tuple[str, ...] = ("gray", "one-hot", "one-hot-full")

#: pymfe's rescaling options (``MFE.fit(rescale=...)``).
RESCALE: tuple[str, ...] = ("standard", "min-max", "robust")

#: Largest encoded width for which (p, p) matrices (covariance, correlation, PCA) are formed.
MAX_MATRIX_COLUMNS = 4000


@dataclass(frozen=True)
class Config:
    """Options of one extraction.

    Attributes:
        seed: the integer seed every stochastic step derives its randomness from.
        sample_sizes: group -> rows, see :data:`SAMPLE_SIZES`.
        max_onehot_levels: categorical attributes with more observed levels keep their
            ``max_onehot_levels - 1`` most frequent levels as one-hot columns and merge the rest
            into one column.
        n_folds: folds of the landmarking cross-validation (pymfe's ``num_cv_folds``).
        transform_cat: how categorical attributes enter ``N``: ``"one-hot-full"`` (one column
            per observed level, the default), ``"one-hot"`` (the first level of each attribute
            dropped), ``"gray"`` (pymfe's default: patsy's ``~ 0 + C0 + C1 + ...`` model
            matrix: every level of the first categorical attribute, then each further attribute
            without its first level, levels sorted by their ``str()``) or None (left out of
            ``N``).
        transform_num: numeric attributes are discretised into ``C`` (pymfe's
            ``transform_num``); False leaves them out of ``C``.
        rescale: None, ``"standard"``, ``"min-max"`` or ``"robust"``: ``N`` (with its coded
            categorical columns) rescaled per column as scikit-learn's scalers do.
        score: the landmarkers' score per fold: ``"accuracy"``, ``"balanced-accuracy"``,
            ``"f1"`` (weighted) or ``"kappa"`` (Cohen's).
        shuffle_folds: the pymfe landmarking folds are shuffled (seeded); False: pymfe's
            default unshuffled ``StratifiedKFold``.
        lm_sample_frac: None (landmarking on the stratified sample of ``sample_sizes``) or
            pymfe's fraction in [0.5, 1): ``RandomState(seed).choice(n, int(frac * n))`` rows.
        tree_params: extra keyword arguments of the model-based decision tree (pymfe's
            ``hypparam_model_dt``).
    """

    seed: int = 0
    sample_sizes: dict[str, int] = field(default_factory=lambda: dict(SAMPLE_SIZES))
    max_onehot_levels: int = 100
    n_folds: int = 10
    transform_cat: str | None = "one-hot-full"
    transform_num: bool = True
    rescale: str | None = None
    score: str = "accuracy"
    shuffle_folds: bool = True
    lm_sample_frac: float | None = None
    tree_params: dict[str, Any] = field(default_factory=dict)


def single_threaded() -> AbstractContextManager[object]:
    """Limit BLAS/OpenMP to one thread: the small fits of landmarking, the tree and complexity
    measures are slower with threads, and much slower when the cores are busy."""
    return threadpool_limits(limits=1)


def float32_safe(X: np.ndarray) -> np.ndarray:
    """``X`` with the columns whose magnitude float32 cannot hold (max |x| above 1e30 or below
    1e-30) divided by their max |x|. scikit-learn's trees work in float32 and a tree does not
    change when a column is multiplied by a positive constant."""
    amax = np.abs(X).max(axis=0) if X.size else np.zeros(X.shape[1])
    bad = (amax > 1e30) | ((amax < 1e-30) & (amax > 0))
    if not bad.any():
        return X
    out = X.copy()
    out[:, bad] /= amax[bad]
    return out


# ---------------------------------------------------------------------------------------------
class Encoded:
    """The numeric view ``N`` of the data: numeric columns, then the coded columns of the
    categorical attributes (by default one per observed level; a missing value is an all-zero
    row), optionally rescaled per column.

    The matrix is virtual: it is materialised by row chunks, column blocks or row subsets.
    Numeric missing values stay NaN unless a ``fill`` vector (the column means) is given.

    Args:
        data: the prepared dataset.
        max_levels: see :attr:`Config.max_onehot_levels`.
        coding: see :attr:`Config.transform_cat`.
        shift, scale: (p,) per-column affine map ``(x - shift) / scale`` applied to every
            materialised block (None: no rescaling; ``x * scale + shift`` when the attribute
            ``multiply`` is set); see :func:`rescaled`.
    """

    def __init__(self, data: Prepared, max_levels: int, coding: str | None = "one-hot-full",
                 shift: np.ndarray | None = None, scale: np.ndarray | None = None) -> None:
        self.data = data
        self.n = data.n_rows
        self.p_num = data.n_numeric
        self.coding = coding
        maps = []
        widths = []
        names = list(data.numeric_names)
        labels = data.level_labels
        for j, counts in enumerate(data.level_counts):
            mapping = np.full(counts.size + 1, -1, dtype=np.int64)  # last slot: missing (-1)
            if coding is None:
                maps.append(mapping)
                widths.append(0)
                continue
            observed = np.flatnonzero(counts)
            if coding == "gray" and len(labels) > j:  # patsy sorts the levels' str()
                names_j = labels[j]
                observed = np.array(sorted(observed.tolist(), key=names_j.__getitem__),
                                    dtype=np.int64)
            if coding == "one-hot" or (coding == "gray" and j > 0):
                observed = observed[1:]  # the reference level: an all-zero row
            if observed.size > max_levels:
                order = np.argsort(-counts[observed], kind="stable")
                keep = observed[np.sort(order[: max_levels - 1])]
            else:
                keep = observed
            mapping[keep] = np.arange(keep.size)
            width = keep.size
            if keep.size < observed.size:
                other = np.setdiff1d(observed, keep)
                mapping[other] = keep.size
                width += 1
            maps.append(mapping)
            widths.append(width)
            names.extend(f"{data.categorical_names[j]}[{k}]" for k in range(width))
        self._maps = maps
        self._offsets = self.p_num + np.concatenate([[0], np.cumsum(widths)]).astype(np.int64)
        self.p = int(self._offsets[-1])
        self.names = tuple(names)
        self.has_missing = bool(data.numeric_missing.sum() > 0)
        self.is_plain = data.n_categorical == 0 or coding is None
        self.shift = shift
        self.scale = scale
        self.multiply = False

    @property
    def is_scaled(self) -> bool:
        """An affine rescaling is applied to every block."""
        return self.scale is not None

    @property
    def chunk_rows(self) -> int:
        """Rows per chunk so that one float64 chunk is about :data:`CHUNK_BYTES`."""
        return int(max(256, min(self.n, CHUNK_BYTES // (8 * max(self.p, 1)))))

    def _onehot(self, codes: np.ndarray, out: np.ndarray) -> None:
        rows = np.arange(codes.shape[0])
        for j, mapping in enumerate(self._maps):
            mapped = mapping[codes[:, j]]  # code -1 reads the last slot (-1)
            ok = mapped >= 0
            out[rows[ok], self._offsets[j] + mapped[ok]] = 1.0

    def _affine(self, out: np.ndarray, j0: int = 0) -> np.ndarray:
        """``out`` (columns ``j0:``) rescaled in place (a float64 array this class owns):
        ``(x - shift) / scale``, or ``x * scale + shift`` when :attr:`multiply` (the order of
        scikit-learn's operations, so that ties stay ties as in pymfe)."""
        if self.scale is not None and self.shift is not None:
            j1 = j0 + out.shape[1]
            if self.multiply:
                out *= self.scale[j0:j1]
                out += self.shift[j0:j1]
            else:
                out -= self.shift[j0:j1]
                out /= self.scale[j0:j1]
        return out

    def _assemble(self, numeric: np.ndarray, codes: np.ndarray, fill: np.ndarray | None) -> np.ndarray:
        m = numeric.shape[0]
        if self.is_plain and numeric.dtype == np.float64 and (fill is None or not self.has_missing):
            return numeric if self.scale is None else self._affine(numeric.copy())
        if self.is_plain and self.p == numeric.shape[1] and fill is None:
            return self._affine(numeric.astype(np.float64))
        out = np.zeros((m, self.p), dtype=np.float64)
        out[:, : self.p_num] = numeric
        if fill is not None and self.has_missing:
            block = out[:, : self.p_num]
            nan = np.isnan(block)
            if nan.any():
                block[nan] = np.broadcast_to(fill[: self.p_num], block.shape)[nan]
        if not self.is_plain:
            self._onehot(codes, out)
        return self._affine(out)

    def rows(self, start: int, stop: int, fill: np.ndarray | None = None) -> np.ndarray:
        """Rows ``start:stop`` as a float64 (m, p) array (a view when no conversion is needed)."""
        return self._assemble(self.data.numeric[start:stop], self.data.categorical[start:stop], fill)

    def iter_rows(self, fill: np.ndarray | None = None) -> Iterator[tuple[int, int, np.ndarray]]:
        """Yield ``(start, stop, chunk)`` over all rows."""
        step = self.chunk_rows
        for start in range(0, self.n, step):
            stop = min(self.n, start + step)
            yield start, stop, self.rows(start, stop, fill)

    def take(self, idx: np.ndarray, fill: np.ndarray | None = None) -> np.ndarray:
        """The rows ``idx`` as a new float64 (len(idx), p) array."""
        out = self._assemble(self.data.numeric[idx], self.data.categorical[idx], fill)
        return np.array(out, dtype=np.float64, copy=out.base is not None or out is self.data.numeric)

    def column_blocks(self) -> Iterator[tuple[int, int, np.ndarray]]:
        """Yield ``(j0, j1, block)``: float64 (n, j1 - j0) copies of consecutive columns."""
        width = int(max(1, min(self.p, CHUNK_BYTES // (8 * max(self.n, 1)))))
        for j0 in range(0, self.p, width):
            j1 = min(self.p, j0 + width)
            block = np.empty((self.n, j1 - j0), dtype=np.float64)
            a, b = j0, min(j1, self.p_num)
            if b > a:
                block[:, : b - a] = self.data.numeric[:, a:b]
            if j1 > self.p_num and not self.is_plain:
                block[:, max(0, self.p_num - j0):] = 0.0
                for j, mapping in enumerate(self._maps):
                    lo, hi = int(self._offsets[j]), int(self._offsets[j + 1])
                    if hi <= j0 or lo >= j1:
                        continue
                    mapped = mapping[self.data.categorical[:, j]] + lo
                    for col in range(max(lo, j0), min(hi, j1)):
                        block[:, col - j0] = mapped == col
            yield j0, j1, self._affine(block, j0)


@REGISTRY.resource("encoded", requires=("data", "config"))
def _encoded(data: Prepared, config: Config) -> Encoded:
    """The numeric view N (numeric columns + coded categorical columns, optionally
    rescaled)."""
    enc = Encoded(data, config.max_onehot_levels, config.transform_cat)
    return enc if config.rescale is None else rescaled(enc, config.rescale)


def rescaled(enc: Encoded, option: str) -> Encoded:
    """``enc`` with every column rescaled as scikit-learn's scaler of ``option`` does
    (``fit_transform``; missing values ignored by the fit and kept):

    * ``"standard"``: ``(x - mean) / sd`` (StandardScaler, sd with ddof=0),
    * ``"min-max"``: ``x / (max - min) - min / (max - min)`` (MinMaxScaler),
    * ``"robust"``: ``(x - median) / (q75 - q25)`` (RobustScaler, linear quantiles).

    A scale that is (near) zero is replaced by 1, as scikit-learn's ``_handle_zeros_in_scale``
    does (below ``10 * eps`` times the column's magnitude).
    """
    mom = _moments(enc)
    tiny = 10 * np.finfo(np.float64).eps
    if option == "standard":
        var = mom.m2 / mom.count
        n_eps = mom.count * np.finfo(np.float64).eps  # scikit-learn's _is_constant_feature
        constant = var <= n_eps * var + (n_eps * mom.mean) ** 2
        shift, scale = mom.mean, np.where(constant, 1.0, np.sqrt(var))
    elif option == "min-max":  # MinMaxScaler: x * scale_ + min_
        span = mom.maximum - mom.minimum
        mult = 1.0 / np.where(span < tiny, 1.0, span)
        return _with_affine(enc, -mom.minimum * mult, mult, multiply=True)
    elif option == "robust":
        q = _order_stats(enc).quantiles
        iqr = q[3] - q[1]
        shift, scale = q[2], np.where(iqr < tiny, 1.0, iqr)
    else:  # validated by the caller
        raise KeyError(option)
    return _with_affine(enc, shift, scale)


def _with_affine(enc: Encoded, shift: np.ndarray, scale: np.ndarray,
                 multiply: bool = False) -> Encoded:
    """A copy of ``enc`` (sharing its data and codings) with the affine map set."""
    out = copy.copy(enc)
    out.shift = np.asarray(shift, dtype=np.float64)
    out.scale = np.asarray(scale, dtype=np.float64)
    out.multiply = multiply
    return out


@REGISTRY.resource("target", requires=("data",))
def _target(data: Prepared) -> Target | None:
    """The prepared target (None without y)."""
    return data.target


# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Moments:
    """Per-column moments of N over the observed (non-missing) values.

    Attributes (all (p,) float64): count, mean, m2/m3/m4 (sums of centred powers), minimum,
    maximum.
    """

    count: np.ndarray
    mean: np.ndarray
    m2: np.ndarray
    m3: np.ndarray
    m4: np.ndarray
    minimum: np.ndarray
    maximum: np.ndarray

    def variance(self, ddof: int = 1) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.m2 / (self.count - ddof)

    def skewness(self, kind: str) -> np.ndarray:
        """Skewness per column; ``kind``: ``"biased"`` (scipy ``skew``), ``"pymfe"`` (type 3:
        ``m3/s**3`` with the ddof=1 sd), ``"openml"`` (``sum d**3 / ((n-1) s**3)``)."""
        n = self.count
        with np.errstate(invalid="ignore", divide="ignore"):
            g1 = (self.m3 / n) / (self.m2 / n) ** 1.5
            if kind == "biased":
                out = g1
            elif kind == "pymfe":
                out = g1 * ((n - 1.0) / n) ** 1.5
            elif kind == "openml":
                out = g1 * ((n - 1.0) / n) ** 1.5 * n / (n - 1.0)
            else:
                raise KeyError(kind)
            return np.where(self.m2 > _zero_var(self), out, np.nan)

    def kurtosis(self, kind: str) -> np.ndarray:
        """Excess kurtosis per column; ``kind`` as in :meth:`skewness`."""
        n = self.count
        with np.errstate(invalid="ignore", divide="ignore"):
            b2 = (self.m4 / n) / (self.m2 / n) ** 2
            if kind == "biased":
                out = b2 - 3.0
            elif kind == "pymfe":
                out = b2 * (1.0 - 1.0 / n) ** 2 - 3.0
            elif kind == "openml":
                out = b2 * (1.0 - 1.0 / n) ** 2 * n / (n - 1.0) - 3.0
            else:
                raise KeyError(kind)
            return np.where(self.m2 > _zero_var(self), out, np.nan)


def _zero_var(m: Moments) -> np.ndarray:
    """Sums of squares at or below this are rounding noise of a constant column."""
    scale = np.maximum(np.abs(m.mean), np.maximum(np.abs(m.minimum), np.abs(m.maximum)))
    return m.count * (scale * 1e-12) ** 2


@REGISTRY.resource("moments", requires=("encoded",))
def _moments(enc: Encoded) -> Moments:
    """Two-pass per-column count, mean, centred power sums, min and max (NaN skipped)."""
    p = enc.p
    count = np.zeros(p)
    total = np.zeros(p)
    lo = np.full(p, np.inf)
    hi = np.full(p, -np.inf)
    for _, _, chunk in enc.iter_rows():
        if enc.has_missing:
            ok = ~np.isnan(chunk)
            count += ok.sum(axis=0)
            total += np.where(ok, chunk, 0.0).sum(axis=0)
            np.fmin(lo, np.nanmin(np.where(ok, chunk, np.inf), axis=0), out=lo)
            np.fmax(hi, np.nanmax(np.where(ok, chunk, -np.inf), axis=0), out=hi)
        else:
            count += chunk.shape[0]
            total += chunk.sum(axis=0)
            np.minimum(lo, chunk.min(axis=0), out=lo)
            np.maximum(hi, chunk.max(axis=0), out=hi)
    mean = total / count
    m2 = np.zeros(p)
    m3 = np.zeros(p)
    m4 = np.zeros(p)
    for _, _, chunk in enc.iter_rows():
        d = chunk - mean
        if enc.has_missing:
            d[np.isnan(d)] = 0.0
        d2 = d * d
        m2 += d2.sum(axis=0)
        m3 += (d2 * d).sum(axis=0)
        m4 += (d2 * d2).sum(axis=0)
    return Moments(count, mean, m2, m3, m4, lo, hi)


# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OrderStats:
    """Per-column order statistics of N over the observed values (from one sort per column).

    Attributes (all (p,) float64 unless stated): quantiles ((5, p): 0, 25, 50, 75, 100 %,
    linear interpolation as numpy), trimmed_mean (20 % cut from each end, as
    ``scipy.stats.trim_mean``), n_unique (distinct observed values), mad (median absolute
    deviation, unscaled), bins (per numeric column, the equal-frequency discretisation edges of
    pymfe: the ``k / B`` quantiles, k = 1..B, B = int(n ** (1/3)), near-duplicates removed).
    """

    quantiles: np.ndarray
    trimmed_mean: np.ndarray
    n_unique: np.ndarray
    mad: np.ndarray
    bins: tuple[np.ndarray, ...]


def sorted_quantiles(s: np.ndarray, count: np.ndarray, qs: np.ndarray) -> np.ndarray:
    """Linear-interpolation quantiles of each column of the NaN-last sorted block ``s``."""
    pos = qs[:, None] * (count[None, :] - 1.0)
    lo = np.floor(pos).astype(np.int64)
    lo = np.clip(lo, 0, None)
    hi = np.minimum(lo + 1, np.maximum(count[None, :].astype(np.int64) - 1, 0))
    frac = pos - lo
    a = np.take_along_axis(s, lo, axis=0)
    b = np.take_along_axis(s, hi, axis=0)
    # numpy's lerp: exact at both ends
    return np.where(frac >= 0.5, b - (b - a) * (1.0 - frac), a + (b - a) * frac)


def _medians(block: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Median of the observed (non-NaN, NaN-last after partition) values of each column, by
    ``np.partition`` (linear time) over the columns sharing a count."""
    out = np.full(block.shape[1], np.nan)
    for c in np.unique(count).astype(np.int64):
        cols = np.flatnonzero(count == c)
        if c == 0:
            continue
        sub = block[:, cols]
        if c < block.shape[0]:  # move the NaN out of the way
            sub = np.where(np.isnan(sub), np.inf, sub)
        lo, hi = (c - 1) // 2, c // 2
        part = np.partition(sub, (lo, hi), axis=0)
        out[cols] = 0.5 * (part[lo] + part[hi])
    return out


@REGISTRY.resource("order_stats", requires=("encoded",))
def _order_stats(enc: Encoded) -> OrderStats:
    """Quantiles, trimmed mean, distinct counts, MAD and discretisation edges per column."""
    p = enc.p
    qs5 = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    quantiles = np.empty((5, p))
    tmean = np.empty(p)
    nuniq = np.empty(p)
    mad = np.empty(p)
    n_bins = max(1, int(enc.n ** (1.0 / 3.0)))
    qbins = np.linspace(0.0, 1.0, n_bins + 1)[1:]
    bins: list[np.ndarray] = []
    for j0, j1, block in enc.column_blocks():
        block.sort(axis=0)  # NaN last
        count = (~np.isnan(block)).sum(axis=0).astype(np.float64)
        q = sorted_quantiles(block, count, qs5)
        quantiles[:, j0:j1] = q
        n_num = max(0, min(j1, enc.p_num) - j0)
        if n_num:
            edges = sorted_quantiles(block[:, :n_num], count[:n_num], qbins)
            for k in range(n_num):
                col = edges[:, k]
                keep = np.append(True, np.diff(col) > 1e-8)
                bins.append(np.unique(col[keep]))
        # trimmed mean: drop int(0.2 * count) values from each end of the sorted column
        for c in np.unique(count).astype(np.int64):
            cols = np.flatnonzero(count == c)
            cut = int(0.2 * c)
            tmean[j0 + cols] = (block[cut:c - cut, cols].sum(axis=0) / (c - 2 * cut)
                                if c > 0 else np.nan)
        idx = np.arange(block.shape[0] - 1)[:, None]
        diff = (block[1:] != block[:-1]) & (idx < (count[None, :] - 1))
        nuniq[j0:j1] = diff.sum(axis=0) + (count > 0)
        del diff
        block -= q[2]
        np.abs(block, out=block)  # NaN stay NaN
        mad[j0:j1] = _medians(block, count)
    return OrderStats(quantiles, tmean, nuniq, mad, tuple(bins))


# ---------------------------------------------------------------------------------------------
def need_columns(enc: Encoded) -> None:
    """A MeasureError when ``N`` has no column (``transform_cat=None`` and no numeric
    attribute): the models and distances need at least one."""
    if enc.p == 0:
        raise MeasureError(
            "N has no column: X has no numeric attribute and transform_cat=None leaves the "
            "categorical ones out; pass transform_cat='gray', 'one-hot' or 'one-hot-full'"
        )


def need_cov(cov: np.ndarray | None) -> np.ndarray:
    """The covariance matrix, or a MeasureError when N was too wide to form it."""
    if cov is None:
        raise MeasureError(
            f"N has more than {MAX_MATRIX_COLUMNS} columns; (p, p) matrices are formed only up "
            "to that width (select columns, or lower the one-hot levels of high-cardinality "
            "attributes)"
        )
    return cov


@REGISTRY.resource("cov", requires=("encoded", "moments"))
def _cov(enc: Encoded, mom: Moments) -> np.ndarray | None:
    """(p, p) covariance of N (ddof=1; missing numeric values imputed with the column mean);
    None when N has more than MAX_MATRIX_COLUMNS columns."""
    if enc.p > MAX_MATRIX_COLUMNS:
        return None
    need_columns(enc)
    if enc.n < 2:
        raise MeasureError("a covariance needs at least 2 rows")
    acc = np.zeros((enc.p, enc.p))
    for _, _, chunk in enc.iter_rows(fill=mom.mean):
        d = chunk - mom.mean
        acc += d.T @ d
    return acc / (enc.n - 1)


@dataclass(frozen=True)
class ClassScatter:
    """Class means and scatter matrices of N (missing values imputed with column means).

    Attributes:
        counts: (K,) class sizes; means: (K, p) class means; total: (p, p) total scatter;
        between: (p, p) between-class scatter; within: (p, p) pooled within-class scatter.
    """

    counts: np.ndarray
    means: np.ndarray
    total: np.ndarray
    between: np.ndarray
    within: np.ndarray


@REGISTRY.resource("class_means", requires=("encoded", "moments", "target"))
def _class_means(enc: Encoded, mom: Moments, target: Target) -> np.ndarray:
    """(K, p) mean of N per class (missing values imputed with the column means); needs no
    (p, p) matrix, so it exists for data of any width."""
    need_columns(enc)
    codes = target.codes
    assert codes is not None
    k = target.n_classes
    sums = np.zeros((k, enc.p))
    for start, stop, chunk in enc.iter_rows(fill=mom.mean):
        c = codes[start:stop]
        for cls in range(k):
            sel = c == cls
            if sel.any():
                sums[cls] += chunk[sel].sum(axis=0)
    return sums / target.counts.astype(np.float64)[:, None]


@REGISTRY.resource("class_scatter", requires=("encoded", "moments", "cov", "target",
                                              "class_means"))
def _class_scatter(enc: Encoded, mom: Moments, cov: np.ndarray | None, target: Target,
                   means: np.ndarray) -> ClassScatter:
    """Class means and the total / between / within scatter matrices of N."""
    cov = need_cov(cov)
    counts = target.counts.astype(np.float64)
    d = means - mom.mean
    between = (d * counts[:, None]).T @ d
    total = cov * (enc.n - 1)
    return ClassScatter(target.counts, means, total, between, total - between)


# ---------------------------------------------------------------------------------------------
def stratified_subsample(n: int, size: int, codes: np.ndarray | None, seed: int) -> np.ndarray:
    """Sorted row indices of a seeded subsample of ``size`` rows (all rows if ``n <= size``).

    With class ``codes`` the sample is stratified: each class keeps its share (at least one
    row), the remainder going to the largest fractional parts.
    """
    if n <= size:
        return np.arange(n)
    rng = np.random.RandomState(seed)
    if codes is None:
        return np.sort(rng.choice(n, size=size, replace=False))
    counts = np.bincount(codes)
    share = counts * (size / n)
    take = np.maximum(np.floor(share).astype(np.int64), np.minimum(counts, 1))
    rest = size - int(take.sum())
    if rest > 0:
        order = np.argsort(-(share - np.floor(share)), kind="stable")
        for c in order[:rest]:
            if take[c] < counts[c]:
                take[c] += 1
    parts = []
    for c in range(counts.size):
        rows = np.flatnonzero(codes == c)
        parts.append(rng.choice(rows, size=int(min(take[c], rows.size)), replace=False))
    return np.sort(np.concatenate(parts))
