"""Fixtures of the MetaNAS tests: Omniglot decoded once per session at 8x8, tiny tasks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import torch


@contextmanager
def one_thread() -> Iterator[None]:
    """One intra-op thread (module-scoped fixtures run before the autouse per-test one)."""
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(saved)


@pytest.fixture(scope="session")
def omniglot8(shared_data: Path, tmp_path_factory: pytest.TempPathFactory):
    from warmnas.nas.meta.omniglot import load_omniglot

    return load_omniglot(shared_data, size=8, cache_dir=tmp_path_factory.mktemp("omniglot"))


@pytest.fixture()
def synthetic_tasks():
    """3-way 2-shot tasks from 6 random 8x8 classes (class-dependent brightness)."""
    from warmnas.nas.meta.tasks import ClassTaskDistribution

    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(6), 8)
    X = (rng.integers(0, 120, (48, 8, 8)) + 20 * y[:, None, None]).astype(np.uint8)
    return ClassTaskDistribution(X, y, n_way=3, k_shot=2, q_query=2)
