"""Training a derived network from scratch and measuring its test accuracy.

:func:`train_network` follows DARTS' evaluation recipe by default (SGD momentum 0.9, lr 0.025
cosine-annealed to 0, weight decay 3e-4, gradient clipping 5, cutout 16, drop path 0.2 increased
linearly over the epochs, auxiliary loss weight 0.4 when the network has an auxiliary head; DARTS
trains 600 epochs at batch 96). NAS-Bench-201's recipe is ``lr=0.1, weight_decay=5e-4,
batch_size=256, epochs=200, cutout=0, drop_path_prob=0``.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from warmnas._random import RandomState, check_random_state, derive_seed, torch_generator
from warmnas.errors import InputError, InputTypeError
from warmnas.nas.data import BatchLoader, ImageData, resolve_device

__all__ = ["TrainResult", "train_network", "evaluate"]

logger = logging.getLogger(__name__)


@dataclass
class TrainResult:
    """Outcome of :func:`train_network`.

    Attributes:
        test_accuracy: top-1 accuracy on the test data (fraction), ``None`` without test data.
        test_loss: mean cross-entropy on the test data.
        history: one dict per epoch (lr, train loss/accuracy, seconds).
        train_time_s: wall time of the training loop.
        model: the trained network (on its training device).
    """

    test_accuracy: float | None
    test_loss: float | None
    history: list[dict[str, Any]] = field(default_factory=list)
    train_time_s: float = 0.0
    model: nn.Module | None = None



def _amp(device: torch.device, enabled: bool) -> contextlib.AbstractContextManager[Any]:
    if enabled:
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


@torch.no_grad()
def evaluate(model: nn.Module, data: ImageData | tuple[Any, Any], *, batch_size: int = 500,
             device: str | torch.device | None = None, autocast: bool = False,
             channels_last: bool = False) -> tuple[float, float]:
    """Mean cross-entropy and top-1 accuracy of ``model`` on ``data`` (eval mode, no augmentation).

    Returns:
        ``(loss, accuracy)``; accuracy is a fraction in [0, 1].
    """
    data = ImageData.coerce(data, "data")
    dev = torch.device(device) if device is not None else next(model.parameters()).device
    loader = BatchLoader(data.to(dev), batch_size, augment=False, drop_last=False, shuffle=False,
                         channels_last=channels_last)
    was_training = model.training
    model.eval()
    total_loss, correct, n = 0.0, 0, 0
    try:
        for x, y in loader:
            with _amp(dev, autocast):
                logits = model(x)
            total_loss += float(F.cross_entropy(logits.float(), y, reduction="sum"))
            correct += int((logits.argmax(dim=1) == y).sum())
            n += int(y.shape[0])
    finally:
        model.train(was_training)
    return total_loss / n, correct / n


def _check_model_fits(model: nn.Module, image_shape: tuple[int, int, int], n_classes: int,
                      device: torch.device) -> None:
    """One forward pass in eval mode (no state changes) before any training: the model must
    take the images and give at least one logit per class."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(torch.zeros((2, *image_shape), device=device))
    except InputError:
        raise
    except Exception as exc:  # the user's module may fail in any way
        raise InputError(f"model cannot classify the train images of shape {image_shape} "
                         f"(C, H, W): {type(exc).__name__}: {exc}") from exc
    finally:
        model.train(was_training)
    if isinstance(out, tuple):  # (logits, auxiliary logits)
        out = out[0]
    if not isinstance(out, torch.Tensor) or out.ndim != 2 or out.shape[1] < n_classes:
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise InputError(f"model outputs {got} for 2 images, but the labels need {n_classes} "
                         f"classes; build it with num_classes={n_classes}")


