"""The study runner on the Oboe table (surrogate mode, in-process): storage, resume, errors."""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest

from warmnas.bench import FunctionEvaluator, Prior, StudyTask, run_study
from warmnas.bench.evaluators import Evaluation
from warmnas.errors import ExecutionError, InputError, InputTypeError
from warmnas.metadb import MetaDatabase
from warmnas.space import oboe_space

METHODS = "random,portfolio,knn"


def _keys(db: MetaDatabase) -> list[tuple[str, str]]:
    ev = db.evaluations(metric="balanced_error")
    return list(zip(ev["task"], ev["config_id"]))


def test_every_evaluation_is_stored_once_with_the_table_value(oboe, oboe_tasks, sqlite_url):
    prior, ev = oboe
    db = MetaDatabase(sqlite_url)
    res = run_study(oboe_tasks, METHODS, ev, prior=prior, db=db, budget=6, random_state=0)
    curves = res.curves
    # every search ran its budget
    assert curves.groupby(["task", "method"]).size().eq(6).all()
    assert len(curves) == len(oboe_tasks) * 3 * 6
    # the stored evaluations are exactly the distinct (task, config) pairs of all trajectories
    plan = set(zip(curves["task"], curves["config_id"]))
    keys = _keys(db)
    assert len(keys) == len(set(keys)) == len(plan) == res.n_evaluated
    assert set(keys) == plan
    assert (curves["origin"] == "evaluated").sum() == res.n_evaluated
    assert (curves["origin"] == "shared").sum() == len(curves) - res.n_evaluated
    # stored values are the table's values, with the table's runtime as cost
    stored = db.evaluations(metric="balanced_error").set_index(["task", "config_id"])
    for t, c in list(plan)[:40]:
        assert stored.loc[(t, c), "value"] == prior.performance.loc[t, c]
        assert stored.loc[(t, c), "cost_s"] == pytest.approx(prior.cost.loc[t, c])
        assert stored.loc[(t, c), "source"] == "warmnas-bench"
    # best-so-far is monotone and regret is relative to the table's optimum
    for (_t, _m), g in curves.groupby(["task", "method"]):
        assert np.all(np.diff(g["best"].to_numpy()) <= 0)
    reg = res.regret()
    assert (reg >= 0).all()
    t0 = oboe_tasks[0].task_id
    first = curves[(curves["task"] == t0) & (curves["method"] == "random")].iloc[0]
    assert reg.loc[first.name] == pytest.approx(first["best"] - prior.performance.loc[t0].min())
    # the tasks and their meta-features were written too
    assert set(db.tasks().index) == {t.task_id for t in oboe_tasks}
    feats = db.meta_features("autosklearn")
    assert feats.loc[t0, "ClassEntropy"] == pytest.approx(prior.meta_features.loc[t0, "ClassEntropy"])


def test_rerun_replays_stored_results_and_reproduces_the_trajectories(oboe, oboe_tasks, sqlite_url):
    prior, ev = oboe
    db = MetaDatabase(sqlite_url)
    first = run_study(oboe_tasks, METHODS, ev, prior=prior, db=db, budget=5, random_state=3)
    n_stored = len(_keys(db))
    again = run_study(oboe_tasks, METHODS, ev, prior=prior, db=db, budget=5, random_state=3)
    assert again.n_evaluated == 0
    assert (again.curves["origin"] == "stored").all()
    assert again.n_reused == len(again.curves)
    cols = ["task", "method", "step", "config_id", "value", "best", "elapsed_s"]
    pd.testing.assert_frame_equal(first.curves[cols], again.curves[cols])
    assert len(_keys(db)) == n_stored
    # a larger budget evaluates only the new steps
    more = run_study(oboe_tasks, METHODS, ev, prior=prior, db=db, budget=7, random_state=3)
    assert more.curves.groupby(["task", "method"]).size().eq(7).all()
    old = more.curves[more.curves["step"] <= 5]
    assert (old["origin"] == "stored").all()
    new = more.curves[more.curves["step"] > 5]
    new_keys = set(zip(new["task"], new["config_id"])) - set(zip(old["task"], old["config_id"]))
    # steps 6-7 were run now, unless another method's first five steps had stored them
    assert more.n_evaluated == len(new_keys) > 0
    assert len(_keys(db)) == n_stored + more.n_evaluated


