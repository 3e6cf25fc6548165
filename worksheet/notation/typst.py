"""Typst math, for .typ and .pdf: frac(a, b), op("relu"), mat(…); names and strings always data."""

from __future__ import annotations

from ..terms import Shown
from ..lang.versions import unversioned
from .matrices import entries
from .base import _OneLine, is_exact_number


TYPST_GREEK = frozenset(
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma "
    "tau upsilon phi chi psi omega".split()
) | frozenset(
    "Alpha Beta Gamma Delta Epsilon Zeta Eta Theta Iota Kappa Lambda Mu Nu Xi Omicron Pi Rho Sigma "
    "Tau Upsilon Phi Chi Psi Omega".split()
)
TYPST_SYMBOLS = {"sigma": "sigma", "H": "H", "normal_cdf": "Phi", "normal_pdf": "phi"}  # written as symbols
TYPST_OPERATORS = frozenset("sin cos tan sinh cosh tanh exp ln max min".split())  # Typst's own
TYPST_ENTRY = {"−": "-", "⋯": "dots.c", "⋮": "dots.v", "⋱": "dots.down"}


def typst_string(text: str) -> str:
    """A Typst string literal of ``text``: nothing in it is ever read as markup or code."""
    out = []
    for ch in text:
        if ch in '\\"':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif not ch.isprintable():
            out.append("\\u{%x}" % ord(ch))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _typst_piece(piece: str) -> str:
    """One part of a name: a letter as it is, a Greek letter by name, digits; else quoted text."""
    if piece == "lamda":
        piece = "lambda"
    if piece in TYPST_GREEK or piece.isdigit() and piece.isascii():
        return piece
    if len(piece) == 1 and piece.isascii() and piece.isalpha():
        return piece
    return typst_string(piece)


def typst_name(name: str) -> str:
    """A node's name in Typst math, safely: x, lambda, v_1, W_1, y_"pred", "loss" (never code)."""
    from sympy.printing.conventions import split_super_sub

    if not name or not all(ch.isascii() and (ch.isalnum() or ch == "_") for ch in name):
        return typst_string(name)
    head, supers, subs = split_super_sub(name)
    if not head or any(not p for p in (*supers, *subs)):
        return typst_string(name)
    text = _typst_piece(head)
    for mark, parts in (("_", subs), ("^", supers)):
        if parts:
            pieces = [_typst_piece(p) for p in parts]
            text += mark + (pieces[0] if len(pieces) == 1 else "(" + " ".join(pieces) + ")")
    return text


def typst_entry(text: str) -> str:
    """A matrix entry as ``entries`` writes it (−1.5, 1/6, 2.5e-07, ⋯) in Typst math."""
    text = TYPST_ENTRY.get(text, text).replace("−", "-")
    if "e" in text and not text.startswith("dots"):
        mantissa, exponent = text.split("e")
        return f"{mantissa} times 10^({int(exponent)})"
    return text


def _unwrapped(text: str) -> str:
    """``text`` without one pair of parentheses around all of it: (1 + abs(w)) → 1 + abs(w)."""
    if not (text.startswith("(") and text.endswith(")")):
        return text
    depth, quoted = 0, False
    for i, ch in enumerate(text):
        if ch == '"' and (i == 0 or text[i - 1] != "\\"):
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
            if depth == 0 and i != len(text) - 1:
                return text  # (a)(b): the first pair closes early
    return text[1:-1]


