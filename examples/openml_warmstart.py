"""Warm-started searches on OpenML task 1882 (anneal), stored in a meta-database, with a report.

Each method (kNN over meta-features, the greedy portfolio, random search) proposes Oboe
pipelines learnt from the embedded meta-database (Oboe's 358 datasets); each proposal is
cross-validated on the task's own OpenML splits (repeat 0: 10 folds) in a local process pool,
written into ``<out>/results.db`` as it finishes, and the anytime curves go to ``<out>/``.
A failed evaluation (an error or ``--timeout``, 120 s: the greedy portfolio's second pick,
Oboe's polynomial-kernel SVM with C=4, coef0=10, does not finish on anneal) is stored as a
failure. Run it twice: the second run evaluates nothing, reuses the stored results, skips the
stored failures and gives the same curves (``retry_failed=True`` in ``openml_study``, or
``warmnas bench openml --retry-failed``, runs the failures again).

    python examples/openml_warmstart.py [--data-dir ../shared/data] [--budget 5] [--out openml-report]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from warmnas.bench import PoolExecutor, openml_study, summarize, write_report
from warmnas.metadb import MetaDatabase

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    default = Path(os.environ.get("WARMNAS_SHARED_DATA", REPO.parent / "shared" / "data"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=default)
    parser.add_argument("--budget", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per evaluation")
    parser.add_argument("--out", type=Path, default=Path("openml-report"))
    args = parser.parse_args()

    args.out.mkdir(parents=True, exist_ok=True)
    db = MetaDatabase(f"sqlite:///{args.out / 'results.db'}")
    with PoolExecutor(args.workers) as pool:
        result = openml_study(
            [1882], "knn,portfolio,random", db=db, budget=args.budget,
            cache_dir=args.data_dir / "openml-cache", repeats=[0], executor=pool,
            eval_timeout_s=args.timeout,  # a few grid pipelines (poly-kernel SVMs) barely converge
        )
    write_report(result, args.out)
    print(summarize(result).to_string(index=False))
    print(f"{result.n_evaluated} evaluations run, {result.n_failed} failed (stored; a re-run "
          f"skips them), {result.n_reused} reused; report in {args.out}")


if __name__ == "__main__":
    main()
