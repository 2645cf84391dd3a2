"""Latency look-up tables measured on the local device, and end-to-end network timing.

:meth:`MeasuredLatencyTable.measure` times every candidate op of a space at every shape the
derived networks of that space use (see :func:`op_sites`), then measures a few random derived
networks end to end and fits the per-network correction ``latency = intercept + scale * sum of
op latencies`` (the intercept holds what a sum of ops misses: stem, preprocessing, node sums,
concatenation, classifier, framework dispatch; the scale corrects cache effects of running the
ops back to back).

Measurement protocol:

* CPU: a fixed thread count (default 1, restored afterwards), ``torch.inference_mode``, warm-up
  calls, then ``rounds`` samples per entry with the entries *interleaved* (every round visits all
  entries in a fresh random order, so slow phases of a shared machine hit all entries alike); each
  sample times enough back-to-back calls to last about ``min_sample_ms``; a low quantile of the
  samples is kept (default the 10% quantile of 25 rounds; ``quantile=0.5`` for the median). With
  one thread the clock is the thread's CPU time (see :func:`resolve_clock`).
* The calibration networks are timed in the same interleaved rounds as the ops.
* CUDA: the same with CUDA events and a synchronisation per sample.

Tables are versioned JSON (:data:`TABLE_FORMAT`, :data:`TABLE_VERSION`) with the device
description, the network configuration, the load average during the measurement and every
entry's spread.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from warmnas._io import atomic_write
from warmnas._random import RandomState, check_random_state, derive_seed
from warmnas.errors import (
    CorruptDatabaseError,
    InputError,
    InputTypeError,
    MissingDataError,
    SchemaVersionError,
)
from warmnas.hardware.base import (
    AdditiveLatencyModel,
    DeviceInfo,
    encode_arch,
    load_average,
    local_device_info,
)

__all__ = [
    "TABLE_FORMAT",
    "TABLE_VERSION",
    "DEFAULT_CONFIGS",
    "OpSite",
    "op_sites",
    "random_architecture",
    "CLOCKS",
    "resolve_clock",
    "time_callables",
    "measure_networks",
    "MeasuredLatencyTable",
]

logger = logging.getLogger(__name__)

TABLE_FORMAT = "warmnas.hardware.latency_table"
TABLE_VERSION = 1

#: Network configurations of the benchmarks' evaluation settings (32x32 inputs, batch 1).
DEFAULT_CONFIGS: dict[str, dict[str, int]] = {
    "darts": {"C": 36, "layers": 20, "input_size": 32, "batch_size": 1, "num_classes": 10},
    "nb201": {"C": 16, "layers": 5, "input_size": 32, "batch_size": 1, "num_classes": 10},
}

OpKey = tuple[str, int, int, int, int, int]  # op, C_in, C_out, H, W, stride


@dataclass(frozen=True)
class OpSite:
    """One edge of one cell of a derived network, with the shape its op sees.

    Attributes:
        cell: cell position in the network.
        key: alpha key of the cell (``"normal"``, ``"reduce"`` or ``"cell"``).
        edge: alpha row of the edge.
        C_in, C_out, H, W: input channels, output channels, input height and width.
        stride: 1, or 2 on the input edges of a DARTS reduction cell.
    """

    cell: int
    key: str
    edge: int
    C_in: int
    C_out: int
    H: int
    W: int
    stride: int

    def op_key(self, op: str) -> OpKey:
        return (op, self.C_in, self.C_out, self.H, self.W, self.stride)


def _config(space: str, config: Mapping[str, Any] | None) -> dict[str, int]:
    from warmnas.nas.spaces import get_space

    name = get_space(space).name
    if name not in DEFAULT_CONFIGS:
        raise InputError(f"measured latency tables cover the spaces {sorted(DEFAULT_CONFIGS)}, "
                         f"not {name!r}; for the FBNet space use the HW-NAS-Bench block tables "
                         "(warmnas.hardware.fbnet_lut_model(data_dir, device))")
    cfg = dict(DEFAULT_CONFIGS[name])
    for k, v in (config or {}).items():
        if k not in cfg:
            raise InputError(f"unknown network setting {k!r}; expected some of {sorted(cfg)}")
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
            raise InputError(f"{k} must be a positive int, got {v!r}")
        cfg[k] = int(v)
    if cfg["input_size"] % 4:
        raise InputError(f"input_size must be divisible by 4 (two reductions), got {cfg['input_size']}")
    if name == "darts" and cfg["layers"] < 3:
        raise InputError(f"a DARTS network needs at least 3 cells, got layers={cfg['layers']}")
    return cfg


def op_sites(space: str, config: Mapping[str, Any] | None = None) -> list[OpSite]:
    """Every cell edge of the derived networks of ``space`` with the shape its op sees.

    Mirrors :func:`warmnas.nas.networks.build_network`: DARTS NetworkCIFAR (reduction cells at
    1/3 and 2/3 of ``layers``, channels doubling there, inputs of a reduction cell at stride 2);
    NB201 (3 stages of ``layers`` cells at ``C``, ``2C``, ``4C`` channels and ``H``, ``H/2``,
    ``H/4``).

    Args:
        space: ``"darts"`` or ``"nb201"``.
        config: ``C``, ``layers``, ``input_size`` (default :data:`DEFAULT_CONFIGS`).

    Returns:
        The sites, cell by cell, edge by edge.
    """
    from warmnas.nas.spaces import get_space

    sp = get_space(space)
    cfg = _config(sp.name, config)
    C, layers, H = cfg["C"], cfg["layers"], cfg["input_size"]
    sites: list[OpSite] = []
    if sp.name == "nb201":
        cell = 0
        for stage in range(3):
            Cs, Hs = C * 2 ** stage, H // 2 ** stage
            for _ in range(layers):
                sites.extend(OpSite(cell, "cell", e, Cs, Cs, Hs, Hs, 1) for e in range(sp.n_edges))
                cell += 1
            cell += 1  # the ResNet reduction block between stages
        return sites
    C_curr = C
    for i in range(layers):
        reduction = i in (layers // 3, 2 * layers // 3)
        if reduction:
            C_curr *= 2
            for e, (_, src) in enumerate(sp.edges):
                if src < 2:
                    sites.append(OpSite(i, "reduce", e, C_curr, C_curr, H, H, 2))
                else:
                    sites.append(OpSite(i, "reduce", e, C_curr, C_curr, H // 2, H // 2, 1))
            H //= 2
        else:
            sites.extend(OpSite(i, "normal", e, C_curr, C_curr, H, H, 1) for e in range(sp.n_edges))
    return sites


def _measured_ops(space: str) -> tuple[str, ...]:
    from warmnas.nas.spaces import get_space

    prims = get_space(space).primitives
    # a derived DARTS network never holds "none" (the edge is absent): its cost is 0
    return tuple(p for p in prims if not (space == "darts" and p == "none"))


def random_architecture(space: str, random_state: RandomState = None) -> Any:
    """A uniformly random derived architecture: an NB201 arch string, a DARTS Genotype
    (derived from standard-normal logits, so every edge pair and op is equally likely), or an
    FBNet ``FBNetArch`` (each layer's block uniform)."""
    from warmnas.nas.spaces import get_space

    sp = get_space(space)
    rng = check_random_state(random_state)
    if sp.name == "fbnet":
        from warmnas.nas.fbnet import random_fbnet_archs

        return random_fbnet_archs(1, rng)[0]
    if sp.name == "nb201":
        from warmnas.nas.nb201 import op_indices_to_arch

        return op_indices_to_arch(rng.integers(0, sp.n_ops, sp.n_edges).tolist())
    from warmnas.nas.genotype import derive_genotype

    return derive_genotype(sp.init_alphas(scale=1.0, random_state=rng))


def _check_threads(threads: Any) -> None:
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)
                                or threads < 1):
        raise InputError(f"threads must be a positive int or None, got {threads!r}")


