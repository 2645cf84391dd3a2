"""Syne Tune's transfer-learning methods as warmnas warm starters (peers for the regret benchmark).

Not part of the warmnas package: it needs ``syne-tune`` (the ``bench`` extra) and exists only so
``bench/warmstart_regret.py`` can run Syne Tune's methods under exactly the protocol of kNN and
PMF (same matrices, same held-out tasks, same budget, same oracle values).

Mapping (Syne Tune 0.16):

* ``st-zeroshot``: ``ZeroShotTransfer`` (Wistuba et al. 2015, sequential model-free): greedily
  picks the configuration that minimises the mean over training tasks of the best rank reached
  so far. A fixed order; the new task's results are told but unused (``_update`` is a no-op).
* ``st-quantile``: ``QuantileBasedSurrogateSearcher`` (Salinas et al. 2020, Copula Thompson
  sampling without the GP): an XGBoost regressor fitted on every training task's values after
  the per-task Gaussian-copula (rank -> normal quantile) transform, then Thompson sampling
  (prediction + homoskedastic noise of the validation residual) over 100,000 configurations
  sampled from the space. 0.16 has no variant that conditions on the new task's results.
* ``st-boundingbox``: ``BoundingBox`` (Perrone et al. 2019) around random search (the scheduler
  its docstring shows): the space is restricted to the union of each training task's best
  configuration (``num_hyperparameters_per_task=1``, the default), then random search in it.

Left out: ``RUSHScheduler`` is still named in ``transfer_learning.__all__`` of 0.16 but has no
implementation there (and RUSH's part beyond ``points_to_evaluate`` is early stopping on learning
curves, which single-fidelity matrices do not have). Syne Tune's other schedulers do not transfer.

Configuration space: one categorical hyperparameter ``config`` over the matrix's column ids. The
matrices are finite sets of configurations that were all evaluated on the training tasks (Oboe
mixes 219 pipelines of different algorithms, ASlib's 30 "configurations" are algorithm names with
no numeric hyperparameter), so nothing needs to generalise to an unseen configuration; a
categorical is the exact space. For the XGBoost surrogate of ``st-quantile`` it means a one-hot
encoding (219 / 104 / 30 columns): each configuration's predicted quantile is learnt from that
configuration's own results on the training tasks.

Protocol glue (the only places where this adapter acts instead of Syne Tune):

* Only the trials Syne Tune proposed get their results reported to it (``on_trial_result``,
  ``on_trial_complete``; ``on_trial_error`` for a failed run, NaN).
* A configuration Syne Tune proposes that cannot be evaluated on this task (already evaluated or
  proposed, or missing from the task's row) is not charged: the scheduler is asked again, up to
  ``max_retries`` times (Syne Tune's random searchers of 0.16 draw with replacement; the Thompson
  sampler over 100,000 candidates repeats its favourites). If it still has none (or returns
  None), ``st-quantile`` takes one more Thompson draw with its argmin over the configurations
  still available (Thompson sampling without replacement); ``st-boundingbox`` draws uniformly
  from the box's configurations left (random search without replacement), and once the box is
  exhausted from all configurations left, outside the box. These events are counted
  (:attr:`SyneTunePeer.stats`).
* ``ZeroShotTransfer`` is driven through its ``get_config()``, where 0.16 keeps the method: it
  does not override ``suggest()``, so the scheduler's ``suggest()`` is the inherited default,
  plain random search over the space (the 0.16 port left the method unreachable from the
  scheduler API; nothing in 0.16 calls ``get_config``).
* Seeds: the fitted parts (XGBoost, copula tie-breaks, train/validation split) are seeded by
  ``random_state``; each new task's scheduler by the search's generator (which the protocol
  derives per task from its seed). Syne Tune 0.16's ``RandomSearcher`` samples from NumPy's
  global generator whatever seed it is given; the bounding box's inner random search here is a
  ``RandomSearcher`` subclass that draws from its own seeded generator instead (same
  distribution), so runs are reproducible without seeding NumPy globally.
"""

from __future__ import annotations

import contextlib
import copy
import io
import logging
import warnings
from datetime import datetime
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from warmnas.warmstart.base import Context, WarmStarter

__all__ = ["PEERS", "PeerStats", "SyneTunePeer", "make_peer", "quiet_syne_tune",
           "syne_tune_available"]

METRIC = "objective"
PEERS = ("st-zeroshot", "st-quantile", "st-boundingbox")


def syne_tune_available() -> bool:
    """Whether syne-tune (with its transfer-learning modules) can be imported."""
    try:
        import syne_tune.optimizer.schedulers.transfer_learning.quantile_based.quantile_based_searcher
        import syne_tune.optimizer.schedulers.transfer_learning.zero_shot  # noqa: F401
    except ImportError:
        return False
    return True


