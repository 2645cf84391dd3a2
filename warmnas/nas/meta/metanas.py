"""MetaNAS: meta-learning architecture logits alpha AND network weights over tasks.

Elsken et al. (CVPR 2020), "Meta-Learning of Neural Architectures for Few-Shot Learning": the
supernet's weights ``w`` and alphas are meta-learned with Reptile (or first-order MAML), the
task-level learner being a few first-order DARTS steps. After meta-training, a new task is
solved by adapting both from the meta-learned values for a few steps (:meth:`MetaNAS.adapt`); the
meta-learned alphas are also a prior that warm-starts a DARTS search (``init_alpha``).

Meta-step (``T = meta_batch_size`` tasks drawn from the task distribution):

1. every task starts from the meta parameters ``(w, alpha)`` and runs ``inner_steps``
   first-order DARTS iterations on its support set (:func:`~warmnas.nas.meta.inner.inner_darts_steps`;
   the inner optimiser, Adam with betas ``(0, 0.999)`` as in MetaNAS, starts fresh per task);
2. the meta-gradient is, for ``algorithm="reptile"``, ``(w - mean_t w_t, alpha - mean_t alpha_t)``
   and, for ``"fomaml"``, the mean over tasks of the query-set loss gradient at the adapted
   ``(w_t, alpha_t)``;
3. the *meta-optimiser* (a ``torch.optim`` optimiser over the meta parameters, kept apart from the
   inner one) applies it, with separate learning rates for weights (``meta_lr``) and alphas
   (``meta_arch_lr``). Reptile with SGD is ``w <- w + meta_lr * (mean_t w_t - w)``, as MetaNAS
   (``meta_lr=1.0``, ``meta_arch_lr=0.6``).

For the first ``arch_warmup_steps`` meta-steps only the weights are adapted and meta-learned (as
MetaNAS' warm-up). Tasks of a meta-batch are adapted in parallel (``torch.func.vmap``) in chunks of
``parallel_tasks``. BatchNorm uses batch statistics (the transductive setting of MAML, Reptile and
MetaNAS' reported numbers). ``model="conv4"`` (or any ``nn.Module``) meta-learns a fixed
architecture instead of a supernet: first-order MAML / Reptile baselines.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import logging
import math
import os
import pickle  # only for the exception class torch.load(weights_only=True) raises
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from warmnas._io import atomic_write
from warmnas._random import RandomState, check_random_state, derive_seed, torch_generator
from warmnas.errors import (
    CorruptDatabaseError,
    InputError,
    InputTypeError,
    MissingDataError,
    NotFittedError,
    SchemaVersionError,
    StorageError,
)
from warmnas.nas.data import resolve_device
from warmnas.nas.genotype import Genotype, architecture_to_dict, derive_architecture
from warmnas.nas.meta.inner import (
    FunctionalNet,
    GraphedCall,
    InnerOptimizer,
    LatencyPenalty,
    Params,
    _use_batch_stats,
    conv4,
    run_tasks,
    shuffle_sets,
)
from warmnas.nas.meta.tasks import Task, TaskBatch, TaskDistribution, stack_tasks
from warmnas.nas.spaces import get_space

if TYPE_CHECKING:
    from warmnas.nas.fbnet import FBNetArch

__all__ = ["MetaNAS", "AdaptResult", "CHECKPOINT_FORMAT", "CHECKPOINT_VERSION",
           "genotype_record", "genotype_from_record"]

logger = logging.getLogger(__name__)

CHECKPOINT_FORMAT = "warmnas.nas.meta.checkpoint"
CHECKPOINT_VERSION = 1
ALGORITHMS = ("reptile", "fomaml")

#: Adaptation (evaluate / adapt) uses a CUDA graph for a chunk size only when that size recurs at
#: least this often in one call. Capturing a task chunk costs about three eager runs of it (two
#: eager runs to warm up and to measure eager's own run-to-run noise, then the capture and a
#: checking replay) and a replay saves only part of one eager run, so a size that runs two or
#: three times is slower with a graph (on an H100, evaluating 45 tasks x 25 adaptation steps in
#: chunks of 20, 20, 5 with a graph took 132 s, about 80 s of it the capture of the 20-task
#: chunk). Meta-training replays one chunk size every meta-step, so it always pays there.
GRAPH_MIN_CHUNK_REPEATS = 4


def graphed_chunk_sizes(n_tasks: int, chunk: int,
                        min_repeats: int = GRAPH_MIN_CHUNK_REPEATS) -> frozenset[int]:
    """The chunk sizes worth a CUDA graph when ``n_tasks`` tasks run in chunks of ``chunk``.

    The tasks run as ``n_tasks // chunk`` chunks of ``chunk`` tasks and, if ``chunk`` does not
    divide ``n_tasks``, one last chunk of ``n_tasks % chunk``; a size is graphed when it occurs
    at least ``min_repeats`` times (see :data:`GRAPH_MIN_CHUNK_REPEATS`).

    Args:
        n_tasks: tasks in the call (>= 0).
        chunk: tasks per chunk (>= 1).
        min_repeats: occurrences a size needs (>= 1).

    Returns:
        The graphed sizes (empty when none recurs often enough).

    Raises:
        InputError: a negative ``n_tasks``, ``chunk`` or ``min_repeats`` below 1.
    """
    n_tasks = _check_int(n_tasks, "n_tasks", low=0)
    chunk = _check_int(chunk, "chunk")
    min_repeats = _check_int(min_repeats, "min_repeats")
    counts: Counter[int] = Counter({chunk: n_tasks // chunk})
    if n_tasks % chunk:
        counts[n_tasks % chunk] += 1
    return frozenset(size for size, c in counts.items() if c >= min_repeats)


@dataclass
class AdaptResult:
    """The outcome of adapting the meta-learned network to one task.

    Attributes:
        genotype: the derived architecture (``Genotype`` for DARTS, arch string for NB201;
            None for a fixed-architecture model).
        accuracy: query-set accuracy of the adapted network (0..1).
        loss: query-set cross-entropy.
        alphas: the adapted alpha logits ``{key: (n_edges, n_ops)}`` (CPU float32; empty for a
            fixed architecture).
        steps: adaptation steps run.
    """

    genotype: Genotype | str | FBNetArch | None
    accuracy: float
    loss: float
    alphas: dict[str, torch.Tensor] = field(default_factory=dict)
    steps: int = 0


def genotype_record(arch: Genotype | str | FBNetArch) -> dict[str, Any]:
    """The genotype dict stored in a meta-database NAS record (NB201: ``{"arch": ...}``)."""
    if isinstance(arch, str):
        return {"arch": arch}
    return architecture_to_dict(arch)


def genotype_from_record(data: Mapping[str, Any]) -> Genotype | str | FBNetArch:
    """Inverse of :func:`genotype_record`."""
    if set(data) == {"arch"}:
        return str(data["arch"])
    from warmnas.nas.genotype import architecture_from_dict

    return architecture_from_dict(data)


def _check_number(value: Any, name: str, *, low: float = 0.0, strict: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputTypeError(f"{name} must be a number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or value < low or (strict and value <= low):
        op = ">" if strict else ">="
        raise InputError(f"{name} must be a finite number {op} {low}, got {value}")
    return value


def _check_int(value: Any, name: str, *, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise InputError(f"{name} must be an int >= {low}, got {value!r}")
    return int(value)


def _schedule(kind: str, lr: float, step: int, total: int) -> float:
    if kind == "constant" or total <= 1:
        return lr
    frac = step / max(1, total - 1)
    if kind == "linear":
        return lr * (1.0 - frac)
    return lr * 0.5 * (1.0 + math.cos(math.pi * frac))


class MetaNAS:
    """Meta-learn architecture logits and weights over a task distribution (MetaNAS).

    Args:
        space: ``"darts"`` or ``"nb201"`` (the supernet's space).
        algorithm: ``"reptile"`` (MetaNAS) or ``"fomaml"`` (first-order MAML).
        model: None (the supernet of ``space``), ``"conv4"`` (the fixed MAML/Reptile Omniglot
            network: a fixed-architecture baseline) or an ``nn.Module`` (copied; fixed
            architecture unless it is a supernet). Its classifier must output ``n_way`` logits.
        C, layers: supernet channels and cells (DARTS: cells, reductions at 1/3 and 2/3;
            NB201: cells per stage). MetaNAS used C=28, 4 cells for Omniglot.
        init_alpha: starting alpha logits (a warm start), ``"uniform"`` (zeros) or None (small
            random logits as DARTS).
        learn_alpha: meta-learn and adapt the alphas (False: alphas stay at ``init_alpha``).
        meta_steps: meta-iterations (0: no meta-training, e.g. a from-scratch baseline).
        meta_batch_size: tasks per meta-iteration (MetaNAS: 10).
        inner_steps: task-level DARTS iterations during meta-training (MetaNAS: 5).
        adapt_steps: iterations at meta-test time (:meth:`adapt`, :meth:`evaluate`).
        inner_optimizer: ``"adam"`` or ``"sgd"`` (task level, weights and alphas).
        inner_lr, inner_arch_lr: task-level learning rates of weights / alphas (MetaNAS
            Omniglot: 5e-3 both).
        inner_betas: Adam betas of the task level (MetaNAS / Reptile: ``(0.0, 0.999)``).
        inner_momentum: SGD momentum of the task level.
        inner_weight_decay: task-level L2 on the weights.
        inner_grad_clip: per-task weight-gradient norm clip (MetaNAS: 5); None = off.
        inner_batch_size: images per task-level step: cyclic minibatches of the support set in
            a random order per task (Reptile / MetaNAS meta-train with 15 shots per class and
            minibatches of 20); None = the whole support set each step.
        arch_batch: ``"support"`` (alpha and weight steps on the support set, as MetaNAS) or
            ``"split"`` (half of each class each; needs ``k_shot >= 2``).
        adapt_alpha: also adapt the alphas at meta-test time (MetaNAS does).
        meta_optimizer: ``"sgd"`` (Reptile / MetaNAS) or ``"adam"`` (MAML).
        meta_lr, meta_arch_lr: meta learning rates of weights and alphas (MetaNAS: 1.0, 0.6;
            first-order MAML with Adam: 1e-3).
        meta_lr_schedule: ``"constant"``, ``"linear"`` (to 0, as Reptile) or ``"cosine"``.
        arch_warmup_steps: meta-steps before the alphas move (MetaNAS: half the meta-steps).
        latency_penalty: ``f(ce_loss, alphas) -> loss`` used in every alpha step (task level,
            and the first-order MAML meta-gradient), called per task; e.g.
            ``warmnas.hardware.latency_penalty(latency_model, "additive", target_ms=..., weight=...)``
            for the target device.
        parallel_tasks: tasks adapted at once (``vmap`` chunk; lower it to save memory);
            ``"auto"`` = ``meta_batch_size``.
        device: torch device.
        autocast: bf16 autocast (CUDA only).
        cuda_graphs: capture each task-chunk computation (all inner steps and the meta-gradient)
            as a CUDA graph; ``"auto"`` = on CUDA when ``latency_penalty`` is None (pass True
            for a graph-safe penalty). Meta-training always uses the graphs when on (one chunk
            size replays every meta-step). :meth:`evaluate` and :meth:`adapt` use one only for
            a chunk size that occurs at least :data:`GRAPH_MIN_CHUNK_REPEATS` (4) times in the
            call (:func:`graphed_chunk_sizes`; a capture costs about three eager runs of the
            chunk), so a single task or a few chunks run eagerly, and their graphs are freed
            when the call returns. A capture that fails or disagrees with the eager result
            falls back to eager (logged).
        eval_every: every so many meta-steps score ``eval_tasks`` tasks of ``valid_tasks``
            (:meth:`fit`) into the history; None = only at the end when ``valid_tasks`` given.
        eval_tasks: tasks per evaluation.
        checkpoint_dir: a folder for checkpoints (alphas ``.npz``, weights ``.pt`` state dict,
            genotype and config JSON), written every ``checkpoint_every`` meta-steps and at the
            end.
        checkpoint_every: meta-steps between checkpoints (None: only at the end).
        db: a :class:`~warmnas.metadb.MetaDatabase` (or URL) where each checkpoint is also
            stored as a NAS record of task ``db_task``.
        db_task: the task id of those records (default ``"metanas/<task distribution name>"``).
        max_time_s: wall-time budget of meta-training (stops after the step that exceeds it;
            ``stopped_early_`` is set).
        callback: ``f(record, metanas)`` after each logged meta-step.
        log_every: meta-steps between history records.
        random_state: seed of everything random (weights, alphas, tasks).
        progress: tqdm bar; None = only on a terminal.

    Attributes (after fit):
        model_: the meta-learned network (an ``nn.Module`` holding ``w`` and alphas).
        meta_alphas_: the meta-learned alpha logits (CPU float32; empty for fixed archs).
        genotype_: the architecture derived from ``meta_alphas_`` (None for fixed archs).
        history_: records (meta-step, train query accuracy/loss, valid accuracy, seconds).
        n_meta_steps_: meta-steps run; fit_time_s_: wall time; stopped_early_: budget hit.
        cuda_graphs_active_: whether meta-training replayed CUDA graphs (False on CPU, or after
            a failed / mismatching capture fell back to eager).
        n_way_, image_shape_: the task format the model was built for.
    """

    def __init__(self, space: str = "darts", *, algorithm: str = "reptile",
                 model: str | nn.Module | None = None, C: int = 16, layers: int = 4,
                 init_alpha: Mapping[str, Any] | str | None = None, learn_alpha: bool = True,
                 meta_steps: int = 1000, meta_batch_size: int = 10, inner_steps: int = 5,
                 adapt_steps: int = 20, inner_optimizer: str = "adam", inner_lr: float = 5e-3,
                 inner_arch_lr: float = 5e-3, inner_betas: tuple[float, float] = (0.0, 0.999),
                 inner_momentum: float = 0.9, inner_weight_decay: float = 0.0,
                 inner_grad_clip: float | None = 5.0, inner_batch_size: int | None = None,
                 arch_batch: str = "support", adapt_alpha: bool = True,
                 meta_optimizer: str = "sgd", meta_lr: float = 1.0, meta_arch_lr: float = 0.6,
                 meta_lr_schedule: str = "constant", arch_warmup_steps: int = 0,
                 latency_penalty: LatencyPenalty | None = None,
                 parallel_tasks: int | str = "auto", device: str | torch.device = "cpu",
                 autocast: bool = False, cuda_graphs: bool | str = "auto", eval_every: int | None = None, eval_tasks: int = 50,
                 checkpoint_dir: str | os.PathLike[str] | None = None,
                 checkpoint_every: int | None = None, db: Any = None, db_task: str | None = None,
                 max_time_s: float | None = None,
                 callback: Callable[[dict[str, Any], MetaNAS], None] | None = None,
                 log_every: int = 10, random_state: RandomState = None,
                 progress: bool | None = None) -> None:
        self.space = space
        self.algorithm = algorithm
        self.model = model
        self.C = C
        self.layers = layers
        self.init_alpha = init_alpha
        self.learn_alpha = learn_alpha
        self.meta_steps = meta_steps
        self.meta_batch_size = meta_batch_size
        self.inner_steps = inner_steps
        self.adapt_steps = adapt_steps
        self.inner_optimizer = inner_optimizer
        self.inner_lr = inner_lr
        self.inner_arch_lr = inner_arch_lr
        self.inner_betas = inner_betas
        self.inner_momentum = inner_momentum
        self.inner_weight_decay = inner_weight_decay
        self.inner_grad_clip = inner_grad_clip
        self.inner_batch_size = inner_batch_size
        self.arch_batch = arch_batch
        self.adapt_alpha = adapt_alpha
        self.meta_optimizer = meta_optimizer
        self.meta_lr = meta_lr
        self.meta_arch_lr = meta_arch_lr
        self.meta_lr_schedule = meta_lr_schedule
        self.arch_warmup_steps = arch_warmup_steps
        self.latency_penalty = latency_penalty
        self.parallel_tasks = parallel_tasks
        self.device = device
        self.autocast = autocast
        self.cuda_graphs = cuda_graphs
        self.eval_every = eval_every
        self.eval_tasks = eval_tasks
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_every = checkpoint_every
        self.db = db
        self.db_task = db_task
        self.max_time_s = max_time_s
        self.callback = callback
        self.log_every = log_every
        self.random_state = random_state
        self.progress = progress

    # ------------------------------------------------------------------ validation
    def _check_params(self) -> dict[str, Any]:
        if self.algorithm not in ALGORITHMS:
            raise InputError(f"algorithm must be one of {ALGORITHMS}, got {self.algorithm!r}")
        if self.model is not None and not isinstance(self.model, nn.Module) \
                and self.model != "conv4":
            raise InputError(f"model must be None (supernet), 'conv4' or an nn.Module, got "
                             f"{self.model!r}")
        space = get_space(self.space) if self.model is None else None
        _check_int(self.C, "C")
        _check_int(self.layers, "layers")
        _check_int(self.meta_steps, "meta_steps", low=0)
        _check_int(self.meta_batch_size, "meta_batch_size")
        _check_int(self.inner_steps, "inner_steps", low=0)
        _check_int(self.adapt_steps, "adapt_steps", low=0)
        _check_int(self.arch_warmup_steps, "arch_warmup_steps", low=0)
        _check_int(self.eval_tasks, "eval_tasks")
        _check_int(self.log_every, "log_every")
        for name in ("eval_every", "checkpoint_every", "inner_batch_size"):
            if getattr(self, name) is not None:
                _check_int(getattr(self, name), name)
        for name in ("inner_lr", "inner_arch_lr", "meta_lr", "meta_arch_lr",
                     "inner_momentum", "inner_weight_decay"):
            _check_number(getattr(self, name), name)
        if self.inner_grad_clip is not None:
            _check_number(self.inner_grad_clip, "inner_grad_clip", strict=True)
        if self.max_time_s is not None:
            _check_number(self.max_time_s, "max_time_s", strict=True)
        if self.inner_optimizer not in ("adam", "sgd"):
            raise InputError(f"inner_optimizer must be 'adam' or 'sgd', got "
                             f"{self.inner_optimizer!r}")
        if self.meta_optimizer not in ("adam", "sgd"):
            raise InputError(f"meta_optimizer must be 'adam' or 'sgd', got "
                             f"{self.meta_optimizer!r}")
        if self.meta_lr_schedule not in ("constant", "linear", "cosine"):
            raise InputError(f"meta_lr_schedule must be 'constant', 'linear' or 'cosine', got "
                             f"{self.meta_lr_schedule!r}")
        if self.arch_batch not in ("support", "split"):
            raise InputError(f"arch_batch must be 'support' or 'split', got {self.arch_batch!r}")
        if self.arch_batch == "split" and self.inner_batch_size is not None:
            raise InputError("inner_batch_size works with arch_batch='support' only; pass "
                             "inner_batch_size=None with arch_batch='split'")
        if (not isinstance(self.inner_betas, (tuple, list)) or len(self.inner_betas) != 2
                or not all(0.0 <= float(b) < 1.0 for b in self.inner_betas)):
            raise InputError(f"inner_betas must be two numbers in [0, 1), got {self.inner_betas!r}")
        if self.latency_penalty is not None and not callable(self.latency_penalty):
            raise InputTypeError("latency_penalty must be a callable f(ce_loss, alphas) -> loss")
        if self.callback is not None and not callable(self.callback):
            raise InputTypeError("callback must be a callable f(record, metanas)")
        for name in ("learn_alpha", "adapt_alpha", "autocast"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise InputTypeError(f"{name} must be True or False, got {getattr(self, name)!r}")
        device = resolve_device(self.device)
        par = self.parallel_tasks
        if par == "auto":
            par = self.meta_batch_size
        par = _check_int(par, "parallel_tasks")
        if self.cuda_graphs not in ("auto", True, False):
            raise InputError(f"cuda_graphs must be True, False or 'auto', got {self.cuda_graphs!r}")
        return {"space": space, "device": device, "parallel": par}

    # ------------------------------------------------------------------ model
    def _build(self, n_way: int, image_shape: tuple[int, int, int], seed: int) -> nn.Module:
        C_img = image_shape[0]
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            if self.model is None:
                from warmnas.nas.supernet import build_supernet

                init = self.init_alpha
                if isinstance(init, str):
                    if init != "uniform":
                        raise InputError(f"init_alpha must be a dict of logits, 'uniform' or "
                                         f"None, got {init!r}")
                    init = {k: np.zeros(s, dtype=np.float32)
                            for k, s in get_space(self.space).alpha_shapes().items()}
                net: nn.Module = build_supernet(self.space, C=self.C, layers=self.layers,
                                                num_classes=n_way, in_channels=C_img,
                                                init_alpha=init, random_state=seed)
            elif self.model == "conv4":
                net = conv4(C_img, n_way)
            else:
                import copy

                assert isinstance(self.model, nn.Module)
                net = copy.deepcopy(self.model)
        _use_batch_stats(net)
        return net

    def _check_image_size(self, image_shape: tuple[int, int, int]) -> None:
        """The supernet halves H and W at each reduction: refuse sizes it cannot halve."""
        if self.model is not None:
            return
        _, H, W = image_shape
        name = get_space(self.space).name
        if name == "darts":
            from warmnas.nas.ops import darts_reduction_cells

            m = 2 ** len(darts_reduction_cells(int(self.layers)))
        else:
            m = 4
        if H % m or W % m:
            raise InputError(f"the tasks have {H}x{W} images, but the {name} supernet "
                             f"(layers={self.layers}) halves them at each reduction and needs H "
                             f"and W divisible by {m}; draw tasks of another size (e.g. "
                             f"size={max(m, H - H % m)})")

    def _check_model_output(self, model: nn.Module, device: torch.device) -> None:
        """A custom ``model`` must map the task images to ``n_way`` logits."""
        import copy

        x = torch.zeros((2, *self.image_shape_), device=device)
        try:
            with torch.no_grad():
                out = copy.deepcopy(model)(x)  # a copy: the forward may touch BN statistics
        except Exception as exc:  # the user's module may fail in any way
            raise InputError(f"model cannot classify the task images of shape "
                             f"{self.image_shape_} (C, H, W): {type(exc).__name__}: {exc}"
                             ) from exc
        if not isinstance(out, torch.Tensor) or tuple(out.shape) != (2, self.n_way_):
            got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            n = got[-1] if isinstance(got, tuple) and got else got
            raise InputError(f"model outputs {n} logits per image (output {got} for 2 images), "
                             f"but the tasks are n_way={self.n_way_}; give it a classifier "
                             f"with {self.n_way_} outputs")

    def _model_info(self) -> dict[str, Any]:
        if self.model is None:
            return {"kind": "supernet", "space": get_space(self.space).name, "C": self.C,
                    "layers": self.layers}
        if self.model == "conv4":
            return {"kind": "conv4"}
        return {"kind": "custom", "class": type(self.model).__name__}

    # ------------------------------------------------------------------ fit
    def fit(self, tasks: TaskDistribution, valid_tasks: TaskDistribution | None = None
            ) -> MetaNAS:
        """Meta-train on ``tasks``.

        Args:
            tasks: the meta-training task distribution.
            valid_tasks: meta-validation tasks (e.g. held-out alphabets), scored every
                ``eval_every`` meta-steps and at the end.

        Returns:
            self.

        Raises:
            InputError / InputTypeError: invalid settings or distributions.
        """
        cfg = self._check_params()
        if not isinstance(tasks, TaskDistribution):
            raise InputTypeError(f"tasks must be a TaskDistribution, got {type(tasks).__name__}")
        if valid_tasks is not None and not isinstance(valid_tasks, TaskDistribution):
            raise InputTypeError(f"valid_tasks must be a TaskDistribution, got "
                                 f"{type(valid_tasks).__name__}")
        if valid_tasks is not None and (valid_tasks.n_way != tasks.n_way
                                        or valid_tasks.image_shape != tasks.image_shape):
            raise InputError("valid_tasks must have the n_way and image shape of tasks")
        if self.arch_batch == "split" and tasks.k_shot < 2:
            raise InputError("arch_batch='split' needs k_shot >= 2; use arch_batch='support'")
        device = cfg["device"]
        if not _same_device(tasks.device, device):
            raise InputError(f"tasks live on {tasks.device} but device={device}; build the task "
                             f"distribution with device={str(device)!r}")
        rng = check_random_state(self.random_state)
        seeds = {k: derive_seed(rng) for k in ("model", "tasks", "inner", "eval")}
        self.n_way_ = int(tasks.n_way)
        C_img, H, W = (int(v) for v in tasks.image_shape)
        self.image_shape_: tuple[int, int, int] = (C_img, H, W)
        self.task_info_ = tasks.describe()
        self._check_image_size(self.image_shape_)
        model = self._build(self.n_way_, self.image_shape_, seeds["model"]).to(device)
        if isinstance(self.model, nn.Module):
            self._check_model_output(model, device)
        if self.checkpoint_dir is not None:  # before any work, not at the first checkpoint
            _make_folder(Path(self.checkpoint_dir))
        self.model_ = model
        self._fnet = FunctionalNet(model)
        if self.db is not None and self._fnet.has_alphas:  # the database too, before any work
            from warmnas.metadb import MetaDatabase

            database = self.db if isinstance(self.db, MetaDatabase) else MetaDatabase(self.db)
            if database.read_only:
                raise StorageError(f"db {database.url} is read-only, so the NAS records cannot "
                                   "be stored; pass db= a writable MetaDatabase or URL (e.g. "
                                   "'sqlite:///my-meta.db')")
        self.history_: list[dict[str, Any]] = []
        self.n_meta_steps_ = 0
        self.stopped_early_ = False
        self._eval_seed = seeds["eval"]
        gen = torch_generator(seeds["tasks"], device)
        cfg["generator"] = torch_generator(seeds["inner"], device)
        cfg["graphs"] = self._graphs_on(device)
        self.__dict__.pop("_runners", None)
        start = time.perf_counter()
        with _backend_flags(device):
            self._meta_train(tasks, valid_tasks, cfg, gen, start)
        self.fit_time_s_ = time.perf_counter() - start
        runners = self.__dict__.pop("_runners", {})  # free captured graphs and their memory
        self.cuda_graphs_active_ = any(r.active for r in runners.values())
        if valid_tasks is not None and (not self.history_
                                        or "valid_accuracy" not in self.history_[-1]):
            res = self.evaluate(valid_tasks, n_tasks=self.eval_tasks, random_state=seeds["eval"])
            self.history_.append({"meta_step": self.n_meta_steps_,
                                  "valid_accuracy": res["accuracy"],
                                  "valid_ci95": res["ci95"],
                                  "seconds": time.perf_counter() - start})
        self._checkpoint(final=True)
        return self

    def _meta_params(self) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
        named = dict(self.model_.named_parameters())
        weights = [named[n] for n in self._fnet.weight_names]
        alphas = [named[f"alphas.{k}"] for k in self._fnet.alpha_keys]
        return weights, alphas

    def _inner_opts(self) -> tuple[InnerOptimizer, InnerOptimizer]:
        betas = (float(self.inner_betas[0]), float(self.inner_betas[1]))
        w = InnerOptimizer(self.inner_optimizer, self.inner_lr, betas=betas,
                           momentum=self.inner_momentum, weight_decay=self.inner_weight_decay)
        a = InnerOptimizer(self.inner_optimizer, self.inner_arch_lr, betas=betas,
                           momentum=self.inner_momentum)
        return w, a

    def _runner(self, mode: str, n: int, steps: int, arch_on: bool, cfg: dict[str, Any]
                ) -> Callable[[dict[str, Any]], dict[str, Any]]:
        """The meta-training task-chunk function for these static settings (CUDA-graphed when
        ``cfg["graphs"]``), kept in ``self._runners`` for the rest of the fit."""
        key = (mode, n, steps, arch_on)
        cache: dict[Any, GraphedCall] = self.__dict__.setdefault("_runners", {})
        if key not in cache:
            cache[key] = self._make_runner(mode, steps, arch_on, bool(cfg["graphs"]))
        return cache[key]

    def _make_runner(self, mode: str, steps: int, arch_on: bool, graphs: bool) -> GraphedCall:
        """A task-chunk function (``run_tasks`` with this model's settings); ``graphs``: capture
        it as a CUDA graph on its first CUDA call."""
        w_opt, a_opt = self._inner_opts()
        fnet = self._fnet

        def fn(inp: dict[str, Any]) -> dict[str, Any]:
            return run_tasks(fnet, inp["w0"], inp["a0"], inp["xs"], inp["ys"], inp["xq"],
                             inp["yq"], mode=mode, steps=steps, w_opt=w_opt,
                             a_opt=a_opt if arch_on else None, n_way=self.n_way_,
                             arch_batch=self.arch_batch, batch_size=self.inner_batch_size,
                             generator=None,
                             latency_penalty=self.latency_penalty,
                             grad_clip=self.inner_grad_clip, autocast=bool(self.autocast))

        return GraphedCall(fn, enabled=graphs)

    def _meta_train(self, tasks: TaskDistribution, valid: TaskDistribution | None,
                    cfg: dict[str, Any], gen: torch.Generator, start: float) -> None:
        weights_p, alphas_p = self._meta_params()
        learn_alpha = bool(self.learn_alpha) and bool(alphas_p)
        groups: list[dict[str, Any]] = [{"params": weights_p, "lr": float(self.meta_lr)}]
        if learn_alpha:
            groups.append({"params": alphas_p, "lr": float(self.meta_arch_lr)})
        if self.meta_optimizer == "sgd":
            meta_opt: torch.optim.Optimizer = torch.optim.SGD(groups, lr=float(self.meta_lr))
        else:
            meta_opt = torch.optim.Adam(groups, lr=float(self.meta_lr))
        self.meta_optimizer_ = meta_opt
        fnet = self._fnet
        device = cfg["device"]
        T, par = int(self.meta_batch_size), int(cfg["parallel"])
        total = int(self.meta_steps)
        bar = _progress(self.progress, total, "meta-train")
        stats = torch.zeros(3, dtype=torch.float64, device=device)  # acc sum, loss sum, count
        t_log = time.perf_counter()
        steps_since_log = 0
        try:
            for step in range(total):
                arch_on = learn_alpha and step >= self.arch_warmup_steps
                meta_opt.param_groups[0]["lr"] = _schedule(self.meta_lr_schedule,
                                                           float(self.meta_lr), step, total)
                if learn_alpha:
                    meta_opt.param_groups[1]["lr"] = _schedule(
                        self.meta_lr_schedule, float(self.meta_arch_lr),
                        max(0, step - self.arch_warmup_steps),
                        max(1, total - self.arch_warmup_steps))
                batch = tasks.sample_batch(T, gen)
                w0, a0 = fnet.split(self.model_)
                gw = {k: torch.zeros_like(v) for k, v in w0.items()}
                ga = {k: torch.zeros_like(v) for k, v in a0.items()}
                for lo in range(0, T, par):
                    chunk = batch[lo:lo + par]
                    run = self._runner(self.algorithm, len(chunk), int(self.inner_steps),
                                       arch_on, cfg)
                    xs, ys = self._shuffled(chunk, cfg)
                    out = run({"w0": w0, "a0": a0, "xs": xs, "ys": ys, "xq": chunk.query_x,
                               "yq": chunk.query_y})
                    with torch.no_grad():
                        torch._foreach_add_(list(gw.values()), [out["dw"][k] for k in gw])
                        if arch_on and ga:
                            torch._foreach_add_(list(ga.values()), [out["da"][k] for k in ga])
                        stats[0] += out["acc"].sum()
                        stats[1] += out["loss"].sum()
                        stats[2] += len(chunk)
                meta_opt.zero_grad(set_to_none=True)
                for p, k in zip(weights_p, fnet.weight_names):
                    p.grad = gw[k] / T
                if arch_on:
                    for p, k in zip(alphas_p, fnet.alpha_keys):
                        p.grad = ga[k] / T
                meta_opt.step()
                self.n_meta_steps_ = step + 1
                steps_since_log += 1
                if bar is not None:
                    bar.update(1)
                last = step + 1 == total
                over = (self.max_time_s is not None
                        and time.perf_counter() - start > float(self.max_time_s))
                if (step + 1) % self.log_every == 0 or last or over:
                    s_acc, s_loss, s_n = stats.tolist()
                    now = time.perf_counter()
                    record: dict[str, Any] = {
                        "meta_step": step + 1,
                        "train_query_accuracy": s_acc / max(s_n, 1.0),
                        "train_query_loss": s_loss / max(s_n, 1.0),
                        "arch_on": arch_on,
                        "seconds": now - start,
                        "meta_steps_per_s": steps_since_log / max(now - t_log, 1e-9),
                    }
                    if fnet.has_alphas:
                        record["genotype"] = architecture_to_dict(self._derive())
                    if (valid is not None and self.eval_every is not None
                            and ((step + 1) % self.eval_every == 0 or last or over)):
                        res_v = self.evaluate(valid, n_tasks=self.eval_tasks,
                                              random_state=self._eval_seed)
                        record["valid_accuracy"] = res_v["accuracy"]
                        record["valid_ci95"] = res_v["ci95"]
                    self.history_.append(record)
                    logger.info("meta-step %d/%d train query acc %.4f loss %.4f%s", step + 1,
                                total, record["train_query_accuracy"],
                                record["train_query_loss"],
                                f" valid acc {record['valid_accuracy']:.4f}"
                                if "valid_accuracy" in record else "")
                    if bar is not None:
                        bar.set_postfix(acc=f"{record['train_query_accuracy']:.3f}")
                    if self.callback is not None:
                        self.callback(record, self)
                    stats.zero_()
                    steps_since_log = 0
                    t_log = time.perf_counter()
                if (self.checkpoint_every is not None and (step + 1) % self.checkpoint_every == 0
                        and not last):
                    self._checkpoint(final=False)
                if over and not last:
                    logger.warning("time budget of %.0fs reached after %d of %d meta-steps",
                                   float(self.max_time_s or 0), step + 1, total)
                    self.stopped_early_ = True
                    break
        finally:
            if bar is not None:
                bar.close()

    # ------------------------------------------------------------------ results
    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError("this MetaNAS is not fitted yet; call fit(tasks) or "
                                 "MetaNAS.load(path) first")

    def _derive(self, alphas: Mapping[str, torch.Tensor] | None = None
                ) -> Genotype | str | FBNetArch:
        a = self.meta_alphas_ if alphas is None else alphas
        return derive_architecture(self._space_name(), a)

    def _space_name(self) -> str:
        space = getattr(self.model_, "space", None)
        if space is None:
            raise InputError("this model has no search space (a fixed architecture)")
        return str(space.name)

    @property
    def meta_alphas_(self) -> dict[str, torch.Tensor]:
        """The meta-learned alpha logits (CPU float32 copies; empty for fixed architectures)."""
        self._check_fitted()
        _, alphas = self._fnet.split(self.model_)
        return {k: v.float().cpu() for k, v in alphas.items()}

    @property
    def genotype_(self) -> Genotype | str | FBNetArch | None:
        """The architecture derived from the meta-learned alphas (None for fixed archs)."""
        self._check_fitted()
        return self._derive() if self._fnet.has_alphas else None

    def alpha_prior(self) -> dict[str, torch.Tensor]:
        """The meta-learned alphas as a DARTS warm start (``DARTSSearch(init_alpha=...)``).

        Raises:
            InputError: a fixed-architecture model has no alphas.
        """
        self._check_fitted()
        if not self._fnet.has_alphas:
            raise InputError("this MetaNAS meta-learned a fixed architecture (no alphas); "
                             "use model=None (a supernet) for an alpha prior")
        return self.meta_alphas_

    # ------------------------------------------------------------------ adaptation
    def _as_batch(self, task: Task | TaskBatch) -> TaskBatch:
        batch = stack_tasks(task)
        if batch.n_way != self.n_way_:
            raise InputError(
                f"the model was meta-trained for {self.n_way_}-way tasks, the task is "
                f"{batch.n_way}-way; draw tasks with n_way={self.n_way_}"
            )
        shape = tuple(int(v) for v in batch.support_x.shape[2:])
        if shape != self.image_shape_:
            raise InputError(f"task images are {shape}, the model expects {self.image_shape_} "
                             "(C, H, W)")
        device = next(self.model_.parameters()).device
        return batch.to(device)

    def _adapt_batch(self, batch: TaskBatch, steps: int, generator: torch.Generator | None
                     ) -> tuple[Params, torch.Tensor, torch.Tensor, bool]:
        """Adapt and score every task of ``batch`` in chunks of ``parallel_tasks``.

        Returns:
            ``(alphas {key: (n_tasks, n_edges, n_ops)}, accuracies (n_tasks,), losses
            (n_tasks,), whether a chunk replayed a CUDA graph)``. The chunk functions live
            only for this call (graphs for the sizes of :func:`graphed_chunk_sizes`), so the
            meta-training ones in ``self._runners`` are left alone.
        """
        fnet = self._fnet
        w0, a0 = fnet.split(self.model_)
        learn_alpha = bool(self.learn_alpha) and bool(self.adapt_alpha) and fnet.has_alphas
        cfg = self._run_cfg(generator)
        par = int(cfg["parallel"])
        graphed = graphed_chunk_sizes(len(batch), par) if cfg["graphs"] else frozenset()
        runners: dict[int, GraphedCall] = {}
        alphas_out: dict[str, list[torch.Tensor]] = {k: [] for k in a0}
        accs, losses = [], []
        for lo in range(0, len(batch), par):
            chunk = batch[lo:lo + par]
            n = len(chunk)
            if n not in runners:
                runners[n] = self._make_runner("score", steps, learn_alpha, n in graphed)
            run = runners[n]
            xs, ys = self._shuffled(chunk, cfg)
            out = run({"w0": w0, "a0": a0, "xs": xs, "ys": ys, "xq": chunk.query_x,
                       "yq": chunk.query_y})
            accs.append(out["acc"].detach().float().cpu())
            losses.append(out["loss"].detach().float().cpu())
            for k in alphas_out:
                alphas_out[k].append(out["alphas"][k].float().cpu())
        alphas = {k: torch.cat(v) for k, v in alphas_out.items()}
        graphs_active = any(r.active for r in runners.values())
        return alphas, torch.cat(accs), torch.cat(losses), graphs_active

    def _shuffled(self, chunk: TaskBatch, cfg: dict[str, Any]
                  ) -> tuple[torch.Tensor, torch.Tensor]:
        """The support sets in random order when the inner loop takes minibatches (drawn here,
        outside any CUDA graph); as drawn (class-major) otherwise."""
        if self.inner_batch_size is None or self.inner_batch_size >= chunk.support_y.shape[1]:
            return chunk.support_x, chunk.support_y
        return shuffle_sets(chunk.support_x, chunk.support_y, cfg.get("generator"))

    def _run_cfg(self, generator: torch.Generator | None = None) -> dict[str, Any]:
        device = next(self.model_.parameters()).device
        par = self.parallel_tasks
        if par == "auto":
            par = int(self.meta_batch_size)
        return {"device": device, "parallel": int(par), "graphs": self._graphs_on(device),
                "generator": generator}

    def _graphs_on(self, device: torch.device) -> bool:
        value = self.cuda_graphs
        if value == "auto":
            return device.type == "cuda" and self.latency_penalty is None
        return bool(value) and device.type == "cuda"

    def adapt(self, task: Task, steps: int | None = None, random_state: RandomState = 0
              ) -> AdaptResult:
        """Adapt the meta-learned weights and alphas to ``task`` and score its query set.

        Args:
            task: an N-way task (N as in meta-training; same image shape).
            steps: task-level DARTS iterations (default ``adapt_steps``).
            random_state: seed of the minibatch draws (only used with ``inner_batch_size``).

        Returns:
            An :class:`AdaptResult` (genotype from the adapted alphas, query accuracy).

        Raises:
            NotFittedError: before fit/load. InputError: a task of another format.
        """
        self._check_fitted()
        if not isinstance(task, Task):
            raise InputTypeError(f"task must be a Task, got {type(task).__name__}; use "
                                 "evaluate() for many tasks")
        steps = int(self.adapt_steps) if steps is None else _check_int(steps, "steps", low=0)
        batch = self._as_batch(task)
        gen = torch_generator(random_state, batch.support_x.device)
        alphas, acc, loss, _ = self._adapt_batch(batch, steps, gen)
        one = {k: v[0] for k, v in alphas.items()}
        genotype = self._derive(one) if one else None
        return AdaptResult(genotype, float(acc[0]), float(loss[0]), one, steps)

    def evaluate(self, tasks: TaskDistribution | TaskBatch, n_tasks: int = 100,
                 steps: int | None = None, random_state: RandomState = 0) -> dict[str, Any]:
        """Mean query accuracy after adaptation over ``n_tasks`` tasks.

        The tasks are drawn with ``random_state``, so two models evaluated with the same seed on
        the same distribution see the same tasks.

        Returns:
            ``{"accuracy", "ci95" (1.96 standard errors), "loss", "n_tasks", "steps",
            "accuracies" (per task), "genotypes" (most common derived architectures: list of
            ``[architecture dict, count]``), "cuda_graphs_active" (whether a chunk of this
            call replayed a CUDA graph; see ``cuda_graphs``)}``.
        """
        self._check_fitted()
        steps = int(self.adapt_steps) if steps is None else _check_int(steps, "steps", low=0)
        if isinstance(tasks, TaskBatch):
            batch = self._as_batch(tasks)
        elif isinstance(tasks, TaskDistribution):
            n_tasks = _check_int(n_tasks, "n_tasks")
            gen = torch_generator(random_state, tasks.device)
            batch = self._as_batch(tasks.sample_batch(n_tasks, gen))
        else:
            raise InputTypeError(f"tasks must be a TaskDistribution or TaskBatch, got "
                                 f"{type(tasks).__name__}")
        gen2 = torch_generator(random_state, batch.support_x.device)
        alphas, acc, loss, graphs = self._adapt_batch(batch, steps, gen2)
        accs = acc.double().cpu().numpy()
        genos: Counter[str] = Counter()
        if alphas:
            for i in range(len(accs)):
                arch = self._derive({k: v[i] for k, v in alphas.items()})
                genos[json.dumps(architecture_to_dict(arch), sort_keys=True)] += 1
        n = len(accs)
        return {
            "accuracy": float(accs.mean()),
            "ci95": float(1.96 * accs.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan"),
            "loss": float(loss.double().mean()),
            "n_tasks": n,
            "steps": steps,
            "accuracies": accs.tolist(),
            "genotypes": [[json.loads(g), c] for g, c in genos.most_common(5)],
            "cuda_graphs_active": graphs,
        }

    # ------------------------------------------------------------------ persistence
    def _params_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in ("space", "algorithm", "C", "layers", "learn_alpha", "meta_steps",
                     "meta_batch_size", "inner_steps", "adapt_steps", "inner_optimizer",
                     "inner_lr", "inner_arch_lr", "inner_betas", "inner_momentum",
                     "inner_weight_decay", "inner_grad_clip", "inner_batch_size", "arch_batch",
                     "adapt_alpha", "meta_optimizer", "meta_lr", "meta_arch_lr",
                     "meta_lr_schedule", "arch_warmup_steps", "eval_tasks", "log_every"):
            value = getattr(self, name)
            out[name] = list(value) if isinstance(value, tuple) else value
        return out

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write a checkpoint folder: ``alphas.npz`` (plain float32 arrays), ``weights.pt``
        (a state dict of tensors, loadable with ``weights_only=True``), ``genotype.json`` and
        ``config.json`` (parameters, task format, history). Files are replaced atomically;
        ``config.json`` is written last.

        Returns:
            The folder.
        """
        self._check_fitted()
        folder = Path(path)
        _make_folder(folder)
        named = dict(self.model_.named_parameters())
        weights = {n: named[n].detach().cpu().clone() for n in self._fnet.weight_names}
        atomic_write(folder / "weights.pt", lambda fh: torch.save(weights, fh))
        alphas = {k: v.numpy().astype(np.float32) for k, v in self.meta_alphas_.items()}
        atomic_write(folder / "alphas.npz", lambda fh: np.savez(fh, **alphas))  # type: ignore[arg-type]
        geno = self.genotype_
        _atomic_text(folder / "genotype.json",
                     json.dumps(architecture_to_dict(geno) if geno is not None else None,
                                indent=1))
        config = {
            "format": CHECKPOINT_FORMAT,
            "version": CHECKPOINT_VERSION,
            "model": self._model_info(),
            "params": self._params_json(),
            "n_way": self.n_way_,
            "image_shape": list(self.image_shape_),
            "task_distribution": getattr(self, "task_info_", {}),
            "n_meta_steps": self.n_meta_steps_,
            "stopped_early": self.stopped_early_,
            "history": self.history_,
            "torch_version": torch.__version__,
        }
        _atomic_text(folder / "config.json", json.dumps(config, indent=1, default=_json_default))
        return folder

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, device: str | torch.device = "cpu",
             model: nn.Module | None = None, **overrides: Any) -> MetaNAS:
        """Read a checkpoint written by :meth:`save` (or during :meth:`fit`).

        Args:
            path: the checkpoint folder.
            device: where to put the model.
            model: the network, for checkpoints of a custom ``nn.Module``.
            **overrides: constructor arguments to change (e.g. ``adapt_steps``,
                ``latency_penalty``).

        Raises:
            MissingDataError: no checkpoint there. CorruptDatabaseError: unreadable or
            inconsistent files. SchemaVersionError: a newer checkpoint format.
        """
        folder = Path(path)
        cfg_path = folder / "config.json"
        if not cfg_path.is_file():
            raise MissingDataError(f"no MetaNAS checkpoint at {folder} (config.json missing); "
                                   "pass the folder written by MetaNAS.save or fit")
        try:
            config = json.loads(cfg_path.read_text())
        except (OSError, ValueError) as exc:
            raise CorruptDatabaseError(f"cannot read {cfg_path}: {exc}") from exc
        if not isinstance(config, dict) or config.get("format") != CHECKPOINT_FORMAT:
            fmt = config.get("format") if isinstance(config, dict) else type(config).__name__
            raise CorruptDatabaseError(f"{cfg_path} is damaged: not a MetaNAS checkpoint "
                                       f"(format {fmt!r})")
        try:
            version = int(config.get("version", 0))
            info = config["model"]
            kind = info["kind"]
            if kind not in ("supernet", "conv4", "custom"):
                raise ValueError(f"unknown model kind {kind!r}")
            params = dict(config["params"])
            if not all(isinstance(k, str) for k in params):
                raise ValueError("params must be a dict of names")
            unknown = sorted(set(params) - set(inspect.signature(cls).parameters))
            if unknown:
                raise ValueError(f"unknown MetaNAS parameters {unknown}")
            n_way = int(config["n_way"])
            C_img, H, W = (int(v) for v in config["image_shape"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CorruptDatabaseError(
                f"{cfg_path} is damaged ({type(exc).__name__}: {exc}); restore the checkpoint "
                "folder from a copy or meta-train again") from exc
        if version > CHECKPOINT_VERSION:
            raise SchemaVersionError(
                f"checkpoint version {config.get('version')} is newer than this warmnas reads "
                f"({CHECKPOINT_VERSION}); upgrade warmnas")
        if "inner_betas" in params:
            params["inner_betas"] = tuple(params["inner_betas"])
        if kind == "custom":
            if model is None:
                raise InputError(f"the checkpoint holds a custom model ({info.get('class')}); "
                                 "pass model= an instance of it")
            params["model"] = model
        elif kind == "conv4":
            params["model"] = "conv4"
        params.update(overrides)
        params["device"] = device
        self = cls(**params)
        self.n_way_ = n_way
        self.image_shape_ = (C_img, H, W)
        self.task_info_ = config.get("task_distribution", {})
        net = self._build(self.n_way_, self.image_shape_, 0)
        try:
            weights = torch.load(folder / "weights.pt", map_location="cpu", weights_only=True)
            with np.load(folder / "alphas.npz", allow_pickle=False) as npz:
                alphas = {k: torch.from_numpy(np.array(npz[k])) for k in npz.files}
        except (OSError, ValueError, RuntimeError, EOFError, KeyError,
                pickle.UnpicklingError) as exc:  # torch.load (weights_only) reports with these
            raise CorruptDatabaseError(f"cannot read the checkpoint files in {folder}: {exc}"
                                       ) from exc
        if not isinstance(weights, dict) or not all(
                isinstance(v, torch.Tensor) and bool(torch.isfinite(v).all())
                for v in [*weights.values(), *alphas.values()]):
            raise CorruptDatabaseError(f"the checkpoint in {folder} holds non-tensor, NaN or inf "
                                       "weights or alphas; restore it from a copy or meta-train "
                                       "again")
        state = dict(weights)
        for k, v in alphas.items():
            state[f"alphas.{k}"] = v
        try:
            missing, unexpected = net.load_state_dict(state, strict=False)
        except RuntimeError as exc:
            raise CorruptDatabaseError(f"the checkpoint in {folder} does not fit its model: "
                                       f"{exc}") from exc
        if [m for m in missing if not m.endswith(("running_mean", "running_var",
                                                  "num_batches_tracked"))] or unexpected:
            raise CorruptDatabaseError(f"the checkpoint in {folder} does not fit its model: "
                                       f"missing {missing}, unexpected {unexpected}")
        self.model_ = net.to(torch.device(device))
        self._fnet = FunctionalNet(self.model_)
        self.history_ = list(config.get("history", []))
        self.n_meta_steps_ = int(config.get("n_meta_steps", 0))
        self.stopped_early_ = bool(config.get("stopped_early", False))
        self.fit_time_s_ = float("nan")
        return self

    def to_database(self, db: Any, task: str, *, meta_features: Mapping[str, float] | None = None,
                    view: str = "image", source: str = "metanas", **meta: Any) -> str:
        """Store the meta-learned alphas and genotype as a NAS record of ``task``.

        Args:
            db: a :class:`~warmnas.metadb.MetaDatabase` or its URL.
            task: the task id (created if missing, as an ``"image"`` task).
            meta_features: the task's meta-features (e.g.
                :func:`warmnas.nas.meta.embedding.image_meta_features`), stored under ``view``
                so :func:`warmnas.nas.meta.prior.alpha_prior` can find it by kNN.
            view: the meta-feature view name.
            source: the record's source.
            **meta: JSON metadata stored with the record.

        Returns:
            The record id.

        Raises:
            InputError: a fixed-architecture model (no alphas).
        """
        self._check_fitted()
        if not self._fnet.has_alphas:
            raise InputError("a fixed-architecture model has no alphas to store")
        from warmnas.metadb import MetaDatabase

        database = db if isinstance(db, MetaDatabase) else MetaDatabase(db)
        database.add_task(task, source=source, task_type="image",
                          meta_features=dict(meta_features) if meta_features else None,
                          view=view, info={"task_distribution": getattr(self, "task_info_", {})})
        alphas = {k: v.numpy().astype(np.float64) for k, v in self.meta_alphas_.items()}
        geno = self.genotype_
        assert geno is not None
        record_meta = {"kind": "meta_alpha", "algorithm": self.algorithm,
                       "meta_steps": self.n_meta_steps_, "n_way": self.n_way_}
        last_valid = [h["valid_accuracy"] for h in self.history_ if "valid_accuracy" in h]
        if last_valid:
            record_meta["valid_accuracy"] = last_valid[-1]
        record_meta.update(meta)
        return database.add_nas_record(task, self._space_name(),
                                       genotype_record(geno), alphas, source=source,
                                       create_task=True, **record_meta)

    def _checkpoint(self, final: bool) -> None:
        if self.checkpoint_dir is not None:
            self.save(self.checkpoint_dir)
        if self.db is not None and self._fnet.has_alphas:
            task = self.db_task or f"metanas/{self.task_info_.get('name', 'tasks')}"
            self.to_database(self.db, task, final=final)


def _same_device(a: torch.device, b: torch.device) -> bool:
    """``cuda`` and ``cuda:<current>`` are the same device."""
    if a.type != b.type:
        return False
    if a.type != "cuda" or a.index == b.index:
        return True
    current = torch.cuda.current_device()
    return (current if a.index is None else a.index) == (current if b.index is None else b.index)


@contextlib.contextmanager
def _backend_flags(device: torch.device) -> Iterator[None]:
    """cuDNN autotuning on CUDA for the duration of a fit (restored afterwards)."""
    saved = torch.backends.cudnn.benchmark
    try:
        if device.type == "cuda":
            torch.backends.cudnn.benchmark = True
        yield
    finally:
        torch.backends.cudnn.benchmark = saved


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, torch.Tensor):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _make_folder(folder: Path) -> None:
    """Create a checkpoint folder (and its parents), or raise a StorageError naming it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"cannot write the MetaNAS checkpoint folder {folder}: {exc}; pass "
                           "checkpoint_dir= a writable folder path (not a file)") from exc


def _atomic_text(path: Path, text: str) -> None:
    atomic_write(path, lambda fh: fh.write(text), binary=False)


def _progress(progress: bool | None, total: int, desc: str) -> Any:
    if progress is False or total <= 0:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover
        return None
    return tqdm(total=total, desc=desc, unit="step", leave=False,
                disable=None if progress is None else False)
