"""Syne Tune's transfer learning as benchmark peers (bench/_syne_tune_peers.py): protocol honesty.

The adapter lives in ``bench/`` (syne-tune is an optional ``bench`` extra, not a test
dependency), so every test that runs it skips without syne-tune; only the benchmark script's
"not installed" path runs everywhere.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from warmnas.warmstart.evaluation import evaluate, leave_one_task_out

BENCH = Path(__file__).resolve().parents[3] / "bench"


@pytest.fixture
def peers(monkeypatch):
    pytest.importorskip("syne_tune")
    pytest.importorskip("xgboost")
    monkeypatch.syspath_prepend(str(BENCH))
    import _syne_tune_peers

    return _syne_tune_peers


@pytest.fixture
def regret_script(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    import warmstart_regret

    return warmstart_regret


def spy_class(peers):
    """A peer that logs its training data, what it was shown, and what Syne Tune was told."""

    class SpyPeer(peers.SyneTunePeer):
        log: dict = {}

        def _evaluations(self, complete):
            evals = super()._evaluations(complete)
            SpyPeer.log.setdefault("trained_on", []).append(
                {t: (e.hyperparameters["config"].tolist(),
                     e.objectives_evaluations[:, 0, 0, 0].copy()) for t, e in evals.items()})
            return evals

        def _scheduler(self, seed):
            sched = super()._scheduler(seed)
            told = SpyPeer.log.setdefault("told", [])
            inner = sched.on_trial_complete

            def on_trial_complete(trial, result):
                told.append((len(SpyPeer.log["seen"]), trial.config["config"],
                             result[peers.METRIC]))
                return inner(trial, result)

            sched.on_trial_complete = on_trial_complete
            return sched

        def _next(self, ctx, observed, values, pending, available, rng):
            SpyPeer.log.setdefault("seen", []).append((observed.copy(), values.copy()))
            pos = super()._next(ctx, observed, values, pending, available, rng)
            SpyPeer.log.setdefault("proposed", []).append(pos)
            return pos

    return SpyPeer


@pytest.mark.parametrize("method", ["zeroshot", "quantile", "boundingbox"])
def test_peer_is_fitted_on_training_rows_and_sees_only_its_proposals(peers, make_planted,
                                                                     method):
    perf, _ = make_planted(n_tasks=14, n_configs=12, seed=3)
    train, test = perf.iloc[:11], perf.iloc[11:]
    spy = spy_class(peers)
    spy.log = {}
    budget = 8
    res = evaluate(spy(method, random_state=0), train, test, budget=budget, random_state=0)
    # Syne Tune's transfer-learning evaluations: exactly the training tasks' rows
    for evals in spy.log["trained_on"]:
        assert set(evals) == set(train.index)
        for task, (configs, values) in evals.items():
            np.testing.assert_array_equal(values, train.loc[task, configs].to_numpy())
    seen = spy.log["seen"]
    assert len(seen) == len(test) * budget
    Y = test.to_numpy()
    for k, (obs, vals) in enumerate(seen):
        assert len(obs) == k % budget  # only the results of its own earlier proposals
        np.testing.assert_array_equal(vals, Y[k // budget][obs])
    # Syne Tune is told a value only after proposing that configuration, and the true one
    proposed = spy.log["proposed"]
    for n_seen, config, value in spy.log["told"]:
        k = n_seen - 1  # told during the k-th call of _next
        task = k // budget
        start = task * budget
        assert config in [str(test.columns[p]) for p in proposed[start:k]]
        assert value == pytest.approx(test.iloc[task][config])
    # never the same configuration twice on a task; every curve is a running best
    for task in range(len(test)):
        picks = proposed[task * budget:(task + 1) * budget]
        assert len(set(picks)) == budget
    for curve in res.curves.values():
        assert len(curve) == budget and all(a >= b for a, b in zip(curve, curve[1:]))


def test_zeroshot_first_pick_is_the_best_mean_rank_and_greedy_after(peers, make_planted):
    perf, _ = make_planted(n_tasks=20, n_configs=10, seed=5)
    train, test = perf.iloc[:17], perf.iloc[17:]
    peer = peers.make_peer("st-zeroshot").fit(train)
    search = peer.start(random_state=0)
    picks = [search.ask() for _ in range(3)]
    # Wistuba et al.: the first pick has the lowest mean rank over the training tasks, the next
    # minimises the mean of each task's best rank among the picks (computed here independently)
    ranks = train.rank(axis=1)
    assert picks[0] == ranks.mean().idxmin()
    best = ranks[picks[0]]
    nxt = {c: np.minimum(best, ranks[c]).mean() for c in train.columns if c != picks[0]}
    assert nxt[picks[1]] == pytest.approx(min(nxt.values()))
    # it is the same for every new task: no transfer from the new task's results
    other = peer.start(random_state=1)
    assert [other.ask() for _ in range(3)] == picks
    assert test.shape[1] == 10


def test_boundingbox_proposes_the_training_tasks_best_configs_first(peers, make_planted):
    perf, _ = make_planted(n_tasks=30, n_configs=25, seed=1)
    train = perf.iloc[:28]
    box = set(train.idxmin(axis=1))
    assert 1 < len(box) < 25
    peer = peers.make_peer("st-boundingbox").fit(train)
    search = peer.start(random_state=0)
    picks = [search.ask() for _ in range(len(box) + 2)]
    assert set(picks[:len(box)]) == box
    assert not set(picks[len(box):]) & box  # box exhausted: the rest is outside it
    assert peer.stats["outside_box"] == 2


@pytest.mark.parametrize("method", ["st-quantile", "st-boundingbox"])
def test_same_seed_same_curves_other_seed_other_curves(peers, make_planted, method):
    perf, _ = make_planted(n_tasks=24, n_configs=30, seed=2)
    tasks = list(perf.index[:3])
    a = leave_one_task_out(peers.make_peer(method, 0), perf, budget=6, folds=3, tasks=tasks,
                           random_state=4).curves
    b = leave_one_task_out(peers.make_peer(method, 0), perf, budget=6, folds=3, tasks=tasks,
                           random_state=4).curves
    c = leave_one_task_out(peers.make_peer(method, 0), perf, budget=6, folds=3, tasks=tasks,
                           random_state=5).curves
    assert a == b
    assert a != c


def test_peer_rejects_an_unknown_name(peers):
    with pytest.raises(ValueError, match="unknown Syne Tune peer 'st-rush'"):
        peers.make_peer("st-rush")


def test_regret_script_skips_peers_without_syne_tune(regret_script, monkeypatch, tmp_path,
                                                     capsys):
    import _syne_tune_peers

    monkeypatch.setattr(_syne_tune_peers, "syne_tune_available", lambda: False)
    (tmp_path / "SOURCES.md").write_text("test\n")
    status = regret_script.main(["--data-dir", str(tmp_path), "--datasets", "",
                                 "--methods", "random,st-quantile", "--out",
                                 str(tmp_path / "out"), "--plot", ""])
    assert status == 0
    assert "syne-tune is not installed: skipping st-quantile" in capsys.readouterr().out


def test_regret_script_rejects_an_unknown_method(regret_script, tmp_path, capsys):
    (tmp_path / "SOURCES.md").write_text("test\n")
    status = regret_script.main(["--data-dir", str(tmp_path), "--datasets", "",
                                 "--methods", "st-rush", "--out", str(tmp_path / "out"),
                                 "--plot", ""])
    assert status == 2
    assert "unknown --methods ['st-rush']" in capsys.readouterr().err


def test_warmnas_over_peer_ratio_is_the_mean_ratio(regret_script, capsys):
    idx = [f"t{i}" for i in range(6)]
    cols = list(regret_script.AT)
    rng = np.random.default_rng(0)
    peer = pd.DataFrame(rng.uniform(0.1, 1.0, (6, len(cols))), index=idx, columns=cols)
    knn = peer * 0.5
    out = regret_script.compare_peers({"knn": knn, "st-zeroshot": peer}, seed=0)
    for at in cols:
        cell = out["knn/st-zeroshot"][f"@{at}"]
        assert cell["ratio"] == pytest.approx(0.5)
        assert cell["ci95"] == pytest.approx([0.5, 0.5])
    assert "kNN / st-zeroshot: @1 0.500 [0.50, 0.50]" in capsys.readouterr().out
