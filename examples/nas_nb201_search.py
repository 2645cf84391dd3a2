"""Search the NAS-Bench-201 cell on CIFAR-10 with DrNAS and look up the found cell's accuracy.

Quick CPU check (a few minutes)::

    python examples/nas_nb201_search.py --quick

On a GPU (``--device cuda``) drop ``--quick``; see docs/nas.md for the figures measured so far.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from warmnas.nas import DARTSSearch, ImageData, NB201Table, load_cifar10
from warmnas.nas.data import CIFAR10_MEAN, CIFAR10_STD


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default = os.environ.get("WARMNAS_SHARED_DATA") or str(Path.cwd().parent / "shared" / "data")
    parser.add_argument("--data-dir", default=default)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="2k images, tiny supernet")
    args = parser.parse_args()

    X, y, _, _ = load_cifar10(args.data_dir)
    X, y = np.asarray(X), np.asarray(y)
    if args.quick:
        keep = np.random.default_rng(0).choice(len(y), 2048, replace=False)
        X, y = X[keep], y[keep]
    data = ImageData.from_arrays(X, y, mean=CIFAR10_MEAN, std=CIFAR10_STD)
    table = NB201Table.load(args.data_dir)
    search = DARTSSearch(
        "nb201", method="drnas", epochs=2 if args.quick else args.epochs,
        C=8 if args.quick else 16, layers=1 if args.quick else 5, device=args.device,
        nb201_table=table, random_state=0)
    search.fit(data)  # DARTS-style 50/50 search-train / search-valid split
    hit = table.lookup(search.genotype_)
    print(f"found {hit['arch']} (NB201 index {hit['index']})")
    print(f"CIFAR-10 {hit['cifar10']:.2f}  CIFAR-100 {hit['cifar100']:.2f}  "
          f"ImageNet16-120 {hit['imagenet16_120']:.2f}   (optimum on CIFAR-10: "
          f"{table.best('cifar10')['cifar10']:.2f})")


if __name__ == "__main__":
    main()
