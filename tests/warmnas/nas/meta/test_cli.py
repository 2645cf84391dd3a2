"""``warmnas nas meta-train`` / ``warmnas nas adapt`` on tiny Omniglot tasks."""

from __future__ import annotations

import json

import pytest

from warmnas.cli import main

from .conftest import one_thread


@pytest.mark.shared_data
def test_meta_train_then_adapt(shared_data, tmp_path, capsys) -> None:
    common = ["--data-dir", str(shared_data), "--cache-dir", str(tmp_path / "cache"),
              "--size", "8", "--n-way", "3", "--k-shot", "1", "--q-query", "1"]
    out = tmp_path / "ck"
    with one_thread():
        rc = main(["nas", "meta-train", *common, "--out", str(out), "--meta-steps", "2",
                   "--meta-batch-size", "2", "--inner-steps", "1", "--adapt-steps", "1",
                   "--channels", "4", "--layers", "2", "--json", "--train-shots", "4",
                   "--inner-batch-size", "6",
                   "--db", f"sqlite:///{tmp_path / 'meta.db'}"])
        assert rc == 0
        trained = json.loads(capsys.readouterr().out)
        assert trained["meta_steps"] == 2 and (out / "alphas.npz").is_file()
        rc = main(["nas", "adapt", str(out), *common, "--tasks", "3", "--json"])
    assert rc == 0
    res = json.loads(capsys.readouterr().out)
    assert res["n_tasks"] == 3 and 0 <= res["accuracy"] <= 1 and res["genotype"]["space"] == "darts"
    with one_thread():  # one task: no interval; --json must stay strict JSON (no NaN)
        rc = main(["nas", "adapt", str(out), *common, "--tasks", "1", "--json"])
    assert rc == 0
    res = json.loads(capsys.readouterr().out, parse_constant=lambda c: pytest.fail(c))
    assert res["n_tasks"] == 1 and res["ci95"] is None
    # --n-way and --size default to the checkpoint's (3-way, 8 px), not to 5 and 28
    data = ["--data-dir", str(shared_data), "--cache-dir", str(tmp_path / "cache"),
            "--k-shot", "1", "--q-query", "1"]
    with one_thread():
        rc = main(["nas", "adapt", str(out), *data, "--tasks", "1", "--json"])
    assert rc == 0, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out)["n_tasks"] == 1
    # the library's n_tasks / steps errors name the options (they said n_tasks= ...)
    for option, value in (("--tasks", "0"), ("--steps", "-1")):
        assert main(["nas", "adapt", str(out), *common, option, value]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"warmnas: error: {option} must be an int >= ") and "n_tasks" not in err
    from warmnas.metadb import MetaDatabase

    recs = MetaDatabase(f"sqlite:///{tmp_path / 'meta.db'}").nas_records(space="darts")
    assert [r.task for r in recs] == ["metanas/omniglot-train"]


def test_adapt_missing_checkpoint_is_a_clear_error(tmp_path, capsys) -> None:
    rc = main(["nas", "adapt", str(tmp_path / "nope"), "--data-dir", str(tmp_path)])
    assert rc == 2
    err = capsys.readouterr().err
    assert "no MetaNAS checkpoint" in err and "warmnas nas meta-train --out" in err, err


def test_meta_train_bad_train_shots_names_the_option(tmp_path, capsys) -> None:
    # --train-shots feeds the library's k_shot of the training tasks: the error said --k-shot
    rc = main(["nas", "meta-train", "--out", str(tmp_path / "ck"), "--train-shots", "0",
               "--data-dir", str(tmp_path)])
    assert rc == 2
    assert "--train-shots must be a positive int, got 0" in capsys.readouterr().err
    assert not (tmp_path / "ck").exists()


@pytest.mark.parametrize("option, said", [
    (["--meta-steps", "-1"], "--meta-steps must be"),
    (["--channels", "0"], "--channels must be"),
    (["--meta-batch-size", "0"], "--meta-batch-size must be"),
])
def test_meta_train_settings_are_checked_before_the_tasks_are_loaded(option, said, tmp_path,
                                                                     capsys) -> None:
    # the tasks decode the Omniglot zips (or CIFAR-10's JPEGs) first: a bad setting must not
    # wait for that; here the data folder is empty, so a data error would mean the wrong order
    rc = main(["nas", "meta-train", "--out", str(tmp_path / "ck"), *option,
               "--data-dir", str(tmp_path)])
    assert rc == 2
    err = capsys.readouterr().err
    assert said in err and "not found" not in err
