"""Regret under a time budget on Oboe: plain vs cost-aware warm starts, one run.

    python bench/warmstart_cost.py [--data-dir ../shared/data] [--folds 10] [--seconds 3,10,30,100,300]
        [--max-evals 40] [--methods random,portfolio,knn,pmf] [--seed 0] [--json OUT.json]
        [--rules point,q0.9] [--only-folds 1,2,3]
    python bench/warmstart_cost.py --merge A.json B.json ...   # runs on separate --only-folds

Data: ``oboe/error_matrix.csv`` (358 OpenML datasets x 219 pipelines, balanced error),
``oboe/runtime_matrix.csv`` (the same cells' runtimes in seconds, Oboe's measurements: the
"true" cost of running a configuration), ``oboe/dataset_sizes.csv`` and the PMF paper's 46
meta-features (258 of the 358 datasets).

Protocol: grouped K-fold over the 258 tasks with meta-features (``--folds``, default 10; the 100
others always stay in training). Per fold every warm starter and the runtime predictor
(:class:`warmnas.warmstart.cost.RuntimePredictor`, ``"size+knn"``) are fitted on the training
tasks only. On a held-out task a method proposes one configuration at a time, is told its error
and its true runtime, and the clock advances by that runtime. The regret after ``T`` seconds is
the best error among the configurations *finished* within ``T`` seconds minus the task's best
error; a task with nothing finished by ``T`` counts the regret of an uninformed pick (the
task's mean error minus its best), and the fraction of tasks with a result is printed too.

Also printed: the same paired difference over only the tasks where both runs finished a
configuration by ``T`` (the convention above then plays no part), and, per method, the paired
difference regret(T') - regret(T) between consecutive budgets with "non-increasing: yes/NO"
(a larger budget should never give a worse mean result).

``--rules``: the cost-aware admission rules to compare in the same run: ``point`` (a
configuration fits when its point prediction fits in the time left), ``qP`` (when it fits
with probability ``P`` by its own cross-validated log errors,
``RuntimePredictor.log_error_quantile(P)``), ``poolP`` (one quantile over all configurations,
i.e. a cap on a run's predicted cost at a fraction of the time left); each optionally followed
by ``/CAL``, the machine-factor calibration (``CostAwareSearch(calibrate=...)``): ``mean`` (the
shrunk geometric mean; the default when no ``/CAL`` is given, the rule every earlier figure
was measured with), ``posterior`` (the conjugate normal posterior, its predictive widening the
plan; the noise is the predictor's cross-validated log-error variance), ``posterior-late``
(the same posterior, widening the plan only once a run has been measured) or ``none``.

``--machine-factors F1,F2,...``: simulate a user's machine ``F`` times slower than Oboe's: the
true runtime of every run is Oboe's recorded runtime times ``F`` (times ``exp(--noise-sd *
N(0, 1))`` per run when ``--noise-sd`` > 0, seeded per task), while the predictions still come
from Oboe's runtimes; the tables are printed per factor (default ``1``: Oboe's runtimes as
recorded). ``--only-folds`` runs a
subset of the folds of the same split; ``--merge`` prints the tables of several such runs'
``--json`` outputs together (so that a long benchmark can be run in parts).

* plain method: its usual order (one run per task, read at every ``T``);
* cost-aware (``+cost``): one run per task and per ``T`` with ``time_budget=T``: configurations
  predicted not to fit in the time left are skipped, kNN / portfolio / random keep their order
  among the rest, PMF ranks by expected improvement per predicted second; predictions are
  rescaled by measured / predicted ratios as runtimes come in.

Both stop after ``--max-evals`` evaluations (40: it bounds PMF's CPU time; it binds only at the
largest ``T`` on small datasets, the same way for both). Prints, per ``T``, the mean regret of
every method, the paired difference cost-aware - plain with a 95 % bootstrap interval (2000
resamples of the tasks), and the 1-minute load average. CPU: about 10 PMF fits (~10-20 s each)
plus the searches; 10-25 minutes on a loaded 2-core machine.
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
sys.path.insert(0, str(REPO))

from warmstart_runtime import sizes_and_features  # noqa: E402  (bench/ is on sys.path)

from warmnas.warmstart import make_starter  # noqa: E402
from warmnas.warmstart.cost import CostAwareSearch, RuntimePredictor  # noqa: E402

METHODS = ("random", "portfolio", "knn", "pmf")


def default_data_dir() -> Path:
    return Path(os.environ.get("WARMNAS_SHARED_DATA", REPO.parent / "shared" / "data"))


def load(root: Path):
    err = pd.read_csv(root / "oboe" / "error_matrix.csv", index_col=0)
    cost = pd.read_csv(root / "oboe" / "runtime_matrix.csv", index_col=0)
    if list(err.columns) != list(cost.columns) or list(err.index) != list(cost.index):
        raise SystemExit("error and runtime matrices do not have the same rows and columns")
    ids = [f"c{i}" for i in range(err.shape[1])]
    err.columns = cost.columns = ids
    err.index = cost.index = err.index.map(str)
    return (err, cost, *sizes_and_features(root, err.index))


def run_task(search, errors: pd.Series, runtimes: pd.Series, horizon: float, max_evals: int,
             timed: CostAwareSearch | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(finish time, error) of each evaluation, in order, until ``horizon`` seconds are spent."""
    clock, finish, vals = 0.0, [], []
    for _ in range(max_evals):
        if clock >= horizon:
            break
        cid = timed.ask() if timed is not None else search.ask()
        if cid is None:
            break
        value, rt = float(errors[cid]), float(runtimes[cid])
        if timed is not None:
            timed.tell(cid, value, cost_s=rt)
        else:
            search.tell(cid, value)
        clock += rt
        finish.append(clock)
        vals.append(value)
    return np.asarray(finish), np.asarray(vals)