def train_network(model: nn.Module, train: ImageData | tuple[Any, Any],
                  test: ImageData | tuple[Any, Any] | None = None, *, epochs: int = 600,
                  batch_size: int = 96, lr: float = 0.025, lr_min: float = 0.0,
                  momentum: float = 0.9, nesterov: bool = False, weight_decay: float = 3e-4,
                  grad_clip: float | None = 5.0, auxiliary_weight: float = 0.4,
                  drop_path_prob: float = 0.2, cutout: int = 16, augment: bool = True,
                  device: str | torch.device = "cpu", autocast: bool | str = "auto",
                  channels_last: bool | str = "auto", max_steps_per_epoch: int | None = None,
                  random_state: RandomState = None, progress: bool | None = None) -> TrainResult:
    """Train a derived network from scratch and report its test accuracy.

    Args:
        model: e.g. from :func:`warmnas.nas.networks.build_network` (moved to ``device``).
        train: training images, an :class:`ImageData` or ``(X, y)``.
        test: test images; normalised with the training mean/std.
        epochs, batch_size, lr, lr_min, momentum, nesterov, weight_decay, grad_clip: SGD with a
            per-epoch cosine schedule from ``lr`` to ``lr_min``.
        auxiliary_weight: weight of the auxiliary head's loss (if the model has one).
        drop_path_prob: final drop-path probability (linearly increased from 0), DARTS networks.
        cutout: cutout square side (0 = off).
        augment: random crop + flip.
        device, autocast, channels_last: as in :class:`~warmnas.nas.search.DARTSSearch`.
        max_steps_per_epoch: cap on steps per epoch (quick runs).
        random_state: seed of batches, augmentation and drop path (the model's own initial
            weights are whatever it was built with).
        progress: tqdm bar; ``None`` = only on a terminal.

    Returns:
        A :class:`TrainResult` (test accuracy as a fraction).
    """
    if not isinstance(model, nn.Module):
        raise InputTypeError(f"model must be an nn.Module, got {type(model).__name__}")
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise InputError(f"{name} must be a positive int, got {value!r}")
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise InputError(f"lr must be a positive finite number, got {lr!r}")
    dev = resolve_device(device)
    use_amp = (dev.type == "cuda") if autocast == "auto" else bool(autocast)
    use_cl = (dev.type == "cuda") if channels_last == "auto" else bool(channels_last)
    train_data = ImageData.coerce(train, "train")
    test_data = None
    if test is not None:
        t = ImageData.coerce(test, "test")
        test_data = ImageData(t.images, t.labels, train_data.mean, train_data.std,
                              max(t.n_classes, train_data.n_classes))
    rng = check_random_state(random_state)
    gen = torch_generator(derive_seed(rng), dev)
    model = model.to(dev)
    n_classes = max(train_data.n_classes, test_data.n_classes if test_data is not None else 0)
    _check_model_fits(model, train_data.image_shape, n_classes, dev)
    if use_cl:
        model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    loader = BatchLoader(train_data.to(dev), batch_size, augment=augment, cutout=cutout,
                         drop_last=False, generator=gen, channels_last=use_cl)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, nesterov=nesterov,
                          weight_decay=weight_decay)
    history: list[dict[str, Any]] = []
    n_steps = min(len(loader), max_steps_per_epoch or len(loader))
    bar = None
    if progress is not False:
        from tqdm.auto import tqdm

        bar = tqdm(total=epochs * n_steps, desc="train", unit="it",
                   disable=None if progress is None else False, leave=False)
    start = time.perf_counter()
    try:
        for epoch in range(epochs):
            t0 = time.perf_counter()
            cur_lr = lr_min + (lr - lr_min) * (1 + math.cos(math.pi * epoch / epochs)) / 2
            for group in opt.param_groups:
                group["lr"] = cur_lr
            dp = drop_path_prob * epoch / epochs
            model.train()
            loss_sum = torch.zeros((), device=dev, dtype=torch.float64)
            correct = torch.zeros((), device=dev, dtype=torch.float64)
            seen = 0
            for step, (x, y) in enumerate(loader):
                if step >= n_steps:
                    break
                opt.zero_grad(set_to_none=True)
                with _amp(dev, use_amp):
                    if hasattr(model, "forward_with_aux"):
                        logits, aux = model.forward_with_aux(x, dp, gen)  # type: ignore[operator]
                    else:
                        logits, aux = model(x), None
                loss = F.cross_entropy(logits.float(), y)
                if aux is not None:
                    loss = loss + auxiliary_weight * F.cross_entropy(aux.float(), y)
                loss.backward()
                if grad_clip is not None:
                    nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
                opt.step()
                loss_sum += loss.detach().double() * y.shape[0]
                correct += (logits.argmax(dim=1) == y).sum()
                seen += int(y.shape[0])
                if bar is not None:
                    bar.update(1)
            record = {"epoch": epoch + 1, "lr": cur_lr, "drop_path_prob": dp,
                      "train_loss": float(loss_sum) / max(seen, 1),
                      "train_acc": float(correct) / max(seen, 1),
                      "seconds": time.perf_counter() - t0}
            history.append(record)
            logger.info("train epoch %d/%d loss %.4f acc %.4f (%.1fs)", epoch + 1, epochs,
                        record["train_loss"], record["train_acc"], record["seconds"])
    finally:
        if bar is not None:
            bar.close()
    elapsed = time.perf_counter() - start
    test_loss = test_acc = None
    if test_data is not None:
        test_loss, test_acc = evaluate(model, test_data, device=dev, autocast=use_amp,
                                       channels_last=use_cl)
    return TrainResult(test_acc, test_loss, history, elapsed, model)
