"""Schema version, migrations, corrupt and foreign files."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest
import sqlalchemy as sa

from warmnas.errors import CorruptDatabaseError, MissingDataError, SchemaVersionError
from warmnas.metadb import MetaDatabase
from warmnas.metadb import _schema as S
from warmnas.space import ConfigSpace, Integer, NB201Space, canonical_json

SPACE = ConfigSpace("toy", [Integer("k", 1, 9)])


def _make_v1(url: str) -> None:
    """A database exactly as schema version 1 laid it out, with some content."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for table in S.TABLES_BY_VERSION[1]:
            table.create(conn)
        conn.execute(S.meta.insert(), [{"key": "schema_version", "value": "1"}])
        conn.execute(S.tasks.insert(), [{"task_id": "t/1"}, {"task_id": "t/2"}])
        conn.execute(S.spaces.insert(), [{"name": "toy", "definition": canonical_json(SPACE.to_json())}])
        conn.execute(S.configs.insert(), [{"config_id": SPACE.config_id({"k": 3}), "space_id": 1,
                                           "config": canonical_json({"k": 3})}])
        conn.execute(S.metrics.insert(), [{"name": "error", "direction": "minimize"}])
        conn.execute(S.evaluations.insert(), [
            {"metric_id": 1, "task_id": 1, "config_id": 1, "device": "", "fidelity": 1.0, "seed": 0,
             "value": 0.25, "timestamp": 0.0},
            {"metric_id": 1, "task_id": 2, "config_id": 1, "device": "", "fidelity": 1.0, "seed": 0,
             "value": 0.5, "timestamp": 0.0},
        ])
    engine.dispose()


def test_migration_v1_to_current(db_url):
    _make_v1(db_url)
    engine = sa.create_engine(db_url)
    assert S.nas_records.name not in sa.inspect(engine).get_table_names()
    engine.dispose()
    if db_url.startswith("sqlite"):
        with pytest.raises(SchemaVersionError, match="schema version 1 .*open it writable once to upgrade"):
            MetaDatabase(db_url, read_only=True)
    db = MetaDatabase(db_url)
    assert db.schema_version() == S.SCHEMA_VERSION == 3  # v1 -> v2 -> v3 in one transaction
    m = db.performance_matrix("error")
    assert m.loc["t/1"].iloc[0] == 0.25 and m.loc["t/2"].iloc[0] == 0.5
    db.add_nas_record("t/1", "nb201", {"arch": NB201Space.arch_string(["none"] * 6)},
                      {"cell": np.zeros((6, 5))})
    assert len(db.nas_records()) == 1
    assert db.failures().empty
    db.dispose()
    assert MetaDatabase(db_url).schema_version() == 3  # opening again changes nothing


def test_newer_schema_is_refused_and_untouched(tmp_path):
    path = tmp_path / "new.db"
    MetaDatabase(path).dispose()
    con = sqlite3.connect(path)
    con.execute("UPDATE warmnas_meta SET value = '99' WHERE key = 'schema_version'")
    con.commit()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    before = path.read_bytes()
    with pytest.raises(SchemaVersionError, match="schema version 99, newer than this warmnas reads"):
        MetaDatabase(path)
    with pytest.raises(SchemaVersionError, match="upgrade warmnas"):
        MetaDatabase(path, read_only=True)
    assert path.read_bytes() == before


def test_not_a_sqlite_file(tmp_path):
    path = tmp_path / "junk.db"
    path.write_bytes(b"PK\x03\x04 this is a zip, not a database" * 10)
    with pytest.raises(CorruptDatabaseError, match="is not a SQLite database"):
        MetaDatabase(path)
    assert path.read_bytes().startswith(b"PK")


def test_damaged_sqlite_file(tmp_path, damage_sqlite_pages):
    path = tmp_path / "dam.db"
    db = MetaDatabase(path)
    db.add_tasks([{"task": f"t/{i}", "name": "x" * 200} for i in range(2000)])
    db.dispose()
    damage_sqlite_pages(path, 2)  # every page after the schema page
    with pytest.raises(CorruptDatabaseError, match="damaged"):
        MetaDatabase(path).tasks()


def test_sqlite_file_of_another_program(tmp_path):
    path = tmp_path / "other.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE invoices (id INTEGER)")
    con.commit()
    con.close()
    with pytest.raises(CorruptDatabaseError, match="SQLite database of another program"):
        MetaDatabase(path)


def test_warmnas_tables_without_version(tmp_path):
    path = tmp_path / "half.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    S.tasks.create(engine)
    engine.dispose()
    with pytest.raises(CorruptDatabaseError, match="no warmnas_meta table"):
        MetaDatabase(path)


def test_missing_files(tmp_path):
    with pytest.raises(MissingDataError, match="opened read-only, so not created"):
        MetaDatabase(tmp_path / "nope.db", read_only=True)
    with pytest.raises(MissingDataError, match="does not exist"):
        MetaDatabase(tmp_path / "no" / "such" / "dir.db")
    assert not (tmp_path / "nope.db").exists()
