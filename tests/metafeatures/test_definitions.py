"""Measures against independent references: scipy/numpy/pandas code paths or textbook formulas
written out here, including the measures whose pymfe value differs (documented quirks)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.linalg
import scipy.stats
from scipy.spatial.distance import cdist
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.neighbors import KNeighborsClassifier

import metafeatures
from metafeatures import _resources


def _frame_with_missing() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 400
    frame = pd.DataFrame({
        "normal": rng.normal(3.0, 2.0, n),
        "skewed": rng.lognormal(0.0, 1.0, n),
        "ints": rng.integers(0, 5, n).astype(float),
        "neg": -rng.exponential(1.0, n),
        "zeroes": np.where(rng.random(n) < 0.3, 0.0, rng.random(n) + 0.5),
    })
    for col, k in (("normal", 30), ("skewed", 7), ("ints", 50)):
        frame.loc[rng.choice(n, k, replace=False), col] = np.nan
    return frame


def _per_column(frame: pd.DataFrame, measure: str) -> np.ndarray:
    out = metafeatures.extract(frame, groups=["statistical"], features=[measure],
                               summary=["quantiles"])
    # quantiles of the per-column values; compare them to the reference's quantiles
    return np.array([out[f"{measure}.quantiles.{i}"] for i in range(5)])


def _q(values: list[float]) -> np.ndarray:
    return np.quantile(np.asarray(values, dtype=float), (0, 0.25, 0.5, 0.75, 1))


REFERENCES = {
    "mean": lambda c: np.mean(c),
    "sd": lambda c: np.std(c, ddof=1),
    "var": lambda c: np.var(c, ddof=1),
    "min": np.min,
    "max": np.max,
    "range": np.ptp,
    "median": np.median,
    "iq_range": scipy.stats.iqr,
    "t_mean": lambda c: scipy.stats.trim_mean(c, 0.2),
    "mad": lambda c: scipy.stats.median_abs_deviation(c, scale=1 / 1.4826),
    "skewness": lambda c: scipy.stats.skew(c) * ((c.size - 1) / c.size) ** 1.5,
    "kurtosis": lambda c: (scipy.stats.kurtosis(c) + 3) * (1 - 1 / c.size) ** 2 - 3,
}


@pytest.mark.parametrize("measure", sorted(REFERENCES))
def test_per_column_statistics_skip_missing_values(measure) -> None:
    frame = _frame_with_missing()
    ref = [REFERENCES[measure](frame[c].dropna().to_numpy()) for c in frame.columns]
    np.testing.assert_allclose(_per_column(frame, measure), _q(ref), rtol=1e-10, atol=1e-12)


def test_geometric_and_harmonic_means() -> None:
    frame = _frame_with_missing()
    g, h = [], []
    for c in frame.columns:
        col = frame[c].dropna().to_numpy()
        if col.min() < 0:
            g.append(np.nan)
            h.append(np.nan)
        elif col.min() == 0:
            g.append(0.0)
            h.append(0.0)
        else:
            g.append(float(np.exp(np.mean(np.log(col)))))
            h.append(float(col.size / np.sum(1.0 / col)))
    out = metafeatures.extract(frame, features=["g_mean", "h_mean"], summary=["nanmean", "count"])
    assert out["g_mean.nanmean"] == pytest.approx(np.nanmean(g), rel=1e-12)
    assert out["h_mean.nanmean"] == pytest.approx(np.nanmean(h), rel=1e-12)
    assert out["g_mean.count"] == 5


def test_covariance_family_against_numpy() -> None:
    X, y = load_wine(return_X_y=True)
    out = metafeatures.extract(X, y, groups=["statistical"], summary=["mean", "max"])
    cov = np.cov(X, rowvar=False)
    low = np.tril_indices(13, k=-1)
    assert out["cov.mean"] == pytest.approx(np.abs(cov[low]).mean(), rel=1e-12)
    cor = np.abs(np.corrcoef(X, rowvar=False)[low])
    assert out["cor.max"] == pytest.approx(cor.max(), rel=1e-12)
    assert out["nr_cor_attr"] == pytest.approx(np.sum(cor >= 0.5) / len(cor), rel=1e-12)
    assert out["eigenvalues.max"] == pytest.approx(np.linalg.eigvalsh(cov).max(), rel=1e-12)


@pytest.mark.parametrize("loader", [load_wine, load_breast_cancer])
def test_canonical_correlations_from_the_generalised_eigenproblem(loader) -> None:
    X, y = loader(return_X_y=True)
    Xs = (X - X.mean(0)) / X.std(0)
    classes = np.unique(y)
    mean = Xs.mean(0)
    between = sum((y == c).sum() * np.outer(Xs[y == c].mean(0) - mean, Xs[y == c].mean(0) - mean)
                  for c in classes)
    within = sum((Xs[y == c] - Xs[y == c].mean(0)).T @ (Xs[y == c] - Xs[y == c].mean(0))
                 for c in classes)
    lam = np.sort(scipy.linalg.eigh(between, within, eigvals_only=True))[::-1][: classes.size - 1]
    r = np.sqrt(lam / (1 + lam))
    out = metafeatures.extract(X, y, groups=["statistical"], summary=["mean", "max", "count"])
    assert out["can_cor.count"] == classes.size - 1 == out["nr_disc"]
    assert out["can_cor.mean"] == pytest.approx(r.mean(), rel=1e-9)
    assert out["can_cor.max"] == pytest.approx(r.max(), rel=1e-9)
    assert out["w_lambda"] == pytest.approx(np.prod(1 / (1 + lam)), rel=1e-8)
    assert out["lh_trace"] == pytest.approx(lam.sum(), rel=1e-8)
    assert out["roy_root"] == pytest.approx(lam.max(), rel=1e-8)
    assert out["p_trace"] == pytest.approx(np.sum(r**2), rel=1e-9)


@pytest.mark.parametrize("loader", [load_wine, load_breast_cancer])
def test_sd_ratio_is_boxs_m(loader) -> None:
    X, y = loader(return_X_y=True)
    n, p = X.shape
    classes = np.unique(y)
    k = classes.size
    covs = [np.cov(X[y == c], rowvar=False) for c in classes]
    sizes = [int((y == c).sum()) for c in classes]
    pooled = sum((s - 1) * c for s, c in zip(sizes, covs)) / (n - k)
    gamma = 1 - (2 * p**2 + 3 * p - 1) / (6 * (p + 1) * (k - 1)) * (
        sum(1 / (s - 1) for s in sizes) - 1 / (n - k))
    m = gamma * ((n - k) * np.linalg.slogdet(pooled)[1]
                 - sum((s - 1) * np.linalg.slogdet(c)[1] for s, c in zip(sizes, covs)))
    expected = np.exp(m / (p * (n - k)))
    assert metafeatures.extract(X, y, features=["sd_ratio"])["sd_ratio"] == pytest.approx(
        expected, rel=1e-9)


def test_information_theory_against_scipy_entropy() -> None:
    X, y = load_wine(return_X_y=True)
    n = X.shape[0]
    bins = int(n ** (1 / 3))
    mi, joint, ent = [], [], []
    for col in X.T:  # pymfe's equal-frequency discretisation, written out
        edges = np.quantile(col, np.linspace(0, 1, bins + 1)[1:])
        edges = np.unique(edges[np.append(True, np.diff(edges) > 1e-8)])
        codes = np.digitize(col, edges, right=True)
        table = pd.crosstab(codes, y).to_numpy()
        hx = scipy.stats.entropy(table.sum(1), base=2)
        hy = scipy.stats.entropy(table.sum(0), base=2)
        hxy = scipy.stats.entropy(table.ravel(), base=2)
        ent.append(hx)
        joint.append(hxy)
        mi.append(hx + hy - hxy)
    out = metafeatures.extract(X, y, groups=["info-theory"], summary=["mean", "max"])
    assert out["attr_ent.mean"] == pytest.approx(np.mean(ent), rel=1e-12)
    assert out["joint_ent.max"] == pytest.approx(np.max(joint), rel=1e-12)
    assert out["mut_inf.mean"] == pytest.approx(np.mean(mi), rel=1e-12)
    h_class = scipy.stats.entropy(np.bincount(y), base=2)
    assert out["eq_num_attr"] == pytest.approx(len(mi) * h_class / np.sum(mi), rel=1e-12)
    assert out["ns_ratio"] == pytest.approx((np.sum(ent) - np.sum(mi)) / np.sum(mi), rel=1e-12)


def test_f1v_directional_fisher_ratio() -> None:
    X, y = load_wine(return_X_y=True)
    values = []
    for a, b in ((0, 1), (0, 2), (1, 2)):
        xa, xb = X[y == a], X[y == b]
        d = xa.mean(0) - xb.mean(0)
        w = (len(xa) * np.cov(xa, rowvar=False) + len(xb) * np.cov(xb, rowvar=False)) / (
            len(xa) + len(xb))
        v = np.linalg.pinv(w) @ d
        values.append(1 / (1 + (v @ d) ** 2 / (v @ w @ v)))
    out = metafeatures.extract(X, y, features=["f1v"], summary=["mean", "min"])
    assert out["f1v.mean"] == pytest.approx(np.mean(values), rel=1e-9)
    assert out["f1v.min"] == pytest.approx(np.min(values), rel=1e-9)


def test_n4_with_correct_distances() -> None:
    X, y = load_wine(return_X_y=True)
    scaled = (X - X.min(0)) / np.ptp(X, axis=0)
    rs = np.random.RandomState(0)  # pymfe's interpolation, seeded
    parts, labels = [], []
    for c in np.unique(y):
        xc = scaled[y == c]
        a, b = xc[rs.choice(len(xc), len(xc))], xc[rs.choice(len(xc), len(xc))]
        parts.append(a + (b - a) * rs.random_sample(xc.shape))
        labels.append(y[y == c])
    Xi, yi = np.vstack(parts), np.concatenate(labels)
    dist = cdist(scaled, scaled, "cityblock") / X.shape[1]
    test = cdist(Xi, scaled, "cityblock") / X.shape[1]
    knn = KNeighborsClassifier(1, metric="precomputed").fit(dist, y)
    expected = np.mean(knn.predict(test) != yi)
    assert metafeatures.extract(X, y, features=["n4"], summary=["mean"])["n4.mean"] == pytest.approx(
        expected, abs=1e-12)


def test_chunked_computation_equals_single_chunk(monkeypatch) -> None:
    """Row chunks and column blocks (forced tiny here) do not change any value."""
    frame = _frame_with_missing()
    frame["colour"] = pd.Categorical(np.random.default_rng(2).choice(list("abc"), len(frame)))
    y = (frame["skewed"].fillna(1) > 1).astype(int).to_numpy()
    whole = metafeatures.extract(frame, y, groups="all", summary=["mean", "max"])
    monkeypatch.setattr(_resources, "CHUNK_BYTES", 2048)  # 256-row chunks, 1-column blocks
    chunked = metafeatures.extract(frame, y, groups="all", summary=["mean", "max"])
    assert chunked.keys() == whole.keys()
    for k in whole:
        assert chunked[k] == pytest.approx(whole[k], rel=1e-9, abs=1e-12, nan_ok=True), k


def test_wide_data_pca_from_the_gram_matrix(monkeypatch) -> None:
    """Beyond MAX_MATRIX_COLUMNS the auto-sklearn PCA comes from the rows' Gram matrix (equal
    when the sample holds every row); the covariance measures say why they are missing."""
    X, y = load_wine(return_X_y=True)
    exact = metafeatures.extract(X, y, names="autosklearn", groups=["statistical"])
    monkeypatch.setattr(_resources, "MAX_MATRIX_COLUMNS", 5)
    wide = metafeatures.extract(X, y, names="autosklearn", groups=["statistical"])
    for name in ("PCAFractionOfComponentsFor95PercentVariance", "PCAKurtosisFirstPC",
                 "PCASkewnessFirstPC"):
        assert wide[name] == pytest.approx(exact[name], rel=1e-9), name
    report = metafeatures.extract_report(X, y, groups=["statistical"], on_error="ignore")
    assert "more than 5 columns" in report.failed["cov"]
    assert np.isfinite(report.values["skewness.mean"])


def test_wide_data_gravity_and_f1v(monkeypatch) -> None:
    """Beyond MAX_MATRIX_COLUMNS, gravity (class centres only) is still computed, and f1v
    (per-class (p, p) covariances, 3 GiB each at p = 20,000) reports a MeasureError instead of
    allocating them (it raised numpy's MemoryError)."""
    X, y = load_wine(return_X_y=True)
    exact = metafeatures.extract(X, y, features=["gravity"])
    monkeypatch.setattr(_resources, "MAX_MATRIX_COLUMNS", 5)
    wide = metafeatures.extract(X, y, features=["gravity"])
    assert wide["gravity"] == pytest.approx(exact["gravity"], rel=1e-12)
    report = metafeatures.extract_report(X, y, groups=["complexity"], features=["f1v", "f1"],
                                         on_error="ignore")
    assert "more than 5 columns" in report.failed["f1v"]
    assert np.isfinite(report.values["f1.mean"])
