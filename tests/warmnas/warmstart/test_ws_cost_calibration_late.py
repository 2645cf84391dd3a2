"""``calibrate="posterior-late"``: the posterior of the log machine factor, whose uncertainty
widens the plan only once a run has been measured (the first proposal is planned exactly as
``"mean"`` plans it). The follow-up experiment of docs/warmstart_cost.md."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest

from warmnas.warmstart import PortfolioWarmStarter
from warmnas.warmstart.cost import (
    CALIBRATIONS,
    PRIOR_LOG_SD,
    CostAwareSearch,
    check_calibrate,
)

SIGMA2 = 0.2


@pytest.fixture(scope="module")
def portfolio(make_planted):
    perf, _ = make_planted(n_tasks=20, n_configs=40, seed=2)
    return PortfolioWarmStarter().fit(perf), perf


def test_is_an_accepted_rule():
    assert "posterior-late" in CALIBRATIONS
    assert check_calibrate("posterior-late") == "posterior-late"


def test_first_proposal_is_planned_as_mean_then_the_posterior_takes_over(portfolio):
    """Nothing measured: no widening, so what fits and the first pick are the mean rule's
    (the plain posterior rule skips a configuration that just fits). After one measured run:
    the posterior mean and the widening of the plain posterior rule, written out here."""
    starter, _ = portfolio
    z = NormalDist().inv_cdf(0.95)
    widen0 = z * (math.sqrt(SIGMA2 + PRIOR_LOG_SD**2) - math.sqrt(SIGMA2))
    T = 100.0
    log_pred = np.full(40, np.log(0.01))
    log_pred[0] = np.log(T / math.exp(0.5 * widen0))  # fits only without the widening
    kw = dict(log_margin=0.0, fit_probability=0.95, log_error_var=SIGMA2)
    rules = {r: CostAwareSearch(starter.start(None), log_pred, T, calibrate=r, **kw)
             for r in ("mean", "posterior", "posterior-late")}
    late = rules["posterior-late"]
    assert late.widening == 0.0 and late.machine_factor == 1.0
    assert late.log_factor_var == pytest.approx(PRIOR_LOG_SD**2)
    np.testing.assert_array_equal(late.fits(), rules["mean"].fits())
    assert late.fits()[0] and not rules["posterior"].fits()[0]
    assert late.ask() == rules["mean"].ask()

    r = math.log(3.0)  # one run measured 3x slower than predicted
    for timed in rules.values():
        timed.tell("c7", 0.2, cost_s=3.0 * 0.01)
    precision = 1 / PRIOR_LOG_SD**2 + 1 / SIGMA2
    m, v = r / SIGMA2 / precision, 1 / precision
    assert late.log_factor_mean == pytest.approx(m)
    assert late.log_factor_var == pytest.approx(v)
    assert late.widening == pytest.approx(z * (math.sqrt(SIGMA2 + v) - math.sqrt(SIGMA2)))
    assert late.widening == pytest.approx(rules["posterior"].widening)
    np.testing.assert_allclose(late.upper_log_cost, rules["posterior"].upper_log_cost)
    assert rules["mean"].log_factor_mean == pytest.approx(r / 2)
    hist = late.history
    assert {"machine_factor", "machine_factor_low", "machine_factor_high"} <= set(hist.columns)
    half = NormalDist().inv_cdf(0.975) * math.sqrt(v)
    assert hist["machine_factor_high"].iloc[0] == pytest.approx(math.exp(m + half))


def test_failed_first_run_keeps_the_plan_unwidened(portfolio):
    """A failed run (NaN) measures nothing about the machine: still no widening."""
    starter, _ = portfolio
    timed = CostAwareSearch(starter.start(None), np.full(40, np.log(0.5)), 50.0,
                            calibrate="posterior-late", log_margin=0.3, fit_probability=0.95,
                            log_error_var=SIGMA2)
    timed.tell("c3", math.nan, cost_s=2.0)
    assert timed.widening == 0.0 and timed.spent_s == 2.0
    timed.tell("c4", 0.1, cost_s=0.5)
    assert timed.widening > 0.0


# same seed -> same search: test_ws_cost_calibration.py, parametrised over both rules


def test_optimize_uses_the_predictor_s_error_variance(five_times_slower):
    """Through ``WarmStart.optimize``: the posterior's noise is the runtime predictor's
    cross-validated log-error variance (as for "posterior"), and the interval is reported."""
    ws, by_config = five_times_slower
    hist = ws.optimize(by_config, time_budget=30.0, budget=6, calibrate="posterior-late")
    post = ws.optimize(by_config, time_budget=30.0, budget=6, calibrate="posterior")
    assert "machine_factor_low" in hist.columns
    assert ws._cost_error_var is not None
    s2 = ws._cost_error_var()
    precision = 1 / PRIOR_LOG_SD**2 + 1 / s2
    m1 = math.log(5.0) / s2 / precision  # after the first run (measured 5x the prediction)
    assert hist["machine_factor"].iloc[0] == pytest.approx(math.exp(m1))
    assert post["machine_factor"].iloc[0] == pytest.approx(math.exp(m1))
