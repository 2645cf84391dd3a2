"""Our OpenML view against OpenML's own qualities of anneal (dataset 2 in the shared cache).

    python examples/metafeatures_openml_anneal.py [--data-dir ../shared/data]
"""

from __future__ import annotations

import argparse
import math
import os
import re
from pathlib import Path

import arff
import numpy as np
import pandas as pd

import metafeatures

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    default = Path(os.environ.get("WARMNAS_SHARED_DATA", REPO.parent / "shared" / "data"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=default)
    args = parser.parse_args()
    folder = args.data_dir / "openml-cache/org/openml/test/datasets/2"

    with open(folder / "dataset.arff") as fh:
        d = arff.load(fh)
    cols = {}
    for (name, typ), values in zip(d["attributes"], zip(*d["data"])):
        if isinstance(typ, list):  # keep OpenML's declared levels
            cols[name] = pd.Categorical(list(values), categories=typ)
        else:
            cols[name] = np.array([np.nan if v is None else v for v in values], dtype=float)
    frame = pd.DataFrame(cols)
    y = frame.pop("class")

    text = (folder / "qualities.xml").read_text()
    theirs = {k: float(v) for k, v in re.findall(
        r"<oml:name>(.*?)</oml:name>\s*<oml:value>(.*?)</oml:value>", text, re.S)}
    ours = metafeatures.extract(frame, y, names="openml")
    print(f"{'quality':<36} {'ours':>14} {'OpenML':>14}")
    for name in sorted(set(ours) & set(theirs)):
        same = math.isclose(ours[name], theirs[name], rel_tol=1e-12, abs_tol=1e-12)
        print(f"{name:<36} {ours[name]:14.8g} {theirs[name]:14.8g} {'' if same else '  differs'}")


if __name__ == "__main__":
    main()
