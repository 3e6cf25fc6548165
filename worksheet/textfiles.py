"""Reading a user's text file (or standard input, ``-``) whole and safely: a size limit checked
before reading, UTF-8 with or without a byte-order mark (Windows Notepad, Excel), and every
failure one ``WorksheetError`` naming the file."""

from __future__ import annotations

import sys
from pathlib import Path

from .errors import WorksheetError


def read_text(path: Path | str, limit: int, what: str = "the file", lenient: bool = False) -> str:
    """The text of ``path`` (``-``: standard input), at most ``limit`` bytes. ``lenient``: bytes
    that are not UTF-8 become U+FFFD (each bad row of a CSV then says so) instead of a refusal."""
    where = str(path)
    if where == "-":
        data = sys.stdin.buffer.read(limit + 1)
        if len(data) > limit:
            raise WorksheetError(f"{what} is larger than {limit:,} bytes", where="<stdin>")
        return _decoded(data, "<stdin>", lenient)
    path = Path(path)
    try:
        if not path.is_file():
            raise WorksheetError("no such file", where=where)
        if path.stat().st_size > limit:
            raise WorksheetError(f"{what} is larger than {limit:,} bytes", where=where)
        data = path.read_bytes()
    except OSError as error:
        raise WorksheetError(f"cannot read the file: {error.strerror}", where=where) from None
    return _decoded(data, where, lenient)


def _decoded(data: bytes, where: str, lenient: bool) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        if not lenient:
            raise WorksheetError("the file is not UTF-8 text", where=where) from None
        return data.decode("utf-8-sig", errors="replace")
