"""Evaluators: what it means to evaluate one configuration on one task.

An evaluator knows its configuration space, the metric it reports (name and direction) and the
fidelity of its protocol, and has ``evaluate(config, task)``. The benchmark runner ships it to
the workers (it must pickle), calls ``evaluate`` there, and stores the result in the
meta-database under (task, config, metric, fidelity, seed 0).

* :class:`OpenMLCVEvaluator`: fits a scikit-learn pipeline built from the configuration (the
  Oboe pipeline space by default) on the OpenML task's own train/test splits - all of them, or a
  documented subset (``splits=[(0, 0), (0, 1)]``: repeat 0, folds 0 and 1); the fidelity stored
  is the fraction of the task's splits used. Metric ``balanced_error`` (Oboe's: 1 - balanced
  accuracy, mean over the splits), ``error`` or ``rmse``.
* :class:`FunctionEvaluator`: wraps any ``fn(config, task) -> float`` for any space.
* :class:`SimulatedCost`: adds a fixed cost (sleep, or a CPU-bound loop of fixed work) to
  another evaluator, to study parallel speed-ups where a table look-up would be too cheap.
* :class:`~warmnas.bench.surrogate.TableSurrogate` (in :mod:`warmnas.bench.surrogate`):
  look-ups in a recorded tasks x configurations table.
"""

from __future__ import annotations

import contextlib
import inspect
import math
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from warmnas.errors import ExecutionError, InputError, InputTypeError
from warmnas.space import Space

__all__ = [
    "Evaluation",
    "Evaluator",
    "FunctionEvaluator",
    "SimulatedCost",
    "OpenMLCVEvaluator",
    "CVTask",
    "run_evaluation",
    "CLASSIFICATION_METRICS",
]

#: metrics :class:`OpenMLCVEvaluator` computes, with their direction
CLASSIFICATION_METRICS = {"balanced_error": "minimize", "error": "minimize"}
_REGRESSION_METRICS = {"rmse": "minimize"}



def check_seed(random_state: Any) -> int:
    """The ``random_state`` of a study: a non-negative int (stored with the study to resume it).

    Raises:
        InputTypeError: not an int (a Generator or None cannot be stored and replayed).
        InputError: a negative int.
    """
    if isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer)):
        raise InputTypeError(
            f"random_state must be a non-negative int seed (a study stores it so that a rerun "
            f"replays the same searches), got {random_state!r} ({type(random_state).__name__}); "
            "pass e.g. random_state=0"
        )
    if random_state < 0:
        raise InputError(f"random_state must be a non-negative int seed, got {random_state}; "
                         "pass e.g. random_state=0")
    return int(random_state)

@dataclass(frozen=True)
class Evaluation:
    """The outcome of one evaluation.

    Attributes:
        value: the metric value (its own direction); NaN for a failed evaluation.
        cost_s: seconds the evaluation took (or, for a table look-up, the recorded cost).
        error: ``"ExceptionType: message"`` of a failed evaluation, else None.
        worker: process id of the worker that ran it.
    """

    value: float
    cost_s: float
    error: str | None = None
    worker: int = 0


class Evaluator(ABC):
    """Base class: evaluate a configuration on a task.

    Subclasses set :attr:`space`, :attr:`metric`, :attr:`direction` and implement
    :meth:`evaluate`. They must pickle (they are sent to worker processes).
    """

    space: Space
    metric: str
    direction: str

    @abstractmethod
    def evaluate(self, config: Mapping[str, Any], task: Any) -> float | Evaluation:
        """The metric value of ``config`` on ``task`` (or an :class:`Evaluation` with its cost).

        Raise on a failed evaluation; the runner records the message (``on_error="record"``).
        """

    def fidelity(self, task: Any) -> float:
        """The fidelity stored with the results (1.0 = the full protocol)."""
        return 1.0

    def describe(self) -> dict[str, Any]:
        """JSON-able description for reports."""
        return {"evaluator": type(self).__name__, "space": self.space.name,
                "metric": self.metric, "direction": self.direction}


def _check_direction(direction: str) -> str:
    if direction not in ("minimize", "maximize"):
        raise InputError(f"direction must be 'minimize' or 'maximize', got {direction!r}")
    return direction


