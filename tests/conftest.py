"""Shared fixtures: the real data folder, a PostgreSQL URL, a CUDA device.

Environment:
    WARMNAS_SHARED_DATA            folder holding the shared real data (default: ../shared/data
                                   beside the repository).
    WARMNAS_REQUIRE_SHARED_DATA=1  fail instead of skip when that folder is missing (CI sets it).
    WARMNAS_TEST_POSTGRES_URL      SQLAlchemy URL of an empty PostgreSQL database for tests.
    WARMNAS_REQUIRE_POSTGRES=1     fail instead of skip when PostgreSQL is not reachable (CI sets it).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0", "false", "no")


def shared_data_dir() -> Path:
    """The shared real-data folder (may not exist)."""
    return Path(os.environ.get("WARMNAS_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = shared_data_dir()
    if not (path / "SOURCES.md").exists():
        msg = f"shared real data not found at {path}; set WARMNAS_SHARED_DATA"
        if _flag("WARMNAS_REQUIRE_SHARED_DATA"):
            pytest.fail(msg)
        pytest.skip(msg)
    return path


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = os.environ.get("WARMNAS_TEST_POSTGRES_URL")
    if not url:
        if _flag("WARMNAS_REQUIRE_POSTGRES"):
            pytest.fail("WARMNAS_REQUIRE_POSTGRES is set but WARMNAS_TEST_POSTGRES_URL is not")
        pytest.skip("set WARMNAS_TEST_POSTGRES_URL to run the PostgreSQL tests")
    return url


@pytest.fixture
def pg_url(postgres_url: str) -> Iterator[str]:
    """A PostgreSQL URL whose tables live in a fresh schema (dropped afterwards)."""
    sa = pytest.importorskip("sqlalchemy")
    schema = "wn_test_" + uuid.uuid4().hex[:12]
    engine = sa.create_engine(postgres_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    except sa.exc.OperationalError as exc:
        engine.dispose()
        pytest.fail(f"PostgreSQL at {postgres_url} is not reachable: {exc}")
    sep = "&" if "?" in postgres_url else "?"
    try:
        yield f"{postgres_url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """One intra-op torch thread during the test: tiny networks gain nothing from more, and the
    CPU is shared by the xdist workers."""
    import torch

    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(saved)


@pytest.fixture(scope="session")
def cuda_device() -> str:
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    return "cuda"