def test_same_seed_same_curves_other_seed_other_random_search(oboe, oboe_tasks, tmp_path):
    prior, ev = oboe
    a = run_study(oboe_tasks[:2], "random", ev, prior=prior,
                  db=MetaDatabase(f"sqlite:///{tmp_path / 'a.db'}"), budget=5, random_state=1)
    b = run_study(oboe_tasks[:2], "random", ev, prior=prior,
                  db=MetaDatabase(f"sqlite:///{tmp_path / 'b.db'}"), budget=5, random_state=1)
    c = run_study(oboe_tasks[:2], "random", ev, prior=prior,
                  db=MetaDatabase(f"sqlite:///{tmp_path / 'c.db'}"), budget=5, random_state=2)
    assert a.curves["config_id"].tolist() == b.curves["config_id"].tolist()
    assert a.curves["config_id"].tolist() != c.curves["config_id"].tolist()


def test_the_task_under_study_is_left_out_of_the_fit(oboe, oboe_tasks, sqlite_url):
    """kNN's first proposal on a task must not be that task's own best configuration picked
    with the task itself as nearest neighbour: check the fitted starter never saw the row."""
    prior, ev = oboe
    from warmnas.warmstart import KNNWarmStarter

    res = run_study(oboe_tasks[:3], "knn", ev, prior=prior, db=MetaDatabase(sqlite_url), budget=1)
    for t in oboe_tasks[:3]:
        sub = prior.without([t.task_id])
        st = KNNWarmStarter().fit(sub.performance, sub.meta_features)
        expected = st.suggest(t.meta_features, 1, candidates=t.candidates, nan_policy="ignore",
                              random_state=0).config_ids[0]
        got = res.curves.loc[res.curves["task"] == t.task_id, "config_id"].iloc[0]
        assert got == expected


def _flaky(config, task):
    if config["algorithm"] in ("GNB", "Perceptron"):
        raise ValueError(f"cannot fit {config['algorithm']}")
    return task.values[oboe_space().config_id(config)]


def test_failed_evaluations_are_recorded_and_stored_as_failures_not_values(oboe, oboe_tasks,
                                                                           sqlite_url, tmp_path):
    prior, _ = oboe
    ev = FunctionEvaluator(_flaky, space=prior.space, metric="balanced_error")
    db = MetaDatabase(sqlite_url)
    # the portfolio on these tasks proposes GNB/Perceptron configs within 30 steps
    res = run_study(oboe_tasks[:2], "portfolio,random", ev, prior=prior, db=db, budget=30)
    curves = res.curves
    algos = curves["config_id"].map(lambda c: prior.configs[c]["algorithm"])
    bad = algos.isin(["GNB", "Perceptron"])
    assert bad.any()
    assert curves.loc[bad, "value"].isna().all()
    assert curves.loc[bad, "error"].str.contains("ValueError: cannot fit").all()
    assert curves.loc[~bad, "error"].isna().all()
    stored = db.evaluations(metric="balanced_error")
    assert not stored["config_id"].map(lambda c: prior.configs[c]["algorithm"]).isin(
        ["GNB", "Perceptron"]).any()
    assert res.n_failed == len(set(zip(curves.loc[bad, "task"], curves.loc[bad, "config_id"])))
    failures = db.failures()
    assert set(zip(failures["task"], failures["config_id"])) == set(
        zip(curves.loc[bad, "task"], curves.loc[bad, "config_id"]))
    # on_error="raise" stops at the first failure, and that failure is not stored
    fresh = MetaDatabase(tmp_path / "raise.db")
    with pytest.raises(ExecutionError, match="ValueError: cannot fit") as info:
        run_study(oboe_tasks[:1], "portfolio", ev, prior=prior, db=fresh, budget=30,
                  on_error="raise")
    assert fresh.failures().empty
    assert isinstance(info.value.__cause__, ValueError)


