"""Pages as a teacher prints them (issue 15, page flow): no page ends with a heading or with the
line that introduces a display, a matrix stays on the page of its left-hand side, a handout's
problems are groups kept on one page, blanks are boxes, every student sheet has a Name/Date line,
no word is under 6 pt, and pdflatex lays a worksheet out right in one run.

The PDFs are read back with poppler's ``pdftotext -bbox-layout``: each page's lines of words,
each word with its box (its height is the size of its type)."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass

import pytest
from sympy import Integer

from conftest import SAMPLES, latex_available
from worksheet import derive, render
from worksheet.document import Document, Heading, Paragraph, Table, Together, flattened
from worksheet.handout import documents, handout
from worksheet.handout.problems import draw, load
from worksheet.notation.matrices import entries
from worksheet.render import render_document
from worksheet.terms import Blank, Equation, Form, Number

HAS_POPPLER = shutil.which("pdftotext") is not None
SAMPLE_NAMES = sorted(p.name for p in SAMPLES.glob("*.ws"))
SETS = ("backprop_set.toml", "model_set.toml")
SMALLEST_PT = 6
PAGE_NUMBER = re.compile(r"^\d+ / \d+$")
LINE = re.compile(r'<line xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">(.*?)</line>', re.S)
WORD = re.compile(r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</word>')


@dataclass(frozen=True)
class Line:
    top: float
    bottom: float
    text: str
    heights: tuple[float, ...]  # each word's box height: its type size


def _pages(pdf: bytes, tmp_path, name: str = "out.pdf") -> list[list[Line]]:
    """Each page's text lines, top to bottom, the page number left out."""
    if not HAS_POPPLER:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / name
    path.write_bytes(pdf)
    xml = subprocess.run(["pdftotext", "-bbox-layout", str(path), "-"], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    pages = []
    for page in xml.split("<page ")[1:]:
        lines = []
        for top, bottom, body in LINE.findall(page):
            words = WORD.findall(body)
            text = " ".join(w[2] for w in words).strip()
            if text and not PAGE_NUMBER.match(text):
                lines.append(Line(float(top), float(bottom), text, tuple(float(b) - float(t) for t, b, _ in words)))
        pages.append(sorted(lines, key=lambda line: (line.bottom, line.top)))
    return pages


def _last(page: list[Line]) -> Line | None:
    return page[-1] if page else None


def _derive_sample(name: str):
    at = {"x": 1, "y": 2} if name == "per_sample.ws" else None  # a per-sample loss: derived at one sample
    return derive((SAMPLES / name).read_text(), at=at, filename=name)


def _handouts(name: str, fmt: str = "pdf"):
    """Two variants of a sample problem set, seed 7, with keys: the files and every document's headings."""
    problem_set = load(SAMPLES / name)
    drawn = draw(problem_set, 2, 7)
    files, _ = handout(problem_set, drawn, 7, fmt, key=True)
    headings = set()
    for i, variant in enumerate(drawn, start=1):
        for doc in documents(problem_set, variant, f"v{i:02d}", 7)[:2]:
            headings |= {b.text for b in flattened(doc.blocks) if isinstance(b, Heading)}
    return files, headings


def _pdflatex_once(tex: str, tmp_path, name: str = "sheet") -> tuple[str, str]:
    """One pdflatex run: the log and the text of the PDF."""
    latex_available()
    (tmp_path / f"{name}.tex").write_text(tex)
    subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", f"{name}.tex"], cwd=tmp_path,
                   capture_output=True, timeout=300, check=True)
    log = (tmp_path / f"{name}.log").read_text(errors="replace")
    text = subprocess.run(["pdftotext", str(tmp_path / f"{name}.pdf"), "-"], capture_output=True, text=True,
                          timeout=120).stdout if HAS_POPPLER else ""
    return log, text


# ── handout keys and sheets: no stranded heading, each problem kept together ─────────────


