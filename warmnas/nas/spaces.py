"""Search spaces: the DARTS cell (normal + reduction), the NAS-Bench-201 cell, and the FBNet
macro space (22 layers, one block each; see :mod:`warmnas.nas.fbnet`).

Alphas everywhere in warmnas are ``dict[str, torch.Tensor]`` of LOGITS (softmax applied by the
consumer), with one row per edge and one column per primitive (in the order of the space's
``primitives`` tuple):

* DARTS: keys ``"normal"`` and ``"reduce"``, each ``(14, 8)``. Edge order: node 2 <- inputs 0, 1;
  node 3 <- 0, 1, 2; node 4 <- 0..3; node 5 <- 0..4 (as in the DARTS code). Nodes 0 and 1 are the
  outputs of the two previous cells; the cell outputs the concatenation of nodes 2..5.
* NB201: key ``"cell"``, ``(6, 5)``. Edge order as in the arch string
  ``|a~0|+|b~0|c~1|+|d~0|e~1|f~2|``: (1<-0), (2<-0), (2<-1), (3<-0), (3<-1), (3<-2).
* FBNet: key ``"layers"``, ``(22, 9)``: one row per searchable layer (a chain: layer ``i``
  reads layer ``i - 1``), columns in ``FBNET_PRIMITIVES`` order
  (``k3_e1, k3_e1_g2, k3_e3, k3_e6, k5_e1, k5_e1_g2, k5_e3, k5_e6, skip``).

Example:
    >>> space = get_space("nb201")
    >>> space.alpha_shapes()
    {'cell': (6, 5)}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import nn

from warmnas._random import RandomState, torch_generator
from warmnas.errors import InputError, InputTypeError
from warmnas.hardware.base import FBNET_LAYERS, FBNET_PRIMITIVES
from warmnas.nas.ops import make_op as _make_op

__all__ = [
    "DARTS_PRIMITIVES",
    "NB201_PRIMITIVES",
    "FBNET_PRIMITIVES",
    "SPACE_NAMES",
    "SearchSpace",
    "get_space",
    "darts_edges",
    "nb201_edges",
]

DARTS_PRIMITIVES: tuple[str, ...] = (
    "none",
    "max_pool_3x3",
    "avg_pool_3x3",
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
)

NB201_PRIMITIVES: tuple[str, ...] = (
    "none",
    "skip_connect",
    "nor_conv_1x1",
    "nor_conv_3x3",
    "avg_pool_3x3",
)

SPACE_NAMES: tuple[str, ...] = ("darts", "nb201", "fbnet")


def darts_edges(steps: int = 4) -> tuple[tuple[int, int], ...]:
    """``(dst, src)`` of each DARTS cell edge, in alpha row order (14 edges for 4 steps)."""
    return tuple((2 + i, j) for i in range(steps) for j in range(2 + i))


def nb201_edges(max_nodes: int = 4) -> tuple[tuple[int, int], ...]:
    """``(dst, src)`` of each NB201 cell edge, in alpha row order (6 edges for 4 nodes)."""
    return tuple((i, j) for i in range(1, max_nodes) for j in range(i))


@dataclass(frozen=True)
class SearchSpace:
    """A search space.

    Attributes:
        name: ``"darts"``, ``"nb201"`` or ``"fbnet"``.
        primitives: the candidate op names; alpha columns follow this order.
        cell_types: the alpha keys (``("normal", "reduce")``, ``("cell",)`` or ``("layers",)``).
        edges: ``(dst, src)`` per edge (FBNet: per layer, ``(i + 1, i)``); alpha rows follow
            this order.
    """

    name: str
    primitives: tuple[str, ...]
    cell_types: tuple[str, ...]
    edges: tuple[tuple[int, int], ...]

    @property
    def n_edges(self) -> int:
        """Edges per cell (14 for DARTS, 6 for NB201)."""
        return len(self.edges)

    @property
    def n_ops(self) -> int:
        """Candidate ops per edge (8 for DARTS, 5 for NB201)."""
        return len(self.primitives)

    def alpha_shapes(self) -> dict[str, tuple[int, int]]:
        """``{cell type: (n_edges, n_ops)}``, e.g. ``{"normal": (14, 8), "reduce": (14, 8)}``."""
        return {key: (self.n_edges, self.n_ops) for key in self.cell_types}

    def make_op(self, name: str, C_in: int, C_out: int, stride: int = 1, *,
                affine: bool = True, track_running_stats: bool = True) -> nn.Module:
        """Build the candidate op ``name`` (see :func:`warmnas.nas.ops.make_op`)."""
        return _make_op(self.name, name, C_in, C_out, stride, affine=affine,
                        track_running_stats=track_running_stats)

    def init_alphas(self, scale: float = 1e-3, random_state: RandomState = None,
                    device: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
        """Small random logits ``scale * N(0, 1)`` as in DARTS (float32).

        Args:
            scale: standard deviation of the logits.
            random_state: seed for the draw.
            device: device of the returned tensors.

        Returns:
            ``{cell type: (n_edges, n_ops) tensor}``.
        """
        gen = torch_generator(random_state)
        return {key: (scale * torch.randn(shape, generator=gen)).to(device)
                for key, shape in self.alpha_shapes().items()}

    def validate_alphas(self, alphas: Mapping[str, object], name: str = "alphas"
                        ) -> dict[str, torch.Tensor]:
        """Check keys, shapes and finiteness of an alpha dict; return float32 CPU-or-same tensors.

        Accepts tensors or array-likes (numpy arrays, nested lists).

        Raises:
            InputTypeError: not a mapping.
            InputError: missing/extra keys, wrong shape, NaN or inf.
        """
        if not isinstance(alphas, Mapping):
            raise InputTypeError(
                f"{name} must be a dict {{cell type: (n_edges, n_ops) logits}}, got "
                f"{type(alphas).__name__}"
            )
        expected = self.alpha_shapes()
        if set(alphas) != set(expected):
            raise InputError(
                f"{name} for space {self.name!r} must have keys {sorted(expected)}, got "
                f"{sorted(map(str, alphas))}"
            )
        out: dict[str, torch.Tensor] = {}
        for key, shape in expected.items():
            value = alphas[key]
            try:
                tensor = (value.detach() if isinstance(value, torch.Tensor)
                          else torch.as_tensor(value))
            except (TypeError, ValueError) as exc:
                raise InputTypeError(
                    f"{name}[{key!r}] must be numeric, got {type(value).__name__}: {exc}"
                ) from exc
            if not (tensor.is_floating_point() or tensor.dtype in (torch.int32, torch.int64)):
                raise InputTypeError(f"{name}[{key!r}] must be numeric, got dtype {tensor.dtype}")
            if tuple(tensor.shape) != shape:
                raise InputError(
                    f"{name}[{key!r}] must have shape {shape} for space {self.name!r} "
                    f"({shape[0]} edges x {shape[1]} ops), got {tuple(tensor.shape)}"
                )
            tensor = tensor.to(torch.float32)
            if not bool(torch.isfinite(tensor).all()):
                raise InputError(f"{name}[{key!r}] contains NaN or inf; pass finite logits")
            out[key] = tensor
        return out


_SPACES = {
    "darts": SearchSpace("darts", DARTS_PRIMITIVES, ("normal", "reduce"), darts_edges(4)),
    "nb201": SearchSpace("nb201", NB201_PRIMITIVES, ("cell",), nb201_edges(4)),
    "fbnet": SearchSpace("fbnet", FBNET_PRIMITIVES, ("layers",),
                         tuple((i + 1, i) for i in range(FBNET_LAYERS))),
}


def get_space(name: str | SearchSpace) -> SearchSpace:
    """Return the search space ``"darts"``, ``"nb201"`` or ``"fbnet"`` (a space object is
    returned as is).

    Raises:
        InputError: unknown name.
    """
    if isinstance(name, SearchSpace):
        return name
    if not isinstance(name, str):
        raise InputTypeError(f"space must be a str in {SPACE_NAMES}, got {type(name).__name__}")
    key = name.lower().replace("-", "").replace("_", "")
    if key in ("nasbench201", "nats", "natsbench"):
        key = "nb201"
    if key not in _SPACES:
        raise InputError(f"unknown search space {name!r}; expected one of {SPACE_NAMES}")
    return _SPACES[key]
