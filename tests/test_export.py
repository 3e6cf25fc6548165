"""worksheet export: a handout's manifest → Moodle XML, a QTI 2.1 package, a Canvas package.

The files are read back with parsers written here from the formats' documentation (a Cloze
parser after Moodle's question/type/multianswer grammar, a QTI 2.1 response-processing
interpreter, Canvas's numerical answer), never with the writer's code; every value is checked
against the manifest's exact value (Fraction) and, for a gradient, against sympy.diff of the
problem's source at its inputs; every interval against what ``worksheet grade`` accepts.
"""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import pytest
import sympy
from conftest import SAMPLES
from lxml import etree
from lxml import html as lxml_html

QTI = "{http://www.imsglobal.org/xsd/imsqti_v2p1}"
CP = "{http://www.imsglobal.org/xsd/imscp_v1p1}"
CC = "{http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1}"
QTI12 = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
SCHEMAS = Path(__file__).parent / "schemas"

# ── handouts (made once per module) ───────────────────────────────────────────────────────


def _handout(root: Path, problem_set: Path, variants: int) -> Path:
    from worksheet.cli import main

    out = root / problem_set.stem
    assert main(["handout", str(problem_set), "-n", str(variants), "--key", "-f", "md", "-o", str(out)]) == 0
    return out / "manifest.json"


