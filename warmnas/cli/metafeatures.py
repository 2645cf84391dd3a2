"""``warmnas metafeatures DATA --target COLUMN [--groups ...] [--names ...] [--json]``.

DATA is a CSV file or ``sklearn:NAME`` for a dataset bundled with scikit-learn (iris, wine,
breast_cancer, digits; diabetes for regression). String columns of a CSV are categorical;
columns with no value at all are dropped (with a note on stderr), since no meta-feature can
describe them.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import warnings
from pathlib import Path
from typing import Any

from warmnas.cli._common import separator
from warmnas.errors import InputError, MissingDataError

SKLEARN_DATASETS = ("iris", "wine", "breast_cancer", "digits", "diabetes")
#: metafeatures.GROUPS and metafeatures.VIEW_NAMES, written out so that building the parser
#: (every `warmnas ... --help`) does not import numpy, scipy and pandas; a test keeps them equal
GROUPS = ("general", "statistical", "info-theory", "landmarking", "model-based", "complexity",
          "clustering", "concept", "itemset", "relative")
VIEW_NAMES = ("pymfe", "autosklearn", "openml")
#: metafeatures.TRANSFORM_CAT, metafeatures.RESCALE and the landmarking scores, written out for
#: the same reason (same test)
TRANSFORM_CAT = ("gray", "one-hot", "one-hot-full")
RESCALE = ("standard", "min-max", "robust")
SCORES = ("accuracy", "balanced-accuracy", "f1", "kappa")


def register(commands: Any) -> None:
    """Add the ``metafeatures`` command."""
    parser = commands.add(
        "metafeatures",
        help="compute the meta-features of a dataset",
        handler=run,
        description=(
            "Compute the meta-features of a dataset (a CSV file or sklearn:NAME) and print them, "
            "one name and value per line, or as one JSON object with --json (NaN and infinite "
            "values as null)."
        ),
    )
    parser.add_argument("data", help="CSV file, or sklearn:NAME with NAME in "
                                     + ", ".join(SKLEARN_DATASETS))
    parser.add_argument("--target", help="target column of the CSV (omit for unsupervised "
                                         "measures only; sklearn datasets bring their target)")
    parser.add_argument("--groups", nargs="+", default=["default"], metavar="GROUP",
                        help="'default', 'all' or groups from: " + ", ".join(GROUPS))
    parser.add_argument("--names", choices=VIEW_NAMES, default="pymfe",
                        help="naming view (default: pymfe)")
    parser.add_argument("--summary", nargs="+", metavar="SUMMARY",
                        help="pymfe view: summaries of multi-valued measures (default: mean sd)")
    parser.add_argument("--categorical", nargs="+", metavar="COLUMN",
                        help="columns to treat as categorical besides the string columns")
    parser.add_argument("--sep", default=",", type=separator,
                        help="field separator of the file (default ','; e.g. ';' or '\\t')")
    parser.add_argument("--na-values", nargs="+", metavar="TEXT",
                        help="CSV cells that mark a missing value besides empty ones (e.g. '?')")
    parser.add_argument("--task", choices=("classification", "regression"),
                        help="override the task inferred from the target")
    parser.add_argument("--on-error", choices=("raise", "warn", "ignore"), default="warn",
                        help="a meta-feature that cannot be computed: fail (raise), or NaN "
                             "with a warning (warn, the default) or silently (ignore)")
    parser.add_argument("--transform-cat", choices=(*TRANSFORM_CAT, "none"), default="one-hot-full",
                        help="pymfe view: how categorical attributes enter the numeric measures "
                             "(pymfe's transform_cat; 'gray' is pymfe's default; default: "
                             "one-hot-full)")
    parser.add_argument("--rescale", choices=RESCALE,
                        help="pymfe view: rescale the numeric attributes first (pymfe's "
                             "rescale; default: none)")
    parser.add_argument("--score", choices=SCORES, default="accuracy",
                        help="pymfe view: score of the landmarkers (default: accuracy)")
    parser.add_argument("--cv-folds", type=int, default=10, metavar="K", dest="num_cv_folds",
                        help="pymfe view: cross-validation folds of the landmarkers "
                             "(default: 10)")
    parser.add_argument("--seed", "--random-state", type=int, default=0, dest="random_state",
                        help="random seed (default 0)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object {name: value}, NaN and infinite values "
                             "as null")


def load_table(data: str, target: str | None, na_values: list[str] | None = None,
               sep: str = ",") -> tuple[Any, Any, list[str]]:
    """Load DATA as (X frame, y or None, names of dropped empty columns); ``na_values``: CSV
    cells read as missing besides empty ones; ``sep``: the field separator (``"\\t"`` as
    typed on a command line means a tab).

    Raises:
        MissingDataError: the CSV file does not exist.
        InputError: unknown sklearn dataset or target column, unreadable CSV.
    """
    import pandas as pd

    if data.startswith("sklearn:"):
        name = data.split(":", 1)[1]
        if name not in SKLEARN_DATASETS:
            raise InputError(f"unknown scikit-learn dataset {name!r}; expected one of "
                             f"{', '.join(SKLEARN_DATASETS)}")
        import sklearn.datasets

        bunch = getattr(sklearn.datasets, f"load_{name}")(as_frame=True)
        frame = bunch.frame.copy()
        target = target or "target"
    else:
        path = Path(data)
        if path.is_dir():
            raise InputError(f"data {data!r} is a directory, not a CSV file; pass a CSV file "
                             "or sklearn:NAME (e.g. sklearn:iris)")
        if not path.is_file():
            raise MissingDataError(f"data file {data!r} not found; pass a CSV file or "
                                   "sklearn:NAME (e.g. sklearn:iris)")
        import warnings

        try:
            sep = "\t" if sep == "\\t" else sep
            with warnings.catch_warnings():
                # index_col=False: a trailing delimiter on every row must not make pandas take
                # the first column as the index (shifting every column, --target included);
                # rows with more values than the header make it warn: an error here
                warnings.simplefilter("error", pd.errors.ParserWarning)
                frame = pd.read_csv(path, na_values=na_values, sep=sep, index_col=False)
        except pd.errors.ParserWarning:
            with open(path, encoding="utf-8", errors="replace") as fh:
                n_names = len(fh.readline().rstrip("\r\n").split(sep or ","))
            raise InputError(f"{data!r} has rows with more fields than the header ({n_names} "
                             "names); give every column a name in the header line, or remove "
                             "the extra values") from None
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError,
                OSError) as exc:
            raise InputError(f"could not read {data!r} as CSV: {exc}") from exc
        header = str(frame.columns[0])
        guess = next((c for c in (";", "\t", "|", ",") if c != sep and c in header), None)
        if frame.shape[1] == 1 and guess is not None:
            raise InputError(f"{data!r} was read as one column named {header!r}: it looks "
                             f"{guess!r}-separated; pass --sep {guess!r}")
        if frame.shape[0] == 0:
            raise InputError(f"{data!r} has a header but no data rows; pass a CSV file with "
                             "one row per instance")
    y = None
    if target is not None:
        if target not in frame.columns:
            cols = ", ".join(map(str, frame.columns[:12]))
            raise InputError(f"target column {target!r} is not in {data}; columns: {cols}"
                             + (" ..." if frame.shape[1] > 12 else ""))
        y = frame.pop(target)
        missing = [i + 1 for i in y.index[y.isna()].tolist()] if frame.index.is_unique else []
        if missing:
            rows = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
            raise InputError(f"target column {target!r} has {len(missing)} empty value(s) "
                             f"(data rows {rows}); remove those rows or pick another --target")
    empty = [str(c) for c in frame.columns if frame[c].isna().all()]
    if empty:
        frame = frame.drop(columns=empty)
    if frame.shape[1] == 0:
        which = "besides the target " if target is not None else ""
        raise InputError(f"no feature column left: every column {which}({', '.join(empty)}) "
                         f"has no value in {data}")
    return frame, y, empty


def _mixed_columns(frame: Any) -> tuple[list[str], str]:
    """Text columns whose values are mostly numbers, and one of their non-numeric values."""
    import pandas as pd

    names, example = [], ""
    for c in frame.columns:
        if pd.api.types.is_numeric_dtype(frame[c].dtype) or pd.api.types.is_bool_dtype(
                frame[c].dtype):
            continue
        values = frame[c].dropna()
        numbers = pd.to_numeric(values, errors="coerce")
        if len(values) and numbers.notna().mean() > 0.5:
            names.append(str(c))
            example = example or str(values[numbers.isna()].iloc[0])
    return names, example


def _categorical_columns(frame: Any, extra: list[str] | None, target: str | None = None,
                         dropped: list[str] | None = None) -> list[str]:
    import pandas as pd

    cols = [str(c) for c in frame.columns
            if not pd.api.types.is_numeric_dtype(frame[c].dtype)
            or pd.api.types.is_bool_dtype(frame[c].dtype)]
    for c in extra or []:
        if c in (dropped or []):
            raise InputError(f"--categorical names column {c!r}, which has no value and was "
                             "dropped")
        if target is not None and c == target:
            raise InputError(f"--categorical names the target column {c!r}; the target's type "
                             "follows its values (use --task to override)")
        if c not in frame.columns:
            raise InputError(f"--categorical names column {c!r}, which the data does not have")
        if c not in cols:
            cols.append(c)
    return cols


def _target_name(args: argparse.Namespace) -> str | None:
    """The target column's name (``target`` for a scikit-learn dataset without --target)."""
    if args.target is None and str(args.data).startswith("sklearn:"):
        return "target"
    return args.target


