"""Log expected improvement against botorch's LogExpectedImprovement (the reference)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from warmnas.warmstart.acquisition import (
    log_expected_improvement,
    log_h,
    mixture_log_expected_improvement,
)


def test_log_ei_matches_botorch_log_expected_improvement():
    from botorch.acquisition.analytic import LogExpectedImprovement
    from botorch.models import SingleTaskGP

    gen = torch.Generator().manual_seed(0)
    X = torch.rand(12, 2, generator=gen, dtype=torch.float64)
    Y = torch.sin(6 * X[:, :1]) + 0.1 * torch.randn(12, 1, generator=gen, dtype=torch.float64)
    model = SingleTaskGP(X, Y)
    cand = torch.rand(200, 1, 2, generator=gen, dtype=torch.float64)
    best = float(Y.min())
    ref = LogExpectedImprovement(model, best_f=best, maximize=False)(cand)
    with torch.no_grad():
        post = model.posterior(cand.squeeze(1))
        mean, std = post.mean.squeeze(-1), post.variance.squeeze(-1).sqrt()
    ours = log_expected_improvement(mean, std, best)
    torch.testing.assert_close(ours, ref.detach(), rtol=1e-6, atol=1e-6)


def test_log_h_is_stable_and_matches_the_closed_form():
    z = torch.tensor([-1e9, -1e5, -40.0, -10.0, -1.0, -0.5, 0.0, 2.0, 30.0],
                     dtype=torch.float64, requires_grad=True)
    out = log_h(z)
    assert torch.isfinite(out).all()
    out.sum().backward()
    assert torch.isfinite(z.grad).all() and (z.grad > 0).all()  # increasing in z
    # where the direct formula is accurate it agrees: log(phi(z) + z Phi(z))
    from scipy.stats import norm

    for v in (-10.0, -1.0, -0.5, 0.0, 2.0):
        exact = math.log(norm.pdf(v) + v * norm.cdf(v))
        assert float(log_h(torch.tensor(v, dtype=torch.float64))) == pytest.approx(exact,
                                                                                    rel=1e-9)
    # far in the tail: log phi(z) - 2 log|z| (Mills ratio asymptote)
    v = -1e5
    assert float(log_h(torch.tensor(v, dtype=torch.float64))) == pytest.approx(
        norm.logpdf(v) - 2 * math.log(-v), rel=1e-9)


def test_mixture_log_ei_is_the_log_of_the_weighted_sum():
    rng = np.random.default_rng(0)
    means = torch.as_tensor(rng.normal(size=(4, 7)))
    stds = torch.as_tensor(rng.uniform(0.2, 1.0, size=(4, 7)))
    w = torch.as_tensor([0.1, 0.2, 0.3, 0.4]).log()
    best = -0.3
    ei = torch.exp(log_expected_improvement(means, stds, best))
    ref = torch.log((torch.exp(w)[:, None] * ei).sum(0))
    torch.testing.assert_close(mixture_log_expected_improvement(means, stds, w, best), ref)
