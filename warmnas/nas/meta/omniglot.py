"""Omniglot (Lake et al. 2015) for few-shot meta-learning.

The shared data folder holds the two "small" background sets of the Omniglot repository
(``omniglot/images_background_small1.zip``: Balinese, Early_Aramaic, Greek, Korean, Latin;
``images_background_small2.zip``: Greek, Japanese_(katakana), Latin, Sanskrit, Tagalog), 20
drawings of each character as 105x105 binary PNGs. Greek and Latin are in both zips (identical
files) and are read once: 8 alphabets, 242 characters, 4,840 images.

:func:`load_omniglot` decodes them once (inverted so strokes are bright on black, resized with
Lanczos to ``size x size``, 28 by default as in MAML / Reptile / MetaNAS) into a uint8 array cached
as an ``.npz`` (no pickle) under ``cache_dir``; later calls read the cache.

:func:`omniglot_tasks` draws N-way K-shot tasks from a disjoint alphabet split:

* meta-train: ``OMNIGLOT_TRAIN_ALPHABETS`` = Balinese, Early_Aramaic, Japanese_(katakana), Korean,
  Sanskrit (175 characters);
* meta-test: ``OMNIGLOT_TEST_ALPHABETS`` = Greek, Latin, Tagalog (67 characters).

Rotations by 90, 180 and 270 degrees add classes (``rotations=True``, the convention of Santoro
et al. 2016 used by MAML, Reptile and MetaNAS; 700 meta-train and 268 meta-test classes). The
split is by alphabet, so no character (rotated or not) of a meta-test task was seen in
meta-training.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from warmnas._io import atomic_write
from warmnas._random import RandomState, check_random_state
from warmnas.errors import CorruptDatabaseError, InputError, MissingDataError, StorageError
from warmnas.nas.data import ImageData
from warmnas.nas.meta.tasks import ClassTaskDistribution

__all__ = [
    "OMNIGLOT_ZIPS",
    "OMNIGLOT_TRAIN_ALPHABETS",
    "OMNIGLOT_TEST_ALPHABETS",
    "OmniglotData",
    "load_omniglot",
    "omniglot_classification",
    "omniglot_tasks",
]

logger = logging.getLogger(__name__)

OMNIGLOT_ZIPS = ("images_background_small1.zip", "images_background_small2.zip")
OMNIGLOT_TRAIN_ALPHABETS = ("Balinese", "Early_Aramaic", "Japanese_(katakana)", "Korean",
                            "Sanskrit")
OMNIGLOT_TEST_ALPHABETS = ("Greek", "Latin", "Tagalog")
_CACHE_VERSION = 1
_N_DRAWINGS = 20


@dataclass(frozen=True)
class OmniglotData:
    """Decoded Omniglot characters.

    Attributes:
        images: ``(n_characters, 20, size, size)`` uint8, strokes 255 on background 0.
        alphabets: the alphabet of each character.
        characters: ``"<alphabet>/<characterNN>"`` per character.
    """

    images: np.ndarray
    alphabets: tuple[str, ...]
    characters: tuple[str, ...]

    def select(self, alphabets: Sequence[str]) -> OmniglotData:
        """The characters of ``alphabets``.

        Raises:
            InputError: an alphabet that is not in the data.
        """
        known = sorted(set(self.alphabets))
        bad = [a for a in alphabets if a not in known]
        if bad:
            raise InputError(f"unknown Omniglot alphabet(s) {bad}; known: {known}")
        keep = np.array([a in set(alphabets) for a in self.alphabets])
        return OmniglotData(self.images[keep],
                            tuple(a for a, k in zip(self.alphabets, keep) if k),
                            tuple(c for c, k in zip(self.characters, keep) if k))


def _default_data_dir() -> Path:
    from warmnas.nas.data import default_data_dir

    return default_data_dir()


def _find_zips(data_dir: str | os.PathLike[str] | None) -> list[Path]:
    base = _default_data_dir() if data_dir is None else Path(data_dir)
    for folder in (base, base / "omniglot"):
        paths = [folder / z for z in OMNIGLOT_ZIPS]
        if all(p.is_file() for p in paths):
            return paths
    raise MissingDataError(
        f"Omniglot zips {OMNIGLOT_ZIPS} not found under {base} or {base / 'omniglot'}; pass "
        "data_dir= the shared data folder (holding omniglot/) or the omniglot folder itself, or "
        "set WARMNAS_SHARED_DATA"
    )


def _fingerprint(paths: Sequence[Path]) -> str:
    h = hashlib.sha256()
    for path in paths:
        size = path.stat().st_size
        h.update(f"{path.name}:{size}".encode())
        with open(path, "rb") as fh:
            h.update(fh.read(1 << 16))
            fh.seek(max(0, size - (1 << 16)))
            h.update(fh.read())
    return h.hexdigest()[:16]


def _decode(paths: Sequence[Path], size: int) -> OmniglotData:
    from PIL import Image

    chars: dict[tuple[str, str], dict[str, bytes]] = {}
    for path in paths:
        try:
            with zipfile.ZipFile(path) as zf:
                for name in zf.namelist():
                    parts = name.split("/")
                    if len(parts) != 4 or not parts[3].lower().endswith(".png"):
                        continue
                    key = (parts[1], parts[2])
                    if key in chars and parts[3] in chars[key]:
                        continue  # Greek and Latin are in both zips
                    chars.setdefault(key, {})[parts[3]] = zf.read(name)
        except (zipfile.BadZipFile, OSError) as exc:
            raise CorruptDatabaseError(f"cannot read the Omniglot zip {path}: {exc}") from exc
    keys = sorted(chars)
    if not keys:
        raise CorruptDatabaseError(
            f"no Omniglot drawings in {[p.name for p in paths]} (expected PNG files at "
            "<set>/<alphabet>/<character>/<drawing>.png); restore the zips from the shared data")
    images = np.empty((len(keys), _N_DRAWINGS, size, size), dtype=np.uint8)
    for i, key in enumerate(keys):
        files = sorted(chars[key])
        if len(files) != _N_DRAWINGS:
            raise CorruptDatabaseError(
                f"Omniglot character {key[0]}/{key[1]} has {len(files)} drawings, expected "
                f"{_N_DRAWINGS}"
            )
        for j, fname in enumerate(files):
            try:
                with Image.open(io.BytesIO(chars[key][fname])) as img:
                    gray = img.convert("L")
            except (OSError, ValueError) as exc:  # PIL's UnidentifiedImageError is an OSError
                raise CorruptDatabaseError(
                    f"cannot decode the Omniglot image {key[0]}/{key[1]}/{fname} ({exc}); "
                    "restore the zips from the shared data") from None
            if gray.size != (105, 105):
                raise CorruptDatabaseError(
                    f"Omniglot image {key[0]}/{key[1]}/{fname} is {gray.size}, not 105x105")
            if size != 105:
                gray = gray.resize((size, size), resample=Image.Resampling.LANCZOS)
            images[i, j] = 255 - np.asarray(gray, dtype=np.uint8)
    return OmniglotData(images, tuple(k[0] for k in keys), tuple(f"{a}/{c}" for a, c in keys))


def load_omniglot(data_dir: str | os.PathLike[str] | None = None, *, size: int = 28,
                  cache_dir: str | os.PathLike[str] | None = None) -> OmniglotData:
    """Omniglot characters as uint8 arrays, decoded once and cached.

    Args:
        data_dir: the shared data folder (with ``omniglot/``) or the omniglot folder; default
            ``$WARMNAS_SHARED_DATA`` or ``../shared/data``.
        size: image side after resizing (28 is the few-shot standard; 105 keeps the originals).
        cache_dir: where the decoded ``.npz`` lives; default ``$WARMNAS_CACHE_DIR`` or the user
            cache folder (``~/.cache/warmnas`` on Linux).

    Returns:
        An :class:`OmniglotData` (242 characters x 20 drawings).

    Raises:
        MissingDataError: the zips are not there.
        CorruptDatabaseError: an unreadable zip or cache, or an unexpected image.
        InputError: a bad ``size``.
    """
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not 4 <= size <= 105:
        raise InputError(f"size must be an int in 4..105 (pixels), got {size!r}")
    size = int(size)
    paths = _find_zips(data_dir)
    from warmnas.nas.data import default_cache_dir

    cache = default_cache_dir() if cache_dir is None else Path(cache_dir)
    target = cache / f"omniglot-v{_CACHE_VERSION}-{_fingerprint(paths)}-{size}px.npz"
    if target.is_file():
        try:
            with np.load(target, allow_pickle=False) as npz:
                meta = json.loads(str(npz["meta"]))
                return OmniglotData(np.array(npz["images"]), tuple(meta["alphabets"]),
                                    tuple(meta["characters"]))
        except (OSError, ValueError, KeyError) as exc:
            raise CorruptDatabaseError(
                f"the Omniglot cache {target} is damaged ({exc}); delete it to rebuild"
            ) from exc
    try:  # before decoding, so an unusable cache_dir costs nothing
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"cannot create the Omniglot cache {cache}: {exc}; pass cache_dir= a "
                           "writable folder (or set WARMNAS_CACHE_DIR)") from exc
    logger.info("decoding Omniglot %s into %s (once)", [p.name for p in paths], target)
    data = _decode(paths, size)
    meta = json.dumps({"alphabets": list(data.alphabets), "characters": list(data.characters),
                       "version": _CACHE_VERSION, "size": size})
    atomic_write(target, lambda fh: np.savez(fh, images=data.images, meta=np.array(meta)))
    return data


def omniglot_tasks(data_dir: str | os.PathLike[str] | None = None, *, split: str = "train",
                   n_way: int = 5, k_shot: int = 1, q_query: int = 5, size: int = 28,
                   rotations: bool = True, alphabets: Sequence[str] | None = None,
                   cache_dir: str | os.PathLike[str] | None = None,
                   device: str | torch.device = "cpu",
                   data: OmniglotData | None = None) -> ClassTaskDistribution:
    """N-way K-shot Omniglot tasks from the meta-train or meta-test alphabets.

    Args:
        data_dir, size, cache_dir: as in :func:`load_omniglot`.
        split: ``"train"`` (``OMNIGLOT_TRAIN_ALPHABETS``) or ``"test"``
            (``OMNIGLOT_TEST_ALPHABETS``); ignored when ``alphabets`` is given.
        n_way, k_shot, q_query: task sizes (``k_shot + q_query <= 20``).
        rotations: rotated characters as extra classes (x4).
        alphabets: an explicit alphabet list instead of the split.
        device: where the images live and tasks are drawn.
        data: an already loaded :class:`OmniglotData` (skips loading; ``size`` is then its size).

    Returns:
        A :class:`~warmnas.nas.meta.tasks.ClassTaskDistribution` (normalised with mean/std of the
        selected images).

    Raises:
        InputError: unknown split or alphabet, task sizes the data cannot serve.
    """
    if alphabets is None:
        if split not in ("train", "test"):
            raise InputError(f"split must be 'train' or 'test', got {split!r}")
        alphabets = OMNIGLOT_TRAIN_ALPHABETS if split == "train" else OMNIGLOT_TEST_ALPHABETS
    if data is None:
        data = load_omniglot(data_dir, size=size, cache_dir=cache_dir)
    sub = data.select(list(alphabets))
    n_chars, n_draw, H, W = sub.images.shape
    X = sub.images.reshape(n_chars * n_draw, H, W)
    y = np.repeat(np.arange(n_chars), n_draw)
    chosen = tuple(alphabets)
    name = ("omniglot-train" if chosen == OMNIGLOT_TRAIN_ALPHABETS else
            "omniglot-test" if chosen == OMNIGLOT_TEST_ALPHABETS else "omniglot-custom")
    return ClassTaskDistribution(X, y, n_way=n_way, k_shot=k_shot, q_query=q_query,
                                 rotations=rotations, class_names=list(sub.characters),
                                 device=device, name=name)


def omniglot_classification(data: OmniglotData, *, n_way: int = 20, n_train: int = 10,
                            alphabets: Sequence[str] = OMNIGLOT_TEST_ALPHABETS,
                            random_state: RandomState = 0) -> tuple[ImageData, ImageData]:
    """A new ``n_way`` classification task (not an episode): ``n_way`` characters of
    ``alphabets`` drawn at random, their first ``n_train`` drawings to train, the others to
    validate (normalised with the train statistics). The warm-start benchmarks search on it.

    Returns:
        ``(train, valid)`` :class:`~warmnas.nas.data.ImageData`, labels ``0..n_way-1``.

    Raises:
        InputError: more characters than ``alphabets`` have, or ``n_train`` outside
            ``1..19``.
    """
    pool = data.select(list(alphabets))
    if not 1 <= int(n_way) <= pool.images.shape[0]:
        raise InputError(f"n_way must be between 1 and {pool.images.shape[0]} (characters of "
                         f"{list(alphabets)}), got {n_way!r}")
    if not 1 <= int(n_train) < _N_DRAWINGS:
        raise InputError(f"n_train must be between 1 and {_N_DRAWINGS - 1} (each character "
                         f"has {_N_DRAWINGS} drawings), got {n_train!r}")
    rng = check_random_state(random_state)
    chars = rng.choice(pool.images.shape[0], size=int(n_way), replace=False)
    imgs = pool.images[chars]                                   # (n_way, 20, H, W)
    y = np.repeat(np.arange(int(n_way)), int(n_train))
    train = ImageData.from_arrays(imgs[:, :n_train].reshape(-1, *imgs.shape[2:]), y)
    y_va = np.repeat(np.arange(int(n_way)), _N_DRAWINGS - int(n_train))
    valid = ImageData.from_arrays(imgs[:, n_train:].reshape(-1, *imgs.shape[2:]), y_va,
                                  mean=train.mean, std=train.std)
    return train, valid

