"""MetaNAS on Omniglot: few-shot accuracy after adaptation, and the NAS warm-start claim.

Part A (per shot setting, 5-way 1-shot and 5-shot, meta-train alphabets -> disjoint meta-test
alphabets, 28x28, rotations as extra classes), all scored on the SAME meta-test tasks with the
same number of adaptation steps:

* ``metanas``: Reptile over alphas AND weights of a DARTS supernet with MetaNAS' Omniglot
  protocol: meta-training tasks with 15 shots per class, inner loop = 5 first-order DARTS steps
  on minibatches of 20 (Adam lr 5e-3, betas (0, 0.999)), meta-SGD lr 1.0 (weights) / 0.6
  (alphas), alphas frozen for the first quarter of the meta-steps;
* ``uniform_meta_w`` (only with ``--with-ablation``; it halves the meta-steps the budget
  allows): the same supernet and protocol with alphas frozen at uniform, weights meta-learned
  for the same number of meta-steps (isolates what meta-learning alpha adds);
* ``uniform_scratch``: the same supernet from uniform alphas and freshly initialised weights,
  trained on the support set with the same number of adaptation steps (no meta-learning);
* ``maml_conv4``: first-order MAML on a fixed architecture (the MAML/Reptile 4-conv Omniglot
  network): K-shot meta-training tasks, 5 inner SGD steps (lr 0.1), Adam meta-optimiser (1e-3),
  same number of meta-steps.

Part B (the warm-start claim): a new 20-way task from the meta-test alphabets (10 drawings per
character to train, 10 to validate), 100 DARTS steps (batch 64) scored every 5 steps.
First-order DARTS from (i) the usual cold start, (ii) the
meta-learned alphas only (``init_alpha``), (iii) the meta-learned alphas and weights
(MetaNAS' warm start; the 20-way classifier is fresh), (iv) as (iii) with the classifier set
from the class means of the meta-learned features on the task's train images
(``init_head="prototypes"``, a nearest-class-mean start as in Proto-MAML). Reported: validation accuracy curves and
the steps each warm start needs to reach the cold start's final validation accuracy (target:
at most 1/3 of the cold start's steps). Arms (i)-(iv) run in ``warm_search`` on identical
minibatches; (i)-(ii) are also run with the library's ``DARTSSearch`` (its CUDA-graph fast path).

Everything is time-budgeted (``--budget-s``): meta-training lengths and the number of meta-test
tasks come from a short calibration (seconds per meta-step, and one measured ``evaluate`` of a
fresh supernet and of a fresh conv4 network), each phase has a time cap, and the results are
written to ``OUT/metanas_results.json`` after every phase, so a time-out still leaves partial
results. Before the timed ``DARTSSearch`` arms, one untimed 1-epoch ``DARTSSearch`` fit absorbs
the first-fit overhead (cuDNN autotuning, graph capture; ``warmup_s``). A warm-start comparison
is flagged ``not_a_result`` (and the summary prints why instead of a fraction) when its target is
within 1.5 x chance accuracy, or when the cold ``DARTSSearch`` arm stopped before its planned
steps while the warm arm ran another number of steps. No meta-database is needed.

Usage::

    PYTHONPATH=. python bench/metanas_gpu.py --data-dir .gpu-data --out results/metanas   # GPU
    PYTHONPATH=. python bench/metanas_gpu.py --smoke --out out/metanas_smoke               # CPU
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import torch  # noqa: E402

from warmnas.nas.data import ImageData  # noqa: E402
from warmnas.nas.meta.metanas import MetaNAS  # noqa: E402
from warmnas.nas.meta.omniglot import (  # noqa: E402
    load_omniglot,
    omniglot_classification,
    omniglot_tasks,
)
from warmnas.nas.meta.prior import steps_to_target, warm_search  # noqa: E402
from warmnas.nas.search import DARTSSearch  # noqa: E402

LOG = logging.getLogger("metanas_gpu")

#: a warm-start target at most this many times chance accuracy (1 / n_way) measures nothing
CHANCE_FACTOR = 1.5
#: the warm-start arm on which the target (<= 1/3 of the cold start's steps) is judged, fixed
#: before the third GPU run on the CPU-scale evidence (docs/metanas.md): MetaNAS' full warm start
#: (meta-learned alpha and weights, classifier from the class means); the other arms are reported
PRIMARY_ARM = "warm_alpha_w_proto"
#: the target: steps to the cold start's final accuracy at most this fraction of the cold steps
TARGET_FRACTION = 1 / 3
#: per-shot budgets (s) from which the eval calibration scores a full ``eval_chunk`` of tasks;
#: below, at most ``EVAL_CAL_SMALL_TASKS`` tasks (the per-task cost is scaled from those)
EVAL_CAL_FULL_CHUNK_BUDGET_S = 100.0
EVAL_CAL_SMALL_TASKS = 5


def _load_avg() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:  # pragma: no cover
        return float("nan")


class Results:
    """The results JSON, rewritten atomically after every phase."""

    def __init__(self, folder: Path, meta: dict[str, Any]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "metanas_results.json"
        self.data: dict[str, Any] = {"meta": meta, "fewshot": {}, "warm_start": {}}

    def write(self) -> None:
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        tmp.write_text(json.dumps(self.data, indent=1, default=str))
        os.replace(tmp, self.path)


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    if args.smoke:
        s = dict(size=8, n_way=3, q_query=2, C=4, layers=2, meta_batch=2, inner_steps=2,
                 adapt_steps=2, eval_tasks=4, eval_chunk=4, max_meta_steps=3, ws_way=5,
                 ws_steps=6, ws_eval_every=3, ws_batch=8, shots=[1, 5], train_shots=6,
                 inner_batch=4)
        budget = 60.0
    else:
        s = dict(size=28, n_way=5, q_query=5, C=16, layers=4, meta_batch=10, inner_steps=5,
                 adapt_steps=25, eval_tasks=200, eval_chunk=20, max_meta_steps=5000,
                 ws_way=20, ws_steps=100, ws_eval_every=5, ws_batch=64, shots=[1, 5],
                 train_shots=15, inner_batch=20)
        budget = 400.0
    for key in ("size", "C", "layers", "meta_batch", "inner_steps", "adapt_steps",
                "eval_tasks", "max_meta_steps", "ws_steps"):
        value = getattr(args, key.replace("-", "_"), None)
        if value is not None:
            s[key] = value
    if args.shots:
        s["shots"] = args.shots
    s["ablation"] = bool(args.with_ablation or args.smoke)
    s["budget_s"] = float(args.budget_s if args.budget_s is not None else budget)
    s["cuda_graphs"] = "auto" if args.cuda_graphs == "auto" else False
    return s


def _metanas(s: dict[str, Any], device: str, seed: int, **kw: Any) -> MetaNAS:
    base = dict(C=s["C"], layers=s["layers"], meta_batch_size=s["meta_batch"],
                inner_steps=s["inner_steps"], adapt_steps=s["adapt_steps"], device=device,
                random_state=seed, progress=False, log_every=10,
                parallel_tasks=s["meta_batch"], cuda_graphs=s["cuda_graphs"])
    base.update(kw)
    return MetaNAS(**base)


def _calibrate(s: dict[str, Any], train: Any, device: str, seed: int, **kw: Any) -> float:
    """Seconds per meta-step (steps 2-4, after the CUDA-graph capture of step 1)."""
    m = _metanas(s, device, seed, meta_steps=4, log_every=1, **kw).fit(train)
    secs = [h["seconds"] for h in m.history_ if "train_query_accuracy" in h]
    return max((secs[-1] - secs[0]) / max(len(secs) - 1, 1), 1e-3)


def _calibrate_eval(s: dict[str, Any], tasks: Any, device: str, seed: int, n_tasks: int,
                    **kw: Any) -> float:
    """Seconds of one ``evaluate`` of ``n_tasks`` tasks by a freshly built model (meta_steps=0,
    as ``uniform_scratch`` is built), with the evaluation's chunk size and adaptation steps."""
    m = _metanas(s, device, seed, meta_steps=0, **kw).fit(tasks)
    m.parallel_tasks = s["eval_chunk"]
    t0 = time.perf_counter()
    m.evaluate(tasks, n_tasks=n_tasks, random_state=seed + 2000)
    return time.perf_counter() - t0


