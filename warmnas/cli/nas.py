"""``warmnas nas ...``: differentiable architecture search from the command line.

Example::

    warmnas nas search --space nb201 --data cifar10 --method drnas --epochs 50 --device cuda --json
    warmnas nas search --space fbnet --latency-device fpga --latency-weight 0.6 --C 4 --json
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from warmnas.errors import InputError, MissingDataError


def register(commands: Any) -> None:
    commands.group("nas", help="neural architecture search: DARTS, DrNAS, GDAS and FBNet on the "
                               "DARTS and NAS-Bench-201 cell spaces and the FBNet space")
    p = commands.add(
        "search", group="nas", handler=_search,
        help="run a differentiable architecture search and print the found architecture",
        description="Run DARTS / DrNAS / GDAS / FBNet's Gumbel-softmax on CIFAR-10 (or arrays in "
                    "an .npz file) and print the derived genotype; for the NB201 space also its "
                    "arch string, benchmark index and the table's test accuracies; for the FBNet "
                    "space its 22 blocks and their HW-NAS-Bench latency on the 5 table devices "
                    "(--latency-device: search with that device's latency penalty).")
    p.add_argument("--space", choices=["darts", "nb201", "fbnet"], default="darts")
    p.add_argument("--data", default="cifar10",
                   help="'cifar10' (from the shared data folder) or an .npz file with arrays X "
                        "(N, H, W, C) and y")
    p.add_argument("--data-dir", type=Path, default=None,
                   help="shared data folder (default: $WARMNAS_SHARED_DATA or ../shared/data)")
    p.add_argument("--cache-dir", type=Path, default=None,
                   help="cache of decoded CIFAR-10 (default: ~/.cache/warmnas)")
    p.add_argument("--method", choices=["darts", "drnas", "gdas", "gumbel", "proxyless"],
                   default=None,
                   help="default: darts; fbnet: gumbel (FBNet's schedule, see --tau-decay); "
                        "proxyless: ProxylessNAS' sampled paths (one op per edge runs; on darts "
                        "and nb201 the reference supernet is used)")
    p.add_argument("--order", type=int, choices=[1, 2], default=1)
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--warmup-epochs", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--C", type=int, default=16, help="supernet initial channels (default 16)")
    p.add_argument("--layers", type=int, default=None,
                   help="DARTS: cells (8); NB201: cells per stage (5)")
    p.add_argument("--lr", type=float, default=None,
                   help="weight learning rate (default 0.025; fbnet: FBNet's 0.1)")
    p.add_argument("--arch-lr", type=float, default=None,
                   help="alpha learning rate (default 3e-4; fbnet: FBNet's 0.01)")
    p.add_argument("--tau-decay", type=float, default=None,
                   help="Gumbel temperature tau_max * decay^epoch (fbnet default: 5.0 * 0.956^epoch "
                        "as FBNet; otherwise linear 10 -> 0.1)")
    lat = p.add_argument_group("hardware-aware search (--space fbnet)")
    lat.add_argument("--latency-device", default=None,
                     help="HW-NAS-Bench device whose FBNet block table prices the penalty: "
                          "edgegpu, raspi4, pixel3, eyeriss or fpga")
    lat.add_argument("--latency-penalty", choices=["multiplicative", "additive"],
                     default="multiplicative",
                     help="multiplicative: FBNet's CE * 0.2 * log(E[LAT])^w; additive: "
                          "ProxylessNAS's CE + w * (E[LAT] - T) / T")
    lat.add_argument("--latency-weight", type=float, default=None,
                     help="w: the exponent beta (multiplicative; default FBNet's 0.6) or lambda "
                          "(additive; default 0.1)")
    lat.add_argument("--latency-weights", choices=["softmax", "sample"], default="softmax",
                     help="what the penalty prices: softmax = E[LAT] under softmax(alpha); "
                          "sample = FBNet's LAT(a) under the Gumbel sample of each step "
                          "(--method gumbel)")
    lat.add_argument("--latency-target", type=float, default=None,
                     help="additive: the target T in ms (default: the expected latency of the "
                          "uniform supernet on the device)")
    p.add_argument("--subset", type=int, default=None,
                   help="use only this many training images (quick runs)")
    p.add_argument("--max-steps-per-epoch", type=int, default=None,
                   help="cap the steps of each epoch (quick runs; default: the whole split)")
    p.add_argument("--max-time", type=float, default=None, help="wall-time budget in seconds")
    p.add_argument("--checkpoint-dir", type=Path, default=None,
                   help="save the search state here after every epoch (and when --max-time "
                        "stops it); a later run with the same options continues from it")
    p.add_argument("--init-alpha", type=Path, default=None,
                   help="JSON file {key: [[logits]]} to warm-start the alphas")
    p.add_argument("--derive", choices=["argmax", "no-none"], default="argmax",  # DERIVE_RULES
                   help="nb201: read the cell off the alphas by argmax over all ops "
                        "(NAS-Bench-201's rule) or never choosing 'none' (the DARTS paper's)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar (default: one on stderr when it is a terminal)")


def json_safe(value: Any) -> Any:
    """``value`` with NaN / inf floats replaced by None, so ``--json`` prints strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def _load_data(args: argparse.Namespace, data_dir: Path) -> Any:
    import numpy as np

    from warmnas.nas.data import CIFAR10_MEAN, CIFAR10_STD, ImageData, load_cifar10

    mean: Any = None
    std: Any = None
    if args.data == "cifar10":
        X, y, _, _ = load_cifar10(data_dir, cache_dir=args.cache_dir)
        X, y = np.asarray(X), np.asarray(y)
        mean, std = CIFAR10_MEAN, CIFAR10_STD
    else:
        path = Path(args.data)
        if not path.is_file():
            raise MissingDataError(f"--data {args.data!r} is neither 'cifar10' nor an .npz file")
        try:
            with np.load(path, allow_pickle=False) as npz:
                X, y = npz["X"], npz["y"]
        except (KeyError, ValueError, OSError) as exc:
            raise InputError(f"{path} must be an .npz file with arrays 'X' and 'y': {exc}") from exc
    if args.subset is not None:
        if args.subset < 4:
            raise InputError(f"--subset must be at least 4, got {args.subset}")
        rng = np.random.default_rng(args.seed)
        keep = np.sort(rng.choice(len(y), size=min(args.subset, len(y)), replace=False))
        X, y = X[keep], y[keep]
    return ImageData.from_arrays(X, y, mean=mean, std=std)


