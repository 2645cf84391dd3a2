"""Alpha priors: meta-database round trip, kNN, fall-backs, DARTS init_alpha, warm_search."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch

from warmnas.api import warm_start
from warmnas.errors import InputError, InputTypeError
from warmnas.nas.meta.embedding import image_meta_features
from warmnas.nas.meta.metanas import MetaNAS
from warmnas.nas.meta.prior import (
    alpha_prior,
    combine_alphas,
    find_alpha_prior,
    steps_to_target,
    warm_search,
)
from warmnas.nas.meta.tasks import ClassTaskDistribution

from .conftest import one_thread

TINY = dict(C=4, layers=2, meta_batch_size=2, inner_steps=1, adapt_steps=1, progress=False)


def _dist(seed: int, offset: int) -> ClassTaskDistribution:
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(4), 30)
    X = (rng.integers(0, 60, (120, 8, 8)) + offset + 10 * y[:, None, None]).astype(np.uint8)
    return ClassTaskDistribution(X, y, n_way=2, k_shot=1, q_query=2)


@pytest.fixture(scope="module")
def models():
    with one_thread():
        dark = MetaNAS(meta_steps=2, random_state=0, inner_arch_lr=0.5, **TINY).fit(_dist(0, 0))
        bright = MetaNAS(meta_steps=2, random_state=1, inner_arch_lr=0.5,
                         **TINY).fit(_dist(1, 150))
    return dark, bright


def _probs(alphas: dict) -> dict:
    return {k: torch.softmax(torch.as_tensor(v, dtype=torch.float64), -1) for k, v in alphas.items()}


def test_alpha_prior_roundtrip_through_the_meta_database(models, tmp_path) -> None:
    from warmnas.metadb import MetaDatabase

    dark, bright = models
    db = MetaDatabase(f"sqlite:///{tmp_path / 'meta.db'}")
    feats = {}
    for name, model, dist in (("dark", dark, _dist(0, 0)), ("bright", bright, _dist(1, 150))):
        feats[name] = image_meta_features(dist, max_images=120, random_state=0)
        rid = model.to_database(db, f"test/{name}", meta_features=feats[name])
        assert isinstance(rid, str)
    recs = db.nas_records(space="darts")
    assert {r.task for r in recs} == {"test/dark", "test/bright"}
    stored = next(r for r in recs if r.task == "test/dark")
    assert np.allclose(stored.alpha["reduce"], dark.meta_alphas_["reduce"].numpy(), atol=1e-6)
    assert stored.meta["kind"] == "meta_alpha" and stored.meta["meta_steps"] == 2
    # a new dark dataset: its nearest task is "dark", and with k=1 the prior IS its alphas
    new = _dist(5, 3)
    prior = find_alpha_prior(new, space="darts", db=db, k=1)
    assert prior.source == "knn" and prior.neighbors[0][0] == "test/dark"
    for k, p in _probs(prior.alphas).items():
        assert torch.allclose(p, _probs(dark.meta_alphas_)[k], atol=1e-5), k
    bright_prior = alpha_prior(_dist(6, 150), space="darts", db=db, k=1)
    for k, p in _probs(bright_prior).items():
        assert torch.allclose(p, _probs(bright.meta_alphas_)[k], atol=1e-5), k
    # meta-features given directly; leave-one-task-out
    loo = find_alpha_prior(meta_features=feats["dark"], space="darts", db=db, k=1,
                           exclude_tasks=["test/dark"])
    assert loo.neighbors[0][0] == "test/bright"
    # meta-features of another view would be ignored, and the prior silently the space mean
    with pytest.raises(InputError, match=r"meta_features has name\(s\) \['ClassEntropy'\] "
                       r"that the meta-database's 'image' meta-features do not have"):
        find_alpha_prior(meta_features={**feats["dark"], "ClassEntropy": 1.0}, space="darts",
                         db=db, k=1)
    with pytest.raises(InputError, match="pass the meta-features of that view"):
        warm_start(meta_features={"x": 1.0}, space="darts", db=db)
    # k=2: an inverse-distance mixture, nearer task weighted more
    both = find_alpha_prior(new, space="darts", db=db, k=2)
    assert [t for t, _, _ in both.neighbors] == ["test/dark", "test/bright"]
    assert both.neighbors[0][2] > both.neighbors[1][2]
    assert math.isclose(sum(w for _, _, w in both.neighbors), 1.0)


def test_prior_from_a_metanas_model_and_checkpoint(models, tmp_path) -> None:
    dark, _ = models
    prior = find_alpha_prior(metanas=dark, space="darts")
    assert prior.source == "metanas"
    assert torch.equal(prior.alphas["reduce"], dark.meta_alphas_["reduce"])
    dark.save(tmp_path / "ck")
    again = alpha_prior(space="darts", metanas=tmp_path / "ck", strength=2.0)
    assert torch.allclose(again["reduce"], 2.0 * dark.meta_alphas_["reduce"])
    with pytest.raises(InputError, match="searched the 'darts' space"):
        find_alpha_prior(metanas=dark, space="nb201")


def test_nb201_prior_from_the_embedded_default_database() -> None:
    """The default DB's NB201 records have no image meta-features: every record is used."""
    prior = find_alpha_prior(space="nb201")
    assert prior.source == "space-mean" and prior.n_records > 0
    p = torch.softmax(prior.alphas["cell"], -1)
    assert p.shape == (6, 5) and torch.allclose(p.sum(-1), torch.ones(6))
    # the top NB201 cells are dominated by convolutions: nor_conv_3x3 leads most edges
    assert int((p.argmax(-1) == 3).sum()) >= 3


