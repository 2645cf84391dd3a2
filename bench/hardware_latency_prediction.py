"""Predicted vs measured end-to-end latency of random DARTS and NB201 networks on this CPU.

For each space: build a latency table on this machine (every op at every shape, one CPU thread,
interleaved rounds; then the per-network correction fitted on ``--calibration`` random networks),
measure ``--networks`` *other* random derived networks end to end, and compare:

* ours A: the table's prediction (``intercept + scale * sum of op latencies``) as built (the
  ops and the calibration networks timed together, interleaved);
* ours B: the same op table with the correction refitted on the calibration networks measured
  again in the test session (interleaved with the test networks), which cancels the drift of a
  shared machine's load between building the table and testing it;
* peers from the same run: a FLOPs proxy and a parameter-count proxy (latency linear in MACs /
  parameters, fitted on the same calibration networks as B), the usual stand-ins without a table;
* the noise level: agreement of the measurement with itself (the statistic of the even rounds vs
  that of the odd rounds of the same networks; each half has half the rounds, so this is a
  pessimistic bound on the full measurement's own repeatability).

Printed per space: share of networks predicted within +-10%, Kendall tau, Spearman rho, median
relative error, the table-building time, and the 1-minute load average before and after. The
published reference point is nn-Meter (Zhang et al., MobiSys 2021): 99.0% within +-10% on a
mobile CPU. Re-run on a quiet machine for final figures:

    python bench/hardware_latency_prediction.py --networks 100 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

import numpy as np
import torch
from scipy.stats import kendalltau, spearmanr


def _macs_and_params(arch: Any, space: str, cfg: dict[str, int]) -> tuple[float, float]:
    from warmnas.nas.networks import build_network, count_parameters

    net = build_network(arch, space, C=cfg["C"], layers=cfg["layers"], num_classes=cfg["num_classes"]).eval()
    total = [0.0]

    def conv_hook(m: torch.nn.Conv2d, _: Any, out: torch.Tensor) -> None:
        k = m.kernel_size[0] * m.kernel_size[1] * m.in_channels // m.groups
        total[0] += float(out.numel() * k)

    def linear_hook(m: torch.nn.Linear, _: Any, out: torch.Tensor) -> None:
        total[0] += float(out.numel() * m.in_features)

    hooks = []
    for m in net.modules():
        if isinstance(m, torch.nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, torch.nn.Linear):
            hooks.append(m.register_forward_hook(linear_hook))
    with torch.inference_mode():
        net(torch.zeros(cfg["batch_size"], 3, cfg["input_size"], cfg["input_size"]))
    for h in hooks:
        h.remove()
    return total[0], float(count_parameters(net))


def _scores(pred: np.ndarray, measured: np.ndarray) -> dict[str, float]:
    rel = np.abs(pred - measured) / measured
    return {"within_10pct": float(np.mean(rel <= 0.10)), "kendall_tau": float(kendalltau(pred, measured)[0]),
            "spearman_rho": float(spearmanr(pred, measured)[0]), "median_rel_error": float(np.median(rel)),
            "median_ratio": float(np.median(pred / measured))}


def _linear_proxy(x_cal: np.ndarray, y_cal: np.ndarray, x: np.ndarray) -> np.ndarray:
    A = np.c_[np.ones_like(x_cal), x_cal]
    coef, *_ = np.linalg.lstsq(A, y_cal, rcond=None)
    return coef[0] + coef[1] * x


def run_space(space: str, args: argparse.Namespace) -> dict[str, Any]:
    from warmnas.hardware.base import load_average
    from warmnas.hardware.measure import (
        DEFAULT_CONFIGS,
        MeasuredLatencyTable,
        measure_networks,
        random_architecture,
    )
    from warmnas.nas.genotype import architecture_from_dict

    cfg = dict(DEFAULT_CONFIGS[space])
    for key in ("C", "layers", "input_size", "batch_size"):
        value = getattr(args, f"{space}_{key.lower()}", None)
        if value is not None:
            cfg[key] = value
    out: dict[str, Any] = {"space": space, "config": cfg, "load_avg_start": load_average()}
    t0 = time.perf_counter()
    table = MeasuredLatencyTable.measure(space, "cpu", config=cfg, threads=1, rounds=args.rounds,
                                         calibration=args.calibration, clock=args.clock,
                                         quantile=args.quantile, random_state=args.seed,
                                         progress=args.progress)
    out["table_build_s"] = time.perf_counter() - t0
    out["entries"] = len(table.entries)
    out["correction"] = {"intercept_ms": table.intercept_ms, "scale": table.scale}
    if args.save_table:
        table.save(os.path.join(args.save_table, f"{space}_cpu.json"))
    rng = np.random.default_rng(args.seed + 1000)
    archs = [random_architecture(space, rng) for _ in range(args.networks)]
    cal = table.meta.get("calibration") or {}
    cal_archs = [architecture_from_dict(a) for a in cal.get("archs", [])]
    # the test networks and (again) the calibration networks, measured together in a random
    # order: protocol B recalibrates on these, so build-to-test drift of a shared machine cancels
    together = archs + cal_archs
    order = rng.permutation(len(together))
    t1 = time.perf_counter()
    ms_all, samples_all = measure_networks([together[i] for i in order], space, config=cfg, threads=1,
                                           rounds=args.rounds, clock=args.clock, quantile=args.quantile,
                                           random_state=args.seed + 1, progress=args.progress,
                                           return_samples=True)
    out["network_measure_s"] = time.perf_counter() - t1
    inv = np.argsort(order)
    ms_all, samples_all = ms_all[inv], samples_all[inv]
    measured, samples = ms_all[:len(archs)], samples_all[:len(archs)]
    pred = np.array([table.predict(a) for a in archs])
    out["ours"] = _scores(pred, measured)
    out["ours_sum_only_kendall_tau"] = float(kendalltau([table.op_sum(a) for a in archs], measured)[0])
    out["per_network"] = {"measured_ms": measured.tolist(), "predicted_ms": pred.tolist()}
    if cal_archs:
        cal_now = ms_all[len(archs):]
        same = table.calibrated(cal_archs, cal_now)
        pred_b = np.array([same.predict(a) for a in archs])
        out["ours_same_session"] = _scores(pred_b, measured)
        out["per_network"]["predicted_same_session_ms"] = pred_b.tolist()
        out["calibration_drift"] = float(np.median(cal_now / np.asarray(cal["measured_ms"])))
        mp_cal = np.array([_macs_and_params(a, space, cfg) for a in cal_archs])
        mp = np.array([_macs_and_params(a, space, cfg) for a in archs])
        out["flops_proxy"] = _scores(_linear_proxy(mp_cal[:, 0], cal_now, mp[:, 0]), measured)
        out["params_proxy"] = _scores(_linear_proxy(mp_cal[:, 1], cal_now, mp[:, 1]), measured)
    half_a = np.quantile(samples[:, 0::2], args.quantile, axis=1)
    half_b = np.quantile(samples[:, 1::2], args.quantile, axis=1)
    out["noise_ceiling"] = _scores(half_a, half_b)
    out["measured_ms_range"] = [float(measured.min()), float(measured.max())]
    out["clock"] = table.meta["clock"]
    out["load_avg_end"] = load_average()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spaces", nargs="+", default=["nb201", "darts"], choices=["nb201", "darts"])
    parser.add_argument("--networks", type=int, default=100, help="random test networks per space")
    parser.add_argument("--calibration", type=int, default=10, help="networks for the correction")
    parser.add_argument("--rounds", type=int, default=25, help="timed rounds per op / network")
    parser.add_argument("--clock", default="auto", choices=["auto", "wall", "thread"],
                        help="auto: CPU time of the (single) measuring thread; wall: wall clock")
    parser.add_argument("--quantile", type=float, default=0.1,
                        help="statistic of the timed rounds (0.1, the library default, resists "
                             "interference; 0.5: median)")
    parser.add_argument("--seed", type=int, default=0)
    for space in ("darts", "nb201"):
        for key in ("c", "layers", "input_size", "batch_size"):
            parser.add_argument(f"--{space}-{key.replace('_', '-')}", type=int, dest=f"{space}_{key}")
    parser.add_argument("--save-table", help="folder to write the measured tables to")
    parser.add_argument("--json", help="write all figures to this JSON file")
    parser.add_argument("--progress", action="store_true", help="tqdm bars")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    results = []
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs; measuring with 1 thread, clock={args.clock}, "
          f"statistic: quantile {args.quantile} of {args.rounds} rounds")
    for space in args.spaces:
        r = run_space(space, args)
        results.append(r)
        print(f"\n== {space} {r['config']} ({r['clock']} clock): {args.networks} test networks, "
              f"measured {r['measured_ms_range'][0]:.2f}..{r['measured_ms_range'][1]:.2f} ms")
        print(f"table: {r['entries']} op entries and {args.calibration} calibration networks timed "
              f"together in {r['table_build_s']:.1f} s "
              f"(intercept {r['correction']['intercept_ms']:.2f} ms, scale {r['correction']['scale']:.3f})")
        print(f"{'predictor':30s} {'within +-10%':>12s} {'Kendall tau':>12s} {'Spearman':>9s} "
              f"{'med |rel err|':>14s} {'med pred/meas':>14s}")
        rows = [("ours A: table as built", r["ours"])]
        if "flops_proxy" in r:
            rows += [("ours B: same-session calib.", r["ours_same_session"]),
                     ("peer: FLOPs proxy (B calib.)", r["flops_proxy"]),
                     ("peer: params proxy (B calib.)", r["params_proxy"])]
        rows.append(("noise: half vs half of rounds", r["noise_ceiling"]))
        for name, s in rows:
            print(f"{name:30s} {s['within_10pct']:12.1%} {s['kendall_tau']:12.3f} "
                  f"{s['spearman_rho']:9.3f} {s['median_rel_error']:14.1%} {s['median_ratio']:14.3f}")
        print(f"op-sum only (no correction) Kendall tau {r['ours_sum_only_kendall_tau']:.3f}; calibration "
              f"networks ran {r.get('calibration_drift', float('nan')):.3f}x their build-time latency in "
              f"the test session; nn-Meter reports 99.0% within +-10% (mobile CPU)")
        print(f"load average (1 min): {r['load_avg_start']:.2f} at start, {r['load_avg_end']:.2f} at end; "
              f"network measurement {r['network_measure_s']:.1f} s")
        sys.stdout.flush()
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
