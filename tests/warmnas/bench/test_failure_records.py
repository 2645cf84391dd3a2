"""Failed evaluations are stored (exception, timeout, NaN), skipped on a re-run, retried on request."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

import pytest

from warmnas.bench import run_study, summarize, write_report
from warmnas.bench.evaluators import Evaluator
from warmnas.errors import ExecutionError, InputError, InputTypeError
from warmnas.metadb import MetaDatabase

BAD = ("GNB", "Perceptron")


class _Counting(Evaluator):
    """Looks the table up; ``BAD`` algorithms raise, return NaN or sleep (``mode``). Counts the
    configurations it evaluated (in-process executor)."""

    def __init__(self, inner: Evaluator, mode: str = "raise", stop_at: int | None = None) -> None:
        self.inner, self.mode, self.stop_at = inner, mode, stop_at
        self.space, self.metric, self.direction = inner.space, inner.metric, inner.direction
        self.calls: list[str] = []

    def evaluate(self, config: Mapping[str, Any], task: Any) -> Any:
        self.calls.append(self.space.config_id(config))
        if self.stop_at is not None and len(self.calls) == self.stop_at:
            raise KeyboardInterrupt
        if config["algorithm"] in BAD:
            if self.mode == "raise":
                raise ValueError(f"cannot fit {config['algorithm']}\nsecond line")
            if self.mode == "nan":
                return math.nan
            if self.mode == "sleep":
                time.sleep(30)
            if self.mode == "memory":  # the machine's fault (other jobs took the memory)
                raise MemoryError("cannot allocate 2.0 GiB")
        return self.inner.evaluate(config, task)


def _bad_keys(curves, prior) -> set[tuple[str, str]]:
    algos = curves["config_id"].map(lambda c: prior.configs[c]["algorithm"])
    sub = curves[algos.isin(BAD)]
    return set(zip(sub["task"], sub["config_id"]))


def test_an_exception_is_stored_as_a_failure_with_its_type_message_and_time(oboe, oboe_tasks,
                                                                          sqlite_url):
    prior, table = oboe
    ev = _Counting(table, "raise")
    db = MetaDatabase(sqlite_url)
    res = run_study(oboe_tasks[:2], "portfolio,random", ev, prior=prior, db=db, budget=30,
                    source="unit-test")
    bad = _bad_keys(res.curves, prior)
    assert bad and res.n_failed == len(bad)
    f = db.failures(metric="balanced_error")
    assert set(zip(f["task"], f["config_id"])) == bad
    assert (f["error_type"] == "ValueError").all()
    assert f["message"].str.match(r"cannot fit (GNB|Perceptron) second line$").all()
    assert (f["elapsed_s"] >= 0).all() and (f["attempts"] == 1).all()
    assert (f["source"] == "unit-test").all() and (f["fidelity"] == 1.0).all()
    # never in the matrix
    m = db.performance_matrix("balanced_error")
    assert not any(c in m.columns and not math.isnan(m.loc[t, c]) for t, c in bad
                   if t in m.index)


def test_a_nan_result_is_stored_as_a_failure(oboe, oboe_tasks, sqlite_url):
    prior, table = oboe
    db = MetaDatabase(sqlite_url)
    res = run_study(oboe_tasks[:1], "portfolio", _Counting(table, "nan"), prior=prior, db=db,
                    budget=30)
    f = db.failures()
    assert len(f) == res.n_failed > 0
    assert f["message"].str.contains("non-finite value nan").all()
    assert (f["error_type"] == "InputError").all()


def test_a_timeout_is_stored_as_a_failure_with_the_time_it_took(oboe, oboe_tasks, sqlite_url):
    prior, table = oboe
    db = MetaDatabase(sqlite_url)
    # the greedy portfolio proposes GNB early on this task (see test_runner's timeout test)
    res = run_study(oboe_tasks[:1], "portfolio", _Counting(table, "sleep"), prior=prior, db=db,
                    budget=30, eval_timeout_s=1.0)
    f = db.failures()
    assert len(f) == res.n_failed >= 1
    assert (f["error_type"] == "TimeoutError").all()
    assert f["message"].str.startswith("the evaluation took longer than 1 s").all()
    assert ((f["elapsed_s"] >= 1.0) & (f["elapsed_s"] < 10)).all()


def test_a_rerun_skips_stored_failures_and_retry_failed_runs_them_again(oboe, oboe_tasks,
                                                                        sqlite_url, tmp_path):
    prior, table = oboe
    db = MetaDatabase(sqlite_url)
    kw = {"prior": prior, "db": db, "budget": 30, "random_state": 0}
    first = run_study(oboe_tasks[:2], "portfolio,random", _Counting(table, "raise"), **kw)
    bad = _bad_keys(first.curves, prior)
    assert bad
    # re-run: nothing evaluated again (successes reused, failures skipped), same trajectories
    again_ev = _Counting(table, "raise")
    again = run_study(oboe_tasks[:2], "portfolio,random", again_ev, **kw)
    assert again_ev.calls == [] and again.n_evaluated == 0 and again.n_failed == 0
    assert again.curves["config_id"].tolist() == first.curves["config_id"].tolist()
    skipped = again.curves[again.curves["error"].notna()]
    assert (skipped["origin"] == "stored").all()
    assert again.n_skipped_failed == len(skipped) >= len(bad)
    assert skipped["error"].str.startswith("ValueError: cannot fit").all()
    s = summarize(again).set_index("method")
    assert s["skipped_failed"].sum() == again.n_skipped_failed and s["failed"].sum() == 0
    md = write_report(again, tmp_path / "out", plots=False)["summary_md"].read_text()
    assert f"{again.n_skipped_failed} skipped as failed before" in md
    # retry_failed with the evaluator still failing: each failure ran once more (attempts 2)
    still = _Counting(table, "raise")
    retry = run_study(oboe_tasks[:2], "portfolio,random", still, retry_failed=True, **kw)
    assert sorted(still.calls) == sorted(c for _, c in bad) and retry.n_failed == len(bad)
    assert (db.failures()["attempts"] == 2).all() and len(db.failures()) == len(bad)
    # retry_failed with a fixed evaluator: the successes replace the failures
    fixed = _Counting(table, "none")
    res = run_study(oboe_tasks[:2], "portfolio,random", fixed, retry_failed=True, **kw)
    assert sorted(fixed.calls) == sorted(c for _, c in bad) and res.n_evaluated == len(bad)
    assert db.failures().empty
    ev = db.evaluations(metric="balanced_error").set_index(["task", "config_id"])
    for t, c in bad:
        assert ev.loc[(t, c), "value"] == prior.performance.loc[t, c]
    with pytest.raises(InputTypeError, match="retry_failed must be True or False"):
        run_study(oboe_tasks[:1], "random", table, retry_failed="yes", **kw)


def test_an_interrupted_study_keeps_its_finished_failures(oboe, oboe_tasks, sqlite_url):
    prior, table = oboe
    db = MetaDatabase(sqlite_url)
    probe = _Counting(table, "raise")
    run_study(oboe_tasks[:1], "portfolio", probe, prior=prior, db=MetaDatabase(
        sqlite_url.replace("bench.db", "probe.db")), budget=30)
    algos = [prior.configs[c]["algorithm"] for c in probe.calls]
    first_bad = next(i for i, a in enumerate(algos) if a in BAD)
    stop = first_bad + 3  # Ctrl-C a few evaluations after the first failure
    ev = _Counting(table, "raise", stop_at=stop)
    with pytest.raises(KeyboardInterrupt):
        run_study(oboe_tasks[:1], "portfolio", ev, prior=prior, db=db, budget=30)
    finished = ev.calls[:stop - 1]
    n_bad = sum(prior.configs[c]["algorithm"] in BAD for c in finished)
    assert n_bad >= 1
    assert len(db.failures()) == n_bad
    assert len(db.evaluations()) == len(finished) - n_bad


def test_a_worker_lost_too_often_is_stored_as_a_failure_and_skipped_next_time(
        oboe, oboe_tasks, sqlite_url, tmp_path):
    from warmnas.bench import PoolExecutor
    from warmnas.bench.testing import CrashOnce

    prior, table = oboe
    crash = CrashOnce(table, tmp_path / "marker", tmp_path / "calls", times=100)
    db = MetaDatabase(sqlite_url)
    with PoolExecutor(1) as pool, pytest.raises(ExecutionError, match="lost its worker 3 times"):
        run_study(oboe_tasks[:1], "random", crash, prior=prior, db=db, budget=2, executor=pool,
                  max_retries=2)
    f = db.failures()
    assert len(f) == 1 and f["error_type"].iloc[0] == "WorkerLost"
    assert f["attempts"].iloc[0] == 3 and "lost its worker 3 times" in f["message"].iloc[0]
    res = run_study(oboe_tasks[:1], "random", table, prior=prior, db=db, budget=2)
    assert res.n_skipped_failed == 1 and res.n_evaluated == 1


def test_cli_retry_failed_and_the_summary_counts(oboe, tmp_path, capsys):
    from warmnas.cli import main

    prior, _ = oboe
    url = f"sqlite:///{tmp_path / 'c.db'}"
    args = ["bench", "surrogate", "--tasks", "2", "--methods", "portfolio", "--budget", "3",
            "--db", url, "--out", str(tmp_path / "out"), "--serial", "--no-plots"]
    assert main(args) == 0
    capsys.readouterr()
    db = MetaDatabase(url)
    ev = db.evaluations()
    task, cid = ev["task"].iloc[0], ev["config_id"].iloc[0]
    # pretend that evaluation had failed: replace it by a failure
    db.delete_tasks([task])
    db.add_task(task)
    db.add_failures([{"task": task, "config_id": cid, "error_type": "ValueError",
                      "message": "cannot fit", "elapsed_s": 6.0}],
                    metric="balanced_error")
    n_before = len(db.evaluations())
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "1 skipped as failed before" in out and "--retry-failed" in out
    assert len(db.evaluations()) == n_before + 2  # the task's other two, not the failed one
    assert len(db.failures()) == 1
    assert main([*args, "--retry-failed"]) == 0
    out = capsys.readouterr().out
    assert "1 evaluations run" in out and "skipped as failed" not in out
    assert db.failures().empty and len(db.evaluations()) == n_before + 3
    assert prior.performance.loc[task, cid] == db.evaluations().set_index(
        ["task", "config_id"]).loc[(task, cid), "value"]


def test_a_transient_failure_is_retried_on_the_next_run_then_skipped(oboe, oboe_tasks, sqlite_url):
    """MemoryError / TimeoutError / ChildProcessError may be the machine's fault (a loaded
    machine): a re-run evaluates such a failure again while its attempts are at most
    ``retry_transient`` (1), then skips it like any other failure."""
    prior, table = oboe
    db = MetaDatabase(sqlite_url)
    kw = {"prior": prior, "db": db, "budget": 30, "random_state": 0}
    first = run_study(oboe_tasks[:1], "portfolio", _Counting(table, "memory"), **kw)
    bad = _bad_keys(first.curves, prior)
    assert bad and first.n_failed == len(bad)
    assert (db.failures()["error_type"] == "MemoryError").all()
    # second run, the machine still short of memory: each transient failure runs once more
    again_ev = _Counting(table, "memory")
    again = run_study(oboe_tasks[:1], "portfolio", again_ev, **kw)
    assert sorted(again_ev.calls) == sorted(c for _, c in bad)
    assert again.n_retried_failed == len(bad) and again.n_skipped_failed == 0
    assert again.info["retry_transient"] == 1
    assert (db.failures()["attempts"] == 2).all()
    # third run: attempts 2 > retry_transient, so they are skipped like any other failure
    third_ev = _Counting(table, "memory")
    third = run_study(oboe_tasks[:1], "portfolio", third_ev, **kw)
    assert third_ev.calls == [] and third.n_skipped_failed >= len(bad)
    assert third.n_retried_failed == 0
    # retry_transient=0: never retried automatically; a larger value: retried again
    assert run_study(oboe_tasks[:1], "portfolio", _Counting(table, "memory"), retry_transient=0,
                     **kw).n_retried_failed == 0
    fixed = _Counting(table, "none")
    res = run_study(oboe_tasks[:1], "portfolio", fixed, retry_transient=2, **kw)
    assert sorted(fixed.calls) == sorted(c for _, c in bad) and res.n_evaluated == len(bad)
    assert db.failures().empty
    for bad_value in (-1, 1.5, True, "1"):
        with pytest.raises(InputError, match="retry_transient must be an int >= 0"):
            run_study(oboe_tasks[:1], "random", table, retry_transient=bad_value, **kw)


def test_deterministic_failures_are_not_retried_without_retry_failed(oboe, oboe_tasks,
                                                                     sqlite_url):
    prior, table = oboe
    db = MetaDatabase(sqlite_url)
    kw = {"prior": prior, "db": db, "budget": 30, "random_state": 0}
    run_study(oboe_tasks[:1], "portfolio", _Counting(table, "raise"), **kw)
    assert (db.failures()["error_type"] == "ValueError").all()
    again_ev = _Counting(table, "raise")
    again = run_study(oboe_tasks[:1], "portfolio", again_ev, retry_transient=5, **kw)
    assert again_ev.calls == [] and again.n_retried_failed == 0


def test_cli_retries_a_stored_timeout_once_and_retry_transient_0_skips_it(oboe, tmp_path,
                                                                         capsys):
    from warmnas.cli import main

    url = f"sqlite:///{tmp_path / 'c.db'}"
    args = ["bench", "surrogate", "--tasks", "1", "--methods", "portfolio", "--budget", "2",
            "--db", url, "--out", str(tmp_path / "out"), "--serial", "--no-plots"]
    assert main(args) == 0
    db = MetaDatabase(url)
    task, cid = db.evaluations()[["task", "config_id"]].iloc[0]
    db.delete_tasks([task])
    db.add_task(task)
    timeout = [{"task": task, "config_id": cid, "error_type": "TimeoutError",
                "message": "took longer than 600 s", "elapsed_s": 600.0}]
    db.add_failures(timeout, metric="balanced_error")
    capsys.readouterr()
    assert main([*args, "--retry-transient", "0"]) == 0
    assert "1 skipped as failed before" in capsys.readouterr().out
    assert len(db.failures()) == 1
    assert main(args) == 0  # the default: a stored timeout with 1 attempt runs once more
    out = capsys.readouterr().out
    assert "1 stored failures evaluated again (transient kinds" in out
    assert "skipped as failed" not in out and db.failures().empty
    assert main([*args, "--retry-transient", "-1"]) == 2
    assert "--retry-transient must be an int >= 0" in capsys.readouterr().err
