"""The warm-start benchmark protocol: best-so-far curves, regret tables, plots.

Honesty rules this module enforces by construction:

* a method is fitted on the training tasks only (performance rows and meta-feature rows; the
  meta-feature scaling and PMF's latent embedding are part of the fit), and
* for a test task it sees a value only through ``tell()`` after proposing that configuration;
  the rest of the test row is never passed to it. The only thing it learns about the test row up
  front is which configurations exist for it (its non-missing entries: the search space).

``leave_one_task_out`` refits the method once per held-out task (``folds=None``) or once per
group of tasks (``folds=K``: grouped K-fold, every task held out exactly once; strictly harder than
leave-one-task-out since each fit sees fewer tasks).
"""

from __future__ import annotations

import copy
import logging
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from warmnas._random import RandomState, check_random_state
from warmnas.errors import InputError
from warmnas.warmstart._validation import (
    Direction,
    check_direction,
    check_meta_features,
    check_performance,
    to_minimize,
)
from warmnas.warmstart.base import WarmStarter

logger = logging.getLogger(__name__)

__all__ = [
    "BenchmarkResult",
    "evaluate",
    "leave_one_task_out",
    "regret_curves",
    "regret_table",
    "plot_regret",
    "plot_regret_panels",
    "DEFAULT_AT",
]

DEFAULT_AT: tuple[int, ...] = (1, 3, 5, 10, 25)


@dataclass
class BenchmarkResult:
    """Best-so-far curves of one method plus timings.

    Attributes:
        curves: test task id -> best-so-far value after each evaluation (metric direction),
            ``budget`` long (padded with the last value when a task has fewer configurations).
        method: the starter's name.
        fit_seconds: wall time of each fit (one per fold).
        suggest_seconds: wall time of each ``ask()`` (one per proposal).
    """

    curves: dict[str, list[float]]
    method: str
    fit_seconds: list[float] = field(default_factory=list)
    suggest_seconds: list[float] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """``{"method": ..., "curves": {task: [...]}, "fit_seconds": [...], ...}``."""
        return {
            "method": self.method,
            "curves": {k: [float(v) for v in c] for k, c in self.curves.items()},
            "fit_seconds": [float(s) for s in self.fit_seconds],
            "suggest_seconds_mean": float(np.mean(self.suggest_seconds))
            if self.suggest_seconds
            else None,
            "suggest_seconds_max": float(np.max(self.suggest_seconds))
            if self.suggest_seconds
            else None,
        }


def _progress(iterable: Any, total: int, desc: str) -> Any:
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return iterable
    return tqdm(iterable, total=total, desc=desc, disable=not sys.stderr.isatty(), leave=False)


def _task_rng(seed: int, position: int) -> np.random.Generator:
    return np.random.default_rng([seed, position])


def _run_task(
    starter: WarmStarter,
    row: pd.Series,
    query: pd.Series | None,
    budget: int,
    rng: np.random.Generator,
    nan_policy: str,
    timings: list[float],
) -> list[float]:
    available = row.dropna()
    search = starter.start(
        query, candidates=available.index, nan_policy=nan_policy, random_state=rng
    )
    sign = -1.0 if starter.direction_ == "maximize" else 1.0
    best = np.inf
    curve: list[float] = []
    for _ in range(min(budget, len(available))):
        t0 = time.perf_counter()
        cid = search.ask()
        timings.append(time.perf_counter() - t0)
        value = float(available[cid])  # the oracle: one value, for the configuration proposed
        search.tell(cid, value)
        best = min(best, sign * value)
        curve.append(sign * best)
    curve += [curve[-1]] * (budget - len(curve))
    return curve


def _query(meta_features: pd.DataFrame | None, task: str) -> pd.Series | None:
    if meta_features is None or task not in meta_features.index:
        return None
    q = meta_features.loc[task]
    return q[q.notna()] if q.notna().any() else None


