"""Meta-features of a dataset under the three naming views.

    python examples/metafeatures_quickstart.py
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import metafeatures

HERE = Path(__file__).resolve().parent


def main() -> None:
    # anneal: numeric and string columns, many missing values, 5 classes
    frame = pd.read_csv(HERE / "data" / "anneal.csv")
    y = frame.pop("class")
    frame = frame.dropna(axis=1, how="all")  # columns without any value carry no information

    # pymfe names, default groups, mean and sd of multi-valued measures
    report = metafeatures.extract_report(frame, y, categorical="auto", on_error="warn")
    print(f"pymfe view: {len(report.values)} values; seconds per group:",
          {g: round(s, 3) for g, s in report.seconds.items()})
    for name in ("nr_inst", "nr_cat", "class_ent", "attr_ent.mean", "one_nn.mean", "leaves"):
        print(f"  {name:<14} {report.values[name]:.4f}")

    # the 46 auto-sklearn (PMF) columns, what the warm starters compare
    auto = metafeatures.extract(frame, y, names="autosklearn", categorical="auto")
    print("auto-sklearn view:", {k: round(auto[k], 4) for k in list(auto)[:6]}, "...")

    # OpenML quality names
    openml = metafeatures.extract(frame, y, names="openml", categorical="auto")
    print("OpenML view:", {k: openml[k] for k in ("NumberOfInstances", "NumberOfFeatures",
                                                  "MajorityClassSize", "MeanMutualInformation")})


if __name__ == "__main__":
    main()
