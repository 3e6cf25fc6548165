"""Every file the command line writes, and the checks before: all or nothing (each file staged
beside its place, then all moved in with Ctrl-C and SIGTERM held off), a replaced file's
permissions kept, an output never one of the inputs."""

from __future__ import annotations

import os
import signal
import stat
import sys
import tempfile
import threading
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from pathlib import Path

from ..errors import WorksheetError


def _emit(text: str | bytes, output: Path | None) -> None:
    """Print, or write the whole file at once (no partial file is ever left behind).

    Bytes (a PDF, a PNG) are written in binary mode, and never to a terminal.
    """
    if output is None:
        if isinstance(text, bytes):
            sys.stdout.flush()
            sys.stdout.buffer.write(text)
            sys.stdout.buffer.flush()
        else:
            sys.stdout.write(text)
        return
    _emit_all([(text, output)])


def _emit_all(files: list[tuple[str | bytes, Path]], staged: Iterable[tuple[Path, Path]] = ()) -> None:
    """Write several files all or nothing: each into a temporary file beside it, then each moved
    into place once all are written (with those already ``staged``: (temporary, path) pairs,
    such as a report written line by line). A replaced file keeps its permissions; a write that
    fails is one line naming the path, and leaves every file as it was."""
    staged = list(staged)
    current = files[0][1] if files else staged[0][1]
    try:
        through = [(text, path) for text, path in files if path.exists() and not path.is_file()]
        for text, current in files:
            if all(current is not path for _, path in through):
                staged.append((_staged(text, current), current))
        for text, current in through:  # /dev/null, /dev/stdout, a pipe: written through, last
            _write_through(text, current)
        with _signals_held():  # Ctrl-C or SIGTERM now waits until every file is in place
            for temporary, current in staged:
                os.replace(temporary, current)
    except OSError as error:
        raise WorksheetError(f"cannot write {current}: {error.strerror or error}", where="--output") from None
    finally:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)


@contextmanager
def _signals_held():
    """Ctrl-C and SIGTERM held off for the block (a few renames), then delivered.

    The handlers are swapped, rather than the signals masked: a signal that arrived just
    before the block has its Python handler run at the interpreter's next check, which may fall
    between two renames; the swapped handler only notes it.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    before = {}
    try:
        for number in (signal.SIGINT, signal.SIGTERM):
            before[number] = signal.signal(number, lambda signum, frame: held.append(signum))
        yield
    finally:
        for number, handler in before.items():
            signal.signal(number, handler)
    if held:
        raise KeyboardInterrupt


def _staged(text: str | bytes | Iterable[str], output: Path) -> Path:
    """``text`` (or its lines, written as they come) into a temporary file beside ``output``,
    with the mode it will have; the file is removed if the writing stops short (an error, Ctrl-C)."""
    directory = output.resolve().parent
    if not directory.is_dir():
        raise WorksheetError(f"cannot write {output}: no such directory: {directory}")
    mode = stat.S_IMODE(output.stat().st_mode) if output.exists() else 0o666 & ~_umask()
    fd, name = tempfile.mkstemp(dir=directory, prefix=f".{output.name}.", suffix=".tmp")
    temporary = Path(name)
    try:
        with os.fdopen(fd, "wb") if isinstance(text, bytes) else os.fdopen(fd, "w", encoding="utf-8") as handle:
            for chunk in (text,) if isinstance(text, (str, bytes)) else text:
                handle.write(chunk)
        os.chmod(temporary, mode)  # the old file's, or as open() would create it (mkstemp makes 0600)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def _write_through(text: str | bytes, output: Path) -> None:
    if output.is_dir():
        raise WorksheetError(f"{output} is a directory", where="--output")
    with open(output, "wb") if isinstance(text, bytes) else open(output, "w", encoding="utf-8") as handle:
        handle.write(text)


def _is_file(name: str | Path) -> bool:
    try:
        return Path(name).is_file()
    except (OSError, ValueError):  # an inline formula: too long for a name, or with a NUL
        return False


def _separate(inputs: Iterable[str | Path | None], outputs: Mapping[str, Path | None]) -> None:
    """Refuse, before any work, an output that is one of the inputs or another output's path:
    an output never replaces an input (``derive prog.ws -o prog.ws``, ``grade … -o subs.csv``)."""
    sources = [Path(p) for p in inputs if p is not None and _is_file(p)]
    taken: dict[Path, str] = {}
    for option, path in outputs.items():
        if path is None or (path.exists() and not path.is_file()):
            continue  # standard output, /dev/null
        if any(path.exists() and os.path.samefile(path, source) for source in sources):
            raise WorksheetError(f"{path} is an input: an output never replaces one (choose another path)",
                                 where=option)
        key = path.resolve()
        if key in taken:
            raise WorksheetError(f"{path} is also the {taken[key]} path: give each output its own",
                                 where=option)
        taken[key] = option


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
