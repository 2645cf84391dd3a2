"""``warmnas nas meta-train`` and ``warmnas nas adapt``: MetaNAS on Omniglot (or CIFAR-10).

``meta-train`` meta-learns architecture logits and weights (Reptile or first-order MAML) on
N-way K-shot tasks of the meta-train alphabets and writes a checkpoint folder (optionally also a
NAS record in a meta-database). ``adapt`` loads a checkpoint, adapts it to tasks of the meta-test
alphabets and prints the mean query accuracy and the most common derived genotype.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def register(commands: Any) -> None:
    """Add ``nas meta-train`` and ``nas adapt``."""
    commands.group("nas", help="neural architecture search (DARTS, MetaNAS)")
    p = commands.add(
        "meta-train", group="nas", handler=_meta_train,
        help="meta-learn architecture logits and weights over few-shot tasks (MetaNAS)",
        description="Meta-train a DARTS/NB201 supernet with Reptile or first-order MAML on "
                    "N-way K-shot tasks and save a checkpoint folder.")
    _task_args(p)
    p.add_argument("--out", required=True, help="checkpoint folder to write")
    p.add_argument("--space", choices=("darts", "nb201"), default="darts")
    p.add_argument("--algorithm", choices=("reptile", "fomaml"), default="reptile")
    p.add_argument("--meta-steps", type=int, default=1000)
    p.add_argument("--meta-batch-size", type=int, default=10)
    p.add_argument("--inner-steps", type=int, default=5)
    p.add_argument("--adapt-steps", type=int, default=20)
    p.add_argument("--channels", type=int, default=16, help="supernet channels C (default 16)")
    p.add_argument("--layers", type=int, default=4, help="supernet cells (default 4)")
    p.add_argument("--inner-lr", type=float, default=5e-3)
    p.add_argument("--inner-arch-lr", type=float, default=5e-3)
    p.add_argument("--meta-lr", type=float, default=1.0)
    p.add_argument("--meta-arch-lr", type=float, default=0.6)
    p.add_argument("--arch-warmup-steps", type=int, default=0,
                   help="meta-steps before the alphas move (default 0; MetaNAS: half the "
                        "meta-steps)")
    p.add_argument("--train-shots", type=int, default=None,
                   help="shots per class of the meta-training tasks (default: --k-shot; "
                        "MetaNAS/Reptile use 15 with --inner-batch-size 20)")
    p.add_argument("--inner-batch-size", type=int, default=None,
                   help="images per inner step (default: the whole support set)")
    p.add_argument("--checkpoint-every", type=int, default=None,
                   help="meta-steps between checkpoints in --out (default: only at the end)")
    p.add_argument("--max-time", type=float, default=None, help="wall-time budget in seconds")
    p.add_argument("--db", default=None,
                   help="meta-database URL to store the result as a NAS record")
    p.add_argument("--db-task", default=None, help="task id of that record")
    p = commands.add(
        "adapt", group="nas", handler=_adapt,
        help="adapt a MetaNAS checkpoint to new tasks and report query accuracy",
        description="Load a MetaNAS checkpoint, adapt it to tasks of the meta-test split and "
                    "print the mean query accuracy (with a 95% interval) and genotypes.")
    _task_args(p, from_checkpoint=True)
    p.add_argument("checkpoint", help="folder written by 'warmnas nas meta-train'")
    p.add_argument("--tasks", type=int, default=100, help="tasks to adapt to (default 100)")
    p.add_argument("--steps", type=int, default=None, help="adaptation steps (default: the "
                                                           "checkpoint's adapt_steps)")


def _task_args(p: argparse.ArgumentParser, from_checkpoint: bool = False) -> None:
    """Task options; with ``from_checkpoint`` (adapt), --n-way and --size default to the
    checkpoint's."""
    p.add_argument("--dataset", choices=("omniglot", "cifar10"), default="omniglot")
    p.add_argument("--data-dir", default=None,
                   help="shared data folder (default: $WARMNAS_SHARED_DATA or ../shared/data)")
    p.add_argument("--cache-dir", default=None, help="decoded-image cache folder")
    if from_checkpoint:
        p.add_argument("--n-way", type=int, default=None,
                       help="classes per task (default: the checkpoint's)")
    else:
        p.add_argument("--n-way", type=int, default=5, help="classes per task (default 5)")
    p.add_argument("--k-shot", type=int, default=1)
    p.add_argument("--q-query", type=int, default=5)
    if from_checkpoint:
        p.add_argument("--size", type=int, default=None,
                       help="Omniglot image side (default: the checkpoint's)")
    else:
        p.add_argument("--size", type=int, default=28, help="Omniglot image side (default 28)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", "--random-state", type=int, default=0, dest="random_state",
                   metavar="SEED", help="random seed (default 0)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def _tasks(args: argparse.Namespace, split: str, k_shot: int | None = None) -> Any:
    k = args.k_shot if k_shot is None else k_shot
    if args.dataset == "omniglot":
        from warmnas.nas.meta.omniglot import omniglot_tasks

        return omniglot_tasks(args.data_dir, split=split, n_way=args.n_way, k_shot=k,
                              q_query=args.q_query, size=args.size, cache_dir=args.cache_dir,
                              device=args.device)
    from warmnas.nas.meta.tasks import cifar10_tasks

    return cifar10_tasks(args.data_dir, split=split, n_way=args.n_way, k_shot=k,
                         q_query=args.q_query, cache_dir=args.cache_dir, device=args.device)


def _check_device(device: str) -> None:
    """An unknown or unavailable --device is an InputError before any data is read."""
    from warmnas.nas.data import resolve_device

    resolve_device(device)


def _meta_train(args: argparse.Namespace) -> int:
    from warmnas.nas.meta.metanas import MetaNAS

    _check_device(args.device)
    if args.train_shots is not None and args.train_shots < 1:
        # checked here: the library's k_shot check would name --k-shot, which feeds the test tasks
        from warmnas.errors import InputError

        raise InputError(f"--train-shots must be a positive int, got {args.train_shots}")
    model = MetaNAS(args.space, algorithm=args.algorithm, C=args.channels, layers=args.layers,
                    meta_steps=args.meta_steps, meta_batch_size=args.meta_batch_size,
                    inner_steps=args.inner_steps, adapt_steps=args.adapt_steps,
                    inner_lr=args.inner_lr, inner_arch_lr=args.inner_arch_lr,
                    meta_lr=args.meta_lr, meta_arch_lr=args.meta_arch_lr,
                    meta_optimizer="sgd" if args.algorithm == "reptile" else "adam",
                    arch_warmup_steps=args.arch_warmup_steps,
                    inner_batch_size=args.inner_batch_size, device=args.device,
                    checkpoint_dir=args.out, checkpoint_every=args.checkpoint_every,
                    db=args.db, db_task=args.db_task, max_time_s=args.max_time,
                    random_state=args.random_state)
    # the settings before the tasks: these decode the Omniglot zips or CIFAR-10's JPEGs first
    model._check_params()
    train, test = _tasks(args, "train", args.train_shots), _tasks(args, "test")
    model.fit(train, test)
    last = model.history_[-1] if model.history_ else {}
    result = {"checkpoint": args.out, "meta_steps": model.n_meta_steps_,
              "stopped_early": model.stopped_early_, "fit_time_s": model.fit_time_s_,
              "valid_accuracy": last.get("valid_accuracy"),
              "genotype": str(model.genotype_)}
    _print(result, args.json)
    return 0


def _adapt(args: argparse.Namespace) -> int:
    from warmnas.nas.meta.metanas import MetaNAS

    _check_device(args.device)
    if not (Path(args.checkpoint) / "config.json").is_file():
        from warmnas.errors import MissingDataError

        raise MissingDataError(f"no MetaNAS checkpoint at {args.checkpoint} (config.json "
                               "missing); pass the folder that 'warmnas nas meta-train --out "
                               "FOLDER' wrote")
    model = MetaNAS.load(args.checkpoint, device=args.device)
    if args.n_way is None:
        args.n_way = model.n_way_
    if args.size is None:
        args.size = model.image_shape_[-1]
    test = _tasks(args, "test")
    res = model.evaluate(test, n_tasks=args.tasks, steps=args.steps,
                         random_state=args.random_state)
    out = {k: res[k] for k in ("accuracy", "ci95", "loss", "n_tasks", "steps")}
    out["genotype"] = res["genotypes"][0][0] if res["genotypes"] else None
    _print(out, args.json)
    return 0


def _print(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        from warmnas.cli.nas import json_safe

        json.dump(json_safe(result), sys.stdout, indent=1, default=str, allow_nan=False)
        sys.stdout.write("\n")
        return
    for k, v in result.items():
        print(f"{k}: {v}")
