"""The latency-model protocol, device descriptions, and the additive (per-edge) latency model.

A :class:`LatencyModel` predicts the latency (milliseconds) of a network on one device from its
architecture, and, for differentiable search, the *expected* latency under architecture logits
``alpha``: ``intercept + scale * sum_edges sum_ops softmax(alpha)[edge, op] * cost[edge, op]``,
as a torch tensor that carries gradients to ``alpha`` (FBNet / ProxylessNAS).

Every model in :mod:`warmnas.hardware` reduces to an :class:`AdditiveLatencyModel` for the
differentiable part: one ``(n_edges, n_ops)`` cost matrix (ms) per alpha key, summed over all
cells that share the key. The discrete ``predict`` may be better than the additive sum (a measured
table looks the network up exactly; a measured op table adds a fitted per-network overhead).

Architecture encodings (``encode_arch``):

* ``"nb201"``: an arch string ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`` -> ``{"cell": (6, 5)}``.
* ``"darts"``: a :class:`~warmnas.nas.genotype.Genotype` -> ``{"normal": (14, 8),
  "reduce": (14, 8)}`` with a 1 for each of the 8 chosen ``(edge, op)`` pairs per cell type.
* ``"fbnet"``: 22 op indices (or names of :data:`FBNET_PRIMITIVES`) -> ``{"layers": (22, 9)}``.
"""

from __future__ import annotations

import math
import os
import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch

from warmnas.errors import InputError, InputTypeError

__all__ = [
    "FBNET_PRIMITIVES",
    "FBNET_LAYERS",
    "DeviceInfo",
    "LatencyModel",
    "AdditiveLatencyModel",
    "encode_arch",
    "space_shapes",
    "space_primitives",
    "darts_edge_weights",
    "local_device_info",
    "load_average",
]

#: The 9 candidate blocks of the FBNet space as named in HELP (kernel, expansion, groups).
FBNET_PRIMITIVES: tuple[str, ...] = (
    "k3_e1", "k3_e1_g2", "k3_e3", "k3_e6", "k5_e1", "k5_e1_g2", "k5_e3", "k5_e6", "skip",
)
#: Searchable layers of the FBNet space.
FBNET_LAYERS = 22


def space_primitives(space: str) -> tuple[str, ...]:
    """Candidate op names of ``space`` (``"darts"``, ``"nb201"`` or ``"fbnet"``)."""
    if space == "fbnet":
        return FBNET_PRIMITIVES
    from warmnas.nas.spaces import get_space

    return get_space(space).primitives


def space_shapes(space: str) -> dict[str, tuple[int, int]]:
    """Alpha shapes ``{key: (n_edges, n_ops)}`` of ``space`` (``"fbnet"``: ``{"layers": (22, 9)}``)."""
    if space == "fbnet":
        return {"layers": (FBNET_LAYERS, len(FBNET_PRIMITIVES))}
    from warmnas.nas.spaces import get_space

    return get_space(space).alpha_shapes()


def _canonical_space(space: object) -> str:
    if not isinstance(space, str):
        raise InputTypeError(f"space must be 'darts', 'nb201' or 'fbnet', got {type(space).__name__}")
    if space.lower() == "fbnet":
        return "fbnet"
    from warmnas.nas.spaces import get_space

    return get_space(space).name


def darts_edge_weights(steps: int = 4, k: int = 2) -> np.ndarray:
    """Weight of each DARTS edge in a derived cell: node ``i`` keeps ``k`` of its ``i + 2`` inputs.

    Returns:
        ``(n_edges,)`` array, ``k / (2 + i)`` for the edges into intermediate node ``i``.
    """
    return np.concatenate([np.full(2 + i, k / (2 + i)) for i in range(steps)])


