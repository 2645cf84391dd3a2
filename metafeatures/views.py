"""Naming views: the same computation under auto-sklearn's and OpenML's names.

A view entry maps one output name to the measures it is computed from and a function combining
their values (floats, or arrays for summarised measures). The pymfe view needs no table: it is
every measure declared with ``pymfe=True`` under its own name, summarised as ``name.summary``.

auto-sklearn: the 46 columns of the PMF meta-features (``data_feats_featurized.csv``), with the
definitions of ``autosklearn/metalearning/metafeatures/metafeatures.py`` (ratios are 0 rather
than undefined when a count is 0; skewness/kurtosis summaries skip NaN and give 0 when nothing
is left; the Symbols* summaries skip attributes without values).

OpenML: the data qualities of OpenML's evaluation engine as stored in the ``qualities.xml`` of
OpenML dataset 2 (anneal). Names of that file keep its definitions (``Percentage*`` as
fractions, ``NumberOfFeatures`` counting the target, class counts over the declared classes);
names that only the current engine computes follow its source (``*Percentage`` /
``PercentageOf*Features`` in percent). Quartiles use Apache Commons Math's default percentile
estimate, as the engine does. See ``docs/metafeatures.md`` for the list of differences.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["AUTOSKLEARN", "AUTOSKLEARN_NAMES", "OPENML", "OPENML_NAMES", "ViewEntry", "VIEWS"]


@dataclass(frozen=True)
class ViewEntry:
    """One output name of a view: ``combine(*values of measures)``."""

    name: str
    measures: tuple[str, ...]
    combine: Callable[..., float]


def _e(name: str, measures: str | tuple[str, ...], combine: Callable[..., Any] | None = None
       ) -> ViewEntry:
    ms = (measures,) if isinstance(measures, str) else measures
    return ViewEntry(name, ms, combine if combine is not None else (lambda v: float(v)))


def _div0(a: float, b: float) -> float:
    return 0.0 if b == 0 else a / b


def _finite_or_zero(func: Callable[[np.ndarray], float]) -> Callable[[np.ndarray], float]:
    """auto-sklearn's reduction of per-attribute skewness/kurtosis: NaN skipped, 0 if none."""

    def reduce(values: np.ndarray) -> float:
        v = np.asarray(values, dtype=np.float64)
        v = v[~np.isnan(v)]
        if v.size == 0:
            return 0.0
        out = float(func(v))
        return out if math.isfinite(out) else 0.0

    return reduce


def _positive(func: Callable[[np.ndarray], float]) -> Callable[[np.ndarray], float]:
    """auto-sklearn's Symbols* reduction: attributes without values skipped, 0 if none."""

    def reduce(values: np.ndarray) -> float:
        v = np.asarray(values, dtype=np.float64)
        v = v[v > 0]
        return float(func(v)) if v.size else 0.0

    return reduce