def test_batch_size_keeps_several_suggestions_in_flight(oboe, oboe_tasks, sqlite_url):
    prior, ev = oboe
    res = run_study(oboe_tasks[:2], "knn,random", ev, prior=prior, db=MetaDatabase(sqlite_url),
                    budget=8, batch_size=3)
    assert res.curves.groupby(["task", "method"]).size().eq(8).all()
    assert not res.curves.duplicated(["task", "method", "config_id"]).any()


def test_a_search_stops_when_its_candidates_run_out(oboe, sqlite_url):
    prior, ev = oboe
    t = prior.performance.index[0]
    cands = list(prior.row(t).index[:4])
    task = StudyTask(t, ev.payload(t), candidates=cands, best_known=prior.best(t))
    res = run_study([task], "random", ev, prior=prior, db=MetaDatabase(sqlite_url), budget=10)
    assert sorted(res.curves["config_id"]) == sorted(cands)


def test_bad_arguments_are_refused_before_anything_is_written(oboe, oboe_tasks, sqlite_url):
    prior, ev = oboe
    db = MetaDatabase(sqlite_url)
    kw = {"prior": prior, "db": db}
    with pytest.raises(InputError, match="budget must be a positive int"):
        run_study(oboe_tasks, "random", ev, budget=0, **kw)
    with pytest.raises(InputError, match="batch_size must be a positive int"):
        run_study(oboe_tasks, "random", ev, budget=2, batch_size=0, **kw)
    with pytest.raises(InputError, match="tasks is empty"):
        run_study([], "random", ev, budget=2, **kw)
    with pytest.raises(InputError, match="lists a task twice"):
        run_study([oboe_tasks[0], oboe_tasks[0]], "random", ev, budget=2, **kw)
    with pytest.raises(InputError, match="unknown method 'bogus'"):
        run_study(oboe_tasks, "random,bogus", ev, budget=2, **kw)
    with pytest.raises(InputError, match="methods is empty"):
        run_study(oboe_tasks, [], ev, budget=2, **kw)
    with pytest.raises(InputError, match="on_error must be"):
        run_study(oboe_tasks, "random", ev, budget=2, on_error="ignore", **kw)
    with pytest.raises(InputTypeError, match="evaluator must be a warmnas.bench.Evaluator"):
        run_study(oboe_tasks, "random", lambda c, t: 0.0, budget=2, **kw)
    no_feats = [StudyTask(t.task_id, t.payload, None, candidates=t.candidates) for t in oboe_tasks]
    with pytest.raises(InputError, match="needs the meta-features of each task"):
        run_study(no_feats, "knn", ev, budget=2, **kw)
    bare = Prior(prior.performance, prior.configs, prior.space, prior.metric, prior.direction)
    with pytest.raises(InputError, match="needs meta-features, but the prior has none"):
        run_study(oboe_tasks, "knn", ev, budget=2, prior=bare, db=db)
    other = FunctionEvaluator(lambda c, t: 0.0, space=oboe_space(name="other"), metric="balanced_error")
    with pytest.raises(InputError, match="space 'oboe' but the evaluator evaluates space 'other'"):
        run_study(oboe_tasks, "random", other, budget=2, **kw)
    assert db.tasks().empty
    assert db.info()["counts"]["evaluations"] == 0


def test_an_evaluator_returning_garbage_is_reported(oboe, oboe_tasks, sqlite_url):
    prior, _ = oboe
    ev = FunctionEvaluator(lambda c, t: "0.5", space=prior.space, metric="balanced_error")
    res = run_study(oboe_tasks[:1], "random", ev, prior=prior, db=MetaDatabase(sqlite_url),
                    budget=2)
    assert res.curves["error"].str.contains("must return a number").all()
    inf = FunctionEvaluator(lambda c, t: Evaluation(math.inf, 0.0), space=prior.space,
                            metric="balanced_error")
    res = run_study(oboe_tasks[:1], "random", inf, prior=prior,
                    db=MetaDatabase(sqlite_url.replace("bench.db", "inf.db")), budget=2)
    assert res.curves["error"].str.contains("non-finite value").all()


