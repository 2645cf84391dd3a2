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
