"""Failed evaluations: add_failures / failures(), success wins, schema v2 -> v3 (SQLite and PostgreSQL)."""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from warmnas.errors import (
    ConfigSpaceError,
    InputError,
    InputTypeError,
    SchemaVersionError,
    StorageError,
    UnknownIdError,
)
from warmnas.metadb import MetaDatabase
from warmnas.metadb import _schema as S
from warmnas.space import ConfigSpace, Integer, canonical_json

SPACE = ConfigSpace("toy", [Integer("k", 1, 9)])
C1, C2, C3 = {"k": 1}, {"k": 2}, {"k": 3}
FAILURE_COLUMNS = ["task", "config_id", "metric", "fidelity", "seed", "device", "error_type",
                   "message", "elapsed_s", "attempts", "source", "timestamp"]


def _fill(db: MetaDatabase) -> None:
    db.add_tasks([{"task": "t/a"}, {"task": "t/b"}])
    db.add_evaluations([{"task": "t/a", "config": C1, "value": 0.3}], metric="error", space=SPACE)


def test_failures_are_stored_read_back_and_never_in_the_matrix(db):
    _fill(db)
    n = db.add_failures([
        {"task": "t/a", "config": C2, "error_type": "ValueError", "message": "cannot fit",
         "elapsed_s": 1.5, "timestamp": 100.0},
        {"task": "t/b", "config": C3, "error": "TimeoutError: took longer than 60 s\nstopped",
         "elapsed_s": 60.0, "timestamp": 101.0},
    ], metric="error", space=SPACE, source="unit")
    assert n == 2
    f = db.failures()
    assert list(f.columns) == FAILURE_COLUMNS
    assert len(f) == 2
    row = f.set_index("task").loc["t/b"]
    assert row["config_id"] == SPACE.config_id(C3)
    assert (row["error_type"], row["message"]) == ("TimeoutError", "took longer than 60 s stopped")
    assert row["elapsed_s"] == 60.0 and row["attempts"] == 1 and row["source"] == "unit"
    assert row["timestamp"] == 101.0 and row["fidelity"] == 1.0 and row["seed"] == 0
    assert f["attempts"].dtype == np.int64 and f["elapsed_s"].dtype == np.float64
    # failures are not evaluations: the matrix, evaluations() and top_k do not see them
    m = db.performance_matrix("error")
    assert list(m.index) == ["t/a"] and list(m.columns) == [SPACE.config_id(C1)]
    assert len(db.evaluations()) == 1
    assert list(db.top_k("t/a", "error")["config_id"]) == [SPACE.config_id(C1)]
    # filters
    assert list(db.failures(task="t/a")["config_id"]) == [SPACE.config_id(C2)]
    assert list(db.failures(task=["t/b"])["task"]) == ["t/b"]
    assert len(db.failures(metric="error", space="toy")) == 2
    assert db.info()["counts"]["failures"] == 2
    # leave-one-task-out views leave their failures out too
    assert list(db.without("t/a").failures()["task"]) == ["t/b"]


def test_repeated_failures_count_attempts_and_a_replay_changes_nothing(db):
    _fill(db)
    rec = {"task": "t/a", "config": C2, "error_type": "ValueError", "message": "first",
           "elapsed_s": 1.0, "timestamp": 100.0}
    db.add_failures([rec], metric="error", space=SPACE)
    before = db.snapshot_digest()
    db.add_failures([rec], metric="error", space=SPACE)  # the same failure again: idempotent
    assert db.snapshot_digest() == before
    db.add_failures([{**rec, "message": "second", "elapsed_s": 2.0, "timestamp": 200.0}],
                    metric="error", space=SPACE)
    row = db.failures().iloc[0]
    assert row["attempts"] == 2 and row["message"] == "second" and row["elapsed_s"] == 2.0
    assert row["timestamp"] == 200.0
    # an older failure arriving late counts, but the latest message stays
    db.add_failures([{**rec, "message": "late", "timestamp": 150.0, "attempts": 3}],
                    metric="error", space=SPACE)
    row = db.failures().iloc[0]
    assert row["attempts"] == 5 and row["message"] == "second" and row["timestamp"] == 200.0
    # two failures of one key in one batch are two attempts; the later one's fields are kept
    db.add_failures([{**rec, "config": C3, "message": "b", "timestamp": 20.0},
                     {**rec, "config": C3, "message": "a", "timestamp": 10.0}],
                    metric="error", space=SPACE)
    row = db.failures(task="t/a").set_index("config_id").loc[SPACE.config_id(C3)]
    assert row["attempts"] == 2 and row["message"] == "b"


