"""Few-shot task distributions for meta-learning: N-way K-shot tasks drawn from any image data.

A :class:`Task` is one N-way classification problem: a *support* set (``K`` labelled images per
class, what the learner adapts on) and a *query* set (``Q`` further images per class, what the
adapted learner is scored on). Labels are ``0..N-1`` in a random class order per task.

A :class:`TaskDistribution` draws tasks. :class:`ClassTaskDistribution` draws them from any image
collection grouped by class (uint8 or float images on any device; classes may hold different
numbers of images), optionally with rotations by 90/180/270 degrees as extra classes (the standard
Omniglot augmentation of Santoro et al. 2016, used by MAML, Reptile and MetaNAS). Sampling runs on
the data's device with a ``torch.Generator``, so drawing a meta-batch of tasks never round-trips
through the host.

Constructors:

* :meth:`ClassTaskDistribution.from_image_data` / ``from_arrays``: any ``ImageData`` or ``(X, y)``.
* :func:`cifar10_tasks`: class-subset tasks from CIFAR-10 (``warmnas.nas.data.load_cifar10``).
* :func:`warmnas.nas.meta.omniglot.omniglot_tasks`: Omniglot alphabets (disjoint meta-train /
  meta-test split).

Example:
    >>> import numpy as np
    >>> X = np.random.default_rng(0).integers(0, 255, (60, 8, 8), dtype=np.uint8)
    >>> y = np.repeat(np.arange(6), 10)
    >>> dist = ClassTaskDistribution.from_arrays(X, y, n_way=3, k_shot=2, q_query=3)
    >>> task = dist.sample(random_state=0)
    >>> tuple(task.support_x.shape), tuple(task.query_x.shape)
    ((6, 1, 8, 8), (9, 1, 8, 8))
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from warmnas._random import RandomState, torch_generator
from warmnas.errors import InputError, InputTypeError

__all__ = [
    "Task",
    "TaskBatch",
    "TaskDistribution",
    "ClassTaskDistribution",
    "cifar10_tasks",
    "stack_tasks",
]


@dataclass(frozen=True)
class Task:
    """One N-way few-shot task (normalised float images, labels ``0..n_way-1``).

    Attributes:
        support_x: ``(n_way * k_shot, C, H, W)`` float32 images to adapt on.
        support_y: ``(n_way * k_shot,)`` int64 labels.
        query_x: ``(n_way * q_query, C, H, W)`` float32 images to score on.
        query_y: ``(n_way * q_query,)`` int64 labels.
        n_way: classes in the task.
        classes: the source class ids in label order (rotated classes as ``"<class>@<degrees>"``).
    """

    support_x: torch.Tensor
    support_y: torch.Tensor
    query_x: torch.Tensor
    query_y: torch.Tensor
    n_way: int
    classes: tuple[str, ...] = ()

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(C, H, W)``."""
        C, H, W = self.support_x.shape[1:]
        return int(C), int(H), int(W)

    def to(self, device: str | torch.device) -> Task:
        """A copy on ``device``."""
        return Task(self.support_x.to(device), self.support_y.to(device), self.query_x.to(device),
                    self.query_y.to(device), self.n_way, self.classes)


@dataclass(frozen=True)
class TaskBatch:
    """``T`` tasks of equal shapes stacked along a leading task dimension.

    Attributes:
        support_x: ``(T, n_way * k_shot, C, H, W)``; support_y: ``(T, n_way * k_shot)``.
        query_x: ``(T, n_way * q_query, C, H, W)``; query_y: ``(T, n_way * q_query)``.
        n_way: classes per task.
    """

    support_x: torch.Tensor
    support_y: torch.Tensor
    query_x: torch.Tensor
    query_y: torch.Tensor
    n_way: int

    def __len__(self) -> int:
        return int(self.support_x.shape[0])

    def __getitem__(self, index: slice) -> TaskBatch:
        if not isinstance(index, slice):
            raise InputTypeError("index a TaskBatch with a slice (use .task(i) for one task)")
        return TaskBatch(self.support_x[index], self.support_y[index], self.query_x[index],
                         self.query_y[index], self.n_way)

    def task(self, i: int) -> Task:
        """Task ``i`` as a :class:`Task`."""
        return Task(self.support_x[i], self.support_y[i], self.query_x[i], self.query_y[i],
                    self.n_way)

    def to(self, device: str | torch.device) -> TaskBatch:
        """A copy on ``device``."""
        return TaskBatch(self.support_x.to(device), self.support_y.to(device),
                         self.query_x.to(device), self.query_y.to(device), self.n_way)


