"""warmnas._io.atomic_write: all or nothing, no temporary file left behind."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any

import pytest

from warmnas._io import atomic_write


def test_writes_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "f.txt"
    assert atomic_write(target, lambda fh: fh.write("one"), binary=False) == target
    atomic_write(target, lambda fh: fh.write(b"two"), durable=True)
    assert target.read_text() == "two"
    assert [p.name for p in target.parent.iterdir()] == ["f.txt"]
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # like any new file


def test_failed_write_keeps_old_file(tmp_path: Path) -> None:
    target = tmp_path / "f.bin"
    target.write_bytes(b"old")

    def dying(fh: IO[Any]) -> None:
        fh.write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        atomic_write(target, dying)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]
