"""``warmnas nas ...``: differentiable architecture search from the command line.

Example::

    warmnas nas search --space nb201 --data cifar10 --method drnas --epochs 50 --device cuda --json
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
    commands.group("nas", help="neural architecture search: DARTS, DrNAS and GDAS on the DARTS "
                               "and NAS-Bench-201 cell spaces")
    p = commands.add(
        "search", group="nas", handler=_search,
        help="run a differentiable architecture search and print the found architecture",
        description="Run DARTS / DrNAS / GDAS on CIFAR-10 (or arrays in an .npz file) and print "
                    "the derived genotype; for the NB201 space also its arch string, benchmark "
                    "index and the table's test accuracies.")
    p.add_argument("--space", choices=["darts", "nb201"], default="darts")
    p.add_argument("--data", default="cifar10",
                   help="'cifar10' (from the shared data folder) or an .npz file with arrays X "
                        "(N, H, W, C) and y")
    p.add_argument("--data-dir", type=Path, default=None,
                   help="shared data folder (default: $WARMNAS_SHARED_DATA or ../shared/data)")
    p.add_argument("--cache-dir", type=Path, default=None,
                   help="cache of decoded CIFAR-10 (default: ~/.cache/warmnas)")
    p.add_argument("--method", choices=["darts", "drnas", "gdas"], default="darts")
    p.add_argument("--order", type=int, choices=[1, 2], default=1)
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--warmup-epochs", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--C", type=int, default=16, help="supernet initial channels (default 16)")
    p.add_argument("--layers", type=int, default=None,
                   help="DARTS: cells (8); NB201: cells per stage (5)")
    p.add_argument("--lr", type=float, default=0.025)
    p.add_argument("--arch-lr", type=float, default=3e-4)
    p.add_argument("--subset", type=int, default=None,
                   help="use only this many training images (quick runs)")
    p.add_argument("--max-steps-per-epoch", type=int, default=None)
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
    p.add_argument("--no-progress", action="store_true")


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
    table = None
    if args.space == "nb201":
        try:
            table = NB201Table.load(data_dir)
        except MissingDataError:
            print("warmnas: note: nats_bench.csv not found; NB201 accuracies are not looked up",
                  file=sys.stderr)
    search = DARTSSearch(
        args.space, method=args.method, order=args.order, init_alpha=init_alpha,
        epochs=args.epochs, warmup_epochs=args.warmup_epochs, batch_size=args.batch_size,
        C=args.C, layers=args.layers, lr=args.lr, arch_lr=args.arch_lr, device=args.device,
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
    if args.json:
        print(json.dumps(json_safe(result), indent=1, allow_nan=False))
        return 0
    print(f"space {result['space']}  method {result['method']}  epochs {len(result['history'])}"
          f"  {result['search_time_s']:.1f}s")
    if not result.get("finished", True):
        print(f"not finished: {result['epochs_done']} of {result['epochs_planned']} epochs; "
              "run the same command again to continue from --checkpoint-dir")
    print(f"genotype: {result['genotype']}")
    if "nb201" in result:
        nb = result["nb201"]
        print(f"NB201 index {nb['index']}: CIFAR-10 {nb['cifar10']:.2f}  CIFAR-100 "
              f"{nb['cifar100']:.2f}  ImageNet16-120 {nb['imagenet16_120']:.2f}")
    return 0
