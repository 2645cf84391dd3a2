"""The functional task-level loop: optimisers, cyclic minibatches, clipping, graph wrapper."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from warmnas.errors import InputError
from warmnas.nas.meta.inner import (
    FunctionalNet,
    GraphedCall,
    InnerOptimizer,
    inner_darts_steps,
    shuffle_sets,
    stack_params,
)


def _net() -> FunctionalNet:
    torch.manual_seed(0)
    return FunctionalNet(nn.Sequential(nn.Flatten(), nn.Linear(4, 3)))


def _data(T: int = 2, n: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return torch.randn(T, n, 1, 2, 2, generator=g), torch.randint(0, 3, (T, n), generator=g)


def test_cyclic_minibatches_are_consecutive_slices() -> None:
    fnet = _net()
    w, a = fnet.split(fnet.net)
    x, y = _data()
    sgd = InnerOptimizer("sgd", 0.5)
    res = inner_darts_steps(fnet, stack_params(w, 2), {}, x, y, steps=2, w_opt=sgd, a_opt=None,
                            batch_size=2, grad_clip=None)
    # by hand: step 0 on images 0-1, step 1 on images 2-3, per task
    for t in range(2):
        p = {k: v.clone().requires_grad_() for k, v in w.items()}
        for lo in (0, 2):
            loss = F.cross_entropy(fnet(p, {}, x[t, lo:lo + 2]), y[t, lo:lo + 2])
            grads = torch.autograd.grad(loss, list(p.values()))
            p = {k: (v - 0.5 * g).detach().requires_grad_() for (k, v), g in zip(p.items(), grads)}
        for k in w:
            assert torch.allclose(res.weights[k][t], p[k], atol=1e-6), (t, k)
    full = inner_darts_steps(fnet, stack_params(w, 2), {}, x, y, steps=1, w_opt=sgd, a_opt=None,
                             batch_size=4)
    none = inner_darts_steps(fnet, stack_params(w, 2), {}, x, y, steps=1, w_opt=sgd, a_opt=None)
    for k in w:
        assert torch.equal(full.weights[k], none.weights[k])


def test_shuffle_sets_permutes_each_task() -> None:
    x, y = _data(T=3, n=6)
    xs, ys = shuffle_sets(x, y, torch.Generator().manual_seed(0))
    for t in range(3):
        # same multiset of (image, label) pairs
        key = lambda xx, yy: sorted(zip(xx.flatten(1).sum(1).tolist(), yy.tolist()))  # noqa: E731
        assert key(xs[t], ys[t]) == key(x[t], y[t])
    assert not torch.equal(xs, x)


def test_adam_matches_torch_adam() -> None:
    torch.manual_seed(0)
    p = torch.randn(5, requires_grad=True)
    ref = torch.optim.Adam([p], lr=0.1, betas=(0.0, 0.999))
    ours = InnerOptimizer("adam", 0.1, betas=(0.0, 0.999))
    q = {"p": p.detach().clone()}
    state = ours.init(q)
    for i in range(3):
        g = torch.randn(5, generator=torch.Generator().manual_seed(i))
        p.grad = g.clone()
        ref.step()
        q = ours.step(q, {"p": g}, state)
    assert torch.allclose(p.detach(), q["p"], atol=1e-6)
    with pytest.raises(InputError, match="'adam' or 'sgd'"):
        InnerOptimizer("rmsprop")


def test_graphed_call_is_eager_on_cpu() -> None:
    calls = []

    def fn(inp: dict) -> dict:
        calls.append(1)
        return {"out": inp["x"] * 2}

    g = GraphedCall(fn)
    assert torch.equal(g({"x": torch.ones(2)})["out"], torch.full((2,), 2.0))
    assert len(calls) == 1 and not g.active


def test_graph_check_tolerates_eager_noise_but_not_more() -> None:
    from warmnas.nas.meta.inner import graph_check

    base = {"dw": {"a": torch.ones(100)}, "loss": torch.ones(4), "acc": torch.zeros(4)}
    same = {"dw": {"a": torch.ones(100)}, "loss": torch.ones(4), "acc": torch.ones(4)}
    ok, report = graph_check(base, base, same, ("dw", "loss"), 0.02)
    assert ok and "dw 0" in report  # acc is not compared
    noisy = {"dw": {"a": torch.ones(100) * 1.2}, "loss": torch.ones(4)}
    # eager runs differing by 20% themselves: a 20% graph difference is accepted ...
    assert graph_check(noisy, base, same, ("dw", "loss"), 0.02)[0]
    # ... but not without that noise, and not a difference far beyond it
    assert not graph_check(base, base, noisy, ("dw",), 0.02)[0]
    wild = {"dw": {"a": -torch.ones(100)}, "loss": torch.ones(4)}
    assert not graph_check(noisy, base, wild, ("dw",), 0.02)[0]
