"""Warm starters: propose the configurations to try first on a new task, and keep proposing.

All of them work on plain pandas tables: a performance matrix (tasks x configurations, NaN for
missing evaluations), meta-features (tasks x names) and a direction.

* :class:`KNNWarmStarter` - nearest tasks in meta-feature space (auto-sklearn v1).
* :class:`PMFWarmStarter` - probabilistic matrix factorisation (Fusi et al., 2018): a GP over
  latent configuration embeddings, log expected improvement, kNN-seeded.
* :class:`PortfolioWarmStarter` - greedy zero-shot portfolio (auto-sklearn 2.0, TabRepo).
* :class:`RandomSearch` - the baseline.

``starter.fit(performance, meta_features, direction=...)`` then ``starter.suggest(...)`` (a ranked
list) or ``starter.start(...)`` (an ask/tell :class:`Search`); ``starter.save(path)`` and
``WarmStarter.load(path)`` keep a fitted one (one ``.npz`` file, no pickle).
:mod:`warmnas.warmstart.evaluation` holds the benchmark protocol.
"""

from __future__ import annotations

from typing import Any

from warmnas._lazy import lazy_attribute

__all__ = [
    "WarmStarter",
    "Suggestion",
    "Search",
    "KNNWarmStarter",
    "PMFWarmStarter",
    "PortfolioWarmStarter",
    "RandomSearch",
    "make_starter",
    "METHODS",
    "VARIANTS",
]

_LAZY = {
    "WarmStarter": "warmnas.warmstart.base",
    "Suggestion": "warmnas.warmstart.base",
    "Search": "warmnas.warmstart.bo",
    "KNNWarmStarter": "warmnas.warmstart.knn",
    "PMFWarmStarter": "warmnas.warmstart.pmf",
    "PortfolioWarmStarter": "warmnas.warmstart.portfolio",
    "RandomSearch": "warmnas.warmstart.random",
}

#: method name -> class (``make_starter`` builds one)
METHODS = ("random", "portfolio", "knn", "pmf")
#: named variants ``make_starter`` also knows: label -> (method, its arguments)
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "portfolio-rank": ("portfolio", {"strategy": "rank"}),  # global rank (mean rank over tasks)
}


def make_starter(method: str, **kwargs: Any) -> Any:
    """Build the warm starter called ``method`` (``random``, ``portfolio``, ``knn``, ``pmf``).

    A name of :data:`VARIANTS` (``portfolio-rank``: the global-rank portfolio) builds that
    method with the variant's arguments (``kwargs`` override them).

    Raises:
        InputError: unknown method.
    """
    from warmnas.errors import InputError

    classes = {
        "random": "RandomSearch",
        "portfolio": "PortfolioWarmStarter",
        "knn": "KNNWarmStarter",
        "pmf": "PMFWarmStarter",
    }
    if method in VARIANTS:
        base, preset = VARIANTS[method]
        return make_starter(base, **{**preset, **kwargs})
    if method not in classes:
        raise InputError(
            f"method must be one of {list(classes) + list(VARIANTS)}, got {method!r}."
        )
    return __getattr__(classes[method])(**kwargs)


def __getattr__(name: str) -> Any:
    return lazy_attribute(__name__, _LAZY, globals(), name)
