"""The meta-database of warmnas: tasks x configurations performance, meta-features, NAS records.

``MetaDatabase(url)`` stores everything in SQLite (embedded, default) or PostgreSQL; the importers
in :mod:`warmnas.metadb.importers` read the public data sets (Oboe, TabRepo, ASlib, auto-sklearn,
PMF, NAS-Bench-201, FBNet, OpenML caches); :mod:`warmnas.metadb.exporters` writes Parquet, CSV
and ASlib. The storage contract is in ``docs/metadb.md``.
"""

from __future__ import annotations

from warmnas.metadb._records import NASRecord
from warmnas.metadb.database import MetaDatabase, Writer
from warmnas.metadb.metrics import KNOWN_METRICS

__all__ = ["MetaDatabase", "Writer", "NASRecord", "KNOWN_METRICS"]
