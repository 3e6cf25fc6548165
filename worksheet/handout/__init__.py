"""Drawn variants of a problem set → a student sheet and an answer key per variant, and the manifest.

A student sheet states each problem and lays out the forward table, the backward steps and
the result with numbered blanks, (1) ______, where the problem set hides values; the key
is the same sheet with every blank filled in (still numbered), followed by each problem's
full worksheet. The manifest records, per variant and problem, the inputs, the answers
(the gradients) and the value of every blank, as exact strings.
"""

from __future__ import annotations

import dataclasses
import json

from sympy import Basic, Rational, S

from .. import formats
from ..arith.elements import closed_form
from ..arith.real import unfold
from ..assess.rounding import rounded
from ..document import Document, Equations, Heading, Paragraph, Together, formula, model, node_blocks, worksheet
from ..document.model import shown
from ..lang.tokens import written_in_decimals
from .problems import Drawn, ProblemSet, written_places
from ..terms import Blank, Equation, Number, Partial, Rounded

FORMATS = tuple(formats.of("handout"))
MANIFEST_SCHEMA = "worksheet.handout/1"


class _Slots:
    """Numbers the hidden values in reading order; a key writes them in, a sheet leaves gaps.
    ``quantity`` says what a blank is, for grading (``{"kind": "local", "node": "v3", …}``);
    a value that cannot be exact is written rounded to ``places`` decimals (0.7311), the blank
    keeping its exact value and, in its quantity, the rounding (``"decimals": 4``)."""

    def __init__(self, start: int, key: bool):
        self.next = start
        self.key = key
        self.values: dict[int, object] = {}
        self.quantities: dict[int, dict] = {}

    def __call__(self, value, hidden: bool, quantity: dict | None = None, places: int | None = None):
        if getattr(value, "shape", None) == ():  # a model's scalar: the (exact) number it holds
            value = closed_form(value[()])
        rounding = written_places(value, places) if places and not getattr(value, "shape", ()) else None
        written = Rounded(rounded(value, rounding)) if rounding else value
        if not hidden:
            return Number(written) if not getattr(value, "shape", ()) else shown(value)
        number = self.next
        self.next += 1
        self.values[number] = value
        self.quantities[number] = {**(quantity or {}), **({"decimals": rounding} if rounding else {})}
        return Blank(number, written if self.key else None)


def sheet_blocks(drawn: Drawn, slots: _Slots) -> list:
    """One problem: its statement, the forward table, the backward steps and the result, built
    as the worksheet builds them (``document.formula``, ``document.model``) with each value the
    problem's ``blanks`` hide written as a numbered blank (``slots``), and no working between."""
    trace, problem = drawn.trace, drawn.problem
    hide, target = set(problem.blanks), trace.target
    kind = model if trace.tensor else formula
    cell = lambda value, quantity: slots(value, _hidden(trace, hide, quantity), quantity, drawn.places)  # noqa: E731
    blocks: list = [Heading(f"Problem {problem.number}"), *kind.problem(trace), *_rounding_note(drawn.places)]
    if trace.tensor and problem.vary:
        blocks.append(Paragraph((f"This variant's values of {', '.join(problem.vary)} are drawn: they are "
                                 "the ones below, not the program's.",)))
    blocks += [Heading("Forward pass", 3), *kind.forward_table(trace, cell)]
    each = ("the vector-Jacobian product of a node, in matrix form, then in numbers" if trace.tensor
            else "upstream gradient times local derivative")
    blocks += [Heading("Backward pass", 3), Paragraph((
        "Seed ", Equation((Partial(target, target), Number(S.One))), f". Each step: {each}.",
    ))]
    blocks += node_blocks(trace, heading=kind.heading,
                          equation=lambda t, step: kind.step_equation(t, step, cell, working=False),
                          fan_out=lambda t, name: kind.fan_out(t, name, cell, working=False), input_sums=True)
    results = tuple(Equation((Partial(target, g.wrt), cell(g.value, {"kind": "gradient", "wrt": g.wrt})))
                    for g in trace.gradients)
    return blocks + [Heading("Result", 3), Equations(results)]


def _rounding_note(places: int | None) -> list:
    """What a problem whose values cannot all be exact asks of the student: how to round."""
    if places is None:
        return []
    example = Number(Rounded(rounded(Rational(2, 3), places)))
    return [Paragraph((
        f"Write a value that is not exact rounded to {places} decimal places, as ", Equation((
            Number(Rational(2, 3)), example)), " (one unit off in the last place, from working with rounded "
        "values, is accepted).",
    ))]


def _hidden(trace, hide: set[str], quantity: dict) -> bool:
    """Is the value ``quantity`` names a blank, given the kinds the problem hides? A product that
    is a requested gradient, or a path of one (its fan-out sum is a step of its own), is one
    when the gradients are."""
    kind = quantity["kind"]
    if kind in ("forward", "upstream"):
        return kind in hide
    if kind == "gradient":
        return "gradients" in hide
    if kind == "sum":
        return "upstream" in hide or ("gradients" in hide and quantity["node"] in trace.wrt)
    name = quantity["input"]
    product = "upstream" in hide or ("gradients" in hide and name in trace.wrt)
    if kind == "product":
        return product
    return "local" in hide or (quantity["node"] == trace.target and product)  # at the output, the product


def value_text(value) -> str:
    """A value as the manifest keeps it: an exact number (``-1/2``, ``2*sigmoid(1) - 2``: a carried
    ``Real`` written out in its recipe), or nested lists of them."""
    if getattr(value, "shape", ()):
        return "[" + ", ".join(value_text(v) for v in value) + "]"
    if getattr(value, "shape", None) == ():
        value = value[()]
    return str(unfold(value) or value) if isinstance(value, Basic) else str(value)