@dataclass(frozen=True)
class DeviceInfo:
    """Description of the device a latency table belongs to.

    Attributes:
        name: short id (``"gold_6226"``, ``"cpu"``, ``"cuda:0"``).
        kind: ``"cpu"``, ``"gpu"``, ``"mobile"``, ``"fpga"``, ``"asic"`` or ``"cuda"``.
        description: human-readable text (model, framework, setting).
        batch_size: batch size the latencies were measured with (``None`` if unknown).
        threads: CPU threads used (``None`` if not applicable).
        extra: any further JSON-ready facts (torch version, load average, source paper, ...).
    """

    name: str
    kind: str
    description: str
    batch_size: int | None = None
    threads: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"name": self.name, "kind": self.kind, "description": self.description,
                "batch_size": self.batch_size, "threads": self.threads, "extra": dict(self.extra)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DeviceInfo:
        """Inverse of :meth:`to_dict`.

        Raises:
            InputError: missing ``name``/``kind``/``description``.
        """
        if not isinstance(data, Mapping):
            raise InputTypeError(f"device must be a dict, got {type(data).__name__}")
        missing = [k for k in ("name", "kind", "description") if k not in data]
        if missing:
            raise InputError(f"device description lacks the keys {missing}")
        return cls(name=str(data["name"]), kind=str(data["kind"]),
                   description=str(data["description"]),
                   batch_size=None if data.get("batch_size") is None else int(data["batch_size"]),
                   threads=None if data.get("threads") is None else int(data["threads"]),
                   extra=dict(data.get("extra") or {}))


def load_average() -> float | None:
    """The 1-minute load average of this machine (``None`` where the OS has none)."""
    try:
        return float(os.getloadavg()[0])
    except (AttributeError, OSError):  # pragma: no cover - Windows
        return None


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:  # pragma: no cover - not Linux
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def local_device_info(device: str | torch.device = "cpu", *, threads: int | None = None,
                      batch_size: int | None = None) -> DeviceInfo:
    """Describe the local ``device`` (CPU model or CUDA device name, torch version, cores).

    Args:
        device: ``"cpu"`` or a CUDA device.
        threads: CPU threads the measurement uses.
        batch_size: batch size of the measurement.
    """
    dev = torch.device(device)
    extra: dict[str, Any] = {"torch": torch.__version__, "python": platform.python_version(),
                             "machine": platform.machine(), "os": platform.system(),
                             "cpu_count": os.cpu_count(), "cpu_model": _cpu_model()}
    if dev.type == "cuda":
        name = torch.cuda.get_device_name(dev)
        extra["cuda"] = torch.version.cuda
        return DeviceInfo(name=str(dev), kind="cuda", description=f"{name} (torch {torch.__version__})",
                          batch_size=batch_size, threads=threads, extra=extra)
    desc = f"{extra['cpu_model']}, {threads or torch.get_num_threads()} thread(s), torch {torch.__version__}"
    return DeviceInfo(name="cpu", kind="cpu", description=desc, batch_size=batch_size,
                      threads=threads, extra=extra)


