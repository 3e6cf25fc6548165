"""One-line Unicode math for the terminal: 2(y_pred − y)·x, σ(z)(1 − σ(z)); matrices as bracketed columns."""

from __future__ import annotations

from sympy import Expr, S
from sympy.printing.pretty.pretty_symbology import greek_unicode

from ..terms import Equation, Partial, Shown, Tensor
from .matrices import entries
from .base import SUPERSCRIPTS, _Notation, _OneLine, is_exact_number


def side_by_side(blocks: list[list[str]]) -> list[str]:
    """Text blocks joined left to right, each centred on the same middle line."""
    height = max(len(b) for b in blocks)
    middle = (height - 1) // 2
    out = [""] * height
    for block in blocks:
        width = max(len(line) for line in block)
        top = middle - (len(block) - 1) // 2
        for row in range(height):
            k = row - top
            out[row] += (block[k] if 0 <= k < len(block) else "").ljust(width)
    return [line.rstrip() for line in out]


def matrix_lines(value, digits: int) -> list[str]:
    """A vector (as a column) or a matrix between ⎡ ⎤ brackets, columns aligned."""
    rows = entries(value, digits, latex=False)
    widths = [max(len(row[j]) for row in rows) for j in range(len(rows[0]))]
    lines = ["  ".join(x.rjust(w) for x, w in zip(row, widths)) for row in rows]
    if len(lines) == 1:
        return [f"[ {lines[0]} ]"]
    edges = [("⎡", "⎤")] + [("⎢", "⎥")] * (len(lines) - 2) + [("⎣", "⎦")]
    return [f"{a} {line} {b}" for (a, b), line in zip(edges, lines)]


class TextNotation(_OneLine):
    """One-line Unicode math for the terminal: 2(y_pred − y)·x, σ(z)(1 − σ(z))."""

    minus = "−"
    times = "·"
    chain_times = " · "
    approx = " ≈ "
    inline_math = "{}"
    BLANK = "({n})______"
    FILLED = "({n})[{v}]"

    def juxtapose(self, before: str, after: str) -> str:
        return after if after.startswith("(") or before[-1:].isdigit() else self.times + after

    def slash_fraction(self, value: Expr) -> bool:
        return value.is_Rational and not value.is_Integer and is_exact_number(value) and self.decimal(value) is None

    def fraction(self, top: str, bottom: str, numerator, denominator) -> str:
        single = len(denominator) <= 1 and not any(f.is_Mul or f.is_Add for f in denominator)
        return f"{top}/{bottom}" if single else f"{top}/({bottom})"

    def sqrt(self, text: str, base) -> str:
        return f"√{text}" if base.is_Symbol or base.is_Integer else f"√({text})"

    def raise_to(self, base, exponent) -> str:
        if base == S.Exp1 and not exponent.is_Integer:
            return self.call("exp", [exponent])  # exp(x): a caret's exponent would need parentheses
        if isinstance(exponent, Shown) and exponent.value.is_Integer and is_exact_number(exponent.value):
            exponent = exponent.value  # 2^y at y = 3 is 2³, not 2^(3)
        text = self._print(base)
        plain = base.is_Symbol or base.is_Function or base.is_NumberSymbol or (base.is_Integer and base >= 0)
        if not (plain or isinstance(base, Shown)) or self._needs_group(base):
            text = f"({text})"
        if exponent.is_Integer and is_exact_number(exponent):
            return text + str(exponent).translate(SUPERSCRIPTS)
        exp_text = self._print(exponent)
        if not (exponent.is_Symbol or (exponent.is_Integer and exponent >= 0 and is_exact_number(exponent))):
            exp_text = f"({exp_text})"
        return f"{text}^{exp_text}"

    def call(self, name: str, args) -> str:
        return f"{name}({', '.join(self._print(a) for a in args)})"

    def _print_Symbol(self, expr):
        return greek_unicode.get(expr.name, expr.name)  # lambda → λ, as LaTeX shows it

    def _print_Function(self, expr):
        return self.call(expr.func.__name__, expr.args)

    def _print_log(self, expr):
        return self.call("ln", expr.args)

    def _print_exp(self, expr):
        return self.call("exp", expr.args)

    def _print_sigmoid(self, expr):
        return self.call("σ", expr.args)

    def _print_normal_cdf(self, expr):
        return self.call("Φ", expr.args)

    def _print_normal_pdf(self, expr):
        return self.call("φ", expr.args)

    def _print_Abs(self, expr):
        return f"|{self._print(expr.args[0])}|"

    def _print_Pi(self, expr):
        return "π"

    def scientific(self, mantissa: str, exponent: int) -> str:
        return f"{mantissa}e{exponent:+d}"

    def partial(self, of: str, wrt: str) -> str:
        return f"∂{of}/∂{wrt}"

    def used(self, partial: str, label: str) -> str:
        return f"{partial} ({label})"

    # ── matrices ──
    juxtaposed = " "
    odot = " ⊙ "
    ones = "𝟏"
    transpose_groups = _Notation.transpose_groups
    product_groups = _Notation.product_groups + (Partial,)

    def transpose(self, text: str) -> str:
        return text + "ᵀ"

    def sum_over(self, label: str, text: str) -> str:
        return f"sum({text})" if label == "all" else f"Σ_{label}({text})"

    def subscript(self, of: str, index: str) -> str:
        return f"{of}[{index}]"

    def scatter(self, arg: str, at: str) -> str:
        return f"({arg} at {at}, 0 elsewhere)"

    def apply(self, name: str, args: list[str]) -> str:
        if name == "sumsq":
            return f"‖{args[0]}‖²"
        return f"{name}({', '.join(args)})"

    def tensor(self, value) -> str:
        return "\n".join(matrix_lines(value, self.digits))

    def filled_tensor(self, value) -> str:
        """On one line, as nested lists (a blank is inline): [−3, −7], [[1, 2], [3, 4]]."""
        rows = entries(value, self.digits, latex=False)  # (a vector: one column)
        if value.ndim == 1:
            return "[" + ", ".join(row[0] for row in rows) + "]"
        return "[" + ", ".join("[" + ", ".join(row) + "]" for row in rows) + "]"

    def space(self, shape) -> str:
        if not shape:
            return "ℝ"
        return "ℝ" + "ˣ".join(str(n).translate(SUPERSCRIPTS) for n in shape)

    def equation(self, eq: Equation) -> str:
        """One line; or, with a matrix among the sides, the sides set side by side as blocks."""
        if not any(isinstance(side, Tensor) and side.value.ndim for side in eq.sides):
            return super().equation(eq)
        blocks = []
        for i, side in enumerate(eq.sides):
            if i:
                blocks.append([self.approx if self.rounds(side) else " = "])
            blocks.append(self.term(side).split("\n"))
        return "\n".join(side_by_side(blocks))


# ── Typst math ──────────────────────────────────────────────────────────────────────────
