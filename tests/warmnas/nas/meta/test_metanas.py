"""MetaNAS: meta-training moves alpha, adapt gives valid genotypes, checkpoints, determinism."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from warmnas.errors import (
    CorruptDatabaseError,
    InputError,
    InputTypeError,
    MissingDataError,
    NotFittedError,
)
from warmnas.nas.genotype import Genotype
from warmnas.nas.meta.metanas import GRAPH_MIN_CHUNK_REPEATS, MetaNAS, graphed_chunk_sizes
from warmnas.nas.meta.omniglot import omniglot_tasks
from warmnas.nas.nb201 import parse_arch

from .conftest import one_thread

TINY = dict(C=4, layers=2, meta_batch_size=2, inner_steps=2, adapt_steps=2, eval_tasks=4,
            progress=False)


@pytest.fixture(scope="module")
def trained(omniglot8):
    """A tiny meta-training on 8x8 Omniglot crops (the issue's CPU check)."""
    train = omniglot_tasks(data=omniglot8, split="train", n_way=3, k_shot=1, q_query=2)
    test = omniglot_tasks(data=omniglot8, split="test", n_way=3, k_shot=1, q_query=2)
    with one_thread():
        init = MetaNAS(meta_steps=0, random_state=0, **TINY).fit(train)
        model = MetaNAS(meta_steps=4, random_state=0, inner_lr=0.05, inner_arch_lr=0.05,
                        **TINY).fit(train, test)
    return model, init, train, test


def test_meta_training_moves_the_meta_alphas(trained) -> None:
    model, init, _, _ = trained
    before, after = init.meta_alphas_, model.meta_alphas_
    assert set(after) == {"normal", "reduce"} and after["reduce"].shape == (14, 8)
    # layers=2: both cells are reduction cells, so only the reduce alphas are used and move
    moved = (after["reduce"] - before["reduce"]).abs().max().item()
    assert moved > 1e-3
    assert torch.equal(after["normal"], before["normal"])
    assert model.n_meta_steps_ == 4
    assert model.history_[-1]["valid_accuracy"] >= 0.0
    assert 0.0 <= model.history_[0]["train_query_accuracy"] <= 1.0


def test_weights_move_and_reptile_step_is_the_mean_task_displacement(omniglot8) -> None:
    """One Reptile meta-step with SGD, meta_lr=1: theta <- mean of the adapted task params."""
    from warmnas.nas.meta.inner import run_tasks

    train = omniglot_tasks(data=omniglot8, split="train", n_way=3, k_shot=1, q_query=2)
    a = MetaNAS(meta_steps=0, random_state=3, **TINY).fit(train)
    b = MetaNAS(meta_steps=1, random_state=3, meta_lr=1.0, meta_arch_lr=1.0, **TINY).fit(train)
    # replay the same task draw: the task generator is seeded identically in both fits
    from warmnas._random import check_random_state, derive_seed, torch_generator

    rng = check_random_state(3)
    seeds = {k: derive_seed(rng) for k in ("model", "tasks", "inner", "eval")}
    batch = train.sample_batch(2, torch_generator(seeds["tasks"], "cpu"))
    w0, a0 = a._fnet.split(a.model_)
    w_opt, a_opt = a._inner_opts()
    out = run_tasks(a._fnet, w0, a0, batch.support_x, batch.support_y, batch.query_x,
                    batch.query_y, mode="reptile", steps=2, w_opt=w_opt, a_opt=a_opt, n_way=3,
                    grad_clip=a.inner_grad_clip)
    wb, ab = b._fnet.split(b.model_)
    for k in w0:
        assert torch.allclose(wb[k], w0[k] - out["dw"][k] / 2, atol=1e-5), k
    assert torch.allclose(ab["reduce"], a0["reduce"] - out["da"]["reduce"] / 2, atol=1e-5)
    assert any((wb[k] - w0[k]).abs().max() > 1e-4 for k in w0)


def test_adapt_returns_valid_genotype_and_accuracy(trained) -> None:
    model, _, _, test = trained
    res = model.adapt(test.sample(random_state=11))
    assert isinstance(res.genotype, Genotype)
    assert Genotype.from_json(res.genotype.to_json()) == res.genotype
    assert 0.0 <= res.accuracy <= 1.0 and np.isfinite(res.loss)
    assert res.steps == TINY["adapt_steps"]
    # adaptation moved the alphas away from the meta-learned ones
    assert (res.alphas["reduce"] - model.meta_alphas_["reduce"]).abs().max() > 0
    ev = model.evaluate(test, n_tasks=4, random_state=0)
    assert ev["n_tasks"] == 4 and 0 <= ev["accuracy"] <= 1 and len(ev["accuracies"]) == 4
    assert sum(c for _, c in ev["genotypes"]) == 4
    assert ev == model.evaluate(test, n_tasks=4, random_state=0)  # same tasks, same result


def test_nb201_space_and_parallel_equals_sequential(synthetic_tasks) -> None:
    kw = dict(TINY, C=4, layers=1, meta_steps=2, meta_batch_size=3, random_state=1)
    par = MetaNAS("nb201", parallel_tasks=3, **kw).fit(synthetic_tasks)
    seq = MetaNAS("nb201", parallel_tasks=1, **kw).fit(synthetic_tasks)
    assert par.meta_alphas_["cell"].shape == (6, 5)
    assert torch.allclose(par.meta_alphas_["cell"], seq.meta_alphas_["cell"], atol=1e-5)
    parse_arch(par.genotype_)  # a valid NB201 arch string
    res = par.adapt(synthetic_tasks.sample(0))
    parse_arch(res.genotype)


def test_same_seed_same_model(synthetic_tasks) -> None:
    kw = dict(TINY, meta_steps=2, random_state=7)
    a = MetaNAS("nb201", layers=1, **{k: v for k, v in kw.items() if k != "layers"}).fit(
        synthetic_tasks)
    b = MetaNAS("nb201", layers=1, **{k: v for k, v in kw.items() if k != "layers"}).fit(
        synthetic_tasks)
    assert torch.equal(a.meta_alphas_["cell"], b.meta_alphas_["cell"])
    sa = dict(a.model_.named_parameters())
    for n, p in b.model_.named_parameters():
        assert torch.equal(p, sa[n]), n


def test_fomaml_and_fixed_architecture_baseline(synthetic_tasks) -> None:
    fo = MetaNAS("nb201", algorithm="fomaml", meta_optimizer="adam", meta_lr=1e-2,
                 meta_arch_lr=1e-2, meta_steps=2, random_state=0,
                 **dict(TINY, layers=1)).fit(synthetic_tasks)
    assert (fo.meta_alphas_["cell"].abs().max() > 1e-3)
    maml = MetaNAS(model="conv4", algorithm="fomaml", meta_optimizer="adam", meta_lr=1e-3,
                   inner_optimizer="sgd", inner_lr=0.1, meta_steps=3, random_state=0,
                   **TINY).fit(synthetic_tasks)
    assert maml.meta_alphas_ == {} and maml.genotype_ is None
    res = maml.adapt(synthetic_tasks.sample(0))
    assert res.genotype is None and 0 <= res.accuracy <= 1
    with pytest.raises(InputError, match="no alphas"):
        maml.alpha_prior()


def test_uniform_frozen_alphas_stay_uniform(synthetic_tasks) -> None:
    m = MetaNAS("nb201", init_alpha="uniform", learn_alpha=False, meta_steps=2, random_state=0,
                **dict(TINY, layers=1)).fit(synthetic_tasks)
    assert torch.equal(m.meta_alphas_["cell"], torch.zeros(6, 5))
    res = m.adapt(synthetic_tasks.sample(0))
    assert torch.equal(res.alphas["cell"], torch.zeros(6, 5))


def test_latency_penalty_is_used_in_the_inner_loop(synthetic_tasks) -> None:
    """A penalty on the expected share of nor_conv_3x3 (column 3) pushes its logits down."""
    calls = []

    def penalty(ce: torch.Tensor, alphas: dict) -> torch.Tensor:
        calls.append(1)
        return ce + 5.0 * torch.softmax(alphas["cell"], dim=-1)[:, 3].sum()

    kw = dict(TINY, layers=1, meta_steps=2, random_state=0, inner_arch_lr=0.05)
    plain = MetaNAS("nb201", **kw).fit(synthetic_tasks)
    pen = MetaNAS("nb201", latency_penalty=penalty, **kw).fit(synthetic_tasks)
    assert calls
    col = pen.meta_alphas_["cell"][:, 3] - plain.meta_alphas_["cell"][:, 3]
    assert (col < 0).all()


def test_checkpoint_roundtrip(trained, tmp_path) -> None:
    model, _, _, test = trained
    folder = model.save(tmp_path / "ck")
    assert {p.name for p in folder.iterdir()} == {"alphas.npz", "weights.pt", "genotype.json",
                                                  "config.json"}
    with np.load(folder / "alphas.npz", allow_pickle=False) as npz:
        assert np.allclose(npz["reduce"], model.meta_alphas_["reduce"].numpy())
    weights = torch.load(folder / "weights.pt", weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in weights.values())
    assert Genotype.from_dict(json.loads((folder / "genotype.json").read_text())) == \
        model.genotype_
    loaded = MetaNAS.load(folder)
    for k, v in model.meta_alphas_.items():
        assert torch.equal(loaded.meta_alphas_[k], v)
    task = test.sample(random_state=2)
    assert loaded.adapt(task).accuracy == model.adapt(task).accuracy
    assert loaded.history_ == json.loads(json.dumps(model.history_))


def test_checkpoint_errors(trained, tmp_path) -> None:
    model, _, _, _ = trained
    with pytest.raises(MissingDataError, match="no MetaNAS checkpoint"):
        MetaNAS.load(tmp_path / "nothing")
    folder = model.save(tmp_path / "ck")
    (folder / "weights.pt").write_bytes(b"not a torch file")
    with pytest.raises(CorruptDatabaseError, match="cannot read the checkpoint files"):
        MetaNAS.load(folder)
    (folder / "config.json").write_text('{"format": "other"}')
    with pytest.raises(CorruptDatabaseError, match="not a MetaNAS checkpoint"):
        MetaNAS.load(folder)


def test_checkpoints_during_fit_and_time_budget(synthetic_tasks, tmp_path) -> None:
    m = MetaNAS("nb201", meta_steps=50, checkpoint_dir=tmp_path / "ck", checkpoint_every=1,
                max_time_s=1e-3, random_state=0, **dict(TINY, layers=1)).fit(synthetic_tasks)
    assert m.stopped_early_ and m.n_meta_steps_ < 50
    assert json.loads((tmp_path / "ck" / "config.json").read_text())["n_meta_steps"] == \
        m.n_meta_steps_


def test_errors(synthetic_tasks, trained) -> None:
    with pytest.raises(NotFittedError, match="not fitted"):
        MetaNAS().adapt(synthetic_tasks.sample(0))
    with pytest.raises(InputError, match="algorithm must be one of"):
        MetaNAS(algorithm="maml2").fit(synthetic_tasks)
    with pytest.raises(InputError, match="meta_batch_size must be an int >= 1"):
        MetaNAS(meta_batch_size=0).fit(synthetic_tasks)
    with pytest.raises(InputError, match="needs k_shot >= 2"):
        MetaNAS(arch_batch="split").fit(synthetic_tasks.with_shots(k_shot=1))
    with pytest.raises(InputError, match="inner_lr must be a finite number"):
        MetaNAS(inner_lr=float("nan")).fit(synthetic_tasks)
    with pytest.raises(InputTypeError, match="TaskDistribution"):
        MetaNAS().fit([1, 2])  # type: ignore[arg-type]
    with pytest.raises(InputError, match="CUDA is not available"):
        if torch.cuda.is_available():
            raise InputError("CUDA is not available (skipped on CUDA machines)")
        MetaNAS(device="cuda").fit(synthetic_tasks)
    model, _, _, _ = trained
    with pytest.raises(InputError, match="meta-trained for 3-way tasks"):
        model.adapt(synthetic_tasks.with_shots(n_way=2).sample(0))
    from warmnas.nas.meta.tasks import ClassTaskDistribution

    small = ClassTaskDistribution(np.zeros((12, 4, 4), np.uint8) + np.arange(12)[:, None, None],
                                  np.repeat(np.arange(3), 4), n_way=3, k_shot=1, q_query=2)
    with pytest.raises(InputError, match="task images are"):
        model.evaluate(small, n_tasks=1)
    with pytest.raises(InputTypeError, match="task must be a Task"):
        model.adapt("task")  # type: ignore[arg-type]


def test_hardware_latency_penalties_in_the_inner_loop(synthetic_tasks) -> None:
    """The hardware part's penalties (additive ProxylessNAS, multiplicative FBNet with its
    data-dependent check) work in the task-level loop and in the first-order MAML meta-step."""
    hw = pytest.importorskip("warmnas.hardware")
    costs = {"cell": np.tile(np.array([0.0, 0.1, 1.0, 5.0, 0.5]), (6, 1))}
    model = hw.AdditiveLatencyModel("nb201", costs, intercept=1.0,
                                    device=hw.DeviceInfo("toy", "cpu", "made-up costs"))
    kw = dict(TINY, layers=1, meta_steps=2, random_state=0, inner_arch_lr=0.05)
    plain = MetaNAS("nb201", **kw).fit(synthetic_tasks)
    for kind, extra in (("additive", {"target_ms": 2.0, "weight": 5.0}),
                        ("multiplicative", {"alpha": 1.0, "beta": 2.0})):
        pen = hw.latency_penalty(model, kind, **extra)
        for algo in ("reptile", "fomaml"):
            m = MetaNAS("nb201", latency_penalty=pen, algorithm=algo, **kw).fit(synthetic_tasks)
            # the costliest op (nor_conv_3x3) loses weight against the plain run
            p_pen = torch.softmax(m.meta_alphas_["cell"], -1)[:, 3]
            p_plain = torch.softmax(plain.meta_alphas_["cell"], -1)[:, 3]
            if algo == "reptile":
                assert (p_pen < p_plain).all(), kind
            assert model.expected_latency(m.meta_alphas_) < model.expected_latency(
                MetaNAS("nb201", algorithm=algo, **kw).fit(synthetic_tasks).meta_alphas_)


def test_graphed_chunk_sizes() -> None:
    """Adaptation graphs a chunk size only when it recurs GRAPH_MIN_CHUNK_REPEATS times."""
    assert GRAPH_MIN_CHUNK_REPEATS == 4
    assert graphed_chunk_sizes(45, 20) == frozenset()       # 20, 20, 5: the H100 eval case
    assert graphed_chunk_sizes(20, 20) == frozenset()       # one chunk
    assert graphed_chunk_sizes(60, 20) == frozenset()       # three chunks
    assert graphed_chunk_sizes(80, 20) == {20}
    assert graphed_chunk_sizes(205, 20) == {20}             # ten of 20, one of 5
    assert graphed_chunk_sizes(4, 1) == {1}
    assert graphed_chunk_sizes(3, 10) == frozenset()        # one short chunk
    assert graphed_chunk_sizes(0, 5) == frozenset()
    assert graphed_chunk_sizes(7, 2, min_repeats=1) == {2, 1}
    with pytest.raises(InputError, match="chunk must be an int >= 1"):
        graphed_chunk_sizes(10, 0)
    with pytest.raises(InputError, match="n_tasks must be an int >= 0"):
        graphed_chunk_sizes(-1, 5)


def test_evaluate_graphs_only_recurring_chunks_and_keeps_meta_training_runners(
        synthetic_tasks, monkeypatch) -> None:
    """With graphs on, evaluate() asks for a graph only for chunk sizes of
    graphed_chunk_sizes, reports cuda_graphs_active from the runners of that call, and leaves the
    meta-training runners alone (CPU: a stand-in GraphedCall counts as 'active' when enabled)."""
    import warmnas.nas.meta.metanas as mod

    made: list[bool] = []

    class Recording(mod.GraphedCall):
        def __init__(self, fn, *, enabled: bool = True, **kw) -> None:
            super().__init__(fn, enabled=enabled, **kw)
            made.append(enabled)

        @property
        def active(self) -> bool:
            return self.enabled

    kw = dict(TINY, layers=1, meta_steps=1, random_state=0, parallel_tasks=2)
    m = MetaNAS("nb201", **kw).fit(synthetic_tasks)
    plain = m.evaluate(synthetic_tasks, n_tasks=9, random_state=3)
    monkeypatch.setattr(mod, "GraphedCall", Recording)
    monkeypatch.setattr(m, "_graphs_on", lambda device: True)
    sentinel = {("reptile", 2, 2, True): "meta-training runner"}
    m._runners = dict(sentinel)
    ev = m.evaluate(synthetic_tasks, n_tasks=9, random_state=3)   # chunks 2, 2, 2, 2, 1
    assert sorted(made) == [False, True] and ev["cuda_graphs_active"]
    assert ev == {**plain, "cuda_graphs_active": True}             # same tasks, same results
    made.clear()
    ev = m.evaluate(synthetic_tasks, n_tasks=5, random_state=3)   # chunks 2, 2, 1
    assert sorted(made) == [False, False] and not ev["cuda_graphs_active"]
    made.clear()
    m.adapt(synthetic_tasks.sample(0))                             # one task: eager
    assert made == [False]
    assert m._runners == sentinel
    assert not plain["cuda_graphs_active"]                         # CPU: no graphs


def test_unwritable_checkpoint_dir_fails_before_meta_training(synthetic_tasks, tmp_path) -> None:
    from warmnas.errors import StorageError

    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    calls: list[int] = []
    m = MetaNAS("nb201", meta_steps=3, checkpoint_dir=blocker, random_state=0,
                callback=lambda rec, model: calls.append(rec["meta_step"]),
                **dict(TINY, layers=1, log_every=1))
    with pytest.raises(StorageError, match=r"cannot write the MetaNAS checkpoint folder .*a_file"):
        m.fit(synthetic_tasks)
    assert calls == []  # refused before any meta-step
    assert blocker.read_text() == "not a folder"


@pytest.mark.parametrize("edit", [
    lambda c: c.update(version="x"), lambda c: c.pop("model"), lambda c: c.pop("n_way"),
    lambda c: c["params"].update(not_a_parameter=1), lambda c: c.update(image_shape=[1, 2]),
    lambda c: c.update(params=[1]), lambda c: c.update(model={"kind": "zzz"}),
])
def test_load_refuses_a_damaged_config(trained, tmp_path, edit) -> None:
    model, _, _, _ = trained
    folder = model.save(tmp_path / "ck")
    config = json.loads((folder / "config.json").read_text())
    edit(config)
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(CorruptDatabaseError, match=r"config.json is damaged"):
        MetaNAS.load(folder)
    (folder / "config.json").write_text("[1, 2]")
    with pytest.raises(CorruptDatabaseError, match=r"config.json is damaged"):
        MetaNAS.load(folder)


def test_image_size_the_supernet_cannot_reduce_is_refused(tmp_path) -> None:
    from warmnas.nas.meta.tasks import ClassTaskDistribution

    rng = np.random.default_rng(0)
    dist = ClassTaskDistribution.from_arrays(rng.integers(0, 255, (30, 7, 7), dtype=np.uint8),
                                             np.arange(30) % 5, n_way=3, k_shot=1, q_query=2)
    with pytest.raises(InputError, match=r"7x7 images.*nb201 supernet.*divisible by 4"):
        MetaNAS("nb201", meta_steps=1, **dict(TINY, layers=1)).fit(dist)


def test_custom_model_must_output_n_way_logits(synthetic_tasks) -> None:
    C, H, W = synthetic_tasks.image_shape
    wrong = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(C * H * W, 7))
    with pytest.raises(InputError, match=r"model outputs 7 logits per image.*n_way=3"):
        MetaNAS(model=wrong, meta_steps=1, **TINY).fit(synthetic_tasks)
    broken = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(5, 3))
    with pytest.raises(InputError, match=r"model cannot classify the task images"):
        MetaNAS(model=broken, meta_steps=1, **TINY).fit(synthetic_tasks)


