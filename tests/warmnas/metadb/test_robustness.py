"""Edge cases found by the audit of the meta-database as users meet it: concurrent writers of the
same rows, failed opens, bad values, files of other programs, read-only locations."""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from warmnas.errors import (
    CorruptDatabaseError,
    InputError,
    InputTypeError,
    SchemaVersionError,
    StorageError,
    UnknownIdError,
)
from warmnas.metadb import MetaDatabase
from warmnas.metadb.importers import import_aslib, import_oboe, import_pmf_features, import_tabrepo
from warmnas.metadb.openml_cache import OpenMLCache, import_openml_cache
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


# ------------------------------------------------------------------------------------------------
# importers on damaged files: InputError naming the file, nothing written
# ------------------------------------------------------------------------------------------------

def _copy(src, dst, names):
    dst.mkdir()
    for name in names:
        shutil.copy(src / name, dst / name)
    return dst


GARBAGE = b"\x00\xff\xfe binary garbage \x89PNG" * 8


@pytest.mark.shared_data
@pytest.mark.parametrize("name, content, match", [
    ("classification.json", GARBAGE, r"classification.json: it is not UTF-8 text"),
    ("dataset_sizes.csv", b"dataset,rows,cols\n31,1000,20\n37,768", r"dataset_sizes.csv: the row of dataset 37"),
])
def test_oboe_damaged_files(tmp_path, shared_data, name, content, match):
    folder = _copy(shared_data / "oboe", tmp_path / "oboe",
                   ["error_matrix.csv", "runtime_matrix.csv", "classification.json", "dataset_sizes.csv"])
    (folder / name).write_bytes(content)
    db = MetaDatabase(tmp_path / "m.db")
    before = db.snapshot_digest()
    with pytest.raises(InputError, match=match):
        import_oboe(db, folder)
    assert db.snapshot_digest() == before


@pytest.mark.shared_data
@pytest.mark.parametrize("content, match", [
    (GARBAGE, r"configs_lightgbm.json: it is not UTF-8 text"),
    (b'{"LightGBM_c1": {"hyperparameters": {"learning_rate": 0.0', r"configs_lightgbm.json as JSON \(truncated"),
    (b"[1, 2, 3]", r"configs_lightgbm.json must be a JSON object"),
])
def test_tabrepo_damaged_configs(tmp_path, shared_data, content, match):
    folder = _copy(shared_data / "tabrepo-lightgbm", tmp_path / "tabrepo",
                   ["results_ranked_by_dataset_valid.csv", "task_metadata_244.csv"])
    (folder / "configs_lightgbm.json").write_bytes(content)
    db = MetaDatabase(tmp_path / "m.db")
    with pytest.raises(InputError, match=match):
        import_tabrepo(db, folder)
    assert db.tasks().empty


@pytest.mark.shared_data
@pytest.mark.parametrize("content, match", [
    (GARBAGE, r"ids_train.csv: it is not UTF-8 text"),
    (b"31\n37\nnot-an-id\n", r"ids_train.csv must list OpenML dataset ids, one a line; found 'not-an-id'"),
])
def test_pmf_damaged_split_file(tmp_path, shared_data, content, match):
    folder = _copy(shared_data / "pmf-metafeatures", tmp_path / "pmf", ["data_feats_featurized.csv"])
    (folder / "ids_train.csv").write_bytes(content)
    db = MetaDatabase(tmp_path / "m.db")
    with pytest.raises(InputError, match=match):
        import_pmf_features(db, folder)
    assert db.tasks().empty


@pytest.mark.shared_data
def test_aslib_binary_description(tmp_path, shared_data):
    src = shared_data / "aslib-openml-weka-2017"
    folder = _copy(src, tmp_path / "aslib", ["algorithm_runs.arff", "feature_values.arff"])
    (folder / "description.txt").write_bytes(GARBAGE)
    db = MetaDatabase(tmp_path / "m.db")
    with pytest.raises(InputError, match=r"description.txt: it is not UTF-8 text"):
        import_aslib(db, folder)
    assert db.tasks().empty


# ------------------------------------------------------------------------------------------------
# bad values: the same clear error on every backend, before anything is written
# ------------------------------------------------------------------------------------------------

R = {"task": "t/1", "config": {"k": 1}, "value": 0.5}


