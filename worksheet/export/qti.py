"""Questions → a QTI 2.1 package: ``imsmanifest.xml`` (IMS Content Packaging 1.1) and one
``assessmentItem`` per problem of each variant (``items/W_v01_p1.xml``).

An item's body is the sheet, each number typed in a ``textEntryInteraction``; each number has
a float ``responseDeclaration`` (its correct response: the value) and response processing that
adds its share of the blank's points to SCORE when the answer is in the right interval, or
else names the feedback of the first diagnosed mistake whose interval holds it (FEEDBACK, shown
as ``modalFeedback``):

    <responseIf>  <and><gte>B7, low</gte><lte>B7, high</lte></and>  SCORE += points
    <responseElseIf> … a mistake's interval …                       FEEDBACK += B7_W1
"""

from __future__ import annotations

from fractions import Fraction
from xml.etree.ElementTree import Element, SubElement

from .accepted import Accepted, decimal
from .package import content_package, identifier, namespaced, xml_text, zipped
from .key import INSTRUCTIONS, ROUNDED
from .questions import Entry, Question
from .sheet import page, shaped

QTI = "http://www.imsglobal.org/xsd/imsqti_v2p1"
CP = "http://www.imsglobal.org/xsd/imscp_v1p1"
QTI_XSD = "http://www.imsglobal.org/xsd/qti/qtiv2p1/imsqti_v2p1.xsd"
CP_XSD = "http://www.imsglobal.org/xsd/imscp_v1p1.xsd"
ITEM_TYPE = "imsqti_item_xmlv2p1"
EXPECTED_LENGTH = "12"  # characters a box shows: −0.0123456789


def qti(questions: list[Question], title: str) -> bytes:
    """The package's zip: the manifest first, then each item."""
    items = [(f"items/{_id(q)}.xml", item(q)) for q in questions]
    return zipped([("imsmanifest.xml", manifest(questions, title)), *items])


def manifest(questions: list[Question], title: str) -> str:
    """imsmanifest.xml: one resource of type imsqti_item_xmlv2p1 per item."""
    root, resources = content_package(CP, CP_XSD, "QTIv2.1 Package", "1.0.0")
    for q in questions:
        href = f"items/{_id(q)}.xml"
        resource = SubElement(resources, "resource", identifier=_id(q), type=ITEM_TYPE, href=href)
        SubElement(resource, "file", href=href)
    return xml_text(root)


def item(question: Question) -> str:
    """One problem as an assessmentItem."""
    root = namespaced("assessmentItem", QTI, QTI_XSD, identifier=_id(question), title=question.name,
                      adaptive="false", timeDependent="false")
    entries = [(blank, entry) for blank in question.blanks for entry in blank.entries]
    for _, entry in entries:
        _declaration(root, entry)
    for name, value in (("SCORE", "0"), ("MAXSCORE", _float(question.points * len(question.blanks)))):
        declared = SubElement(root, "outcomeDeclaration", identifier=name, cardinality="single", baseType="float")
        SubElement(SubElement(declared, "defaultValue"), "value").text = value
    SubElement(root, "outcomeDeclaration", identifier="FEEDBACK", cardinality="multiple", baseType="identifier")
    root.append(_body(question))
    _processing(root, question, entries)
    return xml_text(root, mixed=("itemBody",))


def _declaration(root: Element, entry: Entry) -> None:
    declared = SubElement(root, "responseDeclaration", identifier=_response(entry), cardinality="single",
                          baseType="float")
    SubElement(SubElement(declared, "correctResponse"), "value").text = decimal(entry.right.value)


def _processing(root: Element, question: Question, entries: list) -> Element:
    processing = SubElement(root, "responseProcessing")
    for blank, entry in entries:
        condition = SubElement(processing, "responseCondition")
        right = SubElement(condition, "responseIf")
        _within(right, entry, entry.right)
        _add(right, "SCORE", "sum", "float", _float(question.points / len(blank.entries)))
        for k, (interval, _) in enumerate(entry.wrong, start=1):
            wrong = SubElement(condition, "responseElseIf")
            _within(wrong, entry, interval)
            _add(wrong, "FEEDBACK", "multiple", "identifier", _feedback_id(entry, k))
    for blank, entry in entries:
        for k, (_, mistake) in enumerate(entry.wrong, start=1):
            shown = SubElement(root, "modalFeedback", outcomeIdentifier="FEEDBACK",
                               identifier=_feedback_id(entry, k), showHide="show")
            shown.text = f"{entry.label(blank.shape)}: {mistake.feedback}"
    return root


def _within(parent: Element, entry: Entry, interval: Accepted) -> None:
    """low ≤ response ≤ high."""
    both = SubElement(parent, "and")
    for test, bound in (("gte", interval.low), ("lte", interval.high)):
        compared = SubElement(both, test)
        SubElement(compared, "variable", identifier=_response(entry))
        SubElement(compared, "baseValue", baseType="float").text = decimal(bound)


def _add(parent: Element, outcome: str, operator: str, base: str, value: str) -> None:
    """outcome := operator(outcome, value): a sum of points, or one more feedback identifier."""
    setting = SubElement(parent, "setOutcomeValue", identifier=outcome)
    combined = SubElement(setting, operator)
    SubElement(combined, "variable", identifier=outcome)
    SubElement(combined, "baseValue", baseType=base).text = value


def _body(question: Question) -> Element:
    """The itemBody: the sheet with an interaction per number, in the QTI namespace."""
    def fill(number: int):
        blank = next(b for b in question.blanks if b.number == number)
        boxes = [Element("textEntryInteraction", responseIdentifier=_response(e), expectedLength=EXPECTED_LENGTH)
                 for e in blank.entries]
        return [f"({number}) ", *shaped(blank.shape, boxes)]

    body = Element("itemBody")
    intro = SubElement(body, "p")
    intro.text = INSTRUCTIONS + (" " + ROUNDED if question.rounded else "")
    body.append(page(question.blocks, fill))
    return body


def _id(question: Question) -> str:
    variant, problem = question.position
    return identifier(f"v{variant}", f"p{problem}")


def _response(entry: Entry) -> str:
    return "B" + "_".join(str(i) for i in (entry.blank, *(k + 1 for k in entry.index)))


def _feedback_id(entry: Entry, k: int) -> str:
    return f"{_response(entry)}_W{k}"


def _float(x: Fraction) -> str:
    return decimal(x) if _terminates(x) else repr(float(x))


def _terminates(x: Fraction) -> bool:
    q = x.denominator
    for p in (2, 5):
        while q % p == 0:
            q //= p
    return q == 1


__all__ = ["item", "manifest", "qti"]
