"""Cost-aware warm starts: predict each configuration's runtime on a new task, and propose what
fits in a time budget.

The meta-database stores what each evaluation cost (``performance_matrix(field="cost_s")``, in
seconds; Oboe's runtimes for the embedded database). :class:`RuntimePredictor` turns that matrix
into a runtime prediction for a new task:

* ``"size"`` (Oboe, Yang et al. 2019): per configuration, a least-squares fit of log runtime on a
  polynomial of the task's log size, ``1, log n, log p, (log n)^2, (log p)^2, log n * log p``
  (``n`` rows, ``p`` encoded columns), with a small ridge penalty;
* ``"knn"``: the geometric mean of the configuration's runtime over the nearest database tasks in
  meta-feature space (scaled as the kNN warm starter scales them, L1 distance);
* ``"size+knn"``: the size fit, corrected by the mean log residual of the nearest tasks (what the
  size law misses about tasks like this one);
* ``"median"``: each configuration's median runtime over the database tasks (the naive peer).

``"auto"`` uses ``"size+knn"`` when both the sizes and meta-features are there, else the one
available, else ``"median"``.

:class:`CostAwareSearch` wraps the ask/tell search of any warm starter with a time budget: it never
proposes a configuration predicted not to fit in the time left; kNN, portfolio and random search
keep their own order among the configurations that fit; PMF ranks them by expected improvement per
predicted second (Snoek, Larochelle & Adams 2012), ``log EI - log cost``. Measured runtimes
(``tell(..., cost_s=...)``) are charged to the budget and recalibrate the predictions (the
database's runtimes come from another machine): every prediction is multiplied by an estimated
machine factor. ``calibrate="mean"``: the shrunk geometric mean ratio measured / predicted over
the configurations told so far; ``calibrate="posterior"``: a conjugate normal posterior of the
log factor (prior ``N(0, PRIOR_LOG_SD^2)``, observation noise the predictor's cross-validated
log-error variance), planned with its posterior predictive (mean shifted by the factor, the
upper quantile widened by the factor's posterior variance).
"""

from __future__ import annotations

import logging
import math
import numbers
import warnings
from collections.abc import Mapping
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from warmnas.errors import InputError, InputTypeError, NotFittedError

if TYPE_CHECKING:
    from warmnas.warmstart.base import WarmStarter

logger = logging.getLogger(__name__)

__all__ = [
    "RuntimePredictor",
    "CostAwareSearch",
    "check_time_budget",
    "task_sizes",
    "size_design",
    "PREDICTOR_METHODS",
    "DEFAULT_FIT_PROBABILITY",
    "check_fit_probability",
    "CALIBRATIONS",
    "POSTERIOR_CALIBRATIONS",
    "DEFAULT_CALIBRATION",
    "PRIOR_LOG_SD",
    "check_calibrate",
]

#: methods of :class:`RuntimePredictor`
PREDICTOR_METHODS = ("auto", "size", "knn", "size+knn", "median")
#: default probability that a proposal finishes in the time left (``warm_start`` and
#: ``WarmStart.optimize`` with ``time_budget``): chosen on one grouped 10-fold split of Oboe
#: among 0.8 / 0.9 / 0.95 and the point predictions (docs/warmstart_cost.md)
DEFAULT_FIT_PROBABILITY = 0.95
#: the ways :class:`CostAwareSearch` learns the machine factor from measured costs
CALIBRATIONS = ("mean", "posterior", "posterior-late")
#: the calibrations that keep a normal posterior of the log factor (``"posterior-late"``: the
#: same posterior, its uncertainty widens the plan only once a run has been measured)
POSTERIOR_CALIBRATIONS = ("posterior", "posterior-late")
#: what ``calibrate=True`` means: ``"mean"``, kept by the pre-registered experiment of
#: docs/warmstart_cost.md (seed-2 split, 104 tasks): ``"posterior"`` was better on machines 4x
#: and 16x slower than the database's but worse at the smallest budget on an equal one; and by
#: the follow-up (seed-3 split): ``"posterior-late"`` was not better on the slower machines
DEFAULT_CALIBRATION = "mean"
#: prior standard deviation of the log machine factor (``calibrate="posterior"``): a user's
#: machine is within a factor 4 of the one the database's runtimes were measured on, either
#: way, with prior probability 0.95 (ln 4 / 1.96 = 0.707); see docs/warmstart_cost.md
PRIOR_LOG_SD = math.log(4.0) / NormalDist().inv_cdf(0.975)
#: a measured cost below this (seconds, the predictor's default floor) counts as this much
#: for calibration (a zero from a coarse timer would otherwise give log 0)
CALIBRATION_FLOOR_S = 1e-3
#: the two size columns the ``"size"`` law uses
SIZE_COLUMNS = ("n_rows", "n_columns")


def check_time_budget(time_budget: Any, arg: str = "time_budget") -> float | None:
    """``time_budget`` as a positive finite float, or None; else InputError naming ``arg``."""
    if time_budget is None:
        return None
    if isinstance(time_budget, (bool, np.bool_)) or not isinstance(
        time_budget, (numbers.Real, np.integer, np.floating)
    ):
        raise InputError(
            f"{arg} must be a number of seconds (a positive finite float) or None, got "
            f"{type(time_budget).__name__} {time_budget!r}."
        )
    value = float(time_budget)
    if not math.isfinite(value) or value <= 0:
        raise InputError(
            f"{arg} must be a positive finite number of seconds, got {value}; pass e.g. "
            f"{arg}=60 for one minute, or None for no time limit."
        )
    return value


def check_fit_probability(fit_probability: Any, arg: str = "fit_probability") -> float:
    """``fit_probability`` as a float in (0, 1), else InputError naming ``arg``."""
    if isinstance(fit_probability, (bool, np.bool_)) or not isinstance(
            fit_probability, (numbers.Real, np.integer, np.floating)):
        raise InputError(
            f"{arg} must be a probability in (0, 1) (e.g. 0.9: propose only what finishes in "
            f"the time left with probability >= 0.9), got {type(fit_probability).__name__} "
            f"{fit_probability!r}."
        )
    q = float(fit_probability)
    if not (0.0 < q < 1.0):
        raise InputError(
            f"{arg} must be a probability strictly between 0 and 1, got {q}; pass e.g. "
            f"{arg}=0.9, or None to plan at the point predictions."
        )
    return q


