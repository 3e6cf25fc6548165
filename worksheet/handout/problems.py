"""Problem sets: a TOML file of problems → validated ``ProblemSet`` → variants with drawn inputs.

    title = "Backpropagation drill"

    [[problem]]
    expression = "(w*x+b-y)**2"     # or program = "net.ws" (a file beside the TOML) or inline text
    wrt = "w,b"
    at = "x=2,y=4"                  # fixed values, as --at
    blanks = ["forward", "local", "upstream", "gradients"]   # what the student fills in
    decimals = 4                    # values that cannot be exact: rounded to 4 places (or at the top, for all)
    [problem.vary]
    w = [-3, 3]                     # a random integer in the range
    b = {min = -1, max = 1, step = 0.5}

The file is untrusted input: every key and type is checked (one-line errors naming the key),
and the formulas go through the formula parser, never ``eval``. Draws are deterministic
(``random.Random(f"{seed}:{variant}")``) and redrawn until the point is inside the formula's
domain and every forward value, step value and gradient is a "nice number": exact, a rational
with a denominator dividing 100 (|x| ≤ 1000), or else written rounded (``assess.rounding``,
certified) to the problem's ``decimals`` with at least MIN_SIGNIFICANT significant digits.
Without ``decimals``, a value that cannot be exact (σ(1), e^−2, not 1/3, which a redraw
avoids) is rounded to DEFAULT_DECIMALS places. A model's values are exact only.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import sympy

from ..arith.real import unfold
from ..assess.manifest import Policy
from ..assess.rounding import checked_places, rounded, significant
from ..errors import WorksheetError
from ..limits import MAX_PROGRAM_CHARS
from ..lang.tokens import one_plain_line
from ..lang.toml_tables import exact_number, names_text, point_text, program_file, read_toml, text_value
from ..textfiles import read_text

BLANK_KINDS = ("forward", "local", "upstream", "gradients")
PROBLEM_KEYS = {"expression", "program", "wrt", "at", "vary", "blanks", "decimals"}
MAX_PROBLEMS = 50
MAX_VARIANTS = 500
MAX_CHOICES = 100_000
ATTEMPTS = 500  # draws per problem and variant before giving up
MODEL_ATTEMPTS = 50  # for a model, whose every draw is a whole forward and backward pass
MAX_BLANK_ELEMENTS = 64  # a model's vector or matrix in a handout: one blank a student writes out
NICE_DENOMINATOR = 100
NICE_LIMIT = 1000
DEFAULT_DECIMALS = 4  # a value that cannot be exact, in a problem that does not say: 0.7311
MIN_SIGNIFICANT = 3  # a rounded value shows at least this many digits (0.0250, not 0.0003): as grading reads them
PROGRAM_SUFFIXES = (".ws", ".txt")


@dataclass(frozen=True)
class Problem:
    number: int
    text: str  # the formula or program
    filename: str | None  # the program file, for error messages
    wrt: str
    at: dict  # name → exact value (fixed)
    vary: dict  # name → tuple of exact choices
    blanks: tuple[str, ...]
    shapes: dict = field(default_factory=dict)  # a varied vector or matrix: its shape (every element drawn)
    decimals: int | None = None  # the places a value that cannot be exact is rounded to (None: DEFAULT_DECIMALS)


@dataclass(frozen=True)
class ProblemSet:
    name: str  # the file's stem: the handouts' file names
    title: str
    problems: tuple[Problem, ...]
    path: str = ""  # as given, for error messages
    policy: Policy = Policy()  # [grading]: points per blank, the share a consistent blank earns


@dataclass(frozen=True)
class Drawn:
    """One problem of one variant: the point and its (scalar) trace."""

    problem: Problem
    inputs: dict
    trace: object = field(repr=False)
    places: int | None = None  # the decimals its rounded values are written to; None: every value is exact


def load(path: str | Path) -> ProblemSet:
    """Read and check a problem set; every error is one line naming the file, the problem and the key."""
    path = Path(path)
    where = str(path)
    text = read_text(path, 4 * MAX_PROGRAM_CHARS)
    data = read_toml(text, where, ("title", "problem", "grading", "decimals"))
    title = data.get("title", "Backpropagation problems")
    if not isinstance(title, str) or not title.strip() or len(title) > 200:
        raise WorksheetError("expected a non-empty text of at most 200 characters", where=f"{where}: title")
    if not one_plain_line(title):
        raise WorksheetError("the title must be one line of plain text (no line breaks or control "
                             "characters)", where=f"{where}: title")
    problems = data.get("problem")
    if not isinstance(problems, list) or not problems or not all(isinstance(p, dict) for p in problems):
        raise WorksheetError("expected one or more [[problem]] tables", where=f"{where}: problem")
    if len(problems) > MAX_PROBLEMS:
        raise WorksheetError(f"at most {MAX_PROBLEMS} problems", where=f"{where}: problem")
    policy = _grading(data.get("grading", {}), f"{where}: grading")
    decimals = checked_places(data["decimals"], f"{where}: decimals") if "decimals" in data else None
    return ProblemSet(path.stem, title.strip(),
                      tuple(_problem(path, i, p, decimals) for i, p in enumerate(problems, start=1)), where, policy)


def _grading(table, where: str) -> Policy:
    """[grading]: ``points`` per blank (positive, default 1) and the share ``consistent`` of them a
    blank earns that follows correctly from the student's own wrong value (0 to 1, default 1)."""
    if not isinstance(table, dict):
        raise WorksheetError("expected a table with points and consistent", where=where)
    unknown = sorted(set(table) - {"points", "consistent"})
    if unknown:
        raise WorksheetError(f"unknown key {unknown[0]!r} (keys: points, consistent)", where=where)
    points = exact_number(table.get("points", 1), f"{where}.points")
    if points <= 0 or points > 10**6:
        raise WorksheetError("expected a positive number (at most 1000000)", where=f"{where}.points")
    consistent = exact_number(table.get("consistent", 1), f"{where}.consistent")
    if not 0 <= consistent <= 1:
        raise WorksheetError("expected a number from 0 to 1", where=f"{where}.consistent")
    return Policy(points, consistent)


