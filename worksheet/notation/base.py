"""What every notation shares: forms printed as they were built (the terms of a sum, the factors of
a product in their stored order), numbers rounded for display (certified digits, exact where
short), and the document's terms (∂L/∂v, chains, ⊙, transposes, matrices, blanks)."""

from __future__ import annotations

import mpmath
from sympy import Expr, Float, Number as SymNumber, Rational, S
from sympy.printing.str import StrPrinter

from ..arith import decimal_text, sign
from ..terms import (
    Blank, Call, Chain, Difference, Equation, Form, Hadamard, MatProduct, Number, Ones, Partial, Rounded, Shown,
    Scatter, Space, Subscript, Sum, SumOver, Tensor, Transpose,
)
from .matrices import is_rounded_tensor, terminating
from ..forms import coefficient_and_factors, power, product
from ..lang.graph import symbol

MAX_EXACT_CHARS = 16  # a rational longer than this is shown rounded
NUMBERS = ("exact", "terminating", "decimal")
"""How a rational value is written: exact (1/2, 3/16), terminating (0.5 and 0.1875 where the
decimal ends within the digits shown, 1/3 stays a fraction) or decimal (0.5, and 1/3 ≈ 0.333333).
``--numbers auto`` is terminating for inputs written with a decimal point, else exact."""
SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def split_sign(term: Expr) -> tuple[bool, Expr]:
    """(is it negative, its magnitude) for a term of a sum, without evaluating it."""
    if isinstance(term, SymNumber) and term.is_negative:
        return True, -term
    if term.is_Mul:
        coefficient, factors = coefficient_and_factors(term)
        if coefficient.is_negative:
            return True, product(-coefficient, *factors)
    return False, term


