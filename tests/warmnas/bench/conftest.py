"""Fixtures of the benchmark tests: the Oboe table, small studies, meta-database URLs.

A Dask LocalCluster (2 worker processes, 1 thread each) is started once per test module that
asks for ``dask_executor`` and closed at its end. PostgreSQL tests get a fresh schema each.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def oboe():
    """(prior, evaluator) of the Oboe table in the embedded default meta-database."""
    from warmnas.bench.surrogate import load_table

    return load_table("oboe")


@pytest.fixture(scope="session")
def oboe_tasks(oboe):
    """Six Oboe tasks with meta-features, fitted leave-one-out."""
    from warmnas.bench.surrogate import surrogate_tasks

    prior, ev = oboe
    return surrogate_tasks(prior, ev, 6, require_meta_features=True)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'bench.db'}"


@pytest.fixture(scope="module")
def dask_executor():
    """A DaskExecutor on a LocalCluster of 2 worker processes (1 thread each), per module."""
    pytest.importorskip("distributed")
    from warmnas.bench.executors import DaskExecutor

    ex = DaskExecutor(n_workers=2)
    try:
        yield ex
    finally:
        ex.close()


@pytest.fixture
def openml_cache_dir(shared_data, tmp_path) -> Path:
    """A writable copy of the shared OpenML cache (openml writes .pkl files next to the data)."""
    dest = tmp_path / "openml-cache"
    shutil.copytree(shared_data / "openml-cache", dest)
    for p in [dest, *dest.rglob("*")]:
        p.chmod(p.stat().st_mode | 0o200)
    return dest
