"""A fuzzer over the command line (issue 12): hostile formulas, programs, points and answers,
drawn by hypothesis from a fixed seed, through derive (every text format), graph and check.
Every run ends in exit status 0, 1 or 2; a refusal is one line; nothing is an internal error or
a traceback; no run takes over 10 s. (WORKSHEET_HOSTILE_CASES sets the number of inputs.)"""

from __future__ import annotations

import os
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

CASES = int(os.environ.get("WORKSHEET_HOSTILE_CASES", "5000"))
SECONDS = 10.0

NAMES = ["x", "y", "w", "b"]
ODD_NAMES = ["v1", "L", "sin", "pi", "e", "param", "_", "__class__", "x_1"]
NUMBERS = ["0", "1", "2", "3", "0.5", "-1", "1e308", "1e-308", "0e999999999", "9**9**9", "10**400",
           "3**(2**20)", "-0.0", "1e999", "0x10", "1_000", "00012", ".5", "5.", "1/3", "2**-1074", "1000", "-700"]
UNARY = ["sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "softplus", "abs", "sinh",
         "cosh", "atan", "asin", "mean", "sum", "stop_gradient"]
BINARY = ["max", "min"]
OPERATORS = ["+", "-", "*", "/", "**", "^", "@", "%", "//"]
NOISE = ["(", ")", ",", "=", ";", "#", "\n", "'", '"', "[", "]", ".T", "\\", "$", "{", "}", " ", "\t",
         "\x1b[2J", "\u202e", "\x00", "é", "∂", "<script>", "`", "|", "&"]


def _expression(depth: int):
    leaf = st.one_of(st.sampled_from(NAMES), st.sampled_from(NAMES), st.sampled_from(NUMBERS),
                     st.sampled_from(ODD_NAMES))
    if depth == 0:
        return leaf
    inner = _expression(depth - 1)
    binary = st.tuples(inner, st.sampled_from(OPERATORS[:5]), inner).map(lambda t: f"{t[0]} {t[1]} {t[2]}")
    call = st.tuples(st.sampled_from(UNARY), inner).map(lambda t: f"{t[0]}({t[1]})")
    return st.one_of(
        leaf, binary, binary, call, call,
        st.tuples(st.sampled_from(BINARY), inner, inner).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
        st.tuples(inner, st.sampled_from(OPERATORS[5:]), inner).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        inner.map(lambda e: f"({e})"),
        st.tuples(inner, st.sampled_from(NOISE), inner).map(lambda t: t[0] + t[1] + t[2]),
    )


FORMULA = _expression(3)
POINT = st.lists(st.tuples(st.sampled_from(NAMES), st.sampled_from(NUMBERS)), max_size=4).map(
    lambda pairs: ",".join(f"{k}={v}" for k, v in pairs))
PROGRAM = st.lists(st.tuples(st.sampled_from(["", "", "param ", "data "]), st.sampled_from(NAMES + ["v1", "L"]), FORMULA),
                   min_size=1, max_size=4).map(lambda lines: "\n".join(f"{k}{n} = {e}" for k, n, e in lines))
RUN = st.one_of(
    st.tuples(st.just("derive"), FORMULA, POINT, st.sampled_from(["txt", "md", "json", "tex", "typ", "torch"])),
    st.tuples(st.just("graph"), FORMULA, POINT, st.sampled_from(["mermaid", "tikz", "svg"])),
    st.tuples(st.just("check"), FORMULA, POINT, FORMULA),
    st.tuples(st.just("program"), PROGRAM, POINT, st.sampled_from(["txt", "md", "json"])),
)


def _arguments(run, tmp) -> list[str]:
    kind, text, point, last = run
    at = ["--at", point] if point else []
    if kind == "derive":
        return ["derive", text, *at, "-f", last]
    if kind == "graph":
        return ["graph", text, *at, "-f", last]
    if kind == "check":
        return ["check", text, "--wrt", "x", *at, "--answer", last]
    path = tmp / "fuzz.ws"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    return ["derive", str(path), *at, "-f", last]


@settings(max_examples=CASES, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(RUN)
def test_no_input_reaches_an_internal_error(cli_runner, run):
    arguments = _arguments(run, cli_runner.tmp)
    started = time.perf_counter()
    result = cli_runner(*arguments)
    took = time.perf_counter() - started
    assert result.code in (0, 1, 2), (arguments, result.code, result.err)
    assert "internal error" not in result.err and "Traceback" not in result.err, (arguments, result.err)
    if result.code == 2:
        assert result.err.count("\n") == 1, (arguments, result.err)
    assert took < SECONDS, (arguments, took)
