"""GPU benchmark of warmnas.nas: NB201 search quality and DARTS-space search speed.

Subcommands:

* ``nb201``: NB201 searches on CIFAR-10 (25k/25k search split), one process per seed, run
  concurrently on one GPU (the supernet is launch-bound, so this nearly multiplies throughput).
  Each seed's history is flushed to ``OUT/nb201_seed<S>.json`` after every epoch. Prints per seed
  the found arch string, its NAS-Bench-201 index, the table's CIFAR-10 / CIFAR-100 /
  ImageNet16-120 test accuracy and the wall minutes. Anchors (NAS-Bench-201 / DrNAS papers,
  CIFAR-10 test): DARTS-V1 54.30, GDAS 93.61, DrNAS 94.36, optimum 94.37.
* ``darts-time``: seconds per iteration (weight step + alpha step, first order, batch 64, 8 cells,
  C=16) of the DARTS-space search on CIFAR-10 25k/25k, for the straightforward supernet (eager,
  fp32, one module per edge and op) and the fast path (edge-batched supernet, bf16,
  channels-last, CUDA graphs), with peak GPU memory. A few iterations are timed after warm-up
  and extrapolated to 391 iterations per epoch (25,000 / 64, as DARTS counts).
* ``all``: decode CIFAR-10 once, then ``darts-time`` and ``nb201``.
* ``gpu-check`` (< 30 s): on one real CIFAR-10 batch, the NB201 supernet's weight and alpha
  gradients with bf16 autocast + channels-last against fp32 (relative error, alpha-gradient
  cosine), and short DrNAS/GDAS searches with CUDA graphs against eager ones (same seed, fp32,
  deterministic): the alphas must agree. Writes ``OUT/gpu_check.json``; never aborts what follows.
* ``quick``: ``gpu-check``, then ``nb201`` with a schedule sized for about 5 minutes of a shared
  GPU (3 concurrent seeds; a proxy supernet with ``--layers 2`` cells per stage instead of 5; the
  found cell is still looked up in the NB201 table, which is for the N=5 network).

Each timing line also prints the 1-minute load average. ``--smoke`` runs everything on a tiny
subset (CPU works) to test the script itself.

Long NB201 searches over several GPU calls: ``--checkpoint-dir DIR`` saves each seed's search
state to ``DIR/seed<S>/search_state.pt`` after every epoch (atomically) and resumes from it when
it is there; ``--resume-from DIR2`` reads ``DIR2/seed<S>/search_state.pt`` when ``DIR`` has none
(a checkpoint folder brought back from an earlier call). With ``--max-time-s`` each seed stops
at an epoch boundary; its JSON then says ``"finished": false`` with ``epochs_done`` /
``epochs_planned`` and only the current cell (``current_arch``, not a result); only a finished
search gets ``arch`` and its table ``lookup``. See docs/nas.md ("Running a long search over
several GPU calls").

Example (GPU machine)::

    python bench/nas_gpu.py all --data-dir .gpu-data --out results/nas --device cuda
    python bench/nas_gpu.py quick --data-dir .gpu-data --out "$OUT"   # check + short search
    python bench/nas_gpu.py nb201 --data-dir .gpu-data --out "$OUT" --layers 2 --epochs 50 \
        --checkpoint-dir "$OUT/ckpt" --resume-from .nas-ckpt --max-time-s 480   # call after call
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from warmnas.nas.data import ImageData, load_cifar10, search_split  # noqa: E402
from warmnas.nas.nb201 import DERIVE_RULES, NB201Table, derive_arch  # noqa: E402
from warmnas.nas.search import CHECKPOINT_NAME, DARTSSearch  # noqa: E402

ANCHORS = {"DARTS-V1": 54.30, "GDAS": 93.61, "DrNAS": 94.36, "optimum": 94.37}
#: issue 8's target: NB201 table CIFAR-10 test accuracy of the found cell, on each of 3 seeds
TARGET_C10 = 93.5


def _default_data_dir() -> Path:
    env = os.environ.get("WARMNAS_SHARED_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


def _load(args: argparse.Namespace) -> tuple[ImageData, ImageData]:
    X, y, _, _ = load_cifar10(args.data_dir, cache_dir=args.cache_dir)
    data = ImageData.from_arrays(np.asarray(X), np.asarray(y),
                                 mean=(0.49139968, 0.48215827, 0.44653124),
                                 std=(0.24703233, 0.24348505, 0.26158768))
    train, valid = search_split(data, 0.5, random_state=0)
    if args.smoke:
        train, valid = train.subset(np.arange(256)), valid.subset(np.arange(256))
    return train, valid


def _load_avg() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:  # pragma: no cover
        return float("nan")


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, indent=1))
    os.replace(tmp, path)


# ------------------------------------------------------------------------------------ NB201
def _seed_checkpoints(args: argparse.Namespace) -> tuple[Path | None, Path | None]:
    """(folder this seed writes its checkpoint to, checkpoint file to resume from or None)."""
    ckpt_dir = Path(args.checkpoint_dir) / f"seed{args.seed}" if args.checkpoint_dir else None
    if ckpt_dir is not None and (ckpt_dir / CHECKPOINT_NAME).is_file():
        return ckpt_dir, ckpt_dir / CHECKPOINT_NAME  # a restart within the same call
    if args.resume_from:
        source = Path(args.resume_from) / f"seed{args.seed}" / CHECKPOINT_NAME
        if source.is_file():
            return ckpt_dir, source
        print(f"seed {args.seed}: no checkpoint at {source}, starting a new search", flush=True)
    return ckpt_dir, None


def cmd_nb201_seed(args: argparse.Namespace) -> int:
    train, valid = _load(args)
    table = NB201Table.load(args.data_dir)
    out = Path(args.json)
    ckpt_dir, resume = _seed_checkpoints(args)
    meta = {"seed": args.seed, "method": args.method, "epochs": args.epochs, "fp32": args.fp32,
            "batch_size": args.batch_size, "lr": args.lr, "arch_lr": args.arch_lr,
            "arch_weight_decay": args.arch_weight_decay, "warmup_epochs": args.warmup_epochs,
            "C": 4 if args.smoke else args.C, "layers": 1 if args.smoke else args.layers,
            "max_time_s": args.max_time_s,
            "checkpoint_dir": None if ckpt_dir is None else str(ckpt_dir),
            "resumed_from": None if resume is None else str(resume),
            "device": torch.cuda.get_device_name() if args.device == "cuda" else "cpu"}
    t0 = time.perf_counter()

    def flush(record: dict[str, Any], search: DARTSSearch) -> None:
        nb = record.get("nb201", {})
        print(f"seed {args.seed} epoch {record['epoch']:3d} {record['seconds']:6.1f}s "
              f"loss {record['train_loss']:.3f}/{record['valid_loss'] or float('nan'):.3f} "
              f"H {record['alpha_entropy']['cell']:.3f} {record['genotype']} "
              f"c10 {nb.get('cifar10', float('nan')):.2f}", flush=True)
        _write_json(out, {**meta, "history": search.history_, "done": False, "finished": False,
                          "epochs_done": len(search.history_), "epochs_planned": args.epochs,
                          "elapsed_s": time.perf_counter() - t0})

    search = DARTSSearch(
        "nb201", method=args.method, epochs=args.epochs, batch_size=args.batch_size,
        lr=args.lr, arch_lr=args.arch_lr, arch_weight_decay=args.arch_weight_decay,
        warmup_epochs=args.warmup_epochs, device=args.device, random_state=args.seed,
        max_steps_per_epoch=2 if args.smoke else None, max_time_s=args.max_time_s,
        checkpoint_dir=ckpt_dir, checkpoint_every=1, derive_exclude=DERIVE_RULES[args.derive],
        nb201_table=table, callback=flush, progress=False,
        autocast=False if args.fp32 else "auto", channels_last=False if args.fp32 else "auto",
        C=meta["C"], layers=meta["layers"])
    search.fit(train, valid, resume_from=resume)
    res: dict[str, Any] = {
        **meta, "history": search.history_, "done": True, "finished": search.finished_,
        "epochs_done": search.epochs_done_, "epochs_planned": args.epochs,
        "search_time_s": search.total_search_time_s_,
        "call_search_time_s": search.search_time_s_, "elapsed_s": time.perf_counter() - t0,
        "stopped_early": search.stopped_early_,
        "alphas": {k: v.tolist() for k, v in search.alphas_.items()}}
    if search.finished_:
        # the cell by the rule chosen before the run (--derive), and by the other rule, labelled
        other = "no-none" if args.derive == "argmax" else "argmax"
        found = table.lookup(str(search.genotype_))
        res.update(arch=search.genotype_, lookup=found, derive=args.derive, derive_other=other,
                   lookup_other=table.lookup(derive_arch(search.alphas_,
                                                         exclude=DERIVE_RULES[other])))
        print(f"seed {args.seed} done: {found['arch']} index {found['index']} "
              f"c10 {found['cifar10']:.2f} c100 {found['cifar100']:.2f} "
              f"in16 {found['imagenet16_120']:.2f} search {search.total_search_time_s_ / 60:.2f} "
              "min", flush=True)
    else:
        res["current_arch"] = search.genotype_  # where the alphas are now: not a result
        where = f"state in {ckpt_dir}" if ckpt_dir is not None else "no --checkpoint-dir: lost"
        print(f"seed {args.seed} incomplete: {search.epochs_done_}/{args.epochs} epochs "
              f"({where}); current cell (not a result) {search.genotype_}", flush=True)
    _write_json(out, res)
    return 0


def cmd_nb201(args: argparse.Namespace) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    load_cifar10(args.data_dir, cache_dir=args.cache_dir)  # decode once before the workers
    procs = []
    t0 = time.perf_counter()
    variants = json.loads(args.variants) if args.variants else [{}] * len(args.seeds)
    if len(variants) != len(args.seeds):
        raise SystemExit("--variants needs one dict per seed")
    for seed, var in zip(args.seeds, variants):
        opts: dict[str, Any] = {k: getattr(args, k) for k in (
            "method", "epochs", "batch_size", "lr", "arch_lr", "arch_weight_decay",
            "warmup_epochs", "fp32", "C", "layers", "derive")}
        unknown = set(var) - set(opts)
        if unknown:
            raise SystemExit(f"unknown variant keys {sorted(unknown)}")
        opts.update(var)
        cmd = [sys.executable, __file__, "nb201-seed", "--seed", str(seed),
               "--json", str(out / f"nb201_seed{seed}.json"), *_common(args)]
        for k, v in opts.items():
            if isinstance(v, bool):
                cmd += ["--" + k.replace("_", "-")] if v else []
            else:
                cmd += ["--" + k.replace("_", "-"), str(v)]
        print("launch:", " ".join(cmd[2:]), flush=True)
        procs.append(subprocess.Popen(cmd))
    codes = [p.wait() for p in procs]
    wall = time.perf_counter() - t0
    print(f"\nNB201 on CIFAR-10, {len(args.seeds)} seeds run concurrently on one device "
          f"({wall / 60:.2f} min wall for all); anchors: "
          + ", ".join(f"{k} {v}" for k, v in ANCHORS.items()))
    print(f"{'seed':>4} {'index':>6} {'c10':>6} {'c100':>6} {'in16':>6} {'min':>5}  arch")
    accs: list[float] = []
    others: list[tuple[int, str, dict[str, Any]]] = []
    for seed, code in zip(args.seeds, codes):
        path = out / f"nb201_seed{seed}.json"
        if not path.exists():
            print(f"{seed:>4} failed (exit {code}), no result")
            continue
        res = json.loads(path.read_text())
        if not res.get("done") or not res.get("finished", True):
            hist = res.get("history") or [{}]
            ckpt = res.get("checkpoint_dir")
            print(f"{seed:>4} incomplete (exit {code}): {len(res.get('history', []))}/"
                  f"{res.get('epochs')} epochs; current cell (not a result) "
                  f"{hist[-1].get('genotype')}"
                  + (f"; resume from {ckpt}" if ckpt else "; no checkpoint (--checkpoint-dir)"))
            continue
        lk = res["lookup"]
        accs.append(lk["cifar10"])
        if "lookup_other" in res:
            others.append((seed, res["derive_other"], res["lookup_other"]))
        print(f"{seed:>4} {lk['index']:>6} {lk['cifar10']:6.2f} {lk['cifar100']:6.2f} "
              f"{lk['imagenet16_120']:6.2f} {res['search_time_s'] / 60:5.2f}  {lk['arch']}"
              f"  [{res['method']} bs {res['batch_size']} ep {len(res['history'])}/"
              f"{res['epochs']} lr {res['lr']} arch_lr {res['arch_lr']} "
              f"N {res.get('layers', 5)} C {res.get('C', 16)}]"
              + ("  (time budget hit)" if res.get("stopped_early") else ""))
    if accs:
        print(f"mean CIFAR-10 {np.mean(accs):.2f} +- {np.std(accs):.2f} over {len(accs)} seeds "
              f"(cells derived by --derive {args.derive})")
        reached = sum(a >= TARGET_C10 for a in accs)
        print(f"target (CIFAR-10 >= {TARGET_C10} on every seed, rule --derive {args.derive}): "
              f"{reached} of {len(args.seeds)} seeds reach it"
              + (", met" if reached == len(args.seeds) else ", NOT met"))
    if others:
        print("the same alphas read by the other derivation rule (not the rule chosen for this "
              "run; for diagnosis):")
        for seed, rule, lk in others:
            print(f"{seed:>4} {lk['index']:>6} {lk['cifar10']:6.2f} {lk['cifar100']:6.2f} "
                  f"{lk['imagenet16_120']:6.2f}        {lk['arch']}  [{rule}]")
    return 0 if all(c == 0 for c in codes) else 1


# ------------------------------------------------------------------------------- GPU checks
def cmd_gpu_check(args: argparse.Namespace) -> int:
    """bf16 + channels-last vs fp32 gradients, CUDA graphs vs eager; report, never raise."""
    import torch.nn.functional as F

    from warmnas.nas.data import BatchLoader
    from warmnas.nas.supernet import build_supernet

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    cuda = args.device == "cuda"
    train, valid = _load(args)
    n = 32 if args.smoke else 128
    gen = torch.Generator(device="cpu").manual_seed(0)
    xb, yb = BatchLoader(train, n, generator=gen).batch(torch.arange(n))
    xb, yb = xb.to(args.device), yb.to(args.device)
    report: dict[str, Any] = {"device": torch.cuda.get_device_name() if cuda else "cpu",
                              "torch": torch.__version__, "load_avg_1min": _load_avg()}
    # 1. gradients: fp32 contiguous vs bf16 autocast + channels-last, same weights, same batch
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net = build_supernet("nb201", C=4 if args.smoke else 16,
                             layers=1 if args.smoke else args.layers).to(args.device)
    params = net.weight_parameters() + net.arch_parameters()
    ref = torch.autograd.grad(F.cross_entropy(net(xb), yb), params)
    net_cl = net.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    with torch.autocast(device_type=xb.device.type, dtype=torch.bfloat16, enabled=cuda):
        low_logits = net_cl(xb.contiguous(memory_format=torch.channels_last))
    low = torch.autograd.grad(F.cross_entropy(low_logits.float(), yb), params)
    num = sum(float((a - b).float().square().sum()) for a, b in zip(ref[:-1], low[:-1]))
    den = sum(float(a.float().square().sum()) for a in ref[:-1])
    ga, gb = ref[-1].flatten().float(), low[-1].flatten().float()
    report["weight_grad_rel_err"] = (num / den) ** 0.5
    report["alpha_grad_rel_err"] = float((ga - gb).norm() / ga.norm())
    report["alpha_grad_cosine"] = float(F.cosine_similarity(ga, gb, dim=0))
    report["bf16_ok"] = report["weight_grad_rel_err"] < 0.1 and report["alpha_grad_cosine"] > 0.98
    print(f"gpu-check bf16+channels-last vs fp32 (NB201 N={args.layers}, C=16, batch {n}): "
          f"weight-grad rel. error {report['weight_grad_rel_err']:.4f}, alpha-grad rel. error "
          f"{report['alpha_grad_rel_err']:.4f}, cosine {report['alpha_grad_cosine']:.4f} -> "
          f"{'OK' if report['bf16_ok'] else 'SUSPECT'}", flush=True)
    # 2. CUDA graphs vs eager: same seed, fp32, deterministic; captured steps must replay fresh
    # batches and noise (graph capture happens at the 4th call, so 12 steps include replays)
    small_t = train.subset(np.arange(min(len(train), 768)))
    small_v = valid.subset(np.arange(min(len(valid), 768)))
    for method in ("drnas", "gdas"):
        runs = []
        for graphs in ((False, True) if cuda else (False, False)):
            s = DARTSSearch("nb201", method=method, epochs=2, batch_size=64, C=8, layers=1,
                            max_steps_per_epoch=6, device=args.device, autocast=False,
                            channels_last=False, cuda_graphs=graphs, deterministic=True,
                            random_state=0, progress=False, arch_lr=3e-3)
            s.fit(small_t, small_v)
            runs.append(s)
        diff = float((runs[0].alphas_["cell"] - runs[1].alphas_["cell"]).abs().max())
        moved = float(runs[0].alphas_["cell"].abs().max())  # init ~1e-3: did the steps act?
        losses = [[round(r["train_loss"], 5) for r in s.history_] for s in runs]
        report[f"graphs_{method}"] = {"alpha_max_abs_diff": diff, "alpha_moved": moved,
                                      "train_loss_eager": losses[0], "train_loss_graphs": losses[1],
                                      "ok": diff < 1e-3 and abs(losses[0][-1] - losses[1][-1]) < 1e-2}
        print(f"gpu-check CUDA graphs vs eager ({method}, 12 steps): alpha max |diff| {diff:.2e} "
              f"(alphas moved up to {moved:.2e}), train loss eager {losses[0]} graphs {losses[1]} "
              f"-> {'OK' if report[f'graphs_{method}']['ok'] else 'MISMATCH'}", flush=True)
    report["seconds"] = time.perf_counter() - t0
    _write_json(out / "gpu_check.json", report)
    print(f"gpu-check done in {report['seconds']:.1f}s (load {report['load_avg_1min']:.2f})",
          flush=True)
    return 0


def cmd_quick(args: argparse.Namespace) -> int:
    load_cifar10(args.data_dir, cache_dir=args.cache_dir)
    try:
        cmd_gpu_check(args)
    except Exception as exc:  # the search below still runs; the failure is reported
        print(f"gpu-check FAILED: {type(exc).__name__}: {exc}", flush=True)
    return cmd_nb201(args)


# ------------------------------------------------------------------------------- DARTS speed
CONFIGS = {
    # name: (impl, autocast, channels_last, cuda_graphs)
    "straightforward": ("reference", False, False, False),
    "batched-eager": ("batched", True, True, False),
    "fast": ("batched", True, True, True),
}


def cmd_darts_time(args: argparse.Namespace) -> int:
    train, valid = _load(args)
    rows = []
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cuda = args.device == "cuda"
    for name in args.configs:
        impl, amp, cl, graphs = CONFIGS[name]
        if not cuda:
            amp, cl, graphs = False, False, False
        steps = args.steps_reference if impl == "reference" else args.steps
        if cuda:
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
        search = DARTSSearch(
            "darts", method="darts", order=1, epochs=2, batch_size=args.time_batch_size,
            C=4 if args.smoke else 16, layers=8, impl=impl, device=args.device, autocast=amp,
            channels_last=cl, cuda_graphs=graphs, max_steps_per_epoch=steps, random_state=0,
            progress=False)
        search.fit(train, valid)
        # epoch 1 holds warm-up and graph capture; epoch 2 is the steady state
        s_iter = search.history_[1]["seconds"] / steps
        peak = torch.cuda.max_memory_allocated() / 2**30 if cuda else float("nan")
        row = {"config": name, "impl": impl, "bf16": amp, "channels_last": cl, "cuda_graphs": graphs,
               "batch_size": args.time_batch_size, "timed_iterations": steps,
               "s_per_iter": s_iter, "s_per_epoch_391": 391 * s_iter, "peak_gib": peak,
               "load_avg_1min": _load_avg(),
               "device": torch.cuda.get_device_name() if cuda else "cpu"}
        rows.append(row)
        print(f"darts-space {name:16s} {s_iter * 1000:8.1f} ms/iter  {391 * s_iter:7.1f} s/epoch "
              f"(391 it, extrapolated from {steps})  peak {peak:5.2f} GiB  "
              f"load {row['load_avg_1min']:.2f}", flush=True)
        _write_json(out / "darts_time.json", {"rows": rows})
        del search
    base = next((r for r in rows if r["config"] == "straightforward"), None)
    if base is not None:
        print("\nDARTS-space search, batch 64, 8 cells, C=16, first order (weight + alpha step)")
        print(f"{'config':16s} {'s/epoch':>8} {'speed-up':>8} {'peak GiB':>8}")
        for r in rows:
            print(f"{r['config']:16s} {r['s_per_epoch_391']:8.1f} "
                  f"{base['s_per_iter'] / r['s_per_iter']:7.2f}x {r['peak_gib']:8.2f}")
    return 0


def cmd_all(args: argparse.Namespace) -> int:
    load_cifar10(args.data_dir, cache_dir=args.cache_dir)
    code = cmd_darts_time(args)
    return cmd_nb201(args) or code


def _common(args: argparse.Namespace) -> list[str]:
    out = ["--data-dir", str(args.data_dir), "--device", args.device]
    if args.cache_dir:
        out += ["--cache-dir", str(args.cache_dir)]
    if args.smoke:
        out.append("--smoke")
    if args.max_time_s:
        out += ["--max-time-s", str(args.max_time_s)]
    for opt in ("checkpoint_dir", "resume_from"):
        if getattr(args, opt, None):
            out += ["--" + opt.replace("_", "-"), str(getattr(args, opt))]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data-dir", type=Path, default=_default_data_dir())
        p.add_argument("--cache-dir", type=Path, default=None)
        p.add_argument("--device", default=None,
                       help="default: cuda; without CUDA only with --smoke (then cpu)")
        p.add_argument("--smoke", action="store_true", help="tiny run to test the script")
        p.add_argument("--out", default=str(REPO / "results" / "nas"))
        p.add_argument("--max-time-s", type=float, default=None,
                       help="per-seed wall budget for NB201 (stops after the epoch exceeding it)")

    def nb_opts(p: argparse.ArgumentParser) -> None:
        p.add_argument("--method", default="drnas", choices=["darts", "drnas", "gdas"])
        p.add_argument("--epochs", type=int, default=50)
        p.add_argument("--batch-size", type=int, default=64)
        p.add_argument("--lr", type=float, default=0.025)
        p.add_argument("--arch-lr", type=float, default=3e-4)
        p.add_argument("--arch-weight-decay", type=float, default=1e-3)
        p.add_argument("--warmup-epochs", type=int, default=0)
        p.add_argument("--fp32", action="store_true",
                       help="NB201: no bf16 autocast and no channels-last (A/B check)")
        p.add_argument("--C", type=int, default=16, help="NB201 supernet initial channels")
        p.add_argument("--layers", type=int, default=5,
                       help="NB201 supernet search cells per stage (5 as in NB201; fewer = proxy)")
        p.add_argument("--derive", choices=list(DERIVE_RULES), default="argmax",
                       help="NB201: how the cell is read off the alphas: argmax over all 5 ops "
                            "(NAS-Bench-201's code) or never 'none' (the DARTS paper's rule); "
                            "the other rule is reported too, labelled")
        p.add_argument("--checkpoint-dir", default=None,
                       help="NB201: save each seed's search state to DIR/seed<S>/ after every "
                            "epoch, and resume from it when it is there")
        p.add_argument("--resume-from", default=None,
                       help="NB201: resume from DIR/seed<S>/search_state.pt (a checkpoint folder "
                            "of an earlier call) when --checkpoint-dir has none")

    def time_opts(p: argparse.ArgumentParser) -> None:
        p.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
        p.add_argument("--steps", type=int, default=60, help="timed iterations (fast paths)")
        p.add_argument("--steps-reference", type=int, default=12,
                       help="timed iterations (straightforward path)")
        p.add_argument("--time-batch-size", type=int, default=64)

    p = sub.add_parser("nb201-seed")
    common(p)
    nb_opts(p)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--json", required=True)
    p.set_defaults(fn=cmd_nb201_seed)

    p = sub.add_parser("nb201")
    common(p)
    nb_opts(p)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--variants", default=None,
                   help="JSON list, one dict of option overrides per seed (calibration runs)")
    p.set_defaults(fn=cmd_nb201)

    p = sub.add_parser("darts-time")
    common(p)
    time_opts(p)
    p.set_defaults(fn=cmd_darts_time)

    p = sub.add_parser("all")
    common(p)
    nb_opts(p)
    time_opts(p)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--variants", default=None)
    p.set_defaults(fn=cmd_all)

    p = sub.add_parser("gpu-check")
    common(p)
    nb_opts(p)
    p.set_defaults(fn=cmd_gpu_check)

    p = sub.add_parser("quick", help="gpu-check, then a short 3-seed NB201 search (~5 min)")
    common(p)
    nb_opts(p)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--variants", default=None)
    # sized for ~5 min on an H100 shared by 3 seeds and another job; see docs/nas.md (Diagnosis)
    p.set_defaults(fn=cmd_quick, method="drnas", layers=2, epochs=14, warmup_epochs=4,
                   batch_size=256, lr=0.1, arch_lr=1e-3, max_time_s=270.0)

    args = parser.parse_args(argv)
    if args.device is None:
        if torch.cuda.is_available():
            args.device = "cuda"
        elif args.smoke:
            args.device = "cpu"
        else:  # the full runs take hours on an H100: never start them on a CPU unasked
            parser.error("no CUDA device: this is a GPU benchmark (its full runs would take "
                         "days on a CPU); pass --smoke for a quick CPU check of the script, or "
                         "--device cpu to run it on the CPU anyway")
    return int(args.fn(args))


if __name__ == "__main__":
    sys.exit(main())
