"""``warmnas hardware ...`` and ``warmnas nas constrained-search``."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from warmnas.cli import main


def test_measure_and_predict_cli(tmp_path, capsys) -> None:
    out = tmp_path / "nb201.json"
    rc = main(["hardware", "measure", "--space", "nb201", "--out", str(out), "--C", "4",
               "--layers", "1", "--input-size", "8", "--rounds", "2", "--warmup", "1",
               "--calibration", "3", "--json"])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["entries"] == 15 and summary["clock"] == "thread" and out.is_file()
    rc = main(["hardware", "predict", "--table", str(out), "--arch",
               "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"])
    assert rc == 0 and float(capsys.readouterr().out) > 0
    rc = main(["hardware", "predict", "--table", str(out), "--json", "--arch",
               "|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"])
    assert rc == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["latency_ms"] > 0 and printed["space"] == "nb201"
    assert printed["table"] == str(out) and printed["device"] == summary["device"]
    rc = main(["hardware", "predict", "--table", str(out), "--arch", "|bad|"])
    assert rc == 2 and "malformed NB201 arch string" in capsys.readouterr().err
    rc = main(["hardware", "predict", "--table", str(tmp_path / "none.json"), "--arch", "x"])
    assert rc == 2 and "not found" in capsys.readouterr().err


@pytest.mark.shared_data
def test_constrained_search_cli(shared_data, nb201_table, tmp_path, capsys) -> None:
    lat_file = shared_data / "nasbench201" / "latency" / "pixel3.pt"
    png = tmp_path / "front.png"
    rc = main(["nas", "constrained-search", "--benchmark", "nb201", "--dataset", "cifar10",
               "--latency-file", str(lat_file), "--max-latency", "8", "--budget", "100",
               "--seed", "0", "--json", "--data-dir", str(shared_data), "--plot", str(png)])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert {"arch", "index", "accuracy", "latency", "queries"} <= set(out)
    assert out["latency"] <= 8 and out["queries"] <= 100 and out["violations"] == 0
    assert nb201_table.archs[out["index"]] == out["arch"]
    assert out["accuracy"] == nb201_table.accuracies["cifar10"][out["index"]]
    assert png.read_bytes()[:4] == b"\x89PNG"
    rc = main(["nas", "constrained-search", "--latency-file", str(lat_file), "--max-latency",
               "0.001", "--data-dir", str(shared_data)])
    assert rc == 2 and "no architecture has latency <= 0.001" in capsys.readouterr().err
    rc = main(["nas", "constrained-search", "--latency-file", str(tmp_path / "x.pt"),
               "--max-latency", "5", "--data-dir", str(shared_data)])
    assert rc == 2 and "not found" in capsys.readouterr().err


@pytest.mark.shared_data
def test_fit_latency_cli(shared_data, nb201_latency, tmp_path, capsys) -> None:
    # hold out gold_6226: the other 19 devices are the reference, 10 samples are "measured"
    ref = tmp_path / "ref"
    ref.mkdir()
    src = shared_data / "nasbench201" / "latency"
    for f in src.glob("*.pt"):
        if f.stem != "gold_6226":
            (ref / f.name).symlink_to(f)
    truth = nb201_latency["tables"]["gold_6226"].latencies
    idx = np.random.default_rng(0).choice(15625, 10, replace=False)
    samples = tmp_path / "samples.json"
    samples.write_text(json.dumps({str(i): float(truth[i]) for i in idx}))
    out = tmp_path / "pred.csv"
    rc = main(["hardware", "fit-latency", "--benchmark", "nb201", "--samples", str(samples),
               "--reference-dir", str(ref), "--out", str(out), "--data-dir", str(shared_data),
               "--json"])
    assert rc == 0
    assert json.loads(capsys.readouterr().out) == {
        "out": str(out), "predictions": 15625, "method": "ensemble", "reference_devices": 19,
        "samples": 10}
    with open(out) as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["index", "latency_ms"] and len(rows) == 15625
    pred = np.array([float(r["latency_ms"]) for r in rows])
    from scipy.stats import spearmanr

    assert spearmanr(pred, truth)[0] > 0.9
    samples.write_text(json.dumps({"abc": 1.0}))
    rc = main(["hardware", "fit-latency", "--samples", str(samples), "--reference-dir", str(ref),
               "--out", str(tmp_path / "p2.csv")])
    assert rc == 2 and "not an architecture index" in capsys.readouterr().err
    samples.write_text(json.dumps({"1": -3}))
    rc = main(["hardware", "fit-latency", "--samples", str(samples), "--reference-dir", str(ref),
               "--out", str(tmp_path / "p2.csv")])
    assert rc == 2 and "positive number of ms" in capsys.readouterr().err
    rc = main(["hardware", "fit-latency", "--samples", str(samples), "--reference-dir",
               str(tmp_path), "--out", str(tmp_path / "p2.csv")])
    assert rc == 2 and "no .pt latency files" in capsys.readouterr().err
    assert not (tmp_path / "p2.csv").exists()


@pytest.mark.shared_data
def test_devices_cli(shared_data, capsys) -> None:
    assert main(["hardware", "devices", "--benchmark", "fbnet", "--data-dir", str(shared_data), "--json"]) == 0
    devices = json.loads(capsys.readouterr().out)
    assert len(devices) == 20 and {d["name"] for d in devices} >= {"titan_rtx_64", "eyeriss"}


def test_measure_cli_unwritable_out_fails_before_measuring(tmp_path, capsys, monkeypatch) -> None:
    import warmnas.hardware.measure as measure

    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    monkeypatch.setattr(measure.MeasuredLatencyTable, "measure",
                        classmethod(lambda cls, *a, **k: pytest.fail("measured first")))
    for out in (blocker / "table.json", tmp_path):
        code = main(["hardware", "measure", "--space", "nb201", "--out", str(out)])
        assert code == 2
        assert "--out" in capsys.readouterr().err


def test_fit_latency_and_plot_outputs_checked_first(shared_data, tmp_path, capsys) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    samples = tmp_path / "s.json"
    samples.write_text(json.dumps({"1": 3.0, "2": 4.0, "7": 5.0}))
    ref = shared_data / "nasbench201" / "latency"
    for out in (blocker / "p.csv", tmp_path):
        code = main(["hardware", "fit-latency", "--samples", str(samples), "--reference-dir",
                     str(ref), "--out", str(out), "--method", "reference"])
        assert code == 2 and "--out" in capsys.readouterr().err
    code = main(["nas", "constrained-search", "--latency-file", str(ref / "pixel3.pt"),
                 "--max-latency", "8", "--budget", "5", "--data-dir", str(shared_data),
                 "--plot", str(blocker / "x.png")])
    assert code == 2 and "--plot" in capsys.readouterr().err


@pytest.mark.parametrize("option, value, message", [
    ("--budget", "0", "--budget must be a positive int"),
    ("--max-latency", "-1", "--max-latency must be a positive number of ms"),
    ("--max-latency", "nan", "--max-latency must be a positive number of ms"),
])
def test_constrained_search_cli_checks_settings_before_reading_data(tmp_path, capsys, option, value,
                                                                    message) -> None:
    # neither the data folder nor the latency file exists: the settings' error must come first
    args = {"--max-latency": "5", "--budget": "100", option: value}
    rc = main(["nas", "constrained-search", "--latency-file", str(tmp_path / "x.pt"),
               "--data-dir", str(tmp_path / "no-data"), *[t for kv in args.items() for t in kv]])
    err = capsys.readouterr().err
    assert rc == 2 and message in err, err
    assert "not found" not in err


@pytest.mark.shared_data
def test_constrained_search_cli_missing_files_name_their_option(shared_data, tmp_path,
                                                                capsys) -> None:
    rc = main(["nas", "constrained-search", "--latency-file", str(tmp_path / "x.pt"),
               "--max-latency", "5", "--data-dir", str(tmp_path / "no-data")])
    err = capsys.readouterr().err
    assert rc == 2 and "--latency-file" in err and "nats_bench" not in err, err
    lat_file = shared_data / "nasbench201" / "latency" / "pixel3.pt"
    rc = main(["nas", "constrained-search", "--latency-file", str(lat_file), "--max-latency", "5",
               "--data-dir", str(tmp_path / "no-data")])
    err = capsys.readouterr().err
    assert rc == 2 and "pass --data-dir the shared data folder" in err, err