def _torch_device(device: Any) -> torch.device:
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise InputError(f"device {device!r} is not a torch device ({exc}); use 'cpu' or "
                         "'cuda'") from exc


@contextlib.contextmanager
def _threads(threads: int | None) -> Iterator[None]:
    if threads is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(int(threads))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _progress(total: int, desc: str, progress: bool | None) -> Any:
    from tqdm.auto import tqdm

    disable = (not sys.stderr.isatty()) if progress is None else not progress
    return tqdm(total=total, desc=desc, disable=disable, leave=False)


CLOCKS = ("auto", "wall", "thread")


def resolve_clock(clock: str, device: str | torch.device = "cpu", threads: int | None = 1) -> str:
    """The clock :func:`time_callables` uses: ``"cuda"`` (events) on a CUDA device; on the CPU,
    ``"thread"`` (CPU time of the calling thread) for ``clock="auto"`` with one thread, else
    ``"wall"``.

    With one intra-op thread all of torch's work runs on the calling thread, so its CPU time is
    the latency on an idle machine, and it does not count the time the thread waits while other
    processes run: on a shared machine it is far more repeatable than the wall clock.
    """
    if clock not in CLOCKS:
        raise InputError(f"clock must be one of {CLOCKS}, got {clock!r}")
    if torch.device(device).type == "cuda":
        return "cuda"
    if clock == "auto":
        return "thread" if threads == 1 else "wall"
    if clock == "thread" and threads != 1:
        raise InputError(f"clock='thread' needs threads=1 (it times the calling thread only), got "
                         f"threads={threads}; use clock='wall'")
    return clock


