"""Candidate operations of the DARTS and NAS-Bench-201 cell spaces and of the FBNet macro space,
and their registry.

Each operation maps a tensor of shape ``(batch, C_in, H, W)`` to ``(batch, C_out, H / stride,
W / stride)``. The definitions follow the DARTS code (Liu et al., ICLR 2019) for the DARTS space and
the NAS-Bench-201 code (Dong & Yang, ICLR 2020) for the NB201 space, so derived networks have the
same parameter counts and FLOPs as in those papers. The FBNet blocks (:class:`FBNetBlock`,
:class:`FBNetSkip`) follow HW-NAS-Bench's FBNet model (Li et al., ICLR 2021), whose per-block
latency tables price them (:func:`warmnas.hardware.fbnet_lut_model`).

The registry is a read-only mapping ``space name -> op name -> factory``; a factory is called as
``factory(C_in, C_out, stride, affine, track_running_stats)``. Use :func:`make_op` (or
``get_space(name).make_op``) rather than the mapping itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

import torch
from torch import nn

from warmnas.errors import InputError

__all__ = [
    "OPS",
    "OpFactory",
    "ReLUConvBN",
    "SepConv",
    "DilConv",
    "FactorizedReduce",
    "darts_reduction_cells",
    "check_darts_image_size",
    "Pooling",
    "Zero",
    "Identity",
    "ResNetBasicBlock",
    "ChannelShuffle",
    "FBNetBlock",
    "FBNetSkip",
    "FBNET_BLOCKS",
    "make_op",
]

OpFactory = Callable[[int, int, int, bool, bool], nn.Module]


class ReLUConvBN(nn.Module):
    """ReLU -> Conv2d(k, stride, padding, dilation) -> BatchNorm."""

    def __init__(self, C_in: int, C_out: int, kernel_size: int, stride: int, padding: int,
                 dilation: int = 1, affine: bool = True, track_running_stats: bool = True) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_out, kernel_size, stride=stride, padding=padding,
                      dilation=dilation, bias=False),
            nn.BatchNorm2d(C_out, affine=affine, track_running_stats=track_running_stats),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class DilConv(nn.Module):
    """ReLU -> depthwise (dilated) conv -> pointwise conv -> BatchNorm (DARTS ``dil_conv``)."""

    def __init__(self, C_in: int, C_out: int, kernel_size: int, stride: int, padding: int,
                 dilation: int, affine: bool = True, track_running_stats: bool = True) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_in, kernel_size, stride=stride, padding=padding, dilation=dilation,
                      groups=C_in, bias=False),
            nn.Conv2d(C_in, C_out, 1, bias=False),
            nn.BatchNorm2d(C_out, affine=affine, track_running_stats=track_running_stats),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class SepConv(nn.Module):
    """Two stacked (ReLU -> depthwise conv -> pointwise conv -> BN) blocks (DARTS ``sep_conv``)."""

    def __init__(self, C_in: int, C_out: int, kernel_size: int, stride: int, padding: int,
                 affine: bool = True, track_running_stats: bool = True) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_in, kernel_size, stride=stride, padding=padding, groups=C_in,
                      bias=False),
            nn.Conv2d(C_in, C_in, 1, bias=False),
            nn.BatchNorm2d(C_in, affine=affine, track_running_stats=track_running_stats),
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_in, kernel_size, stride=1, padding=padding, groups=C_in, bias=False),
            nn.Conv2d(C_in, C_out, 1, bias=False),
            nn.BatchNorm2d(C_out, affine=affine, track_running_stats=track_running_stats),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class FactorizedReduce(nn.Module):
    """ReLU -> two offset 1x1 stride-2 convs, concatenated -> BN (halves H and W)."""

    def __init__(self, C_in: int, C_out: int, affine: bool = True,
                 track_running_stats: bool = True) -> None:
        super().__init__()
        if C_out % 2:
            raise InputError(f"FactorizedReduce needs an even C_out, got {C_out}")
        self.relu = nn.ReLU(inplace=False)
        self.conv_1 = nn.Conv2d(C_in, C_out // 2, 1, stride=2, bias=False)
        self.conv_2 = nn.Conv2d(C_in, C_out // 2, 1, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(C_out, affine=affine, track_running_stats=track_running_stats)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        out = torch.cat([self.conv_1(x), self.conv_2(x[:, :, 1:, 1:])], dim=1)
        return self.bn(out)


def darts_reduction_cells(layers: int) -> frozenset[int]:
    """Indices of the reduction cells of a DARTS network of ``layers`` cells (1/3 and 2/3 of
    the depth, as in DARTS; one cell when they coincide)."""
    return frozenset((layers // 3, 2 * layers // 3))


def check_darts_image_size(x: torch.Tensor, layers: int) -> None:
    """Raise if a DARTS network of ``layers`` cells cannot halve ``x``'s size at each reduction.

    Each reduction halves H and W with two offset stride-2 grids (:class:`FactorizedReduce`),
    which only line up on even sizes.

    Raises:
        InputError: ``H`` or ``W`` not divisible by ``2 ** (number of reduction cells)``.
    """
    n = len(darts_reduction_cells(layers))
    m = 2**n
    if x.shape[-1] % m or x.shape[-2] % m:
        raise InputError(
            f"a DARTS network with {layers} cells halves the image size {n} time(s), so H and "
            f"W must be divisible by {m}; got "
            f"{tuple(x.shape[-2:])}. Resize or crop the images (e.g. to "
            f"{x.shape[-2] // m * m}x{x.shape[-1] // m * m})."
        )


class Pooling(nn.Module):
    """3x3 max or average pooling (padding 1), preceded by a 1x1 ReLUConvBN when C_in != C_out.

    Average pooling excludes the padding from the mean (``count_include_pad=False``), as in DARTS
    and NAS-Bench-201.
    """

    def __init__(self, C_in: int, C_out: int, stride: int, mode: str, affine: bool = True,
                 track_running_stats: bool = True) -> None:
        super().__init__()
        self.preprocess = (None if C_in == C_out
                           else ReLUConvBN(C_in, C_out, 1, 1, 0, 1, affine, track_running_stats))
        if mode == "avg":
            self.pool: nn.Module = nn.AvgPool2d(3, stride=stride, padding=1,
                                                count_include_pad=False)
        elif mode == "max":
            self.pool = nn.MaxPool2d(3, stride=stride, padding=1)
        else:  # pragma: no cover - internal
            raise InputError(f"pooling mode must be 'avg' or 'max', got {mode!r}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.preprocess is not None:
            x = self.preprocess(x)
        return self.pool(x)


class Identity(nn.Module):
    """The identity (``skip_connect`` with stride 1 and C_in == C_out)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


