"""``warm_start(dataset)``: the configurations to try first on a new dataset, and the loop after.

Example::

    import warmnas
    ws = warmnas.warm_start(X, y, n_configs=10)           # kNN over the embedded meta-database
    ws.to_frame()                                        # ranked configs, predicted score / std
    for est in ws.estimators():                          # Oboe space: scikit-learn pipelines
        est.fit(X_train, y_train)
    ws.to_optuna(study)                                  # enqueue_trial for each config
    history = ws.optimize(objective, budget=25)          # keep going: BO on the PMF posterior

The dataset can be ``(X, y)``, a DataFrame with ``target=``, ``"openml:<dataset id>"`` read from an
OpenML cache folder, or nothing but precomputed ``meta_features`` (auto-sklearn names, the view of
the meta-database). The meta-database defaults to the one embedded in the package.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from warmnas._io import user_cache_dir as _cache_dir
from warmnas._random import RandomState
from warmnas.errors import InputError, InputTypeError, MissingDataError, UnknownIdError
from warmnas.warmstart import METHODS, make_starter
from warmnas.warmstart.base import WarmStarter

if TYPE_CHECKING:
    from warmnas.metadb import MetaDatabase
    from warmnas.warmstart.bo import Search

logger = logging.getLogger(__name__)

__all__ = ["warm_start", "WarmStart", "estimators", "compute_meta_features", "AlphaPriorHook"]

#: signature of the NAS hook that fills ``WarmStart.alpha_prior``:
#: ``hook(db, neighbors, meta_features) -> alpha prior or None``
AlphaPriorHook = Callable[["MetaDatabase", "pd.Series | None", "pd.Series | None"], Any]

#: configuration spaces whose tasks are image datasets searched by NAS: ``warm_start`` fills
#: ``WarmStart.alpha_prior`` for them (MetaNAS-style warm start of DARTS) and proposes their
#: configurations (architectures) with a zero-shot portfolio when the database has evaluations.
NAS_SPACES = ("darts", "nb201")


def estimators(config: Mapping[str, Any], random_state: int | None = 0, *,
               preprocessing: bool = False) -> Any:
    """The scikit-learn estimator of one Oboe-space configuration.

    Args:
        config: ``{"algorithm": "RF", "RF:criterion": "gini", ...}`` (the meta-database's flat
            form) or Oboe's ``{"algorithm": ..., "hyperparameters": {...}}``.
        random_state: passed to estimators that take one.
        preprocessing: also impute / scale / one-hot encode (a ``Pipeline`` that fits on a raw
            DataFrame); without it, the bare classifier.

    Returns:
        An unfitted scikit-learn estimator.

    Raises:
        ConfigSpaceError: not an Oboe configuration.
        InputTypeError: ``random_state`` is not None or an int in [0, 2**32).
    """
    from warmnas.warmstart.estimators import make_classifier, make_estimator

    if preprocessing:
        return make_estimator(config, random_state)
    return make_classifier(config, random_state)


@dataclass
class WarmStart:
    """Configurations proposed for a new task, best first, with what explains them.

    Attributes:
        configs: configuration dicts, best first.
        config_ids: their ids in the meta-database.
        scores: predicted value of each in the metric's own scale and direction.
        stddev: predicted standard deviation of each.
        neighbors: nearest database tasks (index task id, values distance, ascending; the 10
            nearest), or None.
        method: ``"knn"``, ``"pmf"``, ``"portfolio"`` or ``"random"``.
        metric: the metric of the meta-database that was used.
        direction: ``"minimize"`` or ``"maximize"``.
        meta_features: the new task's meta-features used (None for portfolio / random).
        alpha_prior: NAS architecture-weight prior (filled by an ``alpha_prior_hook``; None for
            tabular spaces).
        space: the configuration space name(s) of the configs, when known.
        last_search: the ask/tell :class:`~warmnas.warmstart.bo.Search` of the latest
            :meth:`optimize` call (None before): if the objective raised or the run was
            interrupted, the results so far are in ``last_search.history``.
        time_budget: the ``time_budget`` (seconds) the configs were chosen for, or None.
        predicted_cost_s: predicted runtime (seconds) of each config on this dataset, from
            the database's costs (``warmnas.warmstart.cost``); None when the database has no
            costs. Read it through :meth:`to_frame` (computed there on first use).
    """

    configs: list[dict[str, Any]]
    config_ids: list[str]
    scores: np.ndarray
    stddev: np.ndarray
    neighbors: pd.Series | None
    method: str
    metric: str | None
    direction: str
    meta_features: pd.Series | None = None
    alpha_prior: Any = None
    space: str | None = None
    last_search: Search | None = field(default=None, repr=False, compare=False)
    _starter: WarmStarter | None = field(default=None, repr=False, compare=False)
    _observed: dict[str, float] = field(default_factory=dict, repr=False, compare=False)
    _resolver: Callable[[str], dict[str, Any]] | None = field(
        default=None, repr=False, compare=False
    )
    time_budget: float | None = None
    predicted_cost_s: np.ndarray | None = field(default=None, repr=False, compare=False)
    #: all configurations' predicted costs (computed on first use), and how to compute them
    _costs: pd.Series | None = field(default=None, repr=False, compare=False)
    _cost_source: Callable[..., pd.Series | None] | None = field(
        default=None, repr=False, compare=False
    )
    #: the runtime predictor's log-error variance (calibrate="posterior"), computed on use
    _cost_error_var: Callable[[], float | None] | None = field(
        default=None, repr=False, compare=False
    )

    def __len__(self) -> int:
        return len(self.config_ids)

    def to_frame(self) -> pd.DataFrame:
        """One row per configuration: ``rank``, ``config_id``, ``score``, ``stddev``,
        ``predicted_cost_s`` (seconds; only when the database stores costs), then the
        configuration's hyperparameters as columns (NaN where one does not apply)."""
        base = pd.DataFrame(
            {
                "rank": np.arange(1, len(self.config_ids) + 1),
                "config_id": self.config_ids,
                "score": np.asarray(self.scores, dtype=float),
                "stddev": np.asarray(self.stddev, dtype=float),
            }
        )
        if self.predicted_cost_s is None and self.config_ids:
            costs = self.all_predicted_costs(required=False)
            if costs is not None:
                self.predicted_cost_s = costs.reindex(self.config_ids).to_numpy(dtype=float)
        if self.predicted_cost_s is not None:
            base["predicted_cost_s"] = np.asarray(self.predicted_cost_s, dtype=float)
        params = pd.DataFrame([dict(c) for c in self.configs])
        params = params.loc[:, [c for c in params.columns if c not in base.columns]]
        return pd.concat([base, params], axis=1)

    def to_optuna(self, study: Any, *, skip_if_exists: bool = True) -> int:
        """Enqueue every configuration as a trial of an Optuna study (best first).

        The parameters are the configuration dict (so the objective must ask for the same
        names, e.g. ``trial.suggest_categorical("algorithm", [...])``); the config id goes into
        the trial's user attribute ``"warmnas_config_id"``.

        Args:
            study: an ``optuna.Study``.
            skip_if_exists: passed to ``study.enqueue_trial`` (no duplicate of a trial already
                in the study).

        Returns:
            The number of trials added to the study (configurations already in it are not
            added again when ``skip_if_exists``).
        """
        if not hasattr(study, "enqueue_trial"):
            raise InputTypeError(
                f"study must be an optuna.Study (with enqueue_trial), got {type(study).__name__}."
            )
        before = len(study.get_trials(deepcopy=False)) if hasattr(study, "get_trials") else 0
        for cid, cfg in zip(self.config_ids, self.configs):
            study.enqueue_trial(
                dict(cfg), user_attrs={"warmnas_config_id": cid}, skip_if_exists=skip_if_exists
            )
        if not hasattr(study, "get_trials"):
            return len(self.configs)
        return len(study.get_trials(deepcopy=False)) - before

    def to_smac_initial_design(self, configspace: Any = None) -> list[Any]:
        """Configurations for SMAC3's initial design.

        Without ``configspace``: a list of dicts. With a ``ConfigSpace.ConfigurationSpace``:
        ``ConfigSpace.Configuration`` objects, ready for
        ``HPOFacade.get_initial_design(scenario, additional_configs=...)``. SMAC and
        ConfigSpace are not dependencies of warmnas; they are imported only here.

        Raises:
            ConfigSpaceError: a configuration is not valid in ``configspace``.
        """
        if configspace is None:
            return [dict(c) for c in self.configs]
        from ConfigSpace import Configuration

        from warmnas.errors import ConfigSpaceError

        out = []
        for cid, cfg in zip(self.config_ids, self.configs):
            try:
                out.append(Configuration(configspace, values=dict(cfg)))
            except Exception as exc:  # ConfigSpace raises several types for invalid values
                raise ConfigSpaceError(
                    f"configuration {cid} {dict(cfg)} is not valid in the given ConfigSpace: "
                    f"{exc}"
                ) from exc
        return out

    def to_syne_tune(self) -> list[dict[str, Any]]:
        """``points_to_evaluate`` for a Syne Tune scheduler (a list of config dicts, best first)."""
        return [dict(c) for c in self.configs]

    def estimators(self, random_state: int | None = 0) -> list[Any]:
        """One unfitted scikit-learn pipeline per configuration (Oboe pipeline space only).

        Each imputes, scales and one-hot encodes, so it fits on the raw DataFrame.

        Raises:
            ConfigSpaceError: a configuration is not of the Oboe space.
        """
        from warmnas.errors import ConfigSpaceError

        try:
            return [estimators(c, random_state, preprocessing=True) for c in self.configs]
        except ConfigSpaceError as exc:
            if self.space is None or "oboe" in str(self.space).lower():
                raise
            raise ConfigSpaceError(
                f"estimators() builds the scikit-learn pipelines of the Oboe space; these "
                f"configurations are of space {self.space!r} (e.g. {dict(self.configs[0])}). "
                "Build your own models from ws.configs."
            ) from exc

    # ------------------------------------------------------------------------------- the loop
    def start(self, random_state: RandomState = None) -> Search:
        """A fresh ask/tell search for this task (results given to ``warm_start`` included).

        Raises:
            InputError: the WarmStart was built without its warm starter.
        """
        if self._starter is None and self.method == "alpha-prior":
            raise InputError(
                f"this warm start is only an architecture-weight prior: the meta-database has "
                f"no evaluated architecture of space {self.space!r}, so there is nothing to "
                "propose or search over here. Start the architecture search from it: "
                "DARTSSearch(init_alpha=ws.alpha_prior, ...) (docs/metanas.md)."
            )
        if self._starter is None:
            raise InputError("this WarmStart has no warm starter attached; call warm_start().")
        search = self._starter.start(
            self.meta_features, nan_policy="ignore", random_state=random_state
        )
        for cid, val in self._observed.items():
            search.tell(cid, val)
        return search

    def all_predicted_costs(self, *, required: bool = True) -> pd.Series | None:
        """Predicted runtime (seconds) of every configuration of the database on this dataset.

        Args:
            required: raise when the database has no costs (else return None).

        Raises:
            InputError: ``required`` and the database stores no cost for the metric.
        """
        if self._costs is None and self._cost_source is not None:
            try:
                self._costs = self._cost_source()
            except Exception as exc:  # to_frame never fails for want of a cost column
                if required:
                    raise
                logger.warning("could not predict the configurations' runtimes (%s)", exc)
                return None
            if self._costs is None:
                self._cost_source = None  # the database has no costs: do not ask again
        if self._costs is None and required:
            raise InputError(
                f"the meta-database stores no cost (runtime, cost_s) for metric "
                f"{self.metric!r}, so nothing can be planned for a time budget; drop "
                "time_budget (command line: --time-budget), or use a database with runtimes "
                "(e.g. the embedded default, db=None)."
            )
        return self._costs

    def optimize(
        self,
        objective: Callable[[dict[str, Any]], Any],
        budget: int | None = None,
        *,
        random_state: RandomState = 0,
        callback: Callable[[str, float], None] | None = None,
        time_budget: float | None = None,
        fit_probability: float | None = 0.95,
        calibrate: bool | str | None = True,
    ) -> pd.DataFrame:
        """Run the sequential loop: ask, ``objective(config)``, tell; ``budget`` times (and,
        with ``time_budget``, until that many seconds are spent).

        For PMF, after the first seeds each proposal maximises log expected improvement under
        the posterior given every result so far (Bayesian optimisation after the warm start);
        with ``time_budget``, expected improvement per predicted second, among the
        configurations predicted to fit in the time left (kNN, portfolio and random keep their
        order among those; see ``docs/warmstart_cost.md``).

        Args:
            objective: config dict -> value in the metric's direction (NaN for a failed run),
                or a dict ``{"value": value, "cost_s": seconds}`` to report the run's cost
                itself (e.g. the training time without data loading); otherwise the cost is
                the wall-clock time of the call.
            budget: number of evaluations (required without ``time_budget``; with it, None
                means no limit on the number).
            random_state: seed of the search.
            callback: called with ``(config_id, value)`` after each evaluation.
            time_budget: seconds to spend (None: no limit). The loop stops when the measured
                costs reach it or no configuration left is predicted to fit in the time left;
                a run already started is not interrupted, so the last one may overshoot. The
                predictions are rescaled by measured / predicted ratios as results come in.
            fit_probability: with ``time_budget``, propose only what finishes in the time
                left with at least this probability, by the runtime predictor's
                cross-validated errors (None: plan at the point predictions). Ignored without
                ``time_budget``.
            calibrate: with ``time_budget``, how the measured costs rescale the predictions
                by a machine factor (the database's runtimes were measured on another
                machine): ``"mean"`` (shrunk geometric mean of measured / predicted),
                ``"posterior"`` (normal posterior of the log factor; the plan is widened by its
                uncertainty), ``"posterior-late"`` (the same, widened only once a run has been
                measured), True (the default rule,
                :data:`~warmnas.warmstart.cost.DEFAULT_CALIBRATION`) or False (none). See
                ``docs/warmstart_cost.md``. Ignored without ``time_budget``.

        Returns:
            The search history: ``config_id``, ``value``, ``best_so_far``, plus the configs
            (with ``time_budget`` also ``cost_s``, ``cumulative_cost_s`` and, when calibrated,
            ``machine_factor``: the estimate after each evaluation, with
            ``machine_factor_low`` / ``machine_factor_high`` (95 %) for ``"posterior"`` and
            ``"posterior-late"``).

        Raises:
            InputError: ``objective`` returned something that is not a number (None, a
                string, inf, ...); NaN is fine (a failed run). A bad ``budget`` or
                ``time_budget``, a database without costs with ``time_budget``, or a
                ``time_budget`` smaller than every configuration's predicted cost.

        Nothing is lost when ``objective`` raises or the loop is interrupted (Ctrl-C): the
        exception propagates, and the results so far are in ``self.last_search.history``.
        """
        from warmnas.warmstart.cost import (
            check_calibrate,
            check_fit_probability,
            check_time_budget,
        )

        seconds = check_time_budget(time_budget)
        if seconds is not None:
            prob = None if fit_probability is None else check_fit_probability(fit_probability)
            return self._optimize_timed(objective, budget, seconds, random_state=random_state,
                                        callback=callback, fit_probability=prob,
                                        calibrate=check_calibrate(calibrate))
        if budget is None:
            raise InputError(
                "budget (the number of evaluations) is required without time_budget; pass "
                "e.g. optimize(objective, budget=25), or time_budget=SECONDS."
            )
        search = self.start(random_state)
        self.last_search = search
        configs = self._configs_lookup()

        def by_id(cid: str) -> Any:
            raw = objective(dict(configs(cid)))
            return raw["value"] if isinstance(raw, Mapping) and "value" in raw else raw

        try:
            hist = search.run(by_id, budget, callback=callback)  # type: ignore[arg-type]
        except BaseException as exc:
            if hasattr(exc, "add_note"):  # Python >= 3.11
                exc.add_note(
                    f"warmnas: the {search.n_told} results told before this are kept in "
                    "ws.last_search.history"
                )
            raise
        return hist.assign(config=[configs(c) for c in hist["config_id"]])

    def _optimize_timed(self, objective: Callable[[dict[str, Any]], Any], budget: int | None,
                        seconds: float, *, random_state: RandomState,
                        callback: Callable[[str, float], None] | None,
                        fit_probability: float | None = None,
                        calibrate: str | None = "mean") -> pd.DataFrame:
        """:meth:`optimize` under a time budget (see there)."""
        import time

        from warmnas.warmstart.bo import _objective_value
        from warmnas.warmstart.cost import (
            POSTERIOR_CALIBRATIONS,
            check_budget_fits,
            check_cost,
            cost_aware_search,
        )

        if budget is not None and (isinstance(budget, bool) or not isinstance(
                budget, (int, np.integer)) or budget < 1):
            raise InputError(f"budget must be a positive int or None, got {budget!r}.")
        costs = self.all_predicted_costs(required=True)
        assert costs is not None
        search = self.start(random_state)
        self.last_search = search
        upper = None
        if fit_probability is not None and self._cost_source is not None:
            upper = self._cost_source(fit_probability=fit_probability)
        noise = None
        if calibrate in POSTERIOR_CALIBRATIONS and self._cost_error_var is not None:
            noise = self._cost_error_var()
        timed = cost_aware_search(search, costs, seconds, upper, calibrate=calibrate or False,
                                  fit_probability=fit_probability, log_error_var=noise)
        check_budget_fits(timed, "time_budget")
        configs = self._configs_lookup()
        n = 0
        try:
            while budget is None or n < int(budget):
                if timed.remaining_s <= 0:
                    break
                cid = timed.ask()
                if cid is None:
                    logger.info("time budget: no configuration left is predicted to fit in the "
                                "%.3g s left", timed.remaining_s)
                    break
                t0 = time.perf_counter()
                raw = objective(dict(configs(cid)))
                cost = time.perf_counter() - t0
                if isinstance(raw, Mapping) and "value" in raw:
                    if raw.get("cost_s") is not None:
                        cost = check_cost(raw["cost_s"], cid)
                    raw = raw["value"]
                val = _objective_value(raw, cid)
                timed.tell(cid, val, cost_s=cost)
                n += 1
                if callback is not None:
                    callback(cid, val)
        except BaseException as exc:
            if hasattr(exc, "add_note"):
                exc.add_note(
                    f"warmnas: the {search.n_told} results told before this are kept in "
                    "ws.last_search.history"
                )
            raise
        hist = timed.history
        return hist.assign(config=[configs(c) for c in hist["config_id"]])

    def _configs_lookup(self) -> Callable[[str], dict[str, Any]]:
        known = dict(zip(self.config_ids, self.configs))
        resolver = self._resolver

        def get(cid: str) -> dict[str, Any]:
            if cid in known:
                return known[cid]
            if resolver is not None:
                known[cid] = resolver(cid)
                return known[cid]
            return {"config_id": cid}

        return get