class TypstNotation(_OneLine):
    """Typst math, for .typ and PDF: frac(partial L, partial w), sigma(z) (1 - sigma(z)), W_1^top."""

    printmethod = "_typst"  # the accents' atoms (v̇, v̄, ←) print themselves through _typst
    minus = "-"
    times = " dot.op "
    chain_times = " dot.op "
    approx = " approx "
    line_break = " \\\n  "  # Typst's line break in math

    def blank(self, number: int, filled: str | None) -> str:
        """The template's numbered box to write in, or (in a key) the box with its value written
        in: ``#blank(3);`` (";" ends the code, so a "(" after it is math again)."""
        if filled is None:
            return f"#blank({number});"
        return f"#blank({number}, value: ${filled}$);"

    def filled_tensor(self, value) -> str:
        """A key's vector or matrix, at full size in its box (inline math would shrink it)."""
        return f"display({super().filled_tensor(value)})"

    def fraction(self, top: str, bottom: str, numerator, denominator) -> str:
        """frac(a, b): a lone factor in parentheses loses them, as the bar groups it already."""
        if len(numerator) == 1:
            top = _unwrapped(top)
        if len(denominator) == 1:
            bottom = _unwrapped(bottom)
        return f"frac({top}, {bottom})"

    def sqrt(self, text: str, base) -> str:
        return f"sqrt({text})"

    def raise_to(self, base, exponent) -> str:
        text = self._print(base)
        plain = base.is_Symbol or base.is_Function or base.is_NumberSymbol or (base.is_Integer and base >= 0)
        if not (plain or isinstance(base, Shown)) or self._needs_group(base) or "^" in text:
            text = f"({text})"
        if exponent.is_Integer and exponent >= 0 and is_exact_number(exponent):
            return f"{text}^{exponent}"
        return f"{text}^({self._print(exponent)})"

    def call(self, name: str, args) -> str:
        return self.apply(name, [self._print(a) for a in args])

    def name(self, name: str) -> str:
        return typst_name(name)

    def accented(self, name: str, accent: str) -> str:
        """dot(v)_3, overline(v)_3: the accent on the name's head, its subscript outside."""
        text = typst_name(name)
        head, sep, rest = text.partition("_")
        if sep and head and not head.startswith('"'):
            return f"{accent}({head})_{rest}"
        return f"{accent}({text})"

    def _print_Symbol(self, expr):
        """A node's name; a version with primes, c″ → c'' (c⁽⁴⁾ → c^((4)))."""
        base, version = unversioned(expr.name)
        if not version:
            return typst_name(expr.name)
        return typst_name(base) + ("'" * version if version < 4 else f"^(({version}))")

    def _print_Function(self, expr):
        return self.call(expr.func.__name__, expr.args)

    def _print_log(self, expr):
        return self.call("ln", expr.args)

    def _print_exp(self, expr):
        """e^(v_1), as the LaTeX reads: the parentheses only group the exponent."""
        return f"e^({self._print(expr.args[0])})"

    def _print_sigmoid(self, expr):
        return self.call("sigma", expr.args)

    def _print_Abs(self, expr):
        return f"abs({self._print(expr.args[0])})"

    def _print_Pi(self, expr):
        return "pi"

    def _print_Shown(self, expr):
        return self.number(expr.value)

    def scientific(self, mantissa: str, exponent: int) -> str:
        return f"{mantissa} times 10^({exponent})"

    def partial(self, of: str, wrt: str) -> str:
        return f"frac(partial {of}, partial {wrt})"

    def used(self, partial: str, label: str) -> str:
        return f'{partial} thin "({label})"'

    # ── matrices ──
    juxtaposed = " thin "
    odot = " dot.o "
    ones = "bb(1)"

    def transpose(self, text: str) -> str:
        if "^" in text and not (text.startswith("(") and text.endswith(")")):
            text = f"({text})"
        return f"{text}^top"

    def subscript(self, of: str, index: str) -> str:
        return f"{of}[{index}]"

    def scatter(self, arg: str, at: str) -> str:
        return f'({arg} " at " {at} ", 0 elsewhere")'

    def sum_over(self, label: str, text: str) -> str:
        if label == "all":
            return f'op("sum")({text})'
        return f"sum_{typst_string(label)} ({text})"

    def apply(self, name: str, args: list[str]) -> str:
        if name == "sumsq":
            return f"norm({args[0]})^2"
        name = TYPST_SYMBOLS.get(name, name)
        if name in TYPST_OPERATORS or name in TYPST_SYMBOLS.values():
            head = name
        else:
            head = f"op({typst_string(name)})"
        return f"{head}({', '.join(args)})"

    def tensor(self, value) -> str:
        rows = entries(value, self.digits, latex=False)
        body = "; ".join(", ".join(typst_entry(x) for x in row) for row in rows)
        return f'mat(delim: "[", align: #right, {body})'

    def space(self, shape) -> str:
        if not shape:
            return "RR"
        return "RR^(%s)" % " times ".join(map(str, shape))
