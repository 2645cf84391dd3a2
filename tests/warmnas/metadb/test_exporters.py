"""Exports: Parquet/CSV and ASlib; an ASlib export re-imports identically."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from warmnas.errors import InputError
from warmnas.metadb import MetaDatabase
from warmnas.metadb.exporters import (
    export_aslib,
    export_evaluations,
    export_matrix,
    export_meta_features,
)
from warmnas.metadb.importers import import_aslib, import_oboe, import_pmf_features

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def oboe_db(tmp_path_factory, shared_data):
    path = tmp_path_factory.mktemp("oboe") / "oboe.db"
    db = MetaDatabase(path)
    import_oboe(db, shared_data / "oboe")
    import_pmf_features(db, shared_data / "pmf-metafeatures", create_tasks=False)
    return MetaDatabase(path, read_only=True)


def test_aslib_export_reimports_identically(oboe_db, tmp_path):
    folder = export_aslib(oboe_db, tmp_path / "scen", metric="balanced_error", view="autosklearn")
    assert {p.name for p in folder.iterdir()} >= {"description.txt", "algorithm_runs.arff",
                                                   "feature_values.arff"}
    again = MetaDatabase(tmp_path / "again.db")
    report = import_aslib(again, folder)
    assert report.evaluations == 358 * 219
    pd.testing.assert_frame_equal(again.performance_matrix("balanced_error"),
                                  oboe_db.performance_matrix("balanced_error"))
    pd.testing.assert_frame_equal(again.meta_features("autosklearn"), oboe_db.meta_features("autosklearn"))
    assert again.configs() == oboe_db.configs()
    assert again.space("oboe") == oboe_db.space("oboe")
    assert again.metric_direction("balanced_error") == "minimize"
    cols = ["task", "config_id", "metric", "value", "fidelity", "seed"]
    pd.testing.assert_frame_equal(again.evaluations()[cols], oboe_db.evaluations()[cols])
    with pytest.raises(InputError, match="already holds an ASlib scenario"):
        export_aslib(oboe_db, folder)


def test_aslib_weka_round_trip(tmp_path, shared_data):
    db = MetaDatabase(tmp_path / "w.db")
    import_aslib(db, shared_data / "aslib-openml-weka-2017")
    folder = export_aslib(db, tmp_path / "weka", metric="predictive_accuracy", view="openml")
    db2 = MetaDatabase(tmp_path / "w2.db")
    import_aslib(db2, folder)
    pd.testing.assert_frame_equal(db2.performance_matrix("predictive_accuracy"),
                                  db.performance_matrix("predictive_accuracy"))
    pd.testing.assert_frame_equal(db2.meta_features("openml"), db.meta_features("openml"))
    assert db2.metric_direction("predictive_accuracy") == "maximize"


def test_parquet_and_csv_exports(oboe_db, tmp_path):
    m = oboe_db.performance_matrix("balanced_error")
    back = pd.read_parquet(export_matrix(oboe_db, tmp_path / "m.parquet", metric="balanced_error"))
    pd.testing.assert_frame_equal(back, m, check_names=False, check_column_type=False,
                                  check_index_type=False)
    csv = pd.read_csv(export_matrix(oboe_db, tmp_path / "m.csv", metric="balanced_error"), index_col=0)
    assert np.array_equal(csv.to_numpy(), m.to_numpy()) and list(csv.columns) == list(m.columns)
    ev = pd.read_parquet(export_evaluations(oboe_db, tmp_path / "e.parquet", task="openml/d/3"))
    assert len(ev) == 219 and set(ev["space"]) == {"oboe"}
    assert json.loads(ev["config"].iloc[0]) == oboe_db.config(ev["config_id"].iloc[0])
    mf = pd.read_csv(export_meta_features(oboe_db, tmp_path / "f.csv"), index_col=0)
    assert mf.shape == (258, 46)
    with pytest.raises(InputError, match="cannot tell the format of 'm.xlsx'"):
        export_matrix(oboe_db, tmp_path / "m.xlsx")
    with pytest.raises(InputError, match="does not exist"):
        export_matrix(oboe_db, tmp_path / "no" / "m.csv")