@pytest.mark.parametrize("name", SETS)
def test_no_page_of_a_handout_ends_with_a_heading_or_an_introduction(name, tmp_path):
    """Nor starts with the second line of an equation (a line of an aligned row after its first
    starts with = or ≈)."""
    files, headings = _handouts(name)
    assert headings >= {"Problem 1", "Forward pass", "Backward pass", "Result"}
    for file, pdf in files.items():
        for number, page in enumerate(_pages(pdf, tmp_path, file), start=1):
            last = _last(page)
            assert last is not None, f"{file}: page {number} is empty"
            assert last.text not in headings, f"{file}: page {number} ends with the heading {last.text!r}"
            assert not last.text.endswith(":"), f"{file}: page {number} ends with the introduction {last.text!r}"
            if number > 1:
                assert not page[0].text.startswith(("=", "≈")), f"{file}: page {number} starts inside an equation"


@pytest.mark.parametrize("name", SETS)
def test_a_later_problem_starts_with_its_statement_and_forward_pass(name, tmp_path):
    """Problem 2 and 3 of a sheet or key: on the page of its heading are its statement and its
    forward pass (a group that fits on a page starts a page when it does not fit on this one)."""
    files, _ = _handouts(name)
    for file, pdf in files.items():
        pages = ["\n".join(line.text for line in page) for page in _pages(pdf, tmp_path, file)]
        for number in (2, 3):
            for text in (t for t in pages if re.search(rf"^Problem {number}$", t, re.M)):
                after = text[re.search(rf"^Problem {number}$", text, re.M).end():]
                assert re.search(r"Find the gradients? of", after) and "Forward pass" in after, (
                    f"{file}: problem {number} is parted from its statement or its forward pass")


def test_a_group_is_one_block_in_every_format_and_pageless_formats_read_it_in_order():
    group = Together((Heading("Problem 1"), Paragraph(("Find ", Form(_symbol("x")), ".",)),
                      Table(("node", "value"), (("x", Number(Integer(2))),), "lr")))
    doc = Document("Groups", (Paragraph(("Before.",)), group, Paragraph(("After.",))))
    for fmt in ("md", "txt"):
        text = render_document(doc, fmt)
        assert text.index("Before.") < text.index("Problem 1") < text.index("Find") < text.index("After.")
    typ = render_document(doc, "typ")
    assert "#together(first: true)[" in typ and "#block(sticky: true)[" in typ
    assert render_document(doc, "pdf").startswith(b"%PDF")
    tex = render_document(doc, "tex")
    assert "Problem 1" in tex and "\\begin{together}" not in tex  # the first group is never moved
    second = Document("Groups", (group, group))
    assert render_document(second, "tex").count("\\begin{together}") == 1
    with pytest.raises(ValueError):
        Together((group,))


def _symbol(name: str):
    from sympy import Symbol

    return Symbol(name)


# ── matrices with their left-hand sides ───────────────────────────────────────────────────


def test_mlp_l2_keeps_each_gradient_matrix_with_its_left_hand_side(tmp_path):
    trace = _derive_sample("mlp_l2.ws")
    pages = _pages(render(trace, "pdf"), tmp_path)
    texts = [" ".join(line.text for line in page) for page in pages]
    result = next(i for i, text in enumerate(texts) if "3. Result" in text)
    for gradient in trace.gradients:
        shown = [x for row in entries(gradient.value, 6, latex=False) for x in row]
        assert all(x in texts[result].split() for x in shown), f"∂J/∂{gradient.wrt}'s matrix is not on its page"
    assert "𝜕𝑊1" in texts[result].replace(" ", "") and "𝜕𝑊2" in texts[result].replace(" ", "")


@pytest.mark.parametrize("sample", ["mlp_l2.ws", "gelu_mlp.ws", "linear_bce.ws"])
def test_no_page_starts_inside_an_equation(sample, tmp_path):
    """A line of an aligned row that is not its first starts with = or ≈: never at the top of a page."""
    for number, page in enumerate(_pages(render(_derive_sample(sample), "pdf"), tmp_path)[1:], start=2):
        first = page[0].text if page else ""
        assert not first.startswith(("=", "≈")), f"page {number} starts inside an equation: {first!r}"


def test_latex_keeps_the_lines_of_a_row_together():
    tex = render(_derive_sample("mlp_l2.ws"), "tex")
    result = tex[tex.index("3. Result"):]
    assert "\\\\*\n  &\\approx \\begin{bmatrix}" in result  # never a page break before the matrix


# ── blanks are boxes ─────────────────────────────────────────────────────────────────────


