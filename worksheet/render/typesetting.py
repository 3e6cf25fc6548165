"""Typst markup → PDF (or PNG pages) on a pool of worker processes, each compile under a time limit.

Each worker (pebble) makes one ``typst.Compiler`` for all the markup it is given: typst's
embedded fonts only (New Computer Modern, DejaVu Sans Mono), found and loaded once, and an
empty directory for its root, so the markup can read no file. A compile still running after
``seconds`` is stuck in Typst's own loops, which stop for no signal: its worker is killed (and
replaced) and the compile refused. Leaving the ``with`` block, on Ctrl-C too, kills every
worker. The PDF carries no date, so the same markup is the same PDF.

    with Typesetter(workers, seconds) as typesetter:
        pdf = typesetter.result(typesetter.submit(markup))
"""

from __future__ import annotations

import os
import signal
import tempfile
from concurrent.futures import Future
from concurrent.futures import TimeoutError as CompileTimeout

from ..errors import WorksheetError
from ..processes import context, ended

_compiler = None  # in a worker: the compiler of all its markup


def cpus() -> int:
    """The CPUs this process may run on: as many workers as typeset at once."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class Typesetter:
    """``workers`` processes compiling Typst markup, each compile stopped after ``seconds``."""

    def __init__(self, workers: int, seconds: float):
        self.workers, self.seconds = workers, seconds

    def __enter__(self) -> Typesetter:
        from pebble import ProcessPool

        self.root = tempfile.TemporaryDirectory(prefix="worksheet-typst-")
        self.pool = ProcessPool(max_workers=self.workers, initializer=_start, initargs=(self.root.name,),
                                context=context())
        return self

    def __exit__(self, *exc) -> None:
        self.pool.stop()  # at the end, or on Ctrl-C or an error: no worker outlives the block
        self.pool.join()
        self.root.cleanup()

    def submit(self, source: str, format: str = "pdf", ppi: float | None = None, inputs: dict | None = None) -> Future:
        """Compile ``source`` to ``format`` (pdf, or png at ``ppi``) on the next free worker;
        ``inputs``: strings the markup reads as ``sys.inputs``, never spliced into it."""
        return self.pool.schedule(_compile, args=(source, format, ppi, inputs or {}), timeout=self.seconds)

    def result(self, future: Future) -> bytes | list[bytes]:
        """A submitted compile's PDF bytes (or its PNG pages), waited for."""
        from pebble import ProcessExpired

        try:
            return future.result()
        except CompileTimeout:
            raise WorksheetError(f"typesetting took longer than {self.seconds:g} s (the limit)") from None
        except ProcessExpired as error:
            raise RuntimeError(f"typst failed: its process stopped ({ended(error)})") from None




def _start(root: str) -> None:
    """A worker's initializer: its compiler, made once; and SIGTERM's default, which ends the
    worker at once, where pebble's handler would wait for Typst to return."""
    global _compiler
    import typst

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _compiler = typst.Compiler(root=root, ignore_system_fonts=True)


def _compile(source: str, format: str, ppi: float | None, inputs: dict) -> bytes | list[bytes]:
    """In a worker: the PDF's bytes, or the PNG pages."""
    import typst

    try:
        out = _compiler.compile(source.encode("utf-8"), format=format, ppi=ppi, sys_inputs=inputs)
    except typst.TypstError as error:
        raise RuntimeError(f"typst failed: {error.message}") from None
    pages = out if isinstance(out, list) else [out]
    return pages if format == "png" else pages[0]
