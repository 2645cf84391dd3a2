"""General (simple) meta-features: counts and ratios of instances, attributes, classes and
missing values.

pymfe's measures keep pymfe's names and definitions (``nr_inst``, ``nr_attr``, ``nr_num``,
``nr_cat``, ``nr_bin``, ``attr_to_inst``, ``inst_to_attr``, ``cat_to_num``, ``num_to_cat``,
``nr_class``, ``freq_class``). The others (``nr_missing``, ``symbols``, ...) feed the
auto-sklearn and OpenML views.
"""

from __future__ import annotations

import numpy as np

from metafeatures._input import Prepared, Target
from metafeatures._registry import REGISTRY
from metafeatures._resources import Encoded, Moments

G = "general"


@REGISTRY.resource("missing_rows", requires=("data",))
def _missing_rows(data: Prepared) -> int:
    """Number of rows with at least one missing value."""
    if data.numeric_missing.sum() == 0 and (data.categorical >= 0).all():
        return 0
    step = 65536
    total = 0
    for start in range(0, data.n_rows, step):
        rows = np.zeros(min(step, data.n_rows - start), dtype=bool)
        if data.n_numeric:
            rows |= np.isnan(data.numeric[start:start + step]).any(axis=1)
        if data.n_categorical:
            rows |= (data.categorical[start:start + step] < 0).any(axis=1)
        total += int(rows.sum())
    return total


@REGISTRY.resource("binary_numeric", requires=("encoded", "moments"))
def _binary_numeric(enc: Encoded, mom: Moments) -> np.ndarray:
    """(p_num,) bool: numeric columns with exactly two distinct observed values."""
    p = enc.p_num
    lo, hi = mom.minimum[:p], mom.maximum[:p]
    if enc.is_scaled and p:  # the moments are of the rescaled N: compare raw with raw
        lo = np.fmin.reduce(enc.data.numeric, axis=0).astype(np.float64)
        hi = np.fmax.reduce(enc.data.numeric, axis=0).astype(np.float64)
    ok = lo != hi
    if not ok.any():
        return ok
    for start in range(0, enc.n, enc.chunk_rows):
        chunk = enc.data.numeric[start:start + enc.chunk_rows]
        inside = (chunk == lo) | (chunk == hi)
        if enc.has_missing:
            inside |= np.isnan(chunk)
        ok &= inside.all(axis=0)
        if not ok.any():
            break
    return ok


@REGISTRY.measure("nr_inst", group=G, requires=("data",))
def nr_inst(data: Prepared) -> float:
    """Number of instances."""
    return float(data.n_rows)


@REGISTRY.measure("nr_attr", group=G, requires=("data",))
def nr_attr(data: Prepared) -> float:
    """Number of attributes."""
    return float(data.n_features)


@REGISTRY.measure("nr_num", group=G, requires=("data",))
def nr_num(data: Prepared) -> float:
    """Number of numeric attributes."""
    return float(data.n_numeric)


@REGISTRY.measure("nr_cat", group=G, requires=("data",))
def nr_cat(data: Prepared) -> float:
    """Number of categorical attributes."""
    return float(data.n_categorical)


@REGISTRY.measure("nr_bin", group=G, requires=("data", "binary_numeric"))
def nr_bin(data: Prepared, binary_numeric: np.ndarray) -> float:
    """Number of attributes with exactly two distinct observed values."""
    return float(binary_numeric.sum() + (data.observed_levels == 2).sum())


@REGISTRY.measure("attr_to_inst", group=G, requires=("data",))
def attr_to_inst(data: Prepared) -> float:
    """Attributes per instance (p / n)."""
    return data.n_features / data.n_rows


@REGISTRY.measure("inst_to_attr", group=G, requires=("data",))
def inst_to_attr(data: Prepared) -> float:
    """Instances per attribute (n / p)."""
    return data.n_rows / data.n_features


@REGISTRY.measure("cat_to_num", group=G, requires=("data",))
def cat_to_num(data: Prepared) -> float:
    """Categorical per numeric attributes (NaN without numeric attributes)."""
    return data.n_categorical / data.n_numeric if data.n_numeric else float("nan")


@REGISTRY.measure("num_to_cat", group=G, requires=("data",))
def num_to_cat(data: Prepared) -> float:
    """Numeric per categorical attributes (NaN without categorical attributes)."""
    return data.n_numeric / data.n_categorical if data.n_categorical else float("nan")


@REGISTRY.measure("nr_class", group=G, requires=("target",), target="classes")
def nr_class(target: Target) -> float:
    """Number of distinct (observed) classes."""
    return float(target.n_classes)


@REGISTRY.measure("freq_class", group=G, requires=("target",), target="classes", summarised=True)
def freq_class(target: Target) -> np.ndarray:
    """Relative frequency of each class."""
    return target.counts / target.counts.sum()


# -- beyond pymfe (auto-sklearn / OpenML views) ---------------------------------------------------
@REGISTRY.measure("nr_missing", group=G, requires=("data",), pymfe=False)
def nr_missing(data: Prepared) -> float:
    """Number of missing values in X."""
    return float(data.numeric_missing.sum() + data.categorical_missing.sum())


@REGISTRY.measure("nr_inst_missing", group=G, requires=("missing_rows",), pymfe=False)
def nr_inst_missing(missing_rows: int) -> float:
    """Number of instances with at least one missing value."""
    return float(missing_rows)


@REGISTRY.measure("nr_attr_missing", group=G, requires=("data",), pymfe=False)
def nr_attr_missing(data: Prepared) -> float:
    """Number of attributes with at least one missing value."""
    return float((data.numeric_missing > 0).sum() + (data.categorical_missing > 0).sum())


@REGISTRY.measure("symbols", group=G, requires=("data",), summarised=True, pymfe=False)
def symbols(data: Prepared) -> np.ndarray:
    """Distinct observed values of each categorical attribute (auto-sklearn's NumSymbols)."""
    return data.observed_levels.astype(np.float64)


@REGISTRY.measure("declared_levels", group=G, requires=("data",), summarised=True, pymfe=False)
def declared_levels(data: Prepared) -> np.ndarray:
    """Declared levels of each categorical attribute (pandas categories; else observed)."""
    return data.declared_levels.astype(np.float64)


@REGISTRY.measure("class_counts", group=G, requires=("target",), target="classes",
                  summarised=True, pymfe=False)
def class_counts(target: Target) -> np.ndarray:
    """Instances per class, over the declared classes of a Categorical target (may be 0)."""
    return target.declared_counts.astype(np.float64)


@REGISTRY.measure("has_target", group=G, requires=("target",), pymfe=False)
def has_target(target: Target | None) -> float:
    """1 when a target was given, else 0 (OpenML counts the target among the features)."""
    return 0.0 if target is None else 1.0


@REGISTRY.measure("autocorrelation", group=G, requires=("target",), target="any", pymfe=False)
def autocorrelation(target: Target) -> float:
    """OpenML's AutoCorrelation of the target in row order: ``(n - 1 - changes) / (n - 1)``,
    changes = number of class changes between consecutive rows (regression: the sum of
    consecutive differences, as OpenML's engine)."""
    if target.task == "classification":
        assert target.codes is not None
        n = target.codes.size
        changes = float(np.count_nonzero(target.codes[1:] != target.codes[:-1]))
    else:
        assert target.values is not None
        n = target.values.size
        changes = float(target.values[0] - target.values[-1]) if n > 1 else 0.0
    return (n - 1 - changes) / (n - 1) if n > 1 else float("nan")