def evaluate(
    starter: WarmStarter,
    train_performance: pd.DataFrame,
    test_performance: pd.DataFrame,
    *,
    train_meta_features: pd.DataFrame | None = None,
    test_meta_features: pd.DataFrame | None = None,
    direction: Direction = "minimize",
    budget: int = 25,
    random_state: RandomState = 0,
    _seed_positions: Mapping[str, int] | None = None,
) -> BenchmarkResult:
    """Fit a copy of ``starter`` on the training tasks and run it on every test task.

    Args:
        starter: an unfitted (or fitted: it is copied and refitted) warm starter.
        train_performance: ``n_train x n_configs`` (metric direction, NaN missing).
        test_performance: ``n_test x n_configs`` with the same configuration ids; only the
            values of proposed configurations are ever shown to the method.
        train_meta_features, test_meta_features: tasks x names (rows may be missing; a test
            task without meta-features gets None and the method must cope or raise).
        direction: the metric's direction.
        budget: evaluations per test task.
        random_state: seed; each test task gets its own stream derived from it.

    Returns:
        A :class:`BenchmarkResult`.

    Raises:
        InputError: different configuration ids in train and test, shared task ids, bad budget.
    """
    direction = check_direction(direction)
    train = check_performance(train_performance, "train_performance")
    test = check_performance(test_performance, "test_performance", allow_unevaluated=True)
    if set(train.columns) != set(test.columns):
        extra = sorted(set(test.columns) - set(train.columns))[:5]
        lack = sorted(set(train.columns) - set(test.columns))[:5]
        raise InputError(
            "train and test matrices must have the same configurations (columns); test has "
            f"{extra} not in train and lacks {lack}. Align them first (e.g. test[train.columns])."
        )
    overlap = train.index.intersection(test.index)
    if len(overlap):
        raise InputError(
            f"tasks {overlap[:5].tolist()} are in both the train and the test matrix; a test task "
            "must not be seen in training. Remove them from one side."
        )
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget < 1:
        raise InputError(f"budget must be a positive int, got {budget!r}.")
    test = test[train.columns]
    tf = check_meta_features(train_meta_features, "train_meta_features") if (
        train_meta_features is not None) else None
    sf = check_meta_features(test_meta_features, "test_meta_features") if (
        test_meta_features is not None) else None
    if tf is not None:
        common = tf.index.intersection(train.index, sort=False)
        if len(common) == 0:
            raise InputError(
                "train_meta_features has no row for any task of train_performance (its task "
                f"ids, e.g. {tf.index[:3].tolist()}, vs the matrix's, e.g. "
                f"{train.index[:3].tolist()}); the first column of both files must hold the "
                "same task ids."
            )
        tf = tf.loc[common]
    queries: dict[str, pd.Series | None] = {}
    for task in test.index:
        q = _query(sf, task)
        if q is not None and tf is not None:
            q = q[q.index.isin(tf.columns)]
        queries[task] = q if q is not None and len(q) else None
    lacking = [t for t, q in queries.items() if q is None]
    if lacking and starter.requires_meta_features:
        raise InputError(
            f"test tasks {lacking[:5]}{' ...' if len(lacking) > 5 else ''} ({len(lacking)} of "
            f"{len(test)}) have no meta-features in test_meta_features (no row with that id, "
            "or no value under a name the training meta-features have); the "
            f"{starter.name!r} method needs them to find the nearest tasks. Add their rows, "
            "or leave those tasks out of the test matrix."
        )
    model = copy.deepcopy(starter)
    t0 = time.perf_counter()
    model.fit(train, tf, direction=direction)
    fit_s = time.perf_counter() - t0
    seed = int(check_random_state(random_state).integers(0, 2**31 - 1))
    result = BenchmarkResult(curves={}, method=model.name, fit_seconds=[fit_s])
    for i, task in enumerate(test.index):
        pos = _seed_positions[task] if _seed_positions is not None else i
        result.curves[task] = _run_task(
            model, test.loc[task], queries[task], budget, _task_rng(seed, pos), "ignore",
            result.suggest_seconds,
        )
    return result