class FunctionEvaluator(Evaluator):
    """Any ``fn(config, task) -> float`` (or :class:`Evaluation`) as an evaluator.

    Args:
        fn: the evaluation function; must pickle (a module-level function) for process pools.
        space: the configuration space of the configs ``fn`` receives.
        metric: the metric name stored in the meta-database.
        direction: ``"minimize"`` or ``"maximize"``.
        fidelity: the fidelity stored with the results.
    """

    def __init__(self, fn: Callable[[Mapping[str, Any], Any], Any], *, space: Space, metric: str,
                 direction: str = "minimize", fidelity: float = 1.0) -> None:
        if not callable(fn):
            raise InputTypeError(f"fn must be callable, got {type(fn).__name__}")
        if not isinstance(space, Space):
            raise InputTypeError(f"space must be a warmnas.space.Space, got {type(space).__name__}")
        self.fn = fn
        self.space = space
        self.metric = metric
        self.direction = _check_direction(direction)
        self._fidelity = float(fidelity)

    def evaluate(self, config: Mapping[str, Any], task: Any) -> float | Evaluation:
        return self.fn(config, task)

    def fidelity(self, task: Any) -> float:
        return self._fidelity


class SimulatedCost(Evaluator):
    """Adds a fixed cost to every evaluation of ``inner``.

    Args:
        inner: the evaluator that computes the value.
        sleep_s: seconds to sleep (I/O-like cost: parallel workers overlap it even on one core).
        cpu_iterations: iterations of a pure-Python arithmetic loop (CPU-bound, holds one core:
            fixed work, so a speed-up shows only with free cores).

    The stored cost is ``inner``'s cost plus the measured extra time.
    """

    def __init__(self, inner: Evaluator, *, sleep_s: float = 0.0, cpu_iterations: int = 0) -> None:
        if not isinstance(inner, Evaluator):
            raise InputTypeError(f"inner must be an Evaluator, got {type(inner).__name__}")
        if not (isinstance(sleep_s, (int, float)) and math.isfinite(sleep_s) and sleep_s >= 0):
            raise InputError(f"sleep_s must be a finite number >= 0, got {sleep_s!r}")
        if isinstance(cpu_iterations, bool) or not isinstance(cpu_iterations, int) \
                or cpu_iterations < 0:
            raise InputError(f"cpu_iterations must be an int >= 0, got {cpu_iterations!r}")
        self.inner = inner
        self.sleep_s = float(sleep_s)
        self.cpu_iterations = int(cpu_iterations)
        self.space = inner.space
        self.metric = inner.metric
        self.direction = inner.direction

    def evaluate(self, config: Mapping[str, Any], task: Any) -> Evaluation:
        t0 = time.perf_counter()
        if self.sleep_s:
            time.sleep(self.sleep_s)
        acc = 0
        for i in range(self.cpu_iterations):
            acc = (acc + i * i) % 1_000_003
        extra = time.perf_counter() - t0
        out = _as_evaluation(self.inner.evaluate(config, task), None)
        return Evaluation(out.value, (out.cost_s if math.isfinite(out.cost_s) else 0.0) + extra,
                          out.error)

    def fidelity(self, task: Any) -> float:
        return self.inner.fidelity(task)

    def describe(self) -> dict[str, Any]:
        d = self.inner.describe()
        d.update(simulated_sleep_s=self.sleep_s, simulated_cpu_iterations=self.cpu_iterations)
        return d


