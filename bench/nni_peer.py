"""Peer comparison with NNI 3.0's hardware-aware one-shot NAS on NAS-Bench-201 (CPU, same run).

Needs NNI in the interpreter that runs it; NNI is not a warmnas dependency, so use a separate
virtual environment (NNI 3.0 pins old packages). What worked on the development machine
(Python 3.11, torch 2.13 CPU):

    python -m venv nni-venv && . nni-venv/bin/activate
    pip install 'torch==2.13.0' --index-url https://download.pytorch.org/whl/cpu   # or a local CPU wheel
    pip install nni==3.0 'pytorch-lightning==2.0.9' 'torchmetrics<1.3' 'setuptools<81' -e .
    nice -n 10 python bench/nni_peer.py [--data-dir DIR] [--seeds 0 1 2] [--weight 0.02]
    nice -n 10 python bench/nni_peer.py --nni-strategy gumbel --nni-only --seeds 0 1 2
    nice -n 10 python bench/nni_peer.py --nni-strategy proxyless --warmnas-method proxyless --seeds 0 1 2

(``setuptools<81``: lightning 2.0's ``lightning_fabric`` imports ``pkg_resources``; NNI 3.0's
one-shot strategies are written against lightning 2.0.) Three small shims, installed through
NNI's own registration API at run time (nothing in site-packages is changed), let NNI's FLOPs
profiler and penalty run on NNI's own NB201 space: see ``install_nni_shims`` and ``floatify``.

In one process, on the same CIFAR-10 subset and split (stratified halves: one for the weight
steps, one for the architecture steps), with the same supernet (NB201 stem, C channels, ``layers``
cells per stage), batch size, number of steps, optimisers, learning rates and thread count:

(a) NNI: ``nni.nas.strategy.DARTS`` (first order) on ``nni.nas.hub.pytorch.NasBench201`` through
    ``NasExperiment``, with NNI's hardware-aware penalty ``ExpectationProfilerPenalty`` over its
    ``FlopsProfiler`` (``loss + w * (E[FLOPs] / B - 1)``, B = ``--target-fraction`` times the
    all-3x3-conv network's FLOPs). FLOPs is NNI's built-in expression profiler; its latency
    profiler (nn-Meter) predicts a few mobile/edge devices from downloaded predictors, not this
    CPU.
    ``--nni-strategy proxyless`` / ``gumbel`` run NNI's ``Proxyless`` / ``GumbelDARTS`` instead
    (same space, penalty, data and settings; ``GumbelDARTS`` with its default temperature
    annealing 1 -> 0.33). ``GumbelDARTS`` evaluates the penalty on Gumbel-softmax *samples*,
    which draw from torch's global generator, so its w = 0 search uses the same penalty with
    scale 0 (same random stream; the loss is unchanged): a difference between its w = 0 and
    w > 0 searches is then due to the penalty alone. For all three, the found cell is the
    argmax of the alphas (``Proxyless`` exports a *sample* of them; it is printed too).
(b) warmnas: ``DARTSSearch("nb201")`` (first order) with ``AdditiveLatencyPenalty``
    (``CE + w * (E[LAT] - T) / T``, T = ``--target-fraction`` times the all-3x3-conv cell's
    predicted latency) from a latency table measured on this CPU at the start of the run.

Both penalties have the same ProxylessNAS form and the same weight w; they differ in the cost
(FLOPs vs measured CPU latency). Each tool searches with w = 0 and with w = ``--weight`` for each
seed, so the script shows whether the penalty changes the search at all (it also differentiates
NNI's penalty term with respect to the architecture logits and prints the gradient).
``--nni-only`` skips warmnas' searches and its latency table (the found cells are still timed).
``--warmnas-method proxyless`` runs warmnas' ProxylessNAS path sampling (``method="proxyless"``,
reference supernet) instead of DARTS: with ``--nni-strategy proxyless`` both tools run the same
algorithm.

Printed: seconds per search epoch for each tool (this thread's CPU time, robust to the other
processes of a shared machine, and wall clock) and the ratio; each found cell's NB201 arch
string, its NAS-Bench-201 CIFAR-10 accuracy, and its end-to-end latency on this CPU measured by
warmnas (all found cells timed together, interleaved: one yardstick for both); the 1-minute load
average.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

# NNI's NB201 op names -> NAS-Bench-201's (and warmnas') names
NNI_TO_NB201 = {"none": "none", "skip_connect": "skip_connect", "conv_1x1": "nor_conv_1x1",
                "conv_3x3": "nor_conv_3x3", "avg_pool_3x3": "avg_pool_3x3"}
# NB201 edge order (1<-0), (2<-0), (2<-1), (3<-0), (3<-1), (3<-2); NNI labels "cell/{src}_{dst}"
NB201_EDGES = [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3)]
ALL_CONV = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"


def nni_sample_to_arch(sample: dict[str, Any]) -> str:
    """NNI's exported NB201 sample ``{"cell/0_1": "conv_3x3", ...}`` -> an NB201 arch string."""
    ops = {}
    for src, dst in NB201_EDGES:
        ops[(src, dst)] = NNI_TO_NB201[str(sample[f"cell/{src}_{dst}"])]
    nodes = []
    for dst in (1, 2, 3):
        nodes.append("|" + "|".join(f"{ops[(src, dst)]}~{src}" for src in range(dst)) + "|")
    return "+".join(nodes)


