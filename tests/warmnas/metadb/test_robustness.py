"""Edge cases found by the audit of the meta-database as users meet it: concurrent writers of the
same rows, failed opens, bad values, files of other programs, read-only locations."""

from __future__ import annotations

import threading
import time

import pytest

from warmnas.metadb import MetaDatabase
from warmnas.space import ConfigSpace, Integer

SPACE = ConfigSpace("toy", [Integer("k", 0, 99)])


@pytest.mark.postgres
def test_two_writers_of_the_same_new_rows_do_not_fail(pg_url):
    """Two processes importing the same data at once: the second one's optimistic plain INSERT
    meets the first one's rows; the clash must be retried (ON CONFLICT), not surface as a raw
    psycopg UniqueViolation."""
    db = MetaDatabase(pg_url)
    db.add_task("t/1")
    db.add_metric("error", "minimize")
    records = [{"task": "t/1", "config": {"k": i}, "value": i / 100} for i in range(10)]
    db.add_configs([r["config"] for r in records], space=SPACE)
    errors: list[BaseException] = []
    first_inserted = threading.Event()

    def hold(done: int, total: int) -> None:
        first_inserted.set()
        time.sleep(1.0)  # keep the rows uncommitted while the second writer starts

    def first() -> None:
        try:
            db.add_evaluations(records, metric="error", space="toy", on_progress=hold)
        except BaseException as exc:
            errors.append(exc)

    def second() -> None:
        first_inserted.wait(30)
        try:
            db.add_evaluations(records, metric="error", space="toy")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    ev = db.evaluations()
    assert len(ev) == 10 and not ev.duplicated(["task", "config_id"]).any()
    db.dispose()
