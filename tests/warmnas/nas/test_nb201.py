"""NB201 arch strings, indices and table look-ups against the benchmark's own files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from warmnas.errors import InputError, MissingDataError, UnknownIdError
from warmnas.nas.nb201 import (
    NB201Table,
    alphas_from_arch,
    arch_to_op_indices,
    derive_arch,
    format_arch,
    load_str_arch2idx,
    op_indices_to_arch,
    parse_arch,
)

BEST = ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+"
        "|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|")


@pytest.fixture(scope="module")
def table(shared_data: Path) -> NB201Table:
    return NB201Table.load(shared_data)


def test_parse_and_format() -> None:
    ops = parse_arch(BEST)
    assert ops == ("nor_conv_3x3", "nor_conv_3x3", "nor_conv_3x3", "skip_connect",
                   "nor_conv_3x3", "nor_conv_3x3")
    assert format_arch(ops) == BEST
    assert op_indices_to_arch(arch_to_op_indices(BEST)) == BEST
    assert derive_arch(alphas_from_arch(BEST)) == BEST


@pytest.mark.parametrize("bad, msg", [
    ("|nor_conv_3x3~0|+|nor_conv_3x3~0|", "malformed"),
    ("|conv_9x9~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|", "unknown NB201 op"),
    ("|none~0|+|none~1|none~1|+|none~0|none~1|none~2|", "must read '~0'"),
    ("|none~0|+|none~0|+|none~0|none~1|none~2|", "node 2 .* must have 2 inputs"),
])
def test_bad_arch_strings(bad: str, msg: str) -> None:
    with pytest.raises(InputError, match=msg):
        parse_arch(bad)


def test_index_lookups_match_str_arch2idx(shared_data: Path, table: NB201Table) -> None:
    reference = load_str_arch2idx(shared_data)
    assert len(reference) == len(table) == 15625
    rng = np.random.default_rng(0)
    items = list(reference.items())
    for k in rng.choice(len(items), size=500, replace=False):
        arch, idx = items[int(k)]
        assert table.index(arch) == idx
        assert table.arch(idx) == arch
    # every one of the 5^6 op combinations is there, under the index str_arch2idx gives it
    for code in rng.choice(5 ** 6, size=200, replace=False):
        digits = [(int(code) // 5 ** e) % 5 for e in range(6)]
        arch = op_indices_to_arch(digits)
        assert table.index(arch) == reference[arch]


def test_accuracy_lookups_against_published_numbers(table: NB201Table) -> None:
    # NAS-Bench-201 / NATS-Bench: optimum 94.37 on CIFAR-10 (test, 200 epochs)
    best = table.best("cifar10")
    assert best["cifar10"] == pytest.approx(94.37, abs=0.01)
    hit = table.lookup(BEST)
    assert hit["cifar10"] == pytest.approx(94.36, abs=0.01)
    assert hit["index"] == table.index(BEST)
    assert table.lookup(hit["index"]) == hit
    # DARTS-V1 collapses to all-skip cells: 54.30 on CIFAR-10 in the NAS-Bench-201 paper
    skip = "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|"
    assert table.lookup(skip)["cifar10"] == pytest.approx(54.30, abs=0.01)
    assert table.rank(best["index"]) == 0.0


def test_lookup_errors(table: NB201Table, tmp_path: Path) -> None:
    with pytest.raises(UnknownIdError, match="0..15624"):
        table.arch(15625)
    with pytest.raises(InputError, match="dataset must be one of"):
        table.best("mnist")
    with pytest.raises(MissingDataError, match="nats_bench.csv not found"):
        NB201Table.load(tmp_path)
    with pytest.raises(MissingDataError, match="str_arch2idx.pt not found"):
        load_str_arch2idx(tmp_path)


def test_derive_arch_includes_none() -> None:
    cell = torch.zeros(6, 5)
    cell[:, 0] = 1.0
    cell[3, 1] = 2.0
    assert derive_arch({"cell": cell}) == \
        "|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"


def test_derive_arch_can_exclude_none() -> None:
    # none strongest on every edge; the runner-up differs per edge
    cell = torch.zeros(6, 5)
    cell[:, 0] = 3.0
    for edge, op in enumerate((3, 3, 2, 1, 3, 4)):
        cell[edge, op] = 1.0
    assert derive_arch({"cell": cell}) == \
        "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    assert derive_arch({"cell": cell}, exclude=("none",)) == \
        ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+"
         "|skip_connect~0|nor_conv_3x3~1|avg_pool_3x3~2|")
    assert derive_arch({"cell": cell}, exclude="none") == \
        derive_arch({"cell": cell}, exclude=("none",))
    # excluding ops that are not the argmax changes nothing
    assert derive_arch({"cell": cell}, exclude=("avg_pool_3x3",)) == derive_arch({"cell": cell})


def test_derive_arch_exclude_errors() -> None:
    cell = torch.zeros(6, 5)
    with pytest.raises(InputError, match="unknown NB201 op.*zero"):
        derive_arch({"cell": cell}, exclude=("zero",))
    with pytest.raises(InputError, match="every NB201 op excluded"):
        derive_arch({"cell": cell}, exclude=("none", "skip_connect", "nor_conv_1x1",
                                             "nor_conv_3x3", "avg_pool_3x3"))


def _damaged_table(shared_data: Path, tmp_path: Path, edit) -> Path:  # type: ignore[no-untyped-def]
    lines = (shared_data / "nasbench201" / "nats_bench.csv").read_text().splitlines()
    edit(lines)
    out = tmp_path / "nats_bench.csv"
    out.write_text("\n".join(lines) + "\n")
    return out


def test_load_refuses_damaged_tables(shared_data: Path, tmp_path: Path) -> None:
    from warmnas.errors import CorruptDatabaseError

    def nan_accuracy(lines: list[str]) -> None:
        lines[5] = "nan" + lines[5][lines[5].index(","):]

    def bad_arch(lines: list[str]) -> None:
        lines[7] = lines[7].replace("~0|+|", "~0|+x|", 1)

    path = _damaged_table(shared_data, tmp_path, nan_accuracy)
    with pytest.raises(CorruptDatabaseError, match=r"nats_bench.csv row 5 .*NaN or inf accuracy"):
        NB201Table.load(path)
    path = _damaged_table(shared_data, tmp_path, bad_arch)
    with pytest.raises(CorruptDatabaseError, match=r"nats_bench.csv row 7 has an invalid arch"):
        NB201Table.load(path)
    path.write_bytes(b"\x00\xff\xfe not a csv")
    with pytest.raises(CorruptDatabaseError, match=r"nats_bench.csv is not a UTF-8 CSV file"):
        NB201Table.load(path)


def test_load_default_folder(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WARMNAS_SHARED_DATA", str(shared_data))
    assert len(NB201Table.load(None)) == 15625
    assert len(NB201Table.load()) == 15625


@pytest.mark.parametrize("bad", [[0, 1, 2, 3, 4, 1.5], [0, 1, 2, 3, 4, -1], ["0"] * 6])
def test_op_indices_must_be_ints_in_range(bad: list) -> None:
    with pytest.raises(InputError, match=r"op indices must be 6 ints in 0..4"):
        op_indices_to_arch(bad)
