"""The FBNet macro space: layout vs the HW-NAS-Bench table keys, supernet, derived network,
hardware-aware search through DARTSSearch, CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from warmnas.cli import main
from warmnas.errors import InputError, InputTypeError, UnknownIdError
from warmnas.hardware.base import FBNET_PRIMITIVES
from warmnas.hardware.penalties import latency_penalty
from warmnas.hardware.tables import FBNET_CIFAR_LAYOUT, HWNASBENCH_LUT_DEVICES, fbnet_lut_model
from warmnas.nas.fbnet import (
    FBNET_SEARCH_SETTINGS,
    FBNetArch,
    FBNetNetwork,
    FBNetSupernet,
    derive_fbnet,
    fbnet_latencies,
    fbnet_layout,
    random_fbnet_archs,
)
from warmnas.nas.genotype import architecture_from_dict, architecture_to_dict
from warmnas.nas.networks import build_network
from warmnas.nas.ops import ChannelShuffle, FBNetBlock, FBNetSkip
from warmnas.nas.search import DARTSSearch, mixing_weights
from warmnas.nas.supernet import build_supernet

from .conftest import tiny_images


def _lut(shared_data: Path) -> dict[str, Any]:
    path = shared_data / "fbnet" / "hw-nas-bench-lut" / "fbnet_cached_metrics.json"
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _key(op: str, H: int, C_in: int, C_out: int, stride: int) -> str:
    """The HW-NAS-Bench key of a block, written out here independently of the library."""
    if op == "skip":
        return f"Skip_H{H}_W{H}_Cin{C_in}_Cout{C_out}_stride{stride}"
    kernel = {"k3": 3, "k5": 5}[op[:2]]
    exp = int(op.split("_")[1][1:])
    group = 2 if op.endswith("g2") else 1
    return (f"ConvBlock_H{H}_W{H}_Cin{C_in}_Cout{C_out}_exp{exp}_kernel{kernel}_stride{stride}"
            f"_group{group}")


def test_layout_is_the_tables_layout(shared_data: Path) -> None:
    layout = fbnet_layout()
    assert [(lay.H, lay.C_in, lay.C_out, lay.stride) for lay in layout] == \
        [tuple(r) for r in FBNET_CIFAR_LAYOUT]
    lut = _lut(shared_data)
    for device in HWNASBENCH_LUT_DEVICES:
        table = lut[f"{device}_latency"]
        for lay in layout:
            for op in FBNET_PRIMITIVES:
                assert _key(op, lay.H, lay.C_in, lay.C_out, lay.stride) in table
    # a narrower proxy keeps the strides and sizes, scales channels to even counts
    small = fbnet_layout(C=4)
    assert [lay.stride for lay in small] == [lay.stride for lay in layout]
    assert [lay.H for lay in small] == [lay.H for lay in layout]
    assert all(lay.C_in % 2 == 0 and lay.C_out % 2 == 0 for lay in small)
    assert small[-1].C_out == 88 and small[0].C_in == 4


def test_supernet_blocks_have_the_shapes_the_table_keys_say(shared_data: Path) -> None:
    table = _lut(shared_data)["pixel3_latency"]
    torch.manual_seed(0)
    net = FBNetSupernet(C=16, num_classes=100).eval()
    seen: list[tuple[int, int, str]] = []

    def hook(layer: int, op: str) -> Any:
        def record(module: nn.Module, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
            x = inputs[0]
            stride = x.shape[-1] // out.shape[-1]
            key = _key(op, x.shape[-1], x.shape[1], out.shape[1], stride)
            assert key in table, key
            lay = FBNET_CIFAR_LAYOUT[layer]
            assert key == _key(op, *lay), (layer, op)
            seen.append((layer, x.shape[-1], op))
        return record

    for i, blocks in enumerate(net.cells):
        for op, block in zip(FBNET_PRIMITIVES, blocks):  # type: ignore[call-overload]
            block.register_forward_hook(hook(i, op))
            if op == "skip":
                assert isinstance(block, FBNetSkip)
                continue
            assert isinstance(block, FBNetBlock)
            k, e, g = int(op[1]), int(op.split("_")[1][1:]), 2 if op.endswith("g2") else 1
            assert block.conv2.kernel_size == (k, k)
            assert block.conv1.out_channels == block.C_in * e
            assert block.conv1.groups == g and block.conv3.groups == g
            assert block.conv2.groups == block.C_in * e  # depthwise
            assert isinstance(block.shuffle, ChannelShuffle) if g == 2 else block.shuffle is None
    with torch.no_grad():
        out = net(torch.randn(1, 3, 32, 32))
    assert out.shape == (1, 100) and len(seen) == 22 * 9
    # stem and head match the table's fixed entries
    assert net.stem[0].in_channels == 3 and net.stem[0].out_channels == 16
    assert "ConvNorm_H32_W32_Cin3_Cout16_kernel3_stride1_group1" in table
    assert (net.head[0].in_channels, net.head[0].out_channels) == (352, 1504)
    assert "ConvNorm_H4_W4_Cin352_Cout1504_kernel1_stride1_group1" in table
    assert net.classifier.in_features == 1504


def test_channel_shuffle_interleaves_the_groups() -> None:
    x = torch.arange(6.0).reshape(1, 6, 1, 1)
    assert ChannelShuffle(2)(x).flatten().tolist() == [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]


def test_derived_latency_equals_the_json_sum(shared_data: Path) -> None:
    lut = _lut(shared_data)
    for arch in random_fbnet_archs(3, random_state=1) + [FBNetArch(["skip"] * 22)]:
        got = fbnet_latencies(arch, shared_data)
        assert set(got) == set(HWNASBENCH_LUT_DEVICES)
        for device in HWNASBENCH_LUT_DEVICES:
            t = lut[f"{device}_latency"]
            want = (t["ConvNorm_H32_W32_Cin3_Cout16_kernel3_stride1_group1"]
                    + sum(t[_key(op, *FBNET_CIFAR_LAYOUT[i])] for i, op in enumerate(arch))
                    + t["ConvNorm_H4_W4_Cin352_Cout1504_kernel1_stride1_group1"]
                    + t["AvgP_H4_W4_Cin1504_Cout1504_kernel4_stride1"]
                    + t["FC_Cin1504_Cout100"])
            assert got[device] == pytest.approx(want, rel=1e-12, abs=1e-12), device
    # argmax of one-hot logits gives the architecture back
    arch = random_fbnet_archs(1, random_state=2)[0]
    logits = torch.zeros(22, 9)
    logits[torch.arange(22), list(arch.indices)] = 3.0
    assert derive_fbnet({"layers": logits}) == arch
    assert derive_fbnet({"layers": logits}, exclude=("skip",)).count("skip") == 0


def test_arch_round_trips_and_builds(shared_data: Path) -> None:
    arch = random_fbnet_archs(1, random_state=3)[0]
    assert FBNetArch.parse(str(arch)) == arch
    assert architecture_from_dict(json.loads(json.dumps(architecture_to_dict(arch)))) == arch
    assert FBNetArch(arch.indices) == arch
    net = build_network(arch, C=4, num_classes=5)
    assert isinstance(net, FBNetNetwork) and net(torch.randn(2, 3, 16, 16)).shape == (2, 5)
    same = build_network(list(arch.indices), space="fbnet", C=4, num_classes=5)
    assert isinstance(same, FBNetNetwork) and same.arch == arch
    # the full-width derived network has one block per layer, the chosen one
    full = FBNetNetwork(arch, num_classes=10)
    for op, block, lay in zip(arch, full.cells, fbnet_layout()):
        if op == "skip":
            assert isinstance(block, FBNetSkip) and (block.op is None) == (
                lay.stride == 1 and lay.C_in == lay.C_out)
        else:
            assert isinstance(block, FBNetBlock) and block.C_out == lay.C_out


def test_gradients_reach_alphas_and_weights(shared_data: Path) -> None:
    model = fbnet_lut_model(shared_data, "pixel3")
    pen = latency_penalty(model, "multiplicative", alpha=0.2, beta=0.6)
    torch.manual_seed(0)
    net = build_supernet("fbnet", C=2, num_classes=3, random_state=0)
    X, y = tiny_images(8)
    x = torch.as_tensor(X, dtype=torch.float32).permute(0, 3, 1, 2) / 255.0
    gen = torch.Generator().manual_seed(0)
    noise = {"layers": -torch.empty(22, 9).exponential_(generator=gen).log()}
    alphas = net.alpha_dict()
    w = mixing_weights("gumbel", alphas, noise, tau=5.0)
    assert torch.allclose(w["layers"].sum(dim=1), torch.ones(22))
    ce = torch.nn.functional.cross_entropy(net(x, w), torch.as_tensor(y))
    pen(ce, alphas).backward()
    grad = net.alphas["layers"].grad
    assert grad is not None and bool(torch.isfinite(grad).all()) and float(grad.abs().min()) > 0
    missing = [n for n, p in net.named_weight_parameters() if p.grad is None]
    assert not missing
    assert all(bool(torch.isfinite(p.grad).all()) for p in net.weight_parameters()
               if p.grad is not None)
    # the latency term alone pushes towards the block that is cheaper on the device
    a = torch.zeros(22, 9, requires_grad=True)
    model.expected_latency({"layers": a}).backward()
    assert a.grad is not None
    costs = torch.as_tensor(model.costs["layers"], dtype=torch.float32)
    cheapest = costs.argmin(dim=1)
    assert torch.equal(a.grad.argmin(dim=1), cheapest)


def _search(shared_data: Path, weight: float, seed: int = 0, epochs: int = 2,
            **kwargs: Any) -> DARTSSearch:
    model = fbnet_lut_model(shared_data, "pixel3")
    uniform = float(model.expected_latency({"layers": torch.zeros(22, 9)}))
    pen = latency_penalty(model, "additive", target_ms=uniform, weight=weight)
    X, y = tiny_images(32)
    settings = {**FBNET_SEARCH_SETTINGS, **kwargs}
    return DARTSSearch("fbnet", C=2, epochs=epochs, batch_size=8, max_steps_per_epoch=2,
                       latency_penalty=pen, random_state=seed, progress=False,
                       **settings).fit((X, y))


def test_latency_weight_lowers_the_lut_latency_and_same_seed_repeats(shared_data: Path) -> None:
    model = fbnet_lut_model(shared_data, "pixel3")
    free, again, penalised = (_search(shared_data, 0.0), _search(shared_data, 0.0),
                              _search(shared_data, 5.0))
    assert isinstance(free.genotype_, FBNetArch) and isinstance(penalised.genotype_, FBNetArch)
    lat_free, lat_pen = model.predict(free.genotype_), model.predict(penalised.genotype_)
    assert lat_pen < lat_free - 1.0, (lat_free, lat_pen)
    exp_free = float(model.expected_latency(free.alphas_))
    exp_pen = float(model.expected_latency(penalised.alphas_))
    assert exp_pen < exp_free
    # same seed, same search
    assert torch.equal(free.alphas_["layers"], again.alphas_["layers"])
    assert free.genotype_ == again.genotype_
    assert [r["train_loss"] for r in free.history_] == [r["train_loss"] for r in again.history_]
    # FBNet's temperature schedule: 5.0 * 0.956 ** epoch
    assert [r["tau"] for r in free.history_] == pytest.approx([5.0 * 0.956 ** e for e in range(2)])
    result = penalised.result()
    assert result["space"] == "fbnet" and result["architecture"]["ops"] == list(penalised.genotype_)
    assert result["genotype"] == str(penalised.genotype_)
    json.dumps(result)


def test_init_alpha_warm_start_and_softmax_option(shared_data: Path) -> None:
    init = torch.zeros(22, 9)
    init[:, FBNET_PRIMITIVES.index("k3_e6")] = 4.0
    s = _search(shared_data, 0.0, method="darts", init_alpha={"layers": init}, epochs=1,
                arch_lr=1e-4)
    assert s.genotype_ == FBNetArch(["k3_e6"] * 22)
    assert float((s.alphas_["layers"] - init).abs().max()) < 0.01
    assert s.history_[0]["tau"] is None  # softmax mixture, no temperature


def test_bad_input_is_refused_with_the_argument_named(shared_data: Path) -> None:
    with pytest.raises(UnknownIdError, match="device 'tpu'"):
        fbnet_lut_model(shared_data, "tpu")
    with pytest.raises(UnknownIdError, match="device 'tpu'"):
        fbnet_latencies(["skip"] * 22, shared_data, devices=["tpu"])
    X, y = tiny_images(16)
    with pytest.raises(InputError, match=r"init_alpha\['layers'\] must have shape \(22, 9\)"):
        DARTSSearch("fbnet", init_alpha={"layers": torch.zeros(14, 8)}, epochs=1).fit((X, y))
    bad = torch.zeros(22, 9)
    bad[3, 2] = float("nan")
    with pytest.raises(InputError, match=r"init_alpha\['layers'\] contains NaN"):
        DARTSSearch("fbnet", init_alpha={"layers": bad}, epochs=1).fit((X, y))
    with pytest.raises(InputError, match="init_alpha for space 'fbnet' must have keys"):
        DARTSSearch("fbnet", init_alpha={"cell": torch.zeros(22, 9)}, epochs=1).fit((X, y))
    with pytest.raises(InputError, match="layers: the FBNet space has 22 fixed layers"):
        DARTSSearch("fbnet", layers=5, epochs=1).fit((X, y))
    with pytest.raises(InputError, match="tau_decay must be a number in"):
        DARTSSearch("fbnet", method="gumbel", tau_decay=1.5, epochs=1).fit((X, y))
    with pytest.raises(InputError, match="an FBNet architecture has 22 layers, got 21"):
        FBNetArch(["skip"] * 21)
    with pytest.raises(InputError, match="unknown FBNet op 'k7_e6' at layer 0"):
        FBNetArch(["k7_e6"] + ["skip"] * 21)
    with pytest.raises(InputTypeError, match="22 op names or indices"):
        FBNetArch("skip")  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"\['none'\] are not FBNet ops"):
        derive_fbnet({"layers": torch.zeros(22, 9)}, exclude=("none",))
    with pytest.raises(InputError, match="C .*must be a positive int"):
        FBNetNetwork(["skip"] * 22, C=0)


def test_hardware_helpers_know_the_fbnet_space() -> None:
    from warmnas.hardware.measure import MeasuredLatencyTable, random_architecture

    arch = random_architecture("fbnet", random_state=0)
    assert isinstance(arch, FBNetArch) and arch == random_architecture("fbnet", random_state=0)
    with pytest.raises(InputError, match="for the FBNet space use the HW-NAS-Bench block tables"):
        MeasuredLatencyTable.measure("fbnet", "cpu")


def test_derived_network_trains_with_train_network() -> None:
    from warmnas.nas.train import train_network

    X, y = tiny_images(24)
    net = build_network(FBNetArch(["k3_e1"] * 22), C=2, num_classes=3)
    res = train_network(net, (X[:16], y[:16]), (X[16:], y[16:]), epochs=1, batch_size=8,
                        cutout=0, random_state=0, progress=False)
    assert res.test_accuracy is not None and 0.0 <= res.test_accuracy <= 1.0
    assert res.test_loss is not None and math.isfinite(res.test_loss)


def _npz(tmp_path: Path) -> Path:
    X, y = tiny_images(32)
    path = tmp_path / "tiny.npz"
    np.savez(path, X=X, y=y)
    return path


def test_cli_fbnet_search(tmp_path: Path, shared_data: Path,
                          capsys: pytest.CaptureFixture[str]) -> None:
    common = ["nas", "search", "--space", "fbnet", "--data", str(_npz(tmp_path)),
              "--data-dir", str(shared_data), "--epochs", "1", "--C", "2", "--batch-size", "8",
              "--max-steps-per-epoch", "1", "--no-progress"]
    assert main(common + ["--latency-device", "pixel3", "--latency-penalty", "additive",
                          "--latency-weight", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    fb = out["fbnet"]
    assert out["space"] == "fbnet" and out["method"] == "gumbel" and len(fb["ops"]) == 22
    assert fb["latency_device"] == "pixel3" and "AdditiveLatencyPenalty" in fb["penalty"]
    assert fb["latency_ms"] == pytest.approx(fbnet_latencies(fb["ops"], shared_data))
    assert [(r["H"], r["C_in"], r["C_out"], r["stride"]) for r in fb["layers"]] == \
        [tuple(r) for r in FBNET_CIFAR_LAYOUT]
    assert main(common) == 0  # no penalty: still the blocks and their latencies
    text = capsys.readouterr().out
    assert "HW-NAS-Bench LUT latency (ms): edgegpu" in text and text.count(" -> ") == 22
    assert main(common + ["--latency-device", "tpu"]) == 2
    assert "no HW-NAS-Bench FBNet latency table for device 'tpu'" in capsys.readouterr().err
    assert main(["nas", "search", "--space", "nb201", "--latency-device", "pixel3",
                 "--data", str(_npz(tmp_path))]) == 2
    assert ("--latency-device, --latency-weight, --latency-target and --latency-weights apply to "
            "--space fbnet") in capsys.readouterr().err
    assert main(common + ["--latency-weight", "1"]) == 2
    assert "need --latency-device" in capsys.readouterr().err


@pytest.mark.gpu
def test_fbnet_search_on_cuda(cuda_device: str, shared_data: Path) -> None:
    model = fbnet_lut_model(shared_data, "pixel3")
    X, y = tiny_images(64)
    s = DARTSSearch("fbnet", C=4, epochs=2, batch_size=16, max_steps_per_epoch=4,
                    device=cuda_device, random_state=0, progress=False,
                    latency_penalty=latency_penalty(model, "multiplicative", alpha=0.2, beta=0.6),
                    **FBNET_SEARCH_SETTINGS).fit((X, y))
    assert isinstance(s.genotype_, FBNetArch) and s.finished_
    assert all(bool(torch.isfinite(a).all()) for a in s.alphas_.values())


@pytest.mark.gpu
def test_fbnet_search_cuda_graphs_match_eager(cuda_device: str) -> None:
    """'auto' leaves CUDA graphs off on the FBNet space until this passes on a GPU: the captured
    steps must give the alphas of the eager steps (same seed, same draws)."""
    X, y = tiny_images(64)
    common = dict(C=4, epochs=2, batch_size=16, max_steps_per_epoch=4, device=cuda_device,
                  random_state=0, progress=False, autocast=False, **FBNET_SEARCH_SETTINGS)
    eager = DARTSSearch("fbnet", cuda_graphs=False, **common).fit((X, y))
    graphs = DARTSSearch("fbnet", cuda_graphs=True, **common).fit((X, y))
    for key in eager.alphas_:
        torch.testing.assert_close(graphs.alphas_[key], eager.alphas_[key], rtol=1e-4, atol=1e-5)


def test_skip_is_proxylessnas_zero_op_behind_the_shortcut_where_shapes_match() -> None:
    """FBNet's ``skip`` is the identity where a layer keeps shape and stride, and the blocks
    there carry their residual inside. A mixture with weights ``w`` (summing to 1) is then
    ``x + sum_o w_o f_o(x)`` with ``f_o = block_o - identity`` and ``f_skip = 0``: exactly
    ProxylessNAS' form (a ``zero`` candidate behind the block's shortcut). Where the shape
    changes, skip is a 1x1 conv + BN + ReLU (HW-NAS-Bench's priced ``Skip``), not zero."""
    torch.manual_seed(0)
    net = FBNetSupernet(C=4).eval()
    skip = FBNET_PRIMITIVES.index("skip")
    x = torch.randn(2, 6, 8, 8)
    layer = net.layout[2]
    assert (layer.C_in, layer.C_out, layer.stride) == (6, 6, 1)
    blocks = list(net.cells[2])
    assert blocks[skip](x) is x
    w = torch.softmax(torch.randn(9), dim=0)
    with torch.no_grad():
        mixed = sum(w[o] * blocks[o](x) for o in range(9))
        zero_form = x + sum(w[o] * (blocks[o](x) - x) for o in range(9) if o != skip)
    torch.testing.assert_close(mixed, zero_form, rtol=1e-5, atol=1e-5)
    changing = net.layout[1]
    assert changing.C_in != changing.C_out
    op = net.cells[1][skip]
    assert isinstance(op, FBNetSkip) and op.op is not None
    assert op(torch.randn(2, changing.C_in, 8, 8)).shape[1] == changing.C_out
