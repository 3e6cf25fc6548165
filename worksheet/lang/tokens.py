"""Text → tokens: numbers, names, operators and their exact positions (line:column), with the
characters people paste from typeset formulas read as what they mean (−, ·, ², σ(z), ŷ, λ), and
the checks that keep user text plain (no control characters)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ..errors import WorksheetError
from .vocabulary import GREEK

Pos = tuple[int, int]


# Characters people paste from typeset formulas, read as what they mean.
TYPESET = {"−": "-", "·": "*", "×": "*", "÷": "/", "²": "^2", "³": "^3"}
ACCENTS = {"\u0302": "hat", "\u0304": "bar", "\u0303": "tilde", "\u0307": "dot"}
"""ŷ → y_hat, x̄ → x_bar: a letter with a combining accent (or its precomposed form)."""


@dataclass(frozen=True)
class Token:
    kind: str  # "num", "name", "op" or "end"
    text: str
    pos: Pos
    letter: bool = False  # a name written as one typeset letter (λ, ŷ): λw is λ·w


TOKEN = re.compile(
    r"""
    (?P<space>[ \t\r\f\v]+)
  | (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\*\*|[-+*/]=|\.T(?![A-Za-z0-9_])|\.(?=[A-Za-z_])|[-+*/^(),=@\[\]<>:])
    """,
    re.VERBOSE,
)


def tokenize(text: str, line: int = 1, column: int = 1) -> list[Token]:
    """Split one statement into tokens; refuse any character outside the grammar."""
    tokens: list[Token] = []
    i = depth = 0  # depth: of [ … ] brackets, where ':' slices
    while i < len(text):
        ch = text[i]
        if ch in TYPESET:
            for kind, piece in _typeset_tokens(TYPESET[ch]):
                tokens.append(Token(kind, piece, (line, column + i)))
            i += 1
            continue
        if (letter := _letter(text, i)) is not None:
            name, width = letter
            tokens.append(Token("name", name, (line, column + i), letter=True))
            i += width
            continue
        match = TOKEN.match(text, i)
        if match is None:
            raise WorksheetError(_unexpected_character(ch), line=line, column=column + i)
        kind = match.lastgroup
        if kind == "op" and match.group() in ("[", "]"):
            depth += 1 if match.group() == "[" else -1
        if kind == "op" and match.group() == ":" and depth <= 0:  # ':' slices inside [ … ], x[1:3]
            raise WorksheetError(_unexpected_character(":"), line=line, column=column + i)
        if kind != "space":
            tokens.append(Token(kind, match.group(), (line, column + i)))
        i = match.end()
    tokens.append(Token("end", "", (line, column + len(text))))
    return tokens


def _letter(text: str, i: int) -> tuple[str, int] | None:
    """The name of the typeset letter at ``text[i]`` and how many characters it takes, or None:
    λ → lambda, σ( → sigmoid, ŷ (or y and a combining ^) → y_hat."""
    ch = text[i]
    if ch.isascii() and (i + 1 == len(text) or text[i + 1].isascii()):
        return None
    if ch in GREEK:
        name = GREEK[ch]
        if name == "sigma" and text[i + 1:].lstrip().startswith("("):
            name = "sigmoid"
        return name, 1
    base, *marks = unicodedata.normalize("NFD", text[i:i + 2])
    if ch.isascii() and ch.isalpha() and marks and marks[0] in ACCENTS and not (i and _in_name(text[i - 1])):
        return f"{ch}_{ACCENTS[marks[0]]}", 2
    if not ch.isascii():
        base, *marks = unicodedata.normalize("NFD", ch)
        if base.isascii() and base.isalpha() and len(marks) == 1 and marks[0] in ACCENTS:
            return f"{base}_{ACCENTS[marks[0]]}", 1
    return None


def _in_name(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch == "_")


def written_in_decimals(text: str) -> bool:
    """Does ``text`` (a formula, a program, --at values) write a number with a decimal point or
    an exponent, 0.5 or 1e-3? Comments aside. Such inputs are shown as decimals (--numbers auto)."""
    for raw in text.splitlines():
        for piece in raw.split("#", 1)[0].split(";"):
            if any(c.isdigit() for c in piece) and any(
                    t.kind == "num" and any(c in t.text for c in ".eE") for t in tokenize(piece)):
                return True
    return False


def _typeset_tokens(replacement: str) -> list[tuple[str, str]]:
    if replacement.startswith("^"):
        return [("op", "^"), ("num", replacement[1:])]
    return [("op", replacement)]


def _unexpected_character(ch: str) -> str:
    if ch == ".":
        return "'.' is not part of the formula language (no attribute access)"
    if ch in "'\"":
        return "quotes are not part of the formula language (no strings)"
    if ch in "{}":
        return f"{ch!r} is not part of the formula language"
    if ch.isalpha():
        return f"unexpected character {ch!r}: names are ASCII letters, digits and '_' (or one Greek letter)"
    return f"unexpected character {ch!r}"


def describe(token: Token) -> str:
    if token.kind == "end":
        return "the end of the formula"
    if token.kind == "name":
        return f"name {token.text!r}"
    if token.kind == "num":
        return f"number {token.text}"
    return repr(token.text)


def control_character(text: str) -> tuple[int, int, str] | None:
    """The first control or format character of ``text`` (an escape byte, a bidirectional
    override, a line separator other than a newline), as (line, column, character); None if
    there is none. Tabs and line ends are text."""
    for number, line in enumerate(text.split("\n"), start=1):
        if line.isprintable():
            continue
        for column, ch in enumerate(line, start=1):
            if ch not in "\t\r" and unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
                return number, column, ch
    return None


def one_plain_line(text: str) -> bool:
    """No line break and no control character: a title, a name, an answer."""
    return "\n" not in text and control_character(text) is None


def check_plain(text: str, what: str = "the text", line: int = 1, column: int = 1) -> None:
    """Refuse a control character (which could drive a terminal or hide code), saying where."""
    found = control_character(text)
    if found is not None:
        at_line, at_column, ch = found
        raise WorksheetError(
            f"{what} has a control character (U+{ord(ch):04X}): it must be plain text",
            line=line + at_line - 1, column=(column if at_line == 1 else 1) + at_column - 1,
        )
