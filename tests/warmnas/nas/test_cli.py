"""``warmnas nas search`` end to end on tiny arrays."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from warmnas.cli import main


def _npz(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    path = tmp_path / "tiny.npz"
    np.savez(path, X=rng.integers(0, 256, size=(32, 8, 8, 3), dtype=np.uint8),
             y=rng.integers(0, 2, size=32))
    return path


def test_nas_search_nb201_json(tmp_path: Path, shared_data: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["nas", "search", "--space", "nb201", "--data", str(_npz(tmp_path)),
                 "--data-dir", str(shared_data), "--method", "drnas", "--epochs", "1",
                 "--C", "4", "--layers", "1", "--batch-size", "8",
                 "--max-steps-per-epoch", "2", "--no-progress", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["space"] == "nb201"
    assert out["nb201"]["arch"] == out["genotype"]
    assert 0 <= out["nb201"]["index"] < 15625 and 10 < out["nb201"]["cifar10"] < 100
    assert len(out["history"]) == 1


def test_nas_search_nb201_derive_no_none(tmp_path: Path, shared_data: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    import torch

    from warmnas.nas.nb201 import derive_arch

    common = ["nas", "search", "--space", "nb201", "--data", str(_npz(tmp_path)),
              "--data-dir", str(shared_data), "--method", "drnas", "--epochs", "1",
              "--C", "4", "--layers", "1", "--batch-size", "8", "--max-steps-per-epoch", "2",
              "--no-progress", "--json"]
    assert main(common + ["--derive", "no-none"]) == 0
    out = json.loads(capsys.readouterr().out)
    alphas = {k: torch.tensor(v) for k, v in out["alphas"].items()}
    assert out["derive"] == "no-none"
    assert out["genotype"] == derive_arch(alphas, exclude=("none",))
    assert "none" not in out["genotype"] and out["nb201"]["arch"] == out["genotype"]
    assert main(["nas", "search", "--space", "darts", "--derive", "no-none",
                 "--data", str(_npz(tmp_path)), "--epochs", "1", "--C", "4", "--layers", "2",
                 "--batch-size", "8", "--max-steps-per-epoch", "1", "--no-progress"]) == 2
    assert "--derive applies to --space nb201 only" in capsys.readouterr().err


def test_nas_search_darts_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["nas", "search", "--space", "darts", "--data", str(_npz(tmp_path)),
                 "--epochs", "1", "--C", "4", "--layers", "2", "--batch-size", "8",
                 "--max-steps-per-epoch", "1", "--no-progress"])
    assert code == 0
    assert "genotype: Genotype(normal=[" in capsys.readouterr().out


def test_nas_search_checkpoint_dir_continues(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    data = str(_npz(tmp_path))
    common = ["nas", "search", "--space", "nb201", "--data", data, "--method", "drnas",
              "--C", "4", "--layers", "1", "--batch-size", "8", "--max-steps-per-epoch", "2",
              "--no-progress", "--json"]
    assert main(common + ["--epochs", "3"]) == 0
    whole = json.loads(capsys.readouterr().out)
    ckpt = tmp_path / "ckpt"
    # first call stops after epoch 1 (any positive budget is exceeded by then)
    assert main(common + ["--epochs", "3", "--checkpoint-dir", str(ckpt),
                          "--max-time", "1e-9"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert not first["finished"] and first["epochs_done"] == 1
    assert main(common + ["--epochs", "3", "--checkpoint-dir", str(ckpt)]) == 0
    resumed = json.loads(capsys.readouterr().out)
    assert resumed["finished"] and resumed["epochs_done"] == 3
    assert resumed["resumed_from"] and len(resumed["history"]) == 3  # continued, not restarted
    assert resumed["alphas"] == whole["alphas"]
    assert resumed["genotype"] == whole["genotype"]


def test_nas_search_bad_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["nas", "search", "--data", str(tmp_path / "missing.npz")])
    assert code == 2
    assert "neither 'cifar10' nor an .npz file" in capsys.readouterr().err


@pytest.mark.parametrize("option", [["--epochs", "0"], ["--lr", "-1"], ["--batch-size", "0"]])
def test_nas_search_settings_are_checked_before_the_data_are_loaded(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], option: list[str]) -> None:
    # loading CIFAR-10 decodes 60,000 JPEGs into a cache first: a bad setting must not wait for it
    code = main(["nas", "search", "--data", str(tmp_path / "missing.npz"), *option])
    assert code == 2
    err = capsys.readouterr().err
    assert f"{option[0]} must be a positive" in err and "missing.npz" not in err


@pytest.mark.parametrize("text,msg", [
    ('[1, 2]', r"must hold a JSON object \{cell type: \[\[logits\]\]\}, got list"),
    ('{"cell": [[1, 2], [3]]}', r"--init-alpha .*\['cell'\] must be a rectangular array of numbers"),
    ('{"cell": "abc"}', r"--init-alpha .*\['cell'\] must be a rectangular array of numbers"),
    ('{"cell": [[1, 2]]}', r"init_alpha\['cell'\] must have shape \(6, 5\)"),
])
def test_nas_search_bad_init_alpha(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                   text: str, msg: str) -> None:
    alpha = tmp_path / "alpha.json"
    alpha.write_text(text)
    code = main(["nas", "search", "--space", "nb201", "--data", str(_npz(tmp_path)),
                 "--init-alpha", str(alpha), "--epochs", "1", "--C", "4", "--layers", "1",
                 "--no-progress"])
    assert code == 2
    assert re.search(msg, capsys.readouterr().err)