def regret_at(finish: np.ndarray, vals: np.ndarray, T: float, best: float,
              uninformed: float) -> tuple[float, bool]:
    done = vals[finish <= T + 1e-12]
    if not len(done):
        return uninformed, False
    return float(done.min() - best), True


def rule_label(m: str, r: str) -> str:
    return f"{m}+cost" + ("" if r == "point" else f"@{r}")


def parse_rule(r: str) -> tuple[str, str]:
    """``"q0.95/posterior"`` -> ``("q0.95", "posterior")``; no ``/`` -> calibration ``mean``."""
    margin, _, cal = r.partition("/")
    cal = cal or "mean"
    if margin != "point" and not (margin.startswith("q") or margin.startswith("pool")):
        raise SystemExit(f"--rules: unknown rule {r!r} (point, qP or poolP, optionally /CAL)")
    if cal not in ("mean", "posterior", "posterior-late", "none"):
        raise SystemExit(f"--rules: unknown calibration in {r!r} (mean, posterior, "
                         "posterior-late or none)")
    return margin, cal


def report(regrets, has_result, n_evals, methods, rules, Ts, tasks) -> dict:
    """Print the tables (mean regret, paired differences, monotonicity in T); return the
    paired summary."""
    labels = list(methods) + [rule_label(m, r) for r in rules for m in methods]
    print("mean regret (balanced error) after T seconds of true runtime "
          "(fraction of tasks with a finished run in brackets)")
    head = f"{'method':<22}" + "".join(f"{f'T={T:g}s':>16}" for T in Ts)
    print(head)
    for lab in labels:
        cells = []
        for T in Ts:
            r = np.array([regrets[lab][T][t] for t in tasks])
            ok = np.mean([has_result[lab][T][t] for t in tasks])
            cells.append(f"{r.mean():.4f} ({ok:.2f})")
        print(f"{lab:<22}" + "".join(f"{c:>16}" for c in cells))
    print("\ncost-aware - plain, mean over tasks, paired bootstrap 95 % interval "
          "(negative = cost-aware better)")
    rng = np.random.default_rng(0)
    idx = rng.integers(0, len(tasks), (2000, len(tasks)))
    print(f"{'method':<22}" + "".join(f"{f'T={T:g}s':>26}" for T in Ts))
    summary: dict = {}
    pairs = [(m, rule_label(m, r)) for r in rules for m in methods]
    for m, lab in pairs:
        cells = []
        for T in Ts:
            d = np.array([regrets[lab][T][t] - regrets[m][T][t] for t in tasks])
            lo, hi = np.percentile(d[idx].mean(axis=1), [2.5, 97.5])
            cells.append(f"{d.mean():+.4f} [{lo:+.4f},{hi:+.4f}]")
            summary[f"{lab}@{T:g}"] = {"diff": float(d.mean()), "lo": float(lo), "hi": float(hi)}
        print(f"{lab:<22}" + "".join(f"{c:>26}" for c in cells))
    print("\nthe same, only over the tasks where both had a finished run by T (so the "
          "'nothing finished' convention plays no part); n = such tasks")
    print(f"{'method':<22}" + "".join(f"{f'T={T:g}s':>32}" for T in Ts))
    for m, lab in pairs:
        cells = []
        for T in Ts:
            both = [t for t in tasks if has_result[m][T][t] and has_result[lab][T][t]]
            d = np.array([regrets[lab][T][t] - regrets[m][T][t] for t in both])
            bidx = rng.integers(0, len(both), (2000, len(both)))
            lo, hi = np.percentile(d[bidx].mean(axis=1), [2.5, 97.5])
            cells.append(f"{d.mean():+.4f} [{lo:+.4f},{hi:+.4f}] n={len(both)}")
            summary[f"{lab}@{T:g}:both"] = {"diff": float(d.mean()), "lo": float(lo),
                                            "hi": float(hi), "n": len(both)}
        print(f"{lab:<22}" + "".join(f"{c:>32}" for c in cells))
    if len(rules) > 1:
        print(f"\neach rule - the first rule ({rules[0]}), mean over tasks, paired bootstrap 95 % "
              "interval (negative = better than the first rule)")
        print(f"{'method':<22}" + "".join(f"{f'T={T:g}s':>26}" for T in Ts))
        for r in rules[1:]:
            for m in methods:
                lab, base = rule_label(m, r), rule_label(m, rules[0])
                cells = []
                for T in Ts:
                    d = np.array([regrets[lab][T][t] - regrets[base][T][t] for t in tasks])
                    lo, hi = np.percentile(d[idx].mean(axis=1), [2.5, 97.5])
                    cells.append(f"{d.mean():+.4f} [{lo:+.4f},{hi:+.4f}]")
                print(f"{lab:<22}" + "".join(f"{c:>26}" for c in cells))
    print("\nis the mean regret non-increasing in T? regret(T') - regret(T) for consecutive "
          "budgets, paired bootstrap 95 % interval (positive = worse with more time)")
    monotone = {}
    for lab in labels:
        cells, ok_all = [], True
        for T0, T1 in zip(Ts[:-1], Ts[1:]):
            d = np.array([regrets[lab][T1][t] - regrets[lab][T0][t] for t in tasks])
            lo, hi = np.percentile(d[idx].mean(axis=1), [2.5, 97.5])
            ok_all &= bool(d.mean() <= 0)
            cells.append(f"{d.mean():+.4f} [{lo:+.4f},{hi:+.4f}]")
        monotone[lab] = ok_all
        print(f"{lab:<22}" + "".join(f"{c:>26}" for c in cells)
              + f"   non-increasing: {'yes' if ok_all else 'NO'}")
    summary["monotone"] = monotone
    print("\nevaluations per run (mean): " + ", ".join(
        f"{lab} {np.mean(n_evals[lab]):.1f}" for lab in labels))
    return summary


