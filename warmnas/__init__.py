"""warmnas: meta-learned warm starts for AutoML and neural architecture search.

Public names are imported lazily so that ``import warmnas`` stays fast and the NAS code runs on
machines without the database stack (and vice versa).
"""

from __future__ import annotations

import logging
from typing import Any

from warmnas._lazy import lazy_attribute

__version__ = "0.1.0.dev0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

# public name -> module that defines it; filled as the subpackages land
_LAZY: dict[str, str] = {
    "errors": "warmnas.errors",
    "MetaDatabase": "warmnas.metadb",
    "warm_start": "warmnas.api",
    "WarmStart": "warmnas.api",
    "metadb": "warmnas.metadb",
    "warmstart": "warmnas.warmstart",
    "nas": "warmnas.nas",
    "hardware": "warmnas.hardware",
    "bench": "warmnas.bench",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    return lazy_attribute(__name__, _LAZY, globals(), name)


def __dir__() -> list[str]:
    return sorted(__all__)