# --------------------------------------------------------------------------- dataset handling
def compute_meta_features(
    X: Any, y: Any, *, categorical: Any = None, random_state: RandomState = 0
) -> pd.Series:
    """The 46 auto-sklearn meta-features of a dataset (``metafeatures.extract``).

    Columns that are not numeric are treated as categorical unless ``categorical`` says which;
    columns that are entirely missing (of a DataFrame or a float array) are left out.

    Returns:
        A float Series indexed by ``metafeatures.AUTOSKLEARN_NAMES`` (NaN where undefined).
    """
    import metafeatures

    if isinstance(X, pd.DataFrame):
        _check_unique_columns(X, "X")
        empty = [c for c in X.columns if X[c].isna().all()]
        if empty and len(empty) < X.shape[1]:
            logger.info("columns entirely missing, left out of the meta-features: %s", empty)
            if categorical is not None and not isinstance(categorical, str):
                cat = list(categorical)
                if len(cat) == X.shape[1] and all(isinstance(v, (bool, np.bool_)) for v in cat):
                    categorical = [v for v, c in zip(cat, X.columns) if c not in empty]
                else:
                    categorical = [c for c in cat if c not in empty]
            X = X.drop(columns=empty)
    elif isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype.kind == "f" and X.size:
        empty_pos = np.flatnonzero(np.isnan(X).all(axis=0))
        if 0 < len(empty_pos) < X.shape[1]:
            keep = np.setdiff1d(np.arange(X.shape[1]), empty_pos)
            given = None if categorical is None or isinstance(categorical, str) else list(
                categorical)
            if given is None:
                pass
            elif len(given) == X.shape[1] and all(isinstance(v, (bool, np.bool_)) for v in given):
                categorical = [given[i] for i in keep]
            elif all(isinstance(v, (int, np.integer)) for v in given):
                new_pos = {int(old): new for new, old in enumerate(keep)}
                categorical = [new_pos[int(c)] for c in given if int(c) in new_pos]
            else:  # column names of an array: leave X whole (metafeatures names the columns)
                keep = np.arange(X.shape[1])
            if len(keep) < X.shape[1]:
                logger.info("columns entirely missing, left out of the meta-features: %s",
                            empty_pos.tolist())
                X = X[:, keep]
    values = metafeatures.extract(
        X, y, groups="all", names="autosklearn",
        categorical="auto" if categorical is None else categorical, on_error="ignore",
        random_state=random_state,
    )
    return pd.Series(values, dtype=np.float64)


