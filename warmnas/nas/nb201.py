"""NAS-Bench-201 arch strings, their benchmark index, and table look-ups of their accuracy.

An NB201 cell has 4 nodes and 6 edges; its arch string lists the op on each edge grouped by the
destination node::

    |nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|
     (1<-0)          (2<-0)          (2<-1)          (3<-0)          (3<-1)          (3<-2)

which is the alpha row order of the ``"cell"`` key. All 5^6 = 15,625 strings have an index in
NAS-Bench-201 (``str_arch2idx.pt``); ``nats_bench.csv`` row ``i`` holds the 200-epoch test
accuracies of index ``i`` on CIFAR-10, CIFAR-100 and ImageNet16-120 (NATS-Bench values).

Example:
    >>> table = NB201Table.load(data_dir)              # doctest: +SKIP
    >>> table.lookup("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+"
    ...              "|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|")["cifar10"]   # doctest: +SKIP
    94.36
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from warmnas.errors import (
    CorruptDatabaseError,
    InputError,
    InputTypeError,
    MissingDataError,
    UnknownIdError,
)
from warmnas.nas.spaces import NB201_PRIMITIVES, get_space

__all__ = [
    "NB201_DATASETS",
    "parse_arch",
    "format_arch",
    "arch_to_op_indices",
    "op_indices_to_arch",
    "derive_arch",
    "alphas_from_arch",
    "load_str_arch2idx",
    "NB201Table",
]

#: Dataset keys of the look-ups, with their column in ``nats_bench.csv``.
NB201_DATASETS: Mapping[str, str] = {
    "cifar10": "CIFAR10TestAccuracy200Epochs",
    "cifar100": "CIFAR100TestAccuracy200Epochs",
    "imagenet16_120": "ImageNetTestAccuracy200Epochs",
}

_NODE_RE = re.compile(r"^\|(?:[a-z0-9_]+~\d+\|)+$")
# a well-formed cell (fast path of NB201Table.load; anything else goes through parse_arch)
_CELL_RE = re.compile(r"^\|{o}~0\|\+\|{o}~0\|{o}~1\|\+\|{o}~0\|{o}~1\|{o}~2\|$".format(
    o=r"(?:none|skip_connect|nor_conv_1x1|nor_conv_3x3|avg_pool_3x3)"))


def parse_arch(arch: str) -> tuple[str, ...]:
    """Split an NB201 arch string into its 6 op names, in alpha row order.

    Raises:
        InputTypeError: not a str.
        InputError: malformed string, unknown op, wrong source node.
    """
    if not isinstance(arch, str):
        raise InputTypeError(f"arch must be an NB201 arch string, got {type(arch).__name__}")
    nodes = arch.strip().split("+")
    example = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|none~1|avg_pool_3x3~2|"
    if len(nodes) != 3 or not all(_NODE_RE.match(n) for n in nodes):
        raise InputError(f"malformed NB201 arch string {arch!r}; expected e.g. {example}")
    ops: list[str] = []
    for i, node in enumerate(nodes, start=1):
        items = node.strip("|").split("|")
        if len(items) != i:
            raise InputError(f"node {i} of {arch!r} must have {i} inputs, got {len(items)}")
        for j, item in enumerate(items):
            op, _, src = item.partition("~")
            if op not in NB201_PRIMITIVES:
                raise InputError(f"unknown NB201 op {op!r} in {arch!r}; expected one of "
                                 f"{NB201_PRIMITIVES}")
            if int(src) != j:
                raise InputError(f"input {j} of node {i} in {arch!r} must read '~{j}', got "
                                 f"'~{src}'")
            ops.append(op)
    return tuple(ops)


def format_arch(ops: Sequence[str]) -> str:
    """Join 6 op names (alpha row order) into an NB201 arch string.

    Raises:
        InputError: not 6 names, or an unknown op.
    """
    ops = list(ops)
    if len(ops) != 6:
        raise InputError(f"an NB201 cell has 6 edges, got {len(ops)} ops")
    for op in ops:
        if op not in NB201_PRIMITIVES:
            raise InputError(f"unknown NB201 op {op!r}; expected one of {NB201_PRIMITIVES}")
    nodes, k = [], 0
    for i in range(1, 4):
        nodes.append("|" + "|".join(f"{ops[k + j]}~{j}" for j in range(i)) + "|")
        k += i
    return "+".join(nodes)


def arch_to_op_indices(arch: str) -> tuple[int, ...]:
    """The column (``NB201_PRIMITIVES`` index) of each edge's op."""
    return tuple(NB201_PRIMITIVES.index(op) for op in parse_arch(arch))


