"""Zero-shot portfolios: one fixed order of configurations for every new task.

``strategy="greedy"`` (default) is the greedy portfolio of auto-sklearn 2.0 and TabRepo: each step
adds the configuration that most lowers the mean over the database tasks of the best normalised
value reached so far (per task, values are rescaled to [0, 1] between its best and worst
configuration, so every task counts the same). ``strategy="rank"`` orders configurations by their
mean rank over the tasks (the "global rank" baseline).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from warmnas.errors import InputError
from warmnas.warmstart.base import Context, WarmStarter

if TYPE_CHECKING:
    from warmnas.warmstart._persist import StateReader

__all__ = ["PortfolioWarmStarter", "normalized_regret_matrix", "greedy_portfolio"]


def normalized_regret_matrix(Y: np.ndarray) -> np.ndarray:
    """Rescale each row of ``Y`` (lower is better, NaN missing) to [0, 1]: 0 = the row's best.

    Missing entries become 1 (as bad as the row's worst); a constant row becomes all 0.

    Args:
        Y: ``n_tasks x n_configs``.

    Returns:
        ``n_tasks x n_configs`` float64 array without NaN.
    """
    lo = np.nanmin(Y, axis=1, keepdims=True)
    hi = np.nanmax(Y, axis=1, keepdims=True)
    span = np.where(hi - lo > 0, hi - lo, 1.0)
    Z = (Y - lo) / span
    return np.where(np.isnan(Z), 1.0, Z)


def greedy_portfolio(Z: np.ndarray) -> np.ndarray:
    """Greedy order of all columns of ``Z`` (``n_tasks x n_configs``, lower is better).

    Step ``i`` picks the column that minimises the mean over rows of the row-wise minimum of the
    columns picked so far; ties (e.g. once every row reached its best) go to the lowest mean value.

    Returns:
        A permutation of ``range(n_configs)``.
    """
    n_tasks, n_configs = Z.shape
    col_mean = Z.mean(axis=0)
    best = np.full(n_tasks, np.inf)
    chosen = np.zeros(n_configs, dtype=bool)
    order: list[int] = []
    row_best = Z.min(axis=1)
    for _ in range(n_configs):
        if np.all(best <= row_best):
            # every row reached its best: all gains are equal from here on, so the rest goes by
            # mean value, then index (what the loop would pick, without its quadratic cost)
            rest = np.flatnonzero(~chosen)
            order.extend(int(i) for i in rest[np.argsort(col_mean[rest], kind="stable")])
            break
        gain = np.minimum(best[:, None], Z).mean(axis=0)
        gain[chosen] = np.inf
        # lexicographic: lowest portfolio score, then lowest mean value, then lowest index
        cands = np.flatnonzero(gain <= gain.min() + 1e-12)
        pick = int(cands[np.argmin(col_mean[cands])])
        order.append(pick)
        chosen[pick] = True
        best = np.minimum(best, Z[:, pick])
    return np.asarray(order, dtype=np.intp)


class PortfolioWarmStarter(WarmStarter):
    """The same configuration order for every task, learnt from the whole database.

    Args:
        strategy: ``"greedy"`` (auto-sklearn 2.0 / TabRepo greedy zero-shot portfolio) or
            ``"rank"`` (mean rank over tasks).

    Fitted attributes:
        order_: configuration ids, best first (``pandas.Index``).
    """

    name = "portfolio"

    def __init__(self, strategy: str = "greedy") -> None:
        self.strategy = strategy

    def _check_params(self) -> None:
        if self.strategy not in ("greedy", "rank"):
            raise InputError(f"strategy must be 'greedy' or 'rank', got {self.strategy!r}.")

    def _fit(self) -> None:
        self._check_params()
        if self.strategy == "greedy":
            order = greedy_portfolio(normalized_regret_matrix(self._Y))
        else:
            ranks = pd.DataFrame(self._Y).rank(axis=1, na_option="bottom").to_numpy()
            order = np.argsort(ranks.mean(axis=0), kind="stable")
        self._order = order
        self.order_ = self.config_ids_[order]

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return {}, {"portfolio.order": np.asarray(self._order, dtype=np.int64)}

    def _set_state(self, reader: StateReader) -> None:
        self._order = reader.permutation("portfolio.order", len(self.config_ids_))
        self.order_ = self.config_ids_[self._order]

    def _next(
        self,
        ctx: Context,
        observed: np.ndarray,
        values: np.ndarray,
        pending: np.ndarray,
        available: np.ndarray,
        rng: np.random.Generator,
    ) -> int:
        return int(self._order[available[self._order]][0])