@pytest.mark.parametrize("call, error, match", [
    # text longer than the columns hold: SQLite stored it, PostgreSQL failed deep in the driver
    (lambda db: db.add_evaluations([{**R, "source": "x" * 201}], metric="error", space=SPACE),
     InputError, r"source is 201 characters long .* at most 200"),
    (lambda db: db.add_evaluations([{**R, "device": "d" * 101}], metric="error", space=SPACE),
     InputError, r"device 'd+' is not a valid name: use 1-100"),
    (lambda db: db.add_task("t/2", source="s" * 300), InputError, r"tasks\[0\]\.source is 300 characters"),
    (lambda db: db.add_task("t/2", task_type="s" * 101), InputError, r"tasks\[0\]\.task_type is 101 characters"),
    (lambda db: db.add_meta_features({"t/1": {"a": 1.0}}, view="v" * 101), InputError,
     r"view 'v+' is not a valid name: use 1-100"),
    (lambda db: db.add_nas_record("t/1", "mine", {"x": 1}, {"a": [0.0]}, source="s" * 201), InputError,
     r"source is 201 characters long"),
    (lambda db: db.add_task("t/2", name="a\x00b"), InputError, r"tasks\[0\]\.name 'a\\x00b' contains a NUL"),
    (lambda db: db.add_task("t/\x00"), InputError, r"is not a valid task id"),
    (lambda db: db.add_task("t/2", openml_dataset_id=2**40), InputError,
     r"openml_dataset_id must be a 32-bit integer id, got 1099511627776"),
    # NaN in JSON metadata: the message spoke of "configurations" and "hyperparameters"
    (lambda db: db.add_task("t/2", info={"rows": [1, float("nan")]}), InputError,
     r"tasks\[0\]\.info\['rows'\]\[1\] is nan; metadata is stored as JSON.* use None"),
    (lambda db: db.add_nas_record("t/1", "mine", {"x": 1}, {"a": [0.0]}, accuracy=float("inf")), InputError,
     r"NAS record meta\['accuracy'\] is inf; metadata is stored as JSON"),
    # numbers that were cast silently or crashed in numpy/pandas
    (lambda db: db.add_evaluations([{**R, "value": 1 + 2j}], metric="error", space=SPACE),
     InputTypeError, r"'value' must hold real numbers, got complex"),
    (lambda db: db.add_evaluations([{**R, "value": 10**400}], metric="error", space=SPACE),
     InputError, r"'value' holds a number too large for float64"),
    (lambda db: db.add_evaluations(pd.DataFrame([R]).assign(cost_s=pd.Timestamp("2024-01-01")),
                                   metric="error", space=SPACE),
     InputTypeError, r"'cost_s' must hold numbers, got datetime64"),
    (lambda db: db.add_meta_features({"t/1": {"a": 1 + 1j}}, view="v"), InputTypeError,
     r"meta-feature values must hold real numbers, got complex128 values in column 'a'"),
    (lambda db: db.add_meta_features(pd.DataFrame({"a": [pd.Timestamp("2024-01-01")]}, index=["t/1"]),
                                     view="v"),
     InputTypeError, r"must hold real numbers, got datetime64.* in column 'a'"),
    # only the object columns are scanned value by value: one beside a float column
    (lambda db: db.add_meta_features(pd.DataFrame({"a": [1.0], "b": pd.Series(
        [np.timedelta64(5, "s")], index=["t/1"], dtype=object)}, index=["t/1"]), view="v"),
     InputTypeError, r"meta-feature values must hold real numbers, got np.timedelta64\(5,'s'\)"),
    (lambda db: db.add_meta_features({"t/1": {"a": 10**400}}, view="v"), InputTypeError,
     r"meta-feature values must hold numbers: int too large"),
    (lambda db: db.add_meta_features({"t/1": 5}, view="v"), InputTypeError,
     r"features\['t/1'\] must be a dict \{feature name: value\} or a Series, got int"),
    (lambda db: db.add_meta_features(pd.DataFrame([[1.0, 2.0]], columns=["a", "a"], index=["t/1"]), view="v"),
     InputError, r"duplicate feature names \(columns\) \['a'\]"),
    (lambda db: db.add_nas_record("t/1", "mine", {"x": 1}, {"a": np.array([1 + 1j])}), InputTypeError,
     r"alpha\['a'\] must be a numeric array: got complex"),
    (lambda db: db.add_matrix(pd.DataFrame([[0.1]], index=["t/1"], columns=[SPACE.config_id({"k": 1})]),
                              metric="error", source=5), InputTypeError, r"source must be a string, got int 5"),
    (lambda db: db.add_matrix(pd.DataFrame([[0.1]], index=["t/1"], columns=[SPACE.config_id({"k": 1})]),
                              metric="error", fidelity=True), InputError, r"fidelity must be a finite number > 0, got True"),
    (lambda db: db.add_matrix(pd.DataFrame([[0.1]], index=["t/1"], columns=[SPACE.config_id({"k": 1})]),
                              metric="error", seed=2**40), InputError, r"seed must be a 32-bit integer"),
])
def test_bad_values_raise_the_same_on_every_backend_and_write_nothing(db, call, error, match):
    db.add_task("t/1")
    db.add_configs([{"k": 1}], space=SPACE)
    before = db.snapshot_digest()
    with pytest.raises(error, match=match):
        call(db)
    assert db.snapshot_digest() == before


