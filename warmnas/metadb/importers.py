"""Importers for the public meta-learning data sets.

Every importer reads its files completely and validates them BEFORE opening a write transaction,
then writes everything in ONE transaction: an import that fails (bad file, killed process) leaves
the database exactly as it was. Re-running an import is idempotent (upserts).

Task-id scheme (strings):

=====================  =========================================================================
``openml/d/<id>``      an OpenML dataset (Oboe rows, PMF meta-features, OpenML cache datasets)
``openml/t/<id>``      an OpenML task (TabRepo, ASlib OPENML-WEKA-2017, OpenML cache tasks)
``autosklearn/<name>`` a dataset of auto-sklearn's meta-data (named, not numbered)
``aslib/<scenario>/<instance>``  an instance of another ASlib scenario
``nb201/<dataset>``    NAS-Bench-201: ``cifar10``, ``cifar100``, ``ImageNet16-120``
``fbnet/<dataset>``    HELP's FBNet-space latency set (``cifar100``)
=====================  =========================================================================

Metrics: Oboe ``balanced_error`` (runtime as ``cost_s``); TabRepo ``auc_error`` (binary),
``log_loss`` (multiclass), ``rmse`` (regression) with training time as cost and inference time as
latency; ASlib the scenario's measure (``predictive_accuracy`` for OPENML-WEKA-2017);
auto-sklearn the loss of each folder (``balanced_error``, ``error``, ``log_loss``, ``auc_error``,
``r2_loss``, ``rmse``); NB201 ``test_accuracy`` (percent) and ``latency_ms`` per device;
FBNet ``latency_ms`` per device.
"""

from __future__ import annotations

import ast
import json
import logging
import math
import re
import time
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from warmnas.errors import InputError, MissingDataError
from warmnas.metadb import _schema as S
from warmnas.metadb.database import MetaDatabase, Writer
from warmnas.space import (
    GenericSpace,
    NB201Space,
    Space,
    canonical_json,
    config_id,
    oboe_config,
    oboe_space,
    space_from_json,
    tabrepo_lightgbm_space,
)

__all__ = [
    "ImportReport",
    "import_oboe",
    "import_pmf_features",
    "import_tabrepo",
    "import_aslib",
    "import_autosklearn",
    "import_nb201",
    "import_fbnet",
    "import_nb201_nas_records",
    "nb201_alpha_from_arch",
    "read_oboe",
    "read_aslib",
    "load_pt",
    "NB201_DATASETS",
]

logger = logging.getLogger(__name__)
Progress = Callable[[int, int], None] | None

#: NAS-Bench-201 datasets: task suffix -> column of nats_bench.csv
NB201_DATASETS = {
    "cifar10": "CIFAR10TestAccuracy200Epochs",
    "cifar100": "CIFAR100TestAccuracy200Epochs",
    "ImageNet16-120": "ImageNetTestAccuracy200Epochs",
}


@dataclass
class ImportReport:
    """What an import wrote.

    Attributes:
        source: the importer (``"oboe"``, ...).
        tasks, configs, evaluations, meta_features, nas_records: counts written (upserted).
        skipped: rows left out, with the reason as key.
        seconds: wall-clock time of the import.
    """

    source: str
    tasks: int = 0
    configs: int = 0
    evaluations: int = 0
    meta_features: int = 0
    nas_records: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _require(path: Path, what: str) -> Path:
    if not path.exists():
        raise MissingDataError(f"{what} not found: {path}")
    return path


def _folder(path: str | Path, what: str) -> Path:
    p = Path(path).expanduser()
    if not p.exists():
        raise MissingDataError(f"{what} folder not found: {p}")
    if not p.is_dir():
        raise InputError(f"{what} path must be a folder, got the file {p}")
    return p


def _read_text(path: Path) -> str:
    """A text file as UTF-8; InputError naming the file when it is binary or in another encoding."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"cannot read {path}: it is not UTF-8 text ({exc}); is it the right file?") from exc


def _read_json(path: Path) -> Any:
    try:
        return json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise InputError(f"cannot parse {path} as JSON (truncated or damaged?): {exc}") from exc


def _read_csv(path: Path, **kwargs: Any) -> pd.DataFrame:
    _require(path, "file")
    try:
        if int(pd.__version__.split(".")[0]) < 3:  # pandas >= 3 parses floats exactly by default
            kwargs.setdefault("float_precision", "round_trip")
        return pd.read_csv(path, **kwargs)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"cannot parse {path}: {exc}") from exc


def _run(db: MetaDatabase, source: str, fn: Callable[[Writer, ImportReport], None]) -> ImportReport:
    if not isinstance(db, MetaDatabase):
        raise InputError(f"db must be a MetaDatabase, got {type(db).__name__}")
    start = time.perf_counter()
    report = ImportReport(source)

    def body(w: Writer) -> ImportReport:
        fresh = ImportReport(source)  # a retried transaction starts its counts again
        fn(w, fresh)
        return fresh

    report = db._write(body)
    report.seconds = time.perf_counter() - start
    logger.info("imported %s into %s: %s", source, db.url, report)
    return report


def _matrix_frame(arr: np.ndarray, tasks: Sequence[str], configs: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame(arr, index=pd.Index(list(tasks)), columns=pd.Index(list(configs)))


# --------------------------------------------------------------------------------------------
# Oboe
# --------------------------------------------------------------------------------------------


@dataclass
class OboeData:
    """Oboe's matrices as read from disk (validated)."""

    dataset_ids: list[int]
    pipelines: list[dict[str, Any]]  # Oboe's nested form, column order
    error: np.ndarray  # n_datasets x n_pipelines
    runtime: np.ndarray | None
    sizes: dict[int, tuple[int, int]]
    grid: dict[str, Any]


