"""Benchmark: ``metafeatures.MFE.extract_with_confidence`` against pymfe's, same run.

Both run pymfe's procedure (point extraction + ``sample_num`` bootstrap resamples, each refitted
and extracted) with ``random_state=0`` and the default groups, one after the other in this
process; the script prints both wall times, the ratio and the 1-minute load average next to
each timing (other jobs share the cores). Above 2000 rows our landmarking, clustering, concept
and complexity measures use seeded samples (``metafeatures.SAMPLE_SIZES``); pymfe uses every row.

    python bench/mfe_confidence_vs_pymfe.py                        # wine and 5000 x 20, 32 resamples
    python bench/mfe_confidence_vs_pymfe.py --datasets wine --sample-num 8

Not a test: numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np


def _load(spec: str) -> tuple[np.ndarray, np.ndarray]:
    if spec == "wine":
        from sklearn.datasets import load_wine

        X, y = load_wine(return_X_y=True)
        return X, y
    n, p = (int(v) for v in spec.split("x"))
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=n, n_features=p, n_informative=min(p, 8),
                               n_classes=3, random_state=0)
    return X, y


def _time(fn):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="*", default=["wine", "5000x20"],
                        help="'wine' or NxP synthetic (make_classification, 3 classes)")
    parser.add_argument("--sample-num", type=int, default=32)
    parser.add_argument("--skip-pymfe", action="store_true")
    args = parser.parse_args()

    import metafeatures

    print(f"{'dataset':>10} {'ours s':>8} {'load':>5} {'pymfe s':>8} {'load':>5} {'ratio':>6} "
          f"{'names':>6} {'equal':>6}")
    for spec in args.datasets:
        X, y = _load(spec)
        ours_t, ours = _time(lambda X=X, y=y: metafeatures.MFE(random_state=0).fit(X, y)
                             .extract_with_confidence(sample_num=args.sample_num))
        ours_load = os.getloadavg()[0]
        if args.skip_pymfe:
            print(f"{spec:>10} {ours_t:8.1f} {ours_load:5.1f}")
            continue
        from pymfe.mfe import MFE

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            their_t, theirs = _time(lambda X=X, y=y: MFE(random_state=0).fit(
                X, y, suppress_warnings=True).extract_with_confidence(
                    sample_num=args.sample_num,
                    arguments_extract={"suppress_warnings": True}))
        their_load = os.getloadavg()[0]
        same = list(theirs[0]) == ours[0]
        # intervals equal to 1e-7 (relative), counted over the names both give
        a = np.asarray(ours[2], dtype=float)
        b = np.asarray(theirs[2], dtype=float)
        equal = int(np.sum(np.all(np.isclose(a, b, rtol=1e-7, atol=1e-10, equal_nan=True),
                                  axis=1))) if same else -1
        print(f"{spec:>10} {ours_t:8.1f} {ours_load:5.1f} {their_t:8.1f} {their_load:5.1f} "
              f"{their_t / ours_t:6.1f} {len(ours[0]):>6} {equal:>6}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
