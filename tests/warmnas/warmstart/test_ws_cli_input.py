"""``warmnas warm-start`` and ``warmnas bench warmstart`` on awkward or broken CSV files.

Every bad file must end in ``warmnas: error: ...`` (exit 2) naming the file and the fix, never in
a traceback; odd but valid files (other separators, unicode names) must work.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from warmnas.cli import main


def _dataset(n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    frame["y"] = rng.integers(0, 2, n)
    return frame


def _warm(path, capsys, *extra):
    code = main(["warm-start", str(path), "--target", "y", "--n-configs", "2", *extra])
    return code, capsys.readouterr()


@pytest.mark.parametrize("content, match", [
    (b"", "is empty"),
    (b"a,b,y\n1,2,0\n1,2,3,4,5\n", "is not a readable CSV file"),
    ("caf\u00e9,b,y\n1,2,0\n3,4,1\n".encode("latin-1"), "is not UTF-8.*--encoding"),
    (b"a,b,y\n", "has a header but no data rows"),
])
def test_warm_start_cli_broken_files_are_clear_errors(tmp_path, capsys, content, match):
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    code, out = _warm(path, capsys)
    assert code == 2
    assert "Traceback" not in out.err
    assert "warmnas: error:" in out.err and "data.csv" in out.err
    assert re.search(match, out.err), out.err


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_warm_start_cli_reads_other_separators(tmp_path, capsys, sep):
    frame = _dataset()
    frame.to_csv(tmp_path / "comma.csv", index=False)
    frame.to_csv(tmp_path / "other.csv", index=False, sep=sep)
    code, ref = _warm(tmp_path / "comma.csv", capsys, "--json")
    assert code == 0
    code, got = _warm(tmp_path / "other.csv", capsys, "--json")
    assert code == 0, got.err
    assert json.loads(got.out)["configs"] == json.loads(ref.out)["configs"]
    # and the separator can be given explicitly
    code, given = _warm(tmp_path / "other.csv", capsys, "--json", "--sep", sep)
    assert code == 0 and json.loads(given.out)["configs"] == json.loads(ref.out)["configs"]


def test_warm_start_cli_encoding_option(tmp_path, capsys):
    frame = _dataset().rename(columns={"a": "caf\u00e9"})
    frame.to_csv(tmp_path / "utf8.csv", index=False)
    frame.to_csv(tmp_path / "latin.csv", index=False, encoding="latin-1")
    code, ref = _warm(tmp_path / "utf8.csv", capsys, "--json")
    assert code == 0
    code, got = _warm(tmp_path / "latin.csv", capsys, "--json", "--encoding", "latin-1")
    assert code == 0, got.err
    assert json.loads(got.out)["configs"] == json.loads(ref.out)["configs"]
    code, bad = _warm(tmp_path / "latin.csv", capsys, "--encoding", "no-such-codec")
    assert code == 2 and "unknown encoding 'no-such-codec'" in bad.err


def _matrices(tmp_path, sep=","):
    rng = np.random.default_rng(1)
    tasks = [f"t{i}" for i in range(8)]
    perf = pd.DataFrame(rng.random((8, 5)), index=tasks, columns=[f"c{j}" for j in range(5)])
    feats = pd.DataFrame(rng.random((8, 3)), index=tasks, columns=["f0", "f1", "f2"])
    perf.to_csv(tmp_path / "m.csv", sep=sep)
    feats.to_csv(tmp_path / "f.csv", sep=sep)
    return str(tmp_path / "m.csv"), str(tmp_path / "f.csv")


def test_bench_cli_semicolon_files_give_the_same_curves(tmp_path, capsys):
    (tmp_path / "comma").mkdir()
    (tmp_path / "semi").mkdir()
    args = ["--method", "knn", "--budget", "3", "--json"]
    m, f = _matrices(tmp_path / "comma")
    assert main(["bench", "warmstart", "--loto", m, "--meta-features", f, *args]) == 0
    ref = json.loads(capsys.readouterr().out)["curves"]
    m, f = _matrices(tmp_path / "semi", sep=";")
    assert main(["bench", "warmstart", "--loto", m, "--meta-features", f, *args]) == 0
    assert json.loads(capsys.readouterr().out)["curves"] == ref


@pytest.mark.parametrize("content, match", [
    (",c0,c1\n", "--loto matrix .*m.csv has a header but no data rows"),
    ("task\nt0\nt1\n", "--loto matrix .*m.csv has no column besides the task ids"),
    ("", "--loto matrix .*m.csv is empty"),
])
def test_bench_cli_empty_matrices_are_named(tmp_path, capsys, content, match):
    _, f = _matrices(tmp_path)
    (tmp_path / "m.csv").write_text(content)
    assert main(["bench", "warmstart", "--loto", str(tmp_path / "m.csv"),
                 "--meta-features", f]) == 2
    err = capsys.readouterr().err
    assert re.search(match, err), err


def test_bench_cli_bad_plot_path_fails_before_the_run(tmp_path, capsys):
    m, f = _matrices(tmp_path)
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    for plot, match in [(blocker / "regret.png", "--plot .*cannot be written"),
                        (tmp_path, "--plot .*is a folder")]:
        assert main(["bench", "warmstart", "--loto", m, "--meta-features", f,
                     "--plot", str(plot)]) == 2
        out = capsys.readouterr()
        assert re.search(match, out.err), out.err
        assert out.out == ""  # nothing was run


def test_bench_cli_results_are_printed_even_if_the_plot_fails(tmp_path, capsys, monkeypatch):
    import warmnas.warmstart.evaluation as evaluation

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(evaluation, "plot_regret", broken)
    m, f = _matrices(tmp_path)
    code = main(["bench", "warmstart", "--loto", m, "--meta-features", f, "--budget", "2",
                 "--json", "--plot", str(tmp_path / "regret.png")])
    out = capsys.readouterr()
    assert code == 2 and "No space left on device" in out.err and "--plot" in out.err
    assert len(json.loads(out.out)["curves"]) == 8  # the curves were not lost


def test_duplicate_column_names_are_not_silently_renamed(tmp_path, capsys):
    # pandas would read them as 'c1' and 'c1.1': two configurations (or a copy of the target
    # among the features) without a word
    m, f = _matrices(tmp_path)
    (tmp_path / "dup.csv").write_text(",c0,c1,c1\nt0,0.1,0.2,0.3\nt1,0.2,0.1,0.4\n")
    assert main(["bench", "warmstart", "--loto", str(tmp_path / "dup.csv"),
                 "--meta-features", f]) == 2
    err = capsys.readouterr().err
    assert re.search("--loto matrix .*dup.csv has duplicate column names \\['c1'\\]", err), err
    frame = _dataset()
    frame["y2"] = frame["y"]
    frame.to_csv(tmp_path / "data.csv", index=False, header=["a", "b", "c", "y", "y"])
    code, out = _warm(tmp_path / "data.csv", capsys)
    assert code == 2 and "duplicate column names ['y']" in out.err


def test_bench_cli_tasks_with_an_empty_meta_feature_row_stay_in_training(tmp_path, capsys):
    m, f = _matrices(tmp_path)
    feats = pd.read_csv(f, index_col=0)
    feats.loc["t2"] = np.nan  # a task listed in the file but without any value
    feats.to_csv(f)
    assert main(["bench", "warmstart", "--loto", m, "--meta-features", f, "--budget", "2",
                 "--json"]) == 0
    curves = json.loads(capsys.readouterr().out)["curves"]
    assert sorted(curves) == sorted(f"t{i}" for i in range(8) if i != 2)


def test_bench_cli_checks_every_method_before_running_any(tmp_path, capsys, monkeypatch):
    import warmnas.warmstart.evaluation as evaluation

    runs = []
    real = evaluation.leave_one_task_out

    def counting(starter, *args, **kwargs):
        runs.append(starter.name)
        return real(starter, *args, **kwargs)

    monkeypatch.setattr(evaluation, "leave_one_task_out", counting)
    m, f = _matrices(tmp_path)
    feats = pd.read_csv(f, index_col=0).iloc[:6]
    feats.to_csv(f)
    # portfolio would run fine; knn cannot (t6, t7 have no meta-features): fail before either
    assert main(["bench", "warmstart", "--loto", m, "--meta-features", f, "--tasks", "all",
                 "--method", "portfolio", "--method", "knn", "--budget", "2"]) == 2
    err = capsys.readouterr().err
    assert "tasks ['t6', 't7'] have no meta-features" in err and "'knn'" in err
    assert runs == []
    # train/test without test meta-features
    assert main(["bench", "warmstart", "--train-matrix", m, "--test-matrix", m,
                 "--method", "portfolio", "--method", "knn"]) == 2
    assert "--method knn needs meta-features" in capsys.readouterr().err


def test_warm_start_cli_trailing_delimiters_do_not_shift_the_columns(tmp_path, capsys):
    # "1,2,x," on every data row (some exporters write it): pandas would take the first column
    # as the index and shift every column by one, so --target read its neighbour's values
    frame = _dataset()
    frame.to_csv(tmp_path / "clean.csv", index=False)
    lines = (tmp_path / "clean.csv").read_text().splitlines()
    (tmp_path / "trailing.csv").write_text("\n".join([lines[0]] + [r + "," for r in lines[1:]]))
    code, ref = _warm(tmp_path / "clean.csv", capsys, "--json")
    assert code == 0
    code, got = _warm(tmp_path / "trailing.csv", capsys, "--json")
    assert code == 0, got.err
    assert json.loads(got.out)["configs"] == json.loads(ref.out)["configs"]


def test_warm_start_cli_rows_longer_than_the_header_are_an_error(tmp_path, capsys):
    # every row one value more than the header: not silently read as an index column
    path = tmp_path / "data.csv"
    path.write_text("a,b,y\n" + "".join(f"{i},{i % 3},{i % 2},{i}\n" for i in range(40)))
    code, out = _warm(path, capsys)
    assert code == 2 and "Traceback" not in out.err
    assert re.search(r"data\.csv.*more fields than the header.*3 names", out.err), out.err


def test_bench_cli_trailing_delimiters_do_not_shift_the_matrix(tmp_path, capsys):
    rng = np.random.default_rng(0)
    matrix = pd.DataFrame(rng.random((12, 6)), index=[f"t{i}" for i in range(12)],
                          columns=[f"c{j}" for j in range(6)])
    feats = pd.DataFrame(rng.random((12, 3)), index=matrix.index, columns=["f1", "f2", "f3"])
    matrix.to_csv(tmp_path / "m.csv")
    feats.to_csv(tmp_path / "f.csv")
    lines = (tmp_path / "m.csv").read_text().splitlines()
    (tmp_path / "m_trailing.csv").write_text("\n".join([lines[0]] + [r + "," for r in lines[1:]]))
    args = ["bench", "warmstart", "--meta-features", str(tmp_path / "f.csv"), "--method", "knn",
            "--budget", "3", "--json", "--loto"]
    assert main([*args, str(tmp_path / "m.csv")]) == 0
    ref = json.loads(capsys.readouterr().out)["curves"]
    assert main([*args, str(tmp_path / "m_trailing.csv")]) == 0
    assert json.loads(capsys.readouterr().out)["curves"] == ref


@pytest.mark.parametrize("extra, said", [
    (["--target", "Y"], "--target 'Y' is not a column of the DataFrame; did you mean 'y'"),
    (["--target", "y", "--metric", "acc"], "--metric 'acc' is not in the meta-database; it has"),
])
def test_warm_start_cli_errors_name_the_option(tmp_path, capsys, extra, said):
    path = tmp_path / "data.csv"
    _dataset().to_csv(path, index=False)
    code = main(["warm-start", str(path), "--n-configs", "2", *extra])
    err = capsys.readouterr().err
    assert code == 2 and said in err, err
