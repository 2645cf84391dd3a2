"""Exports: evaluations, matrices and meta-features to Parquet/CSV; scenarios to ASlib.

An ASlib export carries what a warmnas re-import needs to give back the same database content:
each algorithm is a config id whose configuration travels as canonical JSON in
``metainfo_algorithms[<id>].configuration``, and ``description.txt`` records the exact space
(``warmnas_space_definition``) and the meta-feature view (``warmnas_feature_view``). Other ASlib
tools ignore these extra keys.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from warmnas._io import atomic_write
from warmnas.errors import InputError
from warmnas.metadb.database import MetaDatabase
from warmnas.space import canonical_json

__all__ = ["export_evaluations", "export_failures", "export_matrix", "export_meta_features",
           "export_aslib"]

_FORMATS = ("parquet", "csv")


def format_of(path: str | os.PathLike[str]) -> str | None:
    """The export format a file name asks for (``.parquet`` / ``.pq``, ``.csv``), else None."""
    suffix = Path(path).suffix.lower().lstrip(".")
    return {"pq": "parquet", "parquet": "parquet", "csv": "csv"}.get(suffix)


def _format(path: Path, fmt: str | None) -> str:
    if fmt is None:
        fmt = format_of(path)
        if fmt is None:
            raise InputError(
                f"cannot tell the format of {path.name!r}; use a .parquet or .csv name or pass "
                "format='parquet'|'csv'"
            )
    if fmt not in _FORMATS:
        raise InputError(f"format must be 'parquet' or 'csv', got {fmt!r}")
    return fmt


def _write(frame: pd.DataFrame, path: Path, fmt: str, index: bool) -> Path:
    """Write atomically: an interrupted export leaves the previous file (or none), never a torn one."""
    if path.is_dir():
        raise InputError(f"{path} is a folder; pass the path of the .{fmt} file to write")
    if not path.parent.is_dir():
        raise InputError(f"the folder {path.parent} does not exist")
    if fmt == "parquet":
        atomic_write(path, lambda fh: frame.to_parquet(fh, index=index))
    else:
        atomic_write(path, lambda fh: frame.to_csv(fh, index=index), binary=False)
    return path


def export_evaluations(db: MetaDatabase, path: str | Path, *, format: str | None = None,
                       task: str | None = None, metric: str | None = None,
                       space: str | None = None) -> Path:
    """Write evaluations in long form (:meth:`MetaDatabase.evaluations` plus ``space`` and the
    configuration as canonical JSON ``config``).

    Returns:
        The path written.
    """
    out = Path(path)
    fmt = _format(out, format)
    frame = db.evaluations(task=task, metric=metric, space=space)
    return _write(_with_configs(db, frame), out, fmt, index=False)


def export_failures(db: MetaDatabase, path: str | Path, *, format: str | None = None,
                    task: str | None = None, metric: str | None = None,
                    space: str | None = None) -> Path:
    """Write the stored failed evaluations (:meth:`MetaDatabase.failures`: error type, message,
    elapsed seconds, attempts) with ``space`` and the configuration as canonical JSON
    ``config``, one row per failure.

    Returns:
        The path written.
    """
    out = Path(path)
    fmt = _format(out, format)
    frame = db.failures(task, metric=metric, space=space)
    return _write(_with_configs(db, frame), out, fmt, index=False)


def _with_configs(db: MetaDatabase, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (a ``config_id`` column) with each configuration's ``space`` and canonical
    JSON ``config`` added."""
    configs = db.configs(ids=list(dict.fromkeys(frame["config_id"]))) if len(frame) else {}
    spaces = {cid: db.config_space(cid) for cid in configs} if len(configs) < 5000 else None
    if spaces is None:
        spaces = {}
        for name in db.spaces():
            spaces.update(dict.fromkeys(db.configs(space=name), name))
    frame = frame.copy()
    frame["space"] = frame["config_id"].map(spaces)
    frame["config"] = frame["config_id"].map({c: canonical_json(v) for c, v in configs.items()})
    return frame


def export_matrix(db: MetaDatabase, path: str | Path, *, metric: str | None = None,
                  format: str | None = None, space: str | None = None,
                  normalize: str | None = None, field: str = "value",
                  device: str | None = None) -> Path:
    """Write :meth:`MetaDatabase.performance_matrix` (rows task ids, columns config ids)."""
    out = Path(path)
    fmt = _format(out, format)
    frame = db.performance_matrix(metric, space=space, normalize=normalize, field=field, device=device)
    frame.columns = frame.columns.astype(str)
    return _write(frame, out, fmt, index=True)


def export_meta_features(db: MetaDatabase, path: str | Path, *, view: str = "autosklearn",
                         format: str | None = None) -> Path:
    """Write :meth:`MetaDatabase.meta_features` of one view."""
    out = Path(path)
    fmt = _format(out, format)
    return _write(db.meta_features(view), out, fmt, index=True)


