"""FBNet-style hardware-aware search on the FBNet space for one HW-NAS-Bench device, on this CPU.

1. Read the 5 HW-NAS-Bench FBNet block tables and print each device's latency range (fastest and
   slowest network of the space, the uniform supernet's expected latency). ``--latency-device``
   (default pixel3: the widest range among the devices whose fastest network is not 0 ms; on
   fpga the all-skip network costs 0 ms) prices the penalty.
2. Baseline, same run: 5,000 architectures drawn uniformly from the space and their LUT latency
   on the device (min, 5%, median, 95%).
3. For each priced kind x latency weight x seed: ``DARTSSearch("fbnet", **FBNET_SEARCH_SETTINGS)``
   (soft Gumbel-softmax, tau 5.0 * 0.956^epoch) on CIFAR-10 with FBNet's penalty
   ``CE * 0.2 * log(LAT)^beta`` (``--kind multiplicative``, weight = beta) or ProxylessNAS's
   ``CE + lambda * (LAT - T) / T`` (``--kind additive``, T = the uniform supernet's expected
   latency). ``--latency-weights``: ``softmax`` prices ``E[LAT]`` under ``softmax(alpha)``,
   ``sample`` FBNet's ``LAT(a)`` under the Gumbel sample of each architecture step (both: same
   seeds, same run). CPU proxy by default: ``--C`` (stem width; all layers scaled by C/16),
   images average-pooled to ``--size``, ``--n-train`` images, ``--steps`` per epoch; the latency
   is always the table's, i.e. the full-width network at 32x32.
4. Print per search: the found network's LUT latency on the device (and on all 5), its accuracy
   inside the supernet on held-out CIFAR-10 test images (the derived path's one-hot weights,
   inherited weights, BatchNorm on batch statistics), and the last epoch's search-valid accuracy
   of the Gumbel mixture.
5. ``--train-epochs N``: train every found network and ``--train-random`` random ones (the
   same-run baseline) from scratch with the same schedule; print test accuracy and latency.

``--method proxyless`` searches with ProxylessNAS' sampled paths instead of FBNet's Gumbel
mixture (only the sampled block of each layer runs). ``--speed-steps N`` first times both
methods in the same run (ours vs ours): N search steps (an architecture step + a weight step
each) per method, timed over a search's second epoch (no set-up), methods interleaved,
``--speed-repeats`` times, at each ``--speed-widths`` C; it prints the median wall and CPU (this
thread) seconds per step and the ratio. ``--speed-only`` stops after that.

GPU-length runs (docs/hardware.md, "Plan for the next session with a GPU"): ``--device cuda``
(checked before anything is read), ``--size 32 --n-train 0 --n-eval 0 --steps 0`` (the real
CIFAR-10: 25k / 25k search split, whole epochs, the 10k test images), ``--search-budget-s``
(epochs sized from a timed probe), ``--max-time-s`` (wall budget of the whole run: searches stop
at an epoch boundary, later ones are skipped), ``--checkpoint-dir`` / ``--resume-from`` (one
subfolder per search), ``--json`` (written after every search).

    nice -n 10 python bench/hardware_fbnet_search.py [--data-dir DIR] [--weights 0 0.6 2 6]
        [--seeds 0 1] [--kind multiplicative] [--method proxyless] [--speed-steps 6]
        [--latency-weights softmax sample] [--device cuda]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", help="shared data folder (default: $WARMNAS_SHARED_DATA or "
                                           "../shared/data)")
    parser.add_argument("--latency-device", default="pixel3",
                        help="HW-NAS-Bench device of the penalty (edgegpu, raspi4, pixel3, "
                             "eyeriss, fpga)")
    parser.add_argument("--device", default="cpu",
                        help="torch device of the searches and trainings: cpu (default) or cuda")
    parser.add_argument("--cuda-graphs", default="auto", choices=["auto", "on", "off", "check"],
                        help="capture the search steps as CUDA graphs (auto: the library's "
                             "default, off on the FBNet space; on: forced, gumbel/darts/gdas "
                             "only; check: on if a short captured search gives the alphas of "
                             "the eager one on this device, else off)")
    parser.add_argument("--kind", default="multiplicative", choices=["multiplicative", "additive"])
    parser.add_argument("--weights", type=float, nargs="+", default=[0.0, 0.6, 2.0, 6.0],
                        help="multiplicative: beta (FBNet: 0.6); additive: lambda")
    parser.add_argument("--latency-weights", nargs="+", default=["softmax"],
                        choices=["softmax", "sample"],
                        help="what the penalty prices: E[LAT] under softmax(alpha) (default) "
                             "and/or FBNet's LAT(a) under the step's Gumbel sample (gumbel only); "
                             "several = all of them, same seeds, same run")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--n-train", type=int, default=2000,
                        help="CIFAR-10 training images for the search (0 = all 50,000)")
    parser.add_argument("--n-eval", type=int, default=1000,
                        help="held-out CIFAR-10 test images (0 = all 10,000)")
    parser.add_argument("--size", type=int, default=16,
                        help="image side after average pooling (32 = the original images)")
    parser.add_argument("--C", type=int, default=4, dest="C", help="supernet stem width (16 = full)")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--steps", type=int, default=4, help="steps per epoch (0 = whole epochs)")
    parser.add_argument("--warmup-epochs", type=int, default=0,
                        help="epochs of weight steps only before the alphas move (FBNet: 10 of 90)")
    parser.add_argument("--search-budget-s", type=float, default=None,
                        help="size each search's epochs to about this many seconds, from a short "
                             "timed probe (overrides --epochs; warm-up: FBNet's 10/90 of them)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-time-s", type=float, default=None,
                        help="wall budget of the whole run: each search stops at the epoch "
                             "boundary past it (its checkpoint, with --checkpoint-dir, is saved) "
                             "and the searches not yet started are skipped")
    parser.add_argument("--checkpoint-dir", default=None,
                        help="save each search's state to DIR/<search>/search_state.pt after "
                             "every epoch, and resume from it when it is there")
    parser.add_argument("--resume-from", default=None,
                        help="resume from DIR2/<search>/search_state.pt (an earlier call's "
                             "--checkpoint-dir) when --checkpoint-dir has none")
    parser.add_argument("--train-epochs", type=int, default=0,
                        help="train each found network (and --train-random random ones, the "
                             "baseline) from scratch for this many epochs on the search's "
                             "training images and report its test accuracy (0 = skip)")
    parser.add_argument("--train-random", type=int, default=2,
                        help="random architectures trained the same way (same-run baseline)")
    parser.add_argument("--train-lr", type=float, default=0.05)
    parser.add_argument("--json", default=None, help="write the results here (after every search)")
    parser.add_argument("--n-random", type=int, default=5000, help="random architectures (baseline)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data subsets and baseline")
    parser.add_argument("--method", default="gumbel", choices=["gumbel", "proxyless", "darts",
                                                               "gdas"],
                        help="search method of the sweep (FBNet: gumbel)")
    parser.add_argument("--speed-steps", type=int, default=0,
                        help="time this many steps of gumbel and proxyless first (0: skip)")
    parser.add_argument("--speed-repeats", type=int, default=3)
    parser.add_argument("--speed-widths", type=int, nargs="+", default=None,
                        help="C values of the timing (default: --C)")
    parser.add_argument("--speed-only", action="store_true", help="stop after the timing")
    args = parser.parse_args(argv)
    _check_args(parser, args)
    torch.set_num_threads(1)  # one thread: far faster than two contended ones on a shared machine

    from warmnas.hardware.base import load_average
    from warmnas.hardware.penalties import latency_penalty
    from warmnas.hardware.tables import HWNASBENCH_LUT_DEVICES, fbnet_lut_model
    from warmnas.nas import DARTSSearch
    from warmnas.nas.data import ImageData, default_data_dir, load_cifar10
    from warmnas.nas.fbnet import FBNET_SEARCH_SETTINGS, random_fbnet_archs

    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    t0 = time.perf_counter()
    deadline = None if args.max_time_s is None else t0 + args.max_time_s
    print(f"load average (1 min): {load_average():.2f}; torch device {_device_name(args.device)}")
    models = {d: fbnet_lut_model(data_dir, d) for d in HWNASBENCH_LUT_DEVICES}
    zero = {"layers": torch.zeros(22, 9)}
    print("device    fastest ms  slowest ms  ratio  uniform-supernet ms")
    for d, m in models.items():
        c = m.costs["layers"]
        lo, hi = m.intercept + c.min(axis=1).sum(), m.intercept + c.max(axis=1).sum()
        ratio = f"{hi / lo:6.1f}" if lo > 0 else "   inf"
        print(f"{d:9s} {lo:10.3f} {hi:11.3f} {ratio} {float(m.expected_latency(zero)):14.3f}")
    model = models[args.latency_device]
    archs = random_fbnet_archs(args.n_random, random_state=args.seed)
    rand = np.array([model.predict(a) for a in archs])
    print(f"\nbaseline: {args.n_random} uniformly random architectures on {args.latency_device}: "
          f"LUT latency min {rand.min():.2f}, 5% {np.percentile(rand, 5):.2f}, median "
          f"{np.median(rand):.2f}, 95% {np.percentile(rand, 95):.2f} ms")

    X, y, Xt, yt = load_cifar10(data_dir)
    rng = np.random.default_rng(args.seed)
    # unsorted draws, as in the runs recorded in docs/hardware.md (same subsets, same order)
    tr = (np.arange(len(X)) if args.n_train == 0
          else rng.choice(len(X), args.n_train, replace=False))
    te = (np.arange(len(Xt)) if args.n_eval == 0
          else rng.choice(len(Xt), args.n_eval, replace=False))
    pool = 32 // args.size

    def shrink(images: np.ndarray) -> np.ndarray:
        if pool == 1:
            return np.ascontiguousarray(images)
        a = np.asarray(images, dtype=np.float32)
        a = a.reshape(len(a), args.size, pool, args.size, pool, 3).mean(axis=(2, 4))
        return np.round(a).astype(np.uint8)

    train = ImageData.from_arrays(shrink(X[tr]), np.asarray(y[tr]))
    test = ImageData.from_arrays(shrink(Xt[te]), np.asarray(yt[te]), mean=train.mean,
                                 std=train.std, n_classes=10)
    uniform = float(model.expected_latency(zero))
    if args.speed_steps:
        _speed(args, train, model)
        if args.speed_only:
            print(f"load average (1 min): {load_average():.2f}; total "
                  f"{time.perf_counter() - t0:.0f} s")
            return 0
    graphs: bool | str = {"auto": "auto", "on": True, "off": False}.get(args.cuda_graphs, False)
    settings = {**FBNET_SEARCH_SETTINGS, "method": args.method, "cuda_graphs": graphs}
    name = "beta" if args.kind == "multiplicative" else "lambda"

    def penalty(w: float) -> object:
        if args.kind == "multiplicative":
            return latency_penalty(model, "multiplicative", alpha=0.2, beta=w)
        return latency_penalty(model, "additive", target_ms=uniform, weight=w)

    if args.cuda_graphs == "check":
        settings["cuda_graphs"] = _graphs_agree(args, train, penalty(args.weights[-1]), settings)
    epochs, warmup = args.epochs, args.warmup_epochs
    steps = args.steps or None
    if args.search_budget_s is not None:
        epochs, warmup = _epochs_for_budget(args, train, penalty(args.weights[-1]), settings)
    print(f"search: FBNet supernet C={args.C} ({args.size}x{args.size} images), "
          f"{len(train.labels)} CIFAR-10 images (half for the alphas), {epochs} epochs x "
          f"{args.steps or 'all'} steps (the first {warmup} epochs weights only), batch "
          f"{args.batch_size}; method {args.method}; {args.kind} penalty on {args.latency_device}"
          + (f", T = {uniform:.2f} ms" if args.kind == "additive" else "")
          + f"; priced: {', '.join(args.latency_weights)}; device {args.device}")
    rows: list[dict] = []
    report: dict = {"args": vars(args), "epochs": epochs, "warmup_epochs": warmup,
                    "device": _device_name(args.device), "rows": rows, "trained": []}
    for lw in args.latency_weights:
        for w in args.weights:
            pen = penalty(w)
            for seed in args.seeds:
                label = f"{args.kind}-{args.method}-{lw}-w{w:g}-s{seed}"
                left = None if deadline is None else deadline - time.perf_counter()
                if left is not None and left <= 0:
                    print(f"  {label}: not started (--max-time-s {args.max_time_s:g} s used up)")
                    continue
                ckpt, resume = _checkpoint_paths(args, label)
                t1 = time.perf_counter()
                s = DARTSSearch("fbnet", C=args.C, epochs=epochs, batch_size=args.batch_size,
                                max_steps_per_epoch=steps, latency_penalty=pen,
                                latency_weights=lw, warmup_epochs=warmup, device=args.device,
                                max_time_s=left, checkpoint_dir=ckpt, random_state=seed,
                                progress=False, **settings).fit(train, resume_from=resume)
                arch = s.genotype_
                acc = _subnet_accuracy(s.supernet_, arch.indices, test)
                lat = {d: m.predict(arch) for d, m in models.items()}
                rows.append({"label": label, "priced": lw, "weight": w, "seed": seed,
                             "finished": s.finished_, "epochs_done": s.epochs_done_,
                             "latency_ms": lat[args.latency_device], "subnet_acc": acc,
                             "mix_valid_acc": s.history_[-1]["valid_acc"],
                             "expected_latency_ms": float(model.expected_latency(s.alphas_)),
                             "latency_all_ms": lat, "arch": str(arch),
                             "search_time_s": s.total_search_time_s_,
                             "seconds": time.perf_counter() - t1,
                             "history": [{k: r[k] for k in ("epoch", "train_loss", "train_acc",
                                                            "valid_acc", "tau", "seconds")}
                                         for r in s.history_]})
                done = ("" if s.finished_ else
                        f" [NOT FINISHED: {s.epochs_done_}/{epochs} epochs, not a result]")
                print(f"  {name}={w:<5g} {lw:7s} seed {seed}: {lat[args.latency_device]:.2f} ms, "
                      f"subnet acc {100 * acc:.1f}%  ({rows[-1]['seconds']:.0f} s){done}  {arch}")
                sys.stdout.flush()
                _write_json(args.json, report)
    print(f"\n{name:>6s} {'priced':>7s} {'seed':>4s} {args.latency_device + ' ms':>10s} "
          f"{'E[LAT] ms':>9s} {'subnet acc %':>12s} {'mix valid %':>11s}  "
          + " ".join(f"{d:>8s}" for d in models) + "  skips  epochs")
    for r in rows:
        vacc = r["mix_valid_acc"]
        print(f"{r['weight']:6g} {r['priced']:>7s} {r['seed']:4d} {r['latency_ms']:10.2f} "
              f"{r['expected_latency_ms']:9.2f} {100 * r['subnet_acc']:12.1f} "
              f"{'-' if vacc is None else f'{100 * vacc:.1f}':>11s}  "
              + " ".join(f"{r['latency_all_ms'][d]:8.2f}" for d in models)
              + f"  {r['arch'].split().count('skip'):5d}  {r['epochs_done']:3d}/{epochs}"
              + ("" if r["finished"] else " unfinished"))
    for lw in args.latency_weights:
        sel_lw = [r for r in rows if r["priced"] == lw]
        if not sel_lw:
            continue
        print(f"\nmean over the seeds, priced: {lw}:")
        means = []
        for w in args.weights:
            sel = [r for r in sel_lw if r["weight"] == w]
            if not sel:
                continue
            means.append((w, np.mean([r["latency_ms"] for r in sel]),
                          np.mean([r["subnet_acc"] for r in sel])))
            faster = float((rand > means[-1][1]).mean() * 100)
            print(f"  {name}={w:<5g} LUT {args.latency_device} {means[-1][1]:.2f} ms (faster "
                  f"than {faster:.0f}% of the random archs), subnet acc "
                  f"{100 * means[-1][2]:.1f}% ({len(sel)} seed(s))")
        lat_means = [m[1] for m in means]
        print(f"seed-mean latency monotone non-increasing in {name}: "
              f"{bool(np.all(np.diff(lat_means) <= 0))}")
    if args.train_epochs:
        _train_found(args, rows, train, test, models, report, deadline)
    print(f"load average (1 min): {load_average():.2f}; total {time.perf_counter() - t0:.0f} s")
    _write_json(args.json, report)
    return 0


def _device_name(device: str) -> str:
    if device.startswith("cuda"):
        return f"{device} ({torch.cuda.get_device_name(torch.device(device))})"
    return device


def _check_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse bad options before any data is read (a GPU call must not find out late)."""
    from warmnas.hardware.tables import HWNASBENCH_LUT_DEVICES

    if args.latency_device not in HWNASBENCH_LUT_DEVICES:
        parser.error(f"--latency-device {args.latency_device!r}: expected one of "
                     f"{', '.join(HWNASBENCH_LUT_DEVICES)}")
    if args.device in HWNASBENCH_LUT_DEVICES:
        parser.error(f"--device is the torch device (cpu or cuda); the HW-NAS-Bench device of "
                     f"the penalty is --latency-device {args.device}")
    try:
        dev = torch.device(args.device)
    except RuntimeError:
        parser.error(f"--device {args.device!r}: expected a torch device, cpu or cuda")
    if dev.type == "cuda" and not torch.cuda.is_available():
        parser.error(f"--device {args.device}: no CUDA device is available here "
                     f"(torch.cuda.is_available() is False, torch {torch.__version__}); run "
                     "this on the GPU machine, or pass --device cpu")
    if dev.type not in ("cpu", "cuda"):
        parser.error(f"--device {args.device!r}: expected cpu or cuda")
    if 32 % args.size or args.size < 4 or args.size % 4:
        parser.error(f"--size must be 32, 16, 8 or 4 (32 / a power of 2), got {args.size}")
    for opt in ("n_train", "n_eval", "steps", "train_epochs", "train_random", "warmup_epochs"):
        if getattr(args, opt) < 0:
            parser.error(f"--{opt.replace('_', '-')} must be >= 0, got {getattr(args, opt)}")
    if args.n_train > 50000 or args.n_eval > 10000:
        parser.error("CIFAR-10 has 50,000 training and 10,000 test images; --n-train / --n-eval "
                     "0 takes them all")
    for opt in ("epochs", "batch_size", "C"):
        if getattr(args, opt) <= 0:
            parser.error(f"--{opt.replace('_', '-')} must be > 0, got {getattr(args, opt)}")
    for opt in ("max_time_s", "search_budget_s"):
        value = getattr(args, opt)
        if value is not None and not value > 0:
            parser.error(f"--{opt.replace('_', '-')} must be > 0 seconds, got {value}")
    if "sample" in args.latency_weights and args.method != "gumbel":
        parser.error("--latency-weights sample prices FBNet's Gumbel sample: it needs --method "
                     "gumbel")
    if args.cuda_graphs in ("on", "check") and (dev.type != "cuda"
                                                or args.method == "proxyless"):
        parser.error(f"--cuda-graphs {args.cuda_graphs} needs --device cuda and a mixing method (proxyless "
                     "changes its ops every step)")
    if args.resume_from is not None and args.checkpoint_dir is None:
        parser.error("--resume-from needs --checkpoint-dir (where the continued searches save)")