def time_callables(fns: Sequence[Callable[[], Any]], *, device: str | torch.device = "cpu",
                   rounds: int = 15, warmup: int = 3, min_sample_ms: float = 2.0,
                   clock: str = "wall", quantile: float = 0.5, random_state: RandomState = 0,
                   progress: bool | None = None, return_samples: bool = False) -> Any:
    """Time zero-argument callables, interleaved; return a quantile and the spread per callable.

    Args:
        fns: the callables (already built, inputs bound).
        device: ``"cpu"`` or a CUDA device (timed with CUDA events).
        rounds: samples per callable.
        warmup: untimed calls per callable before timing.
        min_sample_ms: each sample repeats the call until it lasts about this long.
        clock: CPU only: ``"wall"`` (``perf_counter``) or ``"thread"`` (``thread_time``, the CPU
            time of the calling thread; see :func:`resolve_clock`).
        quantile: the reported statistic of the samples (0.5: the median).
        random_state: seed of the visiting order.
        progress: tqdm bar (``None``: only on a terminal).
        return_samples: also return the raw ``(len(fns), rounds)`` samples.

    Returns:
        ``(latency_ms, iqr_ms)``, each ``(len(fns),)`` (plus the samples when asked).
    """
    if rounds < 1 or warmup < 0:
        raise InputError(f"rounds must be >= 1 and warmup >= 0, got {rounds}, {warmup}")
    if not 0.0 <= quantile <= 1.0:
        raise InputError(f"quantile must be in [0, 1], got {quantile}")
    if clock not in ("wall", "thread", "cuda"):
        raise InputError(f"clock must be 'wall' or 'thread' (or 'cuda'), got {clock!r}")
    dev = torch.device(device)
    cuda = dev.type == "cuda"
    timer = time.thread_time if clock == "thread" else time.perf_counter
    rng = check_random_state(random_state)

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize(dev)

    # warm-up and calibration of the number of calls per sample
    numbers = []
    for fn in fns:
        for _ in range(max(warmup, 1)):
            fn()
        sync()
        t0 = time.perf_counter()
        fn()
        sync()
        once = (time.perf_counter() - t0) * 1e3
        numbers.append(max(1, min(1000, int(math.ceil(min_sample_ms / max(once, 1e-4))))))
    samples = np.zeros((len(fns), rounds))
    bar = _progress(rounds * len(fns), "timing", progress)
    try:
        for r in range(rounds):
            for i in rng.permutation(len(fns)):
                fn, number = fns[i], numbers[i]
                if cuda:
                    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                    start.record()
                    for _ in range(number):
                        fn()
                    end.record()
                    torch.cuda.synchronize(dev)
                    samples[i, r] = start.elapsed_time(end) / number
                else:
                    t0 = timer()
                    for _ in range(number):
                        fn()
                    samples[i, r] = (timer() - t0) * 1e3 / number
                bar.update(1)
    finally:
        bar.close()
    q25, q75 = np.percentile(samples, [25, 75], axis=1)
    value = np.quantile(samples, quantile, axis=1)
    if return_samples:
        return value, q75 - q25, samples
    return value, q75 - q25


def _bind(module: nn.Module, x: torch.Tensor) -> Callable[[], Any]:
    def call() -> Any:
        with torch.inference_mode():
            return module(x)

    return call


