"""Constrained search on NB201 tables (honest budget), Pareto fronts and plots."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from warmnas.errors import InputError, InputTypeError
from warmnas.hardware.constrained import (
    BudgetExhaustedError,
    QueryOracle,
    constrained_optimum,
    constrained_search,
    nb201_constrained_search,
)
from warmnas.hardware.pareto import pareto_front, plot_pareto


@pytest.mark.shared_data
@pytest.mark.parametrize("device", ["pixel3", "titan_rtx_1", "fpga"])
def test_search_finds_the_constrained_optimum_within_budget(nb201_table, nb201_latency, device) -> None:
    table = nb201_latency["tables"][device]
    acc = nb201_table.accuracies["cifar10"]
    T = float(np.quantile(table.latencies, 0.25))
    best, opt = constrained_optimum(acc, table.latencies, T)
    assert table.latencies[best] <= T
    result, arch = nb201_constrained_search(nb201_table, table, T, budget=100, random_state=0)
    assert result.queries <= 100 and result.violations == 0
    assert result.latency <= T and arch == nb201_table.archs[result.index]
    assert opt - result.accuracy <= 0.5
    assert result.accuracy == acc[result.index]
    assert len(result.trace) == result.queries and result.trace[-1] == result.accuracy
    assert np.all(np.diff(result.trace) >= 0)


@pytest.mark.shared_data
def test_search_reads_only_queried_accuracies(nb201_table, nb201_latency) -> None:
    lat = nb201_latency["tables"]["eyeriss"].latencies
    acc = nb201_table.accuracies["cifar10"]
    priors = np.column_stack([nb201_table.accuracies["cifar100"], nb201_table.accuracies["imagenet16_120"]])
    oracle = QueryOracle(acc, budget=20)
    T = float(np.quantile(lat, 0.5))
    result = constrained_search(oracle, lat, T, priors=priors, random_state=1)
    assert oracle.n_queries == result.queries == 20
    assert set(oracle.queried) == set(result.queried)
    assert all(lat[i] <= T for i in result.queried)
    with pytest.raises(BudgetExhaustedError, match="budget of 20"):
        oracle(int(np.setdiff1d(np.arange(len(acc)), result.queried)[0]))
    # same seed, same search; cold start (no priors) is worse or equal with this small budget
    again = constrained_search(QueryOracle(acc, budget=20), lat, T, priors=priors, random_state=1)
    assert again.queried == result.queried
    cold = constrained_search(QueryOracle(acc, budget=20), lat, T, random_state=1)
    assert cold.accuracy <= result.accuracy
    soft, _ = nb201_constrained_search(nb201_table, lat, T, budget=30, constraint="soft")
    assert soft.queries == 30


def test_constrained_search_errors() -> None:
    acc = np.linspace(50, 90, 40)
    lat = np.linspace(1, 10, 40)
    with pytest.raises(InputError, match="fastest takes 1"):
        constrained_optimum(acc, lat, 0.5)
    with pytest.raises(InputError, match="needs a budget"):
        constrained_search(QueryOracle(acc), lat, 5.0)
    with pytest.raises(InputTypeError, match="QueryOracle"):
        constrained_search(acc, lat, 5.0)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="length 40"):
        constrained_search(QueryOracle(acc, 5), lat[:3], 5.0)
    with pytest.raises(InputError, match="positive number of ms"):
        constrained_search(QueryOracle(acc, 5), lat, -1.0)
    with pytest.raises(InputError, match="NaN"):
        constrained_search(QueryOracle(acc, 5), np.full(40, np.nan), 5.0)
    with pytest.raises(InputError, match="'hard' or 'soft'"):
        constrained_search(QueryOracle(acc, 5), lat, 5.0, constraint="medium")
    with pytest.raises(InputError, match="budget must be a positive int"):
        QueryOracle(acc, budget=0)
    result = constrained_search(QueryOracle(acc, 100), lat, 5.0)
    # fewer feasible archs than the budget: all of them are queried, the best is exact
    assert result.queries == int((lat <= 5.0).sum())
    assert result.accuracy == constrained_optimum(acc, lat, 5.0)[1]


def _brute_force_front(acc: np.ndarray, lat: np.ndarray) -> set[int]:
    front = set()
    for i in range(len(acc)):
        dominated = any((acc[j] >= acc[i] and lat[j] <= lat[i] and (acc[j] > acc[i] or lat[j] < lat[i]))
                        for j in range(len(acc)))
        if not dominated:
            front.add(i)
    return front


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=1, max_size=25))
def test_pareto_front_matches_brute_force(points) -> None:
    acc = np.array([p[0] for p in points], float)
    lat = np.array([p[1] for p in points], float)
    front = pareto_front(acc, lat)
    brute = _brute_force_front(acc, lat)
    # duplicates of a front point: exactly one of them is kept
    assert {(acc[i], lat[i]) for i in front} == {(acc[i], lat[i]) for i in brute}
    assert len(front) == len({(acc[i], lat[i]) for i in brute})
    assert np.all(np.diff(lat[front]) > 0) and np.all(np.diff(acc[front]) > 0)


def test_plot_pareto_writes_png(tmp_path) -> None:
    rng = np.random.default_rng(0)
    acc, lat = rng.uniform(80, 95, 200), rng.uniform(1, 20, 200)
    out = plot_pareto(acc, lat, tmp_path / "sub" / "front.png", highlight={"queried": [1, 2, 3]},
                      chosen={"found": 5}, max_latency=10.0)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(InputError, match=r"\.png"):
        plot_pareto(acc, lat, tmp_path / "front.pdf")
    with pytest.raises(InputError, match="same length"):
        pareto_front([1.0, 2.0], [1.0])
    with pytest.raises(InputError, match="NaN"):
        pareto_front([np.nan], [1.0])
    with pytest.raises(InputTypeError, match="numeric"):
        pareto_front(["a"], [1.0])


def test_latencies_must_be_positive_and_accuracies_finite() -> None:
    acc = np.linspace(50, 90, 40)
    lat = np.linspace(1, 10, 40)
    neg = lat.copy()
    neg[7] = -3.0  # a sign error or a subtracted baseline: was "feasible" and won the search
    with pytest.raises(InputError, match=r"latency must hold positive latencies \(ms\); "
                                         r"got -3 at index 7"):
        constrained_search(QueryOracle(acc, 5), neg, 5.0)
    with pytest.raises(InputError, match=r"latency must hold positive latencies"):
        constrained_search(QueryOracle(acc, 5), np.zeros(40), 5.0, constraint="soft")
    with pytest.raises(InputError, match=r"latency must hold positive latencies"):
        constrained_optimum(acc, -lat, 5.0)
    bad = acc.copy()
    bad[3] = np.nan  # an architecture without an accuracy poisoned the surrogate's mean
    with pytest.raises(InputError, match=r"values must be finite accuracies; got nan at index 3"):
        QueryOracle(bad, budget=5)
    with pytest.raises(InputError, match=r"accuracy contains NaN"):
        constrained_optimum(bad, lat, 5.0)
