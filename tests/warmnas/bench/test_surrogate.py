"""Surrogate tables: look-ups equal the published tables; the prior's leave-out views."""

from __future__ import annotations

import ast

import numpy as np
import pandas as pd
import pytest

from warmnas.bench import Prior, SimulatedCost, load_table, surrogate_tasks
from warmnas.bench.evaluators import run_evaluation
from warmnas.errors import InputError, MissingDataError, UnknownIdError
from warmnas.space import oboe_config, oboe_space


@pytest.mark.shared_data
def test_oboe_lookups_equal_the_published_error_matrix(oboe, shared_data):
    """Golden values: Oboe's own error_matrix.csv (rows = OpenML dataset ids)."""
    prior, ev = oboe
    raw = pd.read_csv(shared_data / "oboe" / "error_matrix.csv", index_col=0)
    space = oboe_space()
    rng = np.random.default_rng(0)
    for i in rng.choice(raw.shape[0], 5, replace=False):
        did = int(raw.index[i])
        row = ev.payload(f"openml/d/{did}")
        for j in rng.choice(raw.shape[1], 8, replace=False):
            config = space.validate(oboe_config(ast.literal_eval(raw.columns[j])))
            out = run_evaluation(ev, config, row)
            assert out.error is None
            assert out.value == pytest.approx(float(raw.iloc[i, j]), rel=1e-12)


@pytest.mark.shared_data
def test_nb201_lookups_go_through_the_nb201_table(shared_data):
    from warmnas.nas.nb201 import NB201Table

    prior, ev = load_table("nb201", shared_data)
    assert prior.performance.shape == (3, 15625)
    assert prior.direction == "maximize" and prior.metric == "test_accuracy"
    table = NB201Table.load(shared_data)
    best = table.best("cifar10")
    out = ev.evaluate({"arch": best["arch"]}, ev.payload("nb201/cifar10"))
    assert out.value == pytest.approx(best["cifar10"])
    assert prior.best("nb201/cifar10") == pytest.approx(best["cifar10"])
    with pytest.raises(UnknownIdError, match="NB201 has no dataset 'svhn'"):
        ev.payload("svhn")


@pytest.mark.shared_data
def test_aslib_table_is_a_maximised_accuracy_matrix_with_openml_features(shared_data):
    prior, ev = load_table("aslib", shared_data)
    assert prior.metric == "predictive_accuracy" and prior.direction == "maximize"
    assert prior.performance.shape[0] == 105 and prior.performance.shape[1] == 30
    assert prior.meta_features is not None and prior.view == "openml"
    t = prior.performance.index[0]
    cid = prior.performance.loc[t].idxmax()
    assert ev.evaluate(prior.configs[cid], ev.payload(t)).value == prior.best(t)


def test_a_config_the_table_lacks_is_reported(oboe):
    prior, ev = oboe
    t = prior.performance.index[0]
    row = ev.payload(t)
    short = type(row)(row.task, dict(list(row.values.items())[:3]), None)
    cfg = prior.configs[prior.performance.columns[-1]]
    out = run_evaluation(ev, cfg, short)
    assert np.isnan(out.value) and "has no value of configuration" in out.error
    with pytest.raises(InputError, match="evaluates on a SurrogateRow"):
        ev.evaluate(cfg, "not a row")


def test_simulated_cost_adds_its_time_to_the_recorded_cost(oboe):
    prior, ev = oboe
    t = prior.performance.index[0]
    cid = prior.performance.columns[0]
    slow = SimulatedCost(ev, sleep_s=0.05)
    out = slow.evaluate(prior.configs[cid], ev.payload(t))
    assert out.value == prior.performance.loc[t, cid]
    assert out.cost_s >= prior.cost.loc[t, cid] + 0.05
    with pytest.raises(InputError, match="sleep_s must be a finite number >= 0"):
        SimulatedCost(ev, sleep_s=-1)
    with pytest.raises(InputError, match="cpu_iterations must be an int >= 0"):
        SimulatedCost(ev, cpu_iterations=1.5)


def test_prior_views_leave_tasks_out(oboe):
    prior, _ = oboe
    t = list(prior.performance.index[:2])
    sub = prior.without(t)
    assert not set(t) & set(sub.performance.index)
    assert not set(t) & set(sub.meta_features.index)
    assert sub.performance.shape[0] == prior.performance.shape[0] - 2
    assert prior.without(["not-a-task"]) is prior
    with pytest.raises(UnknownIdError, match="task 'nope' is not in the table"):
        prior.row("nope")
    with pytest.raises(InputError, match="performance matrix is empty"):
        Prior(prior.performance.iloc[:0], prior.configs, prior.space, prior.metric, "minimize")
    with pytest.raises(InputError, match="direction must be"):
        Prior(prior.performance, prior.configs, prior.space, prior.metric, "up")


