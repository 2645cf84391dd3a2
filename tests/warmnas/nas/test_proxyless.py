"""DARTSSearch(method="proxyless"): ProxylessNAS' sampled paths (only the sampled ops run), its
gate-gradient estimator for the alphas, seeding, resume, the latency penalty and bad settings."""

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
from warmnas.errors import InputError
from warmnas.hardware.penalties import latency_penalty
from warmnas.hardware.tables import fbnet_lut_model
from warmnas.nas.fbnet import FBNetSupernet
from warmnas.nas.search import (
    DARTSSearch,
    mixing_weights,
    proxyless_alpha_grad,
    proxyless_sample,
)
from warmnas.nas.supernet import build_supernet

from .conftest import tiny_images


def _count_calls(modules: list[nn.Module]) -> tuple[dict[int, int], Any]:
    counts = {id(m): 0 for m in modules}

    def hook(module: nn.Module, args: Any, out: Any) -> None:
        if id(module) in counts:
            counts[id(module)] += 1

    return counts, nn.modules.module.register_module_forward_hook(hook)


def test_only_the_sampled_blocks_run_and_gates_mix_them() -> None:
    torch.manual_seed(0)
    net = FBNetSupernet(C=2, num_classes=3, random_state=0)
    blocks = [b for layer in net.cells for b in layer]  # type: ignore[union-attr]
    x = torch.randn(4, 3, 8, 8)
    gen = torch.Generator().manual_seed(1)
    for n in (1, 2):
        paths, gates = proxyless_sample(net.alpha_dict(), n, gen)
        assert paths["layers"].shape == (22, n)
        assert torch.equal(gates["layers"].sum(1), torch.ones(22))
        assert torch.equal(gates["layers"].argmax(1), paths["layers"][:, 0])  # active first
        if n == 2:
            assert bool((paths["layers"][:, 0] != paths["layers"][:, 1]).all())
        counts, handle = _count_calls(blocks)
        try:
            net(x, gates, paths=paths)
        finally:
            handle.remove()
        for i, layer in enumerate(net.cells):
            ran = {o for o, b in enumerate(layer) if counts[id(b)]}  # type: ignore[arg-type]
            assert ran == set(paths["layers"][i].tolist()), i
            assert all(counts[id(b)] <= 1 for b in layer)  # type: ignore[union-attr]
    # one sampled path with gate 1 is the derived network's forward on that path
    paths, gates = proxyless_sample(net.alpha_dict(), 1, gen)
    net.eval()
    with torch.no_grad():
        onehot = torch.zeros(22, 9).scatter_(1, paths["layers"], 1.0)
        assert torch.allclose(net(x, gates, paths=paths), net(x, {"layers": onehot}), atol=1e-6)


def test_reference_nb201_supernet_runs_only_the_sampled_ops() -> None:
    net = build_supernet("nb201", C=4, layers=1, num_classes=3, impl="reference")
    mixed = [m for cell in net.cells if hasattr(cell, "_ops") for m in cell._ops]
    ops = [op for m in mixed for op in m._ops]
    paths, gates = proxyless_sample(net.alpha_dict(), 2, torch.Generator().manual_seed(0))
    counts, handle = _count_calls(ops)
    try:
        net(torch.randn(2, 3, 8, 8), gates, paths=paths)
    finally:
        handle.remove()
    for cell_ops in [mixed[k:k + 6] for k in range(0, len(mixed), 6)]:
        for e, m in enumerate(cell_ops):
            ran = {o for o, op in enumerate(m._ops) if counts[id(op)]}
            assert ran == set(paths["cell"][e].tolist())
    batched = build_supernet("nb201", C=4, layers=1, num_classes=3)
    with pytest.raises(InputError, match="impl='reference'"):
        batched(torch.randn(2, 3, 8, 8), gates, paths=paths)


