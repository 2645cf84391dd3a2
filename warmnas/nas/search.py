"""Differentiable architecture search: DARTS (first/second order), DrNAS, GDAS and FBNet's
Gumbel-softmax, on the DARTS and NAS-Bench-201 cells and the FBNet macro space.

:class:`DARTSSearch` is an sklearn-style estimator: keyword arguments are stored unchanged in
``__init__``, validated in :meth:`DARTSSearch.fit`, and the results end in ``_``
(``genotype_``, ``alphas_``, ``history_``, ``supernet_``).

Each iteration does, as in DARTS, an architecture step on a search-valid batch (Adam on the
alphas) followed by a weight step on a search-train batch (SGD with momentum, cosine learning
rate, gradient clipping). The mixing weights of the candidate ops depend on ``method``:

* ``"darts"``: ``softmax(alpha)`` (Liu et al. 2019); ``order=2`` uses the unrolled one-step
  approximation with a finite-difference Hessian-vector product.
* ``"drnas"``: a sample from ``Dirichlet(elu(alpha) + 1)`` per step, with pathwise gradients
  (Chen et al. 2021); the L2 penalty on alpha is the arch optimizer's weight decay. Collapse
  resistant: on NAS-Bench-201 DARTS collapses to skip connections (54.30% on CIFAR-10), DrNAS
  finds 94.36%.
* ``"gdas"``: a hard Gumbel-softmax sample (straight-through gradient) with the temperature
  annealed linearly from ``tau_max`` to ``tau_min`` (Dong & Yang 2019).
* ``"gumbel"``: FBNet's soft Gumbel-softmax sample ``softmax((log_softmax(alpha) + g) / tau)``
  (Wu et al. 2019); with ``tau_decay`` the temperature decays exponentially per epoch
  (``tau_max * tau_decay ** epoch``; FBNet: 5.0 and 0.956), else linearly as for GDAS. With
  ``latency_weights="sample"`` the latency penalty prices that same sample (FBNet's ``LAT(a)``;
  :func:`gumbel_logits`) instead of ``softmax(alpha)``.
* ``"proxyless"``: ProxylessNAS' path binarisation (Cai et al. 2019): no mixture at all. The
  weight step samples one op per edge/layer from ``softmax(alpha)`` and runs only that op; the
  architecture step samples two ops per edge/layer (without replacement), runs only those two,
  gates them with a binary gate (1 on one of the pair, drawn from the pair's renormalised
  probabilities) and sets ``dL/d alpha_i = sum_j dL/dg_j p_j (delta_ij - p_i)`` over the pair
  (``p`` = softmax of the pair's two logits), after which the pair's logits are shifted so that
  their total probability is unchanged (the ProxylessNAS code's rescaling). A latency penalty
  on ``softmax(alpha)`` adds its own exact gradient. Needs ``impl="reference"`` on the DARTS
  and NAS-Bench-201 spaces (the batched supernet runs every op of a wave together).

On CUDA the fast path is used by default: the edge-batched supernet, bf16 autocast,
channels-last tensors, device-resident data with device-side augmentation, and both steps
captured as CUDA graphs after a few eager warm-up iterations (static shapes: the last incomplete
batch of an epoch is dropped). Random draws (batches, crops, Dirichlet/Gumbel noise) come from
generators seeded by ``random_state``; nothing is seeded globally.

Long searches can be checkpointed at epoch boundaries (``checkpoint_dir``) and resumed in a new
process (``fit(..., resume_from=...)``, or automatically from ``checkpoint_dir``) with the same
result as an uninterrupted run: the file holds the supernet (weights, BatchNorm statistics,
alphas), both optimizers, the epoch and iteration counters, the history and the states of the
data and noise generators. It is a ``torch.save`` file of tensors and plain values only (loaded
with ``weights_only=True``), written atomically.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F

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
from warmnas.nas._optim import GraphSafeAdam, GraphSafeSGD, clip_grad_norm
from warmnas.nas._penalty import LatencyPenalty, apply_latency_penalty
from warmnas.nas.data import BatchLoader, ImageData, resolve_device, search_split
from warmnas.nas.genotype import Genotype, architecture_to_dict, derive_architecture
from warmnas.nas.spaces import get_space
from warmnas.nas.supernet import Supernet, build_supernet

if TYPE_CHECKING:
    from warmnas.nas.fbnet import FBNetArch

__all__ = ["CHECKPOINT_NAME", "DARTSSearch", "LATENCY_WEIGHTS", "LatencyPenalty", "METHODS",
           "alpha_entropy", "gumbel_logits", "mixing_weights", "proxyless_alpha_grad",
           "proxyless_sample"]

logger = logging.getLogger(__name__)

METHODS = ("darts", "drnas", "gdas", "gumbel", "proxyless")
#: What the latency penalty prices (``DARTSSearch(latency_weights=...)``): ``"softmax"`` =
#: ``E[LAT]`` under ``softmax(alpha)``; ``"sample"`` = FBNet's ``LAT(a)`` under the Gumbel sample.
LATENCY_WEIGHTS = ("softmax", "sample")
CHECKPOINT_NAME = "search_state.pt"
CHECKPOINT_FORMAT = "warmnas.nas.search_state"
CHECKPOINT_VERSION = 1


class _GammaRsample(torch.autograd.Function):
    """Identity on a Gamma(conc) sample ``z`` drawn outside, with the implicit reparameterisation
    gradient ``dz/dconc`` (the gradient ``torch.distributions.Gamma.rsample`` uses). Drawing the
    sample outside lets a captured CUDA graph reuse fresh noise on every replay."""

    @staticmethod
    def forward(ctx: Any, conc: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(conc, z)
        return z.clone()

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        conc, z = ctx.saved_tensors
        return grad * torch._standard_gamma_grad(conc, z), None


def gumbel_logits(alphas: Mapping[str, torch.Tensor], noise: Mapping[str, torch.Tensor],
                  tau: torch.Tensor | float = 1.0) -> dict[str, torch.Tensor]:
    """The logits of FBNet's soft Gumbel-softmax sample: ``(log_softmax(alpha) + g) / tau``.

    Their softmax is the sample ``m`` (``mixing_weights("gumbel", ...)`` is exactly
    ``softmax`` of them), so a latency model's ``expected_latency`` of these logits is FBNet's
    ``LAT(a) = sum_l sum_i m_li LAT(b_li)`` (Wu et al. 2019), differentiable in ``alpha``
    through the sample.

    Args:
        alphas: ``{key: (n_edges, n_ops)}`` logits.
        noise: standard Gumbel draws, same shapes.
        tau: the temperature.

    Returns:
        ``{key: (n_edges, n_ops)}`` tempered, perturbed logits.
    """
    return {k: (torch.log_softmax(a, dim=-1) + noise[k]) / tau for k, a in alphas.items()}


def mixing_weights(method: str, alphas: Mapping[str, torch.Tensor],
                   noise: Mapping[str, torch.Tensor] | None = None,
                   tau: torch.Tensor | float = 1.0) -> dict[str, torch.Tensor]:
    """Per-edge op weights from alpha logits.

    Args:
        method: ``"darts"`` (softmax), ``"drnas"`` (Dirichlet sample; ``noise`` holds
            ``Gamma(elu(alpha) + 1)`` draws), ``"gdas"`` (hard Gumbel sample; ``noise`` holds
            standard Gumbel draws) or ``"gumbel"`` (FBNet's soft Gumbel-softmax sample, same
            noise).
        alphas: ``{key: (n_edges, n_ops)}`` logits.
        noise: the random draws for ``"drnas"`` / ``"gdas"``, same shapes as ``alphas``.
        tau: Gumbel temperature (``"gdas"``, ``"gumbel"``).

    Returns:
        ``{key: (n_edges, n_ops)}`` weights, rows summing to 1, differentiable w.r.t. alphas.

    Raises:
        InputError: an unknown method, or ``"proxyless"`` (it samples paths instead; see
            :func:`proxyless_sample`).
    """
    out: dict[str, torch.Tensor] = {}
    for key, a in alphas.items():
        if method == "darts":
            out[key] = torch.softmax(a, dim=-1)
        elif method == "drnas":
            assert noise is not None
            z = _GammaRsample.apply(F.elu(a) + 1.0, noise[key])
            out[key] = z / z.sum(dim=-1, keepdim=True)
        elif method == "gdas":
            assert noise is not None
            probs = torch.softmax((torch.log_softmax(a, dim=-1) + noise[key]) / tau, dim=-1)
            index = probs.argmax(dim=-1, keepdim=True)
            hard = torch.zeros_like(probs).scatter_(-1, index, 1.0)
            out[key] = hard - probs.detach() + probs
        elif method == "gumbel":
            assert noise is not None
            out[key] = torch.softmax(gumbel_logits({key: a}, noise, tau)[key], dim=-1)
        elif method == "proxyless":
            raise InputError("method='proxyless' samples paths instead of mixing the ops (see "
                             "proxyless_sample and proxyless_alpha_grad); it has no mixing "
                             "weights")
        else:
            raise InputError(f"method must be one of {METHODS}, got {method!r}")
    return out


def proxyless_sample(alphas: Mapping[str, torch.Tensor], n: int,
                     generator: torch.Generator | None = None
                     ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """ProxylessNAS' binarised paths: ``n`` ops per edge drawn from ``softmax(alpha)`` without
    replacement, and binary gates.

    Args:
        alphas: ``{key: (n_edges, n_ops)}`` logits (read, not differentiated).
        n: 1 (weight step: the sampled op runs alone, gate 1) or 2 (architecture step: the pair
            runs, and the active one, drawn from the pair's renormalised probabilities, gets
            gate 1; the other gate 0).
        generator: the torch generator of the draws (seeded by the search).

    Returns:
        ``(paths, gates)``: ``paths[key]`` ``(n_edges, n)`` long op indices, the active op first;
        ``gates[key]`` ``(n_edges, n_ops)`` float, 1 at the active op, 0 elsewhere.
    """
    if n not in (1, 2):
        raise InputError(f"n must be 1 (weight step) or 2 (architecture step), got {n!r}")
    paths, gates = {}, {}
    with torch.no_grad():
        for key, a in alphas.items():
            a = a.detach().float()
            pair = torch.multinomial(torch.softmax(a, dim=-1), n, replacement=False,
                                     generator=generator)
            if n == 2:
                pick = torch.multinomial(torch.softmax(a.gather(1, pair), dim=-1), 1,
                                         generator=generator)
                pair = torch.cat([pair.gather(1, pick), pair.gather(1, 1 - pick)], dim=1)
            paths[key] = pair
            gates[key] = torch.zeros_like(a).scatter_(1, pair[:, :1], 1.0)
    return paths, gates


def proxyless_alpha_grad(alphas: Mapping[str, torch.Tensor],
                         gate_grads: Mapping[str, torch.Tensor],
                         paths: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """ProxylessNAS' gradient estimate for the alphas from the binary gates' gradients.

    For each edge with sampled pair ``(a, b)`` and ``p = softmax(alpha[a], alpha[b])``:
    ``dL/d alpha_i = sum_j dL/dg_j p_j (delta_ij - p_i)`` for ``i, j`` in the pair; the other
    ops of the edge get 0.

    Args:
        alphas: ``{key: (n_edges, n_ops)}`` logits.
        gate_grads: ``{key: (n_edges, n_ops)}`` ``dL/dg`` (only the pair's entries are read).
        paths: ``{key: (n_edges, 2)}`` the sampled pairs.

    Returns:
        ``{key: (n_edges, n_ops)}`` gradients (not differentiable).
    """
    out = {}
    with torch.no_grad():
        for key, a in alphas.items():
            pair = paths[key]
            p = torch.softmax(a.detach().gather(1, pair), dim=-1)
            g = gate_grads[key].gather(1, pair).to(p.dtype)
            est = p * (g - (g * p).sum(dim=1, keepdim=True))
            out[key] = torch.zeros_like(a, dtype=p.dtype).scatter_(1, pair, est)
    return out


def alpha_entropy(method: str, alphas: Mapping[str, torch.Tensor]) -> dict[str, float]:
    """Mean per-edge entropy (nats) of the op distribution: ``softmax(alpha)`` for DARTS/GDAS,
    the Dirichlet mean ``beta / sum(beta)`` for DrNAS. ``log(n_ops)`` = uniform, 0 = one-hot."""
    out = {}
    for key, a in alphas.items():
        a = a.detach().double()
        if method == "drnas":
            beta = F.elu(a) + 1.0
            p = beta / beta.sum(dim=-1, keepdim=True)
        else:
            p = torch.softmax(a, dim=-1)
        out[key] = float(-(p * p.clamp_min(1e-30).log()).sum(dim=-1).mean())
    return out


def _cosine(lr: float, lr_min: float, epoch: int, epochs: int) -> float:
    return lr_min + (lr - lr_min) * (1.0 + math.cos(math.pi * epoch / epochs)) / 2.0


@contextlib.contextmanager
def _backend_flags(device: torch.device, deterministic: bool) -> Iterator[None]:
    """Set cuDNN/determinism flags for the duration of a fit and restore them afterwards."""
    saved = (torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic,
             torch.are_deterministic_algorithms_enabled(),
             torch.is_deterministic_algorithms_warn_only_enabled())
    try:
        if deterministic:
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            torch.backends.cudnn.benchmark = False
            torch.backends.cudnn.deterministic = True
            torch.use_deterministic_algorithms(True, warn_only=True)
        elif device.type == "cuda":
            torch.backends.cudnn.benchmark = True
        yield
    finally:
        torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = saved[0], saved[1]
        torch.use_deterministic_algorithms(saved[2], warn_only=saved[3])


class _Graphed:
    """Run ``body()`` eagerly for a few warm-up calls (on a side stream), then capture it as a
    CUDA graph and replay it. ``before_capture`` resets the gradients the body writes."""

    def __init__(self, body: Callable[[], None], enabled: bool, before_capture: Callable[[], None],
                 n_warmup: int = 3) -> None:
        self.body, self.enabled = body, enabled
        self.before_capture = before_capture
        self.n_warmup = n_warmup
        self.calls = 0
        self.graph: Any = None

    def __call__(self) -> None:
        if not self.enabled:
            self.before_capture()
            self.body()
            return
        if self.graph is None:
            self.before_capture()
            stream = torch.cuda.Stream()
            stream.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(stream):
                if self.calls < self.n_warmup:
                    self.body()
                else:
                    graph = torch.cuda.CUDAGraph()
                    with torch.cuda.graph(graph, stream=stream):
                        self.body()
                    self.graph = graph
            torch.cuda.current_stream().wait_stream(stream)
            self.calls += 1
            if self.graph is None:
                return
        self.graph.replay()


class DARTSSearch:
    """Differentiable architecture search on the DARTS or NAS-Bench-201 cell space or the
    FBNet macro space.

    Args:
        space: ``"darts"``, ``"nb201"`` or ``"fbnet"`` (22 layers x 9 blocks, see
            :mod:`warmnas.nas.fbnet`; ``FBNET_SEARCH_SETTINGS`` holds FBNet's schedule and
            ``warmnas.hardware.fbnet_lut_model`` a device's latency table for the penalty).
        method: ``"darts"``, ``"drnas"`` (Dirichlet, collapse resistant), ``"gdas"`` (hard
            Gumbel, straight-through), ``"gumbel"`` (FBNet's soft Gumbel-softmax) or
            ``"proxyless"`` (ProxylessNAS' sampled paths: one op per edge/layer runs in a
            weight step, two in an architecture step; ``impl="reference"`` on darts/nb201).
        order: 1 (first order) or 2 (DARTS' unrolled second order; ``method="darts"`` only).
        init_alpha: initial alpha logits (a warm start, e.g. from MetaNAS or the meta-database),
            ``{key: (n_edges, n_ops)}``; small random logits otherwise.
        latency_penalty: ``f(ce_loss, alphas) -> loss`` used in the architecture step (see
            ``warmnas.hardware``); ``alphas`` are the logits, differentiable.
        latency_weights: what the penalty prices. ``"softmax"`` (default): the hook gets the
            alpha logits, i.e. ``E[LAT]`` under ``softmax(alpha)`` (ProxylessNAS' expectation;
            deterministic). ``"sample"`` (``method="gumbel"`` only): FBNet's ``LAT(a)``, the
            latency under the same Gumbel-softmax sample ``m`` that weights the blocks in
            that architecture step (Wu et al. 2019); the hook then gets the sample's logits
            :func:`gumbel_logits` ``(log_softmax(alpha) + g) / tau``, whose softmax is ``m``,
            so the latency term is stochastic and consistent with the sampled network.
        epochs: search epochs (DARTS: 50).
        batch_size: images per step (DARTS: 64).
        C: supernet initial channels (16; FBNet: the stem width, 16 = the full network, all
            layers scaled by ``C / 16``).
        layers: DARTS: supernet cells (default 8); NB201: cells per stage (default 5); FBNet:
            None (22 fixed layers).
        lr, lr_min: weight learning rate, cosine-annealed per epoch from ``lr`` to ``lr_min``.
        momentum, weight_decay, grad_clip: weight optimiser (DARTS: 0.9, 3e-4, 5).
        arch_lr, arch_betas, arch_weight_decay: Adam on the alphas (DARTS: 3e-4, (0.5, 0.999),
            1e-3; for DrNAS the weight decay is its L2 regulariser).
        warmup_epochs: epochs of weight steps only before the alphas move.
        tau_max, tau_min: Gumbel temperature schedule (``"gdas"``, ``"gumbel"``): linear per
            epoch from ``tau_max`` to ``tau_min``.
        tau_decay: if given, the temperature is ``tau_max * tau_decay ** epoch`` instead
            (FBNet: ``tau_max=5.0, tau_decay=0.956``; ``tau_min`` is then unused).
        train_portion: when ``fit`` gets no ``valid`` data, the share of ``train`` used for
            weight steps (the rest drives the alphas), stratified (DARTS: 0.5).
        augment: random crop + flip on both search splits (as DARTS does).
        impl: supernet implementation, ``"batched"`` (fast) or ``"reference"`` (needed by
            ``method="proxyless"`` on the DARTS and NB201 spaces).
        device: torch device, e.g. ``"cpu"``, ``"cuda"``.
        autocast: bf16 autocast; ``"auto"`` = on for CUDA with first-order search.
        channels_last: ``"auto"`` = on for CUDA.
        cuda_graphs: capture both steps as CUDA graphs; ``"auto"`` = on for CUDA with first-order
            search and no ``latency_penalty`` (a penalty must itself be graph-safe to capture:
            pass ``True`` to force it), except on the FBNet space (not yet run on a GPU) and
            with ``method="proxyless"`` (its sampled ops change every step; ``True`` is
            refused).
        deterministic: deterministic algorithms (slower; set for the fit, restored after).
        max_steps_per_epoch: cap on iterations per epoch (quick runs, benchmarks).
        max_time_s: wall-time budget of this ``fit`` call: the search stops after the epoch that
            exceeds it (the architecture is derived from the alphas reached; ``stopped_early_``
            is set, ``finished_`` is False; with ``checkpoint_dir`` the state is saved, so a
            later ``fit`` continues from there).
        checkpoint_dir: folder for the search state (``search_state.pt``, one file, replaced
            atomically): written every ``checkpoint_every`` epochs, when ``max_time_s`` stops
            the search, and after the last epoch. If it already holds a checkpoint, ``fit``
            resumes from it (it must come from the same settings and data; delete it to start
            over).
        checkpoint_every: epochs between checkpoints (1 = after every epoch).
        derive_exclude: ops never chosen when the architecture is read off the alphas
            (``genotype_`` and each epoch's record): ``()`` = argmax over all ops (NB201's
            rule), ``("none",)`` = the DARTS paper's rule for NB201 (the DARTS space's
            genotypes follow it anyway). It does not change the search itself.
        nb201_table: an ``NB201Table``: each epoch's NB201 cell is looked up (accuracies in the
            history).
        callback: ``f(record, search)`` called after each epoch with the history record.
        random_state: seed for everything random (weights, alphas, batches, noise).
        progress: tqdm progress bar; ``None`` = only on a terminal.

    Attributes (after fit):
        supernet_: the trained :class:`~warmnas.nas.supernet.Supernet`.
        alphas_: final alpha logits, ``{key: CPU float32 tensor}``.
        genotype_: the derived architecture (``Genotype``, NB201 arch string or ``FBNetArch``).
        history_: one dict per epoch (losses, accuracies, alpha entropy, genotype, seconds...).
        n_iter_: iterations run (all calls); search_time_s_: wall time of this call's search
            loop; total_search_time_s_: over all calls of a resumed search.
        stopped_early_: whether ``max_time_s`` ended the search before ``epochs``.
        epochs_done_: epochs completed (all calls); finished_: ``epochs_done_ == epochs``.
        resumed_from_: the checkpoint file this fit continued from, or None.
    """

    def __init__(self, space: str = "darts", *, method: str = "darts", order: int = 1,
                 init_alpha: Mapping[str, Any] | None = None,
                 latency_penalty: LatencyPenalty | None = None,
                 latency_weights: str = "softmax", epochs: int = 50,
                 batch_size: int = 64, C: int = 16, layers: int | None = None,
                 lr: float = 0.025, lr_min: float = 0.001, momentum: float = 0.9,
                 weight_decay: float = 3e-4, grad_clip: float = 5.0, arch_lr: float = 3e-4,
                 arch_betas: tuple[float, float] = (0.5, 0.999), arch_weight_decay: float = 1e-3,
                 warmup_epochs: int = 0, tau_max: float = 10.0, tau_min: float = 0.1,
                 tau_decay: float | None = None,
                 train_portion: float = 0.5, augment: bool = True, impl: str = "batched",
                 device: str | torch.device = "cpu", autocast: bool | str = "auto",
                 channels_last: bool | str = "auto", cuda_graphs: bool | str = "auto",
                 deterministic: bool = False, max_steps_per_epoch: int | None = None,
                 max_time_s: float | None = None,
                 checkpoint_dir: str | os.PathLike[str] | None = None, checkpoint_every: int = 1,
                 derive_exclude: Sequence[str] = (), nb201_table: Any = None,
                 callback: Callable[[dict[str, Any], DARTSSearch], None] | None = None,
                 random_state: RandomState = None, progress: bool | None = None) -> None:
        self.space = space
        self.method = method
        self.order = order
        self.init_alpha = init_alpha
        self.latency_penalty = latency_penalty
        self.latency_weights = latency_weights
        self.epochs = epochs
        self.batch_size = batch_size
        self.C = C
        self.layers = layers
        self.lr = lr
        self.lr_min = lr_min
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.grad_clip = grad_clip
        self.arch_lr = arch_lr
        self.arch_betas = arch_betas
        self.arch_weight_decay = arch_weight_decay
        self.warmup_epochs = warmup_epochs
        self.tau_max = tau_max
        self.tau_min = tau_min
        self.tau_decay = tau_decay
        self.train_portion = train_portion
        self.augment = augment
        self.impl = impl
        self.device = device
        self.autocast = autocast
        self.channels_last = channels_last
        self.cuda_graphs = cuda_graphs
        self.deterministic = deterministic
        self.max_steps_per_epoch = max_steps_per_epoch
        self.max_time_s = max_time_s
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_every = checkpoint_every
        self.derive_exclude = derive_exclude
        self.nb201_table = nb201_table
        self.callback = callback
        self.random_state = random_state
        self.progress = progress

    # ---------------------------------------------------------------- validation
    def _check_params(self) -> dict[str, Any]:
        space = get_space(self.space)
        if self.method not in METHODS:
            raise InputError(f"method must be one of {METHODS}, got {self.method!r}")
        if self.order not in (1, 2):
            raise InputError(f"order must be 1 or 2, got {self.order!r}")
        if self.order == 2 and self.method != "darts":
            raise InputError("order=2 (unrolled DARTS) is available for method='darts' only")
        for name in ("epochs", "batch_size", "C"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise InputError(f"{name} must be a positive int, got {value!r}")
        if not isinstance(self.warmup_epochs, int) or self.warmup_epochs < 0:
            raise InputError(f"warmup_epochs must be a non-negative int, got {self.warmup_epochs!r}")
        if self.max_steps_per_epoch is not None and (
                not isinstance(self.max_steps_per_epoch, int) or self.max_steps_per_epoch <= 0):
            raise InputError(
                f"max_steps_per_epoch must be a positive int or None, got {self.max_steps_per_epoch!r}"
            )
        for name in ("lr", "arch_lr", "grad_clip", "tau_max", "tau_min"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                raise InputError(f"{name} must be a positive finite number, got {value!r}")
        if self.tau_decay is not None and (
                isinstance(self.tau_decay, bool)
                or not isinstance(self.tau_decay, (int, float, np.floating))
                or not 0.0 < float(self.tau_decay) <= 1.0):
            raise InputError(f"tau_decay must be a number in (0, 1] (FBNet: 0.956) or None, got "
                             f"{self.tau_decay!r}")
        if self.method == "proxyless" and space.name != "fbnet" and self.impl != "reference":
            raise InputError(
                f"method='proxyless' runs only the sampled op of each edge, which the "
                f"edge-batched supernet (impl={self.impl!r}) cannot do: it runs every op of a "
                f"wave of edges together. Pass impl='reference' for the {space.name} space "
                "(the FBNet space supports both)")
        if self.latency_weights not in LATENCY_WEIGHTS:
            raise InputError(f"latency_weights must be 'softmax' (E[LAT] under softmax(alpha)) "
                             f"or 'sample' (FBNet: the Gumbel sample of the step), got "
                             f"{self.latency_weights!r}")
        if self.latency_weights == "sample" and self.method != "gumbel":
            raise InputError(
                f"latency_weights='sample' prices FBNet's Gumbel-softmax sample, which only "
                f"method='gumbel' draws (method={self.method!r}); pass method='gumbel' or "
                "latency_weights='softmax'")
        if space.name == "fbnet" and self.layers is not None:
            raise InputError(f"layers: the FBNet space has 22 fixed layers; pass layers=None, got "
                             f"{self.layers!r}")
        betas = self.arch_betas
        if (isinstance(betas, (str, bytes)) or not isinstance(betas, Sequence) or len(betas) != 2
                or not all(isinstance(b, (int, float, np.floating)) and not isinstance(b, bool)
                           and 0.0 <= b < 1.0 for b in betas)):
            raise InputError(f"arch_betas must be two numbers in [0, 1) (Adam's betas, DARTS: "
                             f"(0.5, 0.999)), got {betas!r}")
        for name in ("lr_min", "momentum", "weight_decay", "arch_weight_decay"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise InputError(f"{name} must be a non-negative finite number, got {value!r}")
        if self.max_time_s is not None and not (isinstance(self.max_time_s, (int, float))
                                                and self.max_time_s > 0):
            raise InputError(f"max_time_s must be a positive number or None, got {self.max_time_s!r}")
        if self.checkpoint_dir is not None and not isinstance(self.checkpoint_dir,
                                                               (str, os.PathLike)):
            raise InputTypeError(
                f"checkpoint_dir must be a folder path or None, got {type(self.checkpoint_dir).__name__}")
        if (isinstance(self.checkpoint_every, bool) or not isinstance(self.checkpoint_every, int)
                or self.checkpoint_every <= 0):
            raise InputError(
                f"checkpoint_every must be a positive int (epochs), got {self.checkpoint_every!r}")
        if self.latency_penalty is not None and not callable(self.latency_penalty):
            raise InputTypeError("latency_penalty must be a callable f(ce_loss, alphas) -> loss")
        exclude = self.derive_exclude
        self._exclude = (exclude,) if isinstance(exclude, str) else tuple(exclude)
        try:  # the derivation rule, checked on zero alphas before any work
            derive_architecture(space.name, {k: torch.zeros(shape) for k, shape
                                             in space.alpha_shapes().items()},
                                exclude=self._exclude)
        except InputError as exc:
            raise InputError(f"derive_exclude: {exc}") from None
        if self.callback is not None and not callable(self.callback):
            raise InputTypeError("callback must be a callable f(record, search)")
        if self.nb201_table is not None and not callable(getattr(self.nb201_table, "lookup",
                                                                 None)):
            raise InputTypeError(f"nb201_table must be an NB201Table (NB201Table.load(data_dir)) "
                                 f"or None, got {type(self.nb201_table).__name__}")
        for name in ("augment", "deterministic"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise InputTypeError(f"{name} must be True or False, got "
                                     f"{getattr(self, name)!r}")
        if self.progress is not None and not isinstance(self.progress, (bool, np.bool_)):
            raise InputTypeError(f"progress must be True, False or None (only on a terminal), "
                                 f"got {self.progress!r}")
        device = resolve_device(self.device)
        cuda = device.type == "cuda"

        def resolve(value: bool | str, default: bool, name: str) -> bool:
            if value == "auto":
                return default
            if not isinstance(value, bool):
                raise InputError(f"{name} must be True, False or 'auto', got {value!r}")
            return value

        # "auto" leaves the FBNet space out: its supernet has not yet been captured on a GPU
        use_graphs = resolve(self.cuda_graphs, cuda and self.order == 1
                             and self.latency_penalty is None and space.name != "fbnet"
                             and self.method != "proxyless", "cuda_graphs")
        if use_graphs and not cuda:
            raise InputError("cuda_graphs=True needs a CUDA device")
        if use_graphs and self.method == "proxyless":
            raise InputError("cuda_graphs cannot capture method='proxyless' (the sampled ops "
                             "change every step); pass cuda_graphs=False or 'auto'")
        if use_graphs and self.order == 2:
            raise InputError("cuda_graphs are not supported with order=2; pass cuda_graphs=False")
        return {
            "space": space,
            "device": device,
            "autocast": resolve(self.autocast, cuda and self.order == 1, "autocast") and cuda,
            "channels_last": resolve(self.channels_last, cuda, "channels_last"),
            "graphs": use_graphs,
        }

    # ---------------------------------------------------------------- fit
    def fit(self, train: ImageData | tuple[Any, Any],
            valid: ImageData | tuple[Any, Any] | None = None, *,
            resume_from: str | os.PathLike[str] | None = None) -> DARTSSearch:
        """Run the search (or continue a checkpointed one).

        Args:
            train: search data, an :class:`~warmnas.nas.data.ImageData` or ``(X, y)`` arrays
                (images ``(N, H, W, C)`` / ``(N, C, H, W)``, labels ``0..K-1``).
            valid: data for the architecture steps; if None, ``train`` is split
                (``train_portion``), as DARTS splits CIFAR-10's training set.
            resume_from: a checkpoint file (or a folder holding ``search_state.pt``) to continue
                from; None = the checkpoint in ``checkpoint_dir`` if there is one, else a fresh
                search. The search continues at the epoch after the checkpoint with the same
                settings, data and random streams, so the result equals an uninterrupted run's
                (bitwise on CPU; see docs/nas.md for CUDA). New checkpoints go to
                ``checkpoint_dir`` (the source file is only read).

        Returns:
            self.

        Raises:
            InputError / InputTypeError: invalid settings or data, or a checkpoint written by
                another search (other space, settings, data or seed; the message lists them).
            MissingDataError: ``resume_from`` does not exist.
            CorruptDatabaseError: the checkpoint is truncated or not a search checkpoint.
            SchemaVersionError: the checkpoint comes from a newer warmnas.
            StorageError: a checkpoint could not be written (the previous one is kept).
        """
        cfg = self._check_params()
        space, device = cfg["space"], cfg["device"]
        ckpt_path = _resolve_resume(resume_from, self.checkpoint_dir)
        state = _read_checkpoint(ckpt_path) if ckpt_path is not None else None
        rng = check_random_state(self.random_state)
        seeds = {k: derive_seed(rng) for k in _SEED_KEYS}
        if state is not None and not isinstance(self.random_state, (int, np.integer)):
            seeds = dict(state["seeds"])  # random_state None / a Generator: the checkpoint's
        train_data = ImageData.coerce(train, "train")
        if valid is None:
            train_data, valid_data = search_split(train_data, self.train_portion, seeds["split"])
        else:
            valid_data = ImageData.coerce(valid, "valid")
        if train_data.image_shape != valid_data.image_shape:
            raise InputError(
                "valid images are {}x{}x{} (C x H x W) but train images are {}x{}x{}; pass "
                "valid images of the same channels and size".format(
                    *valid_data.image_shape, *train_data.image_shape))
        n_classes = max(train_data.n_classes, valid_data.n_classes)
        H, W = train_data.image_shape[1:]
        if H % 4 or W % 4:
            raise InputError(f"image height and width must be divisible by 4, got {H}x{W}")
        valid_data = ImageData(valid_data.images, valid_data.labels, train_data.mean,
                               train_data.std, n_classes)

        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seeds["model"])
            net = build_supernet(space, C=self.C, layers=self.layers, num_classes=n_classes,
                                 in_channels=train_data.image_shape[0], impl=self.impl,
                                 init_alpha=self.init_alpha, random_state=seeds["alpha"])
        config = self._fingerprint(cfg, net, train_data, valid_data, seeds)
        if state is not None:
            assert ckpt_path is not None
            _check_config(ckpt_path, state, config)
        net = net.to(device)
        if cfg["channels_last"]:
            net = net.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        net.train()
        self.supernet_ = net
        self.history_: list[dict[str, Any]] = []
        self.n_iter_ = 0
        self.stopped_early_ = False
        self.resumed_from_ = None if ckpt_path is None else str(ckpt_path)
        start = time.perf_counter()
        with _backend_flags(device, self.deterministic):
            self._search(net, cfg, train_data.to(device), valid_data.to(device), seeds, config,
                         state, ckpt_path)
        self.search_time_s_ = time.perf_counter() - start
        self.alphas_ = net.get_alphas()
        self.genotype_ = net.genotype(self._exclude)
        return self

    def _fingerprint(self, cfg: dict[str, Any], net: Supernet, train: ImageData, valid: ImageData,
                     seeds: dict[str, int]) -> dict[str, Any]:
        """What a checkpoint must agree on to be resumed by this search: every setting that
        changes the trajectory, a digest of the data and of the initial alphas, the seeds when
        ``random_state`` fixes them, and the device type (generator states differ by device)."""
        digest = hashlib.blake2b(digest_size=16)
        for data in (train, valid):
            for t in (data.images, data.labels):
                arr = t.detach().cpu().contiguous().numpy()
                digest.update(f"{arr.dtype}{arr.shape}".encode())
                digest.update(arr.reshape(-1).view(np.uint8).data)
            digest.update(repr((tuple(data.mean), tuple(data.std), data.n_classes)).encode())
        alpha_digest = hashlib.blake2b(digest_size=16)
        for k, v in net.get_alphas().items():
            alpha_digest.update(k.encode())
            alpha_digest.update(v.numpy().tobytes())
        out: dict[str, Any] = {
            "space": cfg["space"].name,
            "method": self.method,
            "order": self.order,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "C": self.C,
            "layers": None if self.layers is None else int(self.layers),
            "lr": float(self.lr),
            "lr_min": float(self.lr_min),
            "momentum": float(self.momentum),
            "weight_decay": float(self.weight_decay),
            "grad_clip": float(self.grad_clip),
            "arch_lr": float(self.arch_lr),
            "arch_betas": [float(b) for b in self.arch_betas],
            "arch_weight_decay": float(self.arch_weight_decay),
            "warmup_epochs": self.warmup_epochs,
            "tau_max": float(self.tau_max),
            "tau_min": float(self.tau_min),
            "augment": bool(self.augment),
            "impl": self.impl,
            "max_steps_per_epoch": self.max_steps_per_epoch,
            "latency_penalty": self.latency_penalty is not None,
            "device_type": cfg["device"].type,
            "autocast": bool(cfg["autocast"]),
            "channels_last": bool(cfg["channels_last"]),
            "data": digest.hexdigest(),
            "init_alpha": alpha_digest.hexdigest(),
        }
        if isinstance(self.random_state, (int, np.integer)):
            out["seeds"] = dict(seeds)
        if self.latency_weights != "softmax":  # absent: the default (older checkpoints)
            out["latency_weights"] = self.latency_weights
        if self.tau_decay is not None:  # absent: the linear schedule (older checkpoints)
            out["tau_decay"] = float(self.tau_decay)
        if self._exclude:  # not the search, but the history's cells (absent: the default)
            out["derive_exclude"] = sorted(self._exclude)
        return out

    def _search(self, net: Supernet, cfg: dict[str, Any], train: ImageData, valid: ImageData,
                seeds: dict[str, int], config: dict[str, Any], state: dict[str, Any] | None,
                ckpt_path: Path | None) -> None:
        device: torch.device = cfg["device"]
        gen = torch_generator(seeds["data"], device)
        noise_gen = torch_generator(seeds["noise"], device)
        loaders = [BatchLoader(d, self.batch_size, augment=self.augment, generator=gen,
                               channels_last=cfg["channels_last"]) for d in (train, valid)]
        n_steps = min(len(loaders[0]), self.max_steps_per_epoch or len(loaders[0]))
        weight_params = net.weight_parameters()
        arch_params = net.arch_parameters()
        sgd = GraphSafeSGD(weight_params, self.lr, self.momentum, self.weight_decay)
        adam = GraphSafeAdam(arch_params, self.arch_lr, tuple(self.arch_betas),  # type: ignore[arg-type]
                             weight_decay=self.arch_weight_decay)
        run = _RunState(net=net, sgd=sgd, adam=adam, gens={"data": gen, "noise": noise_gen},
                        seeds=dict(seeds), config=config)
        self._run = run
        if state is not None:
            # before any CUDA graph is captured, and in place: every tensor a captured step reads
            # (parameters, optimizer buffers, lr, step count) keeps its identity and address
            assert ckpt_path is not None
            run.restore(state, ckpt_path)
            self.history_ = run.history
            self.n_iter_ = run.n_iter
            logger.info("resuming the search from %s after epoch %d of %d", ckpt_path,
                        run.epochs_done, self.epochs)
        ckpt_file = (None if self.checkpoint_dir is None
                     else Path(self.checkpoint_dir) / CHECKPOINT_NAME)
        if ckpt_file is not None:
            try:
                ckpt_file.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(f"cannot create checkpoint_dir {ckpt_file.parent}: {exc}; "
                                   "pass a writable folder") from exc
            if ckpt_file.is_dir():  # before any epoch, not at the first save
                raise StorageError(f"{ckpt_file} is a folder, so no checkpoint can be written "
                                   "there; remove it or pass another checkpoint_dir")
        keys = net.space.cell_types
        stats = torch.zeros(6, device=device, dtype=torch.float64)
        tau = torch.tensor(float(self.tau_max), device=device)
        B = loaders[0].batch_size
        Bv = loaders[1].batch_size
        C_img, H, W = train.image_shape
        fmt = torch.channels_last if cfg["channels_last"] else torch.contiguous_format
        static = {
            "xt": torch.zeros(B, C_img, H, W, device=device).contiguous(memory_format=fmt),
            "yt": torch.zeros(B, dtype=torch.long, device=device),
            "xv": torch.zeros(Bv, C_img, H, W, device=device).contiguous(memory_format=fmt),
            "yv": torch.zeros(Bv, dtype=torch.long, device=device),
        }
        noise_w = {k: torch.ones_like(net.alphas[k]) for k in keys}
        noise_a = {k: torch.ones_like(net.alphas[k]) for k in keys}
        use_autocast = cfg["autocast"]
        method = self.method
        price_sample = self.latency_weights == "sample"

        def amp() -> contextlib.AbstractContextManager[Any]:
            if use_autocast:
                return torch.autocast(device_type=device.type, dtype=torch.bfloat16,
                                      cache_enabled=False)
            return contextlib.nullcontext()

        def weight_body() -> None:
            if method == "proxyless":
                paths, w = proxyless_sample({k: net.alphas[k] for k in keys}, 1, noise_gen)
            else:
                paths = None
                with torch.no_grad():
                    w = mixing_weights(method, {k: net.alphas[k].detach() for k in keys},
                                       noise_w, tau)
            with amp():
                logits = net(static["xt"], w) if paths is None else net(static["xt"], w,
                                                                         paths=paths)
            loss = F.cross_entropy(logits.float(), static["yt"])
            loss.backward(inputs=weight_params)
            clip_grad_norm(weight_params, self.grad_clip)
            sgd.step()
            with torch.no_grad():
                stats[0] += loss.detach().double() * B
                stats[1] += (logits.argmax(dim=1) == static["yt"]).sum()
                stats[2] += B

        def arch_body() -> None:
            if method == "proxyless":
                proxyless_arch_body()
                return
            alphas = net.alpha_dict()
            if price_sample:  # FBNet's LAT(a): the penalty prices the sample m = softmax(z)
                z = gumbel_logits(alphas, noise_a, tau)
                w = {k: torch.softmax(v, dim=-1) for k, v in z.items()}
            else:
                w = mixing_weights(method, alphas, noise_a, tau)
            with amp():
                logits = net(static["xv"], w)
            ce = F.cross_entropy(logits.float(), static["yv"])
            loss = apply_latency_penalty(self.latency_penalty, ce, z if price_sample else alphas)
            loss.backward(inputs=arch_params)
            adam.step()
            with torch.no_grad():
                stats[3] += ce.detach().double() * Bv
                stats[4] += (logits.argmax(dim=1) == static["yv"]).sum()
                stats[5] += Bv

        def proxyless_arch_body() -> None:
            alphas = net.alpha_dict()
            paths, gates = proxyless_sample(alphas, 2, noise_gen)
            for g in gates.values():
                g.requires_grad_()
            with amp():
                logits = net(static["xv"], gates, paths=paths)
            ce = F.cross_entropy(logits.float(), static["yv"])
            loss = apply_latency_penalty(self.latency_penalty, ce, alphas)
            gate_list = [gates[k] for k in keys]
            grads = torch.autograd.grad(loss, [*gate_list, *arch_params], allow_unused=True)
            gate_grads = {k: torch.zeros_like(gates[k]) if g is None else g  # unused key
                          for k, g in zip(keys, grads[:len(keys)])}
            est = proxyless_alpha_grad(alphas, gate_grads, paths)
            with torch.no_grad():
                before = {k: net.alphas[k].gather(1, paths[k]) for k in keys}
                for k, a, g in zip(keys, arch_params, grads[len(keys):]):
                    a.grad = est[k].to(a.dtype) if g is None else g + est[k].to(a.dtype)
                adam.step()
                for k in keys:  # keep the pair's total probability (ProxylessNAS' rescaling)
                    a, pair = net.alphas[k], paths[k]
                    shift = (torch.logsumexp(a.gather(1, pair), dim=1)
                             - torch.logsumexp(before[k], dim=1))
                    a.scatter_add_(1, pair, -shift[:, None].expand(-1, pair.shape[1]))
                stats[3] += ce.detach().double() * Bv
                stats[4] += (logits.argmax(dim=1) == static["yv"]).sum()
                stats[5] += Bv

        graphs = cfg["graphs"]
        weight_step = _Graphed(weight_body, graphs, sgd.zero_grad)
        arch_step = _Graphed(arch_body, graphs, adam.zero_grad)

        def draw_noise(target: dict[str, torch.Tensor]) -> None:
            with torch.no_grad():
                for k in keys:
                    a = net.alphas[k].detach()
                    if method == "drnas":
                        z = torch._standard_gamma(F.elu(a) + 1.0, generator=noise_gen)
                        target[k].copy_(z.clamp_min(torch.finfo(z.dtype).tiny))
                    elif method in ("gdas", "gumbel"):
                        e = torch.empty_like(a).exponential_(generator=noise_gen)
                        target[k].copy_(-e.clamp_min(torch.finfo(e.dtype).tiny).log())

        progress = _progress_bar(self.progress, self.epochs * n_steps, run.epochs_done * n_steps)
        started = time.perf_counter()
        try:
            for epoch in range(run.epochs_done, self.epochs):
                t0 = time.perf_counter()
                lr = _cosine(self.lr, self.lr_min, epoch, self.epochs)
                sgd.set_lr(lr)
                if self.tau_decay is not None:
                    tau_now = float(self.tau_max) * float(self.tau_decay) ** epoch
                else:
                    tau_now = (self.tau_max - (self.tau_max - self.tau_min) * epoch
                               / max(1, self.epochs - 1))
                tau.fill_(tau_now)
                stats.zero_()
                arch_on = epoch >= self.warmup_epochs
                valid_iter = _cycle(loaders[1])
                for step, (xt, yt) in enumerate(loaders[0]):
                    if step >= n_steps:
                        break
                    xv, yv = next(valid_iter)
                    if arch_on:
                        if self.order == 2:
                            self._unrolled_arch_step(net, sgd, adam, xt, yt, xv, yv, lr, stats)
                        else:
                            static["xv"].copy_(xv)
                            static["yv"].copy_(yv)
                            draw_noise(noise_a)
                            arch_step()
                    static["xt"].copy_(xt)
                    static["yt"].copy_(yt)
                    draw_noise(noise_w)
                    weight_step()
                    self.n_iter_ += 1
                    if progress is not None:
                        progress.update(1)
                record = self._epoch_record(net, epoch, lr,
                                            tau_now if method in ("gdas", "gumbel") else None,
                                            stats.tolist(), time.perf_counter() - t0, arch_on)
                self.history_.append(record)
                run.epochs_done, run.n_iter = epoch + 1, self.n_iter_
                run.search_time_s = run.time_before + time.perf_counter() - started
                if progress is not None:
                    progress.set_postfix(loss=f"{record['train_loss']:.3f}",
                                         acc=f"{record['train_acc']:.3f}")
                logger.info("epoch %d/%d lr %.4g train loss %.4f acc %.4f valid loss %s "
                            "entropy %s %.1fs genotype %s", epoch + 1, self.epochs, lr,
                            record["train_loss"], record["train_acc"], record["valid_loss"],
                            record["alpha_entropy"], record["seconds"], record["genotype"])
                if self.callback is not None:
                    self.callback(record, self)
                stop = (self.max_time_s is not None and epoch + 1 < self.epochs
                        and time.perf_counter() - started > self.max_time_s)
                if ckpt_file is not None and (stop or epoch + 1 == self.epochs
                                              or (epoch + 1) % self.checkpoint_every == 0):
                    run.save(ckpt_file, self.history_)
                if stop:
                    logger.warning("time budget of %.0fs reached after epoch %d of %d%s",
                                   self.max_time_s, epoch + 1, self.epochs,
                                   "" if ckpt_file is None else f"; state saved to {ckpt_file}")
                    self.stopped_early_ = True
                    break
        finally:
            if progress is not None:
                progress.close()
            self.epochs_done_ = run.epochs_done
            self.finished_ = run.epochs_done == self.epochs
            self.total_search_time_s_ = run.time_before + time.perf_counter() - started

    def save_state(self, path: str | os.PathLike[str]) -> Path:
        """Write the search state reached (the last completed epoch) to ``path``, atomically.

        ``fit(train, valid, resume_from=path)`` of a search with the same settings continues
        from it. With ``checkpoint_dir`` this happens during ``fit``; ``save_state`` is for
        searches run without it (e.g. one stopped by ``max_time_s``).

        Args:
            path: a file, or an existing folder (``search_state.pt`` is written in it).

        Returns:
            The path written.

        Raises:
            NotFittedError: ``fit`` has not run.
            StorageError: the file could not be written (an older file there is kept).
        """
        self._check_fitted()
        target = Path(path)
        if target.is_dir():
            target = target / CHECKPOINT_NAME
        self._run.save(target, self.history_)
        return target

    def _unrolled_arch_step(self, net: Supernet, sgd: GraphSafeSGD, adam: GraphSafeAdam,
                            xt: torch.Tensor, yt: torch.Tensor, xv: torch.Tensor,
                            yv: torch.Tensor, lr: float, stats: torch.Tensor) -> None:
        """DARTS' second-order step: gradient at the one-step-unrolled weights minus the
        finite-difference Hessian-vector term (Liu et al. 2019, eq. 7-8)."""
        from torch.func import functional_call

        names = [n for n, _ in net.named_weight_parameters()]
        params: dict[str, torch.Tensor] = dict(net.named_weight_parameters())
        arch = net.arch_parameters()
        keys = net.space.cell_types
        soft_detached = {k: torch.softmax(net.alphas[k].detach(), -1) for k in keys}
        # w' = w - lr * (momentum * buf + grad + wd * w)
        loss = F.cross_entropy(functional_call(net, params, (xt,), {"weights": soft_detached}), yt)
        grads = torch.autograd.grad(loss, [params[n] for n in names])
        unrolled = {}
        for n, g, buf in zip(names, grads, sgd.bufs):
            p = params[n].detach()
            unrolled[n] = (p - lr * (self.momentum * buf + g + self.weight_decay * p)
                           ).requires_grad_()
        alphas = net.alpha_dict()
        logits = functional_call(net, unrolled, (xv,), {"weights": net.softmax_weights()})
        ce = F.cross_entropy(logits, yv)
        loss = apply_latency_penalty(self.latency_penalty, ce, alphas)
        all_grads = torch.autograd.grad(loss, arch + [unrolled[n] for n in names])
        dalpha, dw = all_grads[:len(arch)], all_grads[len(arch):]
        r = 1e-2 / torch.sqrt(sum((g * g).sum() for g in dw))  # type: ignore[arg-type]

        def arch_grad(sign: float) -> tuple[torch.Tensor, ...]:
            shifted = {n: params[n].detach() + sign * r * g for n, g in zip(names, dw)}
            out = functional_call(net, shifted, (xt,), {"weights": net.softmax_weights()})
            return torch.autograd.grad(F.cross_entropy(out, yt), arch)

        plus, minus = arch_grad(1.0), arch_grad(-1.0)
        for a, d, gp, gm in zip(arch, dalpha, plus, minus):
            a.grad = d - lr * (gp - gm) / (2 * r)
        adam.step()
        with torch.no_grad():
            stats[3] += ce.detach().double() * xv.shape[0]
            stats[4] += (logits.argmax(dim=1) == yv).sum()
            stats[5] += xv.shape[0]

    def _epoch_record(self, net: Supernet, epoch: int, lr: float, tau: float | None,
                      s: list[float], seconds: float, arch_on: bool) -> dict[str, Any]:
        alphas = net.get_alphas()
        if not all(bool(torch.isfinite(a).all()) for a in alphas.values()):
            raise InputError(
                f"the search diverged in epoch {epoch + 1}: the alphas became NaN or inf (train "
                f"loss {s[0] / max(s[2], 1):.4g}, valid loss "
                f"{s[3] / s[5] if s[5] else float('nan'):.4g}); lower lr / arch_lr, or check "
                "that latency_penalty returns finite values. The last checkpoint, if any, is "
                "kept")
        arch = net.genotype(self._exclude)
        record: dict[str, Any] = {
            "epoch": epoch + 1,
            "lr": lr,
            "tau": tau,
            "train_loss": s[0] / max(s[2], 1),
            "train_acc": s[1] / max(s[2], 1),
            "valid_loss": s[3] / s[5] if arch_on and s[5] else None,
            "valid_acc": s[4] / s[5] if arch_on and s[5] else None,
            "alpha_entropy": alpha_entropy(self.method, alphas),
            "genotype": arch if isinstance(arch, str) else arch.to_dict(),
            "seconds": seconds,
        }
        if not all(math.isfinite(v) for v in s):
            logger.warning("non-finite loss in epoch %d; lower lr / arch_lr", epoch + 1)
        if self.nb201_table is not None and isinstance(arch, str):
            record["nb201"] = self.nb201_table.lookup(arch)
        return record

    # ---------------------------------------------------------------- results
    def _check_fitted(self) -> None:
        if not hasattr(self, "genotype_"):
            raise NotFittedError("this DARTSSearch is not fitted yet; call fit(train) first")

    def result(self) -> dict[str, Any]:
        """A JSON-ready summary: space, method, architecture, alphas, history, timing, and
        whether the search is complete (``finished``, ``epochs_done`` of ``epochs_planned``;
        an unfinished search's architecture is the one its current alphas give, not a
        result)."""
        self._check_fitted()
        arch: Genotype | str | FBNetArch = self.genotype_
        return {
            "space": get_space(self.space).name,
            "method": self.method,
            "order": self.order,
            "finished": self.finished_,
            "epochs_done": self.epochs_done_,
            "epochs_planned": self.epochs,
            "architecture": architecture_to_dict(arch),
            "genotype": arch if isinstance(arch, str) else str(arch),
            "alphas": {k: np.round(v.numpy(), 6).tolist() for k, v in self.alphas_.items()},
            "history": self.history_,
            "n_iter": self.n_iter_,
            "search_time_s": self.search_time_s_,
            "total_search_time_s": self.total_search_time_s_,
            "stopped_early": self.stopped_early_,
            "resumed_from": self.resumed_from_,
        }


class _RunState:
    """The state of a search between epochs (the objects the steps use, and counters), with
    its conversion to and from a checkpoint of tensors and plain values."""

    def __init__(self, *, net: Supernet, sgd: GraphSafeSGD, adam: GraphSafeAdam,
                 gens: dict[str, torch.Generator], seeds: dict[str, int],
                 config: dict[str, Any]) -> None:
        self.net, self.sgd, self.adam, self.gens = net, sgd, adam, gens
        self.seeds, self.config = seeds, config
        self.epochs_done = 0
        self.n_iter = 0
        self.history: list[dict[str, Any]] = []
        self.time_before = 0.0  # search seconds of earlier calls (resumed searches)
        self.search_time_s = 0.0

    def to_dict(self, history: list[dict[str, Any]]) -> dict[str, Any]:
        def cpu(t: torch.Tensor) -> torch.Tensor:
            return t.detach().to("cpu", copy=True).contiguous()

        sgd, adam = self.sgd, self.adam
        return {
            "format": CHECKPOINT_FORMAT,
            "version": CHECKPOINT_VERSION,
            "config": self.config,
            "seeds": dict(self.seeds),
            "epochs_done": int(self.epochs_done),
            "n_iter": int(self.n_iter),
            "search_time_s": float(self.search_time_s),
            "supernet": {k: cpu(v) for k, v in self.net.state_dict().items()},
            "sgd": {"lr": cpu(sgd.lr), "bufs": [cpu(b) for b in sgd.bufs]},
            "adam": {"lr": cpu(adam.lr), "step_count": cpu(adam.step_count),
                     "exp_avg": [cpu(m) for m in adam.exp_avg],
                     "exp_avg_sq": [cpu(v) for v in adam.exp_avg_sq]},
            "rng": {k: g.get_state() for k, g in self.gens.items()},
            "history_json": json.dumps(history),
        }

    def save(self, path: Path, history: list[dict[str, Any]]) -> None:
        _atomic_save(self.to_dict(history), path)
        logger.debug("search state after epoch %d saved to %s", self.epochs_done, path)

    @torch.no_grad()
    def restore(self, state: dict[str, Any], path: Path) -> None:
        """Copy a checkpoint into the live tensors, in place (identity and memory format of
        every parameter, buffer and optimizer tensor are kept: CUDA graphs captured later, or
        earlier, read the same addresses)."""

        def corrupt(what: str) -> CorruptDatabaseError:
            return CorruptDatabaseError(
                f"search checkpoint {path} does not fit this search: {what}. The file is "
                "damaged or was written by another warmnas version; delete it to start over")

        def copy_all(dst: list[torch.Tensor], src: Any, what: str) -> None:
            if not isinstance(src, (list, tuple)) or len(src) != len(dst):
                raise corrupt(f"{what}: expected {len(dst)} tensors")
            for i, (d, s) in enumerate(zip(dst, src)):
                if not isinstance(s, torch.Tensor) or s.shape != d.shape or s.dtype != d.dtype:
                    got = (f"{tuple(s.shape)} {s.dtype}" if isinstance(s, torch.Tensor)
                           else type(s).__name__)
                    raise corrupt(f"{what}[{i}] is {got}, expected {tuple(d.shape)} {d.dtype}")
            for d, s in zip(dst, src):
                d.copy_(s)

        own = self.net.state_dict(keep_vars=True)
        saved = state["supernet"]
        if not isinstance(saved, dict) or set(saved) != set(own):
            missing = sorted(set(own) - set(saved)) if isinstance(saved, dict) else ["all"]
            extra = sorted(set(saved) - set(own)) if isinstance(saved, dict) else []
            raise corrupt(f"supernet tensors missing {missing[:3]}, unexpected {extra[:3]}")
        names = list(own)
        sgd, adam = self.sgd, self.adam
        try:
            sgd_state, adam_state = state["sgd"], state["adam"]
            pairs = [
                ([own[n] for n in names], [saved[n] for n in names], "supernet"),
                ([sgd.lr], [sgd_state["lr"]], "sgd.lr"),
                (sgd.bufs, sgd_state["bufs"], "sgd.bufs"),
                ([adam.lr, adam.step_count], [adam_state["lr"], adam_state["step_count"]],
                 "adam.lr/step_count"),
                (adam.exp_avg, adam_state["exp_avg"], "adam.exp_avg"),
                (adam.exp_avg_sq, adam_state["exp_avg_sq"], "adam.exp_avg_sq"),
            ]
            rng = {k: state["rng"][k] for k in self.gens}
            history = json.loads(state["history_json"])
            epochs_done, n_iter = int(state["epochs_done"]), int(state["n_iter"])
            time_before = float(state["search_time_s"])
        except (KeyError, TypeError, ValueError) as exc:
            raise corrupt(f"{type(exc).__name__}: {exc}") from exc
        if (not isinstance(history, list) or len(history) != epochs_done
                or not 0 <= epochs_done <= int(self.config["epochs"])):
            raise corrupt(f"history of {len(history) if isinstance(history, list) else '?'} "
                          f"epochs for epochs_done={epochs_done}")
        for dst, src, what in pairs:  # check everything before writing anything
            copy_all([torch.empty_like(d, device="cpu") for d in dst], src, what)
        for dst, src, what in pairs:
            copy_all(dst, src, what)
        for k, g in self.gens.items():
            try:
                g.set_state(rng[k])
            except (RuntimeError, TypeError) as exc:
                raise corrupt(f"random generator state {k!r}: {exc}") from exc
        self.history, self.epochs_done, self.n_iter = history, epochs_done, n_iter
        self.time_before = self.search_time_s = time_before


def _resolve_resume(resume_from: str | os.PathLike[str] | None,
                    checkpoint_dir: str | os.PathLike[str] | None) -> Path | None:
    """The checkpoint file ``fit`` continues from, or None for a fresh search."""
    if resume_from is not None:
        if not isinstance(resume_from, (str, os.PathLike)):
            raise InputTypeError("resume_from must be a checkpoint file or folder path, got "
                                 f"{type(resume_from).__name__}")
        path = Path(resume_from)
        if path.is_dir():
            path = path / CHECKPOINT_NAME
        if not path.is_file():
            raise MissingDataError(
                f"resume_from: no checkpoint at {path}; pass a file written by DARTSSearch "
                f"(checkpoint_dir/{CHECKPOINT_NAME} or save_state) or None for a fresh search")
        return path
    if checkpoint_dir is not None:
        path = Path(checkpoint_dir) / CHECKPOINT_NAME
        return path if path.is_file() else None
    return None


_SEED_KEYS = ("split", "model", "alpha", "data", "noise")
_CHECKPOINT_KEYS = ("config", "seeds", "epochs_done", "n_iter", "search_time_s", "supernet",
                    "sgd", "adam", "rng", "history_json")


def _read_checkpoint(path: Path) -> dict[str, Any]:
    """Load and check the envelope of a search checkpoint (tensors and plain values only)."""
    fix = "delete it to start the search over, or resume from an intact copy"
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError as exc:
        raise MissingDataError(f"search checkpoint {path} does not exist") from exc
    except Exception as exc:  # truncated zip, foreign pickle, not a torch file...
        msg = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise CorruptDatabaseError(
            f"search checkpoint {path} cannot be read ({type(exc).__name__}: {msg}); it is "
            f"truncated or not a warmnas search checkpoint: {fix}") from exc
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        got = state.get("format") if isinstance(state, dict) else type(state).__name__
        raise CorruptDatabaseError(
            f"{path} is not a warmnas search checkpoint (format {got!r}, expected "
            f"{CHECKPOINT_FORMAT!r}): {fix}")
    version = state.get("version")
    if not isinstance(version, int) or version > CHECKPOINT_VERSION:
        raise SchemaVersionError(
            f"search checkpoint {path} has version {version!r}; this warmnas reads up to "
            f"{CHECKPOINT_VERSION}: upgrade warmnas or start the search over")
    missing = [k for k in _CHECKPOINT_KEYS if k not in state]
    seeds = state.get("seeds")
    if not missing and not (isinstance(state["config"], dict) and isinstance(seeds, dict)
                            and all(isinstance(seeds.get(k), int) for k in _SEED_KEYS)):
        missing = ["config/seeds"]
    if missing:
        raise CorruptDatabaseError(
            f"search checkpoint {path} is incomplete (missing or damaged: {missing}): {fix}")
    return state


def _check_config(path: Path, state: dict[str, Any], config: dict[str, Any]) -> None:
    """Raise InputError listing every setting where the checkpoint and this search differ."""
    saved = {k: v for k, v in state["config"].items() if k != "seeds"}
    mine = {k: v for k, v in config.items() if k != "seeds"}
    diffs = []
    for key in sorted(set(saved) | set(mine)):
        a, b = saved.get(key, "<absent>"), mine.get(key, "<absent>")
        if a != b:
            if key == "data":
                diffs.append("data: other images, labels, split or normalisation")
            elif key == "init_alpha":
                diffs.append("init_alpha: other initial alphas")
            else:
                diffs.append(f"{key}: checkpoint {a!r}, this search {b!r}")
    if "seeds" in config and dict(config["seeds"]) != dict(state["seeds"]):
        diffs.append("random_state: the checkpoint was written with another random_state")
    if diffs:
        raise InputError(
            f"checkpoint {path} was written by another search ({'; '.join(diffs)}). Resume with "
            "the settings, data and random_state it was written with, or delete it (or use "
            "another checkpoint_dir) to start a new search")


def _atomic_save(obj: dict[str, Any], path: Path) -> None:
    """``torch.save`` through :func:`warmnas._io.atomic_write` (durable): a kill or an error at
    any moment leaves either the old file or the new one, never a torn one."""
    try:
        atomic_write(path, lambda fh: torch.save(obj, fh), durable=True)
    except OSError as exc:
        raise StorageError(f"could not write checkpoint {path} ({exc}); the previous "
                           "checkpoint there, if any, is unchanged; pass a writable "
                           "checkpoint_dir") from exc


def _cycle(loader: BatchLoader) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    while True:
        yield from loader


def _progress_bar(progress: bool | None, total: int, initial: int = 0) -> Any:
    if progress is False:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return None
    return tqdm(total=total, initial=initial, desc="search", unit="it",
                disable=None if progress is None else False, leave=False)
