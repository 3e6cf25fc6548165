"""A grading's plan worked and put together: each row's result, in input order, as soon as the
units it needs are done (``graded``), wherever the units are worked — here, one after another
(``jobs`` 1), on a pool of processes (``pool.py``), or on a Dask cluster (``distributed.py``).

Every executor is a generator: given the key and the plan's units, it yields the units'
outcomes in the units' order (and, closed, stops its workers); a unit is worked once however many rows need it. The rows' results are built here from
the outcomes alone, so the report is the same bytes whichever executor worked them.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator, Sequence

from .report import Result
from .submissions import Submission
from ..errors import WorksheetError

MAX_JOBS = 256


def graded(key, rows: Sequence[Submission], on_row: Callable[[], None] = lambda: None, *, jobs: int = 1,
           dask: str | None = None) -> Iterator[Result]:
    """One result per row, in order, each yielded once the units before it are done."""
    plan = key.plan(rows)
    outcomes = _executor(jobs, dask)(key, plan.units)
    try:
        for result in assembled(key, plan, outcomes):
            yield result
            on_row()
    finally:
        outcomes.close()  # an executor is a generator: stop its workers now, also when stopped early


def assembled(key, plan, outcomes: Iterable) -> Iterator[Result]:
    """The rows' results from the units' outcomes (in the units' order), in the rows' order:
    each as soon as the outcomes it needs have come."""
    outcomes, done = iter(outcomes), []
    for row, need, settled in zip(plan.rows, plan.needs, plan.settled):
        while need is not None and need >= len(done):
            done.append(next(outcomes))
        yield settled if need is None else key.result(row, plan.units[need], done[need])


def _executor(jobs: int, dask: str | None) -> Callable[[object, Sequence], Generator]:
    if dask is not None:
        if jobs != 1:
            raise WorksheetError("give --jobs or --dask, not both (a Dask cluster has its own workers)",
                                 where="--jobs")
        from .distributed import on_dask

        return lambda key, units: on_dask(key, units, dask)
    if not 1 <= jobs <= MAX_JOBS:
        raise WorksheetError(f"expected 1 to {MAX_JOBS} processes", where="--jobs")
    if jobs == 1:
        return here
    from .pool import on_pool

    return lambda key, units: on_pool(key, units, jobs)


def here(key, units: Sequence) -> Generator:
    """The units' outcomes, worked in this process, one after another."""
    return (key.work(unit) for unit in units)