def test_uniform_when_no_records(tmp_path, caplog) -> None:
    from warmnas.metadb import MetaDatabase

    db = MetaDatabase(f"sqlite:///{tmp_path / 'empty.db'}")
    prior = find_alpha_prior(space="darts", db=db)
    assert prior.source == "uniform"
    assert all(torch.equal(v, torch.zeros(14, 8)) for v in prior.alphas.values())
    assert "uniform" in caplog.text


def test_combine_alphas_is_a_mixture_of_distributions() -> None:
    a = {"cell": np.log(np.full((6, 5), 0.2))}
    b = {"cell": np.where(np.eye(6, 5) > 0, 10.0, 0.0)}
    out = combine_alphas([a, b], [3, 1])
    p = torch.softmax(out["cell"].double(), -1)
    pb = torch.softmax(torch.as_tensor(b["cell"]), -1)
    assert torch.allclose(p, 0.75 * 0.2 + 0.25 * pb, atol=1e-6)
    with pytest.raises(InputError, match="weights must be 2"):
        combine_alphas([a, b], [1, -1])
    with pytest.raises(InputError, match="empty"):
        combine_alphas([])


def test_bad_arguments(models) -> None:
    with pytest.raises(InputError, match="k must be a positive int"):
        find_alpha_prior(space="darts", k=0)
    with pytest.raises(InputError, match="strength must be a positive"):
        find_alpha_prior(space="darts", strength=-1.0)
    with pytest.raises(InputTypeError, match="metanas must be a MetaNAS"):
        find_alpha_prior(space="darts", metanas=42)
    with pytest.raises(InputError, match="unknown search space"):
        find_alpha_prior(space="resnet")


def test_darts_search_accepts_the_prior_as_init_alpha(models) -> None:
    from warmnas.nas.search import DARTSSearch

    dark, _ = models
    prior = alpha_prior(space="darts", metanas=dark)
    rng = np.random.default_rng(0)
    X = rng.integers(0, 255, (16, 8, 8), dtype=np.uint8)
    y = np.repeat([0, 1], 8)
    with one_thread():
        search = DARTSSearch("darts", init_alpha=prior, epochs=1, batch_size=4, C=4, layers=2,
                             max_steps_per_epoch=1, augment=False, arch_lr=1e-9,
                             random_state=0, progress=False).fit((X, y))
    # with a (near) zero arch learning rate the search keeps the prior
    assert torch.allclose(search.alphas_["reduce"], prior["reduce"], atol=1e-5)


def test_warm_search_arms_share_batches_and_report_curves(models) -> None:
    dark, _ = models
    dist = _dist(0, 0)
    imgs, labels = dist.class_images()
    X, y = imgs.numpy(), labels.numpy()
    tr, va = (X[::2], y[::2]), (X[1::2], y[1::2])
    arms = {"cold": {}, "cold2": {}, "alpha": {"init_alpha": dark.alpha_prior()},
            "alpha+w": {"init_alpha": dark.alpha_prior(), "init_weights": dark}}
    with one_thread():
        curves = warm_search(tr, va, arms=arms, C=4, layers=2, steps=4, eval_every=2,
                             batch_size=6, random_state=0)
    assert set(curves) == set(arms)
    c = curves["cold"]
    assert c.steps == [0, 2, 4] and len(c.valid_accuracy) == 3
    assert curves["cold2"].valid_accuracy == c.valid_accuracy  # same start, same batches
    assert curves["alpha+w"].valid_accuracy[0] != c.valid_accuracy[0] or \
        not torch.equal(curves["alpha+w"].alphas["reduce"], c.alphas["reduce"])
    assert steps_to_target(c, 0.0) == 0
    assert steps_to_target(c, 2.0) is None
    with pytest.raises(InputError, match="arms must be a non-empty dict"):
        warm_search(tr, va, arms={})
    with pytest.raises(InputError, match="share no parameter"):
        warm_search(tr, va, arms={"x": {"init_weights": {"foo": torch.zeros(1)}}}, C=4,
                    layers=2, steps=1)


