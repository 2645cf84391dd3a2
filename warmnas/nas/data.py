"""Image data for architecture search: CIFAR-10 from its JPEG tarball, any ``(X, y)`` arrays,
search splits and GPU-side augmentation.

* :func:`load_cifar10` decodes ``cifar10/CIFAR-10-images-master.tar.gz`` once (in parallel) and
  caches the result as uint8 ``.npy`` files (default: the user cache folder, ``~/.cache/warmnas`` on Linux); later calls memory-map
  the cache.
* :class:`ImageData` holds images ``(N, C, H, W)`` (uint8 or float) and int labels on any device,
  with the per-channel mean/std used for normalisation.
* :func:`search_split` splits a training set into search-train / search-valid halves (DARTS
  searches on 25k / 25k of CIFAR-10's 50k training images).
* :class:`BatchLoader` draws shuffled batches on the data's device and augments them there
  (random crop with 4-pixel zero padding + horizontal flip as in DARTS, optional cutout), in a
  handful of kernels per batch, so loading never bottlenecks a GPU search.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import logging
import os
import tarfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from warmnas._io import atomic_write
from warmnas._random import RandomState, check_random_state
from warmnas.errors import (
    CorruptDatabaseError,
    InputError,
    InputTypeError,
    MissingDataError,
    StorageError,
)

__all__ = [
    "CIFAR10_CLASSES",
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "default_data_dir",
    "default_cache_dir",
    "load_cifar10",
    "ImageData",
    "search_split",
    "BatchLoader",
]

logger = logging.getLogger(__name__)

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                   "ship", "truck")
CIFAR10_MEAN = (0.49139968, 0.48215827, 0.44653124)
CIFAR10_STD = (0.24703233, 0.24348505, 0.26158768)
_TARBALL = "CIFAR-10-images-master.tar.gz"
_CACHE_VERSION = 1


def default_data_dir() -> Path:
    """The shared data folder: ``$WARMNAS_SHARED_DATA``, else ``../shared/data`` (from the cwd)."""
    env = os.environ.get("WARMNAS_SHARED_DATA")
    return Path(env) if env else Path.cwd().parent / "shared" / "data"


def default_cache_dir() -> Path:
    """The warmnas user cache folder (:func:`warmnas._io.user_cache_dir`: ``$WARMNAS_CACHE_DIR``,
    else ``~/.cache/warmnas`` or the platform's equivalent), shared with the warm-start cache."""
    from warmnas._io import user_cache_dir

    return user_cache_dir()


def _find_tarball(data_dir: str | os.PathLike[str] | None) -> Path:
    base = default_data_dir() if data_dir is None else Path(data_dir)
    for cand in (base, base / _TARBALL, base / "cifar10" / _TARBALL):
        if cand.is_file():
            return cand
    raise MissingDataError(
        f"CIFAR-10 tarball {_TARBALL} not found under {base}; pass data_dir= the shared data "
        "folder (holding cifar10/), or set WARMNAS_SHARED_DATA"
    )


def _fingerprint(path: Path) -> str:
    size = path.stat().st_size
    h = hashlib.sha256(str(size).encode())
    with open(path, "rb") as fh:
        h.update(fh.read(1 << 16))
        fh.seek(max(0, size - (1 << 16)))
        h.update(fh.read())
    return h.hexdigest()[:16]


def _decode_chunk(blobs: list[bytes]) -> np.ndarray:
    from PIL import Image

    out = np.empty((len(blobs), 32, 32, 3), dtype=np.uint8)
    for i, blob in enumerate(blobs):
        try:
            with Image.open(io.BytesIO(blob)) as img:
                arr = np.asarray(img.convert("RGB"))
        except (OSError, ValueError) as exc:  # PIL's UnidentifiedImageError is an OSError
            raise CorruptDatabaseError(f"cannot decode a CIFAR-10 image of the tarball ({exc}); "
                                       "restore the tarball from the shared data") from None
        if arr.shape != (32, 32, 3):
            raise CorruptDatabaseError(f"a CIFAR-10 image has shape {arr.shape}, not 32x32x3")
        out[i] = arr
    return out


def _read_tarball(path: Path) -> dict[str, list[tuple[int, str, bytes]]]:
    members: dict[str, list[tuple[int, str, bytes]]] = {"train": [], "test": []}
    class_index = {c: i for i, c in enumerate(CIFAR10_CLASSES)}
    try:
        with tarfile.open(path, "r:gz") as tar:
            for info in tar:
                if not info.isfile() or not info.name.lower().endswith((".jpg", ".jpeg", ".png")):
                    continue
                parts = Path(info.name).parts
                if len(parts) < 3 or parts[-3] not in members or parts[-2] not in class_index:
                    continue
                fh = tar.extractfile(info)
                if fh is None:  # pragma: no cover - regular files always have data
                    continue
                members[parts[-3]].append((class_index[parts[-2]], parts[-1], fh.read()))
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise CorruptDatabaseError(f"cannot read the CIFAR-10 tarball {path}: {exc}") from exc
    return members


def load_cifar10(data_dir: str | os.PathLike[str] | None = None, *,
                 cache_dir: str | os.PathLike[str] | None = None, n_jobs: int | None = None,
                 _expected: tuple[int, int] = (50000, 10000)
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """CIFAR-10 as uint8 arrays, decoded once from the JPEG tarball and cached.

    Args:
        data_dir: the shared data folder (with ``cifar10/``), the ``cifar10`` folder, or the
            tarball itself; default :func:`default_data_dir`.
        cache_dir: where the decoded ``.npy`` files live; default :func:`default_cache_dir`.
        n_jobs: decoding processes (default: all cores, at most 16).

    Returns:
        ``(X_train, y_train, X_test, y_test)``: images ``(50000, 32, 32, 3)`` and
        ``(10000, 32, 32, 3)`` uint8 (memory-mapped, read-only), labels int64 in 0..9 (order of
        ``CIFAR10_CLASSES``), sorted by class then file name.

    Raises:
        MissingDataError: no tarball.
        CorruptDatabaseError: an unreadable tarball, or not 50000 + 10000 images.
    """
    tarball = _find_tarball(data_dir)
    cache = (default_cache_dir() if cache_dir is None else Path(cache_dir))
    folder = cache / f"cifar10-v{_CACHE_VERSION}-{_fingerprint(tarball)}"
    names = ("train_x", "train_y", "test_x", "test_y")
    done = folder / "done.json"
    if not done.is_file():
        try:  # before decoding, so an unusable cache_dir costs nothing
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create the CIFAR-10 cache {folder}: {exc}; pass "
                               "cache_dir= a writable folder (or set WARMNAS_CACHE_DIR)") from exc
        logger.info("decoding %s into %s (once)", tarball, folder)
        members = _read_tarball(tarball)
        arrays: dict[str, np.ndarray] = {}
        jobs = n_jobs or min(16, os.cpu_count() or 1)
        for split, expected in zip(("train", "test"), _expected):
            items = sorted(members[split], key=lambda t: (t[0], t[1]))
            if len(items) != expected:
                raise CorruptDatabaseError(
                    f"{tarball} holds {len(items)} {split} images, expected {expected}"
                )
            blobs = [b for _, _, b in items]
            if jobs > 1 and len(blobs) > 2500:
                chunks = [blobs[i:i + 2500] for i in range(0, len(blobs), 2500)]
                with ProcessPoolExecutor(max_workers=jobs) as pool:
                    x = np.concatenate(list(pool.map(_decode_chunk, chunks)))
            else:
                x = _decode_chunk(blobs)
            arrays[f"{split}_x"] = x
            arrays[f"{split}_y"] = np.array([c for c, _, _ in items], dtype=np.int64)
        for name in names:
            atomic_write(folder / f"{name}.npy", functools.partial(np.save, arr=arrays[name]))
        marker = json.dumps({"source": tarball.name, "version": _CACHE_VERSION})
        atomic_write(done, lambda fh: fh.write(marker), binary=False)
    out = []
    for name in names:
        try:
            out.append(np.load(folder / f"{name}.npy", mmap_mode="r"))
        except (OSError, ValueError) as exc:
            raise CorruptDatabaseError(
                f"the CIFAR-10 cache {folder} is damaged ({exc}); delete the folder to rebuild it"
            ) from exc
    for x, y, split in ((out[0], out[1], "train"), (out[2], out[3], "test")):
        if (x.dtype != np.uint8 or x.ndim != 4 or x.shape[1:] != (32, 32, 3) or y.ndim != 1
                or len(y) != len(x) or not np.issubdtype(y.dtype, np.integer)):
            raise CorruptDatabaseError(
                f"the CIFAR-10 cache {folder} is damaged ({split}_x {x.dtype}{x.shape}, "
                f"{split}_y {y.dtype}{y.shape}); delete the folder to rebuild it")
    return out[0], out[1], out[2], out[3]


def _as_nchw(X: Any, name: str) -> np.ndarray | torch.Tensor:
    if isinstance(X, torch.Tensor):
        arr: Any = X.detach()
        if arr.is_complex():
            raise InputTypeError(f"{name} must be a real image array, got dtype {arr.dtype}")
    else:
        try:
            arr = np.asarray(X)
        except (TypeError, ValueError) as exc:
            raise InputTypeError(f"{name} must be an image array, got {type(X).__name__}") from exc
        if arr.dtype == object or np.issubdtype(arr.dtype, np.complexfloating) or not (
                np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
            raise InputTypeError(
                f"{name} must be a numeric image array (uint8 0..255 or float), got dtype "
                f"{arr.dtype}"
            )
    if arr.ndim == 3:
        arr = arr[:, None, :, :]
    if arr.ndim != 4:
        raise InputError(
            f"{name} must have shape (N, H, W), (N, H, W, C) or (N, C, H, W), got {tuple(arr.shape)}"
        )
    if arr.shape[0] == 0:
        raise InputError(f"{name} is empty; pass at least one image")
    channels_last = arr.shape[-1] in (1, 3, 4) and arr.shape[1] not in (1, 3, 4)
    if channels_last:
        arr = arr.permute(0, 3, 1, 2) if isinstance(arr, torch.Tensor) else arr.transpose(0, 3, 1, 2)
    return arr


@dataclass
class ImageData:
    """Images and labels for search or training.

    Attributes:
        images: ``(N, C, H, W)`` tensor, uint8 (0..255) or float32 (already scaled).
        labels: ``(N,)`` int64 tensor in ``0..n_classes - 1``.
        mean, std: per-channel normalisation (of the scaled images), tuples of ``C`` floats.
        n_classes: number of classes.
    """

    images: torch.Tensor
    labels: torch.Tensor
    mean: tuple[float, ...]
    std: tuple[float, ...]
    n_classes: int

    @classmethod
    def from_arrays(cls, X: Any, y: Any, *, mean: Sequence[float] | None = None,
                    std: Sequence[float] | None = None, n_classes: int | None = None
                    ) -> ImageData:
        """Validate ``(X, y)`` and wrap them.

        Args:
            X: images ``(N, H, W)``, ``(N, H, W, C)`` or ``(N, C, H, W)``; uint8 0..255 or float
                (used as is, e.g. already in [0, 1]).
            y: ``N`` integer class labels ``0..K-1``.
            mean, std: per-channel statistics of the scaled images; computed from ``X`` if None.
            n_classes: number of classes; ``max(y) + 1`` if None.

        Raises:
            InputTypeError: non-numeric images or labels.
            InputError: wrong shapes, empty data, NaN/inf, negative or non-integer labels,
                fewer than 2 classes.
        """
        arr = _as_nchw(X, "X")
        if isinstance(arr, torch.Tensor):
            images = arr.contiguous()
        else:
            images = torch.from_numpy(np.ascontiguousarray(arr))
        if images.dtype != torch.uint8:
            images = images.to(torch.float32)
            if not bool(torch.isfinite(images).all()):
                raise InputError("X contains NaN or inf; clean the images first")
        labels_np = y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else np.asarray(y)
        if labels_np.ndim != 1 or labels_np.shape[0] != images.shape[0]:
            raise InputError(
                f"y must be a 1-d array with one label per image ({images.shape[0]}), got shape "
                f"{labels_np.shape}"
            )
        if not np.issubdtype(labels_np.dtype, np.number) or labels_np.dtype == np.bool_:
            raise InputTypeError(f"y must hold integer class labels, got dtype {labels_np.dtype}")
        if not np.all(np.isfinite(labels_np)) or np.any(labels_np != np.round(labels_np)):
            raise InputError("y must hold integer class labels 0..K-1 (no NaN, no fractions)")
        if labels_np.min() < 0:
            raise InputError(f"y must hold class labels 0..K-1, got {labels_np.min()}")
        labels = torch.from_numpy(labels_np.astype(np.int64))
        k = int(labels.max()) + 1 if n_classes is None else int(n_classes)
        n_distinct = len(np.unique(labels_np))
        if n_classes is None and k > max(1000, 10 * len(labels_np)):
            # a classifier over max(y) + 1 classes, nearly all empty: ids, not class indices
            raise InputError(
                f"y must hold class indices 0..K-1, but its largest label is {k - 1} for "
                f"{n_distinct} distinct labels in {len(labels_np)} images (the classifier would "
                f"get {k} outputs); map the labels with np.unique(y, return_inverse=True)[1], or "
                "pass n_classes=")
        if k < 2 or len(np.unique(labels_np)) < 2:
            raise InputError("y must contain at least 2 classes for classification")
        if int(labels.max()) >= k:
            raise InputError(f"labels go up to {int(labels.max())} but n_classes={k}")
        C = images.shape[1]
        if mean is None or std is None:
            scaled = images.float() / (255.0 if images.dtype == torch.uint8 else 1.0)
            m = scaled.mean(dim=(0, 2, 3))
            s = scaled.std(dim=(0, 2, 3)).clamp_min(1e-6)
            mean = tuple(m.tolist()) if mean is None else mean
            std = tuple(s.tolist()) if std is None else std
        if len(mean) != C or len(std) != C:
            raise InputError(f"mean and std need {C} values (one per channel), got "
                             f"{len(mean)} and {len(std)}")
        if any(float(v) <= 0 for v in std):
            raise InputError(f"std must be positive, got {tuple(std)}")
        return cls(images, labels, tuple(float(v) for v in mean), tuple(float(v) for v in std), k)

    @classmethod
    def coerce(cls, data: Any, name: str) -> ImageData:
        """``data`` as an :class:`ImageData` (``(X, y)`` arrays are wrapped).

        Raises:
            InputTypeError: neither an ImageData nor an ``(X, y)`` tuple (``name`` in the message).
        """
        if isinstance(data, ImageData):
            return data
        if isinstance(data, tuple) and len(data) == 2:
            return cls.from_arrays(*data)
        raise InputTypeError(f"{name} must be an ImageData or an (X, y) tuple, got "
                             f"{type(data).__name__}")

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(C, H, W)``."""
        _, C, H, W = self.images.shape
        return int(C), int(H), int(W)

    def subset(self, index: Any) -> ImageData:
        """The images at ``index`` (array of ints), keeping normalisation and class count."""
        idx = torch.as_tensor(np.asarray(index), dtype=torch.long, device=self.images.device)
        return ImageData(self.images.index_select(0, idx), self.labels.index_select(0, idx),
                         self.mean, self.std, self.n_classes)

    def to(self, device: str | torch.device) -> ImageData:
        """A copy on ``device``."""
        return ImageData(self.images.to(device), self.labels.to(device), self.mean, self.std,
                         self.n_classes)


def resolve_device(device: str | torch.device) -> torch.device:
    """``device`` as a ``torch.device`` that exists here.

    Raises:
        InputError: not a device name, CUDA asked for without CUDA (or a CUDA index this
            machine lacks), the ``meta`` device, or another backend this torch cannot use.
    """
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise InputError(f"device {device!r} is not a torch device: {exc}") from exc
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise InputError(f"device={device!r} but CUDA is not available; use device='cpu'")
        n = torch.cuda.device_count()
        if dev.index is not None and dev.index >= n:
            raise InputError(f"device={device!r} but this machine has {n} CUDA device(s) "
                             f"(cuda:0..cuda:{n - 1}); pick one of them")
    elif dev.type == "meta":
        raise InputError("device='meta' holds no data; use device='cpu' or 'cuda'")
    elif dev.type != "cpu":
        try:
            torch.empty(1, device=dev)
        except Exception as exc:  # each backend fails its own way (NotImplemented, Assertion...)
            raise InputError(f"device={device!r} is not usable with this torch build "
                             f"({type(exc).__name__}); use device='cpu' or 'cuda'") from exc
    return dev


def search_split(data: ImageData, portion: float = 0.5, random_state: RandomState = 0
                 ) -> tuple[ImageData, ImageData]:
    """Split a training set into search-train and search-valid parts (stratified by class).

    DARTS uses the two halves of CIFAR-10's training set (25k / 25k). The split is a seeded
    stratified permutation (our CIFAR-10 arrays are sorted by class, so a plain cut would not do).

    Raises:
        InputError: ``portion`` outside (0, 1), or a split that leaves a part empty.
    """
    if not 0.0 < float(portion) < 1.0:
        raise InputError(f"portion must be in (0, 1), got {portion}")
    rng = check_random_state(random_state)
    labels = data.labels.cpu().numpy()
    first, second = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        cut = int(round(portion * len(idx)))
        first.append(idx[:cut])
        second.append(idx[cut:])
    a = rng.permutation(np.concatenate(first))
    b = rng.permutation(np.concatenate(second))
    if len(a) == 0 or len(b) == 0:
        raise InputError(f"portion={portion} leaves an empty part of {len(data)} images")
    return data.subset(a), data.subset(b)


class BatchLoader:
    """Shuffled batches with device-side augmentation.

    Args:
        data: the images (on the device where batches are wanted).
        batch_size: images per batch (clipped to ``len(data)``).
        augment: random crop (zero padding ``pad``) + horizontal flip, as in DARTS.
        cutout: side of the cutout square (0 = off; DARTS' evaluation uses 16).
        pad: crop padding.
        drop_last: drop the last incomplete batch (fixed shapes, as CUDA graphs need).
        generator: a ``torch.Generator`` on the data's device.
        channels_last: return batches in channels-last memory format.
    """

    def __init__(self, data: ImageData, batch_size: int, *, augment: bool = True,
                 cutout: int = 0, pad: int = 4, drop_last: bool = True,
                 generator: torch.Generator | None = None, channels_last: bool = False,
                 shuffle: bool = True) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise InputError(f"batch_size must be a positive int, got {batch_size!r}")
        self.data = data
        self.batch_size = min(batch_size, len(data))
        self.augment, self.cutout, self.pad = augment, int(cutout), int(pad)
        self.drop_last, self.shuffle = drop_last, shuffle
        self.generator = generator
        self.channels_last = channels_last
        device = data.images.device
        C = data.images.shape[1]
        self._mean = torch.tensor(data.mean, device=device).view(1, C, 1, 1)
        self._std = torch.tensor(data.std, device=device).view(1, C, 1, 1)
        self._scale = 255.0 if data.images.dtype == torch.uint8 else 1.0

    def __len__(self) -> int:
        n = len(self.data)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = len(self.data)
        device = self.data.images.device
        order = (torch.randperm(n, generator=self.generator, device=device) if self.shuffle
                 else torch.arange(n, device=device))
        for b in range(len(self)):
            idx = order[b * self.batch_size:(b + 1) * self.batch_size]
            yield self.batch(idx)

    def batch(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The (augmented, normalised) batch of the images at ``idx``."""
        x = self.data.images.index_select(0, idx)
        y = self.data.labels.index_select(0, idx)
        if self.augment:
            x = self._crop_flip(x)
        x = (x.float() / self._scale - self._mean) / self._std
        if self.cutout > 0 and self.augment:
            x = self._cutout(x)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x, y

    def _crop_flip(self, x: torch.Tensor) -> torch.Tensor:
        B, C, H, W = x.shape
        p, dev, g = self.pad, x.device, self.generator
        padded = torch.nn.functional.pad(x, (p, p, p, p)) if p else x
        oy = torch.randint(0, 2 * p + 1, (B,), generator=g, device=dev)
        ox = torch.randint(0, 2 * p + 1, (B,), generator=g, device=dev)
        flip = torch.rand(B, generator=g, device=dev) < 0.5
        ar_h = torch.arange(H, device=dev)
        ar_w = torch.arange(W, device=dev)
        rows = oy[:, None] + ar_h
        cols = ox[:, None] + torch.where(flip[:, None], W - 1 - ar_w, ar_w)
        bi = torch.arange(B, device=dev)[:, None, None, None]
        ci = torch.arange(C, device=dev)[None, :, None, None]
        return padded[bi, ci, rows[:, None, :, None], cols[:, None, None, :]]

    def _cutout(self, x: torch.Tensor) -> torch.Tensor:
        B, _, H, W = x.shape
        L, dev, g = self.cutout, x.device, self.generator
        cy = torch.randint(0, H, (B, 1, 1), generator=g, device=dev)
        cx = torch.randint(0, W, (B, 1, 1), generator=g, device=dev)
        r = torch.arange(H, device=dev)[None, :, None]
        c = torch.arange(W, device=dev)[None, None, :]
        hole = ((r >= cy - L // 2) & (r < cy + L // 2) & (c >= cx - L // 2) & (c < cx + L // 2))
        return x * (~hole)[:, None].to(x.dtype)
