"""Argument types shared by the ``warmnas`` subcommands (not a topic: no ``register``)."""

from __future__ import annotations

import argparse

__all__ = ["separator"]


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
