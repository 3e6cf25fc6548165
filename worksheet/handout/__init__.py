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

import sympy
from sympy import S

from .. import formats
from ..document import tensor as model
from ..document.tensor import shown
from ..document import (
    Document,
    Equations,
    Heading,
    Paragraph,
    Table,
    _operation,
    _problem,
    path,
    worksheet,
)
from ..lang.tokens import written_in_decimals
from .problems import Drawn, ProblemSet
from ..terms import Blank, Chain, Equation, Form, Number, Partial, Space, Sum

FORMATS = tuple(formats.of("handout"))
MANIFEST_SCHEMA = "worksheet.handout/1"


class _Slots:
    """Numbers the hidden values in reading order; a key writes them in, a sheet leaves gaps.
    ``quantity`` says what a blank is, for grading (``{"kind": "local", "node": "v3", …}``)."""

    def __init__(self, start: int, key: bool):
        self.next = start
        self.key = key
        self.values: dict[int, object] = {}
        self.quantities: dict[int, dict] = {}

    def __call__(self, value, hidden: bool, quantity: dict | None = None):
        if getattr(value, "shape", None) == ():  # a model's scalar: a number
            value = sympy.Rational(value[()].numerator, value[()].denominator)
        if not hidden:
            return Number(value) if not getattr(value, "shape", ()) else shown(value)
        number = self.next
        self.next += 1
        self.values[number] = value
        self.quantities[number] = quantity or {}
        return Blank(number, value if self.key else None)


def sheet_blocks(drawn: Drawn, slots: _Slots) -> list:
    """One problem: its statement, the forward table, the backward steps and the result."""
    if drawn.trace.tensor:
        return _model_blocks(drawn, slots)
    trace, problem = drawn.trace, drawn.problem
    hide = set(problem.blanks)
    target = trace.target
    blocks: list = [Heading(f"Problem {problem.number}"), *_problem(trace)]

    rows = []
    for node in trace.graph.nodes:
        value = trace.values[node.name]
        forward = {"kind": "forward", "node": node.name}
        cell = Number(value) if node.is_input else slots(value, "forward" in hide, forward)
        definition = None if node.is_input else Equation((Form(node.symbol), Form(node.expr)))
        rows.append((Form(node.symbol), _operation(node), definition, cell))
    blocks += [Heading("Forward pass", 3), Table(("node", "operation", "definition", "value"), tuple(rows), "lllr")]

    blocks += _backward_intro(target, "upstream gradient times local derivative")
    steps_from: dict[str, list] = {}
    for step in trace.steps:
        steps_from.setdefault(step.node, []).append(step)
    for name, node, adjoint in _swept(trace):
        equations = []
        if len(adjoint.steps) > 1:  # the paths into this node add up
            paths = [trace.steps[i] for i in reversed(adjoint.steps)]
            equations.append(Equation((
                Partial(target, name),
                Sum(tuple(path(trace, s.node, name) for s in paths)),
                slots(adjoint.value, "upstream" in hide, {"kind": "sum", "node": name}),
            )))
        for step in steps_from.get(name, ()):
            fans_out = len(trace.adjoints[step.input].steps) > 1 if step.input in trace.adjoints else False
            in_wrt = step.input in trace.wrt
            hide_product = "upstream" in hide or (in_wrt and not fans_out and "gradients" in hide)
            lhs = [] if fans_out else [Partial(target, step.input)]
            at = {"node": step.node, "input": step.input, "position": step.position}
            if step.node == target:  # ∂L/∂u is the local derivative itself
                first = path(trace, step.node, step.input) if fans_out else lhs[0]
                sides = [first, slots(step.local_value, "local" in hide or hide_product, {"kind": "local", **at})]
            else:
                upstream = slots(step.upstream_value, "upstream" in hide, {"kind": "upstream", **at})
                local = slots(step.local_value, "local" in hide, {"kind": "local", **at})
                sides = [*lhs, path(trace, step.node, step.input),
                         Chain((upstream, local)), slots(step.product_value, hide_product, {"kind": "product", **at})]
            equations.append(Equation(tuple(sides)))
        blocks.append(Paragraph(("Node ", Equation((Form(node.symbol), Form(node.expr))), ":")))
        if equations:
            blocks.append(Equations(tuple(equations)))

    results = tuple(Equation((Partial(target, g.wrt),
                              slots(g.value, "gradients" in hide, {"kind": "gradient", "wrt": g.wrt})))
                    for g in trace.gradients)
    blocks += [Heading("Result", 3), Equations(results)]
    return blocks


