"""``grade``'s options and files: the report's format (``--format``, else the -o suffix), where
the answers are judged (``--jobs``, ``--dask``), one student's rows (``--student``), and the
report written — whole, with the totals (``_write_report``), or line by line as it is made
(``--format jsonl``: ``_emit_lines``) with the guarantees of ``files._emit_all``: to standard
output each line at once; to a file through a temporary file beside it, moved into place only
when the last line is in, together with the files made after it (the totals) — a file is whole
or absent, also on Ctrl-C or a full disk."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from ..assess.report import FORMATS
from ..errors import WorksheetError
from .files import _emit, _emit_all, _staged


def _report_format(format, output: Path | None) -> str:
    """--format, else the one the -o suffix names (csv without -o); an unknown suffix is refused."""
    by_suffix = {suffix: name for name, suffixes in FORMATS.items() for suffix in suffixes}
    suffix = "" if output is None else output.suffix.lower()
    if suffix not in by_suffix:
        raise WorksheetError(f"the report is CSV (.csv), JSON lines (.jsonl) or Gradescope's results.json "
                             f"(.json), not {output.suffix}: name it so", where="--output")
    return format.value if format is not None else by_suffix[suffix]


def _totals_file(totals: Path | None) -> None:
    if totals is not None and totals.suffix.lower() not in FORMATS["csv"]:
        raise WorksheetError(f"the totals are CSV (comma-separated text), not {totals.suffix}: name it .csv",
                             where="--totals")


def _workers(jobs: int, dask: str | None) -> dict:
    """Where the answers are judged, as grade's keyword options: none for here, in one process."""
    jobs = jobs or os.cpu_count() or 1
    return {name: value for name, value, alone in (("jobs", jobs, 1), ("dask", dask, None)) if value != alone}


def _of_student(rows: list, student: str | None) -> list:
    if student is None:
        return rows
    kept = [row for row in rows if row.student == student.strip()]
    if not kept:
        raise WorksheetError(f"no row of the submissions is {student!r}'s", where="--student")
    return kept


def _kept(results: Iterable, into: list) -> Iterator:
    """``results`` passed on one by one, each also kept in ``into`` (for the totals after them)."""
    for result in results:
        into.append(result)
        yield result


def _write_report(report: str, totals: tuple[str, Path] | None, output: Path | None) -> None:
    """The report to ``output`` (None: standard output) and the totals, both or neither."""
    if totals is None:
        _emit(report, output)
    elif output is None:
        _emit_all([totals])
        _emit(report, None)
    else:
        _emit_all([(report, output), totals])


def _emit_lines(lines: Iterable[str], output: Path | None,
                then: Callable[[], list[tuple[str, Path]]] = lambda: []) -> None:
    """Write ``lines`` as they come to ``output`` (None: standard output), then the files
    ``then()`` gives (made once the lines are done), all or nothing where they are files."""
    if output is None or (output.exists() and not output.is_file()):  # a terminal, a pipe, /dev/stdout
        _through(lines, output)
        extra = then()
        if extra:
            _emit_all(extra)
        return
    try:
        temporary = _staged(lines, output)
    except OSError as error:
        raise WorksheetError(f"cannot write {output}: {error.strerror or error}", where="--output") from None
    try:
        extra = then()
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _emit_all(extra, staged=[(temporary, output)])


def _through(lines: Iterable[str], output: Path | None) -> None:
    handle = sys.stdout if output is None else open(output, "w", encoding="utf-8")
    try:
        for line in lines:
            handle.write(line)
            handle.flush()
    finally:
        if output is not None:
            handle.close()
