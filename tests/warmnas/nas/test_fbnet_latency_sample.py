"""FBNet's LAT(a) (Wu et al. 2019): the latency term priced with the same Gumbel-softmax sample
that weights the blocks in the forward pass (``DARTSSearch(latency_weights="sample")``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from warmnas.errors import InputError
from warmnas.hardware.penalties import latency_penalty
from warmnas.hardware.tables import fbnet_lut_model
from warmnas.nas.fbnet import FBNET_SEARCH_SETTINGS, FBNetSupernet
from warmnas.nas.search import DARTSSearch, gumbel_logits, mixing_weights

from .conftest import tiny_images


def _numpy_sampled_latency(alpha: np.ndarray, g: np.ndarray, tau: float, costs: np.ndarray,
                           intercept: float) -> float:
    """FBNet's LAT(a) = sum_l sum_i m_li LAT(b_li), m = softmax((log_softmax(alpha) + g) / tau),
    written out in numpy (independent of the library)."""
    logp = alpha - alpha.max(axis=1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(axis=1, keepdims=True))
    z = (logp + g) / tau
    m = np.exp(z - z.max(axis=1, keepdims=True))
    m /= m.sum(axis=1, keepdims=True)
    return float(intercept + (m * costs).sum())


def test_sampled_latency_is_the_gumbel_mask_times_the_table_and_its_gradient_is_right(
        shared_data: Path) -> None:
    lut = fbnet_lut_model(shared_data, "pixel3")
    rng = np.random.default_rng(0)
    alpha_np = rng.normal(0.0, 0.5, size=(22, 9))
    g_np = -np.log(rng.exponential(size=(22, 9)))
    tau = 2.0
    alpha = torch.tensor(alpha_np, requires_grad=True)
    noise = {"layers": torch.tensor(g_np)}
    z = gumbel_logits({"layers": alpha}, noise, tau)
    # the logits' softmax is exactly the mixing weights of the forward pass
    assert torch.equal(torch.softmax(z["layers"], dim=-1),
                       mixing_weights("gumbel", {"layers": alpha}, noise, tau)["layers"])
    lat = lut.expected_latency(z)
    costs = lut.costs["layers"] * lut.scale
    want = _numpy_sampled_latency(alpha_np, g_np, tau, costs, lut.intercept)
    assert float(lat.detach()) == pytest.approx(want, rel=1e-12)
    # stochastic: not the expectation under softmax(alpha)
    assert abs(float(lat.detach()) - float(lut.expected_latency({"layers": alpha.detach()}))) > 1e-3
    (grad,) = torch.autograd.grad(lat, alpha)
    fd = np.zeros_like(alpha_np)
    h = 1e-6
    for i in range(22):
        for j in range(9):
            up, down = alpha_np.copy(), alpha_np.copy()
            up[i, j] += h
            down[i, j] -= h
            fd[i, j] = (_numpy_sampled_latency(up, g_np, tau, costs, lut.intercept)
                        - _numpy_sampled_latency(down, g_np, tau, costs, lut.intercept)) / (2 * h)
    np.testing.assert_allclose(grad.numpy(), fd, rtol=1e-5, atol=1e-9)


class _Spy:
    """A latency penalty that records what the search hands it, then prices it."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.seen = inner, []  # type: ignore[var-annotated]

    def __call__(self, ce: torch.Tensor, alphas: Any) -> torch.Tensor:
        self.seen.append({k: v.detach().clone() for k, v in alphas.items()})
        out: torch.Tensor = self.inner(ce, alphas)
        return out


def _spied_search(shared_data: Path, monkeypatch: pytest.MonkeyPatch, **kwargs: Any
                  ) -> tuple[DARTSSearch, _Spy, list[torch.Tensor]]:
    lut = fbnet_lut_model(shared_data, "pixel3")
    spy = _Spy(latency_penalty(lut, "multiplicative", alpha=0.2, beta=0.6))
    arch_weights: list[torch.Tensor] = []
    forward = FBNetSupernet.forward

    def recording(self: FBNetSupernet, x: torch.Tensor, weights: Any = None,
                  paths: Any = None) -> torch.Tensor:
        if weights is not None and weights["layers"].requires_grad:  # the architecture step
            arch_weights.append(weights["layers"].detach().clone())
        return forward(self, x, weights, paths)

    monkeypatch.setattr(FBNetSupernet, "forward", recording)
    X, y = tiny_images(32)
    settings = {**FBNET_SEARCH_SETTINGS, **kwargs}
    s = DARTSSearch("fbnet", C=2, epochs=1, batch_size=8, max_steps_per_epoch=2,
                    latency_penalty=spy, random_state=0, progress=False, **settings)
    return s.fit((X, y)), spy, arch_weights


