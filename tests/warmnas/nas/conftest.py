"""The NAS tests run tiny networks: one intra-op thread avoids oversubscribing a shared CPU."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[3]


def tiny_images(n: int = 48, k: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random 8x8 RGB images (uint8, NHWC) in ``k`` classes the red channel tells apart."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, size=n)
    X = rng.integers(0, 256, size=(n, 8, 8, 3)).astype(np.uint8)
    X[..., 0] = np.clip(X[..., 0].astype(int) // 2 + 60 * y[:, None, None], 0, 255)
    return X, y


@pytest.fixture(autouse=True)
def _one_torch_thread(one_torch_thread: None) -> None:
    """Every NAS test runs with one intra-op thread (``one_torch_thread`` of tests/conftest.py)."""


@pytest.fixture
def nas_gpu_script() -> ModuleType:
    """``bench/nas_gpu.py`` loaded as a module (a fresh copy per test)."""
    spec = importlib.util.spec_from_file_location("_nas_gpu_bench", REPO / "bench" / "nas_gpu.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
