"""Real processes: concurrent writers lose nothing; a killed or failing import changes nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from warmnas.metadb import MetaDatabase
from warmnas.metadb.importers import import_oboe, import_pmf_features

pytestmark = pytest.mark.slow

WRITER = textwrap.dedent("""
    import sys, time, os
    from pathlib import Path
    from warmnas.metadb import MetaDatabase
    from warmnas.space import ConfigSpace, Integer

    url, writer, go = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    space = ConfigSpace("grid", [Integer("a", 0, 9), Integer("b", 0, 9)])
    while not go.exists():
        time.sleep(0.01)
    db = MetaDatabase(url)  # several processes may create the schema at once
    records = [
        {"task": f"p/task{i % 10}", "config": {"a": (i // 10) % 10, "b": i // 100},
         "value": writer + i / 1000, "seed": writer, "cost_s": 0.5}
        for i in range(1000)
    ]
    for start in range(0, 1000, 50):  # 20 transactions per writer
        db.add_evaluations(records[start:start + 50], metric="error", space=space,
                           create_tasks=True, source=f"writer{writer}")
    db.add_evaluations(records[:50], metric="error", space=space,  # a repeat: idempotent
                       source=f"writer{writer}")
    print("done", writer)
""")


def _run_writers(url: str, tmp_path: Path, n: int = 4) -> None:
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, url, str(w), str(go)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for w in range(n)]
    time.sleep(0.5)
    go.touch()
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-3000:]
        assert out.startswith("done")


def test_four_writer_processes_lose_nothing(db_url, tmp_path):
    _run_writers(db_url, tmp_path)
    db = MetaDatabase(db_url)
    ev = db.evaluations(metric="error")
    assert len(ev) == 4 * 1000  # 0 lost, 0 duplicated
    assert not ev.duplicated(["task", "config_id", "seed"]).any()
    assert sorted(ev["seed"].value_counts().tolist()) == [1000] * 4
    # every value is the one its writer sent
    assert ((ev["value"] - ev["seed"]) * 1000).round().between(0, 999).all()
    assert len(db.tasks()) == 10 and len(db.configs()) == 100
    assert set(ev["source"]) == {f"writer{w}" for w in range(4)}
    m = db.performance_matrix("error")
    assert m.shape == (10, 100) and m.notna().all().all()


KILLED_IMPORT = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from warmnas.metadb import MetaDatabase
    from warmnas.metadb.importers import import_oboe

    url, data, marker = sys.argv[1], sys.argv[2], Path(sys.argv[3])

    def progress(done, total):
        marker.write_text(f"{done}/{total}")  # evaluations are written, not yet committed
        time.sleep(600)                        # wait here to be killed

    import_oboe(MetaDatabase(url), data, on_progress=progress)
""")


def test_killed_import_leaves_the_database_unchanged(db_url, tmp_path, shared_data):
    db = MetaDatabase(db_url)
    import_pmf_features(db, shared_data / "pmf-metafeatures")  # some prior content
    before = db.snapshot_digest()
    marker = tmp_path / "marker"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    proc = subprocess.Popen([sys.executable, "-c", KILLED_IMPORT, db_url, str(shared_data / "oboe"),
                             str(marker)], env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not marker.exists():
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.time() < deadline, "the import never reached its first chunk"
        time.sleep(0.05)
    assert marker.read_text() == f"{358 * 219}/{358 * 219}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    db.dispose()
    after = MetaDatabase(db_url)
    assert after.snapshot_digest() == before
    assert "balanced_error" not in after.metrics()
    # the database is healthy: the same import now completes
    assert import_oboe(after, shared_data / "oboe").evaluations == 358 * 219
    assert after.performance_matrix("balanced_error").shape == (358, 219)
    after.check()


def test_error_midway_leaves_the_database_unchanged(db_url, shared_data):
    db = MetaDatabase(db_url)
    import_pmf_features(db, shared_data / "pmf-metafeatures")
    before = db.snapshot_digest()

    def fail(done: int, total: int) -> None:
        raise RuntimeError(f"disk full after {done} of {total}")

    with pytest.raises(RuntimeError, match="disk full after 78402 of 78402"):
        import_oboe(db, shared_data / "oboe", on_progress=fail)
    assert db.snapshot_digest() == before