def calibration_verdict(blocks: dict, methods: list[str], Ts: list[float],
                        tasks: list[str]) -> None:
    """The pre-registered criterion of docs/warmstart_cost.md ("Learning the machine factor"):
    ``M/C`` minus ``M/mean`` for each other calibration ``C`` (``posterior``,
    ``posterior-late``) of the first margin rule ``M`` having both, per machine factor,
    method and budget, mean over tasks with a paired bootstrap 95 % interval (2000 resamples).
    "not worse" at a factor: for both methods at every T the interval's lower end <= 0;
    "better": not worse, and the interval's upper end < 0 at >= 3 of the T. ``C`` would become
    the default only if it is not worse at the factors <= 1 and better at the factors > 1."""
    rules = blocks[next(iter(blocks))]["rules"]
    bases = [r for r in rules if r.endswith("/mean")]
    if not bases:
        return
    base = bases[0]
    margin = base.split("/")[0]
    for post in [f"{margin}/{c}" for c in ("posterior", "posterior-late")
                 if f"{margin}/{c}" in rules]:
        _verdict(blocks, methods, Ts, tasks, base, post)


def _verdict(blocks: dict, methods: list[str], Ts: list[float], tasks: list[str], base: str,
             post: str) -> None:
    print(f"\n===== pre-registered criterion: {post} minus {base} (negative = {post} "
          "better), mean over tasks, paired bootstrap 95 % interval =====")
    rng = np.random.default_rng(0)
    idx = rng.integers(0, len(tasks), (2000, len(tasks)))
    print(f"{'factor / method':<20}" + "".join(f"{f'T={T:g}s':>26}" for T in Ts)
          + "   verdict")
    verdicts: dict[str, dict[str, str]] = {}
    for fk, block in blocks.items():
        R = block["regrets"]
        for m in methods:
            cells, worse, better = [], 0, 0
            for T in Ts:
                a, b = R[rule_label(m, post)][f"{T:g}"], R[rule_label(m, base)][f"{T:g}"]
                d = np.array([a[t] - b[t] for t in tasks])
                lo, hi = np.percentile(d[idx].mean(axis=1), [2.5, 97.5])
                worse += int(lo > 0)
                better += int(hi < 0)
                cells.append(f"{d.mean():+.4f} [{lo:+.4f},{hi:+.4f}]")
            v = "worse" if worse else ("better" if better >= 3 else "not worse")
            verdicts.setdefault(fk, {})[m] = v
            print(f"{f'f={fk} {m}':<20}" + "".join(f"{c:>26}" for c in cells) + f"   {v}")
    ok = True
    for fk, per in verdicts.items():
        need = ("better",) if float(fk) > 1 else ("better", "not worse")
        ok &= all(v in need for v in per.values())
    print(f"criterion met for {post} (not worse at f <= 1, better at f > 1, for every "
          f"method): {'YES' if ok else 'NO'}")


