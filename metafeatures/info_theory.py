"""Information-theoretic meta-features (entropies in bits).

pymfe's measures work on the categorical matrix ``C``: the categorical attributes followed by
the numeric attributes discretised into ``int(n ** (1/3))`` equal-frequency bins (pymfe's
``transform_num``). Counts come from one chunked ``bincount`` pass over ``C`` (every attribute
and its joint table with the class at once), so the cost is linear in the data.

Differences from pymfe (documented, tested against the definitions): pymfe adds ``1e-8`` to
every cell of the joint tables before taking ``p log p`` (joint entropy, mutual information,
concentration); the entropies here are exact. A missing value is left out of the tables of its
attribute (pymfe does not accept missing values).

The ``openml_*`` measures follow OpenML's engine: nominal attributes only, and a missing value
counted as the attribute's first declared value (Weka stores a missing value as NaN and
OpenML's code casts it to the index 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from metafeatures._input import Prepared, Target
from metafeatures._registry import REGISTRY
from metafeatures._resources import Config, Encoded, OrderStats, sorted_quantiles

G = "info-theory"

#: pymfe's attr_conc uses at most this many attributes (a seeded random choice above it).
ATTR_CONC_MAX_ATTRIBUTES = 12


@dataclass(frozen=True)
class Discretised:
    """The categorical matrix C.

    Attributes:
        codes: (n, q) small-int codes, -1 = missing; categorical attributes first, then the
            discretised numeric attributes.
        levels: (q,) number of possible codes per column.
    """

    codes: np.ndarray
    levels: np.ndarray


def _code_dtype(max_levels: int) -> type[np.integer]:
    if max_levels < 127:
        return np.int8
    if max_levels < 32767:
        return np.int16
    return np.int32


@REGISTRY.resource("discretised", requires=("data", "order_stats", "encoded", "config"))
def _discretised(data: Prepared, order: OrderStats, enc: Encoded, config: Config) -> Discretised:
    """C: categorical codes plus numeric attributes cut at their equal-frequency edges (only the
    categorical codes with ``transform_num=False``). The edges are those of the raw numeric
    attributes, also when ``N`` is rescaled (pymfe discretises the raw ``X``)."""
    if not config.transform_num:
        bins: tuple[np.ndarray, ...] = ()
    elif enc.is_scaled:
        bins = raw_bins(data)
    else:
        bins = order.bins
    levels = np.concatenate([
        data.declared_levels,
        # np.digitize(right=True) gives len(edges) to values above the last kept edge
        np.array([b.size + 1 for b in bins], dtype=np.int64),
    ]).astype(np.int64)
    n = data.n_rows
    q = levels.size
    codes = np.empty((n, q), dtype=_code_dtype(int(levels.max(initial=1))))
    codes[:, : data.n_categorical] = data.categorical
    for k, edges in enumerate(bins):
        col = data.numeric[:, k]
        out = np.searchsorted(edges, col, side="left")  # == np.digitize(col, edges, right=True)
        if enc.has_missing:
            out[np.isnan(col)] = -1
        codes[:, data.n_categorical + k] = out
    return Discretised(codes, levels)


def raw_bins(data: Prepared) -> tuple[np.ndarray, ...]:
    """The equal-frequency edges of :attr:`OrderStats.bins` computed on the raw numeric
    attributes (used when ``N`` is rescaled), one column at a time."""
    n_bins = max(1, int(data.n_rows ** (1.0 / 3.0)))
    qbins = np.linspace(0.0, 1.0, n_bins + 1)[1:]
    out = []
    for k in range(data.n_numeric):
        col = np.sort(data.numeric[:, k].astype(np.float64))[:, None]  # NaN last
        count = np.array([float(np.count_nonzero(~np.isnan(col)))])
        edges = sorted_quantiles(col, count, qbins)[:, 0]
        keep = np.append(True, np.diff(edges) > 1e-8)
        out.append(np.unique(edges[keep]))
    return tuple(out)


@dataclass(frozen=True)
class Tables:
    """Per-column counts of C: ``marginal[j]`` (levels_j,) and, with classes, ``joint[j]``
    (levels_j, K) contingency tables; missing values are not counted."""

    marginal: tuple[np.ndarray, ...]
    joint: tuple[np.ndarray, ...] | None


def _tables(codes: np.ndarray, levels: np.ndarray, y: np.ndarray | None, k: int) -> Tables:
    """Contingency tables of every column of ``codes`` (with ``y``) from chunked bincounts."""
    n, q = codes.shape
    kk = k if y is not None else 1
    width = (levels + 1) * kk  # one extra level for "missing" (code -1 -> last slot)
    offsets = np.concatenate([[0], np.cumsum(width)]).astype(np.int64)
    total = np.zeros(int(offsets[-1]), dtype=np.int64)
    step = max(1024, (8 * 1024**2) // max(q, 1))
    for start in range(0, n, step):
        block = codes[start:start + step].astype(np.int64)
        block[block < 0] = levels[np.nonzero(block < 0)[1]]
        if y is not None:
            block = block * k + y[start:start + step, None]
        block += offsets[:-1]
        total += np.bincount(block.ravel(), minlength=total.size)
    marginal: list[np.ndarray] = []
    joint: list[np.ndarray] | None = [] if y is not None else None
    for j in range(q):
        tab = total[offsets[j]:offsets[j + 1]].reshape(int(levels[j]) + 1, kk)[:-1]
        marginal.append(tab.sum(axis=1))
        if joint is not None:
            joint.append(tab)
    return Tables(tuple(marginal), None if joint is None else tuple(joint))


def _entropy(counts: np.ndarray, axis: int | None = None) -> np.ndarray:
    """Entropy in bits of counts (zeros ignored)."""
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum(axis=axis, keepdims=axis is not None)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = counts / total
        terms = np.where(p > 0, -p * np.log2(np.where(p > 0, p, 1.0)), 0.0)
    return np.where(np.squeeze(total) > 0, terms.sum(axis=axis), np.nan)


@REGISTRY.resource("tables", requires=("discretised", "target"))
def _tables_resource(disc: Discretised, target: Target | None) -> Tables:
    """Contingency tables of C (with the classes when y holds class labels)."""
    if target is not None and target.task == "classification":
        return _tables(disc.codes, disc.levels, target.codes, target.n_classes)
    return _tables(disc.codes, disc.levels, None, 1)


@dataclass(frozen=True)
class _Info:
    attr_ent: np.ndarray
    class_ent: float
    joint_ent: np.ndarray
    mut_inf: np.ndarray


@REGISTRY.resource("entropies", requires=("tables", "target"))
def _entropies(tables: Tables, target: Target) -> _Info:
    """Attribute, class and joint entropies and mutual information of each column of C."""
    assert tables.joint is not None
    attr = np.array([_entropy(m) for m in tables.marginal])
    joint = np.array([_entropy(t) for t in tables.joint])
    # the class entropy over the rows where the attribute is observed (all rows without NaN)
    cls_obs = np.array([_entropy(t.sum(axis=0)) for t in tables.joint])
    mi = attr + cls_obs - joint
    return _Info(attr, float(_entropy(target.counts)), joint, np.clip(mi, 0.0, None))


@REGISTRY.measure("attr_ent", group=G, requires=("tables",), summarised=True)
def attr_ent(tables: Tables) -> np.ndarray:
    """Entropy of each attribute of C."""
    return np.array([_entropy(m) for m in tables.marginal])


@REGISTRY.measure("class_ent", group=G, requires=("target",), target="classes")
def class_ent(target: Target) -> float:
    """Entropy of the class."""
    return float(_entropy(target.counts))


@REGISTRY.measure("joint_ent", group=G, requires=("entropies",), target="classes",
                  summarised=True)
def joint_ent(info: _Info) -> np.ndarray:
    """Joint entropy of each attribute of C with the class."""
    return info.joint_ent


@REGISTRY.measure("mut_inf", group=G, requires=("entropies",), target="classes",
                  summarised=True)
def mut_inf(info: _Info) -> np.ndarray:
    """Mutual information of each attribute of C with the class."""
    return info.mut_inf


@REGISTRY.measure("eq_num_attr", group=G, requires=("entropies",), target="classes")
def eq_num_attr(info: _Info) -> float:
    """Equivalent number of attributes: q * H(class) / sum of mutual information."""
    total = info.mut_inf.sum()
    return float(info.mut_inf.size * info.class_ent / total) if total > 0 else float("nan")


@REGISTRY.measure("ns_ratio", group=G, requires=("entropies",), target="classes")
def ns_ratio(info: _Info) -> float:
    """Noise-signal ratio: (sum of attribute entropies - sum of MI) / sum of MI."""
    total = info.mut_inf.sum()
    return float((info.attr_ent.sum() - total) / total) if total > 0 else float("nan")


def _concentration(table: np.ndarray) -> float:
    """Goodman-Kruskal concentration of a (levels_x, levels_y) table, as pymfe's _calc_conc."""
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    total = table.sum()
    if total == 0:
        return float("nan")
    pij = table / total
    isum = pij.sum(axis=0)
    jsum2 = float(np.sum(pij.sum(axis=1) ** 2))
    if 1.0 - jsum2 <= 1e-15:
        return float("nan")
    return float((np.sum(pij**2 / isum) - jsum2) / (1.0 - jsum2))


