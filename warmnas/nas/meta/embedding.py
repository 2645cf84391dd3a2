"""Meta-features of image classification datasets, for finding similar past NAS tasks.

Tabular meta-features (``metafeatures.extract``) do not describe image datasets well, so image
tasks in the meta-database carry their own view (``"image"``), computed here:

* shape: number of classes, log number of images, log images per class, channels, log side;
* pixel statistics (pixels scaled to [0, 1]): mean, standard deviation, share of dark
  background pixels, colour spread across channels, mean absolute spatial gradient, entropy of
  the 16-bin intensity histogram;
* separability: the ratio of between-class to within-class pixel variance on 8x8 thumbnails;
* a task2vec-style embedding (Achille et al. 2019): the diagonal Fisher information of a small
  *probe* network's filters, after fitting a linear head on its features, summed per filter and
  normalised (``Probe<layer>_<filter>``). Task2vec uses an ImageNet-pretrained probe; offline we
  use a fixed-seed random probe (the same for every dataset, grayscale 16x16 inputs), so the
  embedding reflects which random features the task's labels depend on. It is cheap (a few
  hundred images) and makes tasks of the same domain land close together.

Every feature is a float; the dict keys are stable names, so vectors of different datasets line
up by name (see :func:`warmnas.nas.meta.prior.find_alpha_prior`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from warmnas._random import RandomState, check_random_state, derive_seed
from warmnas.errors import InputError, InputTypeError

__all__ = ["image_meta_features", "IMAGE_VIEW", "STAT_NAMES", "FEATURE_SCALES"]

IMAGE_VIEW = "image"
STAT_NAMES = ("NumberOfClasses", "LogNumberOfImages", "LogImagesPerClass", "Channels",
              "LogImageSide", "PixelMean", "PixelStd", "DarkPixelShare", "ColorSpread",
              "GradientMean", "IntensityEntropy", "ClassSeparability")
#: How far apart two values of a statistic are "one unit" when comparing datasets (after
#: ``log`` for the counts): 10x the classes or images, 1 vs 3 channels, 4x the side, a quarter
#: of the intensity range, ... Fixed scales keep distances meaningful with few stored tasks
#: (z-scores over two or three tasks would blow tiny differences up to unit size).
FEATURE_SCALES: dict[str, tuple[bool, float]] = {
    "NumberOfClasses": (True, math.log(10.0)),
    "LogNumberOfImages": (False, math.log(10.0)),
    "LogImagesPerClass": (False, math.log(10.0)),
    "Channels": (False, 2.0),
    "LogImageSide": (False, math.log(4.0)),
    "PixelMean": (False, 0.25),
    "PixelStd": (False, 0.1),
    "DarkPixelShare": (False, 0.25),
    "ColorSpread": (False, 0.1),
    "GradientMean": (False, 0.1),
    "IntensityEntropy": (False, 0.25),
    "ClassSeparability": (True, 1.0),
}
_PROBE_SEED = 20240601
_PROBE_WIDTH = 8


def _as_images(data: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Images scaled to [0, 1] ``(N, C, H, W)`` float32 (CPU) and int labels ``(N,)``."""
    from warmnas.nas.data import ImageData
    from warmnas.nas.meta.tasks import ClassTaskDistribution

    if isinstance(data, ClassTaskDistribution):
        images, labels = data.class_images()
        scale = 255.0 if images.dtype == torch.uint8 else 1.0
        return images.float().cpu() / scale, labels.cpu()
    if isinstance(data, ImageData):
        img = data
    elif isinstance(data, tuple) and len(data) == 2:
        img = ImageData.from_arrays(*data)
    else:
        raise InputTypeError(
            "data must be an ImageData, an (X, y) tuple of images and labels or a "
            f"ClassTaskDistribution, got {type(data).__name__}"
        )
    scale = 255.0 if img.images.dtype == torch.uint8 else 1.0
    return img.images.float().cpu() / scale, img.labels.cpu()