def arch_to_nni_sample(arch: str) -> dict[str, str]:
    """An NB201 arch string -> NNI's sample dict (inverse of :func:`nni_sample_to_arch`)."""
    back = {v: k for k, v in NNI_TO_NB201.items()}
    sample = {}
    for dst, node in enumerate(arch.split("+"), start=1):
        for tok in node.strip("|").split("|"):
            op, src = tok.split("~")
            sample[f"cell/{src}_{dst}"] = back[op]
    return sample


def clocks() -> tuple[float, float]:
    """(wall clock, CPU time of this thread) in seconds.

    With one intra-op thread all of a search's work (both tools: no data-loader workers) runs on
    the calling thread, so its CPU time is the search's compute, not counting the time the thread
    waits for other processes on a shared machine (as warmnas' latency measurement does).
    """
    return time.perf_counter(), time.thread_time()


def install_nni_shims() -> None:
    """Three small fixes, through NNI's own registration API, so its FLOPs penalty runs on its NB201.

    Without them NNI 3.0's ``FlopsProfiler`` cannot profile NNI's own ``NasBench201`` space here
    (Python 3.11, torch 2.13; older torch not tried), and ``ExpectationProfilerPenalty`` fails on
    the first architecture step. Nothing in site-packages is modified.
    """
    from nni.nas.hub.pytorch.nasbench201 import Zero
    from nni.nas.profiler.pytorch.utils.shape import MutableShape
    from nni.nas.profiler.pytorch.utils.shape_formula import (
        aten_mean_dim,
        keep_shape_formula,
        register_shape_inference_formula,
    )

    # Shim 1: the "none" op (``Zero``: ``x.mul(0.)``) reaches NNI's aten broadcast formula with a
    # Python float ("AttributeError: 'float' object has no attribute 'real_shape'"). Give the op
    # its shape formula (stride-1 cell ops keep the shape; the op has no FLOPs).
    register_shape_inference_formula(Zero, keep_shape_formula)

    # Shim 2: NNI 3.0 has no shape formula for ``aten.stack`` and ``aten.sum.dim_IntList``, which
    # its NB201 cell uses to add a node's inputs (``torch.sum(torch.stack(...), 0)``), so the
    # profiler fails at node 2 ("Expected MutableShape or ShapeTensor in return value of shape
    # formula, but got <class 'NoneType'>"). Register both (stack inserts a dimension; a sum over
    # dims reduces them like NNI's own ``mean.dim`` formula).
    def stack_formula(fn: Any, tensors: list[Any], dim: int = 0, **kwargs: Any) -> Any:
        shape = list(tensors[0].real_shape)
        shape.insert(dim if dim >= 0 else dim + len(shape) + 1, len(tensors))
        return MutableShape(*shape)

    register_shape_inference_formula(torch.ops.aten.stack.default, stack_formula)
    register_shape_inference_formula(torch.ops.aten.sum.dim_IntList, aten_mean_dim)


def floatify(expr: Any) -> Any:
    """Shim 3: cast the int leaves of an NNI expression to float (values unchanged).

    NNI's FLOPs expression mixes float leaves (0.0 for parameter-free ops) with int ones (conv
    FLOPs), and NNI's ``weighted_sum`` demands one type, so ``ExpectationProfilerPenalty`` fails
    on the first architecture step ("Expect type <class 'float'> but found <class 'int'>. Can not
    be summed").
    """
    from nni.mutable import MutableExpression

    if isinstance(expr, MutableExpression) and hasattr(expr, "arguments"):
        expr.arguments = [float(a) if type(a) is int else floatify(a) for a in expr.arguments]
    return expr