@REGISTRY.measure("class_conc", group=G, requires=("tables",), target="classes",
                  summarised=True)
def class_conc(tables: Tables) -> np.ndarray:
    """Concentration coefficient of each attribute of C with the class."""
    assert tables.joint is not None
    return np.array([_concentration(t) for t in tables.joint])


@REGISTRY.measure("attr_conc", group=G, requires=("discretised", "config"), summarised=True)
def attr_conc(disc: Discretised, config: Config) -> np.ndarray:
    """Concentration coefficient of each ordered pair of attributes of C (at most 12 attributes,
    chosen as pymfe does: ``RandomState(seed).choice(q, 12, replace=False)``)."""
    q = disc.levels.size
    cols = np.arange(q)
    if q > ATTR_CONC_MAX_ATTRIBUTES:
        cols = np.random.RandomState(config.seed).choice(cols, ATTR_CONC_MAX_ATTRIBUTES,
                                                         replace=False)
    sub = np.asfortranarray(disc.codes[:, cols].astype(np.int64))
    out = []
    for a in range(cols.size):
        for b in range(cols.size):
            if a == b:
                continue
            xa, xb = sub[:, a], sub[:, b]
            la, lb = int(disc.levels[cols[a]]), int(disc.levels[cols[b]])
            ok = (xa >= 0) & (xb >= 0)
            flat = xa[ok] * lb + xb[ok]
            table = np.bincount(flat, minlength=la * lb).reshape(la, lb)
            out.append(_concentration(table))
    return np.array(out, dtype=np.float64)


