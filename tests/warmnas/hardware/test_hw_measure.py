"""Measured latency tables: op sites, timing, calibration, versioned JSON, end-to-end prediction."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from warmnas.errors import CorruptDatabaseError, InputError, MissingDataError, SchemaVersionError
from warmnas.hardware.base import LatencyModel, encode_arch
from warmnas.hardware.measure import (
    TABLE_VERSION,
    MeasuredLatencyTable,
    measure_networks,
    op_sites,
    random_architecture,
    resolve_clock,
    time_callables,
)
from warmnas.nas.genotype import DARTS_V2
from warmnas.nas.networks import build_network

TINY = {"nb201": {"C": 4, "layers": 1, "input_size": 8}, "darts": {"C": 4, "layers": 3, "input_size": 8}}


def _hooked_shapes(model: torch.nn.Module, space: str, arch) -> list[tuple[int, str, int, tuple, tuple]]:
    """(cell, key, edge row, input shape, output shape) of every cell op, by forward hooks."""
    records: list = []
    hooks = []
    for c, cell in enumerate(model.cells):
        if space == "nb201":
            if not hasattr(cell, "layers"):
                continue  # the ResNet reduction block
            for e, op in enumerate(cell.layers):
                hooks.append(op.register_forward_hook(
                    lambda m, i, o, c=c, e=e: records.append((c, "cell", e, tuple(i[0].shape), tuple(o.shape)))))
        else:
            key = "reduce" if cell.reduction else "normal"
            gene = arch.reduce if cell.reduction else arch.normal
            for k, op in enumerate(cell._ops):
                row = sum(2 + n for n in range(k // 2)) + gene[k][1]
                hooks.append(op.register_forward_hook(
                    lambda m, i, o, c=c, row=row, key=key: records.append((c, key, row, tuple(i[0].shape), tuple(o.shape)))))
    with torch.no_grad():
        model.eval()(torch.randn(1, 3, 32, 32))
    for h in hooks:
        h.remove()
    return records


@pytest.mark.parametrize("space,arch,config", [
    ("darts", DARTS_V2, {"C": 8, "layers": 8, "input_size": 32}),
    ("nb201", "|nor_conv_3x3~0|+|skip_connect~0|none~1|+|avg_pool_3x3~0|nor_conv_1x1~1|skip_connect~2|",
     {"C": 8, "layers": 2, "input_size": 32}),
])
def test_op_sites_match_the_derived_networks(space, arch, config) -> None:
    sites = {(s.cell, s.key, s.edge): s for s in op_sites(space, config)}
    model = build_network(arch, space, C=config["C"], layers=config["layers"])
    records = _hooked_shapes(model, space, arch)
    assert len(records) == (8 * config["layers"] if space == "darts" else 6 * 3 * config["layers"])
    for cell, key, edge, shape_in, shape_out in records:
        site = sites[(cell, key, edge)]
        assert shape_in == (1, site.C_in, site.H, site.W), (cell, key, edge)
        assert shape_out == (1, site.C_out, site.H // site.stride, site.W // site.stride)


def test_time_callables_and_clock() -> None:
    x = torch.randn(64, 64)
    fast, slow = (lambda: x.sum()), (lambda: [x @ x for _ in range(20)])
    med, iqr, samples = time_callables([fast, slow], rounds=5, warmup=1, min_sample_ms=0.5,
                                       clock="thread", return_samples=True)
    assert med.shape == iqr.shape == (2,) and samples.shape == (2, 5)
    assert med[1] > med[0] > 0
    assert resolve_clock("auto", "cpu", 1) == "thread"
    assert resolve_clock("auto", "cpu", 4) == "wall"
    with pytest.raises(InputError, match="threads=1"):
        resolve_clock("thread", "cpu", 2)
    with pytest.raises(InputError, match="clock must be one of"):
        resolve_clock("tsc")
    with pytest.raises(InputError, match="rounds"):
        time_callables([fast], rounds=0)


@pytest.mark.parametrize("space", ["nb201", "darts"])
def test_measure_calibrate_predict_and_roundtrip(space, tmp_path) -> None:
    threads_before = torch.get_num_threads()
    table = MeasuredLatencyTable.measure(space, "cpu", config=TINY[space], rounds=3, warmup=1,
                                         min_sample_ms=0.2, calibration=4, random_state=0)
    assert torch.get_num_threads() == threads_before  # restored
    assert isinstance(table, LatencyModel)
    assert table.device.kind == "cpu" and table.device.threads == 1
    assert table.meta["clock"] == "thread" and table.meta["calibration"]["n_networks"] == 4
    assert all(v > 0 for v in table.entries.values())
    arch = random_architecture(space, 5)
    pred = table.predict(arch)
    assert pred == pytest.approx(table.intercept_ms + table.scale * table.op_sum(arch))
    assert table.scale > 0
    # expected latency at near one-hot alphas equals the discrete prediction (DARTS: same 8 edges
    # only when the alphas pick them, so test NB201 exactly and DARTS by ordering)
    if space == "nb201":
        onehot = encode_arch(space, arch)["cell"]
        alphas = {"cell": torch.as_tensor(onehot * 60.0 - 30.0, dtype=torch.float64)}
        assert float(table.expected_latency(alphas)) == pytest.approx(pred, rel=1e-6)
    else:
        alphas = {k: torch.zeros(14, 8) for k in ("normal", "reduce")}
        cheap = {k: torch.zeros(14, 8) for k in ("normal", "reduce")}
        for k in cheap:
            cheap[k][:, 3] = 20.0  # skip_connect everywhere
        assert float(table.expected_latency(cheap)) < float(table.expected_latency(alphas))
    path = table.save(tmp_path / "t.json")
    again = MeasuredLatencyTable.load(path)
    assert again.entries == table.entries and again.predict(arch) == pytest.approx(pred)
    assert json.loads(path.read_text())["version"] == TABLE_VERSION


def test_calibrated_fits_intercept_and_scale_exactly() -> None:
    table = MeasuredLatencyTable.measure("nb201", config=TINY["nb201"], rounds=2, warmup=1,
                                         min_sample_ms=0.1, calibration=0)
    archs = [random_architecture("nb201", i) for i in range(6)]
    sums = np.array([table.op_sum(a) for a in archs])
    fitted = table.calibrated(archs, 3.0 + 1.5 * sums)
    assert fitted.intercept_ms == pytest.approx(3.0) and fitted.scale == pytest.approx(1.5)
    assert fitted.meta["calibration"]["median_abs_rel_error"] < 1e-9
    with pytest.raises(InputError, match="one latency per arch"):
        table.calibrated(archs, [1.0])
    with pytest.raises(InputError, match="finite and positive"):
        table.calibrated(archs[:2], [1.0, -1.0])


def test_measure_networks_and_errors(tmp_path) -> None:
    archs = [random_architecture("nb201", i) for i in range(3)]
    ms = measure_networks(archs, "nb201", config=TINY["nb201"], rounds=2, warmup=1)
    assert ms.shape == (3,) and (ms > 0).all()
    with pytest.raises(InputError, match="empty"):
        measure_networks([], "nb201")
    with pytest.raises(InputError, match="divisible by 4"):
        op_sites("nb201", {"input_size": 30})
    with pytest.raises(InputError, match="unknown network setting"):
        op_sites("nb201", {"width": 3})
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="CUDA is not available"):
            MeasuredLatencyTable.measure("nb201", "cuda", config=TINY["nb201"])
    with pytest.raises(InputError, match="'cpu' or a CUDA device"):
        MeasuredLatencyTable.measure("nb201", "meta", config=TINY["nb201"])
    with pytest.raises(MissingDataError, match="warmnas hardware measure"):
        MeasuredLatencyTable.load(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(CorruptDatabaseError, match="not valid JSON"):
        MeasuredLatencyTable.load(bad)
    bad.write_text(json.dumps({"format": "other"}))
    with pytest.raises(CorruptDatabaseError, match="not a warmnas latency table"):
        MeasuredLatencyTable.load(bad)
    table = MeasuredLatencyTable.measure("nb201", config=TINY["nb201"], rounds=1, warmup=0,
                                         min_sample_ms=0.05, calibration=0)
    data = table.to_dict()
    newer = dict(data, version=TABLE_VERSION + 1)
    bad.write_text(json.dumps(newer))
    with pytest.raises(SchemaVersionError, match="upgrade warmnas"):
        MeasuredLatencyTable.load(bad)
    missing = dict(data, entries=data["entries"][1:])
    bad.write_text(json.dumps(missing))
    with pytest.raises(CorruptDatabaseError, match="lacks 1 entries"):
        MeasuredLatencyTable.load(bad)
    broken = dict(data, entries=[{"op": "x"}])
    bad.write_text(json.dumps(broken))
    with pytest.raises(CorruptDatabaseError, match="malformed"):
        MeasuredLatencyTable.load(bad)


@pytest.mark.gpu
def test_measure_on_cuda(cuda_device) -> None:
    table = MeasuredLatencyTable.measure("nb201", cuda_device, config=TINY["nb201"], rounds=3,
                                         warmup=2, calibration=3)
    assert table.meta["clock"] == "cuda" and table.device.kind == "cuda"
    assert table.predict(random_architecture("nb201", 0)) > 0


@pytest.mark.parametrize("kwargs,match", [
    ({"threads": 0}, r"threads must be a positive int or None, got 0"),
    ({"threads": 1.5}, r"threads must be a positive int or None, got 1.5"),
    ({"device": "gpu"}, r"device 'gpu' is not a torch device"),
])
def test_measure_bad_threads_and_device(kwargs: dict, match: str) -> None:
    with pytest.raises(InputError, match=match):
        MeasuredLatencyTable.measure("nb201", **{"config": {"C": 4, "layers": 1, "input_size": 8},
                                                 "rounds": 1, "calibration": 0, **kwargs})
    with pytest.raises(InputError, match=match):
        measure_networks([random_architecture("nb201", 0)], "nb201", rounds=1,
                         config={"C": 4, "layers": 1, "input_size": 8}, **kwargs)