@pytest.mark.postgres
def test_a_study_into_postgresql_stores_and_resumes(oboe, oboe_tasks, pg_url):
    prior, ev = oboe
    db = MetaDatabase(pg_url)
    res = run_study(oboe_tasks[:3], METHODS, ev, prior=prior, db=db, budget=4)
    keys = _keys(db)
    assert len(keys) == len(set(keys)) == res.n_evaluated
    assert set(keys) == set(zip(res.curves["task"], res.curves["config_id"]))
    again = run_study(oboe_tasks[:3], METHODS, ev, prior=prior, db=db, budget=4)
    assert again.n_evaluated == 0 and len(_keys(db)) == len(keys)
    assert again.curves["config_id"].tolist() == res.curves["config_id"].tolist()


def _slow_for_gnb(config, task):
    import time as _t

    if config["algorithm"] == "GNB":
        _t.sleep(30)
    return task.values[oboe_space().config_id(config)]


def test_an_evaluation_past_its_timeout_is_stopped_and_recorded(oboe, oboe_tasks, sqlite_url):
    prior, ev = oboe
    slow = FunctionEvaluator(_slow_for_gnb, space=prior.space, metric="balanced_error")
    db = MetaDatabase(sqlite_url)
    t0 = time.perf_counter()
    # the greedy portfolio proposes a GNB pipeline early on these tasks
    res = run_study(oboe_tasks[:1], "portfolio", slow, prior=prior, db=db, budget=30,
                    eval_timeout_s=1.0)
    assert time.perf_counter() - t0 < 25
    curves = res.curves
    gnb = curves["config_id"].map(lambda c: prior.configs[c]["algorithm"]) == "GNB"
    assert gnb.sum() == 1
    assert curves.loc[gnb, "error"].str.startswith("TimeoutError: the evaluation took longer").all()
    assert curves.loc[~gnb, "error"].isna().all()
    # values computed in the forked children equal the table
    ok = curves[~gnb]
    assert np.allclose(ok["value"], [prior.performance.loc[t, c] for t, c in
                                     zip(ok["task"], ok["config_id"])])
    assert res.n_failed == 1 and len(_keys(db)) == len(ok)
    with pytest.raises(InputError, match="eval_timeout_s must be a positive number"):
        run_study(oboe_tasks[:1], "random", ev, prior=prior, db=db, budget=2, eval_timeout_s=0)


def _dies(config, task):
    import os as _os
    import signal as _signal

    _os.kill(_os.getpid(), _signal.SIGKILL)


def test_a_crashing_evaluation_child_is_a_recorded_failure(oboe, oboe_tasks, sqlite_url):
    prior, _ = oboe
    ev = FunctionEvaluator(_dies, space=prior.space, metric="balanced_error")
    res = run_study(oboe_tasks[:1], "random", ev, prior=prior, db=MetaDatabase(sqlite_url),
                    budget=2, eval_timeout_s=10)
    assert res.curves["error"].str.contains("evaluation process died \\(signal 9\\)").all()


def _sleeps_and_reports_its_pid(config, task):
    import os as _os

    with open(task, "w") as fh:
        fh.write(str(_os.getpid()))
    time.sleep(30)
    return 0.5


def test_an_interrupt_while_waiting_for_an_evaluation_child_kills_the_child(oboe, tmp_path):
    """Ctrl-C (here SIGALRM -> KeyboardInterrupt, in the parent only) while a forked evaluation
    runs: run_evaluation stops at once and leaves no child behind (a child busy in native code,
    e.g. libsvm, would not see the terminal's SIGINT before it finishes)."""
    import os
    import signal

    from warmnas.bench.evaluators import run_evaluation

    prior, _ = oboe
    ev = FunctionEvaluator(_sleeps_and_reports_its_pid, space=prior.space, metric="balanced_error")
    pidfile = tmp_path / "child.pid"

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGALRM, interrupt)
    t0 = time.perf_counter()
    try:
        signal.alarm(2)
        with pytest.raises(KeyboardInterrupt):
            run_evaluation(ev, {}, str(pidfile), True, 60.0)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert time.perf_counter() - t0 < 10
    pid = int(pidfile.read_text())
    with pytest.raises(ProcessLookupError):  # reaped: no such process
        os.kill(pid, 0)


