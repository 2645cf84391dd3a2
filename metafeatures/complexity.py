"""Complexity meta-features (Lorena et al., 2019; pymfe's ``complexity`` group).

Only measures that scale are included. Class balance (``c1``, ``c2``) and dimensionality
(``t2``) measures are exact on all rows.
"""

from __future__ import annotations

import numpy as np

from metafeatures._input import Prepared, Target
from metafeatures._registry import REGISTRY

G = "complexity"


@REGISTRY.measure("c1", group=G, requires=("target",), target="classes")
def c1(target: Target) -> float:
    """Entropy of the class proportions normalised by log(K) (1 = balanced)."""
    k = target.n_classes
    if k < 2:
        return float("nan")
    p = target.counts / target.counts.sum()
    return float(-np.sum(p * np.log(p)) / np.log(k))


@REGISTRY.measure("c2", group=G, requires=("target",), target="classes")
def c2(target: Target) -> float:
    """Imbalance ratio: 1 - 1 / IR with IR = (K - 1) / K * sum n_i / (n - n_i) (0 = balanced)."""
    k = target.n_classes
    n = target.counts.sum()
    if k < 2:
        return float("nan")
    ir = (k - 1) / k * np.sum(target.counts / (n - target.counts))
    return float(1.0 - 1.0 / ir)


@REGISTRY.measure("t2", group=G, requires=("data",))
def t2(data: Prepared) -> float:
    """Average number of instances per dimension: p / n."""
    return data.n_features / data.n_rows
