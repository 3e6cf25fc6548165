"""The one error type a user ever sees: what is wrong and where, in one line."""

from __future__ import annotations

EXCERPT_WIDTH = 48
MARK = "▸"


class WorksheetError(Exception):
    """Bad input: a syntax error, a refused construct, a domain error or an exceeded limit.

    ``line`` and ``column`` are 1-based positions in ``source`` (the formula, a program file,
    or the text of a command-line option named by ``where``).
    """

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        source: str | None = None,
        where: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.source = source
        self.where = where

    def located(self, *, source: str | None = None, where: str | None = None) -> WorksheetError:
        """The same error, told which text it was found in (when it did not know yet)."""
        if self.source is None:
            self.source = source
        if self.where is None:
            self.where = where
        return self

    def __str__(self) -> str:
        place = ":".join(
            part
            for part in (self.where, _position(self.line, self.column))
            if part
        )
        text = f"{place}: {self.message}" if place else self.message
        excerpt = _excerpt(self.source, self.line, self.column)
        return visible(f"{text}: {excerpt}" if excerpt else text)


def visible(text: str) -> str:
    """``text`` safe for a terminal: every control character written as its escape (an escape
    byte from a file or an option never reaches the terminal)."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii")
                   for ch in text)


def _position(line: int | None, column: int | None) -> str | None:
    if line is None:
        return None
    return f"{line}:{column}" if column is not None else str(line)


def _excerpt(source: str | None, line: int | None, column: int | None) -> str | None:
    """The offending line, cut to a short window, with ▸ before the offending character."""
    if source is None or line is None or column is None:
        return None
    lines = source.splitlines() or [""]
    if not 1 <= line <= len(lines):
        return None
    text = lines[line - 1].replace("\t", " ")
    at = min(max(column - 1, 0), len(text))
    start = max(0, at - EXCERPT_WIDTH // 2)
    end = min(len(text), start + EXCERPT_WIDTH)
    window = text[start:at] + MARK + text[at:end]
    return ("…" if start > 0 else "") + window.strip() + ("…" if end < len(text) else "")
