"""Published latency tables: NAS-Bench-201 and FBNet latencies of HELP (20 device settings each),
and the HW-NAS-Bench per-block look-up tables of the FBNet space.

Data (the shared data folder, see its ``SOURCES.md``)::

    nasbench201/latency/<device>.pt   15,625 latencies (ms), one per NB201 arch index
    nasbench201/nats_bench.csv        arch string of each index (row i = index i)
    fbnet/latency/<device>.pt         5,000 latencies (ms) of the FBNet archs in fbnet/arch.pt
    fbnet/arch.pt                     5,000 x 22 op indices (FBNET_PRIMITIVES order)
    fbnet/hw-nas-bench-lut/fbnet_cached_metrics.json   per-block latencies, 5 devices

The ``.pt`` files are torch zip archives of plain lists; they are read with
``torch.load(weights_only=True)``, which refuses anything but plain containers and numbers (no
arbitrary pickle code runs).

Sources: Lee et al., "HELP: Hardware-Adaptive Efficient Latency Prediction for NAS via
Meta-Learning" (NeurIPS 2021, MIT license); Li et al., "HW-NAS-Bench" (ICLR 2021, MIT license);
Dong & Yang, "NAS-Bench-201" (ICLR 2020).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from warmnas.errors import (
    CorruptDatabaseError,
    InputError,
    InputTypeError,
    MissingDataError,
    UnknownIdError,
)
from warmnas.hardware.base import (
    FBNET_LAYERS,
    FBNET_PRIMITIVES,
    AdditiveLatencyModel,
    DeviceInfo,
    encode_arch,
    space_shapes,
)

__all__ = [
    "BENCHMARKS",
    "NB201_DEVICES",
    "FBNET_DEVICES",
    "HWNASBENCH_LUT_DEVICES",
    "device_info",
    "published_devices",
    "load_pt",
    "load_latency_vector",
    "load_benchmark_archs",
    "op_index_matrix",
    "fit_additive",
    "PublishedLatencyTable",
    "fbnet_lut_model",
    "FBNET_CIFAR_LAYOUT",
]

logger = logging.getLogger(__name__)

BENCHMARKS: dict[str, dict[str, Any]] = {
    "nb201": {"folder": "nasbench201", "n_archs": 15625, "space": "nb201"},
    "fbnet": {"folder": "fbnet", "n_archs": 5000, "space": "fbnet"},
}

_GPUS = {"1080ti": "NVIDIA GeForce GTX 1080 Ti", "2080ti": "NVIDIA GeForce RTX 2080 Ti",
         "titan_rtx": "NVIDIA TITAN RTX", "titanx": "NVIDIA GTX TITAN X"}
_OTHER = {
    "gold_6226": ("cpu", "Intel Xeon Gold 6226 CPU (server)"),
    "silver_4114": ("cpu", "Intel Xeon Silver 4114 CPU (server)"),
    "pixel2": ("mobile", "Google Pixel 2 (mobile phone CPU; integer ms)"),
    "pixel3": ("mobile", "Google Pixel 3 (mobile phone CPU, TFLite; from HW-NAS-Bench)"),
    "samsung_a50": ("mobile", "Samsung Galaxy A50 (mobile phone CPU; integer ms)"),
    "raspi4": ("cpu", "Raspberry Pi 4 (ARM Cortex-A72; from HW-NAS-Bench)"),
    "fpga": ("fpga", "FPGA (Xilinx ZC706 board; from HW-NAS-Bench)"),
    "eyeriss": ("asic", "Eyeriss ASIC accelerator (simulated; from HW-NAS-Bench)"),
}


def _describe(name: str, benchmark: str) -> DeviceInfo:
    src = {"benchmark": benchmark, "source": "HELP (Lee et al., NeurIPS 2021)"}
    for gpu, full in _GPUS.items():
        if name.startswith(gpu + "_") and name[len(gpu) + 1:].isdigit():
            batch = int(name[len(gpu) + 1:])
            return DeviceInfo(name=name, kind="gpu", description=f"{full}, batch {batch}",
                              batch_size=batch, extra=src)
    if name in _OTHER:
        kind, desc = _OTHER[name]
        return DeviceInfo(name=name, kind=kind, description=desc, batch_size=1, extra=src)
    return DeviceInfo(name=name, kind="unknown", description=f"device {name!r} (no description)",
                      extra=src)


#: NB201 device settings of HELP in the shared data (GPU batch sizes 1/32/256).
NB201_DEVICES: tuple[str, ...] = (
    "1080ti_1", "1080ti_32", "1080ti_256", "2080ti_1", "2080ti_32", "2080ti_256",
    "titan_rtx_1", "titan_rtx_32", "titan_rtx_256", "titanx_1", "titanx_32", "titanx_256",
    "gold_6226", "silver_4114", "pixel2", "pixel3", "samsung_a50", "raspi4", "fpga", "eyeriss",
)
#: FBNet device settings of HELP in the shared data (GPU batch sizes 1/32/64).
FBNET_DEVICES: tuple[str, ...] = (
    "1080ti_1", "1080ti_32", "1080ti_64", "2080ti_1", "2080ti_32", "2080ti_64",
    "titan_rtx_1", "titan_rtx_32", "titan_rtx_64", "titanx_1", "titanx_32", "titanx_64",
    "gold_6226", "silver_4114", "pixel2", "pixel3", "samsung_a50", "raspi4", "fpga", "eyeriss",
)
#: Devices of the HW-NAS-Bench FBNet block look-up table.
HWNASBENCH_LUT_DEVICES: tuple[str, ...] = ("edgegpu", "raspi4", "pixel3", "eyeriss", "fpga")


def device_info(name: str, benchmark: str = "nb201") -> DeviceInfo:
    """The :class:`DeviceInfo` of a published device setting (e.g. ``"titan_rtx_32"``)."""
    return _describe(name, _check_benchmark(benchmark))


def _check_benchmark(benchmark: object) -> str:
    if not isinstance(benchmark, str) or benchmark.lower() not in BENCHMARKS:
        raise InputError(f"benchmark must be one of {sorted(BENCHMARKS)}, got {benchmark!r}")
    return benchmark.lower()


def _bench_dir(data_dir: str | os.PathLike[str], benchmark: str) -> Path:
    path = Path(data_dir)
    folder = BENCHMARKS[benchmark]["folder"]
    if (path / folder).is_dir():
        return path / folder
    if path.name == folder and path.is_dir():
        return path
    raise MissingDataError(
        f"no {folder}/ folder under {path}; pass data_dir= the shared data folder (see SOURCES.md) or set "
        "WARMNAS_SHARED_DATA"
    )


def load_pt(path: str | os.PathLike[str]) -> Any:
    """Read a torch file that holds plain containers (``torch.load(weights_only=True)``).

    Raises:
        MissingDataError: the file is not there.
        CorruptDatabaseError: not a torch archive, or it holds objects other than plain data.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path} is a folder; pass the path of a .pt latency file")
    if not path.is_file():
        raise MissingDataError(f"latency file {path} not found")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several unrelated types for bad archives
        # torch's own text spans many lines and, for objects, advises weights_only=False,
        # which would run code from the file: not repeated
        if "weights only load failed" in str(exc).lower():
            detail = ("it holds objects other than plain numbers and containers, which are not "
                      "loaded: that could run code from the file")
        else:
            detail = f"{type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0][:200]}"
        raise CorruptDatabaseError(
            f"{path} is not a readable torch file of plain data ({detail}); expected a .pt "
            "list of latencies as in HELP's data"
        ) from exc


