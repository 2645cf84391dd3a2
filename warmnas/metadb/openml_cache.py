"""Read OpenML datasets and tasks from a local cache folder, offline, with openml-python.

The folder has openml-python's cache layout (``org/openml/<www|test>/datasets/<id>/...``,
``.../tasks/<id>/...``). openml-python writes pickles next to the files it reads, so by default it
works on a temporary copy (removed by :meth:`OpenMLCache.close`) that holds only the entries used:
a dataset's or task's folder is copied when it is first loaded, never the whole cache (which can
hold gigabytes). Listing, checks and qualities read the original folder, which is never written.

No network, ever: the files a call needs are checked first (a missing one raises
:class:`~warmnas.errors.MissingDataError` at once, naming it), and while openml-python runs, its
download functions are replaced by ones that raise ``MissingDataError`` (restored afterwards), so a
missing file can never turn into a network request or a hang. openml-python's configuration is
global, so an ``OpenMLCache`` must not be used from several threads at once.

Example::

    with OpenMLCache("../shared/data/openml-cache") as cache:
        ds = cache.dataset(2)            # anneal: ds.X (898 x 38 DataFrame), ds.y, ds.categorical, ds.qualities
        task = cache.task(1882)          # 10 x 10-fold CV on dataset 2
        train, test = task.split(repeat=0, fold=0)
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from warmnas.errors import InputError, InputTypeError, MissingDataError
from warmnas.metadb.database import MetaDatabase, Writer

__all__ = ["OpenMLCache", "CachedDataset", "CachedTask", "import_openml_cache"]

logger = logging.getLogger(__name__)

_SERVERS = {"test": "https://test.openml.org/api/v1/xml", "www": "https://www.openml.org/api/v1/xml"}


@dataclass
class CachedDataset:
    """An OpenML dataset read from the cache.

    Attributes:
        dataset_id: the OpenML dataset id.
        name: its name.
        X: features, DataFrame ``n_samples x n_features`` (categoricals as pandas categories).
        y: the target Series (None when the dataset has no default target).
        categorical: one bool per column of ``X``.
        target: the target attribute name (or None).
        qualities: OpenML's meta-features of the dataset (``{}`` when not cached).
    """

    dataset_id: int
    name: str
    X: pd.DataFrame
    y: pd.Series | None
    categorical: list[bool]
    target: str | None
    qualities: dict[str, float] = field(default_factory=dict)


@dataclass
class CachedTask:
    """An OpenML supervised task read from the cache.

    Attributes:
        task_id, dataset_id, target: ids and the target attribute.
        task_type: e.g. ``"Supervised Classification"``.
        n_repeats, n_folds, n_samples: the split dimensions.
        class_labels: the class labels (classification) or None.
        splits: ``{(repeat, fold, sample): (train_indices, test_indices)}`` (int64 arrays).
    """

    task_id: int
    dataset_id: int
    target: str
    task_type: str
    n_repeats: int
    n_folds: int
    n_samples: int
    class_labels: list[str] | None
    splits: dict[tuple[int, int, int], tuple[np.ndarray, np.ndarray]]

    def split(self, repeat: int = 0, fold: int = 0, sample: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Train and test row indices of one split.

        Raises:
            InputError: no such (repeat, fold, sample).
        """
        key = (int(repeat), int(fold), int(sample))
        if key not in self.splits:
            raise InputError(
                f"task {self.task_id} has {self.n_repeats} repeats x {self.n_folds} folds x "
                f"{self.n_samples} samples; (repeat, fold, sample) = {key} does not exist"
            )
        return self.splits[key]


