"""``warmnas hardware ...`` and ``warmnas nas constrained-search``: latency tables and
hardware-aware search.

    warmnas hardware measure --space {darts,nb201} [--device cpu|cuda] --out TABLE.json
    warmnas hardware predict --table TABLE.json (--arch NB201_STRING | --genotype GENOTYPE.json) [--json]
    warmnas hardware devices [--benchmark nb201|fbnet] [--data-dir DIR]
    warmnas hardware fit-latency --benchmark nb201 --samples SAMPLES.json --reference-dir DIR --out PRED.csv [--json]
    warmnas nas constrained-search --benchmark nb201 --dataset cifar10 --latency-file DEVICE.pt \\
        --max-latency MS --budget 100 --seed 0 --json
"""

from __future__ import annotations

import argparse
import json
import logging
import math
from pathlib import Path
from typing import Any

from warmnas._io import atomic_write
from warmnas.cli._common import check_output_file

logger = logging.getLogger(__name__)


def register(commands: Any) -> None:
    """Add the ``hardware`` group and ``nas constrained-search``."""
    commands.group("hardware", help="latency tables, latency prediction and hardware-aware search")
    m = commands.add(
        "measure", group="hardware", handler=run_measure,
        help="measure a latency look-up table of a search space on this machine",
        description=("Time every candidate op of the space at every shape its derived networks "
                     "use (single CPU thread by default, interleaved rounds, a low quantile), calibrate "
                     "the per-network correction on a few random networks, and write a versioned "
                     "JSON table with the device description."),
    )
    m.add_argument("--space", required=True, choices=("darts", "nb201"),
                   help="the search space whose ops are timed")
    m.add_argument("--device", default="cpu", help="cpu (default) or cuda[:N]")
    m.add_argument("--out", required=True, help="output JSON file")
    m.add_argument("--C", type=int, dest="C", help="initial channels (default: DARTS 36, NB201 16)")
    m.add_argument("--layers", type=int, help="DARTS cells (20) / NB201 cells per stage (5)")
    m.add_argument("--input-size", type=int, help="image height = width (32)")
    m.add_argument("--batch-size", type=int, help="batch size (1)")
    m.add_argument("--threads", type=int, default=1, help="CPU threads (default 1)")
    m.add_argument("--rounds", type=int, default=25, help="timed samples per entry (25)")
    m.add_argument("--quantile", type=float, default=0.1,
                   help="statistic of the samples (0.1: resists interference; 0.5: median)")
    m.add_argument("--warmup", type=int, default=3, help="untimed warm-up calls (3)")
    m.add_argument("--calibration", type=int, default=10,
                   help="random networks measured to fit the per-network correction (10)")
    m.add_argument("--clock", default="auto", choices=("auto", "wall", "thread"),
                   help="CPU clock: auto = thread CPU time with 1 thread, else wall")
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--json", action="store_true", help="print a JSON summary")

    p = commands.add("predict", group="hardware", handler=run_predict,
                     help="predict the latency of one architecture from a measured table")
    p.add_argument("--table", required=True, help="a table from `warmnas hardware measure`")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--arch", help="an NB201 arch string")
    src.add_argument("--genotype", help="a DARTS genotype JSON file (Genotype.to_json)")
    p.add_argument("--json", action="store_true",
                   help="print {latency_ms, space, device, table} as JSON")

    d = commands.add("devices", group="hardware", handler=run_devices,
                     help="list the published latency tables (HELP: NB201 and FBNet, 20 settings)")
    d.add_argument("--benchmark", default="nb201", choices=("nb201", "fbnet"))
    d.add_argument("--data-dir", help="shared data folder (default: $WARMNAS_SHARED_DATA or ../shared/data)")
    d.add_argument("--json", action="store_true", help="print the devices as JSON")

    f = commands.add(
        "fit-latency", group="hardware", handler=run_fit_latency,
        help="few-shot latency prediction for a new device from ~10 measured architectures",
        description=("Predict the latency of every architecture of a benchmark on a new device "
                     "from a few measured ones (SAMPLES.json: {\"arch index\": ms}), transferring "
                     "from the known devices' tables (.pt files in --reference-dir)."),
    )
    f.add_argument("--benchmark", default="nb201", choices=("nb201", "fbnet"))
    f.add_argument("--samples", required=True, help="JSON object: arch index -> measured ms")
    f.add_argument("--reference-dir", required=True, help="folder of the known devices' .pt files")
    f.add_argument("--out", required=True, help="output CSV (index,latency_ms)")
    f.add_argument("--method", default="ensemble", choices=("ensemble", "reference", "op-prior"))
    f.add_argument("--data-dir", help="shared data folder, for the architectures (op-prior part)")
    f.add_argument("--json", action="store_true",
                   help="print a JSON summary {out, predictions, method, reference_devices, "
                        "samples} (the predictions are in --out)")

    commands.group("nas", help="neural architecture search: DARTS-style search, benchmarks, hardware-aware search")
    c = commands.add(
        "constrained-search", group="nas", handler=run_constrained_search,
        help="latency-constrained search on NAS-Bench-201 tables with a query budget",
        description=("Maximise the target dataset's accuracy subject to latency <= --max-latency "
                     "on the device of --latency-file. Only queried architectures' target "
                     "accuracies are read (each counts against --budget); the device latencies and "
                     "the other datasets' accuracies are free priors (the warm start)."),
    )
    c.add_argument("--benchmark", default="nb201", choices=("nb201",))
    c.add_argument("--dataset", default="cifar10", help="cifar10, cifar100 or imagenet16_120")
    c.add_argument("--latency-file", required=True, help="the device's .pt file (15,625 ms values)")
    c.add_argument("--max-latency", required=True, type=float, help="latency target T (ms)")
    c.add_argument("--budget", type=int, default=100, help="target-accuracy queries (100)")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--no-priors", action="store_true", help="cold start: no other-dataset accuracies")
    c.add_argument("--constraint", default="hard", choices=("hard", "soft"),
                   help="hard: only feasible archs; soft: MnasNet reward ACC*(LAT/T)^-0.07")
    c.add_argument("--data-dir", help="shared data folder (nasbench201/nats_bench.csv)")
    c.add_argument("--plot", help="write an accuracy-vs-latency PNG with the queried archs")
    c.add_argument("--json", action="store_true", help="print the result as JSON")


