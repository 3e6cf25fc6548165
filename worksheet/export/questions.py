"""A handout's manifest → the questions an LMS is given: one per problem of each variant, with
the sheet as the handout lays it out and, for each blank, the numbers that answer it.

    manifest.json ──load_manifest──▶ Manifest ──questions──▶ [Question] ──moodle / qti / canvas──▶ file

Each problem is rebuilt from the manifest's ``source``, ``wrt`` and ``inputs`` (the trace the
grader rebuilds, ``assess.carried.rebuild``) and laid out by the handout's own sheet builder
(``handout.sheet_blocks``), so each blank is labelled as on the paper: its row of the forward
table, or its place in ∂L/∂v2 = ∂L/∂v3 · ∂v3/∂v2 = (6) · (7) = (8). The manifest says which
values are blanks (``quantities``); it is untrusted, and is checked as the grader checks it
(``grade_blanks``: each quantity names a part of the trace whose value is its key) before a
question is built. A blank is one number, or (a model's) a vector or a matrix of them, each
element typed in a field of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import sympy

from ..assess.manifest import Manifest, Policy
from ..errors import WorksheetError
from .accepted import Accepted, accepted
from .sheet import lines
from .wrong import Wrong, chained, scaled

MAX_WRONG = 6
"""Wrong answers given per number: the diagnosed mistakes, first found first."""


@dataclass(frozen=True)
class Entry:
    """One number a student types: a blank's, or one element of a vector or matrix blank."""

    blank: int
    index: tuple[int, ...]  # () for a number; (i,) or (i, j) for an element, from 0
    value: sympy.Expr  # its exact value
    places: int | None  # the decimals the sheet writes it rounded to (None: exact)
    right: Accepted  # what an LMS accepts as right
    wrong: tuple[tuple[Accepted, Wrong], ...]  # the mistakes an LMS recognises, each distinct

    def label(self, shape: tuple[int, ...]) -> str:
        """(7), or (7) row 1, column 2 for an element of a matrix (rows and columns from 1)."""
        if not self.index:
            return f"({self.blank})"
        if len(shape) == 1:
            return f"({self.blank}) element {self.index[0] + 1} of {shape[0]}"
        return f"({self.blank}) row {self.index[0] + 1}, column {self.index[1] + 1}"


@dataclass(frozen=True)
class Blank:
    """A numbered blank of the sheet: what it is, and the numbers that fill it."""

    number: int
    quantity: dict  # what the manifest says it is ({"kind": "local", "node": "v3", …})
    exact: str  # the manifest's exact value ("-9/2", "[-3, -7]")
    shape: tuple[int, ...]  # () a number, else a vector's or a matrix's
    written: object  # as the key writes it: the number (rounded, where the sheet rounds), or the array
    entries: tuple[Entry, ...]
    line: str  # its line of the sheet, as text: (6)______ in ∂L/∂v2 = ∂L/∂v3 · ∂v3/∂v2 = …


@dataclass(frozen=True)
class Question:
    """One problem of one variant, as a question of a quiz."""

    title: str  # the handout's
    variant: str  # "v01"
    problem: int
    blocks: tuple  # the sheet: statement, forward table, backward steps, result, with numbered blanks
    blanks: tuple[Blank, ...]  # in the order of their numbers
    points: Fraction  # per blank (the manifest's policy)
    rounded: bool  # does the problem ask for values rounded to decimals
    position: tuple[int, int] = (1, 1)  # its variant's place in the manifest and its own, from 1: its identifiers

    @property
    def name(self) -> str:
        return f"{self.title or 'Handout'}, variant {self.variant}, problem {self.problem}"


def questions(manifest: Manifest, where: str = "manifest.json") -> list[Question]:
    """Every problem of every variant of ``manifest`` as a question, in order."""
    return [question(manifest.title, variant.id, entry, manifest.policy,
                     f"{where}: variants[{i}].problems[{j}]", (i + 1, j + 1))
            for i, variant in enumerate(manifest.variants) for j, entry in enumerate(variant.problems)]


def question(title: str, variant: str, entry: dict, policy: Policy, where: str,
             position: tuple[int, int] = (1, 1)) -> Question:
    """One checked problem entry of a manifest as a question; a one-line error naming ``where``
    for an entry the grader could not grade either."""
    from ..assess.blanks import grade_blanks
    from ..assess.carried import rebuild
    from ..handout import sheet_blocks

    missing = [key for key in ("problem", "source", "wrt", "quantities") if key not in entry]
    if missing:
        raise WorksheetError(f"no {', '.join(missing)} (a manifest of an older worksheet): make the handout "
                             "again to export it", where=where)
    try:  # the grader's checks: each quantity is its key's part of the trace
        grade_blanks({**entry}, {}, policy)
    except WorksheetError as error:
        inner = (error.where or "").partition(".")[2]
        raise WorksheetError(error.message, where=f"{where}.{inner}" if inner else where) from None
    trace = rebuild(entry["source"], tuple(entry["wrt"]), tuple(entry["inputs"].items()))
    places = _places(trace, entry["quantities"])
    slots = _Slots(entry["quantities"])
    blocks = tuple(sheet_blocks(_drawn(entry, trace, places), slots))
    found = lines(blocks)
    absent = sorted(set(map(int, entry["blanks"])) - set(slots.values), key=int)
    if absent:
        raise WorksheetError(f"blank ({absent[0]}) is not on the problem's sheet", where=f"{where}.quantities")
    blanks = tuple(_blank(trace, n, entry, slots.values[n], found[n]) for n in sorted(slots.values))
    return Question(title, variant, entry["problem"], blocks, blanks, policy.points,
                    any("decimals" in q for q in entry["quantities"].values()), position)


