"""Edge cases found by the audit of the meta-database as users meet it: concurrent writers of the
same rows, failed opens, bad values, files of other programs, read-only locations."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from warmnas.errors import CorruptDatabaseError, SchemaVersionError
from warmnas.metadb import MetaDatabase
from warmnas.space import ConfigSpace, Integer

SPACE = ConfigSpace("toy", [Integer("k", 0, 99)])


@pytest.mark.postgres
def test_two_writers_of_the_same_new_rows_do_not_fail(pg_url):
    """Two processes importing the same data at once: the second one's optimistic plain INSERT
    meets the first one's rows; the clash must be retried (ON CONFLICT), not surface as a raw
    psycopg UniqueViolation."""
    db = MetaDatabase(pg_url)
    db.add_task("t/1")
    db.add_metric("error", "minimize")
    records = [{"task": "t/1", "config": {"k": i}, "value": i / 100} for i in range(10)]
    db.add_configs([r["config"] for r in records], space=SPACE)
    errors: list[BaseException] = []
    first_inserted = threading.Event()

    def hold(done: int, total: int) -> None:
        first_inserted.set()
        time.sleep(1.0)  # keep the rows uncommitted while the second writer starts

    def first() -> None:
        try:
            db.add_evaluations(records, metric="error", space="toy", on_progress=hold)
        except BaseException as exc:
            errors.append(exc)

    def second() -> None:
        first_inserted.wait(30)
        try:
            db.add_evaluations(records, metric="error", space="toy")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    ev = db.evaluations()
    assert len(ev) == 10 and not ev.duplicated(["task", "config_id"]).any()
    db.dispose()


def _other_program_db(path) -> None:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE invoices (id INTEGER)")
    con.execute("INSERT INTO invoices VALUES (1)")
    con.commit()
    con.close()


def test_refused_files_are_left_exactly_as_they_were(tmp_path):
    """Opening another program's SQLite file (or one of a newer warmnas) writable must not switch
    it to the WAL journal mode (a persistent change of the file) before refusing it."""
    other = tmp_path / "invoices.db"
    _other_program_db(other)
    before = other.read_bytes()
    with pytest.raises(CorruptDatabaseError, match="SQLite database of another program"):
        MetaDatabase(other)
    assert other.read_bytes() == before
    assert not (tmp_path / "invoices.db-wal").exists()
    con = sqlite3.connect(other)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    con.close()

    newer = tmp_path / "newer.db"
    MetaDatabase(newer).dispose()
    con = sqlite3.connect(newer)
    con.execute("PRAGMA journal_mode = DELETE")
    con.execute("UPDATE warmnas_meta SET value = '99' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    before = newer.read_bytes()
    with pytest.raises(SchemaVersionError, match="schema version 99"):
        MetaDatabase(newer)
    assert newer.read_bytes() == before


def test_an_accepted_file_is_switched_to_wal(tmp_path):
    path = tmp_path / "meta.db"
    db = MetaDatabase(path)
    db.add_task("t/1")
    with db._read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    db.dispose()