def _search(args: argparse.Namespace) -> int:
    import torch

    from warmnas.nas.data import default_data_dir
    from warmnas.nas.nb201 import DERIVE_RULES, NB201Table
    from warmnas.nas.search import DARTSSearch

    if args.space != "nb201" and args.derive != "argmax":
        raise InputError("--derive applies to --space nb201 only (the DARTS space's genotypes "
                         "never hold 'none'); drop it")
    if args.space != "fbnet" and (args.latency_device is not None
                                  or args.latency_weight is not None
                                  or args.latency_target is not None
                                  or args.latency_weights != "softmax"):
        raise InputError("--latency-device, --latency-weight, --latency-target and "
                         "--latency-weights apply to "
                         "--space fbnet (the HW-NAS-Bench block tables); for the DARTS and NB201 "
                         "spaces pass a latency_penalty to DARTSSearch in Python (docs/hardware.md)")
    data_dir = args.data_dir or default_data_dir()
    init_alpha = None
    if args.init_alpha is not None:
        try:
            raw = json.loads(args.init_alpha.read_text())
        except (OSError, ValueError) as exc:
            raise InputError(f"--init-alpha {args.init_alpha} is not a readable JSON file: "
                             f"{exc}") from exc
        if not isinstance(raw, dict):
            raise InputError(f"--init-alpha {args.init_alpha} must hold a JSON object "
                             f"{{cell type: [[logits]]}}, got {type(raw).__name__}")
        init_alpha = {}
        for k, v in raw.items():
            try:
                init_alpha[k] = torch.tensor(v, dtype=torch.float32)
            except (TypeError, ValueError, RuntimeError) as exc:
                raise InputError(f"--init-alpha {args.init_alpha}: [{k!r}] must be a rectangular "
                                 f"array of numbers (n_edges x n_ops logits): {exc}") from exc
    settings: dict[str, Any] = {"method": "darts", "lr": 0.025, "arch_lr": 3e-4}
    penalty = None
    if args.space == "fbnet":
        from warmnas.nas.fbnet import FBNET_SEARCH_SETTINGS

        settings = dict(FBNET_SEARCH_SETTINGS)
        penalty = _fbnet_penalty(args, data_dir)
    for key in ("method", "lr", "arch_lr", "tau_decay"):
        value = getattr(args, key)
        if value is not None:
            settings[key] = value
    table = None
    if args.space == "nb201":
        try:
            table = NB201Table.load(data_dir)
        except MissingDataError:
            print("warmnas: note: nats_bench.csv not found; NB201 accuracies are not looked up",
                  file=sys.stderr)
    search = DARTSSearch(
        args.space, order=args.order, init_alpha=init_alpha, latency_penalty=penalty,
        latency_weights=args.latency_weights,
        epochs=args.epochs, warmup_epochs=args.warmup_epochs, batch_size=args.batch_size,
        C=args.C, layers=args.layers, device=args.device, **settings,
        impl="reference" if settings["method"] == "proxyless" and args.space != "fbnet"
        else "batched",
        max_steps_per_epoch=args.max_steps_per_epoch, max_time_s=args.max_time,
        nb201_table=table, random_state=args.seed, checkpoint_dir=args.checkpoint_dir,
        derive_exclude=DERIVE_RULES[args.derive],
        progress=False if args.no_progress else None)
    # the settings before the data: loading CIFAR-10 the first time decodes 60,000 JPEGs
    search._check_params()
    train = _load_data(args, data_dir)
    search.fit(train)
    result = search.result()
    if args.space == "nb201":
        result["derive"] = args.derive
    if table is not None and isinstance(result["genotype"], str):
        result["nb201"] = table.lookup(result["genotype"])
    if args.space == "fbnet":
        result["fbnet"] = _fbnet_report(search.genotype_, data_dir, args, penalty)
    if args.json:
        print(json.dumps(json_safe(result), indent=1, allow_nan=False))
        return 0
    print(f"space {result['space']}  method {result['method']}  epochs {len(result['history'])}"
          f"  {result['search_time_s']:.1f}s")
    if not result.get("finished", True):
        print(f"not finished: {result['epochs_done']} of {result['epochs_planned']} epochs; "
              "run the same command again to continue from --checkpoint-dir")
    if "fbnet" in result:
        _print_fbnet(result["fbnet"])
        return 0
    print(f"genotype: {result['genotype']}")
    if "nb201" in result:
        nb = result["nb201"]
        print(f"NB201 index {nb['index']}: CIFAR-10 {nb['cifar10']:.2f}  CIFAR-100 "
              f"{nb['cifar100']:.2f}  ImageNet16-120 {nb['imagenet16_120']:.2f}")
    return 0


