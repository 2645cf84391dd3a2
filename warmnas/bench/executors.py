"""Where evaluations run: in this process, a local process pool, or a Dask cluster.

The benchmark driver keeps every warm starter's ask/tell state and submits one evaluation per
future; an executor only runs ``fn(*args)`` somewhere and reports completions. All three offer
the same small interface (:class:`Executor`):

* :class:`SerialExecutor`: in the calling process, one at a time (the baseline, and debugging);
* :class:`PoolExecutor`: a ``concurrent.futures.ProcessPoolExecutor`` (``forkserver`` start
  method where available, so a driver with threads - torch, BLAS - forks nothing unsafe). A
  killed worker breaks such a pool: :meth:`PoolExecutor.recover` builds a new one and the driver
  resubmits what was in flight;
* :class:`DaskExecutor`: a ``distributed`` client (``--dask-scheduler tcp://HOST:PORT``) or a
  ``LocalCluster`` it starts (``--dask-local N``: N worker processes, one thread each). A killed
  worker's tasks are rescheduled by Dask (``distributed.scheduler.allowed-failures`` times, set
  here for a cluster we start); a task that exhausts them (``KilledWorker``) is reported lost and
  the driver resubmits it.

Completions are pushed into a queue by done-callbacks, so waiting costs O(1) per evaluation
whatever the number in flight.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing
import os
import queue
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

from warmnas.errors import ExecutionError, InputError

__all__ = [
    "Executor",
    "SerialExecutor",
    "PoolExecutor",
    "DaskExecutor",
    "make_executor",
    "OK",
    "LOST",
    "ERROR",
]

logger = logging.getLogger(__name__)

#: outcome kinds of :meth:`Executor.collect`
OK, LOST, ERROR = "ok", "lost", "error"


class Executor(ABC):
    """Runs ``fn(*args)`` somewhere and reports completed futures.

    Attributes:
        name: ``"serial"``, ``"pool"`` or ``"dask"``.
        n_workers: how many evaluations may run at once.
    """

    name: str = "executor"
    n_workers: int = 1

    def __init__(self) -> None:
        self._done: queue.SimpleQueue[Any] = queue.SimpleQueue()

    def put(self, obj: Any) -> Any:
        """Make ``obj`` available to the workers once (Dask scatters it); pass the result to
        :meth:`submit` in place of ``obj``."""
        return obj

    def put_many(self, objs: Sequence[Any]) -> list[Any]:
        """:meth:`put` for several objects at once (one round trip on Dask)."""
        return [self.put(o) for o in objs]

    def refresh(self, handle: Any, obj: Any) -> Any:
        """A valid handle of ``obj`` after lost workers (Dask: scatter again if every copy of
        the data died with its workers); ``handle`` itself where it is still valid."""
        return handle

    @abstractmethod
    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Start ``fn(*args)``; returns a future. Its completion is reported by :meth:`wait`."""

    def _watch(self, future: Any) -> Any:
        future.add_done_callback(self._done.put)
        return future

    def wait(self, timeout: float | None = None) -> list[Any]:
        """Block until at least one submitted future completed; return all completed so far.

        Returns an empty list when ``timeout`` (seconds) passed first.
        """
        try:
            first = self._done.get(timeout=timeout)
        except queue.Empty:
            return []
        out = [first]
        while True:
            try:
                out.append(self._done.get_nowait())
            except queue.Empty:
                return out

    def collect(self, futures: Sequence[Any]) -> list[tuple[str, Any]]:
        """Outcomes of completed futures, in order: ``(OK, result)``, ``(LOST, exc)`` (its
        worker died; resubmit) or ``(ERROR, exc)`` (``fn`` raised)."""
        out: list[tuple[str, Any]] = []
        for fut in futures:
            exc = fut.exception()
            if exc is None:
                out.append((OK, fut.result()))
            else:
                out.append((LOST if self._is_lost(exc) else ERROR, exc))
        return out

    def _is_lost(self, exc: BaseException) -> bool:
        return False

    def recover(self) -> None:  # noqa: B027 - optional hook
        """Make the executor usable again after a lost worker (no-op where nothing broke)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the workers (and a cluster this executor started)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n_workers={self.n_workers})"


class SerialExecutor(Executor):
    """Runs each evaluation in the calling process when it is submitted."""

    name = "serial"
    n_workers = 1

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        fut: cf.Future[Any] = cf.Future()
        try:
            fut.set_result(fn(*args))
        except Exception as exc:  # reported through collect() as ERROR, like the other executors
            fut.set_exception(exc)
        return self._watch(fut)


def _default_context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


class PoolExecutor(Executor):
    """A local process pool.

    Args:
        n_workers: worker processes (default: the CPUs this process may use).
        mp_context: a ``multiprocessing`` context (default ``forkserver``, else ``spawn``).
    """

    name = "pool"

    def __init__(self, n_workers: int | None = None, *, mp_context: Any = None) -> None:
        super().__init__()
        if n_workers is None:
            n_workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
                os.cpu_count() or 1)
        if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
            raise InputError(f"n_workers must be a positive int, got {n_workers!r}")
        self.n_workers = n_workers
        self._ctx = mp_context or _default_context()
        self._pool = cf.ProcessPoolExecutor(max_workers=n_workers, mp_context=self._ctx)
        self.restarts = 0

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return self._watch(self._pool.submit(fn, *args))
        except cf.process.BrokenProcessPool:
            self.recover()
            return self._watch(self._pool.submit(fn, *args))

    def _is_lost(self, exc: BaseException) -> bool:
        return isinstance(exc, cf.process.BrokenProcessPool)

    def recover(self) -> None:
        if getattr(self._pool, "_broken", False):
            logger.warning("a pool worker died; starting a new pool of %d workers", self.n_workers)
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = cf.ProcessPoolExecutor(max_workers=self.n_workers, mp_context=self._ctx)
            self.restarts += 1

    def worker_pids(self) -> list[int]:
        """Process ids of the current workers (those started so far)."""
        return sorted(p.pid for p in (self._pool._processes or {}).values() if p.pid)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor(Executor):
    """Evaluations as Dask tasks on a ``distributed`` cluster.

    Args:
        client: a ``distributed.Client``; or
        scheduler: a scheduler address (``"tcp://HOST:PORT"``) to connect to; or
        n_workers: start a ``LocalCluster`` of that many worker processes (one thread each).
        allowed_failures: how often the scheduler reschedules a task whose worker died before
            giving up with ``KilledWorker`` (only for a cluster started here; a remote
            scheduler keeps its own ``distributed.scheduler.allowed-failures``).
        timeout: seconds to wait for the scheduler (and, for a new cluster, its workers).

    Raises:
        InputError: none or several of ``client``, ``scheduler``, ``n_workers``.
        ExecutionError: the scheduler cannot be reached.
    """

    name = "dask"

    def __init__(self, client: Any = None, *, scheduler: str | None = None,
                 n_workers: int | None = None, allowed_failures: int = 3,
                 timeout: float = 60.0) -> None:
        super().__init__()
        given = [x is not None for x in (client, scheduler, n_workers)]
        if sum(given) != 1:
            raise InputError(
                "pass exactly one of client= (a distributed.Client), scheduler= "
                "('tcp://HOST:PORT') or n_workers= (start a LocalCluster)"
            )
        try:
            import dask
            import distributed
        except ImportError as exc:  # pragma: no cover - an optional extra
            raise ExecutionError(
                "Dask is not installed; install the extra: pip install 'warmnas[distributed]'"
            ) from exc
        self._distributed = distributed
        self.timeout = float(timeout)
        self._ac: Any = None
        self._results: dict[Any, Any] = {}
        self._cluster = None
        self._own_client = client is None
        if client is not None:
            self.client = client
        elif scheduler is not None:
            if not isinstance(scheduler, str) or "://" not in scheduler:
                raise InputError(
                    f"scheduler must be an address like 'tcp://HOST:PORT', got {scheduler!r}"
                )
            try:
                self.client = distributed.Client(scheduler, timeout=timeout)
            except OSError as exc:
                raise ExecutionError(
                    f"cannot reach the Dask scheduler at {scheduler} ({exc}); start it with "
                    "`dask scheduler` and workers with `dask worker ADDRESS`, or use --dask-local N"
                ) from exc
        else:
            if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
                raise InputError(f"n_workers must be a positive int, got {n_workers!r}")
            with dask.config.set({"distributed.scheduler.allowed-failures": int(allowed_failures)}):
                self._cluster = distributed.LocalCluster(
                    n_workers=n_workers, threads_per_worker=1, processes=True,
                    dashboard_address=None, silence_logs=logging.WARNING,
                    # no dashboard; its HTTP endpoint on a free port (never a clash with 8787)
                    scheduler_kwargs={"dashboard_address": ":0"},
                )
                self.client = distributed.Client(self._cluster, timeout=timeout)
        self.n_workers = max(1, len(self.client.scheduler_info(n_workers=-1).get("workers", {})))

    def put(self, obj: Any) -> Any:
        return self.put_many([obj])[0]

    def put_many(self, objs: Sequence[Any]) -> list[Any]:
        # a copy on every worker: one killed worker never takes the last copy with it
        return list(self.client.scatter(list(objs), broadcast=True, hash=False,
                                        timeout=self.timeout))

    def refresh(self, handle: Any, obj: Any) -> Any:
        if getattr(handle, "status", "finished") == "finished":
            return handle
        logger.warning("scattered data %s was %s; sending it again", handle.key, handle.status)
        return self.put(obj)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        key = f"warmnas-eval-{uuid.uuid4().hex}"
        fut = self.client.submit(fn, *args, key=key, pure=False)
        if self._ac is None:
            # results are fetched by the client's event loop as tasks finish, in the background
            self._ac = self._distributed.as_completed(
                [fut], loop=self.client.loop, with_results=True, raise_errors=False)
        else:
            self._ac.add(fut)
        return fut

    def wait(self, timeout: float | None = None) -> list[Any]:
        """As :meth:`Executor.wait`; with a ``timeout`` (any), what has completed now, without
        waiting."""
        if self._ac is None or self._ac.is_empty():
            return []
        out = []
        for fut, result in self._ac.next_batch(block=timeout is None):
            self._results[fut] = result
            out.append(fut)
        return out

    def collect(self, futures: Sequence[Any]) -> list[tuple[str, Any]]:
        out: list[tuple[str, Any]] = []
        for fut in futures:
            result = self._results.pop(fut, None)
            if fut.status == "finished":
                out.append((OK, result))
            elif fut.status in ("cancelled", "lost") or isinstance(result, cf.CancelledError):
                out.append((LOST, ExecutionError(f"Dask task {fut.key} was {fut.status}")))
            else:
                exc = result[1] if isinstance(result, tuple) and len(result) == 3 else result
                if not isinstance(exc, BaseException):
                    exc = ExecutionError(f"Dask task {fut.key} failed: {result!r}")
                out.append((LOST if self._is_lost(exc) else ERROR, exc))
        return out

    def _is_lost(self, exc: BaseException) -> bool:
        lost = (self._distributed.KilledWorker, self._distributed.comm.CommClosedError,
                cf.CancelledError)
        return isinstance(exc, lost)

    def worker_pids(self) -> dict[str, int]:
        """Worker address -> process id."""
        return {addr: int(pid) for addr, pid in self.client.run(os.getpid).items()}

    def close(self) -> None:
        if self._own_client:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


def make_executor(kind: str = "pool", *, n_workers: int | None = None,
                  scheduler: str | None = None, client: Any = None) -> Executor:
    """Build an executor by name.

    Args:
        kind: ``"serial"``, ``"pool"`` (default; ``n_workers`` processes) or ``"dask"``
            (``client``, ``scheduler`` address, or ``n_workers`` for a LocalCluster).

    Raises:
        InputError: an unknown kind or conflicting arguments.
    """
    if kind == "serial":
        return SerialExecutor()
    if kind == "pool":
        return PoolExecutor(n_workers)
    if kind == "dask":
        return DaskExecutor(client, scheduler=scheduler, n_workers=n_workers)
    raise InputError(f"executor must be 'serial', 'pool' or 'dask', got {kind!r}")
