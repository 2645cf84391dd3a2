"""``warmnas bench openml`` and ``warmnas bench surrogate``: warm-started benchmark studies.

Examples::

    warmnas bench openml --tasks 1882 --methods knn,portfolio,random --budget 10 \\
        --db sqlite:///results.db --cache-dir ../shared/data/openml-cache --splits r0 --out report/
    warmnas bench openml --tasks 1882 31 --budget 25 --db postgresql://u:p@host/db \\
        --dask-scheduler tcp://10.0.0.5:8786 --out report/
    warmnas bench surrogate --table oboe --tasks 50 --methods knn,portfolio,random --budget 25 \\
        --db sqlite:///study.db --dask-local 2 --out report/
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from warmnas.errors import InputError

logger = logging.getLogger(__name__)

_EPILOG = (
    "Evaluations run in a local process pool by default (--workers N), in this process with "
    "--serial, or on Dask: --dask-local N starts a LocalCluster of N worker processes, "
    "--dask-scheduler tcp://HOST:PORT uses a running cluster. Every evaluation is written into "
    "--db as it finishes; re-running the same command resumes (stored evaluations are not run "
    "again)."
)


def register(commands: Any) -> None:
    commands.group("bench", help="benchmarks of the warm starters (OpenML tasks, recorded tables)")

    p = commands.add(
        "openml", group="bench", handler=_openml,
        help="warm-started searches on OpenML tasks, evaluated with the tasks' own CV splits",
        description="Warm-started searches (kNN, PMF, portfolio, random) on OpenML tasks: "
                    "each suggested Oboe pipeline is cross-validated on the task's own splits, "
                    "stored in the meta-database, and reported. " + _EPILOG,
    )
    p.add_argument("--tasks", nargs="+", required=True, metavar="ID",
                   help="OpenML task ids (space or comma separated), e.g. 1882")
    _common(p)
    p.add_argument("--cache-dir", default=None,
                   help="openml-python cache folder, read offline (default: openml's own cache, "
                        "~/.cache/openml)")
    p.add_argument("--server", choices=("test", "www"), default=None,
                   help="OpenML server of the cache (default: the one the cache holds)")
    p.add_argument("--online", action="store_true",
                   help="let openml-python download what the cache lacks (default: offline; a "
                        "missing file is an immediate error naming it)")
    p.add_argument("--prior", default=None, metavar="URL",
                   help="meta-database the warm starters learn from (default: the embedded one, "
                        "Oboe's 358 x 219 balanced-error matrix)")
    p.add_argument("--splits", default="all",
                   help="which CV splits to evaluate on: 'all' (default), 'rK' (all folds of "
                        "repeat K, e.g. r0), or 'R:F,R:F' pairs (e.g. 0:0,0:1); the stored "
                        "fidelity is the fraction of the task's splits used")
    p.add_argument("--metric", choices=("balanced_error", "error"), default="balanced_error",
                   help="metric (default balanced_error: Oboe's, comparable with its matrix)")
    p.add_argument("--eval-timeout", type=float, default=600.0, metavar="S",
                   help="stop an evaluation after S seconds (a failed evaluation; some grid "
                        "pipelines, e.g. polynomial-kernel SVMs, may not converge for hours); "
                        "0 = no limit (default 600)")

    s = commands.add(
        "surrogate", group="bench", handler=_surrogate,
        help="warm-started searches on a recorded table (fast: evaluations are look-ups)",
        description="Surrogate study: the same searches, storage and reports as 'bench openml', "
                    "with evaluations looked up in a recorded table (Oboe, TabRepo, ASlib, "
                    "NAS-Bench-201). " + _EPILOG,
    )
    s.add_argument("--table", choices=("oboe", "tabrepo", "aslib", "nb201"), default="oboe",
                   help="the table (default oboe: the embedded default meta-database)")
    s.add_argument("--tasks", default=None, metavar="N|ID,...",
                   help="the first N tasks of the table, or task ids (default: all)")
    _common(s)
    s.add_argument("--data-dir", default=None,
                   help="shared data folder holding the table (default: $WARMNAS_SHARED_DATA or "
                        "../shared/data; not needed for --table oboe)")
    s.add_argument("--folds", type=int, default=None, metavar="K",
                   help="fit each warm starter without a group of tasks (grouped K-fold) instead "
                        "of without each single task (leave one out; default)")
    s.add_argument("--metric", default=None,
                   help="tabrepo: auc_error (default), log_loss or rmse; aslib: a metric of its "
                        "table (default predictive_accuracy); oboe and nb201 hold one metric")
    s.add_argument("--sleep", type=float, default=0.0, metavar="S",
                   help="simulated cost: sleep S seconds per evaluation (default 0)")
    s.add_argument("--cpu-iterations", type=int, default=0, metavar="N",
                   help="simulated cost: N iterations of a CPU-bound loop per evaluation "
                        "(default 0)")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--methods", default="knn,portfolio,random",
                   help="comma-separated warm starters: random, portfolio, knn, pmf "
                        "(default knn,portfolio,random)")
    p.add_argument("--budget", type=int, default=10, help="evaluations per task and method (default 10)")
    p.add_argument("--db", required=True, metavar="URL",
                   help="meta-database receiving the evaluations (sqlite:///file.db, "
                        "postgresql://...); read first to resume")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="report folder (curves.csv, summary.csv/.md, PNG plots)")
    p.add_argument("--json", action="store_true",
                   help="print the study (study.json's counts and settings), the summary rows "
                        "and the report's paths as one JSON document instead of the table")
    ex = p.add_mutually_exclusive_group()
    ex.add_argument("--workers", type=int, default=None, metavar="N",
                    help="local process pool of N workers (default: the CPUs available)")
    ex.add_argument("--serial", action="store_true", help="evaluate in this process")
    ex.add_argument("--dask-local", type=int, default=None, metavar="N",
                    help="start a Dask LocalCluster of N worker processes (one thread each)")
    ex.add_argument("--dask-scheduler", default=None, metavar="tcp://HOST:PORT",
                    help="run evaluations on this Dask cluster")
    p.add_argument("--batch-size", type=int, default=1,
                   help="suggestions in flight per search (default 1: strictly sequential)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--retry-failed", action="store_true",
                   help="evaluate again the configurations stored in --db as failed (an error, "
                        "a timeout, NaN) for these tasks; by default a re-run skips them, "
                        "except transient kinds (see --retry-transient)")
    p.add_argument("--retry-transient", type=int, default=1, metavar="N",
                   help="a stored failure of a transient kind (TimeoutError, MemoryError, "
                        "ChildProcessError: possibly the machine's fault) runs again while its "
                        "stored attempts are at most N (default 1: once, on the next run; "
                        "0: never without --retry-failed)")
    p.add_argument("--source", default=None, help="tag stored with each evaluation")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar (default: when stderr is a terminal)")


def _executor(args: argparse.Namespace) -> Any:
    from warmnas.bench.executors import make_executor

    for option, value in (("--workers", args.workers), ("--dask-local", args.dask_local)):
        if value is not None and value < 1:
            raise InputError(f"{option} must be a positive number of processes, got {value}")

    if not getattr(args, "verbose", 0):
        # Dask sets its loggers to INFO; on the command line only -v should show that
        for handler in logging.getLogger().handlers:
            handler.addFilter(_quiet_dask)
    if args.serial:
        return make_executor("serial")
    if args.dask_local is not None:
        return make_executor("dask", n_workers=args.dask_local)
    if args.dask_scheduler is not None:
        return make_executor("dask", scheduler=args.dask_scheduler)
    return make_executor("pool", n_workers=args.workers)


def _quiet_dask(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING or not record.name.startswith("distributed")


def _task_ids(values: list[str]) -> list[int]:
    out = []
    for v in values:
        for part in str(v).split(","):
            part = part.strip()
            if not part:
                continue
            if not part.isdigit() or int(part) < 1:
                raise InputError(f"--tasks takes positive OpenML task ids, got {part!r}")
            out.append(int(part))
    return out


def parse_splits(text: str) -> dict[str, Any]:
    """``'all'`` -> {}, ``'r0'`` -> {"repeats": [0]}, ``'0:0,0:1'`` -> {"splits": [(0, 0), (0, 1)]}.

    Raises:
        InputError: anything else.
    """
    text = text.strip()
    if text == "all":
        return {}
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if parts and all(p.startswith("r") and p[1:].isdigit() for p in parts):
        return {"repeats": [int(p[1:]) for p in parts]}
    pairs = []
    for part in parts or [text]:
        bits = part.split(":")
        if len(bits) != 2 or not all(b.isdigit() for b in bits):
            raise InputError(
                f"--splits must be 'all', 'rK' (all folds of repeat K) or 'R:F,R:F' pairs, "
                f"got {text!r}"
            )
        pairs.append((int(bits[0]), int(bits[1])))
    return {"splits": pairs}


def _check_out(value: str) -> None:
    """--out must be a folder (or not exist yet): checked before the study, not after it."""
    out = Path(value)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {value!r} is a file; pass a folder for the report (it is "
                         "created if missing)")


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (a batch scheduler's time limit, ``kill``) stops a study like Ctrl-C: what has
    finished is written before the process ends, instead of being dropped."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupted(url: str) -> int:
    """Ctrl-C: what is kept and how to go on, instead of a traceback (exit status 130)."""
    print(f"warmnas: interrupted; every evaluation that finished is stored in {url} - "
          "re-run the same command to resume (no report was written)", file=sys.stderr)
    return 130


def _print_json(paths: dict[str, Any]) -> int:
    """--json: study.json's content, the summary rows and the report's paths, NaN as null."""
    import json

    import pandas as pd

    from warmnas.cli.nas import json_safe

    out = json.loads(Path(paths["study"]).read_text())
    summary = pd.read_csv(paths["summary_csv"])
    out["summary"] = summary.astype(object).where(summary.notna(), None).to_dict("records")
    out["report"] = {k: [str(p) for p in v] if isinstance(v, list) else str(v)
                     for k, v in paths.items()}
    print(json.dumps(json_safe(out), allow_nan=False, default=str))
    return 0


def _finish(result: Any, args: argparse.Namespace) -> int:
    from warmnas.bench.report import format_rate, summarize, write_report

    paths = write_report(result, args.out, plots=not args.no_plots)
    if args.json:
        return _print_json(paths)
    summary = summarize(result)
    cols = [c for c in summary.columns if c.startswith("regret@")][:4]
    show = summary[["method", *cols, "final_value", "mean_rank", "evaluated", "stored", "failed"]]
    # "stored" in the summary = taken from the meta-database (stored before this run); printed
    # right after a run that wrote everything into --db, that name read as "nothing was written"
    show = show.rename(columns={"stored": "reused"})
    print(show.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"\n{result.n_evaluated} evaluations run ({result.n_reused} reused from the "
          f"meta-database, {result.n_failed} failed and stored as failures) in "
          f"{result.wall_s:.1f} s on {result.executor} x{result.n_workers}: "
          f"{format_rate(result.throughput)} evaluations/s")
    if result.n_retried_failed:
        print(f"{result.n_retried_failed} stored failures evaluated again ("
              f"{'--retry-failed' if result.info.get('retry_failed') else 'transient kinds, --retry-transient'})")
    if result.n_skipped_failed:
        print(f"{result.n_skipped_failed} skipped as failed before (failures stored in --db; "
              "--retry-failed runs them again)")
    print(f"report: {paths['summary_md']}")
    return 0


def _check_retry_transient(args: argparse.Namespace) -> None:
    if args.retry_transient < 0:
        raise InputError(f"--retry-transient must be an int >= 0 (0: never retry a transient "
                         f"failure without --retry-failed), got {args.retry_transient}")


def _openml(args: argparse.Namespace) -> int:
    from warmnas.bench.prior import Prior
    from warmnas.bench.study import openml_study
    from warmnas.metadb import MetaDatabase

    ids = _task_ids(args.tasks)
    split_kw = parse_splits(args.splits)
    _check_retry_transient(args)
    _check_out(args.out)
    if not (math.isfinite(args.eval_timeout) and args.eval_timeout >= 0):
        raise InputError(f"--eval-timeout must be seconds >= 0 (0 = no limit), got "
                         f"{args.eval_timeout:g}")
    cache_dir = args.cache_dir
    if cache_dir is None:
        import openml

        cache_dir = str(openml.config._root_cache_directory)
    # the prior is only read: a mistyped path must not become an empty database file
    prior = Prior.from_metadb(MetaDatabase(args.prior, read_only=True) if args.prior
                              else MetaDatabase.default(),
                              "balanced_error", space="oboe")
    db = MetaDatabase(args.db)
    extra = {"source": args.source} if args.source else {}
    try:
        with _sigterm_as_interrupt(), _executor(args) as executor:
            result = openml_study(
                ids, args.methods, db=db, budget=args.budget, cache_dir=cache_dir,
                server=args.server, offline=not args.online, prior=prior, metric=args.metric,
                executor=executor, random_state=args.seed, batch_size=args.batch_size,
                show_progress=args.progress, eval_timeout_s=args.eval_timeout or None,
                retry_failed=args.retry_failed, retry_transient=args.retry_transient,
                **split_kw, **extra)
    except KeyboardInterrupt:
        return _interrupted(db.url)
    return _finish(result, args)


def _data_dir(value: str | None) -> Path | None:
    if value is not None:
        return Path(value)
    env = os.environ.get("WARMNAS_SHARED_DATA")
    if env:
        return Path(env)
    guess = Path.cwd().parent / "shared" / "data"
    return guess if guess.is_dir() else None


def _surrogate(args: argparse.Namespace) -> int:
    from warmnas.bench.study import surrogate_study
    from warmnas.metadb import MetaDatabase

    tasks: Any = None
    if args.tasks:
        tasks = int(args.tasks) if args.tasks.isdigit() else \
            [t.strip() for t in args.tasks.split(",") if t.strip()]
    data_dir = _data_dir(args.data_dir) if args.table != "oboe" or args.data_dir else None
    _check_retry_transient(args)
    _check_out(args.out)
    db = MetaDatabase(args.db)
    extra = {"source": args.source} if args.source else {}
    try:
        with _sigterm_as_interrupt(), _executor(args) as executor:
            result = surrogate_study(
                args.table, args.methods, db=db, budget=args.budget, data_dir=data_dir,
                tasks=tasks, folds=args.folds, metric=args.metric, sleep_s=args.sleep,
                cpu_iterations=args.cpu_iterations, executor=executor, random_state=args.seed,
                batch_size=args.batch_size, show_progress=args.progress,
                retry_failed=args.retry_failed, retry_transient=args.retry_transient,
                **extra)
    except KeyboardInterrupt:
        return _interrupted(db.url)
    return _finish(result, args)
