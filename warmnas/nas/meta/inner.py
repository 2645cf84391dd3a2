"""The task-level (inner) loop of MetaNAS: a few first-order DARTS steps on one or many tasks.

Everything here is *functional*: parameters are plain ``dict[str, Tensor]`` with a leading task
dimension ``T``, and gradients come from ``torch.func.grad`` under ``torch.func.vmap`` over the
tasks, so a meta-batch of tasks adapts in one pass of batched kernels (convolutions with stacked
weights become grouped convolutions) instead of ``T`` passes. ``T = 1`` is the sequential case.

Pieces:

* :class:`FunctionalNet`: wraps a network (a weight-sharing supernet, whose ``alphas`` are the
  architecture logits, or any fixed ``nn.Module``) for ``logits = fnet(weights, alphas, x)``.
  BatchNorm layers use batch statistics (the transductive setting of MAML, Reptile and MetaNAS),
  so no running statistics are carried between tasks.
* :class:`InnerOptimizer`: functional SGD (momentum) / Adam on stacked parameter dicts; state is a
  dict, so each task starts from a fresh state and the meta-optimiser stays separate.
* :func:`inner_darts_steps`: ``k`` first-order DARTS iterations, each an architecture step (Adam on
  alpha, on the *arch* batch, with an optional ``latency_penalty(ce, alphas)``) followed by a
  weight step (on the *weight* batch). With ``arch_batch="support"`` both steps use the task's
  support set, as MetaNAS does; ``"split"`` uses half of each class for each (bi-level, as
  DARTS splits its training data; needs ``k_shot >= 2``).
* :func:`conv4`: the fixed 4-layer convolutional network of MAML / Reptile for Omniglot (the
  fixed-architecture baseline).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from warmnas.errors import InputError, InputTypeError
from warmnas.nas._penalty import LatencyPenalty, apply_latency_penalty

__all__ = [
    "Params",
    "LatencyPenalty",
    "FunctionalNet",
    "InnerOptimizer",
    "inner_darts_steps",
    "query_accuracy",
    "conv4",
    "split_support",
    "shuffle_sets",
    "run_tasks",
    "GraphedCall",
    "graph_check",
]

Params = dict[str, torch.Tensor]


def conv4(in_channels: int = 1, num_classes: int = 5, hidden: int = 64) -> nn.Module:
    """The MAML / Reptile Omniglot network: 4 x (3x3 conv stride 2, BatchNorm, ReLU), spatial
    mean, linear head (MAML averages the last feature map for Omniglot; a 28x28 input ends 2x2).
    """
    layers: list[nn.Module] = []
    c = in_channels
    for _ in range(4):
        layers += [nn.Conv2d(c, hidden, 3, stride=2, padding=1), nn.BatchNorm2d(hidden),
                   nn.ReLU()]
        c = hidden
    return _Conv4(nn.Sequential(*layers), hidden, num_classes)


class _Conv4(nn.Module):
    def __init__(self, features: nn.Module, hidden: int, num_classes: int) -> None:
        super().__init__()
        self.features = features
        self.classifier = nn.Linear(hidden, num_classes)
        self.pool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.features(x)).flatten(1))


def _vmap_safe_factorized_reduce(xr: torch.Tensor, m: Any) -> torch.Tensor:
    """The batched supernet's FactorizedReduce without its channels-last query (which ``vmap``
    cannot answer); same arithmetic (even and odd pixel grids, one grouped 1x1 conv, BN)."""
    even = xr[:, :, ::2, ::2].unflatten(1, (m.E, m.C))
    odd = xr[:, :, 1::2, 1::2].unflatten(1, (m.E, m.C))
    z = torch.stack([even, odd], dim=2).flatten(1, 3)
    return m.bn(m.conv(z))


def _make_vmap_safe(net: nn.Module) -> None:
    """Patch (per instance) the supernet modules that query memory formats, so the network runs
    under ``torch.func.vmap``."""
    try:
        from warmnas.nas import supernet as _sn
    except ImportError:  # pragma: no cover
        return
    cls = getattr(_sn, "_BFactorizedReduce", None)
    if cls is None:
        return
    for m in net.modules():
        if isinstance(m, cls) and all(hasattr(m, a) for a in ("E", "C", "conv", "bn")):
            m.forward = (lambda xr, _m=m: _vmap_safe_factorized_reduce(xr, _m))  # type: ignore[method-assign]


def _use_batch_stats(net: nn.Module) -> None:
    """Make every BatchNorm use batch statistics (no running stats), in place."""
    for m in net.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.running_mean = None
            m.running_var = None
            m.num_batches_tracked = None
            m.track_running_stats = False


class FunctionalNet:
    """A network called functionally: ``fnet(weights, alphas, x) -> logits``.

    Args:
        net: a :class:`~warmnas.nas.supernet.Supernet` (its ``alphas`` are the architecture
            parameters) or any ``nn.Module`` (fixed architecture, no alphas). It is deep-copied;
            the copy's BatchNorm layers use batch statistics.

    Attributes:
        alpha_keys: the alpha names (``("normal", "reduce")``, ``("cell",)`` or ``()``).
        weight_names: the weight parameter names (alphas excluded).
    """

    def __init__(self, net: nn.Module) -> None:
        if not isinstance(net, nn.Module):
            raise InputTypeError(f"net must be an nn.Module, got {type(net).__name__}")
        self.net = copy.deepcopy(net)
        _use_batch_stats(self.net)
        _make_vmap_safe(self.net)
        self.net.train()
        space = getattr(self.net, "space", None)
        has_alphas = isinstance(getattr(self.net, "alphas", None), nn.ParameterDict)
        self.alpha_keys: tuple[str, ...] = (tuple(space.cell_types) if has_alphas and space
                                            else ())
        self.weight_names = [n for n, _ in self.net.named_parameters()
                             if not n.startswith("alphas.")]
        for p in self.net.parameters():
            p.requires_grad_(False)

    @property
    def has_alphas(self) -> bool:
        return bool(self.alpha_keys)

    def split(self, module: nn.Module) -> tuple[Params, Params]:
        """Detached copies ``(weights, alphas)`` of the parameters of ``module`` (same kind)."""
        named = dict(module.named_parameters())
        weights = {n: named[n].detach().clone() for n in self.weight_names}
        alphas = {k: named[f"alphas.{k}"].detach().clone() for k in self.alpha_keys}
        return weights, alphas

    def __call__(self, weights: Params, alphas: Params, x: torch.Tensor) -> torch.Tensor:
        params = dict(weights)
        for k, a in alphas.items():
            params[f"alphas.{k}"] = a
        return torch.func.functional_call(self.net, params, (x,), strict=False)


def _stack(p: Params, n: int) -> Params:
    return {k: v.unsqueeze(0).expand(n, *v.shape).clone() for k, v in p.items()}


class InnerOptimizer:
    """Functional SGD / Adam over parameter dicts (any leading dims; updates are elementwise).

    Args:
        kind: ``"adam"`` or ``"sgd"``.
        lr: learning rate.
        betas: Adam betas (MetaNAS and Reptile use ``(0.0, 0.999)`` in the inner loop).
        momentum: SGD momentum.
        weight_decay: coupled L2 weight decay.
        eps: Adam epsilon.
    """

    def __init__(self, kind: str = "adam", lr: float = 1e-3, *,
                 betas: tuple[float, float] = (0.0, 0.999), momentum: float = 0.0,
                 weight_decay: float = 0.0, eps: float = 1e-8) -> None:
        if kind not in ("adam", "sgd"):
            raise InputError(f"inner optimizer must be 'adam' or 'sgd', got {kind!r}")
        if not isinstance(lr, (int, float)) or isinstance(lr, bool) or not lr >= 0 \
                or not math.isfinite(lr):
            raise InputError(f"lr must be a finite number >= 0, got {lr!r}")
        self.kind, self.lr = kind, float(lr)
        self.betas = (float(betas[0]), float(betas[1]))
        self.momentum, self.weight_decay, self.eps = float(momentum), float(weight_decay), eps

    def init(self, params: Params) -> dict[str, Any]:
        """A fresh state for ``params``."""
        zeros = {k: torch.zeros_like(v) for k, v in params.items()}
        if self.kind == "sgd":
            return {"buf": zeros, "step": 0}
        return {"m": zeros, "v": {k: torch.zeros_like(v) for k, v in params.items()}, "step": 0}

    @torch.no_grad()
    def step(self, params: Params, grads: Params, state: dict[str, Any]) -> Params:
        """Return the updated parameters (new tensors; ``state`` is updated in place)."""
        state["step"] += 1
        out: Params = {}
        for k, p in params.items():
            g = grads[k]
            if self.weight_decay:
                g = g + self.weight_decay * p
            if self.kind == "sgd":
                if self.momentum:
                    buf = state["buf"][k].mul_(self.momentum).add_(g)
                    g = buf
                out[k] = p - self.lr * g
            else:
                b1, b2 = self.betas
                m = state["m"][k].mul_(b1).add_(g, alpha=1 - b1)
                v = state["v"][k].mul_(b2).addcmul_(g, g, value=1 - b2)
                t = state["step"]
                denom = (v / (1 - b2 ** t)).sqrt_().add_(self.eps)
                out[k] = p - (self.lr / (1 - b1 ** t)) * m / denom
        return out


def _clip(grads: Params, max_norm: float | None) -> Params:
    """Per-task global-norm clipping of stacked gradients ``(T, ...)``."""
    if not max_norm:
        return grads
    sq = sum(g.flatten(1).pow(2).sum(dim=1) for g in grads.values())
    coef = (max_norm / (torch.sqrt(sq) + 1e-6)).clamp(max=1.0)  # type: ignore[arg-type]
    return {k: g * coef.view(-1, *([1] * (g.dim() - 1))) for k, g in grads.items()}


def shuffle_sets(x: torch.Tensor, y: torch.Tensor, generator: torch.Generator | None
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """Shuffle each task's set ``(T, n, ...)`` independently."""
    keys = torch.rand(y.shape[0], y.shape[1], generator=generator, device=y.device)
    idx = keys.argsort(dim=1)
    return (torch.gather(x, 1, idx.view(*idx.shape, *([1] * (x.dim() - 2))).expand_as(x)),
            torch.gather(y, 1, idx))