def _check_unique_columns(frame: pd.DataFrame, arg: str) -> None:
    if frame.columns.has_duplicates:
        dup = [str(c) for c in frame.columns[frame.columns.duplicated()].unique()[:5]]
        raise InputError(
            f"{arg} has duplicate column names {dup}; rename them so that each column has its "
            "own name (e.g. frame.columns = [...])."
        )


def _load_openml(spec: str, openml_cache: Any) -> tuple[Any, Any, Any]:
    try:
        did = int(spec.split(":", 1)[1])
    except (IndexError, ValueError):
        raise InputError(
            f"an OpenML dataset is given as 'openml:<dataset id>', got {spec!r}."
        ) from None
    if openml_cache is None:
        raise InputError(
            f"dataset {spec!r} is read from a local OpenML cache folder; pass "
            "openml_cache='path/to/openml-cache' (openml-python's cache layout)."
        )
    from warmnas.metadb.openml_cache import OpenMLCache

    with OpenMLCache(openml_cache) as cache:
        ds = cache.dataset(did)
    if ds.y is None:
        raise InputError(
            f"OpenML dataset {did} has no default target; load it yourself and pass (X, y)."
        )
    return ds.X, ds.y, ds.categorical


def _resolve_dataset(
    dataset: Any, y: Any, target: str | None, openml_cache: Any
) -> tuple[Any, Any, Any]:
    if isinstance(dataset, str):
        if dataset.startswith("openml:"):
            for given, name in ((y, "y="), (target, "target=")):
                if given is not None:
                    raise InputError(
                        f"dataset {dataset!r} brings its own target (OpenML's default "
                        f"target), so {name} would be ignored: drop {name}, or load the data "
                        "yourself and pass (X, y) to use another target."
                    )
            return _load_openml(dataset, openml_cache)
        raise InputError(
            f"dataset must be (X, y), a DataFrame with target=..., or 'openml:<id>'; got the "
            f"string {dataset!r}. To read a CSV file use pandas.read_csv first."
        )
    if dataset is None:
        raise InputError(
            "y was given without X (dataset is None); pass warm_start(X, y), or precomputed "
            "meta_features=... without y."
        )
    if isinstance(dataset, tuple) and len(dataset) == 2 and y is None:
        dataset, y = dataset
    if target is not None and not isinstance(dataset, pd.DataFrame):
        raise InputError(
            f"target={target!r} names a column of a DataFrame dataset, but dataset is a "
            f"{type(dataset).__name__}; pass the target values as y (warm_start(X, y)), or a "
            "DataFrame with that column."
        )
    if isinstance(dataset, pd.DataFrame) and target is not None:
        if y is not None:
            raise InputError("pass either y or target=, not both.")
        _check_unique_columns(dataset, "dataset")
        if target not in dataset.columns:
            import difflib

            names = [str(c) for c in dataset.columns]
            close = difflib.get_close_matches(str(target), names, n=1, cutoff=0.6) or [
                n for n in names if n.lower() == str(target).lower()]
            hint = f"; did you mean {close[0]!r}?" if close else "."
            more = f" ... ({len(names)} in all)" if len(names) > 10 else ""
            raise InputError(
                f"target={target!r} is not a column of the DataFrame{hint} Its columns: "
                f"{names[:10]}{more}."
            )
        return dataset.drop(columns=[target]), dataset[target], None
    if y is None:
        raise InputError(
            "the target is missing: pass warm_start(X, y), or a DataFrame with target='column', "
            "or precomputed meta_features=... without a dataset."
        )
    return dataset, y, None


