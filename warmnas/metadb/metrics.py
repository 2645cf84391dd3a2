"""Known metrics: name -> direction and meaning.

A metric the meta-database has not seen needs an explicit ``direction`` the first time it is
written; the names below are recognised without one. Names follow one rule: a score keeps its
usual name and is maximised (``accuracy``, ``auc``, ``r2``); its loss form gets ``_error`` or
``_loss`` and is minimised (``balanced_error = 1 - balanced accuracy``).
"""

from __future__ import annotations

from typing import Literal

Direction = Literal["minimize", "maximize"]
DIRECTIONS: tuple[str, ...] = ("minimize", "maximize")

#: name -> (direction, description)
KNOWN_METRICS: dict[str, tuple[Direction, str]] = {
    "balanced_error": ("minimize", "balanced error rate = 1 - balanced accuracy (mean per-class recall)"),
    "balanced_accuracy": ("maximize", "balanced accuracy (mean per-class recall)"),
    "error": ("minimize", "classification error = 1 - accuracy"),
    "accuracy": ("maximize", "classification accuracy"),
    "predictive_accuracy": ("maximize", "OpenML's predictive_accuracy"),
    "test_accuracy": ("maximize", "test-set accuracy in percent (NAS benchmarks)"),
    "log_loss": ("minimize", "multiclass logarithmic loss"),
    "auc": ("maximize", "area under the ROC curve"),
    "auc_error": ("minimize", "1 - ROC AUC"),
    "rmse": ("minimize", "root mean squared error"),
    "r2": ("maximize", "coefficient of determination"),
    "r2_loss": ("minimize", "1 - R^2"),
    "latency_ms": ("minimize", "inference latency in milliseconds on the evaluation's device"),
    "runtime_s": ("minimize", "wall-clock training time in seconds"),
}


def known_direction(name: str) -> Direction | None:
    """The direction of a known metric, or None."""
    entry = KNOWN_METRICS.get(name)
    return entry[0] if entry else None
