"""Cost-aware warm starts: the runtime predictor, proposals under a time budget, EI per second,
``optimize(time_budget=...)``, the command line, and bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

import warmnas
from warmnas.api import warm_start
from warmnas.cli import main
from warmnas.errors import InputError
from warmnas.warmstart import KNNWarmStarter, PMFWarmStarter, PortfolioWarmStarter
from warmnas.warmstart.cost import (
    CostAwareSearch,
    RuntimePredictor,
    check_time_budget,
    cost_aware_search,
    dataset_size,
    suggest_within_budget,
)


# ------------------------------------------------------------------- a known runtime law
def runtime_law(n_tasks: int = 60, n_configs: int = 12, noise: float = 0.0, seed: int = 0):
    """Runtimes that follow ``log t = a_c + b_c log n + c_c log p + d_c log n log p`` exactly
    (times ``exp(noise * N(0, 1))``), plus a per-cluster slowdown the sizes do not explain
    (returned separately) and meta-features that reveal the cluster."""
    rng = np.random.default_rng(seed)
    n = np.exp(rng.uniform(np.log(100), np.log(1e5), n_tasks))
    p = np.exp(rng.uniform(np.log(2), np.log(1e3), n_tasks))
    a = rng.normal(-8, 1, n_configs)
    b = rng.uniform(0.5, 1.5, n_configs)
    c = rng.uniform(0.0, 1.0, n_configs)
    d = rng.uniform(0.0, 0.1, n_configs)
    ln, lp = np.log(n)[:, None], np.log(p)[:, None]
    L = a + b * ln + c * lp + d * ln * lp + noise * rng.normal(size=(n_tasks, n_configs))
    tasks = [f"t{i}" for i in range(n_tasks)]
    configs = [f"c{j}" for j in range(n_configs)]
    cost = pd.DataFrame(np.exp(L), index=tasks, columns=configs)
    sizes = pd.DataFrame({"n_rows": n, "n_columns": p}, index=tasks)
    cluster = rng.integers(0, 2, n_tasks)
    slow = pd.DataFrame(np.exp(L + 1.5 * cluster[:, None]), index=tasks, columns=configs)
    feats = pd.DataFrame({"cluster": cluster.astype(float), "other": rng.uniform(size=n_tasks)},
                         index=tasks)
    return cost, sizes, slow, feats


def test_size_law_recovers_the_true_runtimes_of_a_held_out_task():
    cost, sizes, _, _ = runtime_law()
    for held in ("t0", "t7", "t33"):
        pred = RuntimePredictor(method="size", ridge=0.0).fit(
            cost.drop(index=held), sizes.drop(index=held))
        got = pred.predict(sizes.loc[held].to_numpy())
        np.testing.assert_allclose(got.to_numpy(), cost.loc[held].to_numpy(), rtol=1e-6)
        # the naive peer (each configuration's median) misses the size dependence
        naive = RuntimePredictor(method="median").fit(cost.drop(index=held))
        err_naive = np.abs(np.log(naive.predict().to_numpy() / cost.loc[held].to_numpy()))
        assert err_naive.max() > 0.5


def test_knn_correction_recovers_what_sizes_do_not_explain():
    """Half the tasks are e^1.5 times slower (a cluster the meta-features reveal): the size
    law alone is off by about that factor, the neighbours' residuals correct it."""
    _, sizes, slow, feats = runtime_law(n_tasks=80, noise=0.05)
    errs: dict[str, list[float]] = {"size": [], "size+knn": []}
    for held in slow.index[:20]:
        pred = RuntimePredictor(n_neighbors=8).fit(slow.drop(index=held), sizes.drop(index=held),
                                                   feats.drop(index=held))
        s, q = sizes.loc[held].to_numpy(), feats.loc[held]
        assert pred.resolve_method(s, q) == "size+knn"
        truth = np.log(slow.loc[held].to_numpy())
        for m in errs:
            pred.method = m
            errs[m].append(float(np.median(np.abs(pred.predict_log(s, q) - truth))))
    assert np.mean(errs["size+knn"]) < 0.2 < 0.5 < np.mean(errs["size"])


