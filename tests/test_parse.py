"""The formula language: what parses, into which tree, and exact numbers."""

import pytest
import sympy

from worksheet.errors import WorksheetError
from worksheet.lang.parse import Apply, ListLit, Num, Var, parse_expression, parse_program


def shape(ast) -> str:
    """A parse tree in prefix notation, for comparisons."""
    if isinstance(ast, ListLit):
        return "[" + ", ".join(shape(a) for a in ast.items) + "]"
    if isinstance(ast, Num):
        return str(ast.exact())
    if isinstance(ast, Var):
        return ast.name
    return f"{ast.op}(" + ", ".join(shape(a) for a in ast.args) + ")"


@pytest.mark.parametrize(
    "text, tree",
    [
        ("(w*x+b-y)**2", "pow(sub(add(mul(w, x), b), y), 2)"),
        ("a+b+c", "add(add(a, b), c)"),
        ("a-b-c", "sub(sub(a, b), c)"),
        ("a/b/c", "div(div(a, b), c)"),
        ("2^3^x", "pow(2, pow(3, x))"),
        ("x^-1", "pow(x, -1)"),
        ("-x^2", "neg(pow(x, 2))"),
        ("-2^2*x", "mul(neg(pow(2, 2)), x)"),
        ("3x^2", "mul(3, pow(x, 2))"),
        ("2(x+1)", "mul(2, add(x, 1))"),
        ("(a+b)(a-b)", "mul(add(a, b), sub(a, b))"),
        ("2(w*x+b-y)x", "mul(mul(2, sub(add(mul(w, x), b), y)), x)"),
        ("2 sin(x)", "mul(2, sin(x))"),
        ("sin(x)(1+x)", "mul(sin(x), add(1, x))"),
        ("x^2 y", "mul(pow(x, 2), y)"),
        ("ln(x) + log(y)", "add(log(x), log(y))"),
        ("max(a, b) - min(a, 0)", "sub(max(a, b), min(a, 0))"),
        ("e^x * pi", "mul(pow(E, x), pi)"),
        ("x − y · z × w", "sub(x, mul(mul(y, z), w))"),
        ("3x²", "mul(3, pow(x, 2))"),
        ("+x", "x"),
        # typeset input, as the worksheets print it
        ("λ*w^2", "mul(lambda, pow(w, 2))"),
        ("2λw", "mul(mul(2, lambda), w)"),
        ("wλ", "mul(w, lambda)"),
        ("σ(z)(1 − σ(z))", "mul(sigmoid(z), sub(1, sigmoid(z)))"),
        ("σ (z)", "sigmoid(z)"),
        ("σ + θ·π", "add(sigma, mul(theta, pi))"),
        ("ŷ - y", "sub(y_hat, y)"),
        ("y\u0302 - y", "sub(y_hat, y)"),
        ("x̄ + ỹ", "add(x_bar, y_tilde)"),
        ("[w·x > 0]·x", "mul(step(mul(w, x)), x)"),
        ("[a > b]", "step(sub(a, b))"),
        ("[a < 1]", "step(sub(1, a))"),
        ("[1, 2]", "[1, 2]"),
    ],
)
def test_structure_is_as_written(text, tree):
    assert shape(parse_expression(text)) == tree


@pytest.mark.parametrize(
    "text, value",
    [("0.01", sympy.Rational(1, 100)), ("1e-3", sympy.Rational(1, 1000)), ("2.5", sympy.Rational(5, 2)),
     (".5", sympy.Rational(1, 2)), ("1E3", sympy.Integer(1000)), ("-0.25", sympy.Rational(-1, 4))],
)
def test_decimals_are_exact(text, value):
    ast = parse_expression(text)
    assert isinstance(ast, Num) and ast.value == value


def test_program_statements_lines_and_comments():
    program = parse_program("# model\nparam w = 1\ndata x = 2  # input\ny_pred = w*x; L = y_pred**2\n")
    kinds = [(s.kind, s.name) for s in program.statements]
    assert kinds == [("param", "w"), ("data", "x"), ("assign", "y_pred"), ("assign", "L")]
    assert program.statements[3].pos == (4, 15)


def test_positions_are_line_and_column():
    with pytest.raises(WorksheetError) as error:
        parse_program("y = w*x\nL = (y - )**2")
    assert (error.value.line, error.value.column) == (2, 10)
    assert "2:10" in str(error.value)


def test_deep_left_chains_parse_without_recursion():
    ast = parse_expression("+".join(["x"] * 5000))
    depth = 0
    while isinstance(ast, Apply):
        ast, depth = ast.args[0], depth + 1
    assert depth == 4999


@pytest.mark.parametrize("text, message", [
    ("x > 0", "1:3: expected an operator but found '>'"),
    ("[x > 0, 1]", "1:7: expected ']'"),
    ("ж + 1", "1:1: unexpected character 'ж': names are ASCII letters, digits and '_' (or one Greek letter)"),
])
def test_typeset_input_refused_outside_its_meaning(text, message):
    with pytest.raises(WorksheetError) as error:
        parse_expression(text)
    assert str(error.value).startswith(message), str(error.value)
