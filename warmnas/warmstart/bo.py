"""The sequential loop: an ask/tell search that keeps using a warm starter as results arrive.

For PMF this is the Bayesian optimisation after the warm start (the GP posterior over all
configurations is recomputed from every result, the next one maximises log expected improvement);
for kNN, portfolio and random search it walks their fixed order. The loop works with any
objective::

    search = starter.start(meta_features, random_state=0)
    for _ in range(25):
        cid = search.ask()
        search.tell(cid, train_and_score(cid))
    search.best            # (config_id, value)

or ``search.run(objective, budget=25)``. Several ``ask()`` calls without ``tell()`` give distinct
configurations (PMF conditions on the pending ones at their predicted mean, the "kriging believer").
"""

from __future__ import annotations

import logging
import math
import numbers
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from warmnas.errors import InputError

if TYPE_CHECKING:
    from warmnas.warmstart.base import Context, WarmStarter

logger = logging.getLogger(__name__)

__all__ = ["Search"]


class Search:
    """Ask/tell search over the configurations of a fitted warm starter for one new task.

    Create it with :meth:`WarmStarter.start`; not directly.

    Attributes:
        starter: the fitted warm starter.
        context: its per-task context (neighbours and caches).
        available: bool mask ``n_configs``; configurations that may still be proposed.
    """

    def __init__(
        self,
        starter: WarmStarter,
        context: Context,
        available: np.ndarray,
        rng: np.random.Generator,
    ) -> None:
        self.starter = starter
        self.context = context
        self.available = available.copy()
        self._rng = rng
        self._observed: list[int] = []
        self._values: list[float] = []  # lower is better
        self._pending: list[int] = []

    # ---------------------------------------------------------------------------------- state
    @property
    def observed_positions(self) -> list[int]:
        """Positions (columns of the performance matrix) told so far, in order."""
        return list(self._observed)

    @property
    def observed_values(self) -> list[float]:
        """Their values, oriented so that lower is better."""
        return list(self._values)

    @property
    def n_told(self) -> int:
        """How many results were told."""
        return len(self._observed)

    def _sign(self) -> float:
        return -1.0 if self.starter.direction_ == "maximize" else 1.0

    @property
    def history(self) -> pd.DataFrame:
        """One row per result told: ``config_id``, ``value`` (metric direction), ``best_so_far``."""
        sign = self._sign()
        vals = np.asarray(self._values, dtype=np.float64)
        best = np.fmin.accumulate(np.where(np.isnan(vals), np.inf, vals)) if len(vals) else vals
        best = np.where(np.isinf(best), np.nan, best)
        return pd.DataFrame(
            {
                "config_id": [str(self.starter.config_ids_[p]) for p in self._observed],
                "value": sign * vals,
                "best_so_far": sign * best,
            }
        )

    @property
    def best(self) -> tuple[str, float] | None:
        """``(config_id, value)`` of the best result told so far, or None."""
        vals = np.asarray(self._values, dtype=np.float64)
        if not len(vals) or np.isnan(vals).all():
            return None
        i = int(np.nanargmin(vals))
        return str(self.starter.config_ids_[self._observed[i]]), self._sign() * float(vals[i])

    # ----------------------------------------------------------------------------------- loop
    def ask_position(self) -> int:
        """Like :meth:`ask` but return the configuration's position (column index)."""
        mask = self.available.copy()
        if not mask.any():
            raise InputError(
                f"no configuration left to propose: all {int(len(mask))} candidates were "
                "proposed or evaluated."
            )
        return self._propose(mask)

    def _propose(self, mask: np.ndarray, log_cost: np.ndarray | None = None) -> int:
        """The starter's next position among ``mask`` (non-empty), marked pending. With
        ``log_cost`` (predicted log runtimes) the starter's cost-aware rule decides."""
        args = (
            self.context,
            np.asarray(self._observed, dtype=np.intp),
            np.asarray(self._values, dtype=np.float64),
            np.asarray(self._pending, dtype=np.intp),
            mask,
            self._rng,
        )
        pos = int(self.starter._next(*args) if log_cost is None
                  else self.starter._next_cost_aware(*args, log_cost))
        if not mask[pos]:  # pragma: no cover - a starter bug, not user input
            raise RuntimeError(f"{type(self.starter).__name__} proposed a config outside the "
                               "available ones")
        self.available[pos] = False
        self._pending.append(pos)
        return pos

    def ask(self) -> str:
        """Propose the next configuration to evaluate; returns its id.

        Raises:
            InputError: every candidate was already proposed.
        """
        return str(self.starter.config_ids_[self.ask_position()])

    def tell(self, config_id: str, value: float) -> None:
        """Report the result of a configuration (asked before or evaluated elsewhere).

        Args:
            config_id: a configuration id of the meta-database.
            value: its measured value in the metric's own direction; NaN marks a failed run
                (it counts as evaluated, the model ignores it).

        Raises:
            UnknownIdError: unknown ``config_id``.
            InputError: a result told twice, or an infinite / non-numeric value.
        """
        pos = int(self.starter._config_positions([config_id])[0])
        if pos in self._observed:
            raise InputError(
                f"configuration {config_id!r} was already told; each configuration is "
                "evaluated once per search."
            )
        try:
            val = float(value)
        except (TypeError, ValueError):
            raise InputError(f"value must be a number, got {value!r} for {config_id!r}.") from None
        if math.isinf(val):
            raise InputError(
                f"value must be finite (or NaN for a failed run), got {val} for {config_id!r}."
            )
        if pos in self._pending:
            self._pending.remove(pos)
        self.available[pos] = False
        self._observed.append(pos)
        self._values.append(self._sign() * val)

    def run(
        self,
        objective: Callable[[str], float],
        budget: int,
        *,
        callback: Callable[[str, float], None] | None = None,
    ) -> pd.DataFrame:
        """Ask, evaluate ``objective(config_id)``, tell; ``budget`` times (or until none is left).

        Args:
            objective: config id -> value in the metric's direction (NaN for a failed run).
            budget: number of evaluations (>= 1).
            callback: called with ``(config_id, value)`` after each evaluation.

        Returns:
            :attr:`history`.

        Raises:
            InputError: ``objective`` returned something that is not a finite number or NaN
                (None, a string, an array, a bool, inf).

        If ``objective`` raises (or the run is interrupted), the exception propagates and every
        result told before it stays in this search (:attr:`history`, :attr:`best`); the
        configuration being evaluated stays proposed but untold.
        """
        if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget < 1:
            raise InputError(f"budget must be a positive int, got {budget!r}.")
        for _ in range(int(budget)):
            if not self.available.any():
                logger.info("search stopped early: no configuration left")
                break
            cid = self.ask()
            val = _objective_value(objective(cid), cid)
            self.tell(cid, val)
            if callback is not None:
                callback(cid, val)
        return self.history

    def __repr__(self) -> str:
        return (
            f"Search(method={self.starter.name!r}, told={self.n_told}, "
            f"pending={len(self._pending)}, left={int(self.available.sum())})"
        )



def _objective_value(raw: object, config_id: str) -> float:
    """``raw`` as a float if it is a real number (NaN allowed: a failed run), else InputError."""
    fix = "return a number (float('nan') marks a failed run)"
    if raw is None:
        raise InputError(f"objective returned None for configuration {config_id!r}; {fix}.")
    if isinstance(raw, (bool, np.bool_)) or isinstance(raw, (str, bytes)):
        raise InputError(
            f"objective returned the {type(raw).__name__} {raw!r} for configuration "
            f"{config_id!r}; {fix}."
        )
    if isinstance(raw, np.ndarray) and raw.ndim == 0:
        raw = raw.item()
    if not isinstance(raw, (numbers.Real, np.integer, np.floating)):
        raise InputError(
            f"objective returned a {type(raw).__name__} ({str(raw)[:60]}) for configuration "
            f"{config_id!r}; {fix}."
        )
    val = float(raw)
    if math.isinf(val):
        raise InputError(
            f"objective returned {val} for configuration {config_id!r}; return a finite value, "
            "or NaN for a failed run."
        )
    return val
