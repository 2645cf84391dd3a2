"""Ready-made studies: warm-started searches on OpenML tasks, and surrogate (table look-up) studies.

Both return a :class:`~warmnas.bench.runner.StudyResult`; :func:`warmnas.bench.report.write_report`
turns it into CSV, Markdown and PNG files. ``warmnas bench openml`` and ``warmnas bench
surrogate`` are these two functions on the command line.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from warmnas.bench.evaluators import CVTask, Evaluator, OpenMLCVEvaluator, SimulatedCost
from warmnas.bench.executors import Executor
from warmnas.bench.prior import Prior
from warmnas.bench.runner import StudyResult, StudyTask, run_study
from warmnas.errors import InputError, InputTypeError, UnknownIdError

if TYPE_CHECKING:
    from warmnas.metadb import MetaDatabase

__all__ = ["openml_task_id", "openml_tasks", "openml_study", "surrogate_study"]

logger = logging.getLogger(__name__)


def openml_task_id(task_id: int, server: str = "www") -> str:
    """The meta-database id of an OpenML task: ``openml/t/<id>`` on the production server,
    ``openml-test/t/<id>`` on the test server (whose ids name other tasks)."""
    return f"openml/t/{int(task_id)}" if server == "www" else f"openml-{server}/t/{int(task_id)}"


def _check_ids(task_ids: Any) -> list[int]:
    if isinstance(task_ids, (int, str)):
        task_ids = [task_ids]
    out = []
    for v in task_ids:
        if isinstance(v, bool) or not (isinstance(v, int) or (isinstance(v, str) and v.isdigit())):
            raise InputError(f"OpenML task ids must be positive ints, got {v!r}")
        if int(v) < 1:
            raise InputError(f"OpenML task ids must be positive ints, got {v!r}")
        out.append(int(v))
    if not out:
        raise InputError("no OpenML task id given; pass at least one (e.g. --tasks 1882)")
    if len(set(out)) != len(out):
        raise InputError(f"an OpenML task id is given twice: {out}")
    return out


def openml_tasks(task_ids: Sequence[int], cache: Any, *, prior: Prior | None = None,
                 db: MetaDatabase | None = None, view: str = "autosklearn",
                 meta_features: bool = True, random_state: int = 0) -> list[StudyTask]:
    """Load OpenML tasks from a cache as :class:`StudyTask` objects.

    Args:
        task_ids: OpenML task ids.
        cache: a :class:`warmnas.metadb.openml_cache.OpenMLCache`.
        prior: tasks of the prior on the same dataset (same production dataset id, or same name)
            are left out of the warm starters' fits.
        db: meta-features already stored there for the task (same view) are reused instead of
            being recomputed.
        view: meta-feature names (``"autosklearn"``: the 46 PMF names, matching the embedded
            default meta-database; ``"openml"``; ``"pymfe"``).
        meta_features: compute them (kNN and PMF need them).
        random_state: seed of the meta-feature extraction (landmarkers).

    Raises:
        MissingDataError: a task or dataset file is not in the cache.
    """
    out = []
    server = getattr(cache, "server", "www")
    for tid in _check_ids(task_ids):
        task = cache.task(tid)
        dataset = cache.dataset(task.dataset_id, target=task.target)
        payload = CVTask.from_openml(task, dataset)
        study_id = openml_task_id(tid, server)
        feats = None
        if meta_features:
            feats = _stored_features(db, study_id, view)
            if feats is None:
                import metafeatures

                logger.info("computing %s meta-features of OpenML task %d (%s)", view, tid,
                            dataset.name)
                feats = metafeatures.extract(dataset.X, dataset.y, names=view, groups="all",
                                             categorical=list(dataset.categorical),
                                             random_state=random_state)
        exclude = prior.related_tasks(dataset_id=task.dataset_id, name=dataset.name,
                                      server_is_production=server == "www") if prior else []
        if exclude:
            logger.info("leaving %s out of the prior for %s (same dataset)", exclude, study_id)
        record: dict[str, Any] = {"name": str(dataset.name), "source": "openml", "task_type": payload.task_type,
                  "info": {"openml_server": server, "openml_task_id": tid,
                           "openml_dataset_id": int(task.dataset_id),
                           "n_repeats": payload.n_repeats, "n_folds": payload.n_folds}}
        if server == "www":
            record.update(openml_task_id=tid, openml_dataset_id=int(task.dataset_id))
        out.append(StudyTask(task_id=study_id, payload=payload, meta_features=feats,
                             exclude=tuple(exclude), record=record))
    return out


def _stored_features(db: MetaDatabase | None, task: str, view: str) -> dict[str, float] | None:
    if db is None or view not in db.meta_feature_views():
        return None
    try:
        frame = db.meta_features(view, tasks=[task])
    except UnknownIdError:
        return None
    if task not in frame.index or frame.loc[task].isna().all():
        return None
    logger.info("reusing the %s meta-features of %s stored in the meta-database", view, task)
    return {str(k): float(v) for k, v in frame.loc[task].items()}


def _check_study_kwargs(caller: str, kwargs: Mapping[str, Any], fixed: Sequence[str]) -> None:
    """Refuse ``**kwargs`` that :func:`run_study` does not take (or that ``caller`` sets
    itself) before any data is loaded, naming them and the ones it does take."""
    import inspect

    allowed = [n for n in inspect.signature(run_study).parameters if n not in fixed]
    unknown = [k for k in kwargs if k not in allowed]
    if unknown:
        raise InputTypeError(
            f"{caller}() got unknown argument(s) {unknown}; besides its own arguments it passes "
            f"only these on to run_study: {allowed}"
        )


def openml_study(
    task_ids: Sequence[int],
    methods: Any,
    *,
    db: MetaDatabase,
    budget: int,
    cache_dir: str | os.PathLike[str],
    server: str | None = None,
    offline: bool = True,
    prior: Prior | MetaDatabase | None = None,
    splits: Sequence[tuple[int, int]] | None = None,
    repeats: Sequence[int] | None = None,
    metric: str = "balanced_error",
    estimator_factory: Callable[..., Any] | None = None,
    executor: Executor | None = None,
    random_state: int = 0,
    eval_timeout_s: float | None = 600.0,
    **kwargs: Any,
) -> StudyResult:
    """Warm-started searches on OpenML tasks with real evaluations (the Oboe pipeline space).

    Args:
        task_ids: OpenML task ids (in the cache under ``cache_dir``).
        methods: ``"knn,pmf,random"`` or a list (see :func:`~warmnas.bench.runner.run_study`).
        db: the meta-database receiving tasks, meta-features and evaluations (resumes from it).
        budget: evaluations per (task, method).
        cache_dir: an openml-python cache folder (read offline).
        server: ``"test"`` or ``"www"`` (default: the one the cache holds).
        offline: True (default): a file missing from the cache raises ``MissingDataError`` at
            once, naming it; False: openml-python downloads it (network needed).
        prior: a :class:`Prior` or a meta-database to learn from (default: the embedded
            default: Oboe's 358 x 219 balanced-error matrix, auto-sklearn meta-features).
        splits: ``(repeat, fold)`` pairs of the task's CV to use (None: all); the stored
            fidelity is the fraction used.
        repeats: instead of ``splits``, all folds of these repeats.
        metric: ``"balanced_error"`` (Oboe's) or ``"error"``.
        estimator_factory: Oboe config -> scikit-learn estimator (default
            :func:`warmnas.api.estimators`).
        executor: where evaluations run (default: this process).
        random_state: seed (searches, estimators, meta-features).
        eval_timeout_s: stop an evaluation after this many seconds (a ``TimeoutError``
            failure; default 600, as ``warmnas bench openml``: some grid pipelines, e.g.
            polynomial-kernel SVMs, do not finish for hours); None: no limit.
        **kwargs: passed to :func:`~warmnas.bench.runner.run_study` (``batch_size``,
            ``source``, ``show_progress``, ``max_retries`` ...).
    """
    from warmnas.bench.runner import _check_db, _check_run_args, _methods
    from warmnas.metadb import MetaDatabase
    from warmnas.metadb.openml_cache import OpenMLCache

    # bad arguments fail before the tasks are loaded and their meta-features computed
    _check_study_kwargs("openml_study", kwargs, fixed=("tasks", "methods", "evaluator", "prior",
                                                       "db", "budget", "executor",
                                                       "random_state", "eval_timeout_s"))
    _check_run_args(budget, kwargs.get("batch_size", 1), kwargs.get("on_error", "record"),
                    eval_timeout_s, random_state)
    _methods(methods, kwargs.get("starter_params"))
    _check_db(db)
    if prior is None:
        prior = Prior.from_metadb(MetaDatabase.default(), "balanced_error", space="oboe")
    elif isinstance(prior, MetaDatabase):
        prior = Prior.from_metadb(prior, "balanced_error", space="oboe")
    elif not isinstance(prior, Prior):
        raise InputTypeError(f"prior must be a Prior or a MetaDatabase, got {type(prior).__name__}")
    evaluator = OpenMLCVEvaluator(estimator_factory, space=prior.space, metric=metric,
                                  splits=splits, repeats=repeats, random_state=random_state)
    with OpenMLCache(Path(cache_dir), server=server, offline=offline) as cache:
        tasks = openml_tasks(task_ids, cache, prior=prior, db=db, view=prior.view or "autosklearn",
                             random_state=random_state)
    kwargs.setdefault("source", "warmnas-bench/openml")
    return run_study(tasks, methods, evaluator, prior=prior, db=db, budget=budget,
                     executor=executor, random_state=random_state,
                     eval_timeout_s=eval_timeout_s, **kwargs)


def surrogate_study(
    table: str | tuple[Prior, Evaluator],
    methods: Any,
    *,
    db: MetaDatabase,
    budget: int,
    data_dir: str | os.PathLike[str] | None = None,
    tasks: Any = None,
    folds: int | None = None,
    metric: str | None = None,
    sleep_s: float = 0.0,
    cpu_iterations: int = 0,
    executor: Executor | None = None,
    random_state: int = 0,
    starter_params: Mapping[str, Mapping[str, Any]] | None = None,
    **kwargs: Any,
) -> StudyResult:
    """A surrogate study: evaluations are look-ups in a recorded table.

    Args:
        table: ``"oboe"``, ``"tabrepo"``, ``"aslib"``, ``"nb201"`` (see
            :func:`~warmnas.bench.surrogate.load_table`) or a ``(prior, evaluator)`` pair.
        methods, db, budget, executor, random_state, starter_params: as
            :func:`~warmnas.bench.runner.run_study`.
        data_dir: the shared data folder (not needed for ``oboe``: the embedded default).
        tasks: task ids, an int n (the first n), or None (all tasks of the table).
        folds: None = leave one task out; K = grouped K-fold (K fits per method).
        metric: for tabrepo (``auc_error``, ``log_loss``, ``rmse``).
        sleep_s, cpu_iterations: a simulated cost added to each look-up
            (:class:`~warmnas.bench.evaluators.SimulatedCost`).
        **kwargs: passed to :func:`~warmnas.bench.runner.run_study`.
    """
    from warmnas.bench.runner import _check_db, _check_run_args, _methods
    from warmnas.bench.surrogate import load_table, surrogate_tasks

    _check_study_kwargs("surrogate_study", kwargs, fixed=("tasks", "methods", "evaluator",
                                                          "prior", "db", "budget", "executor",
                                                          "random_state", "starter_params"))
    _check_run_args(budget, kwargs.get("batch_size", 1), kwargs.get("on_error", "record"),
                    kwargs.get("eval_timeout_s"), random_state)
    _check_db(db)
    if isinstance(table, str):
        prior, lookup = load_table(table, data_dir, metric=metric)
        name = table
    else:
        prior, lookup = table
        name = prior.space.name
    starters = _methods(methods, starter_params)
    need = [label for label, s in starters.items() if s.requires_meta_features]
    if need and prior.meta_features is None:
        raise InputError(
            f"method(s) {need} need meta-features, but the prior has none (the {name!r} table "
            "holds no meta-features); use portfolio or random"
        )
    study_tasks = surrogate_tasks(prior, lookup, tasks, folds=folds,
                                  require_meta_features=bool(need),
                                  random_state=random_state)
    evaluator: Evaluator = lookup
    if sleep_s or cpu_iterations:
        evaluator = SimulatedCost(lookup, sleep_s=sleep_s, cpu_iterations=cpu_iterations)
    kwargs.setdefault("source", f"warmnas-bench/surrogate-{name}")
    return run_study(study_tasks, starters, evaluator, prior=prior, db=db, budget=budget,
                     executor=executor, random_state=random_state, **kwargs)
