"""Genotype: validation, JSON round trip, derivation from fixed alphas."""

from __future__ import annotations

import json

import pytest
import torch

from warmnas.errors import InputError, SchemaVersionError
from warmnas.nas.genotype import (
    DARTS_V1,
    DARTS_V2,
    Genotype,
    architecture_from_dict,
    architecture_to_dict,
    derive_architecture,
    derive_genotype,
)
from warmnas.nas.spaces import DARTS_PRIMITIVES


def test_json_round_trip_and_hashable() -> None:
    for g in (DARTS_V1, DARTS_V2):
        text = g.to_json()
        assert json.loads(text)["version"] == 1
        back = Genotype.from_json(text)
        assert back == g and hash(back) == hash(g)
        assert architecture_from_dict(architecture_to_dict(g)) == g
    assert len({DARTS_V1, DARTS_V2, Genotype.from_json(DARTS_V2.to_json())}) == 2
    with pytest.raises(AttributeError):
        DARTS_V2.normal = ()  # type: ignore[misc]


def test_json_is_never_evaluated() -> None:
    evil = DARTS_V2.to_dict()
    evil["normal"][0][0] = "__import__('os').system('true')"
    with pytest.raises(InputError, match="expected one of"):
        Genotype.from_json(json.dumps(evil))
    with pytest.raises(InputError, match="not valid JSON"):
        Genotype.from_json("Genotype(normal=[('sep_conv_3x3', 0)])")


def test_newer_version_is_refused() -> None:
    data = DARTS_V2.to_dict()
    data["version"] = 99
    with pytest.raises(SchemaVersionError, match="upgrade warmnas"):
        Genotype.from_dict(data)


def test_invalid_genotypes() -> None:
    with pytest.raises(InputError, match="source must be in 0..1, got 3"):
        Genotype(normal=(("sep_conv_3x3", 0), ("sep_conv_3x3", 3)) * 1, normal_concat=(2,),
                 reduce=(("sep_conv_3x3", 0), ("sep_conv_3x3", 1)), reduce_concat=(2,))
    with pytest.raises(InputError, match="two .* pairs per intermediate node"):
        Genotype(normal=(("sep_conv_3x3", 0),), normal_concat=(2,), reduce=(), reduce_concat=(2,))
    with pytest.raises(InputError, match="distinct intermediate nodes"):
        Genotype(normal=DARTS_V2.normal, normal_concat=(1, 2), reduce=DARTS_V2.reduce,
                 reduce_concat=(2, 3, 4, 5))


def _alphas_for(genotype: Genotype) -> dict[str, torch.Tensor]:
    """Logits whose derivation must give ``genotype`` (chosen edges strongest, in gene order)."""
    out = {}
    for key, gene in (("normal", genotype.normal), ("reduce", genotype.reduce)):
        a = torch.zeros(14, 8)
        a[:, 0] = 3.0  # a strong 'none' everywhere must be ignored
        start = 0
        for i in range(4):
            for rank, (op, src) in enumerate(gene[2 * i: 2 * i + 2]):
                a[start + src, DARTS_PRIMITIVES.index(op)] = 2.0 - 0.5 * rank
            start += 2 + i
        out[key] = a
    return out


def test_derivation_on_fixed_alphas() -> None:
    for g in (DARTS_V1, DARTS_V2):
        assert derive_genotype(_alphas_for(g)) == g
        assert derive_architecture("darts", _alphas_for(g)) == g


def test_derivation_hand_computed() -> None:
    # node 2: edge (2<-1) strongest (sep5), node 3: (3<-2) dil3 and (3<-0) max pool,...
    a = torch.zeros(14, 8)
    a[1, 5] = 1.0          # 2<-1 sep_conv_5x5
    a[0, 3] = 0.5          # 2<-0 skip
    a[4, 6] = 2.0          # 3<-2 dil_conv_3x3
    a[2, 1] = 1.5          # 3<-0 max_pool
    a[8, 2] = 1.0          # 4<-3 avg_pool
    a[6, 7] = 0.9          # 4<-1 dil_conv_5x5
    a[13, 4] = 3.0         # 5<-4 sep_conv_3x3
    a[9, 3] = 2.5          # 5<-0 skip
    g = derive_genotype({"normal": a, "reduce": a})
    assert g.normal == (("sep_conv_5x5", 1), ("skip_connect", 0), ("dil_conv_3x3", 2),
                        ("max_pool_3x3", 0), ("avg_pool_3x3", 3), ("dil_conv_5x5", 1),
                        ("sep_conv_3x3", 4), ("skip_connect", 0))
    assert g.normal_concat == (2, 3, 4, 5)
