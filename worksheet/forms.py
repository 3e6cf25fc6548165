"""Expressions in the form a person writes them.

SymPy's evaluated form sorts terms (``b + w*x - y``), distributes a number over a sum
(``2*(a + b)`` becomes ``2*a + 2*b``) and rewrites functions. A worksheet must keep the
terms in the order they were typed and the factors in the order the chain rule produced
them, so every expression shown to a reader is built here, unevaluated, by a few tidy
operations:

* ``product(a, b, …)``: numbers multiplied into one leading coefficient, factors of one
  and nested products flattened, repeated factors merged into powers (x·x = x²); the
  remaining factors keep their order.
* ``total(a, b, …)``: zero terms dropped, like terms merged (x + x = 2x); order kept.
* ``power(u, n)``, ``call(f, u)``: one operation, unevaluated.
* ``substitute(form, {symbol: form})``: the same tidy operations applied while replacing.

``evaluate(form, values)`` is the way back to mathematics: SymPy's evaluated value of a
form at a point (or its canonical expression when the point leaves symbols free).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import sympy
from sympy import Add, Basic, Expr, Mul, Number, Pow, S
from sympy.core.function import Function

from .arith import Real, TooLarge, plus, sign, times
from .arith.real import certified
from .functions import Defined, relu
from .limits import MAX_DIGITS


def as_expr(item: Expr | int) -> Expr:
    """A SymPy expression for an expression or a Python integer (never for text)."""
    return item if isinstance(item, Basic) else sympy.Integer(item)


def is_number(e: Expr) -> bool:
    return isinstance(e, Number)


def coefficient_and_factors(e: Expr) -> tuple[Expr, list[Expr]]:
    """Split a product into its numeric coefficient and its other factors, in order."""
    if is_number(e):
        return e, []
    if not e.is_Mul:
        return S.One, [e]
    coefficient, factors = S.One, []
    for arg in e.args:
        c, f = coefficient_and_factors(arg)
        coefficient *= c
        factors.extend(f)
    return coefficient, factors


def _merge_powers(factors: list[Expr]) -> list[Expr]:
    """x·x → x², x·x⁻¹ → 1, keeping each base where it first appears."""
    bases: list[Expr] = []
    exponents: dict[Expr, Expr] = {}
    for f in factors:
        base, exponent = f.as_base_exp() if f.is_Pow else (f, S.One)
        if base in exponents:
            exponents[base] = exponents[base] + exponent
        else:
            bases.append(base)
            exponents[base] = exponent
    merged = []
    for base in bases:
        exponent = exponents[base]
        if exponent != 0:
            merged.append(power(base, exponent))
    return merged


def product(*items: Expr) -> Expr:
    """The product of ``items`` with one leading coefficient and the factors in order."""
    coefficient, factors = S.One, []
    for item in items:
        c, f = coefficient_and_factors(as_expr(item))
        coefficient *= c
        factors.extend(f)
    if coefficient == 0:
        return S.Zero
    factors = _merge_powers(factors)
    if not factors:
        return coefficient
    if coefficient == 1 and len(factors) == 1:
        return factors[0]
    head = [] if coefficient == 1 else [coefficient]
    return unevaluated(Mul, *head, *factors)


def negate(e: Expr) -> Expr:
    return product(S.NegativeOne, e)


def _terms(e: Expr) -> Iterable[Expr]:
    if e.is_Add:
        for arg in e.args:
            yield from _terms(arg)
    else:
        yield e


def total(*items: Expr) -> Expr:
    """The sum of ``items``: like terms merged, zero terms dropped, the order kept."""
    order: list[tuple[Expr, ...]] = []
    coefficients: dict[tuple[Expr, ...], Expr] = {}
    for item in items:
        for term in _terms(as_expr(item)):
            c, factors = coefficient_and_factors(term)
            key = tuple(factors)
            if key in coefficients:
                coefficients[key] += c
            else:
                order.append(key)
                coefficients[key] = c
    terms = [product(coefficients[key], *key) for key in order if coefficients[key] != 0]
    if not terms:
        return S.Zero
    if len(terms) == 1:
        return terms[0]
    return unevaluated(Add, *terms)


def difference(a: Expr, b: Expr) -> Expr:
    return total(a, negate(b))


def quotient(a: Expr, b: Expr) -> Expr:
    return product(a, power(b, S.NegativeOne))


def power(base: Expr, exponent: Expr) -> Expr:
    """base^exponent, unevaluated unless both are numbers."""
    base, exponent = as_expr(base), as_expr(exponent)
    if exponent == 1:
        return base
    if exponent == 0:
        return S.One
    if is_number(base) and is_number(exponent):
        return exact_power(base, exponent)
    if base.is_Pow and is_number(exponent) and exponent.is_integer:
        inner_base, inner_exponent = base.as_base_exp()
        return power(inner_base, inner_exponent * exponent)
    return unevaluated(Pow, base, exponent)


def call(function, *args: Expr) -> Expr:
    """function(args), unevaluated: sin(−x) stays sin(−x).

    Built as SymPy's ``function(*args, evaluate=False)`` builds it, but without making its set
    of argument counts (``nargs``, the same for every call of a function) anew each time: that
    was half the cost of the function nodes of a 5,000-node trace."""
    counts = _ARGUMENT_COUNTS.get(function)
    if counts is None or not all(isinstance(a, Basic) for a in args):
        made = function(*args, evaluate=False)
        if isinstance(function, type) and function.__new__ in _PLAIN_NEW:  # not Max's own
            _ARGUMENT_COUNTS[function] = made.nargs
        return made
    node = Basic.__new__(function, *args)
    node.nargs = counts
    return node


def unevaluated(kind, *args: Expr) -> Expr:
    """``kind(*args, evaluate=False)``; a sum, a product or a power built as SymPy builds it, but
    past its cache: a long trace makes more forms than the thousand it keeps, so that every
    lookup only hashed the arguments."""
    if kind is Add or kind is Mul:
        return kind._from_args(args)
    if kind is Pow:
        node = Expr.__new__(Pow, *args)
        node.is_commutative = args[0].is_commutative and args[1].is_commutative
        return node
    return kind(*args, evaluate=False)


_ARGUMENT_COUNTS: dict[type, Basic] = {}
"""A SymPy function's ``nargs`` (Function.__new__ computes it from the class alone)."""

