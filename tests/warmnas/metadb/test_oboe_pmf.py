"""Oboe and PMF importers: the round trip reproduces the published CSVs exactly."""

from __future__ import annotations

import ast

import numpy as np
import pandas as pd
import pytest

from warmnas.errors import InputError, MissingDataError
from warmnas.metadb import MetaDatabase
from warmnas.metadb.importers import import_oboe, import_pmf_features
from warmnas.space import oboe_config, oboe_pipeline, oboe_space

pytestmark = pytest.mark.shared_data


def _expected_columns(csv: pd.DataFrame) -> list[str]:
    sp = oboe_space()
    return [sp.config_id(oboe_config(ast.literal_eval(h))) for h in csv.columns]


def test_oboe_round_trip_reproduces_the_csv_exactly(db, shared_data):
    report = import_oboe(db, shared_data / "oboe")
    assert (report.tasks, report.configs, report.evaluations) == (358, 219, 358 * 219)
    err = pd.read_csv(shared_data / "oboe" / "error_matrix.csv", index_col=0)
    rt = pd.read_csv(shared_data / "oboe" / "runtime_matrix.csv", index_col=0)
    m = db.performance_matrix("balanced_error")
    assert m.shape == (358, 219)
    assert list(m.index) == [f"openml/d/{i}" for i in err.index]
    assert list(m.columns) == _expected_columns(err)
    assert np.array_equal(m.to_numpy(), err.to_numpy())  # bit for bit
    cost = db.performance_matrix("balanced_error", field="cost_s")
    assert np.array_equal(cost.to_numpy(), rt.to_numpy(), equal_nan=True)
    # every column maps back to its Oboe header
    for cid, header in zip(m.columns[:20], err.columns[:20]):
        assert oboe_pipeline(db.config(cid)) == oboe_pipeline(oboe_space().validate(oboe_config(ast.literal_eval(header))))
    assert db.metric_direction("balanced_error") == "minimize"
    assert db.tasks().loc["openml/d/1121", "info"] == {"n_rows": 294, "n_encoded_columns": 14}
    # importing again changes nothing
    before = db.snapshot_digest()
    import_oboe(db, shared_data / "oboe")
    assert db.snapshot_digest() == before


def test_pmf_features_round_trip(tmp_path, shared_data):
    db = MetaDatabase(tmp_path / "m.db")
    import_oboe(db, shared_data / "oboe")
    report = import_pmf_features(db, shared_data / "pmf-metafeatures", create_tasks=False)
    assert report.tasks == 258 and report.skipped == {"unknown_task": 235}
    csv = pd.read_csv(shared_data / "pmf-metafeatures" / "data_feats_featurized.csv", index_col=0)
    mf = db.meta_features("autosklearn")
    assert mf.shape == (258, 46) and list(mf.columns) == sorted(csv.columns)
    expected = csv.loc[[int(t.split("/")[-1]) for t in mf.index], list(mf.columns)]
    assert np.array_equal(mf.to_numpy(), expected.to_numpy(), equal_nan=True)
    full = import_pmf_features(db, shared_data / "pmf-metafeatures")
    assert full.tasks == 493
    assert db.tasks().loc["openml/d/3", "info"]["pmf_split"] in ("train", "test")


def test_oboe_bad_input(tmp_path, shared_data):
    db = MetaDatabase(tmp_path / "m.db")
    with pytest.raises(MissingDataError, match="Oboe folder not found"):
        import_oboe(db, tmp_path / "nope")
    (tmp_path / "oboe").mkdir()
    with pytest.raises(MissingDataError, match="Oboe error matrix not found"):
        import_oboe(db, tmp_path / "oboe")
    err = (shared_data / "oboe" / "error_matrix.csv").read_text().splitlines()
    (tmp_path / "oboe" / "classification.json").write_text(
        (shared_data / "oboe" / "classification.json").read_text())
    bad = [err[0].replace("'n_neighbors': 1,", "'n_neighbors': 2,", 1)] + err[1:4]
    (tmp_path / "oboe" / "error_matrix.csv").write_text("\n".join(bad) + "\n")
    before = db.snapshot_digest()
    from warmnas.errors import ConfigSpaceError

    with pytest.raises(ConfigSpaceError, match="'KNN:n_neighbors' is 2"):
        import_oboe(db, tmp_path / "oboe")
    (tmp_path / "oboe" / "error_matrix.csv").write_text("\n".join(err[:2] + [err[2].replace(",", ",inf,", 1)]) + "\n")
    with pytest.raises(InputError):
        import_oboe(db, tmp_path / "oboe")
    assert db.snapshot_digest() == before
