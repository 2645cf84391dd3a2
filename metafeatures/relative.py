"""Relative landmarking (pymfe's ``relative`` group): the ranks of the landmarkers.

pymfe 0.4.4 post-processes its output: the summarised landmarking values are grouped by their
summary (``best_node.mean``, ``elite_nn.mean``, ... form the group ``mean``; ``quantiles.0`` is
a group of its own) and replaced by their ranks within the group (``scipy.stats.rankdata``,
ties averaged; a NaN in a group makes the whole group NaN). The ranks are named
``best_node.mean.relative``. When ``landmarking`` is requested too, the ranks are added to its
values; otherwise they replace them.

The group has no measures of its own: it is a :class:`~metafeatures._registry.PostProcessor`
over the pymfe view of the landmarking measures (the same landmarkers, folds and sample,
``SAMPLE_SIZES["landmarking"]``; pymfe's ``lm_sample_frac`` subsampling corresponds to
``sample_sizes={"landmarking": ...}``). It has no name in the auto-sklearn and OpenML views.
"""

from __future__ import annotations

import numpy as np

from metafeatures._registry import REGISTRY

G = "relative"

#: The suffix pymfe appends to the ranked names.
SUFFIX = ".relative"


@REGISTRY.postprocessor(G, source="landmarking")
def relative(values: dict[str, float]) -> dict[str, float]:
    """Ranks (1 = lowest, ties averaged) of the landmarkers' values, within each summary."""
    from scipy.stats import rankdata

    by_summary: dict[str, list[str]] = {}
    for key in values:
        name, dot, summary = key.partition(".")
        if dot:  # every landmarker is summarised; a plain name has no summary to group by
            by_summary.setdefault(summary, []).append(key)
    out: dict[str, float] = {}
    for keys in by_summary.values():
        ranks = rankdata(np.array([values[k] for k in keys], dtype=np.float64), method="average")
        out.update({k + SUFFIX: float(r) for k, r in zip(keys, ranks)})
    return out
