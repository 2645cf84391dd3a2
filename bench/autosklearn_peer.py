"""Peer: auto-sklearn's own meta-learning code vs warmnas' kNN warm starter, same protocol, one run.

    pip download auto-sklearn==0.15.0 --no-deps -d SDIST_DIR      # the sdist (.tar.gz)
    nice -n 10 python bench/autosklearn_peer.py --autosklearn-sdist SDIST_DIR/auto-sklearn-0.15.0.tar.gz \
        [--data-dir ../shared/data] [--datasets oboe,tabrepo,aslib] [--cached-results warmstart-results]
    python bench/autosklearn_peer.py --autosklearn-sdist ... --write-golden \
        tests/warmnas/warmstart/data/autosklearn_knd_golden.json

auto-sklearn 0.15.0 cannot be installed next to warmnas (old scikit-learn pins, pyrfr/swig) and
importing its ``autosklearn`` package runs a dependency check, but its meta-learning core needs
only numpy, pandas and scikit-learn. This script loads the two files of that core straight from
the published sdist (a ``.tar.gz`` or its unpacked folder), by path, without running
``autosklearn/__init__.py`` and without copying their code:

* ``autosklearn/metalearning/metalearning/kNearestDatasets/kND.py``: ``KNearestDatasets``
  (``MinMaxScaler`` fitted on the database's meta-features, L1 distance through scikit-learn's
  ``NearestNeighbors``, each dataset's best configuration, de-duplicated ``kBestSuggestions``);
* ``autosklearn/metalearning/optimizers/metalearn_optimizer/metalearner.py``:
  ``MetaLearningOptimizer`` (``_learn``: meta-features not finite for the new dataset are dropped,
  the database's others mean-imputed, then ``KNearestDatasets``; ``metalearning_suggest_all``).

The peer (:class:`AutoSklearnMetaLearning`) drives ``MetaLearningOptimizer`` itself, the way
auto-sklearn's ``suggest_via_metalearning`` does (``distance="l1"``, ``seed=1``,
``metalearning_suggest_all(exclude_double_configurations=True)``): its ``meta_base`` argument is
satisfied by a thin adapter (:class:`_MetaBase`) over the training tasks' meta-features and
values plus the held-out task's meta-features (never its values). So the preprocessing
(dropping, mean imputation), the scaling, the distance and the order are auto-sklearn's code.

auto-sklearn's list holds one configuration per neighbouring dataset (its best), de-duplicated,
so it is as long as the number of distinct best configurations among the training tasks (on
ASlib about 21 of 30 algorithms, less than the budget of 25). auto-sklearn then hands over to
SMAC (random interleaving and BO); here the adapter then proposes uniformly at random among the
configurations left (a stand-in for SMAC's random phase). How often that happens is counted and
printed.

Printed, per matrix (the loaders of ``bench/warmstart_regret.py``, imported, not copied):

* mean regret at 1/3/5/10/25 evaluations, leave-one-task-out, budget 25, seed 0, for
  auto-sklearn's meta-learning and warmnas' ``KNNWarmStarter`` (both run here), plus PMF's
  curves when ``--cached-results`` holds ``<dataset>_pmf.json`` from ``bench/warmstart_regret.py``
  (its ``--out`` folder; PMF is not re-run: 25 min on Oboe);
* kNN / auto-sklearn (and PMF / auto-sklearn) with the paired bootstrap 95 % interval of
  ``bench/warmstart_regret.py``;
* agreement: per held-out task, whether the first 10 proposals of the two are identical, and
  where not, why (neighbour order differing only among tied distances; distances differing
  beyond a constant shift, i.e. imputation: auto-sklearn mean-imputes raw values, warmnas uses
  the median of the scaled values; constant meta-features only shift auto-sklearn's distances);
* speed: time per suggestion list (fit + query) of each, on the same tasks, with the 1-minute
  load average.

``--write-golden PATH`` writes the golden file of ``tests/warmnas/warmstart/
test_ws_autosklearn_golden.py`` from one run of auto-sklearn's ``KNearestDatasets``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import logging
import os
import sys
import tarfile
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

import warmstart_regret as wr  # noqa: E402  (the benchmark's loaders and bootstrap, imported)

from warmnas.warmstart._validation import check_query  # noqa: E402
from warmnas.warmstart.base import Context, WarmStarter  # noqa: E402

KND_FILE = "autosklearn/metalearning/metalearning/kNearestDatasets/kND.py"
KND_MODULE = "autosklearn.metalearning.metalearning.kNearestDatasets.kND"
ML_FILE = "autosklearn/metalearning/optimizers/metalearn_optimizer/metalearner.py"
ML_MODULE = "autosklearn.metalearning.optimizers.metalearn_optimizer.metalearner"
HOW_TO_GET = ("get it with: pip download auto-sklearn==0.15.0 --no-deps -d DIR "
              "(then --autosklearn-sdist DIR/auto-sklearn-0.15.0.tar.gz)")
AT = wr.AT


# ------------------------------------------------------------------------- loading the peer
class AutoSklearnCode:
    """auto-sklearn's ``KNearestDatasets`` and ``MetaLearningOptimizer`` loaded from its sdist.

    Attributes:
        KNearestDatasets, MetaLearningOptimizer: the classes, as published.
        version: the sdist's version (from ``PKG-INFO``).
        source: the sdist path given.
    """

    def __init__(self, sdist: str | Path) -> None:
        path = Path(sdist)
        if not path.exists():
            raise FileNotFoundError(f"--autosklearn-sdist {path} does not exist; {HOW_TO_GET}")
        self.source = str(path)
        if path.is_dir():
            self.version, mods = self._load_dir(path)
        else:
            if not tarfile.is_tarfile(path):
                raise ValueError(f"--autosklearn-sdist {path} is neither a folder nor a .tar.gz "
                                 f"sdist; {HOW_TO_GET}")
            with tempfile.TemporaryDirectory() as tmp:
                with tarfile.open(path) as tar:
                    wanted = [m for m in tar.getmembers()
                              if m.name.endswith(("/" + KND_FILE, "/" + ML_FILE, "/PKG-INFO"))
                              and m.name.count("/") >= 1 and m.isfile()]
                    tar.extractall(tmp, members=wanted, filter="data")
                tops = sorted(Path(tmp).iterdir())
                if not tops:
                    raise ValueError(f"{path} holds no {KND_FILE}; {HOW_TO_GET}")
                self.version, mods = self._load_dir(tops[0])
        self.KNearestDatasets = mods[0].KNearestDatasets
        self.MetaLearningOptimizer = mods[1].MetaLearningOptimizer

    @staticmethod
    def _load_dir(root: Path) -> tuple[str, tuple[ModuleType, ModuleType]]:
        knd, ml = root / KND_FILE, root / ML_FILE
        if not knd.exists() or not ml.exists():
            found = sorted(p.name for p in root.iterdir()) if root.is_dir() else []
            raise FileNotFoundError(
                f"{root} is not an unpacked auto-sklearn sdist (no {KND_FILE}; it holds "
                f"{found[:8]}); {HOW_TO_GET}")
        version = "unknown"
        info = root / "PKG-INFO"
        if info.exists():
            for line in info.read_text().splitlines():
                if line.startswith("Version:"):
                    version = line.split(":", 1)[1].strip()
                    break
        knd_mod = _module_from_path(KND_MODULE, knd)
        # metalearner.py imports KNearestDatasets by its dotted name: register the kND module
        # under that name while metalearner.py executes (autosklearn/__init__.py is never run)
        with _registered({KND_MODULE: knd_mod}):
            ml_mod = _module_from_path(ML_MODULE, ml)
        return version, (knd_mod, ml_mod)


def _module_from_path(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def _registered(modules: dict[str, ModuleType]) -> Iterator[None]:
    before = {k: sys.modules.get(k) for k in modules}
    sys.modules.update(modules)
    try:
        yield
    finally:
        for k, old in before.items():
            if old is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = old


# ------------------------------------------------------------------------------ the adapter
class _MetaBase:
    """The part of auto-sklearn's ``MetaBase`` that ``MetaLearningOptimizer`` calls.

    ``metafeatures``: training tasks + the new task (one row each); ``runs``: training tasks x
    configurations, lower is better (auto-sklearn stores costs); configurations are their ids.
    """

    def __init__(self, metafeatures: pd.DataFrame, runs: pd.DataFrame) -> None:
        self.metafeatures = metafeatures
        self.runs = runs

    def get_metafeatures(self, dataset_name: Any = None, features: Any = None) -> Any:
        mf = self.metafeatures if features is None else self.metafeatures.loc[:, features]
        return mf if dataset_name is None else mf.loc[dataset_name]

    def get_all_dataset_names(self) -> list:
        return list(self.metafeatures.index)

    def get_runs(self, dataset_name: str, performance_measure: Any = None) -> pd.Series:
        return self.runs.loc[dataset_name]

    def get_configuration_from_algorithm_index(self, idx: Any) -> str:
        return str(idx)


class PeerStats(dict):
    """Counters shared by every copy of the peer (the protocol deep-copies a starter per fold)."""

    def __deepcopy__(self, memo: dict) -> PeerStats:
        return self


class AutoSklearnMetaLearning(WarmStarter):
    """auto-sklearn's meta-learning (its own code) behind the warm-starter interface.

    Args:
        code: an :class:`AutoSklearnCode`.
        seed: ``MetaLearningOptimizer``'s seed (auto-sklearn passes 1; the L1 kNN ignores it).

    Attributes:
        stats: ``tasks``, ``list_lengths`` (auto-sklearn's list length per task, after
            restricting it to the task's configurations), ``fallbacks`` (proposals drawn uniformly
            at random after the list ran out), ``tasks_with_fallback``; shared by copies.
    """

    name: ClassVar[str] = "autosklearn"
    requires_meta_features: ClassVar[bool] = True

    def __init__(self, code: AutoSklearnCode, seed: int = 1) -> None:
        self.code = code
        self.seed = seed
        self.stats = PeerStats(tasks=0, list_lengths=[], fallbacks=0, tasks_with_fallback=0)

    def _fit(self) -> None:
        assert self.meta_features_ is not None
        feats = self.meta_features_
        common = self.task_ids_.intersection(feats.index, sort=False)
        self._feats = feats.loc[common].astype(np.float64)
        self._runs = pd.DataFrame(self._Y, index=self.task_ids_, columns=self.config_ids_)

    def optimizer(self, query: pd.Series) -> tuple[Any, str]:
        """A ``MetaLearningOptimizer`` for a new task with meta-features ``query``.

        Returns:
            (optimizer, the new task's name in the adapter).
        """
        target = "__new_task__"
        while target in self._feats.index:
            target += "_"
        row = query.reindex(self._feats.columns).astype(np.float64).rename(target)
        mf = pd.concat([self._feats, row.to_frame().T])
        ml = self.code.MetaLearningOptimizer(
            dataset_name=target, configuration_space=None, meta_base=_MetaBase(mf, self._runs),
            logger=_QUIET, distance="l1", seed=self.seed)
        return ml, target

    def suggest_all(self, query: pd.Series) -> list[str]:
        """auto-sklearn's whole list (``metalearning_suggest_all``) for ``query``."""
        ml, _ = self.optimizer(query)
        return [str(c) for c in ml.metalearning_suggest_all(exclude_double_configurations=True)]

    def _context(self, query: Any, nan_policy: str) -> Context:
        if query is None:
            raise ValueError("auto-sklearn's meta-learning needs the new task's meta-features")
        q = check_query(query, self._feats.columns, allow_nan=nan_policy == "ignore")
        order = self._config_positions(self.suggest_all(q))
        return Context(query=q, data={"order": np.asarray(order, dtype=np.intp),
                                      "counted": False})

    def _next(self, ctx: Context, observed: np.ndarray, values: np.ndarray,
              pending: np.ndarray, available: np.ndarray, rng: np.random.Generator) -> int:
        order = ctx.data["order"]
        if not ctx.data["counted"]:
            ctx.data["counted"] = True
            self.stats["tasks"] += 1
            self.stats["list_lengths"].append(int(available[order].sum()))
        left = order[available[order]]
        if len(left):
            return int(left[0])
        # the list ran out: auto-sklearn hands over to SMAC; a uniform draw stands in for it
        if not ctx.data.get("fell_back"):
            ctx.data["fell_back"] = True
            self.stats["tasks_with_fallback"] += 1
        self.stats["fallbacks"] += 1
        return int(rng.choice(np.flatnonzero(available)))


_QUIET = logging.getLogger("autosklearn_peer.metalearning")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


# ------------------------------------------------------------------------- agreement, speed
def agreement_and_speed(code: AutoSklearnCode, data: dict, n_first: int = 10) -> dict:
    """Per held-out task: both methods' first ``n_first`` proposals, why they differ, timings."""
    from warmnas.warmstart import KNNWarmStarter

    perf, feats, direction = data["performance"], data["meta_features"], data["direction"]
    tasks = [t for t in perf.index if t in feats.index]
    rows = []
    t_ours, t_peer = [], []
    load0 = os.getloadavg()[0]
    for i, task in enumerate(tasks):
        train, tfeats = perf.drop(index=task), feats.drop(index=task)
        train = train.loc[:, train.notna().any(axis=0)]
        q = feats.loc[task]
        q = q[q.notna() & q.index.isin(tfeats.columns[tfeats.notna().any()])]
        avail = perf.loc[task, train.columns].dropna().index
        n = min(n_first, len(avail))
        p = AutoSklearnMetaLearning(code).fit(train, tfeats, direction=direction)
        # timing, alternating which goes first. kNN: fit (validation, scaling) + a 10-long
        # suggestion; auto-sklearn: MetaLearningOptimizer on the adapter + its whole list
        # (_learn = preprocessing + KNearestDatasets fit + kBestSuggestions); the adapter's own
        # fit (our input validation) is left out of its time
        for first in ((0, 1) if i % 2 == 0 else (1, 0)):
            t0 = time.perf_counter()
            if first == 0:
                knn = KNNWarmStarter().fit(train, tfeats, direction=direction)
                ours = knn.suggest(q, n_configs=n, candidates=avail, nan_policy="ignore")
                t_ours.append(time.perf_counter() - t0)
            else:
                ml, target = p.optimizer(q)
                full = [str(c) for c in ml.metalearning_suggest_all(True)]
                t_peer.append(time.perf_counter() - t0)
        avail_set = set(avail)
        theirs = [c for c in full if c in avail_set][:n]
        # neighbour orders and distances of both
        x = ml.meta_base.get_metafeatures(target).loc[ml.kND.metafeatures.columns]
        nb_theirs, d_theirs = ml.kND.kNearestDatasets(x, -1, return_distance=True)
        nb_theirs = [str(t) for t in nb_theirs]
        assert ours.neighbors is not None
        d_ours = ours.neighbors.reindex(nb_theirs).to_numpy()
        shift = d_theirs - d_ours
        const_shift = bool(np.ptp(shift) <= 1e-9)
        # auto-sklearn's order is also a sorted order of our distances: they differ only in
        # how equal distances are ordered (sklearn's quicksort vs our stable sort)
        ties_only = bool(np.all(np.diff(d_ours) >= -1e-9))
        # the imputation check: our kNN on a database mean-imputed beforehand (raw values, as
        # auto-sklearn's _learn does) gives auto-sklearn's distances up to a constant shift?
        knn_mean = KNNWarmStarter().fit(train, tfeats.fillna(tfeats.mean()), direction=direction)
        nb_mean = knn_mean.suggest(q, n_configs=1, candidates=avail,
                                   nan_policy="ignore").neighbors
        assert nb_mean is not None
        mean_shift = d_theirs - nb_mean.reindex(nb_theirs).to_numpy()
        same_configs = ours.config_ids[:n] == theirs
        if same_configs:
            why = "identical"
        elif len(theirs) < n:
            why = "auto-sklearn's list shorter than 10"
        elif const_shift and ties_only:
            why = "tie order (equal distances ordered differently)"
        elif bool(np.ptp(mean_shift) <= 1e-9):
            why = "imputation (mean of raw values vs median of scaled values)"
        else:
            why = "other (distances differ even with mean imputation)"
        rows.append({"task": task, "same_first": same_configs,
                     "same_neighbour_order": list(ours.neighbors.index) == nb_theirs,
                     "order_differs_by_ties_only": ties_only,
                     "distances_equal_up_to_shift": const_shift,
                     "shift": float(np.median(shift)), "why": why})
    return {"rows": rows, "t_ours": t_ours, "t_peer": t_peer,
            "load": [load0, os.getloadavg()[0]]}


# ------------------------------------------------------------------------------ golden file
def write_golden(code: AutoSklearnCode, root: Path, path: Path, n_queries: int = 5,
                 k: int = 25) -> None:
    """One run of auto-sklearn's ``KNearestDatasets`` on the PMF meta-features of Oboe tasks."""
    data = wr.load_oboe(root)
    perf, feats = data["performance"], data["meta_features"]
    rng = np.random.default_rng(0)
    queries = [str(t) for t in rng.choice(feats.index, size=n_queries, replace=False)]
    db = feats.drop(index=queries)
    # warmnas leaves meta-features constant over the database out of the distance; auto-sklearn's
    # MinMaxScaler scales them by 1 (a constant shift of every distance): use the others only
    use = [c for c in db.columns if db[c].max() > db[c].min()]
    assert not db[use].isna().any().any(), "the Oboe PMF features have no NaN (no imputation)"
    runs = perf.loc[db.index].T  # auto-sklearn's layout: configurations x datasets
    knd = code.KNearestDatasets(logger=_QUIET, metric="l1")
    knd.fit(db[use], runs)
    out: dict = {
        "provenance": {
            "auto_sklearn_version": code.version,
            "file": KND_FILE,
            "functions": ["KNearestDatasets.fit", "KNearestDatasets.kNearestDatasets",
                          "KNearestDatasets.kBestSuggestions"],
            "metric": "l1",
            "inputs": ("shared data pmf-metafeatures/data_feats_featurized.csv joined with "
                       "oboe/error_matrix.csv as bench/warmstart_regret.py's load_oboe does "
                       f"({len(feats)} tasks); the database is every such task but the queries; "
                       "runs = oboe/error_matrix.csv rows of the database tasks (balanced "
                       "error, lower is better), transposed; meta-features: the "
                       f"{len(use)} not constant over the database (no NaN there, so "
                       "auto-sklearn's mean imputation changes nothing)"),
            "license": ("derived from the shared data's oboe/ and pmf-metafeatures/ folders, "
                        "BSD-3 as noted in the shared data's SOURCES.md"),
            "regenerate": ("python bench/autosklearn_peer.py --autosklearn-sdist "
                           "auto-sklearn-0.15.0.tar.gz --write-golden "
                           "tests/warmnas/warmstart/data/autosklearn_knd_golden.json "
                           "(sdist: pip download auto-sklearn==0.15.0 --no-deps)"),
        },
        "features": use,
        "n_database_tasks": len(db),
        "k": k,
        "queries": {},
    }
    for qid in queries:
        x = feats.loc[qid, use].astype(np.float64)
        names, dist = knd.kNearestDatasets(x, k, return_distance=True)
        best = knd.kBestSuggestions(x, 10, exclude_double_configurations=True)
        out["queries"][qid] = {
            "neighbors": [str(t) for t in names],
            "distances": [float(d) for d in dist],
            "best_suggestions": [str(b[2]) for b in best],
        }
    # MetaLearningOptimizer's whole path (_learn: meta-features not finite for the new dataset
    # dropped, mean imputation, KNearestDatasets, metalearning_suggest_all) for the PMF datasets
    # outside Oboe that have some, not all, meta-features NaN (landmarks / PCA not computed)
    every = pd.read_csv(root / "pmf-metafeatures" / "data_feats_featurized.csv", index_col=0)
    every.index = every.index.map(str)
    n_nan = every[use].isna().sum(axis=1)
    partial = [t for t in every.index
               if t not in perf.index and 0 < n_nan[t] < len(use)]
    out["metalearner_queries"] = {}
    for qid in partial:
        mf = pd.concat([db[use], every.loc[[qid], use]]).astype(np.float64)
        ml = code.MetaLearningOptimizer(
            dataset_name=qid, configuration_space=None,
            meta_base=_MetaBase(mf, perf.loc[db.index]), logger=_QUIET, distance="l1", seed=1)
        suggestions = [str(c) for c in ml.metalearning_suggest_all(True)][:10]
        kept = list(ml.kND.metafeatures.columns)
        names, dist = ml.kND.kNearestDatasets(every.loc[qid, kept].astype(np.float64), k,
                                              return_distance=True)
        out["metalearner_queries"][qid] = {
            "meta_features_dropped": [c for c in use if c not in kept],
            "neighbors": [str(t) for t in names],
            "distances": [float(d) for d in dist],
            "best_suggestions": suggestions,
        }
    out["provenance"]["metalearner_queries"] = (
        "metalearner.py's MetaLearningOptimizer(distance='l1', seed=1)."
        "metalearning_suggest_all(exclude_double_configurations=True) through a meta_base "
        "adapter (bench/autosklearn_peer.py's _MetaBase) over the same database, for the PMF "
        "datasets outside Oboe whose meta-features are partly NaN (auto-sklearn drops those "
        "for the query); neighbours and distances from its fitted KNearestDatasets")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path} ({len(queries)} queries, {k} neighbours each)")


