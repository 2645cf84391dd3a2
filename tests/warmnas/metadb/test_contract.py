"""The storage contract of MetaDatabase (docs/metadb.md), run against SQLite and PostgreSQL."""

from __future__ import annotations

import math
import threading

import numpy as np
import pandas as pd
import pytest

from warmnas.errors import (
    ConfigSpaceError,
    InputError,
    InputTypeError,
    StorageError,
    UnknownIdError,
)
from warmnas.metadb import MetaDatabase
from warmnas.space import ConfigSpace, Float, Integer, NB201Space, config_id

SPACE = ConfigSpace("toy", [Float("lr", 1e-4, 1.0, log=True), Integer("depth", 1, 8)])
C1, C2, C3 = {"lr": 0.1, "depth": 2}, {"lr": 0.01, "depth": 4}, {"lr": 1, "depth": 8}


def _fill(db: MetaDatabase) -> list[str]:
    db.add_tasks([{"task": "t/a", "name": "A"}, {"task": "t/b", "name": "B"}, {"task": "t/c"}])
    ids = db.add_configs([C1, C2, C3], space=SPACE)
    db.add_evaluations([
        {"task": "t/a", "config": C1, "value": 0.30, "cost_s": 1.5},
        {"task": "t/a", "config": C2, "value": 0.10, "cost_s": 2.5, "latency_ms": 7.0},
        {"task": "t/b", "config": C2, "value": 0.20},
        {"task": "t/b", "config": C3, "value": 0.40},
        {"task": "t/c", "config": C1, "value": 0.50},
        {"task": "t/c", "config": C3, "value": 0.50},
    ], metric="error", space=SPACE, source="unit")
    return ids


def test_empty_database_reads(db):
    assert db.metrics() == []
    assert db.tasks().empty
    assert list(db.tasks().columns) == ["name", "source", "task_type", "openml_dataset_id",
                                        "openml_task_id", "info"]
    info = db.info()
    assert info["counts"]["evaluations"] == 0 and info["schema_version"] == db.schema_version() == 3
    with pytest.raises(InputError, match="metric is required"):
        db.performance_matrix()
    with pytest.raises(UnknownIdError, match="unknown metric 'nope'"):
        db.performance_matrix("nope")


def test_tasks_round_trip_and_partial_update(db):
    db.add_task("openml/d/31", name="credit-g", source="me", task_type="binary",
                openml_dataset_id=31, info={"rows": 1000}, meta_features={"A": 1.0, "B": float("nan")})
    db.add_task("openml/d/31", task_type="classification")  # only this field changes
    t = db.tasks().loc["openml/d/31"]
    assert (t["name"], t["source"], t["task_type"]) == ("credit-g", "me", "classification")
    assert t["openml_dataset_id"] == 31 and pd.isna(t["openml_task_id"])
    assert t["info"] == {"rows": 1000}
    mf = db.meta_features("autosklearn")
    assert mf.loc["openml/d/31", "A"] == 1.0 and math.isnan(mf.loc["openml/d/31", "B"])


def test_configs_have_stable_ids(db):
    ids = db.add_configs([C1, {"depth": 4, "lr": 0.01}], space=SPACE)
    assert ids == [config_id({"depth": 2, "lr": 0.1}, "toy"), SPACE.config_id(C2)]
    assert db.config(ids[0]) == {"depth": 2, "lr": 0.1}
    assert db.configs() == {ids[0]: SPACE.validate(C1), ids[1]: SPACE.validate(C2)}
    assert list(db.configs(ids=[ids[1]])) == [ids[1]]
    assert db.config_space(ids[0]) == "toy" and db.spaces() == ["toy"]
    assert db.space("toy") == SPACE
    assert db.add_configs([C1], space="toy") == ids[:1]  # by stored name; idempotent
    with pytest.raises(UnknownIdError, match="unknown config id 'ffff'"):
        db.config("ffff")
    with pytest.raises(UnknownIdError, match=r"unknown config id\(s\) \['ffff'\]"):
        db.configs(ids=["ffff"])
    with pytest.raises(UnknownIdError, match="unknown space 'nope'"):
        db.space("nope")


