"""Weight-sharing supernets of the DARTS and NAS-Bench-201 cell spaces.

A supernet holds its architecture logits ``alphas`` (an ``nn.ParameterDict`` with the keys and
shapes of ``space.alpha_shapes()``) apart from the operation weights:
:meth:`Supernet.arch_parameters` lists the former, :meth:`Supernet.weight_parameters` the latter.
``forward(x, weights=None)`` mixes the candidate ops of each edge with per-edge op weights
(``{key: (n_edges, n_ops)}``, rows summing to 1 for softmax/Dirichlet/Gumbel); with ``weights=None``
it uses ``softmax(alphas)`` (DARTS). Searchers compute other weights (Dirichlet samples, hard Gumbel
samples) and pass them in, so the supernet itself is method-agnostic.

Two implementations compute the same function:

* ``impl="reference"``: the straightforward DARTS / NAS-Bench-201 code structure, one module per
  (edge, op); every op is launched separately (thousands of small kernels per step).
* ``impl="batched"`` (default): the edges of a cell that read the same node(s) form a *wave*
  (DARTS: the 8 edges from the two cell inputs, then node 2's 3 edges, node 3's 2, node 4's 1;
  NB201: node 0's 3 edges, node 1's 2, node 2's 1). Each op runs once per wave on the
  concatenated inputs with grouped convolutions (``groups = n_edges``), and ``none`` is skipped
  (it contributes zero). A DARTS cell needs 4 waves instead of 14 x 8 op calls.
  :meth:`Supernet.load_reference_state` copies the weights of a reference supernet so the two can
  be compared (``tests/warmnas/nas/test_supernet.py`` checks float64 equality to 1e-6).

Path sampling (ProxylessNAS, ``DARTSSearch(method="proxyless")``): ``forward(x, weights,
paths=...)`` with ``paths = {key: (n_edges, k) long}`` computes only the ``k`` listed ops of each
edge, ``sum_j weights[e, paths[e, j]] * op_{paths[e, j]}(x)``; the ops after the first column
are evaluated with their outputs detached (they contribute through their weight, i.e. a binary
gate's gradient, and pass no gradient back, as in the ProxylessNAS code). The reference
supernets and the FBNet supernet support it; the edge-batched one cannot (its waves run each op
on all edges at once) and raises an ``InputError`` naming ``impl="reference"``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import nn

from warmnas._random import RandomState
from warmnas.errors import InputError
from warmnas.nas.genotype import Genotype, derive_architecture
from warmnas.nas.ops import (
    FactorizedReduce,
    ReLUConvBN,
    ResNetBasicBlock,
    check_darts_image_size,
    darts_reduction_cells,
)
from warmnas.nas.spaces import SearchSpace, get_space

if TYPE_CHECKING:
    from warmnas.nas.fbnet import FBNetArch

__all__ = ["Supernet", "DartsSupernet", "NB201Supernet", "build_supernet"]


# --------------------------------------------------------------------------------------------
# reference (straightforward) cells


class _MixedOp(nn.Module):
    """All candidate ops of one edge; output = sum_o w[o] * op_o(x)."""

    def __init__(self, space: SearchSpace, C: int, stride: int) -> None:
        super().__init__()
        self._ops = nn.ModuleList()
        for name in space.primitives:
            op = space.make_op(name, C, C, stride, affine=False)
            if space.name == "darts" and "pool" in name:
                op = nn.Sequential(op, nn.BatchNorm2d(C, affine=False))
            self._ops.append(op)

    def forward(self, x: torch.Tensor, w: torch.Tensor, path: list[int] | None = None
                ) -> torch.Tensor:
        if path is None:
            return sum(w[o] * op(x) for o, op in enumerate(self._ops))  # type: ignore[return-value]
        return _path_sum(self._ops, x, w, path)


def _path_sum(ops: nn.ModuleList, x: torch.Tensor, w: torch.Tensor, path: list[int]
              ) -> torch.Tensor:
    """``sum_j w[path[j]] * ops[path[j]](x)``, only the listed ops run; the outputs of the ops
    after the first are detached (ProxylessNAS: only the active path passes gradients back)."""
    out: torch.Tensor | None = None
    for j, o in enumerate(path):
        y = ops[o](x)
        term = w[o] * (y if j == 0 else y.detach())
        out = term if out is None else out + term
    assert out is not None
    return out


def _path_lists(paths: Mapping[str, torch.Tensor] | None, keys: Sequence[str], impl: str
                ) -> dict[str, list[list[int]]] | None:
    """``paths`` as Python lists per key (one host copy per forward), checked."""
    if paths is None:
        return None
    if impl != "reference":
        raise InputError("paths= (path sampling, method='proxyless') runs only the sampled op of "
                         "each edge, which the edge-batched supernet (impl='batched') cannot do: "
                         "its waves run every op on all edges at once; build the supernet with "
                         "impl='reference'")
    return {k: paths[k].tolist() for k in keys}


class _RefDartsCell(nn.Module):
    def __init__(self, space: SearchSpace, C_pp: int, C_p: int, C: int, reduction: bool,
                 reduction_prev: bool, steps: int) -> None:
        super().__init__()
        self.reduction = reduction
        self.steps = steps
        self.preprocess0: nn.Module = (FactorizedReduce(C_pp, C, affine=False) if reduction_prev
                                       else ReLUConvBN(C_pp, C, 1, 1, 0, affine=False))
        self.preprocess1 = ReLUConvBN(C_p, C, 1, 1, 0, affine=False)
        self._ops = nn.ModuleList(
            _MixedOp(space, C, 2 if reduction and src < 2 else 1) for _, src in space.edges
        )

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, w: torch.Tensor,
                paths: list[list[int]] | None = None) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        offset = 0
        for _ in range(self.steps):
            s = sum(self._ops[offset + j](h, w[offset + j],
                                          None if paths is None else paths[offset + j])
                    for j, h in enumerate(states))
            offset += len(states)
            states.append(s)  # type: ignore[arg-type]
        return torch.cat(states[-self.steps:], dim=1)


class _RefNB201Cell(nn.Module):
    def __init__(self, space: SearchSpace, C: int) -> None:
        super().__init__()
        self.edges = space.edges
        self._ops = nn.ModuleList(_MixedOp(space, C, 1) for _ in space.edges)

    def forward(self, x: torch.Tensor, w: torch.Tensor, paths: list[list[int]] | None = None
                ) -> torch.Tensor:
        nodes = [x]
        for i in range(1, 4):
            nodes.append(sum(self._ops[k](nodes[src], w[k],  # type: ignore[arg-type]
                                          None if paths is None else paths[k])
                             for k, (dst, src) in enumerate(self.edges) if dst == i))
        return nodes[-1]


# --------------------------------------------------------------------------------------------
# batched (fast) cells


class _BSepConv(nn.Module):
    """``E`` DARTS SepConvs at once (input already ReLU'd)."""

    def __init__(self, E: int, C: int, k: int, stride: int) -> None:
        super().__init__()
        EC, p = E * C, k // 2
        self.dw1 = nn.Conv2d(EC, EC, k, stride, p, groups=EC, bias=False)
        self.pw1 = nn.Conv2d(EC, EC, 1, groups=E, bias=False)
        self.bn1 = nn.BatchNorm2d(EC, affine=False)
        self.dw2 = nn.Conv2d(EC, EC, k, 1, p, groups=EC, bias=False)
        self.pw2 = nn.Conv2d(EC, EC, 1, groups=E, bias=False)
        self.bn2 = nn.BatchNorm2d(EC, affine=False)

    def forward(self, xr: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.bn1(self.pw1(self.dw1(xr))))
        return self.bn2(self.pw2(self.dw2(h)))

    def load_edges(self, ops: list[nn.Module]) -> None:
        seqs: list[Any] = [m.op for m in list[Any](ops)]
        for mine, idx in ((self.dw1, 1), (self.pw1, 2), (self.bn1, 3), (self.dw2, 5),
                          (self.pw2, 6), (self.bn2, 7)):
            _load_concat(mine, [s[idx] for s in seqs])


class _BDilConv(nn.Module):
    def __init__(self, E: int, C: int, k: int, stride: int) -> None:
        super().__init__()
        EC = E * C
        self.dw = nn.Conv2d(EC, EC, k, stride, 2 * (k // 2), dilation=2, groups=EC, bias=False)
        self.pw = nn.Conv2d(EC, EC, 1, groups=E, bias=False)
        self.bn = nn.BatchNorm2d(EC, affine=False)

    def forward(self, xr: torch.Tensor) -> torch.Tensor:
        return self.bn(self.pw(self.dw(xr)))

    def load_edges(self, ops: list[nn.Module]) -> None:
        seqs: list[Any] = [m.op for m in list[Any](ops)]
        for mine, idx in ((self.dw, 1), (self.pw, 2), (self.bn, 3)):
            _load_concat(mine, [s[idx] for s in seqs])


class _BConvBN(nn.Module):
    """``E`` NB201 ReLUConvBN (k x k) at once (input already ReLU'd)."""

    def __init__(self, E: int, C: int, k: int) -> None:
        super().__init__()
        EC = E * C
        self.conv = nn.Conv2d(EC, EC, k, 1, k // 2, groups=E, bias=False)
        self.bn = nn.BatchNorm2d(EC, affine=False)

    def forward(self, xr: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(xr))

    def load_edges(self, ops: list[nn.Module]) -> None:
        seqs: list[Any] = [m.op for m in list[Any](ops)]
        _load_concat(self.conv, [s[1] for s in seqs])
        _load_concat(self.bn, [s[2] for s in seqs])


class _BPool(nn.Module):
    """3x3 max/avg pooling of ``E`` edges, with DARTS' BatchNorm(affine=False) if ``bn``."""

    def __init__(self, E: int, C: int, mode: str, stride: int, bn: bool) -> None:
        super().__init__()
        self.pool: nn.Module = (nn.MaxPool2d(3, stride, 1) if mode == "max"
                                else nn.AvgPool2d(3, stride, 1, count_include_pad=False))
        self.bn = nn.BatchNorm2d(E * C, affine=False) if bn else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.pool(x)
        return h if self.bn is None else self.bn(h)

    def load_edges(self, ops: list[nn.Module]) -> None:
        if self.bn is not None:
            _load_concat(self.bn, [op[1] for op in ops])  # type: ignore[index,misc]


class _BFactorizedReduce(nn.Module):
    """``E`` FactorizedReduce ops at once (input already ReLU'd): one grouped 1x1 conv over the
    even and odd pixel grids, so each edge's output is ``[conv_1, conv_2]`` as in DARTS."""

    def __init__(self, E: int, C: int) -> None:
        super().__init__()
        if C % 2:
            raise InputError(f"FactorizedReduce needs an even channel count, got {C}")
        self.E, self.C = E, C
        self.conv = nn.Conv2d(2 * E * C, E * C, 1, groups=2 * E, bias=False)
        self.bn = nn.BatchNorm2d(E * C, affine=False)

    def forward(self, xr: torch.Tensor) -> torch.Tensor:
        even = xr[:, :, ::2, ::2].unflatten(1, (self.E, self.C))
        odd = xr[:, :, 1::2, 1::2].unflatten(1, (self.E, self.C))
        z = torch.stack([even, odd], dim=2).flatten(1, 3)
        if xr.is_contiguous(memory_format=torch.channels_last):
            z = z.contiguous(memory_format=torch.channels_last)
        return self.bn(self.conv(z))

    def load_edges(self, ops: list[nn.Module]) -> None:
        weights: list[torch.Tensor] = []
        fr: list[Any] = list(ops)
        for op in fr:
            weights += [op.conv_1.weight, op.conv_2.weight]
        with torch.no_grad():
            self.conv.weight.copy_(torch.cat(weights, dim=0))
        _load_concat(self.bn, [op.bn for op in fr])


def _load_concat(target: nn.Module, sources: list[nn.Module]) -> None:
    """Copy per-edge params/buffers of ``sources`` into ``target``, concatenated along dim 0."""
    with torch.no_grad():
        for name, tensor in list(target.named_parameters()) + list(target.named_buffers()):
            parts = [dict(list(s.named_parameters()) + list(s.named_buffers()))[name]
                     for s in sources]
            if tensor.dim() == 0:
                tensor.copy_(parts[0])
            else:
                tensor.copy_(torch.cat(parts, dim=0))


class _Wave(nn.Module):
    """The candidate ops of ``E`` edges of one wave; ``forward(x, w) -> (B, E*C, H', W')``."""

    _op_index: torch.Tensor

    def __init__(self, space: SearchSpace, E: int, C: int, stride: int) -> None:
        super().__init__()
        self.E, self.C, self.stride = E, C, stride
        self.op_index: list[int] = []
        self.needs_relu: list[bool] = []
        ops: list[nn.Module | None] = []
        for o, name in enumerate(space.primitives):
            op: nn.Module | None
            relu = True
            if name == "none":
                continue
            if name == "skip_connect":
                op = None if stride == 1 else _BFactorizedReduce(E, C)
                relu = stride != 1
            elif name in ("max_pool_3x3", "avg_pool_3x3"):
                op = _BPool(E, C, name[:3], stride, bn=space.name == "darts")
                relu = False
            elif name.startswith("sep_conv"):
                op = _BSepConv(E, C, int(name[-1]), stride)
            elif name.startswith("dil_conv"):
                op = _BDilConv(E, C, int(name[-1]), stride)
            elif name.startswith("nor_conv"):
                op = _BConvBN(E, C, int(name[-1]))
            else:  # pragma: no cover - spaces are fixed
                raise InputError(f"no batched implementation of op {name!r}")
            self.op_index.append(o)
            self.needs_relu.append(relu)
            ops.append(op)
        self.ops = nn.ModuleList(nn.Identity() if op is None else op for op in ops)
        self._is_identity = [op is None for op in ops]
        self.register_buffer("_op_index", torch.tensor(self.op_index, dtype=torch.long),
                             persistent=False)

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        # w: (E, n_ops) -> per-channel weights (n_kept_ops, E*C)
        n = len(self.op_index)
        wc = (w.index_select(1, self._op_index).t().to(x.dtype)[:, :, None]
              .expand(n, self.E, self.C).reshape(n, self.E * self.C))
        xr = F.relu(x) if any(self.needs_relu) else x
        out: torch.Tensor | None = None
        for k, op in enumerate(self.ops):
            inp = xr if self.needs_relu[k] else x
            y = inp if self._is_identity[k] else op(inp)
            scale = wc[k].view(1, -1, 1, 1)
            out = y * scale if out is None else torch.addcmul(out, y, scale)
        assert out is not None
        return out


class _BatchedCell(nn.Module):
    """A cell computed wave by wave. ``waves[k]`` lists ``(edge id, src)`` in destination order."""

    _perm: torch.Tensor

    def __init__(self, space: SearchSpace, C: int, reduction: bool, first_sources: tuple[int, ...],
                 steps: int) -> None:
        super().__init__()
        self.C = C
        self.steps = steps
        edges = space.edges
        groups: list[list[int]] = [[k for k, (_, s) in enumerate(edges) if s in first_sources]]
        for src in range(max(first_sources) + 1, max(first_sources) + steps):
            groups.append([k for k, (_, s) in enumerate(edges) if s == src])
        for g in groups:  # order each wave by destination then source
            g.sort(key=lambda k: (edges[k][0], edges[k][1]))
        self.wave_edges = [tuple(g) for g in groups]
        self.wave_sources = [tuple(edges[k][1] for k in g) for g in groups]
        self.per_dst = [len(g) // len({edges[k][0] for k in g}) for g in groups]
        self.waves = nn.ModuleList(
            _Wave(space, len(g), C, 2 if reduction and srcs[0] in first_sources and
                  len(first_sources) == 2 else 1)
            for g, srcs in zip(groups, self.wave_sources)
        )
        perm = [k for g in groups for k in g]
        self.register_buffer("_perm", torch.tensor(perm, dtype=torch.long), persistent=False)

    def run(self, states: list[torch.Tensor], w: torch.Tensor) -> list[torch.Tensor]:
        """Append the intermediate nodes to ``states`` (the cell inputs) and return the list."""
        w = w.index_select(0, self._perm)
        offset = 0
        acc: torch.Tensor | None = None
        waves: list[Any] = list(self.waves)
        for wave, srcs, per_dst in zip(waves, self.wave_sources, self.per_dst):
            E = len(srcs)
            x = states[srcs[0]] if E == 1 else torch.cat([states[s] for s in srcs], dim=1)
            y = wave(x, w[offset:offset + E]).unflatten(1, (E, self.C))
            offset += E
            if per_dst > 1:
                y = y.unflatten(1, (E // per_dst, per_dst)).sum(2)
            acc = y if acc is None else acc[:, 1:] + y
            states.append(acc[:, 0])
        return states

    def load_reference(self, ref_ops: nn.ModuleList) -> None:
        """Copy the weights of a reference cell's ``_MixedOp`` list into the waves."""
        waves: list[Any] = list(self.waves)
        refs: list[Any] = list(ref_ops)
        for wave, ids in zip(waves, self.wave_edges):
            for k, op in enumerate(wave.ops):
                if wave._is_identity[k]:
                    continue
                o = wave.op_index[k]
                op.load_edges([refs[e]._ops[o] for e in ids])


class _BatchedDartsCell(nn.Module):
    def __init__(self, space: SearchSpace, C_pp: int, C_p: int, C: int, reduction: bool,
                 reduction_prev: bool, steps: int) -> None:
        super().__init__()
        self.reduction = reduction
        self.steps = steps
        self.preprocess0: nn.Module = (FactorizedReduce(C_pp, C, affine=False) if reduction_prev
                                       else ReLUConvBN(C_pp, C, 1, 1, 0, affine=False))
        self.preprocess1 = ReLUConvBN(C_p, C, 1, 1, 0, affine=False)
        self.cell = _BatchedCell(space, C, reduction, (0, 1), steps)

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        states = self.cell.run([self.preprocess0(s0), self.preprocess1(s1)], w)
        return torch.cat(states[-self.steps:], dim=1)

    def load_reference(self, ref: _RefDartsCell) -> None:
        self.preprocess0.load_state_dict(ref.preprocess0.state_dict())
        self.preprocess1.load_state_dict(ref.preprocess1.state_dict())
        self.cell.load_reference(ref._ops)


class _BatchedNB201Cell(nn.Module):
    def __init__(self, space: SearchSpace, C: int) -> None:
        super().__init__()
        self.cell = _BatchedCell(space, C, False, (0,), 3)

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return self.cell.run([x], w)[-1]

    def load_reference(self, ref: _RefNB201Cell) -> None:
        self.cell.load_reference(ref._ops)


# --------------------------------------------------------------------------------------------
# networks


class Supernet(nn.Module):
    """Base class: alphas kept apart from weights, genotype derivation, weight copying."""

    space: SearchSpace
    impl: str

    def _init_alphas(self, init_alpha: Mapping[str, Any] | None, random_state: RandomState
                     ) -> None:
        if init_alpha is None:
            alphas = self.space.init_alphas(random_state=random_state)
        else:
            alphas = self.space.validate_alphas(init_alpha, name="init_alpha")
        self.alphas = nn.ParameterDict(
            {k: nn.Parameter(v.detach().clone().float()) for k, v in alphas.items()}
        )

    def arch_parameters(self) -> list[nn.Parameter]:
        """The alpha logits, in ``space.cell_types`` order."""
        return [self.alphas[k] for k in self.space.cell_types]

    def named_weight_parameters(self) -> Iterator[tuple[str, nn.Parameter]]:
        """``(name, parameter)`` of every operation weight (alphas excluded)."""
        for name, p in self.named_parameters():
            if not name.startswith("alphas."):
                yield name, p

    def weight_parameters(self) -> list[nn.Parameter]:
        """Every operation weight (alphas excluded)."""
        return [p for _, p in self.named_weight_parameters()]

    def alpha_dict(self) -> dict[str, torch.Tensor]:
        """The alpha parameters themselves as ``{key: (n_edges, n_ops)}`` (differentiable)."""
        return {k: self.alphas[k] for k in self.space.cell_types}

    def get_alphas(self) -> dict[str, torch.Tensor]:
        """A detached CPU float32 copy of the alphas."""
        return {k: self.alphas[k].detach().float().cpu().clone() for k in self.space.cell_types}

    @torch.no_grad()
    def set_alphas(self, alphas: Mapping[str, Any]) -> None:
        """Overwrite the alphas in place (validated: keys, shapes, finite)."""
        checked = self.space.validate_alphas(alphas)
        for k, v in checked.items():
            self.alphas[k].copy_(v.to(self.alphas[k].device))

    def softmax_weights(self) -> dict[str, torch.Tensor]:
        """``softmax(alphas)`` per key (the DARTS mixing weights)."""
        return {k: torch.softmax(self.alphas[k], dim=-1) for k in self.space.cell_types}

    def genotype(self, exclude: Sequence[str] = ()) -> Genotype | str | FBNetArch:
        """The derived architecture (a Genotype for DARTS, an arch string for NB201, an
        ``FBNetArch`` for FBNet; ``exclude``
        as in :func:`~warmnas.nas.genotype.derive_architecture`)."""
        return derive_architecture(self.space.name, self.get_alphas(), exclude=exclude)

    def _weights(self, weights: Mapping[str, torch.Tensor] | None) -> Mapping[str, torch.Tensor]:
        return self.softmax_weights() if weights is None else weights

    def load_reference_state(self, reference: Supernet) -> None:
        """Copy all weights, buffers and alphas of a ``impl="reference"`` supernet of the same
        configuration into this batched one (used to check that both compute the same)."""
        if self.impl != "batched" or reference.impl != "reference":
            raise InputError("load_reference_state copies a reference supernet into a batched one")
        mine = self._shared_modules()
        theirs = reference._shared_modules()
        for a, b in zip(mine, theirs):
            a.load_state_dict(b.state_dict())
        with torch.no_grad():
            for k in self.space.cell_types:
                self.alphas[k].copy_(reference.alphas[k])
        cells: list[Any] = list(self.cells)  # type: ignore[arg-type]
        ref_cells: list[Any] = list(reference.cells)  # type: ignore[arg-type]
        for cell, ref in zip(cells, ref_cells):
            if hasattr(cell, "load_reference"):
                cell.load_reference(ref)
            else:
                cell.load_state_dict(ref.state_dict())

    def _shared_modules(self) -> list[nn.Module]:  # pragma: no cover - overridden
        raise NotImplementedError


class DartsSupernet(Supernet):
    """The DARTS search network: stem, ``layers`` cells (reductions at 1/3 and 2/3), classifier.

    Args:
        C: initial channels (16 in DARTS' search).
        layers: cells (8 in DARTS' search).
        num_classes: output classes.
        steps: intermediate nodes per cell (4).
        stem_multiplier: stem channels are ``stem_multiplier * C``.
        in_channels: image channels.
        impl: ``"batched"`` (fast) or ``"reference"`` (straightforward).
        init_alpha: initial logits ``{"normal", "reduce"}: (14, 8)``; small random ones otherwise.
        random_state: seed of the alpha initialisation (weights use torch's default init; seed them
            by building the supernet under ``torch.random.fork_rng`` if needed).
    """

    def __init__(self, C: int = 16, layers: int = 8, num_classes: int = 10, steps: int = 4,
                 stem_multiplier: int = 3, in_channels: int = 3, impl: str = "batched",
                 init_alpha: Mapping[str, Any] | None = None,
                 random_state: RandomState = None) -> None:
        super().__init__()
        if steps != 4:
            raise InputError(f"the DARTS space has 4 intermediate nodes per cell, got steps={steps}")
        if impl not in ("batched", "reference"):
            raise InputError(f"impl must be 'batched' or 'reference', got {impl!r}")
        self.space = get_space("darts")
        self.impl = impl
        self.C, self.layers, self.num_classes, self.steps = C, layers, num_classes, steps
        C_curr = stem_multiplier * C
        self.stem = nn.Sequential(nn.Conv2d(in_channels, C_curr, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(C_curr))
        C_pp, C_p, C_curr = C_curr, C_curr, C
        self.cells = nn.ModuleList()
        reduction_prev = False
        cell_cls = _BatchedDartsCell if impl == "batched" else _RefDartsCell
        reductions = darts_reduction_cells(layers)
        for i in range(layers):
            reduction = i in reductions
            if reduction:
                C_curr *= 2
            self.cells.append(cell_cls(self.space, C_pp, C_p, C_curr, reduction, reduction_prev,
                                       steps))
            reduction_prev = reduction
            C_pp, C_p = C_p, steps * C_curr
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(C_p, num_classes)
        self._init_alphas(init_alpha, random_state)

    def forward(self, x: torch.Tensor, weights: Mapping[str, torch.Tensor] | None = None,
                paths: Mapping[str, torch.Tensor] | None = None) -> torch.Tensor:
        """Logits ``(B, num_classes)`` for images ``x`` of shape ``(B, in_channels, H, W)``.

        ``paths``: ``{"normal", "reduce"}: (14, k)`` op indices, only those ops run (path
        sampling; ``impl="reference"`` only, see the module docstring).

        Raises:
            InputError: ``H`` or ``W`` not divisible by ``2 ** (number of reduction cells)``
                (each reduction halves them with two offset stride-2 grids, as in DARTS);
                ``paths`` with ``impl="batched"``.
        """
        check_darts_image_size(x, self.layers)
        w = self._weights(weights)
        pl = _path_lists(paths, self.space.cell_types, self.impl)
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            key = "reduce" if cell.reduction else "normal"
            if pl is None:
                s0, s1 = s1, cell(s0, s1, w[key])
            else:
                s0, s1 = s1, cell(s0, s1, w[key], pl[key])
        return self.classifier(self.global_pooling(s1).flatten(1))

    def _shared_modules(self) -> list[nn.Module]:
        return [self.stem, self.classifier]


class NB201Supernet(Supernet):
    """The NAS-Bench-201 search network (``TinyNetwork``): 3 stages of ``N`` search cells.

    Args:
        C: initial channels (16).
        N: search cells per stage (5).
        num_classes, in_channels, impl, init_alpha, random_state: as in :class:`DartsSupernet`.
    """

    def __init__(self, C: int = 16, N: int = 5, num_classes: int = 10, in_channels: int = 3,
                 impl: str = "batched", init_alpha: Mapping[str, Any] | None = None,
                 random_state: RandomState = None) -> None:
        super().__init__()
        if impl not in ("batched", "reference"):
            raise InputError(f"impl must be 'batched' or 'reference', got {impl!r}")
        self.space = get_space("nb201")
        self.impl = impl
        self.C, self.N, self.num_classes = C, N, num_classes
        self.stem = nn.Sequential(nn.Conv2d(in_channels, C, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(C))
        channels = [C] * N + [2 * C] + [2 * C] * N + [4 * C] + [4 * C] * N
        reductions = [False] * N + [True] + [False] * N + [True] + [False] * N
        self.cells = nn.ModuleList()
        C_prev = C
        for C_curr, reduction in zip(channels, reductions):
            if reduction:
                self.cells.append(ResNetBasicBlock(C_prev, C_curr, 2))
            elif impl == "batched":
                self.cells.append(_BatchedNB201Cell(self.space, C_curr))
            else:
                self.cells.append(_RefNB201Cell(self.space, C_curr))
            C_prev = C_curr
        self.lastact = nn.Sequential(nn.BatchNorm2d(C_prev), nn.ReLU(inplace=False))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(C_prev, num_classes)
        self._init_alphas(init_alpha, random_state)

    def forward(self, x: torch.Tensor, weights: Mapping[str, torch.Tensor] | None = None,
                paths: Mapping[str, torch.Tensor] | None = None) -> torch.Tensor:
        """Logits ``(B, num_classes)`` for images ``x`` of shape ``(B, in_channels, H, W)``;
        ``paths``: ``{"cell": (6, k)}`` op indices, only those ops run (path sampling;
        ``impl="reference"`` only, see the module docstring)."""
        w = self._weights(weights)["cell"]
        pl = _path_lists(paths, self.space.cell_types, self.impl)
        h = self.stem(x)
        for cell in self.cells:
            if isinstance(cell, ResNetBasicBlock):
                h = cell(h)
            else:
                h = cell(h, w) if pl is None else cell(h, w, pl["cell"])
        h = self.global_pooling(self.lastact(h)).flatten(1)
        return self.classifier(h)

    def _shared_modules(self) -> list[nn.Module]:
        return [self.stem, self.lastact, self.classifier]


def build_supernet(space: str | SearchSpace, *, C: int = 16, layers: int | None = None,
                   num_classes: int = 10, in_channels: int = 3, impl: str = "batched",
                   init_alpha: Mapping[str, Any] | None = None,
                   random_state: RandomState = None) -> Supernet:
    """Build the supernet of ``space``.

    Args:
        space: ``"darts"``, ``"nb201"`` or ``"fbnet"``.
        C: initial channels (16 for all three in the papers' searches; FBNet: the stem width,
            every layer scaled by ``C / 16``).
        layers: DARTS: cells (default 8); NB201: cells per stage ``N`` (default 5); FBNet:
            ``None`` (its 22 layers are fixed).
        num_classes, in_channels: data shape.
        impl: ``"batched"`` (fast, default) or ``"reference"``.
        init_alpha: initial alpha logits (a warm start), validated against the space.
        random_state: seed of the default alpha initialisation.

    Returns:
        A :class:`DartsSupernet`, :class:`NB201Supernet` or
        :class:`~warmnas.nas.fbnet.FBNetSupernet`.
    """
    name = get_space(space).name
    for arg, value in (("C", C), ("num_classes", num_classes), ("in_channels", in_channels)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise InputError(f"{arg} must be a positive int, got {value!r}")
    if layers is not None and (isinstance(layers, bool) or not isinstance(layers, int)
                               or layers <= 0):
        raise InputError(f"layers must be a positive int, got {layers!r}")
    if name == "fbnet":
        from warmnas.nas.fbnet import FBNetSupernet

        if layers is not None and layers != 22:
            raise InputError(f"the FBNet space has 22 fixed layers; pass layers=None, got "
                             f"{layers!r}")
        return FBNetSupernet(C=C, num_classes=num_classes, in_channels=in_channels,
                             init_alpha=init_alpha, random_state=random_state, impl=impl)
    if name == "darts":
        return DartsSupernet(C=C, layers=8 if layers is None else layers,
                             num_classes=num_classes, in_channels=in_channels, impl=impl,
                             init_alpha=init_alpha, random_state=random_state)
    return NB201Supernet(C=C, N=5 if layers is None else layers, num_classes=num_classes,
                         in_channels=in_channels, impl=impl, init_alpha=init_alpha,
                         random_state=random_state)
