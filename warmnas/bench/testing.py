"""Fault injection for checking that a study survives lost workers (tests, cluster smoke tests).

:class:`CrashOnce` wraps an evaluator and kills the worker process that runs its ``n``-th
evaluation, once per marker file: the process dies exactly as it would from the OOM killer or a
lost machine (``SIGKILL``, no clean-up). The study must still finish with every planned
evaluation stored exactly once::

    ev = CrashOnce(evaluator, marker="/tmp/crash-marker", log_dir="/tmp/calls")
    run_study(tasks, "knn,random", ev, prior=prior, db=db, budget=10,
              executor=DaskExecutor(n_workers=2))

It refuses to kill the process that created it (a serial executor would kill the driver).
"""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from warmnas.bench.evaluators import Evaluation, Evaluator
from warmnas.errors import ExecutionError, InputTypeError

__all__ = ["CrashOnce", "count_calls"]


class CrashOnce(Evaluator):
    """Kill the worker running the ``after``-th evaluation (counted across processes), once.

    Args:
        inner: the evaluator doing the work.
        marker: a file path; the first evaluation that finds ``after`` call records and no
            marker creates the marker and kills its own process. Delete the marker to arm it
            again.
        log_dir: a folder; every evaluation that starts writes one file there (name =
            ``<pid>-<uuid>``), so tests can count how often evaluations ran in all processes.
        after: evaluations (started, in all processes) before the crash.
        times: how many evaluations to kill (each leaves a marker: ``marker``, ``marker.1``,
            ...); ``times=1`` (default) kills one.
        sig: the signal (default ``SIGKILL``).
    """

    def __init__(self, inner: Evaluator, marker: str | os.PathLike[str],
                 log_dir: str | os.PathLike[str], *, after: int = 0, times: int = 1,
                 sig: int = signal.SIGKILL) -> None:
        if not isinstance(inner, Evaluator):
            raise InputTypeError(f"inner must be an Evaluator, got {type(inner).__name__}")
        self.inner = inner
        self.marker = str(marker)
        self.log_dir = str(log_dir)
        self.after = int(after)
        self.times = int(times)
        self.sig = int(sig)
        self.protected_pid = os.getpid()
        self.space = inner.space
        self.metric = inner.metric
        self.direction = inner.direction
        Path(self.log_dir).mkdir(parents=True, exist_ok=True)

    def evaluate(self, config: Mapping[str, Any], task: Any) -> float | Evaluation:
        Path(self.log_dir, f"{os.getpid()}-{uuid.uuid4().hex}").touch()
        if count_calls(self.log_dir) > self.after:
            for k in range(self.times):
                path = self.marker if k == 0 else f"{self.marker}.{k}"
                try:
                    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
                except FileExistsError:
                    continue
                os.write(fd, str(os.getpid()).encode())
                os.close(fd)
                if os.getpid() == self.protected_pid:
                    raise ExecutionError("CrashOnce refuses to kill the process that created it; "
                                         "use a process pool or Dask executor")
                os.kill(os.getpid(), self.sig)
        return self.inner.evaluate(config, task)

    def fidelity(self, task: Any) -> float:
        return self.inner.fidelity(task)


def count_calls(log_dir: str | os.PathLike[str]) -> int:
    """How many evaluations a :class:`CrashOnce` started (all processes)."""
    return sum(1 for _ in Path(log_dir).iterdir())
