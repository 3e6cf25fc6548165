"""The answer-checking corpus (tests/check_corpus.toml) and `worksheet check` against it.

Two parts:

* an ORACLE that checks the corpus itself with SymPy and mpmath, independently of the
  package: every non-invalid case's verdict is recomputed (the question differentiated by
  `sympy.diff`, the answer compared with it at ~200 seeded random points on both sides of
  every kink, 50-digit arithmetic, tight tolerance; numeric answers at a point by the
  rounding rule), and the diagnosis codes that can be decided mechanically (`sign`,
  `constant_factor`, `not_differentiated`, `wrong_variable`, `partial_domain`, `rounding`)
  are verified — both ways for the first four on symbolic answers: a code that holds must be
  listed, a listed code must hold;
* the REAL test of `worksheet.assess.check.check` over the corpus (skipped while that module
  cannot be imported).

The oracle is test code: it may use SymPy's own parser on the corpus, which is trusted
text; `worksheet` never does.
"""

from __future__ import annotations

import random
import re
import signal
import tomllib
import zlib
from functools import cache
from pathlib import Path

import mpmath
import pytest
import sympy
from sympy.parsing.sympy_parser import (
    convert_xor,
    implicit_application,
    implicit_multiplication,
    parse_expr,
    rationalize,
    standard_transformations,
)

CORPUS = Path(__file__).with_name("check_corpus.toml")
VERDICTS = ("correct", "incorrect", "invalid")
CODES = (
    "sign",
    "constant_factor",
    "missing_chain_factor",
    "wrong_variable",
    "not_differentiated",
    "missing_term",
    "partial_domain",
    "rounding",
)
CHECKABLE = {"sign", "constant_factor", "not_differentiated", "wrong_variable", "partial_domain", "rounding"}
COMPLETE = {"sign", "constant_factor", "not_differentiated", "wrong_variable"}  # symbolic answers

POINTS = 200  # valid sample points per case
MIN_POINTS = 60
DPS = 80
RELATIVE = mpmath.mpf(10) ** -12
ABSOLUTE = mpmath.mpf(10) ** -30
EXACT = mpmath.mpf(10) ** -20  # numbers at a point: relative, for 50-digit values

# ── the corpus ────────────────────────────────────────────────────────────────


def load_cases() -> list[dict]:
    cases = tomllib.loads(CORPUS.read_text(encoding="utf-8"))["case"]
    for index, case in enumerate(cases):
        case["index"] = index
        text = case["answer"]
        if "repeat" in case:
            text = text * case["repeat"] + case.get("tail", "")
        case["answer_text"] = text
    return cases


CASES = load_cases()


def case_id(case: dict) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", case["note"].lower()).strip("-")[:40]
    return f"{case['index']:03d}-{case['verdict']}-{slug}"


IDS = [case_id(case) for case in CASES]


def test_corpus_shape():
    assert len(CASES) >= 120
    required = {"question", "wrt", "answer", "verdict", "note"}
    allowed = required | {"at", "diagnosis", "repeat", "tail", "index", "answer_text"}
    for case in CASES:
        assert required <= set(case), case_id(case)
        assert set(case) <= allowed, (case_id(case), set(case) - allowed)
        assert case["verdict"] in VERDICTS, case_id(case)
        codes = case.get("diagnosis", [])
        assert set(codes) <= set(CODES), case_id(case)
        assert len(set(codes)) == len(codes), case_id(case)
        if case["verdict"] != "incorrect":
            assert not codes, f"{case_id(case)}: only incorrect answers carry codes"
        assert case["note"].strip()
    counts = {v: sum(c["verdict"] == v for c in CASES) for v in VERDICTS}
    assert counts["invalid"] >= 15
    assert counts["correct"] >= 0.3 * len(CASES) and counts["incorrect"] >= 0.3 * len(CASES)
    used = {code for case in CASES for code in case.get("diagnosis", [])}
    assert used == set(CODES), set(CODES) - used