_PLAIN_NEW = (Function.__new__, getattr(sympy.core.function, "DefinedFunction", Function).__new__)
"""The constructors that build a function node as ``call`` does: Function's, and (SymPy 1.14 on)
DefinedFunction's, which sin, exp and tanh inherit."""


def substitute(form: Expr, mapping: Mapping[Basic, Expr]) -> Expr:
    """``form`` with each symbol of ``mapping`` replaced, rebuilt by the tidy operations (a
    part without any of those symbols is kept as it stands)."""
    return _substituted(form, mapping)[0]


def _substituted(form: Expr, mapping: Mapping[Basic, Expr]) -> tuple[Expr, bool]:
    """(``substitute``, whether a symbol of ``mapping`` was found): one walk, where asking each
    part for its free symbols would walk it again at every level."""
    if form in mapping:
        return mapping[form], True
    if not form.args:
        return form, False
    parts = [_substituted(a, mapping) for a in form.args]
    if not any(found for _, found in parts):
        return form, False
    return rebuild(form, [part for part, _ in parts]), True


def put_in(form: Expr, values: Mapping[Basic, Expr]) -> Expr:
    """``form`` with ``values`` put in for its symbols, each operation kept as it stands (not
    tidied, not evaluated): a recipe, whose value alone matters."""
    if form in values:
        return values[form]
    if not form.args:
        return form
    args = [put_in(a, values) for a in form.args]
    if isinstance(form, Function):
        return call(form.func, *args)
    return unevaluated(form.func, *args)


def rebuild(form: Expr, args: list[Expr]) -> Expr:
    """``form``'s operation applied to new ``args``, unevaluated and tidy."""
    if form.is_Mul:
        return product(*args)
    if form.is_Add:
        return total(*args)
    if form.is_Pow:
        return power(*args)
    if isinstance(form, sympy.Function):
        return call(form.func, *args)
    return form.func(*args)


