"""The benchmark runner: warm-started searches over many tasks, written into a meta-database.

For every (task, method) pair the driver (this process) keeps one ask/tell
:class:`~warmnas.warmstart.bo.Search` of a warm starter fitted on the prior *without* that task.
Each suggestion is evaluated as one future on an :class:`~warmnas.bench.executors.Executor`
(in-process, a process pool or a Dask cluster); results are written into the meta-database as
they finish, then told to the search, which proposes the next configuration. Parallelism is
across (task, method) pairs and, with ``batch_size > 1``, across the evaluations of a batch.

Storage and resuming
--------------------
An evaluation is stored under the meta-database's key (task, config, metric, fidelity, seed 0,
device ""), with ``source`` = the run's tag. Stored evaluations are *reused*: before evaluating a
suggestion the driver looks it up (loaded once at the start, and every result of this run), so

* a re-run of an interrupted study replays what is stored into each search (``tell``) without
  evaluating it again, and evaluates only the rest; with ``batch_size=1`` every method is a
  deterministic function of its seed and the values told, so the replay reproduces the original
  trajectory exactly;
* two methods proposing the same configuration on a task share one evaluation (curves mark
  such steps ``origin="shared"``; their cost counts for both, as if each had run it).

Writes use ``on_conflict="ignore"`` (never overwrite what another run stored) and are
idempotent, so a retried evaluation (a killed worker) is never stored twice.

Failures
--------
* An evaluation that raises (a configuration that cannot be fit), returns NaN/inf or passes its
  timeout is told as NaN (``on_error="record"``, default), logged, counted, and stored as a
  failure (:meth:`~warmnas.metadb.MetaDatabase.add_failures`: error type, message, elapsed
  seconds) through the same writer as the successes. A re-run skips the (task, config) pairs
  that failed before (told as NaN again, ``origin="stored"``, counted as skipped) unless
  ``retry_failed=True``; a success of a retried pair replaces its failure. Failures of a
  :data:`TRANSIENT_ERRORS` kind (a timeout, a ``MemoryError``, the evaluation's process
  killed: what a loaded machine causes) are the exception: a re-run evaluates them again while
  their stored attempts are at most ``retry_transient`` (1: once), then skips them too. ``on_error="raise"``
  stops the study at the first failing evaluation instead (that one is not stored).
* A lost worker (a killed process: ``BrokenProcessPool``, Dask ``KilledWorker``) is resubmitted
  up to ``max_retries`` times, then stored as a ``WorkerLost`` failure and the study stops with
  :class:`~warmnas.errors.ExecutionError`; everything finished before is stored, so a re-run
  resumes (and skips that configuration unless ``retry_failed``).
* Whatever stops the study (Ctrl-C, ``on_error="raise"``, a lost worker too often, a failed
  write), every evaluation that had finished - also those the driver had not collected yet -
  is written before the error propagates.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import math
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from warmnas.bench.evaluators import Evaluation, Evaluator, check_seed, run_evaluation
from warmnas.bench.executors import LOST, OK, Executor, SerialExecutor
from warmnas.bench.prior import Prior
from warmnas.errors import ExecutionError, InputError, InputTypeError, UnknownIdError

if TYPE_CHECKING:
    from warmnas.metadb import MetaDatabase
    from warmnas.warmstart.base import WarmStarter

__all__ = ["StudyTask", "StudyResult", "run_study", "CURVE_COLUMNS", "TRANSIENT_ERRORS"]

logger = logging.getLogger(__name__)

#: columns of :attr:`StudyResult.curves`
CURVE_COLUMNS = (
    "task", "method", "step", "config_id", "value", "best", "cost_s", "elapsed_s", "wall_s",
    "origin", "error",
)


#: error types of stored failures that the machine rather than the configuration may have
#: caused: an evaluation past its timeout on a loaded machine, memory taken by other jobs, the
#: evaluation's process killed (e.g. by the kernel's out-of-memory killer). A re-run evaluates
#: them again while their stored attempts are at most ``retry_transient``; every other failure
#: (an exception of the configuration itself, a NaN result, a worker lost ``max_retries`` times
#: in one run) is skipped until ``retry_failed``.
TRANSIENT_ERRORS = frozenset({"TimeoutError", "MemoryError", "ChildProcessError"})


@dataclass
class StudyTask:
    """One task of a study.

    Attributes:
        task_id: its id in the meta-database (``"openml/t/1882"``).
        payload: what the evaluator's ``evaluate(config, task)`` receives (an
            :class:`~warmnas.bench.openml.OpenMLTaskData`, a surrogate row...).
        meta_features: its meta-features (names of the prior's view), for kNN and PMF.
        exclude: prior tasks to leave out when fitting for this task (the task itself and any
            task of the same dataset).
        candidates: config ids that may be proposed (None: every config of the prior).
        best_known: the task's optimum when known (a surrogate table's best), for regret.
        record: fields for ``MetaDatabase.add_task`` (name, source, task_type, OpenML ids, info).
    """

    task_id: str
    payload: Any
    meta_features: Mapping[str, float] | None = None
    exclude: Sequence[str] = ()
    candidates: Sequence[str] | None = None
    best_known: float | None = None
    record: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class StudyResult:
    """What a study produced.

    Attributes:
        curves: one row per step of each (task, method) search; columns :data:`CURVE_COLUMNS`:
            ``value`` (metric direction; NaN for a failed evaluation), ``best`` (best so far),
            ``cost_s`` (that evaluation's cost), ``elapsed_s`` (cumulative cost: the search's
            time had it run alone), ``wall_s`` (seconds since the study started when the result
            was told), ``origin`` (``"evaluated"`` in this run, ``"shared"`` with another
            method of this run, ``"stored"`` before this run: a stored result, or with an
            ``error`` a failure stored before and skipped), ``error``.
        best_known: task -> the best value known (the table's optimum, else the best stored).
        metric, direction: the metric.
        methods, tasks: in study order.
        n_evaluated, n_reused, n_failed, n_retried: evaluations run now / taken from the
            meta-database / failed now (each stored as a failure) / resubmitted after a lost
            worker.
        n_skipped_failed: suggestions not evaluated because they had failed before (stored
            failures; see ``retry_failed``).
        n_retried_failed: stored failures evaluated again in this run (``retry_failed``, or
            a :data:`TRANSIENT_ERRORS` kind within ``retry_transient``).
        wall_s: seconds from the first submission to the last result.
        fit_s: seconds spent fitting warm starters; ``setup_s``: loading stored results, adding
            tasks.
        executor, n_workers: where the evaluations ran.
        source: the tag stored with the evaluations.
        info: study parameters for reports.
    """

    curves: pd.DataFrame
    best_known: dict[str, float]
    metric: str
    direction: str
    methods: list[str]
    tasks: list[str]
    n_evaluated: int
    n_reused: int
    n_failed: int
    n_retried: int
    wall_s: float
    fit_s: float
    setup_s: float
    executor: str
    n_workers: int
    source: str
    info: dict[str, Any] = field(default_factory=dict)
    n_skipped_failed: int = 0
    n_retried_failed: int = 0

    @property
    def throughput(self) -> float:
        """Evaluations run per second of study wall time (``n_evaluated / wall_s``)."""
        return self.n_evaluated / self.wall_s if self.wall_s > 0 else float("nan")

    def regret(self) -> pd.Series:
        """Regret of each curve row: distance of ``best`` to the task's best known value (>= 0)."""
        opt = self.curves["task"].map(self.best_known).astype(np.float64)
        diff = self.curves["best"] - opt
        return (diff if self.direction == "minimize" else -diff).clip(lower=0.0)


# ------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------


def _seed(random_state: int, *parts: str) -> int:
    text = "|".join([str(random_state), *parts]).encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:4], "little")