def test_load_refuses_nan_alphas(trained, tmp_path) -> None:
    model, _, _, _ = trained
    folder = model.save(tmp_path / "ck")
    alphas = {k: np.full(v.shape, np.nan, np.float32) for k, v in model.meta_alphas_.items()}
    np.savez(folder / "alphas.npz", **alphas)
    with pytest.raises(CorruptDatabaseError, match=r"NaN or inf weights or alphas"):
        MetaNAS.load(folder)


@pytest.mark.parametrize("db,error,match", [
    ("notaurl://x", InputError, r"unsupported database 'notaurl'"),
    (5, InputTypeError, r"url must be a string or path"),
    ("default", None, r"db .* is read-only, so the NAS records cannot be stored"),
])
def test_bad_database_fails_before_meta_training(synthetic_tasks, db, error, match) -> None:
    from warmnas.errors import StorageError
    from warmnas.metadb import MetaDatabase

    calls: list[int] = []
    m = MetaNAS("nb201", meta_steps=3, db=MetaDatabase.default() if db == "default" else db,
                random_state=0, callback=lambda rec, model: calls.append(rec["meta_step"]),
                **dict(TINY, layers=1, log_every=1))
    with pytest.raises(error or StorageError, match=match):
        m.fit(synthetic_tasks)
    assert calls == []  # refused before any meta-step


@pytest.mark.parametrize("name", ["learn_alpha", "adapt_alpha", "autocast"])
def test_boolean_flags_must_be_booleans(synthetic_tasks, name) -> None:
    with pytest.raises(InputTypeError, match=rf"{name} must be True or False, got 'no'"):
        MetaNAS("nb201", meta_steps=1, **{name: "no"}, **dict(TINY, layers=1)).fit(synthetic_tasks)


def test_bad_latency_penalty_result_is_named_in_the_inner_loop(synthetic_tasks) -> None:
    kw = dict(TINY, layers=1, meta_steps=1, random_state=0)
    m = MetaNAS("nb201", latency_penalty=lambda ce, a: ce * torch.ones(2), **kw)
    with pytest.raises(InputError, match=r"latency_penalty must return a scalar.*shape \(2,\)"):
        m.fit(synthetic_tasks)
