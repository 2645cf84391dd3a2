"""OpenML tasks for studies (on a copy of the shared OpenML cache) and the CV evaluator.

Task 1882 of the OpenML test server is anneal (dataset 2: 898 rows, 38 features, 10 x 10 CV).
Golden values are OpenML's own qualities (the cached qualities.xml).
"""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from warmnas.bench import CVTask, OpenMLCVEvaluator, openml_task_id, openml_tasks
from warmnas.bench.evaluators import run_evaluation
from warmnas.errors import InputError, MissingDataError
from warmnas.metadb import MetaDatabase
from warmnas.metadb.openml_cache import OpenMLCache

pytestmark = pytest.mark.shared_data


def _factory(config, random_state=0):
    """A small explicit Oboe-config -> estimator map (two algorithms) for evaluator tests."""
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.tree import DecisionTreeClassifier

    if config["algorithm"] == "KNN":
        return KNeighborsClassifier(n_neighbors=config["KNN:n_neighbors"], p=config["KNN:p"])
    if config["algorithm"] == "DT":
        return DecisionTreeClassifier(min_samples_split=config["DT:min_samples_split"],
                                      random_state=random_state)
    raise ValueError(f"no estimator for {config['algorithm']}")


@pytest.fixture(scope="module")
def anneal(shared_data):
    with OpenMLCache(shared_data / "openml-cache") as cache:
        return openml_tasks([1882], cache, meta_features=False)[0]


def test_task_1882_is_anneal_with_its_own_splits(anneal, shared_data):
    with OpenMLCache(shared_data / "openml-cache") as cache:
        q = cache.dataset(2).qualities
    task = anneal.payload
    assert isinstance(task, CVTask)
    assert anneal.task_id == openml_task_id(1882, "test") == "openml-test/t/1882"
    assert task.name == "anneal" and task.task_type == "classification"
    assert task.X.shape == (int(q["NumberOfInstances"]), int(q["NumberOfFeatures"]) - 1)
    assert int(np.sum(~task.categorical)) == int(q["NumberOfNumericFeatures"])
    assert (task.n_repeats, task.n_folds, len(task.splits)) == (10, 10, 100)
    for r in (0, 9):
        tests = np.concatenate([task.split(r, f)[1] for f in range(10)])
        assert np.array_equal(np.sort(tests), np.arange(898))
    assert anneal.exclude == ()  # anneal is not among the Oboe prior's datasets
    assert anneal.record["name"] == "anneal" and anneal.record["info"]["openml_task_id"] == 1882
    assert "openml_task_id" not in anneal.record  # test-server ids are not production ids
    with pytest.raises(InputError, match=r"\(repeat, fold, sample\) = \(10, 0, 0\) does not exist"):
        task.split(10, 0)


def test_meta_features_are_computed_once_and_then_reused(openml_cache_dir, tmp_path, monkeypatch):
    import metafeatures

    db = MetaDatabase(f"sqlite:///{tmp_path / 'm.db'}")
    with OpenMLCache(openml_cache_dir) as cache:
        t = openml_tasks([1882], cache, db=db)[0]
    assert len(t.meta_features) == 46
    assert t.meta_features["NumberOfInstances"] == 898
    assert t.meta_features["NumberOfCategoricalFeatures"] == 32
    db.add_task(t.task_id, meta_features=t.meta_features, view="autosklearn")

    def boom(*a, **k):
        raise AssertionError("meta-features recomputed although stored")

    monkeypatch.setattr(metafeatures, "extract", boom)
    with OpenMLCache(openml_cache_dir) as cache:
        again = openml_tasks([1882], cache, db=db)[0]
    assert again.meta_features == pytest.approx(t.meta_features, nan_ok=True)