def run_nni(args: argparse.Namespace, train: Any, valid: Any, weight: float, seed: int) -> dict[str, Any]:
    """NNI 3.0 DARTS / Proxyless / GumbelDARTS with its FLOPs ExpectationProfilerPenalty; cell, times, checks."""
    import pytorch_lightning as pl
    from nni.nas.evaluator.pytorch import Classification, DataLoader
    from nni.nas.experiment import NasExperiment
    from nni.nas.hub.pytorch import NasBench201
    from nni.nas.oneshot.pytorch.profiler import ExpectationProfilerPenalty
    from nni.nas.profiler.pytorch.flops import FlopsProfiler
    from nni.nas.strategy import DARTS, GumbelDARTS, Proxyless

    def tensors(d: Any) -> torch.utils.data.TensorDataset:
        x = d.images.float()
        if d.images.dtype == torch.uint8:
            x = x / 255.0
        mean = torch.tensor(d.mean).view(1, -1, 1, 1)
        std = torch.tensor(d.std).view(1, -1, 1, 1)
        return torch.utils.data.TensorDataset((x - mean) / std, d.labels)

    class SGDMomentum(torch.optim.SGD):  # NNI's evaluator takes an optimiser class (lr, weight_decay)
        def __init__(self, params: Any, lr: float, weight_decay: float) -> None:
            super().__init__(params, lr=lr, momentum=0.9, weight_decay=weight_decay)

    class EpochTimer(pl.Callback):
        def __init__(self) -> None:
            self.ends: list[tuple[float, float]] = []
            self.steps: list[int] = []
            self.threads: set[int] = set()

        def on_train_epoch_start(self, trainer: Any, pl_module: Any) -> None:
            self.threads.add(torch.get_num_threads())
            self.steps.append(0)

        def on_train_batch_end(self, *a: Any, **k: Any) -> None:
            self.steps[-1] += 1

        def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
            self.ends.append(clocks())

    # NNI takes no seed argument: its supernet weights, alphas and shuffling use torch's global
    # generator, so this script (not library code) seeds it.
    torch.manual_seed(seed)
    space = NasBench201(stem_out_channels=args.C, num_modules_per_stack=args.layers, num_labels=10)
    choices = {label: list(m.values) for label, m in space.simplify().items()}
    flops = FlopsProfiler(space, torch.zeros(1, 3, 32, 32))
    floatify(flops.expression)
    flops_all_conv = float(flops.profile(arch_to_nni_sample(ALL_CONV)))
    baseline = args.target_fraction * flops_all_conv
    penalty = ExpectationProfilerPenalty(flops, baseline=baseline, scale=weight)
    gen = torch.Generator().manual_seed(seed)
    timer = EpochTimer()
    evaluator = Classification(
        learning_rate=args.lr, weight_decay=3e-4, optimizer=SGDMomentum,
        train_dataloaders=DataLoader(tensors(train), batch_size=args.batch_size, shuffle=True,
                                     drop_last=True, generator=gen),
        val_dataloaders=DataLoader(tensors(valid), batch_size=args.batch_size, shuffle=True,
                                   drop_last=True, generator=gen),
        num_classes=10, max_epochs=args.epochs, limit_train_batches=args.steps,
        accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, callbacks=[timer])
    if args.nni_strategy == "gumbel":
        # The penalty is evaluated on Gumbel-softmax samples (torch's global generator): keep it at
        # w = 0 with scale 0, so that both searches draw the same random numbers.
        strategy = GumbelDARTS(arc_learning_rate=args.arch_lr, gradient_clip_val=5.0, penalty=penalty)
    else:
        cls = {"darts": DARTS, "proxyless": Proxyless}[args.nni_strategy]
        strategy = cls(arc_learning_rate=args.arch_lr, gradient_clip_val=5.0,
                       penalty=penalty if weight > 0 else None)
    exp = NasExperiment(space, evaluator, strategy)
    with tempfile.TemporaryDirectory() as workdir:  # NNI's experiment folder (default ~/nni-experiments)
        exp.config.experiment_working_directory = workdir
        t0 = clocks()
        exp.run()
        total = np.subtract(clocks(), t0)
        exported = nni_sample_to_arch(exp.export_top_models(formatter="dict")[0])
        exp.stop()
    # the alphas (softmax of NNI's architecture logits, one per edge) and their argmax cell
    alphas = {label: p.detach().softmax(-1) for label, p in strategy._arch_parameters.items()}
    arch = nni_sample_to_arch({label: choices[label][int(a.argmax())] for label, a in alphas.items()})

    # Does NNI's penalty reach the architecture logits? DartsLightningModule adds
    # penalty(loss, self.export_probs()) in the architecture step; differentiate that term.
    module = strategy.oneshot_module
    probs = module.export_probs()
    pen_loss, details = penalty(torch.zeros((), requires_grad=True), probs)
    grads = torch.autograd.grad(pen_loss, module.arch_parameters(), allow_unused=True)
    grad_norm = float(sum(float(g.norm()) for g in grads if g is not None))
    # The same penalty fed the probabilities as tensors (softmax of the logits, kept in the graph)
    # instead of export_probs()' floats: the gradient NNI's penalty would have if it kept them.
    logits = strategy._arch_parameters
    tensor_probs = {label: dict(zip(choices[label], logits[label].softmax(-1).unbind())) for label in logits}
    pen_t, _ = penalty(torch.zeros(()), tensor_probs)
    grads_t = torch.autograd.grad(pen_t, list(logits.values()), allow_unused=True)
    grad_norm_tensor = float(sum(float(g.norm()) for g in grads_t if g is not None))
    return {"arch": arch, "exported": exported, "alphas": alphas, "epoch": np.diff(timer.ends, axis=0), "total": total, "steps": timer.steps,
            "threads": sorted(timer.threads), "probs": probs, "flops_all_conv": flops_all_conv,
            "baseline": baseline, "penalty_grad_norm": grad_norm, "penalty_grad_norm_tensor": grad_norm_tensor,
            "expected_flops": float(details["penalty"]),
            "probs_type": type(next(iter(next(iter(probs.values())).values()))).__name__}


