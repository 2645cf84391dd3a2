"""Image data: CIFAR-10 decoding/caching, validation, splits, device-side augmentation."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

from warmnas.errors import CorruptDatabaseError, InputError, InputTypeError, MissingDataError
from warmnas.nas.data import (
    CIFAR10_CLASSES,
    BatchLoader,
    ImageData,
    load_cifar10,
    resolve_device,
    search_split,
)


def _fake_tarball(path: Path, per_class: tuple[int, int]) -> dict[str, np.ndarray]:
    """A tarball laid out like CIFAR-10-images-master (PNG, so pixels survive exactly)."""
    from PIL import Image

    rng = np.random.default_rng(0)
    truth: dict[str, list[np.ndarray]] = {"train": [], "test": []}
    with tarfile.open(path, "w:gz") as tar:
        for split, n in zip(("train", "test"), per_class):
            for c in CIFAR10_CLASSES:
                for i in range(n):
                    img = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
                    buf = io.BytesIO()
                    Image.fromarray(img).save(buf, format="PNG")
                    info = tarfile.TarInfo(f"CIFAR-10-images/{split}/{c}/{i:04d}.png")
                    info.size = len(buf.getvalue())
                    tar.addfile(info, io.BytesIO(buf.getvalue()))
                    truth[split].append(img)
    return {k: np.stack(v) for k, v in truth.items()}


def test_decode_once_and_cache(tmp_path: Path) -> None:
    (tmp_path / "cifar10").mkdir()
    tarball = tmp_path / "cifar10" / "CIFAR-10-images-master.tar.gz"
    truth = _fake_tarball(tarball, (2, 1))
    cache = tmp_path / "cache"
    X, y, Xt, yt = load_cifar10(tmp_path, cache_dir=cache, n_jobs=1, _expected=(20, 10))
    assert X.shape == (20, 32, 32, 3) and X.dtype == np.uint8 and Xt.shape == (10, 32, 32, 3)
    assert np.array_equal(X, truth["train"]) and np.array_equal(Xt, truth["test"])
    assert y.tolist() == [c for c in range(10) for _ in range(2)]
    assert yt.tolist() == list(range(10))
    # the second call reads the cache (it survives the tarball's removal)
    tarball.rename(tmp_path / "moved.tar.gz")
    with pytest.raises(MissingDataError, match="CIFAR-10 tarball"):
        load_cifar10(tmp_path, cache_dir=cache)
    X2, *_ = load_cifar10(tmp_path / "moved.tar.gz", cache_dir=cache, _expected=(20, 10))
    assert np.array_equal(X2, X)


def test_wrong_counts_and_corrupt_tarball(tmp_path: Path) -> None:
    tarball = tmp_path / "CIFAR-10-images-master.tar.gz"
    _fake_tarball(tarball, (1, 1))
    with pytest.raises(CorruptDatabaseError, match="holds 10 train images, expected 50000"):
        load_cifar10(tarball, cache_dir=tmp_path / "c")
    bad = tmp_path / "bad" / "CIFAR-10-images-master.tar.gz"
    bad.parent.mkdir()
    bad.write_bytes(b"not a tarball at all")
    with pytest.raises(CorruptDatabaseError, match="cannot read the CIFAR-10 tarball"):
        load_cifar10(bad.parent, cache_dir=tmp_path / "c")


@pytest.mark.shared_data
def test_real_cifar10_tarball_listing(shared_data: Path) -> None:
    # the real tarball holds 5000 train and 1000 test JPEGs per class (decoding is the same path)
    from warmnas.nas.data import _read_tarball

    members = _read_tarball(shared_data / "cifar10" / "CIFAR-10-images-master.tar.gz")
    for split, per_class in (("train", 5000), ("test", 1000)):
        counts = np.bincount([c for c, _, _ in members[split]], minlength=10)
        assert counts.tolist() == [per_class] * 10


def test_image_data_validation() -> None:
    X = np.zeros((6, 8, 8, 3), dtype=np.uint8)
    y = np.array([0, 1, 0, 1, 2, 2])
    d = ImageData.from_arrays(X, y)
    assert d.images.shape == (6, 3, 8, 8) and d.n_classes == 3 and len(d) == 6
    assert ImageData.from_arrays(np.zeros((6, 3, 8, 8)), y).images.dtype == torch.float32
    assert ImageData.from_arrays(np.zeros((6, 8, 8)), y).image_shape == (1, 8, 8)
    with pytest.raises(InputError, match="one label per image"):
        ImageData.from_arrays(X, y[:5])
    with pytest.raises(InputError, match="at least 2 classes"):
        ImageData.from_arrays(X, np.zeros(6))
    with pytest.raises(InputError, match="no NaN, no fractions"):
        ImageData.from_arrays(X, y + 0.5)
    with pytest.raises(InputError, match="0..K-1"):
        ImageData.from_arrays(X, y - 1)
    with pytest.raises(InputTypeError, match="numeric image array"):
        ImageData.from_arrays(np.array([["a"] * 4] * 6), y)
    with pytest.raises(InputError, match="must have shape"):
        ImageData.from_arrays(np.zeros((6, 8)), y)
    with pytest.raises(InputError, match="is empty"):
        ImageData.from_arrays(np.zeros((0, 8, 8, 3)), np.zeros(0))


def test_search_split_is_stratified_and_seeded() -> None:
    y = np.repeat(np.arange(4), 10)
    X = np.zeros((40, 4, 4, 3), dtype=np.uint8)
    X[:, 0, 0, 0] = np.arange(40)  # an id per image
    d = ImageData.from_arrays(X, y)
    a, b = search_split(d, 0.5, random_state=0)
    assert len(a) == len(b) == 20
    assert np.bincount(a.labels.numpy()).tolist() == [5] * 4
    a2, _ = search_split(d, 0.5, random_state=0)
    assert torch.equal(a.images, a2.images)
    # disjoint and covering
    ids = torch.cat([a.images, b.images])[:, 0, 0, 0].tolist()
    assert sorted(ids) == list(range(40))
    assert all(int(lab) == i // 10 for i, lab in zip(a.images[:, 0, 0, 0].tolist(), a.labels))
    with pytest.raises(InputError, match=r"portion must be in \(0, 1\)"):
        search_split(d, 1.0)


def test_batch_loader_augmentation() -> None:
    rng = np.random.default_rng(0)
    X = rng.integers(1, 256, size=(64, 8, 8, 3), dtype=np.uint8)
    d = ImageData.from_arrays(X, np.arange(64) % 4, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
    gen = torch.Generator().manual_seed(0)
    plain = BatchLoader(d, 16, augment=False, shuffle=False)
    x, y = next(iter(plain))
    assert torch.allclose(x * 255, d.images[:16].float()) and torch.equal(y, d.labels[:16])
    aug = BatchLoader(d, 16, augment=True, pad=2, generator=gen)
    assert len(aug) == 4
    for xb, yb in aug:
        for img, lab in zip(xb, yb):
            src = d.images[d.labels == lab].float() / 255
            # every augmented image is a shifted (maybe flipped) copy of a source image with
            # zero padding entering at the borders: its centre 4x4 block appears in some source
            centre = img[:, 2:6, 2:6]
            found = False
            for s in src:
                for t in (s, s.flip(-1)):
                    win = t.unfold(1, 4, 1).unfold(2, 4, 1)  # (C, 5, 5, 4, 4)
                    if ((win - centre[:, None, None]).abs().amax(dim=(0, 3, 4)) < 1e-6).any():
                        found = True
            assert found
    cut = BatchLoader(d, 8, augment=True, cutout=4, generator=gen)
    xb, _ = next(iter(cut))
    assert ((xb == 0).all(dim=1).sum(dim=(1, 2)) >= 4).all()  # a zeroed square in every image


def test_coerce_and_resolve_device():
    X = np.zeros((4, 3, 8, 8), dtype=np.uint8)
    y = np.array([0, 1, 0, 1])
    data = ImageData.coerce((X, y), "train")
    assert isinstance(data, ImageData) and len(data) == 4
    assert ImageData.coerce(data, "train") is data
    with pytest.raises(InputTypeError, match="valid must be an ImageData or an \\(X, y\\) tuple"):
        ImageData.coerce([X, y], "valid")
    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(InputError, match="device 'gpu0' is not a torch device"):
        resolve_device("gpu0")
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="CUDA is not available; use device='cpu'"):
            resolve_device("cuda")


def test_resolve_device_refuses_devices_this_machine_lacks(monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    from warmnas.nas.data import resolve_device

    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(InputError, match=r"device='meta' holds no data; use device='cpu'"):
        resolve_device("meta")
    if not torch.backends.mps.is_available():
        with pytest.raises(InputError, match=r"device='mps' is not usable with this torch build"):
            resolve_device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(InputError, match=r"device='cuda:5' but this machine has 1 CUDA device"):
        resolve_device("cuda:5")
    assert resolve_device("cuda:0") == torch.device("cuda:0")


def test_undecodable_image_in_tarball(tmp_path: Path) -> None:
    tarball = tmp_path / "CIFAR-10-images-master.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        for split in ("train", "test"):
            info = tarfile.TarInfo(f"CIFAR-10-images/{split}/cat/0000.jpg")
            info.size = 9
            tar.addfile(info, io.BytesIO(b"not a jpg"))
    with pytest.raises(CorruptDatabaseError, match=r"cannot decode a CIFAR-10 image .*tarball"):
        load_cifar10(tarball, cache_dir=tmp_path / "c", n_jobs=1, _expected=(1, 1))


def test_cache_of_the_wrong_shape_is_damaged(tmp_path: Path) -> None:
    tarball = tmp_path / "CIFAR-10-images-master.tar.gz"
    _fake_tarball(tarball, (1, 1))
    cache = tmp_path / "c"
    load_cifar10(tarball, cache_dir=cache, n_jobs=1, _expected=(10, 10))
    (folder,) = cache.iterdir()
    np.save(folder / "train_x.npy", np.zeros(3))
    with pytest.raises(CorruptDatabaseError, match=r"CIFAR-10 cache .* is damaged.*train_x"):
        load_cifar10(tarball, cache_dir=cache, _expected=(10, 10))


def test_unusable_cache_dir_fails_before_decoding(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import warmnas.nas.data as data
    from warmnas.errors import StorageError

    tarball = tmp_path / "CIFAR-10-images-master.tar.gz"
    _fake_tarball(tarball, (1, 1))
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    monkeypatch.setattr(data, "_read_tarball", lambda path: pytest.fail("decoded first"))
    with pytest.raises(StorageError, match=r"cannot create the CIFAR-10 cache .*a_file.*cache_dir"):
        load_cifar10(tarball, cache_dir=blocker, _expected=(10, 10))


def test_complex_images_are_refused() -> None:
    X = np.zeros((4, 8, 8, 3), dtype=np.complex64) + 1j
    y = np.array([0, 1, 0, 1])
    with pytest.raises(InputTypeError, match=r"X must be a numeric image array .*complex64"):
        ImageData.from_arrays(X, y)  # was cast to float, dropping the imaginary part
    with pytest.raises(InputTypeError, match=r"X must be a real image array.*complex64"):
        ImageData.from_arrays(torch.from_numpy(X), y)


def test_labels_that_are_ids_not_class_indices() -> None:
    X = np.zeros((32, 8, 8, 3), dtype=np.uint8)
    y = (np.arange(32) % 4) * 1_000_000  # would build a 3,000,001-way classifier
    with pytest.raises(InputError, match=r"largest label is 3000000 for 4 distinct labels in 32 "
                                         r"images.*np.unique\(y, return_inverse=True\)"):
        ImageData.from_arrays(X, y)
    # a subset that misses some classes is fine
    assert ImageData.from_arrays(X[:4], np.array([0, 3, 9, 9])).n_classes == 10
