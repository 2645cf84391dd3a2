"""The ``warmnas`` command seen across its subcommands: option names, parsing, fast help."""

from __future__ import annotations

import pytest

import warmnas.cli as cli


@pytest.mark.parametrize("sep", ["", "ab", ";;"])
@pytest.mark.parametrize("command", [["metafeatures", "data.csv", "--target", "class"],
                                     ["warm-start", "data.csv", "--target", "class"]])
def test_sep_must_be_one_character(command: list[str], sep: str,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    # was a TypeError / ValueError traceback from the csv module / pandas (exit 1)
    with pytest.raises(SystemExit) as exc:
        cli.main([*command, "--sep", sep])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "argument --sep" in err and "one character" in err and repr(sep) in err


@pytest.mark.parametrize("sep", ["\\t", "tab"])
def test_sep_tab_spellings(sep: str) -> None:
    parser = cli.build_parser()
    for command in (["metafeatures", "d.csv"], ["warm-start", "d.csv", "--target", "y"]):
        assert parser.parse_args([*command, "--sep", sep]).sep == "\t"
