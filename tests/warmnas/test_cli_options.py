"""The ``warmnas`` command seen across its subcommands: option names, parsing, fast help."""

from __future__ import annotations

from pathlib import Path

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


def test_bench_openml_missing_prior_is_not_created(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    # --prior is read; a mistyped path created an empty database file there, then failed
    # with "unknown metric 'balanced_error'; this database has no metrics yet"
    prior = tmp_path / "typo.db"
    status = cli.main(["bench", "openml", "--tasks", "1882", "--budget", "1", "--serial",
                       "--cache-dir", str(tmp_path), "--prior", str(prior),
                       "--db", str(tmp_path / "out.db"), "--out", str(tmp_path / "report")])
    assert status == 2
    assert not prior.exists() and not (tmp_path / "out.db").exists()
    err = capsys.readouterr().err
    assert "no meta-database at" in err and str(prior) in err


@pytest.mark.parametrize("command", [["nas", "meta-train", "--out", "ckpt"],
                                     ["nas", "adapt", "ckpt"]])
def test_metanas_unknown_device(command: list[str], tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    # was a RuntimeError traceback from torch.device (exit 1)
    monkeypatch.chdir(tmp_path)
    assert cli.main([*command, "--device", "bogus", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("warmnas: error: device 'bogus' is not a torch device")
    assert not (tmp_path / "ckpt").exists()
