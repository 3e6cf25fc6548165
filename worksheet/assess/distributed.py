"""Units of a grading worked on a Dask cluster: the optional extra ``worksheet[dask]``.

The key is one task's result, which each worker fetches once and keeps (a TOML key travels as
its source and is rebuilt there, ``TomlKey.__reduce__``; a task, not scattered data, so that the
scheduler makes it again if every worker holding it ends), then the units go in tasks of CHUNK,
each unit judged by ``judge`` — what a process pool's worker runs, with three differences a
Dask worker needs: its tasks run on threads, so ``deadline.time_limit`` raises there from its
watcher thread; one unit at a time per process (the arithmetic's working precision is the
process's own, not a thread's); and a unit still running after ``key.limit(unit)`` seconds — stuck in
one long call into C, where nothing reaches it — ends its worker's process (the nanny starts
another). The scheduler then runs the task again elsewhere, and after its
``distributed.scheduler.allowed-failures`` (3) gives up with ``KilledWorker``; since the other
units of the chunk, or of a chunk that merely shared the worker, are given up the same way,
each unit of a given-up chunk is tried once more by itself, and only a unit given up twice is
``key.failed(unit, "checking it took longer than N s …")``. Outcomes come back in the units' order.

``distributed`` is imported when a cluster is asked for: without the extra, ``--dask`` is one
line saying how to install it.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Generator, Sequence

from ..errors import WorksheetError
from .pool import stuck

INSTALL = "pip install 'worksheet[dask]'"
CONNECT_SECONDS = 10
CHUNK = 16  # units a task
STUCK_EXIT = 70  # the exit status of a worker ended for a stuck unit (EX_SOFTWARE)


def on_dask(key, units: Sequence, scheduler) -> Generator:
    """The units' outcomes, in order, worked on the cluster whose scheduler is at the address
    ``scheduler`` ("tcp://host:8786"), or by a ``distributed.Client`` already connected."""
    distributed = _distributed()
    client = _connect(distributed, scheduler) if isinstance(scheduler, str) else scheduler
    try:
        grader = client.submit(_kept, key, pure=False)  # a task: made again if the workers holding it end
        chunks = [tuple(units[i:i + CHUNK]) for i in range(0, len(units), CHUNK)]
        futures = client.map(judge_all, chunks, [[key.limit(u) for u in chunk] for chunk in chunks],
                             grader=grader, pure=False)
        for i, chunk in enumerate(chunks):
            future, futures[i] = futures[i], None  # once read, its result is not kept on the cluster
            try:
                yield from future.result()
            except distributed.KilledWorker:
                yield from _alone(client, distributed, key, chunk)
    finally:
        if client is not scheduler:
            client.close()


def judge(unit, limit: float, grader):
    """One unit's outcome, on a Dask worker: one unit at a time in the process, its process
    ended if the unit outlives ``limit`` seconds."""
    with _ONE_AT_A_TIME:
        _WATCHDOG.watch(limit)
        try:
            return grader.work(unit)
        finally:
            _WATCHDOG.watch(None)


def judge_all(units: Sequence, limits: Sequence[float], grader) -> list:
    """The outcomes of a chunk of units (one task for CHUNK units: a task costs milliseconds)."""
    return [judge(unit, limit, grader) for unit, limit in zip(units, limits)]


_ONE_AT_A_TIME = threading.Lock()


class _Watchdog:
    """A thread that ends this process once the unit being judged has run past its limit,
    looked at every POLL seconds (no thread is started for each unit)."""

    POLL = 0.05

    def __init__(self):
        self.deadline: float | None = None
        self.thread: threading.Thread | None = None

    def watch(self, limit: float | None) -> None:
        self.deadline = None if limit is None else time.monotonic() + limit
        if self.thread is None:
            self.thread = threading.Thread(target=self._watch, name="worksheet hard limit", daemon=True)
            self.thread.start()

    def _watch(self) -> None:
        while True:
            time.sleep(self.POLL)
            deadline = self.deadline
            if deadline is not None and time.monotonic() > deadline:
                os._exit(STUCK_EXIT)


_WATCHDOG = _Watchdog()


def _kept(key):
    """The key, as a task's result: each worker that judges fetches it once, and keeps it."""
    return key


def _alone(client, distributed, key, chunk: Sequence) -> Generator:
    """The units of a chunk given up after its worker ended: each tried once more by itself,
    with the key sent again (the workers that held it may have ended too); a unit given up
    again was the stuck one."""
    grader = client.submit(_kept, key, pure=False)
    for unit in chunk:
        try:
            yield client.submit(judge, unit, key.limit(unit), grader=grader, pure=False).result()
        except distributed.KilledWorker:
            yield key.failed(unit, stuck(key.limit(unit)))


def _distributed():
    try:
        import distributed
    except ImportError:
        raise WorksheetError(f"grading on Dask needs the optional extra: {INSTALL}", where="--dask") from None
    return distributed


def _connect(distributed, address: str):
    try:
        return distributed.Client(address, timeout=CONNECT_SECONDS)
    except (OSError, TimeoutError, ValueError, TypeError) as error:
        reason = " ".join(str(error).split())[:200] or type(error).__name__
        raise WorksheetError(f"cannot reach a Dask scheduler at {address!r} ({reason})", where="--dask") from None
