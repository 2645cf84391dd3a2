"""File format of saved warm starters (:meth:`WarmStarter.save` / :meth:`WarmStarter.load`).

One uncompressed numpy ``.npz`` file, read with ``allow_pickle=False``:

* ``__meta__``: a ``uint8`` array holding UTF-8 JSON: ``format`` (``"warmnas.warmstarter"``),
  ``format_version``, the warmnas ``version`` that wrote it, ``class`` (a built-in starter's
  class name, or a user subclass's qualified name with ``user_class`` true and its ``module``:
  such a file is loaded only through that class, ``MyStarter.load(path)``; nothing named in a
  file is ever imported), ``params`` (the constructor arguments; a nested starter such as PMF's ``knn`` as
  ``{"__starter__": class, "params": {...}}``) and ``state`` (ids, names, direction, scalars);
* every fitted array under its own name (float64 as fitted; a nested fitted starter's arrays
  prefixed with its attribute name, e.g. ``knn_.offset``).

The file is written atomically (:func:`warmnas._io.atomic_write`). Nothing stored is ever
evaluated or unpickled; every value is checked (type, shape, dtype, range) before use.
"""

from __future__ import annotations

import importlib
import inspect
import json
import logging
import os
import zipfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np
import pandas as pd

from warmnas._io import atomic_write
from warmnas.errors import (
    CorruptDatabaseError,
    InputError,
    MissingDataError,
    NotFittedError,
    SchemaVersionError,
    StorageError,
)

if TYPE_CHECKING:
    from warmnas.warmstart.base import WarmStarter

logger = logging.getLogger(__name__)

FORMAT = "warmnas.warmstarter"
FORMAT_VERSION = 1
META_KEY = "__meta__"

#: class name -> module of the starters that can be loaded
CLASSES = {
    "KNNWarmStarter": "warmnas.warmstart.knn",
    "PMFWarmStarter": "warmnas.warmstart.pmf",
    "PortfolioWarmStarter": "warmnas.warmstart.portfolio",
    "RandomSearch": "warmnas.warmstart.random",
}

_FIX = "refit the warm starter and save it again (starter.fit(...).save(path))"


def _starter_class(name: str) -> type[WarmStarter]:
    return getattr(importlib.import_module(CLASSES[name]), name)  # type: ignore[no-any-return]


# ------------------------------------------------------------------------------------ params
def _param_names(cls: type) -> list[str]:
    params = inspect.signature(cls.__init__).parameters.values()  # type: ignore[misc]
    return [p.name for p in params if p.name != "self"
            and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def params_to_json(starter: WarmStarter) -> dict[str, Any]:
    """The constructor arguments of ``starter`` as JSON values.

    A ``random_state`` that is not an int or None (a Generator) is stored as None: only ``fit``
    uses it, never a suggestion.

    Raises:
        InputTypeError: an argument of a type that cannot be stored.
    """
    from warmnas.errors import InputTypeError
    from warmnas.warmstart.base import WarmStarter

    out: dict[str, Any] = {}
    for name in _param_names(type(starter)):
        value = getattr(starter, name)
        if value is None or isinstance(value, (bool, str)):
            out[name] = value
        elif isinstance(value, (int, np.integer)):
            out[name] = int(value)
        elif isinstance(value, (float, np.floating)):
            out[name] = float(value)
        elif isinstance(value, WarmStarter):
            out[name] = {"__starter__": type(value).__name__, "params": params_to_json(value)}
        elif type(value).__name__ == "device":  # torch.device
            out[name] = str(value)
        elif name == "random_state":
            logger.info("random_state=%r is saved as None (only fit uses it)", value)
            out[name] = None
        else:
            raise InputTypeError(
                f"cannot save {type(starter).__name__}({name}=...) of type "
                f"{type(value).__name__}; pass a number, string or None."
            )
    return out


# ------------------------------------------------------------------------------------ saving
def save(starter: WarmStarter, path: str | os.PathLike[str]) -> Path:
    """Write ``starter`` (fitted) to ``path``; see :meth:`WarmStarter.save`."""
    from warmnas import __version__

    starter._check_fitted()
    cls = type(starter)
    builtin = cls.__name__ in CLASSES and cls is _starter_class(cls.__name__)
    name = cls.__name__ if builtin else cls.__qualname__
    state, arrays = base_state(starter)
    try:
        own_state, own_arrays = starter._get_state()
    except AttributeError as exc:  # fit raised half-way: the fitted attributes are incomplete
        raise NotFittedError(
            f"this {name} is not fitted completely ({exc}); call fit(...) again before save()."
        ) from exc
    if not builtin:
        clash = sorted((set(state) & set(own_state)) | (set(arrays) & set(own_arrays)))
        if clash:
            raise NotImplementedError(
                f"{name}._get_state() uses the names {clash}, which every starter's file stores "
                "(the fitted matrix, ids, direction); give its entries other names."
            )
    state.update(own_state)
    arrays.update(own_arrays)
    meta: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "version": __version__,
        "class": name,
        "params": params_to_json(starter),
        "state": state,
    }
    if not builtin:
        meta.update(user_class=True, module=cls.__module__)
        _check_user_roundtrip(starter, meta, arrays)
    payload = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
    payload[META_KEY] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    try:
        return atomic_write(path, lambda fh: np.savez(fh, **payload))  # type: ignore[arg-type]
    except OSError as exc:
        raise StorageError(
            f"could not write the warm starter to {os.fspath(path)!r}: {exc}; pass a path in a "
            "writable folder (nothing was written)."
        ) from exc


