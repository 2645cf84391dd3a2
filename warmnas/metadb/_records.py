"""Validation of incoming records (pure Python/pandas; nothing here touches a database).

Every write first passes through these functions, so a bad record raises before anything is
written. Messages name the argument/column, the offending row, what arrived and what was expected.
"""

from __future__ import annotations

import base64
import json
import math
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from warmnas.errors import InputError, InputTypeError
from warmnas.metadb.metrics import DIRECTIONS
from warmnas.space import canonical_json

TASK_ID_RE = re.compile(r"[^\s\x00]{1,200}")
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/+@-]{0,199}")

EVALUATION_COLUMNS = (
    "task", "config", "config_id", "space", "metric", "direction", "value", "fidelity", "seed",
    "cost_s", "latency_ms", "device", "source", "timestamp",
)

#: fields of a failure record (:meth:`MetaDatabase.add_failures`)
FAILURE_COLUMNS = (
    "task", "config", "config_id", "space", "metric", "direction", "fidelity", "seed", "device",
    "source", "timestamp", "error_type", "message", "error", "elapsed_s", "attempts",
)
#: a stored failure message is one line of at most this many characters
MAX_MESSAGE = 1000
ERROR_TYPE_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,199}")

#: the shapes of the architecture weights of the known NAS spaces
ALPHA_SHAPES: dict[str, dict[str, tuple[int, ...]]] = {
    "nb201": {"cell": (6, 5)},
    "darts": {"normal": (14, 8), "reduce": (14, 8)},
}


def check_task_id(task_id: Any, what: str = "task") -> str:
    """A task id: a non-empty string of at most 200 characters without whitespace."""
    if not isinstance(task_id, str):
        raise InputTypeError(
            f"{what} must be a task id string such as 'openml/d/31', got "
            f"{type(task_id).__name__} {task_id!r}"
        )
    if not TASK_ID_RE.fullmatch(task_id):
        raise InputError(
            f"{what} {task_id!r} is not a valid task id: use 1-200 characters without whitespace, "
            "e.g. 'openml/d/31' or 'mylab/run-7'"
        )
    check_text(task_id, what)
    return task_id


def check_name(value: Any, what: str, max_len: int = 200) -> str:
    """A metric, view or device name (views and devices: at most 100 characters)."""
    if not isinstance(value, str):
        raise InputTypeError(f"{what} must be a string, got {type(value).__name__} {value!r}")
    if not NAME_RE.fullmatch(value) or len(value) > max_len:
        raise InputError(
            f"{what} {value!r} is not a valid name: use 1-{max_len} letters, digits and _.:/+@- "
            "starting with a letter or digit"
        )
    return value


def check_text(value: Any, what: str, max_len: int | None = None) -> str | None:
    """Free text (a name, a source, a task type) or None: a string every backend stores as given
    (no NUL character, valid Unicode, at most ``max_len`` characters)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputTypeError(f"{what} must be a string, got {type(value).__name__} {value!r}")
    if max_len is not None and len(value) > max_len:
        raise InputError(
            f"{what} is {len(value)} characters long ({value[:40]!r}...); at most {max_len} are "
            "stored - shorten it (put long text into info=...)"
        )
    if "\x00" in value:
        raise InputError(f"{what} {value!r} contains a NUL character; remove it")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InputError(f"{what} {value!r} is not valid Unicode text ({exc.reason}); fix its encoding") from exc
    return value


def check_direction(direction: Any, metric: str) -> str:
    if direction not in DIRECTIONS:
        raise InputError(
            f"direction of metric {metric!r} must be 'minimize' or 'maximize', got {direction!r}"
        )
    return str(direction)


def _check_finite(value: Any, where: str) -> None:
    """NaN/infinity anywhere in JSON metadata: an InputError naming the place (JSON has neither)."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            _check_finite(v, f"{where}[{k!r}]")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_finite(v, f"{where}[{i}]")
    elif isinstance(value, (float, np.floating)) and not math.isfinite(value):
        raise InputError(
            f"{where} is {value}; metadata is stored as JSON, which holds finite numbers only - "
            "use None for a missing value"
        )


def check_json_object(value: Any, what: str) -> str | None:
    """Canonical JSON of a dict (or None)."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InputTypeError(f"{what} must be a dict, got {type(value).__name__}")
    _check_finite(value, what)
    return canonical_json(value)


def now() -> float:
    return time.time()


def to_epoch_seconds(value: Any, what: str = "timestamp") -> float:
    """Seconds since the epoch (UTC) from a number, datetime, pandas Timestamp or ISO string."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        x = float(value)
        if not math.isfinite(x):
            raise InputError(f"{what} must be finite, got {value!r}")
        return x
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise InputTypeError(
            f"{what} must be seconds since the epoch, a datetime or an ISO date string, got {value!r}"
        ) from exc
    if ts is pd.NaT:
        raise InputError(f"{what} is missing (NaT)")
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return ts.timestamp()


