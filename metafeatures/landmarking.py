"""Landmarking meta-features: cross-validated accuracy of simple learners.

Two protocols, each on a seeded, class-stratified subsample of at most
``SAMPLE_SIZES["landmarking"]`` (2000) rows of ``N`` (missing values imputed with column means):

* pymfe's (names ``one_nn``, ``best_node``, ...; one accuracy per fold, summarised):
  ``StratifiedKFold(10, shuffle=True, random_state=seed)`` on the unscaled ``N``, the learners
  and attribute choices of ``pymfe.landmarking`` (equal to ``MFE(shuffle_cv_folds=True,
  random_state=seed)`` when the data fits the sample).
* auto-sklearn's (``landmark_*``, the ``Landmark*`` columns of the PMF meta-features; the mean
  accuracy): ``N`` standardised, rows shuffled with ``RandomState(seed)``, then
  ``StratifiedKFold(10)``. With ``random_state=42`` this reproduces the PMF meta-database values
  (auto-sklearn's seed) up to scikit-learn's fold assignment.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from metafeatures._input import Target
from metafeatures._registry import REGISTRY
from metafeatures._resources import (
    Config,
    Encoded,
    Moments,
    float32_safe,
    need_columns,
    single_threaded,
    stratified_subsample,
)
from metafeatures.errors import MeasureError

G = "landmarking"


# scikit-learn is imported when a landmarker runs, not with the package (import time)
def _tree(**kwargs: Any) -> Any:
    from sklearn.tree import DecisionTreeClassifier

    return DecisionTreeClassifier(**kwargs)


def _knn() -> Any:
    from sklearn.neighbors import KNeighborsClassifier

    return KNeighborsClassifier(n_neighbors=1)


def _nb() -> Any:
    from sklearn.naive_bayes import GaussianNB

    return GaussianNB()


def _lda() -> Any:
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    return LinearDiscriminantAnalysis()


@dataclass(frozen=True)
class CVData:
    """A landmarking sample: ``X`` (m, p) float64, ``y`` (m,) codes and the CV folds;
    ``X_tree`` is ``X`` with columns rescaled where float32 (scikit-learn's trees) would
    overflow or underflow."""

    X: np.ndarray
    y: np.ndarray
    folds: tuple[tuple[np.ndarray, np.ndarray], ...]
    score: str = "accuracy"

    @functools.cached_property
    def X_tree(self) -> np.ndarray:
        return float32_safe(self.X)

    @functools.cached_property
    def X_uniform(self) -> np.ndarray:
        """``X`` times a power of two (exact) that brings its largest magnitude near 1 when it
        is above 1e100 or below 1e-100, where squares (distances, variances) overflow or
        underflow. 1-NN and naive Bayes predict the same on ``c * X`` for any ``c > 0``."""
        amax = float(np.abs(self.X).max()) if self.X.size else 0.0
        if amax == 0.0 or 1e-100 <= amax <= 1e100:
            return self.X
        return np.ldexp(self.X, -np.frexp(amax)[1])


def _folds(X: np.ndarray, y: np.ndarray, n_folds: int, shuffle: bool, seed: int | None
           ) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    counts = np.bincount(y)
    if y.size < 2 or np.count_nonzero(counts) < 2:
        raise MeasureError("cross-validation needs at least two classes")
    from sklearn.model_selection import StratifiedKFold

    # StratifiedKFold needs a class with at least as many instances as folds
    k = int(min(n_folds, counts.max()))
    if k < 2:
        raise MeasureError("cross-validation needs a class with at least two instances")
    skf = StratifiedKFold(n_splits=k, shuffle=shuffle, random_state=seed if shuffle else None)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        return tuple((tr, te) for tr, te in skf.split(X, y))


def _sample(enc: Encoded, mom: Moments, target: Target, config: Config) -> tuple[np.ndarray, np.ndarray]:
    assert target.codes is not None
    idx = stratified_subsample(enc.n, config.sample_sizes["landmarking"], target.codes, config.seed)
    return enc.take(idx, fill=mom.mean), target.codes[idx]


@REGISTRY.resource("lm_pymfe", requires=("encoded", "moments", "target", "config"))
def _lm_pymfe(enc: Encoded, mom: Moments, target: Target, config: Config) -> CVData:
    """pymfe's landmarking sample: N (unscaled unless ``rescale``), stratified folds (shuffled
    unless ``shuffle_cv_folds=False``); with ``lm_sample_frac`` pymfe's own row sample
    (``RandomState(seed).choice(n, int(frac * n), replace=False)``, in that order)."""
    need_columns(enc)
    if config.lm_sample_frac is not None:
        assert target.codes is not None
        idx = np.random.RandomState(config.seed).choice(
            enc.n, size=int(config.lm_sample_frac * enc.n), replace=False)
        X, y = enc.take(idx, fill=mom.mean), target.codes[idx]
    else:
        X, y = _sample(enc, mom, target, config)
    return CVData(X, y, _folds(X, y, config.n_folds, config.shuffle_folds, config.seed),
                  config.score)


@REGISTRY.resource("lm_importance", requires=("lm_pymfe", "config"))
def _lm_importance(cv: CVData, config: Config) -> np.ndarray:
    """(folds, p) attributes ranked by a full decision tree's importance on each training fold
    (ascending, as pymfe's ``cv_folds_imp_rank``)."""
    with single_threaded():
        return np.array([
            np.argsort(_tree(random_state=config.seed).fit(cv.X_tree[tr], cv.y[tr])
                       .feature_importances_)
            for tr, _ in cv.folds
        ], dtype=np.int64)


def _cv_scores(cv: CVData, make: Callable[[], Any], columns: Callable[[int], Any] | None = None,
               tree: bool = False) -> np.ndarray:
    """Accuracy per fold; ``tree``: on :attr:`CVData.X_tree` (columns rescaled: trees, LDA and
    1-NN on one attribute do not change when a column is multiplied by a positive constant), else on
    :attr:`CVData.X_uniform`."""
    X = cv.X_tree if tree else cv.X_uniform
    scores = np.empty(len(cv.folds))
    with single_threaded():
        for i, (tr, te) in enumerate(cv.folds):
            scores[i] = _fold_score(X, cv.y, make, columns, i, tr, te, cv.score)
    return scores


def _fold_score(X: np.ndarray, y: np.ndarray, make: Callable[[], Any],
                columns: Callable[[int], Any] | None, i: int, tr: np.ndarray, te: np.ndarray,
                score: str = "accuracy") -> float:
    cols = slice(None) if columns is None else columns(i)
    Xtr, Xte = X[tr][:, cols], X[te][:, cols]
    if Xtr.ndim == 1:
        Xtr, Xte = Xtr[:, None], Xte[:, None]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Variables are collinear", category=UserWarning)
        model = make().fit(Xtr, y[tr])
        pred = model.predict(Xte)
    if score == "accuracy":
        return float(np.mean(pred == y[te]))
    return _score(score, y[te], pred)


def _score(score: str, y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """pymfe's scores (``pymfe.scoring``; ``kappa`` is Cohen's, which pymfe 0.4.4 leaves
    unimplemented)."""
    from sklearn import metrics

    with warnings.catch_warnings():  # classes absent from a fold
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        if score == "balanced-accuracy":
            return float(metrics.balanced_accuracy_score(y_true, y_pred))
        if score == "f1":
            return float(metrics.f1_score(y_true, y_pred, average="weighted"))
        if score == "kappa":
            return float(metrics.cohen_kappa_score(y_true, y_pred))
    raise KeyError(score)


def _class_means(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(max(y) + 1, p) mean of X per class code (0 rows for absent codes)."""
    k = int(y.max()) + 1
    sums = np.zeros((k, X.shape[1]))
    np.add.at(sums, y, X)
    counts = np.bincount(y, minlength=k).astype(np.float64)
    return sums / np.maximum(counts, 1.0)[:, None]


def _check_lda_folds(cv: CVData) -> None:
    """Linear discriminant analysis needs two classes and more rows than classes per fold."""
    X = cv.X_tree  # LDA's input (see linear_discr)
    for tr, _ in cv.folds:
        k = np.unique(cv.y[tr]).size
        if k < 2:
            raise MeasureError(
                "linear discriminant analysis needs two classes in every training fold; a class "
                "has too few instances for the cross-validation"
            )
        Xtr, ytr = X[tr], cv.y[tr]
        centred = Xtr - _class_means(Xtr, ytr)[ytr]
        if not np.any(centred.std(axis=0) > 0):
            raise MeasureError("linear discriminant analysis needs an attribute that varies "
                               "within the classes of every training fold")
        if tr.size <= k:
            raise MeasureError(
                f"linear discriminant analysis needs more training rows than classes; a fold "
                f"has {tr.size} rows for {k} classes"
            )


@REGISTRY.measure("best_node", group=G, requires=("lm_pymfe", "config"), target="classes",
                  min_classes=2, summarised=True)
def best_node(cv: CVData, config: Config) -> np.ndarray:
    """Accuracy per fold of a decision stump on all attributes."""
    return _cv_scores(cv, lambda: _tree(max_depth=1, random_state=config.seed), tree=True)


@REGISTRY.measure("random_node", group=G, requires=("lm_pymfe", "config"), target="classes",
                  min_classes=2, summarised=True)
def random_node(cv: CVData, config: Config) -> np.ndarray:
    """Accuracy per fold of a decision stump on one random attribute
    (``RandomState(seed).randint(p)``, pymfe's choice)."""
    attr = int(np.random.RandomState(config.seed).randint(0, cv.X.shape[1], size=1)[0])
    return _cv_scores(cv, lambda: _tree(max_depth=1, random_state=config.seed),
                      lambda _: attr, tree=True)


@REGISTRY.measure("worst_node", group=G, requires=("lm_pymfe", "lm_importance", "config"),
                  target="classes", min_classes=2, summarised=True)
def worst_node(cv: CVData, rank: np.ndarray, config: Config) -> np.ndarray:
    """Accuracy per fold of a decision stump on the least important attribute of the fold."""
    return _cv_scores(cv, lambda: _tree(max_depth=1, random_state=config.seed),
                      lambda i: int(rank[i, 0]), tree=True)


@REGISTRY.measure("elite_nn", group=G, requires=("lm_pymfe", "lm_importance"),
                  target="classes", min_classes=2, summarised=True)
def elite_nn(cv: CVData, rank: np.ndarray) -> np.ndarray:
    """Accuracy per fold of 1-NN on the most important attribute of the fold (on the
    column-rescaled data: 1-NN on one attribute does not change when it is multiplied by a
    positive constant)."""
    return _cv_scores(cv, _knn, lambda i: int(rank[i, -1]), tree=True)


@REGISTRY.measure("linear_discr", group=G, requires=("lm_pymfe",), target="classes",
                  min_classes=2, summarised=True)
def linear_discr(cv: CVData) -> np.ndarray:
    """Accuracy per fold of linear discriminant analysis (on the column-rescaled data: LDA's
    predictions do not change when a column is multiplied by a positive constant)."""
    _check_lda_folds(cv)
    return _cv_scores(cv, _lda, tree=True)


@REGISTRY.measure("naive_bayes", group=G, requires=("lm_pymfe",), target="classes",
                  min_classes=2, summarised=True)
def naive_bayes(cv: CVData) -> np.ndarray:
    """Accuracy per fold of Gaussian naive Bayes."""
    return _cv_scores(cv, _nb)


@REGISTRY.measure("one_nn", group=G, requires=("lm_pymfe",), target="classes", min_classes=2,
                  summarised=True)
def one_nn(cv: CVData) -> np.ndarray:
    """Accuracy per fold of the 1-nearest-neighbour classifier (Euclidean)."""
    return _cv_scores(cv, _knn)


# -- auto-sklearn's protocol --------------------------------------------------------------------
@REGISTRY.resource("lm_autosklearn", requires=("encoded", "moments", "target", "config"))
def _lm_autosklearn(enc: Encoded, mom: Moments, target: Target, config: Config) -> CVData:
    """auto-sklearn's landmarking sample: standardised N, rows shuffled, stratified folds."""
    need_columns(enc)
    X, y = _sample(enc, mom, target, config)
    mean, std = mom.mean, np.sqrt(mom.m2 / mom.count)
    amax = np.maximum(np.abs(mom.minimum), np.abs(mom.maximum))
    extreme = np.flatnonzero((amax > 1e100) | ((amax > 0) & (amax < 1e-100)))
    if extreme.size:  # squares overflow or underflow: standardise c * x (c a power of two)
        shift = -np.frexp(amax[extreme])[1]
        X[:, extreme] = np.ldexp(X[:, extreme], shift)
        mean, std = mean.copy(), std.copy()
        mean[extreme], std[extreme] = _scaled_mean_std(enc, extreme, shift)
    std[std == 0] = 1.0
    X -= mean
    X /= std
    perm = np.random.RandomState(config.seed).permutation(X.shape[0])
    X, y = X[perm], y[perm]
    return CVData(X, y, _folds(X, y, config.n_folds, False, None))


def _scaled_mean_std(enc: Encoded, columns: np.ndarray, shift: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation (ddof=0, missing values skipped) over all rows of the
    ``columns`` of N multiplied by ``2 ** shift``."""
    count = np.zeros(columns.size)
    total = np.zeros(columns.size)
    for _, _, chunk in enc.iter_rows():
        block = np.ldexp(chunk[:, columns], shift)
        count += (~np.isnan(block)).sum(axis=0)
        total += np.nansum(block, axis=0)
    mean = total / count
    m2 = np.zeros(columns.size)
    for _, _, chunk in enc.iter_rows():
        m2 += np.nansum((np.ldexp(chunk[:, columns], shift) - mean) ** 2, axis=0)
    return mean, np.sqrt(m2 / count)


@REGISTRY.measure("landmark_1nn", group=G, requires=("lm_autosklearn",), target="classes",
                  min_classes=2, pymfe=False)
def landmark_1nn(cv: CVData) -> float:
    """Mean CV accuracy of 1-NN on the standardised data (auto-sklearn's Landmark1NN)."""
    return float(_cv_scores(cv, _knn).mean())


@REGISTRY.measure("landmark_decision_node", group=G, requires=("lm_autosklearn", "config"),
                  target="classes", min_classes=2, pymfe=False)
def landmark_decision_node(cv: CVData, config: Config) -> float:
    """Mean CV accuracy of an entropy decision stump (LandmarkDecisionNodeLearner)."""
    return float(_cv_scores(cv, lambda: _tree(
        criterion="entropy", max_depth=1, random_state=config.seed), tree=True).mean())


@REGISTRY.measure("landmark_random_node", group=G, requires=("lm_autosklearn", "config"),
                  target="classes", min_classes=2, pymfe=False)
def landmark_random_node(cv: CVData, config: Config) -> float:
    """Mean CV accuracy of an entropy stump on one random attribute per split
    (LandmarkRandomNodeLearner: ``max_features=1``)."""
    return float(_cv_scores(cv, lambda: _tree(
        criterion="entropy", max_depth=1, max_features=1, random_state=config.seed),
        tree=True).mean())


@REGISTRY.measure("landmark_decision_tree", group=G, requires=("lm_autosklearn", "config"),
                  target="classes", min_classes=2, pymfe=False)
def landmark_decision_tree(cv: CVData, config: Config) -> float:
    """Mean CV accuracy of a full CART tree (LandmarkDecisionTree)."""
    return float(_cv_scores(cv, lambda: _tree(random_state=config.seed), tree=True).mean())


@REGISTRY.measure("landmark_lda", group=G, requires=("lm_autosklearn",), target="classes",
                  min_classes=2, pymfe=False)
def landmark_lda(cv: CVData) -> float:
    """Mean CV accuracy of linear discriminant analysis (LandmarkLDA)."""
    _check_lda_folds(cv)
    return float(_cv_scores(cv, _lda, tree=True).mean())


@REGISTRY.measure("landmark_naive_bayes", group=G, requires=("lm_autosklearn",),
                  target="classes", min_classes=2, pymfe=False)
def landmark_naive_bayes(cv: CVData) -> float:
    """Mean CV accuracy of Gaussian naive Bayes (LandmarkNaiveBayes)."""
    return float(_cv_scores(cv, _nb).mean())