def test_predictor_bad_input():
    cost, sizes, _, _ = runtime_law()
    with pytest.raises(InputError, match="method must be one of"):
        RuntimePredictor(method="oboe").fit(cost)
    with pytest.raises(InputError, match="method 'size' needs"):
        RuntimePredictor(method="size").fit(cost)
    with pytest.raises(InputError, match="no runtime"):
        RuntimePredictor().fit(cost * np.nan)
    with pytest.raises(InputError, match="finite runtimes >= 0"):
        RuntimePredictor().fit(-cost)
    pred = RuntimePredictor(method="size").fit(cost, sizes)
    with pytest.raises(InputError, match="n_rows must be a positive"):
        pred.predict([0, 10])


@pytest.mark.parametrize("bad", [-1, 0, math.nan, math.inf, "60", True])
def test_time_budget_must_be_positive_finite_seconds(bad):
    with pytest.raises(InputError, match="time_budget must be a"):
        check_time_budget(bad)


def test_dataset_size_counts_one_hot_columns():
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": ["x", "y", "x", "z"], "c": [0, 1, 0, 1]})
    assert dataset_size(X) == (4.0, 5.0)  # a: 1, b: 3 categories, c: 1
    assert dataset_size(X, categorical=["c"]) == (4.0, 6.0)
    assert dataset_size(np.zeros((7, 3))) == (7.0, 3.0)
    arr = np.array([[0.5, 1, 2], [0.1, 2, 2], [0.3, 3, 2], [0.2, 1, 2]])
    assert dataset_size(arr, categorical=[1]) == (4.0, 5.0)  # column 1 has 3 categories
    assert dataset_size(arr, categorical=[False, True, True]) == (4.0, 5.0)
    assert dataset_size(np.array([["a", "b"], ["c", "b"]], dtype=object)) == (2.0, 3.0)


# -------------------------------------------------------------- proposals under a budget
@pytest.fixture(scope="module")
def planted_costs(make_planted):
    perf, meta = make_planted(n_tasks=40, n_configs=20, seed=3)
    rng = np.random.default_rng(1)
    predicted = pd.Series(np.exp(rng.uniform(np.log(0.5), np.log(20), 20)), index=perf.columns)
    return perf, meta, predicted


@pytest.mark.parametrize("starter_cls", [KNNWarmStarter, PortfolioWarmStarter])
def test_proposals_fit_the_budget_and_keep_the_order_of_those_that_fit(planted_costs,
                                                                       starter_cls):
    perf, meta, predicted = planted_costs
    starter = starter_cls().fit(perf.iloc[1:], meta.iloc[1:] if starter_cls is KNNWarmStarter
                                else None)
    q = meta.iloc[0] if starter_cls is KNNWarmStarter else None
    plain = starter.suggest(q, 20).config_ids
    for budget in (3.0, 10.0, 30.0):
        sugg = suggest_within_budget(starter, q, 20, predicted, budget)
        spent = predicted[sugg.config_ids].to_numpy()
        assert spent.sum() <= budget + 1e-9 and len(sugg.config_ids) >= 1
        # the rule: walk the plain order, skip what does not fit in the time left
        left, expect = budget, []
        for cid in plain:
            if predicted[cid] <= left:
                expect.append(cid)
                left -= predicted[cid]
        assert sugg.config_ids == expect
    # a budget everything fits in changes nothing
    assert suggest_within_budget(starter, q, 20, predicted, 1e9).config_ids == plain


def test_time_budget_none_is_exactly_the_plain_warm_start():
    db = warmnas.MetaDatabase.default()
    q = db.meta_features("autosklearn").iloc[3]
    for method in ("knn", "portfolio", "random"):
        ws = warm_start(meta_features=q if method == "knn" else None, method=method,
                        random_state=5, n_configs=8)
        starter = ws._starter
        sugg = starter.suggest(q if method == "knn" else None, 8, random_state=5)
        assert ws.config_ids == sugg.config_ids
        np.testing.assert_array_equal(ws.scores, sugg.scores)
        assert ws.time_budget is None
        frame = ws.to_frame()
        assert list(frame.columns[:5]) == ["rank", "config_id", "score", "stddev",
                                           "predicted_cost_s"]
        assert (frame["predicted_cost_s"] > 0).all()