def test_a_success_replaces_the_failure_and_a_failure_never_hides_a_success(db):
    _fill(db)
    db.add_failures([{"task": "t/a", "config": C2, "error_type": "ValueError", "message": "x"}],
                    metric="error", space=SPACE)
    assert len(db.failures()) == 1
    db.add_evaluations([{"task": "t/a", "config": C2, "value": 0.2}], metric="error", space=SPACE,
                       on_conflict="ignore")
    assert db.failures().empty
    assert db.info()["counts"]["failures"] == 0  # deleted, not only hidden
    # a failure of a key that has a stored success is not stored
    assert db.add_failures([{"task": "t/a", "config": C1, "error_type": "ValueError",
                             "message": "y"}], metric="error", space=SPACE) == 0
    assert db.failures().empty
    # another fidelity or seed is another key
    db.add_failures([{"task": "t/a", "config": C1, "fidelity": 0.5, "seed": 1,
                      "error_type": "ValueError", "message": "z"}], metric="error", space=SPACE)
    f = db.failures()
    assert (f["fidelity"].tolist(), f["seed"].tolist()) == ([0.5], [1])
    # add_matrix is a success path too
    db.add_failures([{"task": "t/b", "config": C3, "error_type": "E", "message": "m"}],
                    metric="error", space=SPACE)
    db.add_matrix(pd.DataFrame({SPACE.config_id(C3): [0.7]}, index=["t/b"]), metric="error")
    assert list(db.failures()["task"]) == ["t/a"]


def test_delete_tasks_and_copy_from_carry_failures(db, tmp_path):
    _fill(db)
    db.add_failures([{"task": "t/a", "config": C2, "error_type": "ValueError", "message": "x",
                      "elapsed_s": 3.0, "timestamp": 5.0, "attempts": 2},
                     {"task": "t/b", "config": C2, "error_type": "ValueError", "message": "y"}],
                    metric="error", space=SPACE, source="s")
    copy = MetaDatabase(tmp_path / "copy.db").copy_from(db)
    pd.testing.assert_frame_equal(copy.failures(), db.failures())
    copy.dispose()
    assert db.delete_tasks(["t/b"]) == 1
    assert list(db.failures()["task"]) == ["t/a"]


def test_bad_failure_input_is_refused_with_nothing_written(db):
    _fill(db)
    before = db.snapshot_digest()
    ok = {"task": "t/a", "config": C2, "error_type": "ValueError", "message": "m"}
    kw = {"metric": "error", "space": SPACE}
    cases = [
        (InputError, "need an 'error_type'", {k: v for k, v in ok.items() if k != "error_type"}),
        (InputError, "need a 'message'", {k: v for k, v in ok.items() if k != "message"}),
        (InputError, "error_type must be an exception name", {**ok, "error_type": "not a name"}),
        (InputTypeError, "message must be a string", {**ok, "message": 3}),
        (InputError, "'elapsed_s' must be >= 0", {**ok, "elapsed_s": -1.0}),
        (InputError, "'elapsed_s' is inf", {**ok, "elapsed_s": float("inf")}),
        (InputTypeError, "'elapsed_s' must hold numbers", {**ok, "elapsed_s": "slow"}),
        (InputError, "'attempts' must hold integers >= 1", {**ok, "attempts": 0}),
        (InputError, "'attempts' must hold integers >= 1", {**ok, "attempts": 1.5}),
        (InputError, "unknown fields \\['value'\\]", {**ok, "value": 0.5}),
        (InputError, "NUL character", {**ok, "message": "a\x00b"}),
        (UnknownIdError, "unknown task id", {**ok, "task": "t/zzz"}),
        (ConfigSpaceError, "k", {**ok, "config": {"k": 99}}),
        (InputError, "'error' must be 'Type: message'", {**{k: v for k, v in ok.items()
                                                         if k not in ("error_type", "message")},
                                                      "error": "no type here"}),
    ]
    for exc, match, rec in cases:
        with pytest.raises(exc, match=match):
            db.add_failures([dict(ok), rec], **kw)
    with pytest.raises(InputError, match="lack a metric"):
        db.add_failures([ok], space=SPACE)
    with pytest.raises(InputTypeError, match="records must be a DataFrame"):
        db.add_failures("ValueError: x", **kw)
    assert db.snapshot_digest() == before
    assert db.add_failures([], **kw) == 0
    with pytest.raises(UnknownIdError, match="unknown metric 'nope'"):
        db.failures(metric="nope")
    with pytest.raises(StorageError, match="read-only"):
        db.without("t/a").add_failures([ok], **kw)