def test_performance_matrix_shape_order_and_nan(db):
    ids = _fill(db)
    m = db.performance_matrix("error")
    assert m.index.name == "task_id" and m.columns.name == "config_id"
    assert list(m.index) == ["t/a", "t/b", "t/c"] and list(m.columns) == ids
    assert m.dtypes.eq(np.float64).all()
    expected = np.array([[0.3, 0.1, np.nan], [np.nan, 0.2, 0.4], [0.5, np.nan, 0.5]])
    np.testing.assert_array_equal(m.to_numpy(), expected)
    assert db.metrics() == ["error"] and db.metric_direction("error") == "minimize"
    assert db.performance_matrix().equals(m)  # the only metric is the default
    cost = db.performance_matrix("error", field="cost_s")
    assert cost.loc["t/a", ids[0]] == 1.5 and math.isnan(cost.loc["t/b", ids[1]])
    lat = db.performance_matrix("error", field="latency_ms")
    assert lat.loc["t/a", ids[1]] == 7.0
    assert db.performance_matrix("error", space="toy").equals(m)


def test_normalize_rank_and_quantile_follow_direction(db):
    ids = _fill(db)
    rank = db.performance_matrix("error", normalize="rank")
    np.testing.assert_array_equal(rank.to_numpy(), [[2, 1, np.nan], [np.nan, 1, 2], [1.5, np.nan, 1.5]])
    q = db.performance_matrix("error", normalize="quantile")
    np.testing.assert_allclose(q.to_numpy(), [[0.75, 0.25, np.nan], [np.nan, 0.25, 0.75],
                                              [0.5, np.nan, 0.5]])
    db.add_evaluations([{"task": "t/a", "config_id": ids[0], "value": 0.7},
                        {"task": "t/a", "config_id": ids[1], "value": 0.9}],
                       metric="acc", direction="maximize")
    np.testing.assert_array_equal(db.performance_matrix("acc", normalize="rank").to_numpy(), [[2, 1]])
    with pytest.raises(InputError, match="normalize must be None, 'rank' or 'quantile'"):
        db.performance_matrix("error", normalize="zscore")
    with pytest.raises(InputError, match="field must be one of"):
        db.performance_matrix("error", field="price")


def test_cells_average_seeds_at_highest_fidelity(db):
    db.add_task("t/x")
    recs = [
        {"task": "t/x", "config": C1, "value": 0.9, "fidelity": 0.5, "seed": 0},
        {"task": "t/x", "config": C1, "value": 0.2, "fidelity": 1.0, "seed": 0},
        {"task": "t/x", "config": C1, "value": 0.4, "fidelity": 1.0, "seed": 1},
        {"task": "t/x", "config": C2, "value": 0.6, "fidelity": 0.5, "seed": 3},
    ]
    db.add_evaluations(recs, metric="error", space=SPACE)
    m = db.performance_matrix("error")
    assert m.loc["t/x", SPACE.config_id(C1)] == pytest.approx(0.3)
    assert m.loc["t/x", SPACE.config_id(C2)] == 0.6
    half = db.performance_matrix("error", fidelity=0.5)
    assert half.loc["t/x", SPACE.config_id(C1)] == 0.9
    assert len(db.evaluations()) == 4


def test_upsert_is_idempotent_and_updates(db):
    _fill(db)
    before = db.snapshot_digest()
    _fill(db)  # the very same batch again: nothing changes, not even timestamps
    assert db.snapshot_digest() == before
    assert len(db.evaluations()) == 6
    db.add_evaluations([{"task": "t/a", "config": C1, "value": 0.05}], metric="error", space=SPACE)
    assert db.performance_matrix("error").loc["t/a", SPACE.config_id(C1)] == 0.05
    db.add_evaluations([{"task": "t/a", "config": C1, "value": 0.99}], metric="error", space=SPACE,
                       on_conflict="ignore")
    assert db.performance_matrix("error").loc["t/a", SPACE.config_id(C1)] == 0.05
    # duplicates inside one batch: the last one wins
    db.add_evaluations([{"task": "t/b", "config": C1, "value": 0.1},
                        {"task": "t/b", "config": C1, "value": 0.2}], metric="error", space=SPACE)
    assert db.performance_matrix("error").loc["t/b", SPACE.config_id(C1)] == 0.2