class Zero(nn.Module):
    """The ``none`` operation: zeros of the output shape (the edge is absent)."""

    def __init__(self, C_in: int, C_out: int, stride: int) -> None:
        super().__init__()
        self.C_in, self.C_out, self.stride = C_in, C_out, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride > 1:
            x = x[:, :, :: self.stride, :: self.stride]
        if self.C_in == self.C_out:
            return x.mul(0.0)
        shape = (x.shape[0], self.C_out, x.shape[2], x.shape[3])
        return x.new_zeros(shape)

    def extra_repr(self) -> str:
        return f"C_in={self.C_in}, C_out={self.C_out}, stride={self.stride}"


class ResNetBasicBlock(nn.Module):
    """NAS-Bench-201's reduction block: a residual block of two 3x3 ReLUConvBN (stride 2 first).

    The shortcut is 2x2 average pooling followed by a 1x1 conv when the shape changes.
    """

    def __init__(self, C_in: int, C_out: int, stride: int, affine: bool = True,
                 track_running_stats: bool = True) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(C_in, C_out, 3, stride, 1, 1, affine, track_running_stats)
        self.conv_b = ReLUConvBN(C_out, C_out, 3, 1, 1, 1, affine, track_running_stats)
        if stride == 2:
            self.downsample: nn.Module | None = nn.Sequential(
                nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
                nn.Conv2d(C_in, C_out, 1, bias=False),
            )
        elif C_in != C_out:
            self.downsample = ReLUConvBN(C_in, C_out, 1, 1, 0, 1, affine, track_running_stats)
        else:
            self.downsample = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv_b(self.conv_a(x))
        residual = x if self.downsample is None else self.downsample(x)
        return residual + out


def _skip(C_in: int, C_out: int, stride: int, affine: bool, track: bool) -> nn.Module:
    if stride == 1 and C_in == C_out:
        return Identity()
    if stride == 1:
        return ReLUConvBN(C_in, C_out, 1, 1, 0, 1, affine, track)
    return FactorizedReduce(C_in, C_out, affine, track)


