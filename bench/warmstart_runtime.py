"""Runtime prediction for a new task, leave-one-task-out on Oboe's runtimes.

    python bench/warmstart_runtime.py [--data-dir ../shared/data] [--json OUT.json]

Data: ``oboe/runtime_matrix.csv`` (358 OpenML datasets x 219 pipelines, seconds, Oboe's own
measurements), ``oboe/dataset_sizes.csv`` (rows, one-hot encoded columns) and the PMF paper's
46 auto-sklearn meta-features (``pmf-metafeatures/data_feats_featurized.csv``, 258 of the 358).

Each task is held out in turn; :class:`warmnas.warmstart.cost.RuntimePredictor` is fitted on the
other tasks only and predicts the held-out task's 219 runtimes from its size (and meta-features).
Printed per method: the fraction of predictions within a factor 2 of the truth, the median
absolute log2 error, and Spearman's rank correlation per task (mean and median over tasks);
``median`` (each configuration's median runtime over the training tasks) is the naive peer. The
methods that need meta-features are scored on the 258 tasks that have them; every method is also
printed on those same 258 tasks, so the rows compare like with like.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from warmnas.warmstart.cost import RuntimePredictor  # noqa: E402

METHODS = ("median", "size", "knn", "size+knn")


def default_data_dir() -> Path:
    return Path(os.environ.get("WARMNAS_SHARED_DATA", REPO.parent / "shared" / "data"))


def sizes_and_features(root: Path, tasks: pd.Index) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Oboe's dataset sizes (``n_rows``, ``n_columns``) of ``tasks`` and the PMF meta-features of
    those that have them (also used by ``bench/warmstart_cost.py``)."""
    sizes = pd.read_csv(root / "oboe" / "dataset_sizes.csv", index_col=0)
    sizes.index = sizes.index.map(str)
    sizes.columns = ["n_rows", "n_columns"]
    feats = pd.read_csv(root / "pmf-metafeatures" / "data_feats_featurized.csv", index_col=0)
    feats.index = feats.index.map(str)
    feats = feats.loc[feats.index.intersection(tasks, sort=False)]
    return sizes.loc[tasks], feats


def load(root: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    cost = pd.read_csv(root / "oboe" / "runtime_matrix.csv", index_col=0)
    cost.index = cost.index.map(str)
    cost.columns = [f"c{i}" for i in range(cost.shape[1])]
    return (cost, *sizes_and_features(root, cost.index))


def scores(pred_log: np.ndarray, true: np.ndarray) -> dict[str, float]:
    ok = ~np.isnan(true) & (true > 0)
    err = np.abs(pred_log[ok] - np.log(true[ok])) / np.log(2.0)
    rho = spearmanr(pred_log[ok], true[ok]).statistic
    return {"within2": float(np.mean(err <= 1.0)), "abs_log2_err": float(np.median(err)),
            "spearman": float(rho)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=default_data_dir())
    ap.add_argument("--json", type=Path, default=None, help="write per-task scores here")
    args = ap.parse_args(argv)
    cost, sizes, feats = load(args.data_dir)
    t0 = time.perf_counter()
    rows = []
    for task in cost.index:
        train = cost.drop(index=task)
        tr_feats = feats.drop(index=[task], errors="ignore")
        pred = RuntimePredictor().fit(train, sizes.drop(index=task), tr_feats)
        s = sizes.loc[task].to_numpy()
        q = feats.loc[task].dropna() if task in feats.index else None
        true = cost.loc[task].to_numpy(dtype=np.float64)
        for method in METHODS:
            if "knn" in method and q is None:
                continue
            pred.method = method
            lp = pred.predict_log(s, q)
            rows.append({"task": task, "method": method, "has_meta_features": q is not None,
                         **scores(lp, true)})
    elapsed = time.perf_counter() - t0
    res = pd.DataFrame(rows)
    load1 = os.getloadavg()[0]
    print(f"Oboe runtimes, leave-one-task-out: {cost.shape[0]} tasks x {cost.shape[1]} "
          f"configurations; {elapsed:.1f} s for all fits and predictions "
          f"(1-min load average {load1:.2f})")
    print("within2 = fraction of predictions within a factor 2 of the truth (all task x config "
          "pairs); |log2 err| = median absolute log2 error; Spearman per task: mean / median")
    for label, sub in (("all 358 tasks (sizes only)", res[res["method"].isin(["median", "size"])]),
                       ("258 tasks with meta-features", res[res["has_meta_features"]])):
        print(f"\n{label}")
        print(f"{'method':<10} {'tasks':>5} {'within2':>8} {'|log2 err|':>10} "
              f"{'rho mean':>9} {'rho median':>10}")
        for method in METHODS:
            m = sub[sub["method"] == method]
            if not len(m):
                continue
            print(f"{method:<10} {len(m):>5} {m['within2'].mean():>8.3f} "
                  f"{m['abs_log2_err'].median():>10.2f} {m['spearman'].mean():>9.3f} "
                  f"{m['spearman'].median():>10.3f}")
    sub = res[res["has_meta_features"]].pivot(index="task", columns="method", values="within2")
    rng = np.random.default_rng(0)
    idx = rng.integers(0, len(sub), (2000, len(sub)))
    print("\npaired bootstrap (2000 resamples of the 258 tasks), within2 difference vs median:")
    for method in ("size", "knn", "size+knn"):
        d = (sub[method] - sub["median"]).to_numpy()
        boots = d[idx].mean(axis=1)
        lo, hi = np.percentile(boots, [2.5, 97.5])
        print(f"  {method:<9} {d.mean():+.3f}  [{lo:+.3f}, {hi:+.3f}]")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
