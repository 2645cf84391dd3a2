"""Warm-start regret on three real matrices: random, global-rank and greedy portfolios, kNN and PMF, one run.

    python bench/warmstart_regret.py [--data-dir ../shared/data] [--folds K] [--out DIR]
        [--datasets oboe,tabrepo,aslib] [--budget 25] [--seed 0] [--plot docs/warmstart_regret.png]

Matrices (rows = tasks, columns = configurations; each method sees a held-out task's value only
for the configurations it proposed):

* ``oboe``: ``oboe/error_matrix.csv``, 358 OpenML datasets x 219 scikit-learn pipelines, balanced
  error (minimise). Meta-features: the PMF paper's 46 auto-sklearn meta-features
  (``pmf-metafeatures/data_feats_featurized.csv``), available for 258 of the 358 datasets.
* ``tabrepo``: ``tabrepo-lightgbm/results_ranked_by_dataset_valid.csv`` pivoted to 78 OpenML
  tasks x 104 LightGBM configurations, ``metric_error`` (minimise; 1 - AUC for binary, log loss
  for multiclass, RMSE for regression, so its regret is reported per task divided by the
  task's best-to-worst range). Meta-features: derived from OpenML's task metadata
  (``task_metadata_244.csv``: sizes, class balance, missing values, feature types, problem type),
  available for 76 of the 78 tasks; none computed from the data.
* ``aslib``: ASlib OPENML-WEKA-2017, 105 OpenML tasks x 30 WEKA algorithms, predictive accuracy
  (maximise; regret = best accuracy - best-so-far accuracy), its 103 OpenML meta-features (NaN
  imputed with the database median for database tasks, left out of the distance for the new one).

Protocol: leave-one-task-out by default (every method is refitted without the held-out task:
meta-feature scaling, portfolio, PMF's latent embedding and kernel included); ``--folds K``:
grouped K-fold over tasks instead (strictly harder, one fit per fold). The held-out tasks are the
tasks with meta-features (kNN needs them); tasks without meta-features always stay in training
(they still inform the portfolio and PMF, never kNN's neighbours). All four methods run on the
same tasks under the same protocol.

Methods: random search, the global-rank portfolio (mean rank over tasks), the greedy portfolio
(auto-sklearn 2.0 / TabRepo), kNN (auto-sklearn v1) and PMF (Fusi et al. 2018). Peers: Syne
Tune's transfer-learning methods ``st-zeroshot`` (ZeroShotTransfer), ``st-quantile`` (the
quantile-based surrogate, Salinas et al. 2020) and ``st-boundingbox`` (BoundingBox around random
search), adapted in ``bench/_syne_tune_peers.py``; they need ``pip install warmnas[bench]``
(syne-tune) and are skipped with a message without it. For each peer the script prints PMF / peer
and kNN / peer at 1/3/5/10/25 evaluations with paired bootstrap 95 % intervals.

Prints the mean regret at 1/3/5/10/25 evaluations per method and matrix, the PMF/kNN ratio, PMF's
fit time on the full Oboe matrix and its per-suggestion time (with the 1-minute load average; the
machine is shared), and writes a PNG of mean regret vs evaluations (one panel per matrix) and
the per-task curves as JSON under ``--out``.
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

REPO = Path(__file__).resolve().parents[1]
METHODS = ("random", "portfolio-rank", "portfolio", "knn", "pmf")
PEERS = ("st-zeroshot", "st-quantile", "st-boundingbox")
AT = (1, 3, 5, 10, 25)


def default_data_dir() -> Path:
    return Path(os.environ.get("WARMNAS_SHARED_DATA", REPO.parent / "shared" / "data"))


# ------------------------------------------------------------------------------------ loaders
def load_oboe(root: Path) -> dict:
    perf = pd.read_csv(root / "oboe" / "error_matrix.csv", index_col=0)
    feats = pd.read_csv(root / "pmf-metafeatures" / "data_feats_featurized.csv", index_col=0)
    perf.index = perf.index.map(str)
    feats.index = feats.index.map(str)
    feats = feats.loc[feats.index.intersection(perf.index, sort=False)]
    return {"performance": perf, "meta_features": feats, "direction": "minimize",
            "normalize": None, "label": "Oboe (balanced error)"}


def load_tabrepo(root: Path) -> dict:
    folder = root / "tabrepo-lightgbm"
    res = pd.read_csv(folder / "results_ranked_by_dataset_valid.csv")
    perf = res.pivot_table(index="dataset", columns="framework", values="metric_error",
                           aggfunc="mean")
    perf.index = perf.index.map(str)
    ptype = res.groupby("dataset")["problem_type"].first()
    ptype.index = ptype.index.map(str)
    md = pd.read_csv(folder / "task_metadata_244.csv")
    md["tid"] = md["tid"].map(str)
    md = md.set_index("tid")
    md = md.loc[md.index.intersection(perf.index, sort=False)]
    n = md["NumberOfInstances"].astype(float)
    d = md["NumberOfFeatures"].astype(float)
    pt = ptype.reindex(md.index)
    feats = pd.DataFrame(
        {
            "LogNumberOfInstances": np.log(n),
            "LogNumberOfFeatures": np.log(d),
            "LogDatasetRatio": np.log(d) - np.log(n),
            "NumberOfClasses": md["NumberOfClasses"].fillna(0.0).astype(float),
            "MajorityClassFraction": md["MajorityClassSize"].astype(float) / n,
            "MinorityClassFraction": md["MinorityClassSize"].astype(float) / n,
            "FractionSymbolicFeatures": md["NumberOfSymbolicFeatures"].astype(float) / d,
            "FractionMissingValues": md["NumberOfMissingValues"].astype(float) / (n * d),
            "FractionInstancesWithMissingValues":
                md["NumberOfInstancesWithMissingValues"].astype(float) / n,
            "LogMaxNominalAttDistinctValues":
                np.log1p(md["MaxNominalAttDistinctValues"].astype(float)),
            "IsBinary": (pt == "binary").astype(float),
            "IsMulticlass": (pt == "multiclass").astype(float),
            "IsRegression": (pt == "regression").astype(float),
        },
        index=md.index,
    )
    return {"performance": perf, "meta_features": feats, "direction": "minimize",
            "normalize": "range", "label": "TabRepo LightGBM (metric_error, range-normalised)"}


def load_aslib(root: Path) -> dict:
    import arff

    folder = root / "aslib-openml-weka-2017"
    with open(folder / "algorithm_runs.arff") as fh:
        runs_arff = arff.load(fh)
    runs = pd.DataFrame(runs_arff["data"], columns=[a[0] for a in runs_arff["attributes"]])
    runs.loc[runs["runstatus"] != "ok", "predictive_accuracy"] = np.nan
    perf = runs.pivot_table(index="instance_id", columns="algorithm",
                            values="predictive_accuracy", aggfunc="mean", dropna=False)
    perf = perf.dropna(how="all").dropna(axis=1, how="all")
    perf.index = perf.index.map(str)
    with open(folder / "feature_values.arff") as fh:
        fa = arff.load(fh)
    feats = pd.DataFrame(fa["data"], columns=[a[0] for a in fa["attributes"]])
    feats["instance_id"] = feats["instance_id"].map(str)
    feats = feats.drop(columns=["repetition"]).set_index("instance_id")
    feats = feats.apply(pd.to_numeric, errors="coerce").groupby(level=0).mean()
    feats = feats.loc[feats.index.intersection(perf.index, sort=False)]
    feats = feats.loc[:, feats.notna().any()]
    return {"performance": perf, "meta_features": feats, "direction": "maximize",
            "normalize": None, "label": "ASlib OPENML-WEKA-2017 (accuracy)"}


LOADERS = {"oboe": load_oboe, "tabrepo": load_tabrepo, "aslib": load_aslib}


# ------------------------------------------------------------------------------------- runner
def run(args: argparse.Namespace) -> int:
    import torch

    from warmnas.warmstart import make_starter
    from warmnas.warmstart.evaluation import (
        leave_one_task_out,
        plot_regret_panels,
        regret_curves,
        regret_table,
    )

    torch.set_num_threads(args.threads)
    root = Path(args.data_dir)
    if not (root / "SOURCES.md").exists():
        print(f"shared data not found at {root}; pass --data-dir", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    protocol = "leave-one-task-out" if args.folds is None else f"grouped {args.folds}-fold"
    datasets = [d.strip() for d in args.datasets.split(",") if d.strip()]
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHODS + PEERS]
    if unknown:
        print(f"unknown --methods {unknown}; known: {', '.join(METHODS + PEERS)}",
              file=sys.stderr)
        return 2
    if any(m in PEERS for m in methods):
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import _syne_tune_peers

        if _syne_tune_peers.syne_tune_available():
            _syne_tune_peers.quiet_syne_tune()
        else:
            skipped = [m for m in methods if m in PEERS]
            print(f"syne-tune is not installed: skipping {', '.join(skipped)} "
                  "(pip install 'warmnas[bench]' to run Syne Tune's transfer learning)",
                  flush=True)
            methods = [m for m in methods if m not in PEERS]
    panels = {}
    summary: dict = {"protocol": protocol, "budget": args.budget, "seed": args.seed,
                     "datasets": {}}
    for name in datasets:
        data = LOADERS[name](root)
        perf, feats = data["performance"], data["meta_features"]
        tasks = [t for t in perf.index if t in feats.index]
        print(f"\n== {data['label']}: {perf.shape[0]} tasks x {perf.shape[1]} configs, "
              f"{len(tasks)} with meta-features (held out in turn), protocol: {protocol}",
              flush=True)
        regrets = {}
        info: dict = {"tasks": perf.shape[0], "configs": perf.shape[1],
                      "evaluated": len(tasks), "methods": {}}
        for method in methods:
            path = out / f"{name}_{method}.json"
            if path.exists() and not args.force:
                res_json = json.loads(path.read_text())
                print(f"  {method}: reusing {path}", flush=True)
                if res_json.get("protocol", protocol) != protocol:
                    print(f"  WARNING: {path} was computed under {res_json['protocol']}, "
                          f"not {protocol}; rerun with --force to compare like with like",
                          flush=True)
            else:
                starter = (_syne_tune_peers.make_peer(method, args.seed) if method in PEERS
                           else make_starter(method))
                t0 = time.perf_counter()
                load0 = os.getloadavg()[0]
                res = leave_one_task_out(starter, perf, feats,
                                         direction=data["direction"], budget=args.budget,
                                         folds=args.folds, tasks=tasks, random_state=args.seed)
                res_json = res.to_json()
                res_json["protocol"] = protocol
                res_json["wall_seconds"] = time.perf_counter() - t0
                res_json["load_average"] = [load0, os.getloadavg()[0]]
                res_json["load_average_end"] = os.getloadavg()[0]
                if method in PEERS:
                    res_json["adapter_stats"] = dict(starter.stats)
                path.write_text(json.dumps(res_json))
                print(f"  {method}: {res_json['wall_seconds']:.0f} s, "
                      f"fit mean {np.mean(res_json['fit_seconds']):.2f} s, "
                      f"load {load0:.1f} -> {os.getloadavg()[0]:.1f}", flush=True)
            if "adapter_stats" in res_json:
                st = res_json["adapter_stats"]
                print(f"    {method}: {st['suggestions']} proposals, {st['retries']} re-asks "
                      f"(Syne Tune proposed an evaluated configuration), {st['fallbacks']} "
                      f"fall-backs, {st.get('outside_box', 0)} after the bounding box was "
                      "exhausted (see bench/_syne_tune_peers.py)", flush=True)
            regrets[method] = regret_curves(res_json["curves"], perf,
                                            direction=data["direction"],
                                            normalize=data["normalize"])
            info["methods"][method] = {
                "fit_seconds_mean": float(np.mean(res_json["fit_seconds"])),
                "suggest_seconds_mean": res_json["suggest_seconds_mean"],
                "suggest_seconds_max": res_json["suggest_seconds_max"],
                "wall_seconds": res_json.get("wall_seconds"),
                "load_average": res_json.get("load_average"),
                "adapter_stats": res_json.get("adapter_stats"),
            }
        table = regret_table(regrets, at=AT)
        print(f"mean regret{' (range-normalised)' if data['normalize'] else ''}:")
        print(table.to_string(float_format=lambda v: f"{v:.5f}"))
        if "pmf" in regrets and "knn" in regrets:
            for at in (10, 25):
                lo, hi = bootstrap_ratio(regrets["pmf"], regrets["knn"], at, args.seed)
                info[f"pmf_over_knn_at{at}_ci95"] = [lo, hi]
                ci = ("undefined (kNN's regret is 0 in many resamples)" if np.isnan(lo)
                      else f"[{lo:.2f}, {hi:.2f}]")
                print(f"PMF / kNN at {at}, paired bootstrap 95 % interval over tasks: {ci}")
        if "pmf" in table.index and "knn" in table.index:
            ratio = table.loc["pmf"] / table.loc["knn"]
            print("PMF / kNN: " + "  ".join(f"{c} {v:.3f}" for c, v in ratio.items()))
            info["pmf_over_knn"] = {c: float(v) for c, v in ratio.items()}
        peer_ratios = compare_peers(regrets, args.seed)
        if peer_ratios:
            info["warmnas_over_peer"] = peer_ratios
        info["table"] = {m: {c: float(v) for c, v in row.items()} for m, row in table.iterrows()}
        summary["datasets"][name] = info
        panels[data["label"]] = regrets
    if "pmf" in methods and "oboe" in datasets and not args.skip_timing:
        summary["pmf_timing"] = time_pmf(root, args.threads)
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    if args.plot:
        plot_regret_panels(panels, args.plot, title=f"warm-start regret ({protocol})")
        print(f"\nplot: {args.plot}")
    return 0


def compare_peers(regrets: dict[str, pd.DataFrame], seed: int) -> dict:
    """Print and return PMF / peer and kNN / peer (mean regret) with paired bootstrap intervals.

    Below 1: the warmnas method has the lower mean regret at that many evaluations.
    """
    out: dict = {}
    for peer in (m for m in PEERS if m in regrets):
        for ours in (m for m in ("pmf", "knn") if m in regrets):
            cells, rows = [], {}
            for at in AT:
                den = float(regrets[peer][at].mean())
                num = float(regrets[ours].loc[regrets[peer].index, at].mean())
                ratio = num / den if den > 0 else float("nan")
                lo, hi = bootstrap_ratio(regrets[ours], regrets[peer], at, seed)
                rows[f"@{at}"] = {"ratio": ratio, "ci95": [lo, hi]}
                ci = "[undefined]" if np.isnan(lo) else f"[{lo:.2f}, {hi:.2f}]"
                cells.append(f"@{at} {ratio:.3f} {ci}")
            out[f"{ours}/{peer}"] = rows
            print(f"{ours.upper() if ours == 'pmf' else 'kNN'} / {peer}: " + "  ".join(cells))
    return out


def bootstrap_ratio(a: pd.DataFrame, b: pd.DataFrame, at: int, seed: int,
                    n: int = 2000) -> tuple[float, float]:
    """95 % paired bootstrap interval (over tasks) of mean(a) / mean(b) at ``at`` evaluations.

    NaN where the interval is undefined: when more than 2.5 % of the resamples have a zero
    denominator (e.g. ASlib at 25 evaluations, where kNN has found the best configuration on
    nearly every task).
    """
    x, y = a[at].to_numpy(), b.loc[a.index, at].to_numpy()
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(x), size=(n, len(x)))
    num, den = x[idx].mean(axis=1), y[idx].mean(axis=1)
    if np.mean(den <= 0) > 0.025:
        return float("nan"), float("nan")
    ratios = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.inf)
    lo, hi = np.percentile(ratios, [2.5, 97.5])
    return float(lo), float(hi)


def time_pmf(root: Path, threads: int) -> dict:
    """PMF fit on the full Oboe matrix (358 x 219) and suggestion times, with the load."""
    from warmnas.warmstart import PMFWarmStarter

    data = load_oboe(root)
    perf, feats = data["performance"], data["meta_features"]
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    pmf = PMFWarmStarter().fit(perf, feats)
    fit_s = time.perf_counter() - t0
    times = []
    rng = np.random.default_rng(0)
    for task in rng.choice(feats.index, 10, replace=False):
        search = pmf.start(feats.loc[task], random_state=0)
        for _ in range(25):
            t1 = time.perf_counter()
            cid = search.ask()
            times.append(time.perf_counter() - t1)
            search.tell(cid, float(perf.loc[task, cid]))
    post = [t for i, t in enumerate(times) if i % 25 >= pmf.n_init]
    out = {"fit_seconds": fit_s, "n_iter": pmf.n_iter, "n_latent": pmf.n_latent,
           "suggest_seconds_mean": float(np.mean(post)), "suggest_seconds_max": float(np.max(post)),
           "load_average": [load0, os.getloadavg()[0]], "torch_threads": threads}
    print(f"\nPMF fit on Oboe {perf.shape[0]} x {perf.shape[1]}: {fit_s:.1f} s "
          f"(target < 60 s; {pmf.n_iter} Adam steps, Q={pmf.n_latent}); posterior suggestion: "
          f"mean {out['suggest_seconds_mean'] * 1000:.0f} ms, max "
          f"{out['suggest_seconds_max'] * 1000:.0f} ms (target < 1 s); load average "
          f"{load0:.2f} -> {os.getloadavg()[0]:.2f}, torch threads {threads}")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", default=str(default_data_dir()))
    p.add_argument("--datasets", default="oboe,tabrepo,aslib")
    p.add_argument("--methods", default=",".join(METHODS + PEERS),
                   help=f"comma-separated, of {', '.join(METHODS + PEERS)} (st-*: Syne Tune)")
    p.add_argument("--folds", type=int, default=None,
                   help="grouped K-fold over tasks instead of leave-one-task-out")
    p.add_argument("--budget", type=int, default=25)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch threads (shared machine: 1)")
    p.add_argument("--out", default="warmstart-results",
                   help="folder for per-method curves (reused on a re-run unless --force)")
    p.add_argument("--force", action="store_true", help="recompute even if results exist")
    p.add_argument("--plot", default=str(REPO / "docs" / "warmstart_regret.png"))
    p.add_argument("--skip-timing", action="store_true", help="skip the PMF timing run")
    return run(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