def _sep_darts(k: int) -> OpFactory:
    def make(C_in: int, C_out: int, stride: int, affine: bool, track: bool) -> nn.Module:
        return SepConv(C_in, C_out, k, stride, k // 2, affine, track)

    return make


def _dil_darts(k: int) -> OpFactory:
    def make(C_in: int, C_out: int, stride: int, affine: bool, track: bool) -> nn.Module:
        return DilConv(C_in, C_out, k, stride, 2 * (k // 2), 2, affine, track)

    return make


def _pool(mode: str) -> OpFactory:
    def make(C_in: int, C_out: int, stride: int, affine: bool, track: bool) -> nn.Module:
        return Pooling(C_in, C_out, stride, mode, affine, track)

    return make


def _nor_conv(k: int) -> OpFactory:
    def make(C_in: int, C_out: int, stride: int, affine: bool, track: bool) -> nn.Module:
        return ReLUConvBN(C_in, C_out, k, stride, k // 2, 1, affine, track)

    return make


def _zero(C_in: int, C_out: int, stride: int, affine: bool, track: bool) -> nn.Module:
    return Zero(C_in, C_out, stride)


_DARTS_OPS: dict[str, OpFactory] = {
    "none": _zero,
    "max_pool_3x3": _pool("max"),
    "avg_pool_3x3": _pool("avg"),
    "skip_connect": _skip,
    "sep_conv_3x3": _sep_darts(3),
    "sep_conv_5x5": _sep_darts(5),
    "dil_conv_3x3": _dil_darts(3),
    "dil_conv_5x5": _dil_darts(5),
}

_NB201_OPS: dict[str, OpFactory] = {
    "none": _zero,
    "skip_connect": _skip,
    "nor_conv_1x1": _nor_conv(1),
    "nor_conv_3x3": _nor_conv(3),
    "avg_pool_3x3": _pool("avg"),
}

class ChannelShuffle(nn.Module):
    """ShuffleNet's channel shuffle: ``(B, g*c, H, W)`` viewed as ``(B, g, c, H, W)``, the group
    and channel axes swapped, flattened back (the FBNet blocks with grouped 1x1 convs use it)."""

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g = self.groups
        return x.unflatten(1, (g, x.shape[1] // g)).transpose(1, 2).flatten(1, 2)


class FBNetBlock(nn.Module):
    """An FBNet candidate block (HW-NAS-Bench's ``ConvBlock``), an inverted residual:

    1x1 conv ``C_in -> e*C_in`` (``groups``) + BN + ReLU, channel shuffle (``groups > 1``),
    ``k x k`` depthwise conv (``stride``) + BN + ReLU, 1x1 conv ``e*C_in -> C_out`` (``groups``)
    + BN, plus the input when ``stride == 1`` and ``C_in == C_out``.

    Args:
        C_in, C_out: channels (both divisible by ``groups``).
        kernel: depthwise kernel size (3 or 5 in FBNet).
        expansion: channel expansion ``e`` (1, 3 or 6 in FBNet).
        groups: groups of the 1x1 convs (2 for the ``_g2`` blocks).
        stride: 1 or 2.

    Raises:
        InputError: channels not divisible by ``groups``.
    """

    def __init__(self, C_in: int, C_out: int, kernel: int, expansion: int, groups: int,
                 stride: int, affine: bool = True, track_running_stats: bool = True) -> None:
        super().__init__()
        if C_in % groups or C_out % groups:
            raise InputError(f"an FBNet block with {groups} groups needs channels divisible by "
                             f"{groups}, got C_in={C_in}, C_out={C_out}")
        mid = C_in * expansion
        self.C_in, self.C_out, self.kernel, self.expansion = C_in, C_out, kernel, expansion
        self.groups, self.stride = groups, stride
        self.residual = stride == 1 and C_in == C_out

        def bn(c: int) -> nn.BatchNorm2d:
            return nn.BatchNorm2d(c, affine=affine, track_running_stats=track_running_stats)

        self.conv1 = nn.Conv2d(C_in, mid, 1, groups=groups, bias=False)
        self.bn1 = bn(mid)
        self.shuffle = ChannelShuffle(groups) if groups > 1 else None
        self.conv2 = nn.Conv2d(mid, mid, kernel, stride, kernel // 2, groups=mid, bias=False)
        self.bn2 = bn(mid)
        self.conv3 = nn.Conv2d(mid, C_out, 1, groups=groups, bias=False)
        self.bn3 = bn(C_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.bn1(self.conv1(x)))
        if self.shuffle is not None:
            h = self.shuffle(h)
        h = torch.relu(self.bn2(self.conv2(h)))
        h = self.bn3(self.conv3(h))
        return h + x if self.residual else h


class FBNetSkip(nn.Module):
    """FBNet's ``skip`` candidate: the identity, or (``stride == 2`` or ``C_in != C_out``) a 1x1
    conv + BN + ReLU, as HW-NAS-Bench's ``Skip`` (the tables price the latter)."""

    def __init__(self, C_in: int, C_out: int, stride: int, affine: bool = True,
                 track_running_stats: bool = True) -> None:
        super().__init__()
        self.C_in, self.C_out, self.stride = C_in, C_out, stride
        self.op: nn.Module | None = None
        if stride != 1 or C_in != C_out:
            self.op = nn.Sequential(
                nn.Conv2d(C_in, C_out, 1, stride, bias=False),
                nn.BatchNorm2d(C_out, affine=affine, track_running_stats=track_running_stats),
                nn.ReLU(inplace=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.op is None else self.op(x)


#: FBNet candidate blocks: name -> (kernel, expansion, groups); ``skip`` is not a conv block.
FBNET_BLOCKS: Mapping[str, tuple[int, int, int]] = MappingProxyType({
    "k3_e1": (3, 1, 1), "k3_e1_g2": (3, 1, 2), "k3_e3": (3, 3, 1), "k3_e6": (3, 6, 1),
    "k5_e1": (5, 1, 1), "k5_e1_g2": (5, 1, 2), "k5_e3": (5, 3, 1), "k5_e6": (5, 6, 1),
})


def _fbnet_block(kernel: int, expansion: int, groups: int) -> OpFactory:
    def make(C_in: int, C_out: int, stride: int, affine: bool, track: bool) -> nn.Module:
        return FBNetBlock(C_in, C_out, kernel, expansion, groups, stride, affine, track)

    return make


def _fbnet_skip(C_in: int, C_out: int, stride: int, affine: bool, track: bool) -> nn.Module:
    return FBNetSkip(C_in, C_out, stride, affine, track)


_FBNET_OPS: dict[str, OpFactory] = {
    **{name: _fbnet_block(*spec) for name, spec in FBNET_BLOCKS.items()},
    "skip": _fbnet_skip,
}

OPS: Mapping[str, Mapping[str, OpFactory]] = MappingProxyType({
    "darts": MappingProxyType(_DARTS_OPS),
    "nb201": MappingProxyType(_NB201_OPS),
    "fbnet": MappingProxyType(_FBNET_OPS),
})
"""Read-only registry: space name -> op name -> factory ``(C_in, C_out, stride, affine, track)``."""


def make_op(space: str, name: str, C_in: int, C_out: int, stride: int = 1, *,
            affine: bool = True, track_running_stats: bool = True) -> nn.Module:
    """Build one candidate operation.

    Args:
        space: ``"darts"``, ``"nb201"`` or ``"fbnet"``.
        name: an op name of that space (see ``warmnas.nas.spaces``).
        C_in, C_out: input and output channels (positive ints).
        stride: 1 or 2.
        affine: learnable BatchNorm scale/shift (``False`` inside supernets, as in DARTS).
        track_running_stats: BatchNorm running statistics.

    Returns:
        The operation, an ``nn.Module`` mapping ``(B, C_in, H, W)`` to
        ``(B, C_out, H / stride, W / stride)``.

    Raises:
        InputError: unknown space or op, non-positive channels, stride other than 1 or 2.
    """
    if space not in OPS:
        raise InputError(f"space must be one of {sorted(OPS)}, got {space!r}")
    registry = OPS[space]
    if name not in registry:
        raise InputError(
            f"unknown op {name!r} for space {space!r}; expected one of {tuple(registry)}"
        )
    for arg, value in (("C_in", C_in), ("C_out", C_out)):
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise InputError(f"{arg} must be a positive int, got {value!r}")
    if stride not in (1, 2):
        raise InputError(f"stride must be 1 or 2, got {stride!r}")
    return registry[name](C_in, C_out, stride, affine, track_running_stats)