def leave_one_task_out(
    starter: WarmStarter,
    performance: pd.DataFrame,
    meta_features: pd.DataFrame | None = None,
    *,
    direction: Direction = "minimize",
    budget: int = 25,
    folds: int | None = None,
    tasks: Sequence[str] | None = None,
    random_state: RandomState = 0,
) -> BenchmarkResult:
    """Hold out each task in turn, refit on the others, and run the method on it.

    Args:
        starter: an unfitted warm starter (copied per fold).
        performance: ``n_tasks x n_configs`` (metric direction, NaN missing).
        meta_features: tasks x names, or None.
        direction: the metric's direction.
        budget: evaluations per held-out task.
        folds: None = leave-one-task-out (one fit per evaluated task); ``K`` = grouped K-fold
            over the evaluated tasks (one fit per fold; the folds are a seeded shuffle).
        tasks: the tasks to evaluate (default: all). The others are always in training.
        random_state: seed for the folds and the methods.

    Returns:
        A :class:`BenchmarkResult` with one curve per evaluated task.
    """
    perf = check_performance(performance)
    feats = check_meta_features(meta_features) if meta_features is not None else None
    eval_tasks = perf.index if tasks is None else pd.Index([str(t) for t in tasks])
    unknown = eval_tasks.difference(perf.index)
    if len(unknown):
        raise InputError(f"tasks {unknown[:5].tolist()} are not rows of the performance matrix.")
    if len(perf) < 2:
        raise InputError(
            f"leave-one-task-out needs at least 2 tasks in the performance matrix (one to hold "
            f"out, the others to train on); got {len(perf)}."
        )
    if starter.requires_meta_features and feats is not None:
        described = feats.index[feats.notna().any(axis=1)]
        lacking = eval_tasks.difference(described, sort=False)
        if len(lacking):
            raise InputError(
                f"tasks {lacking[:5].tolist()}{' ...' if len(lacking) > 5 else ''} have no "
                f"meta-features; the {starter.name!r} method needs them for every held-out "
                "task. Pass tasks=[those with meta-features] (command line: --tasks "
                "with-meta-features); the others still serve as training tasks."
            )
    rng = check_random_state(random_state)
    seed = int(rng.integers(0, 2**31 - 1))
    if folds is None:
        groups = [[t] for t in eval_tasks]
    else:
        if not isinstance(folds, (int, np.integer)) or not 2 <= folds <= len(eval_tasks):
            raise InputError(
                f"folds must be an int between 2 and {len(eval_tasks)} (the evaluated tasks), "
                f"got {folds!r}; or None for leave-one-task-out."
            )
        perm = np.random.default_rng(seed).permutation(len(eval_tasks))
        groups = [list(eval_tasks[perm[i::folds]]) for i in range(folds)]
    positions = {t: i for i, t in enumerate(perf.index)}
    out = BenchmarkResult(curves={}, method=starter.name)
    name = starter.name
    for group in _progress(groups, len(groups), f"{name} folds"):
        train = perf.drop(index=group)
        # configurations evaluated only on held-out tasks are unknown to this fold's training
        # tasks: no method could rank them, and a fit refuses them; they leave this fold
        unseen = train.columns[train.isna().all(axis=0)]
        if len(unseen):
            logger.info("fold of %s: %d configurations evaluated only on held-out tasks are "
                        "left out (%s)", group[:3], len(unseen), unseen[:3].tolist())
            train = train.drop(columns=unseen)
        res = evaluate(
            starter,
            train,
            perf.loc[group, train.columns],
            train_meta_features=None if feats is None else feats.drop(
                index=[g for g in group if g in feats.index]),
            test_meta_features=None if feats is None or not any(
                g in feats.index for g in group) else feats.loc[
                [g for g in group if g in feats.index]],
            direction=direction,
            budget=budget,
            random_state=seed,
            _seed_positions=positions,
        )
        out.curves.update(res.curves)
        out.fit_seconds += res.fit_seconds
        out.suggest_seconds += res.suggest_seconds
        out.method = res.method
    out.curves = {t: out.curves[t] for t in eval_tasks}
    return out


