"""The prior: what the warm starters of a benchmark learn from.

A :class:`Prior` is a plain, in-memory snapshot of one metric of a meta-database: the
performance matrix (``n_tasks x n_configs``), the configurations, their space, the cost matrix
and the meta-features of one view. The runner fits each warm starter on ``prior.without(...)``
(the benchmark task, and any task of the same dataset, left out) so that no method ever sees
the answer it is asked to predict.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from warmnas.errors import InputError, InputTypeError, UnknownIdError
from warmnas.space import Space

if TYPE_CHECKING:
    from warmnas.metadb import MetaDatabase

__all__ = ["Prior"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Prior:
    """A snapshot of one metric of a meta-database.

    Attributes:
        performance: ``n_tasks x n_configs`` float64 DataFrame (index task ids, columns config
            ids), values in the metric's own direction, NaN where not evaluated.
        configs: config id -> configuration dict (every column of ``performance``).
        space: the configurations' space.
        metric: the metric name; ``direction``: ``"minimize"`` or ``"maximize"``.
        meta_features: ``n_tasks' x n_features`` DataFrame of the view ``view`` (or None).
        cost: ``n_tasks x n_configs`` evaluation cost in seconds (or None).
        tasks: the meta-database's task table (``name``, ``openml_dataset_id`` ...) or None.
        view: the meta-feature view name.
    """

    performance: pd.DataFrame
    configs: Mapping[str, Mapping[str, Any]]
    space: Space
    metric: str
    direction: str
    meta_features: pd.DataFrame | None = None
    cost: pd.DataFrame | None = None
    tasks: pd.DataFrame | None = None
    view: str = "autosklearn"

    def __post_init__(self) -> None:
        if not isinstance(self.performance, pd.DataFrame):
            raise InputTypeError(
                f"performance must be a DataFrame (tasks x configs), got {type(self.performance).__name__}"
            )
        if self.performance.shape[0] == 0 or self.performance.shape[1] == 0:
            raise InputError(
                f"the prior's performance matrix is empty ({self.performance.shape[0]} tasks x "
                f"{self.performance.shape[1]} configs); a warm start needs past results - import "
                "some (warmnas db import ...) or use the embedded default meta-database"
            )
        missing = [c for c in self.performance.columns if c not in self.configs]
        if missing:
            raise InputError(f"configs lacks {len(missing)} config id(s) of the matrix, e.g. {missing[:3]}")
        if self.direction not in ("minimize", "maximize"):
            raise InputError(f"direction must be 'minimize' or 'maximize', got {self.direction!r}")

    @classmethod
    def from_metadb(cls, db: MetaDatabase, metric: str | None = None, *,
                    space: str | Space | None = None, view: str | None = "autosklearn") -> Prior:
        """Snapshot ``metric`` of ``db``.

        Args:
            db: the meta-database.
            metric: the metric (default: the database's default metric).
            space: the space of the configurations (needed when the metric holds several).
            view: the meta-feature view to load (None: none).

        Raises:
            UnknownIdError: unknown metric, space or view.
            InputError: the metric's configurations span several spaces and ``space`` is None.
        """
        if metric is None:
            metric = db.info().get("default_metric")
            if metric is None:
                known = db.metrics()
                if len(known) != 1:
                    raise InputError(f"pass metric=...; the meta-database holds {known}")
                metric = known[0]
        direction = db.metric_direction(metric)
        space_name = space.name if isinstance(space, Space) else space
        perf = db.performance_matrix(metric, space=space_name)
        if space_name is None:
            names = {db.config_space(c) for c in perf.columns[: min(len(perf.columns), 50)]}
            if len(names) > 1:
                raise InputError(
                    f"metric {metric!r} has configurations of several spaces {sorted(names)}; "
                    "pass space=..."
                )
            space_name = names.pop() if names else None
        if space_name is None:
            raise InputError(f"metric {metric!r} has no evaluations in this meta-database")
        sp = db.space(space_name)
        cost = db.performance_matrix(metric, space=space_name, field="cost_s")
        cost = cost.reindex(index=perf.index, columns=perf.columns)
        feats = None
        if view is not None:
            if view in db.meta_feature_views():
                feats = db.meta_features(view)
            else:
                logger.info("the meta-database has no meta-features of view %r", view)
        return cls(performance=perf, configs=db.configs(list(perf.columns)), space=sp,
                   metric=metric, direction=direction, meta_features=feats,
                   cost=cost if cost.notna().to_numpy().any() else None, tasks=db.tasks(),
                   view=view or "")

    # ------------------------------------------------------------------------------ views
    def without(self, tasks: Iterable[str]) -> Prior:
        """The prior without ``tasks`` (ids not in it are ignored); configs left with no value
        are dropped."""
        drop = [t for t in dict.fromkeys(tasks) if t in self.performance.index]
        if not drop:
            return self
        perf = self.performance.drop(index=drop)
        keep = perf.columns[perf.notna().any(axis=0).to_numpy()]
        perf = perf.loc[:, keep]
        feats = self.meta_features.drop(index=[t for t in drop if t in self.meta_features.index]) \
            if self.meta_features is not None else None
        cost = self.cost.drop(index=drop).loc[:, keep] if self.cost is not None else None
        return replace(self, performance=perf, meta_features=feats, cost=cost)

    def related_tasks(self, *, dataset_id: int | None = None, name: str | None = None,
                      server_is_production: bool = True) -> list[str]:
        """Tasks of the prior on the same dataset (to leave out for an honest benchmark).

        Matches the OpenML dataset id (only meaningful for production-server ids) and/or the
        dataset name (case-insensitive).
        """
        if self.tasks is None or self.tasks.empty:
            return []
        out = []
        names = self.tasks["name"].astype("string").str.lower() if "name" in self.tasks else None
        for tid in self.tasks.index:
            if tid not in self.performance.index:
                continue
            row = self.tasks.loc[tid]
            did = row.get("openml_dataset_id")
            if server_is_production and dataset_id is not None and pd.notna(did) \
                    and int(did) == int(dataset_id):
                out.append(str(tid))
            elif name and names is not None and pd.notna(names.loc[tid]) \
                    and names.loc[tid] == name.lower():
                out.append(str(tid))
        return out

    def row(self, task: str) -> pd.Series:
        """The performance of ``task`` (non-missing configs only).

        Raises:
            UnknownIdError: ``task`` is not in the prior.
        """
        if task not in self.performance.index:
            raise UnknownIdError(
                f"task {task!r} is not in the table ({self.performance.shape[0]} tasks, e.g. "
                f"{list(self.performance.index[:3])})"
            )
        return self.performance.loc[task].dropna()

    def best(self, task: str) -> float:
        """The best value of ``task`` in the table (its oracle optimum)."""
        r = self.row(task).to_numpy()
        return float(np.min(r) if self.direction == "minimize" else np.max(r))

    def query(self, task: str) -> dict[str, float] | None:
        """The meta-features of ``task`` (None when the prior has none for it)."""
        if self.meta_features is None or task not in self.meta_features.index:
            return None
        return {str(k): float(v) for k, v in self.meta_features.loc[task].items()}

    def __repr__(self) -> str:
        n_t, n_c = self.performance.shape
        feats = 0 if self.meta_features is None else self.meta_features.shape[1]
        return (f"Prior(metric={self.metric!r}, space={self.space.name!r}, tasks={n_t}, "
                f"configs={n_c}, meta_features={feats})")