def test_search_prices_the_sample_that_weights_the_forward_pass(
        shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s, spy, weights = _spied_search(shared_data, monkeypatch, latency_weights="sample")
    assert len(spy.seen) == len(weights) == 2
    for seen, w in zip(spy.seen, weights):
        assert torch.equal(torch.softmax(seen["layers"], dim=-1), w)
    # the default prices softmax(alpha): the hook gets the alpha logits themselves
    s2, spy2, weights2 = _spied_search(shared_data, monkeypatch)
    assert len(spy2.seen) == 2
    start = s2.supernet_.alphas["layers"].detach()  # after 2 steps; the first call saw the init
    assert not torch.equal(torch.softmax(spy2.seen[0]["layers"], -1), weights2[0])
    assert spy2.seen[0]["layers"].shape == start.shape
    assert float((spy2.seen[0]["layers"] - start).abs().max()) < 0.05  # alphas, not a sample
    # both runs start from the same alphas and noise; only the priced weights differ
    assert not torch.equal(s.alphas_["layers"], s2.alphas_["layers"])


def test_sample_option_is_checked_and_part_of_the_checkpoint(shared_data: Path,
                                                             tmp_path: Path) -> None:
    X, y = tiny_images(16)
    with pytest.raises(InputError, match="latency_weights must be 'softmax' .* or 'sample'"):
        DARTSSearch("fbnet", latency_weights="gumbel")._check_params()
    with pytest.raises(InputError, match="latency_weights='sample' prices FBNet's Gumbel"):
        DARTSSearch("fbnet", method="proxyless", latency_weights="sample")._check_params()
    lut = fbnet_lut_model(shared_data, "pixel3")
    pen = latency_penalty(lut, "multiplicative", alpha=0.2, beta=0.6)
    common: dict[str, Any] = dict(C=2, epochs=2, batch_size=8, max_steps_per_epoch=1,
                                  latency_penalty=pen, random_state=0, progress=False,
                                  checkpoint_dir=tmp_path, **FBNET_SEARCH_SETTINGS)
    DARTSSearch("fbnet", latency_weights="sample", max_time_s=1e-9, **common).fit((X, y))
    with pytest.raises(InputError, match="latency_weights: checkpoint 'sample'"):
        DARTSSearch("fbnet", **common).fit((X, y))


@pytest.mark.gpu
def test_penalised_sampled_latency_search_captures_as_cuda_graphs(cuda_device: str,
                                                                  shared_data: Path) -> None:
    """FBNet's full step (Gumbel sample, multiplicative penalty priced on the sample) captured
    as CUDA graphs gives the alphas of the eager steps: the penalty reads nothing back to the
    host on a table whose fastest network costs more than 1 ms (pixel3)."""
    lut = fbnet_lut_model(shared_data, "pixel3")
    pen = latency_penalty(lut, "multiplicative", alpha=0.2, beta=0.6)
    X, y = tiny_images(64)
    common: dict[str, Any] = dict(C=4, epochs=2, batch_size=16, max_steps_per_epoch=4,
                                  device=cuda_device, random_state=0, progress=False,
                                  autocast=False, latency_penalty=pen, latency_weights="sample",
                                  **FBNET_SEARCH_SETTINGS)
    eager = DARTSSearch("fbnet", cuda_graphs=False, **common).fit((X, y))
    graphs = DARTSSearch("fbnet", cuda_graphs=True, **common).fit((X, y))
    torch.testing.assert_close(graphs.alphas_["layers"], eager.alphas_["layers"], rtol=1e-4,
                               atol=1e-5)


def test_cli_latency_weights_sample(tmp_path: Path, shared_data: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from warmnas.cli import main

    X, y = tiny_images(32)
    np.savez(tmp_path / "d.npz", X=X, y=y)
    common = ["nas", "search", "--space", "fbnet", "--data", str(tmp_path / "d.npz"),
              "--data-dir", str(shared_data), "--epochs", "1", "--C", "2", "--batch-size", "8",
              "--max-steps-per-epoch", "1", "--no-progress", "--latency-device", "pixel3"]
    assert main(common + ["--latency-weights", "sample", "--json"]) == 0
    fb = json.loads(capsys.readouterr().out)["fbnet"]
    assert fb["latency_weights"] == "sample" and "Multiplicative" in fb["penalty"]
    assert main(common + ["--latency-weights", "sample", "--method", "darts"]) == 2
    assert "--latency-weights 'sample' prices FBNet's Gumbel" in capsys.readouterr().err
    assert main(["nas", "search", "--space", "nb201", "--latency-weights", "sample",
                 "--data", str(tmp_path / "d.npz")]) == 2
    assert "--latency-weights apply to --space fbnet" in capsys.readouterr().err
