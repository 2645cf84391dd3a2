"""Itemset meta-features (pymfe's ``itemset`` group) on the categorical view ``C``.

``C`` holds the categorical attributes and the numeric ones cut into ``int(n ** (1/3))``
equal-frequency bins (the ``discretised`` resource, as the info-theory group). An *item* is
"attribute j has value a"; pymfe 0.4.4's definitions, over the values observed in each
attribute:

- ``one_itemset``: per item, the fraction of rows that hold it;
- ``two_itemset``: per pair of attributes (i < j) and pair of their values (a, b), the fraction
  of rows in which exactly one of the two items holds (pymfe takes the exclusive or of the two
  indicator columns), i.e. ``(n_a + n_b - 2 n_ab) / n``.

A missing value holds no item. ``one_itemset`` comes from the per-column counts the
info-theory group also uses (all rows); ``two_itemset`` from one ``bincount`` per pair of
attributes over at most ``SAMPLE_SIZES["itemset"]`` (100,000) rows (a seeded random sample
above; the values are those observed in all rows). Its number of values is the sum over
attribute pairs of the product of their numbers of values; above
:data:`MAX_TWO_ITEMSET_VALUES` a seeded random subset of attribute pairs is used (whole pairs,
so every value comes from a complete contingency table).
"""

from __future__ import annotations

import numpy as np

from metafeatures._registry import REGISTRY
from metafeatures._resources import Config, stratified_subsample
from metafeatures.info_theory import Discretised, Tables

G = "itemset"

#: Most values ``two_itemset`` returns (32 MB); a seeded subset of attribute pairs beyond.
MAX_TWO_ITEMSET_VALUES = 4_000_000


@REGISTRY.measure("one_itemset", group=G, requires=("tables", "discretised"), summarised=True)
def one_itemset(tables: Tables, disc: Discretised) -> np.ndarray:
    """Fraction of the rows holding each observed value of each attribute of C."""
    n = disc.codes.shape[0]
    if not tables.marginal:
        return np.zeros(0)
    return np.concatenate([m[m > 0] for m in tables.marginal]) / n


def pair_subset(sizes: np.ndarray, cap: int, seed: int) -> np.ndarray:
    """Indices (sorted) of the attribute pairs used by ``two_itemset``: all of them when their
    ``sizes`` (values per pair) sum to at most ``cap``; otherwise pairs taken in a seeded random
    order while the running total stays within ``cap`` (at least one pair)."""
    if sizes.sum() <= cap:
        return np.arange(sizes.size)
    order = np.random.RandomState(seed).permutation(sizes.size)
    keep = np.cumsum(sizes[order]) <= cap
    keep[0] = True
    return np.sort(order[keep])


@REGISTRY.measure("two_itemset", group=G, requires=("tables", "discretised", "config"),
                  summarised=True)
def two_itemset(tables: Tables, disc: Discretised, config: Config) -> np.ndarray:
    """Per pair of attributes and pair of their observed values: the fraction of rows holding
    exactly one of the two items (pymfe's XOR)."""
    n, q = disc.codes.shape
    idx = stratified_subsample(n, config.sample_sizes[G], None, config.seed)
    # one contiguous row per attribute (a column of the C-ordered codes is strided)
    cols = np.ascontiguousarray((disc.codes[idx] if idx.size < n else disc.codes).T)
    m = cols.shape[1]
    observed = [np.flatnonzero(t > 0) for t in tables.marginal]  # values seen in all rows
    n_values = np.array([o.size for o in observed], dtype=np.int64)
    ii, jj = np.triu_indices(q, 1)
    chosen = pair_subset(n_values[ii] * n_values[jj], MAX_TWO_ITEMSET_VALUES, config.seed)
    levels = disc.levels.astype(np.int64) + 1  # one more slot: missing (code -1)
    parts = []
    for t in chosen:
        i, j = int(ii[t]), int(jj[t])
        a = cols[i].astype(np.intp)
        a[a < 0] = levels[i] - 1
        b = cols[j].astype(np.intp)
        b[b < 0] = levels[j] - 1
        a *= levels[j]
        a += b
        joint = np.bincount(a, minlength=int(levels[i] * levels[j])).reshape(
            int(levels[i]), int(levels[j]))
        n_a = joint.sum(axis=1)[observed[i]].astype(np.float64)
        n_b = joint.sum(axis=0)[observed[j]].astype(np.float64)
        n_ab = joint[np.ix_(observed[i], observed[j])]
        parts.append((n_a[:, None] + n_b[None, :] - 2.0 * n_ab).ravel())
    return np.concatenate(parts) / m if parts else np.zeros(0)
