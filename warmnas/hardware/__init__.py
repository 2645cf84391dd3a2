"""Hardware-aware NAS: latency tables, latency models, few-shot prediction, penalties, constrained search.

Submodules:
    base         ``LatencyModel`` protocol, ``DeviceInfo``, ``AdditiveLatencyModel``, ``encode_arch``
    tables       published tables: HELP's NB201/FBNet latencies (20 devices), HW-NAS-Bench FBNet LUT
    measure      ``MeasuredLatencyTable``: op tables measured on the local CPU/GPU, network timing
    fewshot      ``FewShotLatencyPredictor``: a new device's latencies from ~10 samples
    penalties    ProxylessNAS / FBNet penalties, MnasNet reward, latency-penalised acquisition
    constrained  latency-constrained search on NAS-Bench-201 with an honest query budget
    pareto       Pareto fronts and accuracy-vs-latency plots

Names are imported lazily so ``import warmnas.hardware`` stays cheap.

Example:
    >>> from warmnas.hardware import MeasuredLatencyTable, AdditiveLatencyPenalty   # doctest: +SKIP
    >>> table = MeasuredLatencyTable.measure("nb201", "cpu")                        # doctest: +SKIP
    >>> search = DARTSSearch("nb201", latency_penalty=AdditiveLatencyPenalty(table, 10.0, 0.5))  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from warmnas._lazy import lazy_attribute

_LAZY: dict[str, str] = {
    "LatencyModel": "warmnas.hardware.base",
    "DeviceInfo": "warmnas.hardware.base",
    "AdditiveLatencyModel": "warmnas.hardware.base",
    "encode_arch": "warmnas.hardware.base",
    "FBNET_PRIMITIVES": "warmnas.hardware.base",
    "PublishedLatencyTable": "warmnas.hardware.tables",
    "published_devices": "warmnas.hardware.tables",
    "device_info": "warmnas.hardware.tables",
    "fbnet_lut_model": "warmnas.hardware.tables",
    "MeasuredLatencyTable": "warmnas.hardware.measure",
    "measure_networks": "warmnas.hardware.measure",
    "random_architecture": "warmnas.hardware.measure",
    "FewShotLatencyPredictor": "warmnas.hardware.fewshot",
    "leave_one_device_out": "warmnas.hardware.fewshot",
    "AdditiveLatencyPenalty": "warmnas.hardware.penalties",
    "MultiplicativeLatencyPenalty": "warmnas.hardware.penalties",
    "latency_penalty": "warmnas.hardware.penalties",
    "mnasnet_reward": "warmnas.hardware.penalties",
    "latency_penalized_acquisition": "warmnas.hardware.penalties",
    "QueryOracle": "warmnas.hardware.constrained",
    "constrained_search": "warmnas.hardware.constrained",
    "constrained_optimum": "warmnas.hardware.constrained",
    "nb201_constrained_search": "warmnas.hardware.constrained",
    "pareto_front": "warmnas.hardware.pareto",
    "plot_pareto": "warmnas.hardware.pareto",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    return lazy_attribute(__name__, _LAZY, globals(), name)


def __dir__() -> list[str]:
    return sorted(__all__)
