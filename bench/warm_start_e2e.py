"""Time ``warmnas.warm_start(X, y)`` end to end on a 10,000-row dataset (embedded meta-database).

    python bench/warm_start_e2e.py [--rows 10000] [--method knn] [--no-peer]
    python bench/warm_start_e2e.py --method pmf --no-peer   # PMF: cold vs warm cache

Two datasets of ``--rows`` rows: a synthetic one (``make_classification``: 20 numeric features,
3 of them turned into string categories, 3 classes, 5 % missing values) and the real anneal data
(``examples/data/anneal.csv``, 898 x 38 with categorical and missing values) resampled with
replacement to ``--rows`` rows. For each:

* the cold end-to-end time: a fresh Python process that imports warmnas, reads the CSV and calls
  ``warm_start(X, y)`` (imports, opening the embedded database, meta-features, kNN, suggestion);
* the warm breakdown inside one process: database open + matrix read, ``metafeatures.extract``,
  fit + suggest;
* the peer: pymfe 0.4 extracting its ``general``, ``statistical``, ``info-theory`` and
  ``landmarking`` groups (the closest to auto-sklearn's 46 meta-features) on the same data, in a
  subprocess capped at 6 GiB and ``--peer-timeout`` seconds.

With ``--method pmf`` the fresh-process time is measured twice: with a cold cache (an empty
``WARMNAS_CACHE_DIR`` for every run, so each one fits PMF and saves it) and with a warm cache (a
folder filled by one run that is not counted, so each run loads the fitted PMF).

The target is < 5 s for the cold end-to-end call. The machine is shared: the 1-minute load
average is printed next to every timing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]


def synthetic(rows: int, seed: int = 0) -> pd.DataFrame:
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=rows, n_features=20, n_informative=8, n_redundant=4,
                               n_classes=3, random_state=seed)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(20)])
    for i in range(3):
        frame[f"x{i}"] = pd.cut(frame[f"x{i}"], 5, labels=list("abcde")).astype(str)
    rng = np.random.default_rng(seed)
    mask = rng.random(frame.shape) < 0.05
    frame = frame.mask(mask)
    frame["target"] = np.asarray(["c0", "c1", "c2"])[y]
    return frame


def anneal(rows: int, seed: int = 0) -> pd.DataFrame:
    frame = pd.read_csv(REPO / "examples" / "data" / "anneal.csv")
    frame = frame.sample(n=rows, replace=True, random_state=seed).reset_index(drop=True)
    return frame.rename(columns={"class": "target"})


COLD = """
import time, sys
t0 = time.perf_counter()
import pandas as pd
import warmnas
frame = pd.read_csv(sys.argv[1])
ws = warmnas.warm_start(frame, target="target", method=sys.argv[2], n_configs=10)
print(time.perf_counter() - t0)
print(ws.config_ids[0])
"""

PEER = """
import sys, time, warnings
import numpy as np, pandas as pd
from pymfe.mfe import MFE
warnings.simplefilter("ignore")
frame = pd.read_csv(sys.argv[1])
y = frame.pop("target").to_numpy()
cat = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
X = frame.copy()
for c in cat:
    X[c] = X[c].astype(object).fillna("missing").astype(str)
num = [c for c in X.columns if c not in cat]
X[num] = X[num].fillna(X[num].median()).fillna(0.0)
t0 = time.perf_counter()
mfe = MFE(groups=["general", "statistical", "info-theory", "landmarking"], random_state=0)
mfe.fit(X.to_numpy(dtype=object), y, cat_cols=[X.columns.get_loc(c) for c in cat],
        suppress_warnings=True)
