"""Online calibration of the runtime predictions to the user's machine: a per-search machine
factor learnt from the measured costs (``CostAwareSearch(calibrate=...)``,
``WarmStart.optimize(..., calibrate=...)``), its visibility in the history, and bad costs."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

from warmnas.api import warm_start
from warmnas.cli import main
from warmnas.errors import InputError
from warmnas.warmstart import PMFWarmStarter, PortfolioWarmStarter
from warmnas.warmstart.cost import (
    PRIOR_LOG_SD,
    CostAwareSearch,
    RuntimePredictor,
    check_calibrate,
    cost_aware_search,
)

SIGMA2 = 0.2  # the predictor's log-error variance in these tests (Oboe's size+knn: 0.215)


@pytest.fixture(scope="module")
def portfolio(make_planted):
    perf, _ = make_planted(n_tasks=20, n_configs=40, seed=2)
    return PortfolioWarmStarter().fit(perf), perf


def posterior(ratios: list[float], s0: float = PRIOR_LOG_SD, s2: float = SIGMA2):
    """Conjugate normal posterior of the log factor, written out independently of the code."""
    precision = 1 / s0**2 + len(ratios) / s2
    return sum(ratios) / s2 / precision, 1 / precision


def test_prior_is_the_stated_one():
    # a user's machine within a factor 4 of Oboe's, either way, with prior probability 0.95
    assert PRIOR_LOG_SD == pytest.approx(math.log(4) / NormalDist().inv_cdf(0.975))


def test_a_machine_5x_slower_is_learnt_and_what_no_longer_fits_is_not_proposed(portfolio):
    starter, _ = portfolio
    rng = np.random.default_rng(0)
    log_pred = rng.uniform(np.log(0.05), np.log(2.0), 40)
    T = 40.0
    timed = CostAwareSearch(starter.start(None), log_pred, T, calibrate="posterior",
                            log_error_var=SIGMA2)
    assert timed.machine_factor == 1.0 and timed.log_factor_var == pytest.approx(PRIOR_LOG_SD**2)
    seen, ratios = [], []
    while (cid := timed.ask()) is not None:
        pos = int(starter._config_positions([cid])[0])
        true = 5.0 * math.exp(log_pred[pos])
        if len(seen) >= 3:  # once the factor is learnt, every proposal fits at its true cost
            assert true <= timed.remaining_s * 1.05
        timed.tell(cid, 0.1, cost_s=true)
        ratios.append(math.log(5.0))
        seen.append(cid)
        mean, var = posterior(ratios)
        assert timed.log_factor_mean == pytest.approx(mean, rel=1e-9)
        assert timed.log_factor_var == pytest.approx(var, rel=1e-9)
    assert timed.machine_factor == pytest.approx(5.0, rel=0.05)
    assert timed.spent_s <= T
    # without calibration the same search runs over the budget: it plans at 1x
    blind = CostAwareSearch(starter.start(None), log_pred, T, calibrate=False)
    spent = 0.0
    while (cid := blind.ask()) is not None:
        c = 5.0 * math.exp(log_pred[int(starter._config_positions([cid])[0])])
        blind.tell(cid, 0.1, cost_s=c)
        spent += c
    assert spent > T and blind.machine_factor == 1.0
    # the history shows the estimate after each evaluation, with its 95 % interval
    hist = timed.history
    assert hist["machine_factor"].iloc[-1] == pytest.approx(timed.machine_factor)
    assert (hist["machine_factor_low"] < hist["machine_factor"]).all()
    assert (hist["machine_factor"] < hist["machine_factor_high"]).all()
    assert hist["machine_factor_low"].iloc[-1] < 5.0 < hist["machine_factor_high"].iloc[-1]
    width = hist["machine_factor_high"] / hist["machine_factor_low"]
    assert (np.diff(width) < 0).all()  # every measurement narrows it
    assert hist["machine_factor"].iloc[0] < hist["machine_factor"].iloc[-1]


def test_the_plan_is_widened_by_the_factor_s_uncertainty(portfolio):
    """Before any measurement the factor is uncertain (prior sd): a configuration whose upper
    quantile just fits does not fit any more; once costs at 1x are measured it fits again."""
    starter, _ = portfolio
    z = NormalDist().inv_cdf(0.95)
    widen0 = z * (math.sqrt(SIGMA2 + PRIOR_LOG_SD**2) - math.sqrt(SIGMA2))
    log_pred = np.full(40, np.log(0.01))
    T = 100.0
    log_pred[0] = np.log(T / math.exp(0.5 * widen0))  # fits only without the widening
    kw = dict(log_margin=0.0, fit_probability=0.95, log_error_var=SIGMA2)
    assert CostAwareSearch(starter.start(None), log_pred, T, calibrate="mean", **kw).fits()[0]
    timed = CostAwareSearch(starter.start(None), log_pred, T, calibrate="posterior", **kw)
    assert timed.widening == pytest.approx(widen0)
    assert not timed.fits()[0]
    for cid in ("c5", "c6", "c7", "c8", "c9", "c10", "c11", "c12"):
        timed.tell(cid, 0.1, cost_s=0.01)  # exactly as predicted: factor 1
    assert timed.machine_factor == pytest.approx(1.0)
    assert timed.widening < 0.2 * widen0 and timed.fits()[0]
    # point rule (no fit_probability): the posterior mean only, no widening
    point = CostAwareSearch(starter.start(None), log_pred, T, calibrate="posterior",
                            log_error_var=SIGMA2)
    assert point.widening == 0.0 and point.fits()[0]


@pytest.mark.parametrize("rule", ["posterior", "posterior-late"])
def test_same_seed_same_search_and_factors(make_planted, rule):
    perf, meta = make_planted(n_tasks=30, n_configs=15, seed=7)
    starter = PMFWarmStarter(n_iter=20, n_latent=2).fit(perf.iloc[1:], meta.iloc[1:])
    rng = np.random.default_rng(1)
    point = pd.Series(np.exp(rng.uniform(np.log(0.1), np.log(3), 15)), index=perf.columns)
    true = point * 5 * np.exp(0.3 * rng.normal(size=15))
    runs = []
    for _ in range(2):
        timed = cost_aware_search(starter.start(meta.iloc[0], random_state=4), point, 30.0,
                                  upper_cost_s=point * 1.5, calibrate=rule,
                                  fit_probability=0.95, log_error_var=SIGMA2)
        while (cid := timed.ask()) is not None:
            timed.tell(cid, float(perf.loc[perf.index[0], cid]), cost_s=float(true[cid]))
        runs.append(timed.history)
    pd.testing.assert_frame_equal(runs[0], runs[1])
    assert len(runs[0]) >= 3 and runs[0]["machine_factor"].iloc[-1] > 3.0


def test_bad_costs_never_corrupt_the_factor(portfolio):
    starter, _ = portfolio
    timed = CostAwareSearch(starter.start(None), np.zeros(40), 100.0, calibrate="posterior",
                            log_error_var=SIGMA2)
    timed.tell("c0", 0.1, cost_s=2.0)
    before = (timed.log_factor_mean, timed.log_factor_var, timed.spent_s, timed.search.n_told)
    for bad in (math.nan, math.inf, -1.0, "3 s"):
        with pytest.raises(InputError, match="cost_s must be"):
            timed.tell("c1", 0.1, cost_s=bad)  # type: ignore[arg-type]
        assert (timed.log_factor_mean, timed.log_factor_var, timed.spent_s,
                timed.search.n_told) == before
    # a failed run (value NaN) is charged, but its time says nothing of the runtime: skipped
    timed.tell("c1", math.nan, cost_s=0.001)
    assert (timed.log_factor_mean, timed.log_factor_var) == before[:2]
    assert timed.spent_s == pytest.approx(2.001)
    assert timed.history["machine_factor"].iloc[-1] == pytest.approx(2.0 ** (1 / (1 + SIGMA2
                                                                                    / PRIOR_LOG_SD**2)))
    # a zero cost (below the timer's resolution) counts as 1 ms, not as log(0)
    timed.tell("c2", 0.1, cost_s=0.0)
    assert timed.log_factor_mean > posterior([math.log(2.0), math.log(1e-3)])[0] - 1e-9
    # the "mean" rule skips the failed run too
    mean = CostAwareSearch(starter.start(None), np.zeros(40), 100.0, calibrate="mean")
    mean.tell("c0", math.nan, cost_s=50.0)
    assert mean.machine_factor == 1.0 and mean.spent_s == 50.0


def test_bad_calibration_settings_are_named(portfolio):
    starter, _ = portfolio
    assert check_calibrate(False) is None and check_calibrate(None) is None
    assert check_calibrate("posterior") == "posterior" and check_calibrate("mean") == "mean"
    assert check_calibrate(True) in ("mean", "posterior")
    for bad in ("bayes", 1, 0.5, "True"):
        with pytest.raises(InputError, match="calibrate must be one of"):
            CostAwareSearch(starter.start(None), np.zeros(40), 10.0, calibrate=bad)
    for name, bad in (("log_error_var", -1.0), ("log_error_var", math.nan),
                      ("prior_log_sd", 0.0), ("prior_log_sd", math.inf)):
        with pytest.raises(InputError, match=f"{name} must be a positive finite number"):
            CostAwareSearch(starter.start(None), np.zeros(40), 10.0, calibrate="posterior",
                            **{name: bad})


def test_log_error_variance_is_the_cross_validated_one():
    rng = np.random.default_rng(0)
    tasks, configs = [f"t{i}" for i in range(400)], [f"c{j}" for j in range(5)]
    base = np.exp(rng.normal(0, 1, 5))
    cost = pd.DataFrame(base * np.exp(0.4 * rng.normal(size=(400, 5))), index=tasks,
                        columns=configs)
    pred = RuntimePredictor(method="median").fit(cost)
    # errors N(0, 0.4^2) around the median: the variance is 0.16 (plus the median's own error)
    assert pred.log_error_variance() == pytest.approx(0.16, rel=0.15)


def test_optimize_learns_the_factor_and_reports_it(five_times_slower):
    ws, by_config = five_times_slower
    hist = ws.optimize(by_config, time_budget=30.0, budget=12, calibrate="posterior")
    assert "machine_factor" in hist.columns and len(hist) >= 4
    assert hist["machine_factor"].iloc[-1] == pytest.approx(5.0, rel=0.25)
    again = ws.optimize(by_config, time_budget=30.0, budget=12, calibrate="posterior")
    pd.testing.assert_frame_equal(hist.drop(columns="config"), again.drop(columns="config"))
    with pytest.raises(InputError, match="calibrate must be one of"):
        ws.optimize(by_config, time_budget=30.0, calibrate="yes")
    with pytest.raises(InputError, match="calibrate must be one of"):
        warm_start(meta_features=ws.meta_features, method="portfolio", time_budget=30.0,
                   calibrate="yes")


def test_warm_start_and_cli_plan_with_the_prior_widening(capsys, tmp_path):
    """Nothing measured yet: under "posterior" each proposal's upper quantile, widened by the
    factor's prior uncertainty, fits the time left (charged at its point prediction); the
    command line gives the same proposals as the library."""
    import json

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(60, 4)), columns=list("abcd"))
    frame["class"] = np.where(frame["a"] > 0, "x", "y")
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    T = 0.05
    kw = dict(target="class", method="portfolio", time_budget=T, n_configs=40)
    ws = warm_start(frame, calibrate="posterior", **kw)
    mean = warm_start(frame, calibrate="mean", **kw)
    assert ws.config_ids != mean.config_ids  # the rules differ here
    point = ws.all_predicted_costs()
    assert ws._cost_source is not None and ws._cost_error_var is not None
    upper = ws._cost_source(fit_probability=0.95)
    s2 = ws._cost_error_var()
    widen = NormalDist().inv_cdf(0.95) * (math.sqrt(s2 + PRIOR_LOG_SD**2) - math.sqrt(s2))
    left = T
    for cid in ws.config_ids:
        assert upper[cid] * math.exp(widen) <= left * (1 + 1e-9)
        left -= point[cid]
    base = ["warm-start", str(path), "--target", "class", "--method", "portfolio", "--json",
            "--n-configs", "40", "--time-budget", str(T)]
    # posterior-late plans as mean until a run is measured, and nothing is measured here
    for rule, expect in (("posterior", ws), ("mean", mean), ("posterior-late", mean)):
        assert main(base + ["--calibrate", rule]) == 0
        got = [c["config_id"] for c in json.loads(capsys.readouterr().out)["configs"]]
        assert got == expect.config_ids
    assert main(base[:-2] + ["--calibrate", "posterior"]) == 2
    assert "--calibrate applies with --time-budget only" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(base + ["--calibrate", "bayes"])
    assert "argument --calibrate: invalid choice" in capsys.readouterr().err
    from warmnas.warmstart.cost import CALIBRATIONS
    with pytest.raises(SystemExit):
        main(["warm-start", "--help"])
    usage = capsys.readouterr().out
    assert "--calibrate {" + ",".join((*CALIBRATIONS, "none")) + "}" in usage  # every rule offered
