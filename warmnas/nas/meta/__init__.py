"""MetaNAS: architecture priors meta-learned across tasks, and NAS warm starts.

Submodules:
    tasks      ``Task`` / ``TaskBatch`` / ``TaskDistribution``; N-way K-shot tasks from any
               image data (``ClassTaskDistribution``), CIFAR-10 class-subset tasks
    omniglot   Omniglot decoding/caching and tasks from disjoint alphabet splits
    inner      the functional task-level loop: first-order DARTS steps on many tasks at once
    metanas    ``MetaNAS``: Reptile / first-order MAML over alphas and weights, ``adapt``,
               checkpoints (disk + meta-database NAS records)
    embedding  image-dataset meta-features (statistics + a task2vec-style probe embedding)
    prior      ``alpha_prior``: a DARTS ``init_alpha`` from a MetaNAS model or from the nearest
               tasks in the meta-database; ``warm_search``: DARTS from alphas (and weights)

Names are imported lazily.
"""

from __future__ import annotations

from typing import Any

from warmnas._lazy import lazy_attribute

_LAZY: dict[str, str] = {
    "Task": "warmnas.nas.meta.tasks",
    "TaskBatch": "warmnas.nas.meta.tasks",
    "TaskDistribution": "warmnas.nas.meta.tasks",
    "ClassTaskDistribution": "warmnas.nas.meta.tasks",
    "cifar10_tasks": "warmnas.nas.meta.tasks",
    "stack_tasks": "warmnas.nas.meta.tasks",
    "load_omniglot": "warmnas.nas.meta.omniglot",
    "omniglot_tasks": "warmnas.nas.meta.omniglot",
    "omniglot_classification": "warmnas.nas.meta.omniglot",
    "OMNIGLOT_TRAIN_ALPHABETS": "warmnas.nas.meta.omniglot",
    "OMNIGLOT_TEST_ALPHABETS": "warmnas.nas.meta.omniglot",
    "FunctionalNet": "warmnas.nas.meta.inner",
    "InnerOptimizer": "warmnas.nas.meta.inner",
    "inner_darts_steps": "warmnas.nas.meta.inner",
    "conv4": "warmnas.nas.meta.inner",
    "MetaNAS": "warmnas.nas.meta.metanas",
    "AdaptResult": "warmnas.nas.meta.metanas",
    "image_meta_features": "warmnas.nas.meta.embedding",
    "alpha_prior": "warmnas.nas.meta.prior",
    "find_alpha_prior": "warmnas.nas.meta.prior",
    "AlphaPrior": "warmnas.nas.meta.prior",
    "warm_search": "warmnas.nas.meta.prior",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    return lazy_attribute(__name__, _LAZY, globals(), name)


def __dir__() -> list[str]:
    return sorted(__all__)
