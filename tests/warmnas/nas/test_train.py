"""train_network: a derived network trains from scratch and reports test accuracy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from warmnas.errors import InputError, InputTypeError
from warmnas.nas.data import ImageData
from warmnas.nas.genotype import DARTS_V2
from warmnas.nas.networks import build_network
from warmnas.nas.train import evaluate, train_network

ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"


def _separable(n: int, seed: int, size: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Two classes told apart by brightness: any working training loop learns it."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    X = rng.integers(0, 100, size=(n, size, size, 3)) + 150 * y[:, None, None, None]
    return X.astype(np.uint8), y


def test_nb201_network_learns() -> None:
    torch.manual_seed(0)
    model = build_network(ARCH, C=4, layers=1, num_classes=2)
    train = ImageData.from_arrays(*_separable(128, 0))
    test = ImageData.from_arrays(*_separable(64, 1), mean=train.mean, std=train.std)
    res = train_network(model, train, test, epochs=3, batch_size=32, lr=0.05, cutout=0,
                        drop_path_prob=0.0, random_state=0, progress=False)
    assert res.test_accuracy is not None and res.test_accuracy >= 0.9
    assert len(res.history) == 3 and res.history[-1]["train_loss"] < res.history[0]["train_loss"]
    loss, acc = evaluate(res.model, test)
    assert acc == pytest.approx(res.test_accuracy) and loss == pytest.approx(res.test_loss)


def test_darts_network_with_aux_and_drop_path_runs() -> None:
    torch.manual_seed(0)
    model = build_network(DARTS_V2, C=4, layers=3, num_classes=2, auxiliary=True)
    # the auxiliary head expects the 8x8 maps of 32x32 inputs, as in DARTS
    res = train_network(model, _separable(16, 0, 32), _separable(8, 1, 32), epochs=2,
                        batch_size=8,
                        cutout=4, max_steps_per_epoch=1, random_state=0, progress=False)
    assert res.history[1]["drop_path_prob"] == pytest.approx(0.1)
    assert 0.0 <= res.test_accuracy <= 1.0


def test_train_errors() -> None:
    with pytest.raises(InputTypeError, match="model must be an nn.Module"):
        train_network("net", _separable(8, 0))  # type: ignore[arg-type]
    model = build_network(ARCH, C=4, layers=1, num_classes=2)
    with pytest.raises(InputError, match="epochs must be a positive int"):
        train_network(model, _separable(8, 0), epochs=0)


def test_model_that_does_not_fit_the_data_fails_before_training() -> None:
    X, y = _separable(8, 0)
    two_way = build_network(ARCH, C=4, layers=1, num_classes=2)
    with pytest.raises(InputError, match=r"outputs \(2, 2\) for 2 images, but the labels need 7 "
                                         r"classes; build it with num_classes=7"):
        train_network(two_way, (X, np.where(y == 1, 6, 0)), epochs=1)  # was IndexError
    with pytest.raises(InputError, match=r"model cannot classify the train images of shape "
                                         r"\(1, 8, 8\)"):
        train_network(two_way, (X[..., 0], y), epochs=1)  # was a conv channel RuntimeError
    assert two_way.training  # the check leaves the mode as it was
