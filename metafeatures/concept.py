"""Concept-variation meta-features (pymfe's ``concept`` group; Rivolli et al.).

pymfe 0.4.4's definitions and defaults: ``N`` rescaled to [0, 1] per column (scikit-learn's
``MinMaxScaler`` arithmetic), Euclidean distances ``d`` between instances, and for each
instance ``j`` (``p`` = columns of ``N``):

- ``conceptvar``: sum_i w_ij [y_i != y_j] / sum_i w_ij, with w = 2 ** (-2 d / (sqrt(p) - d))
  (``conceptvar_alpha = 2``; a non-positive ``sqrt(p) - d`` replaced by 1e-9);
- ``wg_dist``: sum_i w_ij d_ij / sum_i w_ij with the same weights (``wg_dist_alpha = 2``);
- ``impconceptvar``: sum_i v_ij [y_i != y_j], with v = 2 ** (-ceil(d)) (a radius of 0 counted
  as 1; ``impconceptvar_alpha = 1``);
- ``cohesiveness``: sum_i v_ij (``cohesiveness_alpha = 1``);

self-pairs excluded. The values are per instance and summarised (mean, sd, ...).

Cost control: every measure needs all pairwise distances; they work on a seeded subsample (by
class when y holds class labels) of at most ``SAMPLE_SIZES["concept"]`` (2000) rows of ``N``
(missing values imputed with the column means; the rescaling uses the sample's minima and
maxima). The four measures share one pass over the distance matrix, in row blocks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from metafeatures._input import Target
from metafeatures._registry import REGISTRY
from metafeatures._resources import Config, Encoded, Moments, need_columns, stratified_subsample

G = "concept"

#: pymfe's ``conceptvar_alpha`` and ``wg_dist_alpha``.
ALPHA_DIST = 2.0
#: pymfe's ``impconceptvar_alpha`` and ``cohesiveness_alpha``.
ALPHA_RADIUS = 1.0
#: pymfe's ``concept_minimum``: replaces a non-positive ``sqrt(p) - d``.
CONCEPT_MINIMUM = 1e-9
#: Size of one (rows, m) float64 temporary of the distance pass.
BLOCK_BYTES = 16 * 1024**2


@dataclass(frozen=True)
class ConceptSums:
    """Per-instance column sums of the concept weights of the sample.

    Attributes (all (m,) float64): ``w`` sum of the distance weights, ``wd`` their sum weighted
    by the distance, ``v`` sum of the radius weights; ``w_other`` and ``v_other`` the same sums
    over the instances of another class (None without class labels).
    """

    w: np.ndarray
    wd: np.ndarray
    v: np.ndarray
    w_other: np.ndarray | None
    v_other: np.ndarray | None


def minmax_scale(X: np.ndarray) -> np.ndarray:
    """``X`` rescaled to [0, 1] per column with scikit-learn's ``MinMaxScaler`` arithmetic
    (``X * scale + offset``; a constant column becomes 0)."""
    lo = X.min(axis=0)
    rng = X.max(axis=0) - lo
    scale = 1.0 / np.where(rng == 0.0, 1.0, rng)
    return X * scale + (0.0 - lo * scale)


@REGISTRY.resource("concept_sums", requires=("encoded", "moments", "target", "config"))
def _concept_sums(enc: Encoded, mom: Moments, target: Target | None, config: Config
                  ) -> ConceptSums:
    """Concept weights of a seeded subsample of the rescaled N, summed per instance."""
    need_columns(enc)
    from scipy.spatial.distance import cdist

    labels = target.codes if target is not None and target.task == "classification" else None
    idx = stratified_subsample(enc.n, config.sample_sizes[G], labels, config.seed)
    S = minmax_scale(enc.take(idx, fill=mom.mean))
    y = None if labels is None else labels[idx]
    m, p = S.shape
    root = np.sqrt(p)
    sums = {k: np.zeros(m) for k in ("w", "wd", "v", "w_other", "v_other")}
    step = int(max(1, min(m, BLOCK_BYTES // (8 * max(m, 1)))))
    for start in range(0, m, step):
        stop = min(m, start + step)
        d = cdist(S[start:stop], S, metric="euclidean")  # rows i of the sums over i
        div = root - d
        div[div <= 0] = CONCEPT_MINIMUM
        w = np.power(2.0, -ALPHA_DIST * (d / div))
        radius = np.ceil(d)
        radius[radius == 0] = 1.0
        v = np.power(2.0, -ALPHA_RADIUS * radius)
        rows = np.arange(stop - start)
        w[rows, start + rows] = 0.0
        v[rows, start + rows] = 0.0
        sums["w"] += w.sum(axis=0)
        sums["wd"] += (w * d).sum(axis=0)
        sums["v"] += v.sum(axis=0)
        if y is not None:
            other = y[start:stop, None] != y[None, :]
            sums["w_other"] += np.where(other, w, 0.0).sum(axis=0)
            sums["v_other"] += np.where(other, v, 0.0).sum(axis=0)
    if y is None:
        return ConceptSums(sums["w"], sums["wd"], sums["v"], None, None)
    return ConceptSums(sums["w"], sums["wd"], sums["v"], sums["w_other"], sums["v_other"])


@REGISTRY.measure("conceptvar", group=G, requires=("concept_sums",), target="classes",
                  min_classes=1, summarised=True)
def conceptvar(s: ConceptSums) -> np.ndarray:
    """Concept variation per instance: the weighted share of other-class instances around it
    (weights 2 ** (-2 d / (sqrt(p) - d)))."""
    assert s.w_other is not None
    return s.w_other / s.w


@REGISTRY.measure("wg_dist", group=G, requires=("concept_sums",), summarised=True)
def wg_dist(s: ConceptSums) -> np.ndarray:
    """Weighted distance per instance: the weighted mean distance to the other instances."""
    return s.wd / s.w


@REGISTRY.measure("impconceptvar", group=G, requires=("concept_sums",), target="classes",
                  min_classes=1, summarised=True)
def impconceptvar(s: ConceptSums) -> np.ndarray:
    """Improved concept variation per instance: sum of 2 ** (-ceil(d)) over the instances of
    another class."""
    assert s.v_other is not None
    return s.v_other


@REGISTRY.measure("cohesiveness", group=G, requires=("concept_sums",), summarised=True)
def cohesiveness(s: ConceptSums) -> np.ndarray:
    """Cohesiveness per instance: sum of 2 ** (-ceil(d)) over the other instances."""
    return s.v
