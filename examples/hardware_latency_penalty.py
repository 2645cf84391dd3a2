"""Measure this CPU's NB201 latency table and run a short latency-penalised search with it.

The table times every NB201 op at every shape of the network (one thread), and is calibrated on
a few random networks; its ``expected_latency(alphas)`` is differentiable, so the search's
architecture step minimises ``CE + lambda * (E[LAT] - T) / T`` (ProxylessNAS). Random images keep
the example fast; see bench/hardware_penalty_sweep.py for the CIFAR-10 lambda sweep.

    python examples/hardware_latency_penalty.py [--out nb201_cpu.json]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from warmnas.hardware import AdditiveLatencyPenalty, MeasuredLatencyTable
from warmnas.nas import DARTSSearch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="nb201_cpu.json")
    parser.add_argument("--lam", type=float, default=0.05)
    args = parser.parse_args()
    torch.set_num_threads(1)

    table = MeasuredLatencyTable.measure("nb201", "cpu", rounds=5, calibration=5, random_state=0)
    table.save(args.out)
    print(table, f"-> {args.out}")
    all_conv = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
    target = 0.5 * table.predict(all_conv)

    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (256, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, 256)
    for lam in (0.0, args.lam):
        penalty = AdditiveLatencyPenalty(table, target_ms=target, weight=lam) if lam else None
        search = DARTSSearch("nb201", latency_penalty=penalty, epochs=2, batch_size=32, C=4,
                             layers=1, max_steps_per_epoch=4, arch_lr=3e-3, random_state=0,
                             progress=False).fit((X, y))
        print(f"lambda={lam}: {search.genotype_} -> {table.predict(search.genotype_):.2f} ms "
              f"(T = {target:.2f} ms)")


if __name__ == "__main__":
    main()
