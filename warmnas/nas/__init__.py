"""Differentiable neural architecture search: spaces, supernets, DARTS/DrNAS/GDAS/FBNet search.

Submodules:
    spaces     the DARTS and NAS-Bench-201 cell spaces and the FBNet space (``get_space``)
    fbnet      the FBNet macro space: supernet, ``FBNetArch``, derived network, LUT latencies
    ops        candidate operations and their registry
    genotype   the DARTS ``Genotype`` (frozen, versioned, JSON) and derivation from alphas
    nb201      NB201 arch strings, benchmark indices, accuracy look-ups (``NB201Table``)
    networks   ``build_network``: derived networks (DARTS NetworkCIFAR, NB201 network)
    supernet   weight-sharing supernets (straightforward and edge-batched fast path)
    search     ``DARTSSearch``: DARTS (first/second order), DrNAS and GDAS search
    data       CIFAR-10 decoding/caching, search splits, GPU-side augmentation
    train      ``train_network``: training a derived network from scratch

Names are imported lazily so ``import warmnas.nas`` stays cheap.
"""

from __future__ import annotations

from typing import Any

from warmnas._lazy import lazy_attribute

_LAZY: dict[str, str] = {
    "DARTS_PRIMITIVES": "warmnas.nas.spaces",
    "NB201_PRIMITIVES": "warmnas.nas.spaces",
    "SearchSpace": "warmnas.nas.spaces",
    "get_space": "warmnas.nas.spaces",
    "make_op": "warmnas.nas.ops",
    "Genotype": "warmnas.nas.genotype",
    "derive_genotype": "warmnas.nas.genotype",
    "derive_architecture": "warmnas.nas.genotype",
    "NB201Table": "warmnas.nas.nb201",
    "build_network": "warmnas.nas.networks",
    "build_supernet": "warmnas.nas.supernet",
    "FBNetArch": "warmnas.nas.fbnet",
    "FBNetNetwork": "warmnas.nas.fbnet",
    "FBNetSupernet": "warmnas.nas.fbnet",
    "FBNET_SEARCH_SETTINGS": "warmnas.nas.fbnet",
    "fbnet_latencies": "warmnas.nas.fbnet",
    "DARTSSearch": "warmnas.nas.search",
    "ImageData": "warmnas.nas.data",
    "load_cifar10": "warmnas.nas.data",
    "train_network": "warmnas.nas.train",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    return lazy_attribute(__name__, _LAZY, globals(), name)


def __dir__() -> list[str]:
    return sorted(__all__)