def documents(problem_set: ProblemSet, variant: list[Drawn], vid: str, seed: int,
              numbers: str = "exact") -> tuple[Document, Document, list]:
    """The student sheet, the key and the manifest entries of one variant (``numbers``: how
    their values are written, ``notation.NUMBERS``). Each problem is a group of blocks, kept on
    one page when it fits on one."""
    header = Paragraph((
        f"Variant {vid}, seed {seed}. Fill in each numbered blank with its exact value: an integer, "
        "a decimal or a fraction such as 3/8" + (", or rounded where a problem says so." if any(
            d.places is not None for d in variant) else "."),
    ))
    key_text = (f"Answer key: variant {vid}, seed {seed}. Each blank's value is written in, under its number; "
                "each problem's full worksheet follows it.")
    key_header = Paragraph((key_text,))
    sheet, key, entries = [header], [key_header], []
    start = 1
    for drawn in variant:
        student, filled = _Slots(start, key=False), _Slots(start, key=True)
        sheet.append(Together(tuple(sheet_blocks(drawn, student))))  # a problem starts a page it fits on
        key.append(Together(tuple(sheet_blocks(drawn, filled))))
        key += [Heading(f"Problem {drawn.problem.number}: full derivation", 3), *_derivation(drawn, numbers)]
        start = student.next
        entries.append({
            "problem": drawn.problem.number,
            "source": drawn.problem.text,
            "wrt": list(drawn.trace.wrt),
            "inputs": {name: value_text(value) for name, value in drawn.inputs.items()},
            "answers": {g.wrt: value_text(g.value) for g in drawn.trace.gradients},
            "blanks": {str(n): value_text(v) for n, v in student.values.items()},
            "quantities": {str(n): q for n, q in student.quantities.items()},
        })
    return (Document(problem_set.title, tuple(sheet), numbers, name_line="every"),  # the key: no Name/Date
            Document(f"{problem_set.title} (answer key)", tuple(key), numbers, name_line="none"), entries)


def decimal_inputs(problem_set: ProblemSet) -> bool:
    """Does the set write its numbers as decimals: a value or a choice that is not an integer
    (TOML has no fractions, so it was written 0.5), or a decimal in a formula?"""
    values = [v for p in problem_set.problems for v in (*p.at.values(), *(c for cs in p.vary.values() for c in cs))]
    return any(not float(v).is_integer() for v in values) or any(
        written_in_decimals(p.text) for p in problem_set.problems)


def _derivation(drawn: Drawn, numbers: str) -> list:
    """The worksheet's sections after its problem statement, one heading level down."""
    blocks = list(worksheet(drawn.trace, numbers=numbers).blocks)
    first = next(i for i, b in enumerate(blocks) if isinstance(b, Heading))
    return [dataclasses.replace(b, level=3) if isinstance(b, Heading) else b for b in blocks[first:]]


def _policy(problem_set: ProblemSet) -> dict:
    """The [grading] table as JSON numbers: points per blank, the share a consistent blank earns."""
    policy = problem_set.policy
    return {key: int(v) if v.denominator == 1 else float(v)
            for key, v in (("points", policy.points), ("consistent", policy.consistent))}


def handout(problem_set: ProblemSet, drawn: list[list[Drawn]], seed: int, fmt: str = "pdf", key: bool = False,
            on_file=None, numbers: str = "auto") -> tuple[dict[str, str | bytes], str]:
    """Every file of the handout, by file name (nothing written), and the manifest's text;
    ``numbers`` auto, exact or decimal, as for ``render``; ``on_file(done, total)`` after each file."""
    from ..render import numbers_shown

    shown = numbers_shown(numbers, decimal_inputs(problem_set))
    names: list[str] = []
    variants = []
    ext = formats.of("handout")[fmt].extensions[0].lstrip(".")
    width = max(2, len(str(len(drawn))))

    def sheets_and_keys():
        """Each variant's sheet and key, built as they are asked for, each file's name kept."""
        for i, variant in enumerate(drawn, start=1):
            vid = f"v{i:0{width}d}"
            sheet, answer_key, entries = documents(problem_set, variant, vid, seed, shown)
            variants.append({"id": vid, "problems": entries})
            names.append(f"{problem_set.name}-{vid}.{ext}")
            yield sheet
            if key:
                names.append(f"{problem_set.name}-{vid}-key.{ext}")
                yield answer_key

    contents = _rendered(sheets_and_keys(), fmt, len(drawn) * (2 if key else 1), on_file)
    manifest = {"schema": MANIFEST_SCHEMA, "title": problem_set.title, "seed": seed,
                "policy": _policy(problem_set), "variants": variants}
    return dict(zip(names, contents, strict=True)), json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"


def _rendered(docs, fmt: str, total: int, on_file=None) -> list[str | bytes]:
    """Each document in ``fmt``, in order, ``on_file(done, total)`` after each. PDFs are typeset on
    every CPU, a document's markup written while those before it compile (``render_pdfs``)."""
    from ..render import render_document

    if formats.of("handout")[fmt].binary:
        from ..render.typst import render_pdfs

        return render_pdfs(docs, on_each=on_file)
    contents = []
    for doc in docs:
        contents.append(render_document(doc, fmt))
        if on_file is not None:
            on_file(len(contents), total)
    return contents


__all__ = ["FORMATS", "documents", "handout", "sheet_blocks"]
