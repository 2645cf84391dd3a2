"""Supernets: alphas apart from weights, gradients, and the batched fast path == reference."""

from __future__ import annotations

import pytest
import torch

from warmnas.errors import InputError
from warmnas.nas.genotype import Genotype
from warmnas.nas.search import mixing_weights
from warmnas.nas.supernet import build_supernet


@pytest.mark.parametrize("space,layers", [("darts", 3), ("nb201", 1)])
@pytest.mark.parametrize("impl", ["reference", "batched"])
def test_gradients_reach_alphas_and_weights(space: str, layers: int, impl: str) -> None:
    torch.manual_seed(0)
    net = build_supernet(space, C=4, layers=layers, num_classes=3, impl=impl, random_state=0)
    arch, weights = net.arch_parameters(), net.weight_parameters()
    assert {id(p) for p in arch}.isdisjoint({id(p) for p in weights})
    assert len(arch) + len(weights) == len(list(net.parameters()))
    assert [tuple(a.shape) for a in arch] == list(net.space.alpha_shapes().values())
    loss = torch.nn.functional.cross_entropy(net(torch.randn(4, 3, 8, 8)),
                                             torch.tensor([0, 1, 2, 0]))
    loss.backward()
    for a in arch:
        assert a.grad is not None and a.grad.abs().sum() > 0
    assert all(p.grad is not None for p in weights)
    assert sum(float(p.grad.abs().sum()) for p in weights) > 0


@pytest.mark.parametrize("space,layers,C", [("darts", 3, 4), ("darts", 4, 6), ("nb201", 1, 4)])
def test_batched_equals_reference_float64(space: str, layers: int, C: int) -> None:
    torch.manual_seed(1)
    ref = build_supernet(space, C=C, layers=layers, impl="reference", random_state=0).double()
    fast = build_supernet(space, C=C, layers=layers, impl="batched", random_state=1).double()
    with torch.no_grad():
        for a in ref.arch_parameters():
            a.normal_()
    fast.load_reference_state(ref)
    x = torch.randn(5, 3, 8, 8, dtype=torch.float64)
    for method in ("darts", "gdas"):
        noise = {k: -torch.log(torch.rand_like(a.detach())) for k, a in ref.alpha_dict().items()}
        out_ref = ref(x, mixing_weights(method, ref.alpha_dict(), noise, 1.0))
        out_fast = fast(x, mixing_weights(method, fast.alpha_dict(), noise, 1.0))
        assert (out_ref - out_fast).abs().max() < 1e-6
        g_ref = torch.autograd.grad(out_ref.square().sum(), ref.arch_parameters() +
                                    ref.weight_parameters())
        g_fast = torch.autograd.grad(out_fast.square().sum(), fast.arch_parameters() +
                                     fast.weight_parameters())
        n = len(ref.arch_parameters())
        for a, b in zip(g_ref[:n], g_fast[:n]):
            assert (a - b).abs().max() < 1e-6
        # weights are regrouped, so compare the total squared gradient
        sq_ref = sum(float(g.square().sum()) for g in g_ref[n:])
        sq_fast = sum(float(g.square().sum()) for g in g_fast[n:])
        assert sq_ref == pytest.approx(sq_fast, rel=1e-9)
    ref.eval()
    fast.eval()
    assert (ref(x) - fast(x)).abs().max() < 1e-6


def test_init_alpha_and_genotype() -> None:
    net = build_supernet("darts", C=4, layers=2, impl="batched")
    a = {"normal": torch.zeros(14, 8), "reduce": torch.zeros(14, 8)}
    a["normal"][:, 4] = 1.0
    a["reduce"][:, 1] = 1.0
    net.set_alphas(a)
    g = net.genotype()
    assert isinstance(g, Genotype)
    assert all(op == "sep_conv_3x3" for op, _ in g.normal)
    assert all(op == "max_pool_3x3" for op, _ in g.reduce)
    seeded = build_supernet("nb201", C=4, layers=1, init_alpha={"cell": torch.eye(6, 5)})
    assert torch.equal(seeded.get_alphas()["cell"], torch.eye(6, 5))
    with pytest.raises(InputError, match="init_alpha.*must have keys"):
        build_supernet("nb201", C=4, layers=1, init_alpha={"normal": torch.zeros(14, 8)})
    with pytest.raises(InputError, match="impl must be"):
        build_supernet("nb201", impl="fast")


@pytest.mark.parametrize("impl", ["batched", "reference"])
def test_darts_odd_size_after_reduction_is_a_clear_error(impl: str) -> None:
    net = build_supernet("darts", C=4, layers=3, num_classes=2, impl=impl)
    with pytest.raises(InputError, match=r"divisible by 4; got \(14, 14\).*12x12"):
        net(torch.zeros(2, 3, 14, 14))
    assert net(torch.zeros(2, 3, 16, 16)).shape == (2, 2)