def merge(paths: list[Path]) -> int:
    """Print the tables of several ``--json`` outputs of the same split (e.g. run on separate
    ``--only-folds``), over the union of their tasks."""
    runs = [json.loads(Path(p).read_text()) for p in paths]
    if "factors" in runs[0]:  # one block per machine factor
        for f in runs[0]["factors"]:
            print(f"\n===== machine factor {f}: true runtime = Oboe's x {f} =====")
            merge_runs([r["factors"][f] | {k: r[k] for k in ("wall_s", "load")} for r in runs],
                       len(paths))
        blocks = {}
        for f in runs[0]["factors"]:
            merged = {"rules": runs[0]["factors"][f]["rules"], "regrets": {}}
            for lab in runs[0]["factors"][f]["regrets"]:
                merged["regrets"][lab] = {
                    T: {t: v for r in runs for t, v in r["factors"][f]["regrets"][lab][T].items()}
                    for T in runs[0]["factors"][f]["regrets"][lab]}
            blocks[f] = merged
        tasks = [t for r in runs for t in r["factors"][next(iter(r["factors"]))]["tasks"]]
        first = runs[0]["factors"][next(iter(runs[0]["factors"]))]
        calibration_verdict(blocks, first["methods"], [float(t) for t in first["seconds"]],
                            list(dict.fromkeys(tasks)))
        return 0
    return merge_runs(runs, len(paths))


