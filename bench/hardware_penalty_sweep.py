"""Latency-penalised NB201 search on this CPU: raising lambda lowers the found network's latency.

1. Measure this CPU's NB201 latency table (the deployed network: C=16, 5 cells per stage, batch 1,
   one thread) with its per-network correction.
2. Run ``DARTSSearch("nb201")`` (a small supernet on a CIFAR-10 subset, CPU) with the ProxylessNAS
   penalty ``CE + lambda * (E[LAT] - T) / T`` built from that table, for each lambda (or the
   FBNet penalty ``CE * 0.2 * log(E[LAT])^beta`` for each beta with ``--kind multiplicative``).
3. For each found cell (``--seeds`` searches per lambda) print: the table's predicted latency, the latency measured end to end on
   this CPU (all found networks measured together, interleaved), its published latency on
   ``--device`` (HELP's NB201 table) and its NAS-Bench-201 CIFAR-10 accuracy.

    python bench/hardware_penalty_sweep.py [--data-dir DIR] [--lambdas 0 0.003 0.01 0.03 0.1]
        [--plot docs/hardware_penalty_sweep.png]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", help="shared data folder (default: $WARMNAS_SHARED_DATA or ../shared/data)")
    parser.add_argument("--kind", default="additive", choices=["additive", "multiplicative"])
    parser.add_argument("--lambdas", type=float, nargs="+", default=[0.0, 0.003, 0.01, 0.03, 0.1],
                        help="additive: penalty weights; multiplicative: FBNet beta values")
    parser.add_argument("--target-fraction", type=float, default=0.5,
                        help="T = this fraction of the all-3x3-conv cell's predicted latency")
    parser.add_argument("--n-train", type=int, default=2000, help="CIFAR-10 images for the search")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--steps", type=int, default=15, help="steps per epoch")
    parser.add_argument("--C", type=int, default=8, dest="C", help="supernet channels")
    parser.add_argument("--layers", type=int, default=1, help="supernet cells per stage")
    parser.add_argument("--arch-lr", type=float, default=3e-3)
    parser.add_argument("--device", default="pixel3", help="published device to look the cells up on")
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--seed", type=int, default=0, help="seed of the table and the data subset")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="search seeds per lambda")
    parser.add_argument("--plot", help="PNG: NB201 accuracy vs predicted CPU latency, found cells marked")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # one thread: far faster than two contended ones on a shared machine

    from warmnas.hardware.base import load_average
    from warmnas.hardware.measure import MeasuredLatencyTable, measure_networks
    from warmnas.hardware.penalties import AdditiveLatencyPenalty, MultiplicativeLatencyPenalty
    from warmnas.hardware.tables import PublishedLatencyTable
    from warmnas.nas import DARTSSearch
    from warmnas.nas.data import ImageData, default_data_dir, load_cifar10
    from warmnas.nas.nb201 import NB201Table

    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    print(f"load average (1 min): {load_average():.2f}")
    t0 = time.perf_counter()
    table = MeasuredLatencyTable.measure("nb201", "cpu", rounds=args.rounds, calibration=10,
                                         random_state=args.seed)
    print(f"CPU table: {len(table.entries)} entries, intercept {table.intercept_ms:.2f} ms, scale "
          f"{table.scale:.3f}, built in {time.perf_counter() - t0:.1f} s ({table.meta['clock']} clock)")
    nb = NB201Table.load(data_dir)
    pub = PublishedLatencyTable.load("nb201", args.device, data_dir, archs=nb.archs)
    all_conv = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
    T = args.target_fraction * table.predict(all_conv)
    X, y, _, _ = load_cifar10(data_dir)
    idx = np.random.default_rng(args.seed).choice(len(X), args.n_train, replace=False)
    data = ImageData.from_arrays(np.asarray(X[idx]), np.asarray(y[idx]))
    name = "lambda" if args.kind == "additive" else "beta"
    print(f"search: NB201 supernet C={args.C}, {args.layers} cell(s)/stage, {args.n_train} CIFAR-10 images, "
          f"{args.epochs} epochs x {args.steps} steps; penalty {args.kind}, T = {T:.2f} ms")
    found: list[tuple[float, int, str]] = []
    for lam in args.lambdas:
        if args.kind == "additive":
            penalty = AdditiveLatencyPenalty(table, T, lam) if lam > 0 else None
        else:
            penalty = MultiplicativeLatencyPenalty(table, alpha=0.2, beta=lam)
        for seed in args.seeds:
            t1 = time.perf_counter()
            search = DARTSSearch("nb201", latency_penalty=penalty, epochs=args.epochs, batch_size=32,
                                 C=args.C, layers=args.layers, max_steps_per_epoch=args.steps,
                                 arch_lr=args.arch_lr, random_state=seed, progress=False).fit(data)
            found.append((lam, seed, search.genotype_))
            print(f"  {name}={lam:<7g} seed {seed}: {search.genotype_}  ({time.perf_counter() - t1:.0f} s)")
            sys.stdout.flush()
    cells = [c for _, _, c in found]
    measured = measure_networks(cells, "nb201", rounds=args.rounds, random_state=args.seed)
    print(f"\n{name:>8s} {'seed':>4s} {'pred CPU ms':>11s} {'meas CPU ms':>11s} {args.device + ' ms':>10s} "
          f"{'NB201 C10 %':>11s}  cell")
    rows = []
    for (lam, seed, arch), ms in zip(found, measured):
        i = nb.index(arch)
        rows.append((lam, table.predict(arch), ms, pub.latencies[i], nb.accuracies["cifar10"][i]))
        print(f"{lam:8g} {seed:4d} {rows[-1][1]:11.2f} {ms:11.2f} {pub.latencies[i]:10.2f} "
              f"{nb.accuracies['cifar10'][i]:11.2f}  {arch}")
    R = np.asarray(rows)
    print(f"\nmean over {len(args.seeds)} seed(s):")
    print(f"{name:>8s} {'pred CPU ms':>11s} {'meas CPU ms':>11s} {args.device + ' ms':>10s} {'NB201 C10 %':>11s}")
    means = []
    for lam in args.lambdas:
        m = R[R[:, 0] == lam].mean(axis=0)
        means.append(m)
        print(f"{lam:8g} {m[1]:11.2f} {m[2]:11.2f} {m[3]:10.2f} {m[4]:11.2f}")
    M = np.asarray(means)
    print(f"\nSpearman(lambda, measured CPU latency) over all runs = {spearmanr(R[:, 0], R[:, 2])[0]:.3f}; "
          f"over the seed means = {spearmanr(M[:, 0], M[:, 2])[0]:.3f}; seed means monotone "
          f"non-increasing: {bool(np.all(np.diff(M[:, 2]) <= 0.02 * M[:-1, 2]))} (2% tolerance)")
    print(f"load average (1 min): {load_average():.2f}; total {time.perf_counter() - t0:.0f} s")
    if args.plot:
        from warmnas.hardware.pareto import plot_pareto

        lat_all = np.array([table.predict(a) for a in nb.archs])
        groups = {f"{name}={lam:g}": [nb.index(c) for lm, _, c in found if lm == lam]
                  for lam in args.lambdas}
        plot_pareto(nb.accuracies["cifar10"], lat_all, args.plot, highlight=groups, max_latency=T,
                    title=f"NB201: latency-penalised search on this CPU ({len(args.seeds)} seeds per {name})",
                    xlabel="predicted latency on this CPU (ms, batch 1, 1 thread)",
                    ylabel="CIFAR-10 test accuracy (%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
