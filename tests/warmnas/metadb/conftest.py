"""Fixtures of the meta-database tests: a fresh SQLite file or PostgreSQL schema per test.

PostgreSQL tests get their own schema (``search_path`` set through the URL) so they can run in
parallel under pytest-xdist and never see each other's tables.
"""

from __future__ import annotations

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
