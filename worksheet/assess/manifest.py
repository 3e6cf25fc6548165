"""A handout's manifest (``manifest.json``, schema ``worksheet.handout/1``), read as untrusted
input: size-capped, every key checked, every error one line naming the key path. What it holds:
each variant's problems, their blanks and keys, and the quantities error carried forward needs;
and the grading policy."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from ..errors import WorksheetError
from ..limits import MAX_PROGRAM_CHARS
from .rounding import checked_places

SCHEMA = "worksheet.handout/1"
MAX_MANIFEST_BYTES = 64 * 2**20
MAX_VARIANTS = 500
MAX_PROBLEMS = 50
MAX_BLANKS = 10_000  # per problem
MAX_TEXT = 1_000  # a value, a name or an id
FIELDS = {
    "forward": ("node",),
    "local": ("node", "input", "position"),
    "upstream": ("node", "input", "position"),
    "product": ("node", "input", "position"),
    "sum": ("node",),
    "gradient": ("wrt",),
}
ROUNDING = "decimals"
"""A key any quantity may have: its value is written rounded to this many decimal places (its
value stays exact in ``blanks``), and an answer that rounds alike is right (``rounding.alike``)."""
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_BLANK = re.compile(r"^[1-9][0-9]{0,6}$")


@dataclass(frozen=True)
class Policy:
    points: Fraction = Fraction(1)  # points per blank
    consistent: Fraction = Fraction(1)  # the share of them a consistent blank earns


@dataclass(frozen=True)
class Variant:
    id: str
    problems: tuple[dict, ...]  # the checked problem entries, each for grade_blanks


@dataclass(frozen=True)
class Manifest:
    title: str
    seed: int
    policy: Policy
    variants: tuple[Variant, ...]

    def variant(self, vid: str) -> Variant:
        for v in self.variants:
            if v.id == vid:
                return v
        raise WorksheetError(f"no variant {vid!r} in the manifest", where="variant")


# ── reading the manifest ─────────────────────────────────────────────────────────────────

def load_manifest(path: str | Path) -> Manifest:
    """Read and check a handout's manifest.json; every error is one line naming the key path."""
    path, where = Path(path), str(path)
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_MANIFEST_BYTES + 1)
    except OSError as error:
        raise WorksheetError(f"cannot read the file: {error.strerror or error}", where=where) from None
    if len(data) > MAX_MANIFEST_BYTES:
        raise WorksheetError(f"the file is larger than {MAX_MANIFEST_BYTES:,} bytes", where=where)
    return parse_manifest(data, where)


