"""Predict a new device's latency for all 15,625 NAS-Bench-201 cells from 10 measurements.

Here the "new" device is one of HELP's 20 (held out), so the prediction can be checked.

    python examples/hardware_fewshot_latency.py [--data-dir DIR] [--device raspi4]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from warmnas.hardware import FewShotLatencyPredictor, PublishedLatencyTable, published_devices
from warmnas.hardware.tables import op_index_matrix
from warmnas.nas.data import default_data_dir
from warmnas.nas.nb201 import NB201Table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", help="shared data folder (default: $WARMNAS_SHARED_DATA or ../shared/data)")
    parser.add_argument("--device", default="raspi4")
    args = parser.parse_args()
    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()

    archs = NB201Table.load(data_dir).archs
    known = [d for d in published_devices("nb201", data_dir) if d != args.device]
    reference = np.column_stack([PublishedLatencyTable.load("nb201", d, data_dir, archs=archs).latencies
                                 for d in known])
    truth = PublishedLatencyTable.load("nb201", args.device, data_dir, archs=archs).latencies

    sample = np.random.default_rng(0).choice(len(archs), 10, replace=False)   # "measure" 10 cells
    model = FewShotLatencyPredictor().fit(reference, sample, truth[sample],
                                          ops=op_index_matrix("nb201", archs))
    pred = model.predict()
    print(f"{args.device}: Spearman rho over all cells = {spearmanr(pred, truth)[0]:.3f}; "
          f"median |relative error| = {np.median(np.abs(pred / truth - 1)):.1%}")
    top = np.argsort(model.weights_)[::-1][:3]
    print("closest known devices:", ", ".join(f"{known[j]} ({model.weights_[j]:.2f})" for j in top))


if __name__ == "__main__":
    main()