def split_support(x: torch.Tensor, y: torch.Tensor, n_way: int
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Split stacked support sets ``(T, N*K, ...)`` (class-major order, as tasks are drawn)
    into a weight half and an arch half per class (needs ``K >= 2``).

    Raises:
        InputError: ``K < 2``.
    """
    T, NK = y.shape
    K = NK // n_way
    if K < 2:
        raise InputError("arch_batch='split' needs k_shot >= 2 (one half of each class for the "
                         "weights, one for the alphas); use arch_batch='support'")
    h = K // 2
    xs = x.view(T, n_way, K, *x.shape[2:])
    ys = y.view(T, n_way, K)
    return (xs[:, :, h:].reshape(T, -1, *x.shape[2:]), ys[:, :, h:].reshape(T, -1),
            xs[:, :, :h].reshape(T, -1, *x.shape[2:]), ys[:, :, :h].reshape(T, -1))


@dataclass
class InnerResult:
    """What :func:`inner_darts_steps` returns.

    Attributes:
        weights, alphas: the adapted parameters, stacked ``(T, ...)``.
        loss: ``(T,)`` weight-step loss of the last step.
    """

    weights: Params
    alphas: Params
    loss: torch.Tensor


def inner_darts_steps(fnet: FunctionalNet, weights: Params, alphas: Params,
                      x: torch.Tensor, y: torch.Tensor, *, steps: int,
                      w_opt: InnerOptimizer, a_opt: InnerOptimizer | None,
                      n_way: int | None = None, arch_batch: str = "support",
                      batch_size: int | None = None, generator: torch.Generator | None = None,
                      latency_penalty: LatencyPenalty | None = None,
                      grad_clip: float | None = None, autocast: bool = False) -> InnerResult:
    """Run ``steps`` first-order DARTS iterations on ``T`` tasks at once.

    Args:
        fnet: the functional network.
        weights, alphas: stacked ``(T, ...)`` starting parameters (``alphas`` may be empty).
        x: ``(T, n, C, H, W)`` support images; y: ``(T, n)`` labels.
        steps: iterations (0 returns the inputs).
        w_opt: the weight optimiser (fresh state per call).
        a_opt: the alpha optimiser, or None to keep the alphas fixed (warm-up / fixed arch).
        n_way: classes per task (needed for ``arch_batch="split"``).
        arch_batch: ``"support"`` (alpha and weight steps on the same support batch, as MetaNAS)
            or ``"split"`` (weights on one half of each class, alphas on the other).
        batch_size: images per step: step ``i`` uses the cyclic slice
            ``[i * batch_size, (i + 1) * batch_size)`` (mod n) of the set, so the sets should come
            in random order (Reptile's minibatches; graph-safe); None = all of it.
        generator: if given (and ``batch_size``), each task's set is shuffled first (not
            graph-safe: shuffle before the call, e.g. with :func:`shuffle_sets`, when capturing).
        latency_penalty: ``f(ce, alphas) -> loss`` for the alpha step, called per task with that
            task's 0-d cross-entropy and alphas (any callable, e.g. ``warmnas.hardware``'s).
        grad_clip: per-task global gradient-norm clip of the weight step.
        autocast: bf16 autocast on CUDA.

    Returns:
        An :class:`InnerResult`.
    """
    if arch_batch not in ("support", "split"):
        raise InputError(f"arch_batch must be 'support' or 'split', got {arch_batch!r}")
    if arch_batch == "split":
        if n_way is None:
            raise InputError("arch_batch='split' needs n_way")
        xw, yw, xa, ya = split_support(x, y, n_way)
    else:
        xw, yw, xa, ya = x, y, x, y
    learn_alpha = a_opt is not None and bool(alphas)
    use_amp = autocast and x.device.type == "cuda"

    def amp() -> Any:
        return torch.autocast("cuda", dtype=torch.bfloat16) if use_amp else _null()

    def w_loss(w: Params, a: Params, xb: torch.Tensor, yb: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor]:
        with amp():
            logits = fnet(w, a, xb)
        loss = F.cross_entropy(logits.float(), yb)
        return loss, loss.detach()

    def a_ce(a: Params, w: Params, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        with amp():
            logits = fnet(w, a, xb)
        return F.cross_entropy(logits.float(), yb)

    w_grad = torch.func.vmap(torch.func.grad(w_loss, has_aux=True), randomness="different")
    a_grad = (torch.func.vmap(torch.func.grad(a_ce), randomness="different")
              if latency_penalty is None else _penalised_alpha_grad(a_ce, latency_penalty))
    w_state = w_opt.init(weights)
    a_state = a_opt.init(alphas) if learn_alpha and a_opt is not None else None
    loss = torch.zeros(x.shape[0], device=x.device)

    if generator is not None and batch_size is not None:
        xw, yw = shuffle_sets(xw, yw, generator)
        if arch_batch == "split":
            xa, ya = shuffle_sets(xa, ya, generator)
        else:
            xa, ya = xw, yw

    def draw(xb: torch.Tensor, yb: torch.Tensor, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Cyclic minibatch ``step`` of the (pre-shuffled) set: no random draw, graph-safe."""
        n = yb.shape[1]
        if batch_size is None or batch_size >= n:
            return xb, yb
        idx = (torch.arange(batch_size, device=yb.device) + step * batch_size) % n
        return xb.index_select(1, idx), yb.index_select(1, idx)

    for step in range(steps):
        if learn_alpha and a_opt is not None and a_state is not None:
            xab, yab = draw(xa, ya, step)
            ga = a_grad(alphas, {k: v.detach() for k, v in weights.items()}, xab, yab)
            alphas = a_opt.step(alphas, ga, a_state)
        xwb, ywb = draw(xw, yw, step)
        gw, loss = w_grad(weights, {k: v.detach() for k, v in alphas.items()}, xwb, ywb)
        gw = _clip(gw, grad_clip)
        weights = w_opt.step(weights, gw, w_state)
    return InnerResult(weights, alphas, loss)