# -- OpenML's definitions ---------------------------------------------------------------------
@dataclass(frozen=True)
class _OpenMLInfo:
    attr_ent: np.ndarray
    mut_inf: np.ndarray


@REGISTRY.resource("openml_entropies", requires=("data", "target"))
def _openml_entropies(data: Prepared, target: Target) -> _OpenMLInfo:
    """OpenML's attribute entropy and mutual information of the nominal attributes (a missing
    value counted as the first declared level)."""
    codes = np.where(data.categorical < 0, 0, data.categorical)
    tables = _tables(codes, data.declared_levels, target.codes, target.n_classes)
    assert tables.joint is not None
    n = float(data.n_rows)
    attr = np.array([_entropy(m) for m in tables.marginal])
    cls = float(_entropy(target.counts))
    mi = np.array([cls - float(np.sum(t.sum(axis=1) / n * np.nan_to_num(_entropy(t, axis=1))))
                   for t in tables.joint])
    return _OpenMLInfo(attr, np.round(mi, 14))


@REGISTRY.measure("openml_attr_ent", group=G, requires=("openml_entropies",), target="classes",
                  summarised=True, pymfe=False)
def openml_attr_ent(info: _OpenMLInfo) -> np.ndarray:
    """Entropy of each nominal attribute, OpenML's definition (missing = first level)."""
    return info.attr_ent


@REGISTRY.measure("openml_mut_inf", group=G, requires=("openml_entropies",), target="classes",
                  summarised=True, pymfe=False)
def openml_mut_inf(info: _OpenMLInfo) -> np.ndarray:
    """Information gain of each nominal attribute about the class, OpenML's definition."""
    return info.mut_inf