def _probe(in_side: int) -> nn.Module:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(_PROBE_SEED)
        net = nn.Sequential(
            nn.Conv2d(1, _PROBE_WIDTH, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2),
            nn.Conv2d(_PROBE_WIDTH, _PROBE_WIDTH, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2),
            nn.Conv2d(_PROBE_WIDTH, _PROBE_WIDTH, 3, padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten())
    return net


def _probe_fisher(x: torch.Tensor, y: torch.Tensor, n_classes: int, gen: torch.Generator
                  ) -> np.ndarray:
    """Per-filter diagonal Fisher information of the probe's three conv layers (24 values)."""
    gray = x.mean(dim=1, keepdim=True)
    gray = F.interpolate(gray, size=(16, 16), mode="bilinear", align_corners=False)
    gray = (gray - gray.mean()) / gray.std().clamp_min(1e-6)
    probe = _probe(16)
    with torch.no_grad():
        raw = probe(gray)
    feats_mean, feats_std = raw.mean(0), raw.std(0).clamp_min(1e-6)
    feats = (raw - feats_mean) / feats_std
    # linear head by a few full-batch steps of L-BFGS (ridge penalty), probe frozen
    # skip_init: no draw from torch's global generator (the weights are zeroed anyway)
    head = torch.nn.utils.skip_init(nn.Linear, feats.shape[1], n_classes)
    with torch.no_grad():
        head.weight.zero_()
        head.bias.zero_()
    opt = torch.optim.LBFGS(head.parameters(), lr=1.0, max_iter=50)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = F.cross_entropy(head(feats), y) + 1e-3 * head.weight.pow(2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    names = [n for n, m in probe.named_modules() if isinstance(m, nn.Conv2d)]
    params = {n: p.detach() for n, p in probe.named_parameters()}
    with torch.no_grad():
        probs = torch.softmax(head(feats), dim=1)
    sampled = torch.multinomial(probs, 1, generator=gen).squeeze(1)  # labels from the model
    head_params = {n: p.detach() for n, p in head.named_parameters()}

    def loss(pp: dict[str, torch.Tensor], xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        z = torch.func.functional_call(probe, pp, (xb[None],))
        z = (z - feats_mean) / feats_std
        out = torch.func.functional_call(head, head_params, (z,))
        return F.cross_entropy(out, yb[None])

    per_example = torch.func.vmap(torch.func.grad(loss), in_dims=(None, 0, 0))
    fisher = [torch.zeros(_PROBE_WIDTH) for _ in names]
    for lo in range(0, gray.shape[0], 256):
        grads = per_example(params, gray[lo:lo + 256], sampled[lo:lo + 256])
        for j, n in enumerate(names):
            fisher[j] += grads[f"{n}.weight"].pow(2).flatten(2).sum(2).sum(0)
    vec = torch.cat(fisher) / gray.shape[0]
    vec = vec / vec.sum().clamp_min(1e-30)
    return vec.numpy().astype(np.float64)


def image_meta_features(data: Any, *, probe: bool = True, max_images: int = 1000,
                        random_state: RandomState = 0) -> dict[str, float]:
    """Meta-features of an image classification dataset (see the module docstring).

    Args:
        data: an :class:`~warmnas.nas.data.ImageData`, ``(X, y)`` (images ``(N, H, W)``,
            ``(N, H, W, C)`` or ``(N, C, H, W)``), or a
            :class:`~warmnas.nas.meta.tasks.ClassTaskDistribution` (its un-rotated images).
        probe: include the task2vec-style probe embedding (24 ``Probe*`` values).
        max_images: images used for pixel statistics and the probe (a stratified subsample).
        random_state: seed of the subsample and of the Fisher label draws.

    Returns:
        ``{name: value}``; the counts describe the full dataset.

    Raises:
        InputTypeError / InputError: invalid images or labels (fewer than 2 classes, ...).
    """
    if isinstance(max_images, bool) or not isinstance(max_images, int) or max_images < 10:
        raise InputError(f"max_images must be an int >= 10, got {max_images!r}")
    x_all, y_all = _as_images(data)
    if not bool(torch.isfinite(x_all).all()):
        raise InputError("images contain NaN or inf; clean them first")
    N, C, H, W = x_all.shape
    classes, y_idx = torch.unique(y_all, return_inverse=True)
    K = len(classes)
    if K < 2:
        raise InputError("data must contain at least 2 classes")
    rng = check_random_state(random_state)
    counts = torch.bincount(y_idx, minlength=K).numpy()
    if N > max_images:
        per = max(1, max_images // K)
        keep = np.concatenate([rng.permutation(np.flatnonzero(y_idx.numpy() == c))[:per]
                               for c in range(K)])
        x, y = x_all[keep], y_idx[keep]
    else:
        x, y = x_all, y_idx
    out: dict[str, float] = {
        "NumberOfClasses": float(K),
        "LogNumberOfImages": math.log(N),
        "LogImagesPerClass": float(np.log(counts).mean()),
        "Channels": float(C),
        "LogImageSide": math.log(math.sqrt(H * W)),
        "PixelMean": float(x.mean()),
        "PixelStd": float(x.std()),
        "DarkPixelShare": float((x.mean(dim=1) < 0.1).float().mean()),
        "ColorSpread": float(x.std(dim=1).mean()) if C > 1 else 0.0,
        "GradientMean": float(((x[..., 1:, :] - x[..., :-1, :]).abs().mean()
                               + (x[..., :, 1:] - x[..., :, :-1]).abs().mean()) / 2),
    }
    hist = torch.histc(x.mean(dim=1), bins=16, min=0.0, max=1.0)
    p = hist / hist.sum()
    out["IntensityEntropy"] = float(-(p[p > 0] * p[p > 0].log()).sum() / math.log(16))
    thumbs = F.adaptive_avg_pool2d(x.mean(dim=1, keepdim=True), 8).flatten(1).double()
    grand = thumbs.mean(0)
    between = within = 0.0
    for c in range(K):
        rows = thumbs[y == c]
        if len(rows) == 0:
            continue
        mu = rows.mean(0)
        between += len(rows) * float((mu - grand).pow(2).sum())
        within += float((rows - mu).pow(2).sum())
    out["ClassSeparability"] = between / max(within, 1e-12)
    if probe:
        gen = torch.Generator().manual_seed(derive_seed(rng))
        vec = _probe_fisher(x, y, K, gen)
        for i, v in enumerate(vec):
            out[f"Probe{i // _PROBE_WIDTH}_{i % _PROBE_WIDTH}"] = float(v)
    return out