class _Notation:
    """The rules both notations share; the format's tokens come from the subclass."""

    minus = "-"
    times = " \\cdot "
    chain_times = " \\cdot "
    approx = " \\approx "

    def __init__(self, digits: int = 6, numbers: str = "exact", **settings):
        super().__init__(settings)
        if numbers not in NUMBERS:
            raise ValueError(f"unknown numbers {numbers!r} (numbers: {', '.join(NUMBERS)})")
        self.digits, self.numbers = digits, numbers
        self._decimals: dict[Expr, str] = {}  # value → its rounded text, each value worked out once
        self._partials: dict[Partial, str] = {}  # ∂v/∂u → its text
        self._forms: dict[int, tuple[Expr, str]] = {}  # id → (the form, kept so its id is its own; text)
        self._rounded_forms: dict[int, tuple[Expr, bool]] = {}  # id → (the form; does it show a rounded number?)

    def decimal(self, value: Expr) -> str | None:
        """A non-integer rational as its exact decimal, where ``numbers`` asks for one and it ends
        within ``digits`` significant digits (0.5, −0.1875); None to write it otherwise."""
        if self.numbers == "exact" or not value.is_Rational or value.is_Integer:
            return None
        return terminating(int(value.p), int(value.q), self.digits)

    def is_exact(self, value: Expr) -> bool:
        """Is this number shown exactly (=), not rounded (≈)? In decimal, 1/3 is rounded."""
        if not is_exact_number(value):
            return False
        return self.numbers != "decimal" or value.is_Integer or self.decimal(value) is not None

    # ── forms ──
    def _print_Add(self, expr, order=None):
        out = []
        for i, term in enumerate(expr.args):
            negative, magnitude = split_sign(term)
            text = self._print(magnitude)
            if magnitude.is_Add or (isinstance(magnitude, Shown) and value_is_negative(magnitude.value)):
                text = self.paren(text)
            if i == 0:
                out.append(f"{self.minus}{text}" if negative else text)
            else:
                out.append(f" {self.minus} {text}" if negative else f" + {text}")
        return "".join(out)

    def _print_Mul(self, expr):
        coefficient, factors = coefficient_and_factors(expr)
        if coefficient.is_negative:
            return self.minus + self._product(-coefficient, factors)
        return self._product(coefficient, factors)

    def _product(self, coefficient: Expr, factors: list[Expr]) -> str:
        numerator, denominator = [], []
        if coefficient.is_Rational and not coefficient.is_Integer and self.decimal(coefficient) is not None:
            numerator.append(coefficient)  # 0.5·x, as written, where decimals are shown
        elif coefficient.is_Rational:
            if coefficient.p != 1:
                numerator.append(Rational(coefficient.p))
            if coefficient.q != 1:
                denominator.append(Rational(coefficient.q))
        elif coefficient != 1:
            numerator.append(coefficient)
        for f in factors:
            if f.is_Pow and f.exp.is_Number and f.exp.is_negative:
                denominator.append(power(f.base, -f.exp))
            else:
                numerator.append(f)
        top = self._factors(numerator) if numerator else "1"
        if not denominator:
            return top
        return self.fraction(top, self._factors(denominator), numerator, denominator)

    def _factors(self, factors: list[Expr]) -> str:
        out = ""
        for i, f in enumerate(factors):
            text = self._print(f)
            grouped = self._needs_group(f)
            if grouped:
                text = self.paren(text)
            if i == 0:
                out = text
            elif text[:1].isdigit() or isinstance(f, Shown):
                out += self.times + text
            elif isinstance(factors[i - 1], SymNumber) or grouped:
                out += self.juxtapose(out, text)
            else:
                out += self.times + text
        return out

    def juxtapose(self, before: str, after: str) -> str:
        return " " + after

    def _print_Pow(self, expr, rational=False):
        base, exponent = expr.args
        if exponent.is_Number and exponent.is_negative:
            return self.fraction("1", self._print(power(base, -exponent)), [S.One], [base])
        if exponent == S.Half:
            return self.sqrt(self._print(base), base)
        return self.raise_to(base, exponent)

    def _print_Max(self, expr, exp=None):
        return self._powered(self.call("max", expr.args), exp)

    def _print_Min(self, expr, exp=None):
        return self._powered(self.call("min", expr.args), exp)

    @staticmethod
    def _powered(text: str, exp: str | None) -> str:
        """``text`` raised to ``exp``: LaTeX's power of a function call passes its exponent."""
        return text if exp is None else "%s^{%s}" % (text, exp)

    def _print_Heaviside(self, expr, exp=None):
        z, at_zero = expr.args if len(expr.args) == 2 else (expr.args[0], S.Half)
        if at_zero == 0:
            negative_part = None
            if z.is_Add and len(z.args) == 2:
                negative, magnitude = split_sign(z.args[1])
                if negative:
                    negative_part = magnitude
            if negative_part is not None:
                return self.bracket(f"{self._print(z.args[0])} > {self._print(negative_part)}")
            return self.bracket(f"{self._print(z)} > 0")
        return self.call("H", (z,))

    def _print_Shown(self, expr):
        """A value in place of a symbol (bare: as an argument it needs no parentheses)."""
        return self.number(expr.value)

    def _needs_group(self, f: Expr) -> bool:
        """Must this factor, term or base be put in parentheses?"""
        if f.is_Add or (isinstance(f, SymNumber) and f.is_negative):
            return True
        if isinstance(f, Shown):
            return not (f.value.is_Integer and f.value >= 0)
        return False

    # ── numbers ──
    def _print_Rational(self, expr):
        if not self.is_exact(expr):
            return self.rounded(expr)
        if (decimal := self.decimal(expr)) is not None:
            return decimal.replace("-", self.minus, 1)
        if expr.q == 1:
            return self._print_Integer(expr)
        sign = self.minus if expr.p < 0 else ""
        return sign + self.fraction(str(abs(expr.p)), str(expr.q), [], [])

    def _print_Integer(self, expr):
        if not is_exact_number(expr):
            return self.rounded(expr)
        return (self.minus + str(-expr.p)) if expr.p < 0 else str(expr.p)

    def _print_Float(self, expr):
        return self.rounded(expr)

    def _print_Real(self, expr):
        return self.rounded(expr)

    def rounded(self, value: Expr) -> str:
        """``value`` to ``digits`` significant digits, each one certified (``arith``); each value
        once, as a carried number recurs (a node's value, then the upstream gradient of its steps)."""
        if value not in self._decimals:
            self._decimals[value] = self._rounded(value)
        return self._decimals[value]

    def _rounded(self, value: Expr) -> str:
        text = decimal_text(value, self.digits, strip_zeros=True, min_fixed=-4, max_fixed=7)
        if "e" in text:
            mantissa, exponent = text.split("e")
            text = self.scientific(mantissa, int(exponent))
        return text.replace("-", self.minus, 1) if text.startswith("-") else text

    # ── document terms ──
    inline_math = "${}$"  # how math sits in running text

    def math(self, item) -> str:
        """An equation or a term of a document."""
        return self.equation(item) if isinstance(item, Equation) else self.term(item)

    def inline(self, parts, escape) -> str:
        """Running text: ``parts`` are strings (``escape``d for the output language) and math."""
        return "".join(escape(p) if isinstance(p, str) else self.inline_math.format(self.math(p)) for p in parts)

    def term(self, t) -> str:
        if isinstance(t, Form):  # the same form recurs (a node's definition: in the table, over its steps)
            known = self._forms.get(id(t.expr))  # by identity: equal forms may be written differently
            if known is None:
                known = self._forms[id(t.expr)] = (t.expr, self._print(t.expr))
            return known[1]
        if isinstance(t, Number):
            return self.number(t.value)
        if isinstance(t, Partial):
            if t not in self._partials:  # ∂L/∂v recurs on every line that names it
                text = self.partial(self._differentiated(t.of), self._print(symbol(t.wrt)))
                self._partials[t] = text if t.use is None else self.used(text, use_label(t.use))
            return self._partials[t]
        if isinstance(t, Chain):
            if len(t.factors) == 2 and t.factors[0] == Number(S.NegativeOne) and not isinstance(
                t.factors[1], (Form, Number)
            ):
                return self.minus + self._grouped(t.factors[1])  # −∂L/∂v, not (−1) · ∂L/∂v
            last = len(t.factors) - 1
            return self.chain_times.join(self._grouped(f, before=i < last) for i, f in enumerate(t.factors))
        if isinstance(t, Sum):
            out = ""
            for i, item in enumerate(t.terms):
                text = self._grouped(item) if i else self.term(item)
                out += text if i == 0 else " + " + text
            return out
        if isinstance(t, Equation):
            return self.equation(t)
        if isinstance(t, Blank):
            if t.value is None:
                return self.blank(t.number, None)
            filled = self.filled_tensor(t.value) if getattr(t.value, "shape", ()) else self.number(t.value)
            return self.blank(t.number, filled)  # a key: the value (a number, or a whole matrix) in the gap
        return self.matrix_term(t)

    def _differentiated(self, of) -> str:
        """L, σ(z), or (v₁ + a) in parentheses: what a ∂ applies to."""
        if isinstance(of, str):
            return self._print(symbol(of))
        text = self._print(of)
        return text if of.is_Symbol or of.is_Function else self.paren(text)

    def filled_tensor(self, value) -> str:
        """A vector or matrix written in a key's blank: as a matrix where math typesets it."""
        return self.term(Tensor(value))

    def blank(self, number: int, filled: str | None) -> str:
        """A numbered gap, or (in a key) its value under the same number."""
        if filled is None:
            return rf"\underline{{\qquad\qquad}}_{{({number})}}"
        return rf"\underline{{\,{filled}\,}}_{{({number})}}"

    # ── matrix-form terms ──
    def matrix_term(self, t) -> str:
        if isinstance(t, Transpose):
            return self.transpose(self._operand(t.arg, self.transpose_groups))
        if isinstance(t, MatProduct):
            return self.juxtaposed.join(self._operand(f, self.product_groups) for f in t.factors)
        if isinstance(t, Hadamard):
            return self.odot.join(self._operand(f, self.hadamard_groups) for f in t.factors)
        if isinstance(t, Difference):
            right = self._operand(t.right, (Sum, Difference))
            return f"{self.term(t.left)} {self.minus} {right}"
        if isinstance(t, Ones):
            return self.ones
        if isinstance(t, SumOver):
            return self.sum_over(t.label, self.term(t.arg))
        if isinstance(t, Call):
            return self.apply(t.name, [self.term(a) for a in t.args])
        if isinstance(t, Subscript):
            return self.subscript(self._operand(t.of, self.transpose_groups), t.index.replace("-", self.minus))
        if isinstance(t, Scatter):
            return self.scatter(self.term(t.arg), self.term(t.at))
        if isinstance(t, Tensor):
            return self.tensor(t.value)
        if isinstance(t, Space):
            return self.space(t.shape)
        raise TypeError(f"not a term: {t!r}")

    def subscript(self, of: str, index: str) -> str:
        """x[0], W[:, 0]: elements picked by an index."""
        return "%s[%s]" % (of, index.replace(":", "{:}"))

    def scatter(self, arg: str, at: str) -> str:
        """What indexing sends back: ``arg`` at those elements, zeros elsewhere."""
        return r"\left(%s \text{ at } %s\text{, 0 elsewhere}\right)" % (arg, at)

    transpose_groups: tuple = (Partial, Chain, Sum, Difference, Hadamard, MatProduct, Transpose)
    product_groups: tuple = (Chain, Sum, Difference, Hadamard)
    hadamard_groups: tuple = (Chain, Sum, Difference)

    def _operand(self, t, groups: tuple) -> str:
        """A factor of a matrix product, ⊙ or ᵀ: in parentheses when it is compound."""
        text = self.term(t)
        compound = isinstance(t, groups) or (
            isinstance(t, Form) and (t.expr.is_Add or split_sign(t.expr)[0] or (t.expr.is_Mul and Transpose in groups))
        )
        return self.paren(text) if compound else text

    def number(self, value: Expr) -> str:
        if isinstance(value, Rounded):  # rounded already, to the decimals it keeps
            return value.text.replace("-", self.minus, 1)
        return self._print(value) if self.is_exact(value) else self.rounded(value)

    def used(self, partial: str, label: str) -> str:
        """∂v₂/∂w with the use it differentiates along: ∂v₂/∂w (first use)."""
        return rf"{partial}\,\text{{({label})}}"

    def _grouped(self, t, before: bool = False) -> str:
        """A factor or later term, in parentheses where it needs them: a negative number, a sum,
        and a fraction a/b ``before`` another factor (1/2 · x, never read as 1/(2x)); the last
        factor needs none, 1 · 1/2."""
        text = self.term(t)
        if isinstance(t, Number) and (value_is_negative(t.value) or before and self.slash_fraction(t.value)):
            return self.paren(text)
        if isinstance(t, Form) and (t.expr.is_Add or split_sign(t.expr)[0]):
            return self.paren(text)
        if isinstance(t, (Sum, Difference, Hadamard)):
            return self.paren(text)
        return text

    def equation(self, eq: Equation) -> str:
        lhs, *rest = self._sides(eq)
        return lhs[1] + "".join((self.approx if rounded else " = ") + text for rounded, text in rest)

    def _sides(self, eq: Equation) -> list[tuple[bool, str]]:
        """Each side as (shown rounded?, text), dropping one that reads as the side before:
        1/x = 1/2, not 1/x = 1/2 = 1/2 (the value put in, then the value)."""
        out: list[tuple[bool, str]] = []
        for side in eq.sides:
            text = self.term(side)
            if not out or text != out[-1][1]:
                out.append((bool(out) and self.rounds(side), text))  # the left-hand side follows no = or ≈
        return out

    def slash_fraction(self, value: Expr) -> bool:
        """Is this number written a/b inline (and so grouped before another factor)?"""
        return False

    line_break = " \\\\\n  "  # ends a line of an aligned display (LaTeX's \\)

    def aligned(self, eq: Equation, wide: bool) -> str:
        """lhs &= a = b … for an aligned display; with ``wide``, one side per line."""
        (_, out), *rest = self._sides(eq)
        for i, (rounded, text) in enumerate(rest):
            joint = " &" if i == 0 else self.line_break + "&" if wide else " "
            out += f"{joint}{self.approx.strip() if rounded else '='} {text}"
        return out

    def rounds(self, side) -> bool:
        """Is ``side`` shown rounded? A double whose digits are all shown (1.8) is not."""
        if isinstance(side, Number) and isinstance(side.value, Rounded):
            return True
        if isinstance(side, Number) and isinstance(side.value, Float):
            shown = mpmath.nstr(mpmath.mpf(float(side.value)), self.digits, min_fixed=-4, max_fixed=7)
            return float(shown) != float(side.value)
        if isinstance(side, Form):  # a form recurs (a node's definition, on each of its steps)
            known = self._rounded_forms.get(id(side.expr))
            if known is None:
                known = self._rounded_forms[id(side.expr)] = (side.expr, is_rounded(side, self.is_exact))
            return known[1]
        return is_rounded(side, self.is_exact)


