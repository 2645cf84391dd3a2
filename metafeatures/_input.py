"""Input validation and preparation: (X, y) -> :class:`Prepared`.

Every check raises a :mod:`metafeatures.errors` exception whose message names the argument, says
what was expected, what arrived and how to fix it. Nothing here copies a float64/float32 numeric
ndarray: the prepared numeric matrix is the caller's array (it is only read).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse

from metafeatures.errors import ArgumentError, DataError, DataTypeError

__all__ = ["Prepared", "Target", "prepare", "MAX_CLASSIFICATION_INTEGERS", "CHECK_CHUNK_ROWS"]

Task = Literal["classification", "regression"]

#: A numeric target whose values are all integers is treated as class labels when it has at
#: most this many distinct values (otherwise as a regression target); ``task=`` overrides.
MAX_CLASSIFICATION_INTEGERS = 100

#: Rows per chunk for the NaN/inf scan of large numeric matrices (keeps temporaries small).
CHECK_CHUNK_ROWS = 65536

#: Largest dense form (bytes) a scipy.sparse X is expanded to.
MAX_SPARSE_DENSE_BYTES = 2 * 1024**3


@dataclass(frozen=True, eq=False)
class Target:
    """The prepared target.

    Attributes:
        task: ``"classification"`` or ``"regression"``.
        codes: classification: (n,) int64 index into ``classes`` (observed classes only,
            sorted); regression: None.
        classes: the observed class labels (as given), in code order.
        counts: (n_classes,) int64 observed class counts.
        declared_counts: counts over the declared categories of a pandas Categorical target
            (including zero counts, OpenML's convention); equals ``counts`` otherwise.
        values: regression: (n,) float64 target values; classification: None.
    """

    task: Task
    codes: np.ndarray | None = None
    classes: tuple[Any, ...] = ()
    counts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    declared_counts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    values: np.ndarray | None = None

    @property
    def n_classes(self) -> int:
        return int(self.counts.size)


@dataclass(frozen=True, eq=False)
class Prepared:
    """A validated dataset split into numeric and categorical attributes.

    Attributes:
        n_rows: number of instances ``n``.
        feature_names: all attribute names, in the caller's column order.
        is_categorical: (p,) bool, per attribute in the caller's order.
        numeric: (n, p_num) float32/float64 matrix, NaN = missing; may be the caller's array.
        numeric_names: names of its columns.
        numeric_missing: (p_num,) int64 missing count per numeric column.
        categorical: (n, p_cat) int32 codes into the declared levels, -1 = missing.
        categorical_names: names of its columns.
        declared_levels: (p_cat,) int64 number of declared levels (pandas categories, else the
            distinct observed values).
        level_counts: per categorical column, (declared_levels[j],) int64 counts of each level.
        level_labels: per categorical column, ``str()`` of each declared level in code order
            (the order pymfe's "gray" coding sorts by); empty when unknown.
        target: the prepared target, or None when ``y`` is None.
        sparse_input: X was a scipy.sparse matrix.
    """

    n_rows: int
    feature_names: tuple[str, ...]
    is_categorical: np.ndarray
    numeric: np.ndarray
    numeric_names: tuple[str, ...]
    numeric_missing: np.ndarray
    categorical: np.ndarray
    categorical_names: tuple[str, ...]
    declared_levels: np.ndarray
    level_counts: tuple[np.ndarray, ...]
    target: Target | None
    sparse_input: bool = False
    level_labels: tuple[tuple[str, ...], ...] = ()

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    @property
    def n_numeric(self) -> int:
        return self.numeric.shape[1]

    @property
    def n_categorical(self) -> int:
        return self.categorical.shape[1]

    @property
    def observed_levels(self) -> np.ndarray:
        """(p_cat,) number of levels that occur at least once per categorical column."""
        return np.array([int(np.count_nonzero(c)) for c in self.level_counts], dtype=np.int64)

    @property
    def categorical_missing(self) -> np.ndarray:
        """(p_cat,) missing count per categorical column."""
        return np.array([self.n_rows - int(c.sum()) for c in self.level_counts], dtype=np.int64)

    @property
    def task(self) -> Task | None:
        return None if self.target is None else self.target.task


# ---------------------------------------------------------------------------------------------
def prepare(
    X: Any,
    y: Any = None,
    *,
    categorical: Any = None,
    task: str | None = None,
) -> Prepared:
    """Validate ``X``/``y`` and split ``X`` into numeric and categorical attributes.

    Args:
        X: (n, p) numpy array, pandas DataFrame or scipy.sparse matrix.
        y: (n,) array-like target, or None.
        categorical: None (pandas ``category`` and ``bool`` columns are categorical; string
            columns raise), ``"auto"`` (also string/object columns), or the columns to treat
            as categorical: names or positions, or a (p,) boolean mask.
        task: None (infer from ``y``), ``"classification"`` or ``"regression"``.

    Returns:
        The :class:`Prepared` dataset.

    Raises:
        DataError: empty X, X/y length mismatch, inf values, entirely missing columns, missing
            target values.
        DataTypeError: an unsupported type, or string columns not declared categorical.
        ArgumentError: an invalid ``categorical`` or ``task`` option.
    """
    if task not in (None, "classification", "regression"):
        raise ArgumentError(
            f"task must be None, 'classification' or 'regression'; got {task!r}"
        )
    sparse_input = False
    if isinstance(X, pd.DataFrame):
        columns = _frame_columns(X)
    elif scipy.sparse.issparse(X):
        sparse_input = True
        X = _densify_sparse(X)
        columns = None
    elif isinstance(X, pd.Series):
        raise DataTypeError(
            "X must be 2-D (n_samples, n_features); got a pandas Series. "
            "Use X.to_frame() for a single feature."
        )
    else:
        given = X
        try:
            X = np.asarray(X)
        except (ValueError, TypeError) as exc:
            raise DataTypeError(
                f"X must be a numpy array, pandas DataFrame or scipy.sparse matrix; "
                f"could not convert {type(X).__name__}: {exc}"
            ) from exc
        if X.ndim == 0:
            raise DataError(
                f"X must be 2-D (n_samples, n_features): a numpy array, pandas DataFrame or "
                f"scipy.sparse matrix; got {_describe(given)}"
            )
        columns = None
    if columns is None:
        if X.ndim != 2:
            raise DataError(
                f"X must be 2-D (n_samples, n_features); got an array of shape {X.shape}. "
                "Reshape a single feature with X.reshape(-1, 1)."
            )
        n, p = X.shape
    else:
        n, p = X.shape
    if n == 0 or p == 0:
        raise DataError(
            f"X is empty: got shape ({n}, {p}); expected at least one row and one column"
        )
    names = _feature_names(X, p)
    labels = list(X.columns) if isinstance(X, pd.DataFrame) else None
    mask = _categorical_mask(categorical, names, p, labels)

    if columns is None:
        numeric, num_names, cat_codes, cat_names, levels = _split_array(X, names, mask)
    else:
        numeric, num_names, cat_codes, cat_names, levels = _split_frame(
            X, columns, names, mask, auto=isinstance(categorical, str)
        )
    is_cat = np.zeros(p, dtype=bool)
    is_cat[[names.index(c) for c in cat_names]] = True

    numeric_missing = _check_numeric(numeric, num_names)
    level_counts = _level_counts(cat_codes, [len(lv) for lv in levels], cat_names)
    if numeric.shape[1] == 0 and all(int(c.sum()) == 0 for c in level_counts):
        raise DataError(
            f"X holds no observed value: every column ({', '.join(names[:10])}"
            + (" ..." if p > 10 else "") + ") is entirely missing; pass data with at least "
            "one observed value"
        )
    target = None if y is None else _prepare_target(y, n, task)
    if y is None and task is not None:
        raise ArgumentError(f"task={task!r} was given but y is None; pass the target y")
    return Prepared(
        n_rows=n,
        feature_names=tuple(names),
        is_categorical=is_cat,
        numeric=numeric,
        numeric_names=tuple(num_names),
        numeric_missing=numeric_missing,
        categorical=cat_codes,
        categorical_names=tuple(cat_names),
        declared_levels=np.array([len(lv) for lv in levels], dtype=np.int64),
        level_counts=level_counts,
        target=target,
        sparse_input=sparse_input,
        level_labels=tuple(levels),
    )


# -- X ---------------------------------------------------------------------------------------
def _describe(obj: Any) -> str:
    if obj is None:
        return "None"
    text = repr(obj)
    return f"a {type(obj).__name__} ({text if len(text) <= 40 else text[:37] + '...'})"


def _densify_sparse(X: Any) -> np.ndarray:
    dtype = X.dtype
    if not (np.issubdtype(dtype, np.floating) or np.issubdtype(dtype, np.integer)
            or np.issubdtype(dtype, np.bool_)):
        raise DataTypeError(f"sparse X must hold numbers; got dtype {dtype}")
    n, p = X.shape
    out_dtype = np.float32 if dtype == np.float32 else np.float64
    need = n * p * np.dtype(out_dtype).itemsize
    if need > MAX_SPARSE_DENSE_BYTES:
        raise DataError(
            f"sparse X of shape {X.shape} needs {need / 1024**3:.1f} GiB as a dense matrix "
            f"(limit {MAX_SPARSE_DENSE_BYTES / 1024**3:.0f} GiB); pass a row subsample "
            "(e.g. X[rng.choice(n, 50_000, replace=False)]) or select columns first"
        )
    return np.asarray(X.toarray(), dtype=out_dtype)


def _frame_columns(X: pd.DataFrame) -> list[str]:
    cols = [str(c) for c in X.columns]
    if len(set(cols)) != len(cols):
        dup = sorted({c for c in cols if cols.count(c) > 1})
        raise DataError(f"X has duplicate column names {dup}; rename them so each is unique")
    return cols


def _feature_names(X: Any, p: int) -> list[str]:
    if isinstance(X, pd.DataFrame):
        return [str(c) for c in X.columns]
    return [f"x{j}" for j in range(p)]


def _categorical_mask(categorical: Any, names: list[str], p: int,
                      labels: list[Any] | None = None) -> np.ndarray | str | None:
    """``labels``: a DataFrame's column labels; an int among them means that column (as
    ``frame[label]``), any other int a position."""
    if categorical is None:
        return None
    if isinstance(categorical, str):
        if categorical != "auto":
            raise ArgumentError(
                f"categorical must be None, 'auto', column names/positions or a boolean mask; "
                f"got the string {categorical!r} (wrap a single column name in a list)"
            )
        return "auto"
    if not isinstance(categorical, Iterable):
        raise ArgumentError(
            f"categorical must be None, 'auto', column names/positions or a boolean mask; got "
            f"{categorical!r}"
        )
    values = list(categorical)
    if len(values) == p and all(isinstance(v, (bool, np.bool_)) for v in values):
        return np.asarray(values, dtype=bool)
    mask = np.zeros(p, dtype=bool)
    # one pass over the columns, then a dict look-up per value (a scan per value made a list
    # of thousands of positions on a wide frame take seconds)
    int_label_pos: dict[int, int] = {}
    for j, c in enumerate(labels or ()):
        if isinstance(c, (int, np.integer)) and not isinstance(c, (bool, np.bool_)):
            int_label_pos.setdefault(int(c), j)
    name_pos: dict[str, int] = {}
    for j, name in enumerate(names):
        name_pos.setdefault(name, j)
    for v in values:
        if isinstance(v, (bool, np.bool_)):
            raise ArgumentError(
                f"categorical as a boolean mask needs one entry per column ({p}); got {len(values)}"
            )
        if isinstance(v, (int, np.integer)) and int(v) in int_label_pos:
            mask[int_label_pos[int(v)]] = True
        elif isinstance(v, (int, np.integer)):
            if not -p <= int(v) < p:
                raise ArgumentError(f"categorical column position {v} is out of range for {p} columns")
            mask[int(v)] = True
        elif str(v) in name_pos:
            mask[name_pos[str(v)]] = True
        else:
            raise ArgumentError(
                f"categorical names column {v!r}, which X does not have; columns are {names[:10]}"
                + (" ..." if len(names) > 10 else "")
            )
    return mask


def _split_array(
    X: np.ndarray, names: list[str], mask: np.ndarray | str | None
) -> tuple[np.ndarray, list[str], np.ndarray, list[str], list[tuple[str, ...]]]:
    n, p = X.shape
    kind = X.dtype.kind
    if kind == "c":
        raise DataTypeError(f"X holds complex numbers (dtype {X.dtype}); pass real values")
    if kind in "mM":
        raise DataTypeError(
            f"X holds dates/times (dtype {X.dtype}); convert them to numbers first"
        )
    if isinstance(mask, str):  # "auto"
        if kind in "OUS":
            cat = np.array([not _convertible_to_float(X[:, j]) for j in range(p)])
        elif kind == "b":
            cat = np.ones(p, dtype=bool)
        else:
            cat = np.zeros(p, dtype=bool)
    elif mask is None:
        cat = np.ones(p, dtype=bool) if kind == "b" else np.zeros(p, dtype=bool)
    else:
        cat = mask
    num_idx = np.flatnonzero(~cat)
    cat_idx = np.flatnonzero(cat)
    if kind in "fiu" and cat_idx.size == 0:
        numeric = X if kind == "f" and X.dtype.itemsize >= 4 else X.astype(np.float64)
    elif num_idx.size == 0:
        numeric = np.empty((n, 0), dtype=np.float64)
    else:
        numeric = np.empty((n, num_idx.size), dtype=np.float64)
        for k, j in enumerate(num_idx):
            numeric[:, k] = _column_to_float(X[:, j], names[j])
    codes = np.empty((n, cat_idx.size), dtype=np.int32)
    levels: list[tuple[str, ...]] = []
    for k, j in enumerate(cat_idx):
        codes[:, k], nlev = _factorize(X[:, j])
        levels.append(nlev)
    return numeric, [names[j] for j in num_idx], codes, [names[j] for j in cat_idx], levels


def _split_frame(
    X: pd.DataFrame, columns: list[str], names: list[str], mask: np.ndarray | str | None,
    auto: bool,
) -> tuple[np.ndarray, list[str], np.ndarray, list[str], list[tuple[str, ...]]]:
    n, p = X.shape
    is_cat = np.zeros(p, dtype=bool)
    for j in range(p):
        s = X.iloc[:, j]
        dtype = s.dtype
        declared = isinstance(mask, np.ndarray) and bool(mask[j])
        if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(dtype) or declared:
            is_cat[j] = True
        elif pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
            raise DataTypeError(
                f"column {columns[j]!r} of X holds dates/times ({dtype}); convert it to numbers "
                "(e.g. seconds since an origin) or drop it"
            )
        elif pd.api.types.is_complex_dtype(dtype):
            raise DataTypeError(f"column {columns[j]!r} of X holds complex numbers; pass real values")
        elif pd.api.types.is_numeric_dtype(dtype):
            is_cat[j] = False
        else:  # object / string
            if _convertible_to_float(s.to_numpy(dtype=object)):
                is_cat[j] = False
            elif auto:
                is_cat[j] = True
            else:
                sample = next((v for v in s.to_numpy(dtype=object) if not _is_missing(v)), None)
                raise DataTypeError(
                    f"column {columns[j]!r} of X holds non-numeric values (dtype {dtype}, "
                    f"e.g. {sample!r}) but is not declared categorical; pass "
                    f"categorical=[{columns[j]!r}] (or categorical='auto'), or convert it with "
                    f"X[{columns[j]!r}].astype('category')"
                )
    num_idx = np.flatnonzero(~is_cat)
    cat_idx = np.flatnonzero(is_cat)
    if num_idx.size:
        sub = X.iloc[:, num_idx]
        try:
            numeric = sub.to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError):
            numeric = np.empty((n, num_idx.size), dtype=np.float64)
            for k, jj in enumerate(num_idx.tolist()):
                numeric[:, k] = _column_to_float(X.iloc[:, jj].to_numpy(dtype=object), columns[jj])
    else:
        numeric = np.empty((n, 0), dtype=np.float64)
    codes = np.empty((n, cat_idx.size), dtype=np.int32)
    levels: list[tuple[str, ...]] = []
    for k, jj in enumerate(cat_idx.tolist()):
        s = X.iloc[:, jj]
        if isinstance(s.dtype, pd.CategoricalDtype):
            codes[:, k] = s.cat.codes.to_numpy()
            levels.append(tuple(str(c) for c in s.cat.categories))
        else:
            codes[:, k], nlev = _factorize(s.to_numpy(dtype=object))
            levels.append(nlev)
    return numeric, [names[j] for j in num_idx], codes, [names[j] for j in cat_idx], levels


def _is_missing(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _convertible_to_float(col: np.ndarray) -> bool:
    try:
        pd.to_numeric(pd.Series(col, dtype=object), errors="raise")
    except (TypeError, ValueError):
        return False
    return True


def _column_to_float(col: np.ndarray, name: str) -> np.ndarray:
    if col.dtype.kind in "fiub":
        return col.astype(np.float64)
    try:
        return pd.to_numeric(pd.Series(col, dtype=object), errors="raise").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
    except (TypeError, ValueError) as exc:
        raise DataTypeError(
            f"column {name!r} of X holds non-numeric values but is not declared categorical "
            f"({exc}); pass it in categorical=[...] or categorical='auto'"
        ) from exc


def _factorize(col: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
    values = pd.Series(col, dtype=object) if col.dtype.kind == "O" else pd.Series(col)
    try:
        codes, uniques = pd.factorize(values, sort=True, use_na_sentinel=True)
    except TypeError:  # unorderable mixture (e.g. str and int): order by string form
        codes, uniques = pd.factorize(values.map(lambda v: v if _is_missing(v) else str(v)),
                                      sort=True, use_na_sentinel=True)
    return codes.astype(np.int32), tuple(str(u) for u in uniques)


def _check_numeric(numeric: np.ndarray, names: list[str]) -> np.ndarray:
    n, p = numeric.shape
    missing = np.zeros(p, dtype=np.int64)
    if p == 0:
        return missing
    has_inf = np.zeros(p, dtype=bool)
    for start in range(0, n, CHECK_CHUNK_ROWS):
        chunk = numeric[start:start + CHECK_CHUNK_ROWS]
        finite = np.isfinite(chunk)
        if finite.all():
            continue
        nan = np.isnan(chunk)
        missing += nan.sum(axis=0)
        has_inf |= (~finite & ~nan).any(axis=0)
    if has_inf.any():
        bad = [names[j] for j in np.flatnonzero(has_inf)]
        raise DataError(
            f"X holds infinite values in column(s) {bad[:10]}; replace them "
            "(e.g. X[np.isinf(X)] = np.nan to treat them as missing) or drop those columns"
        )
    empty = np.flatnonzero(missing == n)
    if empty.size:
        bad = [names[j] for j in empty]
        raise DataError(
            f"column(s) {bad[:10]} of X are entirely missing (all NaN); drop them before extracting"
        )
    return missing


def _level_counts(codes: np.ndarray, levels: list[int], names: list[str]) -> tuple[np.ndarray, ...]:
    out = []
    for k, nlev in enumerate(levels):
        col = codes[:, k]
        counts = np.bincount(col[col >= 0], minlength=nlev).astype(np.int64)
        if nlev == 0:  # no declared level and nothing observed
            raise DataError(
                f"column {names[k]!r} of X is entirely missing (all NaN); drop it before "
                "extracting (a pandas Categorical with declared categories may be all missing)"
            )
        out.append(counts)
    return tuple(out)


# -- y ---------------------------------------------------------------------------------------
def _check_target_dtype(dtype: Any) -> None:
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        raise DataTypeError(
            f"y holds dates/times ({dtype}); convert them to numbers (e.g. seconds since an "
            "origin) for a regression target, or to strings for class labels"
        )
    if pd.api.types.is_complex_dtype(dtype):
        raise DataTypeError("y holds complex numbers; pass real values")


def _prepare_target(y: Any, n: int, task: str | None) -> Target:
    declared: Sequence[Any] | None = None
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 1:
            raise DataError(
                f"y must be one column; got a DataFrame with {y.shape[1]} columns "
                "(multi-output targets are not supported)"
            )
        y = y.iloc[:, 0]
    if scipy.sparse.issparse(y):
        y = y.toarray()
    if isinstance(y, (pd.Series, pd.Index)):
        _check_target_dtype(y.dtype)
    if isinstance(y, (pd.Series, pd.Categorical, pd.Index)) and isinstance(
        y.dtype, pd.CategoricalDtype
    ):
        cat = pd.Categorical(y)
        declared = list(cat.categories)
        arr = np.asarray(cat.astype(object), dtype=object)
        kind = "O"
    elif isinstance(y, (pd.Series, pd.Index)):
        if pd.api.types.is_numeric_dtype(y.dtype) and not pd.api.types.is_bool_dtype(y.dtype):
            arr = y.to_numpy(dtype=np.float64, na_value=np.nan)
            kind = "f" if pd.api.types.is_float_dtype(y.dtype) else "i"
        else:
            arr = y.to_numpy(dtype=object)
            kind = "O"
    else:
        arr = np.asarray(y)
        _check_target_dtype(arr.dtype)
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
        kind = arr.dtype.kind
    if arr.ndim != 1:
        raise DataError(
            f"y must be 1-D with one value per row of X; got shape {np.shape(arr)} "
            "(multi-output targets are not supported)"
        )
    if arr.shape[0] != n:
        raise DataError(
            f"X has {n} rows but y has {arr.shape[0]} values; pass one target value per row"
        )
    if kind in "fiu":
        values = arr.astype(np.float64)
        n_missing = int(np.isnan(values).sum())
    else:
        n_missing = int(sum(_is_missing(v) for v in arr))
    if n_missing:
        raise DataError(
            f"y has {n_missing} missing value(s); drop those rows (e.g. keep = ~pd.isna(y); "
            "X, y = X[keep], y[keep]) before extracting"
        )
    if kind in "fiu":
        if np.isinf(values).any():
            raise DataError("y holds infinite values; drop or replace those rows")
        integral = bool(np.all(values == np.round(values)))
        if task is None:
            many = np.unique(values).size > MAX_CLASSIFICATION_INTEGERS
            task = "classification" if integral and not many else "regression"
        if task == "regression":
            return Target(task="regression", values=values)
        arr = values.astype(np.int64) if integral else values
    else:
        if task == "regression":
            sample = next(iter(arr), None)
            raise DataError(
                f"task='regression' needs a numeric y; got non-numeric values (e.g. {sample!r}). "
                "Use task='classification' or convert y to numbers"
            )
        task = "classification"
    codes, uniques = pd.factorize(pd.Series(arr, dtype=object if kind == "O" else None), sort=True)
    counts = np.bincount(codes, minlength=len(uniques)).astype(np.int64)
    if declared is not None:
        position = {label: i for i, label in enumerate(declared)}
        declared_counts = np.zeros(len(declared), dtype=np.int64)
        for label, c in zip(uniques, counts):
            declared_counts[position[label]] = c
    else:
        declared_counts = counts.copy()
    return Target(
        task="classification",
        codes=codes.astype(np.int64),
        classes=tuple(uniques.tolist()),
        counts=counts,
        declared_counts=declared_counts,
    )