@pytest.fixture(scope="module")
def manifests(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("handouts")
    return {"backprop": _handout(root, SAMPLES / "backprop_set.toml", 3),
            "model": _handout(root, SAMPLES / "model_set.toml", 2)}


def _export(lms: str, manifest: Path) -> str | bytes:
    from worksheet.export import export

    return export(lms, manifest)


def _problems(manifest: Path) -> list[tuple[str, dict]]:
    data = json.loads(manifest.read_text())
    return [(v["id"], p) for v in data["variants"] for p in v["problems"]]


# ── independent oracles ───────────────────────────────────────────────────────────────────

SIGMOID = sympy.Function("sigmoid")


def _exact(text: str) -> sympy.Expr:
    """A manifest value (trusted test data we just made) as SymPy, σ written out."""
    return sympy.sympify(text, locals={"sigmoid": lambda z: 1 / (1 + sympy.exp(-z))})


def _elements(text: str) -> list[Fraction]:
    """A model blank's exact value "[-3, -7]" or "[[1, 2], [3, 4]]", element by element."""
    return [Fraction(t) for t in re.findall(r"-?\d+(?:/\d+)?", text)]


def _gradient(source: str, wrt: str, inputs: dict) -> sympy.Expr:
    """∂L/∂wrt of a formula or a program of assignments, by sympy.diff, at the inputs."""
    names = {name: sympy.Symbol(name) for name in inputs}
    local = {"sigmoid": lambda z: 1 / (1 + sympy.exp(-z)), **names}
    body = [line for line in source.strip().splitlines() if line.strip()]
    expr = None
    for line in body:
        if "=" in line:
            name, definition = (part.strip() for part in line.split("=", 1))
            local[name] = expr = sympy.sympify(definition, locals=local)
        else:
            expr = sympy.sympify(line, locals=local)
    point = {names[k]: sympy.Rational(v) for k, v in inputs.items()}
    return sympy.diff(expr, names[wrt]).subs(point)


def _rounded(value: sympy.Expr, places: int) -> Fraction:
    digits = Decimal(str(sympy.N(value, 60))).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return Fraction(digits)


def _grader_accepts(entry: dict, number: str, text: str) -> bool:
    from worksheet.assess.blanks import grade_blanks

    return grade_blanks(entry, {number: text})[number].verdict == "correct"


# ── a Cloze parser (Moodle's question/type/multianswer grammar, written again here) ───────

_ALT = (r"(=|%(-?[0-9]+(?:[.,][0-9]*)?)%)?"
        r"(.+?(?<!\\)(?<!&)(?<!&amp;)(?=[~#}]|$))"
        r"(#(.*?(?<!\\)(?=[~}]|$)))?")
_FIELD = re.compile(r"\{([0-9]*):(NUMERICAL|NM|MULTICHOICE|MC|SHORTANSWER|SA|MW):(" + _ALT + r"(~" + _ALT + r")*)\}",
                    re.S)
_NUMBER = r"-?(?:[0-9]+[.,]?[0-9]*|[.,][0-9]+)(?:[eE][-+]?[0-9]+)?"
_NUMERICAL = re.compile(f"^({_NUMBER})(?::({_NUMBER}))?$")


def cloze_fields(text: str) -> list[dict]:
    """Every subquestion of a Cloze question text, as Moodle finds them (leftmost first)."""
    fields = []
    for match in _FIELD.finditer(text):
        assert match.group(2) == "NUMERICAL"
        answers, rest = [], match.group(3)
        while rest:
            alt = re.match("~?" + _ALT, rest, re.S)
            assert alt, rest
            number = _NUMERICAL.match(alt.group(3))
            assert number, alt.group(3)
            said = html.unescape(alt.group(5) or "").replace("\\}", "}").replace("\\#", "#")  # as Moodle decodes it
            answers.append({"fraction": 1 if alt.group(1) == "=" else Fraction(alt.group(2) or 0) / 100,
                            "value": Fraction(number.group(1)), "tolerance": Fraction(number.group(2) or 0),
                            "feedback": lxml_html.fromstring(f"<p>{said}</p>").text_content() if said else ""})
            rest = rest[len(alt.group(0)):]
        fields.append({"weight": int(match.group(1) or 1), "answers": answers, "at": match.start()})
    return fields


def _moodle_questions(text: str) -> list[etree._Element]:
    quiz = etree.fromstring(text.encode())
    assert quiz.tag == "quiz"
    return quiz.findall("question")


def _fields_by_blank(question: etree._Element, problem: dict) -> dict[int, list[dict]]:
    """The question's fields, blank by blank: blanks run in reading order, each with one field
    per number (an element of a vector or matrix each), each after its label (n)."""
    text = question.findtext("questiontext/text")
    fields = cloze_fields(text)
    out, i = {}, 0
    for number in sorted(problem["blanks"], key=int):
        size = len(_elements(problem["blanks"][number])) if problem["blanks"][number].startswith("[") else 1
        out[int(number)] = fields[i:i + size]
        before = lxml_html.fromstring(f"<div>{text[:fields[i]['at']]}</div>").text_content()
        assert re.findall(r"\((\d+)\) ", before)[-1] == number  # the field sits at its blank's label
        i += size
    assert i == len(fields)  # and there is no other field
    return out


# ── Moodle ────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("which", ["backprop", "model"])
def test_moodle_has_a_category_per_variant_and_a_cloze_question_per_problem(manifests, which):
    questions = _moodle_questions(_export("moodle", manifests[which]))
    data = json.loads(manifests[which].read_text())
    expected = []
    for variant in data["variants"]:
        expected += ["category"] + ["cloze"] * len(variant["problems"])
    assert [q.get("type") for q in questions] == expected
    for q in questions:
        _check_moodle_structure(q)
    paths = [q.findtext("category/text") for q in questions if q.get("type") == "category"]
    assert paths == [f"$course$/top/{data['title']}/Variant {v['id']}" for v in data["variants"]]


def _check_moodle_structure(question: etree._Element) -> None:
    """Moodle XML as docs.moodle.org's "Moodle XML format" describes a category and a Cloze
    question (Moodle has no XSD): the elements it reads, each with its <text>."""
    if question.get("type") == "category":
        assert [c.tag for c in question] == ["category", "info"]
        assert question.findtext("category/text").startswith("$course$/top/")
        return
    assert [c.tag for c in question] == ["name", "questiontext", "generalfeedback", "penalty", "hidden", "idnumber"]
    assert question.find("questiontext").get("format") == question.find("generalfeedback").get("format") == "html"
    assert question.findtext("name/text").strip()
    for part in ("questiontext", "generalfeedback"):
        page = lxml_html.fragment_fromstring(question.findtext(f"{part}/text"))
        assert {e.tag for e in page.iter()} <= {"div", "p", "h3", "h4", "pre", "table", "thead", "tbody", "tr", "th",
                                                 "td", "strong"}
    assert 0 <= float(question.findtext("penalty")) <= 1 and question.findtext("hidden") == "0"


@pytest.mark.parametrize("which", ["backprop", "model"])
def test_every_blank_is_a_moodle_field_with_its_exact_value(manifests, which):
    questions = [q for q in _moodle_questions(_export("moodle", manifests[which])) if q.get("type") == "cloze"]
    problems = _problems(manifests[which])
    assert len(questions) == len(problems)
    checked = 0
    for question, (_, problem) in zip(questions, problems):
        for number, fields in _fields_by_blank(question, problem).items():
            text, quantity = problem["blanks"][str(number)], problem["quantities"][str(number)]
            exact = _elements(text) if text.startswith("[") else [_exact(text)]
            for field, value in zip(fields, exact):
                right = [a for a in field["answers"] if a["fraction"] == 1]
                assert len(right) == 1 and field["answers"][0] is right[0]
                _check_interval(right[0], value, quantity.get("decimals"))
                checked += 1
    assert checked > 20


def _check_interval(right: dict, value, places: int | None) -> None:
    """The right answer is the exact value (± 0, where its decimal ends), the value rounded to
    the blank's places ± one unit, or (a fraction such as 1/3) a decimal whose tolerance holds
    every rounding of 3 significant digits or more."""
    low, high = right["value"] - right["tolerance"], right["value"] + right["tolerance"]
    if places is not None:
        assert right["value"] == _rounded(sympy.sympify(value), places)
        assert right["tolerance"] == Fraction(1, 10**places)
        return
    value = Fraction(int(sympy.Rational(value).p), int(sympy.Rational(value).q))
    assert low <= value <= high
    if right["tolerance"] == 0:
        assert right["value"] == value
    for k in range(1, 12):  # every rounding grade would take (3+ significant digits) is inside
        rounded = _rounded(sympy.Rational(value.numerator, value.denominator), k)
        if len(str(abs(rounded.numerator * 10**k // rounded.denominator)).lstrip("0")) >= 3:
            assert low <= rounded <= high


@pytest.mark.parametrize("which", ["backprop", "model"])
def test_gradient_blanks_match_sympy_diff_of_the_source(manifests, which):
    questions = [q for q in _moodle_questions(_export("moodle", manifests[which])) if q.get("type") == "cloze"]
    seen = 0
    for question, (_, problem) in zip(questions, _problems(manifests[which])):
        for number, fields in _fields_by_blank(question, problem).items():
            quantity = problem["quantities"][str(number)]
            if (quantity["kind"] not in ("gradient", "sum") or "param" in problem["source"]
                    or quantity.get("wrt", quantity.get("node")) not in problem["inputs"]):
                continue  # (a model's: against the hand-computed regression below)
            quantity = {**quantity, "wrt": quantity.get("wrt") or quantity["node"]}  # a fan-out sum into an input
            oracle = _gradient(problem["source"], quantity["wrt"], problem["inputs"])
            right = fields[0]["answers"][0]
            if "decimals" in quantity:
                assert right["value"] == _rounded(oracle, quantity["decimals"])
            else:
                assert right["value"] == Fraction(str(oracle)) and right["tolerance"] == 0
            seen += 1
    assert seen >= 4


def test_the_model_gradients_match_a_hand_computed_linear_regression(manifests):
    """model_set's first problem: loss = mse(x w + b, y), so ∂loss/∂w = (2/N) xᵀ(x w + b − y)."""
    questions = [q for q in _moodle_questions(_export("moodle", manifests["model"])) if q.get("type") == "cloze"]
    for question, (_, problem) in zip(questions, _problems(manifests["model"])):
        if "mse" not in problem["source"]:
            continue
        w, b = _elements(problem["inputs"]["w"]), Fraction(problem["inputs"]["b"])
        x, y = [[Fraction(1), Fraction(2)], [Fraction(3), Fraction(4)]], [Fraction(3), Fraction(7)]
        residual = [sum(xi * wi for xi, wi in zip(row, w)) + b - yi for row, yi in zip(x, y)]
        dw = [2 * sum(x[i][j] * residual[i] for i in range(2)) / 2 for j in range(2)]
        db = 2 * sum(residual) / 2
        fields = _fields_by_blank(question, problem)
        for number, quantity in problem["quantities"].items():
            if quantity["kind"] == "gradient":
                typed = [f["answers"][0]["value"] for f in fields[int(number)]]
                assert typed == (dw if quantity["wrt"] == "w" else [db])


def test_wrong_answers_differ_from_the_right_one_and_say_what_is_wrong(manifests):
    questions = [q for q in _moodle_questions(_export("moodle", manifests["backprop"])) if q.get("type") == "cloze"]
    chain = 0
    for question, (_, problem) in zip(questions, _problems(manifests["backprop"])):
        fields = _fields_by_blank(question, problem)
        locals_of = {(q["node"], q["input"], q["position"]): n for n, q in problem["quantities"].items()
                     if q["kind"] == "local"}
        for number, (field,) in fields.items():
            right, *wrong = field["answers"]
            intervals = [(a["value"] - a["tolerance"], a["value"] + a["tolerance"]) for a in field["answers"]]
            for i, (low, high) in enumerate(intervals):  # no number is both right and wrong, or two mistakes
                assert all(high < lo or hi < low for lo, hi in intervals[i + 1:])
            assert all(a["fraction"] == 0 and a["feedback"] for a in wrong)
            if right["value"] != 0:
                assert any(a["value"] == -right["value"] and "sign" in a["feedback"] for a in wrong)
            quantity = problem["quantities"][str(number)]
            step = (quantity.get("node"), quantity.get("input"), quantity.get("position"))
            if quantity["kind"] == "product" and step in locals_of:  # the local derivative alone: a missing factor
                local = fields[int(locals_of[step])][0]["answers"][0]
                if abs(local["value"] - right["value"]) > right["tolerance"] + local["tolerance"]:
                    assert any(abs(a["value"] - local["value"]) <= a["tolerance"] + local["tolerance"]
                               and "alone" in a["feedback"] for a in wrong)
                    chain += 1
    assert chain > 3


def test_tolerances_accept_what_grade_accepts_and_refuse_a_wrong_value(manifests):
    questions = [q for q in _moodle_questions(_export("moodle", manifests["backprop"])) if q.get("type") == "cloze"]
    rounded = exact = 0
    for question, (_, problem) in zip(questions, _problems(manifests["backprop"])):
        for number, (field,) in _fields_by_blank(question, problem).items():
            right = field["answers"][0]
            places = problem["quantities"][str(number)].get("decimals")
            if places is not None:  # the rounded value and one unit either side, written to the places
                unit = Fraction(1, 10**places)
                for k, verdict in ((-1, True), (0, True), (1, True), (-2, False), (2, False)):
                    typed = right["value"] + k * unit
                    inside = abs(typed - right["value"]) <= right["tolerance"]
                    assert inside == verdict
                    assert _grader_accepts(problem, str(number), _decimal(typed, places)) == verdict
                rounded += 1
            else:
                assert _grader_accepts(problem, str(number), _decimal(right["value"]))
                outside = right["value"] + right["tolerance"] + Fraction(1, 1000) + abs(right["value"]) / 100
                assert not _grader_accepts(problem, str(number), _decimal(outside))
                exact += 1
    assert rounded > 10 and exact > 10


def _decimal(x: Fraction, places: int | None = None) -> str:
    if places is None:
        places = 0
        while (x * 10**places).denominator != 1:
            places += 1
    return f"{Decimal(x.numerator) / Decimal(x.denominator):.{places}f}"


def test_a_non_terminating_value_gets_the_tolerance_of_its_shortest_accepted_rounding():
    from worksheet.export.accepted import accepted

    for value in (sympy.Rational(1, 3), sympy.Rational(-2, 3), sympy.Rational(1, 64), sympy.Rational(12345, 7)):
        interval = accepted(value, None)
        v = Fraction(int(value.p), int(value.q))
        roundings = [_rounded(value, k) for k in range(1, 15)]
        taken = [r for r in roundings if len(str(abs(int(r * 10**14))).strip("0")) >= 3 and abs(r - v) > 0]
        for r in taken:
            assert interval.holds(r)
        widest = max((abs(r - v) for r in taken if _digits(r) >= 3), default=Fraction(0))
        assert interval.tolerance <= widest * Fraction(101, 100) + abs(interval.value - v) + Fraction(1, 10**9)


def _digits(x: Fraction) -> int:
    text = _decimal(x).lstrip("-").replace(".", "").lstrip("0")
    return len(text)


def test_the_key_is_the_general_feedback_with_every_value(manifests):
    questions = [q for q in _moodle_questions(_export("moodle", manifests["backprop"])) if q.get("type") == "cloze"]
    for question, (_, problem) in zip(questions, _problems(manifests["backprop"])):
        key = lxml_html.fragment_fromstring(question.findtext("generalfeedback/text")).text_content()
        assert "{" not in key
        for number in problem["blanks"]:
            assert f"({number}) " in key


# ── QTI 2.1 ───────────────────────────────────────────────────────────────────────────────

ALLOWED_BODY = {"itemBody", "div", "p", "h3", "h4", "pre", "table", "thead", "tbody", "tr", "th", "td", "strong",
                "textEntryInteraction"}


@pytest.mark.parametrize("which", ["backprop", "model"])
def test_the_qti_package_has_a_manifest_and_an_item_per_problem(manifests, which):
    package = zipfile.ZipFile(io.BytesIO(_export("qti", manifests[which])))
    names = package.namelist()
    assert names[0] == "imsmanifest.xml"
    manifest = etree.fromstring(package.read("imsmanifest.xml"))
    assert manifest.tag == f"{CP}manifest" and [c.tag for c in manifest] == [f"{CP}metadata", f"{CP}organizations",
                                                                              f"{CP}resources"]
    resources = manifest.findall(f"{CP}resources/{CP}resource")
    assert len(resources) == len(_problems(manifests[which]))
    for resource in resources:
        assert resource.get("type") == "imsqti_item_xmlv2p1"
        assert [f.get("href") for f in resource.findall(f"{CP}file")] == [resource.get("href")]
        assert resource.get("href") in names
    _validate_if_present(manifest, "imscp_v1p1.xsd")
    for resource, (_, problem) in zip(resources, _problems(manifests[which])):
        item = etree.fromstring(package.read(resource.get("href")))
        _check_qti_item(item)
        _check_qti_scores(item, problem)


def _validate_if_present(document, name: str) -> None:
    """Against the IMS XSD where one is placed in tests/schemas (they are not vendored: see
    tests/schemas/README.md); the structural checks run always."""
    path = SCHEMAS / name
    if path.exists():
        schema = etree.XMLSchema(etree.parse(str(path)))
        assert schema.validate(document), schema.error_log


def _check_qti_item(item) -> None:
    """An assessmentItem as the QTI 2.1 information model orders it, every response a float
    declared once and typed in one textEntryInteraction, every variable declared."""
    assert item.tag == f"{QTI}assessmentItem"
    assert {"identifier", "title", "adaptive", "timeDependent"} <= set(item.attrib)
    order = ["responseDeclaration", "outcomeDeclaration", "itemBody", "responseProcessing", "modalFeedback"]
    tags = [c.tag.replace(QTI, "") for c in item]
    assert tags == sorted(tags, key=order.index)
    declared = {d.get("identifier"): d for d in item.findall(f"{QTI}responseDeclaration")}
    assert all(d.get("cardinality") == "single" and d.get("baseType") == "float" for d in declared.values())
    assert all(float(d.findtext(f"{QTI}correctResponse/{QTI}value")) == float(d.findtext(f"{QTI}correctResponse/{QTI}value"))
               for d in declared.values())
    body = item.find(f"{QTI}itemBody")
    assert {e.tag.replace(QTI, "") for e in body.iter()} <= ALLOWED_BODY
    boxes = [e.get("responseIdentifier") for e in body.iter(f"{QTI}textEntryInteraction")]
    assert sorted(boxes) == sorted(declared) and len(set(boxes)) == len(boxes)
    assert not list(body.iter(f"{QTI}pre")) or all(not list(p.iter(f"{QTI}textEntryInteraction"))
                                                  for p in body.iter(f"{QTI}pre"))
    assert all(t.find(f"{QTI}tbody") is not None for t in body.iter(f"{QTI}table"))
    outcomes = {o.get("identifier") for o in item.findall(f"{QTI}outcomeDeclaration")}
    for variable in item.iter(f"{QTI}variable"):
        assert variable.get("identifier") in set(declared) | outcomes
    feedback = {m.get("identifier") for m in item.findall(f"{QTI}modalFeedback")}
    for value in item.iter(f"{QTI}baseValue"):
        if value.get("baseType") == "identifier":
            assert value.text in feedback
        else:
            float(value.text)


def _run_processing(item, responses: dict[str, Fraction]) -> dict:
    """QTI 2.1 response processing, for the operators an item uses (a small interpreter)."""
    outcomes = {"SCORE": Fraction(0), "FEEDBACK": set()}

    def value(e):
        tag = e.tag.replace(QTI, "")
        if tag == "variable":
            name = e.get("identifier")
            return responses.get(name) if name in responses or name.startswith("B") else outcomes[name]
        if tag == "baseValue":
            return e.text if e.get("baseType") == "identifier" else Fraction(e.text)
        args = [value(c) for c in e]
        if tag == "and":
            return None if None in args else all(args)
        if tag in ("gte", "lte"):
            a, b = args
            return None if a is None else (a >= b if tag == "gte" else a <= b)
        if tag == "sum":
            return sum(args)
        if tag == "multiple":
            return set(args[0]) | {args[1]}
        raise AssertionError(tag)

    for condition in item.find(f"{QTI}responseProcessing"):
        for branch in condition:
            test, *actions = list(branch)
            if value(test):
                for action in actions:
                    outcomes[action.get("identifier")] = value(action[0])
                break
    return outcomes


def _check_qti_scores(item, problem: dict) -> None:
    """Typing every right value scores the item's MAXSCORE; typing each value's negative (where
    it is a diagnosed mistake) scores nothing and names its feedback."""
    declared = item.findall(f"{QTI}responseDeclaration")
    right = {d.get("identifier"): Fraction(d.findtext(f"{QTI}correctResponse/{QTI}value")) for d in declared}
    maximum = Fraction(next(o for o in item.findall(f"{QTI}outcomeDeclaration")
                            if o.get("identifier") == "MAXSCORE").findtext(f"{QTI}defaultValue/{QTI}value"))
    assert maximum == len(problem["blanks"])
    assert _run_processing(item, right)["SCORE"] == maximum
    negated = {k: -v for k, v in right.items() if v != 0}
    wrong = _run_processing(item, negated)
    named = {f.split("_W")[0] for f in wrong["FEEDBACK"]}
    assert wrong["SCORE"] == 0 and named <= set(negated) and 2 * len(named) >= len(negated)
    assert _run_processing(item, {})["SCORE"] == 0  # unanswered: nothing


# ── Canvas (QTI 1.2) ──────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("which", ["backprop", "model"])
def test_the_canvas_package_has_a_quiz_per_variant_and_a_numerical_question_per_number(manifests, which):
    package = zipfile.ZipFile(io.BytesIO(_export("canvas", manifests[which])))
    names = package.namelist()
    manifest = etree.fromstring(package.read("imsmanifest.xml"))
    assert manifest.tag == f"{CC}manifest" and "non_cc_assessments/" in names
    quizzes = [r for r in manifest.iter(f"{CC}resource") if r.get("type") == "imsqti_xmlv1p2"]
    data = json.loads(manifests[which].read_text())
    assert len(quizzes) == len(data["variants"])
    metas = {r.get("identifier"): r for r in manifest.iter(f"{CC}resource") if r.get("href")}
    for quiz, variant in zip(quizzes, data["variants"]):
        href = quiz.find(f"{CC}file").get("href")
        meta = metas[quiz.find(f"{CC}dependency").get("identifierref")]
        assert href in names and meta.get("href") in names
        assessment = etree.fromstring(package.read(href))
        assert etree.fromstring(package.read(meta.get("href"))).get("identifier") == quiz.get("identifier")
        items = list(assessment.iter(f"{QTI12}item"))
        kinds = [_canvas_field(i, "question_type") for i in items]
        assert kinds.count("text_only_question") == len(variant["problems"])
        numbers = [i for i, k in zip(items, kinds) if k == "numerical_question"]
        expected = [(n, e) for p in variant["problems"] for n in sorted(p["blanks"], key=int)
                    for e in (_elements(p["blanks"][n]) if p["blanks"][n].startswith("[") else [p["blanks"][n]])]
        assert len(numbers) == len(expected)
        problems = {n: p for p in variant["problems"] for n in p["blanks"]}
        for item, (number, exact) in zip(numbers, expected):
            low, high, equal = _canvas_range(item)
            places = problems[number]["quantities"][number].get("decimals")
            value = _rounded(_exact(exact) if isinstance(exact, str) else exact, places) if places else (
                Fraction(exact) if not isinstance(exact, str) else Fraction(str(_exact(exact))))
            assert low <= value <= high and low <= equal <= high
            assert f"({number})" in _canvas_stem(item)


def _canvas_field(item, label: str) -> str:
    for field in item.iter(f"{QTI12}qtimetadatafield"):
        if field.findtext(f"{QTI12}fieldlabel") == label:
            return field.findtext(f"{QTI12}fieldentry")
    raise AssertionError(label)


def _canvas_range(item) -> tuple[Fraction, Fraction, Fraction]:
    """The numerical answer as Canvas imports it: an exact value with a margin (varequal, then
    vargte/varlte), the one condition that sets SCORE to 100."""
    scoring = [c for c in item.iter(f"{QTI12}respcondition") if c.findtext(f"{QTI12}setvar") == "100"]
    assert len(scoring) == 1
    either = scoring[0].find(f"{QTI12}conditionvar/{QTI12}or")
    equal = Fraction(either.findtext(f"{QTI12}varequal"))
    low = Fraction(either.findtext(f"{QTI12}and/{QTI12}vargte"))
    high = Fraction(either.findtext(f"{QTI12}and/{QTI12}varlte"))
    assert high - equal == equal - low  # Canvas reads the margin as varlte − varequal
    return low, high, equal


def _canvas_stem(item) -> str:
    return lxml_html.fromstring(item.findtext(f"{QTI12}presentation/{QTI12}material/{QTI12}mattext")).text_content()


# ── hostile text, the command line ────────────────────────────────────────────────────────

HOSTILE_TITLE = 'Drill <script>alert(1)</script> ]]> } # ~ {1:NUMERICAL:=5} / " \\ &amp;'


def _hostile_manifest(tmp_path: Path) -> Path:
    problem_set = tmp_path / "hostile.toml"
    problem_set.write_text(
        f"title = {json.dumps(HOSTILE_TITLE)}\n\n[[problem]]\nprogram = \"\"\"\n"
        "# </pre><script>x</script> ]]> {1:NUMERICAL:=5} } # ~ \\\\ \"\n"
        "r = w*x - y\nL = r**2\n\"\"\"\nwrt = \"w\"\nat = \"x=2,y=1\"\n[problem.vary]\nw = [1, 3]\n")
    return _handout(tmp_path, problem_set, 2)


def test_hostile_titles_and_sources_are_text_in_every_format(tmp_path):
    manifest = _hostile_manifest(tmp_path)
    problems = _problems(manifest)
    questions = _moodle_questions(_export("moodle", manifest))
    assert questions[0].findtext("category/text") == f"$course$/top/{HOSTILE_TITLE.replace('/', '//')}/Variant v01"
    for question, (_, problem) in zip([q for q in questions if q.get("type") == "cloze"], problems):
        assert HOSTILE_TITLE in question.findtext("name/text")
        _fields_by_blank(question, problem)  # exactly one field per number: the comment's {1:…} is no field
        page = lxml_html.fragment_fromstring(question.findtext("questiontext/text"))
        assert not page.xpath("//script") and "{1:NUMERICAL:=5}" in page.text_content()
    for lms in ("qti", "canvas"):
        package = zipfile.ZipFile(io.BytesIO(_export(lms, manifest)))
        for name in package.namelist():
            if name.endswith(".xml"):
                document = etree.fromstring(package.read(name))  # well-formed, whatever the title
                assert not document.xpath("//*[local-name()='script']")
                for mattext in document.iter(f"{QTI12}mattext"):  # HTML as escaped text: it holds no script
                    page = lxml_html.fragment_fromstring(f"<div>{mattext.text}</div>")
                    assert not page.xpath("//script")
                    assert "<script>" in page.text_content() or "Problem" in page.text_content() or "Not right" in page.text_content()
        if lms == "qti":
            item = etree.fromstring(package.read(package.namelist()[1]))
            assert item.get("title").startswith(HOSTILE_TITLE)


def test_the_cloze_feedback_keeps_its_reserved_characters():
    from worksheet.export.moodle import feedback

    text = 'a } b # c ~ d / e " f \\ g { h <i> & j'
    field = "{1:NUMERICAL:=1:0#" + html.escape(feedback(text), quote=False) + "~%0%2:0#" + feedback("x") + "}"
    (parsed,) = cloze_fields(field)  # as it stands in the question's HTML
    assert [a["feedback"] for a in parsed["answers"]] == [text, "x"]


def test_the_same_manifest_gives_the_same_bytes(manifests):
    for lms in ("moodle", "qti", "canvas"):
        assert _export(lms, manifests["backprop"]) == _export(lms, manifests["backprop"])


def test_export_writes_the_file_and_refuses_bad_input_in_one_line(cli, manifests, tmp_path):
    out = tmp_path / "quiz.xml"
    result = cli("export", "moodle", str(manifests["backprop"]), "-o", str(out))
    assert result.code == 0, result.err
    assert _moodle_questions(out.read_text())
    zipped = tmp_path / "quiz.zip"
    assert cli("export", "canvas", str(manifests["model"]), "-o", str(zipped)).code == 0
    assert zipfile.ZipFile(zipped).testzip() is None

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"schema": "worksheet.handout/1", "variants": [{"id": "v1", "problems": [{"inputs": {},
                   "blanks": {"1": "2"}, "source": "x*w", "wrt": ["w"], "problem": 1,
                   "quantities": {"1": {"kind": "forward", "node": "nowhere"}}}]}]}))
    for args, words in [
        (["export", "moodle", str(bad), "-o", str(tmp_path / "a.xml")], "bad.json"),
        (["export", "qti", str(tmp_path / "missing.json"), "-o", str(tmp_path / "a.zip")], "cannot read"),
        (["export", "qti", str(manifests["backprop"]), "-o", str(tmp_path / "a.xml")], ".zip"),
        (["export", "moodle", str(manifests["backprop"]), "-o", str(tmp_path / "a.zip")], ".xml"),
        (["export", "pdf", str(manifests["backprop"]), "-o", str(tmp_path / "a.xml")], "pdf"),
    ]:
        result = cli(*args)
        assert result.code == 2 and words in result.err, (args, result.err)
        assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err
        assert not (tmp_path / "a.xml").exists() and not (tmp_path / "a.zip").exists()


def test_export_never_replaces_its_manifest(cli, manifests, tmp_path):
    copy = tmp_path / "manifest.xml"
    copy.write_bytes(manifests["backprop"].read_bytes())
    result = cli("export", "moodle", str(copy), "-o", str(copy))
    assert result.code == 2 and "input" in result.err
    assert copy.read_bytes() == manifests["backprop"].read_bytes()


def test_an_older_manifest_without_quantities_is_refused_in_one_line(cli, manifests, tmp_path):
    data = json.loads(manifests["backprop"].read_text())
    for variant in data["variants"]:
        for problem in variant["problems"]:
            del problem["quantities"]
    old = tmp_path / "old.json"
    old.write_text(json.dumps(data))
    result = cli("export", "qti", str(old), "-o", str(tmp_path / "q.zip"))
    assert result.code == 2 and "quantities" in result.err and len(result.err.strip().splitlines()) == 1
    assert not (tmp_path / "q.zip").exists()


def test_export_help_has_an_example_and_fits_80_columns(cli):
    text = cli("export", "--help").out
    assert "worksheet export moodle" in text and "-o, --output FILE" in text
    assert all(len(line) <= 80 for line in text.splitlines()), text
