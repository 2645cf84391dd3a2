"""Few-shot latency prediction for an unseen device: leave-one-device-out over the 20 device
settings of HELP's NAS-Bench-201 and FBNet latency tables.

For every device: the other 19 devices are the known ones; 10 architectures are "measured" on the
held-out device (random draws, ``--repeats`` times; for NB201 also HELP's fixed 10 hardware-
embedding architectures); the latencies of all other architectures are predicted and compared by
Spearman's rho (HELP's metric). Also printed from the same run:

* peer "one proxy device" (Lu et al., 2021): rank by the known device whose latencies correlate
  best with the 10 samples;
* peer "no transfer": an additive per-(edge, op) model fitted on the 10 samples alone (ridge);
* ours with all batch sizes of the held-out GPU (and the other phone of the pair) removed from
  the known devices ("family out"), a stricter split.

    python bench/hardware_fewshot.py [--data-dir DIR] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr


def _family(name: str) -> str:
    for gpu in ("1080ti", "2080ti", "titan_rtx", "titanx"):
        if name.startswith(gpu + "_"):
            return gpu
    if name in ("pixel2", "pixel3"):
        return "pixel"
    if name in ("gold_6226", "silver_4114"):
        return "xeon"
    return name


def _one_proxy(ref: np.ndarray, idx: np.ndarray, y: np.ndarray) -> np.ndarray:
    rhos = [spearmanr(ref[idx, j], y)[0] for j in range(ref.shape[1])]
    return ref[:, int(np.nanargmax(rhos))]


def _no_transfer(ops: np.ndarray, idx: np.ndarray, y: np.ndarray, n_ops: int) -> np.ndarray:
    n, e = ops.shape
    X = np.zeros((n, e * n_ops))
    X[np.arange(n)[:, None], np.arange(e)[None, :] * n_ops + ops] = 1.0
    Xs = X[idx]
    lam = 1.0
    w = np.linalg.solve(Xs.T @ Xs + lam * np.eye(X.shape[1]), Xs.T @ (np.log(y) - np.log(y).mean()))
    return X @ w


def evaluate(benchmark: str, data_dir: Path, repeats: int, seed: int) -> None:
    from warmnas.hardware.fewshot import FewShotLatencyPredictor
    from warmnas.hardware.tables import (
        PublishedLatencyTable,
        load_benchmark_archs,
        op_index_matrix,
        published_devices,
    )

    archs = load_benchmark_archs(benchmark, data_dir)
    devices = published_devices(benchmark, data_dir)
    L = np.column_stack([PublishedLatencyTable.load(benchmark, d, data_dir, archs=archs).latencies
                         for d in devices])
    ops = op_index_matrix(benchmark, archs)
    n_ops = int(ops.max()) + 1
    n = L.shape[0]
    fixed = None
    if benchmark == "nb201":
        from warmnas.hardware.tables import load_pt

        fixed = np.asarray(load_pt(data_dir / "nasbench201" / "hardware_embedding_index.pt"), dtype=np.int64)
    rng = np.random.default_rng(seed)
    draws = [rng.choice(n, 10, replace=False) for _ in range(repeats)]
    fam = [_family(d) for d in devices]
    cols = ["ours", "ours fam-out", "one-proxy", "no-transfer"] + (["ours HELP-10"] if fixed is not None else [])
    print(f"\n== {benchmark}: {n} archs, {len(devices)} devices, 10 samples, Spearman rho on the "
          f"other archs (mean of {repeats} draws)")
    print(f"{'device':14s}" + "".join(f"{c:>14s}" for c in cols))
    table = []
    t0 = time.perf_counter()
    for t, name in enumerate(devices):
        y = L[:, t]
        keep = [j for j in range(len(devices)) if j != t]
        keep_fam = [j for j in keep if fam[j] != fam[t]]
        row = {c: [] for c in cols}

        def rho(pred: np.ndarray, idx: np.ndarray, y: np.ndarray = y) -> float:
            mask = np.ones(n, bool)
            mask[idx] = False
            return float(spearmanr(pred[mask], y[mask])[0])

        for idx in draws:
            row["ours"].append(rho(FewShotLatencyPredictor().fit(L[:, keep], idx, y[idx], ops=ops).log_pred_, idx))
            row["ours fam-out"].append(rho(FewShotLatencyPredictor().fit(L[:, keep_fam], idx, y[idx], ops=ops).log_pred_, idx))
            row["one-proxy"].append(rho(_one_proxy(L[:, keep], idx, y[idx]), idx))
            row["no-transfer"].append(rho(_no_transfer(ops, idx, y[idx], n_ops), idx))
        if fixed is not None:
            row["ours HELP-10"].append(rho(FewShotLatencyPredictor().fit(L[:, keep], fixed, y[fixed], ops=ops).log_pred_, fixed))
        means = {c: float(np.mean(v)) for c, v in row.items()}
        table.append(means)
        print(f"{name:14s}" + "".join(f"{means[c]:14.3f}" for c in cols))
        sys.stdout.flush()
    print(f"{'MEAN':14s}" + "".join(f"{np.mean([r[c] for r in table]):14.3f}" for c in cols))
    print(f"{'devices >= 0.9':14s}" + "".join(f"{sum(r[c] >= 0.9 for r in table):11d}/20" for c in cols))
    print(f"({time.perf_counter() - t0:.0f} s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", help="shared data folder (default: $WARMNAS_SHARED_DATA or ../shared/data)")
    parser.add_argument("--benchmarks", nargs="+", default=["nb201", "fbnet"], choices=["nb201", "fbnet"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)  # small matrices: one BLAS thread is faster, and fair to a shared machine
    from warmnas.nas.data import default_data_dir

    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    print(f"load average (1 min): {os.getloadavg()[0]:.2f}")
    for b in args.benchmarks:
        evaluate(b, data_dir, args.repeats, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
