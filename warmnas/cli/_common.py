"""Argument types shared by the ``warmnas`` subcommands (not a topic: no ``register``)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

__all__ = ["add_out", "check_output_file", "separator"]


def add_out(parser: argparse.ArgumentParser, positional: str, *, help: str,
            metavar: str = "OUT") -> None:
    """Give a command whose output used to be a positional argument the ``--out`` option of
    every other command, keeping the positional as its older form (scripts keep working).

    After parsing, ``args.<positional>`` holds the output whichever form was used, so the
    command's handler is unchanged. Giving both forms, or neither, is a usage error (exit 2).

    Args:
        parser: the command's parser (its ``handler`` default is wrapped).
        positional: the positional argument's name (``"out"``, ``"destination"``).
        help: what the output is (the ``--out`` help text).
        metavar: how the value is shown in the usage line.
    """
    option_dest = f"{positional}_option"
    parser.add_argument(positional, nargs="?", default=None, metavar=metavar,
                        help=f"older form of --out (still accepted): {help}")
    parser.add_argument("--out", dest=option_dest, default=None, metavar=metavar, help=help)
    handler: Callable[[argparse.Namespace], int] = parser.get_default("handler")

    def resolved(args: argparse.Namespace) -> int:
        old, new = getattr(args, positional), getattr(args, option_dest)
        if old is not None and new is not None:
            parser.error(f"argument --out: not allowed with the positional {metavar} (its older "
                         f"form), got both {new!r} and {old!r}; give --out {metavar} only")
        if old is None and new is None:
            parser.error("the following arguments are required: --out")
        setattr(args, positional, old if new is None else new)
        return handler(args)

    parser.set_defaults(handler=resolved)


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