def _fbnet_penalty(args: argparse.Namespace, data_dir: Path) -> Any:
    """The latency penalty of ``--latency-device`` (None without it), built before the data."""
    if args.latency_device is None:
        if args.latency_weight is not None or args.latency_target is not None:
            raise InputError("--latency-weight / --latency-target need --latency-device (one of "
                             "edgegpu, raspi4, pixel3, eyeriss, fpga)")
        return None
    import torch

    from warmnas.hardware.penalties import latency_penalty
    from warmnas.hardware.tables import fbnet_lut_model

    model = fbnet_lut_model(data_dir, args.latency_device)
    if args.latency_penalty == "multiplicative":
        if args.latency_target is not None:
            raise InputError("--latency-target applies to --latency-penalty additive; FBNet's "
                             "multiplicative penalty has no target")
        beta = 0.6 if args.latency_weight is None else args.latency_weight
        # the log must stay positive: microseconds where the fastest network is under 1 ms
        fastest = model.intercept + float(model.costs["layers"].min(axis=1).sum())
        return latency_penalty(model, "multiplicative", alpha=0.2, beta=beta,
                               unit_ms=0.001 if fastest <= 1.0 else 1.0)
    target = args.latency_target
    if target is None:
        target = _uniform_ms(model, torch)
    weight = 0.1 if args.latency_weight is None else args.latency_weight
    return latency_penalty(model, "additive", target_ms=target, weight=weight)


def _uniform_ms(model: Any, torch: Any) -> float:
    """Expected latency of uniform alphas (the supernet at the start), ms."""
    return float(model.expected_latency({"layers": torch.zeros(22, 9)}))


def _fbnet_report(arch: Any, data_dir: Path, args: argparse.Namespace,
                  penalty: Any) -> dict[str, Any]:
    """The found FBNet network: its blocks (full-width layout) and LUT latency per device."""
    from warmnas.nas.fbnet import fbnet_latencies, fbnet_layout

    layers = [{"layer": i, "op": op, "H": layer.H, "C_in": layer.C_in, "C_out": layer.C_out,
               "stride": layer.stride} for i, (op, layer) in enumerate(zip(arch, fbnet_layout()))]
    try:
        latency: dict[str, float] | None = fbnet_latencies(arch, data_dir)
    except MissingDataError:
        print("warmnas: note: the HW-NAS-Bench table (fbnet/hw-nas-bench-lut) was not found; "
              "no latencies", file=sys.stderr)
        latency = None
    return {"ops": list(arch), "layers": layers, "latency_ms": latency,
            "latency_device": args.latency_device,
            "penalty": None if penalty is None else repr(penalty),
            "latency_weights": args.latency_weights, "width_C": args.C}


def _print_fbnet(fb: dict[str, Any]) -> None:
    print("FBNet blocks (full-width layout, 32x32 input):")
    for row in fb["layers"]:
        print(f"  {row['layer']:2d}  {row['op']:9s} H{row['H']:<3d} {row['C_in']:4d} -> "
              f"{row['C_out']:4d}  stride {row['stride']}")
    if fb["penalty"] is not None:
        print(f"penalty: {fb['penalty']}")
    if fb["latency_ms"]:
        print("HW-NAS-Bench LUT latency (ms): " + "  ".join(
            f"{d} {ms:.3f}{' *' if d == fb['latency_device'] else ''}"
            for d, ms in fb["latency_ms"].items()))