def check_calibrate(calibrate: Any, arg: str = "calibrate") -> str | None:
    """``calibrate`` resolved: one of :data:`CALIBRATIONS`, None for no calibration
    (False / None); True is :data:`DEFAULT_CALIBRATION`. Else InputError naming ``arg``."""
    if calibrate is None or calibrate is False:
        return None
    if calibrate is True:
        return DEFAULT_CALIBRATION
    if isinstance(calibrate, str) and calibrate in CALIBRATIONS:
        return calibrate
    raise InputError(
        f"{arg} must be one of True (the default rule, {DEFAULT_CALIBRATION!r}), False, "
        f"{', '.join(repr(c) for c in CALIBRATIONS)}, got {calibrate!r}; 'posterior' learns "
        "the machine factor as a normal posterior and widens the plan by its uncertainty, "
        "'posterior-late' does the same but widens only once a run has been measured, "
        "'mean' rescales by the shrunk geometric mean of measured / predicted."
    )


def _check_positive_finite(value: Any, arg: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (numbers.Real, np.integer, np.floating)) or not math.isfinite(
            float(value)) or float(value) <= 0:
        raise InputError(f"{arg} must be a positive finite number, got {value!r}.")
    return float(value)


def size_design(sizes: pd.DataFrame | np.ndarray) -> np.ndarray:
    """The design matrix of the ``"size"`` law for tasks of the given sizes.

    Args:
        sizes: ``n_tasks x 2``: rows ``n`` and encoded columns ``p`` (both >= 1).

    Returns:
        ``n_tasks x 6`` float64: ``1, log n, log p, (log n)^2, (log p)^2, log n log p``.
    """
    S = np.asarray(sizes, dtype=np.float64)
    ln, lp = np.log(S[:, 0]), np.log(S[:, 1])
    return np.column_stack([np.ones_like(ln), ln, lp, ln**2, lp**2, ln * lp])


def task_sizes(database: Any, tasks: Any = None) -> pd.DataFrame | None:
    """``n_rows`` and ``n_columns`` of the database's tasks, or None when it stores none.

    Read from ``tasks().info`` (``n_rows`` and ``n_encoded_columns``, as the Oboe importer stores
    them; ``n_columns`` / ``n_features`` are accepted too), else from the ``"autosklearn"``
    meta-features ``NumberOfInstances`` / ``NumberOfFeatures`` (raw, not one-hot encoded columns).

    Returns:
        DataFrame indexed by task id with columns ``n_rows``, ``n_columns`` (tasks without both
        left out), or None.
    """
    rows: dict[str, tuple[float, float]] = {}
    getter = getattr(database, "tasks", None)
    if callable(getter):
        try:
            table = getter()
            infos = table["info"] if "info" in table.columns else None
        except (KeyError, AttributeError):
            infos = None
        if infos is not None:
            for tid, info in infos.items():
                if not isinstance(info, Mapping):
                    continue
                n = info.get("n_rows")
                p = next((info[k] for k in ("n_encoded_columns", "n_columns", "n_features")
                          if k in info), None)
                if _positive(n) and _positive(p):
                    rows[str(tid)] = (float(n), float(p))  # type: ignore[arg-type]
    if not rows:
        try:
            feats = database.meta_features("autosklearn")
        except Exception:  # a database without meta-features: no sizes
            feats = None
        if feats is not None and {"NumberOfInstances", "NumberOfFeatures"} <= set(feats.columns):
            for tid, n, p in zip(feats.index, feats["NumberOfInstances"],
                                 feats["NumberOfFeatures"]):
                if _positive(n) and _positive(p):
                    rows[str(tid)] = (float(n), float(p))
    if not rows:
        return None
    out = pd.DataFrame.from_dict(rows, orient="index", columns=list(SIZE_COLUMNS))
    if tasks is not None:
        out = out.loc[out.index.intersection(pd.Index([str(t) for t in tasks]), sort=False)]
    return out


def _positive(v: Any) -> bool:
    try:
        return v is not None and math.isfinite(float(v)) and float(v) > 0
    except (TypeError, ValueError):
        return False


def query_sizes(n_rows: Any, n_columns: Any) -> np.ndarray:
    """Validated ``[n_rows, n_columns]`` of a new task (both positive finite)."""
    for name, v in (("n_rows", n_rows), ("n_columns", n_columns)):
        if not _positive(v):
            raise InputError(
                f"sizes: {name} must be a positive finite number, got {v!r}; pass the new "
                "task's number of rows and of (one-hot encoded) columns."
            )
    return np.array([float(n_rows), float(n_columns)])


