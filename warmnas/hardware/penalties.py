"""Latency penalties and rewards for hardware-aware search.

Differentiable search (the ``latency_penalty`` hook of :class:`warmnas.nas.DARTSSearch`: the
architecture step minimises ``penalty(ce_loss, alphas)`` instead of ``ce_loss``):

* :class:`AdditiveLatencyPenalty` (ProxylessNAS): ``CE + lambda * (E[LAT] - T) / T``.
* :class:`MultiplicativeLatencyPenalty` (FBNet): ``CE * a * log(E[LAT])^b`` (FBNet uses
  ``a = 0.2, b = 0.6``).

Discrete / black-box search:

* :func:`mnasnet_reward` (MnasNet): ``ACC * (LAT / T)^w`` with ``w = -0.07`` on both sides (soft)
  or ``w = 0`` below and ``-1`` above the target (hard).
* :func:`latency_penalized_acquisition`: a botorch ``PenalizedAcquisitionFunction`` whose penalty
  is the latency excess ``max(LAT(x) - T, 0) / T`` (or the linear ``(LAT(x) - T) / T``).

``E[LAT]`` comes from any :class:`~warmnas.hardware.base.LatencyModel` (its
``expected_latency(alphas)``, differentiable in ``alphas``). With
``DARTSSearch(latency_weights="sample")`` the search hands the penalty the logits of its
Gumbel-softmax sample instead of the alphas, so the same penalties price FBNet's ``LAT(a)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from warmnas.errors import InputError, InputTypeError
from warmnas.hardware.base import AdditiveLatencyModel, LatencyModel

__all__ = [
    "AdditiveLatencyPenalty",
    "MultiplicativeLatencyPenalty",
    "latency_penalty",
    "mnasnet_reward",
    "LatencyAcquisitionPenalty",
    "linear_latency_function",
    "latency_penalized_acquisition",
]


def _positive(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputTypeError(f"{name} must be a positive number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise InputError(f"{name} must be a positive finite number, got {value}")
    return value


def _nonneg(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputTypeError(f"{name} must be a number >= 0, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise InputError(f"{name} must be a finite number >= 0, got {value}")
    return value


def _check_model(model: Any) -> LatencyModel:
    if not isinstance(model, LatencyModel):
        raise InputTypeError(
            "model must be a LatencyModel (predict(arch) and expected_latency(alphas)), got "
            f"{type(model).__name__}"
        )
    return model


class AdditiveLatencyPenalty:
    """ProxylessNAS-style penalty: ``loss = CE + weight * (E[LAT] - T) / T``.

    Args:
        model: the latency model of the target device.
        target_ms: the latency target ``T`` (ms).
        weight: ``lambda`` (>= 0); 0 gives plain CE.

    Call as ``penalty(ce_loss, alphas) -> loss`` (a 0-d tensor with gradients to ``alphas``).
    """

    def __init__(self, model: LatencyModel, target_ms: float, weight: float = 0.1) -> None:
        self.model = _check_model(model)
        self.target_ms = _positive(target_ms, "target_ms")
        self.weight = _nonneg(weight, "weight")

    def __call__(self, ce_loss: torch.Tensor, alphas: Mapping[str, torch.Tensor]) -> torch.Tensor:
        if self.weight == 0.0:
            return ce_loss
        lat = self.model.expected_latency(alphas).to(ce_loss.dtype)
        return ce_loss + self.weight * (lat - self.target_ms) / self.target_ms

    def __repr__(self) -> str:
        return (f"AdditiveLatencyPenalty(device={self.model.device.name!r}, "
                f"target_ms={self.target_ms}, weight={self.weight})")


class MultiplicativeLatencyPenalty:
    """FBNet-style penalty: ``loss = CE * alpha * log(E[LAT] / unit_ms)^beta``.

    Args:
        model: the latency model of the target device.
        alpha: scale ``a`` (FBNet: 0.2).
        beta: exponent ``b`` (FBNet: 0.6); 0 turns the penalty off (loss = ``alpha * CE``).
        unit_ms: latency unit inside the log (FBNet: ms). The log must stay positive, so the
            expected latency must exceed one unit; use ``unit_ms=0.001`` (microseconds) for
            sub-millisecond devices.

    Raises (on call):
        InputError: the expected latency is not above ``unit_ms`` (the log would be <= 0).
            That check reads the value back to the host (a device sync on CUDA); it is skipped
            for an :class:`~warmnas.hardware.base.AdditiveLatencyModel` (the HW-NAS-Bench
            tables) whose fastest network already costs more than ``unit_ms``, since then no
            alpha can bring the expected latency down to it.
    """

    def __init__(self, model: LatencyModel, alpha: float = 0.2, beta: float = 0.6,
                 unit_ms: float = 1.0) -> None:
        self.model = _check_model(model)
        self.alpha = _positive(alpha, "alpha")
        self.beta = _nonneg(beta, "beta")
        self.unit_ms = _positive(unit_ms, "unit_ms")
        floor = _latency_floor(self.model)
        # a margin for float32 rounding of E[LAT]
        self._check = floor is None or not floor > self.unit_ms * 1.001

    def __call__(self, ce_loss: torch.Tensor, alphas: Mapping[str, torch.Tensor]) -> torch.Tensor:
        lat = self.model.expected_latency(alphas).to(ce_loss.dtype)
        log_lat = torch.log(lat / self.unit_ms)
        if self._check and not bool(log_lat.detach() > 0):
            raise InputError(
                f"expected latency {float(lat.detach()):.4g} ms is not above unit_ms={self.unit_ms}, so "
                "log(LAT) <= 0 and the FBNet penalty is undefined; pass a smaller unit_ms "
                "(e.g. 0.001 for microseconds)"
            )
        return ce_loss * self.alpha * log_lat ** self.beta

    def __repr__(self) -> str:
        return (f"MultiplicativeLatencyPenalty(device={self.model.device.name!r}, alpha={self.alpha}, "
                f"beta={self.beta}, unit_ms={self.unit_ms})")


def _latency_floor(model: LatencyModel) -> float | None:
    """The lowest ``expected_latency`` of an additive model over all alphas (ms): every row's
    weights lie on the simplex, so it is reached at the cheapest op of every row (the dearest
    if ``scale < 0``); None for other models."""
    if not isinstance(model, AdditiveLatencyModel):
        return None
    total = 0.0
    for key in model.costs:
        cost = np.asarray(model._weighted_costs(key), dtype=np.float64)
        total += float((cost.min(axis=1) if model.scale >= 0 else cost.max(axis=1)).sum())
    return float(model.intercept + model.scale * total)


def latency_penalty(model: LatencyModel, kind: str = "additive", **kwargs: Any
                    ) -> Callable[[torch.Tensor, Mapping[str, torch.Tensor]], torch.Tensor]:
    """Build a ``latency_penalty(ce_loss, alphas) -> loss`` callable for the search.

    Args:
        model: the latency model of the target device.
        kind: ``"additive"`` (ProxylessNAS; kwargs ``target_ms``, ``weight``) or
            ``"multiplicative"`` (FBNet; kwargs ``alpha``, ``beta``, ``unit_ms``).

    Raises:
        InputError: unknown kind or bad arguments.
    """
    if kind == "additive":
        return AdditiveLatencyPenalty(model, **kwargs)
    if kind == "multiplicative":
        return MultiplicativeLatencyPenalty(model, **kwargs)
    raise InputError(f"kind must be 'additive' or 'multiplicative', got {kind!r}")


def mnasnet_reward(accuracy: Any, latency: Any, target_ms: float, *, w: float = -0.07,
                   hard: bool = False) -> np.ndarray:
    """MnasNet's multi-objective reward ``ACC * (LAT / T)^w``.

    Args:
        accuracy: accuracies (any positive scale), array-like.
        latency: latencies (ms), same shape.
        target_ms: the target ``T``.
        w: the exponent of the soft form (MnasNet: -0.07) applied on both sides of ``T``.
        hard: the hard-constraint form: exponent 0 when ``LAT <= T`` and -1 above it.

    Returns:
        The rewards, an array of the broadcast shape (a 0-d array for scalars).

    Raises:
        InputError: NaN, non-positive latencies, or a bad target.
    """
    target = _positive(target_ms, "target_ms")
    try:
        acc = np.asarray(accuracy, dtype=np.float64)
        lat = np.asarray(latency, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputTypeError(f"accuracy and latency must be numeric: {exc}") from exc
    if not np.isfinite(acc).all() or not np.isfinite(lat).all() or (lat <= 0).any():
        raise InputError("accuracy must be finite and latency finite and positive")
    if not math.isfinite(w):
        raise InputError(f"w must be finite, got {w}")
    ratio = lat / target
    if hard:
        return acc * np.where(lat <= target, 1.0, ratio ** -1.0)
    return acc * ratio ** float(w)


class LatencyAcquisitionPenalty(nn.Module):
    """Latency penalty of candidate points for a botorch ``PenalizedAcquisitionFunction``.

    Args:
        latency_fn: maps inputs ``X`` of shape ``(..., d)`` to latencies (ms) of shape ``(...)``
            (differentiable if the acquisition is optimised by gradients).
        target_ms: the target ``T``.
        kind: ``"hinge"`` (default): ``max(LAT - T, 0) / T`` (only violations cost);
            ``"linear"``: ``(LAT - T) / T`` (ProxylessNAS-style, also rewards faster points).

    ``forward(X)`` takes ``(b, q, d)`` and returns ``(b,)``: the penalty summed over the q points.
    """

    def __init__(self, latency_fn: Callable[[torch.Tensor], torch.Tensor], target_ms: float,
                 kind: str = "hinge") -> None:
        super().__init__()
        if not callable(latency_fn):
            raise InputTypeError("latency_fn must be callable: X (..., d) -> latency (...)")
        if kind not in ("hinge", "linear"):
            raise InputError(f"kind must be 'hinge' or 'linear', got {kind!r}")
        self.latency_fn = latency_fn
        self.target_ms = _positive(target_ms, "target_ms")
        self.kind = kind

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        if X.dim() < 2:
            raise InputError(f"X must have shape (b, q, d) or (q, d), got {tuple(X.shape)}")
        lat = self.latency_fn(X)
        if lat.shape != X.shape[:-1]:
            raise InputError(f"latency_fn must return shape {tuple(X.shape[:-1])}, got {tuple(lat.shape)}")
        excess = (lat - self.target_ms) / self.target_ms
        if self.kind == "hinge":
            excess = torch.clamp(excess, min=0.0)
        return excess.sum(dim=-1)


def linear_latency_function(model: AdditiveLatencyModel) -> Callable[[torch.Tensor], torch.Tensor]:
    """The latency of flattened one-hot encodings under an additive model, as a torch function.

    The encoding concatenates the ``(n_edges * n_ops)`` one-hots of the alpha keys in sorted key
    order (NB201: 30 dims; DARTS: ``normal`` then ``reduce``, 224 dims). Relaxed (fractional)
    encodings give the expected latency, so the function suits continuous acquisition optimisers.

    Returns:
        ``f(X (..., d)) -> (...)`` ms.
    """
    if not isinstance(model, AdditiveLatencyModel):
        raise InputTypeError(f"model must be an AdditiveLatencyModel, got {type(model).__name__} "
                             "(for a MeasuredLatencyTable or a PublishedLatencyTable pass "
                             "table.additive_model())")
    flat = np.concatenate([model.costs[k].ravel() for k in sorted(model.costs)])
    intercept, scale = model.intercept, model.scale

    def f(X: torch.Tensor) -> torch.Tensor:
        if X.shape[-1] != flat.size:
            raise InputError(f"X must have {flat.size} features (one-hot encodings), got {X.shape[-1]}")
        w = torch.as_tensor(flat, dtype=X.dtype, device=X.device)
        return intercept + scale * (X @ w)

    return f


def latency_penalized_acquisition(acqf: Any, latency_fn: Callable[[torch.Tensor], torch.Tensor],
                                  target_ms: float, weight: float = 1.0, kind: str = "hinge") -> Any:
    """Wrap a botorch acquisition function with a latency penalty.

    Returns ``botorch.acquisition.penalized.PenalizedAcquisitionFunction(acqf, penalty, weight)``,
    i.e. ``acqf(X) - weight * penalty(X)`` with :class:`LatencyAcquisitionPenalty`.

    Args:
        acqf: a botorch ``AcquisitionFunction`` (e.g. ``LogExpectedImprovement``).
        latency_fn: ``X (..., d) -> latency (...)`` ms (see :func:`linear_latency_function`).
        target_ms: the target ``T``.
        weight: the regularisation parameter (>= 0).
        kind: ``"hinge"`` or ``"linear"``.
    """
    from botorch.acquisition import AcquisitionFunction
    from botorch.acquisition.penalized import PenalizedAcquisitionFunction

    if not isinstance(acqf, AcquisitionFunction):
        raise InputTypeError(f"acqf must be a botorch AcquisitionFunction, got {type(acqf).__name__}")
    penalty = LatencyAcquisitionPenalty(latency_fn, target_ms, kind=kind)
    return PenalizedAcquisitionFunction(acqf, penalty, _nonneg(weight, "weight"))
