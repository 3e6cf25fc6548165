"""Questions → a Canvas quiz package: QTI 1.2 as Canvas imports it ("QTI .zip file"), one quiz
per variant, laid out as the field-tested Canvas generators lay it (text2qti's templates,
reverse-engineered from Canvas's own exports):

    imsmanifest.xml                   resource imsqti_xmlv1p2 → W_v01/W_v01.xml, depending on
                                      its assessment_meta.xml (learning-application-resource)
    non_cc_assessments/
    W_v01/W_v01.xml                   questestinterop: per problem a text_only_question (the sheet,
                                      blanks as (6)______), then a numerical_question per number
    W_v01/assessment_meta.xml         the quiz's title and points

A numerical question grades a number as a number: right when it is the value, or within the
tolerance (``<or><varequal/><and><vargte/><varlte/></and></or>``, which Canvas imports as an
exact answer with a margin). Canvas counts every answer of a numerical question as right, so the
diagnosed wrong answers cannot be given as answers: a hint on a wrong answer names what to check.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, SubElement, tostring

from .accepted import decimal
from .package import content_package, identifier, namespaced, xml_text, zipped
from .key import INSTRUCTIONS, ROUNDED
from .questions import Blank, Entry, Question
from .sheet import page, shaped

QTI12 = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
QTI12_XSD = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2p1.xsd"
CC = "http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"
CC_XSD = "http://www.imsglobal.org/xsd/imscp_v1p1.xsd"
CANVAS = "http://canvas.instructure.com/xsd/cccv1p0"
CANVAS_XSD = "https://canvas.instructure.com/xsd/cccv1p0.xsd"
HINT = ("Not right: check the sign, the constant factors and each factor of the chain rule (the upstream "
        "gradient times the local derivative).")


def canvas(questions: list[Question], title: str) -> bytes:
    """The package's zip: the manifest, then each variant's quiz and its metadata."""
    variants = list(dict.fromkeys(q.position[0] for q in questions))
    files: list[tuple[str, str | bytes]] = [("imsmanifest.xml", manifest(variants)), ("non_cc_assessments/", b"")]
    for variant in variants:
        asked = [q for q in questions if q.position[0] == variant]
        quiz = _quiz_id(variant)
        files += [(f"{quiz}/{quiz}.xml", assessment(asked, title)), (f"{quiz}/assessment_meta.xml", meta(asked, title))]
    return zipped(files)


def manifest(variants: list[int]) -> str:
    """imsmanifest.xml: per variant (by its place) its quiz, depending on its metadata."""
    root, resources = content_package(CC, CC_XSD, "IMS Content", "1.1.3")
    for variant in variants:
        quiz, meta_id = _quiz_id(variant), identifier(f"v{variant}", "meta")
        resource = SubElement(resources, "resource", identifier=quiz, type="imsqti_xmlv1p2")
        SubElement(resource, "file", href=f"{quiz}/{quiz}.xml")
        SubElement(resource, "dependency", identifierref=meta_id)
        dependency = SubElement(resources, "resource", identifier=meta_id,
                                type="associatedcontent/imscc_xmlv1p1/learning-application-resource",
                                href=f"{quiz}/assessment_meta.xml")
        SubElement(dependency, "file", href=f"{quiz}/assessment_meta.xml")
    return xml_text(root)


def assessment(questions: list[Question], title: str) -> str:
    """One variant's quiz: each problem's sheet, then a numerical question per number."""
    root = namespaced("questestinterop", QTI12, QTI12_XSD)
    first = questions[0]
    quiz = SubElement(root, "assessment", ident=_quiz_id(first.position[0]), title=_title(title, first.variant))
    _fields(SubElement(quiz, "qtimetadata"), [("cc_maxattempts", "1")])
    section = SubElement(quiz, "section", ident="root_section")
    for question in questions:
        section.append(_sheet(question))
        for blank in question.blanks:
            for entry in blank.entries:
                section.append(_numerical(question, blank, entry))
    return xml_text(root)


def meta(questions: list[Question], title: str) -> str:
    """assessment_meta.xml: the quiz's title, its points, and an unpublished assignment."""
    variant, place = questions[0].variant, questions[0].position[0]
    quiz, points = _quiz_id(place), _points(sum(q.points * len(q.blanks) for q in questions))
    root = Element("quiz", {"identifier": quiz, "xmlns": CANVAS, "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
                            "xsi:schemaLocation": f"{CANVAS} {CANVAS_XSD}"})
    for name, value in (("title", _title(title, variant)), ("description", ""), ("shuffle_answers", "false"),
                        ("scoring_policy", "keep_highest"), ("quiz_type", "assignment"), ("points_possible", points),
                        ("show_correct_answers", "true"), ("allowed_attempts", "1"), ("available", "false")):
        SubElement(root, name).text = value
    assignment = SubElement(root, "assignment", identifier=identifier(f"v{place}", "assignment"))
    for name, value in (("title", _title(title, variant)), ("workflow_state", "unpublished"),
                        ("quiz_identifierref", quiz), ("points_possible", points), ("grading_type", "points"),
                        ("submission_types", "online_quiz")):
        SubElement(assignment, name).text = value
    SubElement(root, "assignment_group_identifierref").text = identifier(f"v{place}", "assignment_group")
    return xml_text(root)


