"""Grading a handout's blanks one by one, as a human grader does: with error carried forward.

Each blank of a sheet holds one quantity of the problem's trace (the manifest's
``quantities`` say which): a forward value, a local derivative ∂v/∂u, an upstream gradient
∂L/∂v written in a step of v, a product ∂L/∂v · ∂v/∂u, a fan-out sum ∂L/∂v = Σ paths, or a
gradient ∂L/∂w. Grading keeps a table of *the student's values*: for a blank the student
answered validly, their value (the true value if it is correct, perhaps rounded); for
everything else the true value (what the sheet shows, or what they left out). A blank's
*ECF expectation* is its quantity recomputed from the student's values of what it is
computed from:

    forward v       rule_v(student's values of v's inputs)
    local ∂v/∂u     ∂v/∂u evaluated at the student's forward values of v's arguments
    upstream ∂L/∂v  the student's ∂L/∂v: 1 for the output; the sum blank of v where the sheet
                    writes one; the product of the single path into v; else Σ of its paths
    product         the student's upstream × the student's local, of the same step
    sum ∂L/∂v       Σ the student's products of the paths into v
    gradient ∂L/∂w  the student's ∂L/∂w, as for upstream

A model's blanks are vectors and matrices, its steps vector-Jacobian products, recomputed
from the student's values with the model's own operations (``carried``).

An answer equal to the key is ``correct``; else equal to the ECF expectation, which differs
from the key because an earlier value of the student's is wrong, ``consistent`` (credit: the
policy's share); else ``incorrect``. A blank whose quantity has ``"decimals"`` (a value that
cannot be exact, written rounded) is equal to a value when it rounds alike to those places
(``rounding.alike``): 0.7311 or 0.73106 for σ(1) at 4 places, not 0.731. A manifest without
``source``/``wrt``/``quantities`` (an older one) is graded against the key alone.

The manifest is untrusted input: its size is capped, every key and type is checked (one-line
errors naming the key path), and every number goes through the formula parser, never eval.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from .answers import MIN_DIGITS, is_rounded_too_far, read_number
from .carried import Carried, agrees, matches
from .rounding import places_written
from ..deadline import TimeLimit, time_limit
from ..errors import WorksheetError
from .manifest import Manifest, Policy, Variant, _kind, check_problem, load_manifest, parse_manifest

VERDICTS = ("correct", "consistent", "incorrect", "invalid", "unanswered")


@dataclass(frozen=True)
class Mark:
    verdict: str  # "correct" | "consistent" | "incorrect" | "invalid" | "unanswered"
    credit: Fraction  # share of the blank's points earned: 1, the policy's consistent share, or 0
    feedback: str  # one sentence for the student; never reveals the key's value
    expected: str  # the key's exact value (for the instructor's report)


# ── grading ──────────────────────────────────────────────────────────────────────────────

def grade_blanks(problem: Mapping, answers: Mapping[str, str], policy: Policy = Policy()) -> dict[str, Mark]:
    """Each blank of ``problem`` (a manifest's problem entry) marked, by blank number, in order.

    ``answers`` maps a blank number ("7") to the student's text; a missing or empty one is
    ``unanswered``. Without the grading keys (an older manifest) blanks are compared with
    the key alone.
    """
    where = f"problem {problem.get('problem', '?')}" if isinstance(problem, Mapping) else "problem"
    entry = check_problem(dict(problem) if isinstance(problem, Mapping) else problem, where)
    numbers = sorted(entry["blanks"], key=int)
    keys = {n: _key_value(entry["blanks"][n], f"{where}.blanks.{n}") for n in numbers}
    given = {n: _isolated(lambda n=n: _answer(n, answers.get(n) if isinstance(answers, Mapping) else None),
                          lambda reason, n=n: _Answer("", problem=f"blank ({n}): {reason}")) for n in numbers}
    carried = _isolated(lambda: Carried.of(entry, keys, given, where), lambda reason: None, key=True)
    marks = {}
    for n in numbers:
        places = entry.get("quantities", {}).get(n, {}).get("decimals")
        marks[n] = _isolated(lambda n=n, places=places: _mark(n, entry["blanks"][n], keys[n], given[n], carried,
                                                               policy, places),
                             lambda reason, n=n: Mark("invalid", Fraction(0), f"blank ({n}): {reason}",
                                                      entry["blanks"][n]))
    return marks


def _isolated(work, failed, key: bool = False):
    """``work()`` under the limits an answer is checked with (``check.TIME_LIMIT``); whatever it
    does — too slow, too deep, too large, or any error — ``failed(reason)`` instead. With
    ``key``, a WorksheetError (the manifest itself is wrong) is raised, not failed."""
    from .check import TIME_LIMIT

    try:
        with time_limit(TIME_LIMIT):
            return work()
    except TimeLimit:
        return failed(f"checking it took longer than {TIME_LIMIT:g} s: write it more simply")
    except RecursionError:
        return failed("it is nested too deeply to check: write it more simply")
    except (MemoryError, OverflowError):
        return failed("its numbers grow too large to check: write it more simply")
    except WorksheetError as error:
        if key:
            raise
        return failed(error.message)
    except Exception as error:  # noqa: BLE001 — one blank never stops a batch
        return failed(f"it could not be checked ({type(error).__name__})")


def score(marks: Mapping[str, Mark], policy: Policy = Policy()) -> tuple[Fraction, Fraction]:
    """(points earned, points possible) of a set of marks."""
    return sum((m.credit for m in marks.values()), Fraction(0)) * policy.points, len(marks) * policy.points


def _key_value(text: str, where: str):
    try:
        value = read_number(text, where)
    except WorksheetError as error:
        raise WorksheetError(f"the key's value is not a number ({error.message})", where=where) from None
    if not (getattr(value, "is_number", False) or getattr(value, "shape", ())):
        raise WorksheetError("the key's value is not a number, a vector or a matrix", where=where)
    return value


@dataclass(frozen=True)
class _Answer:
    text: str | None
    value: object = None  # the number, when the text is one
    problem: str = ""  # why it is not a number


def _answer(number: str, text) -> _Answer:
    """The student's text for one blank, read through the formula parser (never eval)."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return _Answer(None)
    if not isinstance(text, str):
        return _Answer("", problem=f"blank ({number}): expected text, found {_kind(text)}")
    try:
        value = read_number(text, f"blank ({number})")
    except WorksheetError as error:
        return _Answer(text, problem=" ".join(str(error).split()))
    except (RecursionError, MemoryError, ArithmeticError, ValueError):
        return _Answer(text, problem=f"blank ({number}): not a number this grader can read")
    if getattr(value, "shape", ()):  # a model's blank: a vector or matrix, [1, 2] or [[1, 2], [3, 4]]
        return _Answer(text, value)
    if not getattr(value, "is_number", False) or not getattr(value, "is_real", False):
        return _Answer(text, problem=f"blank ({number}): expected a single real number")
    return _Answer(text, value)


def _mark(n: str, expected: str, key, answer: _Answer, carried: Carried | None, policy: Policy,
          places: int | None = None) -> Mark:
    """The verdict of one blank: correct, consistent (error carried forward), or incorrect;
    ``places``: the decimals a rounded blank's value is written to."""
    if answer.text is None:
        return Mark("unanswered", Fraction(0), f"blank ({n}) is empty.", expected)
    if answer.value is None:
        return Mark("invalid", Fraction(0), answer.problem, expected)
    if getattr(key, "shape", ()) or getattr(answer.value, "shape", ()):
        return _mark_tensor(n, expected, key, answer, carried, policy)
    if agrees(answer.value, key, answer.text, places):
        return Mark("correct", Fraction(1), f"blank ({n}) is correct.", expected)
    ecf, sources = carried.expectation(n) if carried else (None, ())
    if ecf is not None and sources and not matches(ecf, key) and agrees(answer.value, ecf, answer.text, places):
        return _consistent(n, expected, sources, policy)
    what = carried.describe(n) if carried else ""
    written = places_written(answer.text)
    if places is not None and (written or 0) < places and (
            is_rounded_too_far(answer.value, key, answer.text) or agrees(answer.value, key, answer.text, written)):
        return Mark("incorrect", Fraction(0),
                    f"blank ({n}){what} is rounded too far: give {places} decimal places.", expected)
    if is_rounded_too_far(answer.value, key, answer.text) or (
            ecf is not None and is_rounded_too_far(answer.value, ecf, answer.text)):
        return Mark("incorrect", Fraction(0),
                    f"blank ({n}){what} is rounded too far: give at least {MIN_DIGITS} significant digits.", expected)
    return Mark("incorrect", Fraction(0), f"blank ({n}){what} is not right: check it.", expected)


def _consistent(n: str, expected: str, sources, policy: Policy) -> Mark:
    """Right from the student's own wrong values in the blanks ``sources`` (error carried forward)."""
    sources = sorted(set(sources), key=int)
    listed = " and ".join(f"({s})" for s in sources)
    your = (f"your value in blank {listed}, which is" if len(sources) == 1
            else f"your values in blanks {listed}, which are")
    return Mark("consistent", policy.consistent, f"blank ({n}) follows correctly from {your} wrong.", expected)


def _mark_tensor(n: str, expected: str, key, answer: _Answer, carried: Carried | None, policy: Policy) -> Mark:
    """A model's blank: a vector or matrix, each element judged as ``worksheet check`` does, and
    consistent where it follows from the student's own wrong values."""
    from .tensor_check import same_tensor

    if not getattr(key, "shape", ()) or not getattr(answer.value, "shape", ()):
        what = "a vector or a matrix, as a list ([1, 2], or [[1, 2], [3, 4]])" if getattr(key, "shape", ()) \
            else "a single real number"
        return Mark("invalid", Fraction(0), f"blank ({n}): expected {what}", expected)
    if answer.value.shape != key.shape:
        from .tensor_check import shape_text

        return Mark("incorrect", Fraction(0), f"blank ({n}) is {shape_text(key)}; your answer is "
                                              f"{shape_text(answer.value)}.", expected)
    if same_tensor(answer.text, key):
        return Mark("correct", Fraction(1), f"blank ({n}) is correct.", expected)
    ecf, sources = carried.expectation(n) if carried else (None, ())
    if (getattr(ecf, "shape", None) == key.shape and sources and not matches(ecf, key)
            and same_tensor(answer.text, ecf)):
        return _consistent(n, expected, sources, policy)
    what = carried.describe(n) if carried else ""
    return Mark("incorrect", Fraction(0), f"blank ({n}){what} is not right: check it element by element.", expected)


__all__ = ["Manifest", "Mark", "Policy", "Variant", "check_problem", "grade_blanks", "load_manifest",
           "parse_manifest", "score"]