def load_latency_vector(path: str | os.PathLike[str], n_archs: int | None = None) -> np.ndarray:
    """Read a ``<device>.pt`` latency file: one latency (ms) per architecture index.

    Args:
        path: the ``.pt`` file (a plain list of numbers, or a 1-d tensor).
        n_archs: expected length (15,625 for NB201, 5,000 for FBNet), or ``None``.

    Returns:
        ``(n_archs,)`` float64 array.

    Raises:
        MissingDataError, CorruptDatabaseError: missing file, wrong content or length, NaN,
            non-positive values.
    """
    data = load_pt(path)
    if isinstance(data, torch.Tensor):
        data = data.detach().cpu().numpy()
    try:
        arr = np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise CorruptDatabaseError(f"{path} does not hold a list of numbers: {exc}") from exc
    if arr.ndim != 1:
        raise CorruptDatabaseError(f"{path} must hold a flat list of latencies, got shape {arr.shape}")
    if n_archs is not None and len(arr) != n_archs:
        raise CorruptDatabaseError(
            f"{path} holds {len(arr)} latencies, expected {n_archs} (one per architecture index)"
        )
    if not np.isfinite(arr).all() or (arr <= 0).any():
        raise CorruptDatabaseError(f"{path} holds NaN, inf or non-positive latencies")
    return arr


