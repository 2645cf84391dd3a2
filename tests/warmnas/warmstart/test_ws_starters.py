"""kNN, portfolio, random and PMF warm starters: behaviour on known answers, errors, seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from warmnas.errors import InputError, InputTypeError, NotFittedError, UnknownIdError
from warmnas.warmstart import (
    KNNWarmStarter,
    PMFWarmStarter,
    PortfolioWarmStarter,
    RandomSearch,
    make_starter,
)
from warmnas.warmstart.knn import MetaFeatureScaler, interleaved_order
from warmnas.warmstart.pmf import GPLVM
from warmnas.warmstart.portfolio import greedy_portfolio, normalized_regret_matrix

FAST_PMF = dict(n_latent=3, n_iter=150, lr=0.05)


def run_curve(starter, row: pd.Series, query, budget: int, seed: int = 0) -> np.ndarray:
    search = starter.start(query, random_state=seed)
    best, out = np.inf, []
    for _ in range(budget):
        cid = search.ask()
        v = float(row[cid])
        search.tell(cid, v)
        best = min(best, v)
        out.append(best)
    return np.asarray(out)


# ----------------------------------------------------------------------------------------- kNN
def test_knn_proposes_the_true_neighbours_best_config_first(make_planted):
    perf, meta = make_planted(n_tasks=30, n_configs=25, seed=3)
    rng = np.random.default_rng(0)
    train = perf.iloc[:25]
    for _ in range(25, 30):
        # the new task sits (almost) on top of database task j in meta-feature space
        j = int(rng.integers(25))
        query = meta.iloc[j] + 1e-4
        knn = KNNWarmStarter().fit(train, meta.iloc[:25])
        s = knn.suggest(query, n_configs=3)
        assert s.neighbors.index[0] == train.index[j]
        assert s.config_ids[0] == train.iloc[j].idxmin()
        # then the best config of the second nearest task (unless it is the same one)
        second = train.loc[s.neighbors.index[1]].idxmin()
        if second != s.config_ids[0]:
            assert s.config_ids[1] == second


def test_interleaved_order_deduplicates_and_goes_round_by_round():
    Y = np.array([[0.1, 0.2, 0.3, 0.4],   # nearest: best c0, then c1
                  [0.1, 0.3, 0.2, 0.4],   # its best c0 is taken -> skipped; round 2 gives c2
                  [0.4, 0.3, 0.2, 0.1]])  # best c3
    assert interleaved_order(Y).tolist() == [0, 3, 1, 2]
    Y = np.array([[np.nan, 0.2, 0.1, np.nan]])  # missing entries come last
    assert interleaved_order(Y).tolist() == [2, 1, 0, 3]


def test_knn_mean_strategy_and_l2_metric_rank_by_neighbours(make_planted):
    perf, meta = make_planted(n_tasks=30, n_configs=20, seed=1)
    for kwargs in (dict(strategy="mean", n_neighbors=1), dict(metric="l2", scaling="standard")):
        knn = KNNWarmStarter(**kwargs).fit(perf.iloc[1:], meta.iloc[1:])
        s = knn.suggest(meta.iloc[1] + 1e-6, n_configs=5)
        assert s.neighbors.index[0] == perf.index[1]
        assert s.config_ids[0] == perf.iloc[1].idxmin()


def test_scaler_ignores_constant_features_and_imputes():
    feats = pd.DataFrame({"a": [0.0, 5.0, 10.0], "const": [1.0, 1.0, 1.0],
                          "gap": [1.0, np.nan, 3.0]})
    sc = MetaFeatureScaler().fit(feats)
    X = sc.transform(feats)
    assert X[:, 0].tolist() == [0.0, 0.5, 1.0]
    assert (X[:, 1] == 0).all()  # constant over the database: never changes a distance
    assert X[1, 2] == 0.5  # imputed with the database median
    q = sc.transform(pd.Series({"const": 1e6, "a": 20.0}))
    assert q.tolist() == [0.0, 2.0]  # in the order given


def test_knn_bad_input_messages(planted_data):
    perf, meta = planted_data
    knn = KNNWarmStarter().fit(perf, meta)
    with pytest.raises(UnknownIdError, match="does not know: \\['nope'\\]"):
        knn.suggest({"f0": 1.0, "nope": 2.0})
    with pytest.raises(InputError, match="NaN values for \\['f1'\\]"):
        knn.suggest({"f0": 1.0, "f1": float("nan")})
    ok = knn.suggest({"f0": 1.0, "f1": float("nan")}, nan_policy="ignore")
    assert len(ok.config_ids) == 10
    with pytest.raises(InputError, match="infinite"):
        knn.suggest({"f0": float("inf")})
    with pytest.raises(InputTypeError, match="numbers only"):
        knn.suggest({"f0": "big"})
    with pytest.raises(InputError, match="needs the new task's meta-features"):
        knn.suggest(None)
    with pytest.raises(InputError, match="needs meta_features"):
        KNNWarmStarter().fit(perf)
    with pytest.raises(InputError, match="shares no id"):
        KNNWarmStarter().fit(perf, meta.set_axis([f"x{i}" for i in range(len(meta))]))
    with pytest.raises(InputError, match="metric must be 'l1' or 'l2'"):
        KNNWarmStarter(metric="cosine").fit(perf, meta)


# ---------------------------------------------------------------------- matrices and searches
def test_performance_matrix_errors():
    good = pd.DataFrame([[0.1, 0.2]], index=[1], columns=["a", "b"])
    with pytest.raises(InputTypeError, match="pandas DataFrame"):
        RandomSearch().fit(good.to_numpy())
    with pytest.raises(InputError, match="is empty"):
        RandomSearch().fit(good.iloc[:0])
    with pytest.raises(InputError, match="infinite values"):
        RandomSearch().fit(good.replace(0.1, np.inf))
    with pytest.raises(InputTypeError, match="numbers only"):
        RandomSearch().fit(good.astype(object).assign(a="x"))
    with pytest.raises(InputError, match="duplicate task ids"):
        RandomSearch().fit(pd.concat([good, good]))
    with pytest.raises(InputError, match="no observed value"):
        RandomSearch().fit(pd.DataFrame([[0.1, 0.2], [np.nan, np.nan]], columns=["a", "b"]))
    with pytest.raises(InputError, match="direction must be"):
        RandomSearch().fit(good, direction="up")
    with pytest.raises(NotFittedError, match="not fitted"):
        RandomSearch().start()
    with pytest.raises(InputError, match="method must be one of"):
        make_starter("bohb")
    assert make_starter("portfolio-rank").strategy == "rank"
    assert make_starter("portfolio-rank", strategy="greedy").strategy == "greedy"


def test_non_numeric_cell_is_located(planted_data):
    perf, meta = planted_data
    bad = perf.astype({"c3": object})
    bad.loc["t7", "c3"] = "n/a"
    with pytest.raises(InputTypeError, match="columns \\['c3'\\] are not numeric.*task 't7' "
                                             "holds 'n/a'"):
        KNNWarmStarter().fit(bad, meta)


def test_duplicate_column_names_are_named(planted_data):
    perf, meta = planted_data
    with pytest.raises(InputError, match="performance has duplicate configuration ids "
                                         "\\['c0'\\]"):
        KNNWarmStarter().fit(perf.rename(columns={"c1": "c0"}), meta)
    with pytest.raises(InputError, match="meta_features has duplicate meta-feature ids "
                                         "\\['f0'\\]"):
        KNNWarmStarter().fit(perf, meta.rename(columns={"f1": "f0"}))


def test_search_ask_tell_contract(planted_data):
    perf, _ = planted_data
    st = PortfolioWarmStarter().fit(perf)
    s = st.start(random_state=0)
    a, b = s.ask(), s.ask()  # two pending proposals are distinct
    assert a != b
    s.tell(b, 0.5)
    s.tell("c7", float("nan"))  # evaluated elsewhere, failed: counts as evaluated
    assert s.ask() not in {a, b, "c7"}
    with pytest.raises(InputError, match="already told"):
        s.tell(b, 0.1)
    with pytest.raises(UnknownIdError, match="unknown configuration ids"):
        s.tell("zz", 0.1)
    with pytest.raises(InputError, match="must be finite"):
        s.tell(a, float("inf"))
    with pytest.raises(InputError, match="must be a number"):
        s.tell(a, "good")
    assert s.best == (b, 0.5)
    hist = s.history
    assert hist["config_id"].tolist() == [b, "c7"]
    with pytest.raises(InputError, match="budget must be a positive int"):
        s.run(lambda c: 0.0, 0)
    small = st.start(candidates=["c1", "c2"])
    small.run(lambda c: 1.0, budget=5)  # stops when the candidates are exhausted
    assert small.n_told == 2
    with pytest.raises(InputError, match="no configuration left"):
        small.ask()
    with pytest.raises(UnknownIdError, match="candidates has configuration ids"):
        st.start(candidates=["c1", "nope"])
    # one id as a plain string is that id (it was read letter by letter: unknown ids 'c', '1')
    one = st.start(candidates="c1")
    assert one.ask() == "c1" and not one.available.any()


@pytest.mark.parametrize("returned, match", [
    (None, "objective returned None for configuration 'c.*'; return a number"),
    ("0.3", "objective returned the str '0.3'"),
    (np.array([0.3, 0.4]), "objective returned .*ndarray"),
    (True, "objective returned the bool True"),
    (float("inf"), "objective returned inf for configuration 'c.*'.*NaN for a failed run"),
])
def test_search_run_rejects_objective_values_that_are_not_numbers(planted_data, returned,
                                                                   match):
    perf, _ = planted_data
    s = PortfolioWarmStarter().fit(perf).start(random_state=0)
    calls = []

    def objective(cid):
        calls.append(cid)
        return 0.25 if len(calls) < 3 else returned

    with pytest.raises(InputError, match=match):
        s.run(objective, budget=5)
    # the two results before the bad one are kept; the bad one was not told
    assert s.history["config_id"].tolist() == calls[:2]
    assert s.history["value"].tolist() == [0.25, 0.25]


def test_search_run_keeps_results_when_the_objective_raises_or_is_interrupted(planted_data):
    perf, _ = planted_data
    for exc in (RuntimeError("cluster down"), KeyboardInterrupt()):
        s = PortfolioWarmStarter().fit(perf).start(random_state=0)
        seen = []

        def objective(cid, exc=exc, seen=seen):
            if len(seen) == 3:
                raise exc
            seen.append(cid)
            return 0.1 * len(seen)

        with pytest.raises(type(exc)):
            s.run(objective, budget=10)
        assert s.history["config_id"].tolist() == seen
        # numpy scalars and 0-d arrays are numbers
        s.run(lambda cid: np.float32(0.5), budget=1)
        s.run(lambda cid: np.array(0.05), budget=1)
        assert s.n_told == 5 and s.best[1] == pytest.approx(0.05)


def test_suggest_n_configs_and_observed(planted_data):
    perf, meta = planted_data
    knn = KNNWarmStarter().fit(perf, meta)
    q = meta.iloc[0]
    with pytest.raises(InputError, match="between 1 and 40"):
        knn.suggest(q, n_configs=41)
    with pytest.raises(InputError, match="between 1 and 38"):
        knn.suggest(q, n_configs=39, observed={"c0": 0.1, "c1": 0.2})
    s = knn.suggest(q, n_configs=5, observed={"c0": 0.1})
    assert "c0" not in s.config_ids and len(s.config_ids) == 5
    frame = s.to_frame()
    assert frame["rank"].tolist() == [1, 2, 3, 4, 5]
    # predicted score = the config's mean over the 10 nearest tasks
    rows = perf.loc[s.neighbors.index[:10], s.config_ids[0]]
    assert frame["score"].iloc[0] == pytest.approx(rows.mean())


def test_maximize_direction_is_handled(planted_data):
    perf, meta = planted_data
    up = -perf  # accuracies: higher is better
    for st in (KNNWarmStarter(), PortfolioWarmStarter(),
               PMFWarmStarter(**FAST_PMF, n_init=1)):
        a = st.fit(perf, meta).suggest(meta.iloc[3], 4, random_state=0).config_ids
        b = st.fit(up, meta, direction="maximize").suggest(meta.iloc[3], 4, random_state=0)
        assert a == b.config_ids
        assert b.scores[0] == pytest.approx(-st.fit(perf, meta).suggest(
            meta.iloc[3], 4, random_state=0).scores[0], rel=1e-6)


# --------------------------------------------------------------------------- portfolio, random
def _greedy_reference(Z):
    """The plain greedy loop (every step scans every column), for comparison."""
    n_tasks, n_configs = Z.shape
    col_mean, best = Z.mean(axis=0), np.full(n_tasks, np.inf)
    chosen, order = np.zeros(n_configs, dtype=bool), []
    for _ in range(n_configs):
        gain = np.minimum(best[:, None], Z).mean(axis=0)
        gain[chosen] = np.inf
        cands = np.flatnonzero(gain <= gain.min() + 1e-12)
        pick = int(cands[np.argmin(col_mean[cands])])
        order.append(pick)
        chosen[pick] = True
        best = np.minimum(best, Z[:, pick])
    return order


def test_greedy_portfolio_tail_after_every_task_is_covered():
    # c3, c1, c0 cover both tasks' best; the rest follows by mean value: c4 (0.4) before c2 (0.5)
    Z = np.array([[0.0, 1.0, 0.5, 0.2, 0.6],
                  [1.0, 0.0, 0.5, 0.3, 0.2]])
    assert greedy_portfolio(Z).tolist() == [3, 1, 0, 4, 2]
    rng = np.random.default_rng(0)
    for shape in [(3, 300), (40, 60), (5, 5)]:
        for decimals in (None, 1):
            Z = rng.random(shape)
            if decimals is not None:
                Z = np.round(Z, decimals)  # many ties
            assert greedy_portfolio(Z).tolist() == _greedy_reference(Z)


def test_greedy_portfolio_known_answer():
    # c0 is best on average; then c1 helps most (task 1 gains 0.4), then c2 (task 2 gains 0.2)
    Z = np.array([[0.0, 1.0, 0.5],
                  [0.4, 0.0, 1.0],
                  [0.2, 1.0, 0.0]])
    assert greedy_portfolio(Z).tolist() == [0, 1, 2]
    # ties in portfolio score go to the lower mean value: c2 (mean 0.5) before c1 (0.67)
    Z[1, 0] = 0.2
    assert greedy_portfolio(Z).tolist() == [0, 2, 1]
    Y = np.array([[0.1, 0.3, np.nan], [5.0, 1.0, 3.0]])
    Zn = normalized_regret_matrix(Y)
    assert Zn.tolist() == [[0.0, 1.0, 1.0], [1.0, 0.0, 0.5]]
    rank = PortfolioWarmStarter(strategy="rank").fit(
        pd.DataFrame(Y, columns=["a", "b", "c"]))
    # ranks (missing = last): a (1, 3), b (2, 1), c (3, 2) -> mean 2, 1.5, 2.5
    assert rank.order_.tolist() == ["b", "a", "c"]


def test_random_search_is_seeded_and_without_replacement(planted_data):
    perf, _ = planted_data
    rs = RandomSearch().fit(perf)
    a = rs.suggest(n_configs=40, random_state=7).config_ids
    b = rs.suggest(n_configs=40, random_state=7).config_ids
    c = rs.suggest(n_configs=40, random_state=8).config_ids
    assert a == b and a != c
    assert sorted(a) == sorted(perf.columns)


# -------------------------------------------------------------------------------------- PMF
def test_pmf_recovers_planted_low_rank_structure_better_than_random(make_planted):
    perf, meta = make_planted(n_tasks=70, n_configs=40, rank=3, seed=11)
    train, test = perf.iloc[:60], perf.iloc[60:]
    pmf = PMFWarmStarter(**FAST_PMF).fit(train, meta.iloc[:60])
    rs = RandomSearch().fit(train)
    knn = KNNWarmStarter().fit(train, meta.iloc[:60])
    reg = {"pmf": [], "random": [], "knn": []}
    for task in test.index:
        row = test.loc[task]
        for name, st in (("pmf", pmf), ("random", rs), ("knn", knn)):
            curve = run_curve(st, row, meta.loc[task], budget=8, seed=1)
            reg[name].append(curve - row.min())
    mean = {k: np.mean(v, axis=0) for k, v in reg.items()}
    # after the 3 kNN seeds PMF's posterior does the work: far below random, at least kNN
    assert mean["pmf"][-1] < 0.25 * mean["random"][-1]
    assert mean["pmf"][-1] <= mean["knn"][-1] + 1e-9
    # the learnt covariance explains the residuals: low noise relative to the signal
    assert pmf.noise_ < 0.2 < pmf.outputscale_


def test_pmf_without_meta_features_uses_the_portfolio_and_global_prior(planted_data):
    perf, meta = planted_data
    pmf = PMFWarmStarter(**FAST_PMF, prior_mean="global").fit(perf.iloc[:50])
    s = pmf.suggest(None, n_configs=6)
    port = PortfolioWarmStarter().fit(perf.iloc[:50]).order_[:pmf.n_init].tolist()
    assert s.config_ids[:pmf.n_init] == port
    assert len(set(s.config_ids)) == 6
    with pytest.raises(InputError, match="fitted without meta-features"):
        pmf.suggest(meta.iloc[0])


def test_pmf_posterior_interpolates_observations(planted_data):
    perf, meta = planted_data
    pmf = PMFWarmStarter(**FAST_PMF).fit(perf.iloc[1:], meta.iloc[1:])
    row = perf.iloc[0]
    search = pmf.start(meta.iloc[0])
    obs = np.array([0, 5, 9, 17, 22])  # rank 3 + offset + scale: 5 results pin the row
    mean, std = pmf._predict(search.context, obs, row.to_numpy()[obs])
    assert np.allclose(mean[obs], row.to_numpy()[obs], atol=1e-3)
    assert (std[obs] < 1e-2).all()
    others = np.setdiff1d(np.arange(40), obs)
    assert (std[others] > std[obs].max()).all()
    # the posterior ranks the unseen configurations far better than chance
    rho = pd.Series(mean[others]).corr(pd.Series(row.to_numpy()[others]), method="spearman")
    assert rho > 0.9


def test_pmf_same_seed_same_suggestions_and_pending_are_distinct(oboe_slice):
    perf, feats = oboe_slice
    kw = dict(n_latent=5, n_iter=60)
    a = PMFWarmStarter(**kw).fit(perf.iloc[1:], feats.iloc[1:])
    b = PMFWarmStarter(**kw).fit(perf.iloc[1:], feats.iloc[1:])
    sa = a.suggest(feats.iloc[0], 8, observed={perf.columns[3]: 0.2})
    sb = b.suggest(feats.iloc[0], 8, observed={perf.columns[3]: 0.2})
    assert sa.config_ids == sb.config_ids
    np.testing.assert_allclose(sa.scores, sb.scores)
    assert len(set(sa.config_ids)) == 8 and perf.columns[3] not in sa.config_ids
    np.testing.assert_allclose(a.latent_, b.latent_)


def test_masked_likelihood_equals_dense_likelihood():
    """The missing-entry path (identity padding) gives exactly the dense marginal likelihood."""
    rng = np.random.default_rng(0)
    R = torch.as_tensor(rng.normal(size=(6, 5)))
    model = GPLVM(torch.as_tensor(rng.normal(size=(5, 2))))
    with torch.no_grad():
        dense = model.negative_log_likelihood(R.T @ R, 6, None, None, 1.0)
        masked = model.negative_log_likelihood(None, 0, R, torch.ones_like(R, dtype=torch.bool),
                                               1.0)
        assert float(dense) == pytest.approx(float(masked), rel=1e-10)
        # one entry missing == the marginal of the 4 observed entries of that row
        mask = torch.ones_like(R, dtype=torch.bool)
        mask[0, 2] = False
        part = model.negative_log_likelihood(None, 0, R[:1] * mask[:1], mask[:1], 1.0)
        keep = [0, 1, 3, 4]
        C = model.covariance()[keep][:, keep]
        r = R[0, keep]
        ref = 0.5 * torch.logdet(C) + 0.5 * r @ torch.linalg.solve(C, r)
        prior = 0.5 * (model.latent**2).sum()
        assert float(part - prior) == pytest.approx(float(ref), rel=1e-10)


def test_pmf_fits_a_matrix_with_missing_entries(planted_data):
    perf, meta = planted_data
    holes = perf.copy()
    rng = np.random.default_rng(0)
    holes = holes.mask(rng.random(holes.shape) < 0.3)
    pmf = PMFWarmStarter(**FAST_PMF, batch_size=16).fit(holes.iloc[1:], meta.iloc[1:])
    assert np.isfinite(pmf.nll_)
    curve = run_curve(pmf, perf.iloc[0], meta.iloc[0], budget=8)
    assert curve[-1] - perf.iloc[0].min() < 0.5 * (perf.iloc[0].mean() - perf.iloc[0].min())


def test_pmf_parameter_errors(planted_data):
    perf, meta = planted_data
    with pytest.raises(InputError, match="n_latent must be an int >= 1"):
        PMFWarmStarter(n_latent=0).fit(perf, meta)
    with pytest.raises(InputError, match="prior_mean must be"):
        PMFWarmStarter(prior_mean="flat").fit(perf, meta)
    with pytest.raises(InputError, match="lr must be a positive number"):
        PMFWarmStarter(lr=float("nan")).fit(perf, meta)
