"""The warm-starter interface shared by kNN, PMF, portfolio and random search.

A warm starter is fitted on a meta-database in plain pandas form (a performance matrix
``n_tasks x n_configs`` with NaN for missing evaluations, optional meta-features
``n_tasks x n_features``, and the metric's direction). For a new task it then

* ranks configurations without any evaluation (:meth:`WarmStarter.suggest`), and
* proposes configurations one at a time while results come in (:meth:`WarmStarter.start` returns
  an ask/tell :class:`~warmnas.warmstart.bo.Search`).

Subclasses implement four hooks on index arrays (configurations are positions ``0..n_configs-1``,
values are oriented so that lower is better): ``_fit``, ``_context``, ``_next`` and ``_predict``.
"""

from __future__ import annotations

import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from warmnas._random import RandomState, check_random_state
from warmnas.errors import InputError, InputTypeError, NotFittedError, UnknownIdError
from warmnas.warmstart._validation import (
    Direction,
    check_direction,
    check_meta_features,
    check_performance,
    to_minimize,
)

if TYPE_CHECKING:
    from pathlib import Path

    from typing_extensions import Self

    from warmnas.warmstart._persist import StateReader
    from warmnas.warmstart.bo import Search

logger = logging.getLogger(__name__)

__all__ = ["WarmStarter", "Suggestion", "Context"]


@dataclass
class Context:
    """Per-task state a starter computes once for a new task (neighbours, priors, caches).

    Attributes:
        query: the new task's meta-features (validated, ordered like the database), or None.
        neighbors: nearest database tasks and their distances (ascending), or None.
        data: starter-specific precomputations.
    """

    query: pd.Series | None = None
    neighbors: pd.Series | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Suggestion:
    """Configurations proposed for a new task, best first.

    Attributes:
        config_ids: ids of the proposed configurations (length ``n``), best first.
        scores: predicted value of each, in the metric's own direction and scale (length ``n``).
        stddev: predicted standard deviation of each (same scale; NaN where the method has none).
        neighbors: nearest database tasks (index: task id, values: distance, ascending) or None.
        method: the starter's name (``"knn"``, ``"pmf"``, ``"portfolio"``, ``"random"``).
        direction: the metric's direction.
    """

    config_ids: list[str]
    scores: np.ndarray
    stddev: np.ndarray
    neighbors: pd.Series | None
    method: str
    direction: Direction

    def to_frame(self) -> pd.DataFrame:
        """One row per configuration: ``rank``, ``config_id``, ``score``, ``stddev``."""
        return pd.DataFrame(
            {
                "rank": np.arange(1, len(self.config_ids) + 1),
                "config_id": self.config_ids,
                "score": self.scores,
                "stddev": self.stddev,
            }
        )


