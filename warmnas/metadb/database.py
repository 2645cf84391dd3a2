"""The meta-database: which configuration scored what on which task, at what cost and latency.

See ``docs/metadb.md`` for the storage contract (what reads return, which errors, thread and
process safety). In short:

- ``MetaDatabase(url)`` opens (and creates when empty) a SQLite file (``"sqlite:///meta.db"`` or a
  plain path) or a PostgreSQL database (``"postgresql://user:pw@host/db"``); ``MetaDatabase()``
  opens the embedded default shipped in the package, read-only.
- Every write method runs in ONE transaction: it validates everything first, and a failure at any
  point (bad input, a crash, a killed process) leaves the database as it was.
- Reads return fresh pandas/NumPy objects; they never return ORM objects or live cursors.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.resources
import itertools
import json
import logging
import math
import os
import random
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from warmnas.errors import (
    CorruptDatabaseError,
    InputError,
    InputTypeError,
    MissingDataError,
    SchemaVersionError,
    StorageError,
    UnknownIdError,
)
from warmnas.metadb import _schema as S
from warmnas.metadb._records import (
    EVALUATION_COLUMNS,
    FAILURE_COLUMNS,
    NASRecord,
    check_alpha,
    check_direction,
    check_error_type,
    check_json_object,
    check_name,
    check_task_id,
    check_text,
    decode_alpha,
    encode_alpha,
    now,
    numeric_column,
    one_line,
    records_frame,
    split_error,
    string_column,
    to_epoch_seconds,
)
from warmnas.metadb.metrics import KNOWN_METRICS, known_direction
from warmnas.space import (
    GenericSpace,
    NB201Space,
    Space,
    canonical_json,
    config_id,
    space_from_json,
)

__all__ = ["MetaDatabase", "Writer", "NASRecord", "DEFAULT_DB_FILE"]

logger = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_DB_FILE = "metadb.sqlite"
_SQLITE_HEADER = b"SQLite format 3\x00"
_CHUNK = 100_000
_NORMALIZE = (None, "rank", "quantile")
_FIELDS = ("value", "cost_s", "latency_ms")
_EVAL_KEY = ("metric_id", "task_id", "config_id", "device", "fidelity", "seed")
_EVAL_COLS = _EVAL_KEY + ("value", "cost_s", "latency_ms", "source", "timestamp")


def _default_path() -> Path:
    return Path(str(importlib.resources.files("warmnas") / "data" / DEFAULT_DB_FILE))


def _is_default_file(path: Path) -> bool:
    """Whether ``path`` is the embedded default's file (also through a link or another spelling)."""
    default = _default_path()
    try:
        return path.exists() and default.exists() and os.path.samefile(path, default)
    except OSError:
        return False


def _progress_enabled(show: bool | None) -> bool:
    if show is None:
        return sys.stderr.isatty()
    return bool(show)


def _masked(url: sa.URL) -> str:
    return url.render_as_string(hide_password=True)


def _orig(exc: BaseException) -> BaseException:
    """The driver's exception (SQLAlchemy wraps it in ``.orig``; raw cursors raise it directly)."""
    return exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc


def _is_driver_error(exc: BaseException) -> bool:
    """An error of the database driver, wrapped by SQLAlchemy or raised by a raw DBAPI cursor
    (the bulk paths use the driver's cursor directly: sqlite3 ``executemany``, psycopg ``COPY``)."""
    return isinstance(exc, (DBAPIError, sqlite3.Error)) or type(exc).__module__.startswith("psycopg")


def _is_retryable(exc: BaseException) -> bool:
    """Lock contention (SQLite) or deadlock/serialization failure (PostgreSQL): safe to retry."""
    orig = _orig(exc)
    text = str(orig).lower()
    if isinstance(orig, sqlite3.OperationalError):
        return "locked" in text or "busy" in text
    sqlstate = getattr(orig, "sqlstate", None)
    # deadlock, serialization failure, lock not available; a unique violation can only come from
    # the optimistic plain INSERT of a bulk upsert racing another writer (see _pg_upsert)
    return sqlstate in ("40P01", "40001", "55P03", "23505")


def _is_corruption(exc: BaseException) -> bool:
    orig = _orig(exc)
    text = str(orig).lower()
    return isinstance(orig, sqlite3.DatabaseError) and (
        "not a database" in text or "malformed" in text or "corrupt" in text
    )


