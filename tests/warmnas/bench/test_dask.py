"""Studies on a real Dask LocalCluster (2 worker processes, 1 thread each; one per module).

* the surrogate study on Dask equals the in-process one;
* end to end on OpenML task 1882 (anneal, 10 x 10 CV; repeat 0, folds 0 and 1 only, so each
  evaluation fits two pipelines: fidelity 2/100) with real scikit-learn evaluations, into SQLite
  and, when PostgreSQL is available, into it;
* a Dask worker process killed mid-run (SIGKILL): Dask reschedules its evaluation; every
  planned evaluation is stored exactly once.

The worker-kill test runs last: it leaves the cluster with a restarted worker.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from warmnas.bench import OpenMLCVEvaluator, run_study
from warmnas.bench.testing import CrashOnce, count_calls
from warmnas.metadb import MetaDatabase

METHODS = "random,portfolio,knn"
SPLITS = [(0, 0), (0, 1)]  # repeat 0, folds 0 and 1 of the task's 10 x 10 CV


def _keys(db: MetaDatabase, metric: str = "balanced_error") -> list[tuple[str, str]]:
    ev = db.evaluations(metric=metric)
    return list(zip(ev["task"], ev["config_id"]))


def test_a_surrogate_study_on_dask_equals_the_in_process_one(oboe, oboe_tasks, dask_executor,
                                                             tmp_path):
    prior, ev = oboe
    ref_db = MetaDatabase(f"sqlite:///{tmp_path / 'ref.db'}")
    ref = run_study(oboe_tasks[:4], METHODS, ev, prior=prior, db=ref_db, budget=5)
    db = MetaDatabase(f"sqlite:///{tmp_path / 'dask.db'}")
    res = run_study(oboe_tasks[:4], METHODS, ev, prior=prior, db=db, budget=5,
                    executor=dask_executor)
    assert res.executor == "dask" and res.n_workers == 2
    cols = ["task", "method", "step", "config_id", "value", "best"]
    assert res.curves[cols].equals(ref.curves[cols])
    assert sorted(_keys(db)) == sorted(_keys(ref_db))
    assert res.n_evaluated == len(set(_keys(db)))


def test_a_running_cluster_is_used_by_its_scheduler_address(oboe, oboe_tasks, dask_executor,
                                                             tmp_path):
    from warmnas.bench import DaskExecutor

    address = dask_executor.client.scheduler.address
    with DaskExecutor(scheduler=address) as ex:
        assert ex.n_workers == 2
        res = run_study(oboe_tasks[:2], "random", oboe[1], prior=oboe[0],
                        db=MetaDatabase(f"sqlite:///{tmp_path / 'a.db'}"), budget=3, executor=ex)
    assert res.n_evaluated == 6
    assert dask_executor.client.status == "running"  # closing our client left the cluster up
    from warmnas.errors import ExecutionError, InputError

    with pytest.raises(InputError, match="like 'tcp://HOST:PORT'"):
        DaskExecutor(scheduler="localhost")
    with pytest.raises(InputError, match="exactly one of"):
        DaskExecutor()
    with pytest.raises(ExecutionError, match="cannot reach the Dask scheduler"):
        DaskExecutor(scheduler="tcp://127.0.0.1:9", timeout=2)


def _needs_estimators() -> None:
    """The real-evaluation path builds Oboe pipelines with warmnas.api.estimators (the warm-start
    part); until that is installed these end-to-end tests cannot run."""
    try:
        from warmnas.api import estimators  # noqa: F401
    except ImportError:
        pytest.skip("warmnas.api.estimators (Oboe config -> scikit-learn) is not available yet")


def _openml_e2e(url: str, cache_dir, executor) -> None:
    from warmnas.bench import openml_study

    db = MetaDatabase(url)
    t0 = time.perf_counter()
    res = openml_study([1882], METHODS, db=db, budget=3, cache_dir=cache_dir, splits=SPLITS,
                       executor=executor, random_state=0)
    elapsed = time.perf_counter() - t0
    task = "openml-test/t/1882"
    assert res.tasks == [task]
    assert res.curves.groupby("method").size().to_dict() == {m: 3 for m in METHODS.split(",")}
    stored = db.evaluations(task=task, metric="balanced_error")
    assert len(stored) == len(set(zip(stored["task"], stored["config_id"]))) == res.n_evaluated
    ok = res.curves[res.curves["error"].isna()]  # a pipeline that cannot be fit is not stored
    assert set(stored["config_id"]) == set(ok["config_id"])
    assert len(ok) >= 6
    assert np.allclose(stored["fidelity"], 2 / 100)
    assert stored["value"].between(0.0, 1.0).all()
    assert (stored["cost_s"] > 0).all()
    assert (stored["source"] == "warmnas-bench/openml").all()
    info = db.tasks().loc[task]
    assert info["name"] == "anneal"
    assert info["info"]["n_repeats"] == 10 and info["info"]["n_folds"] == 10
    feats = db.meta_features("autosklearn", tasks=[task])
    assert feats.shape[1] == 46
    assert feats.loc[task, "NumberOfInstances"] == 898
    assert feats.loc[task, "NumberOfClasses"] == 5  # anneal has 5 classes present (6 declared)
    # the values computed on the workers equal an in-process evaluation of the same config
    prior_cfgs = ok.drop_duplicates("config_id").head(2)
    from warmnas.bench.study import openml_tasks
    from warmnas.metadb.openml_cache import OpenMLCache

    with OpenMLCache(cache_dir) as cache:
        payload = openml_tasks([1882], cache, meta_features=False)[0].payload
    ev = OpenMLCVEvaluator(splits=SPLITS, random_state=0)
    from warmnas import MetaDatabase as MDB

    configs = MDB.default().configs(list(prior_cfgs["config_id"]))
    for cid, value in zip(prior_cfgs["config_id"], prior_cfgs["value"]):
        assert ev.evaluate(configs[cid], payload).value == pytest.approx(value, abs=1e-12)
    # resume: nothing is evaluated again
    again = openml_study([1882], METHODS, db=db, budget=3, cache_dir=cache_dir, splits=SPLITS,
                         executor=executor, random_state=0)
    assert again.n_evaluated == 0 and again.n_failed == res.n_failed  # only failures re-run
    assert (again.curves.loc[again.curves["error"].isna(), "origin"] == "stored").all()
    assert again.curves["config_id"].tolist() == res.curves["config_id"].tolist()
    print(f"\nopenml e2e on {url.split(':')[0]}: {res.n_evaluated} evaluations, "
          f"{elapsed:.1f} s (study {res.wall_s:.1f} s)")


def test_openml_task_1882_end_to_end_on_dask_into_sqlite(openml_cache_dir, dask_executor,
                                                         sqlite_url):
    _needs_estimators()
    _openml_e2e(sqlite_url, openml_cache_dir, dask_executor)


@pytest.mark.postgres
def test_openml_task_1882_end_to_end_on_dask_into_postgresql(openml_cache_dir, dask_executor,
                                                             pg_url):
    _needs_estimators()
    _openml_e2e(pg_url, openml_cache_dir, dask_executor)


def test_evaluation_timeouts_work_inside_dask_workers(oboe, oboe_tasks, dask_executor, tmp_path):
    from warmnas.bench import SimulatedCost

    prior, ev = oboe
    slow = SimulatedCost(ev, sleep_s=20)
    db = MetaDatabase(f"sqlite:///{tmp_path / 't.db'}")
    t0 = time.perf_counter()
    res = run_study(oboe_tasks[:1], "random,portfolio", slow, prior=prior, db=db, budget=2,
                    executor=dask_executor, eval_timeout_s=0.5)
    assert time.perf_counter() - t0 < 15
    assert res.curves["error"].str.startswith("TimeoutError").all()
    assert res.n_failed == len(res.curves) == 4
    assert db.info()["counts"]["evaluations"] == 0
    # the failures reported by the Dask workers are stored, and a re-run skips them (timeouts
    # are a transient kind, retried once by default: retry_transient=0 skips them at once)
    f = db.failures()
    assert len(f) == 4 and (f["error_type"] == "TimeoutError").all()
    assert (f["elapsed_s"] >= 0.5).all()
    again = run_study(oboe_tasks[:1], "random,portfolio", slow, prior=prior, db=db, budget=2,
                      executor=dask_executor, eval_timeout_s=0.5, retry_transient=0)
    assert again.n_skipped_failed == 4 and again.n_failed == again.n_evaluated == 0


def test_a_killed_dask_worker_loses_and_duplicates_nothing(oboe, oboe_tasks, dask_executor,
                                                           tmp_path):
    prior, ev = oboe
    ref_db = MetaDatabase(f"sqlite:///{tmp_path / 'ref.db'}")
    ref = run_study(oboe_tasks[:4], METHODS, ev, prior=prior, db=ref_db, budget=6)
    plan = set(_keys(ref_db))
    pids_before = set(dask_executor.worker_pids().values())
    crash = CrashOnce(ev, tmp_path / "marker", tmp_path / "calls", after=8)
    db = MetaDatabase(f"sqlite:///{tmp_path / 'dask.db'}")
    res = run_study(oboe_tasks[:4], METHODS, crash, prior=prior, db=db, budget=6,
                    executor=dask_executor)
    killed = int((tmp_path / "marker").read_text())
    assert killed in pids_before
    keys = _keys(db)
    assert len(keys) == len(set(keys)) == len(plan) == res.n_evaluated
    assert set(keys) == plan
    assert res.curves["config_id"].tolist() == ref.curves["config_id"].tolist()
    # the killed evaluation ran again (so may results that had finished on the killed worker
    # but not yet reached the driver: Dask recomputes those); each is stored once all the same
    assert count_calls(tmp_path / "calls") > len(plan)
    # the nanny replaced the killed worker process
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        pids = set(dask_executor.worker_pids().values())
        if len(pids) == 2 and killed not in pids:
            break
        time.sleep(0.5)
    assert killed not in pids and len(pids) == 2
