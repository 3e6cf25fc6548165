"""The notation of the autodiff literature's evaluation traces, as SymPy atoms.

Forward mode writes a node's tangent with a dot, v̇ (Griewank's and Baydin et al.'s
notation: v̇ = ∂v/∂x for the variable x of the column), and reverse mode its adjoint with a
bar, v̄ = ∂L/∂v; a fan-out is a running update, v̄ ← v̄ + v̄ᵢ·∂vᵢ/∂v. These atoms take part
in forms (``product``, ``total``, ``substitute``) like any symbol and print themselves:
LaTeX ``\\dot{v}_{3}`` for Markdown and .tex, Unicode ``v̇3`` on the terminal, and
``dot(v3)``/``bar(v3)`` as SymPy strings (JSON); Typst ``dot(v)_3``, ``overline(v)_3``, ``<-``
through the printer's ``_typst`` hook.
"""

from __future__ import annotations

from sympy import AtomicExpr, Expr, Symbol
from sympy.printing.pretty.pretty_symbology import greek_unicode

COMBINING_DOT = "\u0307"
COMBINING_BAR = "\u0304"


def _plain(name: str) -> Symbol:
    return Symbol(name, real=True)


def _is_terminal(printer) -> bool:
    """The worksheet's Unicode printer (not SymPy's plain string printer, which JSON uses)."""
    from .notation import TextNotation

    return isinstance(printer, TextNotation)


def _accented_latex(printer, name: str, accent: str) -> str:
    text = printer._print(_plain(name))
    head, sep, rest = text.partition("_")
    if sep and head:
        return r"\%s{%s}_%s" % (accent, head, rest)
    return r"\%s{%s}" % (accent, text)


def _accented_text(name: str, mark: str) -> str:
    text = greek_unicode.get(name, name)
    return text[:1] + mark + text[1:]


class Accented(Symbol):
    """A node's name with an accent: a symbol of its own, never equal to the plain name."""

    accent = ""  # the LaTeX accent command
    mark = ""  # the Unicode combining character
    function = ""  # the name in SymPy strings

    def __new__(cls, name: str):
        return Symbol.__new__(cls, name, real=True)

    def _latex(self, printer, **kwargs):
        return _accented_latex(printer, self.name, self.accent)

    def _typst(self, printer, **kwargs):
        return printer.accented(self.name, self.typst)

    def _sympystr(self, printer, **kwargs):
        if _is_terminal(printer):
            return _accented_text(self.name, self.mark)
        return f"{self.function}({self.name})"


class Dot(Accented):
    """v̇: the tangent of node v, ∂v/∂x for the variable x whose column it is in."""

    accent, mark, function = "dot", COMBINING_DOT, "dot"
    typst = "dot"


class Bar(Accented):
    """v̄: the adjoint of node v, ∂L/∂v."""

    accent, mark, function = "bar", COMBINING_BAR, "bar"
    typst = "overline"


class PartialOf(AtomicExpr):
    """∂of/∂wrt inside a form (the document's ``Partial`` term cannot stand inside one)."""

    is_commutative = True

    def __new__(cls, of: str, wrt: str):
        obj = AtomicExpr.__new__(cls)
        obj.of, obj.wrt = of, wrt
        return obj

    def _hashable_content(self):
        return (self.of, self.wrt)

    def _latex(self, printer, **kwargs):
        return r"\frac{\partial %s}{\partial %s}" % (printer._print(_plain(self.of)), printer._print(_plain(self.wrt)))

    def _typst(self, printer, **kwargs):
        return printer.partial(printer.name(self.of), printer.name(self.wrt))

    def _sympystr(self, printer, **kwargs):
        of, wrt = (greek_unicode.get(n, n) for n in (self.of, self.wrt))
        if _is_terminal(printer):
            return f"∂{of}/∂{wrt}"
        return f"Derivative({self.of}, {self.wrt})"


class Update(AtomicExpr):
    """``target ← value``: a running update of an adjoint (the fan-out of reverse mode)."""

    is_commutative = True

    def __new__(cls, target: Expr, value: Expr):
        obj = AtomicExpr.__new__(cls)
        obj.target, obj.value = target, value
        return obj

    def _hashable_content(self):
        return (self.target, self.value)

    def _latex(self, printer, **kwargs):
        return r"%s \leftarrow %s" % (printer._print(self.target), printer._print(self.value))

    def _typst(self, printer, **kwargs):
        return "%s <- %s" % (printer._print(self.target), printer._print(self.value))

    def _sympystr(self, printer, **kwargs):
        arrow = " ← " if _is_terminal(printer) else " <- "
        return printer._print(self.target) + arrow + printer._print(self.value)


class Ratio(AtomicExpr):
    """top / bottom as a fraction bar, without the parentheses a product would put around a sum."""

    is_commutative = True

    def __new__(cls, top: Expr, bottom: Expr):
        obj = AtomicExpr.__new__(cls)
        obj.top, obj.bottom = top, bottom
        return obj

    def _hashable_content(self):
        return (self.top, self.bottom)

    def _latex(self, printer, **kwargs):
        return r"\frac{%s}{%s}" % (printer._print(self.top), printer._print(self.bottom))

    def _typst(self, printer, **kwargs):
        return "frac(%s, %s)" % (printer._print(self.top), printer._print(self.bottom))

    def _sympystr(self, printer, **kwargs):
        top, bottom = printer._print(self.top), printer._print(self.bottom)
        if self.top.is_Add:
            top = f"({top})"
        if self.bottom.is_Add or self.bottom.is_Mul:
            bottom = f"({bottom})"
        return f"{top}/{bottom}"
