"""--numbers: decimals in, decimals out (auto); exact fractions on request; every shown
decimal equal to the exact value it stands for (Fraction of the text, against sympy)."""

from __future__ import annotations

import decimal
import json
import re
from fractions import Fraction

import pytest
import sympy
from hypothesis import given, strategies as st

from conftest import SAMPLES
from worksheet import derive, render
from worksheet.notation.matrices import terminating

NEURON, AT = "sigmoid(w*x + b)", "w=0.5,x=1.5,b=0.25"


@given(st.integers(-10**12, 10**12), st.integers(0, 12), st.integers(0, 12), st.sampled_from([1, 3, 7, 9]))
def test_terminating_is_the_exact_decimal_or_none(p, twos, fives, other):
    """Against Python's decimal module at 100 digits: the text is the value; None exactly when
    the value never ends (a prime besides 2 and 5 left in the denominator) or needs over 12 digits."""
    value = Fraction(p, 2**twos * 5**fives * other)
    text = terminating(value.numerator, value.denominator, 12)
    rest = value.denominator
    for prime in (2, 5):
        while rest % prime == 0:
            rest //= prime
    if rest != 1:
        assert text is None
        return
    with decimal.localcontext(decimal.Context(prec=100)):
        exact = decimal.Decimal(value.numerator) / decimal.Decimal(value.denominator)
    significant = len(exact.as_tuple().digits) if value else 1
    if significant <= 12:
        assert text is not None and decimal.Decimal(text) == exact, (value, text)
    else:
        assert text is None, (value, text)


@pytest.mark.parametrize("p, q, shown", [(24599, 2500, "9.8396"), (-1, 2, "-0.5"), (-3, 16, "-0.1875"),
                                         (1, 3, None), (1, 1024, None), (7, 1, "7"), (1, 100000, "0.00001")])
def test_terminating_examples(p, q, shown):
    assert terminating(p, q, 6) == shown


def _values(text: str) -> dict[str, str]:
    """The forward table's value column, by node, from the text worksheet."""
    table = text.split("1. Computational graph")[1].split("2. Backward")[0]
    rows = [line.split() for line in table.splitlines() if re.match(r"  \w+ ", line)]
    return {row[0]: row[-1] for row in rows if row[0] not in ("node", "────")}


def test_decimal_inputs_give_decimal_values_equal_to_the_exact_ones():
    w, x, b = sympy.Rational(1, 2), sympy.Rational(3, 2), sympy.Rational(1, 4)
    exact = {"w": w, "x": x, "b": b, "v1": w * x, "v2": w * x + b}
    text = render(derive(NEURON, at=AT), "txt")
    shown = _values(text)
    for name, value in exact.items():
        assert "/" not in shown[name] and Fraction(shown[name].replace("−", "-")) == Fraction(str(value)), name
    assert "at w = 0.5, x = 1.5, b = 0.25" in text
    assert "0.196612 · 1.5" in text  # the decimal put into the local derivative, too
    assert "1/2" not in text and "3/2" not in text


def test_exact_on_request_and_integers_stay_exact():
    text = render(derive(NEURON, at=AT), "txt", numbers="exact")
    assert _values(text)["w"] == "1/2" and _values(text)["v1"] == "3/4"
    integers = render(derive("a/b", at="a=1,b=4"), "txt")  # integers in: the fraction stays
    assert "= 1/4" in integers and "0.25" not in integers
    assert "= 0.25" in render(derive("a/b", at="a=1,b=4"), "txt", numbers="decimal")


def test_decimal_rounds_what_does_not_terminate_with_approx():
    text = render(derive("a/b", at="a=1,b=3"), "txt", numbers="decimal")
    assert "∂L/∂a = 1/b = 1/3 ≈ 0.333333" in text  # b = 3 put in, then the value, rounded
    assert _values(text)["L"] == "0.333333"
    auto = render(derive("a/b", at="a=1.5,b=3"), "txt")  # 1/2 terminates, shown 0.5; 1/3 would not
    assert _values(auto)["L"] == "0.5"
    third = render(derive("a/b", at="a=1.5,b=4.5"), "txt")
    assert _values(third)["L"] == "1/3"  # auto: a decimal only where it ends


def test_a_decimal_literal_in_the_formula_counts_as_decimal_input():
    text = render(derive("0.5*(w*x - y)**2", at="w=1,x=3,y=2"), "txt")
    assert "0.5" in text.split("\n\n")[1]
    assert "1/2" not in text


def test_every_format_and_the_figure_follow_numbers(cli):
    for fmt in ("md", "tex", "typ"):
        out = render(derive(NEURON, at=AT), fmt)
        assert "0.75" in out and "frac{3}{4}" not in out and "3/4" not in out, fmt
    mermaid = cli("graph", NEURON, "--at", AT).out
    assert '"→ 0.5<br>' in mermaid and "1/2" not in mermaid
    assert "1/2" in cli("graph", NEURON, "--at", AT, "--numbers", "exact").out
    data = json.loads(cli("derive", NEURON, "--at", AT, "-f", "json").out)
    assert data["nodes"][0]["value"] == "1/2"  # JSON stays exact, for machines


def test_training_with_exact_arithmetic_and_a_decimal_rate_shows_decimals(cli):
    out = cli("train", str(SAMPLES / "batch_vector.ws"), "--lr", "0.01", "--exact", "-f", "txt").out
    assert "w = 0.3" in out and "b = 0.1" in out  # 3/10 and 1/10, exactly
    exact = cli("train", str(SAMPLES / "batch_vector.ws"), "--lr", "0.01", "--exact", "-f", "txt",
                "--numbers", "exact").out
    assert "w = 3/10" in exact and "b = 1/10" in exact


def test_a_problem_set_with_decimal_steps_gets_decimal_keys(cli, tmp_path):
    out = tmp_path / "h"
    result = cli("handout", str(SAMPLES / "backprop_set.toml"), "-n", "2", "--key", "-f", "txt", "-o", str(out))
    assert result.code == 0, result.err
    key = (out / "backprop_set-v01-key.txt").read_text()
    sheet = (out / "backprop_set-v01.txt").read_text()
    assert "a decimal or a fraction" in " ".join(sheet.split())
    manifest = json.loads((out / "manifest.json").read_text())
    for value in manifest["variants"][0]["problems"][0]["blanks"].values():
        shown = terminating(Fraction(value).numerator, Fraction(value).denominator, 6) or value
        assert f"[{shown.replace('-', '−')}]" in key, value


def test_numbers_is_checked():
    with pytest.raises(ValueError, match="numbers"):
        render(derive("x", at="x=1"), "txt", numbers="fractions")
