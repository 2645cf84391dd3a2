"""Loaders of the metafeatures golden tests: the real reference data (OpenML anneal, PMF rows).

Plain cached loaders taking the ``shared_data`` folder (a conftest.py here would shadow the
root one, which tests/test_readme.py imports as ``conftest``).
"""

from __future__ import annotations

import csv
import functools
import re
from pathlib import Path

import numpy as np
import pandas as pd

ANNEAL = Path("openml-cache/org/openml/test/datasets/2")


def load_arff_frame(path: Path) -> tuple[pd.DataFrame, list[str]]:
    """An ARFF file as a DataFrame with declared categories (nominal -> pandas Categorical)."""
    import arff  # liac-arff, a dependency of the package

    with open(path) as fh:
        d = arff.load(fh)
    cols: dict[str, object] = {}
    nominal = []
    for (name, typ), values in zip(d["attributes"], zip(*d["data"])):
        if isinstance(typ, list):
            cols[name] = pd.Categorical(list(values), categories=typ)
            nominal.append(name)
        else:
            cols[name] = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    return pd.DataFrame(cols), nominal


@functools.cache
def load_anneal(shared_data: Path) -> tuple[pd.DataFrame, pd.Series]:
    """OpenML dataset 2 (anneal) from the shared OpenML cache: X with declared categories, y."""
    frame, _ = load_arff_frame(shared_data / ANNEAL / "dataset.arff")
    y = frame.pop("class")
    return frame, y


@functools.cache
def load_anneal_qualities(shared_data: Path) -> dict[str, float]:
    """OpenML's own data qualities of anneal (qualities.xml)."""
    text = (shared_data / ANNEAL / "qualities.xml").read_text()
    pairs = re.findall(r"<oml:name>(.*?)</oml:name>\s*<oml:value>(.*?)</oml:value>", text, re.S)
    return {name: float(value) for name, value in pairs}


@functools.cache
def load_pmf_rows(shared_data: Path) -> dict[str, dict[str, float]]:
    """The PMF auto-sklearn meta-features: OpenML id -> {column: value} (NaN kept)."""
    with open(shared_data / "pmf-metafeatures" / "data_feats_featurized.csv") as fh:
        rows = list(csv.reader(fh))
    header = rows[0][1:]
    return {
        r[0]: {h: (float(v) if v != "" else float("nan")) for h, v in zip(header, r[1:])}
        for r in rows[1:]
    }
