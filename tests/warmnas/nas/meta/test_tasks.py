"""Task distributions: shapes, labels, rotations, seeds, Omniglot split, CIFAR-10 subsets, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from warmnas.errors import InputError, InputTypeError, MissingDataError
from warmnas.nas.meta.omniglot import (
    OMNIGLOT_TEST_ALPHABETS,
    OMNIGLOT_TRAIN_ALPHABETS,
    load_omniglot,
    omniglot_classification,
    omniglot_tasks,
)
from warmnas.nas.meta.tasks import ClassTaskDistribution, Task, TaskBatch, stack_tasks


def _data(n_classes: int = 5, per: int = 6, side: int = 6) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    X = rng.integers(0, 256, (n_classes * per, side, side), dtype=np.uint8)
    return X, np.repeat(np.arange(n_classes) * 3 + 7, per)  # arbitrary label values


def test_task_shapes_labels_and_classes() -> None:
    X, y = _data()
    dist = ClassTaskDistribution(X, y, n_way=3, k_shot=2, q_query=3)
    task = dist.sample(random_state=0)
    assert task.support_x.shape == (6, 1, 6, 6) and task.query_x.shape == (9, 1, 6, 6)
    assert task.support_y.tolist() == [0, 0, 1, 1, 2, 2]
    assert task.query_y.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert len(set(task.classes)) == 3 and set(task.classes) <= {str(v) for v in set(y)}
    batch = dist.sample_batch(4, torch.Generator().manual_seed(0))
    assert isinstance(batch, TaskBatch) and len(batch) == 4
    assert batch.support_x.shape == (4, 6, 1, 6, 6)


def test_support_and_query_images_are_distinct_and_from_the_right_class() -> None:
    X, y = _data(per=5)
    dist = ClassTaskDistribution(X, y, n_way=5, k_shot=2, q_query=3)
    # un-normalise and match every task image to its source image
    task = dist.sample(random_state=3)
    std = torch.tensor(dist.std).view(1, -1, 1, 1)
    mean = torch.tensor(dist.mean).view(1, -1, 1, 1)
    imgs = torch.cat([task.support_x, task.query_x]) * std + mean
    labels = torch.cat([task.support_y, task.query_y])
    src = torch.from_numpy(X).float()[:, None] / 255.0
    matched = []
    for img, lab in zip(imgs, labels):
        hits = torch.nonzero((src - img).abs().amax(dim=(1, 2, 3)) < 1e-4).flatten().tolist()
        assert len(hits) == 1
        matched.append(hits[0])
        assert str(y[hits[0]]) == task.classes[int(lab)]
    assert len(set(matched)) == len(matched)  # without replacement


def test_rotations_are_extra_classes_and_rotate_the_images() -> None:
    X = np.zeros((2 * 4, 4, 4), dtype=np.uint8)
    X[:4, 0, 0] = 255  # class 0: a dot at the top left
    X[4:, 0, 3] = 255  # class 1: a dot at the top right
    y = np.repeat([0, 1], 4)
    dist = ClassTaskDistribution(X, y, n_way=8, k_shot=1, q_query=1, rotations=True)
    assert dist.n_classes == 8
    task = dist.sample(random_state=0)
    mean, std = dist.mean[0], dist.std[0]
    for c, name in enumerate(task.classes):
        base, _, deg = name.partition("@")
        img = (task.support_x[c, 0] * std + mean).round()
        expected = torch.from_numpy(X[0 if base == "0" else 4]).float() / 255.0
        expected = torch.rot90(expected, int(deg or 0) // 90, dims=(0, 1))
        assert torch.allclose(img, expected, atol=1e-5), name


def test_same_seed_same_tasks_and_generator_streams() -> None:
    X, y = _data()
    dist = ClassTaskDistribution(X, y, n_way=3, k_shot=1, q_query=2)
    a, b = dist.sample(random_state=5), dist.sample(random_state=5)
    assert torch.equal(a.support_x, b.support_x) and a.classes == b.classes
    c = dist.sample(random_state=6)
    assert not torch.equal(a.query_x, c.query_x)


def test_unequal_class_sizes_and_with_shots() -> None:
    X, _ = _data(n_classes=3, per=10)
    y = np.array([0] * 4 + [1] * 10 + [2] * 16)
    dist = ClassTaskDistribution(X, y, n_way=3, k_shot=1, q_query=3)
    counts = np.zeros(3, dtype=int)
    gen = torch.Generator().manual_seed(0)
    for _ in range(5):
        b = dist.sample_batch(2, gen)
        counts += b.support_y.shape[1]
    assert counts.sum() > 0
    with pytest.raises(InputError, match="k_shot \\+ q_query = 5"):
        dist.with_shots(k_shot=2, q_query=3)
    assert dist.with_shots(n_way=2).n_way == 2


@pytest.mark.parametrize("kwargs, match", [
    ({"n_way": 7}, "needs at least 7 classes"),
    ({"n_way": 1}, "n_way must be at least 2"),
    ({"k_shot": 0}, "k_shot must be a positive int"),
    ({"k_shot": 4, "q_query": 3}, "at least k_shot \\+ q_query = 7 images"),
])
def test_bad_task_sizes(kwargs: dict, match: str) -> None:
    X, y = _data()
    with pytest.raises(InputError, match=match):
        ClassTaskDistribution(X, y, **kwargs)


def test_bad_images_and_labels() -> None:
    X, y = _data()
    with pytest.raises(InputTypeError, match="numeric image array"):
        ClassTaskDistribution(np.array([["a"]] * len(y)), y)
    bad = X.astype(float)
    bad[0, 0, 0] = np.nan
    with pytest.raises(InputError, match="NaN or inf"):
        ClassTaskDistribution(bad, y)
    with pytest.raises(InputError, match="one label per image"):
        ClassTaskDistribution(X, y[:-1])
    with pytest.raises(InputError, match="square images"):
        ClassTaskDistribution(np.zeros((30, 4, 6), np.uint8), y, rotations=True)


def test_stack_tasks_checks_shapes() -> None:
    X, y = _data()
    a = ClassTaskDistribution(X, y, n_way=3, k_shot=1, q_query=2).sample(0)
    b = ClassTaskDistribution(X, y, n_way=2, k_shot=1, q_query=2).sample(0)
    assert len(stack_tasks([a, a])) == 2
    with pytest.raises(InputError, match="share n_way"):
        stack_tasks([a, b])
    with pytest.raises(InputError, match="empty"):
        stack_tasks([])
    with pytest.raises(InputTypeError, match="Task"):
        stack_tasks(["x"])  # type: ignore[list-item]
    assert isinstance(stack_tasks(a).task(0), Task)


def test_omniglot_decoding_split_and_cache(omniglot8, shared_data, tmp_path) -> None:
    assert omniglot8.images.shape == (242, 20, 8, 8)
    assert omniglot8.images.dtype == np.uint8
    # strokes bright on dark background after inversion
    assert (omniglot8.images < 30).mean() > 0.5
    alphabets = set(omniglot8.alphabets)
    assert alphabets == set(OMNIGLOT_TRAIN_ALPHABETS) | set(OMNIGLOT_TEST_ALPHABETS)
    assert not set(OMNIGLOT_TRAIN_ALPHABETS) & set(OMNIGLOT_TEST_ALPHABETS)
    train = omniglot_tasks(data=omniglot8, split="train", n_way=5, k_shot=1, q_query=1)
    test = omniglot_tasks(data=omniglot8, split="test", n_way=5, k_shot=1, q_query=1)
    assert train.n_classes == 175 * 4 and test.n_classes == 67 * 4
    train_chars = {c.split("@")[0] for c in train.class_names}
    test_chars = {c.split("@")[0] for c in test.class_names}
    assert not train_chars & test_chars
    assert all(c.split("/")[0] in OMNIGLOT_TEST_ALPHABETS for c in test.sample(0).classes)
    with pytest.raises(InputError, match="unknown Omniglot alphabet"):
        omniglot_tasks(data=omniglot8, alphabets=["Klingon"])
    with pytest.raises(InputError, match="split must be"):
        omniglot_tasks(data=omniglot8, split="valid")


def test_omniglot_missing_and_bad_size(tmp_path) -> None:
    with pytest.raises(MissingDataError, match="Omniglot zips"):
        load_omniglot(tmp_path, cache_dir=tmp_path)
    with pytest.raises(InputError, match="size must be an int in 4..105"):
        load_omniglot(tmp_path, size=2, cache_dir=tmp_path)


def test_omniglot_cache_roundtrip_and_damage(shared_data, tmp_path) -> None:
    a = load_omniglot(shared_data, size=5, cache_dir=tmp_path)
    files = list(tmp_path.glob("omniglot-*-5px.npz"))
    assert len(files) == 1
    b = load_omniglot(shared_data, size=5, cache_dir=tmp_path)
    assert np.array_equal(a.images, b.images) and a.characters == b.characters
    files[0].write_bytes(b"garbage")
    from warmnas.errors import CorruptDatabaseError

    with pytest.raises(CorruptDatabaseError, match="delete it to rebuild"):
        load_omniglot(shared_data, size=5, cache_dir=tmp_path)


def test_cifar10_class_subset_tasks(monkeypatch) -> None:
    import warmnas.nas.data as data

    rng = np.random.default_rng(0)
    Xtr = rng.integers(0, 256, (200, 32, 32, 3), dtype=np.uint8)
    ytr = np.repeat(np.arange(10), 20)
    monkeypatch.setattr(data, "load_cifar10",
                        lambda *a, **k: (Xtr, ytr, Xtr[:100], ytr[::2]))
    from warmnas.nas.meta.tasks import cifar10_tasks

    dist = cifar10_tasks(split="train", n_way=3, k_shot=2, q_query=4, classes=[0, "cat", 5])
    assert dist.n_classes == 3 and dist.image_shape == (3, 32, 32)
    assert set(dist.sample(0).classes) == {"airplane", "cat", "dog"}
    with pytest.raises(InputError, match="CIFAR-10 class indices"):
        cifar10_tasks(classes=[11])
    with pytest.raises(InputError, match="split must be"):
        cifar10_tasks(split="valid")


@pytest.mark.shared_data
def test_omniglot_classification_task(omniglot8) -> None:
    tr, va = omniglot_classification(omniglot8, n_way=6, n_train=7, random_state=3)
    assert (len(tr), len(va)) == (6 * 7, 6 * 13)
    assert tr.labels.tolist() == np.repeat(np.arange(6), 7).tolist()
    assert va.labels.tolist() == np.repeat(np.arange(6), 13).tolist()
    assert (tr.mean, tr.std) == (va.mean, va.std)  # valid normalised with train statistics
    # class c: the first 7 / last 13 drawings of one meta-test character, a different one per c
    pool = omniglot8.select(list(OMNIGLOT_TEST_ALPHABETS)).images
    chars = []
    for c in range(6):
        first = tr.images[tr.labels == c][0, 0].numpy()
        hit = [i for i in range(len(pool)) if np.array_equal(pool[i, 0], first)]
        assert hit, "train images come from the meta-test alphabets"
        i = hit[0]
        chars.append(i)
        assert np.array_equal(tr.images[tr.labels == c][:, 0].numpy(), pool[i, :7])
        assert np.array_equal(va.images[va.labels == c][:, 0].numpy(), pool[i, 7:])
    assert len(set(chars)) == 6
    again, _ = omniglot_classification(omniglot8, n_way=6, n_train=7, random_state=3)
    assert torch.equal(again.images, tr.images)
    with pytest.raises(InputError, match="n_train must be between 1 and 19"):
        omniglot_classification(omniglot8, n_train=20)
    with pytest.raises(InputError, match="n_way must be between 1 and"):
        omniglot_classification(omniglot8, n_way=10_000)



def _omniglot_zips(folder, png: bytes | None) -> None:  # type: ignore[no-untyped-def]
    import zipfile

    from warmnas.nas.meta.omniglot import OMNIGLOT_ZIPS

    folder.mkdir()
    for name in OMNIGLOT_ZIPS:
        with zipfile.ZipFile(folder / name, "w") as zf:
            zf.writestr("readme.txt", b"x")
            if png is not None:
                for i in range(20):
                    zf.writestr(f"images_background/Alpha/character01/{i:02d}.png", png)


def test_omniglot_zips_without_usable_images(tmp_path) -> None:
    from warmnas.errors import CorruptDatabaseError

    _omniglot_zips(tmp_path / "empty", None)
    with pytest.raises(CorruptDatabaseError, match=r"no Omniglot drawings .*<alphabet>/<character>"):
        load_omniglot(tmp_path / "empty", size=8, cache_dir=tmp_path / "c")
    assert not list((tmp_path / "c").glob("*.npz"))  # nothing empty was cached
    _omniglot_zips(tmp_path / "bad", b"not a png")
    with pytest.raises(CorruptDatabaseError, match=r"cannot decode the Omniglot image "
                                                   r"Alpha/character01/00.png"):
        load_omniglot(tmp_path / "bad", size=8, cache_dir=tmp_path / "c")


def test_omniglot_unusable_cache_dir_fails_before_decoding(shared_data, tmp_path,
                                                           monkeypatch) -> None:
    import warmnas.nas.meta.omniglot as om
    from warmnas.errors import StorageError

    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    monkeypatch.setattr(om, "_decode", lambda paths, size: pytest.fail("decoded first"))
    with pytest.raises(StorageError, match=r"cannot create the Omniglot cache .*a_file"):
        load_omniglot(shared_data, size=8, cache_dir=blocker)