def run(args: argparse.Namespace) -> int:
    """Handler of ``warmnas metafeatures``."""
    import metafeatures

    frame, y, empty = load_table(args.data, args.target, args.na_values, args.sep)
    if empty:
        print(f"note: dropped {len(empty)} column(s) without any value: {', '.join(empty)}",
              file=sys.stderr)
    mixed, example = _mixed_columns(frame)
    if mixed:
        print(f"note: column(s) {', '.join(mixed)} mix numbers with text (e.g. {example!r}) and "
              f"are treated as categorical; pass --na-values {example!r} if that marks a "
              "missing value", file=sys.stderr)
    groups: Any = args.groups[0] if len(args.groups) == 1 and args.groups[0] in (
        "default", "all") else args.groups
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", metafeatures.MetaFeatureWarning)
        values = metafeatures.extract(
            frame,
            y,
            groups=groups,
            names=args.names,
            categorical=_categorical_columns(frame, args.categorical, _target_name(args), empty),
            task=args.task,
            summary=args.summary,
            on_error=args.on_error,
            random_state=args.random_state,
            transform_cat=None if args.transform_cat == "none" else args.transform_cat,
            rescale=args.rescale,
            score=args.score,
            num_cv_folds=args.num_cv_folds,
        )
    for w in caught:  # --on-error warn: one plain line, not Python's file:line warning format
        if issubclass(w.category, metafeatures.MetaFeatureWarning):
            print(f"warning: {w.message}", file=sys.stderr)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if args.json:  # strict JSON has no NaN / Infinity: null, as pandas' to_json writes them
        clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                 for k, v in values.items()}
        print(json.dumps(clean, allow_nan=False))
    else:
        width = max((len(k) for k in values), default=0)
        for k, v in values.items():
            print(f"{k:<{width}}  {v:.10g}")
    return 0
