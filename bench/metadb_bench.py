#!/usr/bin/env python
"""Meta-database benchmark: import and full-matrix read times, SQLite and PostgreSQL side by side.

Prints, per backend:

1. Oboe import (358 x 219, balanced error + runtimes; target < 5 s) and its full matrix read.
2. Synthetic 1,000 tasks x 10,000 configs at 10% fill (1,000,000 evaluations): import
   (tasks + configs + evaluations, one transaction each) and full performance-matrix read
   (target: import + read < 60 s on a 2-core machine).
3. The peer on the same data and engine: pandas ``DataFrame.to_sql`` (executemany, no
   upsert/validation) and ``pandas.read_sql`` + ``pivot``, as a naive baseline; the ratio is
   peer time / our time (> 1: we are faster).

The 1-minute load average is printed next to the timings (the machine may be shared).

Usage::

    python bench/metadb_bench.py [--data-dir ../shared/data] [--postgres URL] [--tasks 1000]
                                 [--configs 10000] [--fill 0.1] [--skip-peer]

``--postgres`` defaults to $WARMNAS_TEST_POSTGRES_URL; each run uses a fresh schema, dropped after.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from warmnas.metadb import MetaDatabase  # noqa: E402
from warmnas.metadb.importers import import_oboe  # noqa: E402
from warmnas.space import ConfigSpace, Integer  # noqa: E402


def load() -> str:
    return f"load {os.getloadavg()[0]:.2f}"


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def synthetic(n_tasks: int, n_configs: int, fill: float, seed: int = 0) -> tuple[ConfigSpace, list[dict[str, int]], pd.DataFrame]:
    rng = np.random.default_rng(seed)
    space = ConfigSpace("synthetic", [Integer("i", 0, 10**9)])
    configs = [{"i": int(k)} for k in range(n_configs)]
    ids = np.array([space.config_id(c) for c in configs], dtype=object)
    per_task = max(1, int(round(fill * n_configs)))
    cols = np.concatenate([rng.choice(n_configs, size=per_task, replace=False) for _ in range(n_tasks)])
    rows = np.repeat(np.arange(n_tasks), per_task)
    tasks = np.array([f"syn/t{i}" for i in range(n_tasks)], dtype=object)
    records = pd.DataFrame({
        "task": tasks[rows], "config_id": ids[cols],
        "value": rng.random(len(rows)), "cost_s": rng.exponential(10.0, len(rows)),
    })
    return space, configs, records


def ours(url: str, data_dir: Path | None, space: ConfigSpace, configs: list[dict[str, int]],
         records: pd.DataFrame) -> dict[str, float]:
    out: dict[str, float] = {}
    db = MetaDatabase(url)
    if data_dir is not None:
        out["oboe_import"], _ = timed(lambda: import_oboe(db, data_dir / "oboe", show_progress=False))
        out["oboe_read"], m = timed(lambda: db.performance_matrix("balanced_error"))
        assert m.shape == (358, 219)
    tasks = [str(t) for t in pd.unique(records["task"].to_numpy(dtype=object))]

    def imp() -> None:
        db.add_tasks([{"task": t, "source": "synthetic"} for t in tasks])
        db.add_configs(configs, space=space)
        db.add_evaluations(records, metric="syn_error", direction="minimize", show_progress=False)

    out["syn_import"], _ = timed(imp)
    out["syn_read"], m = timed(lambda: db.performance_matrix("syn_error"))
    assert m.shape == (len(tasks), len(configs)), m.shape
    assert int(m.notna().to_numpy().sum()) == len(records)
    db.dispose()
    return out


def peer(url: str, records: pd.DataFrame) -> dict[str, float]:
    """pandas to_sql / read_sql + pivot on the same engine (no validation, no upsert)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    frame = records[["task", "config_id", "value", "cost_s"]]
    out: dict[str, float] = {}
    out["syn_import"], _ = timed(lambda: frame.to_sql("peer_evaluations", engine, if_exists="replace",
                                                      index=False, chunksize=50_000))

    def read() -> pd.DataFrame:
        long = pd.read_sql("SELECT task, config_id, value FROM peer_evaluations", engine)
        return long.pivot(index="task", columns="config_id", values="value")

    out["syn_read"], m = timed(read)
    assert m.notna().to_numpy().sum() == len(records)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE peer_evaluations"))
    engine.dispose()
    return out