def read_oboe(path: str | Path) -> OboeData:
    """Read Oboe's ``error_matrix.csv``, ``runtime_matrix.csv``, ``dataset_sizes.csv`` and
    ``classification.json`` from a folder (``oboe/defaults/Oboe``).

    Raises:
        MissingDataError: ``error_matrix.csv`` or ``classification.json`` is missing.
        InputError: malformed headers/ids, shapes that disagree, infinite values.
    """
    folder = _folder(path, "Oboe")
    err = _read_csv(_require(folder / "error_matrix.csv", "Oboe error matrix"), index_col=0)
    grid_path = _require(folder / "classification.json", "Oboe classification.json")
    grid = _read_json(grid_path)
    pipelines = []
    for header in err.columns:
        try:
            pipeline = ast.literal_eval(header)
        except (ValueError, SyntaxError) as exc:
            raise InputError(f"Oboe column header {header!r} is not a pipeline dict: {exc}") from exc
        if not isinstance(pipeline, dict) or "algorithm" not in pipeline:
            raise InputError(f"Oboe column header {header!r} lacks 'algorithm'")
        pipelines.append(pipeline)
    try:
        ids = [int(i) for i in err.index]
    except (TypeError, ValueError) as exc:
        raise InputError(f"Oboe row ids must be OpenML dataset ids: {exc}") from exc
    error = err.to_numpy(dtype=np.float64)
    if np.isinf(error).any():
        raise InputError("Oboe error matrix holds infinite values")
    runtime = None
    rt_path = folder / "runtime_matrix.csv"
    if rt_path.exists():
        rt = _read_csv(rt_path, index_col=0)
        if list(rt.columns) != list(err.columns) or [int(i) for i in rt.index] != ids:
            raise InputError(f"{rt_path} does not have the rows/columns of error_matrix.csv")
        runtime = rt.to_numpy(dtype=np.float64)
        if np.isinf(runtime).any() or (runtime[~np.isnan(runtime)] < 0).any():
            raise InputError(f"{rt_path} holds negative or infinite runtimes")
    sizes: dict[int, tuple[int, int]] = {}
    size_path = folder / "dataset_sizes.csv"
    if size_path.exists():
        sz = _read_csv(size_path, index_col=0)
        for did, row in zip(sz.index, sz.to_numpy()):
            try:
                sizes[int(did)] = (int(row[0]), int(row[1]))
            except (TypeError, ValueError, IndexError, OverflowError) as exc:
                raise InputError(
                    f"{size_path}: the row of dataset {did!r} is not (id, rows, columns) integers "
                    f"({exc}); is the file truncated?"
                ) from exc
    return OboeData(ids, pipelines, error, runtime, sizes, grid)


def import_oboe(db: MetaDatabase, path: str | Path, *, metric: str = "balanced_error",
                show_progress: bool | None = None, on_progress: Progress = None) -> ImportReport:
    """Import Oboe's error matrix (metric ``balanced_error``, minimize) with runtimes as cost.

    Tasks ``openml/d/<dataset id>`` (task type ``classification``, with ``n_rows`` and
    ``n_encoded_columns`` in ``info`` when ``dataset_sizes.csv`` is there); configurations in the
    :func:`warmnas.space.oboe_space` built from ``classification.json``.

    Returns:
        An :class:`ImportReport`.

    Raises:
        MissingDataError, InputError (see :func:`read_oboe`); ConfigSpaceError when a column is
        outside the grid.
    """
    data = read_oboe(path)
    space = oboe_space(data.grid)
    flat = [space.validate(oboe_config(p)) for p in data.pipelines]  # validate before writing
    cfg_ids = [config_id(c, space.name) for c in flat]
    if len(set(cfg_ids)) != len(cfg_ids):
        raise InputError("Oboe error matrix has duplicate pipeline columns")
    tasks = [f"openml/d/{i}" for i in data.dataset_ids]

    def fn(w: Writer, report: ImportReport) -> None:
        w.add_tasks([
            {"task": t, "source": "oboe", "task_type": "classification", "openml_dataset_id": did,
             "info": ({"n_rows": data.sizes[did][0], "n_encoded_columns": data.sizes[did][1]}
                      if did in data.sizes else None)}
            for t, did in zip(tasks, data.dataset_ids)
        ])
        report.tasks = len(tasks)
        w.add_space(space)
        w.insert_configs(space, [(cid, canonical_json(c)) for cid, c in zip(cfg_ids, flat)])
        report.configs = len(cfg_ids)
        values = _matrix_frame(data.error, tasks, cfg_ids)
        cost = _matrix_frame(data.runtime, tasks, cfg_ids) if data.runtime is not None else None
        if cost is not None:
            cost = cost.where(values.notna())
        report.evaluations = w.add_matrix(values, metric=metric, direction="minimize", cost=cost,
                                          source="oboe", show_progress=show_progress,
                                          on_progress=on_progress)
        report.skipped = {"missing": int(np.isnan(data.error).sum())}
        default = w.conn.execute(sa.select(S.meta.c.value).where(S.meta.c.key == "default_metric"))
        if default.scalar() is None:  # the first imported matrix becomes the default metric
            w.set_meta("default_metric", metric)

    return _run(db, "oboe", fn)