def _check_user_roundtrip(starter: WarmStarter, meta: dict[str, Any],
                          arrays: dict[str, np.ndarray]) -> None:
    """Refuse to save a user subclass whose ``_get_state`` / ``_set_state`` leave fitted
    attributes out: restore it in memory and compare the attribute names (a loaded starter
    missing one would fail later, or suggest differently)."""
    cls = type(starter)
    path = Path(f"<{cls.__qualname__} being saved>")
    reader = StateReader(path, json.loads(json.dumps(meta["state"])), dict(arrays))
    try:
        restored = build(path, meta["class"], meta["params"], cls=cls)
        set_base_state(restored, reader)
        restored._set_state(reader)
    except Exception as exc:
        raise NotImplementedError(
            f"{cls.__qualname__} cannot be saved: restoring it from what it stores failed "
            f"({type(exc).__name__}: {exc}). Its __init__ must store each argument under its "
            "own name (scikit-learn's rule), and _get_state() must return every fitted "
            "attribute beyond the base's (JSON values, named numpy arrays) for _set_state("
            "reader) to restore."
        ) from exc
    missing = sorted(set(vars(starter)) - set(vars(restored)))
    if missing:
        raise NotImplementedError(
            f"{cls.__qualname__} has fitted attributes {missing} that save() would not store; "
            "return them from _get_state() (JSON values and named numpy arrays) and restore "
            "them in _set_state(reader), or compute them in _context() when needed."
        )