def published_devices(benchmark: str, data_dir: str | os.PathLike[str]) -> list[str]:
    """Names of the ``<device>.pt`` files of ``benchmark`` in the data folder, sorted."""
    benchmark = _check_benchmark(benchmark)
    folder = _bench_dir(data_dir, benchmark) / "latency"
    if not folder.is_dir():
        raise MissingDataError(f"no latency/ folder at {folder}")
    return sorted(p.stem for p in folder.glob("*.pt"))


def load_benchmark_archs(benchmark: str, data_dir: str | os.PathLike[str]) -> list[Any]:
    """The architectures of a benchmark in index order.

    Returns:
        NB201: 15,625 arch strings (``nats_bench.csv`` row order); FBNet: 5,000 lists of 22 op
        indices (``arch.pt``).

    Raises:
        MissingDataError, CorruptDatabaseError.
    """
    benchmark = _check_benchmark(benchmark)
    base = _bench_dir(data_dir, benchmark)
    if benchmark == "nb201":
        from warmnas.nas.nb201 import NB201Table

        return list(NB201Table.load(base).archs)
    data = load_pt(base / "arch.pt")
    try:
        arr = np.asarray(data, dtype=np.int64)
    except (TypeError, ValueError) as exc:
        raise CorruptDatabaseError(f"{base / 'arch.pt'} does not hold op-index lists: {exc}") from exc
    if arr.shape != (BENCHMARKS["fbnet"]["n_archs"], FBNET_LAYERS) or arr.min() < 0 or arr.max() >= 9:
        raise CorruptDatabaseError(
            f"{base / 'arch.pt'} must hold 5000 x 22 op indices in 0..8, got shape {arr.shape}"
        )
    return [list(map(int, row)) for row in arr]


def op_index_matrix(benchmark: str, archs: Sequence[Any]) -> np.ndarray:
    """``(n_archs, n_edges)`` op indices of each architecture (NB201: 6 edges; FBNet: 22 layers)."""
    benchmark = _check_benchmark(benchmark)
    if benchmark == "nb201":
        from warmnas.nas.nb201 import arch_to_op_indices

        return np.array([arch_to_op_indices(a) for a in archs], dtype=np.int64)
    return np.array([np.argmax(encode_arch("fbnet", a)["layers"], axis=1) for a in archs],
                    dtype=np.int64)


def _onehot(ops: np.ndarray, n_ops: int) -> np.ndarray:
    n, e = ops.shape
    X = np.zeros((n, e * n_ops))
    X[np.arange(n)[:, None], np.arange(e)[None, :] * n_ops + ops] = 1.0
    return X