def test_numpy_scalars_are_numbers(db):
    db.add_task("t/1")
    cid = db.add_configs([{"k": 1}], space=SPACE)[0]
    frame = pd.DataFrame([[0.25]], index=["t/1"], columns=[cid])
    assert db.add_matrix(frame, metric="error", fidelity=np.float32(0.5), seed=np.int64(3)) == 1
    ev = db.evaluations()
    assert ev.loc[0, "fidelity"] == 0.5 and ev.loc[0, "seed"] == 3


# ------------------------------------------------------------------------------------------------
# the offline OpenML cache
# ------------------------------------------------------------------------------------------------

@pytest.mark.shared_data
def test_openml_cache_copies_only_the_entries_it_loads(shared_data):
    """A user's openml-python cache can hold gigabytes; loading one dataset must not copy it all."""
    source = shared_data / "openml-cache"
    files_before = sorted(p for p in source.rglob("*"))
    with OpenMLCache(source) as cache:
        work = cache.root / "org" / "openml" / cache.server
        assert not any(p.is_file() for p in cache.root.rglob("*"))  # nothing copied up front
        assert cache.dataset_ids() == [-1, 2] and cache.task_ids() == [1882]
        ds = cache.dataset(2)
        assert ds.X.shape == (898, 38)
        assert (work / "datasets" / "2").is_dir()
        assert sorted(p.name for p in (work / "datasets").iterdir()) == ["2"]
        assert not (work / "tasks").exists()
        task = cache.task(1882)
        assert task.dataset_id == 2 and len(task.splits) == 100
        assert sorted(p.name for p in (work / "tasks").iterdir()) == ["1882"]
    assert sorted(p for p in source.rglob("*")) == files_before  # the source is never written


@pytest.mark.shared_data
@pytest.mark.parametrize("rel", ["datasets/2/description.xml", "tasks/1882/task.xml"])
def test_import_openml_cache_damaged_xml(tmp_path, shared_data, rel):
    cache = tmp_path / "cache"
    shutil.copytree(shared_data / "openml-cache", cache)
    damaged = cache / "org" / "openml" / "test" / rel
    damaged.write_bytes(damaged.read_bytes()[:200])  # truncated
    db = MetaDatabase(tmp_path / "m.db")
    with pytest.raises(InputError, match=rf"cannot parse .*{rel}: .* the cached file is damaged"):
        import_openml_cache(db, cache)
    assert db.tasks().empty