def test_top_k(db):
    ids = _fill(db)
    top = db.top_k("t/a", "error", k=5)
    assert list(top.columns) == ["config_id", "value", "cost_s", "latency_ms", "config"]
    assert list(top["config_id"]) == [ids[1], ids[0]]
    assert list(top["value"]) == [0.1, 0.3] and list(top["cost_s"]) == [2.5, 1.5]
    assert top["config"].iloc[0] == SPACE.validate(C2)
    assert len(db.top_k("t/a", "error", k=1)) == 1
    tie = db.top_k("t/c", "error", k=2)
    assert list(tie["config_id"]) == sorted(tie["config_id"])  # ties broken by config id
    with pytest.raises(UnknownIdError, match="unknown task 't/zz'"):
        db.top_k("t/zz", "error", k=1)
    with pytest.raises(InputError, match="k must be a positive integer"):
        db.top_k("t/a", "error", k=0)


def test_without_leaves_tasks_out_of_every_read(db):
    _fill(db)
    db.add_meta_features({"t/a": {"f": 1.0}, "t/b": {"f": 2.0}}, view="v")
    view = db.without(["t/a"])
    assert list(view.performance_matrix("error").index) == ["t/b", "t/c"]
    assert list(view.meta_features("v").index) == ["t/b"]
    assert "t/a" not in view.tasks().index
    assert set(view.evaluations()["task"]) == {"t/b", "t/c"}
    with pytest.raises(UnknownIdError, match="left out by without"):
        view.top_k("t/a", "error", k=1)
    with pytest.raises(StorageError, match="read-only view"):
        view.add_task("t/new")
    with pytest.raises(UnknownIdError, match="unknown task id"):
        db.without(["t/nope"])
    assert list(db.performance_matrix("error").index) == ["t/a", "t/b", "t/c"]  # original intact


@pytest.mark.parametrize(
    ("records", "kwargs", "error", "match"),
    [
        ([{"task": "t/unknown", "config": C1, "value": 0.1}], {}, UnknownIdError,
         r"unknown task id\(s\) \['t/unknown'\]"),
        ([{"task": "t/a", "config": C1, "value": float("nan")}], {}, InputError, "'value' is NaN"),
        ([{"task": "t/a", "config": C1, "value": float("inf")}], {}, InputError, "'value' is inf"),
        ([{"task": "t/a", "config": C1, "value": "high"}], {}, InputTypeError, "must hold numbers"),
        ([{"task": "t/a", "config": C1, "value": 0.1}], {"direction": "maximize"}, InputError,
         "stored as 'minimize' but the records say 'maximize'"),
        ([{"task": "t/a", "config": C1, "value": 0.1}], {"direction": "up"}, InputError,
         "must be 'minimize' or 'maximize'"),
        ([{"task": "t/a", "config": {"lr": 5.0, "depth": 2}, "value": 0.1}], {}, ConfigSpaceError,
         r"'lr' is 5.0; expected a float in \[0.0001, 1.0\]"),
        ([{"task": "t/a", "config": {"lr": 0.1}, "value": 0.1}], {}, ConfigSpaceError,
         "lacks the required hyperparameter 'depth'"),
        ([{"task": "t/a", "config_id": "0123456789abcdef", "value": 0.1}], {"space": None},
         UnknownIdError, "unknown config id"),
        ([{"task": "t/a", "config": C1, "value": 0.1, "colour": "red"}], {}, InputError,
         r"unknown fields \['colour'\]"),
        ([{"task": "t/a", "config": C1, "value": 0.1, "cost_s": -1}], {}, InputError,
         "'cost_s' must be >= 0"),
        ([{"task": "t/a", "config": C1, "value": 0.1, "fidelity": 0}], {}, InputError,
         "'fidelity' must be > 0"),
        ([{"task": "t/a", "config": C1, "value": 0.1}, {"task": "t/a", "config": C2, "value": None}],
         {}, InputError, "'value' is NaN/missing at row 1"),
        ([{"task": "t a", "config": C1, "value": 0.1}], {}, InputError, "not a valid task id"),
    ],
)
def test_bad_evaluations_raise_and_write_nothing(db, records, kwargs, error, match):
    _fill(db)
    before = db.snapshot_digest()
    args = {"metric": "error", "space": SPACE, **kwargs}
    with pytest.raises(error, match=match):
        db.add_evaluations(records, **args)
    assert db.snapshot_digest() == before


