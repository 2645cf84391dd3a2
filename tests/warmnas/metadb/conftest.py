"""Fixtures of the meta-database tests: a fresh SQLite file or PostgreSQL schema per test.

PostgreSQL tests get their own schema (``search_path`` set through the URL) so they can run in
parallel under pytest-xdist and never see each other's tables.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'meta.db'}"


@pytest.fixture(params=BACKENDS)
def db_url(request) -> str:
    """A URL of an empty meta-database: a SQLite file, then a PostgreSQL schema."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def db(db_url):
    from warmnas.metadb import MetaDatabase

    database = MetaDatabase(db_url)
    yield database
    database.dispose()


def _damage_pages(path: Path, first_page: int) -> None:
    """Fold a SQLite file's WAL into it (journal mode DELETE), then overwrite the first 64
    bytes of every 4 KiB page from ``first_page`` on."""
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.execute("PRAGMA journal_mode = DELETE")
    con.close()
    data = bytearray(path.read_bytes())
    page = 4096
    for start in range(first_page * page, len(data), page):
        data[start:start + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))


@pytest.fixture
def damage_sqlite_pages() -> Callable[[Path, int], None]:
    """``damage(path, first_page)``: a SQLite file damaged from that page on."""
    return _damage_pages