# --------------------------------------------------------------------------------------------
# PMF meta-features
# --------------------------------------------------------------------------------------------


def import_pmf_features(db: MetaDatabase, path: str | Path, *, view: str = "autosklearn",
                        create_tasks: bool = True) -> ImportReport:
    """Import the PMF paper's auto-sklearn meta-features (``data_feats_featurized.csv``).

    Args:
        path: the ``pmf-metafeatures`` folder or the CSV file itself.
        view: the view to store them under (the 46 names are auto-sklearn's).
        create_tasks: add datasets that are not stored yet as tasks ``openml/d/<id>`` (source
            ``pmf``); if False they are skipped (counted in ``report.skipped``).

    The paper's train/test split (``ids_train.csv``/``ids_test.csv``) is recorded in each task's
    ``info["pmf_split"]`` when those files are there.
    """
    p = Path(path).expanduser()
    csv_path = p / "data_feats_featurized.csv" if p.is_dir() else p
    frame = _read_csv(_require(csv_path, "PMF meta-features"), index_col=0)
    if frame.shape[1] == 0:
        raise InputError(
            f"{csv_path} holds no meta-feature columns (only {len(frame)} ids); expected "
            "data_feats_featurized.csv: the OpenML dataset id, then one column per meta-feature"
        )
    try:
        ids = [int(i) for i in frame.index]
    except (TypeError, ValueError) as exc:
        raise InputError(f"{csv_path}: the first column must be OpenML dataset ids: {exc}") from exc
    frame.index = pd.Index([f"openml/d/{i}" for i in ids])
    values = frame.apply(pd.to_numeric, errors="coerce")
    if values.isna().sum().sum() > frame.isna().sum().sum():
        raise InputError(f"{csv_path} holds non-numeric meta-feature values")
    split: dict[str, str] = {}
    folder = csv_path.parent
    for name in ("train", "test"):
        f = folder / f"ids_{name}.csv"
        if f.exists():
            for line in _read_text(f).split():
                try:
                    split[f"openml/d/{int(float(line))}"] = name
                except (ValueError, OverflowError) as exc:
                    raise InputError(
                        f"{f} must list OpenML dataset ids, one a line; found {line[:40]!r}"
                    ) from exc

    def fn(w: Writer, report: ImportReport) -> None:
        frame_w = values
        if create_tasks:
            w.add_tasks([
                {"task": t, "source": "pmf", "openml_dataset_id": did,
                 "info": {"pmf_split": split[t]} if t in split else None}
                for t, did in zip(values.index, ids)
            ])
        else:
            known = set(w.db._task_pk_map(w.conn))
            keep = [t in known for t in values.index]
            report.skipped = {"unknown_task": int(len(keep) - sum(keep))}
            frame_w = values[keep]
        report.tasks = len(frame_w)
        report.meta_features = w.add_meta_features(frame_w, view=view)

    return _run(db, "pmf-features", fn)


# --------------------------------------------------------------------------------------------
# TabRepo
# --------------------------------------------------------------------------------------------

_TABREPO_METRIC = {"binary": "auc_error", "multiclass": "log_loss", "regression": "rmse"}


