"""Random search over the configurations of the meta-database (the baseline every method must beat)."""

from __future__ import annotations

import numpy as np

from warmnas.warmstart.base import Context, WarmStarter

__all__ = ["RandomSearch"]


class RandomSearch(WarmStarter):
    """Propose configurations uniformly at random, without replacement.

    Uses no meta-feature and no result; its predicted score for a configuration is that
    configuration's mean over the database tasks (std: across tasks).
    """

    name = "random"

    def _fit(self) -> None:
        pass

    def _next(
        self,
        ctx: Context,
        observed: np.ndarray,
        values: np.ndarray,
        pending: np.ndarray,
        available: np.ndarray,
        rng: np.random.Generator,
    ) -> int:
        return int(rng.choice(np.flatnonzero(available)))