class WarmStarter(ABC):
    """Base class of the warm starters (scikit-learn conventions: fitted attributes end in ``_``).

    Fitted attributes:
        performance_: the validated performance matrix (``n_tasks x n_configs``, metric direction).
        meta_features_: the validated meta-feature table or None.
        direction_: ``"minimize"`` or ``"maximize"``.
        task_ids_, config_ids_: ``pandas.Index`` of ``str``.
    """

    #: short name used in results and the command line
    name: ClassVar[str] = "base"
    #: whether :meth:`fit` needs meta-features
    requires_meta_features: ClassVar[bool] = False

    # ----------------------------------------------------------------------------------- fitting
    def fit(
        self,
        performance: pd.DataFrame,
        meta_features: pd.DataFrame | None = None,
        *,
        direction: Direction = "minimize",
    ) -> Self:
        """Fit on a meta-database.

        Args:
            performance: ``n_tasks x n_configs`` DataFrame (index task ids, columns config ids),
                values in the metric's own direction, NaN where not evaluated.
            meta_features: ``n_tasks' x n_features`` DataFrame indexed by task ids (NaN allowed;
                tasks absent here cannot be neighbours). Required by kNN and PMF.
            direction: ``"minimize"`` (errors, losses) or ``"maximize"`` (accuracies).

        Returns:
            self

        Raises:
            InputTypeError, InputError: malformed inputs (see the messages).
        """
        self.direction_: Direction = check_direction(direction)
        perf = check_performance(performance)
        feats = None
        if meta_features is not None:
            feats = check_meta_features(meta_features)
            feats = feats.loc[:, feats.notna().any(axis=0)]
            if feats.shape[1] == 0:
                raise InputError(
                    "meta_features has no column with a finite value; pass real meta-features."
                )
        elif self.requires_meta_features:
            raise InputError(
                f"the {self.name!r} warm starter needs meta_features (tasks x named meta-features) "
                "to find the nearest tasks; pass them to fit(), or use method='portfolio'."
            )
        self.performance_ = perf
        self.meta_features_ = feats
        self.task_ids_ = perf.index
        self.config_ids_ = perf.columns
        # lower is better internally
        self._Y = to_minimize(perf.to_numpy(), self.direction_)
        self._fit()
        return self

    @abstractmethod
    def _fit(self) -> None:
        """Fit on ``self._Y`` (lower is better) and ``self.meta_features_``."""

    def _check_fitted(self) -> None:
        if not hasattr(self, "performance_"):
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit(performance, "
                "meta_features, direction=...) first."
            )

    # ------------------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save this fitted starter to one file (``.npz`` by convention), atomically.

        Everything the starter needs to suggest exactly as now is stored (the performance
        matrix, meta-features, scaling statistics, PMF's latent positions, kernel
        hyperparameters and covariance, the seeding kNN...), float64 as fitted, in a numpy
        ``.npz`` archive with a JSON header (parameters, ids, class, format version): no pickle.
        A reader sees the old file or the new one, never a torn one.

        Args:
            path: the file to write (its folder is created if missing; an existing file is
                replaced).

        Returns:
            ``path`` as a ``Path``.

        A subclass of your own is saved too: its constructor arguments must be stored under
        their own names (numbers, strings, None, built-in starters) and any fitted attribute
        beyond what its base class saves must come from ``_get_state()`` (JSON values, named
        arrays) and go back in ``_set_state(reader)``; load it with ``MyStarter.load(path)``.

        Raises:
            NotFittedError: the starter is not fitted.
            InputTypeError: a constructor argument cannot be stored.
            NotImplementedError: a user subclass with fitted attributes that its
                ``_get_state`` / ``_set_state`` do not save and restore (checked by restoring
                it in memory before writing; nothing is written).
            StorageError: the file could not be written (nothing was written).
        """
        from warmnas.warmstart import _persist

        return _persist.save(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, device: Any = None) -> Self:
        """Load a starter written by :meth:`save`; it suggests exactly as the saved one.

        ``WarmStarter.load(path)`` returns whichever built-in starter the file holds;
        ``KNNWarmStarter.load(path)`` also checks that it is one. A file of a user subclass
        is loaded only through that class, ``MyStarter.load(path)`` (warmnas never imports a
        class named in a file).

        Args:
            path: a file written by :meth:`save`.
            device: for starters with a torch device (PMF): where to put them, e.g. ``"cpu"``
                for one saved on a GPU machine (default: the device it was saved with).
                Starters without a device ignore it.

        Returns:
            The fitted starter (of the class stored in the file).

        Raises:
            MissingDataError: no such file.
            CorruptDatabaseError: truncated or damaged file, unknown class, arrays of the wrong
                shape or dtype (refit and save again).
            SchemaVersionError: written by a newer warmnas with a newer format.
            InputError: the file holds another class than ``cls`` (or a user subclass and
                ``cls`` is not that class), or its device (or ``device``) is not available
                here.
        """
        from warmnas.warmstart import _persist

        starter = _persist.load(path, device, cls)
        if not isinstance(starter, cls):
            raise InputError(
                f"{os.fspath(path)} holds a {type(starter).__name__}, not a {cls.__name__}; "
                f"load it with WarmStarter.load(path) or {type(starter).__name__}.load(path)."
            )
        return starter

    def _check_params(self) -> None:
        """Validate the constructor arguments (raises InputError); used by :meth:`load`."""
        return None

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """This class's fitted state beyond the base's: JSON values and named arrays."""
        return {}, {}

    def _set_state(self, reader: StateReader) -> None:
        """Restore what :meth:`_get_state` stored (the base attributes are already set)."""
        return None

    # ------------------------------------------------------------------------------ new tasks
    def _context(self, query: Any, nan_policy: str) -> Context:
        """Prepare the per-task context for the meta-features ``query`` (None: none given)."""
        return Context()

    @abstractmethod
    def _next(
        self,
        ctx: Context,
        observed: np.ndarray,
        values: np.ndarray,
        pending: np.ndarray,
        available: np.ndarray,
        rng: np.random.Generator,
    ) -> int:
        """Return the position of the next configuration to evaluate.

        Args:
            ctx: from :meth:`_context`.
            observed: positions evaluated so far (int array, in order).
            values: their values, lower is better (NaN = failed evaluation).
            pending: positions proposed but not yet told (int array, in order).
            available: bool mask ``n_configs``; True where a configuration may be proposed
                (never an observed or pending one).
            rng: the search's generator.
        """

    def _next_cost_aware(
        self,
        ctx: Context,
        observed: np.ndarray,
        values: np.ndarray,
        pending: np.ndarray,
        available: np.ndarray,
        rng: np.random.Generator,
        log_cost: np.ndarray,
    ) -> int:
        """Like :meth:`_next` when each configuration has a predicted log runtime ``log_cost``
        (``n_configs``) and ``available`` holds only those that fit in the time left.

        Default: the starter's own order among them (kNN, portfolio, random); PMF overrides it
        with expected improvement per predicted second.
        """
        return self._next(ctx, observed, values, pending, available, rng)

    def _predict(
        self, ctx: Context, observed: np.ndarray, values: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Predicted mean and std of every configuration (lower is better), ``n_configs`` each.

        Default: the mean and std of each configuration over the database tasks (or over the
        neighbours when the context has them).
        """
        rows = self._neighbor_rows(ctx)
        Y = self._Y[rows]
        with np.errstate(all="ignore"):
            return np.nanmean(Y, axis=0), np.nanstd(Y, axis=0)

    def _neighbor_rows(self, ctx: Context, k: int | None = None) -> np.ndarray:
        if ctx.neighbors is None:
            return np.arange(self._Y.shape[0])
        ids = ctx.neighbors.index[: (k or getattr(self, "n_neighbors", None) or 10)]
        return np.asarray(self.task_ids_.get_indexer(ids))

    def _available(self, candidates: Iterable[str] | None) -> np.ndarray:
        mask = np.ones(len(self.config_ids_), dtype=bool)
        if candidates is None:
            return mask
        if isinstance(candidates, str):  # one id, not its letters
            candidates = [candidates]
        cand = [str(c) for c in candidates]
        pos = self.config_ids_.get_indexer(cand)
        if (pos < 0).any():
            bad = [c for c, p in zip(cand, pos) if p < 0]
            raise UnknownIdError(
                f"candidates has configuration ids the meta-database does not know: {bad[:5]}; "
                f"known ids are e.g. {self.config_ids_[:3].tolist()}."
            )
        mask[:] = False
        mask[pos] = True
        if not mask.any():
            raise InputError("candidates is empty; pass at least one configuration id.")
        return mask

    def start(
        self,
        meta_features: Mapping[str, float] | pd.Series | None = None,
        *,
        candidates: Iterable[str] | None = None,
        nan_policy: str = "error",
        random_state: RandomState = None,
    ) -> Search:
        """Start an ask/tell search for a new task.

        Args:
            meta_features: the new task's meta-features (name -> value), or None where the
                method needs none (portfolio, random; kNN and PMF then raise).
            candidates: configuration ids that may be proposed (default: all of the database;
                one id may be given as a plain string).
            nan_policy: ``"error"`` (NaN in ``meta_features`` raises) or ``"ignore"`` (NaN
                meta-features are left out of the distance).
            random_state: seed for the search's random choices.

        Returns:
            A :class:`~warmnas.warmstart.bo.Search` (``ask()``, ``tell(config_id, value)``,
            ``run(objective, budget)``).
        """
        from warmnas.warmstart.bo import Search

        self._check_fitted()
        if nan_policy not in ("error", "ignore"):
            raise InputError(f"nan_policy must be 'error' or 'ignore', got {nan_policy!r}.")
        ctx = self._context(meta_features, nan_policy)
        return Search(self, ctx, self._available(candidates), check_random_state(random_state))

    def suggest(
        self,
        meta_features: Mapping[str, float] | pd.Series | None = None,
        n_configs: int = 10,
        *,
        observed: Mapping[str, float] | None = None,
        candidates: Iterable[str] | None = None,
        nan_policy: str = "error",
        random_state: RandomState = 0,
    ) -> Suggestion:
        """Rank ``n_configs`` configurations for a new task, best first, without evaluating any.

        The order is the order in which :meth:`start`'s search would propose them when each
        proposal's outcome is not known yet (for PMF: each proposal is "believed" to score its
        posterior mean, the kriging-believer batch). ``observed`` evaluations of the new task,
        if any, condition the ranking and are never proposed again.

        Args:
            meta_features: see :meth:`start`.
            n_configs: how many to propose; at most the number of candidates.
            observed: config id -> value already measured on the new task (metric direction).
            candidates, nan_policy, random_state: see :meth:`start`.

        Returns:
            A :class:`Suggestion`.

        Raises:
            InputError: ``n_configs`` < 1 or larger than the candidates left.
        """
        if observed is not None and not isinstance(observed, Mapping):
            raise InputTypeError(
                f"observed must be a mapping config id -> value, got {type(observed).__name__}; "
                "e.g. dict(pairs) for a list of (config_id, value) pairs."
            )
        search = self.start(
            meta_features, candidates=candidates, nan_policy=nan_policy, random_state=random_state
        )
        for cid, val in (observed or {}).items():
            search.tell(cid, val)
        left = int(search.available.sum())
        if isinstance(n_configs, bool) or not isinstance(n_configs, (int, np.integer)):
            raise InputError(f"n_configs must be a positive int, got {n_configs!r}.")
        if n_configs < 1 or n_configs > left:
            raise InputError(
                f"n_configs must be between 1 and {left} (the configurations left to propose "
                f"out of {len(self.config_ids_)} in the space), got {n_configs}."
            )
        picks = [search.ask_position() for _ in range(int(n_configs))]
        return self._suggestion(search, picks)

    def _suggestion(self, search: Search, picks: Sequence[int]) -> Suggestion:
        """The configurations at positions ``picks`` with the predictions of ``search``'s
        observations (proposals are pending, not observed, so asking leaves these unchanged)."""
        obs = np.asarray(search.observed_positions, dtype=np.intp)
        vals = np.asarray(search.observed_values, dtype=np.float64)
        mean, std = self._predict(search.context, obs, vals)
        picks = list(picks)
        sign = -1.0 if self.direction_ == "maximize" else 1.0
        return Suggestion(
            config_ids=[str(self.config_ids_[p]) for p in picks],
            scores=sign * mean[picks],
            stddev=std[picks],
            neighbors=search.context.neighbors,
            method=self.name,
            direction=self.direction_,
        )

    # ---------------------------------------------------------------------------------- helpers
    def _config_positions(self, ids: Sequence[str]) -> np.ndarray:
        pos = self.config_ids_.get_indexer([str(i) for i in ids])
        if (pos < 0).any():
            bad = [i for i, p in zip(ids, pos) if p < 0]
            raise UnknownIdError(
                f"unknown configuration ids {bad[:5]}; the meta-database has "
                f"{len(self.config_ids_)} configurations, e.g. {self.config_ids_[:3].tolist()}."
            )
        return pos