def encode_arch(space: str, arch: Any) -> dict[str, np.ndarray]:
    """One-hot ``(edge, op)`` encoding of a discrete architecture, per alpha key.

    Args:
        space: ``"darts"``, ``"nb201"`` or ``"fbnet"``.
        arch: a Genotype (DARTS), an arch string (NB201), or 22 op indices / names (FBNet).

    Returns:
        ``{key: (n_edges, n_ops) float64 array}`` (DARTS: 8 ones per cell type; NB201: one per edge).

    Raises:
        InputError / InputTypeError: an architecture that does not belong to ``space``.
    """
    space = _canonical_space(space)
    shapes = space_shapes(space)
    if space == "nb201":
        from warmnas.nas.nb201 import arch_to_op_indices

        if not isinstance(arch, str):
            raise InputTypeError(f"an NB201 architecture must be an arch string, got "
                                 f"{type(arch).__name__}")
        cell = np.zeros(shapes["cell"])
        cell[np.arange(6), list(arch_to_op_indices(arch))] = 1.0
        return {"cell": cell}
    if space == "darts":
        from warmnas.nas.genotype import Genotype

        if not isinstance(arch, Genotype):
            raise InputTypeError(f"a DARTS architecture must be a Genotype, got {type(arch).__name__}")
        if arch.steps != 4:
            raise InputError(f"only 4-node DARTS cells are supported, got {arch.steps} nodes")
        prims = space_primitives("darts")
        out = {}
        for key, gene in (("normal", arch.normal), ("reduce", arch.reduce)):
            m = np.zeros(shapes[key])
            for k, (op, src) in enumerate(gene):
                node = k // 2  # intermediate node 0..3 (graph node 2..5)
                row = sum(2 + i for i in range(node)) + src
                m[row, prims.index(op)] += 1.0
            out[key] = m
        return out
    # fbnet
    if isinstance(arch, (str, bytes)) or not isinstance(arch, (Sequence, np.ndarray)):
        raise InputTypeError(f"an FBNet architecture must be {FBNET_LAYERS} op indices or names, "
                             f"got {type(arch).__name__}")
    ops = list(arch)
    if len(ops) != FBNET_LAYERS:
        raise InputError(f"an FBNet architecture has {FBNET_LAYERS} layers, got {len(ops)} ops")
    m = np.zeros(shapes["layers"])
    for i, op in enumerate(ops):
        if isinstance(op, str):
            if op not in FBNET_PRIMITIVES:
                raise InputError(f"unknown FBNet op {op!r} at layer {i}; expected one of "
                                 f"{FBNET_PRIMITIVES}")
            j = FBNET_PRIMITIVES.index(op)
        elif isinstance(op, (int, np.integer)) and not isinstance(op, bool) and 0 <= op < 9:
            j = int(op)
        else:
            raise InputError(f"FBNet op at layer {i} must be an index in 0..8 or a name, got {op!r}")
        m[i, j] = 1.0
    return {"layers": m}


