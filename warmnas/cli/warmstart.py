"""``warmnas warm-start`` (configurations for a CSV dataset) and ``warmnas bench warmstart``.

``warmnas bench warmstart`` runs the warm-start benchmark protocol on CSV matrices (tasks x
configurations, first column = task id, lower is better unless ``--direction maximize``):

* train/test mode: fit on ``--train-matrix``/``--train-meta-features``, run on every task of
  ``--test-matrix`` (meta-features from ``--test-meta-features``);
* leave-one-task-out mode: ``--loto MATRIX.csv --meta-features F.csv`` (``--folds K`` for grouped
  K-fold instead), optionally several ``--method`` values and ``--plot OUT.png``.

Output: per test task the best-so-far value after each evaluation (``--json``:
``{"curves": {task: [...]}}``; several methods: ``{"methods": {name: {"curves": ...}}}``), and a
regret table at 1/3/5/10/25 evaluations.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from warmnas.cli._common import check_output_file, separator
from warmnas.errors import InputError, MissingDataError

logger = logging.getLogger(__name__)

_BENCH_DESCRIPTION = (
    "Warm-start benchmark. Matrices are CSV files, rows = tasks (first column = task id), "
    "columns = configurations. Train/test mode: fit on --train-matrix (+ "
    "--train-meta-features), run on every task of --test-matrix. Leave-one-task-out mode: "
    "--loto MATRIX --meta-features F (grouped K-fold with --folds K). For each test task the "
    "method proposes configurations one at a time and sees only the values of those it "
    "proposed. --json prints {\"method\", \"curves\": {task: [best so far after 1..budget]}, "
    "\"fit_seconds\", ..., \"protocol\"} (several --method: {\"methods\": {name: {...}}, "
    "\"protocol\"}); without it, the mean regret at 1/3/5/10/25 evaluations."
)


def register(commands: Any) -> None:
    """Add ``warm-start`` and ``bench warmstart``."""
    p = commands.add(
        "warm-start",
        help="propose the configurations to try first on a CSV dataset",
        handler=_warm_start,
    )
    p.add_argument("data", help="CSV file of the dataset (one row per sample)")
    p.add_argument("--target", required=True, help="name of the target column")
    p.add_argument("--method", default="knn", choices=["knn", "pmf", "portfolio", "random"],
                   help="warm starter (default: knn)")
    p.add_argument("--n-configs", type=int, default=10, help="how many configurations (10)")
    p.add_argument("--db", default=None,
                   help="meta-database URL (default: the embedded one)")
    p.add_argument("--metric", default=None, help="database metric (default: its default)")
    p.add_argument("--seed", type=int, default=0, help="random seed (0)")
    p.add_argument("--task", choices=["auto", "classification"], default="auto",
                   help="'classification': the target column holds class labels, however many "
                   "(integer labels with more than 100 distinct values are otherwise read as a "
                   "regression target); default: auto")
    p.add_argument("--sep", default=None, type=separator,
                   help="column separator of the CSV file (default: guessed from the header "
                        "line among , ; tab |)")
    p.add_argument("--encoding", default="utf-8", help="text encoding of the file (utf-8)")
    p.add_argument("--no-cache", action="store_true",
                   help="--method pmf on the embedded database: fit afresh, neither reading nor "
                        "writing the fitted-PMF cache ($WARMNAS_CACHE_DIR, else ~/.cache/warmnas)")
    p.add_argument("--time-budget", type=_seconds, default=None, metavar="SECONDS",
                   help="seconds available for running the proposals: configurations "
                        "predicted (from the database's runtimes) not to fit are not proposed, "
                        "PMF ranks by expected improvement per second (default: no limit)")
    p.add_argument("--fit-probability", type=float, default=None, metavar="P",
                   help="with --time-budget: propose only what finishes in the time left with "
                        "probability >= P, judged by the runtime predictor's cross-validated "
                        "errors (default: 0.95)")
    p.add_argument("--calibrate", choices=["mean", "posterior", "posterior-late", "none"],
                   default=None,
                   help="with --time-budget: how measured runtimes rescale the predictions by "
                        "a machine factor; here nothing is measured yet, so only 'posterior' "
                        "changes the proposals (the factor's prior uncertainty widens the "
                        "plan; 'posterior-late' widens it only once a run is measured); "
                        "default: the library's (docs/warmstart_cost.md)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")

    commands.group("bench", help="benchmarks")
    b = commands.add(
        "warmstart",
        group="bench",
        help="warm-start benchmark: best-so-far curves and regret per method",
        handler=_bench,
        description=_BENCH_DESCRIPTION,
    )
    b.add_argument("--train-matrix", help="CSV: training tasks x configurations")
    b.add_argument("--train-meta-features", help="CSV: training tasks x meta-features")
    b.add_argument("--test-matrix", help="CSV: test tasks x configurations (same columns)")
    b.add_argument("--test-meta-features", help="CSV: test tasks x meta-features")
    b.add_argument("--loto", metavar="MATRIX", help="leave-one-task-out over this CSV matrix")
    b.add_argument("--meta-features", help="CSV meta-features for --loto")
    b.add_argument("--folds", type=int, default=None,
                   help="with --loto: grouped K-fold over tasks instead of one fit per task")
    b.add_argument("--tasks", choices=["all", "with-meta-features"], default="with-meta-features",
                   help="with --loto: which tasks to hold out (default with-meta-features: "
                        "those with meta-features; the others always stay in training)")
    b.add_argument("--method", action="append",
                   choices=["random", "portfolio", "portfolio-rank", "knn", "pmf"],
                   help="method (repeat for several; default knn); portfolio-rank is the "
                        "global-rank portfolio (mean rank over the training tasks)")
    b.add_argument("--budget", type=int, default=25, help="evaluations per task (25)")
    b.add_argument("--direction", choices=["minimize", "maximize"], default="minimize",
                   help="direction of the matrix values (default minimize)")
    b.add_argument("--normalize", choices=["none", "range"], default="none",
                   help="regret scale: raw units, or divided by each task's best-to-worst range "
                        "(default none)")
    b.add_argument("--seed", type=int, default=0, help="random seed (0)")
    b.add_argument("--plot", metavar="PNG", help="write mean regret vs evaluations here")
    b.add_argument("--json", action="store_true", help="print the curves as JSON")


# --------------------------------------------------------------------------------- helpers
#: column separators recognised from a CSV file's header line (first = preferred on a tie)
_SEPARATORS = (",", ";", "\t", "|")


def _guess_separator(header: str) -> str:
    """The separator of :data:`_SEPARATORS` that splits ``header`` into the most fields."""
    import csv

    best, most = ",", 1
    for sep in _SEPARATORS:
        n = len(next(csv.reader([header], delimiter=sep), []))
        if n > most:
            best, most = sep, n
    return best


def _read_table(path: str, what: str, *, index_col: int | None = None, sep: str | None = None,
                encoding: str = "utf-8", encoding_hint: str = "save it as UTF-8") -> Any:
    """Read a CSV file for a command, with errors that name the file and the fix.

    The separator is guessed from the header line (``,`` ``;`` tab ``|``) unless ``sep`` is
    given.

    Raises:
        MissingDataError: no such file.
        InputError: unknown encoding, undecodable text, an empty file, a file with a header but
            no data rows, or a file the CSV parser rejects.
    """
    import codecs

    import pandas as pd

    p = Path(path)
    if p.is_dir():
        raise InputError(f"{what} {p} is a folder; pass the path of a CSV file")
    if not p.is_file():
        raise MissingDataError(f"{what} file not found: {p}")
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InputError(
            f"unknown encoding {encoding!r}; use e.g. utf-8, latin-1 or cp1252"
        ) from None
    undecodable = (f"{what} {p} is not {encoding.upper()} text; {encoding_hint}")
    try:
        with open(p, encoding=encoding, newline="") as fh:
            header = fh.readline()
    except UnicodeDecodeError:
        raise InputError(undecodable) from None
    if not header.strip():
        raise InputError(
            f"{what} {p} is empty; expected a CSV file with a header line and one row per "
            "record."
        )
    if sep is None:
        sep = _guess_separator(header.lstrip("\ufeff"))
    import csv
    from collections import Counter

    names = next(csv.reader([header.lstrip("\ufeff").rstrip("\r\n")], delimiter=sep), [])
    dup = sorted(n for n, k in Counter(n.strip() for n in names).items() if k > 1 and n)
    if dup:
        raise InputError(
            f"{what} {p} has duplicate column names {dup[:5]}; each column needs its own name "
            "(pandas would silently rename the copies to 'name.1')."
        )
    import warnings

    try:
        with warnings.catch_warnings():
            # index_col=False: rows with a trailing delimiter ("1,2,x,") must not make pandas
            # take the first column as the index and shift every column by one; rows with
            # more values than the header make it warn (and drop them): an error here
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(p, sep=sep, index_col=False, encoding=encoding)
    except UnicodeDecodeError:
        raise InputError(undecodable) from None
    except pd.errors.ParserWarning:
        raise InputError(
            f"{what} {p} has rows with more fields than the header ({len(names)} names, "
            f"separator {sep!r}); give every column a name in the header line, or remove the "
            "extra values."
        ) from None
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(
            f"{what} {p} is not a readable CSV file (separator {sep!r}): "
            f"{str(exc).strip()}. Check that every row has as many fields as the header."
        ) from None
    if index_col is not None:
        frame = frame.set_index(frame.columns[index_col])
    if frame.shape[0] == 0:
        raise InputError(
            f"{what} {p} has a header but no data rows; expected one row per record."
        )
    return frame


def _read_csv(path: str | None, what: str) -> Any:
    """A benchmark matrix or meta-feature table: first column = task id (as ``str``)."""
    if path is None:
        return None
    frame = _read_table(path, what, index_col=0)
    if frame.shape[1] == 0:
        raise InputError(
            f"{what} {path} has no column besides the task ids in the first column; expected "
            "tasks x configurations (or tasks x meta-features)."
        )
    frame.index = frame.index.map(str)
    return frame


def _seconds(text: str) -> float:
    """``--time-budget``: a positive finite number of seconds."""
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number of seconds, got {text!r} (e.g. --time-budget 60)") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(
            f"expected a positive finite number of seconds, got {text!r} (e.g. --time-budget "
            "60; leave the option out for no time limit)")
    return value


def _warm_start(args: argparse.Namespace) -> int:
    import numpy as np
    import pandas as pd

    from warmnas.api import warm_start
    from warmnas.errors import InputError
    from warmnas.warmstart.cost import DEFAULT_FIT_PROBABILITY

    if args.fit_probability is not None and args.time_budget is None:
        raise InputError("--fit-probability applies with --time-budget only; add --time-budget "
                         "SECONDS or leave --fit-probability out")
    fit_probability = (DEFAULT_FIT_PROBABILITY if args.fit_probability is None
                       else args.fit_probability)
    if args.calibrate is not None and args.time_budget is None:
        raise InputError("--calibrate applies with --time-budget only; add --time-budget "
                         "SECONDS or leave --calibrate out")
    calibrate: bool | str = (True if args.calibrate is None
                             else False if args.calibrate == "none" else args.calibrate)
    sep = "\t" if args.sep in ("\\t", "tab") else args.sep
    data = _read_table(args.data, "dataset", sep=sep, encoding=args.encoding,
                       encoding_hint="pass its encoding with --encoding (e.g. latin-1)")
    if args.task == "classification" and args.target in data.columns:
        col = data[args.target]  # labels as text (missing cells stay missing)
        data[args.target] = col.astype(object).where(col.isna(), col.astype(str))
    ws = warm_start(data, target=args.target, method=args.method, n_configs=args.n_configs,
                    db=args.db, metric=args.metric, random_state=args.seed,
                    cache=not args.no_cache, time_budget=args.time_budget,
                    fit_probability=fit_probability, calibrate=calibrate)
    frame = ws.to_frame()
    costs = frame["predicted_cost_s"] if "predicted_cost_s" in frame.columns else None
    if args.json:
        out = {
            "method": ws.method,
            "metric": ws.metric,
            "direction": ws.direction,
            "configs": [
                {"rank": i + 1, "config_id": cid, "config": cfg,
                 "score": None if np.isnan(s) else float(s),
                 "stddev": None if np.isnan(d) else float(d),
                 **({} if costs is None else {"predicted_cost_s": float(costs.iloc[i])})}
                for i, (cid, cfg, s, d) in enumerate(
                    zip(ws.config_ids, ws.configs, ws.scores, ws.stddev))
            ],
            "time_budget": ws.time_budget,
            "neighbors": None if ws.neighbors is None else {
                str(k): float(v) for k, v in ws.neighbors.items()},
        }
        print(json.dumps(out, indent=2, default=str))
    else:
        cols = ["rank", "config_id", "score", "stddev"] + ([] if costs is None
                                                            else ["predicted_cost_s"])
        frame = frame[cols]
        frame["config"] = [json.dumps(c, default=str) for c in ws.configs]
        print(f"method={ws.method} metric={ws.metric} ({ws.direction})")
        if ws.time_budget is not None and costs is not None:
            print(f"time budget {ws.time_budget:g} s: {len(ws)} configurations, predicted "
                  f"{float(costs.sum()):.3g} s in all")
        with pd.option_context("display.max_colwidth", 120, "display.width", 200):
            print(frame.to_string(index=False))
        if ws.neighbors is not None:
            near = ", ".join(f"{k} ({v:.3g})" for k, v in ws.neighbors.iloc[:5].items())
            print(f"nearest tasks: {near}")
    return 0


def _bench(args: argparse.Namespace) -> int:
    from warmnas.warmstart import make_starter
    from warmnas.warmstart.evaluation import (
        evaluate,
        leave_one_task_out,
        plot_regret,
        regret_curves,
        regret_table,
    )

    methods = args.method or ["knn"]
    if len(set(methods)) != len(methods):
        raise InputError(f"--method given twice: {methods}")
    if args.plot:
        check_output_file(args.plot, "--plot", "regret.png")
    # every method is checked before the first runs: a long run must not end in an error
    needs = [m for m in methods if make_starter(m).requires_meta_features]
    if args.loto:
        if any(getattr(args, a) for a in ("train_matrix", "test_matrix")):
            raise InputError("use either --loto MATRIX or --train-matrix/--test-matrix, not both")
        matrix = _read_csv(args.loto, "--loto matrix")
        feats = _read_csv(args.meta_features, "--meta-features")
        tasks = None
        if args.tasks == "with-meta-features" and feats is not None:
            described = set(feats.index[feats.notna().any(axis=1)])
            tasks = [t for t in matrix.index if t in described]
            if not tasks:
                raise InputError(
                    "no task of the matrix has meta-features (check the ids in the first "
                    "column of both files), or pass --tasks all"
                )
        if needs:
            if feats is None:
                raise InputError(
                    f"--method {needs[0]} needs meta-features: pass --meta-features F.csv"
                )
            described = set(feats.index[feats.notna().any(axis=1)])
            lacking = [t for t in (matrix.index if tasks is None else tasks)
                       if t not in described]
            if lacking:
                raise InputError(
                    f"tasks {lacking[:5]}{' ...' if len(lacking) > 5 else ''} have no "
                    f"meta-features; --method {needs[0]!r} needs them for every held-out "
                    "task. Use --tasks with-meta-features (the others still train)."
                )
        results = {
            m: leave_one_task_out(make_starter(m), matrix, feats, direction=args.direction,
                                  budget=args.budget, folds=args.folds, tasks=tasks,
                                  random_state=args.seed)
            for m in methods
        }
        reference = matrix
        protocol = ("leave-one-task-out" if args.folds is None
                    else f"grouped {args.folds}-fold over tasks")
    else:
        missing = [a for a in ("train_matrix", "test_matrix") if not getattr(args, a)]
        if missing:
            raise InputError(
                "give --train-matrix and --test-matrix (and the meta-feature files), or "
                "--loto MATRIX --meta-features F"
            )
        train = _read_csv(args.train_matrix, "--train-matrix")
        test = _read_csv(args.test_matrix, "--test-matrix")
        tf = _read_csv(args.train_meta_features, "--train-meta-features")
        sf = _read_csv(args.test_meta_features, "--test-meta-features")
        if needs and (tf is None or sf is None):
            raise InputError(
                f"--method {needs[0]} needs meta-features: pass --train-meta-features and "
                "--test-meta-features"
            )
        results = {
            m: evaluate(make_starter(m), train, test, train_meta_features=tf,
                        test_meta_features=sf, direction=args.direction, budget=args.budget,
                        random_state=args.seed)
            for m in methods
        }
        reference = test
        protocol = "train/test"
    normalize = None if args.normalize == "none" else args.normalize
    regrets = {m: regret_curves(r.curves, reference, direction=args.direction,
                                normalize=normalize) for m, r in results.items()}
    if args.json:
        if len(methods) == 1:
            out: dict[str, Any] = results[methods[0]].to_json()
        else:
            out = {"methods": {m: r.to_json() for m, r in results.items()}}
        out["protocol"] = protocol
        json.dump(out, sys.stdout)
        sys.stdout.write("\n")
    else:
        table = regret_table(regrets)
        print(f"mean regret ({protocol}, {len(next(iter(results.values())).curves)} tasks, "
              f"load average {os.getloadavg()[0]:.2f})")
        print(table.to_string(float_format=lambda v: f"{v:.5f}"))
    if args.plot:  # after the results are out: a failing plot must not lose them
        sys.stdout.flush()
        try:
            plot_regret(regrets, args.plot, title=f"warm-start regret ({protocol})")
        except OSError as exc:
            raise InputError(
                f"--plot {args.plot} could not be written ({exc}); the results above are "
                "complete, only the plot is missing"
            ) from None
    return 0