def export_aslib(db: MetaDatabase, folder: str | Path, *, metric: str | None = None,
                 space: str | None = None, view: str | None = "autosklearn",
                 scenario_id: str | None = None) -> Path:
    """Write an ASlib scenario (``description.txt``, ``algorithm_runs.arff``,
    ``feature_values.arff``) of one metric.

    Args:
        folder: the scenario folder (created; must not hold a scenario already).
        metric: the performance measure (default: the database's default metric).
        space: only configurations of this space; required when the metric spans several spaces.
        view: the meta-feature view written as instance features (None: no features file).
        scenario_id: default ``warmnas-<metric>``.

    Returns:
        The folder.

    Raises:
        InputError: the folder already holds a scenario, or the metric spans several spaces.
        UnknownIdError: unknown metric, space or view.
    """
    import arff
    import yaml

    out = Path(folder)
    if (out / "description.txt").exists():
        raise InputError(f"{out} already holds an ASlib scenario; choose an empty folder")
    metric = db._resolve_metric(metric)
    matrix = db.performance_matrix(metric, space=space)
    spaces = {db.config_space(c) for c in matrix.columns} if len(matrix.columns) <= 5000 else None
    if space is None:
        if spaces is None:
            spaces = set()
            for name in db.spaces():
                if set(db.configs(space=name)) & set(matrix.columns):
                    spaces.add(name)
        if len(spaces) > 1:
            raise InputError(
                f"metric {metric!r} spans the spaces {sorted(spaces)}; pass space=... to export one"
            )
        space = next(iter(spaces)) if spaces else None
    configs = db.configs(ids=list(matrix.columns))
    direction = db.metric_direction(metric)
    features = db.meta_features(view) if view is not None else None
    sid = scenario_id or f"warmnas-{metric}"
    out.mkdir(parents=True, exist_ok=True)

    values = matrix.to_numpy()
    rows, cols = np.nonzero(~np.isnan(values))
    runs = [[matrix.index[i], 1, matrix.columns[j], float(values[i, j]), "ok"] for i, j in zip(rows, cols)]
    (out / "algorithm_runs.arff").write_text(arff.dumps({
        "relation": f"ALGORITHM_RUNS_{sid}",
        "attributes": [("instance_id", "STRING"), ("repetition", "NUMERIC"), ("algorithm", "STRING"),
                       (metric, "NUMERIC"),
                       ("runstatus", ["ok", "timeout", "memout", "not_applicable", "crash", "other"])],
        "data": runs,
    }))
    feature_names: list[str] = []
    if features is not None:
        features = features.loc[[t for t in features.index if t in set(matrix.index)]]
        feature_names = [str(c) for c in features.columns]
        data = [[task, 1] + [None if (isinstance(v, float) and math.isnan(v)) else float(v) for v in row]
                for task, row in zip(features.index, features.to_numpy().tolist())]
        (out / "feature_values.arff").write_text(arff.dumps({
            "relation": f"FEATURES_{sid}",
            "attributes": [("instance_id", "STRING"), ("repetition", "NUMERIC")]
            + [(name, "NUMERIC") for name in feature_names],
            "data": data,
        }))
    description: dict[str, Any] = {
        "scenario_id": sid,
        "performance_measures": [metric],
        "maximize": [direction == "maximize"],
        "performance_type": ["solution_quality"],
        "algorithm_cutoff_time": "?",
        "algorithm_cutoff_memory": "?",
        "features_cutoff_time": "?",
        "features_cutoff_memory": "?",
        "features_deterministic": feature_names,
        "features_stochastic": "",
        "algorithms_deterministic": list(matrix.columns),
        "algorithms_stochastic": "",
        "number_of_feature_steps": 1,
        "default_steps": ["ALL"],
        "feature_steps": {"ALL": {"provides": feature_names}},
        "metainfo_algorithms": {
            cid: {"configuration": canonical_json(configs[cid]), "deterministic": True}
            for cid in matrix.columns
        },
        "warmnas_metric_direction": direction,
    }
    if space is not None:
        description["warmnas_space"] = space
        description["warmnas_space_definition"] = canonical_json(db.space(space).to_json())
    if view is not None:
        description["warmnas_feature_view"] = view
    (out / "description.txt").write_text(yaml.safe_dump(description, sort_keys=False, width=1000))
    (out / "readme.txt").write_text(
        f"ASlib scenario {sid} exported by warmnas from {db.url}: metric {metric} ({direction}), "
        f"{matrix.shape[0]} instances x {matrix.shape[1]} algorithms (configuration ids; the "
        "configurations are JSON in description.txt's metainfo_algorithms).\n")
    return out