def import_tabrepo(db: MetaDatabase, path: str | Path, *, show_progress: bool | None = None,
                   on_progress: Progress = None) -> ImportReport:
    """Import TabRepo's LightGBM results (2022 version).

    Reads ``results_ranked_by_dataset_valid.csv`` (``dataset`` = OpenML task id, ``framework`` =
    config name, ``metric_error``, ``time_train_s``, ``time_infer_s``, ``problem_type``),
    ``configs_lightgbm.json`` and, when present, ``task_metadata_244.csv``. Tasks
    ``openml/t/<tid>``; metric by problem type: ``auc_error`` (binary, 1 - AUC), ``log_loss``
    (multiclass), ``rmse`` (regression); cost = training seconds; latency = inference time in ms.
    The config name is kept in nothing but the stored dict's absence of ``ag_args``: the config is
    the hyperparameters alone, in :func:`warmnas.space.tabrepo_lightgbm_space`.
    """
    folder = _folder(path, "TabRepo")
    res = _read_csv(_require(folder / "results_ranked_by_dataset_valid.csv", "TabRepo results"))
    need = {"dataset", "framework", "metric_error", "time_train_s", "time_infer_s", "problem_type"}
    if not need <= set(res.columns):
        raise InputError(f"TabRepo results lack columns {sorted(need - set(res.columns))}")
    cfg_path = _require(folder / "configs_lightgbm.json", "TabRepo configs")
    raw = _read_json(cfg_path)
    if not isinstance(raw, dict) or not all(isinstance(e, dict) for e in raw.values()):
        raise InputError(f"{cfg_path} must be a JSON object {{config name: {{'hyperparameters': ...}}}}")
    space = tabrepo_lightgbm_space()
    names = {}
    for name, entry in raw.items():
        hps = {k: v for k, v in entry.get("hyperparameters", {}).items() if k != "ag_args"}
        names[name] = space.config_id(hps)
    configs = {names[n]: space.validate({k: v for k, v in raw[n]["hyperparameters"].items() if k != "ag_args"})
               for n in names}
    unknown = sorted(set(res["framework"]) - set(names))
    if unknown:
        raise InputError(f"TabRepo results name configs missing from {cfg_path.name}: {unknown[:5]}")
    bad_pt = sorted(set(res["problem_type"]) - set(_TABREPO_METRIC))
    if bad_pt:
        raise InputError(f"unknown TabRepo problem types {bad_pt}; expected {sorted(_TABREPO_METRIC)}")
    meta: dict[int, dict[str, Any]] = {}
    meta_path = folder / "task_metadata_244.csv"
    if meta_path.exists():
        md = _read_csv(meta_path)
        for _, row in md.iterrows():
            meta[int(row["tid"])] = {"did": int(row["did"]), "name": str(row["name"])}
    records = pd.DataFrame({
        "task": [f"openml/t/{int(t)}" for t in res["dataset"]],
        "config_id": res["framework"].map(names),
        "metric": res["problem_type"].map(_TABREPO_METRIC),
        "value": res["metric_error"].astype(np.float64),
        "cost_s": res["time_train_s"].astype(np.float64),
        "latency_ms": res["time_infer_s"].astype(np.float64) * 1000.0,
        "source": "tabrepo",
    })
    task_rows = []
    for tid, ptype in res.groupby("dataset")["problem_type"].first().items():
        m = meta.get(int(tid), {})
        task_rows.append({"task": f"openml/t/{int(tid)}", "source": "tabrepo", "task_type": ptype,
                          "openml_task_id": int(tid), "openml_dataset_id": m.get("did"),
                          "name": m.get("name")})

    def fn(w: Writer, report: ImportReport) -> None:
        w.add_tasks(task_rows)
        report.tasks = len(task_rows)
        w.add_space(space)
        w.insert_configs(space, [(cid, canonical_json(c)) for cid, c in configs.items()])
        report.configs = len(configs)
        report.evaluations = w.add_evaluations(records, show_progress=show_progress,
                                               on_progress=on_progress)

    return _run(db, "tabrepo", fn)


# --------------------------------------------------------------------------------------------
# ASlib (OPENML-WEKA-2017, auto-sklearn's metalearning folders, our own exports)
# --------------------------------------------------------------------------------------------


def _load_arff(path: Path) -> dict[str, Any]:
    import arff  # liac-arff

    _require(path, "ARFF file")
    try:
        with open(path) as fh:
            return arff.load(fh)
    except (arff.ArffException, ValueError) as exc:
        raise InputError(f"cannot parse {path}: {exc}") from exc


def _parse_description(path: Path) -> dict[str, Any]:
    """ASlib ``description.txt`` (YAML; older scenarios use plain ``key: value`` lines, also YAML)."""
    import yaml

    _require(path, "ASlib description.txt")
    try:
        loaded = yaml.safe_load(_read_text(path))
    except yaml.YAMLError as exc:
        raise InputError(f"cannot parse {path} as YAML: {exc}") from exc
    if not isinstance(loaded, dict):
        raise InputError(f"{path} is not a 'key: value' description")
    return loaded


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [v.strip() for v in str(value).split(",") if v.strip()]


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "1", "yes")


@dataclass
class AslibData:
    """An ASlib scenario as read from disk."""

    scenario_id: str
    measures: list[str]
    maximize: list[bool]
    runs: pd.DataFrame  # instance_id, repetition, algorithm, <measures...>, runstatus
    features: pd.DataFrame  # index instance_id, feature columns (repetition averaged)
    algorithm_configs: dict[str, dict[str, Any]]  # algorithm -> config dict
    description: dict[str, Any]


def read_aslib(path: str | Path) -> AslibData:
    """Read an ASlib scenario folder (``description.txt``, ``algorithm_runs.arff``,
    ``feature_values.arff``).

    The configuration of an algorithm is ``metainfo_algorithms[alg].configuration`` when it is a
    JSON object (as warmnas exports write it), else ``{"algorithm": <name>}``.
    """
    folder = _folder(path, "ASlib scenario")
    desc = _parse_description(folder / "description.txt")
    runs_arff = _load_arff(folder / "algorithm_runs.arff")
    cols = [a[0] for a in runs_arff["attributes"]]
    runs = pd.DataFrame(runs_arff["data"], columns=cols)
    measures = _as_list(desc.get("performance_measures"))
    if not measures:
        raise InputError(f"{folder}/description.txt names no performance_measures")
    maximize = [_as_bool(v) for v in _as_list(desc.get("maximize"))] or [False] * len(measures)
    if len(maximize) == 1 and len(measures) > 1:
        maximize = maximize * len(measures)
    missing = [m for m in measures if m not in runs.columns]
    if missing or not {"instance_id", "algorithm"} <= set(runs.columns):
        raise InputError(f"{folder}/algorithm_runs.arff lacks columns {missing or ['instance_id', 'algorithm']}")
    runs["instance_id"] = runs["instance_id"].astype(str)
    runs["algorithm"] = runs["algorithm"].astype(str)
    feat_path = folder / "feature_values.arff"
    if feat_path.exists():
        fa = _load_arff(feat_path)
        fcols = [a[0] for a in fa["attributes"]]
        feats = pd.DataFrame(fa["data"], columns=fcols)
        feats["instance_id"] = feats["instance_id"].astype(str)
        feats = feats.drop(columns=[c for c in ("repetition",) if c in feats.columns])
        numeric = feats.drop(columns=["instance_id"]).apply(pd.to_numeric, errors="coerce")
        numeric.index = feats["instance_id"]
        features = numeric.groupby(level=0, sort=False).mean()
    else:
        features = pd.DataFrame()
    configs: dict[str, dict[str, Any]] = {}
    meta_algs = desc.get("metainfo_algorithms") or {}
    for alg in runs["algorithm"].unique():
        cfg: dict[str, Any] = {"algorithm": alg}
        entry = meta_algs.get(alg) if isinstance(meta_algs, dict) else None
        text = entry.get("configuration") if isinstance(entry, dict) else None
        if isinstance(text, str) and text.strip().startswith("{"):
            try:
                parsed = json.loads(text)
                if isinstance(parsed, dict):
                    cfg = parsed
            except json.JSONDecodeError:
                pass
        configs[alg] = cfg
    return AslibData(str(desc.get("scenario_id", folder.name)), measures, maximize, runs, features,
                     configs, desc)


