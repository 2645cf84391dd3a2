"""DARTSSearch on CPU: a tiny search changes alpha, seeds reproduce, errors are clear."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from warmnas.errors import InputError, InputTypeError, NotFittedError
from warmnas.nas.genotype import Genotype
from warmnas.nas.search import DARTSSearch, alpha_entropy, mixing_weights

from .conftest import tiny_images


@pytest.mark.parametrize("space,method,order", [
    ("nb201", "darts", 1), ("nb201", "drnas", 1), ("nb201", "gdas", 1), ("nb201", "darts", 2),
    ("darts", "darts", 1), ("darts", "drnas", 1), ("darts", "darts", 2),
])
def test_tiny_search_changes_alpha(space: str, method: str, order: int) -> None:
    X, y = tiny_images()
    init = {"cell": torch.zeros(6, 5)} if space == "nb201" else \
        {"normal": torch.zeros(14, 8), "reduce": torch.zeros(14, 8)}
    s = DARTSSearch(space, method=method, order=order, init_alpha=init, epochs=2, batch_size=8,
                    C=4, layers=1 if space == "nb201" else 3, max_steps_per_epoch=2,
                    random_state=0, progress=False)
    assert s.fit((X, y)) is s
    moved = sum(float((s.alphas_[k] - init[k]).abs().sum()) for k in init)
    assert moved > 0
    assert s.n_iter_ == 4 and len(s.history_) == 2
    rec = s.history_[-1]
    assert np.isfinite(rec["train_loss"]) and np.isfinite(rec["valid_loss"])
    assert set(rec["alpha_entropy"]) == set(init)
    if space == "darts":
        assert isinstance(s.genotype_, Genotype)
        assert Genotype.from_dict(rec["genotype"]) == s.genotype_
    else:
        assert isinstance(s.genotype_, str) and s.genotype_.startswith("|")
    assert s.result()["architecture"]["space"] == space


def test_same_seed_same_search() -> None:
    X, y = tiny_images()
    kw = dict(method="drnas", epochs=1, batch_size=8, C=4, layers=1, max_steps_per_epoch=3,
              progress=False)
    a = DARTSSearch("nb201", random_state=3, **kw).fit((X, y))
    b = DARTSSearch("nb201", random_state=3, **kw).fit((X, y))
    c = DARTSSearch("nb201", random_state=4, **kw).fit((X, y))
    assert torch.equal(a.alphas_["cell"], b.alphas_["cell"])
    assert not torch.equal(a.alphas_["cell"], c.alphas_["cell"])


def test_derive_exclude_reads_the_same_search_another_way() -> None:
    from warmnas.nas.nb201 import derive_arch

    X, y = tiny_images()
    # 'none' strongest on every edge at the start: the argmax cell is all 'none'
    init = {"cell": torch.tensor([[1.0, 0.5, 0.2, 0.4, 0.1]] * 6)}
    kw = dict(init_alpha=init, method="drnas", epochs=2, warmup_epochs=2, batch_size=8, C=4,
              layers=1, max_steps_per_epoch=2, random_state=0, progress=False)
    plain = DARTSSearch("nb201", **kw).fit((X, y))
    no_none = DARTSSearch("nb201", derive_exclude=("none",), **kw).fit((X, y))
    assert torch.equal(plain.alphas_["cell"], no_none.alphas_["cell"])  # same search
    assert plain.genotype_ == derive_arch(plain.alphas_) and "none" in plain.genotype_
    assert no_none.genotype_ == derive_arch(no_none.alphas_, exclude=("none",))
    assert no_none.genotype_ == "|skip_connect~0|+|skip_connect~0|skip_connect~1|+" \
        "|skip_connect~0|skip_connect~1|skip_connect~2|"  # warm-up: alphas did not move
    assert all("none" not in r["genotype"] for r in no_none.history_)
    assert no_none.result()["genotype"] == no_none.genotype_
    with pytest.raises(InputError, match="derive_exclude: .*unknown NB201 op"):
        DARTSSearch("nb201", derive_exclude=("zero",)).fit((X, y))
    with pytest.raises(InputError, match="derive_exclude: .*DARTS space only takes"):
        DARTSSearch("darts", derive_exclude=("skip_connect",)).fit((X, y))


def test_warmup_freezes_alpha_and_latency_penalty_is_used() -> None:
    X, y = tiny_images()
    init = {"cell": torch.zeros(6, 5)}
    s = DARTSSearch("nb201", init_alpha=init, epochs=1, warmup_epochs=1, batch_size=8, C=4,
                    layers=1, max_steps_per_epoch=2, random_state=0, progress=False).fit((X, y))
    assert torch.equal(s.alphas_["cell"], init["cell"])
    assert s.history_[0]["valid_loss"] is None

    calls = []

    def penalty(ce: torch.Tensor, alphas: dict[str, torch.Tensor]) -> torch.Tensor:
        calls.append(ce.detach())
        # strongly reward 'skip_connect' (column 1): its logit must grow fastest
        return ce - 10.0 * torch.softmax(alphas["cell"], -1)[:, 1].sum()

    s = DARTSSearch("nb201", init_alpha=init, latency_penalty=penalty, epochs=1, batch_size=8,
                    C=4, layers=1, max_steps_per_epoch=3, random_state=0, progress=False)
    s.fit((X, y))
    assert len(calls) == 3
    assert (s.alphas_["cell"].argmax(dim=1) == 1).all()


def test_mixing_weights_rows_sum_to_one() -> None:
    a = {"cell": torch.randn(6, 5, requires_grad=True)}
    gamma = {"cell": torch._standard_gamma(torch.full((6, 5), 1.5))}
    gumbel = {"cell": -torch.log(torch.empty(6, 5).exponential_())}
    for method, noise in (("darts", None), ("drnas", gamma), ("gdas", gumbel)):
        w = mixing_weights(method, a, noise, tau=1.0)["cell"]
        assert torch.allclose(w.sum(-1), torch.ones(6), atol=1e-6)
        w[:, 3].sum().backward()
        assert a["cell"].grad is not None and a["cell"].grad.abs().sum() > 0
        a["cell"].grad = None
    hard = mixing_weights("gdas", a, gumbel, 1.0)["cell"]
    assert set(hard.detach().unique().tolist()) <= {0.0, 1.0}
    ent = alpha_entropy("darts", {"cell": torch.zeros(6, 5)})["cell"]
    assert ent == pytest.approx(np.log(5))


def test_dirichlet_gradient_matches_torch() -> None:
    # our graph-safe Dirichlet sample has the same expected gradient as torch's rsample
    torch.manual_seed(0)
    alpha = torch.tensor([0.3, -0.2, 0.5], requires_grad=True)
    target = torch.tensor([1.0, 2.0, 3.0])
    n = 20000
    conc = torch.nn.functional.elu(alpha) + 1
    ref = torch.distributions.Dirichlet(conc.expand(n, 3)).rsample()
    g_ref = torch.autograd.grad((ref @ target).mean(), alpha)[0]
    z = torch._standard_gamma(conc.detach().expand(n, 3).contiguous())
    ours = mixing_weights("drnas", {"c": alpha.expand(n, 3)}, {"c": z})["c"]
    g_ours = torch.autograd.grad((ours @ target).mean(), alpha)[0]
    assert torch.allclose(g_ref, g_ours, atol=0.02)


def test_bad_settings_and_data() -> None:
    X, y = tiny_images()
    with pytest.raises(InputError, match="method must be one of"):
        DARTSSearch("nb201", method="enas").fit((X, y))
    with pytest.raises(InputError, match="order=2 .* method='darts' only"):
        DARTSSearch("nb201", method="drnas", order=2).fit((X, y))
    with pytest.raises(InputError, match="epochs must be a positive int"):
        DARTSSearch("nb201", epochs=0).fit((X, y))
    with pytest.raises(InputError, match="cuda_graphs=True needs a CUDA device"):
        DARTSSearch("nb201", cuda_graphs=True).fit((X, y))
    with pytest.raises(InputTypeError, match="train must be an ImageData or an"):
        DARTSSearch("nb201").fit(X)
    with pytest.raises(InputError, match="divisible by 4"):
        DARTSSearch("nb201").fit((X[:, :6, :6], y))
    with pytest.raises(InputError, match="at least 2 classes"):
        DARTSSearch("nb201").fit((X, np.zeros_like(y)))
    bad = X.astype(float)
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(InputError, match="NaN or inf"):
        DARTSSearch("nb201").fit((bad, y))
    with pytest.raises(InputError, match="init_alpha.*must have shape"):
        DARTSSearch("nb201", init_alpha={"cell": torch.zeros(5, 5)}, C=4, layers=1,
                    progress=False).fit((X, y))
    with pytest.raises(NotFittedError, match="not fitted"):
        DARTSSearch("nb201").result()


def test_valid_images_of_another_size_are_refused_before_any_work() -> None:
    X, y = tiny_images()
    big = np.zeros((len(y), 12, 12, 3), dtype=np.uint8)
    s = DARTSSearch("nb201", epochs=1, batch_size=8, C=4, layers=1, max_steps_per_epoch=1,
                    progress=False)
    with pytest.raises(InputError, match=r"valid images are 3x12x12.*train images are 3x8x8"):
        s.fit((X, y), (big, y))


@pytest.mark.parametrize("betas", [(1.5, 0.999), (0.5, float("nan")), (0.5,), "ab", None])
def test_bad_arch_betas(betas: object) -> None:
    X, y = tiny_images()
    s = DARTSSearch("nb201", arch_betas=betas, epochs=1, C=4, layers=1,  # type: ignore[arg-type]
                    progress=False)
    with pytest.raises(InputError, match=r"arch_betas must be two numbers in \[0, 1\)"):
        s.fit((X, y))


def test_diverging_search_says_so(tmp_path) -> None:  # type: ignore[no-untyped-def]
    X, y = tiny_images()
    s = DARTSSearch("nb201", epochs=2, batch_size=8, C=4, layers=1, max_steps_per_epoch=2,
                    latency_penalty=lambda ce, a: ce * float("nan"), checkpoint_dir=tmp_path,
                    random_state=0, progress=False)
    with pytest.raises(InputError, match=r"diverged in epoch 1.*alphas.*NaN or inf.*lower lr"):
        s.fit((X, y))
    assert not (tmp_path / "search_state.pt").exists()  # nothing non-finite is saved


def test_checkpoint_path_that_is_a_folder_fails_before_the_first_epoch(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from warmnas.errors import StorageError

    X, y = tiny_images()
    (tmp_path / "search_state.pt").mkdir()
    epochs: list[int] = []
    s = DARTSSearch("nb201", epochs=1, batch_size=8, C=4, layers=1, max_steps_per_epoch=1,
                    checkpoint_dir=tmp_path, callback=lambda rec, _: epochs.append(rec["epoch"]),
                    progress=False)
    with pytest.raises(StorageError, match=r"search_state.pt is a folder.*another checkpoint_dir"):
        s.fit((X, y))
    assert epochs == []


@pytest.mark.parametrize("kwargs,match", [
    ({"nb201_table": "../shared/data"}, r"nb201_table must be an NB201Table .*got str"),
    ({"augment": "no"}, r"augment must be True or False, got 'no'"),  # was read as True
    ({"deterministic": "no"}, r"deterministic must be True or False, got 'no'"),
    ({"progress": "yes"}, r"progress must be True, False or None"),
])
def test_bad_table_and_flags_before_any_work(kwargs: dict, match: str) -> None:
    X, y = tiny_images()
    epochs: list[int] = []
    s = DARTSSearch("nb201", epochs=1, batch_size=8, C=4, layers=1, max_steps_per_epoch=1,
                    callback=lambda rec, _: epochs.append(rec["epoch"]), **kwargs)
    with pytest.raises(InputTypeError, match=match):
        s.fit((X, y))
    assert epochs == []


@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("penalty,match", [
    (lambda ce, a: ce * torch.ones(3), r"latency_penalty must return a scalar.*shape \(3,\)"),
    (lambda ce, a: 0.5, r"latency_penalty must return a torch.Tensor.*float"),
    (lambda ce, a: ce.detach() + 1.0, r"latency_penalty.*no gradient.*alphas"),
    (lambda ce, a: (ce > 0).long(), r"latency_penalty must return a floating.*torch.int64"),
])
def test_bad_latency_penalty_result_is_named(penalty, match: str, order: int) -> None:  # type: ignore[no-untyped-def]
    X, y = tiny_images()
    s = DARTSSearch("nb201", epochs=1, batch_size=8, C=4, layers=1, max_steps_per_epoch=1,
                    latency_penalty=penalty, order=order, random_state=0, progress=False)
    with pytest.raises(InputError, match=match):
        s.fit((X, y))


def test_latency_penalty_may_return_a_one_element_tensor() -> None:
    X, y = tiny_images()
    s = DARTSSearch("nb201", epochs=1, batch_size=8, C=4, layers=1, max_steps_per_epoch=1,
                    latency_penalty=lambda ce, a: (ce + a["cell"].sum() * 0.0).reshape(1),
                    random_state=0, progress=False)
    s.fit((X, y))
    assert torch.isfinite(s.alphas_["cell"]).all()
