"""Atomic file writes: a temporary file beside the target, renamed over it when complete, so a
reader (or a kill at any moment) sees the old file or the new one, never a torn one; and the one
user cache folder every part of warmnas writes to."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any


def user_cache_dir() -> Path:
    """The warmnas cache folder (decoded image data, fitted warm starters):
    ``WARMNAS_CACHE_DIR``, else the platform's user cache folder (``$XDG_CACHE_HOME/warmnas`` or
    ``~/.cache/warmnas``; ``~/Library/Caches/warmnas`` on macOS; ``%LOCALAPPDATA%\\warmnas\\Cache``
    on Windows)."""
    import sys

    env = os.environ.get("WARMNAS_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA")
        return (Path(base) if base else Path.home() / "AppData" / "Local") / "warmnas" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "warmnas"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache") / "warmnas"


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[Any]], object], *,
                 binary: bool = True, durable: bool = False) -> Path:
    """Write ``path`` through ``write(fh)`` into a temporary file, then ``os.replace`` it.

    The temporary file is created like any new file (permissions from the umask) in the same
    folder (created if missing), and removed if ``write`` or the rename fails.

    Args:
        path: the target file.
        write: called once with the open temporary file.
        binary: open it in binary (``"xb"``) or text (``"x"``) mode.
        durable: ``fsync`` the file before the rename and the folder after it, so the new
            content also survives a power loss (checkpoints).

    Returns:
        ``path`` as a ``Path``.

    Raises:
        OSError: the folder or the file could not be written (the old file is unchanged).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "xb" if binary else "x") as fh:
            write(fh)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if durable:
        with contextlib.suppress(OSError):  # make the rename itself durable
            dir_fd = os.open(target.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
    return target
