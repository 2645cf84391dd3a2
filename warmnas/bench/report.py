"""Reports of a study: a summary table (CSV + Markdown), the curves (CSV) and PNG plots.

* ``curves.csv``: one row per step of each (task, method) search (:data:`CURVE_COLUMNS` plus
  ``regret``).
* ``summary.csv`` / ``summary.md``: one row per method: mean regret after 1, 3, 5, 10, 25 ...
  evaluations and at the end, mean final value, mean rank among the methods (1 = best, per task,
  ties averaged), how many evaluations were run / shared / taken from the meta-database / failed
  in this run (stored as failures) / skipped because they had failed before, and the mean
  search time (cumulative evaluation cost).
* plots, one line per method, mean over tasks with a band of +- one standard error:
  ``regret_vs_evaluations.png``, ``regret_vs_time.png`` and the score (``accuracy`` = 1 - the
  error for ``*_error`` metrics, else the metric itself) ``..._vs_evaluations.png``,
  ``..._vs_time.png``. "Time" is each search's cumulative evaluation cost (the time it would
  have taken alone; for surrogate tables the recorded cost of the original evaluations); a
  method's time curve starts once each of its searches has its first result.

Regret is the distance of the best value so far to the best value known for the task (the
table's optimum in surrogate mode, else the best stored in the meta-database for that task and
protocol), so 0 = found the best known configuration.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from warmnas.bench.runner import StudyResult
from warmnas.errors import InputError

__all__ = ["summarize", "write_report", "plot_curves", "padded_best", "DEFAULT_AT"]

#: evaluation counts at which the summary reports the mean regret
DEFAULT_AT: tuple[int, ...] = (1, 3, 5, 10, 25, 50, 100)
#: failed evaluations listed in ``summary.md`` (all are in ``curves.csv``)
MAX_FAILURES_LISTED = 50


def padded_best(result: StudyResult, column: str = "regret") -> dict[str, np.ndarray]:
    """Per method, an array ``n_tasks x budget`` of ``column`` ("regret" or "best") after each
    evaluation; a search that ran out of candidates keeps its last value."""
    curves = result.curves.assign(regret=result.regret())
    budget = int(result.info.get("budget", curves["step"].max() if len(curves) else 0))
    out: dict[str, np.ndarray] = {}
    for method in result.methods:
        arr = np.full((len(result.tasks), budget), np.nan)
        sub = curves[curves["method"] == method]
        pos = {t: i for i, t in enumerate(result.tasks)}
        for task, grp in sub.groupby("task", sort=False):
            vals = grp.sort_values("step")[column].to_numpy(np.float64)
            n = min(len(vals), budget)
            arr[pos[task], :n] = vals[:n]
            if 0 < n < budget:
                arr[pos[task], n:] = vals[n - 1]
        out[method] = arr
    return out


def _check_at(at: Sequence[int]) -> None:
    bad = [k for k in at if isinstance(k, (bool, np.bool_))
           or not isinstance(k, (int, np.integer)) or k < 1]
    if bad:
        raise InputError(f"at must hold numbers of evaluations >= 1 (ints), got {bad[:3]} in "
                         f"{list(at)}")


def summarize(result: StudyResult, at: Sequence[int] = DEFAULT_AT) -> pd.DataFrame:
    """One row per method (see the module docstring for the columns)."""
    _check_at(at)
    curves = result.curves.assign(regret=result.regret())
    budget = int(result.info.get("budget", 0)) or int(curves["step"].max() if len(curves) else 0)
    at = [int(k) for k in at if k <= budget] + ([budget] if budget not in at else [])
    reg = padded_best(result, "regret")
    best = padded_best(result, "best")
    sign = 1.0 if result.direction == "minimize" else -1.0
    finals = pd.DataFrame({m: sign * best[m][:, -1] for m in result.methods}, index=result.tasks)
    ranks = finals.rank(axis=1, method="average").mean(axis=0)
    rows = []
    for m in result.methods:
        sub = curves[curves["method"] == m]
        last = sub.sort_values("step").groupby("task", sort=False).tail(1)
        row: dict[str, Any] = {"method": m, "tasks": int(sub["task"].nunique())}
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: failed searches
            for k in at:
                row[f"regret@{k}"] = float(np.nanmean(reg[m][:, k - 1])) if budget else math.nan
            row["final_value"] = float(np.nanmean(best[m][:, -1])) if budget else math.nan
        row["mean_rank"] = float(ranks.get(m, math.nan))
        counts = sub["origin"].value_counts()
        error = sub["error"].notna()
        from_db = sub["origin"] == "stored"
        row["evaluated"] = int(counts.get("evaluated", 0))
        row["shared"] = int(counts.get("shared", 0))
        row["stored"] = int((from_db & ~error).sum())  # results taken from the meta-database
        row["failed"] = int((error & ~from_db).sum())  # failed in this run
        row["skipped_failed"] = int((error & from_db).sum())  # failed before, not run again
        row["search_time_s"] = float(last["elapsed_s"].mean()) if len(last) else math.nan
        rows.append(row)
    return pd.DataFrame(rows)


def format_rate(value: float) -> str:
    """Evaluations per second for humans: ``2343``, ``46.9``, ``0.0127`` (never ``2.34e+03``
    or ``0.0``)."""
    if not math.isfinite(value):
        return str(value)
    return f"{value:.0f}" if value >= 100 else f"{value:.3g}"


def _markdown_table(frame: pd.DataFrame) -> str:
    def fmt(v: Any) -> str:
        if isinstance(v, float):
            if math.isnan(v):
                return "-"
            return f"{v:.4g}"
        return str(v)

    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    sep = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(fmt(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, sep, *body])


def _score(result: StudyResult) -> tuple[str, Any]:
    if result.metric.endswith("error"):
        label = f"accuracy (1 - {result.metric})"
        return "accuracy", (label, lambda v: 1.0 - v)
    return result.metric, (result.metric, lambda v: v)


def plot_curves(result: StudyResult, out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write the four PNG plots into ``out_dir``; returns their paths."""
    from matplotlib.figure import Figure

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    curves = result.curves.assign(regret=result.regret())
    name, (label, transform) = _score(result)
    paths = []
    reg = padded_best(result, "regret")
    best = padded_best(result, "best")
    budget = next(iter(reg.values())).shape[1] if reg else 0
    steps = np.arange(1, budget + 1)

    def band(ax: Any, x: np.ndarray, arr: np.ndarray, lab: str) -> None:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(arr, axis=0)
            n = np.sum(~np.isnan(arr), axis=0)
            se = np.nanstd(arr, axis=0) / np.sqrt(np.maximum(n, 1))
        (line,) = ax.plot(x, mean, label=lab)
        ax.fill_between(x, mean - se, mean + se, alpha=0.2, color=line.get_color())

    for kind, data, ylabel in (("regret", reg, f"regret ({result.metric})"),
                               (name, {m: transform(v) for m, v in best.items()}, label)):
        fig = Figure(figsize=(6.4, 4.2))
        ax = fig.subplots()
        for m in result.methods:
            band(ax, steps, data[m], m)
        ax.set_xlabel("evaluations")
        ax.set_ylabel(ylabel)
        ax.set_title(f"{ylabel} vs evaluations ({len(result.tasks)} tasks)")
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        path = out / f"{kind}_vs_evaluations.png"
        fig.savefig(path, dpi=110)
        paths.append(path)

    # vs time: each search's best value as a step function of its cumulative evaluation cost
    elapsed = curves["elapsed_s"].to_numpy(np.float64)
    pos = elapsed[np.isfinite(elapsed) & (elapsed > 0)]
    if len(pos):
        grid = np.geomspace(pos.min(), pos.max(), 120) if pos.max() > pos.min() else pos[:1]
        for kind, column, ylabel, tf in (("regret", "regret", f"regret ({result.metric})", None),
                                         (name, "best", label, transform)):
            fig = Figure(figsize=(6.4, 4.2))
            ax = fig.subplots()
            for m in result.methods:
                sub = curves[curves["method"] == m]
                arr = np.full((len(result.tasks), len(grid)), np.nan)
                for i, t in enumerate(result.tasks):
                    g = sub[sub["task"] == t].sort_values("step")
                    if not len(g):
                        continue
                    e = g["elapsed_s"].to_numpy(np.float64)
                    v = g[column].to_numpy(np.float64)
                    idx = np.searchsorted(e, grid, side="right") - 1
                    arr[i] = np.where(idx >= 0, v[np.clip(idx, 0, None)], np.nan)
                # the mean starts once every task has a result (so it never rises again)
                arr[:, np.isnan(arr).any(axis=0)] = np.nan
                band(ax, grid, tf(arr) if tf else arr, m)
            # explicit: with no finite value (all failed) there is no data range to scale
            ax.set_xlim(*((grid[0], grid[-1]) if len(grid) > 1 else (grid[0] / 2, grid[0] * 2)))
            ax.set_xscale("log")
            ax.set_xlabel("search time (cumulative evaluation cost, s)")
            ax.set_ylabel(ylabel)
            ax.set_title(f"{ylabel} vs time ({len(result.tasks)} tasks)")
            ax.grid(alpha=0.3)
            ax.legend()
            fig.tight_layout()
            path = out / f"{kind}_vs_time.png"
            fig.savefig(path, dpi=110)
            paths.append(path)
    return paths