def _data_dir(arg: str | None) -> Path:
    from warmnas.nas.data import default_data_dir

    return Path(arg) if arg else default_data_dir()


def run_measure(args: argparse.Namespace) -> int:
    from warmnas.hardware.measure import MeasuredLatencyTable

    check_output_file(args.out, "--out", "latency_table.json")  # before measuring
    config = {"C": args.C, "layers": args.layers, "input_size": args.input_size,
              "batch_size": args.batch_size}
    table = MeasuredLatencyTable.measure(
        args.space, args.device, config=config, threads=args.threads, rounds=args.rounds,
        warmup=args.warmup, calibration=args.calibration, clock=args.clock,
        quantile=args.quantile, random_state=args.seed)
    out = table.save(args.out)
    summary = {"out": str(out), "space": table.space, "device": table.device.description,
               "entries": len(table.entries), "intercept_ms": round(table.intercept_ms, 4),
               "scale": round(table.scale, 4), "seconds": table.meta.get("seconds"),
               "clock": table.meta.get("clock"), "load_avg_before": table.meta.get("load_avg_before"),
               "load_avg_after": table.meta.get("load_avg_after")}
    cal = table.meta.get("calibration")
    if cal:
        summary["calibration_median_abs_rel_error"] = round(cal["median_abs_rel_error"], 4)
    if args.json:
        print(json.dumps(summary))
    else:
        for k, v in summary.items():
            print(f"{k}: {v}")
    return 0


def run_predict(args: argparse.Namespace) -> int:
    from warmnas.errors import InputError
    from warmnas.hardware.measure import MeasuredLatencyTable

    table = MeasuredLatencyTable.load(args.table)
    if args.arch:
        arch: Any = args.arch
    else:
        from warmnas.nas.genotype import Genotype

        try:
            arch = Genotype.from_json(Path(args.genotype).read_text())
        except OSError as exc:
            raise InputError(f"cannot read the genotype file {args.genotype}: {exc}") from exc
    latency = float(table.predict(arch))
    if args.json:
        print(json.dumps({"latency_ms": latency, "space": table.space,
                          "device": table.device.description, "table": str(args.table)}))
    else:
        print(f"{latency:.4f}")
    return 0


def run_devices(args: argparse.Namespace) -> int:
    from warmnas.hardware.tables import device_info, published_devices

    names = published_devices(args.benchmark, _data_dir(args.data_dir))
    infos = [device_info(n, args.benchmark) for n in names]
    if args.json:
        print(json.dumps([i.to_dict() for i in infos]))
    else:
        for i in infos:
            print(f"{i.name:16s} {i.kind:7s} {i.description}")
    return 0


