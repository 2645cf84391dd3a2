"""The concept group: values worked out by hand, a dense reference written from pymfe's
formulas (with a subsample, missing values and blocks of rows), and the skip rules."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist
from sklearn.preprocessing import MinMaxScaler

import metafeatures
from metafeatures import DataError
from metafeatures._resources import stratified_subsample

SUMMARY = ["mean", "min", "max"]


def test_values_by_hand() -> None:
    # 1-D points 0, 0.5, 1 (already in [0, 1]); p = 1 so sqrt(p) - d is 0.5 or <= 0 (-> 1e-9)
    X = np.array([[0.0], [0.5], [1.0]])
    y = np.array([0, 0, 1])
    out = metafeatures.extract(X, y, groups=["concept"], summary=SUMMARY)
    # distance weights: 2 ** (-2 * 0.5 / 0.5) = 0.25 at d = 0.5, 2 ** (-2 / 1e-9) = 0 at d = 1
    # conceptvar per point: 0 / 0.25, 0.25 / 0.5, 0.25 / 0.25
    assert out["conceptvar.mean"] == pytest.approx(0.5, rel=1e-12)
    assert (out["conceptvar.min"], out["conceptvar.max"]) == (0.0, 1.0)
    assert out["wg_dist.mean"] == pytest.approx(0.5, rel=1e-12)  # only d = 0.5 has weight
    # radius weights 2 ** -ceil(d) = 0.5 for every pair
    assert out["cohesiveness.mean"] == pytest.approx(1.0, rel=1e-12)
    assert out["impconceptvar.mean"] == pytest.approx((0.5 + 0.5 + 1.0) / 3, rel=1e-12)
    assert out["impconceptvar.max"] == pytest.approx(1.0, rel=1e-12)


def _reference(X: np.ndarray, y: np.ndarray | None) -> dict[str, np.ndarray]:
    """pymfe 0.4.4's concept measures, written out densely."""
    S = MinMaxScaler().fit_transform(X)
    d = cdist(S, S)
    div = np.sqrt(S.shape[1]) - d
    div[div <= 0] = 1e-9
    w = np.power(2.0, -2.0 * d / div)
    np.fill_diagonal(w, 0.0)
    radius = np.ceil(d)
    radius[radius == 0] = 1
    v = np.power(2.0, -radius)
    np.fill_diagonal(v, 0.0)
    out = {"wg_dist": (w * d).sum(0) / w.sum(0), "cohesiveness": v.sum(0)}
    if y is not None:
        diff = y[:, None] != y[None, :]
        out["conceptvar"] = (w * diff).sum(0) / w.sum(0)
        out["impconceptvar"] = (v * diff).sum(0)
    return out


def _data(n: int = 300) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(8)
    y = rng.integers(0, 3, n)
    X = rng.normal(size=(n, 3)) + y[:, None]
    X[::11, 2] = np.nan
    X[:, 1] *= 1e6  # the rescaling removes the scale
    return X, y


@pytest.mark.parametrize("supervised", [True, False])
def test_subsample_with_missing_values_equals_the_dense_reference(supervised: bool) -> None:
    X, y = _data()
    out = metafeatures.extract(X, y if supervised else None, groups=["concept"],
                               summary=SUMMARY, sample_sizes={"concept": 120}, random_state=4)
    idx = stratified_subsample(len(X), 120, y if supervised else None, 4)
    filled = np.where(np.isnan(X), np.nanmean(X, axis=0), X)[idx]
    ref = _reference(filled, y[idx] if supervised else None)
    assert {k.split(".")[0] for k in out} == set(ref)
    for name, values in ref.items():
        for s in SUMMARY:
            assert out[f"{name}.{s}"] == pytest.approx(getattr(np, s)(values), rel=1e-10), name


def test_blocks_of_rows_change_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    import metafeatures.concept as concept

    X, y = _data(200)
    whole = metafeatures.extract(X, y, groups=["concept"], summary=SUMMARY)
    monkeypatch.setattr(concept, "BLOCK_BYTES", 8 * 200 * 7)  # 7 rows per block
    blocks = metafeatures.extract(X, y, groups=["concept"], summary=SUMMARY)
    assert blocks.keys() == whole.keys()
    for key in whole:
        assert blocks[key] == pytest.approx(whole[key], rel=1e-12), key


def test_skip_rules() -> None:
    X, y = _data(60)
    report = metafeatures.extract_report(X, y + 0.5, groups=["concept"])
    assert set(report.skipped) == {"conceptvar", "impconceptvar"}
    assert "wg_dist.mean" in report.values and "conceptvar.mean" not in report.values
    with pytest.raises(DataError, match=r"requested meta-feature\(s\) \['conceptvar'\]"):
        metafeatures.extract(X, None, groups=["concept"], features=["conceptvar"])
    one = metafeatures.extract(X, np.zeros(60, dtype=int), groups=["concept"])
    assert one["conceptvar.mean"] == 0.0 and one["impconceptvar.mean"] == 0.0
