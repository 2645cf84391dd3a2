"""Reports: summary numbers recomputed from the curves, files and plots, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from warmnas.bench import run_study, summarize, write_report
from warmnas.cli import main
from warmnas.cli.bench import parse_splits
from warmnas.errors import InputError
from warmnas.metadb import MetaDatabase


@pytest.fixture(scope="module")
def study(oboe, oboe_tasks, tmp_path_factory):
    prior, ev = oboe
    db = MetaDatabase(f"sqlite:///{tmp_path_factory.mktemp('rep') / 'r.db'}")
    return run_study(oboe_tasks, "random,portfolio,knn", ev, prior=prior, db=db, budget=6)


def test_summary_matches_an_independent_computation_from_the_curves(study, oboe):
    prior, _ = oboe
    s = summarize(study, at=(1, 3)).set_index("method")
    c = study.curves
    for m in study.methods:
        sub = c[c["method"] == m]
        # regret after k evaluations: min over the first k values minus the table's optimum
        for k in (1, 3, 6):
            r = [sub[(sub["task"] == t) & (sub["step"] <= k)]["value"].min()
                 - prior.performance.loc[t].min() for t in study.tasks]
            assert s.loc[m, f"regret@{k}"] == pytest.approx(np.mean(r), abs=1e-12)
        finals = [sub[sub["task"] == t]["value"].min() for t in study.tasks]
        assert s.loc[m, "final_value"] == pytest.approx(np.mean(finals))
        assert s.loc[m, "evaluated"] + s.loc[m, "shared"] + s.loc[m, "stored"] == len(sub)
    # mean ranks of 3 methods average to 2
    assert s["mean_rank"].mean() == pytest.approx(2.0)
    # 'regret after 0 evaluations' was the final regret under the name regret@0
    for bad in ((0,), (-1, 3), (1.5,), ("3",), (True,)):
        with pytest.raises(InputError, match=r"at must hold numbers of evaluations >= 1"):
            summarize(study, at=bad)


def test_write_report_with_a_bad_at_writes_nothing(study, tmp_path):
    with pytest.raises(InputError, match=r"at must hold numbers of evaluations >= 1"):
        write_report(study, tmp_path / "out", at=(0, 5), plots=False)
    assert not (tmp_path / "out").exists()


def test_write_report_writes_csv_markdown_json_and_pngs(study, tmp_path):
    paths = write_report(study, tmp_path / "out")
    curves = pd.read_csv(paths["curves"])
    assert len(curves) == len(study.curves) and "regret" in curves.columns
    summary = pd.read_csv(paths["summary_csv"])
    assert list(summary["method"]) == study.methods
    md = paths["summary_md"].read_text()
    assert "| method |" in md and "evaluations/s" in md
    meta = json.loads(paths["study"].read_text())
    assert meta["evaluated"] == study.n_evaluated and meta["budget"] == 6
    names = sorted(p.name for p in paths["plots"])
    assert names == ["accuracy_vs_evaluations.png", "accuracy_vs_time.png",
                     "regret_vs_evaluations.png", "regret_vs_time.png"]
    for p in paths["plots"]:
        with Image.open(p) as im:
            assert im.format == "PNG" and im.size[0] > 300
        assert f"]({p.name})" in md
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="is a file; pass a folder"):
        write_report(study, tmp_path / "file")


def test_parse_splits():
    assert parse_splits("all") == {}
    assert parse_splits("r0") == {"repeats": [0]}
    assert parse_splits("r0,r2") == {"repeats": [0, 2]}
    assert parse_splits("0:0,0:1") == {"splits": [(0, 0), (0, 1)]}
    for bad in ("first", "0-1", "0:0:0", "r"):
        with pytest.raises(InputError, match="--splits must be"):
            parse_splits(bad)


def test_cli_surrogate_study_and_resume(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 's.db'}"
    args = ["bench", "surrogate", "--tasks", "3", "--methods", "portfolio,random", "--budget", "4",
            "--db", url, "--out", str(tmp_path / "out"), "--serial", "--no-plots"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "evaluations/s" in out and "portfolio" in out
    header = out.splitlines()[0].split()
    assert header[-1] == "failed"
    # the column counts what was taken from the meta-database, so it is not called "stored"
    # (everything this run evaluated was stored into --db)
    assert "reused" in header and "stored" not in header
    reused = [int(line.split()[header.index("reused")]) for line in out.splitlines()[1:3]]
    assert reused == [0, 0]
    n = MetaDatabase(url).info()["counts"]["evaluations"]
    assert 0 < n <= 3 * 2 * 4
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "0 evaluations run" in out
    reused = [int(line.split()[header.index("reused")]) for line in out.splitlines()[1:3]]
    assert sum(reused) >= n and min(reused) > 0
    assert MetaDatabase(url).info()["counts"]["evaluations"] == n
    assert (tmp_path / "out" / "summary.md").exists()
    # --json: one JSON document on stdout (the table is not printed), with the same counts
    assert main([*args, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["evaluated"] == 0 and printed["reused"] >= n and printed["failed"] == 0
    assert [row["method"] for row in printed["summary"]] == ["portfolio", "random"]
    assert printed["methods"] == ["portfolio", "random"] and len(printed["tasks"]) == 3
    assert printed["report"]["summary_md"] == str(tmp_path / "out" / "summary.md")


def test_cli_errors_are_clear(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 's.db'}"
    rc = main(["bench", "openml", "--tasks", "x12", "--db", url, "--out", str(tmp_path)])
    assert rc == 2
    assert "--tasks takes positive OpenML task ids, got 'x12'" in capsys.readouterr().err
    rc = main(["bench", "surrogate", "--tasks", "2", "--methods", "knn,magic", "--db", url,
               "--out", str(tmp_path), "--serial"])
    assert rc == 2
    assert "--methods: unknown method 'magic'" in capsys.readouterr().err  # names the option


def test_cli_ctrl_c_says_what_is_kept_and_how_to_resume(tmp_path, capsys, monkeypatch):
    from warmnas.bench.surrogate import TableSurrogate

    url = f"sqlite:///{tmp_path / 's.db'}"
    args = ["bench", "surrogate", "--tasks", "3", "--methods", "portfolio,random", "--budget", "4",
            "--db", url, "--out", str(tmp_path / "out"), "--serial", "--no-plots"]
    evaluate = TableSurrogate.evaluate
    calls = []

    def interrupted(self, config, task):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return evaluate(self, config, task)

    monkeypatch.setattr(TableSurrogate, "evaluate", interrupted)
    assert main(args) == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and url in err and "re-run the same command to resume" in err
    assert "Traceback" not in err
    assert MetaDatabase(url).info()["counts"]["evaluations"] == 4
    assert not (tmp_path / "out").exists()


def _cannot_fit(config, task):
    raise ValueError("cannot fit")


def test_a_study_whose_evaluations_all_failed_still_gets_its_report(oboe, oboe_tasks, tmp_path):
    import warnings

    from warmnas.bench import FunctionEvaluator

    prior, _ = oboe
    ev = FunctionEvaluator(_cannot_fit, space=prior.space, metric="balanced_error")
    res = run_study(oboe_tasks[:2], "random,knn", ev, prior=prior,
                    db=MetaDatabase(f"sqlite:///{tmp_path / 'f.db'}"), budget=3)
    assert res.n_failed == res.curves[["task", "config_id"]].drop_duplicates().shape[0] > 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy "Mean of empty slice" noise either
        paths = write_report(res, tmp_path / "out")
    assert len(paths["plots"]) == 4
    summary = pd.read_csv(paths["summary_csv"])
    assert summary["failed"].tolist() == [6, 6]
    assert summary["final_value"].isna().all()
    # which evaluations failed, and why, is in the Markdown summary (not only in curves.csv)
    md = paths["summary_md"].read_text()
    assert "## Failed evaluations" in md and "stored in the meta-database as failures" in md
    failed = res.curves[["task", "config_id"]].drop_duplicates()
    for task, cid in failed.itertuples(index=False):
        assert f"| {task} | {cid} | ValueError: cannot fit |" in md


def test_cli_refuses_a_report_folder_that_is_a_file_before_the_study_runs(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 's.db'}"
    (tmp_path / "afile").write_text("")
    rc = main(["bench", "surrogate", "--tasks", "2", "--methods", "random", "--budget", "2",
               "--db", url, "--out", str(tmp_path / "afile"), "--serial", "--no-plots"])
    assert rc == 2
    assert "--out" in capsys.readouterr().err
    assert not (tmp_path / "s.db").exists()


@pytest.mark.parametrize("extra, message", [
    (["--workers", "0"], "--workers must be a positive number of processes, got 0"),
    (["--dask-local", "-1"], "--dask-local must be a positive number of processes, got -1"),
])
def test_cli_names_the_option_of_a_bad_worker_count(tmp_path, capsys, extra, message):
    rc = main(["bench", "surrogate", "--tasks", "2", "--budget", "1", "--db",
               f"sqlite:///{tmp_path / 's.db'}", "--out", str(tmp_path / "o"), *extra])
    assert rc == 2
    assert message in capsys.readouterr().err


def test_cli_names_the_option_of_a_bad_timeout(tmp_path, capsys):
    rc = main(["bench", "openml", "--tasks", "1882", "--budget", "1", "--db",
               f"sqlite:///{tmp_path / 's.db'}", "--out", str(tmp_path / "o"),
               "--cache-dir", str(tmp_path), "--eval-timeout", "nan"])
    assert rc == 2
    assert "--eval-timeout must be seconds >= 0 (0 = no limit), got nan" in capsys.readouterr().err


def test_throughput_is_printed_readably():
    from warmnas.bench.report import format_rate

    assert [format_rate(v) for v in (2343.4, 618.0, 46.94, 0.012669, float("nan"))] == \
        ["2343", "618", "46.9", "0.0127", "nan"]
