"""MathML, for HTML: the LaTeX that ``LatexNotation`` writes, converted by latex2mathml, checked
and mended where its structure would be wrong, with blanks drawn as numbered boxes.

latex2mathml is a close but not a perfect reader of that LaTeX, and browsers render MathML Core,
which has no ``menclose``, ``mfenced`` or ``columnalign``; so each formula goes through ``mathml``:

- ``\\operatorname{cross\\_entropy}`` is read by its tokenizer only when it is letters alone (an
  underscore or a digit splits it into italic letters): every operator name is converted as a
  ``<mi>`` with its text, upright;
- a multi-letter ``<mo>`` (``\\max``) is an ``<mi>``: a function's name, not an operator spaced
  as one;
- a name of several letters (``loss``, the ``pred`` of ``y_pred``), which latex2mathml reads
  as a letter per ``<mi>``, is one ``<mi class="name">``, set in italic as TeX sets it (a
  product of letters is always written with a dot or a space here, never as letters side by side);
- a sign after an operator or an opening bracket, (−4), = −8, is a prefix ``<mo>``: unspaced, as
  TeX sets it, not a binary minus;
- a script or fraction whose base came out as several siblings (``\\begin{bmatrix}…\\end{bmatrix}^{\\top}``:
  its brackets and table) has them grouped in one ``<mrow>``;
- a table cell's ``columnalign`` becomes a class the page's style aligns;
- the namespace is dropped (HTML's parser gives it), and every element and attribute must be
  one of MathML Core's that we use: anything else (an ``<merror>``, an unknown command left as
  ``<mi>\\foo</mi>``, an empty ``<mo/>``, a stray ``&``, a line break, which an aligned display
  makes a table row instead) is a bug, raised, never written.

The tree is taken from latex2mathml as elements, not as its text (which it writes with the
markup of \\text{…} unescaped), and written out by ElementTree, which escapes every text: no
text can become markup.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from functools import lru_cache
from html import unescape

from .latex import LatexNotation

BLANK, FILLED, END = "\ue000", "\ue001", "\ue002"  # markers, in \text{…}, of a blank and of a filled one's end
NAME = "\ue003"  # marks an operator name, in \text{…}
OPERATOR_NAME = re.compile(r"\\operatorname\{((?:[A-Za-z0-9_]|\\_)+)\}")  # log_softmax comes unescaped

ELEMENTS = frozenset({
    "math", "mrow", "mi", "mn", "mo", "mtext", "mspace", "mfrac", "msqrt", "mroot", "msub", "msup",
    "msubsup", "munder", "mover", "munderover", "mtable", "mtr", "mtd", "mstyle", "mpadded", "mphantom",
})
ATTRIBUTES = frozenset({
    "display", "mathvariant", "stretchy", "fence", "form", "accent", "accentunder", "width", "displaystyle",
    "scriptlevel", "class", "movablelimits", "lspace", "rspace", "separator", "symmetric",
})
SIGNS = frozenset("−+±")
FENCES = frozenset("()[]{}|‖⌊⌋⌈⌉")  # stretchy by MathML's operator dictionary
CLOSING = frozenset(")]}|‖⊤")  # operators after which a − is binary: (a) − b
ARITY = {"mfrac": 2, "msub": 2, "msup": 2, "munder": 2, "mover": 2, "mroot": 2, "msubsup": 3, "munderover": 3}
"""The children each scripted element has: the base first, then its scripts."""


class MathmlNotation(LatexNotation):
    """LaTeX math as Markdown writes it, for conversion to MathML: a blank is a box with its
    number, (3), to write in; in a key, the box holds the value."""

    def blank(self, number: int, filled: str | None) -> str:
        if filled is None:
            return r"\text{%s%d}" % (BLANK, number)
        return r"{\text{%s%d}{%s}\text{%s}}" % (FILLED, number, filled, END)

    def apply(self, name: str, args: list[str]) -> str:
        """‖W‖² with the bars around W, the square on both (MathML attaches it to the last bar)."""
        if name == "sumsq":
            return r"\left\lVert %s \right\rVert^{2}" % args[0]
        return super().apply(name, args)

    def inline(self, parts, escape) -> str:
        """Running text: ``parts`` are strings (``escape``d for HTML) and inline math."""
        return "".join(escape(p) if isinstance(p, str) else self.inline_html(p) for p in parts)

    def inline_html(self, item) -> str:
        """A term or an equation as inline ``<math>``."""
        return mathml(self.math(item))

    def display_html(self, item, wide: bool = False) -> str:
        """A display: ``<math display="block">``; ``wide``, one side per line, aligned at =."""
        if wide:
            return mathml(r"\begin{array}{rl} %s \end{array}" % self.aligned(item, wide=True), display=True,
                          aligned=True)
        return mathml(self.math(item), display=True)


@lru_cache(maxsize=8192)
def mathml(latex: str, display: bool = False, aligned: bool = False) -> str:
    """``latex`` as one ``<math>`` element, mended and checked (see the module's docstring);
    ``aligned``: ``latex`` is one array, whose cells are set in display style, as TeX's align."""
    from latex2mathml.converter import convert_to_element

    source = OPERATOR_NAME.sub(lambda m: r"\text{%s%s}" % (NAME, m.group(1).replace(r"\_", "_")), latex)
    root = convert_to_element(source, display="block" if display else "inline")
    del root.attrib["xmlns"]
    for element in root.iter():  # its texts hold character references (&#x02202;), meant to be written as they are
        element.text = unescape(element.text) if element.text else element.text
    _mend(root)
    if aligned:
        next(root.iter("mtable")).set("displaystyle", "true")
    _check(root, latex)
    return ET.tostring(root, encoding="unicode", short_empty_elements=False)


def _mend(root: ET.Element) -> None:
    for element in list(root.iter()):
        _names(element)
        _signs(element)
        _lean(element)
        text = element.text or ""
        if element.tag == "mtext" and text.startswith(NAME):
            element.tag, element.text = "mi", text[1:]
        elif element.tag == "mo" and len(text) > 1 and text.isalpha():
            element.tag = "mi"
        if element.tag == "mtd" and "columnalign" in element.attrib:
            element.set("class", element.attrib.pop("columnalign"))
        arity = ARITY.get(element.tag)
        if arity is not None and len(element) > arity:  # its base came out as several siblings
            base = ET.Element("mrow")
            base.extend(list(element)[:len(element) - arity + 1])
            for child in list(base):
                element.remove(child)
            element.insert(0, base)
    _blanks(root)


def _names(parent: ET.Element) -> None:
    """Each run of one-letter ``<mi>`` side by side as one name."""
    children, run = list(parent), []
    for child in [*children, None]:
        if child is not None and child.tag == "mi" and not child.attrib and len(child) == 0 and (
                child.text or "").isascii() and (child.text or "").isalpha() and len(child.text) == 1:
            run.append(child)
            continue
        if len(run) > 1:
            run[0].text, run[0].attrib["class"] = "".join(c.text for c in run), "name"
            for letter in run[1:]:
                parent.remove(letter)
        run = []


def _lean(parent: ET.Element) -> None:
    """Leave out what a fence's ``<mo>`` says of itself: stretchy and fence (MathML's operator
    dictionary says so of brackets and bars), and its form where its place gives it, first or last."""
    children = list(parent)
    for i, child in enumerate(children):
        if child.tag != "mo" or child.get("fence") != "true":
            continue
        del child.attrib["fence"]
        if child.text in FENCES and child.get("stretchy") == "true":
            del child.attrib["stretchy"]
        if len(children) > 1 and child.get("form") == ("prefix" if i == 0 else "postfix" if i == len(children) - 1 else None):
            del child.attrib["form"]


def _signs(parent: ET.Element) -> None:
    """A − or + right after another operator (an opening bracket, =, ·, a comma) is a sign."""
    before = None
    for child in parent:
        if (child.tag == "mo" and child.text in SIGNS and before is not None and before.tag == "mo"
                and before.text not in CLOSING):
            child.set("form", "prefix")
        before = child


def _blanks(root: ET.Element) -> None:
    """Each blank's marker (and a filled one's value, up to its end marker) as one box:
    ``<mrow class="blank"><mn class="number">(3)</mn><mspace/></mrow>``."""
    for parent in list(root.iter()):
        children = list(parent)
        for i, child in enumerate(children):
            text = child.text or ""
            if child.tag != "mtext" or text[:1] not in (BLANK, FILLED):
                continue
            box = ET.Element("mrow", {"class": "blank" if text[0] == BLANK else "blank filled"})
            number = ET.SubElement(box, "mn", {"class": "number"})
            number.text = f"({text[1:]})"
            if text[0] == BLANK:
                ET.SubElement(box, "mspace", {"width": "3.5em"})
                taken = [child]
            else:
                end = next(j for j in range(i + 1, len(children))
                           if children[j].tag == "mtext" and children[j].text == END)
                ET.SubElement(box, "mspace", {"width": "0.3em"})
                box.extend(children[i + 1:end])
                taken = children[i:end + 1]
            parent.insert(list(parent).index(child), box)
            for gone in taken:
                parent.remove(gone)


def _check(root: ET.Element, latex: str) -> None:
    """Refuse what would be shown wrong: an element or attribute not ours, a command left
    unread, an empty operator, a marker not consumed, a script with the wrong number of parts."""
    for element in root.iter():
        text = element.text or ""
        wrong = (
            element.tag not in ELEMENTS and f"<{element.tag}>"
            or next((f"attribute {a}" for a in element.attrib if a not in ATTRIBUTES), None)
            or (element.tag in ("mi", "mo") and (text.startswith("\\") or text == "&") and f"<{element.tag}>{text}")
            or (element.tag == "mo" and not text and len(element) == 0 and "an empty <mo>")
            or (any(ch in text for ch in (BLANK, FILLED, END, NAME)) and "a marker left")
            or (element.tag in ARITY and len(element) != ARITY[element.tag] and f"<{element.tag}> of {len(element)}")
        )
        if wrong:
            raise ValueError(f"latex2mathml: {wrong} in MathML for {latex!r}")
