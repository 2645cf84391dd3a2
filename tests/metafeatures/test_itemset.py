"""The itemset group: values worked out by hand (categorical, missing and discretised numeric
attributes), the cap on two_itemset's values, and that it needs no target."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import metafeatures
import metafeatures.itemset as itemset

SUMMARY = ["mean", "min", "max", "count", "sum"]


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"a": pd.Categorical(["x", "x", "y", "y"]),
                         "b": pd.Categorical(["p", "q", "q", "q"])})


def test_values_by_hand() -> None:
    out = metafeatures.extract(_frame(), groups=["itemset"], summary=SUMMARY)
    # items x, y (2 / 4 each), p (1 / 4), q (3 / 4)
    assert (out["one_itemset.count"], out["one_itemset.sum"]) == (4.0, 2.0)
    assert (out["one_itemset.min"], out["one_itemset.max"]) == (0.25, 0.75)
    # exactly one of the two items: (x, p) 1 row, (x, q) 3, (y, p) 3, (y, q) 1
    assert out["two_itemset.count"] == 4.0
    assert out["two_itemset.sum"] == pytest.approx((1 + 3 + 3 + 1) / 4, rel=1e-12)
    assert (out["two_itemset.min"], out["two_itemset.max"]) == (0.25, 0.75)


def test_missing_values_hold_no_item_and_unobserved_levels_are_no_items() -> None:
    frame = _frame()
    frame["a"] = pd.Categorical(["x", None, "y", "y"], categories=["x", "y", "never"])
    out = metafeatures.extract(frame, groups=["itemset"], summary=SUMMARY)
    assert out["one_itemset.count"] == 4.0
    assert out["one_itemset.sum"] == pytest.approx(0.25 + 0.5 + 1.0, rel=1e-12)
    # x only in row 0, y in rows 2-3; p in row 0, q in rows 1-3
    expected = [(1 + 1 - 2 * 1), (1 + 3 - 0), (2 + 1 - 0), (2 + 3 - 2 * 2)]
    assert out["two_itemset.sum"] == pytest.approx(sum(expected) / 4, rel=1e-12)


def test_numeric_attributes_are_discretised() -> None:
    # n = 8: int(8 ** (1/3)) = 2 equal-frequency bins, 4 rows each
    X = np.arange(1.0, 9.0)[:, None]
    out = metafeatures.extract(X, groups=["itemset"], summary=SUMMARY)
    assert (out["one_itemset.count"], out["one_itemset.min"], out["one_itemset.max"]) == (
        2.0, 0.5, 0.5)
    assert np.isnan(out["two_itemset.mean"]) and out["two_itemset.count"] == 0.0  # one attribute


def test_two_itemset_values_are_capped_by_whole_attribute_pairs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({f"c{j}": pd.Categorical(rng.integers(0, 3 + j, 500))
                          for j in range(6)})
    full = metafeatures.extract(frame, groups=["itemset"], summary=SUMMARY)
    sizes = np.array([(3 + i) * (3 + j) for i in range(6) for j in range(i + 1, 6)])
    assert full["two_itemset.count"] == sizes.sum()
    monkeypatch.setattr(itemset, "MAX_TWO_ITEMSET_VALUES", 100)
    capped = metafeatures.extract(frame, groups=["itemset"], summary=SUMMARY, random_state=3)
    chosen = itemset.pair_subset(sizes, 100, 3)
    assert 0 < capped["two_itemset.count"] == sizes[chosen].sum() <= 100
    assert capped == metafeatures.extract(frame, groups=["itemset"], summary=SUMMARY,
                                          random_state=3)
    assert capped["one_itemset.sum"] == full["one_itemset.sum"]  # one_itemset is never capped


def test_needs_no_target() -> None:
    X = np.random.default_rng(0).normal(size=(30, 3))
    none = metafeatures.extract(X, groups=["itemset"])
    assert none == metafeatures.extract(X, X[:, 0] * 2.5, groups=["itemset"])
    assert none == metafeatures.extract(X, np.zeros(30, dtype=int), groups=["itemset"])


def test_two_itemset_row_sample_equals_pymfe_definition_on_the_sample() -> None:
    rng = np.random.default_rng(4)
    codes = rng.integers(0, 3, (400, 3))
    frame = pd.DataFrame({f"c{j}": pd.Categorical(codes[:, j]) for j in range(3)})
    out = metafeatures.extract(frame, groups=["itemset"], summary=SUMMARY,
                               sample_sizes={"itemset": 60}, random_state=9)
    idx = metafeatures._resources.stratified_subsample(400, 60, None, 9)
    sub = codes[idx]
    ref = [np.sum((sub[:, i] == a) ^ (sub[:, j] == b)) / 60
           for i in range(3) for j in range(i + 1, 3) for a in range(3) for b in range(3)]
    assert out["two_itemset.count"] == len(ref)
    assert out["two_itemset.sum"] == pytest.approx(sum(ref), rel=1e-12)
    assert (out["two_itemset.min"], out["two_itemset.max"]) == (min(ref), max(ref))
    full = metafeatures.extract(frame, groups=["itemset"], summary=SUMMARY)
    assert full["two_itemset.sum"] != out["two_itemset.sum"]
    assert full["one_itemset.sum"] == out["one_itemset.sum"]  # one_itemset uses every row
