"""Checkpoint and resume of DARTSSearch: a search stopped at epoch boundaries and continued in
new DARTSSearch objects ends bitwise equal to an uninterrupted one; bad checkpoints are refused
with clear errors; a failed save keeps the previous checkpoint."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import torch

from warmnas.errors import (
    CorruptDatabaseError,
    InputError,
    InputTypeError,
    MissingDataError,
    NotFittedError,
    SchemaVersionError,
    StorageError,
)
from warmnas.nas.data import ImageData
from warmnas.nas.nb201 import derive_arch
from warmnas.nas.search import CHECKPOINT_NAME, DARTSSearch

from .conftest import tiny_images

TINY = 1e-9  # a time budget every epoch exceeds: the search stops after each epoch


def _kw(space: str = "nb201", **over: Any) -> dict[str, Any]:
    kw: dict[str, Any] = dict(epochs=3, batch_size=8, C=4, max_steps_per_epoch=2,
                              layers=1 if space == "nb201" else 3, random_state=0,
                              progress=False, arch_lr=3e-2)
    kw.update(over)
    return kw


def _strip(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "seconds"} for r in history]


def _assert_same_search(a: DARTSSearch, b: DARTSSearch) -> None:
    for k in a.alphas_:
        assert torch.equal(a.alphas_[k], b.alphas_[k]), k
    sa, sb = a.supernet_.state_dict(), b.supernet_.state_dict()
    assert list(sa) == list(sb)
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k
    assert _strip(a.history_) == _strip(b.history_)
    assert a.n_iter_ == b.n_iter_
    assert a.genotype_ == b.genotype_
    assert a.finished_ and b.finished_


@pytest.mark.parametrize("space,method,order,warmup", [
    ("nb201", "darts", 1, 1), ("nb201", "drnas", 1, 0), ("nb201", "gdas", 1, 0),
    ("nb201", "darts", 2, 0), ("darts", "drnas", 1, 0),
])
def test_stopped_and_resumed_equals_uninterrupted(tmp_path: Path, space: str, method: str,
                                                  order: int, warmup: int) -> None:
    X, y = tiny_images()
    kw = _kw(space, method=method, order=order, warmup_epochs=warmup)
    full = DARTSSearch(space, **kw).fit((X, y))
    ckpt = tmp_path / "ckpt"
    parts = []
    for call in range(3):  # each call does one epoch (time budget), then saves and stops
        s = DARTSSearch(space, checkpoint_dir=ckpt, max_time_s=TINY, **kw).fit((X, y))
        parts.append(s)
        assert s.epochs_done_ == call + 1 and len(s.history_) == call + 1
        assert (ckpt / CHECKPOINT_NAME).is_file()
        res = s.result()
        assert res["epochs_done"] == call + 1 and res["epochs_planned"] == 3
        assert res["finished"] is (call == 2) and s.stopped_early_ is (call < 2)
        assert res["resumed_from"] == (None if call == 0 else str(ckpt / CHECKPOINT_NAME))
    _assert_same_search(full, parts[-1])
    assert not list(ckpt.glob("*.tmp"))


def test_save_state_resume_from_and_finished_checkpoint(tmp_path: Path) -> None:
    X, y = tiny_images()
    kw = _kw(method="drnas")
    full = DARTSSearch("nb201", **kw).fit((X, y))
    with pytest.raises(NotFittedError):
        DARTSSearch("nb201", **kw).save_state(tmp_path / "x.pt")
    first = DARTSSearch("nb201", max_time_s=TINY, **kw).fit((X, y))  # no checkpoint_dir
    assert not first.finished_ and first.epochs_done_ == 1
    path = first.save_state(tmp_path)  # a folder: search_state.pt inside
    assert path == tmp_path / CHECKPOINT_NAME
    # weights_only loading: tensors and plain values only
    assert torch.load(path, weights_only=True)["epochs_done"] == 1
    rest = DARTSSearch("nb201", checkpoint_dir=tmp_path / "new", **kw).fit(
        (X, y), resume_from=path)
    _assert_same_search(full, rest)
    assert rest.resumed_from_ == str(path)
    # the source was only read; the finished state went to checkpoint_dir
    assert torch.load(path, weights_only=True)["epochs_done"] == 1
    done = tmp_path / "new" / CHECKPOINT_NAME
    assert torch.load(done, weights_only=True)["epochs_done"] == 3
    # resuming a finished search runs no step and gives the same result
    again = DARTSSearch("nb201", **kw).fit((X, y), resume_from=done)
    _assert_same_search(full, again)
    assert again.search_time_s_ < 5 and again.finished_ and not again.stopped_early_
    with pytest.raises(MissingDataError, match="no checkpoint at .*nothing.pt"):
        DARTSSearch("nb201", **kw).fit((X, y), resume_from=tmp_path / "nothing.pt")
    with pytest.raises(InputError, match="checkpoint_every must be a positive int"):
        DARTSSearch("nb201", checkpoint_every=0, **kw).fit((X, y))
    with pytest.raises(InputTypeError, match="checkpoint_dir must be a folder path"):
        DARTSSearch("nb201", checkpoint_dir=3, **kw).fit((X, y))  # type: ignore[arg-type]


def test_checkpoint_every_and_none_seed(tmp_path: Path) -> None:
    X, y = tiny_images()
    kw = _kw(method="gdas", random_state=None, epochs=4)
    saved_at = []

    def spy(record: dict[str, Any], search: DARTSSearch) -> None:
        f = tmp_path / CHECKPOINT_NAME
        saved_at.append(torch.load(f, weights_only=True)["epochs_done"] if f.exists() else 0)

    s = DARTSSearch("nb201", checkpoint_dir=tmp_path, checkpoint_every=2, callback=spy,
                    max_time_s=None, **{**kw, "epochs": 3}).fit((X, y))
    # the callback runs before the epoch's save: epochs 1, 2, 3 see saves of 0, 0, 2
    assert saved_at == [0, 0, 2] and s.finished_
    assert torch.load(tmp_path / CHECKPOINT_NAME, weights_only=True)["epochs_done"] == 3
    # random_state=None: the resumed search takes the checkpoint's seeds (same split, so the
    # data digest agrees) and continues
    d = tmp_path / "none"
    a = DARTSSearch("nb201", checkpoint_dir=d, max_time_s=TINY, **kw).fit((X, y))
    b = DARTSSearch("nb201", checkpoint_dir=d, **kw).fit((X, y))
    assert a.epochs_done_ == 1 and b.finished_ and len(b.history_) == 4
    assert _strip(b.history_[:1]) == _strip(a.history_)


def _one_epoch_checkpoint(tmp_path: Path, space: str = "nb201", **over: Any) -> Path:
    X, y = tiny_images()
    d = tmp_path / f"ckpt-{space}"
    DARTSSearch(space, checkpoint_dir=d, max_time_s=TINY, **_kw(space, **over)).fit((X, y))
    return d / CHECKPOINT_NAME


def test_corrupt_and_foreign_checkpoints_are_refused(tmp_path: Path) -> None:
    X, y = tiny_images()
    good = _one_epoch_checkpoint(tmp_path)
    blob = good.read_bytes()
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(blob[: len(blob) // 2])
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint at all" * 10)
    for bad in (truncated, garbage):
        with pytest.raises(CorruptDatabaseError,
                           match=f"{bad.name} cannot be read .*delete it to start"):
            DARTSSearch("nb201", **_kw()).fit((X, y), resume_from=bad)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, other)
    with pytest.raises(CorruptDatabaseError, match="not a warmnas search checkpoint"):
        DARTSSearch("nb201", **_kw()).fit((X, y), resume_from=other)
    state = torch.load(good, weights_only=True)
    future = tmp_path / "future.pt"
    torch.save({**state, "version": 99}, future)
    with pytest.raises(SchemaVersionError, match="version 99"):
        DARTSSearch("nb201", **_kw()).fit((X, y), resume_from=future)
    partial = tmp_path / "partial.pt"
    torch.save({k: v for k, v in state.items() if k != "adam"}, partial)
    with pytest.raises(CorruptDatabaseError, match=r"incomplete .*\['adam'\]"):
        DARTSSearch("nb201", **_kw()).fit((X, y), resume_from=partial)
    shapes = tmp_path / "shapes.pt"
    sgd = {**state["sgd"], "bufs": [b[..., :1] for b in state["sgd"]["bufs"]]}
    torch.save({**state, "sgd": sgd}, shapes)
    with pytest.raises(CorruptDatabaseError, match=r"sgd.bufs\[0\] is .* expected"):
        DARTSSearch("nb201", **_kw()).fit((X, y), resume_from=shapes)


def test_checkpoint_of_another_search_is_refused(tmp_path: Path) -> None:
    X, y = tiny_images()
    darts_ckpt = _one_epoch_checkpoint(tmp_path, "darts")
    with pytest.raises(InputError, match="space: checkpoint 'darts', this search 'nb201'.*"
                                         "delete it"):
        DARTSSearch("nb201", **_kw()).fit((X, y), resume_from=darts_ckpt)
    nb = _one_epoch_checkpoint(tmp_path)
    with pytest.raises(InputError, match=r"lr: checkpoint 0.025, this search 0.05"):
        DARTSSearch("nb201", **_kw(lr=0.05)).fit((X, y), resume_from=nb)
    with pytest.raises(InputError, match="random_state: .*another random_state"):
        DARTSSearch("nb201", **_kw(random_state=1)).fit((X, y), resume_from=nb)
    X2, y2 = tiny_images(seed=1)
    with pytest.raises(InputError, match="data: other images"):
        DARTSSearch("nb201", **_kw()).fit((X2, y2), resume_from=nb)
    # automatic resume from checkpoint_dir refuses too (nothing overwritten)
    before = nb.read_bytes()
    with pytest.raises(InputError, match="method: checkpoint 'darts', this search 'drnas'"):
        DARTSSearch("nb201", checkpoint_dir=nb.parent, **_kw(method="drnas")).fit((X, y))
    assert nb.read_bytes() == before


def test_failed_save_keeps_previous_checkpoint(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    X, y = tiny_images()
    kw = _kw(method="drnas")
    full = DARTSSearch("nb201", **kw).fit((X, y))
    ckpt = _one_epoch_checkpoint(tmp_path, method="drnas")
    before = ckpt.read_bytes()
    real_save = torch.save

    def dying_save(obj: Any, f: Any, *args: Any, **kwargs: Any) -> None:
        f.write(b"PK\x03\x04 half a zip file")  # the write starts, then the 'kill'
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", dying_save)
    with pytest.raises(StorageError, match="could not write checkpoint .*previous checkpoint"):
        DARTSSearch("nb201", checkpoint_dir=ckpt.parent, max_time_s=TINY, **kw).fit((X, y))
    monkeypatch.setattr(torch, "save", real_save)
    assert ckpt.read_bytes() == before
    assert sorted(p.name for p in ckpt.parent.iterdir()) == [CHECKPOINT_NAME]  # no temp left
    rest = DARTSSearch("nb201", checkpoint_dir=ckpt.parent, **kw).fit((X, y))
    _assert_same_search(full, rest)


def test_restore_copies_in_place(tmp_path: Path) -> None:
    """CUDA graphs read fixed addresses: a restore must copy into the live tensors, never
    replace them (checked here on CPU through the tensors' data pointers)."""
    X, y = tiny_images()
    later = _one_epoch_checkpoint(tmp_path, method="drnas", epochs=2)
    s = DARTSSearch("nb201", max_time_s=None, **_kw(method="drnas", epochs=1)).fit((X, y))
    run = s._run
    live = ([p for p in s.supernet_.state_dict(keep_vars=True).values()] + run.sgd.bufs
            + [run.sgd.lr, run.adam.lr, run.adam.step_count] + run.adam.exp_avg
            + run.adam.exp_avg_sq)
    ptrs = [t.data_ptr() for t in live]
    ids = [id(t) for t in live]
    state = torch.load(later, weights_only=True)
    # 'later' has epochs=2 in its config; the state fits the objects all the same
    run.restore(state, later)
    assert [t.data_ptr() for t in live] == ptrs and [id(t) for t in live] == ids
    for k, v in state["supernet"].items():
        assert torch.equal(s.supernet_.state_dict()[k], v), k
    for a, b in zip(run.sgd.bufs, state["sgd"]["bufs"]):
        assert torch.equal(a, b)
    assert torch.equal(run.adam.step_count, state["adam"]["step_count"])
    assert torch.equal(run.gens["noise"].get_state(), state["rng"]["noise"])



@pytest.mark.shared_data
def test_bench_nb201_seed_resumes_over_calls(tmp_path: Path, shared_data: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             nas_gpu_script: ModuleType) -> None:
    """The per-call flow of docs/nas.md: call 1 writes OUT1/ckpt and stops on its budget; call 2
    resumes from a copy of it (--resume-from) and writes OUT2/ckpt; its result equals one
    uninterrupted call's. Tiny random images stand in for CIFAR-10 (--smoke sizes)."""
    bench = nas_gpu_script
    X, y = tiny_images(n=64, k=10)
    data = ImageData.from_arrays(X, y)
    monkeypatch.setattr(bench, "_load", lambda args: (data.subset(np.arange(32)),
                                                     data.subset(np.arange(32, 64))))
    common = ["nb201-seed", "--smoke", "--device", "cpu", "--seed", "0", "--epochs", "2",
              "--data-dir", str(shared_data), "--batch-size", "8"]
    assert bench.main([*common, "--json", str(tmp_path / "full.json")]) == 0
    full = json.loads((tmp_path / "full.json").read_text())
    assert full["finished"] and full["lookup"]["arch"] == full["arch"]
    # the cell by the chosen rule (default argmax) and, labelled, by the other one
    alphas = {k: torch.tensor(v) for k, v in full["alphas"].items()}
    assert (full["derive"], full["derive_other"]) == ("argmax", "no-none")
    assert full["arch"] == derive_arch(alphas)
    assert full["lookup_other"]["arch"] == derive_arch(alphas, exclude=("none",))

    out1 = tmp_path / "out1"
    assert bench.main([*common, "--json", str(out1 / "s0.json"), "--checkpoint-dir",
                       str(out1 / "ckpt"), "--max-time-s", str(TINY)]) == 0
    part = json.loads((out1 / "s0.json").read_text())
    assert part["done"] and not part["finished"]
    assert (part["epochs_done"], part["epochs_planned"]) == (1, 2)
    assert "lookup" not in part and "arch" not in part and part["current_arch"].startswith("|")
    carried = tmp_path / ".nas-ckpt"
    shutil.copytree(out1 / "ckpt", carried)
    out2 = tmp_path / "out2"
    assert bench.main([*common, "--json", str(out2 / "s0.json"), "--checkpoint-dir",
                       str(out2 / "ckpt"), "--resume-from", str(carried),
                       "--max-time-s", "1000"]) == 0
    res = json.loads((out2 / "s0.json").read_text())
    assert res["finished"] and res["resumed_from"].startswith(str(carried))
    assert (out2 / "ckpt" / "seed0" / CHECKPOINT_NAME).is_file()
    assert res["alphas"] == full["alphas"] and res["arch"] == full["arch"]
    assert _strip(res["history"]) == _strip(full["history"])


@pytest.mark.gpu
@pytest.mark.parametrize("method", ["darts", "drnas"])
def test_resume_on_cuda_with_graphs(cuda_device: str, tmp_path: Path, method: str) -> None:
    """Fast path (CUDA graphs, fp32, deterministic): stopped + resumed vs uninterrupted. The
    resumed process re-captures its graphs after 3 eager warm-up steps, so agreement is to
    float tolerance, not necessarily bitwise."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=(96, 16, 16, 3), dtype=np.uint8)
    y = rng.integers(0, 4, size=96)
    kw = dict(method=method, epochs=3, batch_size=16, C=8, layers=1, device=cuda_device,
              autocast=False, channels_last=True, cuda_graphs=True, deterministic=True,
              max_steps_per_epoch=5, random_state=0, progress=False, arch_lr=3e-3)
    full = DARTSSearch("nb201", **kw).fit((X, y))
    for _ in range(3):
        s = DARTSSearch("nb201", checkpoint_dir=tmp_path, max_time_s=TINY, **kw).fit((X, y))
    assert s.finished_
    assert torch.allclose(full.alphas_["cell"], s.alphas_["cell"], atol=1e-5, rtol=0)
    assert abs(full.history_[-1]["train_loss"] - s.history_[-1]["train_loss"]) < 1e-4