def base_state(starter: WarmStarter) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The fitted data every starter shares: matrix, meta-features, ids, direction."""
    perf = starter.performance_
    feats = starter.meta_features_
    state: dict[str, Any] = {
        "direction": starter.direction_,
        "task_ids": [str(t) for t in perf.index],
        "config_ids": [str(c) for c in perf.columns],
        "task_index": index_info(perf.index),
        "config_index": index_info(perf.columns),
        "meta_features": None,
    }
    arrays = {"performance": perf.to_numpy(dtype=np.float64)}
    if feats is not None:
        state["meta_features"] = {
            "task_ids": [str(t) for t in feats.index],
            "names": [str(c) for c in feats.columns],
            "task_index": index_info(feats.index),
            "names_index": index_info(feats.columns),
        }
        arrays["meta_features"] = feats.to_numpy(dtype=np.float64)
    return state, arrays


def index_info(index: pd.Index) -> dict[str, Any]:
    """The name and dtype (``"object"`` or pandas' ``"str"``) of an index of ids."""
    return {"name": None if index.name is None else str(index.name),
            "dtype": "object" if index.dtype == object else "str"}


def make_index(ids: list[str], info: Any) -> pd.Index:
    """An index of ``ids`` with the name and dtype :func:`index_info` recorded."""
    info = info if isinstance(info, dict) else {}
    name = info.get("name")
    return pd.Index(ids, dtype=object if info.get("dtype") == "object" else "str",
                    name=name if isinstance(name, str) else None)


# ------------------------------------------------------------------------------------ loading
class StateReader:
    """Checked access to a saved starter's JSON state and arrays (errors name the file).

    Args:
        path: the file (for messages).
        state: the JSON ``state`` object (or a nested starter's).
        arrays: every array of the file, by full key.
        prefix: prefix of this starter's array keys (``""``, or ``"knn_."`` when nested).
    """

    def __init__(self, path: Path, state: Any, arrays: dict[str, np.ndarray],
                 prefix: str = "") -> None:
        self.path = path
        if not isinstance(state, dict):
            self.fail(f"the state of {prefix or 'the starter'} is not a JSON object")
        self.state: dict[str, Any] = state
        self.arrays = arrays
        self.prefix = prefix

    def fail(self, what: str) -> NoReturn:
        raise CorruptDatabaseError(
            f"{self.path}: {what}; the file is damaged or was not written by "
            f"WarmStarter.save(). Fix: {_FIX}."
        )

    def value(self, key: str, types: type | tuple[type, ...]) -> Any:
        """``state[key]``, which must be an instance of ``types``."""
        if key not in self.state:
            self.fail(f"the state entry {self.prefix}{key!r} is missing")
        v = self.state[key]
        if not isinstance(v, types) or (isinstance(v, bool) and bool not in _tuple(types)):
            self.fail(f"the state entry {self.prefix}{key!r} has type {type(v).__name__}")
        return v

    def number(self, key: str) -> float:
        return float(self.value(key, (int, float)))

    def ids(self, key: str, state: dict[str, Any] | None = None) -> list[str]:
        """A list of distinct strings."""
        src = self.state if state is None else state
        v = src.get(key)
        if not isinstance(v, list) or not all(isinstance(i, str) for i in v):
            self.fail(f"the state entry {self.prefix}{key!r} is not a list of strings")
        if len(set(v)) != len(v):
            self.fail(f"the state entry {self.prefix}{key!r} has duplicate ids")
        return v

    def array(self, key: str, shape: tuple[int, ...], kind: str = "f") -> np.ndarray:
        """The array ``prefix + key`` with exactly ``shape``; ``kind`` ``"f"`` (float64) or
        ``"i"`` (any signed integer, returned as ``intp``)."""
        full = self.prefix + key
        if full not in self.arrays:
            self.fail(f"the array {full!r} is missing")
        a = self.arrays[full]
        if a.shape != shape:
            self.fail(f"the array {full!r} has shape {a.shape}, expected {shape}")
        if kind == "f":
            if a.dtype != np.float64:
                self.fail(f"the array {full!r} has dtype {a.dtype}, expected float64")
            return a
        if a.dtype.kind != "i":
            self.fail(f"the array {full!r} has dtype {a.dtype}, expected integers")
        return a.astype(np.intp)

    def permutation(self, key: str, n: int) -> np.ndarray:
        a = self.array(key, (n,), "i")
        if not np.array_equal(np.sort(a), np.arange(n)):
            self.fail(f"the array {self.prefix + key!r} is not a permutation of 0..{n - 1}")
        return a

    def positions(self, key: str, n: int, bound: int) -> np.ndarray:
        a = self.array(key, (n,), "i")
        if len(a) and (a.min() < 0 or a.max() >= bound):
            self.fail(f"the array {self.prefix + key!r} has positions outside 0..{bound - 1}")
        return a

    def nested(self, key: str) -> StateReader:
        """The reader of the nested starter stored under ``key`` (arrays ``key + "."``)."""
        return StateReader(self.path, self.value(key, dict), self.arrays, f"{key}.")


def _tuple(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


def read(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The JSON header and the arrays of a saved starter (every array read now)."""
    p = Path(path)
    if not p.exists():
        raise MissingDataError(
            f"{p}: no such file; pass the path given to starter.save(path), or fit a warm "
            "starter and save it there."
        )
    if p.is_dir():
        raise CorruptDatabaseError(f"{p} is a folder, not a saved warm starter; {_FIX}.")
    try:
        with np.load(p, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as exc:
        raise CorruptDatabaseError(
            f"{p} cannot be read as a saved warm starter (truncated or damaged: {exc}). "
            f"Fix: {_FIX}."
        ) from exc
    reader = StateReader(p, {}, arrays)
    raw = arrays.pop(META_KEY, None)
    if raw is None or raw.dtype != np.uint8 or raw.ndim != 1:
        reader.fail("it is not a saved warm starter (no header)")
    try:
        meta = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        reader.fail("its header is not valid JSON")
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        reader.fail("it is not a saved warm starter (wrong header)")
    version = meta.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        reader.fail(f"its format version {version!r} is invalid")
    if version > FORMAT_VERSION:
        raise SchemaVersionError(
            f"{p} was written by a newer warmnas ({meta.get('version')!r}, format version "
            f"{version}); this release reads {FORMAT_VERSION}. Upgrade warmnas, or {_FIX} "
            "with this release."
        )
    return meta, arrays


def build(path: Path, name: Any, params: Any, cls: type[WarmStarter] | None = None
          ) -> WarmStarter:
    """An unfitted starter of class ``name`` (a built-in one, or ``cls`` given by the caller)
    with the stored ``params``."""
    reader = StateReader(path, {}, {})
    if cls is None:
        if not isinstance(name, str) or name not in CLASSES:
            reader.fail(f"unknown warm starter class {name!r} (known: {', '.join(CLASSES)})")
        cls = _starter_class(name)
    if not isinstance(params, dict):
        reader.fail(f"the parameters of {name} are not a JSON object")
    kwargs: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, dict):
            if set(value) != {"__starter__", "params"}:
                reader.fail(f"the parameter {name}({key}=...) is not a stored starter")
            value = build(path, value["__starter__"], value["params"])
            value._check_params()
        kwargs[key] = value
    unknown = set(kwargs) - set(_param_names(cls))
    if unknown:
        reader.fail(f"{name} has no parameter(s) {sorted(unknown)}")
    return cls(**kwargs)


def load(path: str | os.PathLike[str], device: Any = None,
         cls: type[WarmStarter] | None = None) -> WarmStarter:
    """Read a starter written by :func:`save`; see :meth:`WarmStarter.load` (``cls``: the
    class ``load`` was called on, the only one a user subclass's file is built with)."""
    meta, arrays = read(path)
    p = Path(path)
    reader = StateReader(p, meta.get("state"), arrays)
    user_cls = None
    if meta.get("user_class") is True:
        stored = meta.get("class")
        if not isinstance(stored, str):
            reader.fail(f"the class name {stored!r} is not a string")
        full = f"{meta.get('module')}.{stored}"
        if cls is None or (cls.__name__ in CLASSES and cls is _starter_class(cls.__name__)) \
                or cls.__qualname__ == "WarmStarter":
            short = stored.rsplit(".", 1)[-1]
            raise InputError(
                f"{p} holds the user warm starter {full!r}, which warmnas does not import from "
                f"a file: import it yourself and call {short}.load(path)."
            )
        if cls.__qualname__ != stored:
            raise InputError(f"{p} holds a {stored}, not a {cls.__qualname__}; load it with "
                             f"{stored.rsplit('.', 1)[-1]}.load(path).")
        user_cls = cls
    try:
        starter = build(p, meta.get("class"), meta.get("params"), cls=user_cls)
    except InputError as exc:  # a stored parameter out of range
        reader.fail(f"a stored parameter is invalid ({exc})")
    if device is not None and hasattr(starter, "device"):
        starter.device = device
    _check_device(p, starter, override=device is not None)  # not damage: its own message
    try:
        starter._check_params()
        set_base_state(starter, reader)
        starter._set_state(reader)
    except InputError as exc:  # a stored parameter out of range
        reader.fail(f"a stored parameter is invalid ({exc})")
    return starter


def _check_device(path: Path, starter: WarmStarter, override: bool) -> None:
    """A starter with a ``device`` (PMF) must find it here: one saved on a GPU machine names
    ``cuda``, which a CPU-only machine cannot use (torch's own error does not say what to do)."""
    if not hasattr(starter, "device"):
        return
    import torch

    value = starter.device
    try:
        dev = torch.device(value)
    except (RuntimeError, TypeError) as exc:
        raise InputError(f"device {value!r} is not a torch device ({exc}); pass e.g. "
                         "device='cpu'") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        how = ("" if override else f"{os.fspath(path)} was saved for device {value!r}, and ")
        raise InputError(f"{how}CUDA is not available here; load it with "
                         "WarmStarter.load(path, device='cpu')")


def set_base_state(starter: WarmStarter, reader: StateReader) -> None:
    """Restore what :func:`base_state` stored (and ``_Y``) on ``starter``."""
    from warmnas.warmstart._validation import to_minimize

    direction = reader.value("direction", str)
    if direction not in ("minimize", "maximize"):
        reader.fail(f"the direction {direction!r} is neither 'minimize' nor 'maximize'")
    tasks = reader.ids("task_ids")
    configs = reader.ids("config_ids")
    values = reader.array("performance", (len(tasks), len(configs)))
    perf = pd.DataFrame(values.copy(), index=make_index(tasks, reader.state.get("task_index")),
                        columns=make_index(configs, reader.state.get("config_index")))
    feats = None
    fstate = reader.state.get("meta_features")
    if fstate is not None:
        if not isinstance(fstate, dict):
            reader.fail("the meta-feature entry is not a JSON object")
        ftasks = reader.ids("task_ids", fstate)
        names = reader.ids("names", fstate)
        fvalues = reader.array("meta_features", (len(ftasks), len(names)))
        feats = pd.DataFrame(
            fvalues.copy(), index=make_index(ftasks, fstate.get("task_index")),
            columns=make_index(names, fstate.get("names_index")),
        )
    share_base(starter, direction, perf, feats, to_minimize(perf.to_numpy(), direction))


def share_base(starter: WarmStarter, direction: Any, perf: pd.DataFrame,
               feats: pd.DataFrame | None, Y: np.ndarray) -> None:
    """Set the attributes ``WarmStarter.fit`` sets before ``_fit``."""
    starter.direction_ = direction
    starter.performance_ = perf
    starter.meta_features_ = feats
    starter.task_ids_ = perf.index
    starter.config_ids_ = perf.columns
    starter._Y = Y