@dataclass(frozen=True, eq=False)
class CVTask:
    """A supervised task with fixed train/test splits, as :class:`OpenMLCVEvaluator` takes it.

    Attributes:
        task_id: the OpenML task id (or any int).
        name: the dataset name.
        task_type: ``"classification"`` or ``"regression"``.
        X: ``n_samples x n_features`` DataFrame (nominal columns categorical, NaN = missing).
        y: ``n_samples`` targets.
        categorical: ``n_features`` bools, True for nominal features.
        n_repeats, n_folds: the split dimensions.
        splits: ``(repeat, fold, sample) -> (train_rows, test_rows)`` int64 arrays.
    """

    task_id: int
    name: str
    task_type: str
    X: Any
    y: np.ndarray
    categorical: np.ndarray
    n_repeats: int
    n_folds: int
    splits: Mapping[tuple[int, int, int], tuple[np.ndarray, np.ndarray]]

    @classmethod
    def from_openml(cls, task: Any, dataset: Any) -> CVTask:
        """Combine a cached OpenML task and its dataset
        (:mod:`warmnas.metadb.openml_cache`: ``cache.task(id)``, ``cache.dataset(task.dataset_id,
        target=task.target)``)."""
        kind = str(task.task_type).upper()
        if "CLASSIF" in kind:
            task_type = "classification"
        elif "REGRESS" in kind:
            task_type = "regression"
        else:
            raise InputError(
                f"OpenML task {task.task_id} is a {task.task_type} task; warmnas benchmarks "
                "supervised classification and regression tasks"
            )
        y = dataset.y
        if y is None:
            raise InputError(f"OpenML dataset {dataset.dataset_id} has no target; pass a task")
        if isinstance(y, pd.Series) and (isinstance(y.dtype, pd.CategoricalDtype)
                                         or y.dtype == np.dtype(object)):
            y = y.astype(str)
        y = np.asarray(y)
        return cls(task_id=int(task.task_id), name=str(dataset.name), task_type=task_type,
                   X=dataset.X, y=y, categorical=np.asarray(dataset.categorical, dtype=bool),
                   n_repeats=int(task.n_repeats), n_folds=int(task.n_folds),
                   splits=dict(task.splits))

    def split(self, repeat: int = 0, fold: int = 0, sample: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Train and test rows of one split.

        Raises:
            InputError: no such split.
        """
        key = (int(repeat), int(fold), int(sample))
        if key not in self.splits:
            raise InputError(
                f"task {self.task_id} has {self.n_repeats} repeats x {self.n_folds} folds; "
                f"(repeat, fold, sample) = {key} does not exist"
            )
        return self.splits[key]


def _resolve_estimator_factory() -> Callable[..., Any]:
    """The Oboe config -> scikit-learn estimator function of :mod:`warmnas.api`."""
    try:
        from warmnas.api import estimators
    except ImportError as exc:
        raise InputError(
            "no estimator factory: warmnas.api.estimators (Oboe configs -> scikit-learn "
            "estimators) is not available in this installation; pass estimator_factory="
            "<callable(config) -> estimator>"
        ) from exc
    return estimators  # type: ignore[no-any-return]


class OpenMLCVEvaluator(Evaluator):
    """Cross-validate a scikit-learn pipeline on an OpenML task's own splits.

    The pipeline is ``preprocessing -> estimator_factory(config)``; preprocessing imputes
    (median for numeric, most frequent for nominal features), one-hot encodes nominal features
    and standardises numeric ones (Oboe's preprocessing).

    Args:
        estimator_factory: ``config -> scikit-learn estimator`` (given ``random_state=`` when it
            accepts it). Default: :func:`warmnas.api.estimators` for the Oboe space.
        space: the configuration space (default: the Oboe pipeline space).
        metric: ``"balanced_error"`` (default; Oboe's metric), ``"error"`` or ``"rmse"``
            (regression tasks).
        splits: ``(repeat, fold)`` pairs to use, or None for all of the task's splits. The
            stored fidelity is ``len(splits) / n_splits`` of the task.
        repeats: instead of ``splits``: every fold of these repeats (``[0]``: one 10-fold CV of
            a 10 x 10 task, fidelity 0.1).
        random_state: seed passed to the estimators.

    ``evaluate(config, task)`` takes a :class:`CVTask` and
    returns the metric's mean over the splits, with the total fit + predict time as cost.
    """

    def __init__(self, estimator_factory: Callable[..., Any] | None = None, *,
                 space: Space | None = None, metric: str = "balanced_error",
                 splits: Sequence[tuple[int, int]] | None = None,
                 repeats: Sequence[int] | None = None, random_state: int = 0) -> None:
        if metric not in CLASSIFICATION_METRICS and metric not in _REGRESSION_METRICS:
            raise InputError(
                f"metric must be one of {sorted({**CLASSIFICATION_METRICS, **_REGRESSION_METRICS})}, "
                f"got {metric!r}"
            )
        if space is None:
            from warmnas.space import oboe_space

            space = oboe_space()
        if estimator_factory is None:
            estimator_factory = _resolve_estimator_factory()  # fail now, not in every evaluation
        if not callable(estimator_factory):
            raise InputTypeError(
                f"estimator_factory must be callable, got {type(estimator_factory).__name__}"
            )
        self.estimator_factory = estimator_factory
        self.space = space
        self.metric = metric
        self.direction = "minimize"
        if splits is not None:
            pairs = []
            for s in splits:
                if not (isinstance(s, (tuple, list)) and len(s) == 2
                        and all(isinstance(v, (int, np.integer)) and v >= 0 for v in s)):
                    raise InputError(
                        f"splits must be (repeat, fold) pairs of ints >= 0, got {s!r} in {splits!r}"
                    )
                pairs.append((int(s[0]), int(s[1])))
            if not pairs:
                raise InputError("splits is empty; pass at least one (repeat, fold) pair or None")
            splits = sorted(set(pairs))
        if repeats is not None:
            if splits is not None:
                raise InputError("pass splits or repeats, not both")
            reps = list(repeats)
            if not reps or not all(isinstance(r, (int, np.integer)) and not isinstance(r, bool)
                                   and r >= 0 for r in reps):
                raise InputError(f"repeats must be a non-empty list of ints >= 0, got {repeats!r}")
            repeats = sorted({int(r) for r in reps})
        self.splits = splits
        self.repeats = repeats
        self.random_state = check_seed(random_state)

    def _pairs(self, task: Any) -> list[tuple[int, int]]:
        if self.splits is not None:
            return list(self.splits)
        pairs = sorted({(r, f) for (r, f, _s) in task.splits})
        if self.repeats is not None:
            pairs = [(r, f) for r, f in pairs if r in self.repeats]
            if not pairs:
                raise InputError(f"task {task.task_id} has no repeat {self.repeats}; it has "
                                 f"{task.n_repeats} repeat(s) numbered from 0")
        return pairs

    def fidelity(self, task: Any) -> float:
        n = len(self._pairs(task))
        return n / (task.n_repeats * task.n_folds)

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d["splits"] = ([list(p) for p in self.splits] if self.splits is not None else
                       f"all folds of repeats {self.repeats}" if self.repeats is not None else "all")
        return d

    def _estimator(self, config: Mapping[str, Any]) -> Any:
        factory = self.estimator_factory
        try:
            params = inspect.signature(factory).parameters
        except (TypeError, ValueError):  # pragma: no cover - builtins
            params = {}  # type: ignore[assignment]
        if "random_state" in params:
            return factory(dict(config), random_state=self.random_state)
        return factory(dict(config))

    def _pipeline(self, config: Mapping[str, Any], task: Any) -> Any:
        from sklearn.compose import ColumnTransformer
        from sklearn.impute import SimpleImputer
        from sklearn.pipeline import Pipeline, make_pipeline
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        cat = np.asarray(task.categorical, dtype=bool)
        cols = np.arange(len(cat))
        parts = []
        if (~cat).any():
            parts.append(("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
                          cols[~cat].tolist()))
        if cat.any():
            parts.append(("cat", make_pipeline(
                SimpleImputer(strategy="most_frequent"),
                OneHotEncoder(handle_unknown="ignore", sparse_output=False)), cols[cat].tolist()))
        pre = ColumnTransformer(parts, remainder="drop")
        return Pipeline([("preprocess", pre), ("estimator", self._estimator(config))])

    def evaluate(self, config: Mapping[str, Any], task: Any) -> Evaluation:
        import warnings

        from sklearn.exceptions import ConvergenceWarning
        from sklearn.metrics import accuracy_score, balanced_accuracy_score, mean_squared_error

        X = task.X
        y = task.y
        if self.metric in CLASSIFICATION_METRICS and task.task_type != "classification":
            raise InputError(f"metric {self.metric!r} needs a classification task; task "
                             f"{task.task_id} is {task.task_type}")
        # nominal columns as object arrays of strings (NaN kept) so imputers/encoders agree
        Xa = X.astype(object).where(X.notna(), np.nan).to_numpy() if hasattr(X, "to_numpy") else X
        scores = []
        t0 = time.perf_counter()
        for r, f in self._pairs(task):
            train, test = task.split(r, f)
            model = self._pipeline(config, task)
            with warnings.catch_warnings():
                # expected noise: all-missing columns in a fold, iteration limits of the grid
                warnings.filterwarnings("ignore", message="Skipping features without any observed")
                warnings.filterwarnings("ignore", category=ConvergenceWarning)
                warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
                model.fit(Xa[train], y[train])
                pred = model.predict(Xa[test])
                if self.metric == "balanced_error":
                    scores.append(1.0 - balanced_accuracy_score(y[test], pred))
                elif self.metric == "error":
                    scores.append(1.0 - accuracy_score(y[test], pred))
                else:
                    scores.append(math.sqrt(mean_squared_error(y[test], pred)))
        return Evaluation(float(np.mean(scores)), time.perf_counter() - t0)


def _as_evaluation(out: Any, elapsed: float | None) -> Evaluation:
    if isinstance(out, Evaluation):
        return out
    if isinstance(out, Mapping):
        value = out.get("value")
        cost = out.get("cost_s", elapsed if elapsed is not None else float("nan"))
    else:
        value, cost = out, (elapsed if elapsed is not None else float("nan"))
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputTypeError(
            f"an evaluator must return a number, an Evaluation or {{'value': ..., 'cost_s': ...}}, "
            f"got {out!r}"
        )
    return Evaluation(float(value), float(cost) if cost is not None else float("nan"))


def run_evaluation(evaluator: Evaluator, config: Mapping[str, Any], task: Any,
                   record_errors: bool = True, timeout_s: float | None = None) -> Evaluation:
    """Run one evaluation (in a worker): time it, and report a failure instead of raising.

    Args:
        evaluator: the evaluator.
        config: the configuration (a dict of its space).
        task: the evaluator's task payload.
        record_errors: True: an exception from ``evaluate`` (a configuration that cannot be fit,
            an infinite value) becomes ``Evaluation(nan, cost, "Type: message")`` so that one bad
            configuration never stops a study; False: it propagates.
        timeout_s: run the evaluation in a forked child process and kill it after this many
            seconds (a ``TimeoutError`` failure); None: in this process, no limit. POSIX only.

    Returns:
        An :class:`Evaluation` (``worker`` = this process id).
    """
    if timeout_s is not None:
        return _run_forked(evaluator, config, task, record_errors, float(timeout_s))
    t0 = time.perf_counter()
    try:
        out = _as_evaluation(evaluator.evaluate(config, task), None)
        if not math.isfinite(out.value) and out.error is None:
            raise InputError(f"the evaluation returned a non-finite value {out.value!r}")
    except Exception as exc:
        if not record_errors:
            raise
        return Evaluation(float("nan"), time.perf_counter() - t0,
                          f"{type(exc).__name__}: {exc}", os.getpid())
    cost = out.cost_s if math.isfinite(out.cost_s) else time.perf_counter() - t0
    return Evaluation(out.value, cost, out.error, os.getpid())


def _run_forked(evaluator: Evaluator, config: Mapping[str, Any], task: Any,
                record_errors: bool, timeout_s: float) -> Evaluation:
    """:func:`run_evaluation` in a forked child, killed after ``timeout_s`` seconds.

    ``os.fork`` (not multiprocessing: Dask workers are daemonic processes, which multiprocessing
    forbids to have children) shares the payload with the child without copying it. The child
    limits native thread pools to one thread (an OpenMP pool inherited from a parent that used
    one cannot be re-used after a fork) and sends ``[value, cost, error]`` back as JSON.
    """
    import json
    import select
    import signal

    if not hasattr(os, "fork"):  # pragma: no cover - Windows
        raise InputError("evaluation timeouts need os.fork (POSIX); pass timeout_s=None")
    t0 = time.perf_counter()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: evaluate, report, exit without running the parent's clean-up
        code = 0
        try:
            os.close(r)
            try:
                from threadpoolctl import threadpool_limits

                threadpool_limits(1)
            except Exception:  # best effort; the evaluation runs regardless
                pass
            out = run_evaluation(evaluator, config, task, True)
            data = json.dumps([out.value if math.isfinite(out.value) else None, out.cost_s,
                               out.error]).encode()
            view = memoryview(data)
            while view:
                view = view[os.write(w, view):]
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(w)
    chunks = []
    deadline = t0 + timeout_s
    timed_out = False
    finished = False
    try:
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([r], [], [], left)
            if not ready:
                timed_out = True
                break
            chunk = os.read(r, 65536)
            if not chunk:
                break
            chunks.append(chunk)
        finished = True
    finally:
        os.close(r)
        # past the deadline, or interrupted here (Ctrl-C, the worker stopping): a child busy in
        # native code may not see a signal for minutes, so it is killed, never waited for
        if timed_out or not finished:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    elapsed = time.perf_counter() - t0
    if timed_out:
        error = f"TimeoutError: the evaluation took longer than {timeout_s:g} s and was stopped"
    elif not chunks:
        error = (f"ChildProcessError: the evaluation process died "
                 f"({'signal ' + str(os.WTERMSIG(status)) if os.WIFSIGNALED(status) else 'exit ' + str(os.WEXITSTATUS(status))})")
    else:
        value, cost, error = json.loads(b"".join(chunks))
        if error is None:
            return Evaluation(float(value), float(cost), None, os.getpid())
    if not record_errors:
        raise ExecutionError(error)
    return Evaluation(float("nan"), elapsed, error, os.getpid())
