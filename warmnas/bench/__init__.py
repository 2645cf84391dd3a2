"""Benchmarks of the warm starters: OpenML runners, surrogate tables, executors, reports.

The loop it closes: for each task, compute meta-features, warm-start (random / portfolio / kNN /
PMF), evaluate the suggestions (real cross-validation on the OpenML task's own splits, or a
look-up in a recorded table), write every evaluation into the meta-database as it finishes, and
report anytime curves. Resumable: a re-run reuses what is stored. Evaluations run in this
process, a local process pool, or on a Dask cluster (one evaluation per Dask task).

* :func:`openml_study`, :func:`surrogate_study`: ready-made studies (``warmnas bench openml``,
  ``warmnas bench surrogate``).
* :func:`run_study`: the runner, for any :class:`Evaluator` (``evaluate(config, task)``) and any
  :class:`Prior`.
* :class:`SerialExecutor`, :class:`PoolExecutor`, :class:`DaskExecutor`, :func:`make_executor`.
* :func:`write_report`, :func:`summarize`: CSV, Markdown and PNG reports.

See ``docs/bench.md``.
"""

from __future__ import annotations

from warmnas.bench.evaluators import (
    CVTask,
    Evaluation,
    Evaluator,
    FunctionEvaluator,
    OpenMLCVEvaluator,
    SimulatedCost,
    run_evaluation,
)
from warmnas.bench.executors import (
    DaskExecutor,
    Executor,
    PoolExecutor,
    SerialExecutor,
    make_executor,
)
from warmnas.bench.prior import Prior
from warmnas.bench.report import summarize, write_report
from warmnas.bench.runner import TRANSIENT_ERRORS, StudyResult, StudyTask, run_study
from warmnas.bench.study import openml_study, openml_task_id, openml_tasks, surrogate_study
from warmnas.bench.surrogate import NB201Surrogate, TableSurrogate, load_table, surrogate_tasks

__all__ = [
    "CVTask",
    "Evaluation",
    "Evaluator",
    "FunctionEvaluator",
    "OpenMLCVEvaluator",
    "SimulatedCost",
    "run_evaluation",
    "Executor",
    "SerialExecutor",
    "PoolExecutor",
    "DaskExecutor",
    "make_executor",
    "Prior",
    "StudyTask",
    "StudyResult",
    "run_study",
    "TRANSIENT_ERRORS",
    "openml_study",
    "openml_tasks",
    "openml_task_id",
    "surrogate_study",
    "TableSurrogate",
    "NB201Surrogate",
    "load_table",
    "surrogate_tasks",
    "summarize",
    "write_report",
]
