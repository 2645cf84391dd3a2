"""kNN against auto-sklearn's own ``KNearestDatasets`` (golden values from one run of its code).

``data/autosklearn_knd_golden.json`` was written by ``bench/autosklearn_peer.py --write-golden``
from auto-sklearn 0.15.0's ``kND.py`` loaded from its published sdist (provenance inside the
file; CI cannot install auto-sklearn). Inputs: the PMF meta-features of the Oboe tasks (shared
data), five query tasks, every other task with meta-features as the database.

Matching settings: warmnas' kNN leaves meta-features constant over the database out of the
distance (auto-sklearn's ``MinMaxScaler`` keeps them with scale 1, which shifts every distance of
a query by the same amount) and imputes the database's NaN with the median of the scaled values
(auto-sklearn: the mean of the raw values). The golden run therefore uses the 40 meta-features
that are not constant over the database, and those have no NaN on these tasks, so neither
difference arises and the neighbour order, the distances and the first-round suggestions must
be the same. Two more queries (PMF datasets outside Oboe with some meta-features NaN) went
through ``MetaLearningOptimizer`` itself, which drops the new dataset's non-finite meta-features;
warmnas is queried with ``nan_policy="ignore"``, which leaves them out of the distance.
Neighbours at exactly equal distances (duplicate meta-feature rows, e.g. Oboe tasks 772 and 948)
are ordered by scikit-learn's unstable argsort in auto-sklearn and by database order in warmnas;
the comparison treats such a group as a set (:func:`assert_same_neighbours`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from warmnas.warmstart import KNNWarmStarter

GOLDEN = Path(__file__).parent / "data" / "autosklearn_knd_golden.json"


def assert_same_neighbours(ours: pd.Series, ref: dict, k: int) -> None:
    """Same ``k`` nearest tasks in the same order and the same distances (to 1e-9).

    Tasks at exactly equal distances (datasets with identical meta-features) may come in either
    order: auto-sklearn's order among them is that of scikit-learn's unstable argsort, warmnas
    keeps database order (stable sort). Within such a group the ids are compared as a set.
    """
    np.testing.assert_allclose(ours.to_numpy()[:k], ref["distances"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(ours.reindex(ref["neighbors"]).to_numpy(), ref["distances"],
                               rtol=0, atol=1e-9)

    def by_distance_then_id(ids: list[str], dist: np.ndarray) -> list[tuple[float, str]]:
        return sorted(zip(np.round(dist, 9).tolist(), ids))

    assert by_distance_then_id(list(ours.index[:k]), ours.to_numpy()[:k]) == \
        by_distance_then_id(ref["neighbors"], np.asarray(ref["distances"]))


@pytest.fixture(scope="module")
def golden() -> dict:
    return json.loads(GOLDEN.read_text())


@pytest.fixture(scope="module")
def oboe(shared_data: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    perf = pd.read_csv(shared_data / "oboe" / "error_matrix.csv", index_col=0)
    feats = pd.read_csv(shared_data / "pmf-metafeatures" / "data_feats_featurized.csv",
                        index_col=0)
    perf.index = perf.index.map(str)
    feats.index = feats.index.map(str)
    feats = feats.loc[feats.index.intersection(perf.index, sort=False)]
    return perf, feats


@pytest.fixture(scope="module")
def fitted(golden: dict, oboe: tuple[pd.DataFrame, pd.DataFrame]) -> KNNWarmStarter:
    perf, feats = oboe
    db = feats.index.difference(list(golden["queries"]), sort=False)
    assert len(db) == golden["n_database_tasks"]
    return KNNWarmStarter(metric="l1", scaling="minmax").fit(
        perf.loc[db], feats.loc[db, golden["features"]], direction="minimize")


def test_golden_file_has_provenance(golden: dict) -> None:
    prov = golden["provenance"]
    assert prov["auto_sklearn_version"] == "0.15.0"
    assert prov["file"].endswith("kNearestDatasets/kND.py")
    assert "SOURCES.md" in prov["license"] and "--write-golden" in prov["regenerate"]
    assert len(golden["queries"]) == 5 and golden["k"] == 25
    assert "MetaLearningOptimizer" in prov["metalearner_queries"]
    assert len(golden["metalearner_queries"]) == 2


def test_settings_avoid_the_documented_differences(
    golden: dict, oboe: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    """The golden features are non-constant and NaN-free over the database (see module doc)."""
    _, feats = oboe
    db = feats.drop(index=list(golden["queries"]))[golden["features"]]
    assert not db.isna().any().any()
    assert (db.max() > db.min()).all()


@pytest.mark.parametrize("position", range(5))
def test_neighbour_order_and_distances_match_autosklearn(
    golden: dict, oboe: tuple[pd.DataFrame, pd.DataFrame], fitted: KNNWarmStarter,
    position: int,
) -> None:
    _, feats = oboe
    qid = list(golden["queries"])[position]
    ref = golden["queries"][qid]
    sug = fitted.suggest(feats.loc[qid, golden["features"]], n_configs=10)
    assert sug.neighbors is not None
    assert_same_neighbours(sug.neighbors, ref, golden["k"])
    # strategy "best": the first round is auto-sklearn's kBestSuggestions (de-duplicated best
    # configuration of each neighbour in turn)
    assert sug.config_ids == ref["best_suggestions"]


@pytest.mark.parametrize("qid", ["1169", "4135"])
def test_query_with_nan_matches_autosklearn_metalearner(
    golden: dict, shared_data: Path, fitted: KNNWarmStarter, qid: str
) -> None:
    """A new dataset with some meta-features NaN (PMF datasets outside Oboe, landmarks missing).

    auto-sklearn's ``MetaLearningOptimizer._learn`` drops the meta-features that are not finite
    for the new dataset; warmnas with ``nan_policy="ignore"`` leaves them out of the distance.
    Same neighbours, distances and first ten suggestions.
    """
    ref = golden["metalearner_queries"][qid]
    every = pd.read_csv(shared_data / "pmf-metafeatures" / "data_feats_featurized.csv",
                        index_col=0)
    every.index = every.index.map(str)
    query = every.loc[qid, golden["features"]]
    assert sorted(query.index[query.isna()]) == sorted(ref["meta_features_dropped"])
    sug = fitted.suggest(query, n_configs=10, nan_policy="ignore")
    assert sug.neighbors is not None
    assert_same_neighbours(sug.neighbors, ref, golden["k"])
    assert sug.config_ids == ref["best_suggestions"]
