"""What the options and values of a run mean, checked: ``--wrt`` names, ``--at`` values (numbers
exact, lists as tensors), ``--let``, ``--target``/``--aux``, ``--seed-grad``; the graph of a
formula or a program's text as every command builds it; and errors located in the text they
were found in. The CLI, the engine and the assessors all read options through these."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from fractions import Fraction

import sympy
from sympy import Expr

from .. import tensors
from ..errors import WorksheetError
from ..limits import MAX_FORMULA_CHARS
from .graph import Graph, Let, build, constant
from .parse import RESERVED, parse_expression, parse_source
from .tokens import tokenize, written_in_decimals
from ..lazy import lazy
from ..tensors import is_array

np = lazy("numpy")

Number = int | float | Fraction | Decimal | str | Expr


def decimal_inputs(*written) -> bool:
    """Were any of these inputs (texts, or mappings of values) written as decimals, 0.5 not 1/2?"""
    for item in written:
        if isinstance(item, str) and written_in_decimals(item):
            return True
        if isinstance(item, Mapping) and any(isinstance(v, float) or (isinstance(v, str) and written_in_decimals(v))
                                             for v in item.values()):
            return True
    return False


def program_graph(
    formula: str,
    *,
    filename: str | None = None,
    let: str | Iterable[str] = (),
    target: str | Iterable[str] | None = None,
    aux: str | Iterable[str] = (),
) -> Graph:
    """The graph of a formula or a program's text, as ``derive`` builds it (errors located)."""
    program = parse_source(formula, filename)
    lets = parse_lets(let)
    targets = parse_names(target, "--target") if target is not None else None
    auxes = parse_names(aux, "--aux") if aux else []
    return located(lambda: build(program, target=targets, lets=lets, aux=auxes), formula, filename)


def parse_seed(seed: str | Number | Iterable) -> Expr | np.ndarray:
    """``--seed-grad``: ``"[1, 0, 2]"`` (or a number, nested lists, an array) → exact values."""
    return _number(seed, "--seed-grad")


def located(run, source: str, filename: str | None):
    """``run()``, its WorksheetError told which text (and file) it was found in."""
    try:
        return run()
    except WorksheetError as error:
        raise error.located(source=source, where=filename) from None


# ── options ──────────────────────────────────────────────────────────────────────────────

def parse_names(names: str | Iterable[str], option: str) -> list[str]:
    """``"w,b"`` → ``["w", "b"]``, each checked to be a name (λ is lambda, ŷ y_hat, as in formulas)."""
    items = names.split(",") if isinstance(names, str) else list(names)
    result = []
    for item in items:
        tokens = tokenize(item.strip())
        if len(tokens) != 2 or tokens[0].kind != "name":
            raise WorksheetError(f"{item.strip()!r} is not a variable name", where=option)
        name = tokens[0].text
        if name not in result:
            result.append(name)
    if not result:
        raise WorksheetError("no variable named", where=option)
    return result


def parse_point(at: str | Mapping[str, Number]) -> dict[str, Expr]:
    """``"w=1,b=0.5,x=pi/4"`` (or a mapping) → exact values."""
    if isinstance(at, Mapping):
        return {str(name): _number(value, f"--at {name}") for name, value in at.items()}
    point: dict[str, Expr] = {}
    for name, text in _assignments(at, "--at"):
        expr = located(lambda: parse_expression(text), text, f"--at {name}")
        point[name] = located(lambda: constant(expr), text, f"--at {name}")
    return point


def parse_lets(let: str | Iterable[str]) -> list[Let]:
    """``"y_pred=w*x+b"`` (or several) → the sub-expressions to name."""
    items = [let] if isinstance(let, str) else list(let)
    lets = []
    for item in items:
        for name, text in _assignments(item, "--let", split=False):
            expr = located(lambda: parse_expression(text), text, f"--let {name}")
            lets.append(Let(name, expr, text))
    return lets


def _assignments(text: str, option: str, split: bool = True):
    """NAME=VALUE pairs separated by commas (outside parentheses)."""
    if len(text) > MAX_FORMULA_CHARS:
        raise WorksheetError(f"the value is {len(text):,} characters long", where=option)
    pieces = _split_commas(text) if split else [text]
    for piece in pieces:
        name, sep, value = piece.partition("=")
        name = name.strip()
        if not sep or not value.strip():
            raise WorksheetError(f"expected NAME=VALUE, got {piece.strip()!r}", where=option)
        yield parse_names(name, option)[0], value.strip()


