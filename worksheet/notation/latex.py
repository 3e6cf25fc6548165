"""LaTeX math, for .md and .tex: \\frac, \\operatorname, bmatrix."""

from __future__ import annotations

import re

from sympy import Number as SymNumber, Symbol
from sympy.printing.latex import LatexPrinter

from ..lang.versions import unversioned
from .matrices import entries
from .base import _Notation


class LatexNotation(_Notation, LatexPrinter):
    """LaTeX math, for Markdown ($…$) and for .tex documents."""

    def __init__(self, digits: int = 6, numbers: str = "exact"):
        super().__init__(digits, numbers, ln_notation=True, order="none")
        self._symbols: dict = {}
        self._functions: dict[str, str] = {}

    def _print(self, expr, **kwargs) -> str:
        """SymPy's dispatch, but a node name printed before straight from ``_symbols``: names
        are most of what a worksheet prints, and the dispatch costs more than the lookup."""
        if type(expr) is Symbol and not kwargs and expr in self._symbols:
            return self._symbols[expr]
        return super()._print(expr, **kwargs)

    def _print_Symbol(self, expr, style="plain"):
        """Node names recur on every line: print each once (y_pred → y_{pred}); a name's
        version with primes, c″ → c'' (and c⁽⁴⁾ → c^{(4)})."""
        if expr not in self._symbols:
            base, version = unversioned(expr.name)
            if version:
                text = super()._print_Symbol(Symbol(base, real=True), style)
                text += "'" * version if version < 4 else "^{(%d)}" % version
            else:
                text = super()._print_Symbol(expr, style)
            self._symbols[expr] = text
        return self._symbols[expr]

    def paren(self, text: str) -> str:
        return r"\left(%s\right)" % text

    def bracket(self, text: str) -> str:
        return r"\left[%s\right]" % text

    def fraction(self, top: str, bottom: str, numerator, denominator) -> str:
        """\\frac{a + b}{c}: a lone factor in parentheses loses them, as the bar groups it already."""
        if len(numerator) == 1:
            top = _unwrapped(top)
        if len(denominator) == 1:
            bottom = _unwrapped(bottom)
        return r"\frac{%s}{%s}" % (top, bottom)

    def sqrt(self, text: str, base) -> str:
        return r"\sqrt{%s}" % text

    def raise_to(self, base, exponent) -> str:
        if base.is_Function and not base.is_Pow:
            return self._print(base, exp=self._print(exponent))
        text = self._print(base)
        if base.is_Mul or base.is_Pow or self._needs_group(base) or (
            isinstance(base, SymNumber) and not base.is_Integer
        ):
            text = self.paren(text)
        elif base.is_Symbol and "^" in text:
            text = "{%s}" % text
        return r"%s^{%s}" % (text, self._print(exponent))

    def call(self, name: str, args) -> str:
        inner = ", ".join(self._print(a) for a in args)
        if name in ("max", "min"):
            return r"\%s\left(%s\right)" % (name, inner)
        return r"%s\left(%s\right)" % (name, inner)

    def _hprint_Function(self, func: str) -> str:
        """A function's name as one word (bce_with_logits, log_softmax), never a subscript;
        each name worked out once (SymPy looks for sub- and superscripts in it every time)."""
        if func not in self._functions:
            self._functions[func] = (r"\operatorname{%s}" % func.replace("_", r"\_") if "_" in func
                                     else super()._hprint_Function(func))
        return self._functions[func]

    def _print_Abs(self, expr, exp=None):
        tex = r"\left\lvert %s \right\rvert" % self._print(expr.args[0])
        return tex if exp is None else r"%s^{%s}" % (tex, exp)

    def _print_sign(self, expr, exp=None):
        tex = r"\operatorname{sgn}\left(%s\right)" % self._print(expr.args[0])
        return tex if exp is None else r"%s^{%s}" % (tex, exp)

    def scientific(self, mantissa: str, exponent: int) -> str:
        return r"%s \times 10^{%d}" % (mantissa, exponent)

    def partial(self, of: str, wrt: str) -> str:
        return r"\frac{\partial %s}{\partial %s}" % (of, wrt)

    # ── matrices ──
    juxtaposed = r" \, "
    odot = r" \odot "
    ones = r"\mathbf{1}"

    def transpose(self, text: str) -> str:
        return r"%s^{\top}" % (text if not text.endswith("}") or text.startswith(r"\left") else "{%s}" % text)

    def sum_over(self, label: str, text: str) -> str:
        if label == "all":
            return r"\operatorname{sum}\left(%s\right)" % text
        return r"\sum_{\text{%s}} \left(%s\right)" % (label, text)

    def apply(self, name: str, args: list[str]) -> str:
        if name == "sumsq":
            return r"\lVert %s \rVert^{2}" % args[0]
        return r"\operatorname{%s}\left(%s\right)" % (name.replace("_", r"\_"), ", ".join(args))

    def tensor(self, value) -> str:
        rows = entries(value, self.digits, latex=True)
        body = r" \\ ".join(" & ".join(row) for row in rows)
        return r"\begin{bmatrix} %s \end{bmatrix}" % body

    def space(self, shape) -> str:
        if not shape:
            return r"\mathbb{R}"
        return r"\mathbb{R}^{%s}" % r" \times ".join(map(str, shape))


class TexNotation(LatexNotation):
    """LaTeX math for .tex documents (Markdown keeps ``LatexNotation``'s plain blanks): a blank is a
    box, its number in small type inside, as a rule under a fraction reads as a second bar; and
    the lines of one equation are never parted by a page break (``\\\\*``)."""

    line_break = " \\\\*\n  "

    def blank(self, number: int, filled: str | None) -> str:
        """The template's \\blankbox{3} to write in, or a key's \\filledbox{3}{value}."""
        if filled is None:
            return r"\blankbox{%d}" % number
        return r"\filledbox{%d}{%s}" % (number, filled)


def _unwrapped(text: str) -> str:
    r"""``text`` without one \left( … \right) around all of it: \left(a + b\right) → a + b."""
    if not (text.startswith(r"\left(") and text.endswith(r"\right)")):
        return text
    depth = 0
    for match in re.finditer(r"\\(left|right)(?![a-zA-Z])", text):
        depth += 1 if match.group(1) == "left" else -1
        if depth == 0 and match.end() + 1 != len(text):
            return text  # \left(a\right) \left(b\right): two groups, not one
    return text[len(r"\left("):-len(r"\right)")]