def regret_curves(
    curves: Mapping[str, Sequence[float]],
    performance: pd.DataFrame,
    *,
    direction: Direction = "minimize",
    normalize: str | None = None,
) -> pd.DataFrame:
    """Regret after each evaluation: best-so-far minus the task's best (>= 0).

    Args:
        curves: task id -> best-so-far values (metric direction).
        performance: a matrix holding every task of ``curves`` (its best is the row's best).
        direction: the metric's direction.
        normalize: None (raw metric units) or ``"range"`` (divided by the row's best-to-worst
            range, so tasks on different scales count the same).

    Returns:
        DataFrame ``n_tasks x budget``, columns ``1..budget`` (number of evaluations).
    """
    perf = check_performance(performance)
    tasks = [str(t) for t in curves]
    missing = [t for t in tasks if t not in perf.index]
    if missing:
        raise InputError(f"tasks {missing[:5]} of the curves are not in the performance matrix.")
    C = to_minimize(np.asarray([list(curves[t]) for t in curves], dtype=np.float64), direction)
    Y = to_minimize(perf.loc[tasks].to_numpy(), direction)
    best = np.nanmin(Y, axis=1, keepdims=True)
    R = C - best
    if normalize == "range":
        span = np.nanmax(Y, axis=1, keepdims=True) - best
        R = R / np.where(span > 0, span, 1.0)
    elif normalize is not None:
        raise InputError(f"normalize must be None or 'range', got {normalize!r}.")
    return pd.DataFrame(R, index=tasks, columns=np.arange(1, C.shape[1] + 1))


def regret_table(
    regrets: Mapping[str, pd.DataFrame], at: Sequence[int] = DEFAULT_AT
) -> pd.DataFrame:
    """Mean regret over tasks at the given numbers of evaluations, one row per method."""
    rows = {}
    for method, R in regrets.items():
        cols = [a for a in at if a in R.columns]
        rows[method] = R[cols].mean(axis=0)
    table = pd.DataFrame(rows).T
    table.columns = [f"@{a}" for a in table.columns]
    return table


def plot_regret(
    regrets: Mapping[str, pd.DataFrame],
    path: str | Path,
    *,
    title: str = "warm-start regret",
    ylabel: str = "mean regret (best so far - task best)",
) -> Path:
    """Write a PNG of mean regret vs number of evaluations, one line per method (log y axis)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.0, 4.0), dpi=120)
    FigureCanvasAgg(fig)  # no pyplot: no global state, no display needed
    ax = fig.add_subplot(1, 1, 1)
    for method, R in regrets.items():
        mean = R.mean(axis=0)
        ax.plot(mean.index, np.maximum(mean.to_numpy(), 1e-6), label=method, marker=".")
    ax.set_yscale("log")
    ax.set_xlabel("evaluations")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    return out


def plot_regret_panels(
    panels: Mapping[str, Mapping[str, pd.DataFrame]],
    path: str | Path,
    *,
    title: str = "warm-start regret",
) -> Path:
    """Like :func:`plot_regret` with one panel per matrix (``{panel title: {method: R}}``)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n = max(len(panels), 1)
    fig = Figure(figsize=(4.6 * n, 3.9), dpi=120)
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, n, squeeze=False)[0]
    for ax, (label, regrets) in zip(axes, panels.items()):
        for method, R in regrets.items():
            mean = R.mean(axis=0)
            ax.plot(mean.index, np.maximum(mean.to_numpy(), 1e-6), label=method, marker=".")
        ax.set_yscale("log")
        ax.set_xlabel("evaluations")
        ax.set_title(label, fontsize=9)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("mean regret")
    axes[0].legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    return out