# ── the oracle's reader (SymPy's parser, on trusted corpus text) ─────────────

_z = sympy.Symbol("z")
FUNCTIONS = {
    "exp": sympy.exp,
    "log": sympy.log,
    "ln": sympy.log,
    "sqrt": sympy.sqrt,
    "sin": sympy.sin,
    "cos": sympy.cos,
    "tan": sympy.tan,
    "sinh": sympy.sinh,
    "cosh": sympy.cosh,
    "tanh": sympy.tanh,
    "abs": sympy.Abs,
    "max": sympy.Max,
    "min": sympy.Min,
    "sign": sympy.sign,
    "sigmoid": sympy.Lambda(_z, 1 / (1 + sympy.exp(-_z))),
    "relu": sympy.Lambda(_z, sympy.Max(_z, 0)),
    "softplus": sympy.Lambda(_z, sympy.log(1 + sympy.exp(_z))),
    "step": sympy.Lambda(_z, sympy.Heaviside(_z, 0)),
    "silu": sympy.Lambda(_z, _z / (1 + sympy.exp(-_z))),
    "elu": sympy.Lambda(_z, sympy.Piecewise((_z, _z > 0), (sympy.exp(_z) - 1, True))),
    "gelu": sympy.Lambda(_z, _z * (1 + sympy.erf(_z / sympy.sqrt(2))) / 2),
}
CONSTANTS = {"pi": sympy.pi, "e": sympy.E}
TRANSFORMS = standard_transformations + (
    implicit_multiplication,
    implicit_application,
    convert_xor,
    rationalize,
)
GLOBALS = {name: getattr(sympy, name) for name in ("Integer", "Float", "Rational", "Symbol")}
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
LAMBDA = "lambda_"  # `lambda` is a Python keyword: renamed before SymPy's parser sees it


@cache
def symbol(name: str) -> sympy.Symbol:
    return sympy.Symbol(name, real=True)


TYPESET = {"−": "-", "·": "*", "×": "*", "÷": "/", "²": "^2", "³": "^3"}


def read(text: str, names: dict[str, sympy.Expr] | None = None) -> sympy.Expr:
    """A formula of the corpus as a SymPy expression; unknown names become real symbols."""
    for typeset, plain in TYPESET.items():
        text = text.replace(typeset, plain)
    text = NAME.sub(lambda m: LAMBDA if m.group() == "lambda" else m.group(), text)
    local = dict(FUNCTIONS)
    local.update(CONSTANTS)
    for name in set(NAME.findall(text)):
        if name in local:
            continue
        if names and name in names:
            local[name] = names[name]
        else:
            local[name] = symbol("lambda" if name == LAMBDA else name)
    return sympy.sympify(parse_expr(text, local_dict=local, global_dict=dict(GLOBALS), transformations=TRANSFORMS))


def read_question(text: str) -> tuple[sympy.Expr, dict[str, sympy.Expr]]:
    """The output of a question, and its named intermediates (a program's assignments)."""
    statements = [s.split("#")[0].strip() for s in re.split(r"[;\n]", text)]
    statements = [s for s in statements if s]
    names: dict[str, sympy.Expr] = {}
    output = None
    for statement in statements:
        match = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.+)", statement)
        if match:
            output = read(match.group(2), names)
            names[match.group(1)] = output
        else:
            output = read(statement, names)
    assert output is not None
    return output, names


def read_at(text: str | None) -> dict[sympy.Symbol, sympy.Expr]:
    if not text:
        return {}
    values = {}
    for item in text.split(","):
        name, value = item.split("=")
        values[symbol(name.strip())] = read(value.strip())
    return values


# ── numbers: 50-digit evaluation with the kinks as PyTorch has them ──────────


def _heaviside(z, h0=0):
    return mpmath.mpf(1) if z > 0 else (mpmath.mpf(0) if z < 0 else mpmath.mpf(h0))


