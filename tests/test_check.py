"""worksheet check: verdicts, diagnosis, feedback, hostile answers, and the answer functions step and sign.

The corpus of student mistakes is tests/check_corpus.toml (tests/test_check_corpus.py); here are
the acceptance points, the command line and the parts of the checker the corpus does not reach.
"""

import json
import random
from fractions import Fraction

import mpmath
import pytest
import sympy

from conftest import SAMPLES, run_process
from worksheet.assess.check import Question, check
from worksheet.errors import WorksheetError
from worksheet.assess.sampling import guards, numeric, sample_points

LOSS = "(w*x+b-y)**2"


# ── acceptance ──────────────────────────────────────────────────────────────────────────

def test_missing_chain_factor_then_correct(cli):
    result = cli("check", LOSS, "--wrt", "w", "--answer", "2*(w*x+b-y)")
    assert result.code == 1
    verdict, feedback = result.out.splitlines()
    assert verdict.startswith("incorrect") and "missing_chain_factor" in verdict
    assert "w·x" in feedback and "2(w·x" not in feedback  # where to look, not the answer
    result = cli("check", LOSS, "--wrt", "w", "--answer", "2(w*x+b-y)x")
    assert result.code == 0 and result.out.startswith("correct")


def test_relu_answered_by_the_active_side_is_incorrect(cli):
    result = cli("check", "relu(w*x)", "--wrt", "w", "--answer", "x", "--format", "json")
    assert result.code == 1
    data = json.loads(result.out)
    assert data["schema"] == "worksheet.check/1" and data["verdict"] == "incorrect"
    assert "partial_domain" in data["diagnosis"]
    assert "w·x > 0" in data["feedback"] and "w·x < 0" in data["feedback"]
    assert check("relu(w*x)", "step(w*x)*x", wrt="w").verdict == "correct"
    assert check("relu(w*x)", "x*(1+sign(w*x))/2", wrt="w").verdict == "correct"


@pytest.mark.parametrize("answer", [
    "diff((w*x+b-y)**2, w)", "Derivative(w*x, w)", "integrate(x)", "__import__('os').system('touch PWNED')",
    "x.__class__", "lambda: 1", "x; import os", "9^9^9^9", "z + 1", "(" * 200 + "x" + ")" * 200, "x" * 30_000,
])
def test_hostile_answers_are_invalid_exit_2_nothing_runs(answer, cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("check", LOSS, "--wrt", "w", "--answer", answer)
    assert result.code == 2 and result.err == ""
    verdict, why = result.out.splitlines()  # the verdict, and why
    assert verdict == "invalid" and why.startswith("answer")
    assert "Traceback" not in result.err and not (tmp_path / "PWNED").exists()
    as_json = cli("check", LOSS, "--wrt", "w", "--answer", answer, "-f", "json")
    assert as_json.code == 2 and json.loads(as_json.out)["verdict"] == "invalid"


def test_hostile_answer_as_a_process_writes_nothing(tmp_path):
    result = run_process("check", LOSS, "--wrt", "w", "--answer", "__import__('os').system('touch PWNED')")
    assert result.code == 2 and "Traceback" not in result.err and not (tmp_path / "PWNED").exists()


def test_bad_question_is_exit_2_not_a_verdict(cli):
    result = cli("check", "(w*x+", "--wrt", "w", "--answer", "x")
    assert result.code == 2 and "1:6" in result.err
    assert cli("check", LOSS, "--wrt", "w,b", "--answer", "x").code == 2
    assert cli("check", "x @ W", "--wrt", "x", "--answer", "W").code == 2


# ── equivalence ─────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize("question, wrt, answer, verdict", [
    ("x**3", "x", "3x^2 + 0.0001", "incorrect"),  # WeBWorK's 1e-4 relative would accept this
    ("x**3", "x", "3.000001x^2", "incorrect"),
    ("x**3", "x", "3.0*x**2", "correct"),
    ("x**3", "x", "3x²", "correct"),
    ("log(x)", "x", "1/abs(x)", "correct"),  # equal wherever the question is defined (x > 0)
    ("sqrt(x)", "x", "1/(2sqrt(x))", "correct"),
    ("abs(x - 5)", "x", "1", "incorrect"),  # the kink at 5 lies outside the first points drawn
    ("relu(w*x - 7)", "w", "x", "incorrect"),  # right only where w·x > 7
    ("x**2", "x", "2x + step(x - 20)", "incorrect"),  # the answer's own kink, far from every point
    ("exp(x)", "x", "exp(exp(exp(exp(x))))", "incorrect"),  # huge values are compared, not computed forever
    ("x**3", "x", "x^(10^100000)", "incorrect"),
    ("x**3", "x", "10^999999*x - 10^999999*x + 3x^2", "correct"),
    # answers copied from a worksheet as it prints them (typeset letters, the relu′ bracket)
    ("sigmoid(z)", "z", "σ(z)(1 − σ(z))", "correct"),
    ("sigmoid(z)", "z", "σ(z)", "incorrect"),
    ("lambda*w**2", "w", "2λw", "correct"),
    ("lambda*w**2", "w", "λw", "incorrect"),
    ("relu(w*x)", "w", "[w·x > 0]·x", "correct"),
    ("relu(w*x)", "w", "[w·x < 0]·x", "incorrect"),
    ("y_hat**2", "y_hat", "2ŷ", "correct"),
])
def test_equivalence(question, wrt, answer, verdict):
    assert check(question, answer, wrt=wrt).verdict == verdict


