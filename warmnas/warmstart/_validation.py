"""Input checks shared by the warm starters: performance matrices, meta-features, directions.

Every check raises a :mod:`warmnas.errors` exception that says what was expected, what arrived and
how to fix it. Task and configuration ids are normalised to ``str`` everywhere (the meta-database
contract), so ``1004`` read from a CSV file and ``"1004"`` from a database are the same task.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from warmnas.errors import InputError, InputTypeError, UnknownIdError

Direction = Literal["minimize", "maximize"]

__all__ = [
    "Direction",
    "check_direction",
    "check_performance",
    "check_meta_features",
    "check_query",
    "to_minimize",
]


def check_direction(direction: Any) -> Direction:
    """Return ``direction`` if it is ``"minimize"`` or ``"maximize"``, else raise InputError."""
    if direction not in ("minimize", "maximize"):
        raise InputError(
            f"direction must be 'minimize' or 'maximize', got {direction!r}; use 'minimize' for "
            "errors and losses, 'maximize' for accuracies."
        )
    return direction  # type: ignore[no-any-return]


def _str_index(index: pd.Index, what: str, arg: str) -> pd.Index:
    out = pd.Index([str(v) for v in index], dtype=object)
    if out.has_duplicates:
        dup = out[out.duplicated()].unique()[:5].tolist()
        raise InputError(
            f"{arg} has duplicate {what} ids {dup}; each {what} must appear once "
            "(aggregate repeated runs first, e.g. with DataFrame.groupby(level=0).mean())."
        )
    return out


def _numeric_frame(frame: Any, arg: str, columns: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise InputTypeError(
            f"{arg} must be a pandas DataFrame (rows = tasks), got {type(frame).__name__}; "
            "wrap an array with pandas.DataFrame(values, index=task_ids, columns=names)."
        )
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise InputError(
            f"{arg} is empty (shape {frame.shape}); it needs at least one task (row) and one "
            "column. Is the meta-database empty, or did a filter remove every task?"
        )
    _str_index(frame.columns, columns, arg)  # duplicate names first: frame[c] is then a frame
    bad = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        first = frame[bad[0]]
        with np.errstate(all="ignore"):
            unparsed = pd.to_numeric(first, errors="coerce").isna().to_numpy() & first.notna(
            ).to_numpy()
        cell = ""
        if unparsed.any():
            i = int(np.flatnonzero(unparsed)[0])
            cell = f"; e.g. task {str(frame.index[i])!r} holds {first.iloc[i]!r} there"
        raise InputTypeError(
            f"{arg} must hold numbers only; columns {[str(c) for c in bad[:5]]} are not numeric "
            f"(dtypes {[str(frame[c].dtype) for c in bad[:5]]}){cell}. Convert them with "
            "pandas.to_numeric (errors='coerce' turns such cells into missing values) or drop "
            "them."
        )
    values = frame.to_numpy(dtype=np.float64)
    if np.isinf(values).any():
        rows, cols = np.nonzero(np.isinf(values))
        where = [(str(frame.index[r]), str(frame.columns[c])) for r, c in zip(rows[:3], cols[:3])]
        raise InputError(
            f"{arg} holds infinite values at (task, column) {where}; replace them with NaN "
            "(missing) or a finite value."
        )
    return pd.DataFrame(values, index=frame.index, columns=frame.columns)


def check_performance(performance: Any, arg: str = "performance", *,
                      allow_unevaluated: bool = False) -> pd.DataFrame:
    """Validate a performance matrix (tasks x configurations, NaN = not evaluated).

    Args:
        performance: DataFrame, index = task ids, columns = configuration ids, numeric values in
            the metric's own direction; NaN marks a missing evaluation.
        arg: the argument name used in error messages.
        allow_unevaluated: accept configurations with no value on any task (a test matrix:
            its tasks simply lack them); a matrix to fit on must not have them.

    Returns:
        A float64 copy with ``str`` task and configuration ids, shape ``n_tasks x n_configs``.

    Raises:
        InputTypeError: not a DataFrame, or non-numeric columns.
        InputError: empty, infinite values, duplicate ids, a task or configuration with no value.
    """
    frame = _numeric_frame(performance, arg, "configuration")
    frame.index = _str_index(frame.index, "task", arg)
    frame.columns = _str_index(frame.columns, "configuration", arg)
    empty_rows = frame.index[frame.isna().all(axis=1)]
    if len(empty_rows):
        raise InputError(
            f"{arg} has tasks with no observed value: {empty_rows[:5].tolist()}; drop them "
            "(performance.dropna(how='all')) before fitting."
        )
    empty_cols = frame.columns[frame.isna().all(axis=0)]
    if len(empty_cols) and not allow_unevaluated:
        raise InputError(
            f"{arg} has configurations never evaluated: {empty_cols[:5].tolist()}; drop them "
            "(performance.dropna(axis=1, how='all')) before fitting."
        )
    return frame


def check_meta_features(meta_features: Any, arg: str = "meta_features") -> pd.DataFrame:
    """Validate a meta-feature table (tasks x named meta-features; NaN allowed, imputed later).

    Returns:
        A float64 copy with ``str`` task ids and ``str`` feature names.

    Raises:
        InputTypeError / InputError: see :func:`check_performance`; also a column that is NaN
            for every task.
    """
    frame = _numeric_frame(meta_features, arg, "meta-feature")
    frame.index = _str_index(frame.index, "task", arg)
    frame.columns = _str_index(frame.columns, "meta-feature", arg)
    return frame


def check_query(
    meta_features: Any, known: pd.Index, *, allow_nan: bool = False, arg: str = "meta_features"
) -> pd.Series:
    """Validate the meta-features of one new task against the names a starter was fitted on.

    Args:
        meta_features: a ``Mapping[str, float]`` or a ``pandas.Series`` (name -> value). A subset
            of the known names is fine (the distance then uses that subset).
        known: the meta-feature names of the meta-database.
        allow_nan: keep NaN values (they are then ignored by the distance) instead of raising.
        arg: the argument name used in error messages.

    Returns:
        A float64 Series indexed by the given names (order of ``known``).

    Raises:
        InputTypeError: not a mapping/Series, or a non-numeric value.
        UnknownIdError: names the meta-database does not have.
        InputError: empty, NaN (unless ``allow_nan``) or infinite values.
    """
    if isinstance(meta_features, pd.DataFrame):
        if meta_features.shape[0] != 1:
            raise InputError(
                f"{arg} must describe one task; got a DataFrame with {meta_features.shape[0]} "
                "rows. Pass one row, e.g. frame.iloc[0]."
            )
        meta_features = meta_features.iloc[0]
    if isinstance(meta_features, Mapping):
        meta_features = pd.Series(dict(meta_features), dtype=object)
    if not isinstance(meta_features, pd.Series):
        raise InputTypeError(
            f"{arg} must be a mapping name -> value or a pandas Series, got "
            f"{type(meta_features).__name__}."
        )
    if meta_features.empty:
        raise InputError(f"{arg} is empty; pass at least one named meta-feature.")
    names = pd.Index([str(n) for n in meta_features.index], dtype=object)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UnknownIdError(
            f"{arg} has names the meta-database does not know: {unknown[:8]}"
            f"{' ...' if len(unknown) > 8 else ''}; known names are e.g. "
            f"{known[:6].tolist()} ({len(known)} in all). Rename or drop them."
        )
    try:
        values = pd.to_numeric(pd.Series(meta_features.to_numpy(), index=names), errors="raise")
    except (TypeError, ValueError) as exc:
        raise InputTypeError(f"{arg} must hold numbers only: {exc}") from None
    values = values.astype(np.float64)
    if np.isinf(values.to_numpy()).any():
        raise InputError(
            f"{arg} has infinite values for {values.index[np.isinf(values.to_numpy())].tolist()}; "
            "replace them with finite values."
        )
    nan = values.index[values.isna()].tolist()
    if nan and not allow_nan:
        raise InputError(
            f"{arg} has NaN values for {nan[:8]}; drop those names, fill them, or pass "
            "nan_policy='ignore' so the distance uses the other meta-features."
        )
    if values.notna().sum() == 0:
        raise InputError(f"{arg} has no finite value; at least one meta-feature is needed.")
    return values.reindex([n for n in known if n in set(names)])


def to_minimize(values: np.ndarray, direction: Direction) -> np.ndarray:
    """Return ``values`` oriented so that lower is better (negated for ``"maximize"``)."""
    return -values if direction == "maximize" else values