def _problem(path: Path, number: int, table: dict, decimals: int | None = None) -> Problem:
    from ..lang.options import located, parse_names, parse_point, wrt_names
    from ..lang.graph import build
    from ..lang.parse import parse_program

    here = f"{path}: problem {number}"
    unknown = sorted(set(table) - PROBLEM_KEYS)
    if unknown:
        raise WorksheetError(f"unknown key (keys: {', '.join(sorted(PROBLEM_KEYS))})",
                             where=f"{here}: {unknown[0]}")
    if ("expression" in table) == ("program" in table):
        raise WorksheetError("give exactly one of expression and program", where=here)
    key = "expression" if "expression" in table else "program"
    text = text_value(table[key], f"{here}: {key}")
    filename = None
    if key == "program" and "\n" not in text and text.strip().endswith(PROGRAM_SUFFIXES):
        text, filename = program_file(path, text.strip(), f"{here}: program")
    wrt = names_text(table["wrt"], f"{here}: wrt") if "wrt" in table else None
    at_text = point_text(table["at"], f"{here}: at") if "at" in table else ""
    blanks = table.get("blanks", list(BLANK_KINDS))
    if not isinstance(blanks, list) or not all(isinstance(b, str) for b in blanks):
        raise WorksheetError(f"expected a list of {', '.join(BLANK_KINDS)}", where=f"{here}: blanks")
    for b in blanks:
        if b not in BLANK_KINDS:
            raise WorksheetError(f"{b!r} is not one of {', '.join(BLANK_KINDS)}", where=f"{here}: blanks")
    if "decimals" in table:
        decimals = checked_places(table["decimals"], f"{here}: decimals")
    vary_table = table.get("vary", {})
    if not isinstance(vary_table, dict):
        raise WorksheetError("expected a table of name = [min, max] or {min, max, step}", where=f"{here}: vary")
    vary = {}
    for name, spec in vary_table.items():
        try:
            parse_names(name, "vary")
        except WorksheetError:
            raise WorksheetError("not a variable name", where=f"{here}: vary.{name}") from None
        vary[name] = _choices(spec, f"{here}: vary.{name}")
    try:
        at = parse_point(at_text) if at_text.strip() else {}
    except WorksheetError as error:
        raise WorksheetError(str(error), where=f"{here}: at") from None
    both = sorted(set(at) & set(vary))
    if both:
        raise WorksheetError(f"{both[0]} is both fixed (at) and varied", where=f"{here}: vary.{both[0]}")
    try:  # the formula through the parser (never eval), and its graph
        program = located(lambda: parse_program(text, max_chars=MAX_PROGRAM_CHARS), text, filename)
        graph = located(lambda: build(program, target=None, lets=[], aux=[]), text, filename)
    except WorksheetError as error:
        raise WorksheetError(str(error), where=f"{here}: {key}") from None
    try:
        chosen = wrt_names(graph, parse_names(wrt, "wrt") if wrt is not None else None)
    except WorksheetError as error:
        raise WorksheetError(error.message, where=f"{here}: wrt") from None
    names = [n.name for n in graph.inputs]
    for name in [*at, *vary]:
        if name not in names:
            where = f"{here}: at" if name in at else f"{here}: vary.{name}"
            raise WorksheetError(f"{name} is not a variable of the formula (its variables: {', '.join(names)})",
                                 where=where)
    missing = [n for n in names if n not in at and n not in vary and n not in graph.defaults]
    if missing:
        raise WorksheetError(f"no value for {', '.join(missing)}: give it in at or vary", where=here)
    shapes = {name: tuple(graph.defaults[name].shape) for name in vary
              if getattr(graph.defaults.get(name), "shape", ())}  # param W = randn(2, 3, seed=0): W's elements
    for name, shape in shapes.items():
        if math.prod(shape) > MAX_BLANK_ELEMENTS:
            raise WorksheetError(f"{name} has {math.prod(shape):,} elements; a handout's vector or matrix has at "
                                 f"most {MAX_BLANK_ELEMENTS}", where=f"{here}: vary.{name}")
    return Problem(number, text, filename, ",".join(chosen), at, vary,
                   tuple(b for b in BLANK_KINDS if b in blanks), shapes, decimals)