def op_indices_to_arch(indices: Sequence[int]) -> str:
    """Inverse of :func:`arch_to_op_indices`.

    Raises:
        InputError: not 6 ints in ``0..4``.
    """
    indices = list(indices)
    n = len(NB201_PRIMITIVES)
    if len(indices) != 6 or not all(
            isinstance(i, (int, np.integer)) and not isinstance(i, bool) and 0 <= i < n
            for i in indices):
        raise InputError(f"op indices must be 6 ints in 0..{n - 1} (one column of "
                         f"{NB201_PRIMITIVES} per edge), got {indices}")
    return format_arch([NB201_PRIMITIVES[int(i)] for i in indices])


#: named rules for reading a cell off the alphas: the ``exclude`` of :func:`derive_arch`
#: (``--derive`` of ``warmnas nas search`` and ``bench/nas_gpu.py``)
DERIVE_RULES: dict[str, tuple[str, ...]] = {"argmax": (), "no-none": ("none",)}


def derive_arch(alphas: Mapping[str, Any], exclude: Sequence[str] = ()) -> str:
    """The arch string of the argmax op on each edge.

    Args:
        alphas: ``{"cell": (6, 5)}`` logits.
        exclude: ops never chosen. The default ``()`` keeps ``none`` in the argmax, as in
            NAS-Bench-201's own code; ``("none",)`` is the DARTS paper's rule (its genotypes
            never hold a zero op), useful when ``none``'s weight tracks the output scale of
            a mixed edge rather than its value (see docs/nas.md).

    Raises:
        InputError: an unknown op name in ``exclude``, or every op excluded.
    """
    cell = get_space("nb201").validate_alphas(alphas)["cell"]
    if isinstance(exclude, str):
        exclude = (exclude,)
    unknown = sorted(set(exclude) - set(NB201_PRIMITIVES))
    if unknown:
        raise InputError(f"exclude: unknown NB201 op(s) {unknown}; choose from "
                         f"{list(NB201_PRIMITIVES)}")
    keep = [i for i, op in enumerate(NB201_PRIMITIVES) if op not in exclude]
    if not keep:
        raise InputError("exclude: every NB201 op excluded; leave at least one")
    best = cell[:, keep].argmax(dim=-1).tolist()
    return op_indices_to_arch([keep[i] for i in best])


def alphas_from_arch(arch: str, confidence: float = 5.0) -> dict[str, Any]:
    """One-hot-ish logits (``confidence`` on the chosen op, 0 elsewhere) for an arch string.

    Useful to seed a search (``init_alpha``) from a known cell.
    """
    import torch

    cell = torch.zeros(6, len(NB201_PRIMITIVES))
    for e, o in enumerate(arch_to_op_indices(arch)):
        cell[e, o] = float(confidence)
    return {"cell": cell}


def _nb201_dir(data_dir: str | os.PathLike[str]) -> Path:
    path = Path(data_dir)
    if (path / "nasbench201").is_dir():
        path = path / "nasbench201"
    return path


def load_str_arch2idx(path: str | os.PathLike[str]) -> dict[str, int]:
    """Read NAS-Bench-201's ``str_arch2idx.pt`` (a plain dict) with ``torch.load(weights_only=True)``.

    Args:
        path: the file, or a folder holding it (or holding ``nasbench201/``).

    Raises:
        MissingDataError: the file is not there.
        CorruptDatabaseError: it is not a dict of str -> int.
    """
    import torch

    path = Path(path)
    if path.is_dir():
        path = _nb201_dir(path) / "str_arch2idx.pt"
    if not path.is_file():
        raise MissingDataError(f"str_arch2idx.pt not found at {path}; pass the nasbench201 folder")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several unrelated types for bad archives
        raise CorruptDatabaseError(f"{path} is not a readable torch file: {exc}") from exc
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, int) for k, v in data.items()
    ):
        raise CorruptDatabaseError(f"{path} does not hold a dict of arch string -> index")
    return data


