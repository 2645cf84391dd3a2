"""TabRepo, ASlib, auto-sklearn, NAS-Bench-201 and FBNet importers against the raw files."""

from __future__ import annotations

import json

import arff
import numpy as np
import pandas as pd
import pytest

from warmnas.errors import InputError, MissingDataError
from warmnas.metadb import MetaDatabase
from warmnas.metadb.importers import (
    FBNET_OPS,
    import_aslib,
    import_autosklearn,
    import_fbnet,
    import_nb201,
    import_nb201_nas_records,
    import_tabrepo,
    load_pt,
    nb201_alpha_from_arch,
)
from warmnas.space import NB201_OPS, GenericSpace, tabrepo_lightgbm_space

pytestmark = pytest.mark.shared_data


@pytest.fixture
def sdb(tmp_path):
    db = MetaDatabase(tmp_path / "m.db")
    yield db
    db.dispose()


def test_tabrepo(sdb, shared_data):
    folder = shared_data / "tabrepo-lightgbm"
    report = import_tabrepo(sdb, folder)
    res = pd.read_csv(folder / "results_ranked_by_dataset_valid.csv")
    assert (report.tasks, report.configs, report.evaluations) == (78, 104, len(res)) == (78, 104, 8112)
    raw = json.loads((folder / "configs_lightgbm.json").read_text())
    sp = tabrepo_lightgbm_space()
    ids = {n: sp.config_id({k: v for k, v in e["hyperparameters"].items() if k != "ag_args"})
           for n, e in raw.items()}
    for ptype, metric in (("binary", "auc_error"), ("multiclass", "log_loss"), ("regression", "rmse")):
        part = res[res["problem_type"] == ptype]
        want = part.pivot(index="dataset", columns="framework", values="metric_error")
        got = sdb.performance_matrix(metric)
        assert got.shape == want.shape
        want.index = [f"openml/t/{t}" for t in want.index]
        want.columns = [ids[c] for c in want.columns]
        pd.testing.assert_frame_equal(got.loc[want.index, want.columns], want, check_names=False)
    cost = sdb.performance_matrix("rmse", field="cost_s")
    lat = sdb.performance_matrix("rmse", field="latency_ms")
    row = res[res["problem_type"] == "regression"].iloc[0]
    t, c = f"openml/t/{row['dataset']}", ids[row["framework"]]
    assert cost.loc[t, c] == row["time_train_s"] and lat.loc[t, c] == row["time_infer_s"] * 1000
    tasks = sdb.tasks()
    assert tasks.loc["openml/t/2", "openml_dataset_id"] == 2 if "openml/t/2" in tasks.index else True
    assert set(tasks["task_type"]) == {"binary", "multiclass", "regression"}
    assert sdb.config(ids["LightGBM_c2"]) == {"extra_trees": True}


def test_aslib_openml_weka(sdb, shared_data):
    folder = shared_data / "aslib-openml-weka-2017"
    report = import_aslib(sdb, folder)
    runs = arff.load(open(folder / "algorithm_runs.arff"))
    frame = pd.DataFrame(runs["data"], columns=[a[0] for a in runs["attributes"]])
    assert report.tasks == 105 and report.configs == 30 and report.evaluations == len(frame) == 3150
    m = sdb.performance_matrix("predictive_accuracy")
    assert m.shape == (105, 30) and m.notna().all().all()
    assert sdb.metric_direction("predictive_accuracy") == "maximize"
    sp = GenericSpace("aslib/OPENML-WEKA-2017")
    first = frame.iloc[0]
    assert m.loc[f"openml/t/{first['instance_id']}", sp.config_id({"algorithm": first["algorithm"]})] \
        == first["predictive_accuracy"]
    feats = arff.load(open(folder / "feature_values.arff"))
    ff = pd.DataFrame(feats["data"], columns=[a[0] for a in feats["attributes"]])
    mf = sdb.meta_features("openml")
    assert mf.shape == (len(ff), len(ff.columns) - 2)
    want = pd.to_numeric(ff.set_index("instance_id")["MeanAttributeEntropy"]).astype(float)
    got = mf["MeanAttributeEntropy"]
    np.testing.assert_array_equal(got.loc[[f"openml/t/{i}" for i in want.index]].to_numpy(), want.to_numpy())
    assert sdb.tasks().loc[f"openml/t/{first['instance_id']}", "openml_task_id"] == int(first["instance_id"])


