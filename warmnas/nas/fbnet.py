"""The FBNet macro search space for 32x32 images, as HW-NAS-Bench defines it.

A network is a stem (3x3 conv 3 -> 16, stride 1, BN, ReLU), 22 searchable layers in 7 stages,
a head (1x1 conv 352 -> 1504, BN, ReLU), global average pooling and a linear classifier
(Wu et al., "FBNet", CVPR 2019; Li et al., "HW-NAS-Bench", ICLR 2021, whose CIFAR setting uses
stride 1 in the stem and in the second stage):

=====  ========  ======  ======  ===========
stage  channels  layers  stride  input size
=====  ========  ======  ======  ===========
1      16        1       1       32
2      24        4       1       32
3      32        4       2       32 -> 16
4      64        4       2       16 -> 8
5      112       4       1       8
6      184       4       2       8 -> 4
7      352       1       1       4
=====  ========  ======  ======  ===========

The first layer of a stage changes the channels and takes the stride. Each layer chooses one of
9 blocks (``FBNET_PRIMITIVES``): ``kK_eE`` is an inverted residual with a ``K x K`` depthwise
conv and expansion ``E``; ``_g2`` uses 2 groups in its 1x1 convs with a channel shuffle;
``skip`` is the identity (a 1x1 conv where the layer changes channels or stride). These are
exactly the blocks the HW-NAS-Bench look-up tables price
(:func:`warmnas.hardware.fbnet_lut_model`; the tests check every key).

Architectures are :class:`FBNetArch` (22 op names; a tuple, so latency models take it
directly). The alphas are ``{"layers": (22, 9)}`` logits. :class:`FBNetSupernet` is the
weight-sharing network for :class:`~warmnas.nas.search.DARTSSearch` (``space="fbnet"``);
:class:`FBNetNetwork` the derived one.

Width: ``C`` is the stem width; every layer's channels are scaled by ``C / 16`` (rounded to
an even count so the 2-group blocks stay valid). ``C=16`` is the network the tables price; a
smaller ``C`` is a proxy for searching on a CPU. Latency is always priced for the full-width
network at 32x32 (the table's), whatever ``C`` and image size the search uses.

Example:
    >>> from warmnas.nas.fbnet import FBNetArch, FBNetNetwork
    >>> arch = FBNetArch(["k3_e6"] * 22)
    >>> net = FBNetNetwork(arch, C=4, num_classes=10)    # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import torch
from torch import nn

from warmnas._random import RandomState, check_random_state
from warmnas.errors import InputError, InputTypeError
from warmnas.hardware.base import FBNET_LAYERS, FBNET_PRIMITIVES
from warmnas.nas.spaces import get_space
from warmnas.nas.supernet import Supernet, _path_sum

__all__ = [
    "FBNET_PRIMITIVES",
    "FBNET_LAYERS",
    "FBNET_STAGE_CHANNELS",
    "FBNET_STAGE_DEPTHS",
    "FBNET_CIFAR_STRIDES",
    "FBNET_STEM_CHANNELS",
    "FBNET_HEAD_CHANNELS",
    "FBNET_SEARCH_SETTINGS",
    "FBNET_ARCH_FORMAT",
    "FBNetLayer",
    "FBNetArch",
    "fbnet_layout",
    "fbnet_width",
    "derive_fbnet",
    "random_fbnet_archs",
    "FBNetSupernet",
    "FBNetNetwork",
    "fbnet_latencies",
]

#: Output channels of the 7 stages (FBNet v1).
FBNET_STAGE_CHANNELS: tuple[int, ...] = (16, 24, 32, 64, 112, 184, 352)
#: Searchable layers per stage (22 in all).
FBNET_STAGE_DEPTHS: tuple[int, ...] = (1, 4, 4, 4, 4, 4, 1)
#: Stride of each stage's first layer for 32x32 inputs (HW-NAS-Bench's CIFAR setting).
FBNET_CIFAR_STRIDES: tuple[int, ...] = (1, 1, 2, 2, 1, 2, 1)
#: Stem and head widths (the head's 1x1 conv: 352 -> 1504 for CIFAR).
FBNET_STEM_CHANNELS = 16
FBNET_HEAD_CHANNELS = 1504
FBNET_ARCH_FORMAT = "warmnas.nas.fbnet_arch"

#: FBNet's search schedule (Wu et al. 2019, Sec. 4.1), for ``DARTSSearch("fbnet", **...)``:
#: soft Gumbel-softmax samples with temperature 5.0 decayed by 0.956 per epoch, SGD 0.1
#: (momentum 0.9, weight decay 1e-4, cosine) on the weights, Adam 0.01 (weight decay 5e-4) on
#: the alphas. (FBNet also trains only the weights for the first 10 of its 90 epochs:
#: ``warmup_epochs``; and it prices the latency on the Gumbel sample: add
#: ``latency_weights="sample"``, left out here because on the CPU proxy it steered the latency
#: about half as far as the default ``E[LAT]``, see docs/hardware.md.)
FBNET_SEARCH_SETTINGS: Mapping[str, Any] = MappingProxyType({
    "method": "gumbel", "tau_max": 5.0, "tau_decay": 0.956, "lr": 0.1, "momentum": 0.9,
    "weight_decay": 1e-4, "arch_lr": 0.01, "arch_betas": (0.9, 0.999),
    "arch_weight_decay": 5e-4,
})


@dataclass(frozen=True)
class FBNetLayer:
    """One searchable layer: input size ``H`` (= W), channels in and out, stride."""

    H: int
    C_in: int
    C_out: int
    stride: int


def _check_C(C: Any) -> int:
    if isinstance(C, bool) or not isinstance(C, (int, np.integer)) or C <= 0:
        raise InputError(f"C (the FBNet stem width; 16 = the full network the latency tables "
                         f"price) must be a positive int, got {C!r}")
    return int(C)


def fbnet_width(channels: int, C: int = FBNET_STEM_CHANNELS) -> int:
    """``channels`` of the full network scaled by ``C / 16``, rounded to an even count (>= 2)."""
    return max(2, 2 * int(channels * _check_C(C) / (2 * FBNET_STEM_CHANNELS) + 0.5))


def fbnet_layout(C: int = FBNET_STEM_CHANNELS, input_size: int = 32) -> tuple[FBNetLayer, ...]:
    """The 22 searchable layers: ``(H, C_in, C_out, stride)`` each.

    Args:
        C: stem width (16 = the network of the latency tables).
        input_size: image height = width (32 for the tables).

    Returns:
        22 :class:`FBNetLayer`. With the defaults these are the ``H, Cin, Cout, stride`` of the
        HW-NAS-Bench table keys (``ConvBlock_H32_W32_Cin16_Cout24_..._stride1``).
    """
    C = _check_C(C)
    if isinstance(input_size, bool) or not isinstance(input_size, int) or input_size <= 0:
        raise InputError(f"input_size must be a positive int, got {input_size!r}")
    out = []
    c_prev, H = fbnet_width(FBNET_STEM_CHANNELS, C), input_size
    for c, depth, stride in zip(FBNET_STAGE_CHANNELS, FBNET_STAGE_DEPTHS, FBNET_CIFAR_STRIDES):
        c = fbnet_width(c, C)
        for i in range(depth):
            s = stride if i == 0 else 1
            out.append(FBNetLayer(H, c_prev, c, s))
            H = (H - 1) // s + 1
            c_prev = c
    return tuple(out)


class FBNetArch(tuple[str, ...]):
    """An FBNet architecture: 22 op names of ``FBNET_PRIMITIVES``, one per layer.

    A tuple (hashable, immutable; latency models' ``predict`` takes it as it is). Build it from
    names or op indices (0..8); ``str(arch)`` joins the names with spaces, and
    :meth:`parse` reads that back.

    Raises:
        InputTypeError / InputError: not 22 ops, an unknown name or an index outside 0..8.
    """

    def __new__(cls, ops: Iterable[str | int]) -> FBNetArch:
        if isinstance(ops, (str, bytes)) or not isinstance(ops, Iterable):
            raise InputTypeError(f"an FBNet architecture must be {FBNET_LAYERS} op names or "
                                 f"indices, got {type(ops).__name__}")
        names = []
        for i, op in enumerate(ops):
            if isinstance(op, str):
                if op not in FBNET_PRIMITIVES:
                    raise InputError(f"unknown FBNet op {op!r} at layer {i}; expected one of "
                                     f"{FBNET_PRIMITIVES}")
                names.append(op)
            elif (isinstance(op, (int, np.integer)) and not isinstance(op, bool)
                  and 0 <= op < len(FBNET_PRIMITIVES)):
                names.append(FBNET_PRIMITIVES[int(op)])
            else:
                raise InputError(f"FBNet op at layer {i} must be a name of FBNET_PRIMITIVES or "
                                 f"an index in 0..{len(FBNET_PRIMITIVES) - 1}, got {op!r}")
        if len(names) != FBNET_LAYERS:
            raise InputError(f"an FBNet architecture has {FBNET_LAYERS} layers, got "
                             f"{len(names)} ops")
        return super().__new__(cls, names)

    @property
    def indices(self) -> tuple[int, ...]:
        """The op index of each layer (columns of the alphas)."""
        return tuple(FBNET_PRIMITIVES.index(op) for op in self)

    def __str__(self) -> str:
        return " ".join(self)

    def __repr__(self) -> str:
        return f"FBNetArch({list(self)!r})"

    @classmethod
    def parse(cls, text: str) -> FBNetArch:
        """Read ``str(arch)`` (names separated by spaces or commas) back."""
        if not isinstance(text, str):
            raise InputTypeError(f"text must be a str, got {type(text).__name__}")
        return cls(text.replace(",", " ").split())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``architecture_to_dict`` gives the same)."""
        return {"format": FBNET_ARCH_FORMAT, "version": 1, "space": "fbnet", "ops": list(self),
                "indices": list(self.indices)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FBNetArch:
        """Inverse of :meth:`to_dict` (``ops`` names are read; ``indices`` must agree)."""
        if not isinstance(data, Mapping) or "ops" not in data:
            raise InputError("an FBNet architecture dict needs the key 'ops' (22 op names)")
        arch = cls(data["ops"])
        if "indices" in data and list(data["indices"]) != list(arch.indices):
            raise InputError("the 'indices' of the FBNet architecture dict do not match its 'ops'")
        return arch


def derive_fbnet(alphas: Mapping[str, Any], exclude: Sequence[str] = ()) -> FBNetArch:
    """The FBNet architecture of alpha logits: the argmax op of each layer.

    Args:
        alphas: ``{"layers": (22, 9)}`` logits (tensor or array-like).
        exclude: op names never chosen (e.g. ``("skip",)``).

    Raises:
        InputError: wrong keys / shape, NaN or inf, unknown or all ops excluded.
    """
    layers = get_space("fbnet").validate_alphas(alphas)["layers"].double().clone()
    exclude = (exclude,) if isinstance(exclude, str) else tuple(exclude)
    unknown = [op for op in exclude if op not in FBNET_PRIMITIVES]
    if unknown:
        raise InputError(f"exclude={list(exclude)}: {unknown} are not FBNet ops; expected names "
                         f"of {FBNET_PRIMITIVES}")
    if len(set(exclude)) >= len(FBNET_PRIMITIVES):
        raise InputError("exclude leaves no FBNet op to choose")
    for op in exclude:
        layers[:, FBNET_PRIMITIVES.index(op)] = -float("inf")
    return FBNetArch(int(i) for i in layers.argmax(dim=1))


def random_fbnet_archs(n: int, random_state: RandomState = None) -> list[FBNetArch]:
    """``n`` architectures with each layer's op drawn uniformly (a baseline for searches)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise InputError(f"n must be a non-negative int, got {n!r}")
    rng = check_random_state(random_state)
    ops = rng.integers(0, len(FBNET_PRIMITIVES), size=(n, FBNET_LAYERS))
    return [FBNetArch(int(v) for v in row) for row in ops]


def _conv_norm(C_in: int, C_out: int, k: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(C_in, C_out, k, 1, k // 2, bias=False), nn.BatchNorm2d(C_out),
                         nn.ReLU(inplace=False))


class _FBNetBody(nn.Module):
    """Stem, head and classifier shared by the supernet and the derived network."""

    def _build_ends(self, C: int, num_classes: int, in_channels: int) -> tuple[FBNetLayer, ...]:
        for arg, value in (("num_classes", num_classes), ("in_channels", in_channels)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise InputError(f"{arg} must be a positive int, got {value!r}")
        self.C, self.num_classes = _check_C(C), num_classes
        layout = fbnet_layout(self.C)
        self.stem = _conv_norm(in_channels, fbnet_width(FBNET_STEM_CHANNELS, self.C), 3)
        head = fbnet_width(FBNET_HEAD_CHANNELS, self.C)
        self.head = _conv_norm(layout[-1].C_out, head, 1)
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(head, num_classes)
        return layout

    def _logits(self, h: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.global_pooling(self.head(h)).flatten(1))


class FBNetSupernet(Supernet, _FBNetBody):
    """The FBNet weight-sharing network: each of the 22 layers holds all 9 candidate blocks and
    outputs their mixture ``sum_o w[layer, o] * block_o(x)``.

    ``forward(x, weights=None, paths=None)`` takes ``{"layers": (22, 9)}`` op weights (softmax
    of the alphas by default; the search passes Gumbel-softmax or other samples) and, for path
    sampling, ``paths={"layers": (22, k)}``: only those blocks run. The alphas are kept
    apart from the weights (``arch_parameters`` / ``weight_parameters``).

    Args:
        C: stem width (16 = the full network; smaller = a CPU proxy with all channels scaled).
        num_classes, in_channels: data shape.
        init_alpha: initial logits ``{"layers": (22, 9)}`` (a warm start); small random
            logits otherwise.
        random_state: seed of the default alpha initialisation.
        impl: accepted for ``build_supernet``'s signature; the FBNet supernet has one
            implementation (its layers form a chain, there are no edge waves to batch).
    """

    def __init__(self, C: int = FBNET_STEM_CHANNELS, num_classes: int = 10, in_channels: int = 3,
                 init_alpha: Mapping[str, Any] | None = None, random_state: RandomState = None,
                 impl: str = "batched") -> None:
        super().__init__()
        if impl not in ("batched", "reference"):
            raise InputError(f"impl must be 'batched' or 'reference', got {impl!r}")
        self.space = get_space("fbnet")
        self.impl = impl
        self.layout = self._build_ends(C, num_classes, in_channels)
        self.cells = nn.ModuleList(
            nn.ModuleList(self.space.make_op(op, layer.C_in, layer.C_out, layer.stride)
                          for op in self.space.primitives)
            for layer in self.layout)
        self._init_alphas(init_alpha, random_state)

    def forward(self, x: torch.Tensor, weights: Mapping[str, torch.Tensor] | None = None,
                paths: Mapping[str, torch.Tensor] | None = None) -> torch.Tensor:
        """Logits ``(B, num_classes)`` for images ``(B, in_channels, H, W)``.

        ``paths``: ``{"layers": (22, k)}`` block indices: only those blocks of each layer run
        (path sampling, ``DARTSSearch(method="proxyless")``); the blocks after the first column
        run with their outputs detached (they count through their weight only, as the inactive
        path of ProxylessNAS' binary gates).
        """
        w = self._weights(weights)["layers"]
        h = self.stem(x)
        if paths is not None:
            for i, (blocks, path) in enumerate(zip(self.cells, paths["layers"].tolist())):
                h = _path_sum(blocks, h, w[i], path)  # type: ignore[arg-type]
            return self._logits(h)
        for i, blocks in enumerate(self.cells):
            mixed: torch.Tensor | None = None
            for o, block in enumerate(list[nn.Module](blocks)):  # type: ignore[call-overload]
                term = w[i, o] * block(h)
                mixed = term if mixed is None else mixed + term
            assert mixed is not None
            h = mixed
        return self._logits(h)

    def _shared_modules(self) -> list[nn.Module]:
        return [self.stem, self.head, self.classifier]


class FBNetNetwork(_FBNetBody):
    """The derived (discrete) FBNet network of ``arch``: a plain ``nn.Module``, trainable with
    :func:`warmnas.nas.train.train_network`.

    Args:
        arch: an :class:`FBNetArch` (or 22 op names / indices).
        C: stem width (16 = the network of the HW-NAS-Bench tables).
        num_classes, in_channels: data shape.
    """

    def __init__(self, arch: FBNetArch | Sequence[str | int], C: int = FBNET_STEM_CHANNELS,
                 num_classes: int = 10, in_channels: int = 3) -> None:
        super().__init__()
        self.arch = arch if isinstance(arch, FBNetArch) else FBNetArch(arch)
        layout = self._build_ends(C, num_classes, in_channels)
        space = get_space("fbnet")
        self.cells = nn.Sequential(*(space.make_op(op, layer.C_in, layer.C_out, layer.stride)
                                     for op, layer in zip(self.arch, layout)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, num_classes)`` for images ``(B, in_channels, H, W)``."""
        return self._logits(self.cells(self.stem(x)))


def fbnet_latencies(arch: FBNetArch | Sequence[str | int], data_dir: str | os.PathLike[str],
                    devices: Sequence[str] | None = None, *, num_classes: int = 100
                    ) -> dict[str, float]:
    """Latency (ms) of ``arch`` on each HW-NAS-Bench device, from its per-block table.

    Args:
        arch: an FBNet architecture.
        data_dir: the shared data folder.
        devices: names of ``HWNASBENCH_LUT_DEVICES`` (default: all 5).
        num_classes: the classifier entry of the table (10 or 100; HELP's tables use 100).

    Returns:
        ``{device: ms}`` (stem + 22 blocks + head, as HW-NAS-Bench sums them).

    Raises:
        UnknownIdError: an unknown device. MissingDataError / CorruptDatabaseError: no table.
    """
    from warmnas.hardware.tables import HWNASBENCH_LUT_DEVICES, fbnet_lut_model

    arch = arch if isinstance(arch, FBNetArch) else FBNetArch(arch)
    names = list(HWNASBENCH_LUT_DEVICES if devices is None else devices)
    return {d: fbnet_lut_model(data_dir, d, num_classes=num_classes).predict(arch) for d in names}
