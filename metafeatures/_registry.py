"""The explicit registry of meta-features (measures) and shared precomputations (resources).

A *resource* is a value computed once per extraction and shared by every measure that needs it
(the prepared data, the per-column moments, the discretised attributes, the class counts, a seeded
subsample, a fitted tree, ...). A *measure* is one meta-feature; it declares the resources it
needs and returns a float or a 1-D array of values that the summaries (mean, sd, ...) reduce.

Both are declared with decorators in the group modules (``general``, ``statistical``,
``info_theory``, ``landmarking``, ``model_based``, ``complexity``, ``clustering``,
``concept``, ``itemset``)::

    @REGISTRY.resource("moments", requires=("encoded", "config"))
    def moments(encoded, config): ...

    @REGISTRY.measure("skewness", group="statistical", requires=("moments",), summarised=True)
    def skewness(moments): ...

A *post-processor* provides a group whose values are computed from the summarised values of
another group's measures in the pymfe view (``relative``: the ranks of the landmarking
summaries)::

    @REGISTRY.postprocessor("relative", source="landmarking")
    def relative(values): ...   # {"best_node.mean": 0.9, ...} -> {"best_node.mean.relative": 7.0, ...}

The registry is filled once, when the package is imported, and never changes afterwards; the
extractor only reads it. Arguments are passed positionally in the order of ``requires``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["GROUPS", "Measure", "PostProcessor", "Registry", "Resource", "REGISTRY",
           "TargetNeed"]

#: The measure groups, in the order results are computed.
GROUPS: tuple[str, ...] = (
    "general",
    "statistical",
    "info-theory",
    "landmarking",
    "model-based",
    "complexity",
    "clustering",
    "concept",
    "itemset",
    "relative",
)

TargetNeed = Literal["none", "any", "classes"]


@dataclass(frozen=True)
class Resource:
    """A shared precomputation.

    Attributes:
        name: key other resources and measures use in ``requires``.
        func: called with the required values, in order; returns the resource value.
        requires: names of the resources it needs (``"data"`` and ``"config"`` are the roots).
        doc: one line describing it.
    """

    name: str
    func: Callable[..., Any]
    requires: tuple[str, ...]
    doc: str


@dataclass(frozen=True)
class Measure:
    """One meta-feature.

    Attributes:
        name: canonical name; equal to pymfe's name when ``pymfe`` is True.
        group: one of :data:`GROUPS`.
        func: called with the required resource values, in order; returns a float, or a 1-D
            array of values when ``summarised`` is True.
        requires: resource names.
        target: ``"none"`` (unsupervised), ``"any"`` (needs a target of either task) or
            ``"classes"`` (needs class labels).
        min_classes: the fewest distinct classes the measure is defined for.
        summarised: the measure returns several values that summaries reduce.
        pymfe: the measure has pymfe's name and definition; it appears in the ``pymfe`` view.
        doc: one line describing it.
    """

    name: str
    group: str
    func: Callable[..., Any]
    requires: tuple[str, ...]
    target: TargetNeed
    min_classes: int
    summarised: bool
    pymfe: bool
    doc: str


@dataclass(frozen=True)
class PostProcessor:
    """A group computed from another group's summarised values (pymfe view only).

    Attributes:
        group: the group it provides (one of :data:`GROUPS`; it has no measures of its own).
        source: the group whose pymfe-view values (``name.summary`` -> value) it reads; the
            extractor computes that group's measures when ``group`` is requested, and when
            ``source`` itself was not requested, the derived values replace the source's (as
            pymfe does).
        func: ``func(values: dict[str, float]) -> dict[str, float]``.
        doc: one line describing it.
    """

    group: str
    source: str
    func: Callable[[dict[str, float]], dict[str, float]]
    doc: str


class Registry:
    """Name -> :class:`Measure`, name -> :class:`Resource` and group -> :class:`PostProcessor`
    tables, filled by decorators."""

    def __init__(self) -> None:
        self._measures: dict[str, Measure] = {}
        self._resources: dict[str, Resource] = {}
        self._post: dict[str, PostProcessor] = {}

    # -- declaration ---------------------------------------------------------------------------
    def resource(self, name: str, *, requires: tuple[str, ...] = ()) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator declaring a shared precomputation called ``name``."""

        def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
            if name in self._resources:
                raise KeyError(f"resource {name!r} is declared twice")
            self._resources[name] = Resource(name, func, tuple(requires), _first_line(func))
            return func

        return decorate

    def measure(
        self,
        name: str,
        *,
        group: str,
        requires: tuple[str, ...] = (),
        target: TargetNeed = "none",
        min_classes: int = 1,
        summarised: bool = False,
        pymfe: bool = True,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator declaring the meta-feature ``name`` of ``group``."""
        if group not in GROUPS:
            raise KeyError(f"unknown group {group!r}; expected one of {GROUPS}")
        if target not in ("none", "any", "classes"):
            raise KeyError(f"unknown target need {target!r}")

        def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
            if name in self._measures:
                raise KeyError(f"measure {name!r} is declared twice")
            self._measures[name] = Measure(
                name=name,
                group=group,
                func=func,
                requires=tuple(requires),
                target=target,
                min_classes=min_classes,
                summarised=summarised,
                pymfe=pymfe,
                doc=_first_line(func),
            )
            return func

        return decorate

    def postprocessor(self, group: str, *, source: str
                      ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator declaring the post-processing group ``group``, computed from the pymfe-view
        values of the measures of ``source``."""
        for g in (group, source):
            if g not in GROUPS:
                raise KeyError(f"unknown group {g!r}; expected one of {GROUPS}")

        def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
            if group in self._post:
                raise KeyError(f"post-processor {group!r} is declared twice")
            self._post[group] = PostProcessor(group, source, func, _first_line(func))
            return func

        return decorate

    # -- lookup --------------------------------------------------------------------------------
    def postprocessors(self) -> Iterator[PostProcessor]:
        """All post-processors, in group order."""
        order = {g: i for i, g in enumerate(GROUPS)}
        yield from sorted(self._post.values(), key=lambda p: order[p.group])

    def measures(self) -> Iterator[Measure]:
        """All measures, in group order then declaration order."""
        order = {g: i for i, g in enumerate(GROUPS)}
        yield from sorted(self._measures.values(), key=lambda m: order[m.group])

    def get_measure(self, name: str) -> Measure:
        return self._measures[name]

    def has_measure(self, name: str) -> bool:
        return name in self._measures

    def get_resource(self, name: str) -> Resource:
        return self._resources[name]

    def has_resource(self, name: str) -> bool:
        return name in self._resources

    def check(self, roots: tuple[str, ...] = ("data", "config")) -> None:
        """Raise KeyError if a declared dependency is unknown or cyclic (used by the tests)."""
        for item in list(self._resources.values()) + list(self._measures.values()):
            for dep in item.requires:
                if dep not in roots and dep not in self._resources:
                    raise KeyError(f"{item.name!r} requires unknown resource {dep!r}")

        state: dict[str, int] = {}

        def visit(name: str, path: tuple[str, ...]) -> None:
            if name in roots:
                return
            if state.get(name) == 1:
                raise KeyError(f"cyclic resource dependency: {' -> '.join(path + (name,))}")
            if state.get(name) == 2:
                return
            state[name] = 1
            for dep in self._resources[name].requires:
                visit(dep, path + (name,))
            state[name] = 2

        for name in self._resources:
            visit(name, ())


def _first_line(func: Callable[..., Any]) -> str:
    doc = (func.__doc__ or "").strip()
    return doc.splitlines()[0] if doc else ""


#: The package's registry; the group modules fill it at import time.
REGISTRY = Registry()