def fits(form: Expr, max_size: int, max_depth: int) -> bool:
    """Has ``form`` at most ``max_size`` nodes, nested at most ``max_depth`` deep?

    Iterative, and it stops as soon as either bound is passed.
    """
    count, stack = 0, [(form, 1)]
    while stack:
        item, depth = stack.pop()
        count += 1
        if count > max_size or depth > max_depth:
            return False
        stack.extend((arg, depth + 1) for arg in item.args)
    return True


def evaluate(form: Expr, values: Mapping[Basic, Expr] | None = None) -> Expr:
    """SymPy's evaluated value of ``form`` with ``values`` put in for its symbols.

    Exact integer and rational powers are estimated before they are computed, so that
    ``9**9**9`` is refused instead of filling the memory.
    """
    values = values or {}
    if form in values:
        return values[form]
    if not form.args:
        return form
    args = [evaluate(a, values) for a in form.args]
    if form.is_Pow:
        return exact_power(*args)
    if form.is_Mul:
        return times(*args) if len(args) == 2 else Mul(*args)
    if form.is_Add:
        return plus(*args) if len(args) == 2 else Add(*args)
    if form.func in KINKS and all(a.is_number for a in args):
        return KINKS[form.func](*args)
    if isinstance(form, Defined) and form.operation.kinked and all(a.is_number for a in args):
        return form.operation.branch(sign(args[0]), *args)
    if any(isinstance(a, Real) for a in args):
        return call(form.func, *args)  # sin of a carried number: nothing to simplify
    try:
        return form.func(*args)
    except (ArithmeticError, TypeError):  # SymPy could not decide a sign (of ln σ(200) < 0): the
        return call(form.func, *args)  # function as it stands, which settle certifies or refuses


# Functions with a kink take their branch from the sign of an argument. SymPy decides that
# sign by proof, and cannot for many exact closed forms (1/(e − 2) − 1); here the sign is
# certified in ball arithmetic instead (``arith.sign``: Undecidable where no precision can tell).

def _heaviside(z, at_zero=S.Half):
    return {1: S.One, 0: at_zero, -1: S.Zero}[sign(z)]


def _max(a, b):
    return b if sign(b - a) > 0 else a


def _min(a, b):
    return b if sign(b - a) < 0 else a


KINKS = {
    sympy.Heaviside: _heaviside,
    sympy.sign: lambda z: sympy.Integer(sign(z)),
    sympy.Abs: lambda z: z if sign(z) >= 0 else -z,
    sympy.Max: _max,
    sympy.Min: _min,
    relu: lambda z: z if sign(z) > 0 else S.Zero,
}


MAX_ROOT = 64
"""The largest root SymPy is left to take exactly (x^(p/q), q ≤ MAX_ROOT); a larger one (an
exponent moved by a central difference's tiny step) is a carried number, computed in balls."""


def exact_power(base: Expr, exponent: Expr) -> Expr:
    """base**exponent; TooLarge when the exact result would exceed MAX_DIGITS digits."""
    if base.is_number and exponent.is_Rational and exponent.q > MAX_ROOT and not base.is_zero:
        # SymPy would take 54^((3·2⁶⁰ + 1)/2⁶¹) apart into 2^(2⁶⁰ + 1)·…: computed in balls instead
        power_of = Pow(base, exponent, evaluate=False)
        return Real.of(power_of, *certified(power_of))
    if base.is_Rational and exponent.is_Rational and not base.is_zero:
        digits = abs(float(exponent)) * max(_digits(base.p), _digits(base.q))
        if digits > MAX_DIGITS:
            size = f"about {digits:,.0f}" if math.isfinite(digits) else f"far more than {MAX_DIGITS:,}"
            raise TooLarge(f"a number of {size} digits (the limit is {MAX_DIGITS:,})")
    elif base.is_number and exponent.is_number and not (base.is_Rational or base.is_Float):
        if abs(float(exponent)) > 64 and not isinstance(base, Real):  # √2^(10⁹) would be 2^(5·10⁸)
            base = Real.of(base, *certified(base))
    return Pow(base, exponent)


def _digits(n: int) -> float:
    """log10 |n|: the number of digits of n, near enough."""
    n = abs(n)
    return math.log10(n) if 0 < n.bit_length() < 1000 else n.bit_length() * 0.30103