def _build_networks(archs: Sequence[Any], space: str, cfg: Mapping[str, int], dev: torch.device,
                    gen: torch.Generator) -> list[nn.Module]:
    from warmnas.nas.networks import build_network

    nets = []
    for arch in archs:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=gen)))
            net = build_network(arch, space, C=cfg["C"], layers=cfg["layers"],
                                num_classes=cfg["num_classes"])
        nets.append(net.to(dev).eval())
    return nets


def measure_networks(archs: Sequence[Any], space: str, *, config: Mapping[str, Any] | None = None,
                     device: str | torch.device = "cpu", threads: int | None = 1, rounds: int = 25,
                     warmup: int = 3, clock: str = "auto", quantile: float = 0.1,
                     chunk: int | None = None, random_state: RandomState = 0,
                     progress: bool | None = None, return_samples: bool = False) -> Any:
    """End-to-end latency (ms) of derived networks, timed interleaved.

    Args:
        archs: NB201 arch strings or DARTS Genotypes.
        space: ``"darts"`` or ``"nb201"``.
        config: network configuration (default :data:`DEFAULT_CONFIGS`).
        device: ``"cpu"`` or a CUDA device.
        threads: CPU threads during the measurement (``None``: leave as is).
        rounds, warmup, quantile: see :func:`time_callables` (default: 10% quantile of 25 rounds,
            as :meth:`MeasuredLatencyTable.measure`).
        clock: ``"auto"``, ``"wall"`` or ``"thread"`` (see :func:`resolve_clock`).
        chunk: networks alive (and interleaved) at once. ``None`` (default): all of them, so a
            change of the machine's load during the measurement hits every network alike (memory:
            about 4 bytes per parameter per network, 13 MB for a DARTS C=36 network); a number
            bounds memory, at the price of load drift between chunks.
        random_state: seed of the visiting order and the weights.
        progress: tqdm bar.
        return_samples: also return the raw ``(len(archs), rounds)`` samples.

    Returns:
        ``(len(archs),)`` ms (and the samples when asked).
    """
    cfg = _config(space, config)
    if len(archs) == 0:
        raise InputError("archs is empty; pass at least one architecture")
    if chunk is not None and (isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1):
        raise InputError(f"chunk must be a positive int or None, got {chunk!r}")
    _check_threads(threads)
    dev = _torch_device(device)
    clk = resolve_clock(clock, dev, threads)
    step = len(archs) if chunk is None else chunk
    out = np.zeros(len(archs))
    all_samples = np.zeros((len(archs), rounds))
    gen = torch.Generator().manual_seed(derive_seed(random_state))
    x = torch.randn(cfg["batch_size"], 3, cfg["input_size"], cfg["input_size"], generator=gen).to(dev)
    with _threads(threads if dev.type == "cpu" else None):
        for start in range(0, len(archs), step):
            nets = _build_networks(archs[start:start + step], space, cfg, dev, gen)
            med, _, samples = time_callables(
                [_bind(n, x) for n in nets], device=dev, rounds=rounds, warmup=warmup, clock=clk,
                quantile=quantile, random_state=random_state, progress=progress,
                return_samples=True)
            out[start:start + len(nets)] = med
            all_samples[start:start + len(nets)] = samples
            del nets
    return (out, all_samples) if return_samples else out