def _split_commas(text: str) -> list[str]:
    pieces, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch in "(["
        depth -= ch in ")]"
        if ch == "," and depth == 0:
            pieces.append(text[start:i])
            start = i + 1
    pieces.append(text[start:])
    return [p for p in pieces if p.strip()]


def _number(value: Number, where: str) -> Expr:
    if isinstance(value, bool):
        raise WorksheetError("expected a number, got a truth value", where=where)
    if isinstance(value, int):
        return sympy.Integer(value)
    if isinstance(value, (float, Decimal)):
        return _number(str(value), where)
    if isinstance(value, Fraction):
        return sympy.Rational(value.numerator, value.denominator)
    if isinstance(value, str):
        expr = located(lambda: parse_expression(value), value, where)
        return located(lambda: constant(expr), value, where)
    if isinstance(value, sympy.Basic) and value.is_number:
        return value
    if isinstance(value, (list, tuple)) or is_array(value):
        return _tensor(value, where)
    raise WorksheetError(f"expected a number, got {type(value).__name__}", where=where)


def _tensor(value, where: str) -> np.ndarray:
    """A vector or matrix given from Python: nested lists (or a NumPy array) of numbers."""
    nested = np.asarray(value, dtype=object).tolist()
    try:
        shape = np.shape(np.array(nested, dtype=object))
        if not 1 <= len(shape) <= 2 or any(isinstance(x, list) for x in np.ravel(np.array(nested, dtype=object))):
            raise ValueError
        return tensors.from_nested([[_plain(x, where) for x in row] if isinstance(row, list) else _plain(row, where)
                                    for row in nested])
    except ValueError:
        raise WorksheetError("expected a vector or a matrix (rectangular nested lists of numbers)", where=where) from None


def _plain(x, where: str):
    return tensors.number(x if isinstance(x, (int, Fraction)) and not isinstance(x, bool) else _number(x, where))


# ── checks against the graph ─────────────────────────────────────────────────────────────

def wrt_names(graph: Graph, names: list[str] | None, *, unused: bool = False) -> list[str]:
    """The variables to differentiate with respect to: ``names`` checked against the graph, or by
    default its params, else every input. ``unused``: a name the formula does not use is allowed
    too (its gradient is 0, as JAX's grad gives), but not a word of the language (pi, sin)."""
    variables = [n.name for n in graph.inputs]
    if names is None:
        names = list(graph.params) or [n.name for n in graph.inputs if n.kind == "input"]
        if not names:
            raise WorksheetError(
                "nothing to differentiate: name the variables with --wrt or declare them with param",
            )
        return names
    for name in names:
        if name == graph.target:
            raise WorksheetError(f"{name} is the output; ∂{name}/∂{name} = 1", where="--wrt")
        if name not in graph.by_name and not (unused and name not in RESERVED):
            raise WorksheetError(
                f"{name} does not occur in the formula (its variables: {', '.join(variables)})",
                where="--wrt",
            )
    return names


def given_values(graph: Graph, given: Mapping[str, Expr], unused: Iterable[str] = ()) -> dict[str, Expr]:
    """The values declared in the program with ``given`` (``--at``) over them, names checked;
    ``unused``: names the formula does not use that may be given too (those named in --wrt)."""
    names = [n.name for n in graph.inputs]
    for name in given:
        if name not in names and name not in unused:
            raise WorksheetError(
                f"{name} is not a variable of the formula (its variables: {', '.join(names)})",
                where="--at",
            )
    return {**graph.defaults, **given}


def point_of(graph: Graph, given: Mapping[str, Expr], wrt: Iterable[str] = ()) -> dict[str, Expr] | None:
    """Every input's value — declared in the program, or ``given`` — or None for a symbolic
    worksheet (no value at all); some values but not all is refused, naming the missing. A
    variable of ``wrt`` the formula does not use may be given a value (it sets the shape of its
    gradient, 0); it comes last."""
    names = [n.name for n in graph.inputs]
    unused = [name for name in wrt if name not in graph.by_name]
    point = given_values(graph, given, unused)
    if not point:
        return None
    missing = [name for name in names if name not in point]
    if missing:
        raise WorksheetError(
            f"no value for {', '.join(missing)}: give every variable a value, "
            f"or none for a symbolic worksheet",
            where="--at",
        )
    return {name: point[name] for name in names + unused if name in point}
