"""Log expected improvement on a discrete set of candidates, numerically stable, float64.

The analytic LogEI of Ament et al. (2023, "Unexpected improvements to expected improvement"),
the same quantity as ``botorch.acquisition.analytic.LogExpectedImprovement`` (the tests check the
two agree), written for a posterior given as a mixture of Gaussians per candidate, which is what
the PMF warm starter produces (a mixture over the new task's unknown scale and over neighbour
tasks). Everything here is for minimisation: improvement is ``best_f - f``.
"""

from __future__ import annotations

import math

import torch

__all__ = ["log_h", "log_expected_improvement", "mixture_log_expected_improvement"]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_SQRT_HALF_PI = math.sqrt(math.pi / 2.0)
_INV_SQRT2 = 1.0 / math.sqrt(2.0)


def _log1mexp(x: torch.Tensor) -> torch.Tensor:
    """``log(1 - exp(x))`` for ``x < 0``, accurate on the whole range."""
    return torch.where(
        x > -math.log(2.0), torch.log(-torch.expm1(x)), torch.log1p(-torch.exp(x))
    )


def log_h(z: torch.Tensor) -> torch.Tensor:
    """``log(phi(z) + z * Phi(z))``, the log of EI for a standard normal, stable for all ``z``.

    For ``z > -1`` the direct formula is exact enough. Below, with the Mills ratio
    ``Phi(z) / phi(z) = sqrt(pi / 2) * erfcx(-z / sqrt(2))``,
    ``h(z) = phi(z) * (1 - |z| * Phi(z) / phi(z))`` and the second factor is evaluated with
    ``log1mexp``; for ``z < -1e6`` the asymptote ``log phi(z) - 2 log|z|`` is used.

    Args:
        z: any shape, float64 recommended.

    Returns:
        Same shape as ``z``.
    """
    upper = z > -1.0
    z_up = torch.where(upper, z, torch.zeros_like(z))
    normal = torch.distributions.Normal(
        torch.zeros((), dtype=z.dtype, device=z.device),
        torch.ones((), dtype=z.dtype, device=z.device),
    )
    direct = torch.log(torch.exp(normal.log_prob(z_up)) + z_up * normal.cdf(z_up))
    z_lo = torch.where(upper, -torch.ones_like(z), z)
    log_phi = -0.5 * z_lo**2 - _LOG_SQRT_2PI
    very_low = z_lo < -1e6
    z_mid = torch.where(very_low, -torch.ones_like(z), z_lo)
    log_ratio = torch.log(-z_mid * _SQRT_HALF_PI * torch.special.erfcx(-z_mid * _INV_SQRT2))
    mid = log_phi + _log1mexp(log_ratio)
    asym = log_phi - 2.0 * torch.log(-z_lo)
    low = torch.where(very_low, asym, mid)
    return torch.where(upper, direct, low)


def log_expected_improvement(
    mean: torch.Tensor, std: torch.Tensor, best_f: float | torch.Tensor
) -> torch.Tensor:
    """Log expected improvement below ``best_f`` of ``N(mean, std**2)`` (minimisation).

    Args:
        mean, std: broadcastable tensors (``std > 0``).
        best_f: the best (lowest) value observed so far.

    Returns:
        ``log E[max(best_f - f, 0)]``, broadcast shape.
    """
    std = std.clamp_min(1e-12)
    return torch.log(std) + log_h((best_f - mean) / std)


def mixture_log_expected_improvement(
    means: torch.Tensor,
    stds: torch.Tensor,
    log_weights: torch.Tensor,
    best_f: float | torch.Tensor,
) -> torch.Tensor:
    """LogEI of a Gaussian mixture per candidate: ``log sum_j w_j EI_j``.

    Args:
        means, stds: ``n_components x n_candidates``.
        log_weights: ``n_components`` log mixture weights (summing to one in probability).
        best_f: the best (lowest) value observed so far.

    Returns:
        ``n_candidates``.
    """
    lei = log_expected_improvement(means, stds, best_f)
    return torch.logsumexp(log_weights[:, None] + lei, dim=0)