def _checkpoint_paths(args: argparse.Namespace, label: str) -> tuple[str | None, str | None]:
    """``(checkpoint_dir, resume_from)`` of one search: its own subfolder of --checkpoint-dir;
    --resume-from's subfolder only when that has no checkpoint yet."""
    from warmnas.nas.search import CHECKPOINT_NAME

    if args.checkpoint_dir is None:
        return None, None
    ckpt = Path(args.checkpoint_dir) / label
    resume = None
    if args.resume_from is not None and not (ckpt / CHECKPOINT_NAME).is_file():
        cand = Path(args.resume_from) / label / CHECKPOINT_NAME
        resume = str(cand) if cand.is_file() else None
    return str(ckpt), resume


def _graphs_agree(args: argparse.Namespace, train: object, pen: object, settings: dict) -> bool:
    """A short search (C=4, 2 epochs x 4 steps, fp32, deterministic) eager and captured as CUDA
    graphs, same seed and draws: True if the alphas agree (rtol 1e-4, atol 1e-5)."""
    from warmnas.nas import DARTSSearch
    from warmnas.nas.data import ImageData

    assert isinstance(train, ImageData)
    n = min(len(train.labels), 256)
    small = ImageData(train.images[:n], train.labels[:n], train.mean, train.std, 10)
    out = []
    for graphs in (False, True):
        s = DARTSSearch("fbnet", C=4, epochs=2, batch_size=16, max_steps_per_epoch=4,
                        latency_penalty=pen, latency_weights=args.latency_weights[0],
                        device=args.device, random_state=0, progress=False, autocast=False,
                        deterministic=True, **{**settings, "cuda_graphs": graphs}).fit(small)
        out.append(s.alphas_["layers"])
    err = float((out[0] - out[1]).abs().max())
    ok = bool(torch.allclose(out[1], out[0], rtol=1e-4, atol=1e-5))
    print(f"CUDA graphs check: captured vs eager alphas, max |diff| {err:.2e}: "
          f"{'agree, graphs on' if ok else 'DISAGREE, graphs off'}")
    return ok