def test_wrong_types_of_tasks_db_and_prior_get_clear_errors(oboe, oboe_tasks, sqlite_url):
    prior, ev = oboe
    db = MetaDatabase(sqlite_url)
    kw = {"budget": 2}
    with pytest.raises(InputTypeError, match=r"db must be a warmnas.metadb.MetaDatabase, got str.*"
                                             r"MetaDatabase\('sqlite:///"):
        run_study(oboe_tasks, "random", ev, prior=prior, db=sqlite_url, **kw)
    with pytest.raises(InputTypeError, match="db must be a warmnas.metadb.MetaDatabase, got NoneType"):
        run_study(oboe_tasks, "random", ev, prior=prior, db=None, **kw)
    with pytest.raises(InputTypeError, match=r"tasks must be a list of StudyTask, got a StudyTask; "
                                             r"pass \[task\]"):
        run_study(oboe_tasks[0], "random", ev, prior=prior, db=db, **kw)
    with pytest.raises(InputTypeError, match=r"tasks\[0\] must be a StudyTask, got str 'openml/d/3'"):
        run_study(["openml/d/3"], "random", ev, prior=prior, db=db, **kw)
    with pytest.raises(InputTypeError, match=r"Prior.from_metadb\(db, metric"):
        run_study(oboe_tasks, "random", ev, prior=MetaDatabase.default(), db=db, **kw)
    assert db.tasks().empty


def test_an_evaluator_direction_contradicting_the_prior_or_db_is_refused(oboe, oboe_tasks,
                                                                        sqlite_url):
    """The searches' best-so-far, regret and best_known follow the evaluator's direction: one
    that contradicts the prior's (same metric) or the database's ran silently backwards."""
    prior, table = oboe
    backwards = FunctionEvaluator(table.evaluate, space=table.space, metric="balanced_error",
                                  direction="maximize")
    db = MetaDatabase(sqlite_url)
    with pytest.raises(InputError, match=r"evaluator's direction 'maximize' contradicts the "
                                         r"prior's 'minimize' for metric 'balanced_error'"):
        run_study(oboe_tasks[:1], "portfolio", backwards, prior=prior, db=db, budget=2)
    assert db.info()["counts"]["tasks"] == 0  # refused before anything was written
    db.add_metric("my_loss", "minimize")
    other = FunctionEvaluator(table.evaluate, space=table.space, metric="my_loss",
                              direction="maximize")
    with pytest.raises(InputError, match=r"db stores metric 'my_loss' as 'minimize', but the "
                                         r"evaluator's direction is 'maximize'"):
        run_study(oboe_tasks[:1], "portfolio", other, prior=prior, db=db, budget=2)
    fresh = FunctionEvaluator(table.evaluate, space=table.space, metric="rmse",
                              direction="maximize")  # a known metric, new to this database
    with pytest.raises(InputError, match=r"warmnas knows metric 'rmse' as 'minimize'"):
        run_study(oboe_tasks[:1], "portfolio", fresh, prior=prior, db=db, budget=2)


def test_an_evaluator_that_does_not_pickle_is_named_with_the_fix(oboe, oboe_tasks, sqlite_url):
    from warmnas.bench import PoolExecutor

    prior, table = oboe
    local = FunctionEvaluator(lambda config, task: 0.5, space=table.space,
                              metric="balanced_error")
    with PoolExecutor(1) as pool, pytest.raises(
            ExecutionError, match=r"could not run: .*pickle.*the evaluator and the tasks' "
                                  r"payloads go to the worker processes by pickle: define the "
                                  r"function at module level.*SerialExecutor"):
        run_study(oboe_tasks[:1], "portfolio", local, prior=prior, db=MetaDatabase(sqlite_url),
                  budget=1, executor=pool)
