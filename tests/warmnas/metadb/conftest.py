"""Fixtures of the meta-database tests: a fresh SQLite file or PostgreSQL schema per test.

PostgreSQL tests get their own schema (``search_path`` set through the URL) so they can run in
parallel under pytest-xdist and never see each other's tables.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _with_schema(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


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
    try:
        yield _with_schema(postgres_url, schema)
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()


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
