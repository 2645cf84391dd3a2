"""The ``latency_penalty`` hook shared by the searches: its type and the one checked call.

A penalty is any callable ``f(ce_loss, alphas) -> loss`` (``warmnas.hardware.latency_penalty``
builds them). User callables can return anything, and a wrong return value used to fail deep
inside autograd ("grad can be implicitly created only for scalar outputs"); every search calls
the hook through :func:`apply_latency_penalty`, which names the hook and what it returned.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch

from warmnas.errors import InputError

LatencyPenalty = Callable[[torch.Tensor, Mapping[str, torch.Tensor]], torch.Tensor]

_FIX = ("latency_penalty must be f(ce_loss, alphas) -> loss, a differentiable scalar tensor "
        "built from ce_loss and the alpha tensors, e.g. ce + weight * expected_latency(alphas) "
        "(warmnas.hardware.latency_penalty builds one)")


def apply_latency_penalty(penalty: LatencyPenalty | None, ce: torch.Tensor,
                          alphas: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """``penalty(ce, alphas)`` checked to be a differentiable floating scalar (``ce`` if None).

    Only tensor metadata is read (no device synchronisation); a one-element result is reshaped
    to a scalar.

    Raises:
        InputError: the penalty returned a non-tensor, a non-floating or non-scalar tensor, or
            (while gradients are recorded) a tensor without a gradient path.
    """
    if penalty is None:
        return ce
    out = penalty(ce, alphas)
    if not isinstance(out, torch.Tensor):
        raise InputError(f"latency_penalty must return a torch.Tensor, got "
                         f"{type(out).__name__} ({out!r:.60}); {_FIX}.")
    if not out.dtype.is_floating_point:
        raise InputError(f"latency_penalty must return a floating-point tensor, got {out.dtype}; "
                         f"{_FIX}.")
    if out.numel() != 1:
        raise InputError(f"latency_penalty must return a scalar (one value), got a tensor of "
                         f"shape {tuple(out.shape)}; reduce it (e.g. .sum() or .mean()); {_FIX}.")
    if torch.is_grad_enabled() and ce.requires_grad and not out.requires_grad:
        raise InputError("latency_penalty returned a tensor with no gradient (detached, or not "
                         "computed from ce_loss or the alphas), so the alpha step would have "
                         f"nothing to follow; {_FIX}.")
    return out.reshape(())
