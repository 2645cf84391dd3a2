"""NAS warm starts: an alpha prior for a new dataset, and DARTS started from it.

:func:`alpha_prior` returns architecture logits ``{key: (n_edges, n_ops)}`` that
``DARTSSearch(init_alpha=...)`` accepts, from (in this order):

1. a meta-learned :class:`~warmnas.nas.meta.metanas.MetaNAS` model (or its checkpoint folder):
   its meta-learned alphas;
2. the meta-database: the NAS records of the ``k`` tasks nearest to the new dataset by
   meta-features (view ``"image"``, :func:`~warmnas.nas.meta.embedding.image_meta_features`;
   statistics on fixed scales plus the Hellinger distance of the probe embeddings), combined as ``log(sum_i w_i softmax(alpha_i))``
   with inverse-distance weights ``w_i`` (the records of one task are averaged first);
3. no stored task has meta-features of that view (e.g. the NB201 records of the embedded
   default database): every record of the space, tasks weighted equally;
4. no record of the space at all: uniform logits (zeros), with a warning.

:func:`find_alpha_prior` returns the same with its provenance (:class:`AlphaPrior`).

:func:`warm_search` runs first-order DARTS from several starting points at once ("arms": cold,
alpha warm start, alpha + weight warm start from MetaNAS), on the same minibatches, and records
validation accuracy every ``eval_every`` steps; :func:`steps_to_target` reads off how many steps
an arm needs to reach a target accuracy (the warm-start claim).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from warmnas._random import RandomState, check_random_state, derive_seed, torch_generator
from warmnas.errors import InputError, InputTypeError, UnknownIdError
from warmnas.nas.meta.embedding import IMAGE_VIEW, image_meta_features
from warmnas.nas.spaces import get_space

__all__ = ["AlphaPrior", "alpha_prior", "find_alpha_prior", "alpha_prior_hook",
           "combine_alphas", "warm_search", "SearchCurve", "steps_to_target"]

logger = logging.getLogger(__name__)


@dataclass
class AlphaPrior:
    """An alpha prior with its provenance.

    Attributes:
        alphas: ``{key: (n_edges, n_ops)}`` float32 logits.
        space: the space name.
        source: ``"metanas"``, ``"knn"``, ``"space-mean"`` or ``"uniform"``.
        neighbors: ``(task, distance, weight)`` of the tasks used (kNN / space-mean).
        n_records: NAS records combined.
    """

    alphas: dict[str, torch.Tensor]
    space: str
    source: str
    neighbors: list[tuple[str, float, float]] = field(default_factory=list)
    n_records: int = 0


def combine_alphas(alphas: Sequence[Mapping[str, Any]], weights: Sequence[float] | None = None,
                   *, strength: float = 1.0) -> dict[str, torch.Tensor]:
    """``strength * log(sum_i w_i softmax(alpha_i))`` per key (a mixture of the op
    distributions, as logits).

    Raises:
        InputError: no alphas, mismatched keys/shapes, bad weights.
    """
    if not alphas:
        raise InputError("alphas is empty; pass at least one alpha dict")
    keys = set(alphas[0])
    w = np.ones(len(alphas)) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (len(alphas),) or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise InputError(f"weights must be {len(alphas)} finite non-negative numbers, not all 0")
    w = w / w.sum()
    out: dict[str, torch.Tensor] = {}
    for key in sorted(keys):
        mix: torch.Tensor | None = None
        for a, wi in zip(alphas, w):
            if set(a) != keys:
                raise InputError(f"alpha dicts have different keys: {sorted(keys)} vs "
                                 f"{sorted(a)}")
            t = torch.as_tensor(np.asarray(a[key], dtype=np.float64))
            p = torch.softmax(t, dim=-1) * float(wi)
            if mix is not None and mix.shape != p.shape:
                raise InputError(f"alpha[{key!r}] shapes differ: {tuple(mix.shape)} vs "
                                 f"{tuple(p.shape)}")
            mix = p if mix is None else mix + p
        assert mix is not None
        out[key] = (float(strength) * mix.clamp_min(1e-12).log()).float()
    return out


def _load_metanas(metanas: Any) -> Any:
    from warmnas.nas.meta.metanas import MetaNAS

    if isinstance(metanas, MetaNAS):
        return metanas
    if isinstance(metanas, (str, os.PathLike)):
        return MetaNAS.load(Path(metanas))
    raise InputTypeError(f"metanas must be a MetaNAS or a checkpoint folder, got "
                         f"{type(metanas).__name__}")


def _distances(query: Mapping[str, float], table: Any) -> np.ndarray:
    """Distances of ``query`` to each row of ``table`` (NaN where nothing is comparable).

    Two blocks, averaged (squared): the statistics, each as ``(difference / scale)^2`` with the
    fixed scales of :data:`~warmnas.nas.meta.embedding.FEATURE_SCALES` (other columns: the
    standard deviation over the stored rows, when there are at least 5), and the probe
    embedding, as the squared Hellinger distance of the two (renormalised) Fisher profiles
    divided by ``0.5^2``.
    """
    from warmnas.nas.meta.embedding import FEATURE_SCALES

    cols = [c for c in table.columns if c in query and math.isfinite(float(query[c]))]
    n_rows = len(table)
    if not cols:
        return np.full(n_rows, np.nan)
    M = table[cols].to_numpy(dtype=np.float64)
    q = np.array([float(query[c]) for c in cols])
    probe = np.array([c.startswith("Probe") for c in cols])
    blocks = []
    stat_terms = []
    for j, c in enumerate(cols):
        if probe[j]:
            continue
        col, qv = M[:, j], q[j]
        if c in FEATURE_SCALES:
            use_log, scale = FEATURE_SCALES[c]
            if use_log:
                col, qv = np.log1p(np.maximum(col, 0.0)), math.log1p(max(qv, 0.0))
        else:
            finite = col[np.isfinite(col)]
            scale = float(finite.std()) if len(finite) >= 5 else 1.0
            scale = scale if scale > 1e-12 else 1.0
        stat_terms.append(((col - qv) / scale) ** 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        if stat_terms:
            S = np.vstack(stat_terms)
            n = np.isfinite(S).sum(axis=0)
            blocks.append(np.where(n > 0, np.nansum(S, axis=0) / np.maximum(n, 1), np.nan))
        if probe.any():
            P = np.clip(M[:, probe], 0.0, None)
            qp = np.clip(q[probe], 0.0, None)
            ok = np.isfinite(P).all(axis=1) & (np.nansum(P, axis=1) > 0) & (qp.sum() > 0)
            Pn = P / np.nansum(P, axis=1, keepdims=True)
            qn = qp / max(qp.sum(), 1e-30)
            hell2 = 0.5 * ((np.sqrt(Pn) - np.sqrt(qn)) ** 2).sum(axis=1)
            blocks.append(np.where(ok, hell2 / 0.5 ** 2, np.nan))
        B = np.vstack(blocks)
        n = np.isfinite(B).sum(axis=0)
        return np.where(n > 0, np.sqrt(np.nansum(B, axis=0) / np.maximum(n, 1)), np.nan)


def _check_query_names(meta_features: Mapping[str, float], table: Any, view: str) -> None:
    """Refuse given meta-features with names the stored ``view`` does not have (they would be
    ignored, and with none in common the prior would silently fall back to the space mean)."""
    known = {str(c) for c in table.columns}
    unknown = [str(n) for n in meta_features if str(n) not in known]
    if unknown:
        shown = ", ".join(sorted(known)[:6]) + (", ..." if len(known) > 6 else "")
        raise InputError(
            f"meta_features has name(s) {unknown[:5]} that the meta-database's {view!r} "
            f"meta-features do not have (it has {len(known)}: {shown}); pass the meta-features "
            f"of that view (warmnas.nas.meta.image_meta_features(dataset)), or pass the dataset "
            f"instead"
        )


def find_alpha_prior(dataset: Any = None, *, space: str = "darts", db: Any = None, k: int = 3,
                     metanas: Any = None, meta_features: Mapping[str, float] | None = None,
                     view: str = IMAGE_VIEW, strength: float = 1.0,
                     exclude_tasks: Sequence[str] = (), random_state: RandomState = 0
                     ) -> AlphaPrior:
    """An alpha prior for ``dataset`` with its provenance (see the module docstring).

    Args:
        dataset: the new image dataset (``ImageData``, ``(X, y)`` or a
            ``ClassTaskDistribution``); used for its meta-features when ``meta_features`` is
            None and the meta-database is searched.
        space: ``"darts"`` or ``"nb201"``.
        db: a :class:`~warmnas.metadb.MetaDatabase`, its URL, or None (the embedded default).
        k: neighbours.
        metanas: a fitted :class:`~warmnas.nas.meta.metanas.MetaNAS` or a checkpoint folder;
            when given, its meta-learned alphas are the prior.
        meta_features: the dataset's meta-features of ``view`` (skips computing them).
        view: the meta-feature view compared.
        strength: multiplies the logits (``> 1`` sharpens, ``< 1`` flattens the prior).
        exclude_tasks: task ids to leave out (leave-one-task-out evaluation).
        random_state: seed of the meta-feature computation.

    Returns:
        An :class:`AlphaPrior`.

    Raises:
        InputError: bad ``k``/``strength``, a MetaNAS model of another space or without alphas,
            ``meta_features`` with names the stored ``view`` does not have.
    """
    sp = get_space(space)
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InputError(f"k must be a positive int, got {k!r}")
    if isinstance(strength, bool) or not isinstance(strength, (int, float)) \
            or not math.isfinite(strength) or strength <= 0:
        raise InputError(f"strength must be a positive number, got {strength!r}")
    if metanas is not None:
        model = _load_metanas(metanas)
        alphas = model.alpha_prior()
        model_space = model._space_name()
        if model_space != sp.name:
            raise InputError(f"the MetaNAS model searched the {model_space!r} space, not "
                             f"{sp.name!r}; pass space={model_space!r}")
        alphas = {kk: (float(strength) * v).float() for kk, v in alphas.items()}
        return AlphaPrior(alphas, sp.name, "metanas", [], 0)
    from warmnas.metadb import MetaDatabase

    database = db if isinstance(db, MetaDatabase) else MetaDatabase(db)
    excluded = set(exclude_tasks)
    records = [r for r in database.nas_records(space=sp.name) if r.task not in excluded]
    if not records:
        logger.warning("no NAS records of space %r in %s; the alpha prior is uniform",
                       sp.name, database.url)
        zeros = {kk: torch.zeros(shape) for kk, shape in sp.alpha_shapes().items()}
        return AlphaPrior(zeros, sp.name, "uniform", [], 0)
    by_task: dict[str, list[Any]] = {}
    for r in records:
        by_task.setdefault(r.task, []).append(r)
    tasks = list(by_task)
    try:
        table = database.meta_features(view=view, tasks=tasks)
    except UnknownIdError:
        table = None
    has = (table.notna().any(axis=1).to_numpy() if table is not None and len(table.columns)
           else np.zeros(len(tasks), dtype=bool))
    neighbors: list[tuple[str, float, float]] = []
    if has.any() and meta_features is not None:
        assert table is not None
        _check_query_names(meta_features, table, view)
    if has.any():
        if meta_features is None:
            if dataset is None:
                raise InputError("pass dataset= (or meta_features=) to find the nearest tasks "
                                 "in the meta-database")
            meta_features = image_meta_features(dataset, random_state=random_state)
        assert table is not None
        d = _distances(meta_features, table)
        d[~has] = np.nan
        order = [i for i in np.argsort(np.where(np.isfinite(d), d, np.inf)) if np.isfinite(d[i])]
        chosen = order[:k]
        if chosen:
            w = 1.0 / (d[chosen] + 1e-6)
            w = w / w.sum()
            neighbors = [(tasks[i], float(d[i]), float(wi)) for i, wi in zip(chosen, w)]
    source = "knn"
    if not neighbors:
        source = "space-mean"
        neighbors = [(t, float("nan"), 1.0 / len(tasks)) for t in tasks]
    task_alphas, weights = [], []
    n_records = 0
    for task, _, wi in neighbors:
        recs = by_task[task]
        n_records += len(recs)
        task_alphas.append(combine_alphas([r.alpha for r in recs]))
        weights.append(wi)
    alphas = combine_alphas(task_alphas, weights, strength=strength)
    sp.validate_alphas(alphas, name="prior")
    return AlphaPrior(alphas, sp.name, source, neighbors, n_records)


def alpha_prior(dataset_or_features: Any = None, *, space: str = "darts", db: Any = None,
                k: int = 3, metanas: Any = None, **kwargs: Any) -> dict[str, torch.Tensor]:
    """Alpha logits ``{key: (n_edges, n_ops)}`` to warm-start DARTS on a new dataset.

    Args:
        dataset_or_features: the dataset (``ImageData``, ``(X, y)``, ``ClassTaskDistribution``)
            or its meta-features dict (view ``"image"``).
        space, db, k, metanas, **kwargs: as in :func:`find_alpha_prior`.

    Returns:
        CPU float32 logits, e.g. ``{"normal": (14, 8), "reduce": (14, 8)}`` for DARTS.
    """
    if isinstance(dataset_or_features, Mapping):
        kwargs["meta_features"] = dataset_or_features
        dataset = None
    else:
        dataset = dataset_or_features
    return find_alpha_prior(dataset, space=space, db=db, k=k, metanas=metanas, **kwargs).alphas


def alpha_prior_hook(space: str, *, dataset: Any = None, k: int = 3, metanas: Any = None,
                     view: str = IMAGE_VIEW, strength: float = 1.0,
                     random_state: RandomState = 0) -> Any:
    """A hook for ``warmnas.warm_start(..., alpha_prior_hook=...)`` that fills
    ``WarmStart.alpha_prior`` for a NAS space.

    The hook is called as ``hook(db, neighbors, meta_features)``. When the warm starter's
    ``neighbors`` (a Series: task id -> distance, nearest first) include tasks with NAS records of
    ``space``, their records are mixed with inverse-distance weights (the ``k`` nearest such
    tasks); otherwise :func:`find_alpha_prior` runs on ``dataset`` (image meta-features) or, if
    ``metanas`` is given, returns its meta-learned alphas.

    ``random_state`` seeds that fall-back's image meta-features (as in :func:`find_alpha_prior`;
    the hook is made before ``warm_start`` runs, so give it the seed passed to ``warm_start``).

    Returns:
        ``hook(db, neighbors, meta_features) -> {key: (n_edges, n_ops) logits}``.
    """
    sp = get_space(space)

    def hook(db: Any, neighbors: Any = None, meta_features: Any = None) -> dict[str, torch.Tensor]:
        if metanas is None and neighbors is not None and len(neighbors) > 0:
            records = db.nas_records(space=sp.name)
            by_task: dict[str, list[Any]] = {}
            for r in records:
                by_task.setdefault(str(r.task), []).append(r)
            chosen = [(str(t), float(d)) for t, d in neighbors.items() if str(t) in by_task][:k]
            if chosen:
                alphas = [combine_alphas([r.alpha for r in by_task[t]]) for t, _ in chosen]
                weights = [1.0 / (max(d, 0.0) + 1e-6) if math.isfinite(d) else 1.0
                           for _, d in chosen]
                return combine_alphas(alphas, weights, strength=strength)
        feats = None
        if dataset is None and meta_features is not None and hasattr(meta_features, "items"):
            feats = {str(n): float(v) for n, v in meta_features.items()}
        return find_alpha_prior(dataset, space=sp.name, db=db, k=k, metanas=metanas,
                                meta_features=feats, view=view, strength=strength,
                                random_state=random_state).alphas

    return hook


# ------------------------------------------------------------------------------------------
# DARTS from warm starts


@dataclass
class SearchCurve:
    """Validation accuracy of one search arm over steps.

    Attributes:
        steps: the steps at which accuracy was measured (0 = before any step).
        valid_accuracy: the accuracies (0..1).
        alphas: final alpha logits (CPU).
        genotype: the derived architecture at the end.
    """

    steps: list[int]
    valid_accuracy: list[float]
    alphas: dict[str, torch.Tensor]
    genotype: Any


def steps_to_target(curve: SearchCurve, target: float) -> int | None:
    """The first measured step at which ``curve`` reaches ``target`` (None if never)."""
    for s, a in zip(curve.steps, curve.valid_accuracy):
        if a >= target - 1e-12:
            return s
    return None


def _weights_from(init: Any, fnet: Any) -> dict[str, torch.Tensor] | None:
    """Weights (by name, shape-matched) from a MetaNAS model or a state dict."""
    if init is None:
        return None
    from torch import nn

    from warmnas.nas.meta.metanas import MetaNAS

    if isinstance(init, (str, os.PathLike)):
        init = MetaNAS.load(Path(init))
    if isinstance(init, MetaNAS):
        init._check_fitted()
        state = {n: p.detach() for n, p in init.model_.named_parameters()}
    elif isinstance(init, nn.Module):
        state = {n: p.detach() for n, p in init.named_parameters()}
    elif isinstance(init, Mapping):
        state = {str(n): torch.as_tensor(v) for n, v in init.items()}
    else:
        raise InputTypeError(f"init_weights must be a MetaNAS, a module or a state dict, got "
                             f"{type(init).__name__}")
    return state


def _prototype_head(fnet: Any, w: dict[str, torch.Tensor], a: dict[str, torch.Tensor],
                    data: Any, norm: Callable[[torch.Tensor], torch.Tensor], n_classes: int,
                    chunk: int) -> dict[str, torch.Tensor]:
    """Classifier weight ``2 mu_c`` and bias ``-|mu_c|^2`` from the class means of the pooled
    features of ``data`` (on the device; ``norm`` turns its stored images into network
    inputs; see :func:`warm_search`)."""
    wk, bk = "classifier.weight", "classifier.bias"
    if wk not in w or bk not in w:
        raise InputError("init_head='prototypes' needs a network whose last layer is "
                         "'classifier' (the DARTS and NB201 supernets)")
    dim, dev = w[wk].shape[1], w[wk].device
    # an identity classifier turns the logits into the pooled features
    probe = dict(w)
    probe[wk] = torch.eye(dim, device=dev, dtype=w[wk].dtype)
    probe[bk] = torch.zeros(dim, device=dev, dtype=w[bk].dtype)
    sums = torch.zeros(n_classes, dim, device=dev, dtype=torch.float64)
    counts = torch.zeros(n_classes, device=dev, dtype=torch.float64)
    with torch.no_grad():
        for lo in range(0, len(data), chunk):
            x = norm(data.images[lo:lo + chunk])
            y = data.labels[lo:lo + chunk]
            h = fnet(probe, a, x).double()
            sums.index_add_(0, y, h)
            counts.index_add_(0, y, torch.ones_like(y, dtype=torch.float64))
    seen = counts > 0
    mu = sums[seen] / counts[seen, None]
    weight, bias = w[wk].clone(), w[bk].clone()
    weight[seen] = (2.0 * mu).to(weight.dtype)
    bias[seen] = (-(mu * mu).sum(dim=1)).to(bias.dtype)
    return {wk: weight, bk: bias}


def warm_search(train: Any, valid: Any, *, arms: Mapping[str, Mapping[str, Any]],
                space: str = "darts", steps: int = 200, eval_every: int = 10,
                batch_size: int = 64, C: int = 16, layers: int = 4, lr: float = 0.025,
                lr_min: float = 0.001, momentum: float = 0.9, weight_decay: float = 3e-4,
                grad_clip: float = 5.0, arch_lr: float = 3e-4,
                arch_betas: tuple[float, float] = (0.5, 0.999),
                arch_weight_decay: float = 1e-3, latency_penalty: Any = None,
                eval_batch: int = 500, device: str | torch.device = "cpu",
                max_time_s: float | None = None,
                random_state: RandomState = 0) -> dict[str, SearchCurve]:
    """First-order DARTS from several starting points ("arms") at once, on the same batches.

    Every iteration is, as in DARTS, an alpha step (Adam) on a valid minibatch followed by a
    weight step (SGD with momentum, cosine learning rate per step, gradient clipping) on a train
    minibatch. All arms see the same minibatches and start from the same random weights unless
    they bring their own, so their curves differ only by the warm start. Arms run in parallel
    with ``torch.func.vmap``.

    Args:
        train, valid: ``ImageData`` or ``(X, y)``; same channels and image size.
        arms: ``{name: {"init_alpha": logits | None, "init_weights": MetaNAS | checkpoint |
            module | state dict | None, "init_head": "fresh" | "prototypes"}}``. Weights are
            copied by name where the shapes match (a classifier for another number of classes
            keeps its fresh initialisation). ``init_head="prototypes"`` then sets the
            classifier from the class means ``mu_c`` of the arm's pooled features on the
            *train* images (weight ``2 mu_c``, bias ``-|mu_c|^2``: a nearest-class-mean
            classifier in squared Euclidean distance, as Proto-MAML initialises its output
            layer), so meta-learned features are usable from step 0; classes without a train
            image keep the fresh rows.
        space: ``"darts"`` or ``"nb201"``.
        steps, eval_every: iterations, and how often the full valid set is scored (also at 0
            and at ``steps``).
        batch_size, C, layers, lr, lr_min, momentum, weight_decay, grad_clip, arch_lr,
            arch_betas, arch_weight_decay: DARTS' settings (DARTS' defaults).
        latency_penalty: ``f(ce, alphas) -> loss`` for the alpha step.
        eval_batch: images per forward pass when scoring (BatchNorm uses batch statistics).
        device: torch device.
        max_time_s: wall-time budget: stop (after scoring) once exceeded; the curves end there.
        random_state: seed of the weight initialisation and the minibatches.

    Returns:
        ``{arm name: SearchCurve}``.

    Raises:
        InputError: no arms, bad settings. InputTypeError: bad data.
    """
    from warmnas.nas.data import ImageData, resolve_device
    from warmnas.nas.meta.inner import (
        FunctionalNet,
        InnerOptimizer,
        _clip,
        _penalised_alpha_grad,
    )
    from warmnas.nas.supernet import build_supernet

    if not isinstance(arms, Mapping) or not arms:
        raise InputError("arms must be a non-empty dict {name: {'init_alpha': ..., "
                         "'init_weights': ...}}")
    for name in ("steps", "eval_every", "batch_size", "C", "layers", "eval_batch"):
        value = locals()[name]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InputError(f"{name} must be a positive int, got {value!r}")

    tr, va = ImageData.coerce(train, "train"), ImageData.coerce(valid, "valid")
    if tr.image_shape != va.image_shape:
        raise InputError(f"train and valid images differ: {tr.image_shape} vs {va.image_shape}")
    dev = resolve_device(device)
    if max_time_s is not None and (isinstance(max_time_s, bool)
                                   or not isinstance(max_time_s, (int, float))
                                   or not max_time_s > 0):
        raise InputError(f"max_time_s must be a positive number of seconds or None, got "
                         f"{max_time_s!r}")
    n_classes = max(tr.n_classes, va.n_classes)
    rng = check_random_state(random_state)
    seed_model, seed_data = derive_seed(rng), derive_seed(rng)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed_model)
        net = build_supernet(space, C=C, layers=layers, num_classes=n_classes,
                             in_channels=tr.image_shape[0], random_state=seed_model)
    fnet = FunctionalNet(net.to(dev))
    base_w, base_a = fnet.split(fnet.net)
    sp = get_space(space)
    trd, vad = tr.to(dev), va.to(dev)
    mean_t = torch.tensor(tr.mean, device=dev).view(1, -1, 1, 1)
    std_t = torch.tensor(tr.std, device=dev).view(1, -1, 1, 1)
    scale = 255.0 if tr.images.dtype == torch.uint8 else 1.0

    def norm(images: torch.Tensor) -> torch.Tensor:
        return (images.float() / scale - mean_t) / std_t

    names = list(arms)
    ws, as_ = [], []
    for name in names:
        spec = arms[name]
        if not isinstance(spec, Mapping) or set(spec) - {"init_alpha", "init_weights",
                                                         "init_head"}:
            raise InputError(f"arms[{name!r}] must be a dict with keys 'init_alpha', "
                             "'init_weights' and/or 'init_head'")
        head = spec.get("init_head") or "fresh"
        if head not in ("fresh", "prototypes"):
            raise InputError(f"arms[{name!r}]['init_head'] must be 'fresh' or 'prototypes', "
                             f"got {head!r}")
        w = dict(base_w)
        state = _weights_from(spec.get("init_weights"), fnet)
        if state is not None:
            copied = 0
            for n, v in state.items():
                if n in w and tuple(w[n].shape) == tuple(v.shape):
                    w[n] = v.to(dev, torch.float32).clone()
                    copied += 1
            if copied == 0:
                raise InputError(f"arms[{name!r}]: init_weights share no parameter (name and "
                                 "shape) with this supernet; use the same space, C and layers")
            logger.info("arm %s: %d of %d weight tensors warm-started", name, copied, len(w))
        init_alpha = spec.get("init_alpha")
        if init_alpha is None:
            a = dict(base_a)
        else:
            a = {k: v.to(dev) for k, v in sp.validate_alphas(init_alpha,
                                                             name=f"{name} init_alpha").items()}
        if head == "prototypes":
            w.update(_prototype_head(fnet, w, a, trd, norm, n_classes, eval_batch))
        ws.append(w)
        as_.append(a)
    W = {k: torch.stack([w[k] for w in ws]) for k in base_w}
    A = {k: torch.stack([a[k] for a in as_]) for k in base_a}
    R = len(names)
    gen = torch_generator(seed_data, dev)

    def batch(d: ImageData, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        idx = torch.randint(0, len(d), (n,), generator=gen, device=dev)
        x = norm(d.images.index_select(0, idx))
        y = d.labels.index_select(0, idx)
        return x, y

    w_opt = InnerOptimizer("sgd", lr, momentum=momentum, weight_decay=weight_decay)
    a_opt = InnerOptimizer("adam", arch_lr, betas=(float(arch_betas[0]), float(arch_betas[1])),
                           weight_decay=arch_weight_decay)
    w_state, a_state = w_opt.init(W), a_opt.init(A)

    def w_loss(w: dict[str, torch.Tensor], a: dict[str, torch.Tensor], x: torch.Tensor,
               y: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(fnet(w, a, x), y)

    def a_ce(a: dict[str, torch.Tensor], w: dict[str, torch.Tensor], x: torch.Tensor,
             y: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(fnet(w, a, x), y)

    w_grad = torch.func.vmap(torch.func.grad(w_loss), in_dims=(0, 0, None, None))
    a_grad = (torch.func.vmap(torch.func.grad(a_ce), in_dims=(0, 0, None, None))
              if latency_penalty is None
              else _penalised_alpha_grad(a_ce, latency_penalty, in_dims=(0, 0, None, None)))

    @torch.no_grad()
    def score() -> list[float]:
        correct = torch.zeros(R, device=dev)
        for lo in range(0, len(vad), eval_batch):
            x = norm(vad.images[lo:lo + eval_batch])
            y = vad.labels[lo:lo + eval_batch]
            logits = torch.func.vmap(fnet, in_dims=(0, 0, None))(W, A, x)
            correct += (logits.argmax(dim=-1) == y).sum(dim=1)
        return (correct / len(vad)).tolist()

    import time

    started = time.perf_counter()
    curve_steps = [0]
    curve_acc = [score()]
    for step in range(steps):
        w_opt.lr = lr_min + (lr - lr_min) * (1 + math.cos(math.pi * step / steps)) / 2
        xv, yv = batch(vad, min(batch_size, len(vad)))
        ga = a_grad(A, {k: v.detach() for k, v in W.items()}, xv, yv)
        A = a_opt.step(A, ga, a_state)
        xt, yt = batch(trd, min(batch_size, len(trd)))
        gw = _clip(w_grad(W, {k: v.detach() for k, v in A.items()}, xt, yt), grad_clip)
        W = w_opt.step(W, gw, w_state)
        over = max_time_s is not None and time.perf_counter() - started > float(max_time_s)
        if (step + 1) % eval_every == 0 or step + 1 == steps or over:
            curve_steps.append(step + 1)
            curve_acc.append(score())
        if over:
            logger.warning("warm_search: time budget of %.0fs reached after %d of %d steps",
                           float(max_time_s or 0), step + 1, steps)
            break
    from warmnas.nas.genotype import derive_architecture

    out: dict[str, SearchCurve] = {}
    for i, name in enumerate(names):
        alphas = {k: v[i].detach().float().cpu() for k, v in A.items()}
        out[name] = SearchCurve(list(curve_steps), [float(c[i]) for c in curve_acc], alphas,
                                derive_architecture(sp.name, alphas))
    return out
