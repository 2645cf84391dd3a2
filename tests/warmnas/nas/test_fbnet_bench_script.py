"""bench/hardware_fbnet_search.py: the options of a GPU-length run, refused early when wrong,
and the whole script end to end at toy scale on CPU (CIFAR-10 replaced by tiny random images)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_fbnet_bench",
                                                  REPO / "bench" / "hardware_fbnet_search.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("argv", "message"), [
    (["--device", "pixel3"], "--device is the torch device .* --latency-device pixel3"),
    (["--latency-device", "tpu"], "--latency-device 'tpu': expected one of edgegpu"),
    (["--latency-weights", "sample", "--method", "proxyless"], "needs --method gumbel"),
    (["--size", "12"], "--size must be 32, 16, 8 or 4"),
    (["--n-train", "60000"], "CIFAR-10 has 50,000 training"),
    (["--resume-from", "x"], "--resume-from needs --checkpoint-dir"),
    (["--max-time-s", "0"], "--max-time-s must be > 0"),
])
def test_bad_options_are_refused_before_any_data_is_read(
        script: ModuleType, argv: list[str], message: str,
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        script.main(["--data-dir", str(tmp_path / "nothing-here"), *argv])
    assert exc.value.code == 2
    assert __import__("re").search(message, capsys.readouterr().err)


def test_cuda_is_checked_up_front(script: ModuleType, capsys: pytest.CaptureFixture[str],
                                  tmp_path: Path) -> None:
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    with pytest.raises(SystemExit) as exc:
        script.main(["--data-dir", str(tmp_path / "nothing-here"), "--device", "cuda"])
    assert exc.value.code == 2
    assert "no CUDA device is available here" in capsys.readouterr().err


def test_gpu_run_options_end_to_end_at_toy_scale(script: ModuleType, shared_data: Path,
                                                 tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    import warmnas.nas.data as data

    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=(40, 32, 32, 3)).astype(np.uint8)
    Xt = rng.integers(0, 256, size=(16, 32, 32, 3)).astype(np.uint8)

    def fake_cifar(*args: Any, **kwargs: Any) -> tuple[np.ndarray, ...]:
        return X, np.arange(40) % 10, Xt, np.arange(16) % 10

    monkeypatch.setattr(data, "load_cifar10", fake_cifar)
    argv = ["--data-dir", str(shared_data), "--device", "cpu", "--C", "2", "--size", "8",
            "--n-train", "0", "--n-eval", "0", "--steps", "0", "--batch-size", "10",
            "--weights", "2", "--seeds", "0", "--latency-weights", "softmax", "sample",
            "--epochs", "2", "--n-random", "20", "--train-epochs", "1", "--train-random", "1",
            "--checkpoint-dir", str(tmp_path / "ckpt"), "--json", str(tmp_path / "r.json"),
            "--max-time-s", "300"]
    assert script.main(argv) == 0
    report = json.loads((tmp_path / "r.json").read_text())
    rows = report["rows"]
    assert [(r["priced"], r["weight"]) for r in rows] == [("softmax", 2.0), ("sample", 2.0)]
    assert all(r["finished"] and r["epochs_done"] == 2 for r in rows)
    assert len(report["trained"]) == 3 and report["trained"][-1]["label"] == "random-0"
    assert len(list((tmp_path / "ckpt").glob("*/search_state.pt"))) == 2
    # a second call with the checkpoints of the first: every search resumes finished
    out = capsys.readouterr().out
    assert "priced: softmax, sample" in out
    argv2 = [a if a != str(tmp_path / "ckpt") else str(tmp_path / "ckpt2") for a in argv]
    argv2 += ["--resume-from", str(tmp_path / "ckpt"), "--train-epochs", "0"]
    assert script.main(argv2) == 0
    again = json.loads((tmp_path / "r.json").read_text())["rows"]
    assert [r["arch"] for r in again] == [r["arch"] for r in rows]
    assert [r["history"] for r in again] == [r["history"] for r in rows]