def _seeded_random_search(config_space: dict, metric: str, do_minimize: bool, seed: int) -> Any:
    """Syne Tune's ``RandomSearch`` scheduler whose searcher draws from its own seeded generator."""
    from syne_tune.optimizer.baselines import RandomSearch
    from syne_tune.optimizer.schedulers.searchers.random_searcher import RandomSearcher

    class _SeededRandomSearcher(RandomSearcher):
        def __init__(self, config_space: dict, random_seed: int) -> None:
            super().__init__(config_space, random_seed=random_seed)
            self._rs = np.random.RandomState(self.random_seed)

        def suggest(self) -> dict | None:
            cfg = self._next_points_to_evaluate()
            if cfg is None:
                cfg = {k: v.sample(random_state=self._rs) if hasattr(v, "sample") else v
                       for k, v in self.config_space.items()}
            return cfg

    sched = RandomSearch(config_space, metrics=[metric], do_minimize=do_minimize,
                         random_seed=seed)
    sched.searcher = _SeededRandomSearcher(config_space, seed)
    return sched


class PeerStats(dict):
    """Counters shared by every copy of a peer (the protocol deep-copies a starter per fold)."""

    def __deepcopy__(self, memo: dict) -> PeerStats:
        return self


class SyneTunePeer(WarmStarter):
    """One of Syne Tune's transfer-learning methods behind the warm-starter interface.

    Args:
        method: ``"zeroshot"``, ``"quantile"`` or ``"boundingbox"``.
        random_state: seed of the fitted parts (``st-quantile``'s surrogate).
        max_retries: how often the scheduler is asked again when it proposes a configuration
            that cannot be evaluated, before a uniform draw from those left.

    Attributes:
        stats: counters ``suggestions`` (configurations proposed), ``retries`` (proposals not
            charged because unavailable), ``fallbacks`` (uniform draws after ``max_retries`` or
            when Syne Tune returned None), ``outside_box`` (``st-boundingbox``: proposals after
            the box was exhausted); shared by the copies the protocol makes.
    """

    name: ClassVar[str] = "st"
    requires_meta_features: ClassVar[bool] = False

    def __init__(self, method: str = "zeroshot", *, random_state: int = 0,
                 max_retries: int = 20) -> None:
        self.method = method
        self.random_state = random_state
        self.max_retries = max_retries
        self.stats = PeerStats(suggestions=0, retries=0, fallbacks=0, outside_box=0)

    # ------------------------------------------------------------------------------ fitting
    def _evaluations(self, complete: bool) -> dict[str, Any]:
        """Training tasks' rows as Syne Tune ``TransferLearningTaskEvaluations``.

        ``complete``: every task lists every configuration (NaN where missing), as
        ``ZeroShotTransfer`` requires; otherwise only the evaluated ones.
        """
        from syne_tune.optimizer.schedulers.transfer_learning.transfer_learning_task_evaluation import (
            TransferLearningTaskEvaluations,
        )

        ids = np.asarray([str(c) for c in self.config_ids_], dtype=object)
        out = {}
        for i, task in enumerate(self.task_ids_):
            y = self._Y[i]
            keep = np.ones(len(y), bool) if complete else ~np.isnan(y)
            if not keep.any():
                continue
            out[str(task)] = TransferLearningTaskEvaluations(
                configuration_space=self.config_space_,
                hyperparameters=pd.DataFrame({"config": ids[keep]}),
                objectives_names=[METRIC],
                objectives_evaluations=y[keep].reshape(-1, 1, 1, 1),
            )
        return out

    def _fit(self) -> None:
        from syne_tune.config_space import choice

        if self.method not in ("zeroshot", "quantile", "boundingbox"):
            raise ValueError(f"method must be zeroshot, quantile or boundingbox, got {self.method!r}")
        self.name = f"st-{self.method}"  # type: ignore[misc]
        self.config_space_ = {"config": choice([str(c) for c in self.config_ids_])}
        self._pos = {str(c): i for i, c in enumerate(self.config_ids_)}
        self._searcher = None
        if self.method == "quantile":
            from syne_tune.optimizer.schedulers.transfer_learning.quantile_based.quantile_based_searcher import (
                QuantileBasedSurrogateSearcher,
            )

            # lower is better in self._Y, which is what the searcher's argmin assumes
            with contextlib.redirect_stdout(io.StringIO()):  # catchtime prints timings
                self._searcher = QuantileBasedSurrogateSearcher(
                    self.config_space_, self._evaluations(complete=False),
                    random_seed=int(self.random_state))
            self._cand_pos = np.asarray(
                [self._pos[str(c)] for c in self._searcher.X_candidates["config"]], dtype=np.intp)

    # ---------------------------------------------------------------------------- new tasks
    def _scheduler(self, seed: int) -> Any:
        """A fresh Syne Tune scheduler for one new task, seeded by ``seed``."""
        if self.method == "zeroshot":
            from syne_tune.optimizer.schedulers.transfer_learning.zero_shot import (
                ZeroShotTransfer,
            )

            return ZeroShotTransfer(self.config_space_, METRIC,
                                    self._evaluations(complete=True), do_minimize=True,
                                    random_seed=seed)
        if self.method == "boundingbox":
            from syne_tune.optimizer.schedulers.transfer_learning.bounding_box import BoundingBox

            with contextlib.redirect_stdout(io.StringIO()):  # it prints the box
                return BoundingBox(_seeded_random_search, self.config_space_, METRIC,
                                   self._evaluations(complete=False), do_minimize=True,
                                   random_seed=seed)
        from syne_tune.optimizer.schedulers.single_objective_scheduler import (
            SingleObjectiveScheduler,
        )

        searcher = copy.copy(self._searcher)  # shares the fitted surrogate and candidates
        assert searcher is not None
        searcher.random_state = np.random.RandomState(seed)
        return SingleObjectiveScheduler(self.config_space_, METRIC, do_minimize=True,
                                        searcher=searcher, random_seed=seed)

    def _next(
        self,
        ctx: Context,
        observed: np.ndarray,
        values: np.ndarray,
        pending: np.ndarray,
        available: np.ndarray,
        rng: np.random.Generator,
    ) -> int:
        from syne_tune.backend.trial_status import Trial

        data = ctx.data
        if "scheduler" not in data:
            data["scheduler"] = self._scheduler(int(rng.integers(0, 2**31 - 1)))
            data["told"] = 0
            data["trials"] = {}
        sched = data["scheduler"]
        # report the results of the trials Syne Tune started, in the order they came in (a
        # configuration drawn by the fall-back, or told without being asked, is not one of its
        # trials: its result would fall outside the space BoundingBox restricted)
        for pos, val in zip(observed[data["told"]:], values[data["told"]:]):
            trial = data["trials"].get(int(pos))
            if trial is None:
                continue
            result = {METRIC: float(val)}
            if np.isnan(val):
                sched.on_trial_error(trial)
            else:
                sched.on_trial_result(trial, result)
                sched.on_trial_complete(trial, result)
        data["told"] = len(observed)
        self.stats["suggestions"] += 1
        pos = -1
        for _ in range(self.max_retries + 1):
            if self.method == "zeroshot":
                # 0.16's ZeroShotTransfer keeps its selection in get_config(); its suggest() is
                # the inherited SingleObjectiveScheduler.suggest(), i.e. plain random search
                cfg = sched.get_config()
            else:
                sugg = sched.suggest()
                cfg = None if sugg is None else sugg.config
            if cfg is None:
                break
            p = self._pos[str(cfg["config"])]
            if available[p]:
                pos = p
                break
            self.stats["retries"] += 1
        if pos < 0:
            self.stats["fallbacks"] += 1
            if self.method == "boundingbox":
                # random search without replacement in the box; outside it once it is exhausted
                box = np.zeros_like(available)
                box[[self._pos[str(c)] for c in sched.scheduler.config_space["config"]]] = True
                inside = available & box
                if not inside.any():
                    self.stats["outside_box"] += 1
                return int(rng.choice(np.flatnonzero(inside if inside.any() else available)))
            if self.method != "quantile":
                return int(rng.choice(np.flatnonzero(available)))
            # Thompson sampling without replacement: one more draw of the same sampler, its
            # argmin taken over the candidates still available
            searcher = sched.searcher
            draw = searcher.random_state.normal(loc=searcher.mu_pred, scale=searcher.sigma_pred)
            draw = np.where(available[self._cand_pos][:, None], draw, np.inf)
            pos = int(self._cand_pos[int(np.argmin(draw[:, 0]))])
        data["trials"][pos] = Trial(trial_id=len(data["trials"]),
                                    config={"config": str(self.config_ids_[pos])},
                                    creation_time=datetime.now())
        return pos


def make_peer(name: str, random_state: int = 0) -> SyneTunePeer:
    """``"st-zeroshot"`` | ``"st-quantile"`` | ``"st-boundingbox"`` -> an unfitted peer."""
    if name not in PEERS:
        raise ValueError(f"unknown Syne Tune peer {name!r}; known: {', '.join(PEERS)}")
    peer = SyneTunePeer(name[3:], random_state=random_state)
    peer.name = name  # type: ignore[misc]
    return peer


def quiet_syne_tune() -> None:
    """Silence Syne Tune's per-scheduler warnings (for the benchmark script only).

    ZeroShotTransfer logs a warning at every creation (once per held-out task) and 0.16 uses
    pandas' deprecated ``inplace=`` keyword on every proposal.
    """
    logging.getLogger("syne_tune").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=".*inplace keyword.*", module="syne_tune")