class RuntimePredictor:
    """Predict every configuration's runtime (seconds) on a new task from a cost matrix.

    Args:
        method: ``"auto"`` (default), ``"size"`` (Oboe's per-configuration polynomial in log
            size), ``"knn"`` (geometric mean over the nearest tasks in meta-feature space),
            ``"size+knn"`` (the size law corrected by the neighbours' residuals) or
            ``"median"`` (per-configuration median over tasks).
        n_neighbors: neighbours of ``"knn"`` and ``"size+knn"``.
        ridge: ridge penalty of the size law (on the standardised design, intercept free).
        floor_s: predictions are at least this many seconds (a zero runtime would make
            "cost per second" infinite).
        cv_folds: folds of the cross-validated log errors behind :meth:`log_error_quantile`
            (the database tasks, split by position; computed only when asked for).

    Fitted attributes:
        config_ids_: ``pandas.Index`` of the configurations.
        coef_: ``n_configs x 6`` coefficients of the size law (None without sizes).
        log_median_: ``n_configs`` median log runtime.
        has_sizes_, has_meta_features_: what the predictor can use for a new task.
    """

    def __init__(self, method: str = "auto", n_neighbors: int = 10, ridge: float = 1e-3,
                 floor_s: float = 1e-3, cv_folds: int = 10) -> None:
        self.method = method
        self.n_neighbors = n_neighbors
        self.ridge = ridge
        self.floor_s = floor_s
        self.cv_folds = cv_folds

    # ---------------------------------------------------------------------------------- fit
    def fit(self, cost: pd.DataFrame, sizes: pd.DataFrame | None = None,
            meta_features: pd.DataFrame | None = None) -> RuntimePredictor:
        """Fit on the database's runtimes.

        Args:
            cost: ``n_tasks x n_configs`` seconds (index task ids, columns config ids; NaN
                where not measured; values > 0).
            sizes: ``n_tasks' x 2`` (``n_rows``, ``n_columns``) for tasks of ``cost``, or None.
            meta_features: ``n_tasks'' x n_features`` for ``"knn"``, or None.

        Returns:
            self

        Raises:
            InputError: bad parameters, an empty matrix, negative / infinite costs, a method
                whose data is not given.
            InputTypeError: ``cost`` is not a DataFrame.
        """
        if self.method not in PREDICTOR_METHODS:
            raise InputError(
                f"method must be one of {list(PREDICTOR_METHODS)}, got {self.method!r}."
            )
        if (isinstance(self.n_neighbors, bool) or not isinstance(self.n_neighbors, (int, np.integer))
                or self.n_neighbors < 1):
            raise InputError(f"n_neighbors must be a positive int, got {self.n_neighbors!r}.")
        if (isinstance(self.cv_folds, bool) or not isinstance(self.cv_folds, (int, np.integer))
                or self.cv_folds < 2):
            raise InputError(
                f"cv_folds must be an int >= 2 (the folds of the cross-validated errors that "
                f"log_error_quantile uses), got {self.cv_folds!r}."
            )
        for name in ("ridge", "floor_s"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise InputError(f"{name} must be a finite number >= 0, got {v!r}.")
        if not isinstance(cost, pd.DataFrame):
            raise InputTypeError(
                f"cost must be a pandas DataFrame (tasks x configurations, seconds), got "
                f"{type(cost).__name__}."
            )
        C = cost.to_numpy(dtype=np.float64)
        if C.size == 0 or np.isnan(C).all():
            raise InputError(
                "cost has no runtime (empty or all NaN); the meta-database stores no cost for "
                "this metric. Import runtimes (cost_s) or call without a time budget."
            )
        finite = C[~np.isnan(C)]
        if not np.isfinite(finite).all() or (finite < 0).any():
            raise InputError("cost must hold finite runtimes >= 0 seconds (NaN = not measured).")
        self.task_ids_ = pd.Index([str(t) for t in cost.index])
        self.config_ids_ = pd.Index([str(c) for c in cost.columns])
        self._logC = np.log(np.maximum(C, max(self.floor_s, 1e-12)))
        with np.errstate(all="ignore"):
            med = np.nanmedian(self._logC, axis=0)
        self.log_median_ = np.where(np.isnan(med), np.nanmedian(self._logC), med)

        self.coef_: np.ndarray | None = None
        self._size_rows: np.ndarray | None = None
        if sizes is not None:
            S = sizes.reindex(self.task_ids_)[list(SIZE_COLUMNS)].to_numpy(dtype=np.float64)
            ok = np.isfinite(S).all(axis=1) & (S > 0).all(axis=1)
            if ok.sum() >= 2:
                self._fit_size(S, ok)
        self.has_sizes_ = self.coef_ is not None

        self._scaler = None
        if meta_features is not None:
            from warmnas.warmstart.knn import MetaFeatureScaler

            feats = meta_features.copy()
            feats.index = pd.Index([str(t) for t in feats.index])
            feats = feats.loc[feats.index.intersection(self.task_ids_, sort=False)]
            feats = feats.loc[:, feats.notna().any(axis=0)]
            if feats.shape[0] and feats.shape[1]:
                self._scaler = MetaFeatureScaler("minmax").fit(feats)
                self._F = self._scaler.transform(feats)
                self._feat_rows = self.task_ids_.get_indexer(feats.index)
        self.has_meta_features_ = self._scaler is not None
        self._inputs = (cost, sizes, meta_features)
        self._cv_resid: dict[str, np.ndarray] = {}
        needs = {"size": self.has_sizes_, "knn": self.has_meta_features_,
                 "size+knn": self.has_sizes_ and self.has_meta_features_}
        if self.method in needs and not needs[self.method]:
            raise InputError(
                f"method {self.method!r} needs "
                f"{'the tasks sizes (n_rows, n_columns)' if 'size' in self.method else ''}"
                f"{' and ' if self.method == 'size+knn' else ''}"
                f"{'meta-features' if 'knn' in self.method else ''} of the database tasks; "
                "pass them to fit(), or use method='auto'."
            )
        return self

    def _fit_size(self, S: np.ndarray, ok: np.ndarray) -> None:
        X = size_design(S[ok])
        L = self._logC[ok]
        mu, sd = X[:, 1:].mean(axis=0), X[:, 1:].std(axis=0)
        sd = np.where(sd > 0, sd, 1.0)
        self._x_mu, self._x_sd = mu, sd
        Xs = np.column_stack([np.ones(len(X)), (X[:, 1:] - mu) / sd])
        n_configs = L.shape[1]
        coef = np.zeros((n_configs, Xs.shape[1]))
        pen = float(self.ridge) * np.eye(Xs.shape[1])
        pen[0, 0] = 0.0
        full = ~np.isnan(L).any(axis=0)
        if full.any():  # configurations measured on every sized task: one solve for all
            A = Xs.T @ Xs + pen * len(Xs)
            coef[full] = np.linalg.solve(A, Xs.T @ L[:, full]).T
        for j in np.flatnonzero(~full):
            m = ~np.isnan(L[:, j])
            if m.sum() < Xs.shape[1]:
                coef[j, 0] = self.log_median_[j]
                continue
            Xm = Xs[m]
            coef[j] = np.linalg.solve(Xm.T @ Xm + pen * m.sum(), Xm.T @ L[m, j])
        self.coef_ = coef
        # residuals of the database tasks, for "size+knn"
        rows = np.flatnonzero(ok)
        self._size_rows = rows
        resid = np.full_like(self._logC, np.nan)
        resid[rows] = L - Xs @ coef.T
        self._resid = resid

    def _check_fitted(self) -> None:
        if not hasattr(self, "config_ids_"):
            raise NotFittedError(
                "this RuntimePredictor is not fitted yet; call fit(cost, sizes, meta_features)."
            )

    # ------------------------------------------------------------------------------ predict
    def resolve_method(self, sizes: Any = None, meta_features: Any = None) -> str:
        """The method a prediction with these inputs uses (``"auto"`` resolved)."""
        self._check_fitted()
        has_s = sizes is not None and self.has_sizes_
        has_f = meta_features is not None and self.has_meta_features_
        if self.method != "auto":
            return self.method
        if has_s and has_f:
            return "size+knn"
        if has_s:
            return "size"
        if has_f:
            return "knn"
        return "median"

    def predict_log(self, sizes: Any = None, meta_features: Any = None) -> np.ndarray:
        """Predicted log runtime (natural log of seconds) of every configuration.

        Args:
            sizes: ``(n_rows, n_columns)`` of the new task, or None.
            meta_features: the new task's meta-features (name -> value), or None.

        Returns:
            ``n_configs`` float64, in the order of ``config_ids_``.

        Raises:
            InputError: the method needs sizes or meta-features that were not given.
        """
        method = self.resolve_method(sizes, meta_features)
        if method == "median":
            out = self.log_median_.copy()
        else:
            if "size" in method:
                if sizes is None or self.coef_ is None:
                    raise InputError(
                        f"method {method!r} needs the new task's sizes=(n_rows, n_columns)."
                    )
                out = self._size_log(np.atleast_1d(np.asarray(sizes, dtype=np.float64)))
            if "knn" in method:
                rows = self._neighbor_rows(meta_features)
                if method == "knn":
                    with np.errstate(all="ignore"):
                        nb = np.nanmean(self._logC[rows], axis=0)
                    out = np.where(np.isnan(nb), self.log_median_, nb)
                else:
                    sized = rows[np.isin(rows, self._size_rows if self._size_rows is not None
                                          else np.empty(0, dtype=np.intp))]
                    if len(sized):
                        with np.errstate(all="ignore"):
                            corr = np.nanmean(self._resid[sized], axis=0)
                        out = out + np.nan_to_num(corr)
        return np.maximum(out, math.log(max(self.floor_s, 1e-12)))

    def log_error_quantile(self, fit_probability: float, sizes: Any = None,
                           meta_features: Any = None, *, pooled: bool = False) -> np.ndarray:
        """The ``fit_probability`` quantile of this predictor's log error (true log runtime minus
        predicted), per configuration, for a prediction made with these inputs.

        The errors are the predictor's own cross-validated residuals on the database: the tasks
        are split into ``cv_folds`` groups, each predicted by the method :meth:`resolve_method`
        picks here, fitted on the other groups only (computed once per method, on first use).
        ``predict_log(...) + log_error_quantile(q, ...)`` is then a runtime the configuration
        stays under with probability about ``q`` on a task like the database's.

        Args:
            fit_probability: ``q`` in (0, 1).
            sizes, meta_features: as for :meth:`predict_log` (they select the method).
            pooled: one quantile over all configurations' errors (a cap at the fraction
                ``exp(-quantile)`` of the time left) instead of one per configuration.

        Returns:
            ``n_configs`` float64 (natural log); a configuration with fewer than 10 residuals
            gets the pooled quantile.

        Raises:
            InputError: ``fit_probability`` is not a number in (0, 1).
        """
        q = check_fit_probability(fit_probability)
        R = self._cv_residuals(self.resolve_method(sizes, meta_features))
        finite = R[~np.isnan(R)]
        if finite.size == 0:
            return np.zeros(len(self.config_ids_))
        pool = float(np.quantile(finite, q))
        if pooled:
            return np.full(len(self.config_ids_), pool)
        counts = (~np.isnan(R)).sum(axis=0)
        with warnings.catch_warnings():  # all-NaN columns: replaced by the pooled value
            warnings.simplefilter("ignore", RuntimeWarning)
            per = np.nanquantile(R, q, axis=0)
        return np.where(counts >= 10, per, pool)

    def log_error_variance(self, sizes: Any = None, meta_features: Any = None) -> float:
        """The variance of this predictor's cross-validated log errors (true log runtime minus
        predicted), pooled over configurations and tasks, for a prediction made with these
        inputs: the observation noise of the machine factor (``calibrate="posterior"``).

        Args:
            sizes, meta_features: as for :meth:`predict_log` (they select the method).

        Returns:
            A float >= 0 (natural log squared); ``PRIOR_LOG_SD ** 2`` when no error could be
            cross-validated.
        """
        R = self._cv_residuals(self.resolve_method(sizes, meta_features))
        finite = R[~np.isnan(R)]
        if finite.size < 2:
            return float(PRIOR_LOG_SD**2)
        return float(np.var(finite))

    def _cv_residuals(self, method: str) -> np.ndarray:
        """``n_tasks x n_configs`` cross-validated log residuals of ``method`` (NaN where a task
        lacks a runtime or the inputs the method needs)."""
        if method in self._cv_resid:
            return self._cv_resid[method]
        cost, sizes, feats = self._inputs
        tids = self.task_ids_
        S = None if sizes is None else sizes.reindex(tids)[list(SIZE_COLUMNS)]
        F = None
        if feats is not None:
            F = feats.copy()
            F.index = pd.Index([str(t) for t in F.index])
        R = np.full(self._logC.shape, np.nan)
        raw = cost.to_numpy(dtype=np.float64)
        k = min(int(self.cv_folds), len(tids))
        fold = np.arange(len(tids)) % k
        for f in range(k):
            test, train = np.flatnonzero(fold == f), fold != f
            try:
                sub = RuntimePredictor(method=method, n_neighbors=self.n_neighbors,
                                       ridge=self.ridge, floor_s=self.floor_s, cv_folds=2)
                sub.fit(cost.iloc[train], None if sizes is None else sizes,
                        None if F is None else F.drop(index=tids[~train], errors="ignore"))
            except InputError:
                continue
            for i in test:
                s = None
                if S is not None and np.isfinite(S.iloc[i].to_numpy()).all():
                    s = S.iloc[i].to_numpy()
                q = None
                if F is not None and tids[i] in F.index:
                    q = F.loc[tids[i]].dropna()
                    q = q if len(q) else None
                if ("size" in method and s is None) or ("knn" in method and q is None):
                    continue
                ok = ~np.isnan(raw[i])
                R[i, ok] = self._logC[i, ok] - sub.predict_log(s, q)[ok]
        self._cv_resid[method] = R
        return R

    def predict(self, sizes: Any = None, meta_features: Any = None) -> pd.Series:
        """Predicted runtime in seconds of every configuration (Series indexed by config id).

        See :meth:`predict_log` for the arguments.
        """
        return pd.Series(np.exp(self.predict_log(sizes, meta_features)), index=self.config_ids_,
                         name="predicted_cost_s")

    def _size_log(self, s: np.ndarray) -> np.ndarray:
        q = query_sizes(s[0], s[1]) if len(s) == 2 else query_sizes(None, None)
        x = size_design(q[None, :])[0]
        xs = np.concatenate([[1.0], (x[1:] - self._x_mu) / self._x_sd])
        assert self.coef_ is not None
        return self.coef_ @ xs  # type: ignore[no-any-return]

    def _neighbor_rows(self, meta_features: Any) -> np.ndarray:
        from warmnas.warmstart._validation import check_query
        from warmnas.warmstart.knn import distances

        if meta_features is None or self._scaler is None:
            raise InputError("method 'knn' needs the new task's meta_features.")
        q = check_query(pd.Series(meta_features) if not isinstance(meta_features, pd.Series)
                        else meta_features, self._scaler.names_, allow_nan=True)
        qs = np.full(len(self._scaler.names_), np.nan)
        qs[self._scaler.names_.get_indexer(q.index)] = self._scaler.transform(q, impute=False)
        d = distances(self._F, qs, "l1")
        order = np.argsort(d, kind="stable")[: int(self.n_neighbors)]
        return np.asarray(self._feat_rows[order])


# --------------------------------------------------------------------------- the search
class CostAwareSearch:
    """Ask/tell search under a time budget, on top of a warm starter's :class:`Search`.

    Create it with :func:`cost_aware_search` (or ``WarmStart.start(time_budget=...)``).

    Args:
        search: the starter's ask/tell search for the new task.
        log_cost: predicted log runtime (seconds) of every configuration, ``n_configs``.
        time_budget: seconds available, or None (no limit: then only the PMF acquisition
            becomes expected improvement per second).
        calibrate: how the measured costs rescale the predictions by a machine factor ``f``
            common to all configurations (every runtime on the user's machine is off from the
            database's by about the same factor: other hardware, BLAS, load).
            ``"mean"``: ``log f = sum(r) / (n + 1)`` over the log ratios
            ``r = log measured - log predicted`` told so far (the shrunk geometric mean).
            ``"posterior"``: ``log f ~ N(m, v)``, the conjugate normal posterior from the
            prior ``N(0, prior_log_sd^2)`` and observations ``r ~ N(log f,
            log_error_var)``; the plan uses the posterior predictive: predictions shifted by
            ``m``, and with ``fit_probability`` the margin widened by
            ``z_q (sqrt(log_error_var + v) - sqrt(log_error_var))`` (:attr:`widening`).
            ``"posterior-late"``: the same posterior, but no widening before the first
            measured run (the first proposal is planned exactly as ``"mean"`` plans it).
            True: :data:`DEFAULT_CALIBRATION`; False / None: no calibration.
        log_margin: added to the (calibrated) predicted log runtimes when deciding what fits,
            ``n_configs`` or a scalar, or None (0: plan at the point predictions). With
            :meth:`RuntimePredictor.log_error_quantile` ``(q)`` a configuration is proposed only
            when it finishes in the time left with probability about ``q``; the order (and
            PMF's cost per second) still uses the point predictions.
        fit_probability: the probability ``q`` that ``log_margin`` stands for (the posterior
            rule widens the margin by the factor's uncertainty at this ``q``), or None (no
            widening: the point rule).
        log_error_var: the observation noise of the posterior rule, the variance of the
            predictor's log errors (:meth:`RuntimePredictor.log_error_variance`); None:
            ``prior_log_sd ** 2``.
        prior_log_sd: prior standard deviation of the log factor (:data:`PRIOR_LOG_SD`).

    Measured costs that are not numbers, NaN, infinite or negative raise InputError and
    change nothing. A failed run (value NaN) is charged to the budget but does not update the
    factor (its time says nothing about the configuration's runtime). A cost below
    :data:`CALIBRATION_FLOOR_S` counts as that much for the factor.

    Attributes:
        spent_s: seconds charged so far (measured costs told, or predicted ones with ``plan``).
    """

    def __init__(self, search: Any, log_cost: np.ndarray, time_budget: float | None = None,
                 *, calibrate: bool | str | None = True, log_margin: Any = None,
                 fit_probability: float | None = None, log_error_var: float | None = None,
                 prior_log_sd: float = PRIOR_LOG_SD) -> None:
        self.search = search
        n = len(search.starter.config_ids_)
        self._log_cost0 = np.asarray(log_cost, dtype=np.float64)
        if self._log_cost0.shape != (n,):
            raise InputError(
                f"log_cost must have one value per configuration ({n}), got shape "
                f"{self._log_cost0.shape}."
            )
        margin = np.zeros(n) if log_margin is None else np.asarray(log_margin, dtype=np.float64)
        if margin.ndim == 0:
            margin = np.full(n, float(margin))
        if margin.shape != (n,) or not np.isfinite(margin).all():
            raise InputError(
                f"log_margin must be None, a finite number or one finite value per "
                f"configuration ({n}), got shape {margin.shape}"
                f"{'' if np.isfinite(margin).all() else ' with non-finite values'}."
            )
        self.log_margin = margin
        self.time_budget = check_time_budget(time_budget)
        self.calibrate = calibrate
        self.calibration = check_calibrate(calibrate)
        self.fit_probability = (None if fit_probability is None
                                else check_fit_probability(fit_probability))
        self.prior_log_sd = _check_positive_finite(prior_log_sd, "prior_log_sd")
        self.log_error_var = (self.prior_log_sd**2 if log_error_var is None
                              else _check_positive_finite(log_error_var, "log_error_var"))
        self.spent_s = 0.0
        self._ratios: list[float] = []
        self._costs: dict[int, float] = {}
        self._factor_after: dict[int, tuple[float, float]] = {}

    @property
    def starter(self) -> WarmStarter:
        return self.search.starter  # type: ignore[no-any-return]

    @property
    def remaining_s(self) -> float:
        """Seconds left (inf without a budget)."""
        return math.inf if self.time_budget is None else max(self.time_budget - self.spent_s, 0.0)

    @property
    def log_factor_mean(self) -> float:
        """Estimated log machine factor (0 before any measurement or without calibration)."""
        n = len(self._ratios)
        if self.calibration is None or n == 0:
            return 0.0
        if self.calibration == "mean":
            return float(np.sum(self._ratios)) / (n + 1.0)  # shrunk towards 0
        return float(np.sum(self._ratios)) / self.log_error_var * self.log_factor_var

    @property
    def log_factor_var(self) -> float:
        """Posterior variance of the log machine factor (``"posterior"``; NaN for the other
        rules, which keep no uncertainty)."""
        if self.calibration not in POSTERIOR_CALIBRATIONS:
            return math.nan
        return 1.0 / (1.0 / self.prior_log_sd**2 + len(self._ratios) / self.log_error_var)

    @property
    def machine_factor(self) -> float:
        """Estimated measured / predicted runtime on this machine, ``exp(log_factor_mean)``."""
        return math.exp(self.log_factor_mean)

    @property
    def widening(self) -> float:
        """What the posterior rule adds to the log margin for the factor's uncertainty:
        ``z_q (sqrt(s^2 + v) - s)`` with ``s^2`` the log-error variance and ``v`` the factor's
        posterior variance (0 for the other rules or without ``fit_probability``, and for
        ``"posterior-late"`` before the first measured run)."""
        if self.calibration not in POSTERIOR_CALIBRATIONS or self.fit_probability is None:
            return 0.0
        if self.calibration == "posterior-late" and not self._ratios:
            return 0.0
        z = NormalDist().inv_cdf(self.fit_probability)
        s2 = self.log_error_var
        return float(z * (math.sqrt(s2 + self.log_factor_var) - math.sqrt(s2)))

    @property
    def log_cost(self) -> np.ndarray:
        """Current predicted log runtimes (calibrated by the measured ones)."""
        shift = self.log_factor_mean
        return self._log_cost0 if shift == 0.0 else self._log_cost0 + shift

    @property
    def upper_log_cost(self) -> np.ndarray:
        """The log runtimes a configuration must fit the time left with: calibrated
        predictions plus the margin (and the posterior rule's widening)."""
        return self.log_cost + self.log_margin + self.widening

    def predicted_cost_s(self, config_id: str) -> float:
        """Current predicted runtime (seconds) of one configuration."""
        pos = int(self.starter._config_positions([config_id])[0])
        return float(np.exp(self.log_cost[pos]))

    def fits(self) -> np.ndarray:
        """Bool mask: configurations still available and predicted to fit in the time left."""
        mask = np.asarray(self.search.available, dtype=bool).copy()
        if self.time_budget is not None:
            mask &= np.exp(self.upper_log_cost) <= self.remaining_s * (1 + 1e-9)
        return mask

    def ask_position(self) -> int | None:
        """The next configuration's position, or None when none is predicted to fit."""
        mask = self.fits()
        if not mask.any():
            return None
        return self.search._propose(mask, self.log_cost)

    def ask(self) -> str | None:
        """The next configuration id, or None when none is predicted to fit in the time left."""
        pos = self.ask_position()
        return None if pos is None else str(self.starter.config_ids_[pos])

    def tell(self, config_id: str, value: float, cost_s: float | None = None) -> None:
        """Report a result and (optionally) its measured runtime, charged to the budget.

        Raises:
            InputError: a negative / non-finite ``cost_s`` (nothing is changed then); see
                ``Search.tell`` for the rest.
        """
        if cost_s is not None:
            c = check_cost(cost_s, config_id)
        pos = int(self.starter._config_positions([config_id])[0])
        self.search.tell(config_id, value)
        if cost_s is not None:
            self.spent_s += c
            self._costs[pos] = c
            failed = isinstance(value, (numbers.Real, np.floating)) and math.isnan(float(value))
            if not failed:
                self._ratios.append(math.log(max(c, CALIBRATION_FLOOR_S))
                                    - float(self._log_cost0[pos]))
            self._factor_after[pos] = (self.log_factor_mean, self.log_factor_var)

    @property
    def history(self) -> pd.DataFrame:
        """The search's history plus ``cost_s`` (measured, NaN where not told) and
        ``cumulative_cost_s``; with calibration also ``machine_factor`` (the estimate after
        that evaluation), and for ``"posterior"`` its central 95 % interval
        ``machine_factor_low`` / ``machine_factor_high``."""
        hist = self.search.history
        observed = list(self.search._observed)
        costs = np.array([self._costs.get(p, np.nan) for p in observed], dtype=np.float64)
        hist = hist.assign(cost_s=costs, cumulative_cost_s=np.nancumsum(costs))
        if self.calibration is None:
            return hist
        nan = (math.nan, math.nan)
        m = np.array([self._factor_after.get(p, nan)[0] for p in observed], dtype=np.float64)
        hist = hist.assign(machine_factor=np.exp(m))
        if self.calibration in POSTERIOR_CALIBRATIONS:
            v = np.array([self._factor_after.get(p, nan)[1] for p in observed],
                         dtype=np.float64)
            half = NormalDist().inv_cdf(0.975) * np.sqrt(v)
            hist = hist.assign(machine_factor_low=np.exp(m - half),
                               machine_factor_high=np.exp(m + half))
        return hist

    def plan(self, n_configs: int) -> list[int]:
        """Up to ``n_configs`` proposals charged at their predicted cost (nothing measured):
        what fits in the budget if the predictions are right."""
        picks: list[int] = []
        for _ in range(int(n_configs)):
            pos = self.ask_position()
            if pos is None:
                break
            picks.append(pos)
            self.spent_s += float(np.exp(self.log_cost[pos]))
        return picks


def check_cost(cost_s: Any, config_id: str) -> float:
    """A measured runtime as a float >= 0, else InputError naming the configuration."""
    if isinstance(cost_s, (bool, np.bool_)) or not isinstance(
            cost_s, (numbers.Real, np.integer, np.floating)):
        raise InputError(
            f"cost_s must be a number of seconds, got {type(cost_s).__name__} {cost_s!r} for "
            f"configuration {config_id!r}."
        )
    c = float(cost_s)
    if not math.isfinite(c) or c < 0:
        raise InputError(
            f"cost_s must be a finite number of seconds >= 0, got {c} for configuration "
            f"{config_id!r}."
        )
    return c


def cost_aware_search(search: Any, predicted_cost_s: pd.Series,
                      time_budget: float | None,
                      upper_cost_s: pd.Series | None = None, *,
                      calibrate: bool | str | None = True,
                      fit_probability: float | None = None,
                      log_error_var: float | None = None) -> CostAwareSearch:
    """Wrap ``search`` with predictions given per config id (aligned to the starter's ids).

    Args:
        upper_cost_s: per config id, the runtime to plan with when deciding what fits (e.g.
            :func:`predict_costs` with ``fit_probability``), or None (the point predictions).
        calibrate, fit_probability, log_error_var: see :class:`CostAwareSearch`
            (``fit_probability``: the probability ``upper_cost_s`` stands for).

    Raises:
        InputError: a configuration of the starter has no prediction; bad calibration
            settings.
    """
    log_cost = _aligned_log(search, predicted_cost_s, "predicted_cost_s")
    margin = None
    if upper_cost_s is not None:
        margin = _aligned_log(search, upper_cost_s, "upper_cost_s") - log_cost
    return CostAwareSearch(search, log_cost, time_budget, log_margin=margin,
                           calibrate=calibrate, fit_probability=fit_probability,
                           log_error_var=log_error_var)


def _aligned_log(search: Any, costs: pd.Series, arg: str) -> np.ndarray:
    ids = search.starter.config_ids_
    pred = costs.reindex(ids)
    if pred.isna().any():
        missing = ids[pred.isna().to_numpy()][:5].tolist()
        raise InputError(f"{arg}: no predicted cost for configurations {missing}.")
    return np.log(np.maximum(pred.to_numpy(dtype=np.float64), 1e-12))


# ---------------------------------------------------------------------- warm_start helpers
def dataset_size(X: Any, categorical: Any = None) -> tuple[float, float] | None:
    """``(n_rows, n_columns)`` of a dataset as the Oboe runtimes count them: columns after
    one-hot encoding (a numeric column counts 1, a categorical one its number of categories).

    Args:
        X: a DataFrame, a 2-D array, or anything with ``shape``.
        categorical: column names / positions / a bool mask of the categorical columns of an
            array (a DataFrame's non-numeric columns are categorical anyway).

    Returns:
        ``(n_rows, n_columns)``, or None when ``X`` has no 2-D shape.
    """
    shape = getattr(X, "shape", None)
    if shape is None or len(shape) != 2 or shape[0] < 1 or shape[1] < 1:
        return None
    n_rows = float(shape[0])
    if isinstance(X, pd.DataFrame):
        cats = set()
        if categorical is not None and not isinstance(categorical, str):
            given = list(categorical)
            if len(given) == X.shape[1] and all(isinstance(v, (bool, np.bool_)) for v in given):
                cats = {c for c, v in zip(X.columns, given) if v}
            else:
                cats = {c for c in given if c in X.columns}
        n_cols = 0
        for j, col in enumerate(X.columns):
            s = X.iloc[:, j]
            if col in cats or not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
                n_cols += max(int(s.nunique(dropna=True)), 1)
            else:
                n_cols += 1
        return n_rows, float(max(n_cols, 1))
    if isinstance(X, np.ndarray) and X.ndim == 2:
        if X.dtype.kind in "OUS":
            cat_pos = set(range(X.shape[1]))
        else:
            given = [] if categorical is None or isinstance(categorical, str) else list(
                categorical)
            if len(given) == X.shape[1] and all(isinstance(v, (bool, np.bool_)) for v in given):
                cat_pos = {j for j, v in enumerate(given) if v}
            else:
                cat_pos = {int(v) for v in given if isinstance(v, (int, np.integer))
                           and 0 <= int(v) < X.shape[1]}
        n_cols = sum(max(len(pd.unique(X[:, j])), 1) if j in cat_pos else 1
                     for j in range(X.shape[1]))
        return n_rows, float(max(n_cols, 1))
    return n_rows, float(shape[1])


def query_size_from_meta_features(query: pd.Series | None) -> tuple[float, float] | None:
    """``(NumberOfInstances, NumberOfFeatures)`` of given meta-features, when both are there
    (raw, not one-hot encoded, columns: an approximation of the encoded size)."""
    if query is None:
        return None
    n, p = query.get("NumberOfInstances"), query.get("NumberOfFeatures")
    if _positive(n) and _positive(p):
        return float(n), float(p)
    return None


def fit_runtime_predictor(database: Any, metric: str, space: str | None, config_ids: Any, *,
                          query: pd.Series | None = None
                          ) -> tuple[RuntimePredictor, pd.Series | None] | None:
    """A :class:`RuntimePredictor` fitted on the database's costs of ``config_ids``, and the
    part of ``query`` it can use, or None when the database stores no cost for this metric.

    Args:
        database: the meta-database (``performance_matrix(..., field="cost_s")``, ``tasks()``,
            ``meta_features("autosklearn")``).
        metric, space: the matrix whose costs are used.
        config_ids: the configurations to predict (the starter's).
        query: the new task's meta-features, or None.

    Returns:
        ``(predictor, query restricted to the database's meta-features or None)``, or None.
    """
    ids = pd.Index([str(c) for c in config_ids])
    try:
        cost = database.performance_matrix(metric, space=space, field="cost_s")
    except (KeyError, TypeError):
        return None
    cost = cost.reindex(columns=ids).dropna(how="all")
    if cost.shape[0] == 0 or cost.isna().all().all():
        return None
    sizes = task_sizes(database, cost.index)
    feats = None
    if query is not None and len(query):
        try:
            feats = database.meta_features("autosklearn")
        except Exception:  # no meta-features: the size law alone
            feats = None
        if feats is not None:
            feats = feats.loc[:, feats.columns.intersection(query.index)]
            feats = feats if feats.shape[1] else None
    predictor = RuntimePredictor().fit(cost, sizes, feats)
    q = None
    if query is not None and feats is not None:
        q = query[query.index.isin(feats.columns)].dropna()
        q = q if len(q) else None
    return predictor, q


def predict_costs(database: Any, metric: str, space: str | None, config_ids: Any, *,
                  size: tuple[float, float] | None = None,
                  query: pd.Series | None = None,
                  fit_probability: float | None = None,
                  fitted: tuple[RuntimePredictor, pd.Series | None] | None = None,
                  ) -> pd.Series | None:
    """Predicted runtime (seconds) of every configuration on the new task, from the database's
    costs, or None when the database stores no cost for this metric.

    Args:
        database: the meta-database (``performance_matrix(..., field="cost_s")``, ``tasks()``,
            ``meta_features("autosklearn")``).
        metric, space: the matrix whose costs are used.
        config_ids: the configurations to predict (the starter's).
        size: the new task's ``(n_rows, n_columns)``, or None.
        query: the new task's meta-features, or None.
        fit_probability: None (default): the point predictions; ``q`` in (0, 1): the runtime
            each configuration stays under with probability ``q`` (the point prediction times
            the ``q`` quantile of the predictor's cross-validated errors,
            :meth:`RuntimePredictor.log_error_quantile`).
        fitted: the result of :func:`fit_runtime_predictor` for the same arguments, to reuse
            (several calls fit the predictor once); None fits it here.

    Returns:
        Series indexed by ``config_ids``, seconds, or None.
    """
    if fitted is None:
        fitted = fit_runtime_predictor(database, metric, space, config_ids, query=query)
        if fitted is None:
            return None
    predictor, q = fitted
    method = predictor.resolve_method(size, q)
    logger.info("runtime prediction: method %r (%s)", method,
                "sizes " + str(size) if size else "no sizes")
    point = predictor.predict(size, q)
    if fit_probability is None:
        return point
    margin = predictor.log_error_quantile(fit_probability, size, q)
    return (point * np.exp(margin)).rename("upper_cost_s")


def fitted_log_error_variance(fitted: tuple[RuntimePredictor, pd.Series | None],
                              size: tuple[float, float] | None = None) -> float:
    """:meth:`RuntimePredictor.log_error_variance` of a :func:`fit_runtime_predictor` result
    for a new task of this size (the observation noise of ``calibrate="posterior"``)."""
    predictor, q = fitted
    return predictor.log_error_variance(size, q)


def suggest_within_budget(starter: WarmStarter, query: Any, n_configs: int,
                          predicted_cost_s: pd.Series, time_budget: float, *,
                          observed: Mapping[str, float] | None = None,
                          nan_policy: str = "error", random_state: Any = 0,
                          upper_cost_s: pd.Series | None = None,
                          calibrate: bool | str | None = True,
                          fit_probability: float | None = None,
                          log_error_var: float | None = None) -> Any:
    """Like ``starter.suggest`` under a time budget: proposals in the cost-aware search's order,
    each charged at its predicted cost, as long as the next one is predicted to fit (so the
    proposals' predicted costs sum to at most ``time_budget``; there may be fewer than
    ``n_configs``).

    ``upper_cost_s`` (per config id, or None): what a configuration must fit in the time left
    with (e.g. ``predict_costs(..., fit_probability=q)``); it is still charged at its point
    prediction. ``calibrate``, ``fit_probability``, ``log_error_var``: see
    :class:`CostAwareSearch` (nothing is measured here, so only the posterior rule's prior
    widening plays a part).

    Returns:
        A :class:`~warmnas.warmstart.base.Suggestion`.

    Raises:
        InputError: ``time_budget`` is smaller than every configuration's predicted cost.
    """
    search = starter.start(query, nan_policy=nan_policy, random_state=random_state)
    for cid, val in (observed or {}).items():
        search.tell(cid, val)
    cas = cost_aware_search(search, predicted_cost_s, time_budget, upper_cost_s,
                            calibrate=calibrate, fit_probability=fit_probability,
                            log_error_var=log_error_var)
    check_budget_fits(cas, "time_budget")
    picks = cas.plan(n_configs)
    if len(picks) < n_configs:
        logger.info("time budget %.4g s: %d of the %d configurations asked for are predicted to "
                    "fit", time_budget, len(picks), n_configs)
    return starter._suggestion(search, picks)


def check_budget_fits(cas: CostAwareSearch, arg: str) -> None:
    """InputError naming ``arg`` when no available configuration is predicted to fit."""
    if cas.fits().any() or cas.time_budget is None:
        return
    avail = np.asarray(cas.search.available, dtype=bool)
    if not avail.any():
        raise InputError("no configuration left to propose.")
    upper = cas.upper_log_cost
    cheapest = float(np.exp(upper[avail].min()))
    what = ("predicted runtime" if not cas.log_margin.any() and not cas.widening
            else "predicted runtime (with its margin for prediction error)")
    raise InputError(
        f"{arg}={cas.time_budget:g} s is smaller than every configuration's {what} "
        f"on this dataset (the cheapest is predicted to take {cheapest:.3g} s); raise {arg} to "
        f"at least {cheapest:.3g} s, or drop it for no time limit."
    )