def pg_schema(base: str) -> tuple[str, Callable[[], None]]:
    import sqlalchemy as sa

    schema = "wn_bench_" + uuid.uuid4().hex[:8]
    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in base else "?"

    def drop() -> None:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()

    return f"{base}{sep}options=-csearch_path%3D{schema}", drop


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_data = Path(os.environ.get("WARMNAS_SHARED_DATA", REPO.parent / "shared" / "data"))
    parser.add_argument("--data-dir", type=Path, default=default_data)
    parser.add_argument("--postgres", default=os.environ.get("WARMNAS_TEST_POSTGRES_URL"),
                        help="PostgreSQL URL (default $WARMNAS_TEST_POSTGRES_URL; omit to skip)")
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--configs", type=int, default=10000)
    parser.add_argument("--fill", type=float, default=0.1)
    parser.add_argument("--skip-peer", action="store_true")
    args = parser.parse_args(argv)

    data_dir = args.data_dir if (args.data_dir / "oboe" / "error_matrix.csv").exists() else None
    if data_dir is None:
        print(f"note: no Oboe data under {args.data_dir}; skipping the Oboe rows", file=sys.stderr)
    t, (space, configs, records) = timed(lambda: synthetic(args.tasks, args.configs, args.fill))
    print(f"synthetic data: {args.tasks} tasks x {args.configs} configs at {args.fill:.0%} fill = "
          f"{len(records):,} evaluations (generated in {t:.1f} s)")
    results: dict[str, dict[str, float]] = {}
    peers: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        backends = [("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}", None)]
        if args.postgres:
            url, drop = pg_schema(args.postgres)
            backends.append(("postgresql", url, drop))
        else:
            print("note: no PostgreSQL URL; pass --postgres to add it", file=sys.stderr)
        for name, url, drop in backends:
            try:
                print(f"[{name}] running ({load()}) ...", file=sys.stderr)
                results[name] = ours(url, data_dir, space, configs, records)
                if not args.skip_peer:
                    peer_url = url if name != "sqlite" else f"sqlite:///{Path(tmp) / 'peer.db'}"
                    peers[name] = peer(peer_url, records)
                results[name]["load"] = os.getloadavg()[0]
            finally:
                if drop is not None:
                    drop()
    print()
    header = f"{'':34s}" + "".join(f"{n:>14s}" for n in results)
    print(header)
    rows = [("Oboe import (s, target < 5)", "oboe_import"), ("Oboe matrix read (s)", "oboe_read"),
            ("synthetic import (s)", "syn_import"), ("synthetic matrix read (s)", "syn_read")]
    for label, key in rows:
        if all(key in r for r in results.values()):
            print(f"{label:34s}" + "".join(f"{r[key]:14.2f}" for r in results.values()))
    print(f"{'synthetic import + read (target < 60)':34s}"
          + "".join(f"{r['syn_import'] + r['syn_read']:14.2f}" for r in results.values()))
    if peers:
        print(f"{'peer pandas to_sql (s)':34s}" + "".join(f"{peers[n]['syn_import']:14.2f}" for n in results))
        print(f"{'peer read_sql + pivot (s)':34s}" + "".join(f"{peers[n]['syn_read']:14.2f}" for n in results))
        print(f"{'ratio import peer/ours':34s}"
              + "".join(f"{peers[n]['syn_import'] / results[n]['syn_import']:14.2f}" for n in results))
        print(f"{'ratio read peer/ours':34s}"
              + "".join(f"{peers[n]['syn_read'] / results[n]['syn_read']:14.2f}" for n in results))
    print(f"{'1-min load average at end':34s}" + "".join(f"{r['load']:14.2f}" for r in results.values()))
    print(f"({os.cpu_count()} CPUs; our import validates, upserts and runs in one transaction; "
          "the peer only appends)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
