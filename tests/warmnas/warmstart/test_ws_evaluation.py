"""The benchmark protocol: honesty (no peeking, no leakage), regret, the CLI, real Oboe data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from warmnas.cli import main
from warmnas.errors import InputError
from warmnas.warmstart import KNNWarmStarter, PMFWarmStarter, PortfolioWarmStarter, RandomSearch
from warmnas.warmstart.base import WarmStarter
from warmnas.warmstart.evaluation import (
    evaluate,
    leave_one_task_out,
    plot_regret,
    regret_curves,
    regret_table,
)


class Spy(WarmStarter):
    """Random proposals; records what it was fitted on and every value it was shown."""

    name = "spy"
    log: dict = {}

    def _fit(self) -> None:
        Spy.log.setdefault("fitted_tasks", []).append(set(self.performance_.index))
        Spy.log.setdefault("fitted_features", []).append(
            None if self.meta_features_ is None else set(self.meta_features_.index))

    def _next(self, ctx, observed, values, pending, available, rng):
        Spy.log.setdefault("seen", []).append((observed.copy(), values.copy()))
        return int(rng.choice(np.flatnonzero(available)))


def test_method_sees_only_the_values_it_proposed(planted_data):
    perf, meta = planted_data
    Spy.log = {}
    res = evaluate(Spy(), perf.iloc[:50], perf.iloc[50:], train_meta_features=meta.iloc[:50],
                   test_meta_features=meta.iloc[50:], budget=6, random_state=0)
    assert set(res.curves) == set(perf.index[50:])
    assert Spy.log["fitted_tasks"] == [set(perf.index[:50])]
    test = perf.iloc[50:].to_numpy()
    seen = Spy.log["seen"]
    assert len(seen) == 10 * 6
    for k, (obs, vals) in enumerate(seen):
        row = test[k // 6]
        assert len(obs) == k % 6  # only the results of its own earlier proposals
        np.testing.assert_array_equal(vals, row[obs])
    # the curve is the running best of what it saw
    first = res.curves[perf.index[50]]
    assert all(a >= b for a, b in zip(first, first[1:]))


def test_leave_one_task_out_never_fits_on_the_held_out_task(planted_data):
    perf, meta = planted_data
    Spy.log = {}
    tasks = list(perf.index[:8])
    res = leave_one_task_out(Spy(), perf, meta, budget=3, tasks=tasks)
    assert list(res.curves) == tasks
    assert len(Spy.log["fitted_tasks"]) == 8
    for held, fitted, feats in zip(tasks, Spy.log["fitted_tasks"], Spy.log["fitted_features"]):
        assert held not in fitted and held not in feats and len(fitted) == len(perf) - 1
    Spy.log = {}
    res = leave_one_task_out(Spy(), perf, meta, budget=3, folds=4)
    assert sorted(res.curves) == sorted(perf.index)
    assert len(Spy.log["fitted_tasks"]) == 4
    held_out = [set(perf.index) - f for f in Spy.log["fitted_tasks"]]
    assert set().union(*held_out) == set(perf.index)
    assert sum(len(h) for h in held_out) == len(perf)  # every task held out exactly once


def test_same_seed_same_curves(planted_data):
    perf, meta = planted_data
    a = leave_one_task_out(RandomSearch(), perf, budget=5, folds=3, random_state=4).curves
    b = leave_one_task_out(RandomSearch(), perf, budget=5, folds=3, random_state=4).curves
    c = leave_one_task_out(RandomSearch(), perf, budget=5, folds=3, random_state=5).curves
    assert a == b and a != c


def test_regret_and_table_and_plot(tmp_path):
    perf = pd.DataFrame([[0.3, 0.1, 0.5], [2.0, 4.0, 6.0]], index=["a", "b"],
                        columns=["x", "y", "z"])
    curves = {"a": [0.3, 0.1, 0.1], "b": [6.0, 4.0, 2.0]}
    R = regret_curves(curves, perf)
    assert R.loc["a"].tolist() == pytest.approx([0.2, 0.0, 0.0])
    assert R.loc["b"].tolist() == pytest.approx([4.0, 2.0, 0.0])
    Rn = regret_curves(curves, perf, normalize="range")
    assert Rn.loc["b"].tolist() == pytest.approx([1.0, 0.5, 0.0])
    acc = regret_curves({"a": [0.3, 0.5]}, perf, direction="maximize")
    assert acc.loc["a"].tolist() == pytest.approx([0.2, 0.0])
    table = regret_table({"m": R}, at=(1, 3, 5))
    assert list(table.columns) == ["@1", "@3"]
    assert table.loc["m", "@1"] == pytest.approx(2.1)
    out = plot_regret({"m": R, "n": Rn}, tmp_path / "r.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(InputError, match="not in the performance matrix"):
        regret_curves({"zz": [1.0]}, perf)


def test_evaluate_rejects_misaligned_or_overlapping_matrices(planted_data):
    perf, _ = planted_data
    with pytest.raises(InputError, match="same configurations"):
        evaluate(RandomSearch(), perf.iloc[:40], perf.iloc[40:, :-1])
    with pytest.raises(InputError, match="in both the train and the test matrix"):
        evaluate(RandomSearch(), perf.iloc[:40], perf.iloc[39:])
    with pytest.raises(InputError, match="budget must be a positive int"):
        evaluate(RandomSearch(), perf.iloc[:40], perf.iloc[40:], budget=0)
    with pytest.raises(InputError, match="folds must be an int between 2"):
        leave_one_task_out(RandomSearch(), perf, folds=1)
    with pytest.raises(InputError, match="leave-one-task-out needs at least 2 tasks .*got 1"):
        leave_one_task_out(RandomSearch(), perf.iloc[:1])


def test_meta_feature_ids_that_do_not_match_the_matrix_are_named(planted_data):
    perf, meta = planted_data
    renamed = meta.set_axis([f"x{i}" for i in range(len(meta))])
    # training meta-features for none of the training tasks
    with pytest.raises(InputError, match="train_meta_features has no row for any task of "
                                         "train_performance.*'x0'.*'t0'"):
        evaluate(PortfolioWarmStarter(), perf.iloc[:40], perf.iloc[40:],
                 train_meta_features=renamed.iloc[:40], test_meta_features=meta.iloc[40:])
    # test tasks without meta-features, for a method that needs them
    with pytest.raises(InputError, match="test tasks \\['t40', 't41'.*no meta-features in "
                                         "test_meta_features.*'knn'"):
        evaluate(KNNWarmStarter(), perf.iloc[:40], perf.iloc[40:],
                 train_meta_features=meta.iloc[:40], test_meta_features=renamed.iloc[40:])
    # a test row whose meta-feature names are all unknown to training counts as missing
    other = meta.iloc[40:].set_axis(["g0", "g1", "g2"], axis=1)
    with pytest.raises(InputError, match="no meta-features in test_meta_features"):
        evaluate(KNNWarmStarter(), perf.iloc[:40], perf.iloc[40:],
                 train_meta_features=meta.iloc[:40], test_meta_features=other)
    # methods that cope without them still run
    res = evaluate(PMFWarmStarter(n_latent=2, n_iter=5), perf.iloc[:40], perf.iloc[40:43],
                   train_meta_features=meta.iloc[:40], test_meta_features=renamed.iloc[40:],
                   budget=2)
    assert len(res.curves) == 3


def test_leave_one_task_out_checks_meta_features_before_the_first_fit(planted_data):
    perf, meta = planted_data
    perf, meta = perf.iloc[:12], meta.iloc[:12]
    calls = []

    class Counting(KNNWarmStarter):
        def _fit(self):
            calls.append(1)
            super()._fit()

    with pytest.raises(InputError, match="tasks \\['t10', 't11'\\] have no meta-features.*"
                                         "'knn' method needs them"):
        leave_one_task_out(Counting(), perf, meta.iloc[:10], budget=2)
    assert calls == []  # failed up front, not at the 11th fit
    # a method that copes without them runs over every task, held-out tasks without
    # meta-features included
    res = leave_one_task_out(PortfolioWarmStarter(), perf, meta.iloc[:10], budget=2)
    assert list(res.curves) == list(perf.index)


def _write(frame: pd.DataFrame, path) -> str:
    frame.to_csv(path)
    return str(path)


def test_cli_bench_train_test_json(planted_data, tmp_path, capsys):
    perf, meta = planted_data
    args = ["bench", "warmstart",
            "--train-matrix", _write(perf.iloc[:50], tmp_path / "train.csv"),
            "--train-meta-features", _write(meta.iloc[:50], tmp_path / "tf.csv"),
            "--test-matrix", _write(perf.iloc[50:], tmp_path / "test.csv"),
            "--test-meta-features", _write(meta.iloc[50:], tmp_path / "sf.csv"),
            "--method", "knn", "--budget", "7", "--seed", "0", "--json"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["curves"]) == set(perf.index[50:])
    assert all(len(c) == 7 for c in out["curves"].values())
    # the curves are the running best of the task's own values: knn's first pick is the
    # nearest training task's best configuration
    knn = KNNWarmStarter().fit(perf.iloc[:50], meta.iloc[:50])
    for task, curve in out["curves"].items():
        first = knn.suggest(meta.loc[task], 1).config_ids[0]
        assert curve[0] == pytest.approx(perf.loc[task, first])
    assert main(args[:-1]) == 0  # the table
    assert "@5" in capsys.readouterr().out


def test_cli_bench_portfolio_rank_is_the_global_rank_portfolio(planted_data, tmp_path, capsys):
    perf, meta = planted_data
    m = _write(perf.iloc[:20], tmp_path / "m.csv")
    f = _write(meta.iloc[:20], tmp_path / "f.csv")
    assert main(["bench", "warmstart", "--loto", m, "--meta-features", f,
                 "--method", "portfolio-rank", "--budget", "5", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)["curves"]
    read = pd.read_csv(m, index_col=0)
    read.index = read.index.astype(str)
    direct = leave_one_task_out(PortfolioWarmStarter(strategy="rank"), read, budget=5,
                                tasks=list(read.index)).curves
    greedy = leave_one_task_out(PortfolioWarmStarter(), read, budget=5,
                                tasks=list(read.index)).curves
    assert got == {t: list(c) for t, c in direct.items()}
    assert got != {t: list(c) for t, c in greedy.items()}  # the variant is not the greedy one


def test_cli_bench_loto_plot_and_errors(planted_data, tmp_path, capsys):
    perf, meta = planted_data
    m = _write(perf.iloc[:20], tmp_path / "m.csv")
    f = _write(meta.iloc[:20], tmp_path / "f.csv")
    png = tmp_path / "regret.png"
    assert main(["bench", "warmstart", "--loto", m, "--meta-features", f, "--method", "random",
                 "--method", "portfolio", "--method", "knn", "--budget", "5",
                 "--plot", str(png), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["methods"]) == {"random", "portfolio", "knn"}
    assert out["protocol"] == "leave-one-task-out"
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert main(["bench", "warmstart", "--loto", str(tmp_path / "missing.csv")]) == 2
    assert "file not found" in capsys.readouterr().err
    assert main(["bench", "warmstart", "--train-matrix", m]) == 2
    assert "give --train-matrix and --test-matrix" in capsys.readouterr().err


@pytest.mark.shared_data
def test_real_oboe_slice_knn_and_pmf_beat_random(oboe_slice):
    """40 real Oboe tasks, grouped 4-fold: kNN and PMF beat random search at 10 evaluations."""
    perf, feats = oboe_slice
    regrets = {}
    for name, st in (("random", RandomSearch()), ("knn", KNNWarmStarter()),
                     ("pmf", PMFWarmStarter(n_latent=5, n_iter=100))):
        res = leave_one_task_out(st, perf, feats, budget=10, folds=4, random_state=0)
        regrets[name] = regret_curves(res.curves, perf)
    table = regret_table(regrets, at=(1, 5, 10))
    assert table.loc["knn", "@10"] < table.loc["random", "@10"]
    assert table.loc["pmf", "@10"] < table.loc["random", "@10"]
    # the first PMF proposals are kNN's (the seeding of the paper)
    assert table.loc["pmf", "@1"] == pytest.approx(table.loc["knn", "@1"])


@pytest.mark.parametrize("starter", [KNNWarmStarter(), PortfolioWarmStarter(), RandomSearch()],
                         ids=lambda s: s.name)
def test_leave_one_task_out_on_a_matrix_with_missing_values(starter):
    """A held-out task whose row misses some configurations is run on the ones it has (the
    single-row test matrix then has all-NaN columns, which used to be refused)."""
    perf = pd.DataFrame({"a": [0.1, 0.2, 0.3, 0.15], "b": [0.2, np.nan, 0.1, 0.25],
                         "c": [0.3, 0.1, 0.2, np.nan]}, index=["t1", "t2", "t3", "t4"])
    feats = pd.DataFrame({"f1": [1.0, 2, 3, 4], "f2": [2.0, 3, 1, 4]}, index=perf.index)
    res = leave_one_task_out(starter, perf, feats, budget=3, random_state=0)
    assert set(res.curves) == set(perf.index)
    # t2 has two configurations: after both, its best (0.1) is found; never a value it lacks
    assert res.curves["t2"][-1] == 0.1 and len(res.curves["t2"]) == 3
    assert res.curves["t4"][-1] == 0.15
    regret = regret_curves(res.curves, perf)
    assert (regret.iloc[:, -1] == 0).all()


def test_evaluate_allows_test_configurations_a_test_task_lacks():
    train = pd.DataFrame({"a": [0.1, 0.3], "b": [0.2, 0.1]}, index=["t1", "t2"])
    test = pd.DataFrame({"a": [0.4], "b": [np.nan]}, index=["t3"])
    res = evaluate(RandomSearch(), train, test, budget=2)
    assert res.curves["t3"] == [0.4, 0.4]
    with pytest.raises(InputError, match=r"test_performance has tasks with no observed value"):
        evaluate(RandomSearch(), train, test.assign(a=np.nan), budget=2)


def test_leave_one_task_out_configuration_seen_only_on_the_held_out_task():
    """A configuration evaluated on one task only is unknown to the training tasks of that
    task's fold: it is left out of that fold (the method cannot know it), not an error."""
    perf = pd.DataFrame({"a": [0.1, 0.2, 0.3], "b": [np.nan, np.nan, 0.05]},
                        index=["t1", "t2", "t3"])
    res = leave_one_task_out(PortfolioWarmStarter(), perf, budget=2, random_state=0)
    assert res.curves["t3"] == [0.3, 0.3]          # 'b' was never proposed in t3's fold
    assert res.curves["t1"] == [0.1, 0.1]


def test_cli_bench_loto_matrix_with_missing_values(tmp_path, capsys):
    (tmp_path / "m.csv").write_text("task,a,b,c\nt1,0.1,0.2,0.3\nt2,0.2,,0.1\nt3,0.3,0.1,0.2\n"
                                    "t4,0.15,0.25,\n")
    (tmp_path / "f.csv").write_text("task,f1,f2\nt1,1,2\nt2,2,3\nt3,3,1\nt4,4,4\n")
    rc = main(["bench", "warmstart", "--loto", str(tmp_path / "m.csv"), "--meta-features",
               str(tmp_path / "f.csv"), "--method", "knn", "--budget", "3", "--json"])
    assert rc == 0
    curves = json.loads(capsys.readouterr().out)["curves"]
    assert set(curves) == {"t1", "t2", "t3", "t4"}
    assert curves["t2"][-1] == 0.1 and len(curves["t2"]) == 3  # its best of its two values