def _sqlite_path(db: str | os.PathLike[str]) -> Path | None:
    """The file of a SQLite URL or path (None for in-memory and server databases)."""
    if isinstance(db, os.PathLike) or "://" not in db:
        return Path(os.fspath(db)).expanduser()
    import sqlalchemy as sa

    try:
        url = sa.make_url(db)
    except sa.exc.ArgumentError:
        return None  # MetaDatabase reports a malformed URL
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).expanduser()


def _open_db(db: Any) -> MetaDatabase:
    from warmnas.metadb import MetaDatabase

    if db is None:
        return MetaDatabase.default()
    if isinstance(db, (str, os.PathLike)):
        from warmnas.errors import CorruptDatabaseError

        path = _sqlite_path(db)
        if path is not None and not path.exists():
            raise MissingDataError(
                f"db: no meta-database at {path}; warm_start reads a meta-database and does "
                "not create one. Check the path, build one (e.g. 'warmnas db import oboe "
                "OBOE_FOLDER --db URL'), or pass db=None for the embedded default."
            )
        # read-only: opened writable, a SQLite file was switched to WAL, an older schema
        # upgraded in place, and an empty server database given the warmnas tables
        try:
            return MetaDatabase(db, read_only=True)
        except CorruptDatabaseError as exc:
            raise CorruptDatabaseError(
                f"db: {exc} (warm_start opens db read-only and never creates or changes one; "
                "build it first, e.g. 'warmnas db import oboe OBOE_FOLDER --db URL', or pass "
                "db=None for the embedded default)"
            ) from exc
    if isinstance(db, MetaDatabase) or hasattr(db, "performance_matrix"):
        return db  # type: ignore[no-any-return]
    raise InputTypeError(
        f"db must be a MetaDatabase, a database URL or path, or None (the embedded default), got "
        f"{type(db).__name__}."
    )