def _sorted_unique_rows(arrays: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """Evaluation rows as tuples (``_EVAL_COLS`` order), one per key (the LAST one of the batch
    wins), sorted by key (locality for the B-tree; a fixed lock order for PostgreSQL)."""
    cols = {c: np.asarray(arrays[c]) for c in _EVAL_COLS}
    n = len(cols["value"])
    if n == 0:
        return []
    devices = np.asarray(cols["device"], dtype=object)
    dev_code, _ = pd.factorize(devices)
    keys = [cols["metric_id"].astype(np.int64), cols["task_id"].astype(np.int64),
            cols["config_id"].astype(np.int64), dev_code.astype(np.int64),
            cols["fidelity"].astype(np.float64), cols["seed"].astype(np.int64)]
    order = np.lexsort([np.arange(n)] + keys[::-1])  # primary key last; input order breaks ties
    last = np.ones(n, dtype=bool)
    if n > 1:
        same = np.ones(n - 1, dtype=bool)
        for k in keys:
            ks = k[order]
            same &= ks[1:] == ks[:-1]
        last[:-1] = ~same  # keep a row when the next row has another key
    order = order[last]

    def plain(values: np.ndarray, nullable: bool = False) -> list[Any]:
        values = values[order]
        if nullable and values.dtype.kind == "f":
            nan = np.isnan(values)
            if nan.all():
                return [None] * len(values)
            if nan.any():
                boxed = values.astype(object)
                boxed[nan] = None
                return boxed.tolist()
        return values.tolist()

    return list(zip(
        plain(keys[0]), plain(keys[1]), plain(keys[2]), plain(devices), plain(keys[4]),
        plain(keys[5]), plain(cols["value"].astype(np.float64)),
        plain(cols["cost_s"].astype(np.float64), True), plain(cols["latency_ms"].astype(np.float64), True),
        plain(np.asarray(cols["source"], dtype=object)), plain(cols["timestamp"].astype(np.float64)),
    ))


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _float_array(frame: pd.DataFrame, what: str) -> np.ndarray:
    """The frame as float64 (None -> NaN); InputTypeError naming ``what`` for non-numbers."""
    for col, dtype in frame.dtypes.items():
        kind = "booleans" if pd.api.types.is_bool_dtype(dtype) else (
            f"{dtype} values" if (pd.api.types.is_complex_dtype(dtype)
                                  or pd.api.types.is_datetime64_any_dtype(dtype)
                                  or pd.api.types.is_timedelta64_dtype(dtype)) else None)
        if kind is not None:
            raise InputTypeError(f"{what} must hold real numbers, got {kind} in column {col!r}")
    try:
        arr = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InputTypeError(f"{what} must hold numbers: {exc}") from exc
    is_object = np.asarray(frame.dtypes.map(pd.api.types.is_object_dtype), dtype=bool)
    if is_object.any():
        # object columns (only those: a per-value loop over a whole float frame took seconds):
        # a complex or datetime value among numbers would be cast silently
        odd = [v for v in frame.iloc[:, np.flatnonzero(is_object)].to_numpy(dtype=object).ravel()
               if isinstance(v, (complex, np.complexfloating, np.datetime64, np.timedelta64))
               or hasattr(v, "isoformat")]
        if odd:
            raise InputTypeError(f"{what} must hold real numbers, got {odd[0]!r}")
    return arr


class MetaDatabase:
    """Tasks x configurations performance (with cost and latency), meta-features and NAS records.

    Args:
        url: where the database lives. ``None``: the embedded default in the package (read-only).
            A SQLAlchemy URL (``"sqlite:///path/meta.db"``, ``"sqlite://"`` in memory,
            ``"postgresql://user:pw@host/db"``; ``postgresql://`` uses the psycopg 3 driver) or a
            filesystem path (str or Path) of a SQLite file. An empty or missing SQLite file (in an
            existing folder) is created; an empty PostgreSQL database gets the tables.
            For PostgreSQL, ``?options=-csearch_path%3Dmyschema`` keeps the tables in a schema.
        read_only: refuse every write (default: True for the embedded default, else False). The
            embedded default is always read-only, also when its file is passed by path.
        busy_timeout: seconds a SQLite writer waits for another writer's lock (then retries).
        retries: how often a write transaction is retried after lock contention or a deadlock.

    Raises:
        CorruptDatabaseError: the file is not SQLite, is damaged, or is another program's database.
        SchemaVersionError: the database was written by a newer warmnas (schema version too high),
            or is older and was opened read-only (so it cannot be upgraded).
        MissingDataError: a read-only/embedded database file does not exist.
        StorageError: the server cannot be reached.

    Thread and process safety: one instance may be shared by threads (each call checks out its own
    connection). Each process should open its own instance (after ``fork`` the connection pool is
    replaced automatically). Many processes may write into one SQLite file (WAL, busy timeout and
    retries) or one PostgreSQL database at once; nothing is lost or duplicated.
    """

    def __init__(self, url: str | os.PathLike[str] | None = None, *, read_only: bool | None = None,
                 busy_timeout: float = 60.0, retries: int = 20) -> None:
        self._embedded = url is None
        self.busy_timeout = float(busy_timeout)
        self.retries = int(retries)
        self._excluded: frozenset[str] = frozenset()
        self._sqlite_path: Path | None = None
        self._wal: dict[str, bool] | None = None  # a writable SQLite file: WAL once it is opened
        self._url = self._resolve_url(url)
        if not self._embedded and self._sqlite_path is not None and _is_default_file(self._sqlite_path):
            self._embedded = True  # the package's file, named by its path: the same protection
        if self._embedded and read_only is False:
            raise StorageError(
                "the embedded default meta-database is read-only (it ships inside the package); "
                "write into your own copy: db = MetaDatabase('sqlite:///my-meta.db'); "
                "db.copy_from(MetaDatabase.default())"
            )
        if read_only is None:
            read_only = self._embedded
        self.read_only = bool(read_only)
        self.backend = self._url.get_backend_name()
        self._memory_lock = (threading.RLock()
                             if self.backend == "sqlite" and self._sqlite_path is None else None)
        self._engine = self._make_engine()
        self._pid = os.getpid()
        self._metric_cache: dict[str, tuple[int, str]] = {}
        self._tables: tuple[sa.Table, ...] = S.ALL_TABLES  # those of the opened version
        self._has_failures_table = True
        try:
            self._open()
        except BaseException:
            self._engine.dispose()  # no connection of a refused file stays open
            raise
        if self._wal is not None and not self._wal["on"]:
            # only now that the file is known to be a meta-database of this version: the WAL
            # journal mode is a persistent change to the file, never made to a refused one
            self._wal["on"] = True
            self._engine.dispose()  # pooled connections reopen in WAL mode

    # ------------------------------------------------------------------------------------------
    # opening
    # ------------------------------------------------------------------------------------------

    @classmethod
    def default(cls) -> MetaDatabase:
        """The embedded default meta-database shipped inside the package (read-only).

        Holds the Oboe 358 x 219 balanced-error matrix with runtimes as cost, the PMF
        auto-sklearn meta-features of those tasks (view ``"autosklearn"``) and NAS-Bench-201 NAS
        records; see ``warmnas/data/README.md``. Write into your own copy:
        ``MetaDatabase("sqlite:///mine.db").copy_from(MetaDatabase.default())``.
        """
        return cls(None)

    @property
    def url(self) -> str:
        """The database URL with the password masked."""
        return _masked(self._url)

    def __repr__(self) -> str:
        flags = " read-only" if self.read_only else ""
        view = f" without {len(self._excluded)} task(s)" if self._excluded else ""
        return f"MetaDatabase({self.url!r}{flags}{view})"

    def _resolve_url(self, url: str | os.PathLike[str] | None) -> sa.URL:
        if url is None:
            path = _default_path()
            if not path.is_file():
                raise MissingDataError(
                    f"the embedded default meta-database {path} is missing from this installation; "
                    "build it with `python scripts/build_default_db.py --data-dir <shared data>` "
                    "or open your own with MetaDatabase('sqlite:///meta.db')"
                )
            self._sqlite_path = path
            return sa.URL.create("sqlite", database=str(path))
        if isinstance(url, os.PathLike) or (isinstance(url, str) and "://" not in url):
            if isinstance(url, str) and not url:
                raise InputError("url is empty; pass 'sqlite:///path.db', a path or 'postgresql://...'")
            path = Path(os.fspath(url)).expanduser()
            self._sqlite_path = path.resolve()
            # built from parts, not parsed: '?', '#' or '%' in a file name stay part of the name
            return sa.URL.create("sqlite", database=str(self._sqlite_path))
        if not isinstance(url, str):
            raise InputTypeError(f"url must be a string or path, got {type(url).__name__}")
        try:
            parsed = sa.make_url(url)
        except sa.exc.ArgumentError as exc:
            raise InputError(f"{url!r} is not a database URL: {exc}") from exc
        backend = parsed.get_backend_name()
        if backend in ("postgresql", "postgres"):
            if parsed.drivername in ("postgresql", "postgres"):
                parsed = parsed.set(drivername="postgresql+psycopg")
        elif backend == "sqlite":
            if parsed.query:
                # the engine is built from the file's path, so options would be dropped without
                # a word: '?mode=ro' would open the file writable
                raise InputError(
                    f"SQLite URL options are not used by MetaDatabase, got "
                    f"{sorted(parsed.query)} in {url!r}; drop them and pass "
                    "read_only=True to open the file read-only, or busy_timeout=SECONDS for "
                    "the lock timeout"
                )
            if parsed.database and parsed.database != ":memory:":
                self._sqlite_path = Path(parsed.database).expanduser().resolve()
        else:
            raise InputError(
                f"unsupported database {backend!r} in {url!r}; use 'sqlite:///file.db' or "
                "'postgresql://user:password@host/database'"
            )
        return parsed

    def _make_engine(self) -> Engine:
        if self.backend == "sqlite":
            return self._make_sqlite_engine()
        try:
            engine = sa.create_engine(self._url, pool_pre_ping=True)
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise StorageError(
                f"cannot use {self.url}: {exc}; install the driver with `pip install warmnas[postgres]`"
            ) from exc
        return engine

    def _make_sqlite_engine(self) -> Engine:
        path = self._sqlite_path
        timeout = self.busy_timeout
        if path is None:  # in memory: one shared connection
            engine = sa.create_engine(
                "sqlite://", poolclass=sa.pool.StaticPool,
                connect_args={"check_same_thread": False},
            )
        else:
            if path.exists():
                if path.is_dir():
                    raise InputError(f"{path} is a folder; pass the path of a SQLite file")
                if path.stat().st_size > 0:
                    with open(path, "rb") as fh:
                        header = fh.read(16)
                    if header != _SQLITE_HEADER:
                        raise CorruptDatabaseError(
                            f"{path} is not a SQLite database (its first bytes are {header[:16]!r}); "
                            "pass a warmnas meta-database file or a new path"
                        )
            elif self.read_only:
                raise MissingDataError(f"no meta-database at {path} (opened read-only, so not created)")
            elif not path.parent.is_dir():
                raise MissingDataError(
                    f"cannot create {path}: the folder {path.parent} does not exist"
                )
            if self.read_only:
                flags = "mode=ro&immutable=1" if self._embedded else "mode=ro"
                uri = f"file:{quote(str(path))}?{flags}"

                def creator() -> sqlite3.Connection:
                    return sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=False)

                engine = sa.create_engine("sqlite://", creator=creator)
            else:
                # connect to the path itself: a URL would read '?', '#' or '%xx' in a file name as
                # URL syntax and open another file
                file_name = str(path)

                def creator() -> sqlite3.Connection:
                    return sqlite3.connect(file_name, timeout=timeout, check_same_thread=False)

                engine = sa.create_engine("sqlite://", creator=creator, poolclass=sa.pool.QueuePool)
        read_only = self.read_only
        busy_ms = int(timeout * 1000)
        wal = self._wal = {"on": False} if (not read_only and path is not None) else None

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (BEGIN IMMEDIATE for writes)
            cur = dbapi_conn.cursor()
            try:
                cur.execute(f"PRAGMA busy_timeout = {busy_ms}")
                cur.execute("PRAGMA foreign_keys = ON")
                if wal is not None and wal["on"]:
                    try:
                        cur.execute("PRAGMA journal_mode = WAL")
                    except sqlite3.OperationalError as exc:  # another process holds the lock
                        logger.debug("could not switch to WAL now: %s", exc)
                if wal is not None:
                    cur.execute("PRAGMA synchronous = NORMAL")
            except sqlite3.DatabaseError:
                pass  # a damaged file: reported with context by _open()
            finally:
                cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            write = conn.get_execution_options().get("warmnas_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine

    def _engine_for_process(self) -> Engine:
        if os.getpid() != self._pid:  # forked: never share pooled connections with the parent
            self._engine.dispose(close=False)
            self._pid = os.getpid()
        return self._engine

    def _hint(self, exc: BaseException) -> str:
        """The fix for a SQLite file the process cannot write (a read-only file or folder)."""
        text = str(_orig(exc)).lower()
        if self._sqlite_path is None or not ("readonly" in text or "unable to open" in text):
            return ""
        path = self._sqlite_path
        if not path.exists():
            return f"; the folder {path.parent} is not writable: create the database in a writable folder"
        return (f"; {path} or its folder {path.parent} is not writable (SQLite also creates "
                "-wal/-journal files beside it): open it with read_only=True to read, or copy it "
                "to a writable folder to write")

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        """Translate driver errors into warmnas errors."""
        try:
            yield
        except Exception as exc:
            if not _is_driver_error(exc):
                raise
            if _is_corruption(exc):
                raise CorruptDatabaseError(
                    f"{self.url} is damaged or not a meta-database ({_orig(exc)}); restore it from a "
                    "copy or rebuild it"
                ) from exc
            operational = isinstance(exc, OperationalError) or type(_orig(exc)).__name__ == "OperationalError"
            if operational and not _is_retryable(exc):
                raise StorageError(f"database {self.url} failed: {_orig(exc)}{self._hint(exc)}") from exc
            raise

    @contextlib.contextmanager
    def _serial(self) -> Iterator[None]:
        """In memory (``sqlite://``) all threads share ONE connection: one call at a time. A
        call waits up to ``busy_timeout`` seconds for another thread's (as a SQLite file's
        writers do), then raises instead of hanging (e.g. a thread that waits for another
        thread's call inside ``with db.transaction():``)."""
        lock = self._memory_lock
        if lock is None:
            yield
            return
        if not lock.acquire(timeout=max(self.busy_timeout, 0.0)):
            raise StorageError(
                f"the in-memory database {self.url} stayed busy with another thread's call for "
                f"{self.busy_timeout:g} s (busy_timeout); nothing was done. Its threads share one "
                "connection: do not wait inside `with db.transaction():` for another thread that "
                "uses the database, or use a SQLite file"
            )
        try:
            yield
        finally:
            lock.release()

    @contextlib.contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._serial(), self._errors(), self._engine_for_process().connect() as conn:
            with conn.begin():
                yield conn

    def _transaction(self, fn: Callable[[Connection], T], *, retry: bool = True,
                     schema_change: bool = False) -> T:
        """Run ``fn(conn)`` in one write transaction; retry it on lock contention / deadlocks.

        On PostgreSQL every write holds a shared advisory lock on the schema, and schema changes
        (creation, migrations) an exclusive one, so no write runs during a migration.
        """
        attempts = self.retries + 1 if retry else 1
        delay = 0.05
        for attempt in range(attempts):
            try:
                with self._serial(), self._errors(), self._engine_for_process().connect() as conn:
                    conn.execution_options(warmnas_write=True)
                    with conn.begin():
                        if self.backend == "postgresql":
                            lock = "pg_advisory_xact_lock" if schema_change else "pg_advisory_xact_lock_shared"
                            conn.execute(sa.text(f"SELECT {lock}(hashtext(current_schema()))"))
                        return fn(conn)
            except Exception as exc:
                if not _is_driver_error(exc):
                    raise
                if not _is_retryable(exc) or attempt == attempts - 1:
                    if _is_retryable(exc):
                        raise StorageError(
                            f"database {self.url} stayed locked by other writers through "
                            f"{attempts} attempts; nothing was written ({_orig(exc)})"
                        ) from exc
                    raise StorageError(f"write to {self.url} failed; nothing was written: {_orig(exc)}"
                                       f"{self._hint(exc)}") from exc
                logger.debug("write to %s hit lock contention (%s); retrying", self.url, _orig(exc))
                # jitter from a private generator: never draw from Python's global random state
                time.sleep(delay * (1 + random.Random().random()))
                delay = min(delay * 2, 2.0)
        raise AssertionError("unreachable")  # pragma: no cover

    def _open(self) -> None:
        with self._errors():
            try:
                version = self._read_version()
            except CorruptDatabaseError:
                raise
            except DBAPIError as exc:
                if _is_corruption(exc):
                    raise
                raise StorageError(f"cannot open {self.url}: {exc.orig}") from exc
        if version is None:
            if self.read_only:
                raise CorruptDatabaseError(
                    f"{self.url} holds no meta-database and was opened read-only; open it writable "
                    "to create one"
                )
            self._transaction(self._create_schema, schema_change=True)
            version = S.SCHEMA_VERSION
        if version > S.SCHEMA_VERSION:
            raise SchemaVersionError(
                f"{self.url} has schema version {version}, newer than this warmnas reads "
                f"({S.SCHEMA_VERSION}); upgrade warmnas (pip install -U warmnas)"
            )
        if version < S.SCHEMA_VERSION:
            if self.read_only and version not in S.READ_COMPATIBLE:
                raise SchemaVersionError(
                    f"{self.url} has schema version {version} (current {S.SCHEMA_VERSION}); open it "
                    "writable once to upgrade it"
                )
            if not self.read_only:
                self._transaction(self._migrate, schema_change=True)
                version = S.SCHEMA_VERSION
        # a read-only open of a compatible older version reads what it has (failures: none)
        self._tables = S.TABLES_BY_VERSION[version]
        self._has_failures_table = S.evaluation_failures in self._tables
        self._check_tables()

    def _read_version(self) -> int | None:
        with self._read() as conn:
            names = set(sa.inspect(conn).get_table_names())
            ours = {n for n in names if n.startswith(S.PREFIX)}
            if S.meta.name not in names:
                if ours:
                    raise CorruptDatabaseError(
                        f"{self.url} has warmnas tables {sorted(ours)} but no {S.meta.name} table; "
                        "it is damaged - rebuild it"
                    )
                if names and self.backend == "sqlite":
                    raise CorruptDatabaseError(
                        f"{self.url} is a SQLite database of another program (tables "
                        f"{sorted(names)[:5]}); pass a new file for the meta-database"
                    )
                return None
            row = conn.execute(
                sa.select(S.meta.c.value).where(S.meta.c.key == "schema_version")
            ).first()
        if row is None:
            raise CorruptDatabaseError(f"{self.url} has no schema_version entry; it is damaged")
        try:
            return int(row[0])
        except ValueError as exc:
            raise CorruptDatabaseError(f"{self.url} has schema_version {row[0]!r}") from exc

    def _create_schema(self, conn: Connection) -> None:
        names = set(sa.inspect(conn).get_table_names())
        if S.meta.name in names:  # another process created it meanwhile
            return
        for table in S.ALL_TABLES:
            table.create(conn, checkfirst=True)
        conn.execute(S.meta.insert(), [
            {"key": "schema_version", "value": str(S.SCHEMA_VERSION)},
            {"key": "created_at", "value": f"{time.time():.3f}"},
        ])

    def _migrate(self, conn: Connection) -> None:
        version = int(conn.execute(
            sa.select(S.meta.c.value).where(S.meta.c.key == "schema_version")).scalar_one())
        while version < S.SCHEMA_VERSION:
            step = S.MIGRATIONS.get(version)
            if step is None:  # pragma: no cover - every version has a step
                raise SchemaVersionError(f"no migration from schema version {version}")
            logger.info("upgrading %s from schema version %d to %d", self.url, version, version + 1)
            step(conn)
            version += 1
        conn.execute(S.meta.update().where(S.meta.c.key == "schema_version")
                     .values(value=str(version)))

    def _check_tables(self) -> None:
        with self._read() as conn:
            names = set(sa.inspect(conn).get_table_names())
        missing = [t.name for t in self._tables if t.name not in names]
        if missing:
            raise CorruptDatabaseError(f"{self.url} lacks the tables {missing}; it is damaged")

    def schema_version(self) -> int:
        """The schema version stored in the database."""
        version = self._read_version()
        assert version is not None
        return version

    def dispose(self) -> None:
        """Close pooled connections (the object stays usable; connections reopen on demand)."""
        self._engine.dispose()

    # ------------------------------------------------------------------------------------------
    # writing
    # ------------------------------------------------------------------------------------------

    def _check_writable(self) -> None:
        if not self.read_only:
            return
        if self._embedded:
            raise StorageError(
                "the embedded default meta-database is read-only; write into your own copy: "
                "db = MetaDatabase('sqlite:///my-meta.db'); db.copy_from(MetaDatabase.default())"
            )
        if self._excluded:
            raise StorageError(
                "this is a read-only view from without(); write through the database it came from"
            )
        raise StorageError(f"{self.url} was opened read-only; open it with read_only=False to write")

    def _write(self, fn: Callable[[Writer], T]) -> T:
        self._check_writable()
        return self._transaction(lambda conn: fn(Writer(self, conn)))

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Writer]:
        """Group several writes into one atomic transaction.

        Example::

            with db.transaction() as tx:
                tx.add_task("mylab/t1", name="t1")
                tx.add_evaluations(records, metric="accuracy", space=space)

        Everything inside is written together or (on any exception) not at all. Unlike the
        single-call methods, a transaction block is not retried automatically; on SQLite it waits
        up to ``busy_timeout`` seconds for other writers.
        """
        self._check_writable()
        with self._serial(), self._errors(), self._engine_for_process().connect() as conn:
            conn.execution_options(warmnas_write=True)
            with conn.begin():
                yield Writer(self, conn)

    def add_task(self, task_id: str, *, name: str | None = None, source: str | None = None,
                 task_type: str | None = None, openml_dataset_id: int | None = None,
                 openml_task_id: int | None = None, info: Mapping[str, Any] | None = None,
                 meta_features: Mapping[str, float] | pd.Series | None = None,
                 view: str = "autosklearn") -> str:
        """Add a task or update the fields given (others keep their stored value).

        Task ids are strings; the importers use ``openml/d/<dataset id>``, ``openml/t/<task id>``,
        ``autosklearn/<dataset name>``, ``nb201/<dataset>``, ``fbnet/<dataset>``; any id of 1-200
        characters without whitespace is accepted.

        Args:
            task_id: the task id.
            name, source, task_type: descriptive fields (``task_type`` e.g. ``"binary"``,
                ``"multiclass"``, ``"regression"``, ``"classification"``, ``"image"``).
            openml_dataset_id, openml_task_id: OpenML ids, when known.
            info: any further JSON metadata.
            meta_features: ``{name: value}`` (or a Series, e.g. ``WarmStart.meta_features``)
                stored under ``view`` (NaN = undefined).
            view: the meta-feature naming scheme (``"autosklearn"``, ``"openml"``, ``"pymfe"``).

        Returns:
            The task id.

        Raises:
            InputError / InputTypeError: invalid id or fields, infinite meta-feature values.
        """
        row = {"task": task_id, "name": name, "source": source, "task_type": task_type,
               "openml_dataset_id": openml_dataset_id, "openml_task_id": openml_task_id,
               "info": info}

        def fn(w: Writer) -> str:
            w.add_tasks([row])
            if meta_features is not None:
                w.add_meta_features({task_id: meta_features}, view=view)
            return task_id

        return self._write(fn)

    def add_tasks(self, tasks: pd.DataFrame | Iterable[Mapping[str, Any]]) -> list[str]:
        """Add or update several tasks at once (keys/columns as :meth:`add_task`, ``task`` = id)."""
        return self._write(lambda w: w.add_tasks(tasks))

    def add_meta_features(self, features: pd.DataFrame | Mapping[str, Mapping[str, float]], *,
                          view: str, create_tasks: bool = False) -> int:
        """Store meta-features (upsert): a DataFrame (index task ids, columns feature names) or
        ``{task: {name: value}}``. NaN is stored as undefined; infinity is refused.

        Returns:
            The number of (task, feature) values written.

        Raises:
            UnknownIdError: a task is not stored (and ``create_tasks`` is False).
            InputError: infinite values, bad names.
        """
        return self._write(lambda w: w.add_meta_features(features, view=view, create_tasks=create_tasks))

    def add_space(self, space: Space) -> str:
        """Store a configuration space (idempotent). Returns its name.

        Raises:
            InputError: a different space with the same name is already stored.
        """
        return self._write(lambda w: w.add_space(space))

    def add_metric(self, name: str, direction: str, description: str | None = None) -> str:
        """Declare a metric and its direction (``"minimize"`` or ``"maximize"``).

        Raises:
            InputError: the metric exists with the other direction.
        """
        return self._write(lambda w: w.add_metric(name, direction, description))

    def add_configs(self, configs: Iterable[Mapping[str, Any]], *, space: Space | str) -> list[str]:
        """Validate and store configurations of ``space``; returns their ids (input order).

        Raises:
            ConfigSpaceError: a configuration lies outside the space (nothing is written).
        """
        return self._write(lambda w: w.add_configs(configs, space=space))

    def add_evaluations(self, records: pd.DataFrame | Iterable[Mapping[str, Any]] | Mapping[str, Any],
                        *, metric: str | None = None, direction: str | None = None,
                        space: Space | str | None = None, source: str | None = None,
                        device: str | None = None, create_tasks: bool = False,
                        on_conflict: str = "update", show_progress: bool | None = None,
                        on_progress: Callable[[int, int], None] | None = None) -> int:
        """Store evaluations in one atomic batch (idempotent upsert).

        Args:
            records: a DataFrame or dicts with keys ``task`` and ``value`` (required), ``config``
                (a dict, validated against ``space``) or ``config_id`` (an already stored config),
                and optionally ``metric``, ``direction``, ``space``, ``fidelity`` (default 1.0),
                ``seed`` (0), ``cost_s``, ``latency_ms``, ``device`` (""), ``source``,
                ``timestamp`` (now).
            metric, direction, space, source, device: defaults for records that lack the key.
                A metric seen for the first time needs a direction unless it is one of
                :data:`warmnas.metadb.metrics.KNOWN_METRICS`.
            create_tasks: add unknown task ids as bare tasks instead of raising.
            on_conflict: an evaluation with the same (task, config, metric, device, fidelity,
                seed) already stored: ``"update"`` replaces it (value, cost, latency, source,
                timestamp; an identical re-write changes nothing), ``"ignore"`` keeps it.
            show_progress: tqdm bar (default: when stderr is a terminal).
            on_progress: called with (rows written, total) after each chunk.

        Returns:
            The number of distinct evaluations in the batch.

        Raises:
            UnknownIdError: an unknown task (without ``create_tasks``), config id or space name.
            InputError: NaN/inf values, a metric direction that contradicts the stored one, a
                missing direction for a new metric, bad fidelity, ...
            ConfigSpaceError: a config outside its space.
            StorageError: the database stayed locked; nothing was written.
        """
        return self._write(lambda w: w.add_evaluations(
            records, metric=metric, direction=direction, space=space, source=source, device=device,
            create_tasks=create_tasks, on_conflict=on_conflict, show_progress=show_progress,
            on_progress=on_progress))

    def add_failures(self, records: pd.DataFrame | Iterable[Mapping[str, Any]] | Mapping[str, Any],
                     *, metric: str | None = None, direction: str | None = None,
                     space: Space | str | None = None, source: str | None = None,
                     device: str | None = None, create_tasks: bool = False) -> int:
        """Store failed evaluations in one atomic batch (an exception, a timeout, a NaN result).

        A failure is keyed like an evaluation: (task, config, metric, device, fidelity, seed).
        Failures never appear in :meth:`performance_matrix`, :meth:`evaluations` or
        :meth:`top_k`; read them with :meth:`failures`. A stored evaluation of the same key wins:
        a failure of a key that has one is not stored, and storing an evaluation deletes the
        failure of its key.

        Args:
            records: a DataFrame or dicts with keys ``task``, ``config`` (a dict of ``space``) or
                ``config_id``, ``error_type`` (an exception name, e.g. ``"TimeoutError"``) and
                ``message`` - or instead of those two ``error`` (``"Type: message"`` text or an
                exception object) - and optionally ``metric``, ``direction``, ``space``,
                ``fidelity`` (1.0), ``seed`` (0), ``device`` (""), ``elapsed_s`` (seconds the
                failed attempt ran), ``attempts`` (1), ``source``, ``timestamp`` (now). Messages
                are stored as one line (whitespace runs become one space) of at most 1,000
                characters.
            metric, direction, space, source, device, create_tasks: as in :meth:`add_evaluations`.

        Idempotent per failure: a record whose key is stored with the same ``timestamp`` is
        the same failure again and changes nothing; a different timestamp is another attempt:
        ``attempts`` grows by the record's, and the fields of the later failure are kept.

        Returns:
            The number of distinct failure keys stored (keys with a stored evaluation excluded).

        Raises:
            UnknownIdError: an unknown task (without ``create_tasks``), config id or space.
            InputError / InputTypeError: a missing or malformed error type or message, negative
                or infinite ``elapsed_s``, ``attempts`` < 1, unknown fields, bad keys (as
                :meth:`add_evaluations`).
            ConfigSpaceError: a config outside its space.
            StorageError: read-only database, or it stayed locked; nothing was written.
        """
        return self._write(lambda w: w.add_failures(
            records, metric=metric, direction=direction, space=space, source=source, device=device,
            create_tasks=create_tasks))

    def add_matrix(self, values: pd.DataFrame, *, metric: str, direction: str | None = None,
                   cost: pd.DataFrame | None = None, latency: pd.DataFrame | None = None,
                   device: str = "", fidelity: float = 1.0, seed: int = 0,
                   source: str | None = None, create_tasks: bool = False,
                   on_conflict: str = "update", show_progress: bool | None = None,
                   on_progress: Callable[[int, int], None] | None = None) -> int:
        """Store a tasks x configs matrix of one metric (NaN cells = not evaluated), in one batch.

        Args:
            values: DataFrame ``n_tasks x n_configs``: index task ids, columns STORED config ids
                (see :meth:`add_configs`).
            cost, latency: optional DataFrames with the same labels (seconds, milliseconds).
            Other arguments as in :meth:`add_evaluations`.

        Returns:
            The number of evaluations written.

        Raises:
            UnknownIdError: unknown tasks (without ``create_tasks``) or config ids.
            InputError: infinite values, mismatched labels, a contradicting direction.
        """
        return self._write(lambda w: w.add_matrix(
            values, metric=metric, direction=direction, cost=cost, latency=latency, device=device,
            fidelity=fidelity, seed=seed, source=source, create_tasks=create_tasks,
            on_conflict=on_conflict, show_progress=show_progress, on_progress=on_progress))

    def add_nas_record(self, task: str, space: str, genotype: Mapping[str, Any],
                       alpha: Mapping[str, Any], *, source: str | None = None,
                       create_task: bool = False, **meta: Any) -> str:
        """Store a NAS record (upsert on task, space and genotype). Returns its record id.

        Args:
            task: the task id (must be stored unless ``create_task``).
            space: ``"nb201"``, ``"darts"`` or another NAS space name.
            genotype: the discrete architecture as a JSON dict (NB201: ``{"arch": "|...|"}``).
            alpha: architecture LOGITS ``{name: array}`` (NumPy or torch); NB201 ``{"cell": (6, 5)}``,
                DARTS ``{"normal": (14, 8), "reduce": (14, 8)}``.
            source: where it came from.
            **meta: JSON metadata (``accuracy=...``, ``rank=...``).

        Raises:
            UnknownIdError: unknown task. InputError: non-finite alpha, wrong shapes, bad genotype.
        """
        return self._write(lambda w: w.add_nas_record(
            task, space, genotype, alpha, source=source, create_task=create_task, meta=meta))

    def delete_tasks(self, tasks: Iterable[str]) -> int:
        """Delete tasks with their evaluations, meta-features and NAS records. Returns the count."""
        return self._write(lambda w: w.delete_tasks(tasks))

    def set_default_metric(self, metric: str) -> None:
        """Set the metric :meth:`performance_matrix` uses when none is given."""
        def fn(w: Writer) -> None:
            exists = w.conn.execute(sa.select(S.metrics.c.id).where(S.metrics.c.name == metric)).scalar()
            if exists is None:
                names = [r[0] for r in w.conn.execute(sa.select(S.metrics.c.name))]
                raise UnknownIdError(f"unknown metric {metric!r}; stored: {names}")
            w.set_meta("default_metric", metric)

        self._write(fn)

    def copy_from(self, other: MetaDatabase, *, show_progress: bool | None = None) -> MetaDatabase:
        """Copy everything ``other`` holds (respecting ``other.without(...)``) into this database,
        in one transaction (upsert; failures are added to the attempts stored here unless
        already copied, see :meth:`add_failures`). Returns ``self``.

        Example: ``MetaDatabase("sqlite:///mine.db").copy_from(MetaDatabase.default())``.
        """
        if not isinstance(other, MetaDatabase):
            raise InputTypeError(f"copy_from needs a MetaDatabase, got {type(other).__name__}")
        tasks = other.tasks()
        features = {view: other.meta_features(view) for view in other.meta_feature_views()}
        spaces = [other.space(name) for name in other.spaces()]
        evals = other.evaluations()
        failures = other.failures()
        records = other.nas_records()
        default_metric = other._get_meta("default_metric")
        configs: dict[str, tuple[str, dict[str, Any]]] = {}
        for space in spaces:
            for cid, cfg in other.configs(space=space.name).items():
                configs[cid] = (space.name, cfg)

        def fn(w: Writer) -> MetaDatabase:
            task_rows = tasks.reset_index().rename(columns={"task_id": "task"})
            w.add_tasks(task_rows)
            for view, frame in features.items():
                w.add_meta_features(frame, view=view)
            for space in spaces:
                w.add_space(space)
                ids = [cid for cid, (sp, _) in configs.items() if sp == space.name]
                w.add_configs([configs[cid][1] for cid in ids], space=space)
            for name, direction in other._metric_directions().items():
                w.add_metric(name, direction)
            if len(evals):
                w.add_evaluations(evals.drop(columns=["direction"]), on_conflict="update",
                                  show_progress=show_progress)
            for rec in records:
                w.add_nas_record(rec.task, rec.space, rec.genotype, rec.alpha, source=rec.source,
                                 meta=rec.meta)
            if len(failures):
                w.add_failures(failures)
            if default_metric is not None:
                w.set_meta("default_metric", default_metric)
            return self

        return self._write(fn)

    # ------------------------------------------------------------------------------------------
    # reading
    # ------------------------------------------------------------------------------------------

    def without(self, tasks: Iterable[str] | str) -> MetaDatabase:
        """A read-only view of this database without ``tasks`` (for leave-one-task-out).

        Every read of the view (matrices, meta-features, tasks, top_k, NAS records, evaluations)
        leaves those tasks out; writes raise StorageError. The view shares this database's
        connections.

        Raises:
            UnknownIdError: a task is not stored.
        """
        ids = [tasks] if isinstance(tasks, str) else list(tasks)
        for t in ids:
            check_task_id(t, "without(tasks)")
        known = set(self._task_pk_map())
        unknown = [t for t in ids if t not in known and t not in self._excluded]
        if unknown:
            raise UnknownIdError(f"without(): unknown task id(s) {unknown[:5]}; see db.tasks()")
        view = object.__new__(MetaDatabase)
        view.__dict__.update(self.__dict__)
        view._excluded = self._excluded | frozenset(ids)
        view.read_only = True
        view._metric_cache = {}
        return view

    def _get_meta(self, key: str) -> str | None:
        with self._read() as conn:
            return conn.execute(sa.select(S.meta.c.value).where(S.meta.c.key == key)).scalar()

    def _metric_directions(self) -> dict[str, str]:
        with self._read() as conn:
            rows = conn.execute(sa.select(S.metrics.c.name, S.metrics.c.direction)
                                .order_by(S.metrics.c.id)).all()
        return {name: direction for name, direction in rows}

    def metrics(self) -> list[str]:
        """Names of the metrics that have at least one evaluation (sorted)."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(S.metrics.c.name).where(
                    sa.exists().where(S.evaluations.c.metric_id == S.metrics.c.id))
                .order_by(S.metrics.c.name)).all()
        return [r[0] for r in rows]

    def metric_direction(self, metric: str) -> str:
        """``"minimize"`` or ``"maximize"``. Raises UnknownIdError for an unknown metric."""
        return self._metric(metric)[1]

    def _metric(self, metric: str) -> tuple[int, str]:
        if not isinstance(metric, str):
            raise InputTypeError(f"metric must be a string, got {type(metric).__name__}")
        cached = self._metric_cache.get(metric)
        if cached is not None:
            return cached
        with self._read() as conn:
            row = conn.execute(sa.select(S.metrics.c.id, S.metrics.c.direction)
                               .where(S.metrics.c.name == metric)).first()
        if row is None:
            names = list(self._metric_directions())
            raise UnknownIdError(
                f"unknown metric {metric!r}; this database has "
                + (f"the metrics {names}" if names else "no metrics yet")
            )
        self._metric_cache[metric] = (int(row[0]), str(row[1]))
        return self._metric_cache[metric]

    def _resolve_metric(self, metric: str | None) -> str:
        if metric is not None:
            return metric
        default = self._get_meta("default_metric")
        if default is not None:
            return default
        names = self.metrics()
        if len(names) == 1:
            return names[0]
        raise InputError(
            f"metric is required: this database holds {names or 'no'} metrics and no default "
            "(set one with db.set_default_metric(name))"
        )

    def _task_pk_map(self, conn: Connection | None = None) -> dict[str, int]:
        def run(c: Connection) -> dict[str, int]:
            rows = c.execute(sa.select(S.tasks.c.task_id, S.tasks.c.id).order_by(S.tasks.c.id)).all()
            return {tid: int(pk) for tid, pk in rows if tid not in self._excluded}

        if conn is not None:
            return run(conn)
        with self._read() as c:
            return run(c)

    def _space_pk(self, conn: Connection, space: Space | str) -> int:
        name = space.name if isinstance(space, Space) else space
        pk = conn.execute(sa.select(S.spaces.c.id).where(S.spaces.c.name == name)).scalar()
        if pk is None:
            names = [r[0] for r in conn.execute(sa.select(S.spaces.c.name).order_by(S.spaces.c.id))]
            raise UnknownIdError(f"unknown space {name!r}; stored spaces: {names}")
        return int(pk)

    def tasks(self) -> pd.DataFrame:
        """All tasks: index ``task_id`` (str, insertion order); columns ``name``, ``source``,
        ``task_type``, ``openml_dataset_id``, ``openml_task_id`` (nullable Int64), ``info`` (dict)."""
        with self._read() as conn:
            rows = conn.execute(sa.select(
                S.tasks.c.task_id, S.tasks.c.name, S.tasks.c.source, S.tasks.c.task_type,
                S.tasks.c.openml_dataset_id, S.tasks.c.openml_task_id, S.tasks.c.info,
            ).order_by(S.tasks.c.id)).all()
        rows = [r for r in rows if r[0] not in self._excluded]
        frame = pd.DataFrame(
            [tuple(r[:6]) + (json.loads(r[6]) if r[6] else {},) for r in rows],
            columns=["task_id", "name", "source", "task_type", "openml_dataset_id",
                     "openml_task_id", "info"],
        )
        for col in ("openml_dataset_id", "openml_task_id"):
            frame[col] = frame[col].astype("Int64")
        frame["info"] = frame["info"].astype(object)
        return frame.set_index("task_id")

    def spaces(self) -> list[str]:
        """Names of the stored configuration spaces (insertion order)."""
        with self._read() as conn:
            return [r[0] for r in conn.execute(sa.select(S.spaces.c.name).order_by(S.spaces.c.id))]

    def space(self, name: str) -> Space:
        """The stored configuration space ``name``. Raises UnknownIdError."""
        with self._read() as conn:
            text = conn.execute(sa.select(S.spaces.c.definition).where(S.spaces.c.name == name)).scalar()
        if text is None:
            raise UnknownIdError(f"unknown space {name!r}; stored spaces: {self.spaces()}")
        return space_from_json(json.loads(text))

    def config(self, config_id: str) -> dict[str, Any]:
        """The configuration with this id. Raises UnknownIdError."""
        if not isinstance(config_id, str):
            raise InputTypeError(f"config_id must be a string, got {type(config_id).__name__}")
        with self._read() as conn:
            text = conn.execute(sa.select(S.configs.c.config).where(S.configs.c.config_id == config_id)).scalar()
        if text is None:
            raise UnknownIdError(f"unknown config id {config_id!r}")
        return json.loads(text)

    def config_space(self, config_id: str) -> str:
        """The name of the space a stored configuration belongs to. Raises UnknownIdError."""
        with self._read() as conn:
            name = conn.execute(
                sa.select(S.spaces.c.name).select_from(S.configs.join(S.spaces))
                .where(S.configs.c.config_id == config_id)).scalar()
        if name is None:
            raise UnknownIdError(f"unknown config id {config_id!r}")
        return str(name)

    def configs(self, ids: Iterable[str] | None = None, space: str | Space | None = None) -> dict[str, dict[str, Any]]:
        """Configurations by id: all, those of ``space``, or the given ``ids`` (in that order).

        Raises:
            UnknownIdError: an id or the space is not stored.
        """
        if isinstance(ids, str):
            ids = [ids]
        elif ids is not None and not isinstance(ids, Iterable):
            raise InputTypeError(f"ids must be a list of config id strings, got {type(ids).__name__}")
        query = sa.select(S.configs.c.config_id, S.configs.c.config).order_by(S.configs.c.id)
        with self._read() as conn:
            if space is not None:
                query = query.where(S.configs.c.space_id == self._space_pk(conn, space))
            if ids is None:
                return {cid: json.loads(text) for cid, text in conn.execute(query)}
            wanted = list(ids)
            found: dict[str, dict[str, Any]] = {}
            for start in range(0, len(wanted), 500):
                chunk = wanted[start:start + 500]
                for cid, text in conn.execute(query.where(S.configs.c.config_id.in_(chunk))):
                    found[cid] = json.loads(text)
        missing = [c for c in wanted if c not in found]
        if missing:
            raise UnknownIdError(f"unknown config id(s) {missing[:5]}" + (f" (+{len(missing) - 5} more)" if len(missing) > 5 else ""))
        return {c: found[c] for c in wanted}

    def meta_feature_views(self) -> list[str]:
        """The meta-feature views (naming schemes) stored, sorted."""
        with self._read() as conn:
            return [r[0] for r in conn.execute(
                sa.select(S.meta_features.c.view).distinct().order_by(S.meta_features.c.view))]

    def meta_features(self, view: str = "autosklearn", tasks: Iterable[str] | None = None) -> pd.DataFrame:
        """Meta-features as a DataFrame: index task ids, columns feature names (sorted), float64,
        NaN where undefined or missing.

        Args:
            view: the naming scheme (``"autosklearn"``: the 46 PMF/auto-sklearn names;
                ``"openml"``: OpenML quality names; ...). See :meth:`meta_feature_views`.
            tasks: these tasks, in this order (rows of NaN for tasks without features of this
                view); default: every task having features of this view (insertion order).

        Raises:
            UnknownIdError: unknown view or task.
        """
        check_name(view, "view")
        pk_map = self._task_pk_map()
        with self._read() as conn:
            rows = conn.execute(
                sa.select(S.meta_features.c.task_id, S.meta_features.c.name, S.meta_features.c.value)
                .where(S.meta_features.c.view == view)).all()
        if not rows and view not in self.meta_feature_views():
            raise UnknownIdError(
                f"no meta-features of view {view!r}; stored views: {self.meta_feature_views()}"
            )
        pk_to_id = {pk: tid for tid, pk in pk_map.items()}
        arr = np.array([(r[0], r[2] if r[2] is not None else np.nan) for r in rows], dtype=np.float64).reshape(-1, 2)
        names = np.array([r[1] for r in rows], dtype=object)
        keep = np.array([int(pk) in pk_to_id for pk in arr[:, 0]], dtype=bool) if len(arr) else np.zeros(0, bool)
        arr, names = arr[keep], names[keep]
        columns = sorted(set(names.tolist()))
        if tasks is None:
            present = set(arr[:, 0].astype(np.int64).tolist())
            row_ids = [tid for tid, pk in pk_map.items() if pk in present]
        else:
            row_ids = [check_task_id(t, "tasks") for t in ([tasks] if isinstance(tasks, str) else tasks)]
            unknown = [t for t in row_ids if t not in pk_map]
            if unknown:
                raise UnknownIdError(f"meta_features(): unknown task id(s) {unknown[:5]}")
        row_pos = {pk_map[t]: i for i, t in enumerate(row_ids)}
        col_pos = {c: j for j, c in enumerate(columns)}
        out = np.full((len(row_ids), len(columns)), np.nan)
        if len(arr):
            ri = np.array([row_pos.get(int(pk), -1) for pk in arr[:, 0]])
            ci = np.array([col_pos[n] for n in names])
            ok = ri >= 0
            out[ri[ok], ci[ok]] = arr[ok, 1]
        return pd.DataFrame(out, index=pd.Index(row_ids, name="task_id"),
                            columns=pd.Index(columns, name="feature"))

    def _cells(self, metric_pk: int, field: str, *, space: str | Space | None, device: str | None,
               fidelity: float | None, task_pks: Sequence[int] | None = None) -> np.ndarray:
        """(task_pk, config_pk, fidelity, field value) rows as a float64 array (n, 4)."""
        if device is not None and not isinstance(device, str):
            raise InputTypeError(f"device must be a device name string, got {type(device).__name__} {device!r}")
        if fidelity is not None and (
                isinstance(fidelity, bool) or not isinstance(fidelity, (int, float, np.integer, np.floating))
                or not math.isfinite(fidelity) or fidelity <= 0):
            raise InputError(f"fidelity must be a finite number > 0 (or None: the highest stored), got {fidelity!r}")
        e = S.evaluations
        cols = f"e.task_id, e.config_id, e.fidelity, e.{field}"
        sql = f"SELECT {cols} FROM {e.name} e"
        params: dict[str, Any] = {"m": metric_pk}
        where = ["e.metric_id = :m"]
        with self._read() as conn:
            if space is not None:
                sql += f" JOIN {S.configs.name} c ON c.id = e.config_id"
                where.append("c.space_id = :s")
                params["s"] = self._space_pk(conn, space)
            if device is not None:
                where.append("e.device = :d")
                params["d"] = device
            if fidelity is not None:
                where.append("e.fidelity = :f")
                params["f"] = float(fidelity)
            if task_pks is not None:
                where.append("e.task_id IN (" + ",".join(str(int(p)) for p in task_pks) + ")")
            sql += " WHERE " + " AND ".join(where)
            rows = self._fetch_raw(conn, sql, params)
        if not rows:
            return np.zeros((0, 4))
        flat = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.float64, count=4 * len(rows))
        return flat.reshape(len(rows), 4)

    def _fetch_raw(self, conn: Connection, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Plain tuples from the driver's cursor (no Row objects: fast for million-row reads).

        Named ``:x`` parameters are converted to the driver's paramstyle.
        """
        dbapi = conn.connection.driver_connection
        assert dbapi is not None
        if self.backend == "postgresql":
            for key in params:
                sql = sql.replace(f":{key}", f"%({key})s")
        cur = dbapi.cursor()
        try:
            cur.execute(sql, params)
            return cur.fetchall()
        finally:
            cur.close()

    @staticmethod
    def _aggregate(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Reduce rows to one value per (task, config): highest fidelity, mean over the rest.

        Returns task pks, config pks, values (NaN where the field is missing in all rows).
        """
        task, cfg, fid, val = arr[:, 0].astype(np.int64), arr[:, 1].astype(np.int64), arr[:, 2], arr[:, 3]
        key = task * (int(cfg.max()) + 1) + cfg
        order = np.lexsort((-fid, key))
        key, fid, val, task, cfg = key[order], fid[order], val[order], task[order], cfg[order]
        first = np.ones(len(key), dtype=bool)
        first[1:] = key[1:] != key[:-1]
        if first.all():
            return task, cfg, val
        group = np.cumsum(first) - 1
        top_fid = fid[first][group]
        keep = fid == top_fid
        group, val = group[keep], val[keep]
        ok = ~np.isnan(val)
        sums = np.bincount(group[ok], weights=val[ok], minlength=int(first.sum()))
        counts = np.bincount(group[ok], minlength=int(first.sum()))
        with np.errstate(invalid="ignore", divide="ignore"):
            means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
        return task[first], cfg[first], means

    def performance_matrix(self, metric: str | None = None, *, space: str | Space | None = None,
                           normalize: str | None = None, field: str = "value",
                           device: str | None = None, fidelity: float | None = None) -> pd.DataFrame:
        """The tasks x configurations matrix of one metric.

        Args:
            metric: the metric (default: the database's default metric, or its only metric).
            space: only configurations of this space.
            normalize: ``None``: values as stored, in the metric's own direction. ``"rank"``: per
                task, the rank among that task's observed configurations, 1 = best (average
                ranks for ties), whatever the direction. ``"quantile"``: ``(rank - 0.5) / n_obs``
                in (0, 1), smaller = better.
            field: ``"value"`` (the metric), ``"cost_s"`` or ``"latency_ms"`` of the same
                evaluations (normalize applies to ``"value"`` only).
            device: only evaluations on this device (needed for ``latency_ms`` metrics).
            fidelity: only this fidelity; default: per cell the highest fidelity stored.

        Returns:
            DataFrame ``n_tasks x n_configs`` (float64): index ``task_id`` (str), columns
            ``config_id`` (str), both in insertion order; NaN where not evaluated. Several
            evaluations of a cell (seeds, devices) are averaged at the cell's highest fidelity.
            Only tasks and configurations with at least one evaluation appear.

        Raises:
            UnknownIdError: unknown metric or space. InputError: bad ``normalize``/``field``.
        """
        if normalize not in _NORMALIZE:
            raise InputError(f"normalize must be None, 'rank' or 'quantile', got {normalize!r}")
        if field not in _FIELDS:
            raise InputError(f"field must be one of {_FIELDS}, got {field!r}")
        if normalize is not None and field != "value":
            raise InputError("normalize applies to field='value' only")
        metric = self._resolve_metric(metric)
        metric_pk, direction = self._metric(metric)
        arr = self._cells(metric_pk, field, space=space, device=device, fidelity=fidelity)
        task_map = self._task_pk_map()
        with self._read() as conn:
            cfg_rows = conn.execute(sa.select(S.configs.c.id, S.configs.c.config_id)).all()
        cfg_ids = dict(cfg_rows)
        if len(arr):
            task_pk, cfg_pk, values = self._aggregate(arr)
        else:
            task_pk = cfg_pk = np.zeros(0, np.int64)
            values = np.zeros(0)
        known = np.fromiter(task_map.values(), dtype=np.int64, count=len(task_map))
        keep = np.isin(task_pk, known)  # drops tasks left out by without()
        task_pk, cfg_pk, values = task_pk[keep], cfg_pk[keep], values[keep]
        row_order = np.unique(task_pk)  # task pks ascending = insertion order
        cfg_order = np.unique(cfg_pk)
        pk_to_id = {pk: tid for tid, pk in task_map.items()}
        rows = [pk_to_id[int(pk)] for pk in row_order]
        ri = np.searchsorted(row_order, task_pk)
        ci = np.searchsorted(cfg_order, cfg_pk)
        out = np.full((len(rows), len(cfg_order)), np.nan)
        out[ri, ci] = values
        frame = pd.DataFrame(out, index=pd.Index(rows, name="task_id"),
                             columns=pd.Index([cfg_ids[int(p)] for p in cfg_order], name="config_id"))
        if normalize is not None:
            ranks = frame.rank(axis=1, ascending=(direction == "minimize"), method="average",
                               na_option="keep")
            if normalize == "quantile":
                n_obs = frame.notna().sum(axis=1)
                ranks = ranks.sub(0.5).div(n_obs.where(n_obs > 0), axis=0)
            frame = ranks
        return frame

    def top_k(self, task: str, metric: str | None = None, k: int = 10, *,
              space: str | Space | None = None, device: str | None = None) -> pd.DataFrame:
        """The ``k`` best configurations of ``task`` for ``metric`` (in its direction).

        Returns:
            DataFrame with columns ``config_id``, ``value``, ``cost_s``, ``latency_ms``,
            ``config`` (dict), best first (ties by config id), at most ``k`` rows; values are
            aggregated as in :meth:`performance_matrix`.

        Raises:
            UnknownIdError: unknown task or metric. InputError: ``k < 1``.
        """
        check_task_id(task, "task")
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise InputError(f"k must be a positive integer, got {k!r}")
        metric = self._resolve_metric(metric)
        metric_pk, direction = self._metric(metric)
        task_map = self._task_pk_map()
        if task not in task_map:
            raise UnknownIdError(f"unknown task {task!r}" + (" (left out by without())" if task in self._excluded else ""))
        pk = task_map[task]
        parts = {}
        for field in _FIELDS:
            arr = self._cells(metric_pk, field, space=space, device=device, fidelity=None, task_pks=[pk])
            if len(arr):
                _, cfg, vals = self._aggregate(arr)
                parts[field] = pd.Series(vals, index=cfg)
        if "value" not in parts:
            return pd.DataFrame(columns=["config_id", "value", "cost_s", "latency_ms", "config"])
        frame = pd.DataFrame(parts).reindex(columns=list(_FIELDS))
        with self._read() as conn:
            rows = conn.execute(sa.select(S.configs.c.id, S.configs.c.config_id, S.configs.c.config)
                                .where(S.configs.c.id.in_([int(i) for i in frame.index]))).all()
        ids = {int(r[0]): (r[1], r[2]) for r in rows}
        frame["config_id"] = [ids[int(i)][0] for i in frame.index]
        frame = frame.sort_values(["value", "config_id"], ascending=[direction == "minimize", True])
        frame = frame.head(int(k))
        frame["config"] = [json.loads(ids[int(i)][1]) for i in frame.index]
        return frame.reset_index(drop=True)[["config_id", "value", "cost_s", "latency_ms", "config"]]

    def evaluations(self, *, task: str | Iterable[str] | None = None, metric: str | None = None,
                    space: str | Space | None = None) -> pd.DataFrame:
        """Evaluations in long form (one row per stored evaluation).

        Returns:
            DataFrame with columns ``task``, ``config_id``, ``metric``, ``direction``, ``value``,
            ``fidelity``, ``seed``, ``cost_s``, ``latency_ms``, ``device``, ``source``,
            ``timestamp`` (seconds since the epoch, UTC), sorted by task, config, metric.
        """
        e, t, c, m = S.evaluations, S.tasks, S.configs, S.metrics
        query = (sa.select(t.c.task_id, c.c.config_id, m.c.name, m.c.direction, e.c.value,
                           e.c.fidelity, e.c.seed, e.c.cost_s, e.c.latency_ms, e.c.device,
                           e.c.source, e.c.timestamp)
                 .select_from(e.join(t, t.c.id == e.c.task_id).join(c, c.c.id == e.c.config_id)
                              .join(m, m.c.id == e.c.metric_id))
                 .order_by(e.c.task_id, e.c.config_id, e.c.metric_id, e.c.device, e.c.fidelity, e.c.seed))
        if metric is not None:
            query = query.where(e.c.metric_id == self._metric(metric)[0])
        if task is not None:
            ids = [task] if isinstance(task, str) else list(task)
            query = query.where(t.c.task_id.in_(ids))
        with self._read() as conn:
            if space is not None:
                query = query.where(c.c.space_id == self._space_pk(conn, space))
            rows = conn.execute(query).all()
        frame = pd.DataFrame([tuple(r) for r in rows], columns=[
            "task", "config_id", "metric", "direction", "value", "fidelity", "seed", "cost_s",
            "latency_ms", "device", "source", "timestamp"])
        if self._excluded and len(frame):
            frame = frame[~frame["task"].isin(self._excluded)].reset_index(drop=True)
        for col in ("value", "fidelity", "cost_s", "latency_ms", "timestamp"):
            frame[col] = frame[col].astype(np.float64)
        frame["seed"] = frame["seed"].astype(np.int64)
        return frame

    def failures(self, task: str | Iterable[str] | None = None, *, metric: str | None = None,
                 space: str | Space | None = None) -> pd.DataFrame:
        """Failed evaluations (see :meth:`add_failures`), one row per key that failed and has no
        stored evaluation.

        Args:
            task: a task id or several (default: all).
            metric: only this metric. space: only configurations of this space.

        Returns:
            DataFrame with columns ``task``, ``config_id``, ``metric``, ``fidelity``, ``seed``,
            ``device``, ``error_type``, ``message`` (one line), ``elapsed_s`` (float64, NaN =
            unknown), ``attempts`` (int64), ``source``, ``timestamp`` (the last failure, epoch
            seconds UTC), sorted by task, config, metric (insertion order). Empty for a
            schema-2 database opened read-only (that version has no failures table).

        Raises:
            UnknownIdError: unknown metric or space.
        """
        columns = ["task", "config_id", "metric", "fidelity", "seed", "device", "error_type",
                   "message", "elapsed_s", "attempts", "source", "timestamp"]
        f, e, t, c, m = S.evaluation_failures, S.evaluations, S.tasks, S.configs, S.metrics
        metric_pk = self._metric(metric)[0] if metric is not None else None
        ids: list[str] | None = None
        if task is not None:
            ids = [task] if isinstance(task, str) else list(task)
            for tid in ids:
                check_task_id(tid, "task")
        rows: list[Any] = []
        with self._read() as conn:
            space_pk = self._space_pk(conn, space) if space is not None else None
            if self._has_failures_table:
                succeeded = e.select().where(
                    e.c.metric_id == f.c.metric_id, e.c.task_id == f.c.task_id,
                    e.c.config_id == f.c.config_id, e.c.device == f.c.device,
                    e.c.fidelity == f.c.fidelity, e.c.seed == f.c.seed).exists()
                query = (sa.select(t.c.task_id, c.c.config_id, m.c.name, f.c.fidelity, f.c.seed,
                                   f.c.device, f.c.error_type, f.c.message, f.c.elapsed_s,
                                   f.c.attempts, f.c.source, f.c.timestamp)
                         .select_from(f.join(t, t.c.id == f.c.task_id)
                                      .join(c, c.c.id == f.c.config_id)
                                      .join(m, m.c.id == f.c.metric_id))
                         .where(~succeeded)
                         .order_by(f.c.task_id, f.c.config_id, f.c.metric_id, f.c.device,
                                   f.c.fidelity, f.c.seed))
                if metric_pk is not None:
                    query = query.where(f.c.metric_id == metric_pk)
                if space_pk is not None:
                    query = query.where(c.c.space_id == space_pk)
                if ids is not None:
                    query = query.where(t.c.task_id.in_(ids))
                rows = list(conn.execute(query).all())
        frame = pd.DataFrame([tuple(r) for r in rows], columns=columns)
        if self._excluded and len(frame):
            frame = frame[~frame["task"].isin(self._excluded)].reset_index(drop=True)
        for col in ("fidelity", "elapsed_s", "timestamp"):
            frame[col] = frame[col].astype(np.float64)
        for col in ("seed", "attempts"):
            frame[col] = frame[col].astype(np.int64)
        for col in ("task", "config_id", "metric", "device", "error_type", "message", "source"):
            frame[col] = frame[col].astype(object)
        return frame

    def nas_records(self, space: str | None = None, task: str | None = None) -> list[NASRecord]:
        """NAS records, optionally of one space and/or task (insertion order).

        A space without records gives ``[]`` (records name their space freely, and "no
        record of this space yet" is an ordinary answer).

        Raises:
            UnknownIdError: ``task`` is not in the database (or left out by :meth:`without`).
        """
        if task is not None:
            check_task_id(task, "task")
            if task not in self._task_pk_map():
                raise UnknownIdError(
                    f"nas_records(): unknown task {task!r}"
                    + (" (left out by without())" if task in self._excluded else "")
                    + "; see db.tasks()")
        r, t = S.nas_records, S.tasks
        query = (sa.select(r.c.record_id, t.c.task_id, r.c.space, r.c.genotype, r.c.alpha, r.c.meta,
                           r.c.source, r.c.timestamp)
                 .select_from(r.join(t, t.c.id == r.c.task_id)).order_by(r.c.id))
        if space is not None:
            query = query.where(r.c.space == space)
        if task is not None:
            query = query.where(t.c.task_id == task)
        with self._read() as conn:
            rows = conn.execute(query).all()
        return [
            NASRecord(record_id=row[0], task=row[1], space=row[2], genotype=json.loads(row[3]),
                      alpha=decode_alpha(row[4]), meta=json.loads(row[5]), source=row[6],
                      timestamp=float(row[7]))
            for row in rows if row[1] not in self._excluded
        ]

    def info(self) -> dict[str, Any]:
        """A summary: url, backend, schema version, counts, metrics, spaces, views, file size."""
        with self._read() as conn:
            counts = {
                name: int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
                for name, table in (("tasks", S.tasks), ("configs", S.configs),
                                    ("evaluations", S.evaluations), ("meta_features", S.meta_features),
                                    ("nas_records", S.nas_records), ("spaces", S.spaces))
            }
            counts["failures"] = int(conn.execute(
                sa.select(sa.func.count()).select_from(S.evaluation_failures)).scalar_one()) \
                if self._has_failures_table else 0
            per_metric = conn.execute(
                sa.select(S.metrics.c.name, S.metrics.c.direction, sa.func.count(S.evaluations.c.value))
                .select_from(S.metrics.outerjoin(S.evaluations, S.evaluations.c.metric_id == S.metrics.c.id))
                .group_by(S.metrics.c.name, S.metrics.c.direction).order_by(S.metrics.c.name)).all()
        out: dict[str, Any] = {
            "url": self.url, "backend": self.backend, "read_only": self.read_only,
            "schema_version": self.schema_version(), "counts": counts,
            "metrics": {name: {"direction": d, "evaluations": int(n)} for name, d, n in per_metric},
            "default_metric": self._get_meta("default_metric"),
            "spaces": self.spaces(), "meta_feature_views": self.meta_feature_views(),
        }
        if self._sqlite_path is not None and self._sqlite_path.exists():
            wal = Path(str(self._sqlite_path) + "-wal")
            out["file_bytes"] = self._sqlite_path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
        if self._excluded:
            out["excluded_tasks"] = sorted(self._excluded)
        return out

    def check(self) -> None:
        """Run the backend's integrity check (SQLite ``PRAGMA integrity_check``).

        Raises:
            CorruptDatabaseError: the check found damage.
        """
        if self.backend != "sqlite":
            return
        with self._read() as conn:
            result = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check").fetchall()]
        if result != ["ok"]:
            raise CorruptDatabaseError(f"{self.url} failed the integrity check: {result[:5]}")

    def snapshot_digest(self) -> str:
        """A sha256 over the content of every table (order-independent of insertion), for tests
        and for checking that a failed import changed nothing."""
        h = hashlib.sha256()
        with self._read() as conn:
            for table in self._tables:
                rows = conn.execute(sa.select(*table.columns).order_by(*table.primary_key.columns)).all()
                h.update(table.name.encode())
                for row in rows:
                    h.update(repr(tuple(row)).encode())
        return h.hexdigest()


class Writer:
    """Write operations bound to one open transaction (see :meth:`MetaDatabase.transaction`).

    Methods mirror :class:`MetaDatabase`'s ``add_*`` methods; they validate before writing.
    """

    def __init__(self, db: MetaDatabase, conn: Connection) -> None:
        self.db = db
        self.conn = conn
        self._pg = db.backend == "postgresql"
        self._config_pk_cache: dict[str, int] = {}

    # -- small helpers --
    def _insert(self, table: sa.Table) -> Any:
        if self._pg:
            from sqlalchemy.dialects import postgresql

            return postgresql.insert(table)
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table)

    def set_meta(self, key: str, value: str) -> None:
        stmt = self._insert(S.meta).values(key=key, value=value)
        self.conn.execute(stmt.on_conflict_do_update(index_elements=["key"], set_={"value": value}))

    def metric_pk(self, name: str, direction: str | None = None, description: str | None = None) -> int:
        """The id of a metric, created when new (needs a direction unless it is a known metric)."""
        check_name(name, "metric")
        if direction is not None:
            check_direction(direction, name)
        row = self.conn.execute(sa.select(S.metrics.c.id, S.metrics.c.direction)
                                .where(S.metrics.c.name == name)).first()
        if row is not None:
            if direction is not None and direction != row[1]:
                raise InputError(
                    f"metric {name!r} is stored as {row[1]!r} but the records say {direction!r}; "
                    "fix the direction (or use another metric name)"
                )
            return int(row[0])
        known = known_direction(name)
        if direction is None:
            direction = known
            if direction is None:
                import difflib

                stored = [str(m) for m in self.conn.execute(sa.select(S.metrics.c.name)).scalars()]
                close = difflib.get_close_matches(name, [*stored, *KNOWN_METRICS], n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise InputError(
                    f"metric {name!r} is new{hint}: pass direction='minimize' or 'maximize' "
                    f"(known metrics: {sorted(KNOWN_METRICS)})"
                )
        elif known is not None and direction != known:
            raise InputError(
                f"metric {name!r} is {known[:-1]}ed ({KNOWN_METRICS[name][1]}), but the records "
                f"say {direction!r}; drop direction=, or store the values under another metric "
                "name"
            )
        if description is None and name in KNOWN_METRICS:
            description = KNOWN_METRICS[name][1]
        stmt = self._insert(S.metrics).values(name=name, direction=direction, description=description)
        self.conn.execute(stmt.on_conflict_do_nothing(index_elements=["name"]))
        row = self.conn.execute(sa.select(S.metrics.c.id, S.metrics.c.direction)
                                .where(S.metrics.c.name == name)).one()
        if row[1] != direction:
            raise InputError(f"metric {name!r} is stored as {row[1]!r}, not {direction!r}")
        return int(row[0])

    def add_metric(self, name: str, direction: str, description: str | None = None) -> str:
        check_direction(direction, name)
        self.metric_pk(name, direction, description)
        return name

    def add_space(self, space: Space) -> str:
        if not isinstance(space, Space):
            raise InputTypeError(f"space must be a Space object, got {type(space).__name__}")
        definition = canonical_json(space.to_json())
        stored = self.conn.execute(sa.select(S.spaces.c.definition).where(S.spaces.c.name == space.name)).scalar()
        if stored is None:
            stmt = self._insert(S.spaces).values(name=space.name, definition=definition)
            self.conn.execute(stmt.on_conflict_do_nothing(index_elements=["name"]))
            stored = self.conn.execute(sa.select(S.spaces.c.definition).where(S.spaces.c.name == space.name)).scalar()
        if stored != definition:
            raise InputError(
                f"a different space named {space.name!r} is already stored; give the new space "
                "another name"
            )
        return space.name

    def _space(self, space: Space | str) -> Space:
        if isinstance(space, Space):
            self.add_space(space)
            return space
        if isinstance(space, str):
            text = self.conn.execute(sa.select(S.spaces.c.definition).where(S.spaces.c.name == space)).scalar()
            if text is None:
                if space == "generic":
                    sp = GenericSpace("generic")
                    self.add_space(sp)
                    return sp
                if space == "nb201":
                    nb = NB201Space("nb201")
                    self.add_space(nb)
                    return nb
                raise UnknownIdError(
                    f"unknown space {space!r}; pass the Space object (e.g. warmnas.space.oboe_space()) "
                    "so it can be stored"
                )
            return space_from_json(json.loads(text))
        raise InputTypeError(f"space must be a Space or a stored space name, got {type(space).__name__}")

    # -- tasks --
    def add_tasks(self, tasks: pd.DataFrame | Iterable[Mapping[str, Any]]) -> list[str]:
        frame = records_frame(tasks, "tasks")
        if "task_id" in frame.columns and "task" not in frame.columns:
            frame = frame.rename(columns={"task_id": "task"})
        allowed = {"task", "name", "source", "task_type", "openml_dataset_id", "openml_task_id", "info"}
        extra = sorted(set(frame.columns) - allowed)
        if extra:
            raise InputError(f"tasks have unknown fields {extra}; allowed: {sorted(allowed)}")
        if "task" not in frame.columns:
            raise InputError("tasks need a 'task' field (the task id)")
        rows = []
        for i, rec in enumerate(frame.to_dict("records")):
            tid = check_task_id(rec.get("task"), f"tasks[{i}].task")
            row: dict[str, Any] = {"task_id": tid}
            for key, max_len in (("name", None), ("source", 200), ("task_type", 100)):
                v = rec.get(key)
                if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
                    v = None
                row[key] = check_text(v, f"tasks[{i}].{key}", max_len)
            for key in ("openml_dataset_id", "openml_task_id"):
                v = rec.get(key)
                if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
                    row[key] = None
                elif isinstance(v, (int, np.integer, float)) and not isinstance(v, bool) and float(v).is_integer():
                    if not -2**31 <= v < 2**31:
                        raise InputError(f"tasks[{i}].{key} must be a 32-bit integer id, got {v!r}")
                    row[key] = int(v)
                else:
                    raise InputTypeError(f"tasks[{i}].{key} must be an integer id, got {v!r}")
            info = rec.get("info")
            if info is None or (isinstance(info, float) and math.isnan(info)) or info == {}:
                row["info"] = None
            else:
                row["info"] = check_json_object(info, f"tasks[{i}].info")
            rows.append(row)
        if not rows:
            return []
        # last occurrence wins within a batch
        by_id = {r["task_id"]: r for r in rows}
        stmt = self._insert(S.tasks)
        fields = ("name", "source", "task_type", "openml_dataset_id", "openml_task_id", "info")
        stmt = stmt.on_conflict_do_update(
            index_elements=["task_id"],
            set_={f: sa.func.coalesce(getattr(stmt.excluded, f), getattr(S.tasks.c, f)) for f in fields},
        )
        values = list(by_id.values())
        for start in range(0, len(values), 5000):
            self.conn.execute(stmt, values[start:start + 5000])
        return [r["task_id"] for r in rows]

    def _lookup_pks(self, id_col: Any, pk_col: Any, wanted: list[str]) -> dict[str, int]:
        """External id -> primary key of the stored ``wanted`` ids (absent ones left out): one
        scan of the table for many ids, chunked ``IN`` queries for a few."""
        if len(wanted) > 2000:
            want = set(wanted)
            rows = self.conn.execute(sa.select(id_col, pk_col)).all()
            return {i: int(pk) for i, pk in rows if i in want}
        found: dict[str, int] = {}
        for start in range(0, len(wanted), 500):
            rows = self.conn.execute(sa.select(id_col, pk_col)
                                     .where(id_col.in_(wanted[start:start + 500]))).all()
            found.update({i: int(pk) for i, pk in rows})
        return found

    def task_pks(self, task_ids: Sequence[str], *, create: bool = False, source: str | None = None) -> dict[str, int]:
        """task id -> pk for the given ids (creating bare tasks when ``create``)."""
        wanted = list(dict.fromkeys(task_ids))
        found = self._lookup_pks(S.tasks.c.task_id, S.tasks.c.id, wanted)
        missing = [t for t in wanted if t not in found]
        if missing:
            if not create:
                more = f" (+{len(missing) - 5} more)" if len(missing) > 5 else ""
                raise UnknownIdError(
                    f"unknown task id(s) {missing[:5]}{more}; add them first with "
                    "db.add_task()/add_tasks() or pass create_tasks=True"
                )
            for t in missing:
                check_task_id(t)
            self.add_tasks([{"task": t, "source": source} for t in missing])
            return self.task_pks(wanted, create=False)
        return found

    def delete_tasks(self, tasks: Iterable[str]) -> int:
        ids = [tasks] if isinstance(tasks, str) else list(tasks)
        try:
            pks = list(self.task_pks(ids).values())
        except UnknownIdError:
            found = self._lookup_pks(S.tasks.c.task_id, S.tasks.c.id, ids)
            missing = [t for t in dict.fromkeys(ids) if t not in found]
            more = f" (+{len(missing) - 5} more)" if len(missing) > 5 else ""
            raise UnknownIdError(
                f"delete_tasks(): unknown task id(s) {missing[:5]}{more}; nothing was deleted "
                "(see db.tasks() for the stored ids)"
            ) from None
        if self._pg:  # wait for writers that reference these tasks (they hold FOR KEY SHARE)
            self.conn.execute(sa.select(S.tasks.c.id).where(S.tasks.c.id.in_(pks)).with_for_update())
        tables = [S.evaluations, S.meta_features, S.nas_records]
        if self.db._has_failures_table:
            tables.append(S.evaluation_failures)
        for table in tables:
            self.conn.execute(table.delete().where(table.c.task_id.in_(pks)))
        self.conn.execute(S.tasks.delete().where(S.tasks.c.id.in_(pks)))
        return len(pks)

    # -- meta-features --
    def add_meta_features(self, features: pd.DataFrame | Mapping[str, Mapping[str, float]], *,
                          view: str, create_tasks: bool = False) -> int:
        check_name(view, "view", max_len=100)
        if isinstance(features, pd.DataFrame):
            frame = features
        elif isinstance(features, Mapping):
            for k, v in features.items():
                if not isinstance(v, (Mapping, pd.Series)):
                    raise InputTypeError(
                        f"features[{k!r}] must be a dict {{feature name: value}} or a Series, got "
                        f"{type(v).__name__}"
                    )
            frame = pd.DataFrame.from_dict({k: dict(v) for k, v in features.items()}, orient="index")
        else:
            raise InputTypeError(
                "features must be a DataFrame (index task ids, columns names) or {task: {name: value}}, "
                f"got {type(features).__name__}"
            )
        if frame.empty:
            return 0
        task_ids = [check_task_id(t, "features index") for t in frame.index]
        if len(set(task_ids)) != len(task_ids):
            raise InputError("features index has duplicate task ids")
        names = [check_name(str(c), "feature name") if isinstance(c, str) else
                 check_name(c, "feature name") for c in frame.columns]
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise InputError(f"features have duplicate feature names (columns) {dup[:5]}")
        values = _float_array(frame, "meta-feature values")
        if np.isinf(values).any():
            i, j = np.argwhere(np.isinf(values))[0]
            raise InputError(
                f"meta-feature {names[j]!r} of task {task_ids[i]!r} is {values[i, j]}; store finite "
                "values (NaN marks an undefined feature)"
            )
        pks = self.task_pks(task_ids, create=create_tasks)
        rows = [
            {"task_id": pks[t], "view": view, "name": names[j],
             "value": None if math.isnan(values[i, j]) else float(values[i, j])}
            for i, t in enumerate(task_ids) for j in range(len(names))
        ]
        stmt = self._insert(S.meta_features)
        stmt = stmt.on_conflict_do_update(index_elements=["task_id", "view", "name"],
                                          set_={"value": stmt.excluded.value})
        for start in range(0, len(rows), 10000):
            self.conn.execute(stmt, rows[start:start + 10000])
        return len(rows)

    # -- configurations --
    def add_configs(self, configs: Iterable[Mapping[str, Any]], *, space: Space | str) -> list[str]:
        sp = self._space(space)
        if isinstance(configs, Mapping):
            raise InputTypeError("configs must be an iterable of dicts; wrap a single config in a list")
        items = []
        for i, cfg in enumerate(configs):
            try:
                valid = sp.validate(cfg)
            except (InputError, InputTypeError) as exc:
                raise type(exc)(f"configs[{i}]: {exc}") from exc
            items.append((config_id(valid, sp.name), canonical_json(valid)))
        self.insert_configs(sp, items)
        return [cid for cid, _ in items]

    def insert_configs(self, space: Space, items: Sequence[tuple[str, str]]) -> dict[str, int]:
        """Insert (config id, canonical JSON) pairs of a stored space; returns id -> pk."""
        space_pk = self.db._space_pk(self.conn, space)
        unique = dict(items)
        rows = [{"config_id": cid, "space_id": space_pk, "config": text} for cid, text in unique.items()]
        stmt = self._insert(S.configs).on_conflict_do_nothing(index_elements=["config_id"])
        for start in range(0, len(rows), 5000):
            self.conn.execute(stmt, rows[start:start + 5000])
        return self.config_pks(list(unique))

    def config_pks(self, ids: Sequence[str]) -> dict[str, int]:
        cache = self._config_pk_cache
        wanted = [c for c in dict.fromkeys(ids) if c not in cache]
        found = self._lookup_pks(S.configs.c.config_id, S.configs.c.id, wanted)
        missing = [c for c in wanted if c not in found]
        if missing:
            raise UnknownIdError(
                f"unknown config id(s) {missing[:5]}; store them first with db.add_configs() or pass "
                "'config' dicts with a space"
            )
        cache.update(found)
        return {c: cache[c] for c in dict.fromkeys(ids)}

    # -- evaluations --
    def add_evaluations(self, records: Any, *, metric: str | None = None, direction: str | None = None,
                        space: Space | str | None = None, source: str | None = None,
                        device: str | None = None, create_tasks: bool = False,
                        on_conflict: str = "update", show_progress: bool | None = None,
                        on_progress: Callable[[int, int], None] | None = None) -> int:
        if on_conflict not in ("update", "ignore"):
            raise InputError(f"on_conflict must be 'update' or 'ignore', got {on_conflict!r}")
        frame = records_frame(records, "records")
        if frame.empty:
            return 0
        # ---- validation (nothing written yet) ----
        keys = self._check_keys(frame, EVALUATION_COLUMNS, metric=metric, direction=direction,
                                device=device, source=source)
        value = numeric_column(frame, "value", required=True, allow_missing=False)
        cost = numeric_column(frame, "cost_s", required=False, allow_missing=True, nonnegative=True)
        latency = numeric_column(frame, "latency_ms", required=False, allow_missing=True, nonnegative=True)
        arrays = self._resolve_keys(frame, keys, space=space, source=source, create_tasks=create_tasks)
        arrays.update(value=value, cost_s=cost, latency_ms=latency)
        return self.upsert_evaluations(arrays, on_conflict=on_conflict, show_progress=show_progress,
                                       on_progress=on_progress)

    def _check_keys(self, frame: pd.DataFrame, allowed: Sequence[str], *, metric: str | None,
                    direction: str | None, device: str | None, source: str | None) -> dict[str, Any]:
        """Validate the key fields of evaluation/failure records (no database access)."""
        extra = sorted(set(map(str, frame.columns)) - set(allowed))
        if extra:
            raise InputError(f"records have unknown fields {extra}; allowed: {list(allowed)}")
        if "task" not in frame.columns:
            raise InputError("records need a 'task' field (the task id)")
        if "config" not in frame.columns and "config_id" not in frame.columns:
            raise InputError("records need a 'config' (dict) or 'config_id' (stored id) field")
        n = len(frame)
        tasks = string_column(frame, "task", None)
        if frame["task"].isna().any():
            raise InputError(f"records: 'task' is missing at row {int(np.flatnonzero(frame['task'].isna())[0])}")
        task_codes, task_uniques = pd.factorize(tasks)
        uniq_tasks = [str(t) for t in task_uniques]
        for t in uniq_tasks:
            check_task_id(t, "task")
        metrics = string_column(frame, "metric", metric)
        if any(m is None for m in set(metrics.tolist())):
            raise InputError("records lack a metric: pass metric='...' or a 'metric' field")
        directions = string_column(frame, "direction", direction)
        metric_dirs: dict[str, str | None] = {}
        for m, d in dict.fromkeys(zip(metrics.tolist(), directions.tolist())):
            check_name(m, "metric")
            if d is not None:
                check_direction(d, m)
            prev = metric_dirs.get(m)
            if m in metric_dirs and d is not None and prev is not None and prev != d:
                raise InputError(f"records give metric {m!r} both directions {prev!r} and {d!r}")
            if prev is None:
                metric_dirs[m] = d
        fidelity = numeric_column(frame, "fidelity", required=False, allow_missing=True, positive=True)
        fidelity = np.where(np.isnan(fidelity), 1.0, fidelity)
        seed_f = numeric_column(frame, "seed", required=False, allow_missing=True)
        seed_f = np.where(np.isnan(seed_f), 0.0, seed_f)
        if not np.all(seed_f == np.round(seed_f)) or np.abs(seed_f).max(initial=0) > 2**31 - 1:
            raise InputError("'seed' must hold integers (32-bit)")
        seed = seed_f.astype(np.int64)
        devices = string_column(frame, "device", device if device is not None else "")
        for d in set(devices.tolist()):
            if d:
                check_name(d, "device", max_len=100)
        sources = string_column(frame, "source", source)
        for src in set(sources.tolist()):
            check_text(src, "source", 200)
        if "timestamp" in frame.columns and pd.api.types.is_float_dtype(frame["timestamp"]):
            stamp = numeric_column(frame, "timestamp", required=False, allow_missing=True)
            stamp = np.where(np.isnan(stamp), now(), stamp)
        elif "timestamp" in frame.columns:
            stamp = np.array([now() if v is None or (isinstance(v, float) and math.isnan(v))
                              else to_epoch_seconds(v) for v in frame["timestamp"].tolist()])
        else:
            stamp = np.full(n, now())
        return {"tasks": tasks, "task_codes": task_codes, "uniq_tasks": uniq_tasks,
                "metrics": metrics, "metric_dirs": metric_dirs, "fidelity": fidelity,
                "seed": seed, "device": devices, "source": sources, "timestamp": stamp}

    def _resolve_keys(self, frame: pd.DataFrame, keys: Mapping[str, Any], *,
                      space: Space | str | None, source: str | None,
                      create_tasks: bool) -> dict[str, Any]:
        """Validate the records' configurations and resolve metrics, tasks and configs to their
        primary keys (storing new configs): the key columns of ``upsert_evaluations``."""
        n = len(frame)
        tasks = keys["tasks"]
        cfg_ids: np.ndarray
        new_configs: dict[str, tuple[Space, list[tuple[str, str]]]] = {}
        if "config" in frame.columns:
            spaces_col = frame["space"].tolist() if "space" in frame.columns else [space] * n
            given_ids = frame["config_id"].tolist() if "config_id" in frame.columns else [None] * n
            space_objs: dict[Any, Space] = {}
            cache: dict[tuple[str, str], tuple[str, str]] = {}
            cfg_ids = np.empty(n, dtype=object)
            for i, (cfg, sp_ref, given) in enumerate(zip(frame["config"].tolist(), spaces_col, given_ids)):
                if cfg is None or (isinstance(cfg, float) and math.isnan(cfg)):
                    if given is None:
                        raise InputError(f"records row {i} has neither 'config' nor 'config_id'")
                    cfg_ids[i] = given
                    continue
                if sp_ref is None or (isinstance(sp_ref, float) and math.isnan(sp_ref)):
                    raise InputError(
                        f"records row {i} gives a 'config' dict but no space: pass space=... "
                        "(a Space object or a stored space name)"
                    )
                key_sp = sp_ref.name if isinstance(sp_ref, Space) else sp_ref
                sp = space_objs.get(key_sp)
                if sp is None:
                    sp = self._space(sp_ref)
                    space_objs[key_sp] = sp
                if not isinstance(cfg, Mapping):
                    raise InputTypeError(f"records row {i}: 'config' must be a dict, got {type(cfg).__name__}")
                raw = (sp.name, canonical_json(cfg))
                hit = cache.get(raw)
                if hit is None:
                    try:
                        valid = sp.validate(cfg)
                    except (InputError, InputTypeError) as exc:
                        raise type(exc)(f"records row {i} (task {tasks[i]!r}): {exc}") from exc
                    hit = (config_id(valid, sp.name), canonical_json(valid))
                    cache[raw] = hit
                    new_configs.setdefault(sp.name, (sp, []))[1].append(hit)
                if given is not None and not (isinstance(given, float) and math.isnan(given)) and given != hit[0]:
                    raise InputError(
                        f"records row {i}: config_id {given!r} does not match its config (id {hit[0]!r})"
                    )
                cfg_ids[i] = hit[0]
        else:
            cfg_ids = string_column(frame, "config_id", None)
            if any(c is None for c in cfg_ids):
                raise InputError("records: 'config_id' is missing in some rows")
        # ---- database ----
        metric_pk = {m: self.metric_pk(m, d) for m, d in keys["metric_dirs"].items()}
        uniq_tasks = keys["uniq_tasks"]
        task_pk = self.task_pks(uniq_tasks, create=create_tasks, source=source)
        for sp, items in new_configs.values():
            self.insert_configs(sp, items)
        cfg_codes, cfg_uniques = pd.factorize(cfg_ids)
        cfg_pk = self.config_pks([str(c) for c in cfg_uniques])
        metric_codes, metric_uniques = pd.factorize(keys["metrics"])
        return {
            "metric_id": np.array([metric_pk[m] for m in metric_uniques], dtype=np.int64)[metric_codes],
            "task_id": np.array([task_pk[t] for t in uniq_tasks], dtype=np.int64)[keys["task_codes"]],
            "config_id": np.array([cfg_pk[c] for c in cfg_uniques], dtype=np.int64)[cfg_codes],
            "device": keys["device"], "fidelity": keys["fidelity"], "seed": keys["seed"],
            "source": keys["source"], "timestamp": keys["timestamp"],
        }

    def upsert_evaluations(self, arrays: Mapping[str, np.ndarray], *, on_conflict: str = "update",
                           show_progress: bool | None = None,
                           on_progress: Callable[[int, int], None] | None = None) -> int:
        """Low-level bulk upsert of validated columns (pks already resolved)."""
        rows = _sorted_unique_rows(arrays)
        total = len(rows)
        cols = ", ".join(_EVAL_COLS)
        keys = ", ".join(_EVAL_KEY)
        table = S.evaluations.name
        if on_conflict == "ignore":
            action = "DO NOTHING"
        else:
            distinct = "IS DISTINCT FROM" if self._pg else "IS NOT"
            changed = " OR ".join(f"{table}.{c} {distinct} excluded.{c}"
                                  for c in ("value", "cost_s", "latency_ms", "source"))
            action = ("DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in
                                                   ("value", "cost_s", "latency_ms", "source", "timestamp"))
                      + f" WHERE {changed}")
        bar = None
        if _progress_enabled(show_progress) and total > _CHUNK:
            from tqdm.auto import tqdm
            bar = tqdm(total=total, unit="eval", desc="writing evaluations")
        try:
            done = 0
            if self._pg:
                self._pg_upsert(rows, cols, keys, action, bar, on_progress, total)
            else:
                sql = (f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' * len(_EVAL_COLS))}) "
                       f"ON CONFLICT ({keys}) {action}")
                dbapi = self.conn.connection.driver_connection
                assert dbapi is not None
                cur = dbapi.cursor()
                try:
                    for start in range(0, total, _CHUNK):
                        chunk = rows[start:start + _CHUNK]
                        cur.executemany(sql, chunk)
                        done += len(chunk)
                        if bar is not None:
                            bar.update(len(chunk))
                        if on_progress is not None:
                            on_progress(done, total)
                finally:
                    cur.close()
        finally:
            if bar is not None:
                bar.close()
        if total:
            self.drop_superseded_failures(np.unique(np.asarray(arrays["task_id"], dtype=np.int64)).tolist())
        return total

    def drop_superseded_failures(self, task_pks: Sequence[int]) -> int:
        """Delete the failures of these tasks whose key now has a stored evaluation (a later
        success replaces the failure). Returns the number deleted."""
        if not self.db._has_failures_table:
            return 0
        f, e = S.evaluation_failures, S.evaluations
        if self.conn.execute(sa.select(f.c.task_id).limit(1)).first() is None:
            return 0  # the common case (imports, studies without failures): one cheap query
        done = e.select().where(
            e.c.metric_id == f.c.metric_id, e.c.task_id == f.c.task_id,
            e.c.config_id == f.c.config_id, e.c.device == f.c.device,
            e.c.fidelity == f.c.fidelity, e.c.seed == f.c.seed).exists()
        deleted = 0
        pks = [int(p) for p in task_pks]
        for start in range(0, len(pks), 500):
            result = self.conn.execute(
                f.delete().where(f.c.task_id.in_(pks[start:start + 500]), done))
            deleted += int(result.rowcount or 0)
        return deleted

    # -- failures --
    def add_failures(self, records: Any, *, metric: str | None = None, direction: str | None = None,
                     space: Space | str | None = None, source: str | None = None,
                     device: str | None = None, create_tasks: bool = False) -> int:
        frame = records_frame(records, "records")
        if frame.empty:
            return 0
        # ---- validation (nothing written yet) ----
        keys = self._check_keys(frame, FAILURE_COLUMNS, metric=metric, direction=direction,
                                device=device, source=source)
        n = len(frame)
        has_error = "error" in frame.columns
        types: list[str] = []
        messages: list[str] = []
        for i, rec in enumerate(frame.to_dict("records")):
            kind = rec.get("error_type")
            msg = rec.get("message")
            err = rec.get("error") if has_error else None
            if _missing(kind) and _missing(msg) and not _missing(err):
                kind, msg = split_error(err, f"records row {i}: 'error'")
            if _missing(kind):
                raise InputError(f"records row {i}: failures need an 'error_type' (e.g. "
                                 "'ValueError') and a 'message', or an 'error' ('Type: message')")
            if _missing(msg):
                raise InputError(f"records row {i}: failures need a 'message' (the error's text)")
            types.append(check_error_type(kind, f"records row {i}: error_type"))
            messages.append(one_line(msg, f"records row {i}: message"))
        elapsed = numeric_column(frame, "elapsed_s", required=False, allow_missing=True, nonnegative=True)
        att_f = numeric_column(frame, "attempts", required=False, allow_missing=True)
        att_f = np.where(np.isnan(att_f), 1.0, att_f)
        if not np.all(att_f == np.round(att_f)) or (att_f < 1).any() or att_f.max(initial=1) > 2**31 - 1:
            bad = att_f[(att_f != np.round(att_f)) | (att_f < 1) | (att_f > 2**31 - 1)][0]
            raise InputError(f"'attempts' must hold integers >= 1 (failures counted), got {bad!r}")
        arrays = self._resolve_keys(frame, keys, space=space, source=source, create_tasks=create_tasks)
        # ---- one row per key: rows of one key with distinct timestamps are distinct attempts ----
        key_cols = ("metric_id", "task_id", "config_id", "device", "fidelity", "seed")
        rows: dict[tuple[Any, ...], dict[str, Any]] = {}
        seen: set[tuple[Any, ...]] = set()
        for i in range(n):
            key = tuple(arrays[c][i].item() if hasattr(arrays[c][i], "item") else arrays[c][i]
                        for c in key_cols)
            stamp = float(arrays["timestamp"][i])
            row = {"error_type": types[i], "message": messages[i],
                   "elapsed_s": None if math.isnan(elapsed[i]) else float(elapsed[i]),
                   "attempts": int(att_f[i]), "source": arrays["source"][i], "timestamp": stamp}
            if (key, stamp) in seen:  # the same failure twice in the batch: the last wins
                if rows[key]["timestamp"] == stamp:
                    rows[key].update({k: v for k, v in row.items() if k != "attempts"})
                continue
            seen.add((key, stamp))
            prev = rows.get(key)
            if prev is None:
                rows[key] = row
            else:
                newer = row if stamp >= prev["timestamp"] else prev
                rows[key] = {**newer, "attempts": prev["attempts"] + row["attempts"]}
        # ---- a stored success wins: its failures are not stored ----
        e = S.evaluations
        task_pks = sorted({k[1] for k in rows})
        done: set[tuple[Any, ...]] = set()
        for start in range(0, len(task_pks), 500):
            done.update(tuple(r) for r in self.conn.execute(
                sa.select(*(e.c[c] for c in key_cols))
                .where(e.c.task_id.in_(task_pks[start:start + 500]))
                .where(e.c.metric_id.in_(sorted({k[0] for k in rows})))))
        values = [{**dict(zip(key_cols, k)), **r} for k, r in rows.items() if k not in done]
        if not values:
            return 0
        f = S.evaluation_failures
        stmt = self._insert(f)
        ex = stmt.excluded
        later = ex.timestamp > f.c.timestamp
        set_: dict[str, Any] = {
            c: sa.case((later, getattr(ex, c)), else_=getattr(f.c, c))
            for c in ("error_type", "message", "elapsed_s", "source", "timestamp")
        }
        set_["attempts"] = f.c.attempts + ex.attempts
        # a failure already stored with the same timestamp is a replay: nothing changes
        stmt = stmt.on_conflict_do_update(index_elements=list(key_cols), set_=set_,
                                          where=ex.timestamp != f.c.timestamp)
        for start in range(0, len(values), 5000):
            self.conn.execute(stmt, values[start:start + 5000])
        return len(values)

    def _pg_upsert(self, rows: list[tuple[Any, ...]], cols: str, keys: str, action: str, bar: Any,
                   on_progress: Callable[[int, int], None] | None, total: int) -> None:
        dbapi = self.conn.connection.driver_connection
        assert dbapi is not None
        table = S.evaluations.name
        stage = "warmnas_stage_evaluations"
        with dbapi.cursor() as cur:
            cur.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {stage} (metric_id integer, task_id integer, "
                "config_id integer, device varchar(100), fidelity double precision, seed integer, "
                "value double precision, cost_s double precision, latency_ms double precision, "
                "source varchar(200), timestamp double precision) ON COMMIT DROP")
            done = 0
            for start in range(0, total, _CHUNK):
                chunk = rows[start:start + _CHUNK]
                cur.execute(f"TRUNCATE {stage}")
                with cur.copy(f"COPY {stage} ({cols}) FROM STDIN") as copy:
                    for row in chunk:
                        copy.write_row(row)
                # what a foreign key would do, once per batch instead of per row: keep the tasks
                # from being deleted by another transaction until this one commits
                cur.execute(f"SELECT id FROM {S.tasks.name} WHERE id IN "
                            f"(SELECT DISTINCT task_id FROM {stage}) FOR KEY SHARE")
                n_tasks = len(cur.fetchall())
                cur.execute(f"SELECT count(DISTINCT task_id) FROM {stage}")
                if n_tasks != cur.fetchone()[0]:
                    raise UnknownIdError("a task of this batch was deleted by another writer meanwhile")
                # nothing stored yet for these (metric, task) pairs (a fresh import): a plain
                # INSERT, 2-3x faster than ON CONFLICT. Should another writer add a clashing key
                # meanwhile, the unique violation aborts and the transaction is retried (and then
                # takes the ON CONFLICT path).
                cur.execute(f"SELECT 1 FROM {table} WHERE (metric_id, task_id) IN "
                            f"(SELECT DISTINCT metric_id, task_id FROM {stage}) LIMIT 1")
                if cur.fetchone() is None:
                    cur.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {stage}")
                else:
                    cur.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {stage} "
                                f"ON CONFLICT ({keys}) {action}")
                done += len(chunk)
                if bar is not None:
                    bar.update(len(chunk))
                if on_progress is not None:
                    on_progress(done, total)

    def add_matrix(self, values: pd.DataFrame, *, metric: str, direction: str | None = None,
                   cost: pd.DataFrame | None = None, latency: pd.DataFrame | None = None,
                   device: str = "", fidelity: float = 1.0, seed: int = 0,
                   source: str | None = None, create_tasks: bool = False,
                   on_conflict: str = "update", show_progress: bool | None = None,
                   on_progress: Callable[[int, int], None] | None = None) -> int:
        if not isinstance(values, pd.DataFrame):
            raise InputTypeError(f"values must be a DataFrame (tasks x config ids), got {type(values).__name__}")
        if on_conflict not in ("update", "ignore"):
            raise InputError(f"on_conflict must be 'update' or 'ignore', got {on_conflict!r}")
        check_name(metric, "metric")
        if device:
            check_name(device, "device", max_len=100)
        check_text(source, "source", 200)
        if isinstance(fidelity, bool) or not isinstance(fidelity, (int, float, np.integer, np.floating)) \
                or not math.isfinite(fidelity) or fidelity <= 0:
            raise InputError(f"fidelity must be a finite number > 0, got {fidelity!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise InputTypeError(f"seed must be an integer, got {seed!r}")
        if abs(int(seed)) > 2**31 - 1:
            raise InputError(f"seed must be a 32-bit integer, got {seed!r}")
        task_ids = [check_task_id(t, "values index") for t in values.index]
        cfg_ids = [str(c) for c in values.columns]
        if len(set(task_ids)) != len(task_ids) or len(set(cfg_ids)) != len(cfg_ids):
            raise InputError("values has duplicate task ids (index) or config ids (columns)")

        def as_array(frame: pd.DataFrame, what: str, nonnegative: bool) -> np.ndarray:
            if frame.shape != values.shape or not frame.index.equals(values.index) \
                    or not frame.columns.equals(values.columns):
                raise InputError(f"{what} must have the same index and columns as values")
            arr = _float_array(frame, what)
            if np.isinf(arr).any():
                i, j = np.argwhere(np.isinf(arr))[0]
                raise InputError(f"{what} is {arr[i, j]} for task {task_ids[i]!r}, config "
                                 f"{cfg_ids[j]!r}; expected finite numbers (NaN = not evaluated)")
            if nonnegative and (arr[~np.isnan(arr)] < 0).any():
                raise InputError(f"{what} must be >= 0")
            return arr

        vals = as_array(values, "values", False)
        costs = as_array(cost, "cost", True) if cost is not None else None
        lats = as_array(latency, "latency", True) if latency is not None else None
        rows, cols = np.nonzero(~np.isnan(vals))
        n = len(rows)
        if n == 0:
            return 0
        metric_id = self.metric_pk(metric, direction)
        task_pk = self.task_pks(task_ids, create=create_tasks, source=source)
        cfg_pk = self.config_pks(cfg_ids)
        tpk = np.array([task_pk[t] for t in task_ids], dtype=np.int64)
        cpk = np.array([cfg_pk[c] for c in cfg_ids], dtype=np.int64)
        arrays = {
            "metric_id": np.full(n, metric_id, dtype=np.int64), "task_id": tpk[rows],
            "config_id": cpk[cols], "device": np.full(n, device, dtype=object),
            "fidelity": np.full(n, float(fidelity)), "seed": np.full(n, int(seed), dtype=np.int64),
            "value": vals[rows, cols],
            "cost_s": costs[rows, cols] if costs is not None else np.full(n, np.nan),
            "latency_ms": lats[rows, cols] if lats is not None else np.full(n, np.nan),
            "source": np.full(n, source, dtype=object), "timestamp": np.full(n, now()),
        }
        return self.upsert_evaluations(arrays, on_conflict=on_conflict, show_progress=show_progress,
                                       on_progress=on_progress)

    # -- NAS records --
    def add_nas_record(self, task: str, space: str, genotype: Mapping[str, Any], alpha: Mapping[str, Any], *,
                       source: str | None = None, create_task: bool = False,
                       meta: Mapping[str, Any] | None = None) -> str:
        check_task_id(task, "task")
        check_name(space, "space")
        if not isinstance(genotype, Mapping):
            raise InputTypeError(f"genotype must be a JSON dict, got {type(genotype).__name__}")
        if space == "nb201":
            NB201Space().validate(genotype)
        genotype_json = canonical_json(genotype)
        arrays = check_alpha(alpha, space)
        meta_json = check_json_object(dict(meta or {}), "NAS record meta") or "{}"
        check_text(source, "source", 200)
        record_id = hashlib.sha256(
            canonical_json({"task": task, "space": space, "genotype": json.loads(genotype_json)}).encode()
        ).hexdigest()[:16]
        pk = self.task_pks([task], create=create_task, source=source)[task]
        values = {"record_id": record_id, "task_id": pk, "space": space, "genotype": genotype_json,
                  "alpha": encode_alpha(arrays), "meta": meta_json, "source": source,
                  "timestamp": now()}
        stmt = self._insert(S.nas_records).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["record_id"],
            set_={k: getattr(stmt.excluded, k) for k in ("alpha", "meta", "source", "timestamp")})
        self.conn.execute(stmt)
        return record_id