def stack_tasks(tasks: Sequence[Task] | Task | TaskBatch) -> TaskBatch:
    """Stack tasks of equal shapes into a :class:`TaskBatch` (a batch is returned as is).

    Raises:
        InputTypeError: not tasks. InputError: empty, or tasks of different shapes / n_way.
    """
    if isinstance(tasks, TaskBatch):
        return tasks
    if isinstance(tasks, Task):
        tasks = [tasks]
    if not isinstance(tasks, Sequence) or not all(isinstance(t, Task) for t in tasks):
        raise InputTypeError("tasks must be a Task, a TaskBatch or a sequence of Task objects")
    if not tasks:
        raise InputError("tasks is empty; pass at least one Task")
    first = tasks[0]
    for t in tasks[1:]:
        if (t.n_way != first.n_way or t.support_x.shape != first.support_x.shape
                or t.query_x.shape != first.query_x.shape):
            raise InputError(
                "tasks to stack must share n_way and support/query shapes; got "
                f"{tuple(first.support_x.shape)} and {tuple(t.support_x.shape)}"
            )
    return TaskBatch(torch.stack([t.support_x for t in tasks]),
                     torch.stack([t.support_y for t in tasks]),
                     torch.stack([t.query_x for t in tasks]),
                     torch.stack([t.query_y for t in tasks]), first.n_way)


class TaskDistribution:
    """Interface of a distribution over N-way K-shot tasks.

    Subclasses set ``n_way``, ``k_shot``, ``q_query``, ``image_shape`` (``(C, H, W)``),
    ``device`` and ``name`` and implement :meth:`sample_batch`.
    """

    n_way: int
    k_shot: int
    q_query: int
    image_shape: tuple[int, int, int]
    device: torch.device
    name: str = "tasks"

    def sample_batch(self, n_tasks: int, generator: torch.Generator) -> TaskBatch:
        """Draw ``n_tasks`` independent tasks (on :attr:`device`)."""
        raise NotImplementedError

    def sample(self, random_state: RandomState = None) -> Task:
        """Draw one task (seeded by ``random_state``)."""
        return self.sample_batch(1, torch_generator(random_state, self.device)).task(0)

    def describe(self) -> dict[str, Any]:
        """A JSON-ready description (stored with checkpoints)."""
        return {"name": self.name, "n_way": self.n_way, "k_shot": self.k_shot,
                "q_query": self.q_query, "image_shape": list(self.image_shape)}


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise InputError(f"{name} must be a positive int, got {value!r}")
    return int(value)