def _choices(spec, where: str) -> tuple:
    """[min, max] (integers) or {min, max, step} → the exact values a draw picks from."""
    if isinstance(spec, list):
        if len(spec) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in spec):
            raise WorksheetError("expected [min, max] with two integers", where=where)
        low, high, step = Fraction(spec[0]), Fraction(spec[1]), Fraction(1)
    elif isinstance(spec, dict):
        unknown = sorted(set(spec) - {"min", "max", "step"})
        if unknown:
            raise WorksheetError(f"unknown key {unknown[0]!r} (keys: min, max, step)", where=where)
        if "min" not in spec or "max" not in spec:
            raise WorksheetError("expected {min = …, max = …, step = …}", where=where)
        low, high = exact_number(spec["min"], f"{where}.min"), exact_number(spec["max"], f"{where}.max")
        step = exact_number(spec.get("step", 1), f"{where}.step")
        if step <= 0:
            raise WorksheetError("must be positive", where=f"{where}.step")
    else:
        raise WorksheetError("expected [min, max] or {min, max, step}", where=where)
    if low > high:
        raise WorksheetError(f"min {low} is larger than max {high}", where=where)
    count = int((high - low) // step) + 1
    if count > MAX_CHOICES:
        raise WorksheetError(f"more than {MAX_CHOICES:,} values in the range", where=where)
    return tuple(sympy.Rational(v.numerator, v.denominator) for v in (low + k * step for k in range(count)))


def is_nice(value) -> bool:
    """A small integer or short decimal: exact, denominator dividing 100, |x| ≤ 1000."""
    return (value is not None and value.is_Rational and NICE_DENOMINATOR % value.q == 0
            and abs(value) <= NICE_LIMIT)


def written_places(value, decimals: int | None) -> int | None | bool:
    """How a formula's value is written on a sheet: exactly (None), rounded to this many places,
    or not at all (False: draw again). Exact where it is nice (``is_nice``); rounded where it
    cannot be exact, or any other value where the problem gives ``decimals`` (1/3: 0.3333);
    only one with a closed form (the manifest keeps it: a carried ``Real`` written out in its
    recipe), with at least MIN_SIGNIFICANT significant digits and |x| ≤ NICE_LIMIT."""
    if is_nice(value):
        return None
    if (value.is_Rational and decimals is None) or unfold(value) is None:
        return False
    places = decimals or DEFAULT_DECIMALS
    text = rounded(value, places)
    if text is None or significant(text) < MIN_SIGNIFICANT or abs(float(text)) > NICE_LIMIT:
        return False
    return places


def scalar_values(trace) -> list:
    """Every value a student would write on a formula's sheet: forward, backward, gradients."""
    values = [*trace.values.values(), *(g.value for g in trace.gradients)]
    for step in trace.steps:
        values += [step.local_value, step.upstream_value, step.product_value]
    values += [a.value for a in trace.adjoints.values() if a.value is not None]
    return [v for v in values if v is not None]


def nice_places(trace, decimals: int | None = None) -> int | None | bool:
    """Is every value a student would write a nice number: False if not, else the places its
    rounded values are written to (None: every one is exact). A model's are exact only, every
    element of every vector and matrix."""
    import numpy as np

    if trace.tensor:
        values = [*trace.values.values(), *(g.value for g in trace.gradients)]
        values += [s.value for s in trace.steps] + [a.value for a in trace.adjoints.values()]
        return None if all(isinstance(x, Fraction | int) and is_nice(sympy.Rational(x.numerator, x.denominator))
                           for v in values for x in np.asarray(v, dtype=object).flat) else False
    places = None
    for value in scalar_values(trace):
        written = written_places(value, decimals)
        if written is False:
            return False
        places = places or written
    return places



def draw(problem_set: ProblemSet, variants: int, seed: int, on_variant=None) -> list[list[Drawn]]:
    """``variants`` variants of every problem: deterministic in ``seed``, nice numbers only."""
    from ..engine.derive import derive

    if not 1 <= variants <= MAX_VARIANTS:
        raise WorksheetError(f"between 1 and {MAX_VARIANTS}", where="--variants")
    result = []
    cache: dict = {}  # (problem, point) → its trace, or None when it is not nice: a repeat costs nothing
    for v in range(1, variants + 1):
        rng = random.Random(f"{seed}:{v}")
        drawn = []
        for problem in problem_set.problems:
            drawn.append(_draw_one(problem_set, problem, rng, derive, cache))
        result.append(drawn)
        if on_variant is not None:
            on_variant(v, variants)
    return result


_MODEL = object()  # in the draw cache: a model's draw that was not nice


def _drawn(choices: tuple, shape: tuple, rng: random.Random):
    """One value drawn from ``choices``; for a vector or matrix, each element."""
    if not shape:
        return rng.choice(choices)
    import numpy as np

    return np.array([rng.choice(choices) for _ in range(math.prod(shape))], dtype=object).reshape(shape)


def _draw_one(problem_set: ProblemSet, problem: Problem, rng: random.Random, derive, cache: dict) -> Drawn:
    attempts, model = ATTEMPTS if problem.vary else 1, False
    for attempt in range(attempts):
        if model and attempt == MODEL_ATTEMPTS:
            attempts = MODEL_ATTEMPTS  # a model's draw is a whole pass: fewer of them
            break
        point = {name: _drawn(choices, problem.shapes.get(name, ()), rng) for name, choices in problem.vary.items()}
        inputs = {**problem.at, **point}
        memo = (problem.number, tuple((k, str(v)) for k, v in point.items()))
        if memo not in cache:
            try:
                trace = derive(problem.text, wrt=problem.wrt, at=inputs or None, filename=problem.filename)
            except WorksheetError:  # outside the domain (log of 0, a division by 0): draw again
                trace = None
            if trace is not None and trace.tensor and (largest := max(v.size for v in trace.values.values())) > MAX_BLANK_ELEMENTS:
                raise WorksheetError(f"a value of {largest:,} elements is too large for a handout (a vector or "
                                     f"matrix blank has at most {MAX_BLANK_ELEMENTS})",
                                     where=f"{problem_set.path or problem_set.name}: problem {problem.number}")
            places = nice_places(trace, problem.decimals) if trace is not None and trace.values is not None else False
            cache[memo] = (trace, places) if places is not False else (
                _MODEL if trace is not None and trace.tensor else None)
        found = cache[memo]
        trace = found[0] if isinstance(found, tuple) else found
        model = model or trace is _MODEL or (trace is not None and trace.tensor)
        if isinstance(found, tuple):
            full = {n.name: trace.point[n.name] for n in trace.graph.inputs}
            return Drawn(problem, full, trace, found[1])
    if not problem.vary:
        raise WorksheetError(
            f"at its fixed values the problem leaves the domain or has values that are not nice numbers "
            f"({NICE_WORDS})",
            where=f"{problem_set.path or problem_set.name}: problem {problem.number}: at",
        )
    raise WorksheetError(
        f"no draw with nice numbers ({NICE_WORDS}) inside the domain in {attempts} attempts: change at, "
        f"the vary ranges or decimals",
        where=f"{problem_set.path or problem_set.name}: problem {problem.number}",
    )


NICE_WORDS = (f"exact with a denominator dividing {NICE_DENOMINATOR}, or rounded with at least {MIN_SIGNIFICANT} "
              f"significant digits; |x| ≤ {NICE_LIMIT}")
