"""The ``warmnas`` entry point: how errors and interruptions of any command end."""

from __future__ import annotations

import argparse

import pytest

import warmnas.cli as cli


def _parser_with(handler):  # type: ignore[no-untyped-def]
    def build() -> argparse.ArgumentParser:
        parser = argparse.ArgumentParser(prog="warmnas")
        parser.add_argument("-v", "--verbose", action="count", default=0)
        parser.set_defaults(handler=handler)
        return parser
    return build


def test_ctrl_c_ends_with_one_line_and_status_130(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(args: argparse.Namespace) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "build_parser", _parser_with(interrupted))
    assert cli.main([]) == 130
    err = capsys.readouterr().err
    assert err.strip() == "warmnas: interrupted"


def test_library_errors_end_with_status_2(monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    from warmnas.errors import InputError

    def bad(args: argparse.Namespace) -> int:
        raise InputError("n_configs must be positive")

    monkeypatch.setattr(cli, "build_parser", _parser_with(bad))
    assert cli.main([]) == 2
    assert "warmnas: error: n_configs must be positive" in capsys.readouterr().err