_AS: list[ViewEntry] = [
    _e("ClassEntropy", "class_ent"),
    _e("ClassProbabilityMax", "freq_class", lambda f: float(np.max(f))),
    _e("ClassProbabilityMean", "freq_class", lambda f: float(np.mean(f))),
    _e("ClassProbabilityMin", "freq_class", lambda f: float(np.min(f))),
    _e("ClassProbabilitySTD", "freq_class", lambda f: float(np.std(f))),
    _e("DatasetRatio", ("nr_attr", "nr_inst"), lambda p, n: p / n),
    _e("InverseDatasetRatio", ("nr_inst", "nr_attr"), lambda n, p: n / p),
    _e("KurtosisMax", "kurtosis_biased", _finite_or_zero(np.max)),
    _e("KurtosisMean", "kurtosis_biased", _finite_or_zero(np.mean)),
    _e("KurtosisMin", "kurtosis_biased", _finite_or_zero(np.min)),
    _e("KurtosisSTD", "kurtosis_biased", _finite_or_zero(np.std)),
    _e("Landmark1NN", "landmark_1nn"),
    _e("LandmarkDecisionNodeLearner", "landmark_decision_node"),
    _e("LandmarkDecisionTree", "landmark_decision_tree"),
    _e("LandmarkLDA", "landmark_lda"),
    _e("LandmarkNaiveBayes", "landmark_naive_bayes"),
    _e("LandmarkRandomNodeLearner", "landmark_random_node"),
    _e("LogDatasetRatio", ("nr_attr", "nr_inst"), lambda p, n: math.log(p / n)),
    _e("LogInverseDatasetRatio", ("nr_inst", "nr_attr"), lambda n, p: math.log(n / p)),
    _e("LogNumberOfFeatures", "nr_attr", lambda p: math.log(p)),
    _e("LogNumberOfInstances", "nr_inst", lambda n: math.log(n)),
    _e("NumberOfCategoricalFeatures", "nr_cat"),
    _e("NumberOfClasses", "nr_class"),
    _e("NumberOfFeatures", "nr_attr"),
    _e("NumberOfFeaturesWithMissingValues", "nr_attr_missing"),
    _e("NumberOfInstances", "nr_inst"),
    _e("NumberOfInstancesWithMissingValues", "nr_inst_missing"),
    _e("NumberOfMissingValues", "nr_missing"),
    _e("NumberOfNumericFeatures", "nr_num"),
    _e("PCAFractionOfComponentsFor95PercentVariance", "pca_95"),
    _e("PCAKurtosisFirstPC", "pca_kurtosis_first_pc"),
    _e("PCASkewnessFirstPC", "pca_skewness_first_pc"),
    _e("PercentageOfFeaturesWithMissingValues", ("nr_attr_missing", "nr_attr"), lambda m, p: m / p),
    _e("PercentageOfInstancesWithMissingValues", ("nr_inst_missing", "nr_inst"),
       lambda m, n: m / n),
    _e("PercentageOfMissingValues", ("nr_missing", "nr_inst", "nr_attr"),
       lambda m, n, p: m / (n * p)),
    _e("RatioNominalToNumerical", ("nr_cat", "nr_num"), _div0),
    _e("RatioNumericalToNominal", ("nr_num", "nr_cat"), _div0),
    _e("SkewnessMax", "skewness_biased", _finite_or_zero(np.max)),
    _e("SkewnessMean", "skewness_biased", _finite_or_zero(np.mean)),
    _e("SkewnessMin", "skewness_biased", _finite_or_zero(np.min)),
    _e("SkewnessSTD", "skewness_biased", _finite_or_zero(np.std)),
    _e("SymbolsMax", "symbols", lambda s: float(np.max(s)) if np.size(s) else 0.0),
    _e("SymbolsMean", "symbols", _positive(np.mean)),
    _e("SymbolsMin", "symbols", _positive(np.min)),
    _e("SymbolsSTD", "symbols", _positive(np.std)),
    _e("SymbolsSum", "symbols", lambda s: float(np.sum(s))),
]

#: auto-sklearn view: output name -> entry, in the column order of the PMF csv.
AUTOSKLEARN: dict[str, ViewEntry] = {e.name: e for e in _AS}

#: The 46 auto-sklearn meta-feature names (the columns of the PMF meta-features csv).
AUTOSKLEARN_NAMES: tuple[str, ...] = tuple(AUTOSKLEARN)


# -- OpenML -----------------------------------------------------------------------------------
def commons_percentile(values: np.ndarray, p: float) -> float:
    """Apache Commons Math ``Percentile`` (default, legacy estimation) of ``values`` at ``p``
    percent: position ``p (n + 1) / 100``, linear between neighbours, clamped to min/max."""
    v = np.sort(np.asarray(values, dtype=np.float64))
    n = v.size
    if n == 0:
        return float("nan")
    if n == 1:
        return float(v[0])
    pos = p * (n + 1) / 100.0
    if pos < 1:
        return float(v[0])
    if pos >= n:
        return float(v[-1])
    lower = v[int(math.floor(pos)) - 1]
    upper = v[int(math.floor(pos))]
    return float(lower + (pos - math.floor(pos)) * (upper - lower))


def _finite(func: Callable[[np.ndarray], float]) -> Callable[[np.ndarray], float]:
    """OpenML's statistics skip non-finite values; NaN when none is left."""

    def reduce(values: np.ndarray) -> float:
        v = np.asarray(values, dtype=np.float64)
        v = v[np.isfinite(v)]
        return float(func(v)) if v.size else float("nan")

    return reduce


def _sd1(v: np.ndarray) -> float:
    return float(np.std(v, ddof=1)) if v.size > 1 else float("nan")


_STATS: dict[str, Callable[[np.ndarray], float]] = {
    "Mean": np.mean,
    "Min": np.min,
    "Max": np.max,
    "Quartile1": lambda v: commons_percentile(v, 25),
    "Quartile2": lambda v: commons_percentile(v, 50),
    "Quartile3": lambda v: commons_percentile(v, 75),
}


def _n_features(p: float, has_target: float) -> float:
    return p + has_target


def _ratio_or_nan(a: float, b: float) -> float:
    return a / b if b > 0 else float("nan")


