"""LatencyModel protocol, additive model, architecture encodings, published tables."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from warmnas.errors import (
    CorruptDatabaseError,
    InputError,
    InputTypeError,
    MissingDataError,
    UnknownIdError,
)
from warmnas.hardware.base import (
    AdditiveLatencyModel,
    DeviceInfo,
    LatencyModel,
    darts_edge_weights,
    encode_arch,
    local_device_info,
)
from warmnas.hardware.tables import (
    FBNET_DEVICES,
    NB201_DEVICES,
    PublishedLatencyTable,
    device_info,
    fbnet_lut_model,
    fit_additive,
    load_latency_vector,
)
from warmnas.nas.genotype import DARTS_V2

DEV = DeviceInfo(name="test", kind="cpu", description="test device")
ALL_CONV3 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"


def test_encode_darts_genotype_rows_follow_the_edge_order() -> None:
    enc = encode_arch("darts", DARTS_V2)
    assert enc["normal"].shape == enc["reduce"].shape == (14, 8)
    assert enc["normal"].sum() == enc["reduce"].sum() == 8
    # DARTS_V2 normal: node 2 <- sep3(0), sep3(1); node 5 <- skip(0), dil3(2) (rows 9..13)
    assert enc["normal"][0, 4] == enc["normal"][1, 4] == 1  # sep_conv_3x3 is column 4
    assert enc["normal"][9, 3] == 1 and enc["normal"][11, 6] == 1
    # every node keeps exactly two inputs
    starts = [0, 2, 5, 9, 14]
    for a, b in zip(starts, starts[1:]):
        assert enc["reduce"][a:b].sum() == 2


def test_encode_nb201_and_fbnet_and_errors() -> None:
    enc = encode_arch("nb201", ALL_CONV3)["cell"]
    assert enc.shape == (6, 5) and (enc[:, 3] == 1).all()
    fb = encode_arch("fbnet", ["skip"] * 21 + ["k5_e6"])["layers"]
    assert fb.shape == (22, 9) and fb[21, 7] == 1 and fb[:21, 8].sum() == 21
    with pytest.raises(InputTypeError, match="Genotype"):
        encode_arch("darts", ALL_CONV3)
    with pytest.raises(InputError, match="22 layers"):
        encode_arch("fbnet", [0] * 5)
    with pytest.raises(InputError, match="unknown FBNet op"):
        encode_arch("fbnet", ["k7"] * 22)
    with pytest.raises(InputError, match="unknown search space"):
        encode_arch("mobilenet", [0])


def test_additive_model_expected_latency_is_differentiable_and_matches_predict() -> None:
    rng = np.random.default_rng(0)
    costs = {"cell": rng.uniform(0, 2, (6, 5))}
    model = AdditiveLatencyModel("nb201", costs, intercept=1.5, device=DEV, scale=2.0)
    assert isinstance(model, LatencyModel)
    # near one-hot logits -> expected latency equals the discrete prediction
    ops = [3, 1, 0, 4, 2, 3]
    logits = torch.full((6, 5), -50.0, dtype=torch.float64)
    logits[range(6), ops] = 50.0
    from warmnas.nas.nb201 import op_indices_to_arch

    expected = model.expected_latency({"cell": logits})
    assert math.isclose(float(expected), model.predict(op_indices_to_arch(ops)), rel_tol=1e-9)
    assert expected.dtype == torch.float64
    # uniform logits -> intercept + scale * mean cost per edge
    alpha = torch.zeros(6, 5, requires_grad=True)
    lat = model.expected_latency({"cell": alpha})
    assert math.isclose(float(lat.detach()), 1.5 + 2.0 * costs["cell"].mean(axis=1).sum(), rel_tol=1e-5)
    lat.backward()
    assert alpha.grad is not None
    # d lat / d alpha_eo = scale * p_eo * (c_eo - mean_e(c)) with p = 1/5
    want = 2.0 * 0.2 * (costs["cell"] - costs["cell"].mean(axis=1, keepdims=True))
    assert np.allclose(alpha.grad.numpy(), want, atol=1e-6)


def test_darts_edge_weighting_derived_vs_all() -> None:
    costs = {"normal": np.ones((14, 8)), "reduce": np.ones((14, 8))}
    zeros = {"normal": torch.zeros(14, 8), "reduce": torch.zeros(14, 8)}
    derived = AdditiveLatencyModel("darts", costs, device=DEV)
    full = AdditiveLatencyModel("darts", costs, device=DEV, edge_weighting="all")
    assert math.isclose(float(full.expected_latency(zeros)), 28.0, rel_tol=1e-6)
    # a derived cell keeps 8 edges per cell type
    assert math.isclose(float(derived.expected_latency(zeros)), 16.0, rel_tol=1e-6)
    assert math.isclose(darts_edge_weights().sum(), 8.0)
    assert derived.predict(DARTS_V2) == 16.0


def test_additive_model_errors() -> None:
    with pytest.raises(InputError, match="must have keys"):
        AdditiveLatencyModel("nb201", {"normal": np.zeros((6, 5))}, device=DEV)
    with pytest.raises(InputError, match="shape"):
        AdditiveLatencyModel("nb201", {"cell": np.zeros((5, 6))}, device=DEV)
    with pytest.raises(InputError, match="NaN"):
        AdditiveLatencyModel("nb201", {"cell": np.full((6, 5), np.nan)}, device=DEV)
    model = AdditiveLatencyModel("nb201", {"cell": np.zeros((6, 5))}, device=DEV)
    with pytest.raises(InputError, match="keys"):
        model.expected_latency({"normal": torch.zeros(6, 5)})
    with pytest.raises(InputTypeError, match="torch.Tensor"):
        model.expected_latency({"cell": np.zeros((6, 5))})  # type: ignore[dict-item]


def test_device_info_roundtrip_and_local() -> None:
    info = local_device_info("cpu", threads=1, batch_size=1)
    assert info.kind == "cpu" and info.threads == 1 and "torch" in info.extra
    assert DeviceInfo.from_dict(info.to_dict()) == info
    with pytest.raises(InputError, match="lacks the keys"):
        DeviceInfo.from_dict({"name": "x"})
    assert device_info("titan_rtx_32").batch_size == 32
    assert "Raspberry" in device_info("raspi4").description
    assert len(NB201_DEVICES) == len(FBNET_DEVICES) == 20


@pytest.mark.shared_data
def test_published_nb201_tables(nb201_latency, nb201_table) -> None:
    assert sorted(nb201_latency["devices"]) == sorted(NB201_DEVICES)
    table = nb201_latency["tables"]["pixel3"]
    assert len(table) == 15625
    # exact look-ups, by index and by arch string
    i = nb201_table.index(ALL_CONV3)
    assert table.predict(ALL_CONV3) == table.predict(i) == table.latencies[i]
    assert table.device.kind == "mobile"
    with pytest.raises(UnknownIdError, match="0..15624"):
        table.predict(15625)
    # the additive decomposition explains most of the variance on GPUs (exact R^2 from the data)
    gpu = nb201_latency["tables"]["titan_rtx_256"]
    gpu.additive_model()
    assert gpu.additive_r2_ > 0.99
    alphas = {"cell": torch.zeros(6, 5, requires_grad=True)}
    lat = gpu.expected_latency(alphas)
    lat.backward()
    # uniform alphas give the mean latency of the additive model = the table mean (least squares)
    assert math.isclose(float(lat.detach()), gpu.latencies.mean(), rel_tol=1e-6)
    # the 3x3 conv is the most expensive op on every edge of a GPU at batch 256
    assert (alphas["cell"].grad.argmax(dim=1) == 3).all()


@pytest.mark.shared_data
def test_fbnet_lut_sums_equal_helps_published_latencies(shared_data, fbnet_latency) -> None:
    # HELP's FBNet latencies of raspi4/pixel3/eyeriss/fpga are HW-NAS-Bench block-table sums
    archs = fbnet_latency["archs"]
    for device in ("raspi4", "pixel3", "eyeriss", "fpga"):
        lut = fbnet_lut_model(shared_data, device)
        published = fbnet_latency["tables"][device].latencies
        ours = np.array([lut.predict(a) for a in archs[:500]])
        assert np.allclose(ours, published[:500], rtol=1e-9, atol=1e-9), device
    with pytest.raises(UnknownIdError, match="known"):
        fbnet_lut_model(shared_data, "tpu")
    with pytest.raises(UnknownIdError, match="10 or 100"):
        fbnet_lut_model(shared_data, "raspi4", num_classes=7)
    lut = fbnet_lut_model(shared_data, "raspi4")
    lat = lut.expected_latency({"layers": torch.zeros(22, 9, requires_grad=True)})
    assert float(lat.detach()) > lut.predict(["skip"] * 22)


@pytest.mark.shared_data
def test_fbnet_table_predicts_unknown_archs_additively(fbnet_latency) -> None:
    table = fbnet_latency["tables"]["gold_6226"]
    assert table.predict(fbnet_latency["archs"][7]) == table.latencies[7]
    new = [8] * 22  # all skips: not among the 5,000
    with pytest.raises(UnknownIdError):
        table.index(new)
    assert 0 < table.predict(new) < table.latencies.min() + 50


def test_fit_additive_recovers_exact_costs() -> None:
    rng = np.random.default_rng(1)
    ops = rng.integers(0, 4, (300, 3))
    true = rng.uniform(0, 1, (3, 4))
    y = 2.0 + true[np.arange(3), ops].sum(axis=1)
    costs, intercept, r2 = fit_additive(ops, y, 4)
    assert r2 > 1 - 1e-9
    pred = intercept + costs[np.arange(3), ops].sum(axis=1)
    assert np.allclose(pred, y)
    assert (costs.min(axis=1) == 0).all()


def test_latency_file_errors(tmp_path: Path) -> None:
    with pytest.raises(MissingDataError, match="not found"):
        load_latency_vector(tmp_path / "nope.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a torch file")
    with pytest.raises(CorruptDatabaseError, match="not a readable torch file") as info:
        load_latency_vector(bad)
    assert "\n" not in str(info.value)
    pickled = tmp_path / "object.pt"
    torch.save({"x": Path("a")}, pickled)  # an object: refused by weights_only=True
    with pytest.raises(CorruptDatabaseError, match="holds objects other than plain") as info:
        load_latency_vector(pickled)
    # torch's text (many lines, terminal escapes, advice to load with weights_only set to
    # False, which would run code from the file) is not passed on
    assert "\n" not in str(info.value) and "\x1b" not in str(info.value)
    assert "False" not in str(info.value)
    with pytest.raises(InputError, match="is a folder"):
        load_latency_vector(tmp_path)
    short = tmp_path / "short.pt"
    torch.save([1.0, 2.0], short)
    with pytest.raises(CorruptDatabaseError, match="expected 15625"):
        load_latency_vector(short, 15625)
    neg = tmp_path / "neg.pt"
    torch.save([1.0, -2.0], neg)
    with pytest.raises(CorruptDatabaseError, match="non-positive"):
        load_latency_vector(neg)
    nested = tmp_path / "nested.pt"
    torch.save([[1.0, 2.0]], nested)
    with pytest.raises(CorruptDatabaseError, match="flat list"):
        load_latency_vector(nested)


def test_published_table_errors(shared_data, nb201_table) -> None:
    with pytest.raises(UnknownIdError, match="no nb201 latency table for device 'tpu'"):
        PublishedLatencyTable.load("nb201", "tpu", shared_data, archs=nb201_table.archs)
    with pytest.raises(InputError, match="benchmark must be one of"):
        PublishedLatencyTable.load("nb101", "pixel3", shared_data)
    with pytest.raises(MissingDataError, match="SOURCES.md"):
        PublishedLatencyTable.load("nb201", "pixel3", shared_data / "nowhere")
    with pytest.raises(InputError, match="one entry per arch"):
        PublishedLatencyTable("nb201", [1.0, 2.0], nb201_table.archs[:3], DEV)


def test_additive_model_bad_cost_types_and_device() -> None:
    from warmnas.errors import InputTypeError

    with pytest.raises(InputTypeError, match=r"costs\['cell'\] must be an array of numbers \(ms\)"):
        AdditiveLatencyModel("nb201", {"cell": "abc"}, device=DEV)
    with pytest.raises(InputTypeError, match=r"device must be a DeviceInfo.*got str"):
        AdditiveLatencyModel("nb201", {"cell": np.zeros((6, 5))}, device="cpu")  # type: ignore[arg-type]
