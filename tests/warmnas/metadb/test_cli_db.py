"""The ``warmnas db`` commands."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from warmnas.cli import main
from warmnas.metadb import MetaDatabase


@pytest.mark.shared_data
def test_import_info_export(tmp_path, shared_data, capsys):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["db", "import", "oboe", str(shared_data / "oboe"), "--db", url, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["evaluations"] == 358 * 219 and report["seconds"] > 0
    assert main(["db", "import", "pmf-features", str(shared_data / "pmf-metafeatures"),
                 "--db", url, "--only-existing"]) == 0
    assert "258 tasks" in capsys.readouterr().out
    assert main(["db", "info", "--db", url, "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["counts"]["evaluations"] == 78402 and info["default_metric"] == "balanced_error"
    assert info["metrics"]["balanced_error"]["direction"] == "minimize"
    out = tmp_path / "m.parquet"
    assert main(["db", "export", "matrix", str(out), "--db", url, "--normalize", "rank"]) == 0
    ranks = pd.read_parquet(out)
    assert ranks.shape == (358, 219) and ranks.min().min() >= 1
    assert main(["db", "export", "aslib", str(tmp_path / "scen"), "--db", url]) == 0
    assert (tmp_path / "scen" / "algorithm_runs.arff").exists()


def test_info_of_the_default_and_errors(tmp_path, capsys):
    assert main(["db", "info"]) == 0
    text = capsys.readouterr().out
    assert "metric balanced_error (minimize): 78402 evaluations" in text and "read-only" in text
    junk = tmp_path / "junk.db"
    junk.write_text("not a database")
    assert main(["db", "info", "--db", str(junk)]) == 2
    assert "is not a SQLite database" in capsys.readouterr().err
    assert main(["db", "import", "oboe", str(tmp_path / "missing"), "--db", str(tmp_path / "x.db")]) == 2
    assert "Oboe folder not found" in capsys.readouterr().err


def test_copy_default(tmp_path, capsys):
    dest = tmp_path / "mine.db"
    assert main(["db", "copy", str(dest)]) == 0
    assert "125277 evaluations" in capsys.readouterr().out
    assert MetaDatabase(dest).performance_matrix().shape == (358, 219)


def _small_db(path) -> str:
    url = f"sqlite:///{path}"
    db = MetaDatabase(url)
    db.add_task("t1", meta_features={"NumberOfInstances": 10.0})
    db.add_task("t2", meta_features={"NumberOfInstances": 20.0})
    db.dispose()
    return url


def test_export_and_copy_take_out_and_print_json(tmp_path, capsys):
    # --out like every other command; --json: one JSON document on stdout, nothing else there
    src = _small_db(tmp_path / "src.db")
    out = tmp_path / "features.csv"
    assert main(["db", "export", "meta-features", "--out", str(out), "--db", src, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == {"what": "meta-features", "out": str(out), "format": "csv", "db": src}
    assert pd.read_csv(out, index_col=0)["NumberOfInstances"].to_dict() == {"t1": 10.0, "t2": 20.0}
    dest = tmp_path / "copy.db"
    assert main(["db", "copy", "--out", str(dest), "--db", src, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["source"] == src and printed["destination"] == f"sqlite:///{dest}"
    assert printed["counts"]["tasks"] == 2 == MetaDatabase(dest).info()["counts"]["tasks"]


def test_export_and_copy_still_take_the_positional_output(tmp_path, capsys):
    src = _small_db(tmp_path / "src.db")
    out = tmp_path / "features.parquet"
    assert main(["db", "export", "meta-features", str(out), "--db", src]) == 0
    assert f"wrote {out}" in capsys.readouterr().err
    assert pd.read_parquet(out).shape == (2, 1)
    assert main(["db", "copy", str(tmp_path / "copy.db"), "--db", src]) == 0
    assert "2 tasks" in capsys.readouterr().out


@pytest.mark.parametrize("command", [["db", "export", "matrix"], ["db", "copy"]])
def test_output_given_twice_or_not_at_all(command, tmp_path, capsys):
    old, new = str(tmp_path / "old.csv"), str(tmp_path / "new.csv")
    with pytest.raises(SystemExit) as exc:
        main([*command, old, "--out", new])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "argument --out: not allowed with the positional" in err and old in err and new in err
    with pytest.raises(SystemExit) as exc:
        main(command)
    assert exc.value.code == 2
    assert "the following arguments are required: --out" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_export_format_error_names_the_options(tmp_path, capsys):
    # the library says format='parquet'|'csv' (its argument); the command names its options
    assert main(["db", "export", "matrix", "--out", str(tmp_path / "m.txt")]) == 2
    err = capsys.readouterr().err
    assert "cannot tell the format of --out" in err and "--format parquet|csv" in err
    assert "format=" not in err


@pytest.mark.parametrize("what, extra, said", [
    ("matrix", ["--view", "openml"], "--view does not apply to 'db export matrix'"),
    ("meta-features", ["--metric", "balanced_error", "--normalize", "rank"],
     "--metric, --normalize do not apply to 'db export meta-features'"),
    ("aslib", ["--format", "csv"], "--format does not apply to 'db export aslib'"),
])
def test_export_refuses_options_it_would_ignore(what, extra, said, tmp_path, capsys):
    # `db export matrix --view openml` wrote the matrix as if --view had not been given
    out = tmp_path / ("x" if what == "aslib" else "x.csv")
    assert main(["db", "export", what, "--out", str(out), *extra]) == 2
    assert said in capsys.readouterr().err
    assert not out.exists()


def test_export_failures(tmp_path, capsys):
    """`db export failures`: the stored failed evaluations with their configuration, so a user
    can see why a study skipped them without writing Python."""
    from warmnas.space import ConfigSpace, Integer

    url = f"sqlite:///{tmp_path / 'f.db'}"
    db = MetaDatabase(url)
    space = ConfigSpace("toy", [Integer("k", 1, 9)])
    db.add_failures([{"task": "t1", "config": {"k": 3}, "error": "TimeoutError: over 600 s",
                      "elapsed_s": 600.0},
                     {"task": "t2", "config": {"k": 5}, "error_type": "ValueError",
                      "message": "cannot fit"}],
                    metric="error", direction="minimize", space=space, create_tasks=True)
    db.add_evaluations([{"task": "t1", "config": {"k": 4}, "value": 0.2}], metric="error",
                       space=space)
    db.dispose()
    out = tmp_path / "failures.csv"
    assert main(["db", "export", "failures", "--out", str(out), "--db", url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["what"] == "failures"
    got = pd.read_csv(out).sort_values("task").reset_index(drop=True)
    assert got["task"].tolist() == ["t1", "t2"]
    assert got["error_type"].tolist() == ["TimeoutError", "ValueError"]
    assert got["message"].tolist() == ["over 600 s", "cannot fit"]
    assert got["elapsed_s"].iloc[0] == 600.0 and got["metric"].tolist() == ["error", "error"]
    assert [json.loads(c) for c in got["config"]] == [{"k": 3}, {"k": 5}]
    assert set(got["space"]) == {"toy"}
    # filters as for evaluations; an option it does not read is refused
    assert main(["db", "export", "failures", "--out", str(tmp_path / "t2.csv"), "--db", url,
                 "--task", "t2"]) == 0
    assert pd.read_csv(tmp_path / "t2.csv")["task"].tolist() == ["t2"]
    assert main(["db", "export", "failures", "--out", str(out), "--db", url, "--view",
                 "openml"]) == 2
    assert "--view does not apply to 'db export failures'" in capsys.readouterr().err


def test_export_failures_of_a_database_without_any(tmp_path):
    out = tmp_path / "failures.parquet"
    assert main(["db", "export", "failures", "--out", str(out)]) == 0  # the embedded database
    got = pd.read_parquet(out)
    assert len(got) == 0 and {"task", "config_id", "error_type", "message", "config"} <= set(got)


@pytest.mark.parametrize("what", ["evaluations", "failures"])
def test_export_unknown_task_is_an_error_not_an_empty_file(what, tmp_path, capsys):
    # a mistyped --task wrote an empty file with exit 0, as if the task had no results
    out = tmp_path / "x.csv"
    assert main(["db", "export", what, "--out", str(out), "--task", "openml/d/33"]) == 2
    err = capsys.readouterr().err
    assert "--task 'openml/d/33' is not a task of the meta-database" in err
    assert "did you mean" in err and "openml/d/3" in err
    assert not out.exists()