class OpenMLCache:
    """Offline access to an openml-python cache folder.

    Args:
        path: the cache root (holding ``org/openml/...``).
        server: ``"test"`` or ``"www"`` (which subtree/server the cache belongs to); default: the
            one present.
        copy: let openml-python work on a temporary copy (default; it writes pickles into the
            cache). Only the folders of the datasets and tasks loaded are copied, when loaded.
        offline: True (default): never touch the network (a missing file raises at once).
            False: openml-python downloads what the cache lacks, with its own configuration
            (retries included), exactly as without warmnas; pass ``copy=False`` to keep the
            downloads in ``path``.

    Raises:
        MissingDataError: the folder or its ``org/openml/<server>`` subtree does not exist
            (offline).
    """

    def __init__(self, path: str | Path, *, server: str | None = None, copy: bool = True,
                 offline: bool = True) -> None:
        root = Path(path).expanduser()
        self.offline = bool(offline)
        if root.exists() and not root.is_dir():
            raise InputError(f"{root} is a file; pass the OpenML cache folder (holding org/openml/...)")
        if not self.offline:
            root.mkdir(parents=True, exist_ok=True)
        if not root.is_dir():
            raise MissingDataError(f"OpenML cache folder not found: {root}")
        present = [s for s in _SERVERS if (root / "org" / "openml" / s).is_dir()]
        if server is None:
            if not present and self.offline:
                raise MissingDataError(f"{root} holds no openml-python cache (no org/openml/test or org/openml/www)")
            server = present[0] if present else "www"
        if server not in _SERVERS:
            raise InputError(f"server must be 'test' or 'www', got {server!r}")
        if server not in present and self.offline:
            raise MissingDataError(f"{root} holds no cache for the {server!r} server")
        self.server = server
        self.source = root
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._src = root / "org" / "openml" / server  # read (listing, checks); never written
        if copy:
            self._tmp = tempfile.TemporaryDirectory(prefix="warmnas-openml-")
            self.root = Path(self._tmp.name) / "cache"
            (self.root / "org" / "openml" / server).mkdir(parents=True)
        else:
            self.root = root
        self._base = self.root / "org" / "openml" / server  # where openml-python works

    def _stage(self, kind: str, entry_id: int) -> None:
        """Copy one cached entry (``datasets/<id>`` or ``tasks/<id>``) into the working copy."""
        src, dst = self._src / kind / str(entry_id), self._base / kind / str(entry_id)
        if src != dst and src.is_dir() and not dst.exists():
            shutil.copytree(src, dst)

    def close(self) -> None:
        """Remove the temporary copy (if any)."""
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> OpenMLCache:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- listing --
    def dataset_ids(self) -> list[int]:
        """Ids of the datasets whose description and data are cached (sorted)."""
        out = []
        for d in (self._src / "datasets").glob("*"):
            if d.is_dir() and _int_or_none(d.name) is not None:
                did = int(d.name)
                if not self._missing_dataset_files(did):
                    out.append(did)
        return sorted(out)

    def task_ids(self) -> list[int]:
        """Ids of the tasks whose description, splits and dataset are cached (sorted)."""
        out = []
        for d in (self._src / "tasks").glob("*"):
            if d.is_dir() and _int_or_none(d.name) is not None and not self._missing_task_files(int(d.name)):
                out.append(int(d.name))
        return sorted(out)

    # -- checks --
    def _shown(self, path: Path) -> Path:
        """A path of the working copy as the path in the source folder (for messages)."""
        try:
            return self.source / path.relative_to(self.root)
        except ValueError:
            return path

    def _missing_dataset_files(self, did: int) -> list[Path]:
        folder = self._src / "datasets" / str(did)
        missing = [folder / "description.xml"] if not (folder / "description.xml").exists() else []
        if not ((folder / "dataset.arff").exists() or (folder / f"dataset_{did}.pq").exists()):
            missing.append(folder / "dataset.arff")
        return missing

    def _task_dataset_id(self, tid: int) -> int:
        path = self._src / "tasks" / str(tid) / "task.xml"
        node = _parse_xml(path).find(".//{http://openml.org/openml}data_set_id")
        if node is None or node.text is None or _int_or_none(node.text.strip()) is None:
            raise InputError(f"{path} names no data_set_id (an integer); is the file damaged?")
        return int(node.text.strip())

    def _missing_task_files(self, tid: int) -> list[Path]:
        folder = self._src / "tasks" / str(tid)
        missing = [folder / n for n in ("task.xml", "datasplits.arff") if not (folder / n).exists()]
        if not missing:
            missing += self._missing_dataset_files(self._task_dataset_id(tid))
        return missing

    @contextlib.contextmanager
    def _offline(self) -> Iterator[Any]:
        import openml
        import openml._api_calls as api

        def refuse(*args: Any, **kwargs: Any) -> Any:
            target = args[1] if len(args) > 1 else kwargs.get("url", args[0] if args else "?")
            raise MissingDataError(
                f"openml-python wanted to download {target!r}: that file is not in the cache "
                f"{self.source}; add it there (warmnas never goes to the network)"
            )

        saved_api = {n: getattr(api, n) for n in ("_send_request", "_download_minio_file",
                                                  "_download_minio_bucket") if hasattr(api, n)}
        cfg = openml.config
        saved = (cfg.server, getattr(cfg, "_root_cache_directory", None), cfg.connection_n_retries)
        try:
            for name in saved_api:
                setattr(api, name, refuse)
            cfg.server = _SERVERS[self.server]
            cfg.connection_n_retries = 1
            cfg.set_root_cache_directory(str(self.root))
            yield openml
        finally:
            for name, fn in saved_api.items():
                setattr(api, name, fn)
            cfg.server, cfg.connection_n_retries = saved[0], saved[2]
            if saved[1] is not None:
                cfg.set_root_cache_directory(str(saved[1]))

    @contextlib.contextmanager
    def _online(self) -> Iterator[Any]:
        """openml-python pointed at this cache and server, downloads allowed (config restored)."""
        import openml

        cfg = openml.config
        saved = (cfg.server, getattr(cfg, "_root_cache_directory", None))
        try:
            cfg.server = _SERVERS[self.server]
            cfg.set_root_cache_directory(str(self.root))
            yield openml
        finally:
            cfg.server = saved[0]
            if saved[1] is not None:
                cfg.set_root_cache_directory(str(saved[1]))

    def _openml(self) -> contextlib.AbstractContextManager[Any]:
        return self._offline() if self.offline else self._online()

    # -- loading --
    def qualities(self, dataset_id: int) -> dict[str, float]:
        """OpenML's qualities of a dataset (``{}`` when ``qualities.xml`` is not cached)."""
        path = self._src / "datasets" / str(_entry_id(dataset_id, "dataset_id")) / "qualities.xml"
        if not path.exists():
            return {}
        ns = "{http://openml.org/openml}"
        root = _parse_xml(path)
        out: dict[str, float] = {}
        for q in root.iter(f"{ns}quality"):
            name, value = q.findtext(f"{ns}name"), q.findtext(f"{ns}value")
            if name:
                try:
                    out[name] = float(value) if value not in (None, "") else float("nan")
                except ValueError:
                    out[name] = float("nan")
        return out

    def dataset(self, dataset_id: int, target: str | None = None) -> CachedDataset:
        """Load a dataset: features, target, categorical mask and qualities.

        Args:
            dataset_id: the OpenML dataset id.
            target: the target attribute (default: the dataset's default target).

        Raises:
            MissingDataError: its description or data file is not cached.
        """
        did = _entry_id(dataset_id, "dataset_id")
        missing = self._missing_dataset_files(did)
        if missing and self.offline:
            raise MissingDataError(
                f"OpenML dataset {did} is not in the cache {self.source}: missing {self._shown(missing[0])}")
        self._stage("datasets", did)
        with self._openml() as openml:
            ds = openml.datasets.get_dataset(did, download_data=True,
                                             download_qualities=not self.offline,
                                             download_features_meta_data=False)
            tgt = target if target is not None else ds.default_target_attribute
            X, y, categorical, _names = ds.get_data(target=tgt)
        return CachedDataset(did, str(ds.name), X, y, [bool(c) for c in categorical], tgt,
                             self.qualities(did))

    def task(self, task_id: int) -> CachedTask:
        """Load a task and all its splits.

        Raises:
            MissingDataError: its description, splits or dataset are not cached.
        """
        tid = _entry_id(task_id, "task_id")
        missing = self._missing_task_files(tid) if self.offline else []
        if missing:
            raise MissingDataError(
                f"OpenML task {tid} is not in the cache {self.source}: missing {self._shown(missing[0])}")
        self._stage("tasks", tid)
        if (self._src / "tasks" / str(tid) / "task.xml").exists():
            self._stage("datasets", self._task_dataset_id(tid))
        with self._openml() as openml:
            t = openml.tasks.get_task(tid, download_splits=True, download_data=False,
                                      download_qualities=False, download_features_meta_data=False)
            n_repeats, n_folds, n_samples = t.get_split_dimensions()
            splits = {}
            for r in range(n_repeats):
                for f in range(n_folds):
                    for s in range(n_samples):
                        train, test = t.get_train_test_split_indices(repeat=r, fold=f, sample=s)
                        splits[(r, f, s)] = (np.asarray(train, dtype=np.int64), np.asarray(test, dtype=np.int64))
        task_type = getattr(t.task_type_id, "name", None) or str(getattr(t, "task_type", ""))
        labels = getattr(t, "class_labels", None)
        return CachedTask(tid, int(t.dataset_id), str(t.target_name), str(task_type), n_repeats, n_folds,
                          n_samples, list(labels) if labels is not None else None, splits)


