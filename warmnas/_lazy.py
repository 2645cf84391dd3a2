"""Lazy package attributes: a package maps public names to the modules defining them, and the
modules are imported on first access (``import warmnas`` stays fast; torch, gpytorch and
sqlalchemy load only when a part that needs them is used)."""

from __future__ import annotations

import importlib
from collections.abc import Mapping, MutableMapping
from typing import Any


def lazy_attribute(package: str, exports: Mapping[str, str], namespace: MutableMapping[str, Any],
                   name: str) -> Any:
    """The attribute ``name`` of ``package`` (for its module-level ``__getattr__``).

    Args:
        package: the package's ``__name__`` (for the error message).
        exports: public name -> module defining it; a name whose module is ``package.name``
            and that the module does not define stands for the module itself.
        namespace: the package's ``globals()``; the value is cached there.
        name: the attribute asked for.

    Raises:
        AttributeError: ``name`` is not exported.
    """
    module = exports.get(name)
    if module is None:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    mod = importlib.import_module(module)
    value = mod if module.endswith("." + name) and not hasattr(mod, name) else getattr(mod, name)
    namespace[name] = value
    return value
