"""Search spaces and the ops registry."""

from __future__ import annotations

import pytest
import torch

from warmnas.errors import InputError, InputTypeError
from warmnas.nas.ops import OPS, make_op
from warmnas.nas.spaces import DARTS_PRIMITIVES, NB201_PRIMITIVES, get_space


def test_contract_constants_and_shapes() -> None:
    assert DARTS_PRIMITIVES == ("none", "max_pool_3x3", "avg_pool_3x3", "skip_connect",
                                "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5")
    assert NB201_PRIMITIVES == ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3",
                                "avg_pool_3x3")
    darts, nb201 = get_space("darts"), get_space("nb201")
    assert darts.alpha_shapes() == {"normal": (14, 8), "reduce": (14, 8)}
    assert nb201.alpha_shapes() == {"cell": (6, 5)}
    assert darts.edges[:5] == ((2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
    assert darts.edges[-1] == (5, 4)
    assert nb201.edges == ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
    assert get_space("NAS-Bench-201") is nb201
    assert set(OPS["darts"]) == set(DARTS_PRIMITIVES)
    assert set(OPS["nb201"]) == set(NB201_PRIMITIVES)


@pytest.mark.parametrize("space", ["darts", "nb201"])
@pytest.mark.parametrize("stride", [1, 2])
def test_every_op_maps_shapes(space: str, stride: int) -> None:
    sp = get_space(space)
    x = torch.randn(2, 8, 8, 8)
    for name in sp.primitives:
        for c_out in (8, 12):
            op = sp.make_op(name, 8, c_out, stride)
            assert op(x).shape == (2, c_out, 8 // stride, 8 // stride), (name, c_out)


def test_op_parameter_counts_follow_darts() -> None:
    # SepConv(C) = 2 * (depthwise k*k*C + pointwise C*C) + 2 BN (2C each)
    C = 16
    sep3 = make_op("darts", "sep_conv_3x3", C, C)
    assert sum(p.numel() for p in sep3.parameters()) == 2 * (9 * C + C * C) + 4 * C
    dil5 = make_op("darts", "dil_conv_5x5", C, C)
    assert sum(p.numel() for p in dil5.parameters()) == 25 * C + C * C + 2 * C
    assert sum(p.numel() for p in make_op("nb201", "nor_conv_3x3", C, C).parameters()) == \
        9 * C * C + 2 * C


def test_bad_ops_and_spaces() -> None:
    with pytest.raises(InputError, match="unknown op 'conv_7x7'"):
        make_op("darts", "conv_7x7", 4, 4)
    with pytest.raises(InputError, match="space must be one of"):
        make_op("nb101", "none", 4, 4)
    with pytest.raises(InputError, match="stride must be 1 or 2"):
        make_op("darts", "none", 4, 4, stride=3)
    with pytest.raises(InputError, match="C_in must be a positive int"):
        make_op("darts", "none", 0, 4)
    with pytest.raises(InputError, match="unknown search space 'nb101'"):
        get_space("nb101")
    with pytest.raises(InputTypeError, match="space must be a str"):
        get_space(3)  # type: ignore[arg-type]


def test_validate_and_init_alphas() -> None:
    sp = get_space("darts")
    a = sp.init_alphas(random_state=0)
    b = sp.init_alphas(random_state=0)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert sp.validate_alphas({k: v.numpy() for k, v in a.items()})["normal"].dtype == torch.float32
    with pytest.raises(InputError, match="must have keys"):
        sp.validate_alphas({"cell": torch.zeros(6, 5)})
    with pytest.raises(InputError, match=r"must have shape \(14, 8\)"):
        sp.validate_alphas({"normal": torch.zeros(14, 7), "reduce": torch.zeros(14, 8)})
    bad = {"normal": torch.zeros(14, 8), "reduce": torch.full((14, 8), float("nan"))}
    with pytest.raises(InputError, match="NaN or inf"):
        sp.validate_alphas(bad)
    with pytest.raises(InputTypeError, match="must be a dict"):
        sp.validate_alphas([1, 2])  # type: ignore[arg-type]