def _penalised_alpha_grad(ce_fn: Callable[..., torch.Tensor], penalty: LatencyPenalty,
                          in_dims: tuple[int | None, ...] = (0, 0, 0, 0)
                          ) -> Callable[..., Params]:
    """Per-task alpha gradients of ``penalty(ce_t, alphas_t)``: the cross-entropies come from
    one ``vmap``-ed forward pass, the penalty is applied task by task outside ``vmap`` (so any
    callable works, also one with data-dependent checks), and ordinary autograd differentiates
    the sum over tasks (the tasks are independent, so that gives each task's gradient)."""

    def grad_fn(alphas: Params, weights: Params, x: torch.Tensor, y: torch.Tensor) -> Params:
        with torch.enable_grad():
            a = {k: v.detach().requires_grad_(True) for k, v in alphas.items()}
            ce = torch.func.vmap(ce_fn, in_dims=in_dims, randomness="different")(a, weights, x, y)
            total = sum(apply_latency_penalty(penalty, ce[t], {k: v[t] for k, v in a.items()})
                        for t in range(ce.shape[0]))
            grads = torch.autograd.grad(total, list(a.values()))  # type: ignore[arg-type]
        return dict(zip(a.keys(), grads))

    return grad_fn


class _null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: Any) -> None:
        return None