class MeasuredLatencyTable:
    """Op latencies measured on one device, with a fitted per-network correction.

    Build it with :meth:`measure` (or read it with :meth:`load`). Implements
    :class:`~warmnas.hardware.base.LatencyModel`.

    Args:
        space: ``"darts"`` or ``"nb201"``.
        device: the :class:`DeviceInfo`.
        config: network configuration (``C``, ``layers``, ``input_size``, ``batch_size``,
            ``num_classes``).
        entries: ``{(op, C_in, C_out, H, W, stride): ms}`` for every op at every site shape.
        intercept_ms, scale: the per-network correction (0 and 1 before calibration).
        meta: further JSON-ready facts (spread, timings, load average, calibration residuals).

    Raises:
        CorruptDatabaseError: an entry the space's sites need is missing or not a positive number.
    """

    def __init__(self, space: str, device: DeviceInfo, config: Mapping[str, Any],
                 entries: Mapping[OpKey, float], *, intercept_ms: float = 0.0, scale: float = 1.0,
                 meta: Mapping[str, Any] | None = None) -> None:
        from warmnas.nas.spaces import get_space

        self.space = get_space(space).name
        self.device = device
        self.config = _config(self.space, config)
        self.entries: dict[OpKey, float] = {
            (str(k[0]), int(k[1]), int(k[2]), int(k[3]), int(k[4]), int(k[5])): float(v)
            for k, v in entries.items()}
        self.intercept_ms = float(intercept_ms)
        self.scale = float(scale)
        self.meta = dict(meta or {})
        self.sites = op_sites(self.space, self.config)
        missing = {s.op_key(op) for s in self.sites for op in _measured_ops(self.space)} - set(self.entries)
        if missing:
            raise CorruptDatabaseError(f"latency table lacks {len(missing)} entries, e.g. "
                                       f"{sorted(missing)[0]}; re-measure it for this configuration")
        bad = [k for k, v in self.entries.items() if not (math.isfinite(v) and v >= 0)]
        if bad:
            raise CorruptDatabaseError(f"latency table has invalid values at {bad[:3]}")
        if not (math.isfinite(self.intercept_ms) and math.isfinite(self.scale)):
            raise CorruptDatabaseError("latency table has a non-finite correction")
        self._additive: AdditiveLatencyModel | None = None

    # ---------------------------------------------------------------- measuring
    @classmethod
    def measure(cls, space: str, device: str | torch.device = "cpu", *,
                config: Mapping[str, Any] | None = None, threads: int | None = 1, rounds: int = 25,
                warmup: int = 3, min_sample_ms: float = 2.0, clock: str = "auto",
                quantile: float = 0.1, calibration: int = 10, random_state: RandomState = 0,
                progress: bool | None = None) -> MeasuredLatencyTable:
        """Measure the op table of ``space`` on ``device`` and calibrate it on random networks.

        The ops and the calibration networks are timed together, interleaved in every round.

        Args:
            space: ``"darts"`` or ``"nb201"``.
            device: ``"cpu"`` or a CUDA device (explicit, never implied).
            config: network configuration (default :data:`DEFAULT_CONFIGS`).
            threads: CPU threads (default 1; restored afterwards).
            rounds, warmup, min_sample_ms, quantile: timing protocol (see :func:`time_callables`).
                The default statistic is the 10% quantile of 25 rounds: on an idle machine it is
                the median within noise; on a shared one it resists interference (other
                processes only ever slow a sample down) and gives repeatable tables.
            clock: ``"auto"`` (thread CPU time with one CPU thread, else wall clock), ``"wall"``
                or ``"thread"`` (see :func:`resolve_clock`).
            calibration: random networks measured end to end to fit the correction (0: none).
            random_state: seed (order of timing, weights, calibration networks).
            progress: tqdm bars.

        Returns:
            The table.
        """
        from warmnas.nas.spaces import get_space

        sp = get_space(space)
        cfg = _config(sp.name, config)
        _check_threads(threads)
        dev = _torch_device(device)
        if dev.type not in ("cpu", "cuda"):
            raise InputError(f"device must be 'cpu' or a CUDA device, got {device!r}")
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise InputError("device 'cuda' was asked for but CUDA is not available; use device='cpu'")
        if isinstance(calibration, bool) or not isinstance(calibration, int) or calibration < 0:
            raise InputError(f"calibration must be an int >= 0, got {calibration!r}")
        rng = check_random_state(random_state)
        clk = resolve_clock(clock, dev, threads if dev.type == "cpu" else None)
        load_before = load_average()
        t_start = time.perf_counter()
        keys = sorted({s.op_key(op) for s in op_sites(sp.name, cfg) for op in _measured_ops(sp.name)})
        gen = torch.Generator().manual_seed(derive_seed(rng))
        fns = []
        inputs: dict[tuple[int, int, int], torch.Tensor] = {}
        archs = [random_architecture(sp.name, rng) for _ in range(calibration)]
        with _threads(threads if dev.type == "cpu" else None):
            for op, C_in, C_out, H, W, stride in keys:
                with torch.random.fork_rng(devices=[]):
                    torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=gen)))
                    module = sp.make_op(op, C_in, C_out, stride).to(dev).eval()
                shape = (C_in, H, W)
                if shape not in inputs:
                    inputs[shape] = torch.randn(cfg["batch_size"], C_in, H, W, generator=gen).to(dev)
                fns.append(_bind(module, inputs[shape]))
            # the calibration networks are timed in the same interleaved rounds as the ops, so a
            # change of the machine's load cannot bias the correction
            x = torch.randn(cfg["batch_size"], 3, cfg["input_size"], cfg["input_size"],
                            generator=gen).to(dev)
            nets = _build_networks(archs, sp.name, cfg, dev, gen)
            fns.extend(_bind(n, x) for n in nets)
            med, iqr = time_callables(fns, device=dev, rounds=rounds, warmup=warmup,
                                      min_sample_ms=min_sample_ms, clock=clk, quantile=quantile,
                                      random_state=rng, progress=progress)
            del nets
        entries = dict(zip(keys, med[:len(keys)].tolist()))
        info = local_device_info(dev, threads=threads if dev.type == "cpu" else None,
                                 batch_size=cfg["batch_size"])
        meta: dict[str, Any] = {
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "rounds": rounds, "warmup": warmup, "min_sample_ms": min_sample_ms, "clock": clk,
            "quantile": quantile, "load_avg_before": load_before,
            "iqr_ms": {"|".join(map(str, k)): float(v) for k, v in zip(keys, iqr)},
        }
        table = cls(sp.name, info, cfg, entries, meta=meta)
        if calibration:
            table = table.calibrated(archs, med[len(keys):])
        table.meta["seconds"] = round(time.perf_counter() - t_start, 3)
        table.meta["load_avg_after"] = load_average()
        logger.info("measured %d %s op entries on %s in %.1f s", len(keys), sp.name, info.name,
                    table.meta["seconds"])
        return table

    def calibrated(self, archs: Sequence[Any], measured_ms: Any) -> MeasuredLatencyTable:
        """A copy with the correction ``intercept + scale * sum`` fitted on measured networks.

        Least squares of the measured latencies on the op sums (the scale is kept positive; with
        fewer than 3 networks or equal sums, only the intercept is fitted).

        Args:
            archs: derived architectures.
            measured_ms: their measured end-to-end latencies (ms).
        """
        y = np.asarray(measured_ms, dtype=np.float64)
        if y.ndim != 1 or len(y) != len(archs) or len(y) == 0:
            raise InputError(f"measured_ms must hold one latency per arch ({len(archs)}), got shape {y.shape}")
        if not np.isfinite(y).all() or (y <= 0).any():
            raise InputError("measured_ms must be finite and positive")
        s = np.array([self.op_sum(a) for a in archs])
        scale = 1.0
        if len(y) >= 3 and np.ptp(s) > 0:
            A = np.c_[np.ones_like(s), s]
            (intercept, scale), *_ = np.linalg.lstsq(A, y, rcond=None)
            if scale <= 0:
                scale = 1.0
        intercept = float(np.mean(y - scale * s))
        pred = intercept + scale * s
        meta = dict(self.meta)
        from warmnas.nas.genotype import architecture_to_dict

        meta["calibration"] = {"n_networks": len(y), "measured_ms": y.tolist(),
                               "archs": [architecture_to_dict(a) for a in archs],
                               "median_abs_rel_error": float(np.median(np.abs(pred - y) / y))}
        return MeasuredLatencyTable(self.space, self.device, self.config, self.entries,
                                    intercept_ms=intercept, scale=float(scale), meta=meta)

    # ---------------------------------------------------------------- predicting
    def op_latency(self, op: str, C_in: int, C_out: int, H: int, W: int, stride: int) -> float:
        """Latency (ms) of one op at one shape (0 for ``none`` in the DARTS space)."""
        if self.space == "darts" and op == "none":
            return 0.0
        key = (op, C_in, C_out, H, W, stride)
        if key not in self.entries:
            raise InputError(f"no entry for {key} in this table")
        return self.entries[key]

    def cost_matrices(self) -> dict[str, np.ndarray]:
        """``{alpha key: (n_edges, n_ops)}``: each op's latency summed over the cells of the key."""
        from warmnas.nas.spaces import get_space

        sp = get_space(self.space)
        out = {k: np.zeros(s) for k, s in sp.alpha_shapes().items()}
        for site in self.sites:
            for j, op in enumerate(sp.primitives):
                out[site.key][site.edge, j] += self.op_latency(op, site.C_in, site.C_out, site.H,
                                                               site.W, site.stride)
        return out

    def additive_model(self, edge_weighting: str = "derived") -> AdditiveLatencyModel:
        """The table as an :class:`AdditiveLatencyModel` (with the correction)."""
        if self._additive is None or self._additive.edge_weighting != edge_weighting:
            self._additive = AdditiveLatencyModel(self.space, self.cost_matrices(), self.intercept_ms,
                                                  device=self.device, scale=self.scale,
                                                  edge_weighting=edge_weighting)
        return self._additive

    def op_sum(self, arch: Any) -> float:
        """Sum of the table latencies of the ops of a derived network (no correction)."""
        costs = self.additive_model().costs
        onehot = encode_arch(self.space, arch)
        return float(sum((onehot[k] * costs[k]).sum() for k in costs))

    def predict(self, arch: Any) -> float:
        """Predicted end-to-end latency (ms): ``intercept + scale * op_sum(arch)``."""
        return self.intercept_ms + self.scale * self.op_sum(arch)

    def expected_latency(self, alphas: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Differentiable expected latency (ms) under ``softmax(alphas)`` (see
        :class:`AdditiveLatencyModel`; DARTS edges weighted as in a derived cell)."""
        return self.additive_model().expected_latency(alphas)

    # ---------------------------------------------------------------- storage
    def to_dict(self) -> dict[str, Any]:
        """The versioned JSON-ready form."""
        return {
            "format": TABLE_FORMAT, "version": TABLE_VERSION, "space": self.space,
            "unit": "ms", "device": self.device.to_dict(), "config": dict(self.config),
            "correction": {"intercept_ms": self.intercept_ms, "scale": self.scale},
            "entries": [{"op": k[0], "C_in": k[1], "C_out": k[2], "H": k[3], "W": k[4],
                         "stride": k[5], "ms": v} for k, v in sorted(self.entries.items())],
            "meta": self.meta,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MeasuredLatencyTable:
        """Inverse of :meth:`to_dict`.

        Raises:
            CorruptDatabaseError: not a latency table, or malformed.
            SchemaVersionError: written by a newer release.
        """
        if not isinstance(data, Mapping) or data.get("format") != TABLE_FORMAT:
            raise CorruptDatabaseError(f"not a warmnas latency table (format must be {TABLE_FORMAT!r})")
        version = data.get("version")
        if not isinstance(version, int) or version < 1:
            raise CorruptDatabaseError(f"latency table has an invalid version {version!r}")
        if version > TABLE_VERSION:
            raise SchemaVersionError(f"latency table version {version} is newer than this release "
                                     f"reads ({TABLE_VERSION}); upgrade warmnas")
        try:
            entries = {(str(e["op"]), int(e["C_in"]), int(e["C_out"]), int(e["H"]), int(e["W"]),
                        int(e["stride"])): float(e["ms"]) for e in data["entries"]}
            corr = data.get("correction") or {}
            return cls(str(data["space"]), DeviceInfo.from_dict(data["device"]), data["config"],
                       entries, intercept_ms=float(corr.get("intercept_ms", 0.0)),
                       scale=float(corr.get("scale", 1.0)), meta=data.get("meta") or {})
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, (InputError, InputTypeError)):
                raise CorruptDatabaseError(f"latency table is malformed: {exc}") from exc
            raise CorruptDatabaseError(f"latency table is malformed: {type(exc).__name__}: {exc}") from exc

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the table as JSON atomically (a temporary file renamed into place)."""
        data = self.to_dict()
        return atomic_write(path, lambda fh: json.dump(data, fh, indent=1), binary=False)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> MeasuredLatencyTable:
        """Read a table written by :meth:`save`.

        Raises:
            MissingDataError, CorruptDatabaseError, SchemaVersionError.
        """
        p = Path(path)
        if not p.is_file():
            raise MissingDataError(f"latency table {p} not found; build one with "
                                   "`warmnas hardware measure`")
        try:
            data = json.loads(p.read_text())
        except ValueError as exc:
            raise CorruptDatabaseError(f"{p} is not valid JSON: {exc}") from exc
        return cls.from_dict(data)

    def __repr__(self) -> str:
        return (f"MeasuredLatencyTable(space={self.space!r}, device={self.device.name!r}, "
                f"entries={len(self.entries)}, intercept_ms={self.intercept_ms:.3g}, "
                f"scale={self.scale:.3g})")