def test_autosklearn(sdb, shared_data):
    folder = shared_data / "autosklearn-metadata"
    report = import_autosklearn(sdb, folder)
    assert report.evaluations == 934 and report.meta_features > 0
    sub = folder / "balanced_accuracy_multiclass.classification_dense"
    runs = arff.load(open(sub / "algorithm_runs.arff"))
    first = runs["data"][0]  # ['twonorm', 1.0, '1', 0.0156..., 'ok']
    cfgs = pd.read_csv(sub / "configurations.csv", dtype=str, keep_default_na=False)
    row = cfgs[cfgs["idx"] == str(first[2])].iloc[0]
    m = sdb.performance_matrix("balanced_error")
    top = sdb.top_k(f"autosklearn/{first[0]}", "balanced_error", k=1)
    assert top["value"].iloc[0] == first[3]
    cfg = top["config"].iloc[0]
    assert cfg["classifier:__choice__"] == row["classifier:__choice__"]
    assert all(k in row.index and row[k] != "" for k in cfg)
    assert m.shape[0] == len({r[0] for r in runs["data"]}) and m.notna().sum().sum() == len(runs["data"])
    assert set(sdb.metrics()) == {"balanced_error", "error", "log_loss", "auc_error", "r2_loss", "rmse"}
    mf = sdb.meta_features("autosklearn")
    assert "ClassEntropy" in mf.columns and "autosklearn/twonorm" in mf.index
    with pytest.raises(MissingDataError, match="no auto-sklearn metric folders"):
        import_autosklearn(sdb, shared_data / "oboe")


def test_nb201_accuracies_latencies_and_records(sdb, shared_data):
    folder = shared_data / "nasbench201"
    report = import_nb201(sdb, folder, devices=["pixel2", "titanx_1"], show_progress=False)
    assert (report.tasks, report.configs, report.evaluations) == (3, 15625, 3 * 15625 + 2 * 15625)
    table = pd.read_csv(folder / "nats_bench.csv")
    acc = sdb.performance_matrix("test_accuracy")
    assert acc.shape == (3, 15625)
    np.testing.assert_array_equal(acc.loc["nb201/cifar100"].to_numpy(),
                                  table["CIFAR100TestAccuracy200Epochs"].to_numpy())
    lat = sdb.performance_matrix("latency_ms", device="pixel2")
    assert lat.shape == (1, 15625) and list(lat.index) == ["nb201/cifar100"]
    np.testing.assert_array_equal(lat.to_numpy()[0], np.asarray(load_pt(folder / "latency" / "pixel2.pt")))
    arch0 = table["ArchitectureString"].iloc[0]
    assert sdb.config(acc.columns[0]) == {"arch": arch0}
    rep = import_nb201_nas_records(sdb, folder, k=3)
    assert rep.nas_records == 9
    best = sdb.nas_records(task="nb201/cifar10")
    assert [r.meta["rank"] for r in best] == [1, 2, 3]
    assert best[0].meta["test_accuracy"] == table["CIFAR10TestAccuracy200Epochs"].max()
    probs = np.exp(best[0].alpha["cell"])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    assert np.all(probs.max(axis=1) == pytest.approx(0.9))


def test_nb201_alpha_from_arch():
    arch = "|nor_conv_3x3~0|+|skip_connect~0|none~1|+|avg_pool_3x3~0|nor_conv_1x1~1|nor_conv_3x3~2|"
    logits = nb201_alpha_from_arch(arch, confidence=0.6)["cell"]
    assert logits.shape == (6, 5)
    assert [NB201_OPS[i] for i in logits.argmax(axis=1)] == [
        "nor_conv_3x3", "skip_connect", "none", "avg_pool_3x3", "nor_conv_1x1", "nor_conv_3x3"]
    with pytest.raises(InputError, match=r"confidence must be in \(0, 1\)"):
        nb201_alpha_from_arch(arch, confidence=1.0)


def test_fbnet(sdb, shared_data):
    folder = shared_data / "fbnet"
    report = import_fbnet(sdb, folder, devices=["raspi4"])
    archs = load_pt(folder / "arch.pt")
    lat = np.asarray(load_pt(folder / "latency" / "raspi4.pt"), dtype=float)
    m = sdb.performance_matrix("latency_ms", device="raspi4")
    assert report.tasks == 1 and list(m.index) == ["fbnet/cifar100"]
    sp = GenericSpace("fbnet", required=("ops",))
    cid = sp.config_id({"ops": [FBNET_OPS[o] for o in archs[0]]})
    assert m.loc["fbnet/cifar100", cid] == lat[0]
    assert sdb.config(cid)["ops"][0] == "k5_e6"  # HELP's metainfo: arch 0 starts with k5_e6


def test_load_pt_refuses_objects(tmp_path):
    import pickle
    import zipfile

    path = tmp_path / "x.pt"
    with zipfile.ZipFile(path, "w") as z:  # a pickle that would call os.getcwd when loaded
        z.writestr("archive/data.pkl", pickle.dumps({"a": __import__("os").getcwd}))
    with pytest.raises(InputError, match="only plain lists/dicts are read"):
        load_pt(path)
    (tmp_path / "y.pt").write_bytes(b"not a zip")
    with pytest.raises(InputError, match="not a torch zip archive"):
        load_pt(tmp_path / "y.pt")
