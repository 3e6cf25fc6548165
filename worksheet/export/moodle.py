"""Questions → Moodle XML: one ``<quiz>``, a category per variant, a Cloze question per problem.

    <question type="category">   $course$/top/TITLE/Variant v01
    <question type="cloze">      the sheet in HTML, each number a NUMERICAL field:
                                 {2:NUMERICAL:=-4.5:0#Right.~%0%4.5:0#The sign is wrong: …~…}
                                 the key (the sheet with every blank filled in) as general feedback

Moodle's Cloze parser (question/type/multianswer) finds ``{weight:TYPE:…}`` anywhere in the
question's HTML: every ``{`` of the sheet itself is written ``&#123;``, so no formula or title
opens a field. In a field, an answer's feedback ends at ``~`` or ``}``, and Moodle decodes its
HTML entities afterwards: the characters Cloze reserves (``} # ~ / " \\`` and ``{``) are
written there as character references, which is how they reach the student unchanged. A blank
weighs the same whatever its size: a vector's elements share its weight.
"""

from __future__ import annotations

import html
import math
from xml.etree.ElementTree import Element, SubElement, indent, tostring

from .accepted import Accepted, decimal
from .key import INSTRUCTIONS, ROUNDED, written
from .questions import Entry, Question
from .sheet import page, shaped

RIGHT = "Right."
RESERVED = {"}": "&#125;", "{": "&#123;", "~": "&#126;", "#": "&#35;", "/": "&#47;", '"': "&#34;", "\\": "&#92;"}
"""The characters the Cloze syntax reserves, as the references written in a field's feedback."""
MAX_WEIGHT = 720
"""The largest weight of a blank (the lcm of its problem's blank sizes): past it, each number weighs 1."""
_FIELD = "\ue010{}\ue011"  # where a field goes in the serialized HTML (private-use: never in a sheet)
PENALTY = "0.3333333"


def moodle(questions: list[Question], title: str) -> str:
    """The Moodle XML of ``questions`` (a handout's, variant by variant), as text."""
    quiz = Element("quiz")
    variant = None
    for question in questions:
        if question.position[0] != variant:
            variant = question.position[0]
            quiz.append(_category(title, question.variant))
        quiz.append(_cloze(question))
    indent(quiz)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(quiz, encoding="unicode") + "\n"


def field(entry: Entry, weight: int) -> str:
    """One number's Cloze field: the right interval, then each mistake's at 0 % with its feedback."""
    answers = [f"={_interval(entry.right)}#{feedback(RIGHT)}"]
    answers += [f"%0%{_interval(interval)}#{feedback(mistake.feedback)}" for interval, mistake in entry.wrong]
    return "{" + f"{weight}:NUMERICAL:" + "~".join(answers) + "}"


def feedback(text: str) -> str:
    """Plain text as a Cloze field's feedback: its HTML, each reserved character a reference."""
    return "".join(RESERVED.get(ch, ch) for ch in html.escape(text, quote=False))


def _interval(interval: Accepted) -> str:
    return f"{decimal(interval.value)}:{decimal(interval.tolerance)}"


def _category(title: str, variant: str) -> Element:
    """A category per variant, under the handout's (a / in a name is written //, as Moodle does)."""
    question = Element("question", type="category")
    path = "/".join(name.replace("/", "//") for name in ("$course$", "top", title or "Handout", f"Variant {variant}"))
    _text(SubElement(question, "category"), path)
    _text(SubElement(question, "info", format="html"), "")
    return question


def _cloze(question: Question) -> Element:
    element = Element("question", type="cloze")
    _text(SubElement(element, "name"), question.name)
    _text(SubElement(element, "questiontext", format="html"), _question_html(question))
    _text(SubElement(element, "generalfeedback", format="html"), _key_html(question))
    SubElement(element, "penalty").text = PENALTY
    SubElement(element, "hidden").text = "0"
    SubElement(element, "idnumber").text = ""
    return element


def _question_html(question: Question) -> str:
    """The sheet with a field for each number, every ``{`` of its text made inert."""
    weights = _weights(question)
    fields: list[str] = []

    def fill(number: int):
        blank = next(b for b in question.blanks if b.number == number)
        placed = []
        for entry in blank.entries:
            placed.append(_FIELD.format(len(fields)))
            fields.append(field(entry, weights[number]))
        return [f"({number}) ", *shaped(blank.shape, placed)]

    div = page(question.blocks, fill)
    div.insert(0, _instructions(question))
    text = tostring(div, encoding="unicode", method="html").replace("{", "&#123;")
    for i, code in enumerate(fields):
        text = text.replace(_FIELD.format(i), html.escape(code, quote=False))
    return text


def _key_html(question: Question) -> str:
    """The key: the sheet with each blank's value written in, under its number."""
    def fill(number: int):
        blank = next(b for b in question.blanks if b.number == number)
        strong = Element("strong")
        strong.text = f"({number}) {written(blank)}"
        return [strong]

    div = page(question.blocks, fill)
    heading = Element("p")
    heading.text = "Answer key: every blank's value, under its number."
    div.insert(0, heading)
    return tostring(div, encoding="unicode", method="html")


def _instructions(question: Question) -> Element:
    p = Element("p")
    p.text = INSTRUCTIONS + (" " + ROUNDED if question.rounded else "")
    return p


def _weights(question: Question) -> dict[int, int]:
    """Each blank's weight per number typed: equal per blank (the lcm of the sizes), or 1 each."""
    sizes = {b.number: len(b.entries) for b in question.blanks}
    total = math.lcm(*sizes.values()) if sizes else 1
    if total > MAX_WEIGHT:
        return dict.fromkeys(sizes, 1)
    return {n: total // size for n, size in sizes.items()}


def _text(parent: Element, text: str) -> None:
    SubElement(parent, "text").text = text


__all__ = ["feedback", "field", "moodle"]