@torch.no_grad()
def query_accuracy(fnet: FunctionalNet, weights: Params, alphas: Params, x: torch.Tensor,
                   y: torch.Tensor, *, autocast: bool = False
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-task accuracy and cross-entropy ``(T,)`` of stacked parameters on ``(T, n, ...)``
    query sets (batch statistics over each task's query set: transductive, as in MAML/Reptile)."""
    use_amp = autocast and x.device.type == "cuda"

    def one(w: Params, a: Params, xb: torch.Tensor, yb: torch.Tensor
            ) -> tuple[torch.Tensor, torch.Tensor]:
        if use_amp:
            with torch.autocast("cuda", dtype=torch.bfloat16):
                logits = fnet(w, a, xb)
        else:
            logits = fnet(w, a, xb)
        logits = logits.float()
        return (logits.argmax(dim=1) == yb).float().mean(), F.cross_entropy(logits, yb)

    acc, loss = torch.func.vmap(one, randomness="different")(weights, alphas, x, y)
    return acc, loss


def stack_params(p: Params, n: int) -> Params:
    """``n`` copies of ``p`` along a new leading dimension."""
    return _stack(p, n)


def run_tasks(fnet: FunctionalNet, w0: Params, a0: Params, support_x: torch.Tensor,
              support_y: torch.Tensor, query_x: torch.Tensor, query_y: torch.Tensor, *,
              mode: str, steps: int, w_opt: InnerOptimizer, a_opt: InnerOptimizer | None,
              n_way: int, arch_batch: str = "support", batch_size: int | None = None,
              generator: torch.Generator | None = None,
              latency_penalty: LatencyPenalty | None = None, grad_clip: float | None = None,
              autocast: bool = False) -> dict[str, Any]:
    """Adapt ``T`` tasks from the shared start ``(w0, a0)`` and summarise them.

    One function for every use, so it can be captured whole as a CUDA graph:

    * ``mode="reptile"``: ``dw = sum_t (w0 - w_t)``, ``da = sum_t (a0 - a_t)`` (the Reptile
      meta-gradient times ``T``);
    * ``mode="fomaml"``: ``dw``, ``da`` = sum over tasks of the query-loss gradient at the adapted
      parameters (first-order MAML; the alpha part includes ``latency_penalty``);
    * ``mode="score"``: the adapted alphas ``alphas`` (``(T, ...)``), for :meth:`MetaNAS.adapt`.

    Always returns ``acc`` and ``loss``: per-task query accuracy and cross-entropy ``(T,)``.
    """
    T = support_x.shape[0]
    res = inner_darts_steps(fnet, _stack(w0, T), _stack(a0, T), support_x, support_y,
                            steps=steps, w_opt=w_opt, a_opt=a_opt, n_way=n_way,
                            arch_batch=arch_batch, batch_size=batch_size, generator=generator,
                            latency_penalty=latency_penalty, grad_clip=grad_clip,
                            autocast=autocast)
    out: dict[str, Any] = {}
    learn_alpha = a_opt is not None and bool(a0)
    if mode == "fomaml":
        use_amp = autocast and query_x.device.type == "cuda"

        def qloss(w: Params, a: Params, x: torch.Tensor, y: torch.Tensor
                  ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
            if use_amp:
                with torch.autocast("cuda", dtype=torch.bfloat16):
                    logits = fnet(w, a, x)
            else:
                logits = fnet(w, a, x)
            logits = logits.float()
            ce = F.cross_entropy(logits, y)
            return ce, ((logits.argmax(dim=1) == y).float().mean().detach(), ce.detach())

        if learn_alpha and latency_penalty is not None:
            # alpha part: query CE + penalty, task by task outside vmap (any callable works)
            def qce(a: Params, w: Params, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
                if use_amp:
                    with torch.autocast("cuda", dtype=torch.bfloat16):
                        return F.cross_entropy(fnet(w, a, x).float(), y)
                return F.cross_entropy(fnet(w, a, x).float(), y)

            ga = _penalised_alpha_grad(qce, latency_penalty)(
                res.alphas, {k: v.detach() for k, v in res.weights.items()}, query_x, query_y)
            fn = torch.func.vmap(torch.func.grad(qloss, has_aux=True), randomness="different")
            gw, (acc, ce) = fn(res.weights, {k: v.detach() for k, v in res.alphas.items()},
                               query_x, query_y)
        elif learn_alpha:
            fn = torch.func.vmap(torch.func.grad(qloss, argnums=(0, 1), has_aux=True),
                                 randomness="different")
            (gw, ga), (acc, ce) = fn(res.weights, res.alphas, query_x, query_y)
        else:
            fn = torch.func.vmap(torch.func.grad(qloss, has_aux=True), randomness="different")
            gw, (acc, ce) = fn(res.weights, res.alphas, query_x, query_y)
            ga = {}
        out["dw"] = {k: g.sum(0) for k, g in gw.items()}
        out["da"] = {k: g.sum(0) for k, g in ga.items()}
    else:
        acc, ce = query_accuracy(fnet, res.weights, res.alphas, query_x, query_y,
                                 autocast=autocast)
        if mode == "reptile":
            with torch.no_grad():
                out["dw"] = {k: (w0[k].unsqueeze(0) - v).sum(0) for k, v in res.weights.items()}
                out["da"] = ({k: (a0[k].unsqueeze(0) - v).sum(0) for k, v in res.alphas.items()}
                             if learn_alpha else {})
        elif mode == "score":
            out["alphas"] = {k: v.detach() for k, v in res.alphas.items()}
        else:
            raise InputError(f"mode must be 'reptile', 'fomaml' or 'score', got {mode!r}")
    out["acc"] = acc
    out["loss"] = ce
    return out


def _tree_map(fn: Callable[[torch.Tensor], Any], tree: Any) -> Any:
    if isinstance(tree, torch.Tensor):
        return fn(tree)
    if isinstance(tree, dict):
        return {k: _tree_map(fn, v) for k, v in tree.items()}
    return tree


def _tree_leaves(tree: Any) -> list[torch.Tensor]:
    if isinstance(tree, torch.Tensor):
        return [tree]
    if isinstance(tree, dict):
        return [leaf for v in tree.values() for leaf in _tree_leaves(v)]
    return []


def _reldiff(a: Any, b: Any) -> float:
    """Relative L2 difference of the float leaves of two trees (0 if there are none)."""
    num = den = 0.0
    for x, y in zip(_tree_leaves(a), _tree_leaves(b)):
        if x.is_floating_point():
            num += float(torch.linalg.vector_norm((x - y).double())) ** 2
            den += float(torch.linalg.vector_norm(y.double())) ** 2
    return math.sqrt(num) / (math.sqrt(den) + 1e-12)


def graph_check(first: dict[str, Any], eager: dict[str, Any], graphed: dict[str, Any],
                keys: tuple[str, ...], tol: float) -> tuple[bool, str]:
    """Whether a graph replay agrees with eager execution (see :class:`GraphedCall`).

    Args:
        first, eager: two eager results on the same inputs (their difference is the noise).
        graphed: the graph replay's result on those inputs.
        keys: the output keys compared.
        tol: the relative L2 difference always accepted.

    Returns:
        ``(ok, report)``: every key within ``max(tol, 3 x noise + tol)``, and the figures.
    """
    report = []
    ok = True
    for key in keys:
        if key not in graphed:
            continue
        diff = _reldiff(graphed[key], eager[key])
        noise = _reldiff(first[key], eager[key])
        report.append(f"{key} {diff:.3g} (eager vs eager {noise:.3g})")
        if not diff <= max(tol, 3.0 * noise + tol):
            ok = False
    return ok, "; ".join(report)


def _tree_copy_(dst: Any, src: Any) -> None:
    for a, b in zip(_tree_leaves(dst), _tree_leaves(src)):
        a.copy_(b)


class GraphedCall:
    """Call ``fn(inputs) -> outputs`` (dicts of tensors) eagerly, or replay it as a CUDA graph.

    The first call on CUDA runs ``fn`` eagerly ``warmup`` (at least 2) times on a side stream,
    captures it, replays the capture on the same inputs and compares the result with the last
    eager one, key by key (``check_keys``; relative L2 difference). Eager runs on identical
    inputs differ from each other too (atomic adds in backward kernels; Adam with ``beta1 = 0``
    turns tiny gradient differences into sign flips), so a key passes when its graph-vs-eager
    difference is at most ``max(tol, 3 x eager-vs-eager + tol)``. If capture fails or a key
    does not pass, a warning is logged and every later call runs eagerly, so a graph problem
    costs speed, never correctness. ``check_report`` keeps the figures. Later calls copy the inputs into the captured buffers, replay, and return
    clones of the outputs.

    Args:
        fn: a function of one dict of tensors, free of host synchronisation and of random draws.
        enabled: capture at all (False: always eager).
        warmup: eager runs before capture.
        tol: relative tolerance of the capture check.
        check_keys: the output keys compared (accuracies can flip on ties, so they are not).
    """

    def __init__(self, fn: Callable[[dict[str, Any]], dict[str, Any]], *, enabled: bool = True,
                 warmup: int = 2, tol: float = 2e-2,
                 check_keys: tuple[str, ...] = ("dw", "da", "alphas", "loss")) -> None:
        self.fn = fn
        self.enabled = enabled
        self.warmup = warmup
        self.tol = tol
        self.check_keys = check_keys
        self.graph: Any = None
        self.failed = False
        self.check_report = ""
        self._in: Any = None
        self._out: Any = None

    @property
    def active(self) -> bool:
        """Whether calls replay a captured graph."""
        return self.graph is not None and not self.failed

    def __call__(self, inputs: dict[str, Any]) -> dict[str, Any]:
        leaves = _tree_leaves(inputs)
        on_cuda = bool(leaves) and leaves[0].device.type == "cuda"
        if not self.enabled or self.failed or not on_cuda:
            return self.fn(inputs)
        if self.graph is None:
            return self._capture(inputs)
        _tree_copy_(self._in, inputs)
        self.graph.replay()
        return _tree_map(lambda t: t.clone(), self._out)

    def _capture(self, inputs: dict[str, Any]) -> dict[str, Any]:
        import logging

        log = logging.getLogger(__name__)
        self._in = _tree_map(lambda t: t.clone(), inputs)
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        eager_runs: list[Any] = []
        try:
            with torch.cuda.stream(stream):
                for _ in range(max(2, self.warmup)):
                    eager_runs.append(self.fn(self._in))
            torch.cuda.current_stream().wait_stream(stream)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph, stream=stream):
                out = self.fn(self._in)
            torch.cuda.current_stream().wait_stream(stream)
            graph.replay()
            torch.cuda.synchronize()
        except Exception as exc:  # any capture problem falls back to eager
            log.warning("CUDA graph capture failed (%s: %s); running eagerly",
                        type(exc).__name__, exc)
            self.failed = True
            torch.cuda.synchronize()
            return eager_runs[-1] if eager_runs else self.fn(inputs)
        first, eager = eager_runs[0], eager_runs[-1]
        ok, report = graph_check(first, eager, out, self.check_keys, self.tol)
        self.check_report = report
        if not ok:
            log.warning("CUDA graph replay differs from the eager run beyond eager's own "
                        "run-to-run difference (relative L2: %s); running eagerly",
                        self.check_report)
            self.failed = True
            return eager
        log.info("CUDA graph captured (relative L2 vs eager: %s)", self.check_report)
        self.graph, self._out = graph, out
        return _tree_map(lambda t: t.clone(), out)
