"""A user's TOML file (a problem set, a grading key, a student's answers), read and checked:
its shape bounded before ``tomllib`` builds it, only the expected keys at the top, and the
values of its tables read as the options read them — a non-empty text, the ``wrt`` names, the
``at`` values, an exact number, a program file beside the TOML file. Every error is one
``WorksheetError`` naming the key."""

from __future__ import annotations

import math
import re
import tomllib
from fractions import Fraction
from pathlib import Path

from ..errors import WorksheetError
from ..limits import MAX_PROGRAM_CHARS
from ..textfiles import read_text


def read_toml(text: str, where: str, keys: tuple[str, ...]) -> dict:
    """A TOML file's table, with only ``keys`` at the top (a problem set, a grading key, answers)."""
    _check_toml_shape(text, where)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise WorksheetError(f"not valid TOML ({str(error).splitlines()[0]})", where=where) from None
    unknown = sorted(set(data) - set(keys))
    if unknown:
        raise WorksheetError(f"unknown key {unknown[0]!r} (keys: {', '.join(keys)})", where=where)
    return data


MAX_KEY_PARTS = 16
MAX_TOML_DEPTH = 32


def _check_toml_shape(text: str, where: str) -> None:
    """Refuse, before tomllib reads it, a key of more than MAX_KEY_PARTS dotted parts or arrays
    and tables nested deeper than MAX_TOML_DEPTH (tomllib would build them all: a key of 40,000
    parts took 3.9 GB). Counted roughly, outside quotes: a real problem set is far inside."""
    depth = 0
    for number, line in enumerate(text.splitlines(), start=1):
        bare = STRINGS.sub('""', line).split("#", 1)[0]
        key = bare.split("=", 1)[0] if "=" in bare else bare.strip().strip("[]") if bare.lstrip().startswith("[") else ""
        if key.count(".") >= MAX_KEY_PARTS:
            raise WorksheetError(f"a key of more than {MAX_KEY_PARTS} dotted parts", where=f"{where}:{number}")
        for ch in re.findall(r"[][{}]", bare):
            depth += 1 if ch in "[{" else -1
            if depth > MAX_TOML_DEPTH:
                raise WorksheetError(f"arrays or tables nested more than {MAX_TOML_DEPTH} deep",
                                     where=f"{where}:{number}")


STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'')


def text_value(value, where: str) -> str:
    """A text value: not empty, at most MAX_PROGRAM_CHARS characters (a formula, a program)."""
    if not isinstance(value, str) or not value.strip():
        raise WorksheetError("expected a non-empty text", where=where)
    if len(value) > MAX_PROGRAM_CHARS:
        raise WorksheetError(f"longer than {MAX_PROGRAM_CHARS:,} characters", where=where)
    return value


def names_text(value, where: str) -> str:
    """``wrt``: "w,b", or the TOML list ["w", "b"]."""
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return ",".join(text_value(v, where) for v in value)
    if isinstance(value, list):
        raise WorksheetError('expected a text "w,b" or a list of names ["w", "b"]', where=where)
    return text_value(value, where)


def point_text(value, where: str) -> str:
    """``at``: "x=2,y=4", or the TOML table {x = 2, y = 4} (numbers, or texts such as "1/3")."""
    if isinstance(value, dict) and value:
        for name, number in value.items():
            if isinstance(number, bool) or not isinstance(number, (int, float, str)):
                raise WorksheetError("expected a number or a text", where=f"{where}.{name}")
        return ",".join(f"{name}={number}" for name, number in value.items())  # a float as its shortest repr
    if isinstance(value, dict):
        raise WorksheetError('expected a text "x=2,y=4" or a table {x = 2, y = 4}', where=where)
    return text_value(value, where)


def program_file(toml: Path, name: str, where: str) -> tuple[str, str]:
    """A program file beside the TOML file (or below it): never outside its directory."""
    base = toml.resolve().parent
    target = (base / name).resolve()
    if not target.is_relative_to(base):
        raise WorksheetError("a program file must be in the problem set's directory", where=where)
    if not target.is_file():
        raise WorksheetError(f"no such file: {name}", where=where)
    try:
        return read_text(target, 4 * MAX_PROGRAM_CHARS), name
    except WorksheetError as error:
        raise WorksheetError(f"{name}: {error.message}", where=where) from None


def exact_number(value, where: str) -> Fraction:
    """A number, exactly (a float as the decimal it is written as: 0.1 is 1/10); not a
    boolean, NaN or ∞."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise WorksheetError("expected a number", where=where)
    if isinstance(value, float) and not math.isfinite(value):
        raise WorksheetError("expected a finite number", where=where)
    return Fraction(str(value)) if isinstance(value, float) else Fraction(value)