def fewshot(s: dict[str, Any], data: Any, k_shot: int, device: str, budget: float,
            res: Results, seed: int) -> MetaNAS:
    """Part A for one shot setting; returns the MetaNAS model."""
    out: dict[str, Any] = {"n_way": s["n_way"], "k_shot": k_shot, "q_query": s["q_query"],
                           "adapt_steps": s["adapt_steps"], "inner_steps": s["inner_steps"]}
    res.data["fewshot"][f"{k_shot}shot"] = out
    t_start = time.perf_counter()
    # Reptile / MetaNAS meta-train on many-shot tasks (15 per class) with inner minibatches;
    # MAML on K-shot tasks; every model is scored on the same K-shot meta-test tasks
    train_many = omniglot_tasks(data=data, split="train", n_way=s["n_way"],
                                k_shot=s["train_shots"], q_query=s["q_query"], device=device)
    train_k = omniglot_tasks(data=data, split="train", n_way=s["n_way"], k_shot=k_shot,
                             q_query=s["q_query"], device=device)
    test = omniglot_tasks(data=data, split="test", n_way=s["n_way"], k_shot=k_shot,
                          q_query=s["q_query"], device=device)
    reptile = dict(inner_batch_size=s["inner_batch"])
    out["reptile_train_shots"] = s["train_shots"]
    out["reptile_inner_batch"] = s["inner_batch"]
    # calibrate: seconds per meta-step of MetaNAS, of the weights-only ablation and of MAML
    t_meta = _calibrate(s, train_many, device, seed, **reptile)
    t_unif = (_calibrate(s, train_many, device, seed, learn_alpha=False, init_alpha="uniform",
                         **reptile) if s["ablation"] else 0.0)
    t_maml = _calibrate(s, train_k, device, seed, **_maml_kw())
    # eval cost: time one evaluate of a fresh supernet and of a fresh conv4 on K-shot tasks of
    # the meta-test format (meta-training tasks: same shapes; a fresh model learns nothing).
    # The supernet adapts its alphas as the metanas model does: the costliest supernet eval,
    # so it also bounds the frozen-alpha ones (uniform_meta_w, uniform_scratch).
    n_cal = (s["eval_chunk"] if budget >= EVAL_CAL_FULL_CHUNK_BUDGET_S
             else min(s["eval_chunk"], EVAL_CAL_SMALL_TASKS))
    e_sup = _calibrate_eval(s, train_k, device, seed, n_cal, init_alpha="uniform", **reptile)
    e_conv = _calibrate_eval(s, train_k, device, seed, n_cal, **_maml_kw())
    calib = time.perf_counter() - t_start
    sup_task, conv_task = e_sup / n_cal, e_conv / n_cal
    per_model = {"metanas": sup_task, "uniform_scratch": sup_task, "maml_conv4": conv_task}
    if s["ablation"]:
        per_model["uniform_meta_w"] = sup_task
    per_task = sum(per_model.values())
    eval_budget = 0.25 * budget
    n_eval = int(max(min(s["eval_tasks"], eval_budget / max(per_task, 1e-6)), 2 * 2))
    out["eval_calibration_s"] = {"tasks": n_cal, "chunk": s["eval_chunk"],
                                 "supernet_s": e_sup, "conv4_s": e_conv,
                                 "per_task_s": per_model,
                                 "estimated_eval_s": per_task * n_eval}
    train_budget = max(budget - calib - eval_budget, 1.0)
    M = int(max(2, min(s["max_meta_steps"], train_budget / (t_meta + t_unif + t_maml))))
    out.update({"calibration_s": calib, "s_per_meta_step": {"metanas": t_meta,
                "uniform_meta_w": t_unif, "maml_conv4": t_maml}, "meta_steps": M,
                "eval_tasks": n_eval})
    LOG.info("%d-shot: %.3f / %.3f / %.3f s per meta-step, eval %.3f / %.3f s per task "
             "(supernet / conv4) -> %d meta-steps, %d eval tasks", k_shot, t_meta, t_unif,
             t_maml, sup_task, conv_task, M, n_eval)
    res.write()
    models: dict[str, MetaNAS] = {}
    specs: dict[str, tuple[Any, dict[str, Any]]] = {
        "metanas": (train_many, dict(arch_warmup_steps=M // 4, **reptile)),
        "uniform_meta_w": (train_many, dict(learn_alpha=False, init_alpha="uniform", **reptile)),
        "maml_conv4": (train_k, _maml_kw()),
    }
    if not s["ablation"]:
        del specs["uniform_meta_w"]
    for name, (train, kw) in specs.items():
        cap = 1.5 * M * {"metanas": t_meta, "uniform_meta_w": t_unif,
                         "maml_conv4": t_maml}[name] + 10.0
        t0 = time.perf_counter()
        m = _metanas(s, device, seed, meta_steps=M, max_time_s=cap, **kw).fit(train)
        models[name] = m
        out[name] = {"meta_steps_run": m.n_meta_steps_, "stopped_early": m.stopped_early_,
                     "train_s": time.perf_counter() - t0,
                     "cuda_graphs_active": m.cuda_graphs_active_,
                     "train_query_accuracy_last": next(
                         (h["train_query_accuracy"] for h in reversed(m.history_)
                          if "train_query_accuracy" in h), None)}
        if m.genotype_ is not None:
            out[name]["meta_genotype"] = str(m.genotype_)
        res.write()
    models["uniform_scratch"] = _metanas(s, device, seed, meta_steps=0, learn_alpha=False,
                                         init_alpha="uniform", **reptile).fit(train_k)
    out["uniform_scratch"] = {"meta_steps_run": 0}
    for name, m in models.items():
        t0 = time.perf_counter()
        m.parallel_tasks = s["eval_chunk"]
        ev = m.evaluate(test, n_tasks=n_eval, random_state=seed + 1000)
        out[name].update({"accuracy": ev["accuracy"], "ci95": ev["ci95"], "loss": ev["loss"],
                          "eval_s": time.perf_counter() - t0, "eval_tasks": ev["n_tasks"],
                          "eval_cuda_graphs_active": ev["cuda_graphs_active"]})
        if ev["genotypes"]:
            out[name]["top_adapted_genotype_share"] = ev["genotypes"][0][1] / ev["n_tasks"]
        LOG.info("%d-shot %-16s acc %.4f +- %.4f", k_shot, name, ev["accuracy"], ev["ci95"])
        res.write()
    out["seconds"] = time.perf_counter() - t_start
    res.write()
    return models["metanas"]


def _maml_kw() -> dict[str, Any]:
    return dict(model="conv4", algorithm="fomaml", meta_optimizer="adam", meta_lr=1e-3,
                inner_optimizer="sgd", inner_lr=0.1, inner_momentum=0.0)


def _target_met(ws: dict[str, Any]) -> bool | None:
    """The verdict on the target for the pre-registered arm: None when the comparison is not a
    result, else whether that arm reached the cold start's final accuracy within
    ``TARGET_FRACTION`` of the cold steps."""
    if ws.get("not_a_result"):
        return None
    frac = ws[PRIMARY_ARM]["fraction_of_cold"]
    return frac is not None and frac <= TARGET_FRACTION + 1e-12


def _chance_reason(target: float, n_way: int) -> str | None:
    """Why a target accuracy this close to chance makes a steps-to-target comparison
    meaningless (None when it does not)."""
    chance = 1.0 / n_way
    if target <= CHANCE_FACTOR * chance + 1e-12:
        return (f"not a result: the target {100 * target:.2f}% is within {CHANCE_FACTOR:g} x "
                f"chance ({100 * chance:.2f}% for {n_way}-way)")
    return None


def _length_reason(cold_steps: int, planned: int, warm_steps: int, cap_s: float) -> str | None:
    """Why arms of unequal length make a steps-to-target comparison meaningless: the cold arm
    stopped (time cap) before its planned steps while the warm arm ran another number."""
    if cold_steps < planned and warm_steps != cold_steps:
        return (f"not a result: the cold arm stopped at step {cold_steps} of {planned} (time "
                f"cap {cap_s:.0f}s) while the warm arm ran {warm_steps} steps")
    return None


def warm_start(s: dict[str, Any], data: Any, model: MetaNAS, k_shot: int, device: str,
               budget: float, res: Results, seed: int) -> None:
    """Part B: steps a warm-started DARTS needs to reach the cold start's final accuracy.

    ``budget``: half for ``warm_search`` (its four arms run at once), a quarter for each
    ``DARTSSearch`` arm (so each gets more than a ``warm_search`` arm's share); the untimed
    ``DARTSSearch`` warm-up fit comes on top.
    """
    out: dict[str, Any] = {"n_way": s["ws_way"], "train_per_class": 10, "valid_per_class": 10,
                           "steps": s["ws_steps"], "eval_every": s["ws_eval_every"],
                           "prior_from": f"the MetaNAS model of the {k_shot}-shot setting"}
    res.data["warm_start"] = out
    # a new task: characters of the meta-test alphabets, 10 drawings train / 10 valid
    tr, va = omniglot_classification(data, n_way=s["ws_way"], n_train=10, random_state=seed)
    prior = model.alpha_prior()
    t0 = time.perf_counter()
    curves = warm_search(tr, va, arms={"cold": {}, "warm_alpha": {"init_alpha": prior},
                                       "warm_alpha_w": {"init_alpha": prior,
                                                        "init_weights": model},
                                       "warm_alpha_w_proto": {"init_alpha": prior,
                                                              "init_weights": model,
                                                              "init_head": "prototypes"}},
                         steps=s["ws_steps"], eval_every=s["ws_eval_every"],
                         batch_size=s["ws_batch"], C=s["C"], layers=s["layers"],
                         device=device, max_time_s=0.5 * budget, random_state=seed)
    ws: dict[str, Any] = {"seconds": time.perf_counter() - t0, "max_time_s": 0.5 * budget}
    cold = curves["cold"]
    target = cold.valid_accuracy[-1]
    total = cold.steps[-1]
    ws["target_valid_accuracy"] = target
    ws["cold_steps"] = total
    ws["stopped_early"] = total < s["ws_steps"]  # all arms run the same steps
    ws["not_a_result"] = _chance_reason(target, s["ws_way"])
    for name, c in curves.items():
        need = steps_to_target(c, target)
        ws[name] = {"steps": c.steps, "valid_accuracy": c.valid_accuracy,
                    "final_valid_accuracy": c.valid_accuracy[-1], "steps_to_target": need,
                    "fraction_of_cold": None if need is None else need / max(total, 1),
                    "genotype": str(c.genotype)}
    ws["primary_arm"] = PRIMARY_ARM
    ws["target_met"] = _target_met(ws)
    out["warm_search"] = ws
    res.write()
    LOG.info("warm_search done in %.1fs", ws["seconds"])
    # the library's DARTSSearch (its own fast path), cold vs init_alpha
    steps_per_epoch = max(1, len(tr) // s["ws_batch"])
    epochs = max(1, s["ws_steps"] // steps_per_epoch)
    planned = epochs * steps_per_epoch
    cap = 0.25 * budget
    ds: dict[str, Any] = {"steps_per_epoch": steps_per_epoch, "epochs": epochs,
                          "planned_steps": planned, "max_time_s": cap}
    out["darts_search"] = ds
    # untimed warm-up fit (1 epoch, own seed, thrown away): the first DARTSSearch fit in the
    # process pays cuDNN autotuning and graph capture, which must not land in the cold arm
    t_w = time.perf_counter()
    DARTSSearch("darts", epochs=1, batch_size=s["ws_batch"], C=s["C"], layers=s["layers"],
                augment=False, device=device, random_state=seed + 1, progress=False).fit(tr, va)
    ds["warmup_s"] = time.perf_counter() - t_w
    LOG.info("DARTSSearch warm-up fit (1 epoch, untimed) %.1fs", ds["warmup_s"])
    res.write()
    for name, init in (("cold", None), ("warm_alpha", prior)):
        curve_steps: list[int] = [0]
        curve_acc: list[float] = [float("nan")]

        def cb(record: dict[str, Any], search: DARTSSearch,
               cs: list[int] = curve_steps, ca: list[float] = curve_acc) -> None:
            cs.append(search.n_iter_)
            ca.append(_score(search.supernet_, va, device))

        t1 = time.perf_counter()
        search = DARTSSearch("darts", init_alpha=init, epochs=epochs, batch_size=s["ws_batch"],
                             C=s["C"], layers=s["layers"], augment=False, device=device,
                             callback=cb, max_time_s=cap, random_state=seed,
                             progress=False).fit(tr, va)
        ds[name] = {"steps": curve_steps[1:], "valid_accuracy": curve_acc[1:],
                    "seconds": time.perf_counter() - t1, "genotype": str(search.genotype_),
                    "stopped_early": bool(search.stopped_early_)}
        res.write()
    if ds["cold"]["valid_accuracy"]:
        target_d = ds["cold"]["valid_accuracy"][-1]
        total_d = ds["cold"]["steps"][-1]
        ds["target_valid_accuracy"] = target_d
        for name in ("cold", "warm_alpha"):
            c = ds[name]
            need = next((st for st, a in zip(c["steps"], c["valid_accuracy"])
                         if a >= target_d - 1e-12), None)
            c["steps_to_target"] = need
            c["fraction_of_cold"] = None if need is None else need / max(total_d, 1)
        warm_last = ds["warm_alpha"]["steps"][-1] if ds["warm_alpha"]["steps"] else 0
        ds["not_a_result"] = (_chance_reason(target_d, s["ws_way"])
                              or _length_reason(total_d, planned, warm_last, cap))
        for reason in (ws["not_a_result"], ds["not_a_result"]):
            if reason:
                LOG.warning("warm-start comparison: %s", reason)
    res.write()


@torch.no_grad()
def _score(net: torch.nn.Module, data: ImageData, device: str) -> float:
    """Accuracy of a DARTSSearch supernet on ``data`` (eval mode: BN running statistics)."""
    was = net.training
    net.eval()
    mean = torch.tensor(data.mean, device=device).view(1, -1, 1, 1)
    std = torch.tensor(data.std, device=device).view(1, -1, 1, 1)
    correct = 0
    for lo in range(0, len(data), 500):
        x = data.images[lo:lo + 500].to(device).float() / 255.0
        y = data.labels[lo:lo + 500].to(device)
        correct += int((net((x - mean) / std).argmax(dim=1) == y).sum())
    net.train(was)
    return correct / len(data)


def _summary(res: Results) -> None:
    meta = res.data["meta"]
    print(f"\n== MetaNAS on Omniglot ({meta['device_name']}, torch {meta['torch']}, "
          f"load avg {_load_avg():.2f}) ==")
    for out in res.data["fewshot"].values():
        print(f"\n{out['n_way']}-way {out['k_shot']}-shot, {out.get('meta_steps')} meta-steps "
              f"(batch {meta['settings']['meta_batch']}), {out['adapt_steps']} adaptation steps, "
              f"{out.get('eval_tasks')} meta-test tasks (alphabets Greek, Latin, Tagalog):")
        for name in ("metanas", "uniform_meta_w", "uniform_scratch", "maml_conv4"):
            r = out.get(name, {})
            if "accuracy" in r:
                print(f"  {name:16s} {100 * r['accuracy']:6.2f}% +- {100 * r['ci95']:.2f} "
                      f"(meta-steps {r.get('meta_steps_run')}, train {r.get('train_s', 0):.0f}s)")
    ws = res.data["warm_start"].get("warm_search")
    if ws:
        print(f"\nWarm start, new {res.data['warm_start']['n_way']}-way task (first-order DARTS, "
              f"same minibatches): target = cold final valid acc "
              f"{100 * ws['target_valid_accuracy']:.2f}% after {ws['cold_steps']} steps")
        if ws.get("not_a_result"):
            print(f"  {ws['not_a_result']}")
        for name in ("cold", "warm_alpha", "warm_alpha_w", "warm_alpha_w_proto"):
            r = ws[name]
            print(f"  {name:18s} final {100 * r['final_valid_accuracy']:6.2f}%  steps to target "
                  f"{r['steps_to_target']}  "
                  f"({_fraction_text(r['fraction_of_cold'], ws.get('not_a_result'))})")
        verdict = {None: "no verdict (not a result)", True: "met",
                   False: "NOT met"}[ws.get("target_met")]
        print(f"  target (<= {TARGET_FRACTION:.3f} of the cold steps) on the arm fixed before the "
              f"run, {ws.get('primary_arm', PRIMARY_ARM)}: {verdict}")
    ds = res.data["warm_start"].get("darts_search", {})
    if "target_valid_accuracy" in ds:
        print(f"  DARTSSearch: target {100 * ds['target_valid_accuracy']:.2f}% after "
              f"{ds['cold']['steps'][-1]} of {ds.get('planned_steps')} planned steps "
              f"(untimed warm-up fit {ds.get('warmup_s', float('nan')):.1f}s)")
        if ds.get("not_a_result"):
            print(f"  DARTSSearch {ds['not_a_result']}")
        for name in ("cold", "warm_alpha"):
            r = ds[name]
            print(f"  DARTSSearch {name:10s} steps to target {r.get('steps_to_target')} "
                  f"({_fraction_text(r.get('fraction_of_cold'), ds.get('not_a_result'))})")
    print(f"\nresults: {res.path}  total {res.data['meta'].get('total_s', 0):.0f}s")


def _fraction_text(frac: float | None, not_a_result: str | None) -> str:
    if not_a_result:
        return "not a result"
    return f"{'n/a' if frac is None else f'{frac:.3f}'} of cold"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", default=None, help="shared data folder or the omniglot folder "
                   "(default: $WARMNAS_SHARED_DATA or ../shared/data)")
    p.add_argument("--cache-dir", default=None, help="decoded Omniglot cache")
    p.add_argument("--out", required=True, help="output folder for metanas_results.json")
    p.add_argument("--device", default="auto", help="'auto' (CUDA if available), 'cpu', 'cuda'")
    p.add_argument("--smoke", action="store_true", help="tiny sizes: tests the script (~1 min CPU)")
    p.add_argument("--budget-s", type=float, default=None,
                   help="compute budget in seconds (default 400 full, 60 smoke)")
    p.add_argument("--shots", type=int, nargs="+", default=None)
    p.add_argument("--size", type=int, default=None)
    p.add_argument("--C", type=int, default=None)
    p.add_argument("--layers", type=int, default=None)
    p.add_argument("--meta-batch", type=int, default=None)
    p.add_argument("--inner-steps", type=int, default=None)
    p.add_argument("--adapt-steps", type=int, default=None)
    p.add_argument("--eval-tasks", type=int, default=None)
    p.add_argument("--max-meta-steps", type=int, default=None)
    p.add_argument("--ws-steps", type=int, default=None)
    p.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads (default: 1 with --smoke, else torch's default)")
    p.add_argument("--cuda-graphs", choices=("auto", "off"), default="auto",
                   help="capture the task-level loop as CUDA graphs (auto: on CUDA)")
    p.add_argument("--with-ablation", action="store_true",
                   help="also meta-learn the weights with alphas frozen at uniform "
                        "(uniform_meta_w; always on with --smoke)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("warmnas.nas.search").setLevel(logging.WARNING)  # one line per epoch
    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" \
        else args.device
    threads = args.threads if args.threads is not None else (1 if args.smoke else None)
    if threads:
        torch.set_num_threads(threads)
    s = _settings(args)
    t_all = time.perf_counter()
    name = torch.cuda.get_device_name(0) if device.startswith("cuda") else "cpu"
    res = Results(Path(args.out), {"device": device, "device_name": name,
                                   "torch": torch.__version__, "settings": s,
                                   "smoke": args.smoke, "load_avg_start": _load_avg()})
    data = load_omniglot(args.data_dir, size=s["size"], cache_dir=args.cache_dir)
    res.data["meta"]["load_s"] = time.perf_counter() - t_all
    res.write()
    budget = s["budget_s"]
    shots = list(s["shots"])
    # budget split: each shot setting 40% (of 2), the warm-start part the rest
    share = 0.8 / len(shots) if shots else 0.0
    model = None
    for k in shots:
        model = fewshot(s, data, k, device, share * budget, res, args.seed)
    if model is not None:
        remaining = budget - (time.perf_counter() - t_all)
        warm_start(s, data, model, shots[-1], device, max(remaining, 0.15 * budget), res,
                   args.seed)
    res.data["meta"]["total_s"] = time.perf_counter() - t_all
    res.data["meta"]["load_avg_end"] = _load_avg()
    res.write()
    _summary(res)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
