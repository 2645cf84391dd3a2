"""Exception classes of warmnas.

Every error the library raises on purpose is a :class:`WarmnasError`. Each class also subclasses
the built-in exception a caller would expect (``ValueError`` for bad values, ``TypeError`` for
wrong types, ``LookupError`` for unknown ids, ``FileNotFoundError`` for missing files), so code
written against the built-ins keeps working.

Messages follow one rule: say what was expected, what arrived, and how to fix it.
"""

from __future__ import annotations

__all__ = [
    "WarmnasError",
    "InputError",
    "InputTypeError",
    "NotFittedError",
    "UnknownIdError",
    "StorageError",
    "SchemaVersionError",
    "CorruptDatabaseError",
    "MissingDataError",
    "ConfigSpaceError",
    "ExecutionError",
]


class WarmnasError(Exception):
    """Base class of every error warmnas raises on purpose."""


class InputError(WarmnasError, ValueError):
    """A value given by the caller is invalid (NaN, inf, empty, wrong shape, out of range...)."""


class InputTypeError(WarmnasError, TypeError):
    """An argument has the wrong type (a string where numbers were expected, ...)."""


class NotFittedError(WarmnasError, ValueError, AttributeError):
    """A model was used before ``fit`` was called."""


class UnknownIdError(WarmnasError, LookupError, ValueError):
    """A task, configuration, metric or dataset id is not known to the source asked."""


class StorageError(WarmnasError, RuntimeError):
    """The meta-database could not complete an operation; nothing was written."""


class SchemaVersionError(StorageError, ValueError):
    """A database or file was written with a schema version this release cannot read."""


class CorruptDatabaseError(StorageError, ValueError):
    """A database or file is not what it claims to be (truncated, not SQLite, wrong tables...)."""


class MissingDataError(WarmnasError, FileNotFoundError):
    """A file the operation needs (an OpenML cache entry, a dataset, a table) is not there."""


class ConfigSpaceError(InputError):
    """A configuration lies outside its configuration space."""


class ExecutionError(WarmnasError, RuntimeError):
    """Parallel or distributed work could not finish (a worker lost too often, a scheduler gone).

    What finished before is kept (written to the meta-database); re-running resumes from there.
    """