def _progress(total: int, show: bool | None, desc: str) -> Any:
    from tqdm.auto import tqdm

    disable = (not sys.stderr.isatty()) if show is None else not show
    return tqdm(total=total, desc=desc, disable=disable, unit="eval", leave=False)


def _methods(methods: Any, params: Mapping[str, Mapping[str, Any]] | None) -> dict[str, Any]:
    from warmnas.warmstart import METHODS, make_starter
    from warmnas.warmstart.base import WarmStarter

    if isinstance(methods, str):
        methods = [m.strip() for m in methods.split(",") if m.strip()]
    items: list[tuple[str, Any]]
    if isinstance(methods, Mapping):
        items = [(str(k), v) for k, v in methods.items()]
    elif isinstance(methods, Sequence):
        items = [(m if isinstance(m, str) else getattr(m, "name", type(m).__name__), m)
                 for m in methods]
    else:
        raise InputTypeError(
            f"methods must be names ('knn,pmf'), a list of names/warm starters or a dict "
            f"label -> warm starter, got {type(methods).__name__}"
        )
    if not items:
        raise InputError(f"methods is empty; pass at least one of {list(METHODS)}")
    out: dict[str, Any] = {}
    for label, m in items:
        if label in out:
            raise InputError(f"method {label!r} is given twice; label them with a dict")
        if isinstance(m, str):
            if m not in METHODS:
                raise InputError(f"methods: unknown method {m!r}; expected one of {list(METHODS)}")
            try:
                out[label] = make_starter(m, **dict((params or {}).get(m, {})))
            except ImportError as exc:
                raise InputError(
                    f"method {m!r} is not available in this installation ({exc}); choose "
                    "another method"
                ) from exc
        elif isinstance(m, WarmStarter):
            out[label] = m
        else:
            raise InputTypeError(f"method {label!r} must be a name or a WarmStarter, got {m!r}")
    return out


