#!/usr/bin/env python
"""Build the embedded default meta-database shipped in ``warmnas/data/metadb.sqlite``.

Contents (all from the shared public data; see warmnas/data/README.md):

- Oboe (BSD-3): 358 OpenML datasets x 219 sklearn pipelines, metric ``balanced_error``
  (minimize), runtimes as ``cost_s``; the default metric.
- PMF meta-features (BSD-3): the 46 auto-sklearn meta-features (view ``autosklearn``) of the Oboe
  datasets that have them.
- NAS-Bench-201 (NATS-Bench values; HELP, MIT): test accuracy of all 15,625 cells on CIFAR-10,
  CIFAR-100 and ImageNet16-120 (metric ``test_accuracy``), and NAS records of the top-k cells per
  dataset with architecture logits derived from them.

Usage::

    python scripts/build_default_db.py --data-dir ../shared/data [--out warmnas/data/metadb.sqlite]
    # after a schema change: check that the content did not change
    git show HEAD:warmnas/data/metadb.sqlite > /tmp/old.sqlite
    python scripts/build_default_db.py --data-dir ../shared/data --compare-with /tmp/old.sqlite

The data folder defaults to ``$WARMNAS_SHARED_DATA`` or ``../shared/data`` beside the repository.
The file is written next to the target first and moved into place at the end, so a failed build
never leaves a half-built file behind.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

LICENSES = {
    "oboe/LICENSE.oboe": "LICENSE.oboe",
    "pmf-metafeatures/LICENSE.pmf-automl": "LICENSE.pmf-automl",
    "nasbench201/LICENSE.HELP": "LICENSE.HELP",
}


def default_data_dir() -> Path:
    env = os.environ.get("WARMNAS_SHARED_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=default_data_dir(),
                        help="the shared real-data folder (default: $WARMNAS_SHARED_DATA or ../shared/data)")
    parser.add_argument("--out", type=Path, default=REPO / "warmnas" / "data" / "metadb.sqlite")
    parser.add_argument("--nas-top-k", type=int, default=20,
                        help="NAS records per NAS-Bench-201 dataset (default 20)")
    parser.add_argument("--compare-with", type=Path, default=None, metavar="OLD",
                        help="after building, compare every table's rows with this earlier build "
                             "(write timestamps and the schema version aside; tables only one "
                             "file has must be empty); exit 1 on any difference")
    args = parser.parse_args(argv)
    if args.compare_with is not None and not args.compare_with.is_file():
        print(f"error: --compare-with {args.compare_with} is not a file", file=sys.stderr)
        return 2

    sys.path.insert(0, str(REPO))
    from warmnas.metadb import MetaDatabase
    from warmnas.metadb.importers import (
        import_nb201,
        import_nb201_nas_records,
        import_oboe,
        import_pmf_features,
    )

    data = args.data_dir
    if not (data / "SOURCES.md").exists():
        print(f"error: {data} is not the shared data folder (no SOURCES.md); pass --data-dir",
              file=sys.stderr)
        return 2
    out: Path = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        tmp_path = Path(tmp) / out.name
        db = MetaDatabase(tmp_path)
        for label, run in (
            ("oboe", lambda: import_oboe(db, data / "oboe", show_progress=False)),
            ("pmf", lambda: import_pmf_features(db, data / "pmf-metafeatures", create_tasks=False)),
            ("nb201", lambda: import_nb201(db, data / "nasbench201", latency=False, show_progress=False)),
            ("nb201-nas", lambda: import_nb201_nas_records(db, data / "nasbench201", k=args.nas_top_k)),
        ):
            report = run()
            print(f"{label:10s} tasks={report.tasks} configs={report.configs} "
                  f"evaluations={report.evaluations} meta_features={report.meta_features} "
                  f"nas_records={report.nas_records} skipped={report.skipped} ({report.seconds:.1f} s)")
        db.set_default_metric("balanced_error")
        db.dispose()
        # a read-only friendly single file: no WAL, compacted
        con = sqlite3.connect(tmp_path)
        con.execute("PRAGMA journal_mode = DELETE")
        con.execute("VACUUM")
        con.close()
        os.replace(tmp_path, out)
    licenses = out.parent / "LICENSES"
    licenses.mkdir(exist_ok=True)
    for src, dst in LICENSES.items():
        shutil.copyfile(data / src, licenses / dst)
    size = out.stat().st_size
    print(f"wrote {out} ({size / 1e6:.2f} MB) in {time.perf_counter() - start:.1f} s")
    if args.compare_with is not None:
        old_size = args.compare_with.stat().st_size
        print(f"size: {old_size:,} -> {size:,} bytes ({(size - old_size) / old_size:+.2%})")
        return 0 if compare(args.compare_with, out) else 1
    return 0


def _rows(rows: list[tuple[object, ...]], keep: list[int], meta: bool) -> list[tuple[object, ...]]:
    if meta:
        rows = [r for r in rows if r[0] not in ("created_at", "schema_version")]
    return sorted((tuple(r[i] for i in keep) for r in rows), key=repr)


def compare(old: Path, new: Path) -> bool:
    """Print, table by table, whether two builds hold the same rows; True when they all do.

    Columns named ``timestamp`` (write times) and the ``created_at`` / ``schema_version``
    entries of ``warmnas_meta`` are left out; a table only one file has must be empty. Rows are
    compared as stored (surrogate ids included), sorted.
    """
    def tables(path: Path) -> dict[str, tuple[list[str], list[tuple[object, ...]]]]:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            names = [r[0] for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
            return {name: ([r[1] for r in con.execute(f"PRAGMA table_info({name})")],
                           con.execute(f"SELECT * FROM {name}").fetchall()) for name in names}
        finally:
            con.close()

    a, b = tables(old), tables(new)
    ok = True
    for name in sorted(set(a) | set(b)):
        if name not in a or name not in b:
            rows = len((a.get(name) or b[name])[1])
            where = "new" if name in b else "old"
            print(f"  {name}: only in the {where} file, {rows} rows")
            ok &= rows == 0
            continue
        (cols, rows_a), (cols_b, rows_b) = a[name], b[name]
        if cols != cols_b:
            print(f"  {name}: columns differ: {cols} vs {cols_b}")
            ok = False
            continue
        keep = [i for i, c in enumerate(cols) if c != "timestamp"]
        meta = name.endswith("_meta")
        same = _rows(rows_a, keep, meta) == _rows(rows_b, keep, meta)
        ok &= same
        print(f"  {name}: {len(rows_a)} vs {len(rows_b)} rows, "
              f"{'identical' if same else 'DIFFERENT'}")
    print("content identical" if ok else "content DIFFERS")
    return ok


if __name__ == "__main__":
    sys.exit(main())