def test_surrogate_tasks_folds_group_tasks(oboe):
    prior, ev = oboe
    loo = surrogate_tasks(prior, ev, 12, require_meta_features=True)
    assert all(t.exclude == () for t in loo)  # the runner always leaves the task itself out
    assert all(t.meta_features is not None for t in loo)
    k3 = surrogate_tasks(prior, ev, 12, folds=3, require_meta_features=True, random_state=0)
    groups = {frozenset(t.exclude) for t in k3}
    assert len(groups) == 3 and sum(len(g) for g in groups) == 12
    assert all(t.task_id in t.exclude for t in k3)
    with pytest.raises(InputError, match="folds must be an int in"):
        surrogate_tasks(prior, ev, 4, folds=9)
    with pytest.raises(UnknownIdError, match="is not in the table"):
        surrogate_tasks(prior, ev, ["openml/d/0"])
    # one task id as a plain string (it was read letter by letter: "task 'o' is not in the table")
    assert [t.task_id for t in surrogate_tasks(prior, ev, "openml/d/3")] == ["openml/d/3"]


def test_unknown_table_and_missing_folder(tmp_path):
    with pytest.raises(InputError, match="table must be one of"):
        load_table("imagenet")
    with pytest.raises(MissingDataError, match="pass data_dir"):
        load_table("tabrepo")
    with pytest.raises(MissingDataError):
        load_table("nb201", tmp_path)


def test_a_metric_the_table_does_not_hold_is_refused_not_ignored(tmp_path):
    with pytest.raises(InputError, match=r"'oboe' table holds one metric, 'balanced_error'; "
                                         r"got metric='rmse'"):
        load_table("oboe", metric="rmse")
    with pytest.raises(InputError, match=r"'nb201' table holds one metric, 'test_accuracy'"):
        load_table("nb201", tmp_path, metric="auc_error")
    prior, _ = load_table("oboe", metric="balanced_error")
    assert prior.metric == "balanced_error"


@pytest.mark.shared_data
def test_tabrepo_study_stores_the_published_errors(shared_data, tmp_path):
    """Golden values: TabRepo's own results file (metric_error of each LightGBM config)."""
    import json

    from warmnas.bench import surrogate_study
    from warmnas.metadb import MetaDatabase
    from warmnas.space import tabrepo_lightgbm_space

    folder = shared_data / "tabrepo-lightgbm"
    raw = pd.read_csv(folder / "results_ranked_by_dataset_valid.csv")
    cfgs = json.loads((folder / "configs_lightgbm.json").read_text())
    space = tabrepo_lightgbm_space()
    name_of = {space.config_id({k: v for k, v in c["hyperparameters"].items() if k != "ag_args"}): n
               for n, c in cfgs.items()}
    db = MetaDatabase(f"sqlite:///{tmp_path / 't.db'}")
    res = surrogate_study("tabrepo", "portfolio,random", db=db, budget=4, data_dir=shared_data,
                          tasks=3)
    assert res.metric == "auc_error" and len(res.tasks) == 3
    stored = db.evaluations(metric="auc_error")
    assert len(stored) == res.n_evaluated > 0
    for t, c, v in zip(stored["task"], stored["config_id"], stored["value"]):
        tid = int(t.rsplit("/", 1)[1])
        row = raw[(raw["dataset"] == tid) & (raw["framework"] == name_of[c])]
        assert len(row) == 1 and row["problem_type"].iloc[0] == "binary"
        assert v == pytest.approx(float(row["metric_error"].iloc[0]), rel=1e-12)
    with pytest.raises(InputError, match=r"\['knn'\] need meta-features, but the prior has none"):
        surrogate_study("tabrepo", "knn", db=db, budget=2, data_dir=shared_data, tasks=2)


def test_surrogate_study_refuses_unknown_keywords_before_loading(tmp_path):
    from warmnas.bench import surrogate_study
    from warmnas.errors import InputTypeError
    from warmnas.metadb import MetaDatabase

    db = MetaDatabase(f"sqlite:///{tmp_path / 'a.db'}")
    before = db.snapshot_digest()
    # the table does not even exist: the typo is reported first, and nothing is written
    with pytest.raises(InputTypeError, match=r"surrogate_study\(\) got unknown argument\(s\) "
                       r"\['retry_faild'\]"):
        surrogate_study("no-such-table", "random", db=db, budget=2, retry_faild=True)
    assert db.snapshot_digest() == before

