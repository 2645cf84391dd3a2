"""metafeatures: dataset -> named meta-feature vector (standalone; never imports warmnas).

>>> import metafeatures
>>> from sklearn.datasets import load_iris
>>> X, y = load_iris(return_X_y=True)
>>> mf = metafeatures.extract(X, y, groups=["general"])
>>> mf["nr_inst"], mf["nr_class"]
(150.0, 3.0)

Views: ``names="pymfe"`` (``attr_ent.mean``), ``"autosklearn"`` (the 46 columns of the PMF
meta-features, :data:`AUTOSKLEARN_NAMES`) and ``"openml"`` (OpenML data qualities,
:data:`OPENML_NAMES`). See ``metafeatures/README.md``.
"""

from __future__ import annotations

# the group modules fill the registry when imported
from metafeatures import (  # noqa: F401
    clustering,
    complexity,
    concept,
    general,
    info_theory,
    itemset,
    landmarking,
    model_based,
    relative,
    statistical,
)
from metafeatures._extract import (
    DEFAULT_GROUPS,
    SCORES,
    VIEW_NAMES,
    Extraction,
    _canonical_group,
    extract,
    extract_report,
)
from metafeatures._input import Prepared, prepare
from metafeatures._registry import GROUPS, REGISTRY
from metafeatures._resources import RESCALE, SAMPLE_SIZES, TRANSFORM_CAT
from metafeatures._summary import DEFAULT_SUMMARY, SUMMARIES
from metafeatures.errors import (
    ArgumentError,
    DataError,
    DataTypeError,
    MeasureError,
    MetaFeatureError,
    MetaFeatureWarning,
    NotFittedError,
)
from metafeatures.mfe import MFE
from metafeatures.views import AUTOSKLEARN_NAMES, OPENML_NAMES

__all__ = [
    "AUTOSKLEARN_NAMES",
    "DEFAULT_GROUPS",
    "DEFAULT_SUMMARY",
    "GROUPS",
    "RESCALE",
    "SCORES",
    "TRANSFORM_CAT",
    "OPENML_NAMES",
    "SAMPLE_SIZES",
    "SUMMARIES",
    "VIEW_NAMES",
    "ArgumentError",
    "DataError",
    "DataTypeError",
    "Extraction",
    "MeasureError",
    "MetaFeatureError",
    "MetaFeatureWarning",
    "MFE",
    "NotFittedError",
    "extract",
    "extract_report",
    "list_measures",
    "validate",
]


def validate(X: object, y: object = None, *, categorical: object = None,
             task: str | None = None) -> Prepared:
    """Check ``X``/``y`` as :func:`extract` does and return the prepared dataset.

    Raises:
        DataError, DataTypeError, ArgumentError: as :func:`extract`.
    """
    return prepare(X, y, categorical=categorical, task=task)


def list_measures(group: str | None = None) -> list[dict[str, object]]:
    """Describe the registered measures.

    Args:
        group: only this group (None: all); spelled as ``extract(groups=...)`` takes it
            (``"info_theory"`` and ``"info-theory"`` both work).

    Returns:
        One dict per measure: name, group, target need, summarised, in the pymfe view, doc. A
        post-processing group (``relative``) lists the measures it ranks under its own group
        name, as pymfe does (``best_node`` in ``landmarking`` and in ``relative``; the
        extracted values are ``best_node.mean`` and ``best_node.mean.relative``).

    Raises:
        ArgumentError: an unknown group.
    """
    key = None if group is None else _canonical_group(group)
    out = [
        {"name": m.name, "group": m.group, "target": m.target, "summarised": m.summarised,
         "pymfe": m.pymfe, "doc": m.doc}
        for m in REGISTRY.measures()
        if key is None or m.group == key
    ]
    for post in REGISTRY.postprocessors():
        if key is not None and post.group != key:
            continue
        out += [
            {"name": m.name, "group": post.group, "target": m.target,
             "summarised": m.summarised, "pymfe": True,
             "doc": f"{post.doc} ({m.name}: rank among the {post.source} measures)"}
            for m in REGISTRY.measures() if m.group == post.source and m.pymfe
        ]
    return out