def test_numeric_strings_are_read_as_numbers(db):
    # as docs/metadb.md says: text that is a number (a CSV reader's cells) is that number
    _fill(db)
    db.add_evaluations([{"task": "t/b", "config": C2, "value": "0.05", "cost_s": "3.5"}],
                       metric="error", space=SPACE)
    top = db.top_k("t/b", "error", k=1)
    assert top["value"].iloc[0] == 0.05 and top["cost_s"].iloc[0] == 3.5


def test_new_metric_needs_a_direction(db):
    _fill(db)
    with pytest.raises(InputError, match="metric 'f1_weird' is new: pass direction="):
        db.add_evaluations([{"task": "t/a", "config": C1, "value": 0.1}], metric="f1_weird", space=SPACE)
    # a typo of a stored (or known) metric says which one was probably meant
    with pytest.raises(InputError, match=r"metric 'eror' is new \(did you mean 'error'\?\)"):
        db.add_evaluations([{"task": "t/a", "config": C1, "value": 0.1}], metric="eror",
                           space=SPACE)
    db.add_evaluations([{"task": "t/a", "config": C1, "value": 0.1}], metric="f1_weird",
                       direction="maximize", space=SPACE)
    assert db.metric_direction("f1_weird") == "maximize"
    assert db.metric_direction("error") == "minimize"
    with pytest.raises(InputError, match="metric is required"):
        db.performance_matrix()
    db.set_default_metric("error")
    assert db.performance_matrix().shape == (3, 3)


def test_a_known_metric_keeps_its_direction(db):
    _fill(db)
    before = db.snapshot_digest()
    # 'rmse' is minimised: storing it as maximised made every warm start rank backwards
    with pytest.raises(InputError, match=r"metric 'rmse' is minimized \(root mean squared "
                                         r"error\), but the records say 'maximize'"):
        db.add_evaluations([{"task": "t/a", "config": C1, "value": 0.1}], metric="rmse",
                           direction="maximize", space=SPACE)
    with pytest.raises(InputError, match=r"metric 'accuracy' is maximized"):
        db.add_metric("accuracy", "minimize")
    assert db.snapshot_digest() == before
    db.add_evaluations([{"task": "t/a", "config": C1, "value": 0.1}], metric="rmse",
                       direction="minimize", space=SPACE)
    assert db.metric_direction("rmse") == "minimize"


def test_create_tasks_and_add_matrix(db):
    ids = db.add_configs([C1, C2], space=SPACE)
    values = pd.DataFrame([[0.1, np.nan], [0.3, 0.4]], index=["m/1", "m/2"], columns=ids)
    cost = values * 10
    with pytest.raises(UnknownIdError, match="unknown task id"):
        db.add_matrix(values, metric="error")
    assert db.add_matrix(values, metric="error", cost=cost, create_tasks=True, source="grid") == 3
    m = db.performance_matrix("error")
    np.testing.assert_array_equal(m.to_numpy(), values.to_numpy())
    np.testing.assert_array_equal(db.performance_matrix("error", field="cost_s").to_numpy(), cost.to_numpy())
    bad = values.copy()
    bad.iloc[0, 0] = np.inf
    with pytest.raises(InputError, match="values is inf for task 'm/1'"):
        db.add_matrix(bad, metric="error")


