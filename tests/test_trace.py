"""The step tracer: steps, fan-out sums, conventions, exactness and the linear sweep."""

import sympy
from sympy import Rational, Symbol

from worksheet import derive
from worksheet.arith import Real, exact_text
from worksheet.functions import sigmoid


def steps(trace):
    return [(s.node, s.input, s.local_value, s.upstream_value, s.product_value) for s in trace.steps]


def test_readme_steps_and_values():
    trace = derive("(w*x+b-y)**2", wrt="w,b", at="w=1,b=0,x=2,y=4")
    assert trace.values == {"w": 1, "x": 2, "b": 0, "y": 4, "v1": 2, "v2": 2, "v3": -2, "L": 4}
    assert steps(trace) == [
        ("L", "v3", -4, 1, -4),
        ("v3", "v2", 1, -4, -4),
        ("v2", "v1", 1, -4, -4),
        ("v2", "b", 1, -4, -4),
        ("v1", "w", 2, -4, -8),
    ]
    assert [g.value for g in trace.gradients] == [-8, -4]


def test_steps_only_on_paths_to_the_requested_variables():
    trace = derive("(w*x+b-y)**2", wrt="b", at="w=1,b=0,x=2,y=4")
    assert ("v1", "w") not in [(s.node, s.input) for s in trace.steps]
    assert all(s.input not in ("x", "y") for s in trace.steps)


def test_fan_out_sums_the_paths():
    trace = derive("x*x + sin(x)", wrt="x", at="x=0")
    adjoint = trace.adjoints["x"]
    assert len(adjoint.steps) == 3
    assert adjoint.value == sum(trace.steps[i].product_value for i in adjoint.steps) == 1


def test_textbook_local_derivatives():
    z = Symbol("v1", real=True)
    local = derive("sigmoid(2*w)", wrt="w").steps[0].local
    assert sympy.sstr(local, order="none") == "sigmoid(v1)*(1 - sigmoid(v1))"
    assert local.doit() == sigmoid(z) * (1 - sigmoid(z))
    local = derive("tanh(2*w)", wrt="w").steps[0].local
    assert sympy.sstr(local, order="none") == "1 - tanh(v1)**2"
    assert sympy.sstr(derive("sqrt(2*w)", wrt="w").steps[0].local, order="none") == "1/(2*sqrt(v1))"


def test_pytorch_conventions_at_kinks():
    assert derive("relu(x)", at="x=0").gradients[0].value == 0
    assert derive("abs(x)", at="x=0").gradients[0].value == 0
    both = derive("max(a, b)", at="a=1,b=1").gradients
    assert [g.value for g in both] == [Rational(1, 2), Rational(1, 2)]
    assert [g.value for g in derive("min(a, b)", at="a=3,b=3").gradients] == [Rational(1, 2)] * 2
    assert derive("x**y", wrt="y", at="x=0,y=2").gradients[0].value == 0


def test_exact_rationals_and_decimals():
    trace = derive("0.1*w*w", at="w=0.3")
    assert trace.gradients[0].value == Rational(3, 50)
    assert trace.point == {"w": Rational(3, 10)}


def test_long_chain_carries_decimals_and_omits_huge_forms():
    program = "param x = 0.5\n" + "\n".join(
        f"v{i} = sin({'x' if i == 1 else f'v{i - 1}'})" for i in range(1, 501)
    )
    trace = derive(program, filename="chain.ws")
    gradient = trace.gradients[0]
    assert gradient.in_inputs is None  # too large to write out
    assert isinstance(trace.values["v500"], Real)  # carried by its recipe, not as a long form
    # the same derivative by forward accumulation in mpmath, an independent route
    import mpmath

    with mpmath.workdps(60):
        value, derivative = mpmath.mpf("0.5"), mpmath.mpf(1)
        for _ in range(500):
            derivative *= mpmath.cos(value)
            value = mpmath.sin(value)
        shown = mpmath.mpf(exact_text(gradient.value))  # every one of its 30 digits right
        assert abs(shown - derivative) <= mpmath.mpf(10) ** -29 * abs(derivative)


def test_symbolic_worksheet_has_forms_and_no_values():
    trace = derive("(w*x+b-y)**2", wrt="w", let="y_pred=w*x+b")
    assert trace.values is None and trace.gradients[0].value is None
    w, x, y, y_pred = (Symbol(n, real=True) for n in ("w", "x", "y", "y_pred"))
    assert sympy.simplify(trace.gradients[0].in_names.doit() - 2 * (y_pred - y) * x) == 0
    assert sympy.sstr(trace.gradients[0].in_names, order="none") == "2*(y_pred - y)*x"