@runtime_checkable
class LatencyModel(Protocol):
    """What search code needs from a latency model of one device.

    Attributes:
        space: the search space (``"darts"``, ``"nb201"`` or ``"fbnet"``).
        device: the :class:`DeviceInfo` the latencies belong to.
    """

    space: str
    device: DeviceInfo

    def predict(self, arch: Any) -> float:
        """Latency (ms) of the discrete network ``arch`` on the device."""
        ...

    def expected_latency(self, alphas: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Differentiable expected latency (ms, scalar tensor) under ``softmax(alphas)`` per edge."""
        ...


class AdditiveLatencyModel:
    """Latency as ``intercept + scale * sum of per-(edge, op) costs`` over the alpha keys.

    Args:
        space: ``"darts"``, ``"nb201"`` or ``"fbnet"``.
        costs: ``{alpha key: (n_edges, n_ops) costs in ms}`` (summed over all cells sharing the key).
        intercept: fixed part of the network (stem, head, preprocessing, dispatch), ms.
        device: the device the costs belong to.
        scale: multiplier of the summed op costs (a fitted in-network correction; 1 by default).
        edge_weighting: DARTS only: ``"derived"`` (default) weights the edges into node ``i`` by
            ``2 / (i + 2)``, so the expected latency of a uniform alpha matches a derived
            network (which keeps 2 inputs per node); ``"all"`` sums all 14 edges as in the
            supernet.

    Raises:
        InputError: wrong keys or shapes, non-finite or negative-infinite costs.
    """

    def __init__(self, space: str, costs: Mapping[str, Any], intercept: float = 0.0, *,
                 device: DeviceInfo, scale: float = 1.0, edge_weighting: str = "derived") -> None:
        self.space = _canonical_space(space)
        shapes = space_shapes(self.space)
        if not isinstance(costs, Mapping) or set(costs) != set(shapes):
            got = sorted(costs) if isinstance(costs, Mapping) else type(costs).__name__
            raise InputError(f"costs for space {self.space!r} must have keys {sorted(shapes)}, got {got}")
        self.costs: dict[str, np.ndarray] = {}
        if not isinstance(device, DeviceInfo):
            raise InputTypeError(f"device must be a DeviceInfo (e.g. local_device_info('cpu') or "
                                 f"DeviceInfo(name, kind, description)), got "
                                 f"{type(device).__name__}")
        for key, shape in shapes.items():
            try:
                arr = np.asarray(costs[key], dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise InputTypeError(f"costs[{key!r}] must be an array of numbers (ms) of shape "
                                     f"{shape}: {exc}") from exc
            if arr.shape != shape:
                raise InputError(f"costs[{key!r}] must have shape {shape}, got {arr.shape}")
            if not np.isfinite(arr).all():
                raise InputError(f"costs[{key!r}] contains NaN or inf")
            self.costs[key] = arr
        if not math.isfinite(float(intercept)) or not math.isfinite(float(scale)):
            raise InputError(f"intercept and scale must be finite, got {intercept}, {scale}")
        if edge_weighting not in ("derived", "all"):
            raise InputError(f"edge_weighting must be 'derived' or 'all', got {edge_weighting!r}")
        self.intercept = float(intercept)
        self.scale = float(scale)
        self.device = device
        self.edge_weighting = edge_weighting
        self._torch_costs: dict[tuple[str, torch.dtype, torch.device], torch.Tensor] = {}

    def _weighted_costs(self, key: str) -> np.ndarray:
        cost = self.costs[key]
        if self.space == "darts" and self.edge_weighting == "derived":
            cost = cost * darts_edge_weights()[:, None]
        return cost

    def expected_latency(self, alphas: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Expected latency (ms) under ``softmax(alphas)`` per edge, differentiable in ``alphas``.

        Args:
            alphas: ``{key: (n_edges, n_ops) logits}``; the result has their dtype and device.

        Returns:
            A 0-d tensor.

        Raises:
            InputError: wrong keys or shapes.
        """
        shapes = space_shapes(self.space)
        if not isinstance(alphas, Mapping) or set(alphas) != set(shapes):
            got = sorted(alphas) if isinstance(alphas, Mapping) else type(alphas).__name__
            raise InputError(f"alphas for space {self.space!r} must have keys {sorted(shapes)}, got {got}")
        total: torch.Tensor | None = None
        for key, shape in shapes.items():
            logits = alphas[key]
            if not isinstance(logits, torch.Tensor):
                raise InputTypeError(f"alphas[{key!r}] must be a torch.Tensor, got {type(logits).__name__}")
            if tuple(logits.shape) != shape:
                raise InputError(f"alphas[{key!r}] must have shape {shape}, got {tuple(logits.shape)}")
            dtype = logits.dtype if logits.is_floating_point() else torch.float32
            cache_key = (key, dtype, logits.device)
            cost = self._torch_costs.get(cache_key)
            if cost is None:
                cost = torch.as_tensor(self._weighted_costs(key), dtype=dtype, device=logits.device)
                self._torch_costs[cache_key] = cost
            term = (torch.softmax(logits.to(dtype), dim=-1) * cost).sum()
            total = term if total is None else total + term
        assert total is not None
        return self.intercept + self.scale * total

    def predict_encoded(self, onehot: Mapping[str, np.ndarray]) -> float:
        """Latency (ms) of an encoded architecture (see :func:`encode_arch`)."""
        s = sum(float((np.asarray(onehot[k]) * self.costs[k]).sum()) for k in self.costs)
        return self.intercept + self.scale * s

    def predict(self, arch: Any) -> float:
        """Latency (ms) of a discrete architecture: intercept + scale * sum of its op costs."""
        return self.predict_encoded(encode_arch(self.space, arch))

    def __repr__(self) -> str:
        return (f"AdditiveLatencyModel(space={self.space!r}, device={self.device.name!r}, "
                f"intercept={self.intercept:.3g}, scale={self.scale:.3g})")
