"""kNN warm starter over meta-features (auto-sklearn v1 style).

Meta-features are scaled with statistics of the database tasks only (min-max by default, so every
meta-feature counts on [0, 1]); the distance of a new task to each database task is the L1 norm
(default) or L2 norm of the difference. ``strategy="best"`` proposes the best configuration of the
nearest task, then of the second nearest, ... skipping configurations already proposed (when every
task's best was used, the second-best ones follow in the same order): the initial design of
auto-sklearn 1 (Feurer et al., 2015). ``strategy="mean"`` ranks configurations by their mean
normalised rank over the ``n_neighbors`` nearest tasks, weighted by 1 / distance.

The neighbours and their distances are kept (``Suggestion.neighbors``) to explain a proposal.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from warmnas.errors import InputError
from warmnas.warmstart._validation import check_query
from warmnas.warmstart.base import Context, WarmStarter

if TYPE_CHECKING:
    from warmnas.warmstart._persist import StateReader

logger = logging.getLogger(__name__)

__all__ = ["KNNWarmStarter", "MetaFeatureScaler", "distances", "interleaved_order"]


class MetaFeatureScaler:
    """Scale meta-features with statistics of the database tasks; impute missing values.

    Args:
        method: ``"minmax"`` (to [0, 1] over the database tasks), ``"standard"`` (zero mean, unit
            variance) or ``"none"``.

    Fitted attributes:
        names_: feature names (``pandas.Index``).
        offset_, scale_: per feature; ``scaled = (x - offset_) / scale_``; a feature constant
            over the database gets scale ``inf`` (always 0, so it never changes a distance: a
            new task cannot be told apart from the database tasks by it).
        fill_: per feature, the median scaled value used to impute NaN of database tasks.
    """

    def __init__(self, method: str = "minmax") -> None:
        self.method = method

    def fit(self, features: pd.DataFrame) -> MetaFeatureScaler:
        """Fit on ``features`` (``n_tasks x n_features``; NaN ignored). Returns self."""
        if self.method not in ("minmax", "standard", "none"):
            raise InputError(
                f"scaling must be 'minmax', 'standard' or 'none', got {self.method!r}."
            )
        values = features.to_numpy(dtype=np.float64)
        with np.errstate(all="ignore"):
            if self.method == "minmax":
                offset = np.nanmin(values, axis=0)
                scale = np.nanmax(values, axis=0) - offset
            elif self.method == "standard":
                offset = np.nanmean(values, axis=0)
                scale = np.nanstd(values, axis=0)
            else:
                offset = np.zeros(values.shape[1])
                scale = np.ones(values.shape[1])
        # a feature constant over the database carries no information: scaled to 0 everywhere
        scale = np.where(np.isfinite(scale) & (scale > 0), scale, np.inf)
        offset = np.where(np.isfinite(offset), offset, 0.0)
        self.names_ = features.columns
        self.offset_ = offset
        self.scale_ = scale
        with np.errstate(all="ignore"):
            self.fill_ = np.nan_to_num(np.nanmedian((values - offset) / scale, axis=0))
        return self

    def transform(self, features: pd.DataFrame | pd.Series, impute: bool = True) -> np.ndarray:
        """Scale ``features`` (columns / index = a subset of ``names_``); returns float64 array.

        With ``impute`` NaN become the database median; without, NaN stay NaN.
        """
        if isinstance(features, pd.Series):
            cols = self.names_.get_indexer(features.index)
            x = (features.to_numpy(dtype=np.float64) - self.offset_[cols]) / self.scale_[cols]
            return np.where(np.isnan(x), self.fill_[cols], x) if impute else x
        cols = self.names_.get_indexer(features.columns)
        X = (features.to_numpy(dtype=np.float64) - self.offset_[cols]) / self.scale_[cols]
        return np.where(np.isnan(X), self.fill_[cols], X) if impute else X


def distances(database: np.ndarray, query: np.ndarray, metric: str = "l1") -> np.ndarray:
    """Distance of ``query`` (``n_features``; NaN = left out) to each row of ``database``.

    Args:
        database: ``n_tasks x n_features`` scaled meta-features without NaN.
        query: ``n_features``; features that are NaN are left out of the distance.
        metric: ``"l1"`` or ``"l2"``.

    Returns:
        ``n_tasks`` distances.
    """
    use = ~np.isnan(query)
    diff = database[:, use] - query[use]
    if metric == "l1":
        return np.abs(diff).sum(axis=1)
    if metric == "l2":
        return np.sqrt((diff**2).sum(axis=1))
    raise InputError(f"metric must be 'l1' or 'l2', got {metric!r}.")


def interleaved_order(Y_rows: np.ndarray) -> np.ndarray:
    """auto-sklearn v1 order from neighbours' rows (``k x n_configs``, nearest first, lower better).

    The best configuration of each neighbour in turn, de-duplicated; then each one's second best,
    and so on; configurations never evaluated on any neighbour come last.

    Returns:
        A permutation of ``range(n_configs)``.
    """
    k, n = Y_rows.shape
    ranked = np.argsort(np.where(np.isnan(Y_rows), np.inf, Y_rows), axis=1, kind="stable")
    valid = np.take_along_axis(~np.isnan(Y_rows), ranked, axis=1)
    flat = np.where(valid, ranked, -1).T.reshape(-1)  # round-major: r-th best of every neighbour
    flat = flat[flat >= 0]
    _, first = np.unique(flat, return_index=True)
    order = flat[np.sort(first)]
    rest = np.setdiff1d(np.arange(n), order, assume_unique=True)
    return np.concatenate([order, rest]).astype(np.intp)


class KNNWarmStarter(WarmStarter):
    """Propose the best configurations of the database tasks nearest in meta-feature space.

    Args:
        n_neighbors: neighbours used for ``strategy="mean"`` and for the predicted score and
            std of a configuration (mean and std of its values over those neighbours).
        metric: ``"l1"`` (default, auto-sklearn) or ``"l2"``.
        scaling: ``"minmax"`` (default), ``"standard"`` or ``"none"``.
        strategy: ``"best"`` (auto-sklearn v1: best configuration of each nearest task in turn)
            or ``"mean"`` (distance-weighted mean normalised rank over the ``n_neighbors``).

    Fitted attributes:
        scaler_: the :class:`MetaFeatureScaler`.
        neighbor_ids_: database tasks that have meta-features (the possible neighbours).
    """

    name = "knn"
    requires_meta_features = True

    def __init__(
        self,
        n_neighbors: int = 10,
        metric: str = "l1",
        scaling: str = "minmax",
        strategy: str = "best",
    ) -> None:
        self.n_neighbors = n_neighbors
        self.metric = metric
        self.scaling = scaling
        self.strategy = strategy

    def _check_params(self) -> None:
        if self.metric not in ("l1", "l2"):
            raise InputError(f"metric must be 'l1' or 'l2', got {self.metric!r}.")
        if self.strategy not in ("best", "mean"):
            raise InputError(f"strategy must be 'best' or 'mean', got {self.strategy!r}.")
        if not isinstance(self.n_neighbors, (int, np.integer)) or self.n_neighbors < 1:
            raise InputError(f"n_neighbors must be a positive int, got {self.n_neighbors!r}.")
        if self.scaling not in ("minmax", "standard", "none"):
            raise InputError(
                f"scaling must be 'minmax', 'standard' or 'none', got {self.scaling!r}."
            )

    def _fit(self) -> None:
        self._check_params()
        assert self.meta_features_ is not None  # checked by fit (requires_meta_features)
        feats = self.meta_features_
        common = self.task_ids_.intersection(feats.index, sort=False)
        if len(common) == 0:
            raise InputError(
                "no task of the performance matrix has meta-features (the index of "
                f"meta_features, e.g. {feats.index[:3].tolist()}, shares no id with the "
                f"performance matrix, e.g. {self.task_ids_[:3].tolist()}); check the task ids."
            )
        missing = len(self.task_ids_) - len(common)
        if missing:
            logger.info("%d of %d tasks have no meta-features; they cannot be neighbours",
                        missing, len(self.task_ids_))
        feats = feats.loc[common]
        self.scaler_ = MetaFeatureScaler(self.scaling).fit(feats)
        self._F = self.scaler_.transform(feats)
        self.neighbor_ids_ = pd.Index(common)
        self._rows = np.asarray(self.task_ids_.get_indexer(common))

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        from warmnas.warmstart._persist import index_info

        state = {
            "scaler_names": [str(n) for n in self.scaler_.names_],
            "scaler_names_index": index_info(self.scaler_.names_),
            "neighbor_ids": [str(t) for t in self.neighbor_ids_],
            "neighbor_index": index_info(self.neighbor_ids_),
        }
        arrays = {
            "offset": np.asarray(self.scaler_.offset_, dtype=np.float64),
            "scale": np.asarray(self.scaler_.scale_, dtype=np.float64),
            "fill": np.asarray(self.scaler_.fill_, dtype=np.float64),
            "features": np.asarray(self._F, dtype=np.float64),
            "rows": np.asarray(self._rows, dtype=np.int64),
        }
        return state, arrays

    def _set_state(self, reader: StateReader) -> None:
        from warmnas.warmstart._persist import make_index

        names = reader.ids("scaler_names")
        neighbors = reader.ids("neighbor_ids")
        n_features, n_neighbors = len(names), len(neighbors)
        scaler = MetaFeatureScaler(self.scaling)
        scaler.names_ = make_index(names, reader.state.get("scaler_names_index"))
        scaler.offset_ = reader.array("offset", (n_features,))
        scaler.scale_ = reader.array("scale", (n_features,))
        scaler.fill_ = reader.array("fill", (n_features,))
        self._F = reader.array("features", (n_neighbors, n_features))
        self._rows = reader.positions("rows", n_neighbors, len(self.task_ids_))
        self.scaler_ = scaler
        self.neighbor_ids_ = make_index(neighbors, reader.state.get("neighbor_index"))

    def _context(self, query: Any, nan_policy: str) -> Context:
        if query is None:
            raise InputError(
                f"the {self.name!r} warm starter needs the new task's meta-features; pass "
                "meta_features={name: value, ...} (see metafeatures.extract)."
            )
        q = check_query(query, self.scaler_.names_, allow_nan=nan_policy == "ignore")
        qs = np.full(len(self.scaler_.names_), np.nan)
        cols = self.scaler_.names_.get_indexer(q.index)
        qs[cols] = self.scaler_.transform(q, impute=False)
        d = distances(self._F, qs, self.metric)
        order = np.argsort(d, kind="stable")
        neighbors = pd.Series(d[order], index=self.neighbor_ids_[order], name="distance")
        neighbors.index.name = "task_id"
        return Context(query=q, neighbors=neighbors, data={"rows": self._rows[order]})

    def neighbor_order(self, ctx: Context) -> np.ndarray:
        """Configuration positions in this starter's order for the task of ``ctx``."""
        if "order" not in ctx.data:
            rows = ctx.data["rows"]
            if self.strategy == "best":
                ctx.data["order"] = interleaved_order(self._Y[rows])
            else:
                k = min(self.n_neighbors, len(rows))
                Yk = self._Y[rows[:k]]
                ranks = pd.DataFrame(Yk).rank(axis=1, pct=True, na_option="keep").to_numpy()
                dist = ctx.neighbors.to_numpy()[:k] if ctx.neighbors is not None else np.ones(k)
                w = 1.0 / (dist + 1e-9)
                with np.errstate(all="ignore"):
                    score = np.nansum(ranks * w[:, None], axis=0) / np.nansum(
                        np.where(np.isnan(ranks), 0.0, 1.0) * w[:, None], axis=0
                    )
                score = np.where(np.isnan(score), np.inf, score)
                ctx.data["order"] = np.argsort(score, kind="stable").astype(np.intp)
        return ctx.data["order"]  # type: ignore[no-any-return]

    def _next(
        self,
        ctx: Context,
        observed: np.ndarray,
        values: np.ndarray,
        pending: np.ndarray,
        available: np.ndarray,
        rng: np.random.Generator,
    ) -> int:
        order = self.neighbor_order(ctx)
        return int(order[available[order]][0])