def _sign(z):
    return mpmath.mpf(1) if z > 0 else (mpmath.mpf(-1) if z < 0 else mpmath.mpf(0))


MODULES = [{"Heaviside": _heaviside, "sign": _sign}, "mpmath"]


def compile_(expr: sympy.Expr, variables: list[sympy.Symbol]):
    return sympy.lambdify(variables, expr, modules=MODULES)


def value(function, point) -> mpmath.mpc | mpmath.mpf | None:
    """function(point), or None where it is undefined (an error, infinite, nan)."""
    try:
        with mpmath.workdps(DPS):
            result = function(*point)
            result = mpmath.mpmathify(result)
    except (ZeroDivisionError, ValueError, OverflowError, TypeError):
        return None
    parts = (result.real, result.imag) if isinstance(result, mpmath.mpc) else (result,)
    if not all(mpmath.isfinite(p) for p in parts):
        return None
    return result


def real(number) -> bool:
    if number is None:
        return False
    if isinstance(number, mpmath.mpc):
        return abs(number.imag) <= ABSOLUTE + RELATIVE * abs(number.real)
    return True


def close(a, b) -> bool:
    if a is None or b is None:
        return False
    with mpmath.workdps(DPS):
        return abs(a - b) <= ABSOLUTE + RELATIVE * max(abs(a), abs(b))


def sample(rng: random.Random) -> mpmath.mpf:
    """A value over a wide range, either sign; never an integer (no sample sits on a kink)."""
    kind = rng.random()
    if kind < 0.4:
        x = rng.uniform(-3, 3)
    elif kind < 0.7:
        x = rng.uniform(-8, 8)
    else:
        x = rng.choice((-1, 1)) * 10 ** rng.uniform(-2, 0.9)
    return mpmath.mpf(x)


# ── the oracle ───────────────────────────────────────────────────────────────

_DECIMAL = re.compile(r"^\s*[-+−]?\s*(\d*)\.(\d+)\s*$")


def decimal_literal(text: str) -> tuple[int, sympy.Rational] | None:
    """(significant digits, half a unit in the last digit) of a plain decimal answer."""
    match = _DECIMAL.match(text)
    if not match:
        return None
    whole, fraction = match.groups()
    digits = len((whole + fraction).lstrip("0"))
    return digits, sympy.Rational(1, 2 * 10 ** len(fraction))


class Judgement:
    def __init__(self, verdict: str, holds: set[str], mode: str, derivative: sympy.Expr, detail: str = ""):
        self.verdict, self.holds, self.mode = verdict, holds, mode
        self.derivative, self.detail = derivative, detail


@cache
def judge(index: int) -> Judgement:
    case = CASES[index]
    f, names = read_question(case["question"])
    wrt = symbol(case["wrt"])
    at = read_at(case.get("at"))
    answer = read(case["answer_text"], names)
    question_vars = f.free_symbols
    assert wrt in question_vars, "wrt is not a variable of the question"
    assert answer.free_symbols <= question_vars, f"answer uses {answer.free_symbols - question_vars}"
    assert set(at) <= question_vars, "at names a variable the question does not have"

    d = sympy.diff(f, wrt)
    others = sorted(question_vars - {wrt}, key=str)
    fs, ds, a_s = f.subs(at), d.subs(at), answer.subs(at)
    wrong = {v: sympy.diff(f, v).subs(at) for v in others}
    free = sorted(fs.free_symbols | ds.free_symbols | a_s.free_symbols, key=str)
    if not free:
        return _judge_number(case, fs, ds, a_s, wrong)
    return _judge_function(case, free, fs, ds, a_s, wrong)


