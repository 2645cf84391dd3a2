"""warmnas.warm_start end to end on the embedded meta-database, exports, and bad input."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import warmnas
from warmnas.api import WarmStart, estimators, warm_start
from warmnas.cli import main
from warmnas.errors import ConfigSpaceError, InputError, UnknownIdError

REPO = Path(__file__).resolve().parents[2]
# PMF fits: one torch thread per xdist worker (see tests/warmnas/warmstart/conftest.py)
pytestmark = pytest.mark.usefixtures("one_torch_thread")
ANNEAL = REPO / "examples" / "data" / "anneal.csv"


@pytest.fixture(autouse=True)
def _tmp_cache(tmp_path, monkeypatch):
    """No test writes into the user's cache folder (PMF warm starts on the embedded database)."""
    monkeypatch.setenv("WARMNAS_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def db():
    return warmnas.MetaDatabase.default()


@pytest.fixture(scope="module")
def oboe_features(db):
    return db.meta_features("autosklearn")


@pytest.fixture(scope="module")
def anneal():
    frame = pd.read_csv(ANNEAL)
    return frame.drop(columns=["class"]), frame["class"]


def test_warm_start_from_meta_features_matches_the_database(db, oboe_features):
    task = oboe_features.index[0]
    feats = oboe_features.loc[task]
    ws = warm_start(meta_features=feats.to_dict(), n_configs=5, db=db)
    assert isinstance(ws, WarmStart) and len(ws) == 5
    assert ws.method == "knn" and ws.metric == "balanced_error" and ws.direction == "minimize"
    # the task itself is in the database: it is its own nearest neighbour (distance 0) and
    # the first proposal is its best configuration
    assert ws.neighbors.index[0] == task and ws.neighbors.iloc[0] == pytest.approx(0.0)
    perf = db.performance_matrix("balanced_error")
    assert ws.config_ids[0] == perf.loc[task].idxmin()
    assert ws.configs[0] == db.config(ws.config_ids[0])
    assert ws.space == "oboe"
    frame = ws.to_frame()
    assert frame["config_id"].tolist() == ws.config_ids
    assert {"rank", "score", "stddev", "algorithm"} <= set(frame.columns)
    assert np.isfinite(ws.scores).all() and (ws.stddev >= 0).all()
    # a database without that task (leave-one-task-out view) gives other neighbours
    ws2 = warm_start(meta_features=feats, n_configs=5, db=db.without([task]))
    assert task not in ws2.neighbors.index


def test_warm_start_from_x_y_end_to_end(anneal, db):
    X, y = anneal
    ws = warm_start(X, y, n_configs=4, db=db)
    assert len(ws.configs) == 4 and ws.meta_features is not None
    assert set(ws.meta_features.index) <= set(db.meta_features("autosklearn").columns)
    # features constant over the database (the Oboe data have no missing values) do not
    # make every distance huge
    assert ws.neighbors.iloc[0] < 10
    same = warm_start(pd.concat([X, y], axis=1), target="class", n_configs=4, db=db)
    assert same.config_ids == ws.config_ids  # same data, same seed, same suggestions
    est = ws.estimators()[0]
    est.fit(X.iloc[:300], y.iloc[:300])
    assert est.predict(X.iloc[300:310]).shape == (10,)


def test_exports_optuna_syne_tune_smac(db, oboe_features):
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    ws = warm_start(meta_features=oboe_features.iloc[3], n_configs=3, db=db)
    study = optuna.create_study()
    assert ws.to_optuna(study) == 3
    assert ws.to_optuna(study) == 0 and len(study.trials) == 3  # already there: none added
    seen = []

    def objective(trial):
        algo = trial.suggest_categorical("algorithm", sorted(
            {c["algorithm"] for c in db.configs(space="oboe").values()}))
        seen.append((algo, trial.user_attrs["warmnas_config_id"]))
        return 0.0

    study.optimize(objective, n_trials=3)
    assert seen == [(c["algorithm"], cid) for c, cid in zip(ws.configs, ws.config_ids)]
    points = ws.to_syne_tune()
    assert points == ws.configs and points is not ws.configs
    assert ws.to_smac_initial_design() == ws.configs


def test_pmf_warm_start_and_the_loop(db, oboe_features):
    task = oboe_features.index[5]
    perf = db.performance_matrix("balanced_error")
    prior = db.without([task])
    ws = warm_start(meta_features=oboe_features.loc[task], method="pmf", n_configs=5, db=prior,
                    starter_params={"n_latent": 5, "n_iter": 40})
    assert ws.method == "pmf" and len(set(ws.config_ids)) == 5
    calls = []

    def objective(config):
        cid = next(k for k, v in db.configs(space="oboe").items() if v == config)
        calls.append(cid)
        return float(perf.loc[task, cid])

    hist = ws.optimize(objective, budget=6, random_state=0)
    assert hist["config_id"].tolist() == calls and len(calls) == 6
    assert hist["best_so_far"].is_monotonic_decreasing
    n = ws._starter.n_init
    assert hist["config_id"].tolist()[:n] == ws.config_ids[:n]  # the kNN seeds come first


def test_optimize_keeps_the_results_when_the_objective_fails(db, oboe_features):
    ws = warm_start(meta_features=oboe_features.iloc[2], n_configs=3, db=db)
    assert ws.last_search is None
    done = []

    def objective(config):
        if len(done) == 4:
            raise RuntimeError("the training job crashed")
        done.append(config)
        return 0.1 * len(done)

    with pytest.raises(RuntimeError, match="the training job crashed") as info:
        ws.optimize(objective, budget=10)
    notes = " ".join(getattr(info.value, "__notes__", []))
    assert "4 results" in notes and "ws.last_search.history" in notes
    hist = ws.last_search.history
    assert len(hist) == 4 and hist["value"].tolist() == pytest.approx([0.1, 0.2, 0.3, 0.4])
    assert [db.config(c) for c in hist["config_id"]] == done
    with pytest.raises(InputError, match="objective returned None for configuration"):
        ws.optimize(lambda config: None, budget=2)
    assert ws.last_search.n_told == 0
    with pytest.raises(InputError, match="objective returned the str 'bad'"):
        ws.optimize(lambda config: "bad", budget=2)
    full = ws.optimize(lambda config: 0.5, budget=2)
    assert len(full) == 2 and ws.last_search.n_told == 2


def test_estimators_cover_the_oboe_space(db, anneal):
    X, y = anneal
    configs = db.configs(space="oboe")
    algos = {}
    for cfg in configs.values():
        algos.setdefault(cfg["algorithm"], cfg)
    assert set(algos) == {"KNN", "DT", "RF", "GBT", "AB", "lSVM", "kSVM", "Logit", "Perceptron",
                          "GNB", "MLP", "ExtraTrees"}
    for cfg in algos.values():
        clf = estimators(cfg)
        assert hasattr(clf, "fit")
    # nested Oboe form and flat form give the same estimator
    nested = {"algorithm": "RF", "hyperparameters": {"min_samples_split": 4,
                                                     "criterion": "entropy"}}
    flat = {"algorithm": "RF", "RF:min_samples_split": 4, "RF:criterion": "entropy"}
    assert estimators(nested).get_params() == estimators(flat).get_params()
    assert estimators(flat).get_params()["min_samples_split"] == 4
    pipe = estimators({"algorithm": "Logit", "Logit:C": 0.5, "Logit:solver": "liblinear",
                       "Logit:penalty": "l1"}, preprocessing=True)
    pipe.fit(X.iloc[:200], y.iloc[:200])  # raw DataFrame: strings and missing values
    assert pipe.predict(X.iloc[:5]).shape == (5,)
    with pytest.raises(ConfigSpaceError, match="unknown Oboe algorithm 'XGB'"):
        estimators({"algorithm": "XGB"})
    with pytest.raises(ConfigSpaceError, match="does not take hyperparameters \\['depth'\\]"):
        estimators({"algorithm": "DT", "DT:depth": 3})


def test_bad_input_gives_clear_errors(db, oboe_features, anneal, tmp_path):
    feats = oboe_features.iloc[0].to_dict()
    with pytest.raises(UnknownIdError, match="does not know: \\['Colour'\\]"):
        warm_start(meta_features={**feats, "Colour": 1.0}, db=db)
    with pytest.raises(InputError, match="NaN values for \\['ClassEntropy'\\]"):
        warm_start(meta_features={**feats, "ClassEntropy": math.nan}, db=db)
    ok = warm_start(meta_features={**feats, "ClassEntropy": math.nan}, nan_policy="ignore",
                    db=db, n_configs=2)
    assert len(ok) == 2
    with pytest.raises(UnknownIdError, match="metric='auc' is not in the meta-database"):
        warm_start(meta_features=feats, metric="auc", db=db)
    with pytest.raises(InputError, match="n_configs=500 is larger than the configuration space"):
        warm_start(meta_features=feats, n_configs=500, db=db)
    with pytest.raises(InputError, match="n_configs must be a positive int"):
        warm_start(meta_features=feats, n_configs=0, db=db)
    with pytest.raises(InputError, match="method must be one of"):
        warm_start(meta_features=feats, method="bohb", db=db)
    with pytest.raises(InputError, match="target is missing"):
        warm_start(anneal[0], db=db)
    with pytest.raises(InputError, match=r"target='label' is not a column of the DataFrame\. Its "
                                         r"columns: \['family'"):
        warm_start(anneal[0], target="label", db=db)
    with pytest.raises(InputError, match="needs the new task's meta-features"):
        warm_start(db=db)
    with pytest.raises(InputError, match="openml_cache="):
        warm_start("openml:2", db=db)
    empty = warmnas.MetaDatabase(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(InputError, match="meta-database is empty"):
        warm_start(meta_features=feats, db=empty)


def test_db_path_that_does_not_exist_is_not_created(oboe_features, tmp_path, monkeypatch):
    from warmnas.errors import MissingDataError

    monkeypatch.chdir(tmp_path)
    feats = oboe_features.iloc[0]
    for given in ["typo.db", f"sqlite:///{tmp_path / 'typo2.db'}", tmp_path / "typo3.db"]:
        with pytest.raises(MissingDataError, match="db: no meta-database at .*typo.*does not "
                                                   "create one"):
            warm_start(meta_features=feats, db=given)
    assert list(tmp_path.iterdir()) == []  # no empty database file left behind
    # an existing database file given as a pathlib.Path is opened
    path = tmp_path / "mine.db"
    warmnas.MetaDatabase(f"sqlite:///{path}")  # creates an empty warmnas database
    with pytest.raises(InputError, match="meta-database is empty"):
        warm_start(meta_features=feats, db=path)


def test_the_command_suggested_for_a_missing_or_empty_db_exists(oboe_features, tmp_path, capsys):
    # both messages suggested 'warmnas db import-oboe', which is not a command
    from warmnas.cli import main
    from warmnas.errors import MissingDataError

    feats = oboe_features.iloc[0]
    suggestion = r"'warmnas db import oboe OBOE_FOLDER --db URL'"
    with pytest.raises(MissingDataError, match=suggestion):
        warm_start(meta_features=feats, db=tmp_path / "missing.db")
    empty = warmnas.MetaDatabase(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(InputError, match=suggestion):
        warm_start(meta_features=feats, db=empty)
    with pytest.raises(SystemExit) as stop:
        main(["db", "import", "oboe", "--help"])
    assert stop.value.code == 0 and "--db" in capsys.readouterr().out


def test_openml_dataset_from_the_cache(shared_data, db):
    ws = warm_start("openml:2", openml_cache=shared_data / "openml-cache", n_configs=3, db=db)
    assert len(ws) == 3 and ws.meta_features["NumberOfInstances"] == 898
    # the dataset brings its own target: a y or target= given as well would be ignored
    with pytest.raises(InputError, match="'openml:2' brings its own target.*drop y="):
        warm_start("openml:2", [0, 1], openml_cache=shared_data / "openml-cache", db=db)
    with pytest.raises(InputError, match="'openml:2' brings its own target.*drop target="):
        warm_start("openml:2", target="class", openml_cache=shared_data / "openml-cache",
                   db=db)


def test_regression_target_against_a_classification_database(db, anneal):
    X, _ = anneal
    rng = np.random.default_rng(0)
    continuous = pd.Series(rng.normal(size=len(X)))
    with pytest.raises(InputError, match="y looks like a regression target.*database's tasks "
                                         "for metric 'balanced_error' are classification"):
        warm_start(X, continuous, db=db)
    # class labels stored as floats are classification, and portfolio needs no target type
    labels = pd.Series(rng.integers(0, 3, len(X)).astype(float))
    assert len(warm_start(X, labels, db=db, n_configs=2)) == 2
    assert len(warm_start(X, continuous, db=db, method="portfolio", n_configs=2)) == 2


def test_meta_features_and_observed_forms(db, oboe_features):
    from warmnas.errors import InputTypeError

    row = oboe_features.iloc[[0]]
    ref = warm_start(meta_features=row.iloc[0], db=db, n_configs=3)
    # a one-row DataFrame is one task's meta-features
    ws = warm_start(meta_features=row, db=db, n_configs=3)
    assert ws.config_ids == ref.config_ids and isinstance(ws.meta_features, pd.Series)
    with pytest.raises(InputError, match="meta_features must describe one task; got a "
                                         "DataFrame with 2 rows"):
        warm_start(meta_features=oboe_features.iloc[:2], db=db)
    for unnamed in (row.iloc[0].to_numpy(), list(row.iloc[0])):
        with pytest.raises(InputTypeError, match="meta_features must be a mapping name -> "
                                                 "value.*got (ndarray|list).*AUTOSKLEARN_NAMES"):
            warm_start(meta_features=unnamed, db=db)
    with pytest.raises(InputTypeError, match="observed must be a mapping config id -> value, "
                                             "got list"):
        warm_start(meta_features=row.iloc[0], observed=[(ref.config_ids[0], 0.1)], db=db)
    starter = ws._starter
    with pytest.raises(InputTypeError, match="observed must be a mapping config id -> value"):
        starter.suggest(row.iloc[0], 2, observed=[(ref.config_ids[0], 0.1)])


def test_duplicate_column_names_in_a_dataframe(db):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 40)
    X = pd.DataFrame(rng.normal(size=(40, 3)), columns=["a", "a", "b"])
    with pytest.raises(InputError, match="X has duplicate column names \\['a'\\]; rename"):
        warm_start(X, y, db=db)
    with pytest.raises(InputError, match="dataset has duplicate column names \\['a'\\]"):
        warm_start(X.assign(t=y), target="t", db=db)


def test_starter_params_errors_name_the_argument(db, oboe_features):
    feats = oboe_features.iloc[0]
    with pytest.raises(InputError, match="starter_params has \\['n_latnet'\\], which the 'pmf' "
                                         "warm starter does not take; it takes \\[.*'n_latent'"):
        warm_start(meta_features=feats, method="pmf", starter_params={"n_latnet": 5}, db=db)
    fitted = warmnas.warmstart.KNNWarmStarter().fit(
        db.performance_matrix("balanced_error"), db.meta_features("autosklearn"))
    with pytest.raises(InputError, match="starter_params are for a method given by name"):
        warm_start(meta_features=feats, method=fitted, starter_params={"n_neighbors": 3}, db=db)
    assert len(warm_start(meta_features=feats, method=fitted, db=db, n_configs=2)) == 2


def test_unknown_target_column_lists_the_columns_and_close_matches(db, anneal):
    X, y = anneal
    frame = pd.concat([X.iloc[:, :3], y], axis=1)
    with pytest.raises(InputError, match="target='Class' is not a column of the DataFrame; did "
                                         "you mean 'class'\\? Its columns: \\['family', "
                                         "'product-type', 'steel', 'class'\\]\\.$"):
        warm_start(frame, target="Class", db=db)


def test_single_class_target(db, anneal):
    X, _ = anneal
    for y in (np.ones(len(X), dtype=int), pd.Series(["a"] * len(X))):
        with pytest.raises(InputError, match="y has a single class \\(.*\\); there is nothing "
                                             "to classify.*at least two classes"):
            warm_start(X, y, db=db)


def test_y_without_x_and_entirely_missing_array_columns(db, anneal):
    X, y = anneal
    with pytest.raises(InputError, match="y was given without X"):
        warm_start(None, y, db=db)
    # a column with no value at all is left out of the meta-features for arrays too (as for
    # DataFrames), so both forms give the same suggestions
    num = X.select_dtypes("number").iloc[:, :4].to_numpy(dtype=float)
    with_empty = np.c_[num, np.full(len(num), np.nan)]
    frame = pd.DataFrame(with_empty, columns=["a", "b", "c", "d", "e"])
    from_frame = warm_start(frame, y, n_configs=4, db=db)
    from_array = warm_start(with_empty, y, n_configs=4, db=db)
    assert from_array.config_ids == from_frame.config_ids
    pd.testing.assert_series_equal(from_array.meta_features, from_frame.meta_features)
    assert from_array.config_ids == warm_start(num, y, n_configs=4, db=db).config_ids


def test_cli_warm_start_json_and_table(capsys):
    assert main(["warm-start", str(ANNEAL), "--target", "class", "--n-configs", "3",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [c["rank"] for c in out["configs"]] == [1, 2, 3]
    assert out["method"] == "knn" and out["metric"] == "balanced_error"
    assert main(["warm-start", str(ANNEAL), "--target", "class", "--n-configs", "2"]) == 0
    assert "nearest tasks:" in capsys.readouterr().out
    assert main(["warm-start", "missing.csv", "--target", "class"]) == 2
    assert "dataset file not found" in capsys.readouterr().err


def test_cli_task_classification_for_many_integer_labels(tmp_path, capsys):
    """Integer class labels with more than 100 values read as a regression target, refused
    against the classification database; the CLI had no way to say they are classes."""
    rng = np.random.default_rng(0)
    n = 600
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                          "label": np.arange(n) % 150})
    frame.loc[3, "a"] = np.nan
    path = tmp_path / "many.csv"
    frame.to_csv(path, index=False)
    assert main(["warm-start", str(path), "--target", "label", "--n-configs", "2"]) == 2
    err = capsys.readouterr().err
    assert "looks like a regression target" in err and "--task classification" in err
    assert main(["warm-start", str(path), "--target", "label", "--n-configs", "2",
                 "--task", "classification", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["configs"]) == 2
    # the same suggestions as the API with the labels as text
    ws = warm_start(frame.assign(label=frame["label"].astype(str)), target="label", n_configs=2)
    assert [c["config_id"] for c in out["configs"]] == ws.config_ids


# --------------------------------------------------------------------------- NAS spaces
def test_warm_start_nb201_proposes_a_portfolio_and_an_alpha_prior(db):
    ws = warm_start(space="nb201", n_configs=3, db=db)
    assert ws.method == "portfolio" and ws.space == "nb201"
    assert ws.metric == "test_accuracy" and ws.direction == "maximize"
    assert all(c["arch"].startswith("|") for c in ws.configs)
    # independent check of the first pick: the architecture with the lowest mean range-normalised
    # regret over the stored NB201 datasets
    perf = db.performance_matrix("test_accuracy", space="nb201").dropna(axis=1, how="all")
    best, worst = perf.max(axis=1), perf.min(axis=1)
    regret = perf.rsub(best, axis=0).div(best - worst, axis=0).fillna(1.0).mean(axis=0)
    assert ws.config_ids[0] == regret.idxmin()
    prior = ws.alpha_prior
    assert set(prior) == {"cell"} and tuple(prior["cell"].shape) == (6, 5)
    # no image meta-features are stored, so the prior mixes all NB201 records equally: its op
    # distribution is the mean of the records' softmaxes
    records = db.nas_records(space="nb201")
    mean = np.mean([torch_softmax(np.asarray(r.alpha["cell"], dtype=float)) for r in records],
                   axis=0)
    np.testing.assert_allclose(torch_softmax(prior["cell"].double().numpy()), mean, atol=1e-5)


def torch_softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_warm_start_darts_uses_the_stored_darts_records(tmp_path, db):
    store = warmnas.MetaDatabase(f"sqlite:///{tmp_path / 'nas.db'}")
    rng = np.random.default_rng(0)
    alpha = {"normal": rng.normal(size=(14, 8)), "reduce": rng.normal(size=(14, 8))}
    genotype = {"normal": [["sep_conv_3x3", 0]] * 8, "normal_concat": [2, 3, 4, 5],
                "reduce": [["max_pool_3x3", 1]] * 8, "reduce_concat": [2, 3, 4, 5]}
    store.add_nas_record("img/cifar10", "darts", genotype, alpha, create_task=True)
    ws = warm_start(space="darts", db=store)
    # the database has architectures of no evaluation matrix: the warm start is the prior alone
    assert ws.method == "alpha-prior" and ws.configs == [] and len(ws.to_frame()) == 0
    for key in ("normal", "reduce"):
        np.testing.assert_allclose(torch_softmax(ws.alpha_prior[key].double().numpy()),
                                   torch_softmax(alpha[key]), atol=1e-5)
    # without DARTS records the prior is uniform (zero logits), with a warning in the log
    empty = warm_start(space="darts", db=db)
    assert all(float(v.abs().max()) == 0.0 for v in empty.alpha_prior.values())


def test_warm_start_nas_hook_and_bad_method(db):
    calls = []

    def hook(database, neighbors, meta_features):
        calls.append((database, neighbors, meta_features))
        return {"cell": "mine"}

    ws = warm_start(space="nb201", n_configs=2, db=db, alpha_prior_hook=hook,
                    meta_features={"n_classes": 10.0})
    assert ws.alpha_prior == {"cell": "mine"}
    assert calls[0][0] is db and calls[0][1] is None
    assert calls[0][2].to_dict() == {"n_classes": 10.0}
    with pytest.raises(InputError, match="method 'knn' compares tabular meta-features"):
        warm_start(space="nb201", method="knn", db=db)
    with pytest.raises(InputError, match="n_configs=20000 is larger than the configuration space"):
        warm_start(space="nb201", n_configs=20000, db=db)


def test_task_types_as_the_importers_spell_them():
    """auto-sklearn / TabRepo imports store 'binary' and 'multiclass', OpenML caches 'Supervised
    Classification': a classification y against those tasks was refused as if they were of
    another type ('... tasks for metric 'balanced_error' are binary / regression tasks')."""
    from warmnas.api import _check_task_type
    from warmnas.metadb import MetaDatabase
    from warmnas.space import ConfigSpace, Integer

    space = ConfigSpace("tiny", [Integer("k", 1, 9)])
    mem = MetaDatabase("sqlite://")
    mem.add_tasks([{"task": "bin", "task_type": "binary"},
                   {"task": "oml", "task_type": "Supervised Classification"},
                   {"task": "reg", "task_type": "Supervised Regression"},
                   {"task": "img", "task_type": "image"}])
    rows = [{"task": t, "config": {"k": 1}, "value": 0.2} for t in ("bin", "oml", "img")]
    mem.add_evaluations(rows, metric="balanced_error", direction="minimize", space=space)
    mem.add_evaluations([{"task": "reg", "config": {"k": 1}, "value": 3.0}], metric="rmse",
                        direction="minimize", space=space)
    labels = np.arange(40) % 2
    continuous = np.linspace(0.0, 1.0, 40)
    _check_task_type(labels, mem, mem.performance_matrix("balanced_error"), "balanced_error")
    _check_task_type(continuous, mem, mem.performance_matrix("rmse"), "rmse")
    with pytest.raises(InputError, match=r"y looks like a regression target, but the meta-database's "
                                         r"tasks for metric 'balanced_error' are Supervised "
                                         r"Classification / binary tasks"):
        _check_task_type(continuous, mem, mem.performance_matrix("balanced_error"), "balanced_error")
    with pytest.raises(InputError, match=r"y looks like a classification target.* for metric "
                                         r"'rmse' are Supervised Regression tasks"):
        _check_task_type(labels, mem, mem.performance_matrix("rmse"), "rmse")
    with pytest.raises(InputError, match=r"y has a single class"):
        _check_task_type(np.zeros(40, dtype=int), mem, mem.performance_matrix("balanced_error"),
                         "balanced_error")


def test_computed_meta_features_are_restricted_to_the_databases_names(anneal):
    """A database may hold fewer auto-sklearn meta-features than warm_start computes (auto-sklearn's
    own meta-data: 37 of 46, no landmarkers or PCA). warm_start(X, y) failed on such a database
    with 'meta_features has names the meta-database does not know'; the extra computed names
    are left out of the distance. User-given unknown names stay an error."""
    from warmnas.metadb import MetaDatabase
    from warmnas.space import ConfigSpace, Integer

    names = ["ClassEntropy", "NumberOfClasses", "LogNumberOfInstances", "LogNumberOfFeatures",
             "PercentageOfMissingValues"]
    rng = np.random.default_rng(0)
    tasks = [f"t{i}" for i in range(8)]
    mem = MetaDatabase("sqlite://")
    space = ConfigSpace("tiny", [Integer("k", 1, 9)])
    rows = [{"task": t, "config": {"k": k}, "value": float(rng.uniform())}
            for t in tasks for k in range(1, 6)]
    mem.add_evaluations(rows, metric="balanced_error", direction="minimize", space=space,
                        create_tasks=True)
    mem.add_meta_features(pd.DataFrame(rng.uniform(size=(8, len(names))), index=tasks,
                                       columns=names), view="autosklearn")
    X, y = anneal
    ws = warm_start(X, y, db=mem, n_configs=3)
    assert set(ws.meta_features.index) <= set(names)
    assert len(ws.meta_features) >= 4  # PercentageOfMissingValues etc. are defined for anneal
    # the same suggestions as from those meta-features given directly
    again = warm_start(meta_features=ws.meta_features, db=mem, n_configs=3)
    assert again.config_ids == ws.config_ids
    with pytest.raises(UnknownIdError, match=r"names the meta-database does not know"):
        warm_start(meta_features={**ws.meta_features.to_dict(), "Landmark1NN": 0.5}, db=mem,
                   n_configs=3)


# ------------------------------------------------------------------ the PMF cache (embedded db)
@pytest.fixture
def pmf_fits(monkeypatch):
    """Counts PMF fits; each runs 5 Adam steps instead of the default (cache logic only)."""
    from warmnas.warmstart.pmf import PMFWarmStarter

    calls: list[int] = []
    original = PMFWarmStarter._fit

    def quick(self):
        calls.append(1)
        saved, self.n_iter = self.n_iter, 5
        try:
            original(self)
        finally:
            self.n_iter = saved

    monkeypatch.setattr(PMFWarmStarter, "_fit", quick)
    return calls


def _entries(tmp_path) -> list[Path]:
    folder = tmp_path / "cache" / "warmstart"
    return sorted(folder.glob("*.npz")) if folder.exists() else []


def _pmf(feats, **kw):
    return warm_start(meta_features=feats, nan_policy="ignore", method="pmf", n_configs=6, **kw)


def test_pmf_cache_hit_gives_the_configs_of_a_fresh_fit(oboe_features, tmp_path, monkeypatch):
    """Real default fits: fresh (cache=False), cache miss (fit + save), cache hit (no fit)."""
    from warmnas.warmstart.pmf import PMFWarmStarter

    feats = oboe_features.iloc[7].dropna()
    fresh = _pmf(feats, cache=False)
    assert _entries(tmp_path) == []
    miss = _pmf(feats)
    assert len(_entries(tmp_path)) == 1
    fits: list[int] = []
    original = PMFWarmStarter._fit
    monkeypatch.setattr(PMFWarmStarter, "_fit", lambda self: (fits.append(1), original(self)))
    hit = _pmf(feats)
    assert fits == []
    for ws in (miss, hit):
        assert ws.config_ids == fresh.config_ids and ws.configs == fresh.configs
        np.testing.assert_allclose(ws.scores, fresh.scores, rtol=0, atol=1e-12)
        np.testing.assert_allclose(ws.stddev, fresh.stddev, rtol=0, atol=1e-12)


def test_pmf_cache_miss_then_hit(oboe_features, tmp_path, pmf_fits, caplog):
    feats = oboe_features.iloc[3].dropna()
    first = _pmf(feats)
    assert pmf_fits == [1] and len(_entries(tmp_path)) == 1
    with caplog.at_level("INFO", logger="warmnas.api"):
        second = _pmf(feats)
    assert pmf_fits == [1]
    assert "loaded from the cache" in caplog.text
    assert second.config_ids == first.config_ids
    np.testing.assert_allclose(second.scores, first.scores, rtol=0, atol=1e-12)


def test_pmf_cache_is_off_with_cache_false_views_and_params(db, oboe_features, tmp_path,
                                                            pmf_fits):
    feats = oboe_features.iloc[3].dropna()
    _pmf(feats, cache=False)
    _pmf(feats, starter_params={"n_latent": 4})
    _pmf(feats, db=db.without([oboe_features.index[0]]))
    assert pmf_fits == [1, 1, 1] and _entries(tmp_path) == []
    _pmf(feats, cache=False)
    assert pmf_fits == [1, 1, 1, 1]


def test_pmf_cache_corrupt_entry_is_refitted_and_replaced(oboe_features, tmp_path, pmf_fits,
                                                          caplog):
    from warmnas.warmstart import WarmStarter

    feats = oboe_features.iloc[3].dropna()
    first = _pmf(feats)
    (entry,) = _entries(tmp_path)
    entry.write_bytes(entry.read_bytes()[:1000])  # truncated
    with caplog.at_level("WARNING", logger="warmnas.api"):
        again = _pmf(feats)
    assert "unusable" in caplog.text and str(entry) in caplog.text
    assert pmf_fits == [1, 1] and again.config_ids == first.config_ids
    assert WarmStarter.load(entry).name == "pmf"  # replaced by a good entry
    caplog.clear()
    _pmf(feats)
    assert pmf_fits == [1, 1] and "unusable" not in caplog.text


def test_pmf_cache_entry_of_other_data_is_refitted(oboe_features, tmp_path, pmf_fits, caplog):
    from warmnas.warmstart import PortfolioWarmStarter

    feats = oboe_features.iloc[3].dropna()
    _pmf(feats)
    (entry,) = _entries(tmp_path)
    perf = pd.DataFrame(np.arange(6.0).reshape(2, 3), index=["a", "b"], columns=["x", "y", "z"])
    PortfolioWarmStarter().fit(perf).save(entry)  # a valid file, but not this PMF
    with caplog.at_level("WARNING", logger="warmnas.api"):
        _pmf(feats)
    assert "unusable" in caplog.text and pmf_fits == [1, 1]


def test_pmf_cache_unwritable_folder_only_logs(oboe_features, tmp_path, monkeypatch, pmf_fits,
                                               caplog):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("WARMNAS_CACHE_DIR", str(blocker / "cache"))
    feats = oboe_features.iloc[3].dropna()
    with caplog.at_level("INFO", logger="warmnas.api"):
        ws = _pmf(feats)
    assert len(ws.config_ids) == 6 and "could not cache" in caplog.text
    _pmf(feats)
    assert pmf_fits == [1, 1] and blocker.read_text() == "not a folder"


def test_cache_folder_default(monkeypatch, tmp_path):
    import sys

    from warmnas.api import _cache_dir
    from warmnas.nas.data import default_cache_dir

    monkeypatch.setenv("WARMNAS_CACHE_DIR", str(tmp_path / "env"))
    assert _cache_dir() == tmp_path / "env" == default_cache_dir()
    monkeypatch.delenv("WARMNAS_CACHE_DIR")
    if sys.platform.startswith("linux"):
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
        assert _cache_dir() == tmp_path / "xdg" / "warmnas" == default_cache_dir()
        monkeypatch.delenv("XDG_CACHE_HOME")
        monkeypatch.setenv("HOME", str(tmp_path / "home"))
        assert _cache_dir() == tmp_path / "home" / ".cache" / "warmnas"


def test_cli_no_cache(tmp_path, pmf_fits, capsys):
    """`warmnas warm-start --method pmf` uses the PMF cache; `--no-cache` fits afresh and
    writes nothing there."""
    args = ["warm-start", str(ANNEAL), "--target", "class", "--method", "pmf", "--n-configs",
            "2", "--json"]
    assert main([*args, "--no-cache"]) == 0
    fresh = json.loads(capsys.readouterr().out)
    assert pmf_fits == [1] and _entries(tmp_path) == []
    cached = []
    for _ in range(2):  # a miss (fits, stores), then a hit (loads)
        assert main(args) == 0
        cached.append(json.loads(capsys.readouterr().out))
    assert pmf_fits == [1, 1] and len(_entries(tmp_path)) == 1
    assert [c["configs"] for c in cached] == [fresh["configs"]] * 2


def test_pmf_cache_keeps_the_newest_entries_only(oboe_features, tmp_path, pmf_fits):
    """Old entries (another database file, version or format) are pruned after a new save;
    a used entry counts as new; files that are not PMF entries are never touched."""
    import os

    from warmnas.api import _PMF_CACHE_KEEP

    folder = tmp_path / "cache" / "warmstart"
    folder.mkdir(parents=True)
    old = []
    for i in range(_PMF_CACHE_KEEP + 2):
        f = folder / f"pmf-{i:032x}.npz"
        f.write_bytes(b"old entry")
        os.utime(f, (1_000_000 + i, 1_000_000 + i))
        old.append(f)
    other = folder / "notes.txt"
    other.write_text("mine")
    os.utime(other, (1, 1))
    feats = oboe_features.iloc[3].dropna()
    _pmf(feats)
    entries = _entries(tmp_path)
    assert len(entries) == _PMF_CACHE_KEEP and other.read_text() == "mine"
    newest_old = old[-(_PMF_CACHE_KEEP - 1):]
    assert set(entries) - set(newest_old) != set() and set(newest_old) <= set(entries)
    (new,) = set(entries) - set(newest_old)
    # a hit refreshes the entry's time, so the next prune keeps it
    os.utime(new, (2_000_000, 2_000_000))
    _pmf(feats)
    assert new.stat().st_mtime > 2_000_000 and pmf_fits == [1]


def test_arguments_are_named_in_errors_before_any_meta_feature_is_computed(oboe_features):
    from warmnas.errors import InputTypeError

    X = np.arange(40.0).reshape(20, 2)
    y = np.arange(20) % 2
    # target= names a DataFrame column: with an array it was silently ignored (with y) or
    # reported as "the target is missing" (without)
    for args in ((X, y), (X,)):
        with pytest.raises(InputError, match=r"target='a' names a column of a DataFrame "
                                             r"dataset, but dataset is a ndarray"):
            warm_start(*args, target="a")
    query = oboe_features.iloc[0].dropna()
    cid = warmnas.MetaDatabase.default().performance_matrix("balanced_error").columns[0]
    for bad in ("a", None, [0.1], float("inf")):
        with pytest.raises(InputError, match=rf"observed\['{cid}'\] must be a finite number "
                                             rf"\(or NaN for a failed run\), got "):
            warm_start(meta_features=query, observed={cid: bad})
    # random_state is checked before the (costly) meta-features, as warmnas' own error
    with pytest.raises(InputTypeError, match="random_state must be None, a non-negative int"):
        warm_start(X, y, random_state="a")
    with pytest.raises(InputTypeError, match="random_state must be a non-negative int"):
        warm_start(X, y, random_state=-1)


def test_estimators_of_another_space_name_the_space():
    """ws.estimators() builds Oboe pipelines; with a database of another space the error spoke
    of a missing 'algorithm' key and Oboe's format, not of the space."""
    from warmnas.errors import ConfigSpaceError
    from warmnas.metadb import MetaDatabase
    from warmnas.space import ConfigSpace, Integer

    space = ConfigSpace("tiny", [Integer("k", 1, 9)])
    mem = MetaDatabase("sqlite://")
    mem.add_tasks([{"task": f"t{i}"} for i in range(3)])
    mem.add_evaluations([{"task": f"t{i}", "config": {"k": k}, "value": 0.1 * (i + k)}
                         for i in range(3) for k in (1, 2)],
                        metric="balanced_error", space=space)
    ws = warm_start(method="portfolio", db=mem, n_configs=2)
    assert ws.space == "tiny"
    with pytest.raises(ConfigSpaceError, match=r"estimators\(\) builds the scikit-learn "
                                               r"pipelines of the Oboe space; these "
                                               r"configurations are of space 'tiny'"):
        ws.estimators()


def test_warm_start_never_changes_the_database_it_reads(tmp_path):
    """warm_start only reads db: opened writable, a SQLite file was switched to WAL (its bytes
    changed, -wal/-shm files appeared) and an older schema would have been upgraded in place."""
    import hashlib
    import shutil
    import sqlite3

    from warmnas.metadb.database import _default_path

    path = tmp_path / "copy.db"
    shutil.copy(_default_path(), path)
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    for db in (path, str(path), f"sqlite:///{path}"):
        ws = warm_start(meta_features={"ClassEntropy": 1.0}, db=db, n_configs=2)
        assert len(ws) == 2
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.db"]


def test_warm_start_does_not_create_tables_in_an_empty_server_database(pg_url):
    import sqlalchemy as sa

    from warmnas.errors import CorruptDatabaseError

    with pytest.raises(CorruptDatabaseError, match=r"holds no meta-database.*warm_start opens "
                                                   r"db read-only and never creates or "
                                                   r"changes one"):
        warm_start(meta_features={"ClassEntropy": 1.0}, db=pg_url)
    engine = sa.create_engine(pg_url)
    try:
        with engine.connect() as conn:
            assert sa.inspect(conn).get_table_names() == []
    finally:
        engine.dispose()


def test_the_write_back_loop_of_docs_warmstart(tmp_path, anneal):
    """docs/warmstart.md, 'Writing results back': the task written into a copy of the embedded
    database, with what warm_start computed and what the search measured, is the nearest
    neighbour of the next warm start on the same data, and its best result comes first."""
    import shutil

    from warmnas import MetaDatabase
    from warmnas.metadb.database import _default_path

    X, y = anneal
    # the docs copy with MetaDatabase(url).copy_from(MetaDatabase.default()); a file copy is
    # the same database, 10x faster
    shutil.copy(_default_path(), tmp_path / "mine.db")
    db = MetaDatabase(f"sqlite:///{tmp_path / 'mine.db'}")
    ws = warm_start(X, y, db=db, n_configs=3)
    history = ws.start(random_state=0)
    for value in (0.30, 0.05, 0.20):
        history.tell(history.ask(), value)
    db.add_task("mylab/anneal", name="anneal", task_type="classification",
                meta_features=ws.meta_features, view="autosklearn")
    db.add_evaluations(history.history[["config_id", "value"]].assign(task="mylab/anneal"),
                       metric=ws.metric, source="my-notebook")
    again = warm_start(X, y, db=db, n_configs=3)
    assert again.neighbors.index[0] == "mylab/anneal"
    assert again.neighbors.iloc[0] == pytest.approx(0.0)
    best = history.history.sort_values("value")["config_id"].iloc[0]
    assert again.config_ids[0] == best


def test_an_alpha_prior_only_warm_start_says_what_to_do_with_it():
    """warm_start(space='darts') on a database without evaluated DARTS architectures holds only
    the alpha prior; ws.start() said 'no warm starter attached; call warm_start()', which the
    user had just done."""
    ws = warm_start(space="darts", alpha_prior_hook=lambda db, neighbors, query: {"normal": 0})
    assert ws.method == "alpha-prior" and len(ws) == 0
    with pytest.raises(InputError, match=r"only an architecture-weight prior.*no evaluated "
                                         r"architecture of space 'darts'.*"
                                         r"DARTSSearch\(init_alpha=ws\.alpha_prior"):
        ws.start()


def test_a_fitted_user_starter_that_needs_meta_features_gets_them(db, oboe_features, anneal):
    """warm_start decided by the method's name ('knn' / 'pmf') whether to compute the dataset's
    meta-features: a user's subclass under another name got none and failed."""
    from warmnas.warmstart import KNNWarmStarter

    class Nearest(KNNWarmStarter):
        name = "nearest"

    perf = db.performance_matrix("balanced_error").dropna(how="all").dropna(axis=1, how="all")
    X, y = anneal
    mine = warm_start(X, y, method=Nearest(n_neighbors=1).fit(perf, oboe_features), n_configs=3)
    ref = warm_start(X, y, method=KNNWarmStarter(n_neighbors=1).fit(perf, oboe_features),
                     n_configs=3)
    assert mine.method == "nearest" and mine.config_ids == ref.config_ids
    assert mine.neighbors.index.tolist() == ref.neighbors.index.tolist()


def test_a_fitted_starter_with_meta_features_is_given_the_datasets(db, oboe_features, anneal):
    """A starter fitted with meta-features that can do without them (PMF, or a user's) was
    given none under a name other than 'pmf' (it then ran as if no data had been passed)."""
    from warmnas.warmstart import RandomSearch

    seen = []

    class Spy(RandomSearch):
        name = "spy"

        def _context(self, query, nan_policy):
            seen.append(query)
            return super()._context(query, nan_policy)

    perf = db.performance_matrix("balanced_error").dropna(how="all").dropna(axis=1, how="all")
    X, y = anneal
    warm_start(X, y, method=Spy().fit(perf, oboe_features), n_configs=2)
    assert seen[-1] is not None and "ClassEntropy" in seen[-1].index
    warm_start(method=Spy().fit(perf, oboe_features), n_configs=2)  # no data: still fine
    assert seen[-1] is None
