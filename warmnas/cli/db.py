"""``warmnas db ...``: import public data into a meta-database, inspect it, export it.

    warmnas db import {oboe,tabrepo,aslib,autosklearn,nb201,nb201-records,fbnet,pmf-features,openml} PATH --db URL
    warmnas db info [--db URL] [--json]
    warmnas db export {evaluations,failures,matrix,meta-features,aslib} --out OUT [--db URL] [--metric M] ...
    warmnas db copy --out DESTINATION_URL [--db SOURCE_URL]

(``export`` and ``copy`` still accept the output as a positional argument, their older form.)

``--db`` takes a SQLAlchemy URL (``sqlite:///meta.db``, ``postgresql://...``) or a file path;
``info``, ``export`` and ``copy`` default to the embedded default database.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from warmnas.cli._common import add_out
from warmnas.errors import InputError, UnknownIdError

SOURCES = ("oboe", "tabrepo", "aslib", "autosklearn", "nb201", "nb201-records", "fbnet",
           "pmf-features", "openml")
EXPORTS = ("evaluations", "failures", "matrix", "meta-features", "aslib")
#: options that an export of each kind does not read
_UNUSED_OPTIONS = {"evaluations": ("--view", "--normalize"),
                   "failures": ("--view", "--normalize"), "matrix": ("--view", "--task"),
                   "meta-features": ("--metric", "--space", "--normalize", "--task"),
                   "aslib": ("--normalize", "--format", "--task")}


def register(commands: Any) -> None:
    """Add the ``db`` command group."""
    commands.group("db", help="import, inspect and export meta-databases")
    imp = commands.add(
        "import", group="db", handler=run_import,
        help="import a public data set into a meta-database (one atomic transaction)",
        description=("Import a public data set into a meta-database. The files are read and "
                     "checked first; everything is then written in one transaction, so a failed "
                     "or interrupted import changes nothing. Re-running it is harmless."),
    )
    imp.add_argument("source", choices=SOURCES, help="which data set PATH holds")
    imp.add_argument("path", help="the data set's folder (or file, for pmf-features)")
    imp.add_argument("--db", required=True, help="target database URL or SQLite file path")
    imp.add_argument("--devices", nargs="+", metavar="DEVICE",
                     help="nb201/fbnet: only these latency devices (default: all)")
    imp.add_argument("--no-latency", action="store_true", help="nb201: accuracies only")
    imp.add_argument("--top-k", type=int, default=20, help="nb201-records: records per dataset (default 20)")
    imp.add_argument("--only-existing", action="store_true",
                     help="pmf-features: only tasks already in the database")
    imp.add_argument("--task-prefix", help="aslib: prefix of the task ids")
    imp.add_argument("--json", action="store_true", help="print the import report as JSON")

    info = commands.add("info", group="db", handler=run_info,
                        help="summarise a meta-database (counts, metrics, spaces, views)")
    info.add_argument("--db", help="database URL or file (default: the embedded default)")
    info.add_argument("--json", action="store_true", help="print JSON")

    exp = commands.add("export", group="db", handler=run_export,
                       help="export evaluations, failed evaluations, a matrix, meta-features "
                            "(Parquet/CSV) or an ASlib scenario")
    exp.add_argument("what", choices=EXPORTS)
    add_out(exp, "out", help="output file (.parquet/.csv) or, for aslib, a new folder")
    exp.add_argument("--db", help="database URL or file (default: the embedded default)")
    exp.add_argument("--metric", help="evaluations, failures, matrix, aslib: metric (default: "
                                      "the database's default metric; failures: all)")
    exp.add_argument("--space", help="evaluations, failures, matrix, aslib: only configurations "
                                     "of this space")
    exp.add_argument("--task", help="evaluations, failures: only this task")
    exp.add_argument("--view", default="autosklearn",
                     help="meta-features, aslib: meta-feature view (default autosklearn)")
    exp.add_argument("--normalize", choices=("rank", "quantile"), help="matrix: normalisation")
    exp.add_argument("--format", choices=("parquet", "csv"),
                     help="evaluations, failures, matrix, meta-features: file format (default: "
                          "from the file name)")
    exp.add_argument("--json", action="store_true",
                     help="print {what, out, format, db} as JSON (the file or folder written)")

    cp = commands.add("copy", group="db", handler=run_copy,
                      help="copy a meta-database (default: the embedded one) into another")
    add_out(cp, "destination", metavar="URL", help="target database URL or SQLite file path")
    cp.add_argument("--db", help="source database URL or file (default: the embedded default)")
    cp.add_argument("--json", action="store_true",
                    help="print {source, destination, counts} as JSON (counts: the destination's)")


def _open(url: str | None, *, read_only: bool) -> Any:
    from warmnas.metadb import MetaDatabase

    return MetaDatabase(url, read_only=read_only if url is not None else None)


def run_import(args: argparse.Namespace) -> int:
    from warmnas.metadb import importers
    from warmnas.metadb.openml_cache import import_openml_cache

    db = _open(args.db, read_only=False)
    src = args.source
    if src == "oboe":
        report = importers.import_oboe(db, args.path)
    elif src == "tabrepo":
        report = importers.import_tabrepo(db, args.path)
    elif src == "aslib":
        report = importers.import_aslib(db, args.path, task_prefix=args.task_prefix)
    elif src == "autosklearn":
        report = importers.import_autosklearn(db, args.path)
    elif src == "nb201":
        report = importers.import_nb201(db, args.path, latency=not args.no_latency, devices=args.devices)
    elif src == "nb201-records":
        report = importers.import_nb201_nas_records(db, args.path, k=args.top_k)
    elif src == "fbnet":
        report = importers.import_fbnet(db, args.path, devices=args.devices)
    elif src == "pmf-features":
        report = importers.import_pmf_features(db, args.path, create_tasks=not args.only_existing)
    else:
        report = import_openml_cache(db, args.path)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(f"imported {report.source} into {db.url} in {report.seconds:.2f} s: "
              f"{report.tasks} tasks, {report.configs} configs, {report.evaluations} evaluations, "
              f"{report.meta_features} meta-feature values, {report.nas_records} NAS records"
              + (f"; skipped {report.skipped}" if any(report.skipped.values()) else ""))
    return 0


def run_info(args: argparse.Namespace) -> int:
    db = _open(args.db, read_only=True)
    info = db.info()
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"{info['url']} ({info['backend']}, schema v{info['schema_version']}"
          + (", read-only" if info["read_only"] else "") + ")")
    for key, n in info["counts"].items():
        print(f"  {key:14s} {n}")
    print(f"  default metric {info['default_metric']}")
    for name, m in info["metrics"].items():
        print(f"  metric {name} ({m['direction']}): {m['evaluations']} evaluations")
    print(f"  spaces: {', '.join(info['spaces']) or '-'}")
    print(f"  meta-feature views: {', '.join(info['meta_feature_views']) or '-'}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from warmnas.metadb import exporters

    given = {"--metric": args.metric is not None, "--space": args.space is not None,
             "--task": args.task is not None,
             "--view": args.view != "autosklearn", "--normalize": args.normalize is not None,
             "--format": args.format is not None}
    unused = [o for o in _UNUSED_OPTIONS[args.what] if given[o]]
    if unused:  # silently ignored before: `--view X` on a matrix export wrote the matrix
        verb = "does" if len(unused) == 1 else "do"
        raise InputError(f"{', '.join(unused)} {verb} not apply to 'db export {args.what}'; "
                         "drop it (see warmnas db export --help)")
    fmt = args.format
    if fmt is None and args.what != "aslib":
        # checked here so that the message names the options (the library's names `format=`)
        fmt = exporters.format_of(args.out)
        if fmt is None:
            raise InputError(f"cannot tell the format of --out {args.out!r}; use a .parquet or "
                             ".csv name or pass --format parquet|csv")
    db = _open(args.db, read_only=True)
    if args.task is not None:  # the library filters by it, so a typo gave an empty file
        import difflib

        tasks = [str(t) for t in db.tasks().index]
        if args.task not in tasks:
            close = difflib.get_close_matches(args.task, tasks, n=3)
            hint = f"did you mean {', '.join(map(repr, close))}? " if close else ""
            raise UnknownIdError(
                f"--task {args.task!r} is not a task of the meta-database {db.url}; {hint}"
                "MetaDatabase(url).tasks() lists the task ids")
    if args.what == "evaluations":
        out = exporters.export_evaluations(db, args.out, format=fmt, metric=args.metric,
                                           space=args.space, task=args.task)
    elif args.what == "failures":
        out = exporters.export_failures(db, args.out, format=fmt, metric=args.metric,
                                        space=args.space, task=args.task)
    elif args.what == "matrix":
        out = exporters.export_matrix(db, args.out, metric=args.metric, format=fmt,
                                      space=args.space, normalize=args.normalize)
    elif args.what == "meta-features":
        out = exporters.export_meta_features(db, args.out, view=args.view, format=fmt)
    else:
        out = exporters.export_aslib(db, args.out, metric=args.metric, space=args.space, view=args.view)
    if args.json:
        print(json.dumps({"what": args.what, "out": str(out), "format": fmt or "aslib",
                          "db": db.url}))
    else:
        print(f"wrote {out}", file=sys.stderr)
    return 0


def run_copy(args: argparse.Namespace) -> int:
    from warmnas.metadb import MetaDatabase

    source = _open(args.db, read_only=True)
    target = MetaDatabase(args.destination).copy_from(source)
    counts = target.info()["counts"]
    if args.json:
        print(json.dumps({"source": source.url, "destination": target.url, "counts": counts}))
        return 0
    print(f"copied {source.url} into {target.url}: {counts['tasks']} tasks, "
          f"{counts['evaluations']} evaluations")
    return 0
