"""CUDA checks of the fast path (skipped without a GPU; run on the GPU machine)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from warmnas.nas.search import DARTSSearch
from warmnas.nas.supernet import build_supernet

pytestmark = pytest.mark.gpu


@pytest.mark.parametrize("space,layers", [("darts", 4), ("nb201", 2)])
def test_batched_equals_reference_on_cuda(cuda_device: str, space: str, layers: int) -> None:
    torch.manual_seed(0)
    ref = build_supernet(space, C=8, layers=layers, impl="reference").to(cuda_device).double()
    fast = build_supernet(space, C=8, layers=layers, impl="batched").to(cuda_device).double()
    with torch.no_grad():
        for a in ref.arch_parameters():
            a.normal_()
    fast.load_reference_state(ref)
    x = torch.randn(8, 3, 16, 16, device=cuda_device, dtype=torch.float64)
    assert (ref(x) - fast(x)).abs().max().item() < 1e-6
    fast = fast.float().to(memory_format=torch.channels_last)
    with torch.autocast("cuda", dtype=torch.bfloat16):
        low = fast(x.float().contiguous(memory_format=torch.channels_last)).float()
    rel = ((low - ref(x).float()).norm() / ref(x).float().norm()).item()
    assert rel < 5e-2


@pytest.mark.parametrize("space,layers", [("darts", 3), ("nb201", 1)])
def test_bf16_channels_last_gradients_match_fp32(cuda_device: str, space: str,
                                                 layers: int) -> None:
    """The fast path's dtype/layout must not change the gradients beyond bf16 rounding."""
    torch.manual_seed(0)
    net = build_supernet(space, C=16, layers=layers, impl="batched").to(cuda_device)
    x = torch.randn(32, 3, 16, 16, device=cuda_device)
    y = torch.randint(0, 10, (32,), device=cuda_device)
    params = net.weight_parameters() + net.arch_parameters()
    ref = torch.autograd.grad(torch.nn.functional.cross_entropy(net(x), y), params)
    net_cl = net.to(memory_format=torch.channels_last)
    with torch.autocast("cuda", dtype=torch.bfloat16):
        logits = net_cl(x.contiguous(memory_format=torch.channels_last))
    low = torch.autograd.grad(torch.nn.functional.cross_entropy(logits.float(), y), params)
    num = sum(float((a - b).float().square().sum()) for a, b in zip(ref, low))
    den = sum(float(a.float().square().sum()) for a in ref)
    assert (num / den) ** 0.5 < 5e-2


@pytest.mark.parametrize("method", ["darts", "drnas", "gdas"])
def test_cuda_graphs_match_eager(cuda_device: str, method: str) -> None:
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=(96, 16, 16, 3), dtype=np.uint8)
    y = rng.integers(0, 4, size=96)
    alphas = []
    for graphs in (False, True):
        s = DARTSSearch("nb201", method=method, epochs=2, batch_size=16, C=8, layers=1,
                        device=cuda_device, autocast=False, channels_last=False,
                        cuda_graphs=graphs, deterministic=True, random_state=0, progress=False)
        s.fit((X, y))
        alphas.append(s.alphas_["cell"])
        assert s.n_iter_ == 2 * 3
    assert torch.allclose(alphas[0], alphas[1], atol=1e-4)