def _aslib_task(instance: str, prefix: str) -> str:
    return instance if "/" in instance else f"{prefix}{instance}"


def import_aslib(db: MetaDatabase, path: str | Path, *, task_prefix: str | None = None,
                 space: str | None = None, metric_names: Mapping[str, str] | None = None,
                 feature_view: str | None = None, show_progress: bool | None = None,
                 on_progress: Progress = None) -> ImportReport:
    """Import an ASlib scenario: performance of each algorithm on each instance, and features.

    Args:
        path: the scenario folder.
        task_prefix: prefix of the task ids; default ``openml/t/`` for ``OPENML*`` scenarios
            (whose instances are OpenML task ids), else ``aslib/<scenario_id>/``. Instance ids that
            already contain ``/`` (warmnas exports) are kept as they are.
        space: name of the (generic) space of the algorithms; default ``aslib/<scenario_id>``,
            or for a warmnas export the exact space it recorded in ``description.txt``.
        metric_names: rename measures (``{"predictive_accuracy": "accuracy"}``).
        feature_view: view for the instance features; default ``"openml"`` for ``OPENML*``
            scenarios, else the ``warmnas_feature_view`` of an export, else ``aslib/<scenario_id>``.

    Runs whose ``runstatus`` is not ``ok`` are skipped (counted in the report).
    """
    data = read_aslib(path)
    sid = data.scenario_id
    is_openml = sid.upper().startswith("OPENML")
    prefix = task_prefix if task_prefix is not None else ("openml/t/" if is_openml else f"aslib/{sid}/")
    view = feature_view or ("openml" if is_openml else str(data.description.get("warmnas_feature_view") or f"aslib/{sid}"))
    definition = data.description.get("warmnas_space_definition")
    sp: Space
    if space is None and isinstance(definition, str):  # a warmnas export: the exact space
        sp = space_from_json(json.loads(definition))
    else:
        sp = GenericSpace(space or f"aslib/{sid}")
    runs = data.runs
    ok = runs["runstatus"].astype(str) == "ok" if "runstatus" in runs.columns else pd.Series(True, index=runs.index)
    skipped = int((~ok).sum())
    runs = runs[ok]
    cfg_ids = {alg: sp.config_id(cfg) for alg, cfg in data.algorithm_configs.items()}
    rename = dict(metric_names or {})
    frames = []
    for measure, maximize in zip(data.measures, data.maximize):
        vals = pd.to_numeric(runs[measure], errors="coerce")
        present = vals.notna()
        skipped += int((~present).sum())
        part = runs[present]
        frames.append(pd.DataFrame({
            "task": [_aslib_task(i, prefix) for i in part["instance_id"]],
            "config_id": part["algorithm"].map(cfg_ids).to_numpy(),
            "metric": rename.get(measure, measure),
            "direction": "maximize" if maximize else "minimize",
            "value": vals[present].to_numpy(np.float64),
            "seed": pd.to_numeric(part["repetition"], errors="coerce").fillna(1).astype(np.int64).to_numpy() - 1
            if "repetition" in part.columns else 0,  # ASlib repetitions count from 1
            "source": f"aslib:{sid}",
        }))
    records = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    instances = list(dict.fromkeys(list(data.runs["instance_id"]) + list(data.features.index)))
    task_rows = []
    for inst in instances:
        tid = _aslib_task(inst, prefix)
        row: dict[str, Any] = {"task": tid, "source": f"aslib:{sid}"}
        if is_openml and inst.isdigit() and tid.startswith("openml/t/"):
            row["openml_task_id"] = int(inst)
        task_rows.append(row)
    features = data.features.copy()
    features.index = pd.Index([_aslib_task(i, prefix) for i in features.index])
    if np.isinf(features.to_numpy(dtype=np.float64)).any():
        features = features.replace([np.inf, -np.inf], np.nan)

    def fn(w: Writer, report: ImportReport) -> None:
        w.add_tasks(task_rows)
        report.tasks = len(task_rows)
        w.add_space(sp)
        w.insert_configs(sp, [(cfg_ids[a], canonical_json(sp.validate(c))) for a, c in data.algorithm_configs.items()])
        report.configs = len(cfg_ids)
        if len(records):
            report.evaluations = w.add_evaluations(records, show_progress=show_progress,
                                                   on_progress=on_progress)
        if len(features.columns):
            report.meta_features = w.add_meta_features(features, view=view)
        report.skipped = {"not_ok_or_missing": skipped}

    return _run(db, f"aslib:{sid}", fn)