def test_alpha_prior_hook_for_warm_start() -> None:
    """The hook signature of warmnas.api.warm_start: hook(db, neighbors, meta_features)."""
    import pandas as pd

    from warmnas.metadb import MetaDatabase
    from warmnas.nas.meta.prior import alpha_prior_hook

    db = MetaDatabase.default()
    hook = alpha_prior_hook("nb201", k=1)
    near = pd.Series({"openml/d/3": 0.1, "nb201/cifar100": 0.5, "nb201/cifar10": 0.9})
    prior = hook(db, near, None)
    recs = [r.alpha for r in db.nas_records(space="nb201", task="nb201/cifar100")]
    expected = combine_alphas(recs)
    assert torch.allclose(torch.softmax(prior["cell"], -1), torch.softmax(expected["cell"], -1),
                          atol=1e-6)
    # no neighbour with NAS records: the space mean of find_alpha_prior
    fallback = hook(db, pd.Series({"openml/d/3": 0.1}), None)
    mean = find_alpha_prior(space="nb201", db=db).alphas
    assert torch.allclose(fallback["cell"], mean["cell"])



def test_alpha_prior_hook_passes_its_seed_to_the_fall_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fall-back's image meta-features are seeded by the hook's random_state (it always used
    find_alpha_prior's default 0, whatever seed the user gave)."""
    import pandas as pd

    import warmnas.nas.meta.prior as prior_mod
    from warmnas.metadb import MetaDatabase

    seen: list[Any] = []
    real = prior_mod.find_alpha_prior

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs.get("random_state"))
        return real(*args, **kwargs)

    monkeypatch.setattr(prior_mod, "find_alpha_prior", spy)
    db = MetaDatabase.default()
    for seed in (7, None):
        prior_mod.alpha_prior_hook("nb201", random_state=seed)(db, pd.Series({"openml/d/3": 0.1}),
                                                                None)
    prior_mod.alpha_prior_hook("nb201")(db, None, None)
    assert seen == [7, None, 0]


def test_warm_search_prototype_head_is_nearest_class_mean(models) -> None:
    """init_head='prototypes': at step 0 the arm classifies like a nearest-class-mean rule on
    the warm-started network's pooled features, computed here independently with a hook."""
    import copy

    from warmnas.nas.data import ImageData

    dark, _ = models
    dist = _dist(0, 0)
    imgs, labels = dist.class_images()
    X, y = imgs.numpy(), labels.numpy()
    tr = ImageData.from_arrays(X, y)
    alphas = {k: v.detach().clone() for k, v in dark.model_.alphas.items()}
    arms = {"fresh": {"init_alpha": alphas, "init_weights": dark},
            "proto": {"init_alpha": alphas, "init_weights": dark, "init_head": "prototypes"}}
    with one_thread():
        curves = warm_search(tr, tr, arms=arms, C=4, layers=2, steps=1, batch_size=6,
                             random_state=0)
        net = copy.deepcopy(dark.model_).train()
        feats: list[torch.Tensor] = []
        net.classifier.register_forward_hook(lambda m, inp, out: feats.append(inp[0]))
        x = (tr.images.float() / 255.0 - torch.tensor(tr.mean).view(1, -1, 1, 1)) \
            / torch.tensor(tr.std).view(1, -1, 1, 1)
        with torch.no_grad():
            net(x)
    h = feats[0].double()
    mu = torch.stack([h[tr.labels == c].mean(0) for c in range(tr.n_classes)])
    nearest = torch.cdist(h, mu).argmin(1)
    expected = float((nearest == tr.labels).double().mean())
    assert expected > 0.5  # four classes: the features carry the class, so the check has teeth
    got = curves["proto"].valid_accuracy[0]
    assert abs(got - expected) <= 1.0 / len(tr) + 1e-9  # float32 vs float64 near-ties aside
    assert got > curves["fresh"].valid_accuracy[0]
    with pytest.raises(InputError, match="init_head.*'fresh' or 'prototypes'"):
        warm_search(tr, tr, arms={"x": {"init_head": "centroid"}}, C=4, layers=2, steps=1)


@pytest.mark.parametrize("kwargs,match", [
    ({"device": "gpu"}, r"device 'gpu' is not a torch device"),
    ({"device": "meta"}, r"device='meta' holds no data"),
    ({"max_time_s": -1.0}, r"max_time_s must be a positive number of seconds or None, got -1.0"),
])
def test_warm_search_bad_device_and_budget(kwargs: dict, match: str) -> None:
    rng = np.random.default_rng(0)
    X = rng.integers(0, 255, (16, 8, 8), dtype=np.uint8)
    y = np.repeat([0, 1], 8)
    with pytest.raises(InputError, match=match):
        warm_search((X, y), (X, y), arms={"cold": {}}, space="nb201", steps=1, C=4, layers=1,
                    **kwargs)