def _epochs_for_budget(args: argparse.Namespace, train: object, pen: object,
                       settings: dict) -> tuple[int, int]:
    """Epochs (and FBNet's 10/90 share of warm-up epochs) that fill --search-budget-s per
    search, from a probe: 2 epochs of a few steps each, the second timed (no set-up, no
    first-call allocation or autotuning), architecture steps on (the dearer kind)."""
    from warmnas.hardware.base import load_average
    from warmnas.nas import DARTSSearch
    from warmnas.nas.data import ImageData

    assert isinstance(train, ImageData)
    per_epoch = max(1, (len(train.labels) // 2) // args.batch_size)
    if args.steps:
        per_epoch = min(per_epoch, args.steps)
    k = min(per_epoch, 8)
    s = DARTSSearch("fbnet", C=args.C, epochs=2, batch_size=args.batch_size,
                    max_steps_per_epoch=k, latency_penalty=pen, device=args.device,
                    random_state=0, progress=False, **settings).fit(train)
    per_step = s.history_[1]["seconds"] / k
    epochs = max(1, int(args.search_budget_s / (per_step * per_epoch)))
    warmup = int(round(epochs * 10 / 90))
    print(f"probe: {per_step:.3f} s per search step (arch + weight) on {args.device}, "
          f"{per_epoch} steps per epoch -> {epochs} epochs ({warmup} weights only) for "
          f"--search-budget-s {args.search_budget_s:g}; load average {load_average():.2f}")
    return epochs, warmup


def _train_found(args: argparse.Namespace, rows: list[dict], train: object, test: object,
                 models: dict, report: dict, deadline: float | None) -> None:
    """Train the found networks and --train-random random ones (the baseline, same run) from
    scratch with the same schedule, and print test accuracy against table latency."""
    from warmnas.nas.fbnet import FBNetArch, FBNetNetwork, random_fbnet_archs
    from warmnas.nas.train import train_network

    cands = [(r["label"], FBNetArch.parse(r["arch"])) for r in rows if r["finished"]]
    cands += [(f"random-{i}", a) for i, a in
              enumerate(random_fbnet_archs(args.train_random, random_state=args.seed + 1000))]
    print(f"\nfrom scratch: {args.train_epochs} epochs, batch {args.batch_size}, SGD lr "
          f"{args.train_lr} (cosine), C={args.C}, {args.size}x{args.size}, no cutout; test on "
          f"the held-out images; the random architectures are the same-run baseline")
    for label, arch in cands:
        if deadline is not None and time.perf_counter() > deadline:
            print(f"  {label}: not trained (--max-time-s used up)")
            continue
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(args.seed)
            net = FBNetNetwork(arch, C=args.C, num_classes=10)
        res = train_network(net, train, test, epochs=args.train_epochs,  # type: ignore[arg-type]
                            batch_size=args.batch_size, lr=args.train_lr, cutout=0,
                            device=args.device, random_state=args.seed, progress=False)
        lat = models[args.latency_device].predict(arch)
        acc = float(res.test_accuracy or 0.0)
        report["trained"].append({"label": label, "arch": str(arch), "test_acc": acc,
                                  "latency_ms": lat, "train_time_s": res.train_time_s})
        print(f"  {label:40s} test acc {100 * acc:5.1f}%  {args.latency_device} {lat:6.2f} ms  "
              f"({res.train_time_s:.0f} s)")
        sys.stdout.flush()
        _write_json(args.json, report)


def _write_json(path: str | None, report: dict) -> None:
    if path is None:
        return
    import json

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(str(path) + ".tmp")
    tmp.write_text(json.dumps(report, indent=1, default=str))
    tmp.replace(path)


def _speed(args: argparse.Namespace, train: object, model: object) -> None:
    """Seconds per search step (architecture + weight step) of FBNet's Gumbel mixture and of
    ProxylessNAS' sampled paths, same run, interleaved; the multiplicative penalty (beta 0.6)
    on in both."""
    from warmnas.hardware.base import load_average
    from warmnas.hardware.penalties import latency_penalty
    from warmnas.nas import DARTSSearch
    from warmnas.nas.fbnet import FBNET_SEARCH_SETTINGS

    pen = latency_penalty(model, "multiplicative", alpha=0.2, beta=0.6)  # type: ignore[arg-type]
    methods = ("gumbel", "proxyless")
    print(f"\nspeed: {args.speed_steps} steps (arch + weight) per method and repeat, "
          f"{args.speed_repeats} repeats interleaved, batch {args.batch_size}, "
          f"{args.size}x{args.size} images, one thread; load average {load_average():.2f}")
    for C in args.speed_widths or [args.C]:
        wall: dict[str, list[float]] = {m: [] for m in methods}
        cpu: dict[str, list[float]] = {m: [] for m in methods}
        for rep in range(args.speed_repeats):
            for m in methods:
                marks: list[float] = []

                def mark(record: dict, search: object, marks: list[float] = marks) -> None:
                    marks.append(time.thread_time())

                s = DARTSSearch("fbnet", C=C, epochs=2, batch_size=args.batch_size,
                                max_steps_per_epoch=args.speed_steps, latency_penalty=pen,
                                random_state=rep, progress=False, device=args.device,
                                callback=mark,
                                **{**FBNET_SEARCH_SETTINGS, "method": m})
                s.fit(train)  # type: ignore[arg-type]
                # the second epoch only: no set-up, no first-call allocations
                cpu[m].append((marks[1] - marks[0]) / args.speed_steps)
                wall[m].append(s.history_[1]["seconds"] / args.speed_steps)
        mw = {m: float(np.median(wall[m])) for m in methods}
        mc = {m: float(np.median(cpu[m])) for m in methods}
        print(f"  C={C:<3d} s/step wall: gumbel {mw['gumbel']:.3f}, proxyless "
              f"{mw['proxyless']:.3f} (gumbel / proxyless = {mw['gumbel'] / mw['proxyless']:.1f}x)"
              f"; CPU: gumbel {mc['gumbel']:.3f}, proxyless {mc['proxyless']:.3f} "
              f"({mc['gumbel'] / mc['proxyless']:.1f}x); load average {load_average():.2f}")
        sys.stdout.flush()


@torch.no_grad()
def _subnet_accuracy(net: torch.nn.Module, indices: tuple[int, ...], data: object) -> float:
    """Top-1 accuracy of the derived path inside the supernet (one-hot op weights, inherited
    weights), BatchNorm on batch statistics (the running ones were gathered on the mixture)."""
    from warmnas.nas.data import ImageData

    assert isinstance(data, ImageData)
    dev = next(net.parameters()).device
    w = torch.zeros(22, 9, device=dev)
    w[torch.arange(22), list(indices)] = 1.0
    was = net.training
    net.train()  # batch statistics; the running statistics are restored below
    saved = {k: v.clone() for k, v in net.state_dict().items()}
    correct = 0
    mean = torch.tensor(data.mean, device=dev).view(1, -1, 1, 1)
    std = torch.tensor(data.std, device=dev).view(1, -1, 1, 1)
    for i in range(0, len(data.labels), 250):
        x = (data.images[i:i + 250].to(dev).float() / 255.0 - mean) / std
        pred = net(x, {"layers": w}).argmax(1).cpu()
        correct += int((pred == data.labels[i:i + 250].cpu()).sum())
    net.load_state_dict(saved)
    net.train(was)
    return correct / len(data.labels)


if __name__ == "__main__":
    sys.exit(main())