def _row_hint(frame: pd.DataFrame, pos: int) -> str:
    hint = f" row {pos}"
    if "task" in frame.columns:
        hint += f" (task {frame['task'].iloc[pos]!r})"
    return hint


def numeric_column(frame: pd.DataFrame, column: str, *, required: bool, allow_missing: bool,
                   nonnegative: bool = False, positive: bool = False) -> np.ndarray:
    """A float64 column, with clear errors for strings, NaN and infinity."""
    if column not in frame.columns:
        if required:
            raise InputError(f"evaluations need a {column!r} column/key; got {list(frame.columns)}")
        return np.full(len(frame), np.nan)
    raw = frame[column]
    if raw.dtype == bool:
        raise InputTypeError(f"{column!r} must hold numbers, got booleans")
    if pd.api.types.is_datetime64_any_dtype(raw) or pd.api.types.is_timedelta64_dtype(raw):
        raise InputTypeError(f"{column!r} must hold numbers, got {raw.dtype} values")
    try:
        values = pd.to_numeric(raw, errors="coerce")
    except OverflowError as exc:
        raise InputError(f"{column!r} holds a number too large for float64: {exc}") from exc
    if pd.api.types.is_complex_dtype(values) or (
            values.dtype == object and any(isinstance(v, (complex, np.complexfloating)) for v in values)):
        raise InputTypeError(f"{column!r} must hold real numbers, got complex values")
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (OverflowError, TypeError, ValueError) as exc:
        raise InputTypeError(f"{column!r} must hold float64 numbers: {exc}") from exc
    was_missing = np.asarray(raw.isna())
    bad_type = np.isnan(arr) & ~was_missing
    if bad_type.any():
        pos = int(np.flatnonzero(bad_type)[0])
        raise InputTypeError(
            f"{column!r} must hold numbers; {raw.iloc[pos]!r} at{_row_hint(frame, pos)} is not one"
        )
    if not allow_missing and np.isnan(arr).any():
        pos = int(np.flatnonzero(np.isnan(arr))[0])
        raise InputError(
            f"{column!r} is NaN/missing at{_row_hint(frame, pos)}; every evaluation needs a finite "
            f"{column} (store failed runs with db.add_failures() instead)"
        )
    inf = np.isinf(arr)
    if inf.any():
        pos = int(np.flatnonzero(inf)[0])
        raise InputError(
            f"{column!r} is {arr[pos]} at{_row_hint(frame, pos)}; expected a finite number"
        )
    finite = ~np.isnan(arr)
    if nonnegative and (arr[finite] < 0).any():
        pos = int(np.flatnonzero(finite & (arr < 0))[0])
        raise InputError(f"{column!r} must be >= 0, got {arr[pos]} at{_row_hint(frame, pos)}")
    if positive and (arr[finite] <= 0).any():
        pos = int(np.flatnonzero(finite & (arr <= 0))[0])
        raise InputError(f"{column!r} must be > 0, got {arr[pos]} at{_row_hint(frame, pos)}")
    return arr


def records_frame(records: Any, what: str = "records") -> pd.DataFrame:
    """A DataFrame with a 0..n-1 index from a DataFrame, one mapping or an iterable of mappings."""
    if isinstance(records, pd.DataFrame):
        return records.reset_index(drop=True)
    if isinstance(records, Mapping):
        return pd.DataFrame([dict(records)])
    if isinstance(records, (str, bytes)) or not isinstance(records, Iterable):
        raise InputTypeError(
            f"{what} must be a DataFrame, a dict or an iterable of dicts, got {type(records).__name__}"
        )
    rows = list(records)
    for i, r in enumerate(rows):
        if not isinstance(r, Mapping):
            raise InputTypeError(f"{what}[{i}] must be a dict, got {type(r).__name__}")
    return pd.DataFrame.from_records(rows) if rows else pd.DataFrame()


def string_column(frame: pd.DataFrame, column: str, default: str | None) -> np.ndarray:
    """An object array of strings (missing -> ``default``); InputTypeError for non-strings."""
    n = len(frame)
    if column not in frame.columns:
        return np.full(n, default, dtype=object)
    raw = frame[column]
    missing = np.asarray(raw.isna())
    values = raw.to_numpy(dtype=object, na_value=None) if missing.any() else raw.to_numpy(dtype=object)
    if not all(isinstance(v, str) for v in pd.unique(values[~missing])):
        for i, v in enumerate(values):
            if not missing[i] and not isinstance(v, str):
                raise InputTypeError(
                    f"{column!r} must hold strings, got {type(v).__name__} {v!r} at{_row_hint(frame, i)}"
                )
    if missing.any():
        values = values.copy()
        values[missing] = default
    return values


