"""Argument types shared by the ``warmnas`` subcommands (not a topic: no ``register``)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

__all__ = ["check_output_file", "separator"]


def check_output_file(path: str, option: str, example: str) -> None:
    """Refuse an output file path that is a folder or cannot be written, before the work whose
    result it is meant to hold (its folder is created if missing).

    Args:
        path: the path given.
        option: the option's name for the message (``"--plot"``).
        example: a file name to suggest inside a folder given by mistake (``"regret.png"``).

    Raises:
        InputError: a folder, a folder that cannot be created, or no permission to write.
    """
    from warmnas.errors import InputError

    p = Path(path)
    if p.is_dir():
        raise InputError(f"{option} {p} is a folder; give a file name, e.g. {p / example}")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{option} {p} cannot be written: {exc}") from None
    if not os.access(p.parent, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise InputError(f"{option} {p} cannot be written: permission denied")


def separator(value: str) -> str:
    """``--sep`` value: one character; ``\\t`` (as typed on a command line) or ``tab`` is a tab.

    Raises:
        argparse.ArgumentTypeError: empty or longer than one character (argparse reports it as
            ``argument --sep: ...`` with exit status 2).
    """
    if value in ("\\t", "tab"):
        return "\t"
    if len(value) != 1:
        raise argparse.ArgumentTypeError(
            f"must be one character (e.g. ',' ';' '|' or '\\t' for a tab), got {value!r}")
    return value