def test_warm_start_with_budget_on_the_embedded_database_is_seeded_and_fits():
    db = warmnas.MetaDatabase.default()
    q = db.meta_features("autosklearn").iloc[10]
    a = warm_start(meta_features=q, method="random", time_budget=3.0, random_state=1)
    b = warm_start(meta_features=q, method="random", time_budget=3.0, random_state=1)
    assert a.config_ids == b.config_ids and a.time_budget == 3.0
    assert a.to_frame()["predicted_cost_s"].sum() <= 3.0 + 1e-9
    costs = a.all_predicted_costs()
    assert costs is not None and len(costs) == 219
    with pytest.raises(InputError, match=r"time_budget=1e-06 s is smaller than every "
                                         r"configuration's predicted runtime .* at least"):
        warm_start(meta_features=q, time_budget=1e-6)


def test_a_database_without_costs_is_a_clear_error():
    from warmnas.metadb import MetaDatabase
    from warmnas.space import ConfigSpace, Integer

    mem = MetaDatabase("sqlite://")
    space = ConfigSpace("tiny", [Integer("k", 1, 9)])
    rng = np.random.default_rng(0)
    rows = [{"task": f"t{i}", "config": {"k": k}, "value": float(rng.uniform())}
            for i in range(5) for k in range(1, 6)]
    mem.add_evaluations(rows, metric="balanced_error", direction="minimize", space=space,
                        create_tasks=True)
    ws = warm_start(db=mem, method="portfolio", n_configs=3)
    assert "predicted_cost_s" not in ws.to_frame().columns
    with pytest.raises(InputError, match=r"stores none for metric 'balanced_error'; drop "
                                         r"time_budget \(command line: --time-budget\)"):
        warm_start(db=mem, method="portfolio", n_configs=3, time_budget=10)
    with pytest.raises(InputError, match="stores no cost"):
        ws.optimize(lambda c: 0.5, budget=2, time_budget=10)


# ---------------------------------------------------------------------- EI per second
@pytest.fixture(scope="module")
def pmf_with_twins(make_planted):
    """A small fitted PMF and its planted matrix."""
    perf, meta = make_planted(n_tasks=40, n_configs=15, seed=5)
    starter = PMFWarmStarter(n_iter=30, n_latent=3).fit(perf.iloc[1:], meta.iloc[1:])
    return starter, perf, meta


def test_ei_per_second_picks_the_cheaper_of_two_equal_ei_configs(pmf_with_twins, monkeypatch):
    """Two configurations with the same posterior (so the same expected improvement): the
    cheaper one is proposed, whichever it is; without costs, the tie goes to the first."""
    starter, perf, meta = pmf_with_twins
    search = starter.start(meta.iloc[0], random_state=0)
    for cid in ("c3", "c5", "c9"):
        search.tell(cid, float(perf.loc[perf.index[0], cid]))
    first, twin = (int(p) for p in starter._config_positions(["c0", "c7"]))
    original = type(starter).posterior

    def twinned(self, ctx, observed, values):
        means, stds, lw = original(self, ctx, observed, values)
        means, stds = means.clone(), stds.clone()
        means[:, twin], stds[:, twin] = means[:, first], stds[:, first]
        return means, stds, lw

    monkeypatch.setattr(type(starter), "posterior", twinned)
    both = np.zeros(len(starter.config_ids_), dtype=bool)
    both[[first, twin]] = True
    args = (search.context, np.asarray(search.observed_positions),
            np.asarray(search.observed_values), np.zeros(0, dtype=np.intp), both,
            np.random.default_rng(0))
    log_cost = np.zeros(len(starter.config_ids_))
    assert starter._next_cost_aware(*args, log_cost) == first  # a tie: the lower position
    log_cost[first], log_cost[twin] = np.log(10.0), np.log(1.0)
    assert starter._next_cost_aware(*args, log_cost) == twin
    log_cost[first], log_cost[twin] = np.log(1.0), np.log(10.0)
    assert starter._next_cost_aware(*args, log_cost) == first
    # plain EI ignores the costs
    assert starter._next(*args) == first


def test_pmf_never_proposes_what_does_not_fit(pmf_with_twins):
    starter, perf, meta = pmf_with_twins
    rng = np.random.default_rng(2)
    predicted = pd.Series(np.exp(rng.uniform(np.log(0.1), np.log(5), perf.shape[1])),
                          index=perf.columns)
    timed = cost_aware_search(starter.start(meta.iloc[0], random_state=0), predicted, 6.0)
    seen = []
    while (cid := timed.ask()) is not None:
        assert predicted[cid] <= timed.remaining_s + 1e-9
        seen.append(cid)
        timed.tell(cid, float(perf.loc[perf.index[0], cid]), cost_s=float(predicted[cid]))
    assert seen and timed.spent_s <= 6.0 + 1e-9
    assert isinstance(timed, CostAwareSearch) and len(timed.history) == len(seen)


