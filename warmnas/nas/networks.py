"""Derived (discrete) networks: DARTS' NetworkCIFAR and NAS-Bench-201's cell network.

:func:`build_network` turns an architecture into an ``nn.Module`` that maps images
``(batch, in_channels, H, W)`` to logits ``(batch, num_classes)``:

* a DARTS :class:`~warmnas.nas.genotype.Genotype` -> :class:`DartsNetwork` (NetworkCIFAR: a 3x3
  stem with ``3 * C`` channels, ``layers`` cells with reduction cells at 1/3 and 2/3 of the depth,
  optional auxiliary head, drop path in training). DARTS' evaluation setting is ``C=36,
  layers=20`` (3.3M parameters for DARTS_V2).
* an NB201 arch string -> :class:`NB201Network` (a 3x3 stem with ``C`` channels, ``N`` cells per
  stage, ResNet reduction blocks between the 3 stages; NAS-Bench-201 uses ``C=16, N=5``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from warmnas.errors import InputError, InputTypeError
from warmnas.nas.genotype import Genotype, architecture_from_dict
from warmnas.nas.nb201 import parse_arch
from warmnas.nas.ops import (
    FactorizedReduce,
    Identity,
    ReLUConvBN,
    ResNetBasicBlock,
    check_darts_image_size,
    darts_reduction_cells,
    make_op,
)

__all__ = ["build_network", "DartsNetwork", "NB201Network", "count_parameters", "drop_path"]


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters (auxiliary head excluded, as DARTS reports)."""
    return sum(p.numel() for name, p in model.named_parameters()
               if p.requires_grad and "auxiliary" not in name)


def drop_path(x: torch.Tensor, drop_prob: float, generator: torch.Generator | None = None
              ) -> torch.Tensor:
    """Zero whole samples with probability ``drop_prob`` and rescale the rest (DARTS' drop path)."""
    if drop_prob <= 0.0:
        return x
    keep = 1.0 - drop_prob
    mask = torch.empty((x.shape[0], 1, 1, 1), device=x.device, dtype=x.dtype)
    mask.bernoulli_(keep, generator=generator)
    return x / keep * mask


class _DartsCell(nn.Module):
    def __init__(self, genotype: Genotype, C_pp: int, C_p: int, C: int, reduction: bool,
                 reduction_prev: bool) -> None:
        super().__init__()
        self.reduction = reduction
        self.preprocess0: nn.Module = (FactorizedReduce(C_pp, C) if reduction_prev
                                       else ReLUConvBN(C_pp, C, 1, 1, 0))
        self.preprocess1 = ReLUConvBN(C_p, C, 1, 1, 0)
        gene = genotype.reduce if reduction else genotype.normal
        self.concat = genotype.reduce_concat if reduction else genotype.normal_concat
        self.indices = tuple(src for _, src in gene)
        self.steps = len(gene) // 2
        self.multiplier = len(self.concat)
        self._ops = nn.ModuleList(
            make_op("darts", name, C, C, 2 if reduction and src < 2 else 1)
            for name, src in gene
        )

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, drop_prob: float = 0.0,
                generator: torch.Generator | None = None) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for i in range(self.steps):
            hs = []
            for k in (2 * i, 2 * i + 1):
                op = self._ops[k]
                h = op(states[self.indices[k]])
                if self.training and drop_prob > 0.0 and not isinstance(op, Identity):
                    h = drop_path(h, drop_prob, generator)
                hs.append(h)
            states.append(hs[0] + hs[1])
        return torch.cat([states[i] for i in self.concat], dim=1)