def test_a_task_missing_from_the_cache_fails_at_once_naming_the_file(openml_cache_dir):
    with OpenMLCache(openml_cache_dir) as cache:
        start = time.perf_counter()
        with pytest.raises(MissingDataError, match=r"task 3 is not in the cache .*datasets/3/description\.xml"):
            openml_tasks([3], cache)
        assert time.perf_counter() - start < 1.0
        with pytest.raises(InputError, match="positive ints"):
            openml_tasks([0], cache)
        with pytest.raises(InputError, match="given twice"):
            openml_tasks([1882, 1882], cache)


def test_online_mode_lets_openml_download(openml_cache_dir, monkeypatch):
    """offline=False hands a missing file to openml-python's own download path."""
    import openml
    import openml._api_calls as api

    calls = []

    class Unreachable(ConnectionError):
        pass

    def fake(endpoint, *a, **k):
        calls.append(endpoint)
        raise Unreachable(f"no network in the test for {endpoint}")

    monkeypatch.setattr(api, "_perform_api_call", fake)
    server_before = openml.config.server
    with OpenMLCache(openml_cache_dir, offline=False) as cache, pytest.raises(Unreachable):
        cache.dataset(30)  # only its parquet file is cached; the description is downloaded
    assert calls == ["data/30"]
    assert openml.config.server == server_before  # restored
    with OpenMLCache(openml_cache_dir) as cache, pytest.raises(MissingDataError):
        cache.dataset(30)  # offline: refused before openml is called
    assert calls == ["data/30"]


def test_cv_evaluator_on_two_folds_of_anneal(anneal):
    task = anneal.payload
    ev = OpenMLCVEvaluator(_factory, splits=[(0, 0), (0, 1)])
    assert ev.fidelity(task) == pytest.approx(2 / 100)
    assert OpenMLCVEvaluator(_factory, repeats=[0]).fidelity(task) == pytest.approx(10 / 100)
    assert OpenMLCVEvaluator(_factory).fidelity(task) == 1.0
    one_nn = {"algorithm": "KNN", "KNN:n_neighbors": 1, "KNN:p": 1}
    stump = {"algorithm": "DT", "DT:min_samples_split": 1024}  # no split on 808 training rows
    a = run_evaluation(ev, one_nn, task)
    b = run_evaluation(ev, stump, task)
    assert a.error is None and b.error is None and a.cost_s > 0
    # a tree that cannot split predicts the majority class: balanced error = 1 - 1/k for the
    # k classes present in each test fold (scikit-learn's balanced accuracy over true classes)
    expected = []
    for f in (0, 1):
        _, test = task.split(0, f)
        expected.append(1 - 1 / len(np.unique(task.y[test])))
    assert b.value == pytest.approx(np.mean(expected))
    assert a.value < 0.5 * b.value  # 1-NN is far better than the majority class on anneal
    same = run_evaluation(ev, one_nn, task)
    assert same.value == a.value
    bad = run_evaluation(ev, {"algorithm": "GNB"}, task)
    assert np.isnan(bad.value) and "no estimator for GNB" in bad.error


def test_cv_evaluator_refuses_bad_arguments():
    with pytest.raises(InputError, match=r"splits must be \(repeat, fold\) pairs"):
        OpenMLCVEvaluator(_factory, splits=[(0,)])
    with pytest.raises(InputError, match="splits is empty"):
        OpenMLCVEvaluator(_factory, splits=[])
    with pytest.raises(InputError, match="pass splits or repeats, not both"):
        OpenMLCVEvaluator(_factory, splits=[(0, 0)], repeats=[0])
    with pytest.raises(InputError, match="metric must be one of"):
        OpenMLCVEvaluator(_factory, metric="auc")
    with pytest.raises(TypeError, match="estimator_factory must be callable"):
        OpenMLCVEvaluator(42)