# ----------------------------------------------------------------------------------- runner
def run(args: argparse.Namespace) -> int:
    from warmnas.warmstart import KNNWarmStarter
    from warmnas.warmstart.evaluation import leave_one_task_out, regret_curves, regret_table

    # auto-sklearn's kNearestDatasets transforms a bare array with a scaler fitted on a frame
    warnings.filterwarnings("ignore", message="X does not have valid feature names")
    root = Path(args.data_dir)
    if not (root / "SOURCES.md").exists():
        print(f"shared data not found at {root}; pass --data-dir", file=sys.stderr)
        return 2
    if not args.autosklearn_sdist:
        print(f"--autosklearn-sdist is required; {HOW_TO_GET}", file=sys.stderr)
        return 2
    try:
        code = AutoSklearnCode(args.autosklearn_sdist)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"auto-sklearn {code.version} meta-learning loaded from {code.source} "
          f"({KND_FILE}, {ML_FILE})", flush=True)
    if args.write_golden:
        write_golden(code, root, Path(args.write_golden))
        return 0
    cached = Path(args.cached_results) if args.cached_results else None
    summary: dict = {"auto_sklearn_version": code.version, "budget": args.budget,
                     "seed": args.seed, "datasets": {}}
    for name in [d.strip() for d in args.datasets.split(",") if d.strip()]:
        data = wr.LOADERS[name](root)
        perf, feats = data["performance"], data["meta_features"]
        tasks = [t for t in perf.index if t in feats.index]
        nan_share = float(feats.isna().to_numpy().mean())
        print(f"\n== {data['label']}: {perf.shape[0]} tasks x {perf.shape[1]} configs, "
              f"{len(tasks)} held out in turn; meta-features {feats.shape[1]}, "
              f"{nan_share:.1%} NaN (auto-sklearn mean-imputes the database's, drops the "
              "held-out task's; kNN median-imputes the database's, leaves the held-out task's "
              "out of the distance)", flush=True)
        regrets: dict = {}
        info: dict = {"methods": {}}
        peer = AutoSklearnMetaLearning(code)
        for label, starter in (("autosklearn", peer), ("knn", KNNWarmStarter())):
            t0, load0 = time.perf_counter(), os.getloadavg()[0]
            res = leave_one_task_out(starter, perf, feats, direction=data["direction"],
                                     budget=args.budget, tasks=tasks, random_state=args.seed)
            wall = time.perf_counter() - t0
            print(f"  {label}: {wall:.1f} s for {len(tasks)} folds, load {load0:.2f} -> "
                  f"{os.getloadavg()[0]:.2f}", flush=True)
            regrets[label] = regret_curves(res.curves, perf, direction=data["direction"],
                                           normalize=data["normalize"])
            info["methods"][label] = {"wall_seconds": wall}
        st = peer.stats
        lens = np.asarray(st["list_lengths"])
        print(f"  auto-sklearn's list per task: median {np.median(lens):.0f}, min {lens.min()}, "
              f"max {lens.max()} configurations; it ran out within the budget on "
              f"{st['tasks_with_fallback']} of {st['tasks']} tasks ({st['fallbacks']} uniform "
              "random proposals in all, standing in for SMAC)", flush=True)
        info["fallback"] = {"tasks_with_fallback": st["tasks_with_fallback"],
                            "tasks": st["tasks"], "fallbacks": st["fallbacks"],
                            "list_length_median": float(np.median(lens))}
        if cached is not None and (cached / f"{name}_pmf.json").exists():
            pj = json.loads((cached / f"{name}_pmf.json").read_text())
            if pj.get("protocol", "leave-one-task-out") == "leave-one-task-out" and \
                    set(pj["curves"]) == set(tasks):
                regrets["pmf (cached)"] = regret_curves(pj["curves"], perf,
                                                        direction=data["direction"],
                                                        normalize=data["normalize"])
                print(f"  pmf: curves reused from {cached / f'{name}_pmf.json'} (not re-run)")
        table = regret_table(regrets, at=AT)
        print("mean regret" + (" (range-normalised)" if data["normalize"] else "") + ":")
        print(table.to_string(float_format=lambda v: f"{v:.5f}"))
        info["table"] = {m: {str(c): float(v) for c, v in r.items()} for m, r in table.iterrows()}
        for ours in [m for m in regrets if m != "autosklearn"]:
            cells, rat = [], {}
            for at in AT:
                den = float(regrets["autosklearn"][at].mean())
                num = float(regrets[ours].loc[regrets["autosklearn"].index, at].mean())
                ratio = num / den if den > 0 else float("nan")
                lo, hi = wr.bootstrap_ratio(regrets[ours], regrets["autosklearn"], at, args.seed)
                rat[f"@{at}"] = {"ratio": ratio, "ci95": [lo, hi]}
                ci = "[undefined]" if np.isnan(lo) else f"[{lo:.2f}, {hi:.2f}]"
                cells.append(f"@{at} {ratio:.3f} {ci}")
            info[f"{ours}/autosklearn"] = rat
            print(f"{ours} / auto-sklearn: " + "  ".join(cells), flush=True)
        # agreement and speed
        ag = agreement_and_speed(code, data)
        rows = pd.DataFrame(ag["rows"])
        n_same = int(rows["same_first"].sum())
        print(f"agreement, first 10 proposals: identical on {n_same} of {len(rows)} tasks "
              f"({n_same / len(rows):.1%}); neighbour order identical on "
              f"{int(rows['same_neighbour_order'].sum())}, identical but for the order of "
              f"equal distances on {int(rows['order_differs_by_ties_only'].sum())}; "
              "distances equal up to a constant "
              f"shift on {int(rows['distances_equal_up_to_shift'].sum())} (shift != 0 on "
              f"{int((rows['shift'].abs() > 1e-12).sum())}: meta-features constant over the "
              "database, which auto-sklearn's MinMaxScaler keeps with scale 1)")
        for why, cnt in rows["why"].value_counts().items():
            print(f"    {why}: {cnt}")
        to, tp = np.asarray(ag["t_ours"]), np.asarray(ag["t_peer"])
        print(f"speed, one suggestion list (fit + query; see agreement_and_speed) on the same "
              f"{len(to)} tasks: kNN "
              f"{to.mean() * 1e3:.2f} ms (median {np.median(to) * 1e3:.2f}), auto-sklearn "
              f"{tp.mean() * 1e3:.2f} ms (median {np.median(tp) * 1e3:.2f}); kNN / auto-sklearn "
              f"{to.mean() / tp.mean():.2f}x (mean), {np.median(to) / np.median(tp):.2f}x "
              f"(median); load average {ag['load'][0]:.2f} -> {ag['load'][1]:.2f}", flush=True)
        info["agreement"] = {"identical_first10": n_same, "tasks": len(rows),
                             "why": rows["why"].value_counts().to_dict(),
                             "same_neighbour_order": int(rows["same_neighbour_order"].sum()),
                             "order_differs_by_ties_only":
                                 int(rows["order_differs_by_ties_only"].sum())}
        info["speed"] = {"knn_ms_mean": to.mean() * 1e3, "autosklearn_ms_mean": tp.mean() * 1e3,
                         "ratio_mean": to.mean() / tp.mean(), "load": ag["load"]}
        summary["datasets"][name] = info
    if args.out:
        Path(args.out).write_text(json.dumps(summary, indent=2, default=float))
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--autosklearn-sdist", default=None,
                   help="auto-sklearn-0.15.0.tar.gz or its unpacked folder; " + HOW_TO_GET)
    p.add_argument("--data-dir", default=str(wr.default_data_dir()))
    p.add_argument("--datasets", default="oboe,tabrepo,aslib")
    p.add_argument("--budget", type=int, default=25)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cached-results", default=None,
                   help="bench/warmstart_regret.py's --out folder: PMF's curves are shown "
                   "from <dataset>_pmf.json there (not re-run)")
    p.add_argument("--out", default=None, help="write a JSON summary here")
    p.add_argument("--write-golden", default=None,
                   help="write the golden file of the CI test here and stop")
    return run(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