def test_numbers_at_a_point_may_be_rounded_to_three_digits():
    question = Question("sigmoid(w*x)", "w", "w=1,x=2")
    exact = 2 * sympy.exp(-2) / (1 + sympy.exp(-2)) ** 2  # an independent value: 0.209987…
    assert abs(sympy.N(exact, 30) - sympy.Rational(209987, 10**6)) < sympy.Rational(1, 2 * 10**6)
    assert question.judge("0.210").verdict == "correct"
    assert question.judge("0.20999").verdict == "correct"
    assert question.judge("0.2099").verdict == "incorrect"  # not the value rounded
    assert question.judge("0.21").diagnosis == ("rounding",)
    assert question.judge("2*exp(-2)/(1+exp(-2))^2").verdict == "correct"


def test_answers_may_use_the_programs_names():
    program = "y_pred = w*x + b\nL = (y_pred - y)**2\n"
    assert check(program, "2(y_pred - y)x", wrt="w").verdict == "correct"
    assert check(program, "2(y_pred - y)", wrt="w").verdict == "incorrect"


def test_time_limit_turns_a_slow_answer_into_invalid(monkeypatch):
    import worksheet.assess.check as module

    question = Question("x**3", "x")
    monkeypatch.setattr(module, "TIME_LIMIT", 0.05)

    def slow(*args):
        import time
        time.sleep(1)

    monkeypatch.setattr(question, "_judge", slow)
    verdict = question.judge("3x^2")
    assert verdict.verdict == "invalid" and "longer than" in verdict.feedback


def test_identical_answers_are_judged_once(monkeypatch):
    question = Question(LOSS, "w")
    calls = []
    original = question._judge
    monkeypatch.setattr(question, "_judge", lambda expr, text: calls.append(text) or original(expr, text))
    for answer in ["2(w*x+b-y)x", " 2(w*x+b-y)x ", "2*(w*x + b - y)*x", "2(w*x+b-y)"]:
        question.judge(answer)
    assert calls == ["2(w*x+b-y)x", "2(w*x+b-y)"]  # the same text, and the same expression, once


# ── sampling ────────────────────────────────────────────────────────────────────────────

def test_points_reach_both_sides_of_every_kink():
    w, x = sympy.symbols("w x", real=True)
    for kink in (w * x - 7, w - 30, x + w - 0.5):
        expr = sympy.Heaviside(kink, 0) * x
        points = sample_points([w, x], {}, [expr], seed="t")
        sides = {numeric(kink, p) > 0 for p in points}
        assert sides == {True, False}, kink
        assert all(abs(numeric(kink, p)) >= sympy.Rational(1, 1000) for p in points)