def test_estimator_matches_a_hand_computed_case() -> None:
    alphas = {"k": torch.tensor([[0.2, -0.1, 0.5], [0.0, 1.0, -1.0]])}
    gate_grads = {"k": torch.tensor([[0.3, 0.7, -0.4], [1.5, -2.0, 0.25]])}
    paths = {"k": torch.tensor([[2, 0], [1, 2]])}
    got = proxyless_alpha_grad(alphas, gate_grads, paths)["k"]
    want = torch.zeros(2, 3, dtype=torch.float64)
    for e in range(2):
        pair = paths["k"][e].tolist()
        z = [math.exp(float(alphas["k"][e, o])) for o in pair]
        p = [v / sum(z) for v in z]
        for i in range(2):
            for j in range(2):
                want[e, pair[i]] += (float(gate_grads["k"][e, pair[j]]) * p[j]
                                     * ((i == j) - p[i]))
    assert torch.allclose(got.double(), want, atol=1e-7)
    assert got[0, 1] == 0 and got[1, 0] == 0  # ops outside the pair get nothing
    # worked by hand for edge 0: p = softmax(0.5, 0.2) = (0.57444, 0.42556)
    p2, p0 = 0.574443, 0.425557
    assert float(got[0, 2]) == pytest.approx(-0.4 * p2 * (1 - p2) - 0.3 * p0 * p2, abs=1e-5)


def _search(**kw: Any) -> DARTSSearch:
    X, y = tiny_images(32)
    settings: dict[str, Any] = dict(method="proxyless", C=2, epochs=2, batch_size=8,
                                    max_steps_per_epoch=2, arch_lr=0.01, random_state=0,
                                    progress=False)
    settings.update(kw)
    return DARTSSearch("fbnet", **settings).fit((X, y))


def test_search_runs_sampled_paths_and_the_estimator_moves_only_the_pair() -> None:
    X, y = tiny_images(32)
    calls: dict[int, int] = {}

    def hook(module: nn.Module, args: Any, out: Any) -> None:
        calls[id(module)] = calls.get(id(module), 0) + 1

    handle = nn.modules.module.register_module_forward_hook(hook)
    try:
        s = DARTSSearch("fbnet", method="proxyless", C=2, epochs=1, batch_size=8,
                        max_steps_per_epoch=2, random_state=0, progress=False).fit((X, y))
    finally:
        handle.remove()
    for layer in s.supernet_.cells:
        # 2 steps x (2 ops in the architecture step + 1 in the weight step)
        assert sum(calls.get(id(b), 0) for b in layer) == 6  # type: ignore[union-attr]
    # one architecture step with no weight decay moves at most the 2 sampled logits per layer,
    # and keeps their total probability (ProxylessNAS' rescaling)
    one = _search(epochs=1, max_steps_per_epoch=1, arch_weight_decay=0.0, arch_lr=0.05)
    start = _search(epochs=1, max_steps_per_epoch=1, warmup_epochs=1)  # the initial alphas
    before, after = start.alphas_["layers"], one.alphas_["layers"]
    moved = before != after
    assert int(moved.sum(1).max()) <= 2 and int(moved.sum()) >= 22
    for row in range(22):
        m = moved[row]
        if int(m.sum()) == 2:
            assert float(torch.logsumexp(after[row][m], 0)) == pytest.approx(
                float(torch.logsumexp(before[row][m], 0)), abs=1e-5)


def test_same_seed_same_result_and_other_seed_differs() -> None:
    a, b, c = _search(), _search(), _search(random_state=1)
    assert torch.equal(a.alphas_["layers"], b.alphas_["layers"])
    assert [r["train_loss"] for r in a.history_] == [r["train_loss"] for r in b.history_]
    assert a.genotype_ == b.genotype_
    assert not torch.equal(a.alphas_["layers"], c.alphas_["layers"])
    assert a.history_[-1]["tau"] is None and a.result()["method"] == "proxyless"