def _check_run_args(budget: Any, batch_size: Any = 1, on_error: Any = "record",
                    eval_timeout_s: Any = None, random_state: Any = 0) -> None:
    """The scalar arguments of :func:`run_study` (checked before any data is loaded)."""
    check_seed(random_state)
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget < 1:
        raise InputError(f"budget must be a positive int (evaluations per search), got {budget!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise InputError(f"batch_size must be a positive int, got {batch_size!r}")
    if on_error not in ("record", "raise"):
        raise InputError(f"on_error must be 'record' or 'raise', got {on_error!r}")
    if eval_timeout_s is not None and not (
            isinstance(eval_timeout_s, (int, float)) and not isinstance(eval_timeout_s, bool)
            and math.isfinite(eval_timeout_s) and eval_timeout_s > 0):
        raise InputError(f"eval_timeout_s must be a positive number of seconds or None, got "
                         f"{eval_timeout_s!r}")


def _check_db(db: Any) -> None:
    from warmnas.metadb import MetaDatabase

    if not isinstance(db, MetaDatabase):
        raise InputTypeError(
            f"db must be a warmnas.metadb.MetaDatabase, got {type(db).__name__}; open one with "
            "MetaDatabase('sqlite:///results.db') (it receives the evaluations)"
        )


class _Job:
    """The ask/tell state of one (task, method) search."""

    __slots__ = ("task", "method", "search", "budget", "rows", "pending", "best", "elapsed",
                 "sign", "exhausted")

    def __init__(self, task: StudyTask, method: str, search: Any, budget: int, sign: float) -> None:
        self.task = task
        self.method = method
        self.search = search
        self.budget = budget
        self.rows: list[tuple[Any, ...]] = []
        self.pending: set[str] = set()
        self.best = math.inf
        self.elapsed = 0.0
        self.sign = sign
        self.exhausted = False

    @property
    def asked(self) -> int:
        return len(self.rows) + len(self.pending)

    def wants_more(self, batch_size: int) -> bool:
        return (not self.exhausted and self.asked < self.budget
                and len(self.pending) < batch_size)

    def tell(self, cid: str, value: float, cost: float, wall: float, origin: str,
             error: str | None) -> None:
        self.search.tell(cid, value)
        self.pending.discard(cid)
        if not math.isnan(value):
            self.best = min(self.best, self.sign * value)
        self.elapsed += cost if math.isfinite(cost) else 0.0
        best = self.sign * self.best if math.isfinite(self.best) else math.nan
        self.rows.append((self.task.task_id, self.method, len(self.rows) + 1, cid, value, best,
                          cost, self.elapsed, wall, origin, error))

    @property
    def done(self) -> bool:
        return not self.pending and (self.exhausted or len(self.rows) >= self.budget)


class _Writer:
    """Writes result batches into the meta-database from a background thread.

    The driver hands each batch over and goes on telling results; while one write runs, the
    next results pile up and go in one transaction (so a slow database batches more, instead of
    stalling the study). An error stops the writer and is raised in the driver by
    :meth:`check`. :meth:`close` flushes everything.
    """

    def __init__(self, db: MetaDatabase, kwargs: Mapping[str, Any]) -> None:
        import queue
        import threading

        self.db = db
        self.kwargs = dict(kwargs)
        self.failure_kwargs = {k: self.kwargs[k] for k in ("metric", "direction", "space", "source")
                               if k in self.kwargs}
        self.queue: queue.SimpleQueue[_Batch | None] = queue.SimpleQueue()
        self.error: BaseException | None = None
        self.written = 0
        self.failures_written = 0
        self.thread = threading.Thread(target=self._run, name="warmnas-bench-writer",
                                       daemon=True)
        self.thread.start()

    def _run(self) -> None:
        import queue

        stop = False
        while not stop:
            batch = self.queue.get()
            if batch is None:
                break
            records, failures = list(batch[0]), list(batch[1])
            while True:
                try:
                    more = self.queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                records.extend(more[0])
                failures.extend(more[1])
            if self.error is not None:
                continue
            try:
                if records:
                    self.db.add_evaluations(records, **self.kwargs)
                    self.written += len(records)
                if failures:
                    self.db.add_failures(failures, **self.failure_kwargs)
                    self.failures_written += len(failures)
            except BaseException as exc:  # handed to the driver thread by check()
                self.error = exc

    def put(self, batch: _Batch) -> None:
        self.check()
        if batch[0] or batch[1]:
            self.queue.put(batch)

    def check(self) -> None:
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        self.check()


#: (evaluation records, failure records) for the writer
_Batch = tuple[list[dict[str, Any]], list[dict[str, Any]]]


def _error_fields(error: str) -> dict[str, str]:
    """``"ValueError: cannot fit"`` -> error_type and message of a failure record (an error
    text of another form, from an evaluator's own Evaluation, is kept whole as the message)."""
    from warmnas.metadb._records import split_error

    try:
        kind, message = split_error(error, "error")
    except InputError:
        return {"error_type": "EvaluationError", "message": error}
    return {"error_type": kind, "message": message}


class _Inflight:
    __slots__ = ("key", "config", "waiters", "attempts", "future")

    def __init__(self, key: tuple[str, str], config: Mapping[str, Any]) -> None:
        self.key = key
        self.config = config
        self.waiters: list[_Job] = []
        self.attempts = 0
        self.future: Any = None


# ------------------------------------------------------------------------------------------
# the study
# ------------------------------------------------------------------------------------------


def run_study(
    tasks: Sequence[StudyTask],
    methods: Any,
    evaluator: Evaluator,
    *,
    prior: Prior,
    db: MetaDatabase,
    budget: int,
    executor: Executor | None = None,
    batch_size: int = 1,
    random_state: int = 0,
    source: str = "warmnas-bench",
    starter_params: Mapping[str, Mapping[str, Any]] | None = None,
    meta_feature_view: str | None = None,
    nan_policy: str = "ignore",
    on_error: str = "record",
    max_retries: int = 3,
    eval_timeout_s: float | None = None,
    show_progress: bool | None = None,
    retry_failed: bool = False,
    retry_transient: int = 1,
) -> StudyResult:
    """Run warm-started searches on ``tasks``, storing every evaluation in ``db`` as it finishes.

    Args:
        tasks: the tasks (:class:`StudyTask`).
        methods: warm-start methods: ``"knn,pmf,random"``, a list of names (``random``,
            ``portfolio``, ``knn``, ``pmf``) or warm starters, or a dict label -> either.
        evaluator: evaluates a configuration on a task's payload (must pickle for processes).
        prior: what the warm starters learn from; each is fitted on ``prior.without(task.exclude
            + [task.task_id])``. Its space must be the evaluator's.
        db: the meta-database that receives the evaluations (and the tasks, with their
            meta-features); also read at the start to resume.
        budget: evaluations per (task, method) search (fewer when the candidates run out).
        executor: where evaluations run (default: in this process).
        batch_size: suggestions in flight per search (1 = strictly sequential, exact replay).
        random_state: seed; each search gets a seed derived from it, the task and the method.
        source: tag stored with each evaluation.
        starter_params: per method name, keyword arguments of its warm starter.
        meta_feature_view: view under which tasks' meta-features are stored (default: the
            prior's view).
        nan_policy: how kNN/PMF treat NaN meta-features of a task (``"ignore"``: left out of
            the distance; ``"error"``).
        on_error: ``"record"`` (a failing evaluation is told as NaN, logged and stored as a
            failure) or ``"raise"`` (the study stops; that failure is not stored).
        max_retries: resubmissions of an evaluation whose worker died.
        eval_timeout_s: stop an evaluation after this many seconds (it runs in a forked child
            process of the worker, killed at the deadline; a ``TimeoutError`` failure, told as
            NaN and stored as a failure). None: no limit (and no child process).
        show_progress: tqdm bar (default: when stderr is a terminal).
        retry_failed: evaluate again the (task, config) pairs stored as failures for this
            protocol (default False: they are skipped, told to the searches as NaN as when
            they failed, and counted in ``n_skipped_failed``). A success replaces the stored
            failure; another failure adds an attempt to it.
        retry_transient: a stored failure of a :data:`TRANSIENT_ERRORS` kind (``TimeoutError``,
            ``MemoryError``, ``ChildProcessError``: possibly the machine's fault, not the
            configuration's) is evaluated again while its stored ``attempts`` are at most this
            (default 1: once more, on the next run; 0: never without ``retry_failed``).
            Counted in ``n_retried_failed``.

    Returns:
        A :class:`StudyResult`.

    Raises:
        InputError / InputTypeError: bad arguments (before anything runs or is written).
        ExecutionError: an evaluation lost its worker more than ``max_retries`` times, or
            raised with ``on_error="raise"``; what finished is stored.
    """
    t_setup = time.perf_counter()
    _check_run_args(budget, batch_size, on_error, eval_timeout_s, random_state)
    if not isinstance(retry_failed, (bool, np.bool_)):
        raise InputTypeError(f"retry_failed must be True or False, got {retry_failed!r}")
    if isinstance(retry_transient, (bool, np.bool_)) or not isinstance(
            retry_transient, (int, np.integer)) or retry_transient < 0:
        raise InputError(f"retry_transient must be an int >= 0 (the stored attempts up to which "
                         f"a transient failure is evaluated again; 0: never), got "
                         f"{retry_transient!r}")
    random_state = int(random_state)
    if not isinstance(evaluator, Evaluator):
        raise InputTypeError(
            f"evaluator must be a warmnas.bench.Evaluator (wrap a function with "
            f"FunctionEvaluator), got {type(evaluator).__name__}"
        )
    if not isinstance(prior, Prior):
        raise InputTypeError(
            f"prior must be a warmnas.bench.Prior, got {type(prior).__name__}; build one from a "
            "meta-database with Prior.from_metadb(db, metric, space=...)"
        )
    _check_db(db)
    if prior.space.name != evaluator.space.name:
        raise InputError(
            f"the prior's configurations are in space {prior.space.name!r} but the evaluator "
            f"evaluates space {evaluator.space.name!r}; use a prior of the same space"
        )
    if prior.metric != evaluator.metric:
        logger.warning("the prior's metric %r differs from the evaluator's %r; warm starters "
                       "rank by the prior's", prior.metric, evaluator.metric)
    elif prior.direction != evaluator.direction:
        raise InputError(
            f"the evaluator's direction {evaluator.direction!r} contradicts the prior's "
            f"{prior.direction!r} for metric {prior.metric!r}; give the evaluator the metric's "
            f"direction (FunctionEvaluator(..., direction={prior.direction!r}))"
        )
    from warmnas.metadb.metrics import known_direction

    stored_direction: str | None
    try:
        stored_direction, where = db.metric_direction(evaluator.metric), "db stores"
    except UnknownIdError:  # a metric new to this database
        stored_direction, where = known_direction(evaluator.metric), "warmnas knows"
    if stored_direction is not None and stored_direction != evaluator.direction:
        raise InputError(
            f"{where} metric {evaluator.metric!r} as "
            f"{stored_direction!r}, but the evaluator's direction is "
            f"{evaluator.direction!r}; fix the evaluator's direction, or store its values under "
            "another metric name"
        )
    if isinstance(tasks, StudyTask):
        raise InputTypeError("tasks must be a list of StudyTask, got a StudyTask; pass [task]")
    tasks = list(tasks)
    if not tasks:
        raise InputError("tasks is empty; pass at least one StudyTask")
    for i, t in enumerate(tasks):
        if not isinstance(t, StudyTask):
            raise InputTypeError(f"tasks[{i}] must be a StudyTask, got {type(t).__name__} "
                                 f"{t!r:.80}")
    ids = [t.task_id for t in tasks]
    if len(set(ids)) != len(ids):
        raise InputError(f"tasks lists a task twice: {sorted({i for i in ids if ids.count(i) > 1})}")
    starters = _methods(methods, starter_params)
    for label, st in starters.items():
        if st.requires_meta_features:
            if prior.meta_features is None:
                raise InputError(
                    f"method {label!r} needs meta-features, but the prior has none (view "
                    f"{prior.view!r}); use portfolio/random or a prior with meta-features"
                )
            lacking = [t.task_id for t in tasks if not t.meta_features]
            if lacking:
                raise InputError(
                    f"method {label!r} needs the meta-features of each task; missing for "
                    f"{lacking[:5]}"
                )
    executor = executor if executor is not None else SerialExecutor()
    metric, direction = evaluator.metric, evaluator.direction
    sign = 1.0 if direction == "minimize" else -1.0
    view = meta_feature_view or prior.view or "autosklearn"
    fidelity = {t.task_id: float(evaluator.fidelity(t.payload)) for t in tasks}

    # ---- the meta-database: tasks (with meta-features) and what is stored already ----
    db.add_tasks([{"task": t.task_id, **dict(t.record)} for t in tasks])
    feats = {t.task_id: dict(t.meta_features) for t in tasks if t.meta_features}
    if feats:
        db.add_meta_features(feats, view=view)
    known: dict[tuple[str, str], tuple[float, float]] = {}
    stored_keys: set[tuple[str, str]] = set()
    if metric in db.metrics():
        ev = db.evaluations(task=ids, metric=metric)
        if len(ev):
            fid = ev["task"].map(fidelity).astype(np.float64)
            ok = np.isclose(ev["fidelity"].to_numpy(np.float64), fid.to_numpy()) \
                & (ev["seed"].to_numpy() == 0) & (ev["device"].astype(str).to_numpy() == "")
            for t, c, v, cost in ev.loc[ok, ["task", "config_id", "value", "cost_s"]].itertuples(
                    index=False):
                known[(t, c)] = (float(v), float(cost) if pd.notna(cost) else math.nan)
            stored_keys = set(known)
    if stored_keys:
        logger.info("resuming: %d evaluations of these tasks are stored already", len(stored_keys))
    # failures stored for these tasks and this protocol: skipped unless retry_failed
    failed: dict[tuple[str, str], tuple[float, str]] = {}
    stored_failed: set[tuple[str, str]] = set()
    retried_failed: set[tuple[str, str]] = set()  # stored failures evaluated again now
    try:
        fails = db.failures(ids, metric=metric)
    except UnknownIdError:  # the metric is new to this database
        fails = None
    if fails is not None and len(fails):
        fid = fails["task"].map(fidelity).astype(np.float64)
        ok = np.isclose(fails["fidelity"].to_numpy(np.float64), fid.to_numpy()) \
            & (fails["seed"].to_numpy() == 0) & (fails["device"].astype(str).to_numpy() == "")
        sub = fails.loc[ok]
        if retry_failed:
            retried_failed = set(zip(sub["task"], sub["config_id"]))
            logger.info("retry_failed: %d stored failures of these tasks run again", len(sub))
        else:
            for t, c, kind, msg, el, att in sub[["task", "config_id", "error_type", "message",
                                                 "elapsed_s", "attempts"]].itertuples(index=False):
                if kind in TRANSIENT_ERRORS and int(att) <= retry_transient:
                    retried_failed.add((t, c))
                    continue
                failed[(t, c)] = (float(el) if pd.notna(el) else math.nan, f"{kind}: {msg}")
            stored_failed = set(failed)
            if retried_failed:
                logger.warning(
                    "%d stored failures of these tasks are of a transient kind (%s) with at most "
                    "%d attempt(s) and run again (retry_transient=0 skips them)",
                    len(retried_failed), ", ".join(sorted(TRANSIENT_ERRORS)), retry_transient)
            logger.info("%d (task, config) pairs of these tasks failed before and are skipped "
                        "(retry_failed=True runs them again)", len(stored_failed))
    setup_s = time.perf_counter() - t_setup

    # ---- fit the warm starters (one fit per method and left-out set) and start the searches ----
    t_fit = time.perf_counter()
    fitted: dict[tuple[str, frozenset[str]], WarmStarter] = {}
    jobs: list[_Job] = []
    configs = prior.configs
    for t in tasks:
        leave_out = frozenset([*t.exclude, t.task_id])
        sub = prior.without(leave_out)
        for label, proto in starters.items():
            key = (label, leave_out & frozenset(prior.performance.index))
            st = fitted.get(key)
            if st is None:
                st = copy.deepcopy(proto)
                # meta-features go to every method that can use them (PMF seeds with kNN)
                st.fit(sub.performance, sub.meta_features, direction=prior.direction)
                fitted[key] = st
            allowed = set(st.config_ids_)
            cand = list(st.config_ids_) if t.candidates is None else \
                [c for c in t.candidates if c in allowed]
            if not cand:
                raise InputError(f"task {t.task_id!r} has no candidate configuration in the prior")
            search = st.start(t.meta_features or None,
                              candidates=cand, nan_policy=nan_policy,
                              random_state=_seed(random_state, t.task_id, label))
            jobs.append(_Job(t, label, search, int(budget), sign))
    fit_s = time.perf_counter() - t_fit

    # ---- drive ----
    # the evaluator and every task's payload go to the workers once (Dask: to each worker)
    objects: dict[str, Any] = {"evaluator": evaluator, **{t.task_id: t.payload for t in tasks}}
    handles = dict(zip(objects, executor.put_many(list(objects.values()))))
    inflight: dict[tuple[str, str], _Inflight] = {}
    by_future: dict[Any, _Inflight] = {}
    counts = {"evaluated": 0, "reused": 0, "failed": 0, "retried": 0, "skipped_failed": 0,
              "retried_failed": 0}
    t0 = time.perf_counter()
    bar = _progress(len(jobs) * int(budget), show_progress, f"bench ({executor.name})")
    record_errors = on_error == "record"

    def submit(item: _Inflight) -> None:
        item.attempts += 1
        item.future = executor.submit(run_evaluation, handles["evaluator"], dict(item.config),
                                      handles[item.key[0]], record_errors, eval_timeout_s)
        by_future[item.future] = item

    def fill(job: _Job) -> None:
        while job.wants_more(batch_size):
            if not job.search.available.any():
                job.exhausted = True
                break
            cid = job.search.ask()
            key = (job.task.task_id, cid)
            hit = known.get(key)
            if hit is not None:
                origin = "stored" if key in stored_keys else "shared"
                counts["reused"] += origin == "stored"
                job.tell(cid, hit[0], hit[1], time.perf_counter() - t0, origin, None)
                bar.update(1)
                continue
            fail = failed.get(key)
            if fail is not None:  # failed before (stored) or earlier in this run: not retried
                origin = "stored" if key in stored_failed else "shared"
                counts["skipped_failed"] += origin == "stored"
                job.tell(cid, math.nan, fail[0], time.perf_counter() - t0, origin, fail[1])
                bar.update(1)
                continue
            job.pending.add(cid)
            item = inflight.get(key)
            if item is None:
                item = _Inflight(key, configs[cid])
                inflight[key] = item
                counts["retried_failed"] += key in retried_failed
                submit(item)
            item.waiters.append(job)

    def records_of(finished: list[tuple[_Inflight, Evaluation]]) -> _Batch:
        """Evaluation records of the successes and failure records of the failures."""
        stamp = time.time()
        ok: list[dict[str, Any]] = []
        bad: list[dict[str, Any]] = []
        for it, r in finished:
            cost = r.cost_s if math.isfinite(r.cost_s) and r.cost_s >= 0 else None
            rec = {"task": it.key[0], "config": dict(it.config),
                   "fidelity": fidelity[it.key[0]], "seed": 0}
            if r.error is None:
                ok.append({**rec, "value": r.value, "cost_s": cost})
            else:
                bad.append({**rec, **_error_fields(str(r.error)), "elapsed_s": cost,
                            "attempts": 1, "timestamp": stamp})
        return ok, bad

    def drain() -> None:
        """Store the evaluations that finished but were not collected yet (the study stops)."""
        done = executor.wait(timeout=0)
        finished = [(by_future[fut], res) for fut, (kind, res) in zip(done, executor.collect(done))
                    if kind == OK and fut in by_future]
        if finished:
            logger.info("storing %d evaluations that finished as the study stopped",
                        len(finished))
            writer.put(records_of(finished))

    writer = _Writer(db, {"metric": metric, "direction": direction, "space": evaluator.space,
                          "source": source, "on_conflict": "ignore", "show_progress": False})
    try:
        for job in jobs:
            fill(job)
        while inflight:
            done = executor.wait(timeout=None)
            if not done:  # pragma: no cover - an executor bug, never user input
                raise ExecutionError(f"{len(inflight)} evaluations in flight but the executor "
                                     "reports none pending")
            outcomes = executor.collect(done)
            finished: list[tuple[_Inflight, Evaluation]] = []
            lost: list[_Inflight] = []
            broken: tuple[_Inflight, BaseException] | None = None
            for fut, (kind, res) in zip(done, outcomes):
                item = by_future.pop(fut, None)
                if item is None:
                    continue
                if kind == OK:
                    finished.append((item, res))
                elif kind == LOST:
                    lost.append(item)
                elif broken is None:
                    broken = (item, res)
            writer.put(records_of(finished))  # stored even when another evaluation broke
            if broken is not None:
                item, exc = broken
                hint = ""
                if "pickl" in f"{type(exc).__name__} {exc}".lower():
                    hint = ("; the evaluator and the tasks' payloads go to the worker processes "
                            "by pickle: define the function at module level (not a lambda or "
                            "a nested function) and keep unpicklable objects (open files, "
                            "connections) out of them, or run in this process "
                            "(executor=SerialExecutor(), --serial)")
                raise ExecutionError(
                    f"the evaluation of config {item.key[1]} on task {item.key[0]} could not "
                    f"run: {type(exc).__name__}: {exc}{hint}"
                ) from exc
            now = time.perf_counter() - t0
            for it, r in finished:
                del inflight[it.key]
                if r.error is None:
                    known[it.key] = (r.value, r.cost_s)
                    counts["evaluated"] += 1
                else:
                    counts["failed"] += 1
                    failed[it.key] = (r.cost_s, str(r.error))
                    if not record_errors:  # pragma: no cover - run_evaluation raised instead
                        raise ExecutionError(r.error)
                    logger.warning("evaluation of %s on %s failed: %s", it.key[1], it.key[0],
                                   r.error)
                first = True
                for job in it.waiters:
                    origin = "evaluated" if first else "shared"
                    first = False
                    job.tell(it.key[1], r.value, r.cost_s, now, origin, r.error)
                    bar.update(1)
                for job in it.waiters:
                    fill(job)
            if lost:
                executor.recover()
                for name in {"evaluator", *(it.key[0] for it in lost)}:
                    handles[name] = executor.refresh(handles[name], objects[name])
                for it in lost:
                    if it.attempts > max_retries:
                        text = (f"the evaluation of config {it.key[1]} on task {it.key[0]} lost "
                                f"its worker {it.attempts} times")
                        # stored as a failure: a re-run skips it unless retry_failed
                        writer.put(([], [{"task": it.key[0], "config": dict(it.config),
                                          "fidelity": fidelity[it.key[0]], "seed": 0,
                                          "error_type": "WorkerLost", "message": text,
                                          "attempts": it.attempts, "timestamp": time.time()}]))
                        raise ExecutionError(
                            f"{text}; the {counts['evaluated']} evaluations finished are stored "
                            "(this one as a failure, skipped on a re-run unless retry_failed) "
                            "- re-run to resume"
                        )
                    counts["retried"] += 1
                    logger.warning("worker lost while evaluating %s on %s; resubmitting "
                                   "(attempt %d)", it.key[1], it.key[0], it.attempts + 1)
                    submit(it)
    except BaseException as exc:
        bar.close()
        try:  # store every finished evaluation before the error propagates
            if writer.error is None:
                drain()
        except Exception as err:
            if err is not writer.error:
                logger.exception("collecting the last finished evaluations failed")
        try:
            writer.close()
        except Exception as err:
            if err is not exc:  # a failed write is the error raised: reported once
                logger.exception("writing the last results failed")
        raise
    bar.close()
    writer.close()
    wall_s = time.perf_counter() - t0

    # ---- results ----
    rows = [r for job in jobs for r in job.rows]
    curves = pd.DataFrame(rows, columns=list(CURVE_COLUMNS))
    for col in ("value", "best", "cost_s", "elapsed_s", "wall_s"):
        curves[col] = curves[col].astype(np.float64)
    curves["step"] = curves["step"].astype(np.int64)
    per_task: dict[str, list[float]] = {}
    for (tid, _c), (v, _) in known.items():
        if not math.isnan(v):
            per_task.setdefault(tid, []).append(v)
    best_known: dict[str, float] = {}
    for t in tasks:
        cands = per_task.get(t.task_id, []) + ([t.best_known] if t.best_known is not None else [])
        if cands:
            best_known[t.task_id] = float(min(cands) if direction == "minimize" else max(cands))
    info = {"budget": int(budget), "batch_size": int(batch_size), "random_state": random_state,
            "eval_timeout_s": eval_timeout_s, "retry_failed": bool(retry_failed),
            "retry_transient": int(retry_transient),
            "evaluator": evaluator.describe(), "prior": repr(prior), "db": db.url}
    return StudyResult(
        curves=curves, best_known=best_known, metric=metric, direction=direction,
        methods=list(starters), tasks=ids, n_evaluated=counts["evaluated"],
        n_reused=counts["reused"], n_failed=counts["failed"], n_retried=counts["retried"],
        n_skipped_failed=counts["skipped_failed"], n_retried_failed=counts["retried_failed"],
        wall_s=wall_s, fit_s=fit_s, setup_s=setup_s, executor=executor.name,
        n_workers=executor.n_workers, source=source, info=info,
    )