names, values = mfe.extract(suppress_warnings=True)
print(time.perf_counter() - t0)
print(len(names))
"""


def load() -> float:
    return os.getloadavg()[0]


def cold_run(csv: Path, method: str, cache_dir: Path | None = None) -> tuple[float, float]:
    """Wall time of a fresh process (outer) and the time it measured itself (inner).

    ``cache_dir``: the process's ``WARMNAS_CACHE_DIR`` (default: a fresh empty folder, so no
    run ever reads the user's cache).
    """
    with tempfile.TemporaryDirectory() as empty:
        env = {**os.environ, "PYTHONWARNINGS": "ignore",
               "WARMNAS_CACHE_DIR": str(cache_dir or empty)}
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", COLD, str(csv), method],
                             capture_output=True, text=True, check=True, env=env)
        outer = time.perf_counter() - t0
    return outer, float(out.stdout.split()[0])


def peer_run(csv: Path, timeout: float) -> str:
    cmd = [sys.executable, "-c", PEER, str(csv)]
    if sys.platform.startswith("linux") and Path("/usr/bin/prlimit").exists():
        cmd = ["prlimit", f"--as={6 * 2**30}", *cmd]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return f"> {timeout:.0f} s (timed out)"
    except subprocess.CalledProcessError as exc:
        return f"failed ({exc.stderr.strip().splitlines()[-1] if exc.stderr else exc})"
    lines = out.stdout.split()
    return f"{float(lines[0]):.2f} s ({lines[1]} values)"


def warm_breakdown(frame: pd.DataFrame, method: str) -> dict[str, float]:
    import metafeatures
    import warmnas
    from warmnas.api import compute_meta_features
    from warmnas.warmstart import make_starter

    X, y = frame.drop(columns=["target"]), frame["target"]
    t0 = time.perf_counter()
    db = warmnas.MetaDatabase.default()
    perf = db.performance_matrix("balanced_error")
    feats = db.meta_features("autosklearn")
    t1 = time.perf_counter()
    q = compute_meta_features(X, y)
    t2 = time.perf_counter()
    st = make_starter(method).fit(perf, feats.loc[feats.index.intersection(perf.index)])
    st.suggest(q.dropna(), 10, nan_policy="ignore")
    t3 = time.perf_counter()
    assert len(q) == len(metafeatures.AUTOSKLEARN_NAMES)
    return {"db_s": t1 - t0, "metafeatures_s": t2 - t1, "fit_suggest_s": t3 - t2,
            "total_s": t3 - t0}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=10_000)
    p.add_argument("--method", default="knn", choices=["knn", "portfolio", "pmf"])
    p.add_argument("--repeats", type=int, default=3, help="cold runs per dataset (median)")
    p.add_argument("--no-peer", action="store_true", help="skip the pymfe comparison")
    p.add_argument("--peer-timeout", type=float, default=300.0)
    p.add_argument("--json", help="also write the figures here")
    args = p.parse_args(argv)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in (("synthetic", synthetic), ("anneal-resampled", anneal)):
            frame = make(args.rows)
            csv = Path(tmp) / f"{name}.csv"
            frame.to_csv(csv, index=False)
            colds = [cold_run(csv, args.method) for _ in range(args.repeats)]
            outer = float(np.median([c[0] for c in colds]))
            inner = float(np.median([c[1] for c in colds]))
            la = load()
            cached = None
            if args.method == "pmf":
                folder = Path(tmp) / f"cache-{name}"
                cold_run(csv, "pmf", folder)  # fills the cache (not counted)
                hits = [cold_run(csv, "pmf", folder) for _ in range(args.repeats)]
                cached = {"outer_s": float(np.median([c[0] for c in hits])),
                          "inner_s": float(np.median([c[1] for c in hits])),
                          "load_average": load()}
            warm = warm_breakdown(frame, args.method)
            peer = "skipped" if args.no_peer else peer_run(csv, args.peer_timeout)
            results[name] = {"rows": args.rows, "cols": frame.shape[1] - 1, "cold_process_s": outer,
                             "cold_in_process_s": inner, "warm": warm, "pymfe": peer,
                             "load_average": la, "warm_cache": cached}
            print(f"{name} ({args.rows} x {frame.shape[1] - 1}), method={args.method}:")
            print(f"  warm_start(X, y) cold, fresh process: {outer:.2f} s wall, {inner:.2f} s "
                  f"from import to result (median of {args.repeats}; target < 5 s; load "
                  f"{la:.2f})")
            if cached is not None:
                print(f"  same with a warm PMF cache (fitted PMF loaded, not refitted): "
                      f"{cached['outer_s']:.2f} s wall, {cached['inner_s']:.2f} s from import "
                      f"to result (median of {args.repeats}; cold/warm cache "
                      f"{outer / cached['outer_s']:.2f}x; load {cached['load_average']:.2f})")
            print(f"  in one process: database {warm['db_s']:.2f} s + meta-features "
                  f"{warm['metafeatures_s']:.2f} s + fit/suggest {warm['fit_suggest_s']:.2f} s "
                  f"= {warm['total_s']:.2f} s")
            print(f"  peer, pymfe general+statistical+info-theory+landmarking on the same "
                  f"data: {peer} (load {load():.2f})", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