def test_numeric_matches_sympy_and_refuses_outside_the_domain():
    x, y = sympy.symbols("x y", real=True)
    rng = random.Random(5)
    exprs = [sympy.sin(x) * sympy.exp(y) / (1 + x ** 2), sympy.log(x ** 2 + 1) - sympy.tanh(y), sympy.Max(x, y) * sympy.Abs(y)]
    for expr in exprs:
        for _ in range(20):
            point = {x: sympy.Rational(rng.randint(-300, 300), 100), y: sympy.Rational(rng.randint(-300, 300), 100)}
            value = numeric(expr, {s: Fraction(int(v.p), int(v.q)) for s, v in point.items()})
            with mpmath.workdps(40):
                assert mpmath.almosteq(value, mpmath.mpf(sympy.N(expr.subs(point), 40)), rel_eps=1e-25, abs_eps=1e-25)
    assert numeric(sympy.log(x), {x: -1}) is None and numeric(sympy.sqrt(x), {x: -1}) is None
    assert numeric(1 / x, {x: 0}) is None
    assert set(guards([1 / x + sympy.Abs(y)])) == {x, y}


# ── the question's derivative is the worksheet's (and sympy.diff's) ─────────────────────

@pytest.mark.parametrize("formula", [
    LOSS, "sigmoid(w*x+b)", "-(y*log(sigmoid(w*x+b)) + (1-y)*log(1-sigmoid(w*x+b)))", "(w*x + w*w - y)**2",
    "tanh(w*x)**2 + lambda*w**2", "max(w*x, b) - min(w, x)", "sqrt(w**2 + 1)/x", "exp(-w)*sin(w*x)",
])
def test_the_checked_derivative_is_sympy_diff(formula):
    question = Question(formula, "w")
    rng = random.Random(1)
    local = {n: sympy.Symbol(n, real=True) for n in question.variables}
    oracle = sympy.sympify(
        formula.replace("sigmoid", "_sigma").replace("lambda", "lam"),
        locals={**local, "_sigma": sympy.Lambda(sympy.Symbol("z"), 1 / (1 + sympy.exp(-sympy.Symbol("z")))),
                "lam": sympy.Symbol("lambda", real=True), "max": sympy.Max, "min": sympy.Min},
    )  # trusted test text, not user input
    derivative = sympy.diff(oracle, local["w"])
    compared = 0
    for _ in range(10):
        point = {s: sympy.Rational(rng.randint(5, 300), 100) * rng.choice((1, -1)) for s in oracle.free_symbols}
        ours = numeric(question.correct, {sympy.Symbol(s.name, real=True): Fraction(int(v.p), int(v.q)) for s, v in point.items()})
        theirs = sympy.N(derivative.subs(point), 40)
        if ours is None or not theirs.is_real:
            continue
        with mpmath.workdps(40):
            assert mpmath.almosteq(ours, mpmath.mpf(theirs), rel_eps=1e-20, abs_eps=1e-20), (formula, point)
        compared += 1
    assert compared >= 5


# ── the answer functions: step and sign (one rule each) ─────────────────────────────────

def test_step_and_sign_rules_against_sympy_and_torch(cli, tmp_path):
    from conftest import run_scripts

    result = cli("derive", "x*step(w*x) + sign(w)*w^2", "--at", "w=2,x=3", "-f", "json")
    data = json.loads(result.out)
    w, x = sympy.symbols("w x", real=True)
    # away from 0, step and sign are constant: d/dw = sign(w)·2w, d/dx = step(w·x)
    grads = {g: data["gradients"][g]["value"] for g in data["gradients"]}
    assert grads == {"w": "4", "x": "1"}
    assert cli("derive", "heaviside(x)*sgn(x)", "--wrt", "x", "--at", "x=-1").code == 0
    script = tmp_path / "check.py"
    assert cli("derive", "x*step(w*x) + sign(w)*w^2", "--at", "w=-2,x=3", "-o", str(script)).code == 0
    pytest.importorskip("torch")
    [line] = run_scripts([str(script)])
    assert line.startswith("0\t"), line


# ── sound verdicts: the cases that were wrongly "correct" (or wrongly not) ───────────────