def test_latency_weight_lowers_the_table_latency(shared_data: Path) -> None:
    model = fbnet_lut_model(shared_data, "pixel3")
    free = _search(latency_penalty=latency_penalty(model, "multiplicative", alpha=0.2, beta=0.0))
    pen = _search(latency_penalty=latency_penalty(model, "multiplicative", alpha=0.2, beta=5.0))
    assert model.predict(pen.genotype_) < model.predict(free.genotype_) - 1.0
    assert float(model.expected_latency(pen.alphas_)) < float(model.expected_latency(free.alphas_))


def test_stopped_and_resumed_equals_uninterrupted(tmp_path: Path) -> None:
    kw: dict[str, Any] = dict(epochs=3, max_steps_per_epoch=1)
    full = _search(**kw)
    for _ in range(3):
        part = _search(checkpoint_dir=tmp_path, max_time_s=1e-9, **kw)
    assert part.finished_ and part.resumed_from_ is not None
    assert torch.equal(full.alphas_["layers"], part.alphas_["layers"])
    assert [r["train_loss"] for r in full.history_] == [r["train_loss"] for r in part.history_]
    # the NB201 reference supernet resumes too
    X, y = tiny_images(32)
    nb = dict(method="proxyless", impl="reference", C=4, layers=1, epochs=2, batch_size=8,
              max_steps_per_epoch=1, random_state=0, progress=False)
    whole = DARTSSearch("nb201", **nb).fit((X, y))
    ck = tmp_path / "nb"
    for _ in range(2):
        half = DARTSSearch("nb201", checkpoint_dir=ck, max_time_s=1e-9, **nb).fit((X, y))
    assert torch.equal(whole.alphas_["cell"], half.alphas_["cell"])


def test_bad_settings_are_refused_with_the_fix() -> None:
    X, y = tiny_images(16)
    for space in ("nb201", "darts"):
        with pytest.raises(InputError, match="impl='reference'"):
            DARTSSearch(space, method="proxyless").fit((X, y))
    with pytest.raises(InputError, match="cuda_graphs"):
        DARTSSearch("fbnet", method="proxyless", cuda_graphs=True)._check_params()
    with pytest.raises(InputError, match="order=2"):
        DARTSSearch("fbnet", method="proxyless", order=2)._check_params()
    with pytest.raises(InputError, match="no mixing weights"):
        mixing_weights("proxyless", {"k": torch.zeros(2, 3)})
    with pytest.raises(InputError, match="n must be 1"):
        proxyless_sample({"k": torch.zeros(2, 3)}, 3)


def test_cli_method_proxyless(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    X, y = tiny_images(32)
    path = tmp_path / "tiny.npz"
    np.savez(path, X=X, y=y)
    assert main(["nas", "search", "--space", "nb201", "--method", "proxyless", "--data",
                 str(path), "--data-dir", str(tmp_path), "--epochs", "1", "--C", "4",
                 "--layers", "1", "--batch-size", "8", "--max-steps-per-epoch", "1",
                 "--no-progress", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["method"] == "proxyless" and out["space"] == "nb201"


def test_estimate_ignores_a_term_common_to_the_pair_so_inner_and_outer_residuals_agree() -> None:
    """ProxylessNAS gates blocks whose shortcut sits outside the gated ops (its ``zero`` op
    outputs 0); the FBNet blocks carry theirs inside (``skip`` outputs x). The gate gradients
    then differ by ``<dL/dout, x>`` for every op of the pair, which the estimator cancels
    (``sum_j p_j (delta_ij - p_i) = 0``), so both layouts move the alphas alike."""
    alphas = {"layers": torch.randn(22, 9, generator=torch.Generator().manual_seed(1))}
    paths, _ = proxyless_sample(alphas, 2, torch.Generator().manual_seed(2))
    g = {"layers": torch.randn(22, 9, generator=torch.Generator().manual_seed(3))}
    shifted = {"layers": g["layers"] + torch.randn(22, 1) * 5.0}
    torch.testing.assert_close(proxyless_alpha_grad(alphas, shifted, paths)["layers"],
                               proxyless_alpha_grad(alphas, g, paths)["layers"])
