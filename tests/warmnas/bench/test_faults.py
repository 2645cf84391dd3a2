"""Nothing lost, nothing duplicated: killed pool workers, a killed driver, and resuming.

(The Dask worker-kill test lives in test_dask.py, which owns the module's LocalCluster.)
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from warmnas.bench import PoolExecutor, SerialExecutor, run_study
from warmnas.bench.evaluators import Evaluator
from warmnas.bench.testing import CrashOnce, count_calls
from warmnas.errors import ExecutionError
from warmnas.metadb import MetaDatabase

METHODS = "random,portfolio,knn"


def _keys(db: MetaDatabase) -> list[tuple[str, str]]:
    ev = db.evaluations(metric="balanced_error")
    return list(zip(ev["task"], ev["config_id"]))


@pytest.fixture(scope="module")
def reference(oboe, oboe_tasks, tmp_path_factory):
    """The plan: the (task, config) pairs a fault-free in-process run evaluates."""
    prior, ev = oboe
    db = MetaDatabase(f"sqlite:///{tmp_path_factory.mktemp('ref') / 'ref.db'}")
    res = run_study(oboe_tasks[:4], METHODS, ev, prior=prior, db=db, budget=6, random_state=0)
    return res, set(_keys(db))


def test_a_killed_pool_worker_is_replaced_and_its_evaluation_retried(
        oboe, oboe_tasks, reference, sqlite_url, tmp_path):
    prior, ev = oboe
    ref, plan = reference
    crash = CrashOnce(ev, tmp_path / "marker", tmp_path / "calls", after=10)
    db = MetaDatabase(sqlite_url)
    with PoolExecutor(2) as pool:
        res = run_study(oboe_tasks[:4], METHODS, crash, prior=prior, db=db, budget=6,
                        executor=pool, random_state=0)
        assert pool.restarts >= 1
    assert (tmp_path / "marker").exists()
    assert res.n_retried >= 1
    keys = _keys(db)
    assert len(keys) == len(set(keys)) == len(plan)
    assert set(keys) == plan
    assert res.curves[["task", "method", "config_id"]].equals(ref.curves[["task", "method", "config_id"]])
    # the killed evaluation (and any other in flight on the broken pool) ran again
    assert count_calls(tmp_path / "calls") > len(plan)


def test_crash_once_never_kills_the_driver(oboe, oboe_tasks, sqlite_url, tmp_path):
    prior, ev = oboe
    crash = CrashOnce(ev, tmp_path / "marker", tmp_path / "calls")
    with pytest.raises(ExecutionError, match="refuses to kill the process that created it"):
        run_study(oboe_tasks[:1], "random", crash, prior=prior, db=MetaDatabase(sqlite_url),
                  budget=2, executor=SerialExecutor(), on_error="raise")


def test_a_worker_lost_too_often_stops_the_study_with_the_results_kept(
        oboe, oboe_tasks, sqlite_url, tmp_path):
    prior, ev = oboe
    crash = CrashOnce(ev, tmp_path / "marker", tmp_path / "calls", times=100)
    db = MetaDatabase(sqlite_url)
    with PoolExecutor(1) as pool, pytest.raises(ExecutionError, match="lost its worker 3 times"):
        run_study(oboe_tasks[:1], "random", crash, prior=prior, db=db, budget=2, executor=pool,
                  max_retries=2)
    assert db.info()["counts"]["evaluations"] == 0


def _cli(db_url: str, out: str, *extra: str) -> list[str]:
    return ["bench", "surrogate", "--table", "oboe", "--tasks", "4", "--methods", METHODS,
            "--budget", "6", "--db", db_url, "--out", out, "--no-plots", *extra]


def test_a_killed_driver_is_resumed_by_rerunning_the_command(reference, tmp_path):
    """Kill the whole study (SIGKILL, mid-run), re-run the same command: it evaluates only
    what is missing; the stored evaluations are exactly the plan, none twice."""
    from warmnas.cli import main

    ref, plan = reference
    url = f"sqlite:///{tmp_path / 'killed.db'}"
    cmd = [sys.executable, "-m", "warmnas", *_cli(url, str(tmp_path / "r1"), "--serial",
                                                  "--sleep", "0.05")]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    db = None
    stored = 0
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if (tmp_path / "killed.db").exists():
                db = db or MetaDatabase(url)
                try:
                    stored = db.info()["counts"]["evaluations"]
                except Exception:  # schema being created by the child
                    stored = 0
                if stored >= 15:
                    break
            time.sleep(0.05)
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:] if proc.stderr else ""
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    db = MetaDatabase(url)
    before = set(_keys(db))
    assert 15 <= len(before) < len(plan)
    assert before <= plan
    rc = main(_cli(url, str(tmp_path / "r2"), "--serial"))
    assert rc == 0
    keys = _keys(db)
    assert len(keys) == len(set(keys)) == len(plan)
    assert set(keys) == plan
    import pandas as pd

    curves = pd.read_csv(tmp_path / "r2" / "curves.csv")
    assert curves["config_id"].tolist() == ref.curves["config_id"].tolist()
    evaluated = curves[curves["origin"] == "evaluated"]
    assert len(evaluated) == len(plan) - len(before)
    assert set(zip(evaluated["task"], evaluated["config_id"])) == plan - before


class _StopAt(Evaluator):
    """Raises ``exc`` at the ``n``-th call (in this process); evaluates with ``inner`` otherwise."""

    def __init__(self, inner: Evaluator, n: int, exc: BaseException) -> None:
        self.inner, self.n, self.exc = inner, n, exc
        self.space, self.metric, self.direction = inner.space, inner.metric, inner.direction
        self.calls = 0

    def evaluate(self, config, task):
        self.calls += 1
        if self.calls == self.n:
            raise self.exc
        return self.inner.evaluate(config, task)


@pytest.mark.parametrize("exc, on_error", [(KeyboardInterrupt(), "record"),
                                           (RuntimeError("boom"), "raise")])
def test_an_interrupted_in_process_study_keeps_every_finished_evaluation(
        oboe, oboe_tasks, reference, sqlite_url, exc, on_error):
    """Ctrl-C (or an error with on_error='raise') in the 8th evaluation of a serial study: every
    evaluation finished before the study stopped is stored (Ctrl-C: the 7 before it), and a
    re-run completes the plan exactly."""
    prior, ev = oboe
    _ref, plan = reference
    db = MetaDatabase(sqlite_url)
    stop = _StopAt(ev, 8, exc)
    with pytest.raises((KeyboardInterrupt, ExecutionError)):
        run_study(oboe_tasks[:4], METHODS, stop, prior=prior, db=db, budget=6, random_state=0,
                  on_error=on_error)
    finished = stop.calls - 1
    assert finished >= 7
    if isinstance(exc, KeyboardInterrupt):
        assert finished == 7
    keys = _keys(db)
    assert len(keys) == len(set(keys)) == finished
    assert set(keys) <= plan
    res = run_study(oboe_tasks[:4], METHODS, ev, prior=prior, db=db, budget=6, random_state=0)
    assert res.n_reused == finished
    keys = _keys(db)
    assert len(keys) == len(set(keys)) == len(plan)
    assert set(keys) == plan


def test_a_failed_write_stops_the_study_and_is_reported_once(oboe, oboe_tasks, sqlite_url,
                                                             monkeypatch, caplog):
    from warmnas.errors import StorageError

    prior, ev = oboe
    db = MetaDatabase(sqlite_url)

    def refuse(*args, **kwargs):
        raise StorageError("attempt to write a readonly database")

    monkeypatch.setattr(db, "add_evaluations", refuse)
    with caplog.at_level("ERROR", logger="warmnas.bench"), \
            pytest.raises(StorageError, match="readonly database"):
        run_study(oboe_tasks[:2], "random", ev, prior=prior, db=db, budget=3)
    assert not [r for r in caplog.records if r.levelname == "ERROR"], caplog.text


def test_sigterm_stops_the_cli_like_ctrl_c(tmp_path):
    """A batch scheduler's SIGTERM (time limit, scancel): the study stops with every finished
    evaluation stored, the same message as Ctrl-C and exit status 130."""
    url = f"sqlite:///{tmp_path / 't.db'}"
    cmd = [sys.executable, "-m", "warmnas", *_cli(url, str(tmp_path / "r"), "--serial",
                                                  "--sleep", "0.05")]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if (tmp_path / "t.db").exists():
                try:
                    if MetaDatabase(url).info()["counts"]["evaluations"] >= 5:
                        break
                except Exception:  # schema being created by the child
                    pass
            time.sleep(0.05)
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err.decode()[-2000:]
    assert b"interrupted; every evaluation that finished is stored" in err
    keys = _keys(MetaDatabase(url))
    assert len(keys) == len(set(keys)) >= 5
