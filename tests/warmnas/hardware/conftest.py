"""Fixtures of the hardware tests: the published NB201/FBNet latency tables (read once)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest


@pytest.fixture(scope="session")
def nb201_table(shared_data: Path) -> Any:
    from warmnas.nas.nb201 import NB201Table

    return NB201Table.load(shared_data)


@pytest.fixture(scope="session")
def nb201_latency(shared_data: Path, nb201_table: Any) -> dict[str, Any]:
    """``{"devices", "matrix" (15625, 20), "ops" (15625, 6), "tables"}``."""
    from warmnas.hardware.tables import PublishedLatencyTable, op_index_matrix, published_devices

    devices = published_devices("nb201", shared_data)
    tables = {d: PublishedLatencyTable.load("nb201", d, shared_data, archs=nb201_table.archs)
              for d in devices}
    return {"devices": devices, "tables": tables,
            "matrix": np.column_stack([tables[d].latencies for d in devices]),
            "ops": op_index_matrix("nb201", nb201_table.archs)}


@pytest.fixture(scope="session")
def fbnet_latency(shared_data: Path) -> dict[str, Any]:
    from warmnas.hardware.tables import (
        PublishedLatencyTable,
        load_benchmark_archs,
        op_index_matrix,
        published_devices,
    )

    archs = load_benchmark_archs("fbnet", shared_data)
    devices = published_devices("fbnet", shared_data)
    tables = {d: PublishedLatencyTable.load("fbnet", d, shared_data, archs=archs) for d in devices}
    return {"devices": devices, "tables": tables, "archs": archs,
            "matrix": np.column_stack([tables[d].latencies for d in devices]),
            "ops": op_index_matrix("fbnet", archs)}
