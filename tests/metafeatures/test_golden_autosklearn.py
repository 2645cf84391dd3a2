"""The auto-sklearn view against real references.

1. The PMF meta-database row of OpenML dataset 187 (wine), which scikit-learn bundles: auto-sklearn
   computed it (float32 data, old scikit-learn folds); we recompute it from the raw data.
2. The relations the real PMF csv obeys (derived columns from base counts), checked through our
   view's own combine functions on every row of the csv.
3. A small independent re-implementation of auto-sklearn's definitions (pandas, scipy.stats,
   scikit-learn PCA/StandardScaler, loops) on anneal (categoricals + missing values) and iris.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from mf_golden_data import load_anneal, load_pmf_rows
from sklearn.datasets import load_iris, load_wine
from sklearn.decomposition import PCA
from sklearn.model_selection import StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

import metafeatures
from metafeatures.views import AUTOSKLEARN

pytestmark = pytest.mark.shared_data

LANDMARKS = {
    "Landmark1NN", "LandmarkDecisionNodeLearner", "LandmarkDecisionTree", "LandmarkLDA",
    "LandmarkNaiveBayes", "LandmarkRandomNodeLearner",
}


def test_wine_matches_the_pmf_row_of_openml_187(shared_data) -> None:
    reference = load_pmf_rows(shared_data)["187"]  # OpenML 187 is the UCI wine data scikit-learn ships
    X, y = load_wine(return_X_y=True)
    ours = metafeatures.extract(X, y, names="autosklearn", random_state=42)  # auto-sklearn's seed
    assert set(ours) == set(reference)
    for name, expected in reference.items():
        if name in LANDMARKS:
            # same protocol; scikit-learn's StratifiedKFold assigns rows to folds differently
            # from the 2015 version PMF used
            assert ours[name] == pytest.approx(expected, abs=0.005), name
        else:
            # auto-sklearn computed on float32 data
            assert ours[name] == pytest.approx(expected, rel=2e-6, abs=1e-6), name


def test_pmf_csv_derived_columns_follow_our_definitions(shared_data) -> None:
    checked = 0
    for did, row in load_pmf_rows(shared_data).items():
        n, p = row["NumberOfInstances"], row["NumberOfFeatures"]
        if any(math.isnan(row[k]) for k in row if not k.startswith(("Landmark", "PCA"))):
            continue
        base = {
            "nr_inst": n, "nr_attr": p, "nr_num": row["NumberOfNumericFeatures"],
            "nr_cat": row["NumberOfCategoricalFeatures"], "nr_missing": row["NumberOfMissingValues"],
            "nr_inst_missing": row["NumberOfInstancesWithMissingValues"],
            "nr_attr_missing": row["NumberOfFeaturesWithMissingValues"],
        }
        for name in ("DatasetRatio", "InverseDatasetRatio", "LogDatasetRatio",
                     "LogInverseDatasetRatio", "LogNumberOfFeatures", "LogNumberOfInstances",
                     "PercentageOfFeaturesWithMissingValues",
                     "PercentageOfInstancesWithMissingValues", "PercentageOfMissingValues",
                     "RatioNominalToNumerical", "RatioNumericalToNominal"):
            entry = AUTOSKLEARN[name]
            value = entry.combine(*(base[m] for m in entry.measures))
            assert value == pytest.approx(row[name], rel=1e-9, abs=1e-12), (did, name)
        assert base["nr_num"] + base["nr_cat"] == p, did
        # the class probabilities are those of NumberOfClasses classes
        assert row["ClassProbabilityMean"] == pytest.approx(1.0 / row["NumberOfClasses"]), did
        assert row["ClassProbabilityMin"] <= row["ClassProbabilityMean"] <= row["ClassProbabilityMax"]
        # Symbols*: auto-sklearn skips attributes without symbols; 0 without categoricals
        if base["nr_cat"] == 0:
            assert row["SymbolsSum"] == row["SymbolsMax"] == row["SymbolsMean"] == 0, did
        else:
            assert row["SymbolsMin"] <= row["SymbolsMean"] <= row["SymbolsMax"], did
            assert row["SymbolsSum"] >= row["SymbolsMean"], did
        # no numeric attribute: skewness/kurtosis summaries are 0
        if base["nr_num"] == 0:
            assert row["SkewnessMean"] == row["KurtosisMax"] == 0, did
        checked += 1
    assert checked > 400


# -- an independent re-implementation of auto-sklearn's definitions ---------------------------
def _reference(frame: pd.DataFrame, y: pd.Series, seed: int) -> dict[str, float]:
    categorical = [c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)]
    numeric = [c for c in frame.columns if c not in categorical]
    n, p = frame.shape
    out: dict[str, float] = {}
    counts = Counter(y.tolist())
    probs = np.array([c / n for c in counts.values()])
    out["ClassEntropy"] = scipy.stats.entropy(list(counts.values()), base=2)
    out["ClassProbabilityMax"], out["ClassProbabilityMin"] = probs.max(), probs.min()
    out["ClassProbabilityMean"], out["ClassProbabilitySTD"] = probs.mean(), probs.std()
    out["NumberOfClasses"] = float(len(counts))
    missing = frame.isna()
    out["NumberOfMissingValues"] = float(missing.to_numpy().sum())
    out["NumberOfInstancesWithMissingValues"] = float(sum(missing.any(axis=1)))
    out["NumberOfFeaturesWithMissingValues"] = float(sum(missing.any(axis=0)))
    symbols = [int(np.sum(pd.notna(frame[c].unique()))) for c in categorical]
    positive = [s for s in symbols if s > 0]
    out["SymbolsSum"] = float(sum(symbols))
    out["SymbolsMax"] = float(max(symbols)) if symbols else 0.0
    out["SymbolsMin"] = float(min(positive)) if positive else 0.0
    out["SymbolsMean"] = float(np.mean(positive)) if positive else 0.0
    out["SymbolsSTD"] = float(np.std(positive)) if positive else 0.0
    skews, kurts = [], []
    for c in numeric:
        col = frame[c].dropna().to_numpy(dtype=float)
        skews.append(scipy.stats.skew(col))
        kurts.append(scipy.stats.kurtosis(col))
    for label, values in (("Skewness", skews), ("Kurtosis", kurts)):
        v = np.array([x for x in values if not np.isnan(x)])
        out[f"{label}Max"] = float(v.max()) if v.size else 0.0
        out[f"{label}Min"] = float(v.min()) if v.size else 0.0
        out[f"{label}Mean"] = float(v.mean()) if v.size else 0.0
        out[f"{label}STD"] = float(v.std()) if v.size else 0.0
    # the encoded matrix: mean-imputed numeric + one-hot of the observed levels, standardised
    parts = [frame[numeric].astype(float).fillna(frame[numeric].astype(float).mean())]
    parts += [pd.get_dummies(frame[c].astype(object), prefix=c, dtype=float) for c in categorical]
    encoded = pd.concat(parts, axis=1).to_numpy()
    scaled = StandardScaler().fit_transform(encoded)
    pca = PCA().fit(scaled)
    cum, idx = 0.0, 0
    while cum < 0.95 and idx < len(pca.explained_variance_ratio_):
        cum += pca.explained_variance_ratio_[idx]
        idx += 1
    out["PCAFractionOfComponentsFor95PercentVariance"] = idx / encoded.shape[1]
    first = pca.transform(scaled)[:, 0]
    out["PCASkewnessFirstPC"] = float(scipy.stats.skew(first))
    out["PCAKurtosisFirstPC"] = float(scipy.stats.kurtosis(first))
    # two landmarks through scikit-learn, auto-sklearn's protocol (shuffle, 10 stratified folds)
    codes = pd.factorize(y, sort=True)[0]
    perm = np.random.RandomState(seed).permutation(n)
    Xs, ys = scaled[perm], codes[perm]
    for name, make in (("Landmark1NN", lambda: KNeighborsClassifier(1)),
                       ("LandmarkDecisionTree", lambda: DecisionTreeClassifier(random_state=seed))):
        accs = [np.mean(make().fit(Xs[tr], ys[tr]).predict(Xs[te]) == ys[te])
                for tr, te in StratifiedKFold(10).split(Xs, ys)]
        out[name] = float(np.mean(accs))
    return out


@pytest.mark.filterwarnings("ignore:The least populated class")
@pytest.mark.parametrize("dataset", ["anneal", "iris"])
def test_independent_reimplementation(dataset, shared_data) -> None:
    if dataset == "anneal":
        frame, y = load_anneal(shared_data)
    else:
        data = load_iris(as_frame=True)
        frame, y = data.data, data.target
    ours = metafeatures.extract(frame, y, names="autosklearn", random_state=3)
    reference = _reference(frame, y, seed=3)
    for name, expected in reference.items():
        assert ours[name] == pytest.approx(expected, rel=1e-9, abs=1e-9), name
