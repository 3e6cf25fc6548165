"""Units of a grading worked on a pool of processes (pebble), each under a hard time limit.

Each worker receives the key once, when it starts (the pool's initializer), and then works
one unit per task with ``key.work``: the soft limits inside (``deadline.time_limit``) work there
as here, since a worker runs its tasks on its main thread. A task still running after
``key.limit(unit)`` seconds is stuck where no signal reaches (one long call into C): its worker
is stopped (and replaced) and the unit's outcome is ``key.failed(unit, "checking it took
longer than N s …")``; a worker that dies (out of memory) gives ``failed`` too; the batch goes
on. Outcomes come back in the units' order, however the workers finish.

On Linux the workers are forked: they start in milliseconds with everything this process has
imported (the key is then not even copied until it is written to); elsewhere they are started
fresh and rebuild the key from its pickle (``TomlKey.__reduce__``).
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from concurrent.futures import TimeoutError as TaskTimeout

from ..processes import context, ended

_key = None  # in a worker: the key, received once


def on_pool(key, units: Sequence, jobs: int) -> Generator:
    """The units' outcomes, in order, worked by ``jobs`` processes."""
    from pebble import ProcessExpired, ProcessPool

    pool = ProcessPool(max_workers=jobs, initializer=_receive, initargs=(key,), context=context())
    try:
        futures = [pool.schedule(_work, args=(unit,), timeout=key.limit(unit)) for unit in units]
        for unit, future in zip(units, futures):
            try:
                yield future.result()
            except TaskTimeout:
                yield key.failed(unit, stuck(key.limit(unit)))
            except ProcessExpired as error:
                yield key.failed(unit, f"the process checking it stopped ({ended(error)}): write it more simply")
    finally:
        pool.stop()  # at the end, or on Ctrl-C or an error: no worker outlives the batch
        pool.join()



def stuck(seconds: float) -> str:
    """Why a unit stopped by the hard limit is invalid (the same words wherever it ran)."""
    return f"checking it took longer than {seconds:g} s: write it more simply"



def _receive(key) -> None:
    """A worker's initializer: the key, once for every task the worker runs."""
    global _key
    _key = key


def _work(unit):
    return _key.work(unit)