class ClassTaskDistribution(TaskDistribution):
    """N-way K-shot tasks drawn from images grouped by class.

    Args:
        images: ``(N_images, C, H, W)`` uint8 (0..255) or float tensor/array.
        labels: ``(N_images,)`` class ids (any ints; each distinct value is a class).
        n_way: classes per task.
        k_shot: support images per class.
        q_query: query images per class.
        rotations: add rotations by 90, 180 and 270 degrees of every class as new classes
            (``4 x`` the classes; the Omniglot convention). Images must be square.
        mean, std: per-channel normalisation of the scaled images (``[0, 1]`` for uint8);
            computed from ``images`` if None.
        class_names: a name per distinct label (sorted label order), for :attr:`Task.classes`.
        device: where images live and tasks are drawn.
        name: a label for logs and checkpoints.

    Raises:
        InputError: too few classes for ``n_way``, or a class with fewer than
            ``k_shot + q_query`` images, bad shapes, NaN/inf.
        InputTypeError: non-numeric images or labels.
    """

    def __init__(self, images: Any, labels: Any, *, n_way: int = 5, k_shot: int = 1,
                 q_query: int = 5, rotations: bool = False,
                 mean: Sequence[float] | None = None, std: Sequence[float] | None = None,
                 class_names: Sequence[str] | None = None, device: str | torch.device = "cpu",
                 name: str = "tasks") -> None:
        from warmnas.nas.data import ImageData

        self.n_way = _positive_int(n_way, "n_way")
        self.k_shot = _positive_int(k_shot, "k_shot")
        self.q_query = _positive_int(q_query, "q_query")
        if self.n_way < 2:
            raise InputError(f"n_way must be at least 2 (a classification task), got {n_way}")
        data = ImageData.from_arrays(images, labels, mean=mean, std=std)
        self.device = torch.device(device)
        self.name = str(name)
        self.rotations = bool(rotations)
        C, H, W = data.image_shape
        if self.rotations and H != W:
            raise InputError(f"rotations need square images, got {H}x{W}; pass rotations=False")
        self.image_shape = (C, H, W)
        self.mean, self.std = data.mean, data.std
        labels_np = data.labels.numpy()
        uniq, inverse, counts = np.unique(labels_np, return_inverse=True, return_counts=True)
        if class_names is not None:
            if len(class_names) != len(uniq):
                raise InputError(f"class_names needs {len(uniq)} names (one per class), got "
                                 f"{len(class_names)}")
            names = [str(n) for n in class_names]
        else:
            names = [str(u) for u in uniq]
        need = self.k_shot + self.q_query
        if counts.min() < need:
            bad = [names[i] for i in np.flatnonzero(counts < need)[:5]]
            raise InputError(
                f"every class needs at least k_shot + q_query = {need} images, but class(es) "
                f"{bad} have {int(counts.min())}; lower k_shot/q_query or drop those classes"
            )
        n_base = len(uniq)
        n_classes = n_base * (4 if self.rotations else 1)
        if n_classes < self.n_way:
            raise InputError(f"n_way={self.n_way} needs at least {self.n_way} classes, the data "
                             f"has {n_classes}")
        order = np.argsort(inverse, kind="stable")
        index = np.full((n_base, int(counts.max())), -1, dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        for c in range(n_base):
            index[c, :counts[c]] = order[starts[c]:starts[c] + counts[c]]
        self.class_names = tuple(names)
        self.n_classes = n_classes
        self._images = data.images.to(self.device)
        self._index = torch.from_numpy(index).to(self.device)
        self._counts = torch.from_numpy(counts.astype(np.int64)).to(self.device)
        self._scale = 255.0 if data.images.dtype == torch.uint8 else 1.0
        self._mean_t = torch.tensor(self.mean, device=self.device).view(1, C, 1, 1)
        self._std_t = torch.tensor(self.std, device=self.device).view(1, C, 1, 1)

    # ---------------------------------------------------------------- constructors
    @classmethod
    def from_arrays(cls, X: Any, y: Any, **kwargs: Any) -> ClassTaskDistribution:
        """Tasks from ``(X, y)``: images ``(N, H, W)``, ``(N, H, W, C)`` or ``(N, C, H, W)``."""
        return cls(X, y, **kwargs)

    @classmethod
    def from_image_data(cls, data: Any, **kwargs: Any) -> ClassTaskDistribution:
        """Tasks from a :class:`warmnas.nas.data.ImageData` (its normalisation is kept)."""
        from warmnas.nas.data import ImageData

        if not isinstance(data, ImageData):
            raise InputTypeError(f"data must be an ImageData, got {type(data).__name__}")
        kwargs.setdefault("mean", data.mean)
        kwargs.setdefault("std", data.std)
        return cls(data.images, data.labels, **kwargs)

    # ---------------------------------------------------------------- sampling
    def _draw(self, n_tasks: int, generator: torch.Generator
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Class ids ``(T, N)`` (with rotation), image indices ``(T, N, K+Q)``, rotations."""
        T, N, M = n_tasks, self.n_way, self.k_shot + self.q_query
        dev = self.device
        keys = torch.rand(T, self.n_classes, generator=generator, device=dev)
        cls = keys.argsort(dim=1)[:, :N]                              # (T, N) distinct classes
        base = cls // 4 if self.rotations else cls
        rot = cls % 4 if self.rotations else torch.zeros_like(cls)
        width = self._index.shape[1]
        draw = torch.rand(T, N, width, generator=generator, device=dev)
        valid = torch.arange(width, device=dev) < self._counts[base][..., None]
        draw = torch.where(valid, draw, torch.full_like(draw, 2.0))   # invalid slots sort last
        pos = draw.argsort(dim=2)[..., :M]                            # (T, N, M)
        idx = torch.gather(self._index[base], 2, pos)
        return cls, idx, rot

    def _images_for(self, idx: torch.Tensor, rot: torch.Tensor) -> torch.Tensor:
        T, N, M = idx.shape
        x = self._images.index_select(0, idx.reshape(-1)).float() / self._scale
        x = x.view(T, N, M, *self.image_shape)
        if self.rotations:
            r = rot.view(T, N, 1, 1, 1, 1)
            for k in (1, 2, 3):  # no host sync: every rotation computed, the right one selected
                x = torch.where(r == k, torch.rot90(x, k, dims=(-2, -1)), x)
        return (x - self._mean_t[None]) / self._std_t[None]

    def sample_batch(self, n_tasks: int, generator: torch.Generator) -> TaskBatch:
        """Draw ``n_tasks`` tasks; labels follow a random class order per task.

        Args:
            n_tasks: tasks to draw.
            generator: a ``torch.Generator`` on :attr:`device`.

        Returns:
            A :class:`TaskBatch` on :attr:`device`.
        """
        n_tasks = _positive_int(n_tasks, "n_tasks")
        cls, idx, rot = self._draw(n_tasks, generator)
        return self.sample_batch_from(cls, idx, rot)

    def sample(self, random_state: RandomState = None) -> Task:
        gen = torch_generator(random_state, self.device)
        cls, idx, rot = self._draw(1, gen)
        batch = self.sample_batch_from(cls, idx, rot)
        names = []
        for c in cls[0].tolist():
            base, r = (c // 4, c % 4) if self.rotations else (c, 0)
            names.append(self.class_names[base] + (f"@{90 * r}" if r else ""))
        t = batch.task(0)
        return Task(t.support_x, t.support_y, t.query_x, t.query_y, t.n_way, tuple(names))

    def sample_batch_from(self, cls: torch.Tensor, idx: torch.Tensor, rot: torch.Tensor
                          ) -> TaskBatch:
        """The task batch of given draws (see :meth:`sample`)."""
        x = self._images_for(idx, rot)
        T, N, K, Q = idx.shape[0], self.n_way, self.k_shot, self.q_query
        labels = torch.arange(N, device=self.device).view(1, N, 1)
        return TaskBatch(x[:, :, :K].reshape(T, N * K, *self.image_shape).contiguous(),
                         labels.expand(T, N, K).reshape(T, N * K).contiguous(),
                         x[:, :, K:].reshape(T, N * Q, *self.image_shape).contiguous(),
                         labels.expand(T, N, Q).reshape(T, N * Q).contiguous(), N)

    def with_shots(self, *, n_way: int | None = None, k_shot: int | None = None,
                   q_query: int | None = None) -> ClassTaskDistribution:
        """The same images with other task sizes (no copy of the images)."""
        new = object.__new__(ClassTaskDistribution)
        new.__dict__.update(self.__dict__)
        new.n_way = _positive_int(self.n_way if n_way is None else n_way, "n_way")
        new.k_shot = _positive_int(self.k_shot if k_shot is None else k_shot, "k_shot")
        new.q_query = _positive_int(self.q_query if q_query is None else q_query, "q_query")
        if new.n_way > new.n_classes:
            raise InputError(f"n_way={new.n_way} needs at least {new.n_way} classes, the data "
                             f"has {new.n_classes}")
        if int(self._counts.min()) < new.k_shot + new.q_query:
            raise InputError(f"every class needs at least k_shot + q_query = "
                             f"{new.k_shot + new.q_query} images; the smallest has "
                             f"{int(self._counts.min())}")
        return new

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out.update({"n_classes": self.n_classes, "rotations": self.rotations,
                    "mean": list(self.mean), "std": list(self.std)})
        return out

    def class_images(self) -> tuple[torch.Tensor, torch.Tensor]:
        """All images (as stored) and their class index ``0..n_base_classes-1`` (no rotations)."""
        labels = torch.full((self._images.shape[0],), -1, dtype=torch.long, device=self.device)
        for c in range(self._index.shape[0]):
            row = self._index[c, :int(self._counts[c])]
            labels[row] = c
        keep = labels >= 0
        return self._images[keep], labels[keep]


def cifar10_tasks(data_dir: str | os.PathLike[str] | None = None, *, split: str = "train",
                  n_way: int = 5, k_shot: int = 5, q_query: int = 15,
                  classes: Sequence[int | str] | None = None, max_per_class: int | None = None,
                  cache_dir: str | os.PathLike[str] | None = None,
                  device: str | torch.device = "cpu") -> ClassTaskDistribution:
    """Class-subset tasks from CIFAR-10: each task picks ``n_way`` of the (chosen) classes.

    CIFAR-10 has only 10 classes, so the meta-train / meta-test separation is by *images*
    (``split="train"``: the 50,000 training images; ``"test"``: the 10,000 test images) and, if
    wanted, by classes (``classes``: e.g. 0-5 for meta-training, 6-9 for meta-testing).

    Args:
        data_dir: the shared data folder (see :func:`warmnas.nas.data.load_cifar10`).
        split: ``"train"`` or ``"test"`` images.
        n_way, k_shot, q_query: task sizes.
        classes: class indices or names (``warmnas.nas.data.CIFAR10_CLASSES``); default all 10.
        max_per_class: keep at most this many images per class (first ones in the cache order).
        cache_dir: decoded-CIFAR cache folder.
        device: where the images live.

    Raises:
        InputError: unknown split or class.
    """
    from warmnas.nas.data import CIFAR10_CLASSES, CIFAR10_MEAN, CIFAR10_STD, load_cifar10

    if split not in ("train", "test"):
        raise InputError(f"split must be 'train' or 'test', got {split!r}")
    Xtr, ytr, Xte, yte = load_cifar10(data_dir, cache_dir=cache_dir)
    X, y = (Xtr, ytr) if split == "train" else (Xte, yte)
    chosen: list[int] = []
    for c in (range(10) if classes is None else classes):
        if isinstance(c, str) and c in CIFAR10_CLASSES:
            chosen.append(CIFAR10_CLASSES.index(c))
        elif not isinstance(c, bool) and isinstance(c, (int, np.integer)) and 0 <= c < 10:
            chosen.append(int(c))
        else:
            raise InputError(f"classes must be CIFAR-10 class indices 0..9 or names "
                             f"{CIFAR10_CLASSES}, got {c!r}")
    y_np = np.asarray(y)
    keep_parts = []
    for c in chosen:
        rows = np.flatnonzero(y_np == c)
        keep_parts.append(rows if max_per_class is None else rows[:int(max_per_class)])
    keep = np.concatenate(keep_parts)
    return ClassTaskDistribution(np.asarray(X[keep]), y_np[keep], n_way=n_way, k_shot=k_shot,
                                 q_query=q_query, mean=CIFAR10_MEAN, std=CIFAR10_STD,
                                 class_names=[CIFAR10_CLASSES[c] for c in sorted(chosen)],
                                 device=device, name=f"cifar10-{split}")