def test_a_symbolic_answer_to_a_program_with_declared_values_is_judged_as_a_function():
    program = (SAMPLES / "linear_one_sample.ws").read_text()
    assert check(program, "4(y_pred - y_true)", wrt="w").verdict == "incorrect"  # right only where x = 2
    assert check(program, "2(y_pred - y_true)x", wrt="w").verdict == "correct"
    exact = check(program, "2(y_pred - y_true)x", wrt="w")
    assert exact.feedback.startswith("Correct")


def test_data_given_with_at_may_be_put_into_a_symbolic_answer():
    assert check("(w*x+b-y)**2", "4(2w + b - 4)", wrt="w", at="x=2,y=4").verdict == "correct"
    assert check("(w*x+b-y)**2", "4(2w + b - 4)", wrt="w").verdict == "incorrect"


@pytest.mark.parametrize("question, answer, verdict", [
    ("x^2/10^13", "0", "incorrect"),  # an absolute 1e-12 floor swallowed it
    ("x^2/10^13", "2x/10^13", "correct"),
    ("w*(x-a)^5999", "(x-a)^6000", "incorrect"),  # no sample point was informative
    ("w*(x-a)^5999", "7*(x-a)^5999", "incorrect"),
    ("w*(x-a)^5999", "0", "incorrect"),
    ("w*(x-a)^5999", "(x-a)^5999", "correct"),
    ("x**3", "3x^2 + 10^-20", "incorrect"),  # below WeBWorK's every tolerance, not below 2^−100
])
def test_equal_means_equal_relative_to_the_values_own_size(question, answer, verdict):
    assert check(question, answer, wrt="w" if question.startswith("w*") else "x").verdict == verdict


@pytest.mark.parametrize("question, at, answer, verdict", [
    ("tanh(x)", "x=1000", "1/cosh(1000)**2", "correct"),  # said "incorrect (sign)"
    ("tanh(x)", "x=1000", "1 - tanh(1000)^2", "correct"),
    ("tanh(x)", "x=1000", "0", "incorrect"),
    ("sigmoid(x)", "x=1000", "sigmoid(1000)*sigmoid(-1000)", "correct"),
    ("x/3", "x=1", "1/3 + 1/10^16", "incorrect"),  # two exact rationals 1e-16 apart
    ("x/3", "x=1", "1/3", "correct"),
    ("x/3", "x=1", "0.333", "correct"),  # a decimal of 3 digits is the value rounded
])
def test_numbers_are_compared_exactly_or_certified(question, at, answer, verdict):
    assert check(question, answer, wrt="x", at=at).verdict == verdict


def test_a_question_undefined_at_its_point_is_refused():
    with pytest.raises(WorksheetError):
        Question("log(1-x)", "x", "x=20")


# ── large questions: the domain node by node, a bound on the size ────────────────────────

DOMAIN_QUESTIONS = [
    "(w*x+b-y)**2",
    "log(1 - x*w) + sqrt(w) / (x - 2)",
    "sigmoid(w*x) * tanh(w - x) + relu(w - 1/x)",
    "exp(exp(w*x)) - log(w*w)",  # huge values, and values undefined at w = 0
    "x + x + x - 3*x + abs(w)",  # cancels to 0 in the written-out form
]


@pytest.mark.parametrize("question", DOMAIN_QUESTIONS)
def test_the_domain_node_by_node_gives_each_written_out_value(question):
    """Oracle: each node's written-out value, certified by itself at 128 bits."""
    q = Question(question, "w")
    domain = q.chain.domain(q.correct)
    rng = random.Random(question)
    for _ in range(40):
        point = {s: Fraction(rng.randint(-4000, 4000), 1000) for s in q.inputs}
        expected = [numeric(e, point) for e in [q.correct, *q.chain.values()]]
        if None in expected:  # the point is outside the domain: the values stop at the first undefined one
            expected = expected[:expected.index(None) + 1]
        got = list(domain.values(point))
        assert len(got) == len(expected)
        for a, b in zip(got, expected):
            assert (a is None) == (b is None)
            if a is not None:
                assert a == b or abs(a - b) <= abs(b) * mpmath.mpf(2) ** -120, (point, a, b)


