"""The graph-safe optimizers and clipping follow torch.optim.SGD / Adam and clip_grad_norm_."""

from __future__ import annotations

import torch

from warmnas.nas._optim import GraphSafeAdam, GraphSafeSGD, clip_grad_norm


def _params(seed: int) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(5, 3, generator=g, dtype=torch.float64).requires_grad_(),
            torch.randn(7, generator=g, dtype=torch.float64).requires_grad_()]


def _clone(ps: list[torch.Tensor]) -> list[torch.Tensor]:
    return [p.detach().clone().requires_grad_() for p in ps]


def test_sgd_and_clipping_match_torch() -> None:
    ours = _params(0)
    theirs = _clone(ours)
    sgd = GraphSafeSGD(ours, 0.1, momentum=0.9, weight_decay=3e-4)
    ref = torch.optim.SGD(theirs, lr=0.1, momentum=0.9, weight_decay=3e-4)
    g = torch.Generator().manual_seed(1)
    for it in range(6):
        grads = [10 * torch.randn(p.shape, generator=g, dtype=torch.float64) for p in ours]
        for group in (ours, theirs):
            for p, gr in zip(group, grads):
                p.grad = gr.clone()
        n_ours = clip_grad_norm(ours, 5.0)
        n_ref = torch.nn.utils.clip_grad_norm_(theirs, 5.0)
        assert torch.allclose(n_ours, n_ref)
        if it == 3:  # a learning-rate change between steps (the cosine schedule)
            sgd.set_lr(0.05)
            ref.param_groups[0]["lr"] = 0.05
        sgd.step()
        ref.step()
    for a, b in zip(ours, theirs):
        assert torch.allclose(a, b, rtol=0, atol=1e-6)  # lr is held in float32
    assert max(float((a - p0).abs().max()) for a, p0 in zip(ours, _params(0))) > 0.1


def test_adam_matches_torch() -> None:
    ours = _params(2)
    theirs = _clone(ours)
    adam = GraphSafeAdam(ours, 3e-3, (0.5, 0.999), weight_decay=1e-3)
    ref = torch.optim.Adam(theirs, lr=3e-3, betas=(0.5, 0.999), weight_decay=1e-3)
    g = torch.Generator().manual_seed(3)
    for _ in range(8):
        grads = [torch.randn(p.shape, generator=g, dtype=torch.float64) for p in ours]
        for group in (ours, theirs):
            for p, gr in zip(group, grads):
                p.grad = gr.clone()
        adam.step()
        ref.step()
    for a, b in zip(ours, theirs):
        assert torch.allclose(a, b, rtol=0, atol=1e-6)
    adam.zero_grad()
    assert all(p.grad is None for p in ours)
