"""The clustering group: values worked out by hand on a tiny dataset, scikit-learn's indices
as references (all rows, subsample, missing values), and the skip rules."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sklearn.metrics
from scipy.spatial.distance import pdist, squareform

import metafeatures
from metafeatures import DataError
from metafeatures._resources import stratified_subsample

# class 0 at x = 0, 1; class 1 at x = 4, 6 (pairwise distances 1, 4, 6, 3, 5, 2)
X_TINY = np.array([[0.0], [1.0], [4.0], [6.0]])
Y_TINY = np.array([0, 0, 1, 1])


def _tiny(**kwargs: object) -> dict[str, float]:
    return metafeatures.extract(X_TINY, Y_TINY, groups=["clustering"], **kwargs)


def test_values_by_hand() -> None:
    out = _tiny()
    assert out["int"] == pytest.approx((4 + 6 + 3 + 5) / 4, rel=1e-12)
    # closest pair of different classes (1, 4): 3 / (2 * 2); largest intra-class distance 2
    assert out["vdu"] == pytest.approx(0.75 / 2, rel=1e-12)
    # silhouettes: (5 - 1) / 5, (4 - 1) / 4, (3.5 - 2) / 3.5, (5.5 - 2) / 5.5
    assert out["sil"] == pytest.approx((0.8 + 0.75 + 3 / 7 + 7 / 11) / 4, rel=1e-12)
    # same-class indicator (1, 0, 0, 0, 0, 1) against distances (1, 4, 6, 3, 5, 2)
    assert out["pb"] == pytest.approx(-4.0 / math.sqrt(4 / 3 * 17.5), rel=1e-12)
    # centroids 0.5 and 5, mean 2.75: between 4 * 2.25**2, within 2 * 0.25 + 2 * 1
    assert out["ch"] == pytest.approx(20.25 * 2 / 2.5, rel=1e-12)
    # mean distances to the centroid 0.5 and 1, centroids 4.5 apart
    assert out["vdb"] == pytest.approx(1.5 / 4.5, rel=1e-12)
    assert out["nre"] == pytest.approx(math.log(2), rel=1e-12)
    assert out["sc"] == 2.0


def _blobs(n: int = 600, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    X = rng.normal(size=(n, 4)) + y[:, None] * np.array([1.0, 0.5, 0.0, 2.0])
    return X, y


def test_subsample_measures_equal_sklearn_on_the_subsample_and_centroid_ones_use_all_rows() -> None:
    X, y = _blobs()
    out = metafeatures.extract(X, y, groups=["clustering"], sample_sizes={"clustering": 150},
                               random_state=5)
    idx = stratified_subsample(len(y), 150, y, 5)
    Xs, ys = X[idx], y[idx]
    assert out["sil"] == pytest.approx(sklearn.metrics.silhouette_score(Xs, ys), rel=1e-10)
    same = squareform((ys[:, None] == ys[None, :]).astype(float), checks=False)
    assert out["pb"] == pytest.approx(np.corrcoef(same, pdist(Xs))[0, 1], rel=1e-10)
    assert out["ch"] == pytest.approx(sklearn.metrics.calinski_harabasz_score(X, y), rel=1e-10)
    assert out["vdb"] == pytest.approx(sklearn.metrics.davies_bouldin_score(X, y), rel=1e-10)
    whole = metafeatures.extract(X, y, groups=["clustering"])
    assert whole["sil"] == pytest.approx(sklearn.metrics.silhouette_score(X, y), rel=1e-10)
    assert whole["sil"] != out["sil"]


def test_missing_values_are_imputed_with_column_means() -> None:
    X, y = _blobs(200)
    X[::7, 1] = np.nan
    out = metafeatures.extract(X, y, groups=["clustering"])
    filled = np.where(np.isnan(X), np.nanmean(X, axis=0), X)
    assert out["sil"] == pytest.approx(sklearn.metrics.silhouette_score(filled, y), rel=1e-10)
    assert out["ch"] == pytest.approx(sklearn.metrics.calinski_harabasz_score(filled, y),
                                      rel=1e-10)


def test_singleton_classes_and_sc() -> None:
    X = np.array([[0.0], [1.0], [2.0], [10.0], [20.0]])
    y = np.array([0, 0, 0, 1, 2])
    out = metafeatures.extract(X, y, groups=["clustering"])
    assert out["sil"] == pytest.approx(sklearn.metrics.silhouette_score(X, y), rel=1e-12)
    assert out["sc"] == 3.0
    # the only class with two rows or more sets the largest intra-class distance (2)
    assert out["vdu"] == pytest.approx((10 - 2) / 3 / 2, rel=1e-12)


def test_skip_rules() -> None:
    X, y = _blobs(100)
    with pytest.raises(DataError, match="group 'clustering' was requested but none"):
        metafeatures.extract(X, y.astype(float) + 0.5, groups=["clustering"])
    with pytest.raises(DataError, match="group 'clustering' was requested but none"):
        metafeatures.extract(X, groups=["clustering"])
    with pytest.raises(DataError, match="single class"):
        metafeatures.extract(X, np.zeros(100, dtype=int), groups=["clustering"])
    report = metafeatures.extract_report(X, y.astype(float) + 0.5, groups="all")
    assert "sil" in report.skipped and "sil" not in report.values
