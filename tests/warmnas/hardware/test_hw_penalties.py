"""ProxylessNAS / FBNet penalties, MnasNet rewards, latency-penalised botorch acquisition."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from warmnas.errors import InputError, InputTypeError
from warmnas.hardware.base import AdditiveLatencyModel, DeviceInfo
from warmnas.hardware.penalties import (
    AdditiveLatencyPenalty,
    LatencyAcquisitionPenalty,
    MultiplicativeLatencyPenalty,
    latency_penalized_acquisition,
    latency_penalty,
    linear_latency_function,
    mnasnet_reward,
)

DEV = DeviceInfo(name="test", kind="cpu", description="test device")


def _model() -> AdditiveLatencyModel:
    costs = np.tile([0.0, 0.1, 1.0, 3.0, 0.5], (6, 1))  # none, skip, conv1, conv3, pool
    return AdditiveLatencyModel("nb201", {"cell": costs}, intercept=2.0, device=DEV)


def test_additive_penalty_formula_and_gradient() -> None:
    model = _model()
    alphas = {"cell": torch.zeros(6, 5, requires_grad=True)}
    ce = torch.tensor(1.3)
    pen = AdditiveLatencyPenalty(model, target_ms=5.0, weight=0.5)
    loss = pen(ce, alphas)
    lat = 2.0 + 6 * np.mean([0.0, 0.1, 1.0, 3.0, 0.5])
    assert math.isclose(float(loss.detach()), 1.3 + 0.5 * (lat - 5.0) / 5.0, rel_tol=1e-6)
    loss.backward()
    # descending the loss moves probability away from the 3x3 conv, towards none
    g = alphas["cell"].grad
    assert (g[:, 3] > 0).all() and (g[:, 0] < 0).all()
    assert AdditiveLatencyPenalty(model, 5.0, weight=0.0)(ce, alphas) is ce


def test_multiplicative_penalty_formula() -> None:
    model = _model()
    alphas = {"cell": torch.zeros(6, 5, requires_grad=True)}
    ce = torch.tensor(0.7)
    pen = MultiplicativeLatencyPenalty(model, alpha=0.2, beta=0.6)
    lat = 2.0 + 6 * np.mean([0.0, 0.1, 1.0, 3.0, 0.5])
    assert math.isclose(float(pen(ce, alphas).detach()), 0.7 * 0.2 * math.log(lat) ** 0.6, rel_tol=1e-6)
    pen(ce, alphas).backward()
    assert alphas["cell"].grad[:, 3].gt(0).all()
    fast = AdditiveLatencyModel("nb201", {"cell": np.zeros((6, 5))}, intercept=0.5, device=DEV)
    with pytest.raises(InputError, match="smaller unit_ms"):
        MultiplicativeLatencyPenalty(fast)(ce, alphas)
    assert float(MultiplicativeLatencyPenalty(fast, unit_ms=1e-3)(ce, alphas).detach()) > 0


def test_penalty_factory_and_errors() -> None:
    model = _model()
    assert isinstance(latency_penalty(model, "additive", target_ms=3.0), AdditiveLatencyPenalty)
    assert isinstance(latency_penalty(model, "multiplicative"), MultiplicativeLatencyPenalty)
    with pytest.raises(InputError, match="'additive' or 'multiplicative'"):
        latency_penalty(model, "quadratic")
    with pytest.raises(InputError, match="target_ms must be a positive"):
        AdditiveLatencyPenalty(model, target_ms=0.0)
    with pytest.raises(InputError, match="weight must be a finite number >= 0"):
        AdditiveLatencyPenalty(model, target_ms=1.0, weight=-1.0)
    with pytest.raises(InputTypeError, match="LatencyModel"):
        AdditiveLatencyPenalty(object(), target_ms=1.0)  # type: ignore[arg-type]
    with pytest.raises(InputTypeError, match="positive number"):
        AdditiveLatencyPenalty(model, target_ms="5")  # type: ignore[arg-type]


def test_mnasnet_reward_soft_and_hard() -> None:
    # MnasNet (Tan et al. 2019): ACC * (LAT/T)^w, w = -0.07 soft; hard: 0 below T, -1 above
    r = mnasnet_reward([0.75, 0.75], [40.0, 160.0], 80.0)
    assert np.allclose(r, [0.75 * 0.5 ** -0.07, 0.75 * 2.0 ** -0.07])
    # halving the latency is worth about +5% relative accuracy (2^0.07 = 1.0497)
    assert math.isclose(r[0] / 0.75, 2 ** 0.07, rel_tol=1e-12)
    h = mnasnet_reward([0.75, 0.75], [40.0, 160.0], 80.0, hard=True)
    assert np.allclose(h, [0.75, 0.375])
    assert mnasnet_reward(0.5, 80.0, 80.0).shape == ()
    with pytest.raises(InputError, match="positive"):
        mnasnet_reward([0.7], [0.0], 80.0)
    with pytest.raises(InputError, match="finite"):
        mnasnet_reward([np.nan], [1.0], 80.0)
    with pytest.raises(InputTypeError, match="numeric"):
        mnasnet_reward(["a"], [1.0], 80.0)


def test_acquisition_penalty_with_botorch() -> None:
    from botorch.acquisition import LogExpectedImprovement
    from botorch.acquisition.penalized import PenalizedAcquisitionFunction
    from botorch.models import SingleTaskGP

    model = _model()
    f = linear_latency_function(model)
    rng = np.random.default_rng(0)
    ops = rng.integers(0, 5, (12, 6))
    X = torch.zeros(12, 30, dtype=torch.float64)
    X[torch.arange(12)[:, None], torch.arange(6)[None, :] * 5 + torch.as_tensor(ops)] = 1.0
    # the linear function reproduces the model's discrete predictions
    from warmnas.nas.nb201 import op_indices_to_arch

    assert np.allclose(f(X).numpy(), [model.predict(op_indices_to_arch(o.tolist())) for o in ops])
    Y = torch.as_tensor(rng.normal(size=(12, 1)))
    gp = SingleTaskGP(X, Y)
    raw = LogExpectedImprovement(gp, best_f=Y.max())
    acqf = latency_penalized_acquisition(raw, f, target_ms=8.0, weight=2.0)
    assert isinstance(acqf, PenalizedAcquisitionFunction)
    cand = X[:, None, :]  # (b=12, q=1, d)
    values = acqf(cand)
    lat = f(X)
    expected = raw(cand) - 2.0 * torch.clamp((lat - 8.0) / 8.0, min=0.0)
    assert torch.allclose(values, expected)
    # a candidate over the target is penalised, one under it is not
    over, under = int(torch.argmax(lat)), int(torch.argmin(lat))
    assert lat[over] > 8.0 and values[over] < raw(cand)[over]
    assert lat[under] <= 8.0 and torch.isclose(values[under], raw(cand)[under])
    linear = LatencyAcquisitionPenalty(f, 8.0, kind="linear")
    assert torch.allclose(linear(cand), (lat - 8.0) / 8.0)
    with pytest.raises(InputError, match="'hinge' or 'linear'"):
        LatencyAcquisitionPenalty(f, 8.0, kind="square")
    with pytest.raises(InputError, match="30 features"):
        f(torch.zeros(2, 7))
    with pytest.raises(InputTypeError, match="AcquisitionFunction"):
        latency_penalized_acquisition(object(), f, 8.0)


def test_linear_latency_function_says_how_to_get_an_additive_model_from_a_table() -> None:
    # a MeasuredLatencyTable (docs/hardware.md's example) has additive_model() too; the message
    # named published tables only
    from warmnas.hardware import MeasuredLatencyTable

    with pytest.raises(InputTypeError, match=r"got MeasuredLatencyTable .*MeasuredLatencyTable "
                                             r"or a PublishedLatencyTable pass table\.additive_model"):
        linear_latency_function(MeasuredLatencyTable.__new__(MeasuredLatencyTable))
    f = linear_latency_function(_model())
    assert float(f(torch.zeros(1, 30, dtype=torch.float64))) == pytest.approx(2.0)


def test_multiplicative_penalty_reads_no_value_back_when_the_table_keeps_the_log_positive(
) -> None:
    """On CUDA a host read of E[LAT] is a device sync in every architecture step. When even the
    fastest network of an additive table costs more than unit_ms, log(E[LAT]) > 0 for every
    alpha and the check is skipped: the penalty then runs on meta tensors (which have no value
    to read), and gives the same loss and gradient as before on real ones."""
    model = _model()  # fastest network: 2.0 ms (intercept) > 1 ms
    alphas = {"cell": torch.zeros(6, 5, device="meta", requires_grad=True)}
    out = MultiplicativeLatencyPenalty(model, alpha=0.2, beta=0.6)(
        torch.ones((), device="meta"), alphas)
    assert out.device.type == "meta" and out.shape == ()
    # where the log could reach 0 the value is checked (and the error still raised)
    fast = AdditiveLatencyModel("nb201", {"cell": np.tile([0.0, 1.0, 1.0, 1.0, 1.0], (6, 1))},
                                intercept=0.5, device=DEV)
    with pytest.raises(RuntimeError, match="meta"):
        MultiplicativeLatencyPenalty(fast)(torch.ones((), device="meta"), alphas)
    real = {"cell": torch.full((6, 5), -3.0, requires_grad=True)}
    real["cell"].data[:, 1:] = 3.0
    assert float(MultiplicativeLatencyPenalty(fast)(torch.tensor(0.7), real).detach()) > 0
    real["cell"].data[:] = -3.0
    real["cell"].data[:, 0] = 3.0  # mostly the 0 ms op: E[LAT] < 1 ms
    with pytest.raises(InputError, match="smaller unit_ms"):
        MultiplicativeLatencyPenalty(fast)(torch.tensor(0.7), real)


def test_multiplicative_penalty_on_cuda_does_not_synchronise(cuda_device: str) -> None:
    model = _model()
    alphas = {"cell": torch.zeros(6, 5, device=cuda_device, requires_grad=True)}
    ce = torch.tensor(0.7, device=cuda_device)
    pen = MultiplicativeLatencyPenalty(model, alpha=0.2, beta=0.6)
    pen(ce, alphas)  # first call: the cost tensor is copied to the device (a sync of its own)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        loss = pen(ce, alphas)
        loss.backward()
    finally:
        torch.cuda.set_sync_debug_mode("default")
    lat = 2.0 + 6 * np.mean([0.0, 0.1, 1.0, 3.0, 0.5])
    assert math.isclose(float(loss.detach()), 0.7 * 0.2 * math.log(lat) ** 0.6, rel_tol=1e-6)