def _judge_number(case, fs, ds, a_s, wrong) -> Judgement:
    with mpmath.workdps(DPS):
        dv = mpmath.mpmathify(sympy.N(ds, DPS))
        av = mpmath.mpmathify(sympy.N(a_s, DPS))
        fv = mpmath.mpmathify(sympy.N(fs, DPS))
        assert real(dv) and real(av), "values at the point must be real"
        literal = decimal_literal(case["answer_text"])
        allowance = mpmath.mpf(literal[1].p) / literal[1].q if literal else mpmath.mpf(0)
        slack = mpmath.mpf(10) ** -(DPS - 10)

        def near(x, y):
            return abs(x - y) <= allowance + slack + EXACT * max(1, abs(y))

        exact = abs(av - dv) <= EXACT * max(1, abs(dv))
        if exact or (literal and literal[0] >= 3 and near(av, dv)):
            return Judgement("correct", set(), "number", ds)
        holds = set()
        if literal and literal[0] < 3 and near(av, dv):
            holds.add("rounding")
        if abs(dv) > slack and near(av, -dv):
            holds.add("sign")
        if near(av, fv):
            holds.add("not_differentiated")
        if any(near(av, mpmath.mpmathify(sympy.N(g, DPS))) for g in wrong.values()):
            holds.add("wrong_variable")
        return Judgement("incorrect", holds, "number", ds, f"answer {av} vs {dv}")


def _judge_function(case, free, fs, ds, a_s, wrong) -> Judgement:
    F, D, A = (compile_(e, free) for e in (fs, ds, a_s))
    rng = random.Random(zlib.crc32(f"{case['question']}|{case['wrt']}|{case['answer_text']}".encode()))
    points, fvals, dvals, avals = [], [], [], []
    for _ in range(30 * POINTS):
        if len(points) >= POINTS:
            break
        point = [sample(rng) for _ in free]
        fv, dv = value(F, point), value(D, point)
        if not (real(fv) and real(dv)):
            continue  # outside the question's domain
        points.append(point)
        fvals.append(fv)
        dvals.append(dv)
        avals.append(value(A, point))
    assert len(points) >= MIN_POINTS, f"only {len(points)} points in the domain"

    agree = [close(a, d) for a, d in zip(avals, dvals)]
    if all(agree):
        return Judgement("correct", set(), "function", ds)

    holds = set()
    disagreements = agree.count(False)
    with mpmath.workdps(DPS):
        if any(abs(d) > 1e-10 for d in dvals) and all(close(a, -d) for a, d in zip(avals, dvals)):
            holds.add("sign")
        ratios = [a / d for a, d in zip(avals, dvals) if a is not None and abs(d) > 1e-8]
        if ratios and all(a is not None for a in avals):
            k = ratios[0]
            if all(close(r, k) for r in ratios) and all(close(a, k * d) for a, d in zip(avals, dvals)):
                if abs(k) > 1e-9 and not close(k, 1) and not close(k, -1):
                    holds.add("constant_factor")
                    if abs(k - 1) < 1e-3:
                        holds.add("_near_one")
    if all(close(a, f) for a, f in zip(avals, fvals)):
        holds.add("not_differentiated")
    for v, g in wrong.items():
        G = compile_(g, free)
        if all(close(a, value(G, p)) for a, p in zip(avals, points)):
            holds.add("wrong_variable")
            break
    share = len(points) // 20  # 5%
    # agreement that is more than two underflowing values (e^(−4000) against 0)
    agreements = sum(ok and (d == 0 or abs(d) > 1e-20) for ok, d in zip(agree, dvals))
    if disagreements >= share and agreements >= share:
        holds.add("partial_domain")
    detail = f"{disagreements}/{len(points)} points disagree"
    return Judgement("incorrect", holds, "function", ds, detail)


JUDGED = [c for c in CASES if c["verdict"] != "invalid"]
JUDGED_IDS = [case_id(c) for c in JUDGED]


