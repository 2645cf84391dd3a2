"""Discrete architectures: the DARTS :class:`Genotype`, and deriving architectures from alphas.

A DARTS genotype lists, for each of the 4 intermediate nodes of a cell, the two chosen incoming
edges as ``(op name, source node)`` pairs (node 0 and 1 are the two previous cells' outputs), for
the normal and the reduction cell, plus the nodes concatenated into the cell output. It is frozen
(hashable, usable as a dict key), versioned, and round-trips through JSON without ``eval``.

NAS-Bench-201 architectures are arch strings (``|nor_conv_3x3~0|+|...|``); see
:mod:`warmnas.nas.nb201`. :func:`derive_architecture` returns the right kind for a space.

Example:
    >>> g = DARTS_V2
    >>> Genotype.from_json(g.to_json()) == g
    True
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from warmnas.errors import InputError, InputTypeError, SchemaVersionError
from warmnas.nas.spaces import DARTS_PRIMITIVES, get_space

if TYPE_CHECKING:
    from warmnas.nas.fbnet import FBNetArch

__all__ = [
    "GENOTYPE_FORMAT",
    "GENOTYPE_VERSION",
    "Genotype",
    "DARTS_V1",
    "DARTS_V2",
    "derive_genotype",
    "derive_architecture",
    "architecture_to_dict",
    "architecture_from_dict",
]

GENOTYPE_FORMAT = "warmnas.nas.genotype"
GENOTYPE_VERSION = 1

Gene = tuple[tuple[str, int], ...]


def _check_gene(gene: object, name: str) -> Gene:
    if isinstance(gene, (str, bytes)) or not isinstance(gene, Sequence):
        raise InputTypeError(
            f"{name} must be a sequence of (op name, source node) pairs, got {type(gene).__name__}"
        )
    if len(gene) == 0 or len(gene) % 2:
        raise InputError(
            f"{name} must hold two (op, source) pairs per intermediate node (an even, non-zero "
            f"count), got {len(gene)} pairs"
        )
    out = []
    for k, pair in enumerate(gene):
        if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise InputError(f"{name}[{k}] must be an (op name, source node) pair, got {pair!r}")
        op, src = pair
        if op not in DARTS_PRIMITIVES or op == "none":
            raise InputError(
                f"{name}[{k}] has op {op!r}; expected one of {DARTS_PRIMITIVES[1:]}"
            )
        if isinstance(src, bool) or not isinstance(src, int):
            raise InputError(f"{name}[{k}] source must be an int node index, got {src!r}")
        node = 2 + k // 2
        if not 0 <= src < node:
            raise InputError(
                f"{name}[{k}] feeds node {node}, so its source must be in 0..{node - 1}, got {src}"
            )
        out.append((str(op), int(src)))
    return tuple(out)


def _check_concat(concat: object, n_nodes: int, name: str) -> tuple[int, ...]:
    if isinstance(concat, (str, bytes)) or not isinstance(concat, (Sequence, range)):
        raise InputTypeError(f"{name} must be a sequence of node indices, got {concat!r}")
    values = tuple(concat)
    if not values or any(isinstance(v, bool) or not isinstance(v, int) for v in values):
        raise InputError(f"{name} must be a non-empty sequence of int node indices, got {values}")
    if any(not 2 <= v < n_nodes for v in values) or len(set(values)) != len(values):
        raise InputError(
            f"{name} must list distinct intermediate nodes in 2..{n_nodes - 1}, got {values}"
        )
    return tuple(int(v) for v in values)


@dataclass(frozen=True)
class Genotype:
    """A DARTS cell architecture (normal and reduction cell).

    Attributes:
        normal: ``((op, src), ...)``, two pairs per intermediate node (8 for 4 nodes).
        normal_concat: nodes concatenated into the normal cell's output (``(2, 3, 4, 5)``).
        reduce: as ``normal`` for the reduction cell.
        reduce_concat: as ``normal_concat`` for the reduction cell.
        version: format version (``GENOTYPE_VERSION``).

    Raises:
        InputError / InputTypeError: on construction, for unknown ops, bad source nodes, or a
            concat list outside the intermediate nodes.
    """

    normal: Gene
    normal_concat: tuple[int, ...]
    reduce: Gene
    reduce_concat: tuple[int, ...]
    version: int = GENOTYPE_VERSION

    def __post_init__(self) -> None:
        normal = _check_gene(self.normal, "normal")
        reduce = _check_gene(self.reduce, "reduce")
        if len(normal) != len(reduce):
            raise InputError(
                f"normal and reduce must have the same number of nodes, got {len(normal) // 2} "
                f"and {len(reduce) // 2}"
            )
        n_nodes = 2 + len(normal) // 2
        object.__setattr__(self, "normal", normal)
        object.__setattr__(self, "reduce", reduce)
        object.__setattr__(self, "normal_concat",
                           _check_concat(self.normal_concat, n_nodes, "normal_concat"))
        object.__setattr__(self, "reduce_concat",
                           _check_concat(self.reduce_concat, n_nodes, "reduce_concat"))
        if self.version != GENOTYPE_VERSION:
            raise SchemaVersionError(
                f"Genotype version {self.version} is not supported (this release reads version "
                f"{GENOTYPE_VERSION}); upgrade warmnas"
            )

    @property
    def space(self) -> str:
        """Always ``"darts"``."""
        return "darts"

    @property
    def steps(self) -> int:
        """Intermediate nodes per cell (4 in DARTS)."""
        return len(self.normal) // 2

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (lists, ints and strs only)."""
        return {
            "format": GENOTYPE_FORMAT,
            "version": self.version,
            "space": "darts",
            "normal": [[op, src] for op, src in self.normal],
            "normal_concat": list(self.normal_concat),
            "reduce": [[op, src] for op, src in self.reduce],
            "reduce_concat": list(self.reduce_concat),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Genotype:
        """Inverse of :meth:`to_dict`.

        Raises:
            InputError: missing keys, a wrong ``format`` or ``space``.
            SchemaVersionError: a ``version`` newer than this release reads.
        """
        if not isinstance(data, Mapping):
            raise InputTypeError(f"genotype data must be a dict, got {type(data).__name__}")
        if data.get("format", GENOTYPE_FORMAT) != GENOTYPE_FORMAT:
            raise InputError(
                f"not a warmnas genotype: format is {data.get('format')!r}, expected "
                f"{GENOTYPE_FORMAT!r}"
            )
        if data.get("space", "darts") != "darts":
            raise InputError(
                f"Genotype is for the DARTS space, got space {data.get('space')!r}; NB201 "
                "architectures are arch strings (warmnas.nas.nb201)"
            )
        version = data.get("version", GENOTYPE_VERSION)
        if not isinstance(version, int) or version > GENOTYPE_VERSION or version < 1:
            raise SchemaVersionError(
                f"genotype version {version!r} is not supported (this release reads versions "
                f"1..{GENOTYPE_VERSION}); upgrade warmnas"
            )
        missing = [k for k in ("normal", "normal_concat", "reduce", "reduce_concat")
                   if k not in data]
        if missing:
            raise InputError(f"genotype data lacks the keys {missing}")
        return cls(
            normal=tuple(tuple(p) for p in data["normal"]),  # type: ignore[arg-type]
            normal_concat=tuple(data["normal_concat"]),
            reduce=tuple(tuple(p) for p in data["reduce"]),  # type: ignore[arg-type]
            reduce_concat=tuple(data["reduce_concat"]),
        )

    def to_json(self, indent: int | None = None) -> str:
        """Serialise to a JSON string (see :meth:`from_json`)."""
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_json(cls, text: str | bytes) -> Genotype:
        """Parse the JSON written by :meth:`to_json` (``json.loads``, never ``eval``).

        Raises:
            InputError: not JSON, or not a genotype.
        """
        try:
            data = json.loads(text)
        except (TypeError, ValueError) as exc:
            raise InputError(f"genotype text is not valid JSON: {exc}") from exc
        return cls.from_dict(data)

    def __str__(self) -> str:
        return (f"Genotype(normal={list(self.normal)}, normal_concat={list(self.normal_concat)}, "
                f"reduce={list(self.reduce)}, reduce_concat={list(self.reduce_concat)})")


#: DARTS (first order) cell from Liu et al. (2019), as published in the DARTS code.
DARTS_V1 = Genotype(
    normal=(("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("skip_connect", 0), ("sep_conv_3x3", 1),
            ("skip_connect", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("skip_connect", 2)),
    normal_concat=(2, 3, 4, 5),
    reduce=(("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 0),
            ("max_pool_3x3", 0), ("skip_connect", 2), ("skip_connect", 2), ("avg_pool_3x3", 0)),
    reduce_concat=(2, 3, 4, 5),
)

#: DARTS (second order) cell from Liu et al. (2019): 2.76% CIFAR-10 error with 3.3M parameters.
DARTS_V2 = Genotype(
    normal=(("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_3x3", 1),
            ("sep_conv_3x3", 1), ("skip_connect", 0), ("skip_connect", 0), ("dil_conv_3x3", 2)),
    normal_concat=(2, 3, 4, 5),
    reduce=(("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 1),
            ("max_pool_3x3", 0), ("skip_connect", 2), ("skip_connect", 2), ("max_pool_3x3", 1)),
    reduce_concat=(2, 3, 4, 5),
)


def _darts_gene(weights: torch.Tensor, steps: int, k: int) -> Gene:
    none = DARTS_PRIMITIVES.index("none")
    gene: list[tuple[str, int]] = []
    start = 0
    for i in range(steps):
        n_in = 2 + i
        W = weights[start:start + n_in].tolist()
        start += n_in

        def strength(j: int, W: list[list[float]] = W) -> float:
            return max(w for o, w in enumerate(W[j]) if o != none)

        edges = sorted(range(n_in), key=lambda j: -strength(j))[:k]
        for j in edges:
            best = max((o for o in range(len(W[j])) if o != none), key=lambda o: (W[j][o], -o))
            gene.append((DARTS_PRIMITIVES[best], j))
    return tuple(gene)


def derive_genotype(alphas: Mapping[str, Any], k: int = 2) -> Genotype:
    """Derive a DARTS genotype from alpha logits, as in the DARTS code.

    For each intermediate node, the ``k`` incoming edges with the strongest non-``none`` op
    weight (softmax over all 8 ops) are kept, each with its strongest non-``none`` op.

    Args:
        alphas: ``{"normal": (14, 8), "reduce": (14, 8)}`` logits (tensors or arrays).
        k: edges kept per node (2 in DARTS; the genotype format requires 2).

    Returns:
        The :class:`Genotype` (concat ``(2, 3, 4, 5)``).

    Raises:
        InputError: wrong keys or shapes, non-finite values, ``k != 2``.
    """
    if k != 2:
        raise InputError(f"k must be 2 (two inputs per node, as in DARTS), got {k}")
    checked = get_space("darts").validate_alphas(alphas)
    steps = 4
    genes = {key: _darts_gene(torch.softmax(checked[key].double().cpu(), dim=-1), steps, k)
             for key in ("normal", "reduce")}
    concat = tuple(range(2, 2 + steps))
    return Genotype(normal=genes["normal"], normal_concat=concat, reduce=genes["reduce"],
                    reduce_concat=concat)


def derive_architecture(space: str, alphas: Mapping[str, Any],
                        exclude: Sequence[str] = ()) -> Genotype | str | FBNetArch:
    """Derive the discrete architecture of ``space`` from alpha logits.

    Args:
        space: ``"darts"``, ``"nb201"`` or ``"fbnet"``.
        alphas: the logits.
        exclude: NB201 ops never chosen (``("none",)``: the DARTS paper's rule); for the DARTS
            space only ``("none",)`` is accepted, which its genotypes already follow; FBNet:
            any op names (e.g. ``("skip",)``).

    Returns:
        A :class:`Genotype` for ``"darts"``; an NB201 arch string for ``"nb201"`` (argmax op per
        edge, ``none`` included unless excluded, as in the NAS-Bench-201 code); an
        :class:`~warmnas.nas.fbnet.FBNetArch` for ``"fbnet"`` (argmax op per layer).

    Raises:
        InputError: an ``exclude`` the space does not support.
    """
    name = get_space(space).name
    exclude = (exclude,) if isinstance(exclude, str) else tuple(exclude)
    if name == "darts":
        if set(exclude) - {"none"}:
            raise InputError(f"exclude={list(exclude)}: the DARTS space only takes ('none',), "
                             "which its genotypes already follow; pass () or ('none',)")
        return derive_genotype(alphas)
    if name == "fbnet":
        from warmnas.nas.fbnet import derive_fbnet

        return derive_fbnet(alphas, exclude=exclude)
    from warmnas.nas.nb201 import derive_arch

    return derive_arch(alphas, exclude=exclude)


def architecture_to_dict(arch: Genotype | str | FBNetArch) -> dict[str, Any]:
    """A JSON-ready dict for a DARTS genotype, an NB201 arch string or an FBNet architecture
    (for meta-database records).

    Raises:
        InputError: an invalid NB201 arch string.
    """
    if isinstance(arch, Genotype):
        return arch.to_dict()
    from warmnas.nas.fbnet import FBNetArch

    if isinstance(arch, FBNetArch):
        return arch.to_dict()
    if isinstance(arch, str):
        from warmnas.nas.nb201 import parse_arch

        parse_arch(arch)  # validates
        return {"format": GENOTYPE_FORMAT, "version": GENOTYPE_VERSION, "space": "nb201",
                "arch": arch}
    raise InputTypeError(
        f"arch must be a Genotype, an NB201 arch string or an FBNetArch, got "
        f"{type(arch).__name__}"
    )


def architecture_from_dict(data: Mapping[str, Any]) -> Genotype | str | FBNetArch:
    """Inverse of :func:`architecture_to_dict`."""
    if not isinstance(data, Mapping):
        raise InputTypeError(f"architecture data must be a dict, got {type(data).__name__}")
    if data.get("space") == "fbnet":
        from warmnas.nas.fbnet import FBNetArch

        return FBNetArch.from_dict(data)
    if data.get("space") == "nb201":
        from warmnas.nas.nb201 import parse_arch

        arch = data.get("arch")
        if not isinstance(arch, str):
            raise InputError("NB201 architecture data needs an 'arch' string")
        parse_arch(arch)
        return arch
    return Genotype.from_dict(data)