# ------------------------------------------------------------------------------ warm_start
def warm_start(
    dataset: Any = None,
    y: Any = None,
    *,
    target: str | None = None,
    meta_features: Mapping[str, float] | pd.Series | None = None,
    n_configs: int = 10,
    method: str | WarmStarter | None = None,
    db: Any = None,
    metric: str | None = None,
    space: str | None = None,
    observed: Mapping[str, float] | None = None,
    nan_policy: str = "error",
    openml_cache: Any = None,
    starter_params: Mapping[str, Any] | None = None,
    alpha_prior_hook: AlphaPriorHook | None = None,
    random_state: RandomState = 0,
    cache: bool = True,
    time_budget: float | None = None,
    fit_probability: float | None = 0.95,
    calibrate: bool | str | None = True,
) -> WarmStart:
    """Propose the configurations to try first on a new dataset.

    Args:
        dataset: ``X`` (array or DataFrame; categorical and missing values are fine) with
            ``y``; a DataFrame with ``target=``; ``"openml:<dataset id>"`` (needs
            ``openml_cache``); or None when ``meta_features`` are given.
        y: the target, with ``X``.
        target: the target column of a DataFrame ``dataset``.
        meta_features: precomputed meta-features (names of the database's ``"autosklearn"``
            view) instead of a dataset.
        n_configs: how many configurations to propose (at most the database's).
        method: ``"knn"`` (default for tabular spaces; auto-sklearn v1), ``"pmf"`` (Fusi et al.; fits a GP-LVM
            first, about 10 s on the embedded database), ``"portfolio"``, ``"random"``, or a
            fitted :class:`~warmnas.warmstart.base.WarmStarter` to reuse (its database must be
            ``db``'s matrix for ``metric``). For the NAS spaces (``space="darts"`` or
            ``"nb201"``) only ``"portfolio"`` (default) and ``"random"``: their tasks are image
            datasets without tabular meta-features.
        db: a :class:`~warmnas.metadb.MetaDatabase`, a database URL or SQLite file path (it
            must exist: nothing is created; opened read-only, so nothing in it changes: no
            schema upgrade, no journal-mode switch), or None (the embedded default).
        metric: the database metric to optimise (default: the database's default metric).
        space: restrict to one configuration space of the database. With a NAS space
            (``"darts"``, ``"nb201"``) the result also carries ``alpha_prior``: architecture
            logits to warm-start DARTS (:func:`warmnas.nas.meta.prior.alpha_prior_hook` by
            default: the nearest tasks' NAS records, else their mean). When the database has no
            evaluation in that space (DARTS), ``configs`` is empty and ``method`` is
            ``"alpha-prior"``.
        observed: config id -> value already measured on this dataset (conditions the ranking).
        nan_policy: for user-given ``meta_features``: ``"error"`` (NaN raises) or ``"ignore"``
            (left out of the distance). Meta-features computed here are always ``"ignore"``.
        openml_cache: the OpenML cache folder for ``"openml:<id>"`` datasets.
        starter_params: keyword arguments of the warm starter (e.g. ``{"n_latent": 10}``).
        alpha_prior_hook: ``hook(db, neighbors, meta_features)`` returning the
            architecture-weight prior stored in ``WarmStart.alpha_prior`` (default for NAS
            spaces: :func:`warmnas.nas.meta.prior.alpha_prior_hook` on ``dataset``; with
            ``meta_features``, those are image meta-features).
        random_state: seed.
        cache: with ``method="pmf"`` on the embedded default database (``db=None``, no
            ``starter_params``), reuse the PMF warm starter fitted by an earlier call from the
            cache folder (``WARMNAS_CACHE_DIR``, else the user cache folder, e.g.
            ``~/.cache/warmnas``) instead of refitting it; the entry's key is a digest of the
            embedded database file, the metric, the space, the starter's parameters and the
            warmnas version. A miss fits and saves; a damaged entry is refitted and replaced;
            an unwritable folder only logs. False: always fit. Other databases are never cached
            (one can change under the same URL): fit a starter, ``save`` it and pass
            ``WarmStarter.load(path)`` as ``method``.
        time_budget: seconds available for running the proposals (None: no limit, the
            proposals are exactly those without it). With a budget, each configuration's
            runtime on this dataset is predicted from the database's costs
            (:mod:`warmnas.warmstart.cost`: Oboe's size law, corrected by the nearest tasks),
            a configuration predicted not to fit in the time left is never proposed, and PMF
            ranks by expected improvement per predicted second; the proposals' predicted costs
            sum to at most ``time_budget`` (so there may be fewer than ``n_configs``). Needs
            a database with costs; tabular spaces only.
        fit_probability: with ``time_budget``, a configuration fits in the time left only when
            it finishes in it with at least this probability, by the runtime predictor's
            cross-validated errors on the database (default 0.95; None: at the point
            predictions). Ignored without ``time_budget``.
        calibrate: with ``time_budget``, the machine-factor rule (see
            :meth:`WarmStart.optimize`); nothing is measured here, so only ``"posterior"``
            plays a part: the factor's prior uncertainty widens the plan
            (``"posterior-late"`` plans here as ``"mean"`` does). Ignored without
            ``time_budget``.

    Returns:
        A :class:`WarmStart`.

    Raises:
        InputError: bad arguments, an empty meta-database, ``n_configs`` out of range, NaN in
            given meta-features.
        UnknownIdError: a metric the database does not have, unknown meta-feature names.
        MissingDataError: ``db`` names a SQLite file that does not exist.
        InputTypeError: arguments of the wrong type.
    """
    from warmnas.warmstart import cost as _cost

    seconds = _cost.check_time_budget(time_budget)
    if seconds is not None and fit_probability is not None:
        _cost.check_fit_probability(fit_probability)
    calibration = _cost.check_calibrate(calibrate) if seconds is not None else None
    if nan_policy not in ("error", "ignore"):
        raise InputError(f"nan_policy must be 'error' or 'ignore', got {nan_policy!r}.")
    _check_observed(observed)
    if random_state is not None and not isinstance(random_state, np.random.Generator):
        from warmnas._random import check_random_state

        check_random_state(random_state)  # before the meta-features: warmnas' own message
    if isinstance(n_configs, bool) or not isinstance(n_configs, (int, np.integer)) or n_configs < 1:
        raise InputError(f"n_configs must be a positive int, got {n_configs!r}.")
    nas = space in NAS_SPACES
    if method is None:
        method = "portfolio" if nas else "knn"
    if isinstance(method, str) and method not in METHODS:
        raise InputError(f"method must be one of {list(METHODS)} or a WarmStarter, got {method!r}.")
    if not isinstance(method, (str, WarmStarter)):
        raise InputTypeError(
            f"method must be a name or a WarmStarter, got {type(method).__name__}."
        )
    database = _open_db(db)
    metrics = list(database.metrics())
    if not metrics and not nas:  # a NAS space may hold architecture records only
        raise InputError(
            "the meta-database is empty (no metric, no evaluation); import a matrix first "
            "(e.g. 'warmnas db import oboe OBOE_FOLDER --db URL') or use the embedded default "
            "(db=None)."
        )
    if metric is not None and metric not in metrics:
        raise UnknownIdError(
            f"metric={metric!r} is not in the meta-database; it has {metrics}."
        )
    name = method if isinstance(method, str) else method.name
    if nas:
        if seconds is not None:
            raise InputError(
                f"time_budget is for tabular configuration spaces; the NAS space {space!r} has "
                "no runtime model. Drop time_budget."
            )
        if name in ("knn", "pmf"):
            raise InputError(
                f"method {name!r} compares tabular meta-features, but the tasks of the NAS space "
                f"{space!r} are image datasets: use method='portfolio' (the default for NAS "
                "spaces) or 'random'; the alpha prior finds the nearest image tasks itself."
            )
        return _warm_start_nas(
            dataset, y, database=database, space=str(space), metric=metric, metrics=metrics,
            n_configs=int(n_configs), method=method, meta_features=meta_features,
            observed=observed, starter_params=starter_params,
            alpha_prior_hook=alpha_prior_hook, random_state=random_state,
        )
    used_metric = metric if metric is not None else _default_metric(database, metrics)
    perf = _matrix(database, used_metric, space)
    if perf.shape[0] == 0 or perf.shape[1] == 0:
        raise InputError(
            f"the meta-database has no evaluation for metric {used_metric!r}"
            f"{f' in space {space!r}' if space else ''}; nothing to warm-start from."
        )
    direction = database.metric_direction(used_metric)
    _check_n_configs(n_configs, perf, used_metric, space)

    # a fitted starter of the user's (another name) that needs them gets them too, and one
    # fitted with meta-features that can do without them gets them when there is a dataset
    needs_features = name in ("knn", "pmf") or (
        isinstance(method, WarmStarter) and method.requires_meta_features)
    uses_features = needs_features or (
        isinstance(method, WarmStarter) and getattr(method, "meta_features_", None) is not None)
    query: pd.Series | None = None
    policy = nan_policy
    size: tuple[float, float] | None = None
    if meta_features is not None:
        if dataset is not None:
            raise InputError("pass either a dataset or meta_features, not both.")
        query = _query_series(meta_features)
    elif dataset is not None or y is not None:
        if uses_features:
            X, yy, categorical = _resolve_dataset(dataset, y, target, openml_cache)
            _check_task_type(yy, database, perf, used_metric)
            query = compute_meta_features(X, yy, categorical=categorical,
                                          random_state=random_state)
            size = _cost.dataset_size(X, categorical)
            nan_names = query.index[query.isna()].tolist()
            if nan_names:
                logger.info("meta-features undefined for this dataset (left out of the "
                            "distance): %s", nan_names)
            query = query.dropna()
            policy = "ignore"
        elif seconds is not None:  # portfolio / random: the data's size for the runtimes
            X, _, categorical = _resolve_dataset(dataset, y, target, openml_cache)
            size = _cost.dataset_size(X, categorical)
    elif needs_features:
        raise InputError(
            f"method {name!r} needs the new task's meta-features: pass a dataset (X, y) or "
            "meta_features=..., or use method='portfolio'."
        )
    if size is None:
        size = _cost.query_size_from_meta_features(query)

    feats = None
    if needs_features and not isinstance(method, WarmStarter):
        feats = database.meta_features("autosklearn")
        feats = feats.loc[feats.index.intersection(perf.index)]
        if feats.shape[0] == 0:
            raise InputError(
                "the meta-database has no meta-features (view 'autosklearn') for the tasks "
                f"of metric {used_metric!r}; method {name!r} needs them. Use "
                "method='portfolio' or add meta-features."
            )
    if (cache and method == "pmf" and not starter_params and space is None
            and _is_embedded(database)):
        starter = _cached_pmf(perf, feats, direction, used_metric)
    else:
        starter = _fitted_starter(method, perf, feats, direction, starter_params)
    if query is not None and policy == "ignore" and meta_features is None:
        query = _known_names_only(query, starter)
    starter_query = (query if needs_features or (query is not None
                                                 and starter.meta_features_ is not None) else None)

    fitted_costs: list[Any] = []  # the runtime predictor, fitted on first use, then shared

    def costs(fit_probability: float | None = None) -> pd.Series | None:
        if not fitted_costs:
            fitted_costs.append(_cost.fit_runtime_predictor(
                database, used_metric, space, starter.config_ids_, query=query))
        if fitted_costs[0] is None:
            return None
        return _cost.predict_costs(database, used_metric, space, starter.config_ids_,
                                   size=size, query=query, fit_probability=fit_probability,
                                   fitted=fitted_costs[0])

    def error_var() -> float | None:
        if costs() is None:
            return None
        return _cost.fitted_log_error_variance(fitted_costs[0], size)

    predicted = None
    if seconds is None:
        sugg = starter.suggest(starter_query, int(n_configs), observed=observed,
                               nan_policy=policy, random_state=random_state)
    else:
        predicted = costs()
        if predicted is None:
            raise InputError(
                f"time_budget needs the runtimes (cost_s) of the configurations, and the "
                f"meta-database stores none for metric {used_metric!r}; drop time_budget "
                "(command line: --time-budget), or use a database with costs (e.g. the "
                "embedded default, db=None)."
            )
        upper = None if fit_probability is None else costs(fit_probability)
        sugg = _cost.suggest_within_budget(
            starter, starter_query, int(n_configs), predicted, seconds, observed=observed,
            nan_policy=policy, random_state=random_state, upper_cost_s=upper,
            calibrate=calibration or False, fit_probability=fit_probability,
            log_error_var=(error_var() if calibration in _cost.POSTERIOR_CALIBRATIONS
                           else None))
    ws = _from_suggestion(sugg, database, starter=starter, metric=used_metric, query=query,
                          space=space or _space_of(database, sugg.config_ids), observed=observed)
    ws.time_budget = seconds
    ws._costs = predicted
    ws._cost_source = costs
    ws._cost_error_var = error_var
    if alpha_prior_hook is not None:
        ws.alpha_prior = alpha_prior_hook(database, sugg.neighbors, query)
    return ws