@pytest.mark.parametrize("question", DOMAIN_QUESTIONS)
def test_guards_are_those_of_every_subexpression(question):
    q = Question(question, "w")
    exprs = [q.correct, *q.chain.values()]
    expected: dict = {}
    for expr in exprs:  # oracle: SymPy's own walk over every subexpression, repeats and all
        for e in sympy.preorder_traversal(expr):
            for z in (e.args[:1] if isinstance(e, (sympy.Abs, sympy.log, sympy.Heaviside)) or type(e).__name__ in
                      ("relu", "sign") else [e.base] if e.is_Pow and e.exp.is_negative else []):
                if not z.is_number:
                    expected.setdefault(z)
    assert guards(exprs) == list(expected)


def test_a_question_of_more_than_a_thousand_operations_is_refused_in_one_line(cli):
    question = "+".join(f"sin({i}*x)" for i in range(1, 600))  # 599 products, sines, 598 sums
    result = cli("check", question, "--wrt", "x", "--answer", "cos(x)")
    assert result.code == 2 and result.out == ""
    assert result.err.count("\n") == 1 and "1,796 operations" in result.err and "at most 1,000" in result.err
    line, column = map(int, result.err.split(": ")[2].split(":")[:2])  # worksheet: error: 1:COL: …
    assert line == 1 and 1 < column <= len(question)  # where the 1,001st operation is
    assert cli("check", "+".join(f"sin({i}*x)" for i in range(1, 300)), "--wrt", "x",
               "--answer", "cos(x)").code == 1  # 896 operations: checked


def test_the_questions_own_work_is_not_counted_against_an_answer(monkeypatch):
    """The sample points for a new set of variables are the question's: a slow question must
    not make a short answer invalid ("took longer than 2 s")."""
    import time

    from worksheet.assess import check as module

    monkeypatch.setattr(module, "TIME_LIMIT", 0.3)
    original = module.Question.samples

    def slow(self, free):  # slow to compute, quick once known
        if free not in self._samples:
            time.sleep(0.5)
        return original(self, free)

    monkeypatch.setattr(module.Question, "samples", slow)
    q = Question("sin(x*y)", "x", "x=1,y=2")
    assert q.judge("y*cos(x*y)").verdict == "correct"
    assert q.judge("cos(x*y)").verdict == "incorrect"


def test_names_side_by_side_get_a_hint_and_the_output_is_no_variable(cli):
    result = cli("check", "w*x*y + b", "--wrt", "w", "--answer", "2xy")
    assert result.code == 2 and "for a product, write x*y" in result.out
    assert "L" not in result.out.split("its variables: ")[1].split(")")[0].split(", ")
    assert "for a product" not in cli("check", "w*x*y + b", "--wrt", "w", "--answer", "xyq").out


@pytest.mark.parametrize("answer, verdict, codes", [
    ("0.2099", "incorrect", ("rounding",)),   # 0.209987 cut off, not rounded
    ("0.2100", "correct", ()),                # rounded to 4 digits
    ("0.20999", "correct", ()),               # rounded to 5
    ("0.2098", "incorrect", ()),              # two units off: a wrong value
    ("0.21", "incorrect", ("rounding",)),     # too few digits
])
def test_a_value_off_in_its_last_digit_is_a_rounding_mistake(answer, verdict, codes):
    result = check("w*x", answer, wrt="w", at="w=1,x=0.209987")  # ∂L/∂w = x, exactly
    assert (result.verdict, result.diagnosis) == (verdict, codes)


def test_feedback_writes_a_true_minus(cli):
    result = cli("check", "x**2", "--wrt", "x", "--answer", "-4x")
    assert result.code == 1 and "−2 times" in result.out and "-" not in result.out.split("\n", 1)[1]


def test_feedback_names_a_decimal_point_as_it_was_given():
    """--at x=1.35: the feedback says x = 1.35, not 27/20 (and cos(1.35) ≈ 0.2190, so 0.2099 is wrong)."""
    import math

    assert abs(math.cos(1.35) - 0.2099) > 0.005
    verdict = check("sin(x)", "0.2099", wrt="x", at="x=1.35")
    assert verdict.verdict == "incorrect" and "at x = 1.35 " in verdict.feedback and "27/20" not in verdict.feedback
