"""Warm-start a model search on a new dataset with the embedded meta-database.

    python examples/warm_start_anneal.py [--method knn|pmf|portfolio] [--budget 6]

1. ``warm_start(X, y)`` computes anneal's auto-sklearn meta-features, finds the nearest of the
   358 Oboe datasets and proposes the pipelines to try first;
2. each proposal is a scikit-learn pipeline that fits on the raw DataFrame (``ws.estimators()``);
3. ``ws.optimize(objective, budget)`` keeps proposing as real cross-validation results come in
   (with ``--method pmf``: Bayesian optimisation on the PMF posterior after the kNN seeds);
4. the same proposals can seed Optuna (``ws.to_optuna(study)``).
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import pandas as pd
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

import warmnas

DATA = Path(__file__).resolve().parent / "data" / "anneal.csv"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--method", default="knn", choices=["knn", "pmf", "portfolio"])
    p.add_argument("--budget", type=int, default=6)
    args = p.parse_args()

    frame = pd.read_csv(DATA)
    X, y = frame.drop(columns=["class"]), frame["class"]
    ws = warmnas.warm_start(X, y, n_configs=5, method=args.method)
    print(f"{ws.method} proposals ({ws.metric}, {ws.direction}):")
    print(ws.to_frame()[["rank", "config_id", "score", "stddev", "algorithm"]].to_string(
        index=False))
    if ws.neighbors is not None:  # kNN and PMF compare datasets; the portfolio does not
        print("nearest Oboe datasets:", ", ".join(f"{t} ({d:.2f})" for t, d in
                                                  ws.neighbors.iloc[:3].items()))

    cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)

    def balanced_error(config: dict) -> float:
        est = warmnas.api.estimators(config, preprocessing=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pred = cross_val_predict(est, X, y, cv=cv)
        return 1.0 - balanced_accuracy_score(y, pred)

    history = ws.optimize(balanced_error, budget=args.budget)
    print("\nsearch (3-fold CV balanced error):")
    print(history[["config_id", "value", "best_so_far"]].to_string(index=False))

    try:
        import optuna
    except ImportError:
        return
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study()
    print(f"\nenqueued {ws.to_optuna(study)} warm-start trials in an Optuna study")


if __name__ == "__main__":
    main()