class _AuxiliaryHeadCIFAR(nn.Module):
    """DARTS' auxiliary classifier on the 8x8 feature map after the second reduction."""

    def __init__(self, C: int, num_classes: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.AvgPool2d(5, stride=3, padding=0, count_include_pad=False),
            nn.Conv2d(C, 128, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=False),
            nn.Conv2d(128, 768, 2, bias=False),
            nn.BatchNorm2d(768),
            nn.ReLU(inplace=False),
        )
        self.classifier = nn.Linear(768, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        return self.classifier(x.flatten(1))


class DartsNetwork(nn.Module):
    """DARTS' NetworkCIFAR built from a :class:`Genotype`.

    ``forward(x)`` returns logits ``(B, num_classes)``; :meth:`forward_with_aux` also returns the
    auxiliary logits (training only) and applies drop path.
    """

    def __init__(self, genotype: Genotype, C: int = 36, layers: int = 20, num_classes: int = 10,
                 auxiliary: bool = False, in_channels: int = 3, stem_multiplier: int = 3) -> None:
        super().__init__()
        self.genotype = genotype
        self.auxiliary = auxiliary
        C_curr = stem_multiplier * C
        self.stem = nn.Sequential(nn.Conv2d(in_channels, C_curr, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(C_curr))
        C_pp, C_p, C_curr = C_curr, C_curr, C
        self.cells = nn.ModuleList()
        reduction_prev = False
        C_aux = None
        self.aux_index = 2 * layers // 3
        self.layers = layers
        reductions = darts_reduction_cells(layers)
        for i in range(layers):
            reduction = i in reductions
            if reduction:
                C_curr *= 2
            cell = _DartsCell(genotype, C_pp, C_p, C_curr, reduction, reduction_prev)
            reduction_prev = reduction
            self.cells.append(cell)
            C_pp, C_p = C_p, cell.multiplier * C_curr
            if i == self.aux_index:
                C_aux = C_p
        self.auxiliary_head = (_AuxiliaryHeadCIFAR(C_aux, num_classes)
                               if auxiliary and C_aux is not None else None)
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(C_p, num_classes)

    def forward_with_aux(self, x: torch.Tensor, drop_path_prob: float = 0.0,
                         generator: torch.Generator | None = None
                         ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits and auxiliary logits (``None`` in eval mode or without the head).

        Raises:
            InputError: an image size the reduction cells cannot halve
                (:func:`~warmnas.nas.ops.check_darts_image_size`).
        """
        check_darts_image_size(x, self.layers)
        aux = None
        s0 = s1 = self.stem(x)
        for i, cell in enumerate(self.cells):
            s0, s1 = s1, cell(s0, s1, drop_path_prob, generator)
            if i == self.aux_index and self.auxiliary_head is not None and self.training:
                aux = self.auxiliary_head(s1)
        out = self.global_pooling(s1).flatten(1)
        return self.classifier(out), aux

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_with_aux(x)[0]


class _NB201Cell(nn.Module):
    def __init__(self, ops: tuple[str, ...], C_in: int, C_out: int) -> None:
        super().__init__()
        self.edges = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
        self.layers = nn.ModuleList(
            make_op("nb201", op, C_in if src == 0 else C_out, C_out, 1)
            for op, (_, src) in zip(ops, self.edges)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for i in range(1, 4):
            total = None
            for k, (dst, src) in enumerate(self.edges):
                if dst == i:
                    h = self.layers[k](nodes[src])
                    total = h if total is None else total + h
            nodes.append(total)  # type: ignore[arg-type]
        return nodes[-1]


class NB201Network(nn.Module):
    """The NAS-Bench-201 network for one cell: 3 stages of ``N`` cells, ResNet reductions."""

    def __init__(self, arch: str, C: int = 16, N: int = 5, num_classes: int = 10,
                 in_channels: int = 3) -> None:
        super().__init__()
        self.arch = arch
        ops = parse_arch(arch)
        self.stem = nn.Sequential(nn.Conv2d(in_channels, C, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(C))
        channels = [C] * N + [2 * C] + [2 * C] * N + [4 * C] + [4 * C] * N
        reductions = [False] * N + [True] + [False] * N + [True] + [False] * N
        self.cells = nn.ModuleList()
        C_prev = C
        for C_curr, reduction in zip(channels, reductions):
            cell: nn.Module = (ResNetBasicBlock(C_prev, C_curr, 2) if reduction
                               else _NB201Cell(ops, C_prev, C_curr))
            self.cells.append(cell)
            C_prev = C_curr
        self.lastact = nn.Sequential(nn.BatchNorm2d(C_prev), nn.ReLU(inplace=False))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(C_prev, num_classes)

    def forward_with_aux(self, x: torch.Tensor, drop_path_prob: float = 0.0,
                         generator: torch.Generator | None = None
                         ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Same signature as :meth:`DartsNetwork.forward_with_aux` (no head, no drop path)."""
        return self.forward(x), None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.stem(x)
        for cell in self.cells:
            h = cell(h)
        h = self.global_pooling(self.lastact(h)).flatten(1)
        return self.classifier(h)


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InputError(f"{name} must be a positive int, got {value!r}")
    return value


def build_network(arch: Genotype | str | Mapping[str, Any] | Sequence[Any],
                  space: str | None = None, *,
                  C: int | None = None, layers: int | None = None, num_classes: int = 10,
                  auxiliary: bool = False, in_channels: int = 3) -> nn.Module:
    """Build the discrete network of an architecture.

    Args:
        arch: a DARTS :class:`Genotype`, an NB201 arch string, an
            :class:`~warmnas.nas.fbnet.FBNetArch` (or, with ``space="fbnet"``, 22 op names or
            indices), or a dict from :func:`~warmnas.nas.genotype.architecture_to_dict`.
        space: ``"darts"``, ``"nb201"`` or ``"fbnet"``; inferred from ``arch`` when ``None``.
        C: initial channels (default 36 for DARTS, 16 for NB201 and FBNet, where it is the stem
            width and every layer is scaled by ``C / 16``).
        layers: DARTS: number of cells (default 20); NB201: cells per stage ``N`` (default 5);
            FBNet: not accepted (22 fixed layers).
        num_classes: output classes.
        auxiliary: DARTS only: add the auxiliary head (returned by ``forward_with_aux``).
        in_channels: image channels.

    Returns:
        A :class:`DartsNetwork`, :class:`NB201Network` or
        :class:`~warmnas.nas.fbnet.FBNetNetwork`; ``model(x)`` gives ``(B, num_classes)``
        logits for ``x`` of shape ``(B, in_channels, H, W)`` (H, W divisible by 4).

    Raises:
        InputError / InputTypeError: an invalid architecture, a space that does not match it, or
            non-positive sizes.
    """
    if isinstance(arch, Mapping):
        arch = architecture_from_dict(arch)
    from warmnas.nas.fbnet import FBNetArch, FBNetNetwork

    if space is not None and not isinstance(arch, (Genotype, str, FBNetArch)):
        from warmnas.nas.spaces import get_space

        if get_space(space).name == "fbnet":  # 22 op names or indices
            arch = FBNetArch(arch)
    if isinstance(arch, FBNetArch):
        if space is not None:
            from warmnas.nas.spaces import get_space

            if get_space(space).name != "fbnet":
                raise InputError(f"arch is an fbnet architecture but space={space!r} was given")
        if auxiliary or layers is not None:
            raise InputError("the FBNet network has 22 fixed layers and no auxiliary head; drop "
                             "layers= and auxiliary=")
        return FBNetNetwork(arch, C=_positive_int(16 if C is None else C, "C"),
                            num_classes=_positive_int(num_classes, "num_classes"),
                            in_channels=_positive_int(in_channels, "in_channels"))
    if isinstance(arch, Genotype):
        kind = "darts"
    elif isinstance(arch, str):
        parse_arch(arch)
        kind = "nb201"
    else:
        raise InputTypeError(
            f"arch must be a Genotype, an NB201 arch string or a genotype dict, got "
            f"{type(arch).__name__}"
        )
    if space is not None:
        from warmnas.nas.spaces import get_space

        if get_space(space).name != kind:
            raise InputError(f"arch is a {kind} architecture but space={space!r} was given")
    num_classes = _positive_int(num_classes, "num_classes")
    in_channels = _positive_int(in_channels, "in_channels")
    if kind == "darts":
        assert isinstance(arch, Genotype)
        return DartsNetwork(arch, C=_positive_int(36 if C is None else C, "C"),
                            layers=_positive_int(20 if layers is None else layers, "layers"),
                            num_classes=num_classes, auxiliary=auxiliary, in_channels=in_channels)
    if auxiliary:
        raise InputError("auxiliary heads exist only for DARTS networks")
    assert isinstance(arch, str)
    return NB201Network(arch, C=_positive_int(16 if C is None else C, "C"),
                        N=_positive_int(5 if layers is None else layers, "layers"),
                        num_classes=num_classes, in_channels=in_channels)
