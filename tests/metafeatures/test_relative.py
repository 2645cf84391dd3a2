"""The relative group: ranks of the landmarkers within each summary, added to or replacing
the landmarking values as pymfe does, and its skip rules."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.datasets import load_wine

import metafeatures
from metafeatures import ArgumentError, DataError
from metafeatures.relative import relative


def test_ranks_by_hand() -> None:
    values = {"a.mean": 0.5, "b.mean": 0.7, "c.mean": 0.5, "a.sd": 0.1, "b.sd": 0.3,
              "c.sd": 0.2, "a.quantiles.0": 1.0, "b.quantiles.0": float("nan"),
              "c.quantiles.0": 0.0}
    out = relative(values)
    assert out == {"a.mean.relative": 1.5, "b.mean.relative": 3.0, "c.mean.relative": 1.5,
                   "a.sd.relative": 1.0, "b.sd.relative": 3.0, "c.sd.relative": 2.0,
                   "a.quantiles.0.relative": pytest.approx(float("nan"), nan_ok=True),
                   "b.quantiles.0.relative": pytest.approx(float("nan"), nan_ok=True),
                   "c.quantiles.0.relative": pytest.approx(float("nan"), nan_ok=True)}


@pytest.fixture(scope="module")
def wine() -> tuple[np.ndarray, np.ndarray]:
    return load_wine(return_X_y=True)


def _hand_ranks(values: dict[str, float]) -> dict[str, float]:
    v = list(values.values())
    return {k + ".relative": 1 + sum(w < x for w in v) + 0.5 * (sum(w == x for w in v) - 1)
            for k, x in values.items()}


def test_added_to_landmarking_or_replacing_it(wine) -> None:
    X, y = wine
    both = metafeatures.extract(X, y, groups=["landmarking", "relative"],
                                summary=["mean", "max"])
    plain = {k: v for k, v in both.items() if not k.endswith(".relative")}
    assert plain == metafeatures.extract(X, y, groups=["landmarking"], summary=["mean", "max"])
    assert len(plain) == 14 and len(both) == 28
    for s in ("mean", "max"):
        group = {k: v for k, v in plain.items() if k.endswith("." + s)}
        assert {k: both[k] for k in _hand_ranks(group)} == _hand_ranks(group)
    alone = metafeatures.extract(X, y, groups=["relative"], summary=["mean", "max"])
    assert alone == {k: v for k, v in both.items() if k.endswith(".relative")}
    report = metafeatures.extract_report(X, y, groups=["relative"])
    assert "relative" in report.seconds


def test_features_and_default_groups(wine) -> None:
    X, y = wine
    two = metafeatures.extract(X, y, groups=["relative"], features=["best_node", "one_nn"])
    assert sorted(two) == ["best_node.mean.relative", "best_node.sd.relative",
                           "one_nn.mean.relative", "one_nn.sd.relative"]
    assert two["best_node.mean.relative"] + two["one_nn.mean.relative"] == 3.0
    named = metafeatures.extract(X, y, features=["best_node"])  # groups="default"
    assert sorted(named) == ["best_node.mean", "best_node.sd"]
    every = metafeatures.extract(X, y, groups="all")
    assert sum(k.endswith(".relative") for k in every) == 14


def test_skip_rules_and_views(wine) -> None:
    X, y = wine
    y_reg = X[:, 0] * 1.5
    with pytest.raises(DataError, match="group 'relative' was requested but it is computed "
                                        "from the landmarking meta-features"):
        metafeatures.extract(X, y_reg, groups=["relative"])
    with pytest.raises(DataError, match="group 'relative'"):
        metafeatures.extract(X, None, groups=["relative"])
    assert not any(k.endswith(".relative") for k in metafeatures.extract(X, y_reg, groups="all"))
    with pytest.raises(DataError, match="single class"):
        metafeatures.extract(X, np.zeros(len(y), dtype=int), groups=["relative"])
    with pytest.raises(ArgumentError, match=r"has no meta-feature from group\(s\) \['relative'\]"):
        metafeatures.extract(X, y, groups=["relative"], names="autosklearn")
    out = metafeatures.extract(X, y, groups="all", names="autosklearn")
    assert tuple(out) == metafeatures.AUTOSKLEARN_NAMES


def test_a_failed_landmarker_makes_its_summaries_nan(wine, monkeypatch) -> None:
    from metafeatures import MeasureError

    def broken(*args: object) -> float:
        raise MeasureError("broken on purpose")

    measure = metafeatures.REGISTRY.get_measure("naive_bayes")
    monkeypatch.setitem(metafeatures.REGISTRY._measures, "naive_bayes",
                        type(measure)(**{**measure.__dict__, "func": broken}))
    X, y = wine
    out = metafeatures.extract(X, y, groups=["relative"], on_error="ignore")
    # rankdata propagates NaN: every summary group holding the failed landmarker is NaN
    assert all(math.isnan(v) for v in out.values()) and len(out) == 14