def _read_samples(path: str, n_archs: int) -> tuple[list[int], list[float]]:
    from warmnas.errors import InputError, MissingDataError

    p = Path(path)
    if p.is_dir():
        raise InputError(f"--samples {p} is a folder; pass the JSON file {{\"arch index\": ms}}")
    if not p.is_file():
        raise MissingDataError(f"samples file {p} not found")
    try:
        data = json.loads(p.read_text())
    except ValueError as exc:
        raise InputError(f"{p} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or not data:
        raise InputError(f"{p} must hold a non-empty JSON object {{\"arch index\": ms, ...}}")
    idx, ms = [], []
    for k, v in data.items():
        try:
            i = int(k)
        except ValueError:
            raise InputError(f"{p}: key {k!r} is not an architecture index (expected e.g. \"123\")") from None
        if not 0 <= i < n_archs:
            raise InputError(f"{p}: index {i} is outside 0..{n_archs - 1}")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
            raise InputError(f"{p}: the latency of index {i} must be a positive number of ms, got {v!r}")
        idx.append(i)
        ms.append(float(v))
    return idx, ms


def run_fit_latency(args: argparse.Namespace) -> int:
    import numpy as np

    from warmnas.errors import InputError, MissingDataError
    from warmnas.hardware.fewshot import FewShotLatencyPredictor
    from warmnas.hardware.tables import (
        BENCHMARKS,
        load_benchmark_archs,
        load_latency_vector,
        op_index_matrix,
    )

    check_output_file(args.out, "--out", "predictions.csv")
    n_archs = BENCHMARKS[args.benchmark]["n_archs"]
    ref_dir = Path(args.reference_dir)
    if not ref_dir.is_dir():
        raise MissingDataError(f"reference folder {ref_dir} not found")
    files = sorted(ref_dir.glob("*.pt"))
    if not files:
        raise InputError(f"no .pt latency files in {ref_dir}; pass the known devices' folder "
                         f"(e.g. <shared data>/{BENCHMARKS[args.benchmark]['folder']}/latency)")
    reference = np.column_stack([load_latency_vector(f, n_archs) for f in files])
    idx, ms = _read_samples(args.samples, n_archs)
    ops = None
    if args.method != "reference":
        try:
            ops = op_index_matrix(args.benchmark, load_benchmark_archs(args.benchmark, _data_dir(args.data_dir)))
        except MissingDataError as exc:
            if args.method == "op-prior":
                raise
            logger.warning("architectures not found (%s); using the reference-device model only", exc)
    model = FewShotLatencyPredictor(method=args.method).fit(reference, np.asarray(idx), ms, ops=ops)
    pred = model.predict()
    lines = ["index,latency_ms"] + [f"{i},{v:.6g}" for i, v in enumerate(pred)]
    text = "\n".join(lines) + "\n"
    atomic_write(args.out, lambda fh: fh.write(text), binary=False)
    if args.json:
        print(json.dumps({"out": str(args.out), "predictions": len(pred),
                          "method": model.method_, "reference_devices": len(files),
                          "samples": len(idx)}))
        return 0
    print(f"wrote {len(pred)} predictions to {args.out} (method {model.method_}, "
          f"{len(files)} reference devices, {len(idx)} samples)")
    return 0


def run_constrained_search(args: argparse.Namespace) -> int:
    from warmnas.hardware.constrained import check_search_settings, nb201_constrained_search
    from warmnas.hardware.tables import PublishedLatencyTable
    from warmnas.nas.nb201 import NB201Table

    check_search_settings(args.max_latency, budget=args.budget, constraint=args.constraint)
    if not Path(args.latency_file).is_file():
        from warmnas.errors import MissingDataError

        raise MissingDataError(f"--latency-file {args.latency_file} not found; pass a device's "
                               "NB201 latency file (e.g. nasbench201/latency/pixel3.pt in the "
                               "shared data folder)")
    if args.plot:
        check_output_file(args.plot, "--plot", "pareto.png")
    table = NB201Table.load(_data_dir(args.data_dir))
    latency = PublishedLatencyTable.from_file(args.latency_file, "nb201", archs=table.archs)
    result, arch = nb201_constrained_search(
        table, latency, args.max_latency, dataset=args.dataset, budget=args.budget,
        use_priors=not args.no_priors, constraint=args.constraint, random_state=args.seed)
    out = {"arch": arch, "index": result.index, "accuracy": result.accuracy,
           "latency": result.latency, "queries": result.queries, "violations": result.violations}
    if args.plot:
        from warmnas.hardware.constrained import nb201_dataset_key
        from warmnas.hardware.pareto import plot_pareto

        key = nb201_dataset_key(args.dataset, table)
        plot_pareto(table.accuracies[key], latency.latencies, args.plot,
                    highlight={"queried": result.queried}, chosen={"found": result.index},
                    max_latency=args.max_latency,
                    title=f"NB201 {key} on {latency.device.name}", ylabel=f"{key} test accuracy (%)")
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k}: {v}")
    return 0