# ------------------------------------------------------------- optimize(time_budget=...)
def test_optimize_stops_when_the_time_is_spent_and_is_reproducible():
    db = warmnas.MetaDatabase.default()
    q = db.meta_features("autosklearn").iloc[4]
    ws = warm_start(meta_features=q, n_configs=5)

    def objective(config):  # a reported cost of 1 s per run
        return {"value": 0.3, "cost_s": 1.0}

    h1 = ws.optimize(objective, time_budget=3.5, random_state=0)
    h2 = ws.optimize(objective, time_budget=3.5, random_state=0)
    assert h1["config_id"].tolist() == h2["config_id"].tolist()
    assert list(h1["cost_s"]) == [1.0] * len(h1)
    assert 1 <= len(h1) <= 4 and h1["cumulative_cost_s"].iloc[-1] <= 4.0
    # the plain loop is unchanged by the time-budget code: same order as before, and a dict
    # result's value is used
    plain = ws.optimize(lambda c: 0.3, budget=4, random_state=0)
    assert plain["config_id"].tolist() == ws.config_ids[:4]
    assert "cost_s" not in plain.columns
    # the wall clock when the objective reports no cost
    wall = ws.optimize(lambda c: 0.3, budget=3, time_budget=1e4)
    assert len(wall) == 3 and (wall["cost_s"] >= 0).all()
    with pytest.raises(InputError, match="budget .* is required without time_budget"):
        ws.optimize(lambda c: 0.3)
    with pytest.raises(InputError, match="cost_s must be a finite number"):
        ws.optimize(lambda c: {"value": 0.3, "cost_s": -1.0}, time_budget=10)


