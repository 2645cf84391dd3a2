"""Find the most accurate NAS-Bench-201 cell that runs within a latency budget on a device.

The device's latency table (HELP) is free; CIFAR-10 accuracies are read only for the cells the
search queries (100 here), while CIFAR-100 / ImageNet16-120 accuracies warm-start it.

    python examples/hardware_constrained_search.py [--data-dir DIR] [--device pixel3] [--max-latency 8]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from warmnas.hardware import (
    PublishedLatencyTable,
    constrained_optimum,
    nb201_constrained_search,
    plot_pareto,
)
from warmnas.nas.data import default_data_dir
from warmnas.nas.nb201 import NB201Table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", help="shared data folder (default: $WARMNAS_SHARED_DATA or ../shared/data)")
    parser.add_argument("--device", default="pixel3")
    parser.add_argument("--max-latency", type=float, default=8.0, help="ms")
    parser.add_argument("--plot", default="constrained_search.png")
    args = parser.parse_args()
    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()

    table = NB201Table.load(data_dir)
    latency = PublishedLatencyTable.load("nb201", args.device, data_dir, archs=table.archs)
    print(f"device: {latency.device.description}")
    result, arch = nb201_constrained_search(table, latency, args.max_latency, budget=100, random_state=0)
    best, optimum = constrained_optimum(table.accuracies["cifar10"], latency.latencies, args.max_latency)
    print(f"found   {arch}\n        CIFAR-10 {result.accuracy:.2f}% at {result.latency:.2f} ms "
          f"after {result.queries} queries ({result.violations} violations)")
    print(f"optimum {table.archs[best]}\n        CIFAR-10 {optimum:.2f}% (known only from the full table)")
    plot_pareto(table.accuracies["cifar10"], latency.latencies, args.plot,
                highlight={"queried": result.queried}, chosen={"found": result.index},
                max_latency=args.max_latency, title=f"NB201 on {args.device}")
    print(f"wrote {args.plot}")


if __name__ == "__main__":
    main()