@pytest.mark.parametrize("case", JUDGED, ids=JUDGED_IDS)
def test_oracle_agrees_with_corpus(case):
    """The corpus is right: SymPy's derivative gives the case's verdict and checkable codes."""
    judgement = judge(case["index"])
    assert judgement.verdict == case["verdict"], f"{case['note']}: {judgement.detail}"
    listed = set(case.get("diagnosis", []))
    for code in listed & CHECKABLE:
        assert code in judgement.holds, f"{case['note']}: listed {code!r} does not hold"
    if case["verdict"] == "incorrect":
        if judgement.mode == "function":
            must = judgement.holds & COMPLETE
            if "_near_one" in judgement.holds:
                must.discard("constant_factor")
        else:
            must = judgement.holds & {"sign", "rounding"}
        assert must <= listed, f"{case['note']}: {sorted(must - listed)} hold(s) but not listed"


def test_oracle_sees_the_near_misses():
    """The oracle's tolerance is tight: 1e-4 absolute and 1e-6 relative are both caught."""
    near = [c for c in JUDGED if "nearly right" in c["note"]]
    assert len(near) >= 3
    assert all(judge(c["index"]).verdict == "incorrect" for c in near)


# ── the real thing: worksheet.assess.check over the corpus ──────────────────────────


def _forbidden_forms(case: dict, derivative: sympy.Expr, mode: str) -> list[str]:
    """Printed forms of the correct derivative that the feedback must not give away."""
    answer = re.sub(r"\s+", "", case["answer_text"])
    question = re.sub(r"\s+", "", case["question"])
    forms: set[str] = set()
    if mode == "number":
        exact = sympy.nsimplify(derivative) if derivative.is_Rational else derivative
        if exact.is_Rational:
            forms.add(str(exact))
        number = float(sympy.N(derivative, 30))
        for digits in (3, 4, 6):
            forms.add(f"{number:.{digits}g}")
    else:
        for expr in (derivative, sympy.expand(derivative), sympy.factor(derivative), sympy.simplify(derivative)):
            text = str(expr)
            forms.update({text, text.replace("**", "^"), text.replace(" ", ""), text.replace(" ", "").replace("**", "^")})
    return sorted(f for f in forms if len(f.lstrip("-")) >= (1 if mode == "number" else 5) and f not in answer and f not in question)


def _gives_away(feedback: str, form: str, mode: str) -> bool:
    text = feedback.replace("−", "-")
    if mode == "number":
        return re.search(r"(?<![\w.])" + re.escape(form) + r"(?![\d])", text) is not None
    return form in text or form in text.replace(" ", "")


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_check(case):
    module = pytest.importorskip("worksheet.assess.check", reason="worksheet.assess.check cannot be imported yet")
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(30)
    try:
        result = module.check(case["question"], case["answer_text"], wrt=case["wrt"], at=case.get("at"))
    except _Timeout:
        pytest.fail(f"check took more than 30 s: {case['note']}")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)

    said = f"{result.verdict} {tuple(result.diagnosis)} {result.feedback!r}"
    assert result.verdict == case["verdict"], f"{case['note']}: got {said}"
    assert set(case.get("diagnosis", [])) <= set(result.diagnosis), f"{case['note']}: got {said}"
    assert set(result.diagnosis) <= set(CODES), said
    if result.verdict == "correct":
        assert not result.diagnosis, said
    feedback = result.feedback
    assert isinstance(feedback, str) and feedback.strip(), said
    assert "\n" not in feedback.strip() and "\r" not in feedback, said
    if case["verdict"] == "incorrect":
        judgement = judge(case["index"])
        for form in _forbidden_forms(case, judgement.derivative, judgement.mode):
            assert not _gives_away(feedback, form, judgement.mode), f"feedback gives away {form!r}: {feedback!r}"


def test_corpus_counts(capsys):
    """Counts per verdict and per code (shown with -s)."""
    verdicts = {v: sum(c["verdict"] == v for c in CASES) for v in VERDICTS}
    codes = {code: sum(code in c.get("diagnosis", []) for c in CASES) for code in CODES}
    with capsys.disabled():
        print(f"\ncheck corpus: {len(CASES)} cases; {verdicts}; codes {codes}")
