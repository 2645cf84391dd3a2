"""Fixtures of the warm-starter tests: planted low-rank matrices and a slice of the Oboe matrix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(autouse=True)
def _one_torch_thread(one_torch_thread: None) -> None:
    """Every warm-starter test runs with one intra-op thread: with two xdist workers on a
    loaded machine, PMF fits at two threads each spent most of their time waiting (the Oboe
    slice test: 8 s alone, 108 s at load 5, once past the 600 s timeout at load 7)."""


def planted(n_tasks: int = 60, n_configs: int = 40, rank: int = 3, noise: float = 0.02,
            seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A tasks x configs matrix ``U V^T + noise`` and meta-features = the task factors ``U``.

    Lower is better. The task factors are the meta-features, so nearest tasks in meta-feature
    space have similar rows, and the low-rank structure is what PMF should recover.
    """
    rng = np.random.default_rng(seed)
    U = rng.normal(size=(n_tasks, rank))
    V = rng.normal(size=(n_configs, rank))
    Y = U @ V.T + noise * rng.normal(size=(n_tasks, n_configs))
    tasks = [f"t{i}" for i in range(n_tasks)]
    configs = [f"c{j}" for j in range(n_configs)]
    perf = pd.DataFrame(Y, index=tasks, columns=configs)
    meta = pd.DataFrame(U, index=tasks, columns=[f"f{k}" for k in range(rank)])
    return perf, meta


@pytest.fixture(scope="session")
def make_planted():
    """The :func:`planted` generator."""
    return planted


@pytest.fixture(scope="session")
def planted_data() -> tuple[pd.DataFrame, pd.DataFrame]:
    return planted()


@pytest.fixture(scope="session")
def oboe_slice(shared_data):
    """40 Oboe tasks that have PMF meta-features x all 219 pipelines (balanced error)."""
    perf = pd.read_csv(shared_data / "oboe" / "error_matrix.csv", index_col=0)
    feats = pd.read_csv(shared_data / "pmf-metafeatures" / "data_feats_featurized.csv",
                        index_col=0)
    perf.index = perf.index.map(str)
    feats.index = feats.index.map(str)
    common = [t for t in perf.index if t in feats.index][:40]
    return perf.loc[common], feats.loc[common]


@pytest.fixture
def five_times_slower():
    """A portfolio warm start with a 30 s budget on a database task, and an objective whose
    runs take 5 times the runtime predicted from Oboe's machine: ``(ws, objective)``."""
    import warmnas
    from warmnas.api import warm_start

    q = warmnas.MetaDatabase.default().meta_features("autosklearn").iloc[4]
    ws = warm_start(meta_features=q, n_configs=5, method="portfolio", time_budget=30.0)
    pred = ws.all_predicted_costs()
    lookup = ws._configs_lookup()
    ids = {repr(sorted(lookup(c).items())): c for c in pred.index}

    def by_config(config):
        return {"value": 0.3, "cost_s": 5.0 * float(pred[ids[repr(sorted(config.items()))]])}

    return ws, by_config
