"""Latency-constrained search on every NAS-Bench-201 device table: found vs exact optimum.

For each of the 20 device tables and latency targets T (quantiles of that device's latencies):
maximise CIFAR-10 accuracy subject to latency <= T with a budget of 100 accuracy queries. Only
queried architectures' target accuracies are read; the device latencies and the CIFAR-100 /
ImageNet16-120 accuracies are free. The exact constrained optimum is computed from the tables.

Printed per device: worst and mean gap to the optimum (accuracy points), how many (T, seed) runs
end within 0.5 points, queries used, constraint violations, and the median number of queries
until the search was within 0.5 points. Rows from the same run:

* ours (warm): ``nb201_constrained_search`` with the free priors;
* ours (cold): the same search without the other datasets' accuracies;
* peer: random search over the feasible architectures (it knows the latency table too);
* peer: random search over all architectures (feasibility not used: counts violations).

    python bench/hardware_constrained_search.py [--data-dir DIR] [--budget 100] [--seeds 0 1 2]
        [--plot docs/hardware_constrained_pixel3.png]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", help="shared data folder (default: $WARMNAS_SHARED_DATA or ../shared/data)")
    parser.add_argument("--dataset", default="cifar10", choices=["cifar10", "cifar100", "imagenet16_120"])
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--quantiles", type=float, nargs="+", default=[0.05, 0.25, 0.5, 0.75])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--devices", nargs="+", help="default: all 20")
    parser.add_argument("--plot", help="PNG of one search (the first device, median T)")
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)  # small matrices: one BLAS thread is faster, and fair to a shared machine

    from warmnas.hardware.constrained import constrained_optimum, nb201_constrained_search
    from warmnas.hardware.tables import PublishedLatencyTable, published_devices
    from warmnas.nas.data import default_data_dir
    from warmnas.nas.nb201 import NB201Table

    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    table = NB201Table.load(data_dir)
    acc = table.accuracies[args.dataset]
    devices = args.devices or published_devices("nb201", data_dir)
    print(f"load average (1 min): {os.getloadavg()[0]:.2f}; target {args.dataset}, budget {args.budget}, "
          f"T at latency quantiles {args.quantiles}, seeds {args.seeds}")
    methods = ["ours (warm)", "ours (cold)", "random feasible", "random all"]
    totals = {m: {"gaps": [], "viol": 0, "q05": []} for m in methods}
    print(f"\n{'device':14s} {'method':16s} {'max gap':>8s} {'mean gap':>9s} {'<=0.5':>7s} "
          f"{'queries':>8s} {'violations':>10s} {'q to 0.5':>9s}")
    t0 = time.perf_counter()
    for device in devices:
        lat_table = PublishedLatencyTable.load("nb201", device, data_dir, archs=table.archs)
        lat = lat_table.latencies
        rows = {m: {"gaps": [], "queries": [], "viol": 0, "q05": []} for m in methods}
        for q in args.quantiles:
            T = float(np.quantile(lat, q))
            _, opt = constrained_optimum(acc, lat, T)
            for seed in args.seeds:
                for m, priors in (("ours (warm)", True), ("ours (cold)", False)):
                    res, _ = nb201_constrained_search(table, lat_table, T, dataset=args.dataset,
                                                      budget=args.budget, use_priors=priors,
                                                      random_state=seed)
                    trace = np.asarray(res.trace)
                    hit = np.flatnonzero(opt - trace <= 0.5)
                    rows[m]["gaps"].append(opt - res.accuracy)
                    rows[m]["queries"].append(res.queries)
                    rows[m]["viol"] += res.violations
                    rows[m]["q05"].append(int(hit[0]) + 1 if len(hit) else np.inf)
                    if args.plot and m == "ours (warm)" and device == devices[0] and q == args.quantiles[len(args.quantiles) // 2] and seed == args.seeds[0]:
                        from warmnas.hardware.pareto import plot_pareto

                        plot_pareto(acc, lat, args.plot, highlight={"queried (ours, warm)": res.queried},
                                    chosen={"found": res.index}, max_latency=T,
                                    title=f"NB201 {args.dataset} on {device}: constrained search",
                                    ylabel=f"{args.dataset} test accuracy (%)")
                rng = np.random.default_rng(seed)
                feas = np.flatnonzero(lat <= T)
                for m, pool in (("random feasible", feas), ("random all", np.arange(len(lat)))):
                    qidx = rng.choice(pool, min(args.budget, len(pool)), replace=False)
                    ok = qidx[lat[qidx] <= T]
                    best_trace = np.maximum.accumulate(np.where(lat[qidx] <= T, acc[qidx], -np.inf))
                    found = acc[ok].max() if len(ok) else -np.inf
                    hit = np.flatnonzero(opt - best_trace <= 0.5)
                    rows[m]["gaps"].append(opt - found)
                    rows[m]["queries"].append(len(qidx))
                    rows[m]["viol"] += int((lat[qidx] > T).sum())
                    rows[m]["q05"].append(int(hit[0]) + 1 if len(hit) else np.inf)
        for m in methods:
            g = np.asarray(rows[m]["gaps"])
            q05 = np.asarray(rows[m]["q05"], dtype=float)
            print(f"{device:14s} {m:16s} {g.max():8.2f} {g.mean():9.3f} {np.sum(g <= 0.5):3d}/{len(g):<3d} "
                  f"{max(rows[m]['queries']):8d} {rows[m]['viol']:10d} {np.median(q05):9.0f}")
            totals[m]["gaps"] += list(g)
            totals[m]["viol"] += rows[m]["viol"]
            totals[m]["q05"] += list(q05)
        sys.stdout.flush()
    print("\nall devices:")
    for m in methods:
        g = np.asarray(totals[m]["gaps"])
        q05 = np.asarray(totals[m]["q05"])
        print(f"{m:16s} runs within 0.5 points: {np.sum(g <= 0.5)}/{len(g)}; max gap {g.max():.2f}; "
              f"mean gap {g.mean():.3f}; violations {totals[m]['viol']}; median queries to 0.5: "
              f"{np.median(q05):.0f} (never reached in {np.sum(~np.isfinite(q05))} runs)")
    print(f"({time.perf_counter() - t0:.0f} s; load average {os.getloadavg()[0]:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