def test_a_long_message_becomes_one_line_of_at_most_1000_characters(db):
    _fill(db)
    db.add_failures([{"task": "t/a", "config": C2, "error_type": "MemoryError",
                      "message": "Traceback:\n  line\t1\n" + "x" * 5000}], metric="error", space=SPACE)
    msg = db.failures().iloc[0]["message"]
    assert "\n" not in msg and len(msg) == 1000 and msg.startswith("Traceback: line 1 xxx")
    assert msg.endswith("...")


# ------------------------------------------------------------------------------------------
# schema v2 -> v3
# ------------------------------------------------------------------------------------------


def _make_v2(url: str) -> None:
    """A database exactly as schema version 2 laid it out, with some content."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for table in S.TABLES_BY_VERSION[2]:
            table.create(conn)
        conn.execute(S.meta.insert(), [{"key": "schema_version", "value": "2"}])
        conn.execute(S.tasks.insert(), [{"task_id": "t/1"}, {"task_id": "t/2"}])
        conn.execute(S.spaces.insert(), [{"name": "toy", "definition": canonical_json(SPACE.to_json())}])
        conn.execute(S.configs.insert(), [{"config_id": SPACE.config_id(C1), "space_id": 1,
                                           "config": canonical_json(C1)},
                                          {"config_id": SPACE.config_id(C2), "space_id": 1,
                                           "config": canonical_json(C2)}])
        conn.execute(S.metrics.insert(), [{"name": "error", "direction": "minimize"}])
        conn.execute(S.evaluations.insert(), [
            {"metric_id": 1, "task_id": 1, "config_id": 1, "device": "", "fidelity": 1.0, "seed": 0,
             "value": 0.25, "timestamp": 0.0},
            {"metric_id": 1, "task_id": 2, "config_id": 1, "device": "", "fidelity": 1.0, "seed": 0,
             "value": 0.5, "timestamp": 0.0},
        ])
    engine.dispose()


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_a_v2_database_is_read_read_only_and_upgraded_when_opened_writable(db_url):
    _make_v2(db_url)
    # read-only: served as it is (nothing written; failures read as empty)
    ro = MetaDatabase(db_url, read_only=True)
    assert ro.schema_version() == 2
    assert ro.performance_matrix("error").loc["t/2"].iloc[0] == 0.5
    assert ro.failures().empty and list(ro.failures().columns) == FAILURE_COLUMNS
    assert ro.info()["counts"]["failures"] == 0
    ro.snapshot_digest()
    with pytest.raises(StorageError, match="read-only"):
        ro.add_failures([{"task": "t/1", "config_id": SPACE.config_id(C2), "error_type": "E",
                          "message": "m"}], metric="error")
    ro.dispose()
    assert S.evaluation_failures.name not in _tables(db_url)
    # writable: upgraded in place
    db = MetaDatabase(db_url)
    assert db.schema_version() == S.SCHEMA_VERSION == 3
    assert S.evaluation_failures.name in _tables(db_url)
    assert db.performance_matrix("error").loc["t/1"].iloc[0] == 0.25
    db.add_failures([{"task": "t/1", "config_id": SPACE.config_id(C2), "error_type": "E",
                      "message": "m"}], metric="error")
    assert len(db.failures()) == 1
    db.dispose()
    assert MetaDatabase(db_url).schema_version() == 3  # opening again changes nothing


def test_a_failing_migration_leaves_the_v2_database_as_it_was(db_url, monkeypatch):
    _make_v2(db_url)

    def broken(conn):
        S.evaluation_failures.create(conn)
        raise RuntimeError("disk full")

    monkeypatch.setitem(S.MIGRATIONS, 2, broken)
    with pytest.raises(RuntimeError, match="disk full"):
        MetaDatabase(db_url)
    assert S.evaluation_failures.name not in _tables(db_url)
    ro = MetaDatabase(db_url, read_only=True)
    assert ro.schema_version() == 2
    ro.dispose()


def test_a_v1_database_opened_read_only_still_asks_for_the_upgrade(tmp_path):
    path = tmp_path / "v1.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        for table in S.TABLES_BY_VERSION[1]:
            table.create(conn)
        conn.execute(S.meta.insert(), [{"key": "schema_version", "value": "1"}])
    engine.dispose()
    with pytest.raises(SchemaVersionError, match="schema version 1 .*open it writable once"):
        MetaDatabase(path, read_only=True)
    assert MetaDatabase(path).schema_version() == 3
    con = sqlite3.connect(path)
    names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    con.close()
    assert {S.nas_records.name, S.evaluation_failures.name} <= names


def test_a_nan_evaluation_points_to_add_failures(db):
    _fill(db)
    with pytest.raises(InputError, match=r"'value' is NaN.*db.add_failures\(\)"):
        db.add_evaluations([{"task": "t/a", "config": C2, "value": float("nan")}], metric="error",
                           space=SPACE)