def fit_additive(ops: np.ndarray, latencies: np.ndarray, n_ops: int) -> tuple[np.ndarray, float, float]:
    """Least-squares per-(edge, op) costs of whole-network latencies.

    Args:
        ops: ``(n_archs, n_edges)`` op indices.
        latencies: ``(n_archs,)`` ms.
        n_ops: ops per edge.

    Returns:
        ``(costs (n_edges, n_ops), intercept, r2)``. The costs of edge ``e`` are shifted so that
        its cheapest op costs 0 (the shift goes into the intercept), which keeps the
        decomposition unique.
    """
    ops = np.asarray(ops)
    y = np.asarray(latencies, dtype=np.float64)
    X = np.c_[np.ones(len(y)), _onehot(ops, n_ops)]
    w, *_ = np.linalg.lstsq(X, y, rcond=None)
    pred = X @ w
    ss = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float(((y - pred) ** 2).sum()) / ss if ss > 0 else 1.0
    costs = w[1:].reshape(ops.shape[1], n_ops)
    shift = costs.min(axis=1, keepdims=True)
    return costs - shift, float(w[0] + shift.sum()), r2


class PublishedLatencyTable:
    """Whole-network latencies of every architecture of a benchmark on one device.

    ``predict`` looks an architecture up exactly; ``expected_latency`` uses an additive
    per-(edge, op) decomposition fitted to the table by least squares (``additive_r2_`` says how
    much of the variance it explains).

    Args:
        benchmark: ``"nb201"`` or ``"fbnet"``.
        latencies: ``(n_archs,)`` ms, index order.
        archs: the architectures in index order (see :func:`load_benchmark_archs`).
        device: the :class:`DeviceInfo`.

    Raises:
        InputError: lengths differ, or non-finite / non-positive latencies.
    """

    def __init__(self, benchmark: str, latencies: Any, archs: Sequence[Any], device: DeviceInfo) -> None:
        self.benchmark = _check_benchmark(benchmark)
        self.space: str = BENCHMARKS[self.benchmark]["space"]
        lat = np.asarray(latencies, dtype=np.float64)
        if lat.ndim != 1 or len(lat) != len(archs):
            raise InputError(f"latencies must be a 1-d array with one entry per arch ({len(archs)}), "
                             f"got shape {lat.shape}")
        if not np.isfinite(lat).all() or (lat <= 0).any():
            raise InputError("latencies must be finite and positive")
        self.latencies = lat
        self.archs = list(archs)
        self.device = device
        self.ops = op_index_matrix(self.benchmark, self.archs)
        self._index = {self._key(a): i for i, a in enumerate(self.archs)}
        self._additive: AdditiveLatencyModel | None = None
        self.additive_r2_: float | None = None

    @staticmethod
    def _key(arch: Any) -> Any:
        return arch if isinstance(arch, str) else tuple(int(v) for v in arch)

    @classmethod
    def load(cls, benchmark: str, device: str, data_dir: str | os.PathLike[str],
             archs: Sequence[Any] | None = None) -> PublishedLatencyTable:
        """Read ``<benchmark folder>/latency/<device>.pt`` from the shared data folder.

        Args:
            benchmark: ``"nb201"`` or ``"fbnet"``.
            device: a device name (see :func:`published_devices`).
            data_dir: the shared data folder.
            archs: the benchmark's architectures, if already loaded (saves re-reading them).

        Raises:
            UnknownIdError: no such device file.
            MissingDataError, CorruptDatabaseError.
        """
        benchmark = _check_benchmark(benchmark)
        path = _bench_dir(data_dir, benchmark) / "latency" / f"{device}.pt"
        if not path.is_file():
            known = published_devices(benchmark, data_dir)
            raise UnknownIdError(f"no {benchmark} latency table for device {device!r}; known: {known}")
        return cls.from_file(path, benchmark, data_dir=data_dir, archs=archs)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], benchmark: str, *,
                  data_dir: str | os.PathLike[str] | None = None, archs: Sequence[Any] | None = None,
                  device: DeviceInfo | None = None) -> PublishedLatencyTable:
        """Read a latency ``.pt`` file (one ms value per architecture index).

        Args:
            path: the file; its stem names the device unless ``device`` is given.
            benchmark: ``"nb201"`` or ``"fbnet"``.
            data_dir: the shared data folder, to read the architectures (unless ``archs``).
            archs: the architectures in index order.
            device: the device description.
        """
        benchmark = _check_benchmark(benchmark)
        if archs is None:
            if data_dir is None:
                raise InputError("pass data_dir (the shared data folder) or archs to read a latency file")
            archs = load_benchmark_archs(benchmark, data_dir)
        lat = load_latency_vector(path, len(archs))
        info = device or _describe(Path(path).stem, benchmark)
        return cls(benchmark, lat, archs, info)

    def __len__(self) -> int:
        return len(self.latencies)

    def index(self, arch: Any) -> int:
        """Index of an architecture in the table (an int is checked and returned).

        Raises:
            UnknownIdError: not in the table.
        """
        if isinstance(arch, (int, np.integer)) and not isinstance(arch, bool):
            if not 0 <= int(arch) < len(self):
                raise UnknownIdError(f"arch index must be in 0..{len(self) - 1}, got {arch}")
            return int(arch)
        if self.benchmark == "nb201":
            from warmnas.nas.nb201 import format_arch, parse_arch

            if not isinstance(arch, str):
                raise InputTypeError(f"an NB201 architecture must be an arch string or index, got "
                                     f"{type(arch).__name__}")
            key: Any = format_arch(parse_arch(arch))
        else:
            key = tuple(int(v) for v in np.argmax(encode_arch("fbnet", arch)["layers"], axis=1))
        idx = self._index.get(key)
        if idx is None:
            raise UnknownIdError(f"architecture {arch!r} is not in the {self.benchmark} table")
        return idx

    def additive_model(self) -> AdditiveLatencyModel:
        """The additive per-(edge, op) decomposition of the table (fitted once, cached)."""
        if self._additive is None:
            (key, (n_edges, n_ops)), = space_shapes(self.space).items()
            costs, intercept, r2 = fit_additive(self.ops, self.latencies, n_ops)
            self._additive = AdditiveLatencyModel(self.space, {key: costs}, intercept, device=self.device)
            self.additive_r2_ = r2
            logger.info("additive fit of %s/%s: R^2 = %.3f", self.benchmark, self.device.name, r2)
        return self._additive

    def predict(self, arch: Any) -> float:
        """Latency (ms) of ``arch``: the table value; for an FBNet arch outside the 5,000 of the
        table, the additive estimate.

        Raises:
            InputError / UnknownIdError: an invalid architecture or index.
        """
        try:
            return float(self.latencies[self.index(arch)])
        except UnknownIdError:
            if self.benchmark == "fbnet" and not isinstance(arch, (int, np.integer)):
                return self.additive_model().predict(arch)
            raise

    def expected_latency(self, alphas: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Differentiable expected latency (ms) under ``softmax(alphas)`` (additive decomposition)."""
        return self.additive_model().expected_latency(alphas)

    def __repr__(self) -> str:
        return (f"PublishedLatencyTable(benchmark={self.benchmark!r}, device={self.device.name!r}, "
                f"n_archs={len(self)})")


#: HW-NAS-Bench's FBNet macro-architecture for 32x32 inputs: (H, C_in, C_out, stride) per layer.
FBNET_CIFAR_LAYOUT: tuple[tuple[int, int, int, int], ...] = (
    (32, 16, 16, 1), (32, 16, 24, 1), (32, 24, 24, 1), (32, 24, 24, 1), (32, 24, 24, 1),
    (32, 24, 32, 2), (16, 32, 32, 1), (16, 32, 32, 1), (16, 32, 32, 1), (16, 32, 64, 2),
    (8, 64, 64, 1), (8, 64, 64, 1), (8, 64, 64, 1), (8, 64, 112, 1), (8, 112, 112, 1),
    (8, 112, 112, 1), (8, 112, 112, 1), (8, 112, 184, 2), (4, 184, 184, 1), (4, 184, 184, 1),
    (4, 184, 184, 1), (4, 184, 352, 1),
)


def _lut_key(op: str, H: int, C_in: int, C_out: int, stride: int) -> str:
    if op == "skip":
        return f"Skip_H{H}_W{H}_Cin{C_in}_Cout{C_out}_stride{stride}"
    parts = op.split("_")
    kernel, exp = parts[0][1:], parts[1][1:]
    group = 2 if op.endswith("_g2") else 1
    return (f"ConvBlock_H{H}_W{H}_Cin{C_in}_Cout{C_out}_exp{exp}_kernel{kernel}_stride{stride}"
            f"_group{group}")


def fbnet_lut_model(data_dir: str | os.PathLike[str], device: str, *,
                    num_classes: int = 100) -> AdditiveLatencyModel:
    """The HW-NAS-Bench per-block latency table of the FBNet space (32x32 inputs) for ``device``.

    The latency of a network is the stem + the 22 chosen blocks + the head (1x1 conv, pooling,
    classifier), exactly as HW-NAS-Bench sums its table (HELP's FBNet latencies of raspi4, pixel3,
    eyeriss and fpga are these sums).

    Args:
        data_dir: the shared data folder.
        device: one of :data:`HWNASBENCH_LUT_DEVICES`.
        num_classes: 10 or 100 (the classifier entry; HELP's tables use 100).

    Returns:
        An :class:`AdditiveLatencyModel` of space ``"fbnet"`` (exact for discrete archs).

    Raises:
        UnknownIdError: a device or class count the table lacks.
        MissingDataError, CorruptDatabaseError.
    """
    path = _bench_dir(data_dir, "fbnet") / "hw-nas-bench-lut" / "fbnet_cached_metrics.json"
    if not path.is_file():
        raise MissingDataError(f"HW-NAS-Bench table not found at {path}")
    try:
        data = json.loads(path.read_text())
    except ValueError as exc:
        raise CorruptDatabaseError(f"{path} is not valid JSON: {exc}") from exc
    lut = data.get(f"{device}_latency") if isinstance(data, dict) else None
    if not isinstance(lut, dict):
        raise UnknownIdError(f"no HW-NAS-Bench FBNet latency table for device {device!r}; known: "
                             f"{list(HWNASBENCH_LUT_DEVICES)}")
    try:
        fixed = (lut["ConvNorm_H32_W32_Cin3_Cout16_kernel3_stride1_group1"]
                 + lut["ConvNorm_H4_W4_Cin352_Cout1504_kernel1_stride1_group1"]
                 + lut["AvgP_H4_W4_Cin1504_Cout1504_kernel4_stride1"])
        fc = lut.get(f"FC_Cin1504_Cout{num_classes}")
        if fc is None:
            raise UnknownIdError(f"the HW-NAS-Bench table has no classifier for {num_classes} "
                                 "classes; use 10 or 100")
        costs = np.array([[lut[_lut_key(op, *layer)] for op in FBNET_PRIMITIVES]
                          for layer in FBNET_CIFAR_LAYOUT], dtype=np.float64)
    except KeyError as exc:
        raise CorruptDatabaseError(f"{path} lacks the block {exc} of the FBNet CIFAR layout") from exc
    info = DeviceInfo(name=device, kind="lut", description=f"{device} (HW-NAS-Bench FBNet block table)",
                      batch_size=1, extra={"source": "HW-NAS-Bench (Li et al., ICLR 2021)",
                                           "num_classes": num_classes})
    return AdditiveLatencyModel("fbnet", {"layers": costs}, float(fixed + fc), device=info)
