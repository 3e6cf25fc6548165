"""A student's answer → a value, through the formula parser, and when a number matches.

An answer is untrusted text like a formula: it goes through the same allow-listed parser
(``3x^2``, ``2(w*x+b-y)x``, ``−8``, ``1/2`` and ``0.25`` are all read, decimals exactly).

A number given as a decimal counts as rounded when it has at least ``MIN_DIGITS``
significant digits: ``0.235`` matches σ′-like values from 0.2345 to 0.2355, half a unit in
its last digit, as a grader reads "correct to three significant figures". Integers and
fractions (``-8``, ``1/3``) are exact and match only exactly (closed forms to ``EXACT_BITS``,
in certified arithmetic).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from functools import lru_cache

import mpmath
import sympy
from sympy import Expr, Rational, Symbol

from ..errors import WorksheetError

MIN_DIGITS = 3
"""A decimal answer with at least this many significant digits may be the value rounded."""

EXACT_BITS = 200
"""Two exact values that are not both rational are one number when they agree to 2^−200 of
their size (certified): 1/cosh(1000)² is 1 − tanh(1000)²; 1/3 and 0.3333333333333333 are not."""

_DECIMAL = re.compile(r"^\s*[-−+]?\s*(\d*)\.(\d+)\s*$")


VALUES_KEPT = 20_000
"""How many operations of answers keep their values (``_value``)."""

CALCULUS = {"diff", "derivative", "d", "grad", "gradient", "integrate", "integral", "limit",
            "subs", "solve", "simplify", "nabla", "partial"}
"""Names of operations that would answer the question with the question: refused in answers."""


def read_expression(text: str, variables: Collection[str], where: str = "answer") -> Expr:
    """An answer that may use the question's ``variables``, as an evaluated SymPy expression
    (``2(w*x+b-y)x`` → 2·x·(b + w·x − y)). One-line errors for everything the formula parser
    refuses, for operations like ``diff(…)``, and for names the question does not have."""
    from ..lang.graph import _postorder
    from ..lang.parse import Apply, Num, Var

    try:
        root = _parsed(text)
        values: dict[int, Expr] = {}
        for item in _postorder(root):
            if isinstance(item, Num):
                values[id(item)] = item.exact()
            elif isinstance(item, Var):
                values[id(item)] = _variable(item, variables)
            elif isinstance(item, Apply):
                values[id(item)] = _apply(item, [values[id(a)] for a in item.args])
            else:
                raise WorksheetError("an answer is a formula, not a list", line=item.pos[0], column=item.pos[1])
        return values[id(root)]
    except WorksheetError as error:
        raise error.located(source=text, where=where) from None


def _parsed(text: str):
    """The answer's syntax tree. Asking for the derivative (``diff(…)``) is the error shown
    before any other; no operation of the formula language is named like one, so such a name
    before ``(`` never parses, and the tokens are looked at only where the parse fails."""
    from ..lang.parse import parse_expression
    from ..lang.tokens import tokenize

    try:
        return parse_expression(text)
    except WorksheetError:
        _refuse_calculus(tokenize(text))
        raise


def _refuse_calculus(tokens) -> None:
    for token, after in zip(tokens, tokens[1:]):
        if token.kind == "name" and token.text.lower() in CALCULUS and after.text == "(":
            raise WorksheetError(
                f"{token.text}(…) asks for the answer instead of giving it: write the derivative itself",
                line=token.pos[0], column=token.pos[1],
            )


def _variable(var, variables: Collection[str]) -> Symbol:
    if var.name not in variables:
        product = _as_product(var.name, variables) if len(var.name) <= 12 else None
        hint = f"; for a product, write {product}" if product else ""
        raise WorksheetError(
            f"{var.name} is not a variable of the question (its variables: {', '.join(variables)}){hint}",
            line=var.pos[0], column=var.pos[1],
        )
    return Symbol(var.name, real=True)


def _as_product(name: str, variables: Collection[str]) -> str | None:
    """``xy`` as ``x*y`` when the name is the question's variables written side by side (the
    longest first: ``wx`` with a variable ``w`` and ``x``; None when no split reads it)."""
    if not name:
        return ""
    for known in sorted(variables, key=len, reverse=True):
        if name.startswith(known):
            rest = _as_product(name[len(known):], variables)
            if rest is not None:
                return known + ("*" + rest if rest else "")
    return None


def _apply(item, args: list[Expr]) -> Expr:
    """One operation of the answer, evaluated as SymPy would (exact, sizes checked)."""
    from ..ops import RULES
    from ..arith import OutsideDomain, Refused

    rule = RULES[item.op]
    if rule.tensor:
        raise WorksheetError(f"{rule.title} is for vectors and matrices", line=item.pos[0], column=item.pos[1])
    try:
        return _value(item.op, tuple(args))
    except OutsideDomain:
        raise WorksheetError(f"{item.op}(…) of these numbers is undefined ({rule.domain})",
                             line=item.pos[0], column=item.pos[1]) from None
    except Refused as error:
        raise WorksheetError(f"this number would be {error}", line=item.pos[0], column=item.pos[1]) from None


@lru_cache(maxsize=VALUES_KEPT)
def _value(op: str, args: tuple[Expr, ...]) -> Expr:
    """``op`` of ``args`` as SymPy evaluates it, its size checked (kept: the answers of a batch
    share their parts, and SymPy's own cache is smaller than a batch)."""
    from ..forms import evaluate
    from ..ops import RULES
    from ..arith import OutsideDomain, settle

    value = evaluate(RULES[op].form(*args), dict(zip(args, args)))  # the arguments are values already
    if _unbounded(value, set(args)):
        raise OutsideDomain("division by zero")
    if value.is_number:
        settle(value)
    return value


UNBOUNDED = {sympy.zoo, sympy.nan, sympy.oo, -sympy.oo}


def _unbounded(value: Expr, checked: set[Expr]) -> bool:
    """Whether ``value`` holds ∞ or an undefined number (zoo, nan, ±oo), looking only outside
    its parts in ``checked`` (the arguments, whose values were checked when they were made)."""
    unseen = [value]
    while unseen:
        e = unseen.pop()
        if e in UNBOUNDED:
            return True
        if e not in checked:
            unseen.extend(e.args)
    return False


def read_number(text: str, where: str = "answer") -> Expr:
    """The value of an answer that must be a number (``-6``, ``0.25``, ``1/2``, ``-3*2``)."""
    from ..lang.graph import constant
    from ..lang.parse import parse_expression

    try:
        return constant(parse_expression(text))
    except WorksheetError as error:
        raise error.located(source=text, where=where) from None


def rounding_allowance(text: str) -> Rational | None:
    """Half a unit in the last digit of a decimal answer with at least ``MIN_DIGITS``
    significant digits (``0.235`` → 0.0005); None for anything else (``-8``, ``1/3``, ``0.2``)."""
    match = _DECIMAL.match(text)
    if not match or len((match.group(1) + match.group(2)).lstrip("0")) < MIN_DIGITS:
        return None
    return _half_unit(match)


def same_number(value: Expr, expected: Expr, text: str | None = None) -> bool:
    """Whether an answer's ``value`` (typed as ``text``) is the number ``expected``: two
    rationals exactly, other exact values to EXACT_BITS bits of their size (certified), and a
    decimal with at least MIN_DIGITS significant digits within half a unit of its last digit."""
    if value == expected:
        return True
    if not (value.is_Rational and expected.is_Rational):
        a, b = _certified(value), _certified(expected)
        if a is not None and b is not None and abs(a - b) <= mpmath.ldexp(max(abs(a), abs(b)), -EXACT_BITS):
            return True
    allowance = rounding_allowance(text) if text is not None else None
    return allowance is not None and _within(value, expected, allowance)


def is_rounded_too_far(value: Expr, expected: Expr, text: str) -> bool:
    """A decimal that is ``expected`` rounded, but to fewer than ``MIN_DIGITS`` digits (``0.2``
    for 0.235): worth telling the student, rather than calling it wrong."""
    match = _DECIMAL.match(text)
    return bool(match) and _within(value, expected, _half_unit(match))


def is_off_in_its_last_digit(value: Expr, expected: Expr, text: str) -> bool:
    """A decimal within one unit of its last digit of ``expected`` but not half a unit: cut off
    (``0.2099`` for 0.209987) or rounded the wrong way, rather than a wrong value."""
    allowance = rounding_allowance(text)
    return allowance is not None and _within(value, expected, 2 * allowance)


def _within(value: Expr, expected: Expr, allowance: Rational) -> bool:
    """|value − expected| ≤ allowance: exactly for rationals, else on certified values."""
    if value.is_Rational and expected.is_Rational:
        return abs(value - expected) <= allowance
    a, b = _certified(value), _certified(expected)
    return a is not None and b is not None and abs(a - b) <= mpmath.mpf(allowance.p) / allowance.q


def _certified(value: Expr):
    """``value`` as an mpmath number certified to EXACT_BITS + 20 bits (None: undefined)."""
    from ..arith import Refused, certify

    try:
        ball = certify(value, EXACT_BITS + 20)
    except Refused:
        return None
    with mpmath.workprec(EXACT_BITS + 40):
        return mpmath.mpf(0) if ball.is_zero() else +mpmath.mpf(ball)


def _half_unit(match: re.Match) -> Rational:
    """Half a unit in the last digit of a matched decimal (0.235 → 0.0005)."""
    return Rational(1, 2 * 10 ** len(match.group(2)))


__all__ = ["MIN_DIGITS", "read_expression", "read_number", "rounding_allowance", "same_number", "is_rounded_too_far"]