@dataclass(frozen=True)
class NB201Table:
    """NAS-Bench-201 accuracies of all 15,625 cells (200-epoch test accuracy, percent).

    Attributes:
        archs: arch string of each index, shape ``(15625,)``.
        accuracies: ``{dataset key: (15625,) float64 array}``, keys as in ``NB201_DATASETS``.
    """

    archs: tuple[str, ...]
    accuracies: Mapping[str, np.ndarray]

    @classmethod
    def load(cls, data_dir: str | os.PathLike[str] | None = None) -> NB201Table:
        """Read ``nats_bench.csv`` from ``data_dir`` (the shared data folder or its
        ``nasbench201`` subfolder, or the CSV file itself; default
        :func:`~warmnas.nas.data.default_data_dir`).

        Raises:
            MissingDataError: no ``nats_bench.csv`` there.
            CorruptDatabaseError: not a UTF-8 CSV, missing columns, wrong row count, an invalid
                arch string, or a non-numeric / NaN / inf accuracy.
        """
        if data_dir is None:
            from warmnas.nas.data import default_data_dir

            data_dir = default_data_dir()
        path = Path(data_dir)
        if path.is_dir():
            path = _nb201_dir(path) / "nats_bench.csv"
        if not path.is_file():
            raise MissingDataError(
                f"nats_bench.csv not found at {path}; pass data_dir= the shared data folder (holding "
                "nasbench201/nats_bench.csv) or set WARMNAS_SHARED_DATA"
            )
        try:
            with open(path, newline="", encoding="utf-8") as fh:
                reader = csv.DictReader(fh)
                needed = ["ArchitectureString", *NB201_DATASETS.values()]
                missing = [c for c in needed if c not in (reader.fieldnames or [])]
                if missing:
                    raise CorruptDatabaseError(f"{path} lacks the columns {missing}")
                rows = list(reader)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise CorruptDatabaseError(f"{path} is not a UTF-8 CSV file ({exc}); restore "
                                       "nasbench201/nats_bench.csv from the shared data") from exc
        if len(rows) != 5 ** 6:
            raise CorruptDatabaseError(f"{path} must have 15625 rows, got {len(rows)}")
        archs = tuple(r["ArchitectureString"] or "" for r in rows)
        for i, arch in enumerate(archs):
            if not _CELL_RE.match(arch):
                try:
                    parse_arch(arch)
                except InputError as exc:
                    raise CorruptDatabaseError(f"{path} row {i + 1} has an invalid arch string: "
                                               f"{exc}") from exc
        try:
            accs = {key: np.array([float(r[col]) for r in rows])
                    for key, col in NB201_DATASETS.items()}
        except (TypeError, ValueError) as exc:
            raise CorruptDatabaseError(f"{path} has a non-numeric accuracy: {exc}") from exc
        for key, values in accs.items():
            bad = np.flatnonzero(~np.isfinite(values))
            if len(bad):
                raise CorruptDatabaseError(
                    f"{path} row {bad[0] + 1} (arch index {bad[0]}) has a NaN or inf accuracy "
                    f"in {NB201_DATASETS[key]}; restore the file from the shared data")
        return cls(archs=archs, accuracies=accs)

    def _index_map(self) -> dict[str, int]:
        cache = self.__dict__.get("_index_cache")
        if cache is None:
            cache = {a: i for i, a in enumerate(self.archs)}
            object.__setattr__(self, "_index_cache", cache)
        return cache

    def __len__(self) -> int:
        return len(self.archs)

    def index(self, arch: str) -> int:
        """The NAS-Bench-201 index of an arch string.

        Raises:
            InputError: malformed string.
            UnknownIdError: a valid string missing from the table (a truncated table).
        """
        canonical = format_arch(parse_arch(arch))
        idx = self._index_map().get(canonical)
        if idx is None:
            raise UnknownIdError(f"arch {arch!r} is not in the NAS-Bench-201 table")
        return idx

    def arch(self, index: int) -> str:
        """The arch string of an index in ``0..15624``.

        Raises:
            UnknownIdError: index out of range.
        """
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise InputTypeError(f"index must be an int, got {type(index).__name__}")
        if not 0 <= int(index) < len(self.archs):
            raise UnknownIdError(f"NB201 index must be in 0..{len(self.archs) - 1}, got {index}")
        return self.archs[int(index)]

    def lookup(self, arch: str | int) -> dict[str, Any]:
        """Index, arch string and test accuracies (percent) of a cell.

        Args:
            arch: an arch string or an index.

        Returns:
            ``{"index": int, "arch": str, "cifar10": float, "cifar100": float,
            "imagenet16_120": float}``.
        """
        if isinstance(arch, str):
            idx = self.index(arch)
        else:
            self.arch(arch)  # validates the index
            idx = int(arch)
        out: dict[str, Any] = {"index": idx, "arch": self.archs[idx]}
        for key, values in self.accuracies.items():
            out[key] = float(values[idx])
        return out

    def best(self, dataset: str = "cifar10") -> dict[str, Any]:
        """The look-up of the most accurate cell on ``dataset``."""
        if dataset not in self.accuracies:
            raise InputError(f"dataset must be one of {sorted(self.accuracies)}, got {dataset!r}")
        return self.lookup(int(np.argmax(self.accuracies[dataset])))

    def rank(self, arch: str | int, dataset: str = "cifar10") -> float:
        """Fraction of cells strictly better than ``arch`` on ``dataset`` (0 = the best)."""
        acc = self.lookup(arch)[dataset]
        return float(np.mean(self.accuracies[dataset] > acc))