def test_cli_bench_openml_runs_resumes_and_reports(openml_cache_dir, tmp_path, capsys):
    try:
        from warmnas.api import estimators  # noqa: F401
    except ImportError:
        pytest.skip("warmnas.api.estimators (Oboe config -> scikit-learn) is not available yet")
    from warmnas.cli import main

    url = f"sqlite:///{tmp_path / 'r.db'}"
    args = ["bench", "openml", "--tasks", "1882", "--methods", "portfolio,random", "--budget", "2",
            "--splits", "0:0", "--db", url, "--cache-dir", str(openml_cache_dir), "--serial",
            "--out", str(tmp_path / "out")]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "evaluations/s" in out
    db = MetaDatabase(url)
    ev = db.evaluations(task="openml-test/t/1882")
    assert 2 <= len(ev) <= 4 and np.allclose(ev["fidelity"], 0.01)
    assert main(args) == 0
    assert "0 evaluations run (" in capsys.readouterr().out
    assert main([*args, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["evaluated"] == 0 and printed["reused"] == len(ev)
    assert {row["method"] for row in printed["summary"]} == {"portfolio", "random"}
    assert len(db.evaluations(task="openml-test/t/1882")) == len(ev)
    for name in ("summary.md", "summary.csv", "curves.csv", "regret_vs_evaluations.png"):
        assert (tmp_path / "out" / name).exists()
    rc = main(["bench", "openml", "--tasks", "3", "--db", url, "--serial",
               "--cache-dir", str(openml_cache_dir), "--out", str(tmp_path / "o3")])
    assert rc == 2
    assert "datasets/3/description.xml" in capsys.readouterr().err


def test_openml_study_checks_its_arguments_before_loading_any_task(tmp_path):
    """Bad scalar arguments fail before the cache is read (a missing cache would say so)."""
    from warmnas.bench import openml_study

    kw = {"db": MetaDatabase(f"sqlite:///{tmp_path / 'a.db'}"), "cache_dir": tmp_path / "none"}
    with pytest.raises(InputError, match="budget must be a positive int .* got 0"):
        openml_study([1882], "random", budget=0, **kw)
    with pytest.raises(InputError, match="budget must be a positive int .* got -2"):
        openml_study([1882], "random", budget=-2, **kw)
    with pytest.raises(InputError, match="unknown method 'bogus'"):
        openml_study([1882], "random,bogus", budget=2, **kw)
    with pytest.raises(InputError, match="eval_timeout_s must be a positive number"):
        openml_study([1882], "random", budget=2, eval_timeout_s=-1.0, **kw)
    with pytest.raises(TypeError, match=r"openml_study\(\) got unknown argument\(s\) "
                       r"\['batchsize'\]; .* run_study: \[.*'batch_size'"):
        openml_study([1882], "random", budget=2, batchsize=4, **kw)  # a typo of batch_size
    with pytest.raises(TypeError, match=r"unknown argument\(s\) \['prior_db'\]"):
        openml_study([1882], "random", budget=2, prior_db=kw["db"], **kw)
    with pytest.raises(MissingDataError, match="cache folder not found"):
        openml_study([1882], "random", budget=2, **kw)
    with pytest.raises(TypeError, match="db must be a warmnas.metadb.MetaDatabase, got str"):
        openml_study([1882], "random", budget=2, db="sqlite:///x.db", cache_dir=kw["cache_dir"])


def test_openml_study_bounds_each_evaluation_like_the_cli(openml_cache_dir, tmp_path, monkeypatch):
    """Real CV on a grid has pipelines that do not finish (anneal: a polynomial-kernel SVM),
    so openml_study stops an evaluation after 600 s by default, as `warmnas bench openml`."""
    import warmnas.bench.study as study

    seen = {}

    def fake_run_study(tasks, methods, evaluator, **kwargs):
        seen.update(kwargs)
        return "ran"

    monkeypatch.setattr(study, "run_study", fake_run_study)
    kw = {"db": MetaDatabase(f"sqlite:///{tmp_path / 'a.db'}"), "cache_dir": openml_cache_dir,
          "budget": 1, "repeats": [0]}
    assert study.openml_study([1882], "random", **kw) == "ran"
    assert seen["eval_timeout_s"] == 600.0
    study.openml_study([1882], "random", eval_timeout_s=None, **kw)
    assert seen["eval_timeout_s"] is None
