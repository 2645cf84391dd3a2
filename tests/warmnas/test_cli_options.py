"""The ``warmnas`` command seen across its subcommands: option names, parsing, fast help."""

from __future__ import annotations

import argparse
import json
import logging
import re
import subprocess
import sys
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


@pytest.mark.parametrize("argv, level", [
    (["db", "info", "--json"], logging.WARNING),
    (["db", "info", "--json", "-v"], logging.INFO),
    (["-v", "db", "info", "--json", "-v"], logging.DEBUG),
    (["db", "info", "-vv", "--json"], logging.DEBUG),
])
def test_verbose_after_the_subcommand(argv: list[str], level: int,
                                      monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    seen: dict[str, int] = {}
    monkeypatch.setattr(logging, "basicConfig", lambda **kw: seen.update(level=kw["level"]))
    assert cli.main(argv) == 0
    assert seen["level"] == level
    json.loads(capsys.readouterr().out)


def test_multi_line_error_prints_on_one_line(monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from warmnas.errors import StorageError

    def bad(args: argparse.Namespace) -> int:
        raise StorageError("connection failed: refused\n\tIs the server running?")

    def build() -> argparse.ArgumentParser:
        parser = argparse.ArgumentParser(prog="warmnas")
        parser.add_argument("-v", "--verbose", action="count", default=0)
        parser.set_defaults(handler=bad)
        return parser

    monkeypatch.setattr(cli, "build_parser", build)
    assert cli.main([]) == 2
    err = capsys.readouterr().err
    assert err == "warmnas: error: connection failed: refused Is the server running?\n"


@pytest.mark.parametrize("command", [["metafeatures", "d.csv"],
                                     ["nas", "meta-train", "--out", "x"],
                                     ["nas", "adapt", "ckpt"]])
def test_seed_is_an_alias_of_random_state(command: list[str]) -> None:
    # every other subcommand spells the seed --seed
    parser = cli.build_parser()
    assert parser.parse_args([*command, "--seed", "7"]).random_state == 7
    assert parser.parse_args([*command, "--random-state", "8"]).random_state == 8


def _subparsers(parser: argparse.ArgumentParser, name: str = "warmnas"):  # type: ignore[no-untyped-def]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub, subparser in action.choices.items():
                yield f"{name} {sub}", subparser
                yield from _subparsers(subparser, f"{name} {sub}")


def test_every_option_shows_its_default() -> None:
    # the default as a word of the help ('20' inside 'nb201-records' did not count), 0 included
    # (0 == False had hidden --seed 0 and --warmup-epochs 0), and every option has a help text
    missing, silent = [], []
    for name, parser in _subparsers(cli.build_parser()):
        for action in parser._actions:
            default = action.default
            if action.option_strings and not action.help:
                silent.append(f"{name} {action.option_strings[0]}")
            if (not action.option_strings or isinstance(action, argparse._CountAction)
                    or any(default is v for v in (None, False, argparse.SUPPRESS))):
                continue
            values = default if isinstance(default, list) else [default]
            shown = [f"{v:g}" if isinstance(v, float) else str(v) for v in values]
            if not all(re.search(rf"(?<![\w.-]){re.escape(v)}(?![\w-])", action.help or "")
                       for v in shown):
                missing.append(f"{name} {action.option_strings[0]} (default {default!r})")
    assert not missing, "options whose --help does not show the default: " + ", ".join(missing)
    assert not silent, "options without a help text: " + ", ".join(silent)


def test_help_imports_neither_torch_nor_the_numeric_stack() -> None:
    code = (
        "import sys, warmnas.cli as c\n"
        "for argv in ([], ['metafeatures'], ['nas', 'search'], ['bench', 'openml'],"
        " ['hardware', 'measure'], ['db', 'import'], ['warm-start']):\n"
        "    try:\n"
        "        c.main([*argv, '--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(sorted(m for m in ('torch', 'numpy', 'pandas', 'scipy', 'sklearn')"
        " if m in sys.modules), file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)
    assert proc.stderr.strip().splitlines()[-1] == "[]"


def test_metafeatures_choices_match_the_package() -> None:
    # the CLI lists groups and views literally so that --help does not import the package
    import metafeatures
    from warmnas.cli import metafeatures as mf_cli

    assert mf_cli.GROUPS == metafeatures.GROUPS
    assert mf_cli.VIEW_NAMES == metafeatures.VIEW_NAMES
    assert mf_cli.TRANSFORM_CAT == metafeatures.TRANSFORM_CAT
    assert mf_cli.RESCALE == metafeatures.RESCALE
    from metafeatures._extract import SCORES
    assert mf_cli.SCORES == SCORES


@pytest.mark.parametrize("argv, said", [
    (["warm-start", "{d}", "--target", "class"], "dataset {d} is a folder; pass the path of a CSV"),
    (["bench", "warmstart", "--loto", "{d}", "--meta-features", "{d}"],
     "--loto matrix {d} is a folder; pass the path of a CSV"),
    (["hardware", "fit-latency", "--samples", "{d}", "--reference-dir", "{r}", "--out", "x.csv"],
     "--samples {d} is a folder; pass the JSON file"),
])
def test_folder_where_a_file_is_expected(argv: list[str], said: str, tmp_path: Path,
                                         shared_data: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    # was "... file not found: DIR", which sends the user looking for a missing file
    ref = shared_data / "nasbench201" / "latency"
    assert cli.main([a.format(d=tmp_path, r=ref) for a in argv]) == 2
    assert said.format(d=tmp_path) in capsys.readouterr().err


@pytest.mark.parametrize("message, said", [
    ("batch_size must be a positive int, got 0", "--batch-size must be a positive int, got 0"),
    ("max_time_s must be a positive number or None, got nan",
     "--max-time must be a positive number, got nan"),
    ("rounds must be >= 1 and warmup >= 0, got 2, -1",
     "--rounds must be >= 1 and --warmup >= 0, got 2, -1"),
    ("folds must be an int between 2 and 6, got 1; or None for leave-one-task-out.",
     "--folds must be an int between 2 and 6, got 1; or omit --folds for leave-one-task-out."),
    ("device='cuda' but CUDA is not available; use device='cpu'",
     "--device 'cuda' but CUDA is not available; use --device 'cpu'"),
    ("db: no meta-database at x.db; or pass db=None for the embedded default",
     "--db: no meta-database at x.db; or omit --db for the embedded default"),
    ("the 'oboe' table holds one metric, 'balanced_error'; got metric='bogus'",
     "the 'oboe' table holds one metric, 'balanced_error'; got --metric 'bogus'"),
    # `name= what` (a description after the '=', not a value)
    ("CIFAR-10 tarball not found under x; pass data_dir= the shared data folder (holding "
     "cifar10/)", "CIFAR-10 tarball not found under x; pass --data-dir the shared data folder "
     "(holding cifar10/)"),
    # not about an argument: left alone
    ("metric 'bogus' is not in the meta-database", "metric 'bogus' is not in the meta-database"),
    ("device 'x' is not a torch device: Expected one of cpu",
     "device 'x' is not a torch device: Expected one of cpu"),
    ("no meta-database at batch_size.db", "no meta-database at batch_size.db"),
])
def test_library_argument_names_become_option_names(message: str, said: str) -> None:
    from warmnas.cli._common import name_options

    options = {"batch_size": "--batch-size", "max_time": "--max-time", "rounds": "--rounds",
               "warmup": "--warmup", "folds": "--folds", "device": "--device", "db": "--db",
               "metric": "--metric", "data_dir": "--data-dir"}
    assert name_options(message, options) == said


def _write_loto(tmp_path: Path) -> list[str]:
    rows = ["task,c1,c2,c3", "t1,0.1,0.2,0.3", "t2,0.3,0.1,0.2", "t3,0.2,0.3,0.1"]
    (tmp_path / "m.csv").write_text("\n".join(rows) + "\n")
    return ["bench", "warmstart", "--loto", str(tmp_path / "m.csv"), "--method", "random",
            "--tasks", "all"]


@pytest.mark.parametrize("argv, said, python_name", [
    (["bench", "surrogate", "--tasks", "2", "--methods", "random", "--serial", "--batch-size",
      "0", "--db", "{t}/s.db", "--out", "{t}/o"], "--batch-size must be a positive int, got 0",
     "batch_size"),
    (["bench", "surrogate", "--tasks", "2", "--methods", "random", "--serial", "--sleep", "nan",
      "--db", "{t}/s.db", "--out", "{t}/o"], "--sleep must be a finite number >= 0, got nan",
     "sleep_s"),
    (["hardware", "measure", "--space", "nb201", "--input-size", "2", "--out", "{t}/t.json"],
     "--input-size must be divisible by 4", "input_size"),
    (["nas", "search", "--data", "{t}/x.npz", "--max-time", "0"], "--max-time must be a "
     "positive number, got 0.0", "max_time_s"),
    (["warm-start", "{t}/d.csv", "--target", "class", "--n-configs", "0"],
     "--n-configs must be a positive int, got 0", "n_configs"),
    (["warm-start", "{t}/d.csv", "--target", "class", "--db", "{t}/none.db"],
     "or omit --db for the embedded default", "db=None"),
    (["bench", "warmstart", "--folds", "1"], "--folds must be an int between 2 and 3",
     "or None"),
    (["bench", "surrogate", "--table", "tabrepo", "--data-dir", "{t}/none", "--methods",
      "random", "--serial", "--db", "{t}/s.db", "--out", "{t}/o"],
     "pass --data-dir the shared data folder", "data_dir"),
])
def test_cli_errors_name_the_option_not_the_python_argument(
        argv: list[str], said: str, python_name: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    # was e.g. "batch_size must be a positive int, got 0": a name the command does not take
    (tmp_path / "d.csv").write_text("a,b,class\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n")
    if argv[:2] == ["bench", "warmstart"]:
        argv = _write_loto(tmp_path) + argv[2:]
    if argv[:2] == ["nas", "search"]:
        import numpy as np

        np.savez(tmp_path / "x.npz", X=np.zeros((8, 8, 8, 3), np.uint8), y=np.arange(8) % 2)
    assert cli.main([a.format(t=tmp_path) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("warmnas: error: ") and said in err and python_name not in err


@pytest.mark.parametrize("command", [
    ["metafeatures", "sklearn:iris"],
    ["warm-start", "d.csv", "--target", "class"],
    ["bench", "surrogate", "--tasks", "2", "--db", "s.db", "--out", "o"],
    ["hardware", "measure", "--space", "nb201", "--out", "t.json"],
    ["nas", "constrained-search", "--latency-file", "x.pt", "--max-latency", "5"],
    ["nas", "meta-train", "--out", "ckpt"],
    ["nas", "search", "--space", "nb201"],
])
@pytest.mark.parametrize("seed", ["-1", str(2**32)])
def test_bad_seed_names_the_option_before_any_work(command: list[str], seed: str,
                                                   tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    # was "random_state must be an int in [0, 2**32), a numpy Generator/RandomState or None"
    monkeypatch.chdir(tmp_path)
    assert cli.main([*command, "--seed", seed]) == 2
    err = capsys.readouterr().err
    assert err.startswith("warmnas: error: --seed must be ") and f"got {seed}" in err
    assert "random_state" not in err and list(tmp_path.iterdir()) == []


def _commands() -> list[tuple[str, argparse.ArgumentParser]]:
    """Every command and subcommand below ``warmnas`` (groups included), with its parser."""
    return list(_subparsers(cli.build_parser()))


def test_every_subcommand_help_runs(capsys: pytest.CaptureFixture[str]) -> None:
    names = [name for name, _ in _commands()]
    assert len(names) >= 20 and "warmnas db export" in names
    for name in names:
        with pytest.raises(SystemExit) as exc:
            cli.main([*name.split()[1:], "--help"])
        assert exc.value.code == 0, name
        out = capsys.readouterr().out
        assert out.startswith(f"usage: {name} "), name


def test_every_command_that_prints_a_result_has_json() -> None:
    # docs/cli.md: --json on every command; db export/copy, hardware predict/fit-latency and
    # bench openml/surrogate lacked it
    leaves = [(name, parser) for name, parser in _commands()
              if not any(isinstance(a, argparse._SubParsersAction) for a in parser._actions)]
    missing = [name for name, parser in leaves
               if not any("--json" in a.option_strings for a in parser._actions)]
    assert not missing, f"commands without --json: {missing}"
