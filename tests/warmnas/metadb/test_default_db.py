"""The embedded default meta-database shipped in warmnas/data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import warmnas
from warmnas.errors import StorageError
from warmnas.metadb import MetaDatabase
from warmnas.metadb import _schema as S
from warmnas.metadb.database import _default_path


def test_default_database_contents():
    db = MetaDatabase.default()
    assert isinstance(warmnas.MetaDatabase(), MetaDatabase)
    assert db.read_only
    m = db.performance_matrix()  # default metric
    assert m.shape == (358, 219)
    assert db.metric_direction("balanced_error") == "minimize"
    assert db.performance_matrix("balanced_error", field="cost_s").notna().all().all()
    mf = db.meta_features("autosklearn")
    assert mf.shape[1] == 46 and len(mf) == 258 and set(mf.index) <= set(m.index)
    recs = db.nas_records(space="nb201")
    assert len(recs) == 60
    assert {r.task for r in recs} == {"nb201/cifar10", "nb201/cifar100", "nb201/ImageNet16-120"}
    assert all(r.alpha["cell"].shape == (6, 5) for r in recs)
    assert db.performance_matrix("test_accuracy").shape == (3, 15625)
    assert _default_path().stat().st_size < 15e6
    # built at the current schema (not served through the read-only compatibility of older ones)
    assert db.schema_version() == S.SCHEMA_VERSION
    assert db.failures().empty and db.info()["counts"]["failures"] == 0


def test_default_database_is_read_only_and_unchanged():
    path = _default_path()
    before = path.read_bytes()
    db = MetaDatabase()
    with pytest.raises(StorageError, match=r"read-only; write into your own copy.*copy_from\(MetaDatabase.default\(\)\)"):
        db.add_task("mine/1")
    db.performance_matrix()
    assert path.read_bytes() == before
    assert not Path(str(path) + "-wal").exists()


def test_default_matches_the_shared_oboe_csv(shared_data):
    err = pd.read_csv(shared_data / "oboe" / "error_matrix.csv", index_col=0)
    m = MetaDatabase.default().performance_matrix("balanced_error")
    assert np.array_equal(m.to_numpy(), err.to_numpy())


def test_copy_of_the_default_is_writable(tmp_path):
    mine = MetaDatabase(tmp_path / "mine.db").copy_from(MetaDatabase.default().without(
        [f"nb201/{d}" for d in ("cifar10", "cifar100", "ImageNet16-120")]))
    mine.add_task("mine/1")
    assert mine.performance_matrix().shape == (358, 219)
    assert "mine/1" in mine.tasks().index and mine.nas_records() == []
