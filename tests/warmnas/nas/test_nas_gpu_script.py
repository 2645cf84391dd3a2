"""bench/nas_gpu.py is a GPU benchmark: without CUDA it must not start hours of CPU work."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest
import torch


@pytest.mark.parametrize("cmd", ["nb201", "all", "darts-time", "quick"])
def test_without_cuda_the_gpu_benchmark_refuses_instead_of_running_on_the_cpu(
        cmd: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], nas_gpu_script: ModuleType) -> None:
    # the documented `python bench/nas_gpu.py all ...` on a machine without CUDA launched three
    # 50-epoch CIFAR-10 searches on the CPU (days) without a word
    bench = nas_gpu_script
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    ran = []
    monkeypatch.setattr(bench, f"cmd_{cmd.replace('-', '_')}", lambda args: ran.append(args) or 0)
    with pytest.raises(SystemExit) as exc:
        bench.main([cmd, "--data-dir", str(tmp_path), "--out", str(tmp_path / "out")])
    assert exc.value.code == 2 and not ran
    err = capsys.readouterr().err
    assert "no CUDA device" in err and "--smoke" in err and "--device cpu" in err
    # --smoke (the CPU check of the script) and an explicit --device cpu still run
    assert bench.main([cmd, "--smoke", "--data-dir", str(tmp_path)]) == 0
    assert bench.main([cmd, "--device", "cpu", "--data-dir", str(tmp_path)]) == 0
    assert [a.device for a in ran] == ["cpu", "cpu"]
