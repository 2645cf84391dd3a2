"""Offline OpenML cache reader: golden values are OpenML's own (the cached qualities.xml)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from warmnas.errors import MissingDataError
from warmnas.metadb import MetaDatabase
from warmnas.metadb.openml_cache import OpenMLCache, import_openml_cache

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def cache(shared_data):
    with OpenMLCache(shared_data / "openml-cache") as c:
        yield c


def test_dataset_anneal(cache, shared_data):
    ds = cache.dataset(2)
    assert ds.name == "anneal" and ds.target == "class"
    q = ds.qualities
    assert ds.X.shape == (int(q["NumberOfInstances"]), int(q["NumberOfFeatures"]) - 1) == (898, 38)
    assert len(ds.categorical) - sum(ds.categorical) == int(q["NumberOfNumericFeatures"]) == 6
    assert len(ds.y.cat.categories) == int(q["NumberOfClasses"])  # declared classes (one is empty)
    assert int(ds.X.isna().sum().sum()) == int(q["NumberOfMissingValues"])
    # the source folder stays untouched (openml-python writes pickles into the working copy)
    assert not list((shared_data / "openml-cache").rglob("*.pkl*"))


def test_task_splits(cache):
    task = cache.task(1882)
    assert (task.dataset_id, task.target, task.n_repeats, task.n_folds) == (2, "class", 10, 10)
    for repeat in (0, 9):
        tests = [task.split(repeat, f)[1] for f in range(10)]
        assert np.array_equal(np.sort(np.concatenate(tests)), np.arange(898))
        train, test = task.split(repeat, 3)
        assert len(np.intersect1d(train, test)) == 0 and len(train) + len(test) == 898
    with pytest.raises(Exception, match=r"\(repeat, fold, sample\) = \(10, 0, 0\) does not exist"):
        task.split(10, 0)


def test_missing_entries_fail_fast_without_network(cache, shared_data):
    for call, arg, what in ((cache.dataset, 30, "description.xml"), (cache.dataset, 12345, "description.xml"),
                            (cache.task, 1, "datasets/1/description.xml")):
        start = time.perf_counter()
        with pytest.raises(MissingDataError, match=f"is not in the cache .*{what}"):
            call(arg)
        assert time.perf_counter() - start < 1.0
    # the guard itself: whatever openml-python would download raises instead
    with cache._offline() as openml:
        with pytest.raises(MissingDataError, match="wanted to download"):
            openml.datasets.get_dataset(30, download_data=True, download_qualities=False,
                                        download_features_meta_data=False)
    import openml as oml

    assert "test.openml.org" not in oml.config.server  # the global configuration was restored
    with pytest.raises(MissingDataError, match="OpenML cache folder not found"):
        OpenMLCache(shared_data / "nope")
    assert cache.dataset_ids() == [-1, 2] and cache.task_ids() == [1882]


def test_import_openml_cache(tmp_path, shared_data):
    db = MetaDatabase(tmp_path / "m.db")
    report = import_openml_cache(db, shared_data / "openml-cache")
    tasks = db.tasks()
    # the shared cache is the test server's: its ids name other datasets and tasks than the
    # production server's (openml/...), so they get their own prefix, as in 'bench openml'
    assert {"openml-test/d/2", "openml-test/t/1882"} <= set(tasks.index)
    assert not any(t.startswith("openml/") for t in tasks.index)
    assert set(tasks["source"]) == {"openml-test"}
    assert tasks.loc["openml-test/t/1882", "openml_dataset_id"] == 2
    mf = db.meta_features("openml")
    assert mf.loc["openml-test/d/2", "NumberOfInstances"] == 898
    assert mf.loc["openml-test/t/1882", "ClassCount"] == 6
    from warmnas.bench.study import openml_task_id
    assert openml_task_id(1882, server="test") == "openml-test/t/1882"
    with pytest.raises(MissingDataError, match="holds no cache for the 'www' server"):
        import_openml_cache(db, shared_data / "openml-cache", server="www")
    assert report.meta_features > 100
