"""Surrogate mode: evaluate a configuration by looking its value up in a recorded table.

A study in surrogate mode runs the same warm starters, executors, meta-database writes and
reports as a real one, but an evaluation is a table look-up (microseconds), so a study over
hundreds of tasks takes seconds. The tables:

==========  ==============================================================  =================
name        source                                                          metric
==========  ==============================================================  =================
``oboe``    Oboe's 358 x 219 matrix (the embedded default meta-database, or  ``balanced_error``
            ``oboe/`` + ``pmf-metafeatures/`` under ``--data-dir``)
``tabrepo`` TabRepo's LightGBM results (``tabrepo-lightgbm/``)               ``auc_error`` ...
``aslib``   ASlib OPENML-WEKA-2017 (``aslib-openml-weka-2017/``)             ``predictive_accuracy``
``nb201``   NAS-Bench-201 via :class:`warmnas.nas.nb201.NB201Table`          ``test_accuracy``
==========  ==============================================================  =================

The cost stored with a look-up is the cost the table recorded for that evaluation (Oboe's and
TabRepo's runtimes), so anytime curves "vs wall time" show the time the real evaluations took;
tables without costs store the look-up's own time.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from warmnas.bench.evaluators import Evaluation, Evaluator, check_seed
from warmnas.bench.prior import Prior
from warmnas.errors import InputError, MissingDataError, UnknownIdError
from warmnas.space import Space, config_id

__all__ = ["TableSurrogate", "SurrogateRow", "NB201Surrogate", "load_table", "surrogate_tasks", "TABLES"]

logger = logging.getLogger(__name__)

#: surrogate table names accepted by :func:`load_table`
TABLES = ("oboe", "tabrepo", "aslib", "nb201")


@dataclass(frozen=True)
class SurrogateRow:
    """The recorded results of one task: config id -> value (and cost in seconds)."""

    task: str
    values: Mapping[str, float]
    costs: Mapping[str, float] | None = None


class TableSurrogate(Evaluator):
    """Evaluate by table look-up in a :class:`Prior`'s performance matrix.

    ``evaluate(config, row)`` takes the :class:`SurrogateRow` of :meth:`payload`; the runner
    sends each task's row to the workers once.

    Args:
        prior: the table (its space, metric and direction are the evaluator's).
    """

    def __init__(self, prior: Prior) -> None:
        self.space: Space = prior.space
        self.metric = prior.metric
        self.direction = prior.direction
        self._prior = prior

    def __getstate__(self) -> dict[str, Any]:
        # the workers need the space and the metric, never the whole table
        return {"space": self.space, "metric": self.metric, "direction": self.direction}

    def payload(self, task: str) -> SurrogateRow:
        """The look-up row of ``task``.

        Raises:
            UnknownIdError: the table has no such task.
        """
        prior = getattr(self, "_prior", None)
        if prior is None:
            raise InputError("this TableSurrogate was unpickled without its table; call "
                             "payload() in the process that built it")
        row = prior.row(task)
        costs = None
        if prior.cost is not None and task in prior.cost.index:
            c = prior.cost.loc[task, row.index]
            costs = {str(k): float(v) for k, v in c.items() if pd.notna(v)}
        return SurrogateRow(task, {str(k): float(v) for k, v in row.items()}, costs)

    def evaluate(self, config: Mapping[str, Any], task: Any) -> Evaluation:
        if not isinstance(task, SurrogateRow):
            raise InputError(
                f"a TableSurrogate evaluates on a SurrogateRow (TableSurrogate.payload(task)), "
                f"got {type(task).__name__}"
            )
        t0 = time.perf_counter()
        # stored configurations are already normalised: hash first, validate only on a miss
        cid = config_id(config, self.space.name)
        if cid not in task.values:
            cid = self.space.config_id(config)
        try:
            value = task.values[cid]
        except KeyError:
            raise UnknownIdError(
                f"the table has no value of configuration {cid} on task {task.task!r}"
            ) from None
        cost = task.costs.get(cid) if task.costs else None
        if cost is None:
            cost = time.perf_counter() - t0
        return Evaluation(value, float(cost))

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d["mode"] = "surrogate (table look-up)"
        return d


class NB201Surrogate(Evaluator):
    """NAS-Bench-201 look-ups through :class:`warmnas.nas.nb201.NB201Table`.

    ``evaluate({"arch": ...}, dataset)`` returns the 200-epoch test accuracy (percent) on
    ``dataset`` (``"cifar10"``, ``"cifar100"``, ``"imagenet16_120"``, or the importer's task
    suffixes ``"ImageNet16-120"``).
    """

    _ALIASES = {"ImageNet16-120": "imagenet16_120"}

    def __init__(self, table: Any) -> None:
        from warmnas.space import nb201_space

        self.table = table
        self.space = nb201_space()
        self.metric = "test_accuracy"
        self.direction = "maximize"

    def payload(self, task: str) -> str:
        key = task.split("/", 1)[1] if task.startswith("nb201/") else task
        key = self._ALIASES.get(key, key)
        if key not in self.table.accuracies:
            raise UnknownIdError(
                f"NB201 has no dataset {task!r}; expected one of {sorted(self.table.accuracies)}"
            )
        return key

    def evaluate(self, config: Mapping[str, Any], task: Any) -> Evaluation:
        t0 = time.perf_counter()
        value = self.table.lookup(config["arch"])[task]
        return Evaluation(float(value), time.perf_counter() - t0)


def _memory_db() -> Any:
    from warmnas.metadb import MetaDatabase

    return MetaDatabase("sqlite://")


def load_table(name: str, data_dir: str | os.PathLike[str] | None = None, *,
               metric: str | None = None) -> tuple[Prior, Evaluator]:
    """Load a surrogate table as a :class:`Prior` plus its look-up evaluator.

    Args:
        name: ``"oboe"``, ``"tabrepo"``, ``"aslib"`` or ``"nb201"``.
        data_dir: the shared data folder (``oboe/``, ``tabrepo-lightgbm/``, ...). For ``oboe``
            None means the embedded default meta-database (offline, no files needed).
        metric: for ``tabrepo``: ``auc_error`` (binary tasks, default), ``log_loss``
            (multiclass) or ``rmse`` (regression); for ``aslib`` a metric of its table
            (default ``predictive_accuracy``). ``oboe`` and ``nb201`` hold one metric each.

    Returns:
        ``(prior, evaluator)``.

    Raises:
        InputError: unknown table name, a metric the table does not offer.
        MissingDataError: the table's files are not under ``data_dir``.
    """
    from warmnas.metadb import MetaDatabase, importers

    if name not in TABLES:
        raise InputError(f"table must be one of {list(TABLES)}, got {name!r}")
    fixed = {"oboe": "balanced_error", "nb201": "test_accuracy"}.get(name)
    if metric is not None and fixed is not None and metric != fixed:
        raise InputError(f"the {name!r} table holds one metric, {fixed!r}; got metric={metric!r} "
                         "(metric chooses among the tabrepo and aslib metrics; leave it out)")
    if name == "oboe" and data_dir is None:
        prior = Prior.from_metadb(MetaDatabase.default(), "balanced_error", space="oboe")
        return prior, TableSurrogate(prior)
    if data_dir is None:
        raise MissingDataError(
            f"the {name!r} table is read from the shared data folder; pass data_dir (--data-dir)"
        )
    root = Path(data_dir)
    sub = {"oboe": "oboe", "tabrepo": "tabrepo-lightgbm", "aslib": "aslib-openml-weka-2017",
           "nb201": "nasbench201"}[name]
    folder = root / sub if (root / sub).is_dir() else root
    if not folder.is_dir():
        raise MissingDataError(f"no folder {root / sub} for the {name!r} table; pass "
                               f"data_dir= the shared data folder (holding {sub}/)")
    if name == "nb201":
        from warmnas.nas.nb201 import NB201Table
        from warmnas.space import nb201_space

        table = NB201Table.load(folder)
        space = nb201_space()
        ids = [space.config_id({"arch": a}) for a in table.archs]
        keys = {"nb201/cifar10": "cifar10", "nb201/cifar100": "cifar100",
                "nb201/ImageNet16-120": "imagenet16_120"}
        perf = pd.DataFrame(np.vstack([table.accuracies[k] for k in keys.values()]),
                            index=pd.Index(list(keys), name="task_id"),
                            columns=pd.Index(ids, name="config_id"))
        prior = Prior(performance=perf, configs={c: {"arch": a} for c, a in zip(ids, table.archs)},
                      space=space, metric="test_accuracy", direction="maximize", view="")
        return prior, NB201Surrogate(table)
    db = _memory_db()
    if name == "oboe":
        importers.import_oboe(db, folder)
        pmf = root / "pmf-metafeatures"
        if pmf.is_dir():
            importers.import_pmf_features(db, pmf)
        prior = Prior.from_metadb(db, "balanced_error", space="oboe")
    elif name == "tabrepo":
        importers.import_tabrepo(db, folder)
        prior = Prior.from_metadb(db, metric or "auc_error", view=None)
    else:
        importers.import_aslib(db, folder)
        prior = Prior.from_metadb(db, metric or "predictive_accuracy", view="openml")
    db.dispose()
    return prior, TableSurrogate(prior)


def surrogate_tasks(prior: Prior, evaluator: Evaluator, tasks: Any = None, *,
                    folds: int | None = None, require_meta_features: bool = False,
                    random_state: int = 0) -> list[Any]:
    """The :class:`~warmnas.bench.runner.StudyTask` list of a surrogate study.

    Args:
        prior: the table.
        evaluator: its look-up evaluator (:func:`load_table`).
        tasks: task ids (one may be a plain string), an int n (the first n tasks, in table
            order) or None (all).
        folds: None: each task's warm starters are fitted on every other task (leave one task
            out); K: tasks are split into K groups at random (seeded) and fitted without the
            whole group (K fits per method instead of one per task; harder, since each fit
            sees fewer tasks).
        require_meta_features: keep only tasks with meta-features (for kNN / PMF).
        random_state: seed of the fold assignment.

    Raises:
        UnknownIdError: a task id not in the table.
        InputError: bad ``folds`` / ``tasks``.
    """
    from warmnas.bench.runner import StudyTask

    random_state = check_seed(random_state)
    index = list(prior.performance.index)
    if tasks is None:
        chosen = index
    elif isinstance(tasks, (int, np.integer)) and not isinstance(tasks, bool):
        if tasks < 1:
            raise InputError(f"tasks must be >= 1 when an int, got {tasks}")
        chosen = index
        if require_meta_features:
            chosen = [t for t in chosen if prior.query(t) is not None]
        chosen = chosen[: int(tasks)]
    else:
        chosen = [tasks] if isinstance(tasks, str) else [str(t) for t in tasks]
        for t in chosen:
            prior.row(t)
    if require_meta_features:
        lacking = [t for t in chosen if prior.query(t) is None]
        if lacking:
            logger.info("leaving out %d task(s) without meta-features: %s", len(lacking),
                        lacking[:5])
        chosen = [t for t in chosen if t not in set(lacking)]
    if not chosen:
        raise InputError("no task left for the study (none with meta-features?)")
    group: dict[str, list[str]] = {t: [] for t in chosen}
    if folds is not None:
        if isinstance(folds, bool) or not isinstance(folds, (int, np.integer)) or not \
                2 <= folds <= len(chosen):
            raise InputError(f"folds must be an int in [2, {len(chosen)}] or None, got {folds!r}")
        perm = np.random.default_rng(random_state).permutation(len(chosen))
        assign = {chosen[i]: k % int(folds) for k, i in enumerate(perm)}
        members: dict[int, list[str]] = {}
        for t, k in assign.items():
            members.setdefault(k, []).append(t)
        group = {t: members[assign[t]] for t in chosen}
    names = prior.tasks["name"] if prior.tasks is not None and "name" in prior.tasks else None
    out = []
    for t in chosen:
        payload = evaluator.payload(t)  # type: ignore[attr-defined]
        name = names.get(t) if names is not None else None
        out.append(StudyTask(
            task_id=t, payload=payload, meta_features=prior.query(t), exclude=tuple(group[t]),
            candidates=list(prior.row(t).index), best_known=prior.best(t),
            record={"name": str(name)} if name is not None and pd.notna(name) else {},
        ))
    return out