# ------------------------------------------------------------------------------------------------
# NAS records
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NASRecord:
    """One NAS record: a discrete architecture (genotype) and architecture weights for a task.

    Attributes:
        record_id: stable id (hash of task, space and genotype).
        task: the task id.
        space: the NAS space name (``"nb201"``, ``"darts"``, ...).
        genotype: the architecture as a JSON dict (``{"arch": "|...|"}`` for NB201; the
            ``Genotype.to_json()`` dict for DARTS).
        alpha: architecture weights as LOGITS, ``{name: float64 array}`` (NB201: ``"cell"`` (6, 5);
            DARTS: ``"normal"`` and ``"reduce"`` (14, 8)).
        meta: free JSON metadata (accuracy, rank, derivation, ...).
        source: where the record came from.
        timestamp: seconds since the epoch (UTC) of the write.
    """

    record_id: str
    task: str
    space: str
    genotype: dict[str, Any]
    alpha: dict[str, np.ndarray]
    meta: dict[str, Any] = field(default_factory=dict)
    source: str | None = None
    timestamp: float = 0.0


def _to_numpy(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor, without importing torch
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def check_alpha(alpha: Any, space: str) -> dict[str, np.ndarray]:
    """Architecture weights: finite float64 arrays, with the known shapes for known spaces."""
    if not isinstance(alpha, Mapping) or not alpha:
        raise InputTypeError(
            f"alpha must be a non-empty dict {{name: array}} of architecture logits, got "
            f"{type(alpha).__name__}"
        )
    out: dict[str, np.ndarray] = {}
    for name, value in alpha.items():
        if not isinstance(name, str):
            raise InputTypeError(f"alpha keys must be strings, got {name!r}")
        try:
            raw = _to_numpy(value)
            if raw.dtype.kind == "c":
                raise TypeError(f"got complex values ({raw.dtype})")
            arr = raw.astype(np.float64)
        except (TypeError, ValueError, OverflowError) as exc:
            raise InputTypeError(f"alpha[{name!r}] must be a numeric array: {exc}") from exc
        if arr.size == 0:
            raise InputError(f"alpha[{name!r}] is empty")
        if not np.isfinite(arr).all():
            raise InputError(f"alpha[{name!r}] holds NaN or infinity; architecture logits must be finite")
        out[name] = arr
    expected = ALPHA_SHAPES.get(space)
    if expected is not None:
        got = {k: tuple(v.shape) for k, v in out.items()}
        if got != expected:
            raise InputError(
                f"alpha for space {space!r} must have keys and shapes {expected}, got {got}"
            )
    return out


def encode_alpha(alpha: Mapping[str, np.ndarray]) -> str:
    """JSON text holding each array exactly (little-endian float64, base64) - no pickle."""
    payload = {
        name: {
            "shape": list(arr.shape),
            "dtype": "<f8",
            "data": base64.b64encode(np.ascontiguousarray(arr, dtype="<f8").tobytes()).decode("ascii"),
        }
        for name, arr in alpha.items()
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"))


def decode_alpha(text: str) -> dict[str, np.ndarray]:
    payload = json.loads(text)
    out = {}
    for name, item in payload.items():
        if item.get("dtype") != "<f8":
            raise InputError(f"stored alpha {name!r} has dtype {item.get('dtype')!r}; expected '<f8'")
        raw = base64.b64decode(item["data"])
        out[name] = np.frombuffer(raw, dtype="<f8").reshape(item["shape"]).astype(np.float64)
    return out


def split_error(error: Any, what: str) -> tuple[str, str]:
    """``"ValueError: cannot fit"`` (or an exception object) -> ``("ValueError", "cannot fit")``."""
    if isinstance(error, BaseException):
        return type(error).__name__, str(error)
    if not isinstance(error, str):
        raise InputTypeError(f"{what} must be 'Type: message' text or an exception, got "
                             f"{type(error).__name__} {error!r:.80}")
    kind, sep, message = error.partition(":")
    if not sep or not ERROR_TYPE_RE.fullmatch(kind.strip()):
        raise InputError(f"{what} must be 'Type: message' (e.g. 'ValueError: cannot fit'), got "
                         f"{error!r:.80}; or pass error_type= and message= fields")
    return kind.strip(), message.strip()


def check_error_type(value: Any, what: str) -> str:
    """An exception name: ``ValueError``, ``TimeoutError``, ``mylib.FitError``."""
    if not isinstance(value, str):
        raise InputTypeError(f"{what} must be a string (an exception name), got "
                             f"{type(value).__name__} {value!r:.80}")
    if not ERROR_TYPE_RE.fullmatch(value):
        raise InputError(f"{what} must be an exception name of 1-200 letters, digits, '_' and "
                         f"'.' (e.g. 'ValueError'), got {value!r:.80}")
    return value


def one_line(message: Any, what: str) -> str:
    """A failure message as stored: whitespace runs (newlines included) become one space, and
    text past :data:`MAX_MESSAGE` characters is cut (ending in ``...``)."""
    if not isinstance(message, str):
        raise InputTypeError(f"{what} must be a string, got {type(message).__name__} {message!r:.80}")
    text = " ".join(message.split())
    if len(text) > MAX_MESSAGE:
        text = text[:MAX_MESSAGE - 3] + "..."
    check_text(text, what)
    return text
