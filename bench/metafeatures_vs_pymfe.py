"""Benchmark: ``metafeatures.extract`` against pymfe on the same data, side by side.

Each extraction runs in its own subprocess so that its peak memory is its own; pymfe's process
gets an address-space limit (default 8 GB) so that it cannot take the machine down. The script
prints, per dataset: our time, pymfe's time, the ratio, the peak resident memory of both during
the extraction (the data itself included), and the 1-minute load average of the machine next to
every timing (other jobs share the cores).

    python bench/metafeatures_vs_pymfe.py                      # bundled datasets + 20,000 x 50
    python bench/metafeatures_vs_pymfe.py --large              # + ours alone on 1,000,000 x 100
    python bench/metafeatures_vs_pymfe.py --datasets iris --synthetic none
    python bench/metafeatures_vs_pymfe.py --groups new --datasets --synthetic 2000x20,5000x20
        # the four groups pymfe's defaults leave out (clustering, concept, itemset, relative);
        # --whole-rows lifts our sample sizes to the data's rows (pymfe uses every row)
    python bench/metafeatures_vs_pymfe.py --categorical [--data-dir DIR] [--groups all]
        # like for like on categorical data (OpenML anneal and abalone from the shared OpenML
        # cache): metafeatures.MFE and pymfe.mfe.MFE, both with pymfe's defaults (gray coding,
        # unshuffled folds), random_state=0; prints both times and how many of pymfe's names
        # we produce with a value equal to 1e-7

Not a test: numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()
BUNDLED = ("iris", "wine", "breast_cancer", "digits")
#: --categorical: OpenML datasets of the shared cache with categorical attributes
CATEGORICAL = ("anneal", "abalone")
#: --groups new: the groups of pymfe's "all" that its defaults leave out, complexity aside
NEW_GROUPS = ("clustering", "concept", "itemset", "relative")


def _groups(spec: str) -> str | list[str]:
    """'default' / 'all' (both tools take the word), 'new', or a comma-separated list."""
    if spec in ("default", "all"):
        return spec
    if spec == "new":
        return list(NEW_GROUPS)
    return [g.strip() for g in spec.split(",") if g.strip()]


# -- child ------------------------------------------------------------------------------------
def _default_data_dir() -> Path:
    env = os.environ.get("WARMNAS_SHARED_DATA")
    return Path(env) if env else HERE.parents[2] / "shared" / "data"


def _load_categorical(spec: str):  # type: ignore[no-untyped-def]
    """An object array with the categorical attributes as text (missing -> "?", pymfe's gray
    coding refuses missing values), the class labels as text, and the categorical columns."""
    import numpy as np
    import pandas as pd

    root = Path(os.environ.get("MF_BENCH_DATA_DIR") or _default_data_dir())
    base = root / "openml-cache" / "org" / "openml" / "test" / "datasets"
    if spec == "anneal":
        import arff  # liac-arff

        with open(base / "2" / "dataset.arff") as fh:
            d = arff.load(fh)
        frame = pd.DataFrame(d["data"], columns=[a for a, _ in d["attributes"]])
        nominal = [a for a, t in d["attributes"] if isinstance(t, list)]
        y = frame.pop("class").astype(str)
        cat = [c for c in nominal if c != "class"]
    elif spec == "abalone":
        frame = pd.read_parquet(base / "30" / "dataset_30.pq")
        y = frame.pop("Sex").astype(str)
        frame["Class_number_of_rings"] = frame["Class_number_of_rings"].astype(str)
        cat = ["Class_number_of_rings"]
    else:
        raise ValueError(spec)
    for c in cat:
        frame[c] = frame[c].astype(object).where(frame[c].notna(), "?").astype(str)
    X = frame.to_numpy(dtype=object)
    for j, c in enumerate(frame.columns):
        if c not in cat:
            X[:, j] = frame[c].to_numpy(dtype=np.float64)
    return X, y.to_numpy(), [frame.columns.get_loc(c) for c in cat]


def _load(spec: str):  # type: ignore[no-untyped-def]
    import numpy as np
    from sklearn import datasets

    if spec in BUNDLED:
        return getattr(datasets, f"load_{spec}")(return_X_y=True)
    kind, shape = spec.split(":")
    n, p = (int(v) for v in shape.split("x"))
    if kind == "classification":
        # shuffle=False keeps make_classification from copying X (1M x 100 is 800 MB)
        X, y = datasets.make_classification(n, p, n_informative=min(p, 10), random_state=0,
                                            shuffle=n <= 100_000)
        return np.ascontiguousarray(X), y
    raise ValueError(spec)


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS counter of this process (Linux); False if not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _peak_rss_mb() -> float:
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _extract(tool: str, X, y, groups: str, whole_rows: bool = False) -> int:  # type: ignore[no-untyped-def]
    if tool == "ours":
        import metafeatures

        sizes = ({k: max(10, len(X)) for k in metafeatures.SAMPLE_SIZES} if whole_rows
                 else None)
        return len(metafeatures.extract(X, y, groups=_groups(groups), on_error="ignore",
                                        sample_sizes=sizes))
    import warnings

    from pymfe.mfe import MFE

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mfe = MFE(groups=_groups(groups), random_state=0, suppress_warnings=True)
        mfe.fit(X, y, suppress_warnings=True)
        names, _ = mfe.extract(suppress_warnings=True)
    return len(names)


def _facade(tool: str, X, y, cat_cols: list[int], groups: str,  # type: ignore[no-untyped-def]
            whole_rows: bool = False) -> dict:
    """pymfe's API with pymfe's defaults (gray coding), in either tool."""
    import warnings

    kwargs = {}
    if tool == "ours":
        from metafeatures import MFE, SAMPLE_SIZES

        if whole_rows:
            kwargs["sample_sizes"] = {k: max(10, len(X)) for k in SAMPLE_SIZES}
    else:
        from pymfe.mfe import MFE  # type: ignore[no-redef]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mfe = MFE(groups=_groups(groups), random_state=0, **kwargs)
        mfe.fit(X, y, cat_cols=cat_cols, suppress_warnings=True)
        names, values = mfe.extract(suppress_warnings=True)
    return {n: float(v) for n, v in zip(names, values)}


def child_categorical(tool: str, spec: str, groups: str, whole_rows: str = "0") -> None:
    import numpy as np

    rng = np.random.default_rng(0)  # warm-up: imports and first calls not timed
    Xw = np.empty((60, 2), dtype=object)
    Xw[:, 0] = rng.normal(size=60)
    Xw[:, 1] = np.array(["a", "b", "c"])[np.arange(60) % 3]
    _facade(tool, Xw, np.arange(60) % 2, [1], groups)
    X, y, cat_cols = _load_categorical(spec)
    reset = _reset_peak()
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    c0 = time.process_time()
    values = _facade(tool, X, y, cat_cols, groups, whole_rows == "1")
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - c0
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mb": _peak_rss_mb(),
                      "peak_reset": reset, "data_mb": 0.0, "n_values": len(values),
                      "load": load, "shape": list(X.shape), "values": values}))


def _equal(a: float, b: float) -> bool:
    import math

    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or abs(a - b) <= 1e-7 * max(abs(a), abs(b))


def main_categorical(args: argparse.Namespace) -> int:
    if args.data_dir:
        os.environ["MF_BENCH_DATA_DIR"] = str(args.data_dir)
    print(f"# metafeatures.MFE vs pymfe.mfe.MFE on categorical data, pymfe's defaults (gray "
          f"coding, unshuffled folds), groups={args.groups!r}, random_state=0, our samples "
          f"lifted to all rows={args.whole_rows}")
    print(f"{'dataset':<10} {'shape':>10} {'ours s':>8} {'cpu s':>6} {'load':>5} "
          f"{'pymfe s':>8} {'cpu s':>6} {'load':>5} {'ratio':>7}  names equal / equal to 1e-7 "
          "/ pymfe's names")
    for spec in CATEGORICAL:
        ours = run("ours", spec, args.groups, None, args.timeout, args.whole_rows,
                   categorical=True)
        theirs = run("pymfe", spec, args.groups, args.pymfe_limit_gb, args.timeout,
                     categorical=True)
        if "error" in ours or "error" in theirs:
            print(f"{spec:<10} ours: {ours.get('error', 'ok')}; pymfe: {theirs.get('error', 'ok')}")
            continue
        a, b = ours["values"], theirs["values"]
        same = sorted(set(a) & set(b))
        equal = [k for k in same if _equal(a[k], b[k])]
        shape = "x".join(map(str, ours["shape"]))
        print(f"{spec:<10} {shape:>10} {_s(ours):>8} {_c(ours):>6} {_l(ours):>5} "
              f"{_s(theirs):>8} {_c(theirs):>6} {_l(theirs):>5} "
              f"{theirs['seconds'] / ours['seconds']:6.1f}x  {len(same)} / {len(equal)} / "
              f"{len(b)}")
        differ = [k for k in same if k not in equal]
        if differ:
            print(f"    differ (documented in docs/metafeatures.md): {', '.join(differ)}")
        only = sorted(set(a) ^ set(b))
        if only:
            print(f"    names in one tool only: {', '.join(only)}")
    print("# seconds: wall-clock of fit + extract after a warm-up (imports excluded); load: "
          "1-minute load average when the run started")
    return 0


def child(tool: str, spec: str, groups: str, whole_rows: str = "0") -> None:
    import numpy as np

    # warm-up on a tiny dataset: imports and first calls are not part of the timing (both tools)
    rng = np.random.default_rng(0)
    _extract(tool, rng.normal(size=(60, 4)), np.arange(60) % 3, groups, whole_rows == "1")
    X, y = _load(spec)
    data_mb = X.nbytes / 1024**2
    reset = _reset_peak()
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    c0 = time.process_time()
    n_values = _extract(tool, X, y, groups, whole_rows == "1")
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - c0
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mb": _peak_rss_mb(), "peak_reset": reset,
                      "data_mb": data_mb, "n_values": n_values, "load": load,
                      "shape": list(X.shape)}))


# -- parent -----------------------------------------------------------------------------------
def run(tool: str, spec: str, groups: str, limit_gb: float | None, timeout: float,
        whole_rows: bool = False, categorical: bool = False) -> dict:
    def limit() -> None:
        if limit_gb:
            size = int(limit_gb * 1024**3)
            resource.setrlimit(resource.RLIMIT_AS, (size, size))

    cmd = [sys.executable, str(HERE), "--child-categorical" if categorical else "--child", tool,
           spec, groups, "1" if whole_rows else "0"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              preexec_fn=limit)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout:.0f} s"}
    if proc.returncode != 0:
        tail = (proc.stderr or "").strip().splitlines()[-1:] or ["?"]
        kind = "memory limit" if "MemoryError" in proc.stderr or "Cannot allocate" in proc.stderr \
            else "failed"
        return {"error": f"{kind}: {tail[0][:120]}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="*", default=list(BUNDLED), choices=BUNDLED)
    parser.add_argument("--synthetic", default="20000x50",
                        help="make_classification shapes NxP compared with pymfe, comma-separated "
                        "('none' to skip)")
    parser.add_argument("--groups", default="default",
                        help="'default', 'all', 'new' (clustering, concept, itemset, relative) "
                        "or a comma-separated list of groups (both tools)")
    parser.add_argument("--whole-rows", action="store_true",
                        help="our sample sizes lifted to the data's rows (pymfe uses every row)")
    parser.add_argument("--large", action="store_true",
                        help="also run ours alone, every group, on 1,000,000 x 100")
    parser.add_argument("--pymfe-limit-gb", type=float, default=8.0,
                        help="address-space limit of the pymfe process (default 8 GB)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="per run, seconds")
    parser.add_argument("--skip-pymfe", action="store_true")
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool; the best is kept")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--categorical", action="store_true",
                        help="like-for-like on OpenML anneal and abalone through pymfe's API "
                        "with pymfe's defaults (gray coding); prints the names equal")
    parser.add_argument("--data-dir", type=Path,
                        help="shared data folder (default: $WARMNAS_SHARED_DATA or "
                        "../shared/data beside the repository)")
    args = parser.parse_args()
    if args.categorical:
        return main_categorical(args)

    specs = list(args.datasets)
    if args.synthetic != "none":
        specs.extend(f"classification:{s.strip()}" for s in args.synthetic.split(","))
    print(f"# metafeatures vs pymfe, groups={args.groups!r} ({_groups(args.groups)}), "
          f"whole rows={args.whole_rows}, {os.cpu_count()} CPUs, "
          f"OMP/OPENBLAS threads={os.environ.get('OPENBLAS_NUM_THREADS', 'default')}")
    header = (f"{'dataset':<28} {'ours s':>8} {'cpu s':>7} {'load':>5} {'pymfe s':>9} "
              f"{'cpu s':>7} {'load':>5} {'ratio':>7} {'ours MB':>8} {'pymfe MB':>9} "
              f"{'data MB':>8}  values")
    print(header)
    results = []
    for spec in specs:
        ours = min((run("ours", spec, args.groups, None, args.timeout, args.whole_rows)
                    for _ in range(args.repeat)), key=lambda r: r.get("seconds", 1e99))
        theirs = {"error": "skipped"} if args.skip_pymfe else min(
            (run("pymfe", spec, args.groups, args.pymfe_limit_gb, args.timeout)
             for _ in range(args.repeat)), key=lambda r: r.get("seconds", 1e99))
        results.append({"dataset": spec, "ours": ours, "pymfe": theirs})
        ratio = (f"{theirs['seconds'] / ours['seconds']:7.1f}x"
                 if "seconds" in ours and "seconds" in theirs else f"{'-':>8}")
        print(f"{spec:<28} {_s(ours):>8} {_c(ours):>7} {_l(ours):>5} {_s(theirs):>9} "
              f"{_c(theirs):>7} {_l(theirs):>5} {ratio} "
              f"{_m(ours):>8} {_m(theirs):>9} {ours.get('data_mb', 0):8.1f}  "
              f"{ours.get('n_values', '-')}/{theirs.get('n_values', '-')}")
        for tool, r in (("ours", ours), ("pymfe", theirs)):
            if "error" in r and r["error"] != "skipped":
                print(f"    {tool}: {r['error']}")
    if args.large:
        big = run("ours", "classification:1000000x100", "all", None, args.timeout)
        results.append({"dataset": "classification:1000000x100", "ours": big,
                        "pymfe": {"error": "not run"}})
        print(f"{'1,000,000 x 100 (all groups)':<28} {_s(big):>8} {_c(big):>7} {_l(big):>5} "
              f"{'-':>9} {'':>7} {'':>5} {'-':>8} {_m(big):>8} {'-':>9} "
              f"{big.get('data_mb', 0):8.1f}  "
              f"{big.get('n_values', '-')}")
        if "error" in big:
            print(f"    ours: {big['error']}")
    print("# cpu s: CPU seconds of the process (all its threads), less sensitive to other jobs "
          "than the wall-clock")
    print("# seconds: wall-clock of the extraction only (after a warm-up run on tiny data, so "
          "imports and data loading are excluded); MB: peak resident memory of the process "
          "during the extraction (imports and the data included); load: 1-minute load average "
          "when the run started (2 cores shared with other jobs)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


def _s(r: dict) -> str:
    return f"{r['seconds']:.2f}" if "seconds" in r else "-"


def _c(r: dict) -> str:
    return f"{r['cpu']:.1f}" if "cpu" in r else "-"


def _l(r: dict) -> str:
    return f"{r['load']:.1f}" if "load" in r else ""


def _m(r: dict) -> str:
    return f"{r['peak_mb']:.0f}" if "peak_mb" in r else "-"


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:6])
        sys.exit(0)
    if len(sys.argv) > 1 and sys.argv[1] == "--child-categorical":
        child_categorical(*sys.argv[2:6])
        sys.exit(0)
    sys.exit(main())