_AUTOSKLEARN_METRICS = {
    "accuracy": "error", "balanced_accuracy": "balanced_error", "log_loss": "log_loss",
    "roc_auc": "auc_error", "r2": "r2_loss", "root_mean_squared_error": "rmse",
}


def _parse_config_value(text: str) -> Any:
    t = text.strip()
    if t in ("True", "False"):
        return t == "True"
    if t in ("None",):
        return None
    try:
        if re.fullmatch(r"[-+]?\d+", t):
            return int(t)
        return float(t) if math.isfinite(float(t)) else t
    except ValueError:
        return t


def import_autosklearn(db: MetaDatabase, path: str | Path, *, show_progress: bool | None = None,
                       on_progress: Progress = None) -> ImportReport:
    """Import auto-sklearn's meta-data (``metalearning/files``): one or all ``<metric>_<task>_dense``
    folders.

    Per folder: the best configuration found per dataset (``algorithm_runs.arff``; values are
    LOSSES, stored under the loss metric: ``balanced_error``, ``error``, ``log_loss``,
    ``auc_error`` (1 - AUC), ``r2_loss`` (1 - R^2), ``rmse``), the configurations
    (``configurations.csv``, ConfigSpace names, in the generic space ``autosklearn/<task>``) and the
    meta-features (``feature_values.arff``, view ``autosklearn``). Tasks ``autosklearn/<name>``.
    """
    root = _folder(path, "auto-sklearn meta-data")
    folders = [root] if (root / "algorithm_runs.arff").exists() else sorted(
        p for p in root.iterdir() if p.is_dir() and (p / "algorithm_runs.arff").exists())
    if not folders:
        raise MissingDataError(f"no auto-sklearn metric folders (with algorithm_runs.arff) under {root}")
    parsed = []
    for folder in folders:
        m = re.fullmatch(r"(.+?)_(binary\.classification|multiclass\.classification|regression)_(dense|sparse)",
                         folder.name)
        if m is None:
            raise InputError(f"{folder.name!r} is not an auto-sklearn '<metric>_<task>_<dense|sparse>' folder")
        measure, kind = m.group(1), m.group(2)
        if measure not in _AUTOSKLEARN_METRICS:
            raise InputError(f"unknown auto-sklearn metric {measure!r} in {folder.name}")
        data = read_aslib(folder)
        cfg_csv = _read_csv(_require(folder / "configurations.csv", "configurations.csv"), dtype=str,
                            keep_default_na=False)
        sp = GenericSpace(f"autosklearn/{kind.split('.')[0]}")
        cfgs: dict[str, tuple[str, dict[str, Any]]] = {}
        for _, row in cfg_csv.iterrows():
            cfg = {k: _parse_config_value(v) for k, v in row.items() if k != "idx" and v.strip() != ""}
            valid = sp.validate(cfg)
            cfgs[str(row["idx"]).strip()] = (sp.config_id(valid), valid)
        runs = data.runs[data.runs.get("runstatus", "ok").astype(str) == "ok"] if "runstatus" in data.runs else data.runs
        loss = pd.to_numeric(runs[data.measures[0]], errors="coerce")
        algs = runs["algorithm"].astype(str).str.replace(r"\.0$", "", regex=True)
        missing_cfg = sorted(set(algs) - set(cfgs))
        if missing_cfg:
            raise InputError(f"{folder.name}: runs name configurations missing from configurations.csv: {missing_cfg[:5]}")
        keep = loss.notna().to_numpy()
        records = pd.DataFrame({
            "task": [f"autosklearn/{i}" for i in runs["instance_id"][keep]],
            "config_id": [cfgs[a][0] for a in algs[keep]],
            "metric": _AUTOSKLEARN_METRICS[measure],
            "value": loss[keep].to_numpy(np.float64),
            "source": f"autosklearn:{folder.name}",
        })
        feats = data.features.copy()
        feats.index = pd.Index([f"autosklearn/{i}" for i in feats.index])
        feats = feats.replace([np.inf, -np.inf], np.nan)
        task_type = {"binary.classification": "binary", "multiclass.classification": "multiclass",
                     "regression": "regression"}[kind]
        parsed.append((folder.name, sp, cfgs, records, feats, task_type, int((~keep).sum())))

    def fn(w: Writer, report: ImportReport) -> None:
        skipped = 0
        all_tasks: set[str] = set()
        all_configs: set[str] = set()
        for _name, sp, cfgs, records, feats, task_type, n_skip in parsed:
            tasks = list(dict.fromkeys(list(records["task"]) + list(feats.index)))
            w.add_tasks([{"task": t, "source": "autosklearn", "name": t.split("/", 1)[1],
                          "task_type": task_type} for t in tasks])
            all_tasks.update(tasks)
            w.add_space(sp)
            w.insert_configs(sp, [(cid, canonical_json(c)) for cid, c in cfgs.values()])
            all_configs.update(cid for cid, _ in cfgs.values())
            report.evaluations += w.add_evaluations(records, show_progress=show_progress,
                                                    on_progress=on_progress)
            if len(feats.columns):
                report.meta_features += w.add_meta_features(feats, view="autosklearn")
            skipped += n_skip
        report.tasks, report.configs = len(all_tasks), len(all_configs)
        report.skipped = {"missing_value": skipped}

    return _run(db, "autosklearn", fn)


