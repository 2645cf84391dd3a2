"""Extreme magnitudes (values near 1e300 or 1e-300, as float64 allows).

Squares of such values overflow or underflow, so a learner fed the raw values crashes deep in
scikit-learn or silently predicts one class. The landmarkers and the complexity measures below do
not change when every value is multiplied by a positive constant (accuracies of LDA, naive Bayes,
1-NN and stumps; a standardised linear SVM; Fisher ratios), so on ``iris * c`` they must equal
their values on iris. (pymfe 0.4.4 is no reference here: its ``linear_discr`` raises an
IndexError from scikit-learn at 1e300 and at 1e-300.)
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.datasets import load_iris

import metafeatures

SCALES = (1e300, 1e-300)

LANDMARKING_INVARIANT = (
    "best_node.mean", "best_node.sd", "elite_nn.mean", "linear_discr.mean", "linear_discr.sd",
    "naive_bayes.mean", "naive_bayes.sd", "one_nn.mean", "one_nn.sd", "random_node.mean",
    "worst_node.mean",
)
COMPLEXITY_INVARIANT = ("f1.mean", "f1v.mean", "f2.mean", "f3.mean", "l1.mean", "l2.mean",
                        "l3.mean")
# on min-max scaled Gower distances: rounding resolves iris's ties differently (documented, 2e-3)
COMPLEXITY_DISTANCES = ("n1", "n2.mean", "n3.mean", "lsc", "density")


@pytest.fixture(scope="module")
def iris() -> tuple[np.ndarray, np.ndarray]:
    return load_iris(return_X_y=True)


@pytest.mark.parametrize("scale", SCALES)
def test_landmarkers_are_scale_invariant_at_extreme_magnitudes(iris, scale: float) -> None:
    X, y = iris
    base = metafeatures.extract(X, y, groups=["landmarking"])
    out = metafeatures.extract(X * scale, y, groups=["landmarking"])  # on_error="raise"
    for name in LANDMARKING_INVARIANT:
        assert out[name] == pytest.approx(base[name], rel=1e-9, abs=1e-12), name


def test_elite_nn_with_columns_of_very_different_magnitudes(iris) -> None:
    # 1-NN on the single most important attribute does not change when that attribute is
    # multiplied by a positive constant, whatever the other columns hold
    X, y = iris
    mixed = X.copy()
    mixed[:, 0] *= 1e300
    mixed[:, 1] *= 1e-300
    base = metafeatures.extract(X, y, features=["elite_nn"])
    out = metafeatures.extract(mixed, y, features=["elite_nn"])
    assert out == pytest.approx(base, rel=1e-9)


@pytest.mark.parametrize("scale", SCALES)
def test_autosklearn_landmarkers_at_extreme_magnitudes(iris, scale: float) -> None:
    X, y = iris
    names = [n for n in metafeatures.AUTOSKLEARN_NAMES if n.startswith("Landmark")]
    base = metafeatures.extract(X, y, names="autosklearn", features=names)
    out = metafeatures.extract(X * scale, y, names="autosklearn", features=names)
    for name in names:
        assert out[name] == pytest.approx(base[name], rel=1e-9, abs=1e-12), name


@pytest.mark.parametrize("scale", SCALES)
def test_complexity_is_scale_invariant_at_extreme_magnitudes(iris, scale: float) -> None:
    X, y = iris
    features = [n.split(".")[0] for n in COMPLEXITY_INVARIANT + COMPLEXITY_DISTANCES]
    base = metafeatures.extract(X, y, groups=["complexity"], features=features)
    out = metafeatures.extract(X * scale, y, groups=["complexity"], features=features)
    for name in COMPLEXITY_INVARIANT + COMPLEXITY_DISTANCES:
        assert not math.isnan(out[name]), name
        tol = 2e-3 if name in COMPLEXITY_DISTANCES else 1e-9
        assert out[name] == pytest.approx(base[name], rel=1e-6, abs=tol), name


def test_overflowing_statistics_are_nan_as_in_pymfe(iris) -> None:
    # above ~1e154 the squares in the covariance / scatter matrices overflow; pymfe 0.4.4 gives
    # cov.mean = inf and NaN for eigenvalues, can_cor, nr_disc, w_lambda, p_trace, lh_trace,
    # roy_root on iris * 1e300 (checked by hand); the default on_error='raise' must not fail
    X, y = iris
    out = metafeatures.extract(X * 1e300, y, groups=["statistical"])
    assert out["cov.mean"] == math.inf
    for name in ("eigenvalues.mean", "eigenvalues.sd", "can_cor.mean", "nr_disc", "w_lambda",
                 "p_trace", "lh_trace", "roy_root"):
        assert math.isnan(out[name]), name


def test_overflowing_principal_components_are_nan(iris) -> None:
    # t3 / t4 (pymfe 0.4.4: NaN on iris * 1e300) and auto-sklearn's PCA columns come from the
    # overflowed covariance: NaN, not a LinAlgError under the default on_error='raise'
    X, y = iris
    out = metafeatures.extract(X * 1e300, y, groups=["complexity"], features=["t3", "t4", "t2"])
    assert math.isnan(out["t3"]) and math.isnan(out["t4"]) and out["t2"] == 4 / 150
    auto = metafeatures.extract(X * 1e300, y, names="autosklearn")
    for name in ("PCAFractionOfComponentsFor95PercentVariance", "PCAKurtosisFirstPC",
                 "PCASkewnessFirstPC"):
        assert math.isnan(auto[name]), name