def parse_manifest(data: bytes | str, where: str = "manifest.json") -> Manifest:
    """A manifest's text → a checked ``Manifest`` (older manifests without the grading keys too)."""
    if len(data) > MAX_MANIFEST_BYTES:
        raise WorksheetError(f"larger than {MAX_MANIFEST_BYTES:,} bytes", where=where)
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        top = json.loads(text, parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise WorksheetError("the file is not UTF-8 text", where=where) from None
    except (ValueError, RecursionError) as error:
        raise WorksheetError(f"not valid JSON ({str(error).splitlines()[0][:200]})", where=where) from None
    _object(top, where)
    if top.get("schema") != SCHEMA:
        raise WorksheetError(f"expected {SCHEMA!r}", where=f"{where}: schema")
    title = _text(top.get("title", ""), f"{where}: title", empty=True)
    seed = top.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or abs(seed) > 2**64:
        raise WorksheetError("expected an integer", where=f"{where}: seed")
    policy = _policy(top.get("policy", {}), f"{where}: policy")
    variants = _list(top.get("variants"), f"{where}: variants", MAX_VARIANTS)
    return Manifest(title, seed, policy, tuple(_variant(v, f"{where}: variants[{i}]") for i, v in enumerate(variants)))


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number")


def _variant(data, where: str) -> Variant:
    _object(data, where)
    vid = _text(data.get("id"), f"{where}.id")
    problems = _list(data.get("problems"), f"{where}.problems", MAX_PROBLEMS)
    return Variant(vid, tuple(check_problem(p, f"{where}.problems[{j}]") for j, p in enumerate(problems)))


def check_problem(entry, where: str = "problem") -> dict:
    """A problem entry of a manifest, checked: its keys' types (values stay exact strings)."""
    _object(entry, where)
    checked = {
        "inputs": _texts(entry.get("inputs"), f"{where}.inputs", _NAME),
        "answers": _texts(entry.get("answers", {}), f"{where}.answers", _NAME),
        "blanks": _texts(entry.get("blanks"), f"{where}.blanks", _BLANK),
    }
    if "problem" in entry:
        number = entry["problem"]
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= 10**6:
            raise WorksheetError("expected a positive integer", where=f"{where}.problem")
        checked["problem"] = number
    if "source" in entry:
        checked["source"] = _text(entry["source"], f"{where}.source", limit=MAX_PROGRAM_CHARS)
    if "wrt" in entry:
        names = _list(entry["wrt"], f"{where}.wrt", MAX_TEXT)
        checked["wrt"] = [_name(n, f"{where}.wrt[{i}]") for i, n in enumerate(names)]
    if "quantities" in entry:
        checked["quantities"] = _quantities(entry["quantities"], checked["blanks"], f"{where}.quantities")
    return checked


def _quantities(data, blanks: dict, where: str) -> dict:
    _object(data, where)
    for number in data:
        if number not in blanks:
            raise WorksheetError(f"{number!r} is not a blank of the problem", where=where)
    return {n: _quantity(q, f"{where}.{n}") for n, q in data.items()}


def _quantity(data, where: str) -> dict:
    """{"kind": "local", "node": "v3", "input": "v2", "position": 0}, and the other kinds."""
    _object(data, where)
    kind = data.get("kind")
    if kind not in FIELDS:
        raise WorksheetError(f"expected one of {', '.join(FIELDS)}", where=f"{where}.kind")
    unknown = sorted(set(data) - {"kind", ROUNDING, *FIELDS[kind]})
    if unknown:
        raise WorksheetError(f"unknown key (keys of {kind}: {', '.join((*FIELDS[kind], ROUNDING))})",
                             where=f"{where}.{unknown[0]}")
    checked: dict = {"kind": kind}
    if ROUNDING in data:
        checked[ROUNDING] = checked_places(data[ROUNDING], f"{where}.{ROUNDING}")
    for key in FIELDS[kind]:
        value = data.get(key)
        if key == "position":
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1000:
                raise WorksheetError("expected a small non-negative integer", where=f"{where}.position")
            checked[key] = value
        else:
            checked[key] = _name(value, f"{where}.{key}")
    return checked


def _policy(data, where: str) -> Policy:
    _object(data, where)
    unknown = sorted(set(data) - {"points", "consistent"})
    if unknown:
        raise WorksheetError("unknown key (keys: points, consistent)", where=f"{where}.{unknown[0]}")
    points = _fraction(data.get("points", 1), f"{where}.points")
    consistent = _fraction(data.get("consistent", 1), f"{where}.consistent")
    if not 0 < points <= 10**6:
        raise WorksheetError("expected a positive number (at most 1000000)", where=f"{where}.points")
    if not 0 <= consistent <= 1:
        raise WorksheetError("expected a number from 0 to 1", where=f"{where}.consistent")
    return Policy(points, consistent)


def _fraction(value, where: str) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or abs(value) > 1e18:
        raise WorksheetError("expected a number", where=where)
    return Fraction(str(value)) if isinstance(value, float) else Fraction(value)


def _object(value, where: str) -> None:
    if not isinstance(value, dict):
        raise WorksheetError(f"expected an object, found {_kind(value)}", where=where)


def _list(value, where: str, limit: int) -> list:
    if not isinstance(value, list):
        raise WorksheetError(f"expected a list, found {_kind(value)}", where=where)
    if len(value) > limit:
        raise WorksheetError(f"more than {limit:,} items", where=where)
    return value


def _text(value, where: str, limit: int = MAX_TEXT, empty: bool = False) -> str:
    if not isinstance(value, str) or (not empty and not value.strip()):
        raise WorksheetError(f"expected a non-empty text, found {_kind(value)}", where=where)
    if len(value) > limit:
        raise WorksheetError(f"longer than {limit:,} characters", where=where)
    return value


def _name(value, where: str) -> str:
    if not isinstance(value, str) or len(value) > MAX_TEXT or not _NAME.match(value):
        raise WorksheetError("expected a variable name", where=where)
    return value


def _texts(value, where: str, keys: re.Pattern) -> dict[str, str]:
    """An object of texts, its keys names (or blank numbers)."""
    if not isinstance(value, dict):
        raise WorksheetError(f"expected an object of texts, found {_kind(value)}", where=where)
    if len(value) > MAX_BLANKS:
        raise WorksheetError(f"more than {MAX_BLANKS:,} entries", where=where)
    for key, text in value.items():
        if len(key) > MAX_TEXT or not keys.match(key):
            what = "a blank number" if keys is _BLANK else "a variable name"
            raise WorksheetError(f"{key[:40]!r} is not {what}", where=where)
        _text(text, f"{where}.{key}")
    return dict(value)


def _kind(value) -> str:
    return {dict: "an object", list: "a list", str: "a text", bool: "a truth value", type(None): "null",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)