def run_warmnas(args: argparse.Namespace, train: Any, valid: Any, table: Any, T: float, weight: float,
                seed: int) -> dict[str, Any]:
    """warmnas' first-order DARTSSearch("nb201") with its additive CPU-latency penalty
    (``--warmnas-method``: darts, or proxyless on the reference supernet)."""
    from warmnas.hardware.penalties import AdditiveLatencyPenalty
    from warmnas.nas import DARTSSearch

    pen = AdditiveLatencyPenalty(table, T, weight) if weight > 0 else None
    ends: list[tuple[float, float]] = []
    t0 = clocks()
    method = args.warmnas_method
    search = DARTSSearch("nb201", method=method, impl="reference" if method == "proxyless" else "batched",
                         latency_penalty=pen, epochs=args.epochs, batch_size=args.batch_size,
                         C=args.C, layers=args.layers, lr=args.lr, lr_min=args.lr, momentum=0.9,
                         weight_decay=3e-4, grad_clip=5.0, arch_lr=args.arch_lr, augment=False,
                         max_steps_per_epoch=args.steps, random_state=seed, progress=False,
                         callback=lambda record, s: ends.append(clocks())).fit(train, valid)
    return {"arch": str(search.genotype_), "epoch": np.diff(ends, axis=0),
            "total": np.subtract(clocks(), t0), "threads": [torch.get_num_threads()],
            "steps": [search.n_iter_ // max(1, len(search.history_))] * len(search.history_),
            "alphas": {k: v.clone() for k, v in search.alphas_.items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", help="shared data folder (default: $WARMNAS_SHARED_DATA or ../shared/data)")
    parser.add_argument("--n-train", type=int, default=2000, help="CIFAR-10 images (split in halves)")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--steps", type=int, default=15, help="steps per epoch")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--C", type=int, default=8, dest="C", help="supernet channels")
    parser.add_argument("--layers", type=int, default=1, help="supernet cells per stage")
    parser.add_argument("--lr", type=float, default=0.025, help="weight SGD learning rate (constant)")
    parser.add_argument("--arch-lr", type=float, default=3e-3)
    parser.add_argument("--weight", type=float, default=0.02, help="penalty weight w (both)")
    parser.add_argument("--target-fraction", type=float, default=0.5,
                        help="target = this fraction of the all-3x3-conv cell's latency / FLOPs")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (both)")
    parser.add_argument("--rounds", type=int, default=25, help="latency measurement rounds")
    parser.add_argument("--seed", type=int, default=0, help="seed of the latency table and the data subset")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="search seeds")
    parser.add_argument("--nni-strategy", choices=("darts", "proxyless", "gumbel"), default="darts",
                        help="NNI's one-shot strategy: DARTS, Proxyless or GumbelDARTS (default darts)")
    parser.add_argument("--warmnas-method", choices=("darts", "proxyless"), default="darts",
                        help="warmnas' method: darts (batched supernet) or proxyless (sampled "
                             "paths, reference supernet); pair it with --nni-strategy proxyless")
    parser.add_argument("--nni-only", action="store_true",
                        help="run NNI's searches only (no warmnas search, no latency table)")
    args = parser.parse_args(argv)
    tools = ("NNI",) if args.nni_only else ("warmnas", "NNI")
    nni_name = {"darts": "DARTS", "proxyless": "Proxyless", "gumbel": "GumbelDARTS"}[args.nni_strategy]
    torch.set_num_threads(args.threads)

    try:
        import nni
        import pytorch_lightning as pl
    except ImportError as exc:
        print(f"nni_peer: NNI is not importable here ({exc}); see this script's docstring", file=sys.stderr)
        return 2
    install_nni_shims()

    from warmnas.hardware.base import load_average
    from warmnas.hardware.measure import MeasuredLatencyTable, measure_networks
    from warmnas.nas.data import ImageData, default_data_dir, load_cifar10, search_split
    from warmnas.nas.nb201 import NB201Table

    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    print(f"NNI {nni.__version__}, pytorch-lightning {pl.__version__}, torch {torch.__version__}, "
          f"Python {sys.version.split()[0]}; torch threads {args.threads} for both")
    print(f"load average (1 min): {load_average():.2f}")
    print(f"NNI strategy: {nni_name}" + ("; NNI only (warmnas' searches skipped)" if args.nni_only
                                          else f"; warmnas method: {args.warmnas_method}"))
    t0 = time.perf_counter()
    table: Any = None
    T = float("nan")
    if not args.nni_only:
        table = MeasuredLatencyTable.measure("nb201", "cpu", rounds=args.rounds, calibration=10,
                                             random_state=args.seed)
        T = args.target_fraction * table.predict(ALL_CONV)
        print(f"CPU latency table built in {time.perf_counter() - t0:.1f} s; T = {T:.2f} ms")
    torch.set_num_threads(args.threads)
    nb = NB201Table.load(data_dir)
    X, y, _, _ = load_cifar10(data_dir)
    idx = np.random.default_rng(args.seed).choice(len(X), args.n_train, replace=False)
    data = ImageData.from_arrays(np.asarray(X[idx]), np.asarray(y[idx]))
    train, valid = search_split(data, 0.5, random_state=args.seed)
    print(f"search ({'NNI' if args.nni_only else 'both'}, NNI {nni_name}): NB201 supernet C={args.C}, {args.layers} cell(s)/stage, {len(train)} + "
          f"{len(valid)} CIFAR-10 images (weights + alphas), {args.epochs} epochs x {args.steps} steps, "
          f"batch {args.batch_size}, first order; SGD lr {args.lr} (constant) momentum 0.9 wd 3e-4 "
          f"clip 5; Adam arch lr {args.arch_lr} betas (0.5, 0.999) wd 1e-3; no augmentation")
    nni_cost = f"FLOPs (target {args.target_fraction:g} x the all-3x3-conv network's FLOPs)"
    if args.nni_only:
        print(f"penalty (NNI): loss + w * (E[FLOPs] / target - 1), w = {args.weight}; cost: {nni_cost}")
    else:
        print(f"penalty (both): loss + w * (E[cost] / target - 1), w = {args.weight}; cost: warmnas = "
              f"measured CPU latency (target {T:.2f} ms), NNI = {nni_cost}")
    if args.nni_strategy == "gumbel":
        print("GumbelDARTS: its w = 0 search keeps the penalty with scale 0 (same Gumbel draws; loss unchanged)")
    print()

    runs: list[tuple[str, float, int, dict[str, Any]]] = []
    for seed in args.seeds:
        for weight in (0.0, args.weight):
            for tool in tools:
                torch.set_num_threads(args.threads)
                if tool == "warmnas":
                    r = run_warmnas(args, train, valid, table, T, weight, seed)
                else:
                    r = run_nni(args, train, valid, weight, seed)
                runs.append((tool, weight, seed, r))
                print(f"{tool:8s} w={weight:<5g} seed {seed}: {r['total'][0]:6.1f} s wall, "
                      f"{r['total'][1]:6.1f} s CPU, steps/epoch "
                      f"{sorted(set(r['steps']))}, threads {r['threads']}, load average (1 min) "
                      f"{load_average():.2f}: {r['arch']}")
                if tool == "NNI" and r["exported"] != r["arch"]:
                    print(f"{'':8s} (argmax of the alphas above; NNI {nni_name} exported {r['exported']})")
                sys.stdout.flush()
    torch.set_num_threads(args.threads)
    measured = measure_networks([r["arch"] for *_, r in runs], "nb201", rounds=args.rounds,
                                random_state=args.seed)

    def med(v: Any) -> float:
        return float(np.median(v)) if len(v) else float("nan")

    print(f"\n{'tool':8s} {'w':>5s} {'seed':>4s} {'CPU s/ep':>8s} {'wall s/ep':>9s} {'NB201 C10 %':>11s} "
          f"{'meas CPU ms':>11s} {'pred CPU ms':>11s}  cell")
    for (tool, weight, seed, r), ms in zip(runs, measured):
        i = nb.index(r["arch"])
        pred = table.predict(r["arch"]) if table is not None else float("nan")
        print(f"{tool:8s} {weight:5g} {seed:4d} {med(r['epoch'][:, 1]):8.2f} {med(r['epoch'][:, 0]):9.2f} "
              f"{nb.accuracies['cifar10'][i]:11.2f} {ms:11.2f} {pred:11.2f}  {r['arch']}")
    print("(s/ep: median over epochs 2.. of that search, from one epoch's end to the next; CPU = this "
          "thread's CPU time, robust to other processes; wall = wall clock)")
    ep = {tool: np.concatenate([r["epoch"] for t, *_, r in runs if t == tool]) for tool in tools}
    tot = {tool: np.sum([r["total"] for t, *_, r in runs if t == tool], axis=0) for tool in tools}
    for j, clock in ((1, "CPU"), (0, "wall")):
        n = med(ep["NNI"][:, j])
        if args.nni_only:
            print(f"seconds per search epoch ({clock}), median over {len(ep['NNI'])} epochs: NNI {nni_name} "
                  f"{n:.2f}; all searches incl. set-up: {tot['NNI'][j]:.1f} s")
            continue
        w = med(ep["warmnas"][:, j])
        print(f"seconds per search epoch ({clock}), median over {len(ep['warmnas'])} epochs each: warmnas "
              f"{w:.2f}, NNI {n:.2f}: NNI / warmnas = {n / w:.2f}x; all searches incl. set-up: warmnas "
              f"{tot['warmnas'][j]:.1f} s, NNI {tot['NNI'][j]:.1f} s ({tot['NNI'][j] / tot['warmnas'][j]:.2f}x)")

    # Does the penalty change the search? Same seed, w = 0 vs w > 0.
    for seed in args.seeds:
        by = {(tool, w): r for tool, w, s, r in runs if s == seed}
        n0, n1 = by[("NNI", 0.0)], by[("NNI", args.weight)]
        # softmax of NNI's architecture logits (for DARTS and Proxyless also what export_probs returns)
        n_diff = max(float((n0["alphas"][k] - n1["alphas"][k]).abs().max()) for k in n0["alphas"])
        if args.nni_only:
            moved = max(float((a - 1 / a.numel()).abs().max()) for a in n0["alphas"].values())
            print(f"seed {seed}: max |softmax(alpha) at w={args.weight:g} - at w=0|: NNI {nni_name} "
                  f"{n_diff:.3g} (max |softmax(alpha) - uniform| at w=0: {moved:.3g}); same cell: "
                  f"{n0['arch'] == n1['arch']}")
            continue
        w0, w1 = by[("warmnas", 0.0)], by[("warmnas", args.weight)]
        w_diff = max(float((w0["alphas"][k].softmax(-1) - w1["alphas"][k].softmax(-1)).abs().max())
                     for k in w0["alphas"])
        print(f"seed {seed}: max |softmax(alpha) at w={args.weight:g} - at w=0|: warmnas {w_diff:.3g}, "
              f"NNI {n_diff:.3g}; same cell: warmnas {w0['arch'] == w1['arch']}, NNI {n0['arch'] == n1['arch']}")
    n = next(r for tool, w, _, r in runs if tool == "NNI" and w > 0)
    print(f"NNI {nni_name}'s penalty term: E[FLOPs] = {n['expected_flops']:.4g} at the end (target {n['baseline']:.4g}, "
          f"all-conv {n['flops_all_conv']:.4g}); the probabilities it is computed from are Python "
          f"{n['probs_type']}s; |d penalty / d alpha| = {n['penalty_grad_norm']:.3g} (with the "
          f"probabilities as tensors instead: {n['penalty_grad_norm_tensor']:.3g})")
    print(f"load average (1 min): {load_average():.2f}; total {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
