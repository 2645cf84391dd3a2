"""Throughput of the benchmark runner: Dask (2 workers) vs a local process pool (2) vs one process.

A surrogate study over the Oboe matrix (the embedded default meta-database): the same tasks,
methods, budget and seeds on each executor, so every run evaluates the same plan; each run writes
into its own fresh SQLite meta-database. Printed per executor: evaluations/s over the study's
evaluation loop (warm-starter fits and the start of the workers - processes up, evaluation code
imported - excluded, shown apart), and the ratio to the single process.

Three cost models, from the same invocation:

* ``lookup``: a table look-up (microseconds). Executor overhead dominates, so one process is
  fastest: this measures the overhead per evaluation (submit, transfer, result, bookkeeping).
* ``sleep``: each evaluation also sleeps ``--sleep`` seconds (an I/O-like cost that needs no
  CPU): parallel workers overlap it, so 2 workers approach 2x whatever the machine load.
* ``cpu``: each evaluation also runs ``--cpu-iterations`` of a pure-Python loop (fixed CPU
  work, one core): 2 workers can only help when 2 cores are free, so on a loaded machine the
  speed-up is smaller. Read it with the load average printed next to it.

Usage::

    python bench/bench_openml_throughput.py [--tasks 40] [--budget 15] [--sleep 0.02]
        [--cpu-iterations 200000] [--modes lookup,sleep,cpu] [--executors single,pool,dask]
        [--repeat 2]

Every run's line is printed as it finishes; the final table shows each executor's best round.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any


def _load() -> str:
    return f"{os.getloadavg()[0]:.2f}"


def _warm_task(i: int) -> int:
    import warmnas.bench.evaluators  # what the first evaluation would import
    import warmnas.bench.surrogate  # noqa: F401

    time.sleep(0.2)
    return os.getpid()


def _warm_up(ex: Any, n: int) -> None:
    """Start every worker and import the evaluation code there (not part of the timed loop)."""
    futures = [ex.submit(_warm_task, i) for i in range(2 * n)]
    done = 0
    while done < len(futures):
        done += len(ex.wait())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=40, help="Oboe tasks (with meta-features)")
    ap.add_argument("--methods", default="random,portfolio,knn")
    ap.add_argument("--budget", type=int, default=15)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--sleep", type=float, default=0.02, help="seconds per evaluation (sleep mode)")
    ap.add_argument("--cpu-iterations", type=int, default=200_000,
                    help="loop iterations per evaluation (cpu mode)")
    ap.add_argument("--cost-tasks", type=int, default=12,
                    help="tasks in the sleep/cpu modes (they take longer)")
    ap.add_argument("--modes", default="lookup,sleep,cpu")
    ap.add_argument("--executors", default="single,pool,dask")
    ap.add_argument("--repeat", type=int, default=1,
                    help="rounds over the executors (interleaved, so a change of machine load "
                         "hits all of them); the table shows each executor's best round")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)

    from warmnas.bench import (
        DaskExecutor,
        PoolExecutor,
        SerialExecutor,
        SimulatedCost,
        run_study,
    )
    from warmnas.bench.surrogate import load_table, surrogate_tasks
    from warmnas.metadb import MetaDatabase

    prior, lookup = load_table("oboe")
    print(f"Oboe table: {prior.performance.shape[0]} tasks x {prior.performance.shape[1]} configs;"
          f" methods {args.methods}; budget {args.budget}; {args.workers} workers; "
          f"{os.cpu_count()} CPUs; load average (1 min) at start {_load()}")
    tmp = Path(tempfile.mkdtemp(prefix="warmnas-bench-"))
    executors = [e.strip() for e in args.executors.split(",")]
    rows = []
    for mode in [m.strip() for m in args.modes.split(",")]:
        n_tasks = args.tasks if mode == "lookup" else args.cost_tasks
        tasks = surrogate_tasks(prior, lookup, n_tasks, require_meta_features=True)
        ev = lookup if mode == "lookup" else SimulatedCost(
            lookup, sleep_s=args.sleep if mode == "sleep" else 0.0,
            cpu_iterations=args.cpu_iterations if mode == "cpu" else 0)
        runs: dict[str, list[Any]] = {name: [] for name in executors}
        for _round in range(args.repeat):
            for name in executors:
                t0 = time.perf_counter()
                if name == "single":
                    ex = SerialExecutor()
                elif name == "pool":
                    ex = PoolExecutor(args.workers)
                elif name == "dask":
                    ex = DaskExecutor(n_workers=args.workers)
                else:
                    raise SystemExit(f"unknown executor {name!r}")
                if name != "single":
                    _warm_up(ex, args.workers)
                start_s = time.perf_counter() - t0
                db = MetaDatabase(f"sqlite:///{tmp / f'{mode}-{name}-{_round}.db'}")
                load_before = _load()
                try:
                    res = run_study(tasks, args.methods, ev, prior=prior, db=db,
                                    budget=args.budget, executor=ex, random_state=0,
                                    show_progress=False)
                finally:
                    ex.close()
                stored = db.info()["counts"]["evaluations"]
                assert stored == res.n_evaluated, (stored, res.n_evaluated)
                runs[name].append((res, start_s, load_before, _load()))
                print(f"  {mode:6s} {name:6s} {res.n_evaluated:6d} evals  {res.wall_s:7.2f} s  "
                      f"{res.throughput:8.1f} eval/s  (fits {res.fit_s:.1f} s, start "
                      f"{start_s:.1f} s, load {load_before}->{_load()})", flush=True)
        base = None
        for name in executors:
            res, _start, lb, la = max(runs[name], key=lambda r: r[0].throughput)
            if base is None:
                base = res.throughput
            rows.append((mode, name, res.n_evaluated, res.wall_s, res.throughput,
                         res.throughput / base, res.fit_s, _start, lb, la))
    print()
    print("| cost model | executor | evaluations | loop wall s | evaluations/s | vs single "
          "| load avg (1 min) |")
    print("|---|---|---|---|---|---|---|")
    for mode, name, n, wall, thr, ratio, _fit, _start, lb, la in rows:
        label = {"lookup": "look-up only", "sleep": f"look-up + sleep {args.sleep * 1000:.0f} ms",
                 "cpu": f"look-up + {args.cpu_iterations} CPU iterations"}[mode]
        ex_label = {"single": "one process", "pool": f"process pool x{args.workers}",
                    "dask": f"Dask LocalCluster x{args.workers}"}[name]
        print(f"| {label} | {ex_label} | {n} | {wall:.2f} | {thr:.1f} | {ratio:.2f} | "
              f"{lb} -> {la} |")


if __name__ == "__main__":
    main()
