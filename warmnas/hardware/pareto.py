"""Accuracy-latency Pareto fronts and their plots (PNG).

Example:
    >>> front = pareto_front([90, 92, 91], [5.0, 8.0, 9.0])
    >>> front.tolist()
    [0, 1]
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from warmnas.errors import InputError, InputTypeError

__all__ = ["pareto_front", "plot_pareto"]


def _vectors(accuracy: Any, latency: Any) -> tuple[np.ndarray, np.ndarray]:
    try:
        acc = np.asarray(accuracy, dtype=np.float64)
        lat = np.asarray(latency, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputTypeError(f"accuracy and latency must be numeric: {exc}") from exc
    if acc.ndim != 1 or lat.shape != acc.shape or len(acc) == 0:
        raise InputError(f"accuracy and latency must be non-empty 1-d arrays of the same length, "
                         f"got shapes {acc.shape} and {lat.shape}")
    if not (np.isfinite(acc).all() and np.isfinite(lat).all()):
        raise InputError("accuracy and latency must not contain NaN or inf")
    return acc, lat


def pareto_front(accuracy: Any, latency: Any) -> np.ndarray:
    """Indices of the Pareto-optimal points (max accuracy, min latency), by increasing latency.

    A point is on the front when no other point is at least as fast and at least as accurate and
    strictly better in one of the two. Of exact duplicates, the first index is kept.

    Args:
        accuracy: ``(n,)`` accuracies.
        latency: ``(n,)`` latencies.

    Returns:
        ``(k,)`` int array.

    Raises:
        InputError: empty, different lengths, NaN or inf.
    """
    acc, lat = _vectors(accuracy, latency)
    order = np.lexsort((np.arange(len(acc)), -acc, lat))  # by latency, then best accuracy first
    front = []
    best = -np.inf
    for i in order:
        if acc[i] > best:
            front.append(int(i))
            best = acc[i]
    return np.asarray(front, dtype=np.int64)


def plot_pareto(accuracy: Any, latency: Any, path: str | os.PathLike[str], *,
                highlight: Mapping[str, Sequence[int]] | None = None,
                chosen: Mapping[str, int] | None = None, max_latency: float | None = None,
                title: str = "accuracy vs latency", xlabel: str = "latency (ms)",
                ylabel: str = "accuracy (%)", dpi: int = 120) -> Path:
    """Scatter all architectures, draw the Pareto front, and mark searched points; save a PNG.

    Args:
        accuracy: ``(n,)`` accuracies of all architectures.
        latency: ``(n,)`` latencies.
        path: output ``.png`` file (parent folders are created).
        highlight: ``{label: indices}`` point sets to colour (e.g. the queried architectures).
        chosen: ``{label: index}`` single architectures to mark with a star (search results); the
            legend gives their accuracy and latency (also when they fall below the plotted range).
        max_latency: draw the latency constraint as a vertical line.
        title, xlabel, ylabel: text.
        dpi: resolution.

    Returns:
        The written path.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    acc, lat = _vectors(accuracy, latency)
    out = Path(path)
    if out.suffix.lower() != ".png":
        raise InputError(f"path must end in .png, got {out.name!r}")
    out.parent.mkdir(parents=True, exist_ok=True)
    front = pareto_front(acc, lat)
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    try:
        ax.scatter(lat, acc, s=3, c="0.75", alpha=0.5, label=f"all ({len(acc)})", rasterized=True)
        ax.step(lat[front], acc[front], where="post", color="k", lw=1.2, label="Pareto front")
        colours = ["tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown", "tab:pink",
                   "tab:olive", "tab:cyan", "tab:red", "tab:gray"]
        for k, (label, idx) in enumerate((highlight or {}).items()):
            ix = np.asarray(idx, dtype=np.int64)
            ax.scatter(lat[ix], acc[ix], s=10, color=colours[k % len(colours)], label=label)
        for k, (label, i) in enumerate((chosen or {}).items()):
            ax.scatter([lat[i]], [acc[i]], s=160, marker="*", edgecolor="k",
                       color=colours[(k + len(highlight or {})) % len(colours)], zorder=5,
                       label=f"{label}: {acc[i]:.4g}, {lat[i]:.3g} ms")
        if max_latency is not None:
            ax.axvline(float(max_latency), color="tab:red", ls="--", lw=1, label=f"T = {max_latency:.3g} ms")
        lo = np.percentile(acc, 5)
        ax.set_ylim(lo, acc.max() + 0.02 * (acc.max() - lo + 1e-9))
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.legend(fontsize=7, loc="lower right")
        fig.tight_layout()
        fig.savefig(out, dpi=dpi)
    finally:
        plt.close(fig)
    return out
