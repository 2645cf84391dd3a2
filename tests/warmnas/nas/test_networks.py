"""Derived networks: parameter counts from the papers, shapes, errors."""

from __future__ import annotations

import pytest
import torch

from warmnas.errors import InputError, InputTypeError
from warmnas.nas.genotype import DARTS_V2
from warmnas.nas.networks import build_network, count_parameters

ALL_CONV3 = ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+"
             "|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|")


def test_darts_v2_has_the_published_parameter_count() -> None:
    # DARTS (Liu et al. 2019) train.py logs "param size = 3.349342MB" for DARTS_V2, C=36, 20 cells
    model = build_network(DARTS_V2, C=36, layers=20, auxiliary=True)
    assert count_parameters(model) == 3_349_342


def test_nb201_largest_cell_parameter_count() -> None:
    # NAS-Bench-201's largest cell (all 3x3 convs) has 1.531546 MB of parameters (C=16, N=5)
    assert count_parameters(build_network(ALL_CONV3)) == 1_531_546


def test_forward_shapes_and_aux() -> None:
    model = build_network(DARTS_V2, C=4, layers=3, num_classes=7, auxiliary=False)
    out = model(torch.randn(2, 3, 8, 8))
    assert out.shape == (2, 7)
    net = build_network(ALL_CONV3, C=4, layers=1, num_classes=5, in_channels=1)
    assert net(torch.randn(3, 1, 8, 8)).shape == (3, 5)
    model = build_network(DARTS_V2.to_dict(), C=8, layers=6, auxiliary=True).train()
    logits, aux = model.forward_with_aux(torch.randn(2, 3, 32, 32), drop_path_prob=0.2,
                                         generator=torch.Generator().manual_seed(0))
    assert logits.shape == aux.shape == (2, 10)


def test_build_errors() -> None:
    with pytest.raises(InputError, match="space='nb201'"):
        build_network(DARTS_V2, space="nb201")
    with pytest.raises(InputTypeError, match="arch must be a Genotype"):
        build_network(3)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="C must be a positive int"):
        build_network(ALL_CONV3, C=0)
    with pytest.raises(InputError, match="auxiliary heads exist only for DARTS"):
        build_network(ALL_CONV3, auxiliary=True)


def test_darts_network_odd_size_after_reduction_is_a_clear_error() -> None:
    net = build_network(DARTS_V2, space="darts", C=4, layers=3, num_classes=2)
    with pytest.raises(InputError, match=r"divisible by 4; got \(14, 14\).*12x12"):
        net(torch.zeros(2, 3, 14, 14))
    assert net(torch.zeros(2, 3, 16, 16)).shape == (2, 2)
