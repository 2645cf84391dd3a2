"""The ``warmnas`` command.

Each topic lives in its own module of this package (``metafeatures``, ``db``, ``bench``, ``nas``,
``hardware``, ...) and exposes ``register(commands: Commands) -> None``. Modules are discovered, so
adding a topic never touches this file. A topic adds a top-level command with
``commands.add("name", help=...)`` or a nested one with ``commands.add("name", group="bench")``;
each returns an ``argparse.ArgumentParser`` whose ``handler`` default is called with the parsed
arguments and returns the exit status.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import sys
from collections.abc import Callable, Sequence

from warmnas import __version__
from warmnas.cli._common import check_seed, command_options, name_options
from warmnas.errors import WarmnasError

__all__ = ["Commands", "main", "build_parser"]

Handler = Callable[[argparse.Namespace], int]


class Commands:
    """Collects the subcommands that the topic modules register."""

    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self._top = parser.add_subparsers(dest="command", metavar="COMMAND")
        self._groups: dict[str, argparse._SubParsersAction] = {}
        self._parsers: list[argparse.ArgumentParser] = []

    def group(self, name: str, help: str) -> None:
        """Declare a command group (``warmnas NAME SUBCOMMAND``); declaring twice is harmless."""
        if name in self._groups:
            return
        parser = self._top.add_parser(name, help=help, description=help)
        parser.set_defaults(handler=_usage(parser))
        self._groups[name] = parser.add_subparsers(dest=f"{name}_command", metavar="SUBCOMMAND")

    def add(self, name: str, *, help: str, handler: Handler, group: str | None = None,
            description: str | None = None) -> argparse.ArgumentParser:
        """Add a command (or ``group`` subcommand) and return its parser for arguments."""
        if group is None:
            target = self._top
        else:
            if group not in self._groups:
                raise KeyError(f"command group {group!r} is not declared; call group() first")
            target = self._groups[group]
        parser = target.add_parser(name, help=help, description=description or help)
        parser.set_defaults(handler=handler)
        # -v also after the command (`warmnas db info -v`); counted apart, added to the top one
        parser.add_argument("-v", "--verbose", action="count", default=0, dest="command_verbose",
                            help="more log output (-v info, -vv debug)")
        self._parsers.append(parser)
        return parser

    def show_defaults(self) -> None:
        """Give every option that has no help text but a default a ``default: VALUE`` help."""
        for parser in self._parsers:
            for action in parser._actions:
                # identity, not ==: a default of 0 (== False) is a default to show
                if (action.help is None and action.option_strings
                        and not any(action.default is v for v in (None, False, argparse.SUPPRESS))):
                    action.help = f"default: {action.default}"


def _usage(parser: argparse.ArgumentParser) -> Handler:
    def handler(_: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return 2

    return handler


def build_parser() -> argparse.ArgumentParser:
    """Build the full ``warmnas`` argument parser from the topic modules of this package."""
    parser = argparse.ArgumentParser(
        prog="warmnas",
        description="Meta-learned warm starts for AutoML and neural architecture search.",
    )
    parser.add_argument("--version", action="version", version=f"warmnas {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more log output (-v info, -vv debug)")
    parser.set_defaults(handler=_usage(parser))
    commands = Commands(parser)
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        module.register(commands)
    commands.show_defaults()
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``warmnas`` console script. Returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.verbose += getattr(args, "command_verbose", 0)
    level = {0: logging.WARNING, 1: logging.INFO}.get(args.verbose, logging.DEBUG)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    user_errors: tuple[type[BaseException], ...] = (WarmnasError, *_user_errors())
    try:
        check_seed(args)
        return int(args.handler(args))
    except user_errors as exc:
        # metafeatures is standalone, so its errors are not WarmnasErrors; reported the same way.
        # The library's messages name its Python arguments (batch_size=); here, the options
        message = name_options(_one_line(exc), command_options(parser, args))
        print(f"warmnas: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # Ctrl-C: one line, not a traceback; commands that store work say what they kept first
        print("warmnas: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (`warmnas ... | head`): not an error of ours; silence the final flush
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


def _one_line(exc: BaseException) -> str:
    """The message on one line: some carry a driver's or torch's multi-line text."""
    return " ".join(line.strip() for line in str(exc).splitlines() if line.strip())


def _user_errors() -> tuple[type[BaseException], ...]:
    try:
        from metafeatures.errors import MetaFeatureError
    except ImportError:  # pragma: no cover - metafeatures ships with warmnas
        return ()
    return (MetaFeatureError,)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
