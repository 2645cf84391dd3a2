"""Argument types shared by the ``warmnas`` subcommands (not a topic: no ``register``)."""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path

__all__ = ["add_out", "check_output_file", "check_seed", "command_options", "name_options",
           "separator"]

#: library argument -> the command-line option's ``dest``, where the two names differ (a library
#: argument whose name is an option's dest needs no entry)
LIBRARY_ARGUMENTS = {
    "random_state": "seed",
    "max_time_s": "max_time",
    "sleep_s": "sleep",
    "eval_timeout_s": "eval_timeout",
    "k": "top_k",
    "C": "channels",
    "n_tasks": "tasks",
    "checkpoint_dir": "out",
}


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


def check_seed(args: argparse.Namespace) -> None:
    """Refuse a ``--seed`` outside ``[0, 2**32)`` naming the option, for every command (the
    library's message names ``random_state`` and lists its Python types).

    Raises:
        InputError: a negative seed or one of 2**32 or more.
    """
    from warmnas.errors import InputError

    for dest in ("seed", "random_state"):
        value = getattr(args, dest, None)
        if isinstance(value, int) and value < 0:
            raise InputError(f"--seed must be a non-negative int, got {value}; pass e.g. --seed 0")
        if isinstance(value, int) and value >= 2**32:
            raise InputError(f"--seed must be below 2**32, got {value}; pass e.g. --seed 0")


def command_options(parser: argparse.ArgumentParser, args: argparse.Namespace
                    ) -> dict[str, str]:
    """``dest -> option`` (``"batch_size" -> "--batch-size"``) of the subcommand that ``args``
    was parsed for (the top-level parser's own options if none)."""
    command = parser
    name = getattr(args, "command", None)
    while name is not None:
        sub = next((a for a in command._actions if isinstance(a, argparse._SubParsersAction)),
                   None)
        if sub is None or name not in sub.choices:
            break
        command = sub.choices[name]
        name = getattr(args, f"{name}_command", None)
    return {action.dest: action.option_strings[0] for action in command._actions
            if action.option_strings and action.option_strings[0].startswith("--")}


def name_options(message: str, options: Mapping[str, str]) -> str:
    """A library error about an argument, reworded to name the command-line option it came
    from: ``batch_size must be a positive int, got 0`` -> ``--batch-size must be ...``.

    The library's messages name its Python arguments, which is right for API users; on the
    command line they must name the options. Rewritten: an argument's name as the subject
    (followed by ``must``, ``is empty``, ``>=``, ``<=`` or ``in [``; ``name:`` opening the
    message), ``name=value`` and ``name= what`` (``--option value``), ``[pass] name=None`` (``omit --option``),
    and ``or None`` in a sentence about an option. Any other text is left alone. Library
    arguments named unlike their option's dest are in :data:`LIBRARY_ARGUMENTS`.

    Args:
        message: the error message.
        options: ``dest -> option`` of the command (:func:`command_options`).
    """
    names = {arg: options[dest] for arg, dest in LIBRARY_ARGUMENTS.items()
             if dest in options and arg not in options}
    names.update({dest: opt for dest, opt in options.items()
                  if dest not in ("help", "verbose", "command_verbose")})
    subjects = []
    for arg in sorted(names, key=len, reverse=True):
        option = names[arg]
        pattern = rf"(?<![\w.'\"-]){re.escape(arg)}"
        message = re.sub(rf"(?:\bpass )?{pattern}=None\b", f"omit {option}", message)
        message = re.sub(pattern + r"= ?(?=\S)", f"{option} ", message)
        message, n = re.subn(rf"^{re.escape(arg)}(?=: )|" + pattern
                             + r"(?= must\b| is empty\b| >=| <=| in \[)", option, message)
        subjects += [option] * bool(n)
    if subjects:  # "None" is the library's "not given": on the command line, omit the option
        first = min(subjects, key=message.find)
        message = re.sub(r"; or None for\b", f"; or omit {first} for", message)
        message = re.sub(r" or None\b", "", message)
    return message