def _model_blocks(drawn: Drawn, slots: _Slots) -> list:
    """A model's problem: the forward table (each vector or matrix one blank, below the table as
    the worksheet writes it), each vector-Jacobian product in matrix form with its value, the result."""
    trace, problem = drawn.trace, drawn.problem
    hide, target = set(problem.blanks), trace.target
    blocks: list = [Heading(f"Problem {problem.number}"), *model._problem(trace)]
    if problem.vary:
        blocks.append(Paragraph((f"This variant's values of {', '.join(problem.vary)} are drawn: they are "
                                 "the ones below, not the program's.",)))

    def cell(node):
        value = trace.values[node.name]
        return shown(value) if node.is_input else slots(value, "forward" in hide, {"kind": "forward", "node": node.name})

    nodes = trace.graph.nodes
    rows = [(Form(n.symbol), Space(trace.shapes[n.name]), model._operation(n), model._definition(trace, n),
             cell(n) if trace.values[n.name].shape == () else None) for n in nodes]  # numbered in reading order:
    tensors = [Equation((Form(n.symbol), *([model._definition(trace, n)] if not n.is_input else []), cell(n)))
               for n in nodes if trace.values[n.name].shape != ()]  # the table's, then the matrices below it
    blocks += [Heading("Forward pass", 3),
               Table(("node", "shape", "operation", "definition", "value"), tuple(rows), "lllll")]
    if tensors:
        blocks.append(Equations(tuple(tensors)))
    blocks += _backward_intro(target, "the vector-Jacobian product of a node, in matrix form, then in numbers")
    for name, node, adjoint in _swept(trace):
        equations = []
        if len(adjoint.steps) > 1:  # the paths into this node add up
            paths = Sum(tuple(trace.steps[i].vjp for i in reversed(adjoint.steps)))
            final = name in trace.wrt and "gradients" in hide
            equations.append(Equation((Partial(target, name), paths, slots(
                adjoint.value, "upstream" in hide or final, {"kind": "sum", "node": name}))))
        for step in (s for s in trace.steps if s.node == name):
            fans_out = len(trace.adjoints[step.input].steps) > 1 if step.input in trace.adjoints else False
            final = step.input in trace.wrt and not fans_out and "gradients" in hide
            lhs = [] if fans_out else [Partial(target, step.input)]
            at = {"node": step.node, "input": step.input, "position": step.position}
            equations.append(Equation((*lhs, step.vjp, slots(step.value, "upstream" in hide or final,
                                                              {"kind": "product", **at}))))
        blocks.append(Paragraph(("Node ", Equation((Form(node.symbol), model._definition(trace, node))), ":")))
        if equations:
            blocks.append(Equations(tuple(equations)))
    results = tuple(Equation((Partial(target, g.wrt), slots(g.value, "gradients" in hide,
                                                             {"kind": "gradient", "wrt": g.wrt})))
                    for g in trace.gradients)
    return blocks + [Heading("Result", 3), Equations(results)]


def _backward_intro(target: str, each: str) -> list:
    return [Heading("Backward pass", 3), Paragraph((
        "Seed ", Equation((Partial(target, target), Number(S.One))), f". Each step: {each}.",
    ))]


def _swept(trace):
    """Each operation the sweep reached, in its order: (name, node, adjoint)."""
    for name, adjoint in trace.adjoints.items():
        node = trace.graph.node(name)
        if not node.is_input:
            yield name, node, adjoint


def value_text(value) -> str:
    """A value as the manifest keeps it: an exact number (``-1/2``), or nested lists of them."""
    if getattr(value, "shape", ()):
        return "[" + ", ".join(value_text(v) for v in value) + "]"
    if getattr(value, "shape", None) == ():
        value = value[()]
    return str(value)


def documents(problem_set: ProblemSet, variant: list[Drawn], vid: str, seed: int,
              numbers: str = "exact") -> tuple[Document, Document, list]:
    """The student sheet, the key and the manifest entries of one variant (``numbers``: how
    their values are written, ``render.notation.NUMBERS``)."""
    header = Paragraph((
        f"Variant {vid}, seed {seed}. Fill in each numbered blank with its exact value: an integer, "
        "a decimal or a fraction such as 3/8.",
    ))
    key_text = (f"Answer key: variant {vid}, seed {seed}. Each blank's value is written in, under its number; "
                "each problem's full worksheet follows it.")
    key_header = Paragraph((key_text,))
    sheet, key, entries = [header], [key_header], []
    start = 1
    for drawn in variant:
        student, filled = _Slots(start, key=False), _Slots(start, key=True)
        sheet += sheet_blocks(drawn, student)
        key += sheet_blocks(drawn, filled)
        key += [Heading(f"Problem {drawn.problem.number}: full derivation", 3), *_derivation(drawn, numbers)]
        start = student.next
        entries.append({
            "problem": drawn.problem.number,
            "source": drawn.problem.text,
            "wrt": list(drawn.trace.wrt),
            "inputs": {name: value_text(value) for name, value in drawn.inputs.items()},
            "answers": {g.wrt: value_text(g.value) for g in drawn.trace.gradients},
            "blanks": {str(n): value_text(v) for n, v in student.values.items()},
            **({} if drawn.trace.tensor else  # (a model's blanks: graded on their own)
               {"quantities": {str(n): q for n, q in student.quantities.items()}}),
        })
    return (Document(problem_set.title, tuple(sheet), numbers),
            Document(f"{problem_set.title} (answer key)", tuple(key), numbers), entries)


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
    ``numbers`` auto, exact or decimal, as for ``render``."""
    from ..render import numbers_shown, render_document

    shown = numbers_shown(numbers, decimal_inputs(problem_set))
    files: dict[str, str | bytes] = {}
    variants = []
    ext = formats.of("handout")[fmt].extensions[0].lstrip(".")
    width = max(2, len(str(len(drawn))))
    for i, variant in enumerate(drawn, start=1):
        vid = f"v{i:0{width}d}"
        sheet, answer_key, entries = documents(problem_set, variant, vid, seed, shown)
        files[f"{problem_set.name}-{vid}.{ext}"] = render_document(sheet, fmt)
        if key:
            files[f"{problem_set.name}-{vid}-key.{ext}"] = render_document(answer_key, fmt)
        variants.append({"id": vid, "problems": entries})
        if on_file is not None:
            on_file(i, len(drawn))
    manifest = {"schema": MANIFEST_SCHEMA, "title": problem_set.title, "seed": seed,
                "policy": _policy(problem_set), "variants": variants}
    return files, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"


__all__ = ["FORMATS", "documents", "handout", "sheet_blocks"]