def _parse_xml(path: Path) -> Any:
    """The root element of an XML file; InputError naming the file when it is damaged."""
    import xml.etree.ElementTree as ET

    try:
        return ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise InputError(f"cannot parse {path}: {exc}; the cached file is damaged - delete it "
                         "and download it again") from exc


def _entry_id(value: Any, what: str) -> int:
    """An OpenML id argument as an int (InputTypeError for strings, bools, fractions)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    raise InputTypeError(f"{what} must be an integer OpenML id (e.g. 2), got {type(value).__name__} {value!r}")


def _int_or_none(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def import_openml_cache(db: MetaDatabase, path: str | Path, *, datasets: Sequence[int] | None = None,
                        tasks: Sequence[int] | None = None, view: str = "openml",
                        server: str | None = None) -> Any:
    """Import the datasets and tasks of an OpenML cache as tasks with their qualities.

    Datasets become ``openml/d/<id>`` (name, ``openml_dataset_id``), tasks ``openml/t/<id>``
    (``openml_task_id``, ``openml_dataset_id``, task type); a cache of the test server gives
    ``openml-test/d/<id>`` and ``openml-test/t/<id>`` (source ``openml-test``), as
    ``warmnas bench openml --server test`` names its tasks: the test server's ids name other
    datasets and tasks than the production server's, so they must not share ids; the dataset's OpenML qualities are
    stored under ``view`` for both (when the dataset's ``qualities.xml`` is cached). Only the
    descriptions are read (no data loading); a task needs just its ``task.xml``.

    Args:
        datasets, tasks: these ids (a missing one raises MissingDataError); default: every
            complete entry of the cache (incomplete ones are skipped and counted).
        server: ``"www"`` or ``"test"``: which server's subtree of the cache to import; default
            as :class:`OpenMLCache` (the one the cache holds).

    Returns:
        An :class:`~warmnas.metadb.importers.ImportReport`.
    """

    from warmnas.metadb.importers import ImportReport, _run

    cache = OpenMLCache(path, server=server, copy=False)
    ns = "{http://openml.org/openml}"
    skipped = 0
    if datasets is None:
        all_ds = [int(d.name) for d in (cache._src / "datasets").glob("*") if _int_or_none(d.name) is not None]
        datasets = cache.dataset_ids()
        skipped += len(all_ds) - len(datasets)
    if tasks is None:
        all_t = [int(d.name) for d in (cache._src / "tasks").glob("*") if _int_or_none(d.name) is not None]
        tasks = [t for t in all_t if (cache._src / "tasks" / str(t) / "task.xml").exists()]
        skipped += len(all_t) - len(tasks)
    if isinstance(datasets, (int, str)) or isinstance(tasks, (int, str)):
        raise InputTypeError("datasets and tasks must be lists of OpenML ids, e.g. datasets=[2]")
    datasets = [_entry_id(d, "datasets[...]") for d in datasets]
    tasks = [_entry_id(t, "tasks[...]") for t in tasks]
    rows: list[dict[str, Any]] = []
    features: dict[str, dict[str, float]] = {}
    # the production server's ids are openml/..., another server's openml-<server>/...
    source = "openml" if cache.server == "www" else f"openml-{cache.server}"
    for did in datasets:
        missing = cache._missing_dataset_files(int(did))
        if missing:
            raise MissingDataError(f"OpenML dataset {did}: missing {missing[0]}")
        desc = _parse_xml(cache._src / "datasets" / str(did) / "description.xml")
        rows.append({"task": f"{source}/d/{did}", "name": desc.findtext(f"{ns}name"),
                     "source": source, "openml_dataset_id": int(did)})
        q = cache.qualities(int(did))
        if q:
            features[f"{source}/d/{did}"] = q
    for tid in tasks:
        task_xml = cache._src / "tasks" / str(tid) / "task.xml"
        if not task_xml.exists():
            raise MissingDataError(f"OpenML task {tid}: missing {task_xml}")
        root = _parse_xml(task_xml)
        did = cache._task_dataset_id(int(tid))
        rows.append({"task": f"{source}/t/{tid}", "source": source, "openml_task_id": int(tid),
                     "openml_dataset_id": did, "task_type": root.findtext(f"{ns}task_type")})
        q = cache.qualities(did)
        if q:
            features[f"{source}/t/{tid}"] = q

    def fn(w: Writer, report: ImportReport) -> None:
        w.add_tasks(rows)
        report.tasks = len(rows)
        if features:
            report.meta_features = w.add_meta_features(features, view=view)
        report.skipped = {"incomplete_cache_entry": skipped}

    return _run(db, "openml-cache", fn)