def merge_runs(runs: list[dict], n_files: int) -> int:
    keys = ("seed", "folds", "max_evals", "methods", "rules", "seconds")
    for r in runs[1:]:
        for k in keys:
            if r[k] != runs[0][k]:
                raise SystemExit(f"--merge: {k} differs between the files ({r[k]} vs "
                                 f"{runs[0][k]})")
    first = runs[0]
    Ts = [float(t) for t in first["seconds"]]
    labels = list(first["regrets"])
    regrets = {lab: {T: {} for T in Ts} for lab in labels}
    has_result = {lab: {T: {} for T in Ts} for lab in labels}
    n_evals: dict[str, list] = {lab: [] for lab in labels}
    tasks: list[str] = []
    for r in runs:
        tasks += [t for t in r["tasks"] if t not in tasks]
        for lab in labels:
            n_evals[lab] += r["n_evals"][lab]
            for T in Ts:
                regrets[lab][T].update(r["regrets"][lab][f"{T:g}"])
                has_result[lab][T].update(r["has_result"][lab][f"{T:g}"])
    print(f"merged {n_files} runs: {len(tasks)} tasks, grouped {first['folds']}-fold, seed "
          f"{first['seed']}, max {first['max_evals']} evaluations; wall seconds per run "
          + ", ".join(f"{r['wall_s']:.0f} (load {r['load']:.2f})" for r in runs))
    report(regrets, has_result, n_evals, first["methods"], first["rules"], Ts, tasks)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=default_data_dir())
    ap.add_argument("--folds", type=int, default=10)
    ap.add_argument("--seconds", default="3,10,30,100,300")
    ap.add_argument("--max-evals", type=int, default=40)
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--rules", default="point",
                    help="cost-aware admission rules, comma-separated: 'point' (fits at the "
                         "point prediction), 'qP' (fits with probability P by each "
                         "configuration's cross-validated log errors, e.g. q0.9), 'poolP' (one "
                         "quantile over all configurations: a cap at a fraction of the time left)")
    ap.add_argument("--only-folds", default=None,
                    help="run only these folds (1-based, comma-separated) of the split: a task "
                         "subset, stated in the output")
    ap.add_argument("--machine-factors", default="1",
                    help="comma-separated factors F: true runtime = Oboe's recorded runtime x F "
                         "(a machine F times slower), e.g. 0.25,1,4,16 (default 1)")
    ap.add_argument("--noise-sd", type=float, default=0.0,
                    help="per-run log-normal noise of the true runtime (sd of its log; 0)")
    ap.add_argument("--merge", nargs="+", type=Path, default=None,
                    help="print the tables of these --json outputs together and exit")
    args = ap.parse_args(argv)
    if args.merge:
        return merge(args.merge)
    import torch

    torch.set_num_threads(1)
    Ts = [float(t) for t in args.seconds.split(",")]
    methods = [m for m in args.methods.split(",") if m]
    err, cost, sizes, feats = load(args.data_dir)
    C = cost.to_numpy()
    print(f"Oboe runtimes: per configuration run, seconds: percentiles 10/50/90/99 = "
          f"{np.round(np.percentile(C, [10, 50, 90, 99]), 3).tolist()}; all 219 on one task: "
          f"median {np.median(C.sum(axis=1)):.0f} s, 10%-90% "
          f"{np.percentile(C.sum(axis=1), 10):.0f}-{np.percentile(C.sum(axis=1), 90):.0f} s; "
          f"cheapest configuration per task: median {np.median(C.min(axis=1)):.3f} s")
    tasks = list(feats.index)
    perm = np.random.default_rng(args.seed).permutation(len(tasks))
    groups = [[tasks[i] for i in perm[k::args.folds]] for k in range(args.folds)]
    rules = [r for r in args.rules.split(",") if r]
    parsed = {r: parse_rule(r) for r in rules}
    factors = [float(f) for f in args.machine_factors.split(",") if f]
    if not factors or any(not np.isfinite(f) or f <= 0 for f in factors):
        raise SystemExit(f"--machine-factors: positive numbers, got {args.machine_factors!r}")
    fkeys = [f"{f:g}" for f in factors]

    if args.only_folds:
        keep = [int(k) - 1 for k in args.only_folds.split(",")]
        groups = [groups[k] for k in keep]
        tasks = [t for g in groups for t in g]
        print(f"task subset: folds {args.only_folds} of the {args.folds}-fold split "
              f"({len(tasks)} held-out tasks)")
    labels = [m for m in methods] + [rule_label(m, r) for r in rules for m in methods]
    regrets = {fk: {lab: {T: {} for T in Ts} for lab in labels} for fk in fkeys}
    has_result = {fk: {lab: {T: {} for T in Ts} for lab in labels} for fk in fkeys}
    n_evals: dict[str, dict[str, list]] = {fk: {lab: [] for lab in labels} for fk in fkeys}
    fit_s: dict[str, float] = {}
    t_start = time.perf_counter()
    for k, group in enumerate(groups):
        train = err.drop(index=group)
        tr_feats = feats.drop(index=group)
        predictor = RuntimePredictor().fit(cost.drop(index=group), sizes.drop(index=group),
                                           tr_feats)
        for method in methods:
            t0 = time.perf_counter()
            starter = make_starter(method).fit(
                train, tr_feats if method in ("knn", "pmf") else None, direction="minimize")
            fit_s[method] = fit_s.get(method, 0.0) + time.perf_counter() - t0
            for task in group:
                q = feats.loc[task].dropna()
                query = q if method in ("knn", "pmf") else None
                pos = tasks.index(task)
                s_task = sizes.loc[task].to_numpy()
                log_cost = predictor.predict_log(s_task, q)
                margins, probs = {}, {}
                noise_var = None
                for r in rules:
                    margin, cal = parsed[r]
                    if cal == "posterior" and noise_var is None:
                        noise_var = predictor.log_error_variance(s_task, q)
                    if margin == "point":
                        margins[r], probs[r] = None, None
                    else:
                        pooled = margin.startswith("pool")
                        probs[r] = float(margin[4:] if pooled else margin[1:])
                        margins[r] = predictor.log_error_quantile(probs[r], s_task, q,
                                                                  pooled=pooled)
                row = err.loc[task]
                best, uninformed = float(row.min()), float(row.mean() - row.min())
                jitter = np.exp(args.noise_sd * np.random.default_rng(
                    [args.seed, pos, 7]).normal(size=cost.shape[1]))
                for factor, fk in zip(factors, fkeys):
                    rts = cost.loc[task] * factor * jitter
                    R, H, N = regrets[fk], has_result[fk], n_evals[fk]
                    search = starter.start(
                        query, random_state=np.random.default_rng([args.seed, pos]))
                    f, v = run_task(search, row, rts, max(Ts), args.max_evals)
                    N[method].append(len(v))
                    for T in Ts:
                        r, ok = regret_at(f, v, T, best, uninformed)
                        R[method][T][task], H[method][T][task] = r, ok
                    for rule in rules:
                        lab = rule_label(method, rule)
                        cal = parsed[rule][1]
                        for T in Ts:
                            search = starter.start(
                                query, random_state=np.random.default_rng([args.seed, pos]))
                            timed = CostAwareSearch(
                                search, log_cost, T, log_margin=margins[rule],
                                calibrate=False if cal == "none" else cal,
                                fit_probability=probs[rule],
                                log_error_var=noise_var if cal == "posterior" else None)
                            f, v = run_task(search, row, rts, T, args.max_evals, timed)
                            N[lab].append(len(v))
                            r, ok = regret_at(f, v, T, best, uninformed)
                            R[lab][T][task] = r
                            H[lab][T][task] = ok
        print(f"fold {k + 1}/{len(groups)} done, {time.perf_counter() - t_start:.0f} s "
              f"(1-min load {os.getloadavg()[0]:.2f})", file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - t_start
    print(f"\n{len(tasks)} tasks, grouped {args.folds}-fold, max {args.max_evals} evaluations "
          f"per run, seed {args.seed}; {elapsed:.0f} s wall, 1-min load average "
          f"{os.getloadavg()[0]:.2f}; fit seconds per method (all folds): "
          + ", ".join(f"{m} {s:.1f}" for m, s in fit_s.items()))
    blocks = {}
    for fk in fkeys:
        if len(fkeys) > 1 or fk != "1" or args.noise_sd:
            print(f"\n===== machine factor {fk}: true runtime = Oboe's x {fk}"
                  + (f" x exp({args.noise_sd:g} N(0,1)) per run" if args.noise_sd else "")
                  + " =====")
        summary = report(regrets[fk], has_result[fk], n_evals[fk], methods, rules, Ts, tasks)
        blocks[fk] = {
            "regrets": {lab: {f"{T:g}": regrets[fk][lab][T] for T in Ts} for lab in labels},
            "has_result": {lab: {f"{T:g}": has_result[fk][lab][T] for T in Ts}
                           for lab in labels},
            "paired": summary, "folds": args.folds, "max_evals": args.max_evals,
            "seed": args.seed, "methods": methods, "rules": rules, "seconds": Ts,
            "tasks": tasks, "n_evals": n_evals[fk], "noise_sd": args.noise_sd}
    calibration_verdict(blocks, methods, Ts, tasks)
    print(f"\n1-min load average at the end: {os.getloadavg()[0]:.2f}")
    if args.json:
        run = {"wall_s": elapsed, "load": os.getloadavg()[0]}
        if fkeys == ["1"] and not args.noise_sd:
            args.json.write_text(json.dumps(blocks["1"] | run, indent=1))
        else:
            args.json.write_text(json.dumps({"factors": blocks} | run, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
