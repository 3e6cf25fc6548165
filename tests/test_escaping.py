"""User text never becomes code (issue 12): control characters are refused where text comes in
(programs, formulas, options, titles), error messages show any that slip by as escapes, and
every output language shows the user's text as written (Markdown, Typst, LaTeX)."""

from __future__ import annotations

import re

import pytest

from conftest import SAMPLES
from worksheet.errors import WorksheetError, visible
from worksheet.lang.parse import parse_program
from worksheet.render.markdown import escape, fence

HOSTILE_TITLES = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[click](javascript:alert(1))",
                  "# heading *bold* `code` $x$"]


@pytest.mark.parametrize("text, where", [
    ("param x = 2 # \x1b]0;owned\x07\nL = x*x\n", "1:15"),   # an OSC sequence in a comment
    ("param x = 2\nL = x*\x1b[31mx\n", "2:7"),                # an ANSI colour in a statement
    ("param x = 2\nL = x # \u202e reversed\n", "2:9"),        # a bidirectional override
    ("param x = 2\u2028L = x*x\n", "1:12"),                   # a line separator Python splits on
])
def test_programs_with_control_characters_are_refused_where_they_are(text, where):
    with pytest.raises(WorksheetError) as error:
        parse_program(text)
    message = str(error.value)
    assert message.startswith(where) and "control character" in message
    assert all(ch.isprintable() for ch in message), repr(message)


def test_a_byte_order_mark_and_tabs_are_text():
    assert len(parse_program("\ufeffparam x = 2\n\tL = x*x # a comment\n").statements) == 2


def test_error_messages_reach_the_terminal_without_escape_bytes(cli):
    result = cli("derive", "x*x", "--at", "x=1\x1b[2J")
    assert result.code == 2 and "\x1b" not in result.err and "\\x1b" in result.err
    assert visible("a\x07b\u202ec") == "a\\x07b\\u202ec"


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_markdown_shows_a_title_as_written(title):
    shown = escape(title)
    assert "<" not in shown.replace("\\<", "") and "](" not in shown.replace("\\](", "")
    assert re.sub(r"\\(.)", r"\1", shown) == title  # what a reader sees: the title itself


def test_a_listing_cannot_close_its_code_fence():
    text = "x = 1 # ```\n<script>alert(1)</script>\n# ````"
    assert fence(text) == "`````" and fence("plain") == "```"


def _problem_set(tmp_path, title: str):
    base = (SAMPLES / "backprop_set.toml").read_text()
    body = re.sub(r'^title = .*$', "", base, count=1, flags=re.M)
    path = tmp_path / "set.toml"
    path.write_text(f"title = {title}\n" + body)
    return path


@pytest.mark.parametrize("title", ['"""Sheet\n#raw(read("manifest.json"))"""', '"Sheet \\u001b[2J"'])
def test_a_title_with_a_line_break_or_a_control_character_is_refused(cli, tmp_path, title):
    result = cli("handout", str(_problem_set(tmp_path, title)), "-o", str(tmp_path / "out"), "-f", "typ")
    assert result.code == 2 and "title" in result.err and not (tmp_path / "out").exists()


def test_hostile_titles_are_text_in_every_handout_format(cli, tmp_path):
    title = '"<script>alert(1)</script> [x](javascript:alert(1)) #for i in range(9) {} $x$ \\\\ % &"'
    out = tmp_path / "out"
    for fmt in ("md", "typ", "tex"):
        result = cli("handout", str(_problem_set(tmp_path, title)), "-o", str(out / fmt), "-f", fmt, "--key")
        assert result.code == 0, result.err
    sheet = lambda fmt: next((out / fmt).glob(f"set*.{fmt}")).read_text()
    md = sheet("md")
    assert "<script>" not in md and "[x](javascript" not in md and "\\[x\\](javascript" in md
    typ = sheet("typ")
    assert all(not line.lstrip().startswith("#for") for line in typ.splitlines())
    assert "\\#for" in typ or '"' in typ
    tex = sheet("tex")
    assert "\\%" in tex and "\\&" in tex
