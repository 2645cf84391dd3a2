"""Image meta-features: names, values on known images, determinism, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from warmnas.errors import InputError, InputTypeError
from warmnas.nas.meta.embedding import STAT_NAMES, image_meta_features


def _images(n_classes: int = 3, per: int = 20, channels: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (n_classes * per, 8, 8, channels), dtype=np.uint8)
    return X, np.repeat(np.arange(n_classes), per)


def test_names_and_known_values() -> None:
    X, y = _images()
    f = image_meta_features((X, y), random_state=0)
    assert set(STAT_NAMES) <= set(f)
    assert len([k for k in f if k.startswith("Probe")]) == 24
    assert f["NumberOfClasses"] == 3 and f["Channels"] == 1
    assert math.isclose(f["LogNumberOfImages"], math.log(60))
    assert math.isclose(f["LogImageSide"], math.log(8))
    assert math.isclose(f["PixelMean"], X.mean() / 255.0, rel_tol=1e-5)
    assert f["ColorSpread"] == 0.0
    assert math.isclose(sum(v for k, v in f.items() if k.startswith("Probe")), 1.0, rel_tol=1e-5)
    black = np.zeros_like(X)
    black[:, 0, 0] = 255
    g = image_meta_features((black, y), probe=False)
    assert g["DarkPixelShare"] == pytest.approx(63 / 64)
    assert not any(k.startswith("Probe") for k in g)
    rgb = image_meta_features(_images(channels=3), probe=False)
    assert rgb["Channels"] == 3 and rgb["ColorSpread"] > 0


def test_deterministic_and_subsampled() -> None:
    X, y = _images(per=40)
    a = image_meta_features((X, y), max_images=30, random_state=1)
    b = image_meta_features((X, y), max_images=30, random_state=1)
    assert a == b
    assert math.isclose(a["LogNumberOfImages"], math.log(120))  # counts use all images


def test_errors() -> None:
    X, y = _images()
    with pytest.raises(InputError, match="at least 2 classes"):
        image_meta_features((X, np.zeros(len(y), dtype=int)))
    with pytest.raises(InputError, match="max_images must be an int >= 10"):
        image_meta_features((X, y), max_images=3)
    with pytest.raises(InputTypeError, match="must be an ImageData"):
        image_meta_features("images")