def _sheet(question: Question) -> Element:
    """The problem's sheet as a text-only question: every blank (n)______, as on paper."""
    def fill(number: int):
        return [f"({number})______"]

    div = page(question.blocks, fill)
    intro = Element("p")
    intro.text = INSTRUCTIONS + (" " + ROUNDED if question.rounded else "")
    div.insert(0, intro)
    ident = _item_id(question, "sheet")
    item = Element("item", ident=ident, title=question.name)
    _metadata(item, "text_only_question", "0", "", ident)
    _material(SubElement(item, "presentation"), tostring(div, encoding="unicode", method="html"))
    return item


def _numerical(question: Question, blank: Blank, entry: Entry) -> Element:
    """One number as a numerical question: the blank's line of the sheet, and its interval."""
    ident = _item_id(question, "B", entry.blank, *(k + 1 for k in entry.index))
    item = Element("item", ident=ident, title=f"Problem {question.problem}: {entry.label(blank.shape)}")
    _metadata(item, "numerical_question", _points(question.points / len(blank.entries)), f"{ident}_answer", ident)
    presentation = SubElement(item, "presentation")
    _material(presentation, _stem(question, blank, entry))
    response = SubElement(presentation, "response_str", ident="response1", rcardinality="Single")
    SubElement(SubElement(response, "render_fib", fibtype="Decimal"), "response_label", ident="answer1")
    processing = SubElement(item, "resprocessing")
    SubElement(SubElement(processing, "outcomes"), "decvar", maxvalue="100", minvalue="0", varname="SCORE",
               vartype="Decimal")
    right = SubElement(processing, "respcondition", {"continue": "No"})
    either = SubElement(SubElement(right, "conditionvar"), "or")
    SubElement(either, "varequal", respident="response1").text = decimal(entry.right.value)
    both = SubElement(either, "and")
    SubElement(both, "vargte", respident="response1").text = decimal(entry.right.low)
    SubElement(both, "varlte", respident="response1").text = decimal(entry.right.high)
    SubElement(right, "setvar", action="Set", varname="SCORE").text = "100"
    wrong = SubElement(processing, "respcondition", {"continue": "Yes"})
    SubElement(SubElement(wrong, "conditionvar"), "other")
    SubElement(wrong, "displayfeedback", feedbacktype="Response", linkrefid="general_incorrect_fb")
    feedback = SubElement(SubElement(item, "itemfeedback", ident="general_incorrect_fb"), "flow_mat")
    _material(feedback, _paragraph(HINT))
    return item


def _stem(question: Question, blank: Blank, entry: Entry) -> str:
    """What the question asks: which number of which blank, on which line of the sheet."""
    div = Element("div")
    asked = SubElement(div, "p")
    asked.text = f"Problem {question.problem}, {entry.label(blank.shape)}"
    if blank.shape:
        marks = ["■" if e is entry else "·" for e in blank.entries]
        asked.text += " (" + "".join(shaped(blank.shape, marks)) + ")"
    asked.text += ":"
    SubElement(div, "p").text = blank.line
    return tostring(div, encoding="unicode", method="html")


def _metadata(item: Element, kind: str, points: str, answers: str, ident: str) -> None:
    _fields(SubElement(SubElement(item, "itemmetadata"), "qtimetadata"), [
        ("question_type", kind), ("points_possible", points), ("original_answer_ids", answers),
        ("assessment_question_identifierref", f"{ident}_ref")])


def _fields(parent: Element, fields: list[tuple[str, str]]) -> None:
    for label, entry in fields:
        field = SubElement(parent, "qtimetadatafield")
        SubElement(field, "fieldlabel").text = label
        SubElement(field, "fieldentry").text = entry


def _material(parent: Element, html: str) -> None:
    """HTML as Canvas reads it: escaped text of a mattext (never raw child tags)."""
    SubElement(SubElement(parent, "material"), "mattext", texttype="text/html").text = html


def _paragraph(text: str) -> str:
    p = Element("p")
    p.text = text
    return tostring(p, encoding="unicode", method="html")


def _quiz_id(place: int) -> str:
    return identifier(f"v{place}")


def _item_id(question: Question, *parts) -> str:
    return identifier(f"v{question.position[0]}", f"p{question.position[1]}", *parts)


def _title(title: str, variant: str) -> str:
    return f"{title or 'Handout'}, variant {variant}"


def _points(x) -> str:
    return f"{float(x):.6g}"


__all__ = ["assessment", "canvas", "manifest", "meta"]