def _known_names_only(query: pd.Series, starter: WarmStarter) -> pd.Series:
    """Meta-features computed by ``warm_start`` itself, restricted to the names the fitted
    starter's database holds: a database may store fewer of the auto-sklearn meta-features
    (auto-sklearn's own meta-data has 37 of the 46, no landmarkers or PCA), and the rest cannot
    enter the distance. User-given meta-features are not restricted (unknown names are an
    error there)."""
    table = starter.meta_features_
    if table is None:
        return query
    known = set(map(str, table.columns))
    held = np.array([str(n) in known for n in query.index], dtype=bool)
    if held.all():
        return query
    kept, unknown = query[held], [str(n) for n in query.index[~held]]
    if kept.empty:
        raise InputError(
            f"none of the meta-features computed for the dataset is in the meta-database "
            f"(it holds {sorted(known)[:6]}{' ...' if len(known) > 6 else ''}); store "
            "auto-sklearn-named meta-features (view 'autosklearn') for its tasks, or use "
            "method='portfolio'."
        )
    logger.info("meta-features the meta-database does not hold (left out of the distance): %s",
                unknown)
    return kept


def _query_series(meta_features: Any) -> pd.Series:
    """The new task's meta-features as a Series (name -> value), from the accepted forms."""
    if isinstance(meta_features, pd.DataFrame):
        if meta_features.shape[0] != 1:
            raise InputError(
                f"meta_features must describe one task; got a DataFrame with "
                f"{meta_features.shape[0]} rows. Pass one row, e.g. frame.iloc[0]."
            )
        return meta_features.iloc[0]
    if isinstance(meta_features, pd.Series):
        return meta_features
    if isinstance(meta_features, Mapping):
        return pd.Series(dict(meta_features))
    raise InputTypeError(
        f"meta_features must be a mapping name -> value (or a pandas Series / one-row "
        f"DataFrame), got {type(meta_features).__name__} without names; name the values, "
        "e.g. dict(zip(metafeatures.AUTOSKLEARN_NAMES, values))."
    )