# --------------------------------------------------------------------------------------------
# NAS-Bench-201 and FBNet (HELP latencies)
# --------------------------------------------------------------------------------------------


def load_pt(path: str | Path) -> Any:
    """Load a ``.pt`` file that holds plain lists/dicts without importing torch.

    The HELP files are torch zip archives whose ``data.pkl`` pickles only lists, dicts, numbers
    and strings; they are unpickled with a restricted unpickler that refuses every class.
    """
    import io
    import pickle

    class _Plain(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            raise InputError(f"{path} holds a {module}.{name} object; only plain lists/dicts are read")

    p = _require(Path(path), "tensor file")
    try:
        with zipfile.ZipFile(p) as z:
            member = next(n for n in z.namelist() if n.endswith("data.pkl"))
            return _Plain(io.BytesIO(z.read(member))).load()
    except (zipfile.BadZipFile, StopIteration) as exc:
        raise InputError(f"{p} is not a torch zip archive with a data.pkl") from exc


def _nb201_latencies(folder: Path, n_archs: int, devices: Sequence[str] | None) -> dict[str, np.ndarray]:
    lat_dir = folder / "latency"
    if not lat_dir.is_dir():
        return {}
    out = {}
    names = sorted(p.stem for p in lat_dir.glob("*.pt"))
    if devices is not None:
        if isinstance(devices, str):
            devices = [devices]
        unknown = [d for d in devices if d not in names]
        if unknown:
            raise InputError(f"devices {unknown} have no latency file in {lat_dir}; available: {names}")
    for dev in names if devices is None else devices:
        vals = np.asarray(load_pt(lat_dir / f"{dev}.pt"), dtype=np.float64)
        if vals.shape != (n_archs,):
            raise InputError(f"{lat_dir / dev}.pt holds {vals.shape} latencies; expected ({n_archs},)")
        if not np.isfinite(vals).all() or (vals < 0).any():
            raise InputError(f"{lat_dir / dev}.pt holds negative or non-finite latencies")
        out[dev] = vals
    return out


def import_nb201(db: MetaDatabase, path: str | Path, *, latency: bool = True,
                 devices: Sequence[str] | None = None, latency_task: str = "nb201/cifar100",
                 show_progress: bool | None = None, on_progress: Progress = None) -> ImportReport:
    """Import NAS-Bench-201 test accuracies (200 epochs) and HELP's per-device latencies.

    Tasks ``nb201/cifar10``, ``nb201/cifar100``, ``nb201/ImageNet16-120`` (metric
    ``test_accuracy``, percent, maximize); configurations ``{"arch": <NB201 string>}`` in the
    ``nb201`` space. Latencies (``latency/<device>.pt``, ms, one per arch index) are stored as
    metric ``latency_ms`` with ``device=<device>`` on ``latency_task`` (default
    ``nb201/cifar100``: HELP pairs its NAS-Bench-201 latencies with CIFAR-100 accuracies).

    Args:
        latency: import the latencies too.
        devices: only these devices (default: every ``latency/*.pt``).
    """
    folder = _folder(path, "NAS-Bench-201")
    table = _read_csv(_require(folder / "nats_bench.csv", "nats_bench.csv"))
    if "ArchitectureString" not in table.columns:
        raise InputError("nats_bench.csv lacks the ArchitectureString column")
    space = NB201Space("nb201")
    archs = table["ArchitectureString"].astype(str).tolist()
    for a in archs:
        NB201Space.parse(a)
    cfg_ids = [space.config_id({"arch": a}) for a in archs]
    if len(set(cfg_ids)) != len(cfg_ids):
        raise InputError("nats_bench.csv lists an architecture twice")
    accs = {}
    for ds, col in NB201_DATASETS.items():
        if col not in table.columns:
            raise InputError(f"nats_bench.csv lacks the column {col}")
        accs[ds] = table[col].to_numpy(np.float64)
    lats = _nb201_latencies(folder, len(archs), devices) if latency else {}

    def fn(w: Writer, report: ImportReport) -> None:
        w.add_tasks([{"task": f"nb201/{ds}", "source": "nb201", "task_type": "image",
                      "name": ds} for ds in NB201_DATASETS])
        report.tasks = len(NB201_DATASETS)
        w.add_space(space)
        w.insert_configs(space, [(cid, canonical_json({"arch": a})) for cid, a in zip(cfg_ids, archs)])
        report.configs = len(cfg_ids)
        tasks = [f"nb201/{ds}" for ds in NB201_DATASETS]
        acc = _matrix_frame(np.vstack([accs[ds] for ds in NB201_DATASETS]), tasks, cfg_ids)
        report.evaluations += w.add_matrix(acc, metric="test_accuracy", direction="maximize",
                                           source="nats-bench", show_progress=show_progress,
                                           on_progress=on_progress)
        for dev, vals in lats.items():
            frame = _matrix_frame(vals[None, :], [latency_task], cfg_ids)
            report.evaluations += w.add_matrix(frame, metric="latency_ms", direction="minimize",
                                               latency=frame, device=dev, source="help",
                                               show_progress=show_progress)

    return _run(db, "nb201", fn)


def nb201_alpha_from_arch(arch: str, confidence: float = 0.9) -> dict[str, np.ndarray]:
    """Architecture logits that put probability ``confidence`` on the arch's operation per edge.

    Returns ``{"cell": (6, 5) float64}`` = ``log(p)`` with ``p = confidence`` on the chosen
    operation and ``(1 - confidence) / 4`` on each other one (columns follow
    :data:`warmnas.space.NB201_OPS`); ``softmax`` of the row gives back ``p``.
    """
    from warmnas.space import NB201_OPS

    if not 0 < confidence < 1:
        raise InputError(f"confidence must be in (0, 1), got {confidence!r}")
    ops = NB201Space.parse(arch)
    p = np.full((6, len(NB201_OPS)), (1.0 - confidence) / (len(NB201_OPS) - 1))
    p[np.arange(6), [NB201_OPS.index(o) for o in ops]] = confidence
    return {"cell": np.log(p)}


def import_nb201_nas_records(db: MetaDatabase, path: str | Path, *, k: int = 20,
                             confidence: float = 0.9) -> ImportReport:
    """Store the ``k`` most accurate NAS-Bench-201 cells of each dataset as NAS records.

    Each record: task ``nb201/<dataset>``, space ``nb201``, genotype ``{"arch": ...}``, alpha from
    :func:`nb201_alpha_from_arch`, meta ``{"test_accuracy", "rank", "arch_index", "alpha"}``.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InputError(f"k must be a positive integer, got {k!r}")
    folder = _folder(path, "NAS-Bench-201")
    table = _read_csv(_require(folder / "nats_bench.csv", "nats_bench.csv"))
    records = []
    for ds, col in NB201_DATASETS.items():
        acc = table[col].to_numpy(np.float64)
        order = np.lexsort((np.arange(len(acc)), -acc))[:k]  # ties: lower arch index first
        for rank, idx in enumerate(order, start=1):
            arch = str(table["ArchitectureString"].iloc[idx])
            records.append((f"nb201/{ds}", arch, nb201_alpha_from_arch(arch, confidence),
                            {"test_accuracy": float(acc[idx]), "rank": rank, "arch_index": int(idx),
                             "alpha": f"log-probabilities, p={confidence} on the cell's operation"}))

    def fn(w: Writer, report: ImportReport) -> None:
        w.add_tasks([{"task": f"nb201/{ds}", "source": "nb201", "task_type": "image", "name": ds}
                     for ds in NB201_DATASETS])
        for task, arch, alpha, meta in records:
            w.add_nas_record(task, "nb201", {"arch": arch}, alpha, source="nats-bench", meta=meta)
        report.nas_records = len(records)

    return _run(db, "nb201-nas-records", fn)


#: FBNet-space operation names of HELP's ``arch_str`` (index = op index)
FBNET_OPS = ("k3_e1", "k3_e1_g2", "k3_e3", "k3_e6", "k5_e1", "k5_e1_g2", "k5_e3", "k5_e6", "skip")


def import_fbnet(db: MetaDatabase, path: str | Path, *, devices: Sequence[str] | None = None,
                 show_progress: bool | None = None) -> ImportReport:
    """Import HELP's FBNet-space latency set: 5,000 architectures x 20 device settings.

    Configurations ``{"ops": [22 op names]}`` in the generic space ``fbnet``; metric
    ``latency_ms`` per device on task ``fbnet/<dataset>`` (``metainfo.pt`` says ``cifar100``).
    """
    folder = _folder(path, "FBNet")
    archs = load_pt(_require(folder / "arch.pt", "FBNet arch.pt"))
    dataset = "cifar100"
    meta_path = folder / "metainfo.pt"
    if meta_path.exists():
        meta = load_pt(meta_path)
        if isinstance(meta, dict) and isinstance(meta.get("dataset"), str):
            dataset = meta["dataset"]
    configs = []
    for i, ops in enumerate(archs):
        if not isinstance(ops, list) or len(ops) != 22 or not all(isinstance(o, int) and 0 <= o < len(FBNET_OPS) for o in ops):
            raise InputError(f"FBNet arch {i} is not 22 op indices in [0, {len(FBNET_OPS)}): {ops!r}")
        configs.append({"ops": [FBNET_OPS[o] for o in ops]})
    space = GenericSpace("fbnet", required=("ops",))
    cfg_ids = [space.config_id(c) for c in configs]
    lats = _nb201_latencies(folder, len(configs), devices)
    task = f"fbnet/{dataset}"

    def fn(w: Writer, report: ImportReport) -> None:
        w.add_tasks([{"task": task, "source": "help", "task_type": "image", "name": dataset}])
        report.tasks = 1
        w.add_space(space)
        w.insert_configs(space, list(dict(zip(cfg_ids, (canonical_json(c) for c in configs))).items()))
        report.configs = len(set(cfg_ids))
        for dev, vals in lats.items():
            frame = pd.DataFrame(vals[None, :], index=[task], columns=cfg_ids)
            frame = frame.T.groupby(level=0, sort=False).mean().T  # duplicate archs: mean
            report.evaluations += w.add_matrix(frame, metric="latency_ms", direction="minimize",
                                               latency=frame, device=dev, source="help",
                                               show_progress=show_progress)

    return _run(db, "fbnet", fn)
