"""The OpenML view against OpenML's own data qualities of anneal (dataset 2, qualities.xml)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
from mf_golden_data import load_anneal, load_anneal_qualities

import metafeatures
from metafeatures.views import OPENML, commons_percentile

pytestmark = pytest.mark.shared_data

#: Qualities of the file that OpenML's engine did not compute: it stored the placeholder -1 for
#: ClassEntropy and MeanAttributeEntropy, and derived EquivalentNumberOfAtts and
#: NoiseToSignalRatio from those placeholders.
PLACEHOLDERS = {"ClassEntropy", "MeanAttributeEntropy"}
DERIVED_FROM_PLACEHOLDERS = {"EquivalentNumberOfAtts", "NoiseToSignalRatio"}


def test_every_quality_we_compute_matches_openml(shared_data) -> None:
    X, y = load_anneal(shared_data)
    anneal_qualities = load_anneal_qualities(shared_data)
    ours = metafeatures.extract(X, y, names="openml")
    common = sorted(set(ours) & set(anneal_qualities))
    compared = [k for k in common if k not in PLACEHOLDERS | DERIVED_FROM_PLACEHOLDERS]
    for name in compared:
        assert ours[name] == pytest.approx(anneal_qualities[name], rel=1e-12, abs=1e-12), name
    assert len(compared) == 32
    # the rest of the file are Weka landmarkers (J48, REPTree, SVM, kNN, ...) and stream
    # measures (Hoeffding, ADWIN) that we do not compute under OpenML's names
    assert set(common) - set(compared) == PLACEHOLDERS | DERIVED_FROM_PLACEHOLDERS


def test_the_placeholder_qualities(shared_data) -> None:
    X, y = load_anneal(shared_data)
    anneal_qualities = load_anneal_qualities(shared_data)
    q = anneal_qualities
    assert q["ClassEntropy"] == -1 and q["MeanAttributeEntropy"] == -1
    # our derivations reproduce OpenML's numbers when given OpenML's (placeholder) inputs
    ena = OPENML["EquivalentNumberOfAtts"].combine(q["ClassEntropy"],
                                                   np.array([q["MeanMutualInformation"]]))
    nsr = OPENML["NoiseToSignalRatio"].combine(np.array([q["MeanAttributeEntropy"]]),
                                               np.array([q["MeanMutualInformation"]]))
    assert ena == pytest.approx(q["EquivalentNumberOfAtts"], rel=1e-12)
    assert nsr == pytest.approx(q["NoiseToSignalRatio"], rel=1e-12)
    # and our own class entropy is the entropy of the class counts
    ours = metafeatures.extract(X, y, names="openml")
    counts = y.value_counts().to_numpy()
    assert ours["ClassEntropy"] == pytest.approx(scipy.stats.entropy(counts, base=2), rel=1e-12)


def test_openml_quirks_are_reproduced_on_purpose(shared_data) -> None:
    """Declared classes and levels count (class '4' never occurs; 'm' is never observed), and a
    missing nominal value is counted as the first declared level in the mutual information."""
    X, y = load_anneal(shared_data)
    ours = metafeatures.extract(X, y, names="openml")
    assert ours["NumberOfClasses"] == 6 and ours["MinorityClassSize"] == 0
    assert ours["MinNominalAttDistinctValues"] == 1  # e.g. 'm' declares {Y}, observed never
    # mutual information as OpenML's Java code: missing -> index 0
    mi = []
    codes_y = y.cat.codes.to_numpy()
    for col in X.columns:
        if not hasattr(X[col], "cat"):
            continue
        x = X[col].cat.codes.to_numpy().copy()
        x[x < 0] = 0
        h = scipy.stats.entropy(np.bincount(codes_y), base=2)
        for v in np.unique(x):
            sel = x == v
            h -= sel.mean() * scipy.stats.entropy(np.bincount(codes_y[sel]), base=2)
        mi.append(h)
    assert ours["MeanMutualInformation"] == pytest.approx(np.mean(mi), rel=1e-12)


def test_commons_percentile_matches_the_legacy_estimator() -> None:
    # Apache Commons Math Percentile (legacy): position p (n + 1) / 100, clamped
    v = np.array([7.0, 1.0, 3.0, 5.0])
    assert commons_percentile(v, 50) == 4.0
    assert commons_percentile(v, 25) == 1.5
    assert commons_percentile(v, 75) == 6.5
    assert commons_percentile(v, 10) == 1.0 and commons_percentile(v, 95) == 7.0
    assert commons_percentile(np.array([2.0]), 75) == 2.0
