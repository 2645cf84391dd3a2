"""Summary functions that reduce a measure's values (one per attribute, fold, node, ...) to numbers.

The definitions are pymfe's (``pymfe._summary``): ``sd``/``var`` use ``ddof=1``, ``skewness`` and
``kurtosis`` are pymfe's "type 3" estimators, ``quantiles`` are the 0, 25, 50, 75 and 100 %
quantiles (linear interpolation), ``histogram`` is 10 equal-width bins normalised to sum to 1.
The plain summaries propagate NaN like numpy (pymfe does the same); the ``nan*`` variants drop
NaN first. An empty input gives NaN.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["SUMMARIES", "DEFAULT_SUMMARY", "summarise", "skewness_type3", "kurtosis_type3"]

DEFAULT_SUMMARY: tuple[str, ...] = ("mean", "sd")


def _empty_guard(func: Callable[[np.ndarray], float]) -> Callable[[np.ndarray], float]:
    def wrapped(values: np.ndarray) -> float:
        if values.size == 0:
            return float("nan")
        return float(func(values))

    return wrapped


def _sd(values: np.ndarray) -> float:
    return float(np.std(values, ddof=1)) if values.size > 1 else float("nan")


def _var(values: np.ndarray) -> float:
    return float(np.var(values, ddof=1)) if values.size > 1 else float("nan")


def _central(values: np.ndarray) -> tuple[float, float, float]:
    d = values - values.mean()
    d2 = d * d
    return float(d2.mean()), float((d2 * d).mean()), float((d2 * d2).mean())


def skewness_type3(values: np.ndarray) -> float:
    """pymfe's default skewness: ``m3 / s**3`` with the ``ddof=1`` standard deviation ``s``."""
    n = values.size
    if n == 0:
        return float("nan")
    m2, m3, _ = _central(values)
    if m2 == 0.0 or np.isnan(m2):
        return float("nan")
    return m3 / m2**1.5 * ((n - 1.0) / n) ** 1.5


def kurtosis_type3(values: np.ndarray) -> float:
    """pymfe's default kurtosis: ``m4 / s**4 - 3`` with the ``ddof=1`` standard deviation."""
    n = values.size
    if n == 0:
        return float("nan")
    m2, _, m4 = _central(values)
    if m2 == 0.0 or np.isnan(m2):
        return float("nan")
    return (m4 / m2**2) * (1.0 - 1.0 / n) ** 2 - 3.0


def _quantiles(values: np.ndarray) -> np.ndarray:
    if values.size == 0:
        return np.full(5, np.nan)
    return np.quantile(values, (0.0, 0.25, 0.5, 0.75, 1.0))


def _histogram(values: np.ndarray) -> np.ndarray:
    if values.size == 0 or not np.all(np.isfinite(values)):
        return np.full(10, np.nan)
    freqs, _ = np.histogram(values, bins=10)
    return freqs / freqs.sum()


def _iqr(values: np.ndarray) -> float:
    q1, q3 = np.quantile(values, (0.25, 0.75))
    return float(q3 - q1)


def _nan(func: Callable[[np.ndarray], object]) -> Callable[[np.ndarray], object]:
    def wrapped(values: np.ndarray) -> object:
        return func(values[~np.isnan(values)])

    return wrapped


_PLAIN: dict[str, Callable[[np.ndarray], object]] = {
    "mean": _empty_guard(np.mean),
    "sd": _sd,
    "var": _var,
    "count": lambda v: float(v.size),
    "histogram": _histogram,
    "iq_range": _empty_guard(_iqr),
    "kurtosis": kurtosis_type3,
    "max": _empty_guard(np.max),
    "median": _empty_guard(np.median),
    "min": _empty_guard(np.min),
    "quantiles": _quantiles,
    "range": _empty_guard(np.ptp),
    "skewness": skewness_type3,
    "sum": _empty_guard(np.sum),
    "powersum": _empty_guard(lambda v: np.sum(v * v)),
    "pnorm": _empty_guard(lambda v: np.sqrt(np.sum(v * v))),
}

#: name -> function(values: 1-D float array) -> float or array (``quantiles``: 5, ``histogram``: 10)
SUMMARIES: dict[str, Callable[[np.ndarray], object]] = dict(_PLAIN)
SUMMARIES.update({f"nan{k}": _nan(f) for k, f in _PLAIN.items()})


def summarise(name: str, values: np.ndarray, summaries: tuple[str, ...]) -> dict[str, float]:
    """Reduce ``values`` with each summary; keys ``name.summary`` (``name.quantiles.0`` ...)."""
    values = np.asarray(values, dtype=np.float64).ravel()
    out: dict[str, float] = {}
    for s in summaries:
        result = SUMMARIES[s](values)
        if isinstance(result, np.ndarray):
            for i, v in enumerate(result):
                out[f"{name}.{s}.{i}"] = float(v)
        else:
            out[f"{name}.{s}"] = float(result)  # type: ignore[arg-type]
    return out
