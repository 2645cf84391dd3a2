"""Optimizers and gradient clipping that are safe to capture in CUDA graphs.

They follow ``torch.optim.SGD`` (momentum, dampening 0, coupled weight decay) and
``torch.optim.Adam`` (coupled weight decay, bias correction) exactly, but keep the learning rate
and the step count in device tensors and never read a value back to the host, so a captured
step picks up learning-rate changes made between replays (``set_lr``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch

__all__ = ["GraphSafeSGD", "GraphSafeAdam", "clip_grad_norm"]


def _grads(params: list[torch.Tensor]) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    ps = [p for p in params if p.grad is not None]
    return ps, [p.grad for p in ps]  # type: ignore[misc]


@torch.no_grad()
def clip_grad_norm(params: Iterable[torch.Tensor], max_norm: float) -> torch.Tensor:
    """Scale gradients so their global L2 norm is at most ``max_norm`` (as
    ``torch.nn.utils.clip_grad_norm_``); returns the norm before clipping, on the device."""
    _, grads = _grads(list(params))
    if not grads:
        return torch.zeros(())
    norms = torch._foreach_norm(grads)
    total = torch.linalg.vector_norm(torch.stack(norms))
    coef = (max_norm / (total + 1e-6)).clamp(max=1.0)
    torch._foreach_mul_(grads, coef)
    return total


class GraphSafeSGD:
    """SGD with momentum and coupled weight decay (``torch.optim.SGD`` semantics)."""

    def __init__(self, params: Iterable[torch.Tensor], lr: float, momentum: float = 0.9,
                 weight_decay: float = 0.0) -> None:
        self.params = list(params)
        device = self.params[0].device
        self.lr = torch.tensor(float(lr), device=device)
        self.momentum = float(momentum)
        self.weight_decay = float(weight_decay)
        self.bufs = [torch.zeros_like(p) for p in self.params]

    def set_lr(self, lr: float) -> None:
        """Change the learning rate (also for an already captured step)."""
        self.lr.fill_(float(lr))

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        idx = [i for i, p in enumerate(self.params) if p.grad is not None]
        if not idx:
            return
        ps = [self.params[i] for i in idx]
        grads: Any = [self.params[i].grad for i in idx]
        bufs = [self.bufs[i] for i in idx]
        if self.weight_decay:
            grads = torch._foreach_add(grads, ps, alpha=self.weight_decay)
        if self.momentum:
            torch._foreach_mul_(bufs, self.momentum)
            torch._foreach_add_(bufs, grads)
            update = bufs
        else:
            update = grads
        torch._foreach_sub_(ps, torch._foreach_mul(update, self.lr))


class GraphSafeAdam:
    """Adam with coupled (L2) weight decay (``torch.optim.Adam`` semantics)."""

    def __init__(self, params: Iterable[torch.Tensor], lr: float,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        self.params = list(params)
        device = self.params[0].device
        self.lr = torch.tensor(float(lr), device=device)
        self.beta1, self.beta2 = (float(b) for b in betas)
        self.eps = float(eps)
        self.weight_decay = float(weight_decay)
        self.step_count = torch.zeros((), device=device)
        self.exp_avg = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]

    def set_lr(self, lr: float) -> None:
        self.lr.fill_(float(lr))

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        self.step_count.add_(1.0)
        bc1 = 1.0 - torch.pow(self.beta1, self.step_count)
        bc2_sqrt = torch.sqrt(1.0 - torch.pow(self.beta2, self.step_count))
        for p, m, v in zip(self.params, self.exp_avg, self.exp_avg_sq):
            if p.grad is None:
                continue
            g = p.grad
            if self.weight_decay:
                g = g.add(p, alpha=self.weight_decay)
            m.lerp_(g, 1.0 - self.beta1)
            v.mul_(self.beta2).addcmul_(g, g, value=1.0 - self.beta2)
            denom = (v.sqrt() / bc2_sqrt).add_(self.eps)
            p.sub_((self.lr / bc1) * m / denom)
