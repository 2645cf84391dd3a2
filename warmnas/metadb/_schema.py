"""Tables, schema version and migrations of the meta-database (SQLAlchemy Core).

Every table name starts with ``warmnas_`` so a shared PostgreSQL database can hold other
applications' tables too. Integer surrogate keys (``id``) keep the evaluations table small and the
matrix read fast; the public string ids (task ids, config ids) live in unique columns.

Schema history:

- v1: meta, tasks, spaces, configs, metrics, meta_features, evaluations.
- v2: + ``warmnas_nas_records`` (genotypes and architecture weights per task).
- v3: + ``warmnas_evaluation_failures`` (evaluations that failed: error type, message, elapsed
  time, attempts), keyed like ``warmnas_evaluations``. A v2 database opened read-only is still
  read (:data:`READ_COMPATIBLE`): the new table reads as empty.

A migration is a function ``(connection) -> None`` in :data:`MIGRATIONS`, keyed by the version it
upgrades from; all pending steps run in one transaction together with the version update.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

SCHEMA_VERSION = 3
#: older versions a read-only open serves as they are (what they lack reads as empty); older
#: ones must be opened writable once, which upgrades them
READ_COMPATIBLE = frozenset({2})
PREFIX = "warmnas_"

metadata = sa.MetaData()

meta = sa.Table(
    f"{PREFIX}meta", metadata,
    sa.Column("key", sa.String(100), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

tasks = sa.Table(
    f"{PREFIX}tasks", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("task_id", sa.String(200), nullable=False, unique=True),
    sa.Column("name", sa.Text),
    sa.Column("source", sa.String(200)),
    sa.Column("task_type", sa.String(100)),
    sa.Column("openml_dataset_id", sa.Integer),
    sa.Column("openml_task_id", sa.Integer),
    sa.Column("info", sa.Text),  # canonical JSON object or NULL
)

spaces = sa.Table(
    f"{PREFIX}spaces", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("definition", sa.Text, nullable=False),  # canonical JSON of Space.to_json()
)

configs = sa.Table(
    f"{PREFIX}configs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("config_id", sa.String(64), nullable=False, unique=True),
    sa.Column("space_id", sa.Integer, sa.ForeignKey(f"{PREFIX}spaces.id"), nullable=False),
    sa.Column("config", sa.Text, nullable=False),  # canonical JSON
    sa.Index(f"{PREFIX}configs_space", "space_id"),
)

metrics = sa.Table(
    f"{PREFIX}metrics", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("direction", sa.String(8), nullable=False),
    sa.Column("description", sa.Text),
    sa.CheckConstraint("direction IN ('minimize', 'maximize')", name=f"{PREFIX}metrics_direction"),
)

meta_features = sa.Table(
    f"{PREFIX}meta_features", metadata,
    sa.Column("task_id", sa.Integer, sa.ForeignKey(f"{PREFIX}tasks.id"), primary_key=True),
    sa.Column("view", sa.String(100), primary_key=True),
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("value", sa.Double),  # NULL = undefined (NaN)
    sqlite_with_rowid=False,
)

# The ids of an evaluation refer to warmnas_metrics/tasks/configs. They carry no foreign-key
# constraint: per-row FK triggers made bulk imports 6x slower on PostgreSQL. The writers keep the
# references valid instead: they resolve every id inside the write transaction, and on PostgreSQL
# lock the referenced task rows (FOR KEY SHARE) while delete_tasks locks them FOR UPDATE.
evaluations = sa.Table(
    f"{PREFIX}evaluations", metadata,
    sa.Column("metric_id", sa.Integer, primary_key=True),
    sa.Column("task_id", sa.Integer, primary_key=True),
    sa.Column("config_id", sa.Integer, primary_key=True),
    sa.Column("device", sa.String(100), primary_key=True, server_default=""),
    sa.Column("fidelity", sa.Double, primary_key=True, server_default="1.0"),
    sa.Column("seed", sa.Integer, primary_key=True, server_default="0"),
    sa.Column("value", sa.Double, nullable=False),
    sa.Column("cost_s", sa.Double),
    sa.Column("latency_ms", sa.Double),
    sa.Column("source", sa.String(200)),
    sa.Column("timestamp", sa.Double, nullable=False),  # seconds since the epoch, UTC
    sqlite_with_rowid=False,
)

nas_records = sa.Table(
    f"{PREFIX}nas_records", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("record_id", sa.String(64), nullable=False, unique=True),
    sa.Column("task_id", sa.Integer, sa.ForeignKey(f"{PREFIX}tasks.id"), nullable=False),
    sa.Column("space", sa.String(200), nullable=False),
    sa.Column("genotype", sa.Text, nullable=False),  # canonical JSON
    sa.Column("alpha", sa.Text, nullable=False),  # JSON: {name: {shape, dtype, data(base64)}}
    sa.Column("meta", sa.Text, nullable=False),  # canonical JSON object
    sa.Column("source", sa.String(200)),
    sa.Column("timestamp", sa.Double, nullable=False),
    sa.Index(f"{PREFIX}nas_records_task", "task_id"),
)

# Evaluations that failed (an exception, a timeout, a non-finite value), keyed like
# warmnas_evaluations. Small (one row per failing key, ``attempts`` counts the failures), so the
# references are foreign keys. A stored evaluation of the same key supersedes the row: storing
# a success deletes it, and reads leave out any row that has one.
evaluation_failures = sa.Table(
    f"{PREFIX}evaluation_failures", metadata,
    sa.Column("metric_id", sa.Integer, sa.ForeignKey(f"{PREFIX}metrics.id"), primary_key=True),
    sa.Column("task_id", sa.Integer, sa.ForeignKey(f"{PREFIX}tasks.id"), primary_key=True),
    sa.Column("config_id", sa.Integer, sa.ForeignKey(f"{PREFIX}configs.id"), primary_key=True),
    sa.Column("device", sa.String(100), primary_key=True, server_default=""),
    sa.Column("fidelity", sa.Double, primary_key=True, server_default="1.0"),
    sa.Column("seed", sa.Integer, primary_key=True, server_default="0"),
    sa.Column("error_type", sa.String(200), nullable=False),
    sa.Column("message", sa.Text, nullable=False),  # one line
    sa.Column("elapsed_s", sa.Double),  # seconds the last failed attempt ran (NULL = unknown)
    sa.Column("attempts", sa.Integer, nullable=False, server_default="1"),
    sa.Column("source", sa.String(200)),
    sa.Column("timestamp", sa.Double, nullable=False),  # the last failure, epoch seconds UTC
    sa.CheckConstraint("attempts >= 1", name=f"{PREFIX}evaluation_failures_attempts"),
    sa.Index(f"{PREFIX}evaluation_failures_task", "task_id"),
    sqlite_with_rowid=False,
)

#: tables of each schema version (in creation order)
TABLES_BY_VERSION: dict[int, tuple[sa.Table, ...]] = {
    1: (meta, tasks, spaces, configs, metrics, meta_features, evaluations),
    2: (meta, tasks, spaces, configs, metrics, meta_features, evaluations, nas_records),
    3: (meta, tasks, spaces, configs, metrics, meta_features, evaluations, nas_records,
        evaluation_failures),
}
ALL_TABLES = TABLES_BY_VERSION[SCHEMA_VERSION]


def _v1_to_v2(conn: Connection) -> None:
    nas_records.create(conn, checkfirst=True)


def _v2_to_v3(conn: Connection) -> None:
    evaluation_failures.create(conn, checkfirst=True)


#: version -> function upgrading a database from that version to the next
MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _v1_to_v2, 2: _v2_to_v3}