class _Slots:
    """What ``sheet_blocks`` writes for each value: the blank the manifest numbers it, or the
    value as the sheet shows it (rounded to the problem's decimals where it cannot be exact)."""

    def __init__(self, quantities: dict):
        self.number_of = {_identity(q): int(n) for n, q in quantities.items()}
        self.values: dict[int, object] = {}

    def __call__(self, value, hidden: bool, quantity: dict | None = None, places: int | None = None):
        from ..arith.elements import closed_form
        from ..assess.rounding import rounded
        from ..document.model import shown
        from ..handout.problems import written_places
        from ..terms import Blank as Gap, Number, Rounded

        if getattr(value, "shape", None) == ():
            value = closed_form(value[()])
        number = self.number_of.get(_identity(quantity or {}))
        if number is not None and number not in self.values:
            self.values[number] = value
            return Gap(number)
        if getattr(value, "shape", ()):
            return shown(value)
        rounding = written_places(value, places) if places else None
        return Number(Rounded(rounded(value, rounding)) if rounding else value)


def _identity(q: dict) -> tuple:
    return tuple(q.get(k) for k in ("kind", "node", "input", "position", "wrt"))


def _drawn(entry: dict, trace, places: int | None):
    """The problem as the handout drew it: every kind of value a blank (the slots decide which)."""
    from ..handout.problems import BLANK_KINDS, Drawn, Problem

    problem = Problem(entry["problem"], entry["source"], None, ",".join(entry["wrt"]), {}, {}, BLANK_KINDS)
    return Drawn(problem, dict(trace.point or {}), trace, places)


def _places(trace, quantities: dict) -> int | None:
    """The decimals the sheet rounds values to: its rounded blanks', else as a draw decides."""
    from ..handout.problems import nice_places

    given = {q["decimals"] for q in quantities.values() if "decimals" in q}
    if given:
        return max(given)
    if trace.tensor:
        return None
    found = nice_places(trace, None)
    return found if isinstance(found, int) and not isinstance(found, bool) else None


def _blank(trace, n: int, entry: dict, value, line: str) -> Blank:
    quantity = entry["quantities"][str(n)]
    places = quantity.get("decimals")
    shape = tuple(getattr(value, "shape", ()))
    if shape:
        elements = [(index, _exact(value[index])) for index in _indices(shape)]
        entries = tuple(_entry(n, index, x, places, scaled(x)) for index, x in elements)
        written = value
    else:
        mistakes = scaled(value) + ([] if trace.tensor else chained(trace, quantity))
        entries = (_entry(n, (), value, places, mistakes),)
        written = _written(value, places)
    return Blank(n, quantity, entry["blanks"][str(n)], shape, written, entries, line)


def _entry(n: int, index: tuple, value, places: int | None, mistakes: list[Wrong]) -> Entry:
    """A number's interval, and the mistakes whose intervals meet neither it nor each other."""
    right = accepted(value, places)
    kept: list[tuple[Accepted, Wrong]] = []
    for mistake in mistakes:
        if len(kept) == MAX_WRONG or mistake.value is None or not mistake.value.is_number:
            continue
        interval = accepted(mistake.value, places)
        if not interval.meets(right) and not any(interval.meets(other) for other, _ in kept):
            kept.append((interval, mistake))
    return Entry(n, index, value, places, right, tuple(kept))


def _indices(shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    import numpy as np

    return list(np.ndindex(*shape))


def _exact(x) -> sympy.Expr:
    """A model's element as an exact SymPy number (a handout's models are exact)."""
    from ..arith.elements import closed_form

    value = closed_form(x)
    if value is None or not value.is_Rational:
        raise WorksheetError("a model's value is not exact: only exact handouts are exported", where="blanks")
    return value


def _written(value, places: int | None):
    """The value as the key writes it: rounded to ``places`` where it is not exact."""
    from ..assess.rounding import rounded
    from ..terms import Rounded

    return Rounded(rounded(value, places)) if places is not None else value


__all__ = ["Blank", "Entry", "Question", "questions"]