USES = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")


def use_label(use: int) -> str:
    """Which use of a value a partial follows, in words: first use, second use, … (use 11)."""
    return f"{USES[use - 1]} use" if use <= len(USES) else f"use {use}"


def is_exact_number(value: Expr) -> bool:
    """A rational short enough to show exactly."""
    return value.is_Rational and (value.p.bit_length() + value.q.bit_length()) * 0.30103 <= MAX_EXACT_CHARS


def is_rounded(side, exact=is_exact_number) -> bool:
    """Does this side show a rounded number (so that ≈, not =, comes before it)?"""
    if isinstance(side, Number):
        return not exact(side.value)
    if isinstance(side, Form):
        return any(not exact(s.value) for s in side.expr.atoms(Shown))
    if isinstance(side, (Chain, Sum)):
        return any(is_rounded(t, exact) for t in (side.factors if isinstance(side, Chain) else side.terms))
    if isinstance(side, Tensor):
        return is_rounded_tensor(side.value)
    return False


def value_is_negative(value: Expr) -> bool:
    if value.is_Rational or value.is_Float:
        return bool(value.is_negative)
    return bool(value.is_number) and sign(value) < 0


class _OneLine(_Notation, StrPrinter):
    """What the one-line notations (Unicode text, Typst math) share: parentheses, brackets and
    blanks written out as they are."""

    def __init__(self, digits: int = 6, numbers: str = "exact"):
        super().__init__(digits, numbers, order="none")

    def paren(self, text: str) -> str:
        return f"({text})"

    def bracket(self, text: str) -> str:
        return f"[{text}]"

    def blank(self, number: int, filled: str | None) -> str:
        return self.BLANK.format(n=number) if filled is None else self.FILLED.format(n=number, v=filled)

    def _print_sign(self, expr):
        return self.call("sgn", expr.args)

    def _print_Exp1(self, expr):
        return "e"
