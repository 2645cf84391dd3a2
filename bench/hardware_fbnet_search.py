"""FBNet-style hardware-aware search on the FBNet space for one HW-NAS-Bench device, on this CPU.

1. Read the 5 HW-NAS-Bench FBNet block tables and print each device's latency range (fastest and
   slowest network of the space, the uniform supernet's expected latency). ``--device`` (default
   pixel3: the widest range among the devices whose fastest network is not 0 ms; on fpga the
   all-skip network costs 0 ms) prices the penalty.
2. Baseline, same run: 5,000 architectures drawn uniformly from the space and their LUT latency
   on the device (min, 5%, median, 95%).
3. For each latency weight x seed: ``DARTSSearch("fbnet", **FBNET_SEARCH_SETTINGS)`` (soft
   Gumbel-softmax, tau 5.0 * 0.956^epoch) on a CIFAR-10 subset with FBNet's penalty
   ``CE * 0.2 * log(E[LAT])^beta`` (``--kind multiplicative``, weight = beta) or ProxylessNAS's
   ``CE + lambda * (E[LAT] - T) / T`` (``--kind additive``, T = the uniform supernet's expected
   latency). CPU proxy: ``--C`` (stem width; all layers scaled by C/16) and images average-pooled
   to ``--size``; the latency is always the table's, i.e. the full-width network at 32x32.
4. Print per search: the found network's LUT latency on the device (and on all 5), its accuracy
   inside the supernet on held-out CIFAR-10 test images (the derived path's one-hot weights,
   inherited weights, BatchNorm on batch statistics), and the last epoch's search-valid accuracy
   of the Gumbel mixture.

5. ``--method proxyless`` searches with ProxylessNAS' sampled paths instead of FBNet's Gumbel
   mixture (only the sampled block of each layer runs). ``--speed-steps N`` first times both
   methods in the same run (ours vs ours): N search steps (an architecture step + a weight step
   each) per method, timed over a search's second epoch (no set-up), methods interleaved, ``--speed-repeats`` times, at each ``--speed-widths``
   C; it prints the median wall and CPU (this thread) seconds per step and the ratio.
   ``--speed-only`` stops after that.

    nice -n 10 python bench/hardware_fbnet_search.py [--data-dir DIR] [--weights 0 0.6 2 6]
        [--seeds 0 1] [--kind multiplicative] [--method proxyless] [--speed-steps 6]
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
    parser.add_argument("--device", default="pixel3", help="HW-NAS-Bench device of the penalty")
    parser.add_argument("--kind", default="multiplicative", choices=["multiplicative", "additive"])
    parser.add_argument("--weights", type=float, nargs="+", default=[0.0, 0.6, 2.0, 6.0],
                        help="multiplicative: beta (FBNet: 0.6); additive: lambda")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--n-train", type=int, default=2000, help="CIFAR-10 images for the search")
    parser.add_argument("--n-eval", type=int, default=1000, help="held-out CIFAR-10 test images")
    parser.add_argument("--size", type=int, default=16, help="image side after average pooling")
    parser.add_argument("--C", type=int, default=4, dest="C", help="supernet stem width (16 = full)")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--steps", type=int, default=4, help="steps per epoch")
    parser.add_argument("--warmup-epochs", type=int, default=0,
                        help="epochs of weight steps only before the alphas move (FBNet: 10 of 90)")
    parser.add_argument("--batch-size", type=int, default=32)
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
    torch.set_num_threads(1)  # one thread: far faster than two contended ones on a shared machine

    from warmnas.hardware.base import load_average
    from warmnas.hardware.penalties import latency_penalty
    from warmnas.hardware.tables import HWNASBENCH_LUT_DEVICES, fbnet_lut_model
    from warmnas.nas import DARTSSearch
    from warmnas.nas.data import ImageData, default_data_dir, load_cifar10
    from warmnas.nas.fbnet import FBNET_SEARCH_SETTINGS, random_fbnet_archs

    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    t0 = time.perf_counter()
    print(f"load average (1 min): {load_average():.2f}")
    models = {d: fbnet_lut_model(data_dir, d) for d in HWNASBENCH_LUT_DEVICES}
    zero = {"layers": torch.zeros(22, 9)}
    print("device    fastest ms  slowest ms  ratio  uniform-supernet ms")
    for d, m in models.items():
        c = m.costs["layers"]
        lo, hi = m.intercept + c.min(axis=1).sum(), m.intercept + c.max(axis=1).sum()
        ratio = f"{hi / lo:6.1f}" if lo > 0 else "   inf"
        print(f"{d:9s} {lo:10.3f} {hi:11.3f} {ratio} {float(m.expected_latency(zero)):14.3f}")
    model = models[args.device]
    archs = random_fbnet_archs(args.n_random, random_state=args.seed)
    rand = np.array([model.predict(a) for a in archs])
    print(f"\nbaseline: {args.n_random} uniformly random architectures on {args.device}: LUT latency "
          f"min {rand.min():.2f}, 5% {np.percentile(rand, 5):.2f}, median {np.median(rand):.2f}, "
          f"95% {np.percentile(rand, 95):.2f} ms")

    X, y, Xt, yt = load_cifar10(data_dir)
    rng = np.random.default_rng(args.seed)
    tr = rng.choice(len(X), args.n_train, replace=False)
    te = rng.choice(len(Xt), args.n_eval, replace=False)
    pool = 32 // args.size

    def shrink(images: np.ndarray) -> np.ndarray:
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
    settings = {**FBNET_SEARCH_SETTINGS, "method": args.method}
    name = "beta" if args.kind == "multiplicative" else "lambda"
    print(f"search: FBNet supernet C={args.C} ({args.size}x{args.size} images), "
          f"{args.n_train} CIFAR-10 images (half for the alphas), {args.epochs} epochs x "
          f"{args.steps} steps (the first {args.warmup_epochs} epochs weights only), batch "
          f"{args.batch_size}; method {args.method}; {args.kind} penalty on {args.device}"
          + (f", T = {uniform:.2f} ms" if args.kind == "additive" else ""))
    rows = []
    for w in args.weights:
        if args.kind == "multiplicative":
            pen = latency_penalty(model, "multiplicative", alpha=0.2, beta=w)
        else:
            pen = latency_penalty(model, "additive", target_ms=uniform, weight=w)
        for seed in args.seeds:
            t1 = time.perf_counter()
            s = DARTSSearch("fbnet", C=args.C, epochs=args.epochs, batch_size=args.batch_size,
                            max_steps_per_epoch=args.steps, latency_penalty=pen,
                            warmup_epochs=args.warmup_epochs,
                            random_state=seed, progress=False, **settings).fit(train)
            arch = s.genotype_
            acc = _subnet_accuracy(s.supernet_, arch.indices, test)
            lat = {d: m.predict(arch) for d, m in models.items()}
            rows.append((w, seed, lat[args.device], acc, s.history_[-1]["valid_acc"],
                         float(model.expected_latency(s.alphas_)), lat, str(arch),
                         time.perf_counter() - t1))
            print(f"  {name}={w:<5g} seed {seed}: {lat[args.device]:.2f} ms, subnet acc "
                  f"{100 * acc:.1f}%  ({rows[-1][-1]:.0f} s)  {arch}")
            sys.stdout.flush()
    print(f"\n{name:>6s} {'seed':>4s} {args.device + ' ms':>10s} {'E[LAT] ms':>9s} "
          f"{'subnet acc %':>12s} {'mix valid %':>11s}  " + " ".join(f"{d:>8s}" for d in models)
          + "  skips")
    for w, seed, ms, acc, vacc, exp, lat, arch, _ in rows:
        print(f"{w:6g} {seed:4d} {ms:10.2f} {exp:9.2f} {100 * acc:12.1f} {100 * vacc:11.1f}  "
              + " ".join(f"{lat[d]:8.2f}" for d in models) + f"  {arch.split().count('skip'):5d}")
    print(f"\nmean over {len(args.seeds)} seed(s):")
    means = []
    for w in args.weights:
        sel = [r for r in rows if r[0] == w]
        means.append((w, np.mean([r[2] for r in sel]), np.mean([r[3] for r in sel])))
        faster = float((rand > means[-1][1]).mean() * 100)
        print(f"  {name}={w:<5g} LUT {args.device} {means[-1][1]:.2f} ms (faster than "
              f"{faster:.0f}% of the random archs), subnet acc {100 * means[-1][2]:.1f}%")
    lat_means = [m[1] for m in means]
    print(f"seed-mean latency monotone non-increasing in {name}: "
          f"{bool(np.all(np.diff(lat_means) <= 0))}")
    print(f"load average (1 min): {load_average():.2f}; total {time.perf_counter() - t0:.0f} s")
    return 0


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
                                random_state=rep, progress=False,
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
    w = torch.zeros(22, 9)
    w[torch.arange(22), list(indices)] = 1.0
    was = net.training
    net.train()  # batch statistics; the running statistics are restored below
    saved = {k: v.clone() for k, v in net.state_dict().items()}
    correct = 0
    mean = torch.tensor(data.mean).view(1, -1, 1, 1)
    std = torch.tensor(data.std).view(1, -1, 1, 1)
    for i in range(0, len(data.labels), 250):
        x = (data.images[i:i + 250].float() / 255.0 - mean) / std
        correct += int((net(x, {"layers": w}).argmax(1) == data.labels[i:i + 250]).sum())
    net.load_state_dict(saved)
    net.train(was)
    return correct / len(data.labels)


if __name__ == "__main__":
    sys.exit(main())
