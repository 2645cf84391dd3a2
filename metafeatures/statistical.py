"""Statistical meta-features of the numeric view ``N`` (numeric attributes, then one-hot columns
of the categorical attributes).

Per-column measures use the observed values of each column (missing values skipped);
multivariate ones (covariance, correlation, eigenvalues, canonical correlations, ...) use
``N`` with missing numeric values imputed by the column mean. Everything is computed from
chunked passes over the rows (moments, covariance) or one sort per column block (quantiles), so
memory stays bounded on large data.

Names and definitions follow pymfe (``pymfe.statistical``) except where the docstring says
otherwise. The auto-sklearn (``skewness_biased``, ``pca_*``) and OpenML (``skewness_openml``, ...)
variants are separate measures.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from metafeatures._input import Prepared, Target
from metafeatures._registry import REGISTRY
from metafeatures._resources import (
    ClassScatter,
    Config,
    Encoded,
    Moments,
    OrderStats,
    need_columns,
    need_cov,
    stratified_subsample,
)

G = "statistical"


# -- per-column location / scale / shape --------------------------------------------------------
@REGISTRY.measure("mean", group=G, requires=("moments",), summarised=True)
def mean(mom: Moments) -> np.ndarray:
    """Mean of each column of N."""
    return mom.mean


@REGISTRY.measure("sd", group=G, requires=("moments",), summarised=True)
def sd(mom: Moments) -> np.ndarray:
    """Standard deviation (ddof=1) of each column of N."""
    return np.sqrt(mom.variance(1))


@REGISTRY.measure("var", group=G, requires=("moments",), summarised=True)
def var(mom: Moments) -> np.ndarray:
    """Variance (ddof=1) of each column of N."""
    return mom.variance(1)


@REGISTRY.measure("min", group=G, requires=("moments",), summarised=True)
def min_(mom: Moments) -> np.ndarray:
    """Minimum of each column of N."""
    return mom.minimum


@REGISTRY.measure("max", group=G, requires=("moments",), summarised=True)
def max_(mom: Moments) -> np.ndarray:
    """Maximum of each column of N."""
    return mom.maximum


@REGISTRY.measure("range", group=G, requires=("moments",), summarised=True)
def range_(mom: Moments) -> np.ndarray:
    """Range (max - min) of each column of N."""
    return mom.maximum - mom.minimum


@REGISTRY.measure("skewness", group=G, requires=("moments",), summarised=True)
def skewness(mom: Moments) -> np.ndarray:
    """Skewness of each column of N (pymfe's type 3: m3 / s**3, s with ddof=1)."""
    return mom.skewness("pymfe")


@REGISTRY.measure("kurtosis", group=G, requires=("moments",), summarised=True)
def kurtosis(mom: Moments) -> np.ndarray:
    """Excess kurtosis of each column of N (pymfe's type 3: m4 / s**4 - 3, s with ddof=1)."""
    return mom.kurtosis("pymfe")


@REGISTRY.measure("median", group=G, requires=("order_stats",), summarised=True)
def median(order: OrderStats) -> np.ndarray:
    """Median of each column of N."""
    return order.quantiles[2]


@REGISTRY.measure("iq_range", group=G, requires=("order_stats",), summarised=True)
def iq_range(order: OrderStats) -> np.ndarray:
    """Interquartile range of each column of N."""
    return order.quantiles[3] - order.quantiles[1]


@REGISTRY.measure("t_mean", group=G, requires=("order_stats",), summarised=True)
def t_mean(order: OrderStats) -> np.ndarray:
    """20 % trimmed mean of each column of N (as ``scipy.stats.trim_mean(x, 0.2)``)."""
    return order.trimmed_mean


@REGISTRY.measure("mad", group=G, requires=("order_stats",), summarised=True)
def mad(order: OrderStats) -> np.ndarray:
    """Median absolute deviation of each column of N, scaled by 1.4826."""
    return order.mad * 1.4826


@REGISTRY.measure("nr_outliers", group=G, requires=("order_stats",))
def nr_outliers(order: OrderStats) -> float:
    """Columns of N with values beyond 1.5 IQR of the quartiles (Tukey's fences)."""
    v_min, q1, _, q3, v_max = order.quantiles
    whis = 1.5 * (q3 - q1)
    return float(np.sum((q1 - whis > v_min) | (q3 + whis < v_max)))


@dataclass(frozen=True)
class _LogRecip:
    log_sum: np.ndarray
    recip_sum: np.ndarray


@REGISTRY.resource("log_recip_sums", requires=("encoded", "moments"))
def _log_recip_sums(enc: Encoded, mom: Moments) -> _LogRecip:
    """Per-column sums of log(x) and 1/x over observed values of strictly positive columns."""
    positive = mom.minimum > 0
    cols = np.flatnonzero(positive)
    log_sum = np.zeros(enc.p)
    recip_sum = np.zeros(enc.p)
    if cols.size:
        for _, _, chunk in enc.iter_rows():
            sub = chunk[:, cols]
            if enc.has_missing:
                ok = ~np.isnan(sub)
                log_sum[cols] += np.where(ok, np.log(np.where(ok, sub, 1.0)), 0.0).sum(axis=0)
                recip_sum[cols] += np.where(ok, 1.0 / np.where(ok, sub, 1.0), 0.0).sum(axis=0)
            else:
                log_sum[cols] += np.log(sub).sum(axis=0)
                recip_sum[cols] += (1.0 / sub).sum(axis=0)
    return _LogRecip(log_sum, recip_sum)


@REGISTRY.measure("g_mean", group=G, requires=("moments", "log_recip_sums"), summarised=True)
def g_mean(mom: Moments, sums: _LogRecip) -> np.ndarray:
    """Geometric mean of each column of N (0 when the minimum is in [0, 1e-10), NaN when
    negative)."""
    out = np.exp(sums.log_sum / mom.count)
    out[(mom.minimum >= 0) & (mom.minimum < 1e-10)] = 0.0
    out[mom.minimum < 0] = np.nan
    return out


@REGISTRY.measure("h_mean", group=G, requires=("moments", "log_recip_sums"), summarised=True)
def h_mean(mom: Moments, sums: _LogRecip) -> np.ndarray:
    """Harmonic mean of each column of N (0 with a zero value, NaN with a negative one)."""
    with np.errstate(divide="ignore"):
        out = mom.count / sums.recip_sum
    out[mom.minimum == 0] = 0.0
    out[mom.minimum < 0] = np.nan
    return out


@REGISTRY.measure("sparsity", group=G, requires=("data", "order_stats"), summarised=True)
def sparsity(data: Prepared, order: OrderStats) -> np.ndarray:
    """Per attribute of X: (n / distinct values - 1) / (n - 1)."""
    n = data.n_rows
    uniq = np.concatenate([order.n_unique[: data.n_numeric], data.observed_levels])
    uniq = uniq[np.argsort(np.concatenate([np.flatnonzero(~data.is_categorical),
                                           np.flatnonzero(data.is_categorical)]), kind="stable")]
    with np.errstate(divide="ignore", invalid="ignore"):
        return (n / uniq - 1.0) / (n - 1.0)


@REGISTRY.resource("normality_sample", requires=("encoded", "config"))
def _normality_sample(enc: Encoded, config: Config) -> np.ndarray:
    """Rows of N for the normality tests (all rows up to the 'normality' sample size)."""
    need_columns(enc)
    idx = stratified_subsample(enc.n, config.sample_sizes["normality"], None, config.seed)
    return enc.take(idx)


@REGISTRY.measure("nr_norm", group=G, requires=("normality_sample",))
def nr_norm(sample: np.ndarray) -> float:
    """Columns of N whose Shapiro-Wilk test does not reject normality at 5 % (on at most 5000
    rows: all rows up to 5000, a seeded random sample above; pymfe takes the first 5000)."""
    if sample.shape[0] < 3:
        return float("nan")
    import scipy.stats

    with warnings.catch_warnings():  # constant columns: "range zero" (their p-value is 1)
        warnings.filterwarnings("ignore", message=".*range zero", category=UserWarning)
        _, pvalues = scipy.stats.shapiro(sample, axis=0, nan_policy="omit")
    return float(np.sum(np.asarray(pvalues) > 0.05))


# -- multivariate ------------------------------------------------------------------------------
def _lower(mat: np.ndarray) -> np.ndarray:
    return mat[np.tril_indices(mat.shape[0], k=-1)]


def _corr(cov: np.ndarray) -> np.ndarray:
    sd_ = np.sqrt(np.diag(cov))
    with np.errstate(divide="ignore", invalid="ignore"):
        cor = cov / np.outer(sd_, sd_)
    zero = sd_ == 0
    cor[zero, :] = np.nan
    cor[:, zero] = np.nan
    return np.clip(cor, -1.0, 1.0)


@REGISTRY.measure("cov", group=G, requires=("cov",), summarised=True)
def cov(cov: np.ndarray | None) -> np.ndarray:
    """Absolute covariances (ddof=1) of each pair of columns of N."""
    return np.abs(_lower(need_cov(cov)))


@REGISTRY.measure("cor", group=G, requires=("cov",), summarised=True)
def cor(cov: np.ndarray | None) -> np.ndarray:
    """Absolute Pearson correlations of each pair of columns of N (NaN for constant ones)."""
    return np.abs(_lower(_corr(need_cov(cov))))


@REGISTRY.measure("nr_cor_attr", group=G, requires=("cov",))
def nr_cor_attr(cov: np.ndarray | None) -> float:
    """Share of column pairs of N with absolute correlation >= 0.5."""
    cov = need_cov(cov)
    p = cov.shape[0]
    if p < 2:
        return float("nan")
    with np.errstate(invalid="ignore"):
        return float(np.sum(np.abs(_lower(_corr(cov))) >= 0.5) * 2.0 / (p * (p - 1.0)))


@REGISTRY.measure("eigenvalues", group=G, requires=("cov",), summarised=True)
def eigenvalues(cov: np.ndarray | None) -> np.ndarray:
    """Eigenvalues of the covariance matrix of N (NaN when its entries overflowed, values
    above about 1e150, as pymfe)."""
    cov = need_cov(cov)
    if not np.all(np.isfinite(cov)):
        return np.full(cov.shape[0], np.nan)
    return np.linalg.eigvalsh(cov)


@REGISTRY.measure("gravity", group=G, requires=("class_means", "target"), target="classes",
                  min_classes=2)
def gravity(means: np.ndarray, target: Target) -> float:
    """Euclidean distance between the centres of the majority and the minority class
    (first in label order on ties; the minority is chosen among the other classes)."""
    counts = target.counts
    maj = int(np.argmax(counts))
    rest = np.delete(np.arange(counts.size), maj)
    mino = int(rest[np.argmin(counts[rest])])
    return float(np.linalg.norm(means[maj] - means[mino]))


@dataclass(frozen=True)
class _CanCor:
    cors: np.ndarray  # canonical correlations, decreasing
    eigvals: np.ndarray  # r**2 / (1 - r**2)


@REGISTRY.resource("can_cors", requires=("class_scatter",))
def _can_cors(scatter: ClassScatter) -> _CanCor:
    """Canonical correlations between N and the one-hot class indicators (one NaN when the
    scatter matrices overflowed, values above about 1e150: every measure from them is NaN, as
    pymfe's)."""
    if not (np.all(np.isfinite(scatter.total)) and np.all(np.isfinite(scatter.between))):
        return _CanCor(np.full(1, np.nan), np.full(1, np.nan))
    # canonical correlations do not depend on the scale of the columns: work on the
    # correlation scale so that the rank threshold below is about collinearity, not units
    scale = np.sqrt(np.diag(scatter.total))
    live = scale > 0
    if not live.any():
        return _CanCor(np.zeros(0), np.zeros(0))
    inv = 1.0 / scale[live]
    total = scatter.total[np.ix_(live, live)] * np.outer(inv, inv)
    between = scatter.between[np.ix_(live, live)] * np.outer(inv, inv)
    s, u = np.linalg.eigh(total)
    keep = s > max(s.max(), 0.0) * 1e-10
    if not keep.any():
        return _CanCor(np.zeros(0), np.zeros(0))
    w = u[:, keep] / np.sqrt(s[keep])
    r2 = np.linalg.eigvalsh(w.T @ between @ w)[::-1]
    k = min(scatter.counts.size - 1, int(keep.sum()))
    r2 = np.clip(r2[:k], 0.0, 1.0)
    r2 = r2[r2 > 1e-12]
    with np.errstate(divide="ignore"):
        eig = r2 / (1.0 - r2)
    return _CanCor(np.sqrt(r2), eig)


@REGISTRY.measure("can_cor", group=G, requires=("can_cors",), target="classes", min_classes=2,
                  summarised=True)
def can_cor(cc: _CanCor) -> np.ndarray:
    """Canonical correlations between N and the one-hot classes (exact, from the eigenvalues of
    T^-1 B; pymfe approximates them with an iterative CCA)."""
    return cc.cors


@REGISTRY.measure("nr_disc", group=G, requires=("can_cors",), target="classes", min_classes=2)
def nr_disc(cc: _CanCor) -> float:
    """Number of non-zero canonical correlations (discriminant functions)."""
    return float("nan") if np.isnan(cc.cors).any() else float(cc.cors.size)


@REGISTRY.measure("w_lambda", group=G, requires=("can_cors",), target="classes", min_classes=2)
def w_lambda(cc: _CanCor) -> float:
    """Wilks' lambda: prod 1 / (1 + l_i) over the discriminant eigenvalues l_i."""
    return float(np.prod(1.0 - cc.cors**2)) if cc.cors.size else float("nan")


@REGISTRY.measure("p_trace", group=G, requires=("can_cors",), target="classes", min_classes=2)
def p_trace(cc: _CanCor) -> float:
    """Pillai's trace: sum of squared canonical correlations."""
    return float(np.sum(cc.cors**2)) if cc.cors.size else float("nan")


@REGISTRY.measure("lh_trace", group=G, requires=("can_cors",), target="classes", min_classes=2)
def lh_trace(cc: _CanCor) -> float:
    """Lawley-Hotelling trace: sum of the discriminant eigenvalues."""
    return float(np.sum(cc.eigvals)) if cc.eigvals.size else float("nan")


@REGISTRY.measure("roy_root", group=G, requires=("can_cors",), target="classes", min_classes=2)
def roy_root(cc: _CanCor) -> float:
    """Roy's largest root: the largest discriminant eigenvalue."""
    return float(np.max(cc.eigvals)) if cc.eigvals.size else float("nan")


@REGISTRY.resource("class_covs", requires=("encoded", "moments", "class_scatter", "target"))
def _class_covs(enc: Encoded, mom: Moments, scatter: ClassScatter, target: Target) -> np.ndarray:
    """(K, p, p) covariance matrix (ddof=1) of N within each class."""
    codes = target.codes
    assert codes is not None
    k = target.n_classes
    acc = np.zeros((k, enc.p, enc.p))
    for start, stop, chunk in enc.iter_rows(fill=mom.mean):
        c = codes[start:stop]
        for cls in range(k):
            sel = c == cls
            if sel.any():
                d = chunk[sel] - scatter.means[cls]
                acc[cls] += d.T @ d
    n_k = scatter.counts.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return acc / (n_k - 1.0)[:, None, None]


@REGISTRY.measure("sd_ratio", group=G, requires=("class_covs", "class_scatter"),
                  target="classes", min_classes=2)
def sd_ratio(covs: np.ndarray, scatter: ClassScatter) -> float:
    """Homogeneity of the class covariance matrices from Box's M statistic:
    ``exp(M / (p (n - K)))`` (NaN when a covariance matrix is singular). pymfe pairs the class
    weights with the class matrices in reversed order and flips their rows, which changes the
    value when class sizes differ or the sign of the determinants when p // 2 is odd; this is the
    textbook definition."""
    n_k = scatter.counts.astype(np.float64)
    k, p, _ = covs.shape
    n = n_k.sum()
    if np.any(n_k < 2) or n - k <= 0:
        return float("nan")
    weights = n_k - 1.0
    pooled = np.tensordot(weights, covs, axes=1) / (n - k)
    sign_p, logdet_p = np.linalg.slogdet(pooled)
    signs, logdets = np.linalg.slogdet(covs)
    if sign_p <= 0 or np.any(signs <= 0):
        return float("nan")
    gamma = 1.0 - (2.0 * p**2 + 3.0 * p - 1.0) / (6.0 * (p + 1.0) * (k - 1.0)) * (
        np.sum(1.0 / weights) - 1.0 / (n - k)
    )
    m = gamma * ((n - k) * logdet_p - np.dot(weights, logdets))
    return float(np.exp(m / (p * (n - k))))


# -- auto-sklearn and OpenML variants ---------------------------------------------------------
@REGISTRY.measure("skewness_biased", group=G, requires=("data", "moments"), summarised=True,
                  pymfe=False)
def skewness_biased(data: Prepared, mom: Moments) -> np.ndarray:
    """Skewness of each numeric attribute as ``scipy.stats.skew`` (biased; auto-sklearn)."""
    return mom.skewness("biased")[: data.n_numeric]


@REGISTRY.measure("kurtosis_biased", group=G, requires=("data", "moments"), summarised=True,
                  pymfe=False)
def kurtosis_biased(data: Prepared, mom: Moments) -> np.ndarray:
    """Excess kurtosis of each numeric attribute as ``scipy.stats.kurtosis`` (auto-sklearn)."""
    return mom.kurtosis("biased")[: data.n_numeric]


@REGISTRY.measure("skewness_openml", group=G, requires=("data", "moments"), summarised=True,
                  pymfe=False)
def skewness_openml(data: Prepared, mom: Moments) -> np.ndarray:
    """Skewness of each numeric attribute as OpenML: ``sum d**3 / ((n - 1) s**3)``."""
    return mom.skewness("openml")[: data.n_numeric]


@REGISTRY.measure("kurtosis_openml", group=G, requires=("data", "moments"), summarised=True,
                  pymfe=False)
def kurtosis_openml(data: Prepared, mom: Moments) -> np.ndarray:
    """Excess kurtosis of each numeric attribute as OpenML: ``sum d**4 / ((n - 1) s**4) - 3``."""
    return mom.kurtosis("openml")[: data.n_numeric]


@REGISTRY.measure("mean_numeric", group=G, requires=("data", "moments"), summarised=True,
                  pymfe=False)
def mean_numeric(data: Prepared, mom: Moments) -> np.ndarray:
    """Mean of each numeric attribute (categorical attributes excluded)."""
    return mom.mean[: data.n_numeric]


@REGISTRY.measure("sd_numeric", group=G, requires=("data", "moments"), summarised=True,
                  pymfe=False)
def sd_numeric(data: Prepared, mom: Moments) -> np.ndarray:
    """Standard deviation (ddof=1) of each numeric attribute."""
    return np.sqrt(mom.variance(1))[: data.n_numeric]


@dataclass(frozen=True)
class _PCA:
    ratios: np.ndarray  # explained variance ratios, decreasing
    n_columns: int
    first_skewness: float
    first_kurtosis: float


#: Rows of the sample whose Gram matrix gives the PCA when N is too wide for its covariance.
PCA_GRAM_ROWS = 4000


@REGISTRY.resource("pca_standardised", requires=("encoded", "moments", "cov", "config"))
def _pca_standardised(enc: Encoded, mom: Moments, cov: np.ndarray | None, config: Config
                      ) -> _PCA:
    """PCA of the standardised N (auto-sklearn's protocol) and its first component scores.

    The component variances come from the correlation matrix of all rows; when N has more than
    MAX_MATRIX_COLUMNS columns, from the Gram matrix of a seeded sample of PCA_GRAM_ROWS rows
    (the same non-zero eigenvalues as the sample's correlation matrix). The first component's
    scores always cover all rows.
    """
    sd_ = np.sqrt(mom.m2 / max(enc.n - 1, 1)) if cov is None else np.sqrt(np.diag(cov))
    if not np.all(np.isfinite(sd_)) or (cov is not None and not np.all(np.isfinite(cov))):
        # squares overflowed (values above about 1e150): undefined here, NaN
        return _PCA(np.full(1, np.nan), enc.p, float("nan"), float("nan"))
    live = sd_ > _zero_sd(mom)
    if not live.any():
        return _PCA(np.zeros(0), enc.p, float("nan"), float("nan"))
    if cov is not None:
        corr = cov[np.ix_(live, live)] / np.outer(sd_[live], sd_[live])
        vals, vecs = np.linalg.eigh(corr)
        first = vecs[:, -1]
    else:
        idx = stratified_subsample(enc.n, PCA_GRAM_ROWS, None, config.seed)
        z = (enc.take(idx, fill=mom.mean)[:, live] - mom.mean[live]) / sd_[live]
        vals, u = np.linalg.eigh(z @ z.T)
        first = z.T @ u[:, -1]
        first /= np.linalg.norm(first)
    vals = np.clip(vals[::-1], 0.0, None)
    if first[np.argmax(np.abs(first))] < 0:  # scikit-learn's sign convention
        first = -first
    w = np.zeros(enc.p)
    w[live] = first / sd_[live]
    shift = float(mom.mean @ w)
    # scores of the first component, in chunked passes: sums of powers of the centred scores
    n = enc.n
    s1 = s2 = s3 = s4 = 0.0
    for _, _, chunk in enc.iter_rows(fill=mom.mean):
        s1 += float((chunk @ w - shift).sum())
    mz = s1 / n
    for _, _, chunk in enc.iter_rows(fill=mom.mean):
        zc = chunk @ w - shift - mz
        z2 = zc * zc
        s2 += float(z2.sum())
        s3 += float((z2 * zc).sum())
        s4 += float((z2 * z2).sum())
    if s2 <= 0:
        skew = kurt = float("nan")
    else:
        skew = (s3 / n) / (s2 / n) ** 1.5
        kurt = (s4 / n) / (s2 / n) ** 2 - 3.0
    total = vals.sum()
    return _PCA(vals / total if total > 0 else vals, enc.p, skew, kurt)


def _zero_sd(mom: Moments) -> np.ndarray:
    scale = np.maximum(np.abs(mom.minimum), np.abs(mom.maximum))
    return scale * 1e-12


@REGISTRY.measure("pca_95", group=G, requires=("pca_standardised",), pymfe=False)
def pca_95(pca: _PCA) -> float:
    """Fraction of the columns of N that principal components need to explain 95 % of the
    variance of the standardised N (auto-sklearn's PCAFractionOfComponentsFor95PercentVariance)."""
    if np.isnan(pca.ratios).any():
        return float("nan")
    total = 0.0
    idx = 0
    while total < 0.95 and idx < pca.ratios.size:
        total += float(pca.ratios[idx])
        idx += 1
    return idx / pca.n_columns


@REGISTRY.measure("pca_skewness_first_pc", group=G, requires=("pca_standardised",), pymfe=False)
def pca_skewness_first_pc(pca: _PCA) -> float:
    """Skewness (biased) of the standardised data projected on its first principal component."""
    return pca.first_skewness


@REGISTRY.measure("pca_kurtosis_first_pc", group=G, requires=("pca_standardised",), pymfe=False)
def pca_kurtosis_first_pc(pca: _PCA) -> float:
    """Excess kurtosis (biased) of the standardised data on its first principal component."""
    return pca.first_kurtosis