@pytest.fixture
def read_only_folder(tmp_path):
    """A folder this process cannot write into (chmod; for root, which ignores modes, chattr +i)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    db = MetaDatabase(folder / "m.db")
    db.add_task("t/1")
    db.dispose()
    con = sqlite3.connect(folder / "m.db")
    con.execute("PRAGMA journal_mode = DELETE")  # no -wal/-shm files left beside it
    con.close()
    folder.chmod(0o555)
    undo = [lambda: folder.chmod(0o755)]
    probe = folder / "probe"
    try:
        probe.touch()
    except OSError:
        pass
    else:  # root: modes do not apply
        probe.unlink()
        if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
            folder.chmod(0o755)
            pytest.skip("cannot make a read-only folder here (root without chattr)")
        undo.insert(0, lambda: subprocess.run(["chattr", "-i", str(folder)], check=True))
    try:
        yield folder
    finally:
        for fn in undo:
            fn()


def test_read_only_folder_errors_name_the_fix(read_only_folder):
    db = MetaDatabase(read_only_folder / "m.db")
    assert list(db.tasks().index) == ["t/1"]  # reading works
    with pytest.raises(StorageError, match=r"is not writable .* open it with read_only=True to read, "
                                           r"or copy it to a writable folder"):
        db.add_task("t/2")
    db.dispose()
    with pytest.raises(StorageError, match=r"the folder .*ro is not writable: create the database in a "
                                           r"writable folder"):
        MetaDatabase(read_only_folder / "new.db")
    ro = MetaDatabase(read_only_folder / "m.db", read_only=True)
    assert list(ro.tasks().index) == ["t/1"]
    ro.dispose()


def test_the_first_example_of_docs_metadb_runs_on_the_embedded_default():
    """docs/metadb.md opened with `db.without(["openml/d/31"])`, a task the default lacks."""
    text = (Path(__file__).resolve().parents[3] / "docs" / "metadb.md").read_text()
    block = re.search(r"```python\n(.*?)```", text, re.S)
    assert block is not None
    lines = [line for line in block.group(1).splitlines()
             if "postgresql://" not in line and "sqlite:///meta.db" not in line]  # need a server / write a file
    ns: dict = {}
    exec("\n".join(lines), ns)  # the documentation's own example
    assert ns["M"].shape == (358, 219) and ns["F"].shape[1] == 46
    assert len(ns["loo"].performance_matrix("balanced_error")) == 357
    assert len(ns["best"]) == 5 and ns["best"]["value"].is_monotonic_increasing


def test_read_arguments_of_the_wrong_type(db):
    db.add_task("t/1")
    cid = db.add_configs([{"k": 1}], space=SPACE)[0]
    db.add_evaluations([{"task": "t/1", "config_id": cid, "value": 0.5}], metric="error")
    assert db.configs(cid) == {cid: {"k": 1}}  # one id as a string, not its characters
    with pytest.raises(InputTypeError, match="ids must be a list of config id strings, got int"):
        db.configs(5)
    with pytest.raises(InputError, match="fidelity must be a finite number > 0 .* got 'x'"):
        db.performance_matrix("error", fidelity="x")
    with pytest.raises(InputTypeError, match="device must be a device name string, got int 5"):
        db.performance_matrix("error", device=5)
    with pytest.raises(InputTypeError, match="device must be a device name string"):
        db.top_k("t/1", "error", device=0)


def test_exports_refuse_a_folder_and_replace_files_atomically(tmp_path, monkeypatch):
    from warmnas.metadb import exporters

    db = MetaDatabase(tmp_path / "m.db")
    db.add_task("t/1")
    db.add_evaluations([{"task": "t/1", "config": {"k": 1}, "value": 0.5}], metric="error", space=SPACE)
    with pytest.raises(InputError, match=r"is a folder; pass the path of the .csv file"):
        exporters.export_matrix(db, tmp_path, metric="error", format="csv")
    out = tmp_path / "m.csv"
    exporters.export_matrix(db, out, metric="error")
    good = out.read_bytes()

    def torn(self, path_or_buf=None, *args, **kwargs):
        path_or_buf.write("task_id,half a line")
        raise KeyboardInterrupt  # Ctrl-C in the middle of the write

    monkeypatch.setattr(pd.DataFrame, "to_csv", torn)
    with pytest.raises(KeyboardInterrupt):
        exporters.export_matrix(db, out, metric="error")
    assert out.read_bytes() == good  # the previous export is intact
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("m.csv")) == ["m.csv"]
    with pytest.raises(UnknownIdError, match="unknown metric 'nope'; this database has the metrics \\['error'\\]"):
        db.performance_matrix("nope")
    with pytest.raises(UnknownIdError, match="unknown metric 'nope'; this database has no metrics yet"):
        MetaDatabase(tmp_path / "empty.db").performance_matrix("nope")


def test_the_embedded_default_cannot_be_opened_for_writing(tmp_path, monkeypatch):
    """MetaDatabase(None, read_only=False) and MetaDatabase(<the package file's path>) wrote into
    the file shipped inside the package. (A copy stands in for it here, so a failure of this test
    cannot damage the real one.)"""
    from warmnas.metadb import database

    stand_in = tmp_path / "pkg" / "metadb.sqlite"
    stand_in.parent.mkdir()
    shutil.copy(database._default_path(), stand_in)
    monkeypatch.setattr(database, "_default_path", lambda: stand_in)
    before = stand_in.read_bytes()
    with pytest.raises(StorageError, match=r"embedded default meta-database is read-only.*copy_from"):
        MetaDatabase(None, read_only=False)
    with pytest.raises(StorageError, match=r"embedded default meta-database is read-only.*copy_from"):
        MetaDatabase(stand_in, read_only=False)
    for spelling in (stand_in, f"sqlite:///{stand_in}", str(tmp_path / "pkg" / ".." / "pkg" / "metadb.sqlite")):
        db = MetaDatabase(spelling)  # by its path: read-only like MetaDatabase()
        assert db.read_only and db.performance_matrix("balanced_error").shape == (358, 219)
        with pytest.raises(StorageError, match=r"embedded default meta-database is read-only"):
            db.add_task("mine/1")
        db.dispose()
    assert stand_in.read_bytes() == before
    assert sorted(p.name for p in stand_in.parent.iterdir()) == ["metadb.sqlite"]


@pytest.mark.shared_data
def test_unknown_latency_device_lists_the_available_ones(tmp_path, shared_data):
    from warmnas.metadb.importers import import_fbnet, import_nb201

    db = MetaDatabase(tmp_path / "m.db")
    with pytest.raises(InputError, match=r"devices \['nope'\] have no latency file in .*latency; "
                                         r"available: \[.*'pixel3'.*\]"):
        import_nb201(db, shared_data / "nasbench201", devices=["nope"])
    with pytest.raises(InputError, match=r"devices \['raspi'\] have no latency file .* available: \[.*'raspi4'"):
        import_fbnet(db, shared_data / "fbnet", devices=["raspi4", "raspi"])
    assert db.tasks().empty


@pytest.mark.shared_data
def test_openml_ids_of_the_wrong_type(tmp_path, shared_data):
    with OpenMLCache(shared_data / "openml-cache") as cache:
        with pytest.raises(InputTypeError, match=r"dataset_id must be an integer OpenML id \(e.g. 2\), got str 'abc'"):
            cache.dataset("abc")
        with pytest.raises(InputTypeError, match=r"task_id must be an integer OpenML id .* got float 1882.5"):
            cache.task(1882.5)
    db = MetaDatabase(tmp_path / "m.db")
    with pytest.raises(InputTypeError, match=r"datasets\[...\] must be an integer OpenML id .* got str '2'"):
        import_openml_cache(db, shared_data / "openml-cache", datasets=["2"])
    with pytest.raises(InputTypeError, match=r"must be lists of OpenML ids"):
        import_openml_cache(db, shared_data / "openml-cache", tasks=1882)
    assert db.tasks().empty


@pytest.mark.parametrize("name", ["a?b.db", "c#d.db", "e%20f.db", "ü ñ.db"])
def test_file_names_with_url_characters_open_that_file(tmp_path, name):
    """MetaDatabase('runs/a?b.db') wrote into 'runs/a' (and 'e%20f.db' into 'e f.db')."""
    path = tmp_path / name
    db = MetaDatabase(path)
    db.add_task("t/1")
    # db.url names that file ('a?b.db' showed '.../a'), and opens it again
    assert sa.make_url(db.url).database == str(path.resolve())
    db.dispose()
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(("-wal", "-shm"))) == [name]
    ro = MetaDatabase(path, read_only=True)
    assert list(ro.tasks().index) == ["t/1"]
    ro.dispose()


def test_without_of_a_view_may_repeat_a_left_out_task(db):
    db.add_tasks([{"task": "t/1"}, {"task": "t/2"}, {"task": "t/3"}])
    view = db.without("t/1")
    again = view.without(["t/1", "t/2"])  # raised "unknown task id(s) ['t/1']"
    assert list(again.tasks().index) == ["t/3"]
    with pytest.raises(UnknownIdError, match=r"without\(\): unknown task id\(s\) \['t/9'\]"):
        view.without("t/9")


@pytest.mark.shared_data
def test_wrong_file_for_pmf_features_and_openml_cache(tmp_path, shared_data):
    """`warmnas db import pmf-features .../ids_train.csv` created 413 bare tasks without a feature."""
    db = MetaDatabase(tmp_path / "m.db")
    with pytest.raises(InputError, match=r"ids_train.csv holds no meta-feature columns .* expected "
                                         r"data_feats_featurized.csv"):
        import_pmf_features(db, shared_data / "pmf-metafeatures" / "ids_train.csv")
    with pytest.raises(InputError, match=r"ids_train.csv is a file; pass the OpenML cache folder"):
        import_openml_cache(db, shared_data / "pmf-metafeatures" / "ids_train.csv")
    assert db.tasks().empty


def test_in_memory_database_shared_by_threads():
    """'sqlite://' keeps ONE connection for all threads; concurrent calls failed with 'cannot start a
    transaction within a transaction' and their writes were lost."""
    db = MetaDatabase("sqlite://")
    db.add_task("t/1")
    errors: list[BaseException] = []

    def write(k: int) -> None:
        for i in range(20):
            try:
                db.add_evaluations([{"task": "t/1", "config": {"k": (k * 20 + i) % 100}, "value": 0.1,
                                     "seed": k}], metric="error", space=SPACE)
            except BaseException as exc:
                errors.append(exc)

    def read() -> None:
        for _ in range(20):
            try:
                db.evaluations()
                db.tasks()
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=write, args=(k,)) for k in range(3)] + [threading.Thread(target=read)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert len(db.evaluations()) == 60


def test_damaged_file_on_the_bulk_read_path(tmp_path, damage_sqlite_pages):
    """performance_matrix reads through the driver's raw cursor: damage still reads as
    CorruptDatabaseError."""
    path = tmp_path / "dam.db"
    db = MetaDatabase(path)
    db.add_evaluations([{"task": f"t/{i}", "config": {"k": j}, "value": i + j / 100}
                        for i in range(60) for j in range(100)], metric="error", space=SPACE,
                       create_tasks=True)
    db.dispose()
    damage_sqlite_pages(path, 8)
    with pytest.raises(CorruptDatabaseError, match="is damaged or not a meta-database"):
        MetaDatabase(path, read_only=True).performance_matrix("error")


def test_in_memory_database_waits_busy_timeout_for_another_thread_then_raises():
    """A thread that used the in-memory database while another thread held a transaction and
    waited for it blocked forever (deadlock); it now waits busy_timeout, then raises."""
    db = MetaDatabase("sqlite://", busy_timeout=0.3)
    db.add_task("t/1")
    seen: list[BaseException | int] = []

    def read() -> None:
        try:
            seen.append(len(db.tasks()))
        except BaseException as exc:
            seen.append(exc)

    with db.transaction():
        reader = threading.Thread(target=read)
        reader.start()
        reader.join(10)
        assert not reader.is_alive()
    assert len(seen) == 1 and isinstance(seen[0], StorageError)
    assert re.search(r"in-memory database .* stayed busy .* 0\.3 s \(busy_timeout\)", str(seen[0]))
    reader = threading.Thread(target=read)  # once the transaction is over, the thread reads
    reader.start()
    reader.join(10)
    assert seen[1:] == [1]


def test_sqlite_url_options_are_refused_not_dropped(tmp_path):
    """The engine is built from the file's path, so URL options were dropped silently:
    'sqlite:///x.db?mode=ro' opened the file writable."""
    path = tmp_path / "x.db"
    MetaDatabase(f"sqlite:///{path}").add_task("t1")
    for opts in ("mode=ro", "timeout=5", "mode=ro&uri=true"):
        with pytest.raises(InputError, match=r"SQLite URL options are not used .*read_only=True"):
            MetaDatabase(f"sqlite:///{path}?{opts}")
    ro = MetaDatabase(f"sqlite:///{path}", read_only=True)
    assert list(ro.tasks().index) == ["t1"]
    with pytest.raises(StorageError, match="read-only"):
        ro.add_task("t2")