_OM: list[ViewEntry] = [
    _e("NumberOfInstances", "nr_inst"),
    _e("InstanceCount", "nr_inst"),
    _e("NumberOfFeatures", ("nr_attr", "has_target"), _n_features),
    _e("NumAttributes", ("nr_attr", "has_target"), _n_features),
    _e("Dimensionality", ("nr_attr", "has_target", "nr_inst"), lambda p, t, n: (p + t) / n),
    _e("NumberOfNumericFeatures", "nr_num"),
    _e("NumNumericAtts", "nr_num"),
    _e("NumberOfSymbolicFeatures", "nr_cat"),
    _e("NumNominalAtts", "nr_cat"),
    _e("NumberOfBinaryFeatures", "nr_bin"),
    _e("NumBinaryAtts", "nr_bin"),
    _e("PercentageOfNumericAtts", ("nr_num", "nr_attr", "has_target"), lambda a, p, t: a / (p + t)),
    _e("PercentageOfNominalAtts", ("nr_cat", "nr_attr", "has_target"), lambda a, p, t: a / (p + t)),
    _e("PercentageOfBinaryAtts", ("nr_bin", "nr_attr", "has_target"), lambda a, p, t: a / (p + t)),
    _e("PercentageOfNumericFeatures", ("nr_num", "nr_attr", "has_target"),
       lambda a, p, t: 100.0 * a / (p + t)),
    _e("PercentageOfSymbolicFeatures", ("nr_cat", "nr_attr", "has_target"),
       lambda a, p, t: 100.0 * a / (p + t)),
    _e("PercentageOfBinaryFeatures", ("nr_bin", "nr_attr", "has_target"),
       lambda a, p, t: 100.0 * a / (p + t)),
    _e("NumberOfMissingValues", "nr_missing"),
    _e("NumMissingValues", "nr_missing"),
    _e("NumberOfInstancesWithMissingValues", "nr_inst_missing"),
    _e("IncompleteInstanceCount", "nr_inst_missing"),
    _e("PercentageOfMissingValues", ("nr_missing", "nr_inst", "nr_attr", "has_target"),
       lambda m, n, p, t: m / (n * (p + t))),
    _e("PercentageOfInstancesWithMissingValues", ("nr_inst_missing", "nr_inst"),
       lambda m, n: 100.0 * m / n),
    _e("NumberOfClasses", "class_counts", lambda c: float(np.size(c))),
    _e("ClassCount", "class_counts", lambda c: float(np.size(c))),
    _e("MajorityClassSize", "class_counts", lambda c: float(np.max(c))),
    _e("MinorityClassSize", "class_counts", lambda c: float(np.min(c))),
    _e("DefaultAccuracy", ("class_counts", "nr_inst"), lambda c, n: float(np.max(c)) / n),
    _e("MajorityClassPercentage", ("class_counts", "nr_inst"),
       lambda c, n: 100.0 * float(np.max(c)) / n),
    _e("MinorityClassPercentage", ("class_counts", "nr_inst"),
       lambda c, n: 100.0 * float(np.min(c)) / n),
    _e("AutoCorrelation", "autocorrelation"),
    _e("MaxNominalAttDistinctValues", "declared_levels", _finite(np.max)),
    _e("MinNominalAttDistinctValues", "declared_levels", _finite(np.min)),
    _e("MeanNominalAttDistinctValues", "declared_levels", _finite(np.mean)),
    _e("StdvNominalAttDistinctValues", "declared_levels", _finite(_sd1)),
    _e("ClassEntropy", "class_ent"),
    _e("MeanAttributeEntropy", "openml_attr_ent", _finite(np.mean)),
    _e("MeanMutualInformation", "openml_mut_inf", _finite(np.mean)),
    _e("EquivalentNumberOfAtts", ("class_ent", "openml_mut_inf"),
       lambda h, mi: _ratio_or_nan(h, float(np.mean(mi))) if np.size(mi) else float("nan")),
    _e("NoiseToSignalRatio", ("openml_attr_ent", "openml_mut_inf"),
       lambda ae, mi: _ratio_or_nan(float(np.mean(ae)) - float(np.mean(mi)), float(np.mean(mi)))
       if np.size(mi) else float("nan")),
    _e("MeanNoiseToSignalRatio", ("openml_attr_ent", "openml_mut_inf"),
       lambda ae, mi: _ratio_or_nan(float(np.mean(ae)) - float(np.mean(mi)), float(np.mean(mi)))
       if np.size(mi) else float("nan")),
]
for _stat, _func in _STATS.items():
    for _label, _measure in (("Means", "mean_numeric"), ("StdDev", "sd_numeric"),
                             ("Kurtosis", "kurtosis_openml"), ("Skewness", "skewness_openml")):
        _OM.append(_e(f"{_stat}{_label}OfNumericAtts", _measure, _finite(_func)))
    if _stat != "Mean":
        _OM.append(_e(f"{_stat}AttributeEntropy", "openml_attr_ent", _finite(_func)))
        _OM.append(_e(f"{_stat}MutualInformation", "openml_mut_inf", _finite(_func)))

#: OpenML view: quality name -> entry.
OPENML: dict[str, ViewEntry] = {e.name: e for e in _OM}

#: The OpenML quality names this package computes.
OPENML_NAMES: tuple[str, ...] = tuple(OPENML)

VIEWS: dict[str, dict[str, ViewEntry]] = {"autosklearn": AUTOSKLEARN, "openml": OPENML}