def _check_observed(observed: Any) -> None:
    if observed is not None and not isinstance(observed, Mapping):
        raise InputTypeError(
            f"observed must be a mapping config id -> value, got {type(observed).__name__}; "
            "e.g. dict(pairs) for a list of (config_id, value) pairs."
        )
    import numbers

    for cid, val in (observed or {}).items():
        if isinstance(val, np.ndarray) and val.ndim == 0:
            val = val.item()
        real = isinstance(val, (numbers.Real, np.integer, np.floating)) and not isinstance(
            val, (bool, np.bool_))
        if not real or math.isinf(float(val)):
            raise InputError(
                f"observed[{cid!r}] must be a finite number (or NaN for a failed run), got "
                f"{val!r}; pass the value measured on this dataset, in the metric's own "
                "direction."
            )


def _task_kind(task_type: Any) -> str | None:
    """``"classification"`` / ``"regression"`` for a stored task type, None when it is neither."""
    text = str(task_type).lower()
    if "regress" in text:
        return "regression"
    if "classif" in text or text in ("binary", "multiclass"):
        return "classification"
    return None


def _check_task_type(y: Any, database: Any, perf: pd.DataFrame, metric: str) -> None:
    """Raise if ``y``'s task type (as metafeatures infers it) is not one of the database's, or
    if a classification target has a single class."""
    import metafeatures

    getter = getattr(database, "tasks", None)
    if not callable(getter):
        return
    try:
        tasks = getter()
        rated = perf.index[perf.notna().any(axis=1)]  # tasks with a value for this metric
        stored = set(tasks.loc[tasks.index.intersection(rated), "task_type"].dropna())
    except (KeyError, AttributeError):  # a database without task types: nothing to check
        return
    # importers spell task types their own way ('binary', 'multiclass', OpenML's 'Supervised
    # Classification', ...): compare the kind; unknown spellings ('image') say nothing
    kinds = {t: _task_kind(t) for t in stored}
    types = {k for k in kinds.values() if k is not None}
    if not types:
        return
    n = len(y) if hasattr(y, "__len__") else 0
    try:
        kind = metafeatures.validate(np.zeros((n, 1)), y).task
    except metafeatures.MetaFeatureError:
        return  # reported with context when the meta-features are computed
    if kind == "classification" and "classification" in types:
        labels = pd.unique(pd.Series(np.asarray(y, dtype=object).ravel()).dropna())
        if len(labels) == 1:
            raise InputError(
                f"y has a single class ({labels[0]!r}); there is nothing to classify, so no "
                "classifier configuration can be compared on it. Pass a target with at least "
                "two classes."
            )
    if kind is None or kind in types:
        return
    hint = (" If y holds class labels, convert them to strings (e.g. y.astype(str); "
            "'warmnas warm-start ... --task classification' on the command line); "
            "otherwise use" if kind == "regression" else " Use")
    raise InputError(
        f"y looks like a {kind} target, but the meta-database's tasks for metric {metric!r} "
        f"are {' / '.join(sorted(t for t, k in kinds.items() if k))} tasks, so their "
        "configurations do not apply to "
        f"this dataset.{hint} a metric (metric=...) or meta-database (db=...) of {kind} "
        "tasks."
    )


def _is_embedded(database: Any) -> bool:
    """Whether ``database`` is the embedded default itself (not a ``without`` view of it)."""
    return bool(getattr(database, "_embedded", False)) and not getattr(database, "_excluded", ())


def _pmf_cache_path(starter: WarmStarter, metric: str) -> Path:
    """The cache entry of ``starter`` (unfitted, its parameters set) on the embedded database."""
    import hashlib
    import json

    from warmnas import __version__
    from warmnas.metadb.database import _default_path
    from warmnas.warmstart._persist import FORMAT_VERSION, params_to_json

    digest = hashlib.sha256()
    with open(_default_path(), "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    key = hashlib.sha256(json.dumps({
        "db": digest.hexdigest(), "metric": metric, "class": type(starter).__name__,
        "params": params_to_json(starter), "version": __version__, "format": FORMAT_VERSION,
    }, sort_keys=True).encode()).hexdigest()[:32]
    return _cache_dir() / "warmstart" / f"{starter.name}-{key}.npz"


def _cached_pmf(perf: pd.DataFrame, feats: pd.DataFrame | None, direction: str,
                metric: str) -> WarmStarter:
    """The default PMF starter on the embedded database: from the cache, else fitted and cached.

    The cache never fails the call: a damaged or mismatching entry is logged (warning) and
    refitted over; a folder that cannot be written is logged (info) and skipped.
    """
    from warmnas.errors import StorageError, WarmnasError

    fresh = make_starter("pmf")
    try:
        path = _pmf_cache_path(fresh, metric)
    except OSError as exc:
        logger.info("no PMF cache key (%s); fitting without the cache", exc)
        return _fitted_starter("pmf", perf, feats, direction, None)
    if path.exists():
        try:
            cached = WarmStarter.load(path)
            if not _same_data(cached, perf, feats, direction):
                raise InputError("it was fitted on other data than the database holds")
            logger.info("PMF warm starter loaded from the cache %s", path)
            try:
                os.utime(path)  # a used entry counts as new when old entries are pruned
            except OSError:
                pass
            return cached
        except (WarmnasError, OSError) as exc:
            logger.warning("the cached PMF warm starter %s is unusable (%s); refitting and "
                           "replacing it", path, exc)
    starter = _fitted_starter(fresh, perf, feats, direction, None, fit=True)
    try:
        starter.save(path)
        logger.info("PMF warm starter cached at %s", path)
    except (StorageError, OSError) as exc:
        logger.info("could not cache the PMF warm starter at %s (%s); carrying on", path, exc)
    else:
        _prune_pmf_cache(path)
    return starter


#: PMF cache entries kept (the most recently written or used); older ones (another database
#: file, warmnas version or file format, each about 2 MB) are deleted after a new entry is saved.
_PMF_CACHE_KEEP = 3


def _prune_pmf_cache(current: Path) -> None:
    """Delete all but the :data:`_PMF_CACHE_KEEP` newest PMF entries beside ``current``."""
    try:
        entries = [(f.stat().st_mtime, f) for f in current.parent.glob("pmf-*.npz")
                   if f != current and f.is_file()]
    except OSError:
        return
    entries.sort(reverse=True)
    for _, stale in entries[_PMF_CACHE_KEEP - 1:]:
        try:
            stale.unlink()
            logger.info("removed the old PMF cache entry %s", stale)
        except OSError as exc:
            logger.info("could not remove the old PMF cache entry %s (%s)", stale, exc)