# ----------------------------------------------------------------------- command line
def test_cli_time_budget(capsys, tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(60, 4)), columns=list("abcd"))
    frame["class"] = np.where(frame["a"] > 0, "x", "y")
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    assert main(["warm-start", str(path), "--target", "class", "--method", "portfolio",
                 "--time-budget", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "predicted_cost_s" in out and "time budget 0.5 s:" in out
    for bad in ("-1", "nan", "inf", "soon"):
        with pytest.raises(SystemExit):
            main(["warm-start", str(path), "--target", "class", "--time-budget", bad])
        assert "argument --time-budget: expected a" in capsys.readouterr().err
    assert main(["warm-start", str(path), "--target", "class", "--method", "portfolio",
                 "--time-budget", "1e-7"]) == 2
    assert "is smaller than every configuration's predicted runtime" in capsys.readouterr().err


def test_cli_fit_probability(capsys, tmp_path):
    """--fit-probability reaches warm_start (the same proposals as the library call with that
    fit_probability, other ones than with another P), is checked naming the option, and needs
    --time-budget."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(60, 4)), columns=list("abcd"))
    frame["class"] = np.where(frame["a"] > 0, "x", "y")
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    base = ["warm-start", str(path), "--target", "class", "--method", "portfolio",
            "--n-configs", "200", "--time-budget", "2", "--json"]
    ids = {}
    for p in ("0.5", "0.99"):
        assert main([*base, "--fit-probability", p]) == 0
        ids[p] = [c["config_id"] for c in json.loads(capsys.readouterr().out)["configs"]]
        lib = warm_start(pd.read_csv(path), target="class", method="portfolio", n_configs=200,
                         time_budget=2, fit_probability=float(p))
        assert ids[p] == lib.config_ids
    assert ids["0.5"] != ids["0.99"]
    assert main([*base, "--fit-probability", "1.5"]) == 2
    assert "--fit-probability must be a probability" in capsys.readouterr().err
    assert main(["warm-start", str(path), "--target", "class", "--fit-probability", "0.9"]) == 2
    assert "--fit-probability applies with --time-budget only" in capsys.readouterr().err


# ------------------------------------------ planning with an upper quantile of the runtime
def noisy_law(noise_of_c0: float, n_tasks: int = 1000, seed: int = 0):
    """``runtime_law`` runtimes where only configuration c0 has a log-normal error of known
    spread ``noise_of_c0`` around the size law (the others follow it exactly)."""
    cost, sizes, _, _ = runtime_law(n_tasks=n_tasks, n_configs=6, seed=seed)
    rng = np.random.default_rng(seed + 1)
    cost["c0"] = cost["c0"] * np.exp(noise_of_c0 * rng.normal(size=n_tasks))
    return cost, sizes


def test_error_quantile_matches_a_known_error_distribution():
    cost, sizes = noisy_law(0.5)
    pred = RuntimePredictor(method="size", ridge=0.0).fit(cost, sizes)
    q90 = pred.log_error_quantile(0.9, sizes.iloc[0].to_numpy())
    # c0's errors are N(0, 0.5^2) (plus the fit's own small error): the 0.9 quantile is
    # 1.2816 * 0.5 = 0.64; the exact configurations have none
    assert q90[0] == pytest.approx(1.2816 * 0.5, abs=0.1)
    np.testing.assert_allclose(q90[1:], 0.0, atol=1e-6)
    assert pred.log_error_quantile(0.5, sizes.iloc[0].to_numpy())[0] == pytest.approx(0, abs=0.1)
    # pooled: one value for every configuration (5 of 6 exact: the 0.9 quantile is small)
    pooled = pred.log_error_quantile(0.9, sizes.iloc[0].to_numpy(), pooled=True)
    assert np.ptp(pooled) == 0 and 0 <= pooled[0] < q90[0]


@pytest.mark.parametrize("noise, kept", [(0.0, True), (0.5, False)])
def test_a_config_predicted_at_90_percent_of_the_budget_is_kept_only_without_error(
        make_planted, noise, kept):
    """Configuration c0 predicted at 0.9 T: with no prediction error it fits; with a wide one
    (0.9 quantile e^0.64 = 1.9 times the prediction) it does not fit with probability 0.9."""
    cost, sizes = noisy_law(noise)
    pred = RuntimePredictor(method="size", ridge=0.0).fit(cost, sizes)
    margin = pred.log_error_quantile(0.9, sizes.iloc[0].to_numpy())
    perf, _ = make_planted(n_tasks=20, n_configs=6, seed=0)
    starter = PortfolioWarmStarter().fit(perf)
    T = 100.0
    log_cost = np.log(np.array([0.9, 0.1, 0.1, 0.1, 0.1, 0.1]) * T)
    timed = CostAwareSearch(starter.start(None), log_cost, T, log_margin=margin)
    assert bool(timed.fits()[0]) is kept
    # at the point prediction it always fits
    assert CostAwareSearch(starter.start(None), log_cost, T).fits()[0]


def test_admitted_configurations_grow_with_the_budget(make_planted):
    perf, _ = make_planted(n_tasks=20, n_configs=30, seed=1)
    starter = PortfolioWarmStarter().fit(perf)
    rng = np.random.default_rng(0)
    log_cost = rng.uniform(np.log(0.01), np.log(500), 30)
    margin = rng.uniform(0, 1.5, 30)
    previous = np.zeros(30, dtype=bool)
    sizes = []
    for T in (0.1, 1, 3, 10, 30, 100, 300, 1000, 1e4):
        admitted = CostAwareSearch(starter.start(None), log_cost, T, log_margin=margin).fits()
        assert (admitted >= previous).all()  # a superset of what a smaller budget admits
        np.testing.assert_array_equal(admitted, np.exp(log_cost + margin) <= T * (1 + 1e-9))
        previous = admitted
        sizes.append(int(admitted.sum()))
    assert sizes[0] < sizes[-1] == 30


def test_error_quantiles_and_the_search_are_reproducible(pmf_with_twins):
    cost, sizes, _, feats = runtime_law(n_tasks=50, noise=0.3)
    s, q = sizes.iloc[0].to_numpy(), feats.iloc[0]
    a = RuntimePredictor().fit(cost, sizes, feats).log_error_quantile(0.9, s, q)
    b = RuntimePredictor().fit(cost, sizes, feats).log_error_quantile(0.9, s, q)
    np.testing.assert_array_equal(a, b)
    assert (a > 0).all()
    starter, perf, meta = pmf_with_twins
    rng = np.random.default_rng(4)
    point = pd.Series(np.exp(rng.uniform(np.log(0.1), np.log(5), perf.shape[1])),
                      index=perf.columns)
    upper = point * np.exp(rng.uniform(0, 1, perf.shape[1]))
    runs = []
    for _ in range(2):
        timed = cost_aware_search(starter.start(meta.iloc[0], random_state=3), point, 8.0,
                                  upper_cost_s=upper)
        seen = []
        while (cid := timed.ask()) is not None:
            assert upper[cid] <= timed.remaining_s + 1e-9
            seen.append(cid)
            timed.tell(cid, float(perf.loc[perf.index[0], cid]), cost_s=float(point[cid]))
        runs.append(seen)
    assert runs[0] == runs[1] and runs[0]


def test_bad_settings_of_the_quantile_rule_are_named():
    cost, sizes = noisy_law(0.2, n_tasks=30)
    pred = RuntimePredictor(method="size").fit(cost, sizes)
    for bad in (0, 1, 1.5, -0.1, math.nan, "0.9", True, None):
        with pytest.raises(InputError, match="fit_probability must be a probability"):
            pred.log_error_quantile(bad, sizes.iloc[0].to_numpy())  # type: ignore[arg-type]
    for bad_folds in (1, 0, 2.5, True, "10"):
        with pytest.raises(InputError, match="cv_folds must be an int >= 2"):
            RuntimePredictor(cv_folds=bad_folds).fit(cost, sizes)  # type: ignore[arg-type]
    perf = pd.DataFrame(np.random.default_rng(0).uniform(size=(5, 6)),
                        index=[f"t{i}" for i in range(5)], columns=cost.columns)
    starter = PortfolioWarmStarter().fit(perf)
    for bad_margin in (np.zeros(3), np.full(6, np.nan), math.inf):
        with pytest.raises(InputError, match="log_margin must be None, a finite number or one"):
            CostAwareSearch(starter.start(None), np.zeros(6), 10.0, log_margin=bad_margin)
    with pytest.raises(InputError, match=r"upper_cost_s: no predicted cost for configurations "
                                         r"\['c5'\]"):
        cost_aware_search(starter.start(None), pd.Series(1.0, index=cost.columns), 10.0,
                          upper_cost_s=pd.Series(1.0, index=cost.columns[:5]))


def test_warm_start_plans_with_the_upper_quantile_by_default():
    import inspect

    from warmnas.warmstart.cost import DEFAULT_FIT_PROBABILITY

    for fn in (warm_start, warmnas.WarmStart.optimize):
        default = inspect.signature(fn).parameters["fit_probability"].default
        assert default == DEFAULT_FIT_PROBABILITY
    db = warmnas.MetaDatabase.default()
    q = db.meta_features("autosklearn").iloc[12]
    T = 30.0
    ws = warm_start(meta_features=q, method="knn", time_budget=T, n_configs=40)
    point = ws.all_predicted_costs()
    assert ws._cost_source is not None
    upper = ws._cost_source(fit_probability=DEFAULT_FIT_PROBABILITY)
    assert (upper >= point * 0.999).all() and (upper > point * 1.5).any()
    left = T
    for cid in ws.config_ids:  # each proposal fits the time left at its upper quantile
        assert upper[cid] <= left * (1 + 1e-9)
        left -= point[cid]
    at_point = warm_start(meta_features=q, method="knn", time_budget=T, n_configs=40,
                          fit_probability=None)
    left = T
    for cid in at_point.config_ids:
        assert point[cid] <= left * (1 + 1e-9)
        left -= point[cid]
    assert any(upper[c] > T - point[at_point.config_ids[:i]].sum()
               for i, c in enumerate(at_point.config_ids))  # the rules differ here
    for bad in (0, 1.0, "0.9", math.nan):
        with pytest.raises(InputError, match="fit_probability must be a probability"):
            warm_start(meta_features=q, method="knn", time_budget=T, fit_probability=bad)
        with pytest.raises(InputError, match="fit_probability must be a probability"):
            ws.optimize(lambda c: 0.3, time_budget=T, fit_probability=bad)
    # without a time budget it plays no part: the plain proposals, unchanged
    assert (warm_start(meta_features=q, method="knn", fit_probability=0.5).config_ids
            == warm_start(meta_features=q, method="knn").config_ids)
