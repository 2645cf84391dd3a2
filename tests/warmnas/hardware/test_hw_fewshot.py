"""Few-shot latency prediction for a new device."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

from warmnas.errors import InputError, InputTypeError, NotFittedError
from warmnas.hardware.fewshot import FewShotLatencyPredictor, leave_one_device_out


@pytest.mark.shared_data
def test_held_out_devices_reach_rho_09_from_10_samples(nb201_latency) -> None:
    devices = nb201_latency["devices"]
    L, ops = nb201_latency["matrix"], nb201_latency["ops"]
    # one GPU, one server CPU, the FPGA: predicted from the other 19 devices' tables
    for name in ("2080ti_32", "gold_6226", "fpga"):
        t = devices.index(name)
        ref = np.delete(L, t, axis=1)
        idx = np.random.default_rng(0).choice(L.shape[0], 10, replace=False)
        model = FewShotLatencyPredictor().fit(ref, idx, L[idx, t], ops=ops)
        pred = model.predict()
        assert pred.shape == (15625,) and (pred > 0).all()
        mask = np.ones(len(pred), bool)
        mask[idx] = False
        rho = spearmanr(pred[mask], L[mask, t])[0]
        assert rho > 0.9, (name, rho)
        # the predictions are in ms, near the truth on average (not only a ranking)
        assert 0.5 < np.median(pred / L[:, t]) < 2.0


@pytest.mark.shared_data
def test_leave_one_device_out_report_and_methods(fbnet_latency) -> None:
    L = fbnet_latency["matrix"][:, :6]
    names = fbnet_latency["devices"][:6]
    report = leave_one_device_out(L, names, ops=fbnet_latency["ops"], n_repeats=1, random_state=0)
    assert list(report.columns) == ["device", "spearman", "spearman_std", "kendall", "n_reference"]
    assert len(report) == 6 and (report.n_reference == 5).all()
    assert report.spearman.mean() > 0.9
    # leaving out the whole GPU family (all batch sizes) is harder but still informative
    groups = [n.rsplit("_", 1)[0] for n in names]
    strict = leave_one_device_out(L, names, ops=fbnet_latency["ops"], n_repeats=1, groups=groups)
    assert (strict.n_reference == 3).all()
    for method in ("reference", "op-prior"):
        r = leave_one_device_out(L[:, :3], names[:3], ops=fbnet_latency["ops"], n_repeats=1,
                                 method=method)
        assert r.spearman.min() > 0.5, method


def test_synthetic_transfer_and_determinism() -> None:
    rng = np.random.default_rng(3)
    ops = rng.integers(0, 4, (400, 5))
    # 8 devices sharing the op-cost structure, each with its own speed and 20% own variation
    base = rng.uniform(0.1, 1.0, (5, 4))
    costs = [base * rng.uniform(0.5, 2.0) * rng.uniform(0.8, 1.2, (5, 4)) for _ in range(8)]
    L = np.stack([0.5 + c[np.arange(5), ops].sum(axis=1) for c in costs], axis=1)
    idx = rng.choice(400, 10, replace=False)
    a = FewShotLatencyPredictor().fit(L[:, 1:], idx, L[idx, 0], ops=ops).predict()
    b = FewShotLatencyPredictor().fit(L[:, 1:], idx, L[idx, 0], ops=ops).predict()
    assert np.array_equal(a, b)
    assert spearmanr(a, L[:, 0])[0] > 0.9
    assert np.median(np.abs(a / L[:, 0] - 1)) < 0.1
    only_ref = FewShotLatencyPredictor().fit(L[:, 1:], idx, L[idx, 0])  # no ops: reference model
    assert only_ref.method_ == "reference" and only_ref.weights_.shape == (7,)


def test_fewshot_errors() -> None:
    L = np.ones((50, 3)) + np.arange(50)[:, None]
    idx = np.arange(10)
    with pytest.raises(NotFittedError, match="not fitted"):
        FewShotLatencyPredictor().predict()
    with pytest.raises(InputError, match="method must be one of"):
        FewShotLatencyPredictor(method="help").fit(L, idx, L[idx, 0])
    with pytest.raises(InputError, match="at least 3"):
        FewShotLatencyPredictor().fit(L, idx[:2], L[:2, 0])
    with pytest.raises(InputError, match="duplicates"):
        FewShotLatencyPredictor().fit(L, [1, 1, 2], [1.0, 1.0, 2.0])
    with pytest.raises(InputError, match=r"in 0\.\.49"):
        FewShotLatencyPredictor().fit(L, [1, 2, 50], [1.0, 1.0, 2.0])
    with pytest.raises(InputError, match="finite and positive"):
        FewShotLatencyPredictor().fit(L, [1, 2, 3], [1.0, np.nan, 2.0])
    with pytest.raises(InputError, match="finite and positive"):
        FewShotLatencyPredictor().fit(-L, [1, 2, 3], [1.0, 1.0, 2.0])
    with pytest.raises(InputError, match="2-d"):
        FewShotLatencyPredictor().fit(L[:, 0], [1, 2, 3], [1.0, 1.0, 2.0])
    with pytest.raises(InputTypeError, match="integer arch indices"):
        FewShotLatencyPredictor().fit(L, [1.5, 2.0, 3.0], [1.0, 1.0, 2.0])
    with pytest.raises(InputError, match="same length"):
        FewShotLatencyPredictor().fit(L, [1, 2, 3], [1.0, 2.0])
    with pytest.raises(InputError, match="needs ops"):
        FewShotLatencyPredictor(method="op-prior").fit(L, [1, 2, 3], [1.0, 1.0, 2.0])
    with pytest.raises(InputError, match="name the 3 columns"):
        leave_one_device_out(L, ["a", "b"])


def test_a_transposed_reference_is_named_in_the_error() -> None:
    L = np.ones((50, 3)) + np.arange(50)[:, None]
    # (n_devices, n_archs) instead of (n_archs, n_devices): the index range alone misled
    with pytest.raises(InputError, match=r"in 0\.\.2.*reference has shape \(3, 50\).*"
                                         r"\(n_archs, n_devices\).*reference\.T"):
        FewShotLatencyPredictor().fit(L.T, [1, 20, 40], [1.0, 1.0, 2.0])


def test_predict_index_is_checked() -> None:
    L = np.ones((50, 3)) + np.arange(50)[:, None]
    model = FewShotLatencyPredictor().fit(L, np.arange(10), L[:10, 0])
    assert np.array_equal(model.predict([3, 4]), model.predict()[[3, 4]])
    assert model.predict(np.int64(7)) == model.predict()[7]
    with pytest.raises(InputError, match=r"index must hold arch indices in 0\.\.49, got 50"):
        model.predict([1, 50])
    with pytest.raises(InputError, match=r"index must hold arch indices in 0\.\.49, got -1"):
        model.predict([-1])  # was silently the last architecture
    with pytest.raises(InputTypeError, match=r"index must be integer arch indices"):
        model.predict(["a"])
    with pytest.raises(InputTypeError, match=r"index must be integer arch indices"):
        model.predict([1.5])