def test_meta_features_contract(db):
    db.add_tasks([{"task": "t/a"}, {"task": "t/b"}, {"task": "t/c"}])
    n = db.add_meta_features(pd.DataFrame({"Z": [1.0, np.nan], "A": [3.0, 4.0]}, index=["t/b", "t/a"]),
                             view="autosklearn")
    assert n == 4
    mf = db.meta_features()
    assert list(mf.columns) == ["A", "Z"] and list(mf.index) == ["t/a", "t/b"]
    assert mf.loc["t/b", "A"] == 3.0 and math.isnan(mf.loc["t/a", "Z"])
    sub = db.meta_features("autosklearn", tasks=["t/c", "t/b"])
    assert list(sub.index) == ["t/c", "t/b"] and sub.loc["t/c"].isna().all()
    assert db.meta_feature_views() == ["autosklearn"]
    with pytest.raises(UnknownIdError, match="no meta-features of view 'openml'"):
        db.meta_features("openml")
    with pytest.raises(UnknownIdError, match="unknown task id"):
        db.meta_features(tasks=["t/zz"])
    before = db.snapshot_digest()
    with pytest.raises(InputError, match="meta-feature 'A' of task 't/a' is inf"):
        db.add_meta_features({"t/a": {"A": float("inf")}}, view="autosklearn")
    with pytest.raises(UnknownIdError, match="unknown task id"):
        db.add_meta_features({"t/new": {"A": 1.0}}, view="autosklearn")
    assert db.snapshot_digest() == before


def test_nas_records_round_trip(db):
    torch = pytest.importorskip("torch")
    db.add_task("nb201/cifar10")
    arch = NB201Space.arch_string(["nor_conv_3x3"] * 6)
    alpha = np.random.default_rng(0).normal(size=(6, 5))
    rid = db.add_nas_record("nb201/cifar10", "nb201", {"arch": arch}, {"cell": alpha}, accuracy=94.1)
    (rec,) = db.nas_records(space="nb201")
    assert rec.record_id == rid and rec.task == "nb201/cifar10" and rec.genotype == {"arch": arch}
    assert rec.alpha["cell"].dtype == np.float64 and np.array_equal(rec.alpha["cell"], alpha)
    assert rec.meta == {"accuracy": 94.1}
    # torch tensors are accepted; same genotype = same record (upsert)
    rid2 = db.add_nas_record("nb201/cifar10", "nb201", {"arch": arch},
                             {"cell": torch.zeros(6, 5, dtype=torch.float32)}, accuracy=1.0)
    assert rid2 == rid and len(db.nas_records()) == 1
    assert db.nas_records(task="nb201/cifar10")[0].meta == {"accuracy": 1.0}
    assert db.nas_records(space="no-such-space") == []  # no record of that space yet
    with pytest.raises(UnknownIdError, match=r"nas_records\(\): unknown task 'nb201/cifar1'"):
        db.nas_records(task="nb201/cifar1")  # a typo used to give [] like a task without records
    darts = {"normal": np.zeros((14, 8)), "reduce": np.ones((14, 8))}
    db.add_nas_record("nb201/cifar10", "darts", {"normal": [["sep_conv_3x3", 0]]}, darts)
    assert len(db.nas_records(space="darts")) == 1
    before = db.snapshot_digest()
    with pytest.raises(InputError, match=r"alpha for space 'nb201' must have keys and shapes"):
        db.add_nas_record("nb201/cifar10", "nb201", {"arch": arch}, {"cell": np.zeros((5, 5))})
    with pytest.raises(InputError, match="holds NaN or infinity"):
        db.add_nas_record("nb201/cifar10", "nb201", {"arch": arch}, {"cell": np.full((6, 5), np.nan)})
    with pytest.raises(ConfigSpaceError, match="not an NB201 arch string"):
        db.add_nas_record("nb201/cifar10", "nb201", {"arch": "conv"}, {"cell": alpha})
    with pytest.raises(UnknownIdError, match="unknown task id"):
        db.add_nas_record("nb201/zz", "nb201", {"arch": arch}, {"cell": alpha})
    assert db.snapshot_digest() == before


def test_transaction_is_all_or_nothing(db):
    _fill(db)
    before = db.snapshot_digest()
    with pytest.raises(RuntimeError, match="boom"):
        with db.transaction() as tx:
            tx.add_tasks([{"task": "t/new"}])
            tx.add_evaluations([{"task": "t/new", "config": C1, "value": 0.1}], metric="error",
                               space=SPACE)
            raise RuntimeError("boom")
    assert db.snapshot_digest() == before
    with db.transaction() as tx:
        tx.add_tasks([{"task": "t/new"}])
        tx.add_evaluations([{"task": "t/new", "config": C1, "value": 0.1}], metric="error", space=SPACE)
    assert "t/new" in db.performance_matrix("error").index