def _same_data(starter: WarmStarter, perf: pd.DataFrame, feats: pd.DataFrame | None,
               direction: str) -> bool:
    """Whether ``starter`` was fitted on exactly ``perf`` and ``feats`` (ids and values)."""
    def same(a: pd.DataFrame | None, b: pd.DataFrame | None) -> bool:
        if a is None or b is None:
            return a is None and b is None
        if [str(i) for i in a.index] != [str(i) for i in b.index]:
            return False
        if [str(c) for c in a.columns] != [str(c) for c in b.columns]:
            return False
        return bool(np.array_equal(a.to_numpy(dtype=np.float64), b.to_numpy(dtype=np.float64),
                                   equal_nan=True))

    if feats is not None:  # fit drops the columns without any value
        feats = feats.loc[:, feats.notna().any(axis=0)]
    return (starter.direction_ == direction and same(starter.performance_, perf)
            and same(starter.meta_features_, feats))


def _fitted_starter(method: str | WarmStarter, perf: pd.DataFrame, feats: pd.DataFrame | None,
                    direction: str, params: Mapping[str, Any] | None, *,
                    fit: bool = False) -> WarmStarter:
    """The named warm starter fitted on ``perf``, or a user's fitted one checked against it
    (with ``fit``: the unfitted starter ``method``, fitted here)."""
    if fit and isinstance(method, WarmStarter):
        method.fit(perf, feats, direction=direction)  # type: ignore[arg-type]
        return method
    if isinstance(method, WarmStarter):
        if params:
            raise InputError(
                f"starter_params are for a method given by name; got a fitted "
                f"{type(method).__name__} as method together with starter_params="
                f"{dict(params)}. Build the starter with those arguments yourself, or pass "
                "its name."
            )
        method._check_fitted()
        if list(method.config_ids_) != [str(c) for c in perf.columns]:
            raise InputError(
                "the given warm starter was fitted on another performance matrix (other "
                "configurations) than the database's for this metric; refit it on "
                "db.performance_matrix(metric)."
            )
        return method
    if params is not None and not isinstance(params, Mapping):
        raise InputTypeError(
            f"starter_params must be a dict of the warm starter's arguments, got "
            f"{type(params).__name__}."
        )
    try:
        starter: WarmStarter = make_starter(method, **dict(params or {}))
    except TypeError:
        import inspect

        cls = type(make_starter(method))
        known = [n for n in inspect.signature(cls.__init__).parameters if n != "self"]
        unknown = [k for k in (params or {}) if k not in known]
        raise InputError(
            f"starter_params has {unknown}, which the {method!r} warm starter does not take; "
            f"it takes {known}."
        ) from None
    starter.fit(perf, feats, direction=direction)  # type: ignore[arg-type]
    return starter


def _from_suggestion(sugg: Any, database: Any, *, starter: WarmStarter, metric: str,
                     query: pd.Series | None, space: str | None,
                     observed: Mapping[str, float] | None) -> WarmStart:
    configs = database.configs(sugg.config_ids)
    return WarmStart(
        configs=[dict(configs[c]) for c in sugg.config_ids],
        config_ids=list(sugg.config_ids),
        scores=np.asarray(sugg.scores, dtype=float),
        stddev=np.asarray(sugg.stddev, dtype=float),
        neighbors=None if sugg.neighbors is None else sugg.neighbors.iloc[:10],
        method=sugg.method,
        metric=metric,
        direction=sugg.direction,
        meta_features=query,
        space=space,
        _starter=starter,
        _observed={str(k): float(v) for k, v in (observed or {}).items()},
        _resolver=database.config,
    )


def _check_n_configs(n_configs: int, perf: pd.DataFrame, metric: str, space: str | None) -> None:
    if n_configs > perf.shape[1]:
        where = "" if space is None else f" of space {space!r}"
        raise InputError(
            f"n_configs={n_configs} is larger than the configuration space: the meta-database "
            f"has {perf.shape[1]} configurations{where} for metric {metric!r}; ask for at most "
            f"{perf.shape[1]}."
        )


def _matrix(database: Any, metric: str, space: str | None) -> pd.DataFrame:
    perf = database.performance_matrix(metric, space=space)
    return perf.dropna(how="all").dropna(axis=1, how="all")


def _warm_start_nas(
    dataset: Any, y: Any, *, database: Any, space: str, metric: str | None,
    metrics: Sequence[str], n_configs: int, method: str | WarmStarter,
    meta_features: Mapping[str, float] | pd.Series | None,
    observed: Mapping[str, float] | None, starter_params: Mapping[str, Any] | None,
    alpha_prior_hook: AlphaPriorHook | None, random_state: RandomState,
) -> WarmStart:
    """``warm_start`` for a NAS space: an alpha prior, plus architectures when evaluated."""
    if meta_features is not None and dataset is not None:
        raise InputError("pass either a dataset or meta_features, not both.")
    hook = alpha_prior_hook
    if hook is None:
        from warmnas.nas.meta.prior import alpha_prior_hook as default_hook

        data = dataset if y is None or dataset is None else (dataset, y)
        hook = default_hook(space, dataset=data)
    query = None
    if meta_features is not None:
        query = _query_series(meta_features)
    # the first metric with evaluations in this space (or the one asked for)
    used_metric, perf = None, None
    for m in ([metric] if metric is not None else list(metrics)):
        try:
            candidate = _matrix(database, str(m), space)
        except UnknownIdError:  # the database has no configuration of this space
            break
        if candidate.shape[0] and candidate.shape[1]:
            used_metric, perf = str(m), candidate
            break
    if perf is None:
        logger.info("no evaluation in space %r%s: the warm start is the alpha prior only",
                    space, f" for metric {metric!r}" if metric else "")
        ws = WarmStart(
            configs=[], config_ids=[], scores=np.empty(0), stddev=np.empty(0), neighbors=None,
            method="alpha-prior", metric=metric,
            direction=database.metric_direction(metric) if metric else "maximize",
            meta_features=query, space=space, _resolver=database.config,
        )
    else:
        assert used_metric is not None
        _check_n_configs(n_configs, perf, used_metric, space)
        direction = database.metric_direction(used_metric)
        starter = _fitted_starter(method, perf, None, direction, starter_params)
        sugg = starter.suggest(None, n_configs, observed=observed, random_state=random_state)
        ws = _from_suggestion(sugg, database, starter=starter, metric=used_metric, query=query,
                              space=space, observed=observed)
    ws.alpha_prior = hook(database, None, query)
    return ws


def _default_metric(database: Any, metrics: Sequence[str]) -> str:
    default = database.info().get("default_metric") if hasattr(database, "info") else None
    if default:
        return str(default)
    if len(metrics) == 1:
        return str(metrics[0])
    raise InputError(
        f"the meta-database holds several metrics {list(metrics)} and no default; pass "
        "metric=... ."
    )


def _space_of(database: Any, config_ids: Sequence[str]) -> str | None:
    getter = getattr(database, "config_space", None)
    if not callable(getter) or not config_ids:
        return None
    try:
        spaces = {getter(c) for c in config_ids}
    except Exception:  # pragma: no cover - defensive
        return None
    return spaces.pop() if len(spaces) == 1 else None