def write_report(result: StudyResult, out_dir: str | os.PathLike[str], *,
                 at: Sequence[int] = DEFAULT_AT, plots: bool = True) -> dict[str, Path]:
    """Write ``curves.csv``, ``summary.csv``, ``summary.md``, ``study.json`` and the plots.

    Returns:
        ``{"curves": path, "summary_csv": path, "summary_md": path, "study": path,
        "plots": [paths]}`` (plots as a list).

    Raises:
        InputError: ``out_dir`` exists and is a file, or ``at`` holds a number of evaluations
            below 1 (nothing is written).
    """
    _check_at(at)  # before any file is written
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"out_dir {str(out)!r} is a file; pass a folder for the report")
    out.mkdir(parents=True, exist_ok=True)
    curves = result.curves.assign(regret=result.regret())
    paths: dict[str, Any] = {}
    paths["curves"] = out / "curves.csv"
    curves.to_csv(paths["curves"], index=False)
    summary = summarize(result, at)
    paths["summary_csv"] = out / "summary.csv"
    summary.to_csv(paths["summary_csv"], index=False)
    study = {
        "metric": result.metric, "direction": result.direction, "methods": result.methods,
        "tasks": result.tasks, "evaluated": result.n_evaluated, "reused": result.n_reused,
        "failed": result.n_failed, "skipped_failed": result.n_skipped_failed,
        "retried_failed": result.n_retried_failed,
        "retried": result.n_retried, "wall_s": result.wall_s,
        "fit_s": result.fit_s, "setup_s": result.setup_s, "executor": result.executor,
        "n_workers": result.n_workers, "throughput_eval_per_s": result.throughput,
        "source": result.source, "best_known": result.best_known, **result.info,
    }
    paths["study"] = out / "study.json"
    paths["study"].write_text(json.dumps(study, indent=2, default=str))
    lines = [
        f"# warmnas benchmark: {len(result.tasks)} task(s) x {len(result.methods)} method(s)",
        "",
        f"- metric: `{result.metric}` ({result.direction}); budget: "
        f"{result.info.get('budget')} evaluations per search",
        f"- evaluations: {result.n_evaluated} run now, {result.n_reused} taken from the "
        f"meta-database, {result.n_failed} failed (stored as failures), "
        f"{result.n_skipped_failed} skipped as failed before, {result.n_retried_failed} "
        f"failed before and evaluated again, {result.n_retried} resubmitted after a lost worker",
        f"- executor: {result.executor} ({result.n_workers} worker(s)); wall time "
        f"{result.wall_s:.2f} s; throughput {format_rate(result.throughput)} evaluations/s; warm-starter "
        f"fits {result.fit_s:.2f} s",
        f"- meta-database: `{result.info.get('db')}` (source tag `{result.source}`)",
        "- regret: distance of the best value so far to the best known value of the task; "
        "mean over tasks",
        "",
        _markdown_table(summary),
        "",
    ]
    failed = curves.loc[curves["error"].notna() & (curves["origin"] == "evaluated"),
                        ["task", "config_id", "error"]].drop_duplicates(["task", "config_id"])
    if len(failed):
        shown = failed.head(MAX_FAILURES_LISTED)
        lines += [
            "## Failed evaluations",
            "",
            f"{len(failed)} (task, configuration) evaluation(s) failed; they are told to the "
            "searches as missing values and stored in the meta-database as failures "
            "(`db.failures()`), so a re-run skips them (`--retry-failed` / `retry_failed=True` "
            "runs them again; timeouts, MemoryError and killed evaluation processes run once "
            "more by default, `--retry-transient`)." + (f" The first {len(shown)} are listed; all are in curves.csv "
                                   "(column `error`)." if len(shown) < len(failed) else ""),
            "",
            "| task | config_id | error |",
            "|---|---|---|",
            *(f"| {t} | {c} | {' '.join(str(e).split()).replace('|', '/')[:300]} |"
              for t, c, e in shown.itertuples(index=False)),
            "",
        ]
    if plots:
        paths["plots"] = plot_curves(result, out)
        lines += ["## Plots", ""] + [f"![{p.stem}]({p.name})" for p in paths["plots"]] + [""]
    paths["summary_md"] = out / "summary.md"
    paths["summary_md"].write_text("\n".join(lines))
    return paths