def test_delete_tasks(db):
    _fill(db)
    db.add_meta_features({"t/a": {"f": 1.0}}, view="v")
    assert db.delete_tasks(["t/a"]) == 1
    assert "t/a" not in db.tasks().index
    assert "t/a" not in db.performance_matrix("error").index
    assert len(db.evaluations(task="t/a")) == 0
    # an unknown id deletes nothing, and the message does not suggest adding the task
    before = db.snapshot_digest()
    with pytest.raises(UnknownIdError, match=r"delete_tasks\(\): unknown task id\(s\) "
                                             r"\['t/a'\]; nothing was deleted \(see db.tasks"):
        db.delete_tasks(["t/b", "t/a"])
    assert db.snapshot_digest() == before


def test_meta_features_of_a_task_may_be_a_series(db):
    """ws.meta_features (a Series name -> value) written back as it is: it was refused."""
    _fill(db)
    db.add_task("t/a", meta_features=pd.Series({"f": 1.0, "g": float("nan")}), view="v")
    db.add_meta_features({"t/b": pd.Series({"f": 2.0, "g": 3.0})}, view="v")
    m = db.meta_features("v")
    assert m.loc["t/a", "f"] == 1.0 and math.isnan(m.loc["t/a", "g"])
    assert m.loc["t/b"].tolist() == [2.0, 3.0]
    with pytest.raises(InputTypeError, match=r"features\['t/c'\] must be a dict \{feature "
                                             r"name: value\} or a Series, got list"):
        db.add_meta_features({"t/c": [1.0]}, view="v")


def test_copy_from_between_backends(db, tmp_path):
    ids = _fill(db)
    db.add_meta_features({"t/a": {"f": 1.0}}, view="v")
    db.add_nas_record("t/a", "nb201", {"arch": NB201Space.arch_string(["skip_connect"] * 6)},
                      {"cell": np.eye(6, 5)})
    target = MetaDatabase(tmp_path / "copy.db").copy_from(db)
    pd.testing.assert_frame_equal(target.performance_matrix("error"), db.performance_matrix("error"))
    pd.testing.assert_frame_equal(target.meta_features("v"), db.meta_features("v"))
    pd.testing.assert_frame_equal(target.tasks(), db.tasks())
    assert target.configs() == db.configs() and list(target.configs()) == ids
    assert np.array_equal(target.nas_records()[0].alpha["cell"], np.eye(6, 5))
    pd.testing.assert_frame_equal(target.evaluations().drop(columns="timestamp"),
                                  db.evaluations().drop(columns="timestamp"))


def test_threads_share_one_instance(db):
    db.add_tasks([{"task": f"th/{i}"} for i in range(4)])
    db.add_configs([C1], space=SPACE)
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for s in range(25):
                db.add_evaluations([{"task": f"th/{i}", "config": C1, "value": s / 100, "seed": s}],
                                   metric="error", space=SPACE)
                db.performance_matrix("error")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(db.evaluations()) == 100


def test_many_ids_in_one_batch(db):
    # more than 2000 task and config ids in one batch: the writer reads their keys with one scan
    # instead of chunked IN queries; both paths must map every id to its own row
    configs = [{"lr": 10 ** (-4 + 4 * i / 2199), "depth": 1 + i % 8} for i in range(2200)]
    recs = [{"task": f"t/{i}", "config": c, "value": i / 10_000} for i, c in enumerate(configs)]
    db.add_evaluations(recs, metric="error", space=SPACE, create_tasks=True)
    again = [{"task": f"t/{i}", "config_id": SPACE.config_id(c), "value": i / 10_000}
             for i, c in enumerate(configs)]
    before = db.snapshot_digest()
    db.add_evaluations(again, metric="error")  # stored ids only: an idempotent no-op
    assert db.snapshot_digest() == before
    m = db.performance_matrix("error")
    assert m.shape == (2200, 2200)
    for i in (0, 1234, 2199):
        assert m.loc[f"t/{i}", SPACE.config_id(configs[i])] == i / 10_000
    assert int(m.notna().to_numpy().sum()) == 2200