def test_blanks_are_boxes_in_typst_and_latex_and_plain_in_markdown_and_text():
    eq = Equation((Form(_symbol("y")), Blank(3)))
    key = Equation((Form(_symbol("y")), Blank(4, Integer(-2))))
    doc = Document("Blanks", (Paragraph(("Fill in.",)), _equations(eq, key)))
    typ = render_document(doc, "typ")
    assert "#blank(3);" in typ and "#blank(4, value: $-2$);" in typ and "underline" not in typ
    tex = render_document(doc, "tex")
    assert "\\blankbox{3}" in tex and "\\filledbox{4}{-2}" in tex and "\\underline" not in tex
    assert "\\underline{\\qquad\\qquad}_{(3)}" in render_document(doc, "md")
    assert "(3)______" in render_document(doc, "txt")
    assert render_document(doc, "pdf").startswith(b"%PDF")


def _equations(*rows):
    from worksheet.document import Equations

    return Equations(rows)


# ── Name and Date ────────────────────────────────────────────────────────────────────────


def test_every_student_sheet_has_a_name_and_date_line_and_a_key_none(tmp_path):
    for fmt in ("md", "txt", "typ", "tex"):
        files, _ = _handouts("backprop_set.toml", fmt)
        for file, text in files.items():
            has = "Name:" in text and "Date:" in text
            assert has != file.endswith(f"-key.{fmt}"), f"{file}: Name/Date line {'missing' if not has else 'on a key'}"
    files, _ = _handouts("backprop_set.toml", "md")
    assert "Name: ____" in files["backprop_set-v01.md"] and "Date: ____" in files["backprop_set-v01.md"]


def test_a_worksheet_has_its_name_and_date_line_on_paper_not_in_a_terminal_or_on_github():
    trace = derive("(w*x+b-y)**2", wrt="w,b", at="w=1,b=0,x=2,y=4")
    for fmt in ("md", "txt", "typ", "tex"):
        text = render(trace, fmt)
        assert ("Name:" in text and "Date:" in text) == (fmt in ("typ", "tex")), fmt


def test_the_latex_handout_has_name_and_date_in_one_run(tmp_path):
    files, _ = _handouts("backprop_set.toml", "tex")
    log, text = _pdflatex_once(files["backprop_set-v01.tex"], tmp_path)
    assert "Name:" in text and "Date:" in text
    assert not re.search(r"Rerun|Table widths have changed|may have changed", log)


# ── type sizes ───────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("sample", SAMPLE_NAMES)
def test_no_word_of_a_sample_is_under_6_pt(sample, tmp_path):
    for number, page in enumerate(_pages(render(_derive_sample(sample), "pdf"), tmp_path), start=1):
        small = [(line.text, h) for line in page for h in line.heights if h < SMALLEST_PT - 0.01]
        assert not small, f"page {number}: type under {SMALLEST_PT} pt: {small[:5]}"


@pytest.mark.parametrize("name", SETS)
def test_no_word_of_a_handout_is_under_6_pt(name, tmp_path):
    files, _ = _handouts(name)
    for file, pdf in files.items():
        for number, page in enumerate(_pages(pdf, tmp_path, file), start=1):
            small = [(line.text, h) for line in page for h in line.heights if h < SMALLEST_PT - 0.01]
            assert not small, f"{file}, page {number}: type under {SMALLEST_PT} pt: {small[:5]}"


# ── LaTeX in one run ─────────────────────────────────────────────────────────────────────


def test_a_long_table_needs_one_pdflatex_run(tmp_path):
    """A forward table longer than a page is a longtable of fixed column widths, a short one a
    tabular: neither asks for a second run."""
    terms = "+".join(f"w{i}*x" for i in range(16))
    at = ",".join(f"w{i}={i}" for i in range(16))
    tex = render(derive(f"({terms})**2", wrt="w0", at=f"x=1,{at}"), "tex")
    assert "\\begin{longtable}{>{\\raggedright\\arraybackslash}p{" in tex
    log, text = _pdflatex_once(tex, tmp_path, "long")
    assert not re.search(r"Rerun|Table widths have changed|Column widths have changed", log)
    assert text.count("node") >= 2  # the header repeated on the table's second page
    short = render(derive("(w*x+b-y)**2", wrt="w,b", at="w=1,b=0,x=2,y=4"), "tex")
    assert "\\begin{tabular}{" in short and "longtable}" not in short.split("\\begin{document}")[1]
