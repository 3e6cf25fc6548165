"""The Typst and PDF formats: every sample compiles, pages are not blank, the README example is
one page with −8 and −4 in it, and no name, title or program text can inject Typst code."""

from __future__ import annotations

import os
import pty
import re
import shutil
import subprocess
import sys

import pytest

from conftest import README_ARGS, ROOT, SAMPLES
from worksheet import derive, render
from worksheet.document import Document, Equations, Heading, Listing, Paragraph, Table
from worksheet.render import render_training
from worksheet.notation import TypstNotation, typst_name, typst_string
from worksheet.render.typst import compile_pdf, escape, render as render_typ
from worksheet.terms import Equation, Form, Number
from worksheet.engine.train import train

SAMPLE_NAMES = sorted(p.name for p in SAMPLES.glob("*.ws"))
HAS_POPPLER = shutil.which("pdftotext") is not None and shutil.which("pdfinfo") is not None


def _derive_sample(name: str, **options):
    at = {"x": 1, "y": 2} if name == "per_sample.ws" else None  # one sample: its loss is per sample
    return derive((SAMPLES / name).read_text(), at=at, filename=name, **options)


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b(?!s|Label)", pdf))


def _text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "out.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, timeout=60)
    return done.stdout.decode("utf-8")


def _not_blank(png: bytes) -> bool:
    """Some pixel of the page is not white (decoded with zlib: the PNG typst writes is 8-bit)."""
    import struct
    import zlib

    assert png.startswith(b"\x89PNG")
    pos, data, width, height, channels = 8, b"", 0, 0, 4
    while pos < len(png):
        (length,), kind = struct.unpack(">I", png[pos:pos + 4]), png[pos + 4:pos + 8]
        chunk = png[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8
            channels = {0: 1, 2: 3, 4: 2, 6: 4}[color]
        elif kind == b"IDAT":
            data += chunk
        pos += 12 + length
    raw = zlib.decompress(data)
    stride = width * channels + 1
    rows = [raw[i * stride + 1:(i + 1) * stride] for i in range(height)]
    # the filter byte aside, a white page is all 0xff (or, filtered, all 0): any other byte is ink
    return any(any(b not in (0, 255) for b in row) for row in rows)


# ── every sample, derive and train ───────────────────────────────────────────────────────


@pytest.mark.parametrize("sample", SAMPLE_NAMES)
def test_every_sample_compiles_to_pdf(sample):
    pdf = render(_derive_sample(sample), "pdf")
    assert isinstance(pdf, bytes) and pdf.startswith(b"%PDF")
    assert _pages(pdf) >= 1


@pytest.mark.parametrize("sample", ["mlp_l2.ws", "nn_linear.ws", "linear_one_sample.ws"])
def test_pages_are_not_blank(sample):
    source = render(_derive_sample(sample), "typ")
    pages = compile_pdf(source, "png", 40)
    assert pages and all(_not_blank(page) for page in pages)


def test_modes_and_numeric_check_compile():
    trace = derive("ln(x1) + x1*x2 - sin(x2)", at="x1=2,x2=5", mode="both", check_numeric=True)
    assert render(trace, "pdf").startswith(b"%PDF")
    tensor = _derive_sample("mlp_l2.ws", check_numeric=True)
    assert render(tensor, "pdf").startswith(b"%PDF")


def test_symbolic_and_every_function_compile():
    formula = "sigmoid(a) + relu(b) + softplus(c) + tanh(d)**2 + abs(e1) + max(a, b) + sqrt(c) + exp(-a) + ln(c)"
    source = render(derive(formula + " + stop_gradient(a) + a**b + 1/(c+d)"), "typ")
    assert "sigma(a)" in source and 'op("relu")(b)' in source
    assert compile_pdf(source).startswith(b"%PDF")


@pytest.mark.parametrize("sample, options", [
    ("per_sample.ws", dict(lr="0.01", epochs=3, per_sample=True, predict="x=4")),
    ("batch_vector.ws", dict(lr="0.01", epochs=1, exact=True)),
    ("nn_linear.ws", dict(lr="0.1", epochs=2)),
])
def test_training_traces_compile(sample, options):
    training = train((SAMPLES / sample).read_text(), filename=sample, **options)
    pdf = render_training(training, "pdf")
    assert pdf.startswith(b"%PDF") and _pages(pdf) >= 1
    assert render_training(training, "typ").startswith("//")


# ── the README example ───────────────────────────────────────────────────────────────────


def test_readme_example_is_two_pages_with_its_gradients_and_a_figure_in_print_size(tmp_path):
    pdf = render(derive("(w*x+b-y)**2", wrt="w,b", at="w=1,b=0,x=2,y=4"), "pdf")
    assert _pages(pdf) == 2
    if not HAS_POPPLER:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, timeout=60).stdout.decode()
    assert re.search(r"^Pages:\s+2$", info, re.M)
    text = _text(pdf, tmp_path)
    assert re.search("[−-]8", text) and re.search("[−-]4", text)
    assert "Name:" in text and "Date:" in text
    (tmp_path / "r.pdf").write_bytes(pdf)
    boxes = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-bbox", "r.pdf", "-"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=60).stdout
    words = {m[2]: float(m[1]) - float(m[0]) for m in re.findall(
        r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</word>', boxes)}
    for label in ("(·)²", "v₁", "v₃", "×"):  # the figure is text on page 1, at print size
        assert words.get(label, 0) >= 7, (label, words.get(label))


def test_pdf_is_the_same_every_time():
    trace = derive("(w*x+b-y)**2", wrt="w,b", at="w=1,b=0,x=2,y=4")
    assert render(trace, "pdf") == render(trace, "pdf")


def test_typst_math_notation():
    source = render(derive("(w*x+b-y)**2", wrt="w,b", at="w=1,b=0,x=2,y=4"), "typ")
    assert "frac(partial L, partial w) &= 2 v_3 dot.op x = 2 (w dot.op x + b - y) dot.op x = -8" in source
    tensor = render(_derive_sample("mlp_l2.ws"), "typ")
    assert 'mat(delim: "[", align: #right,' in tensor and "W_1^top" in tensor or "x^top" in tensor
    assert "RR^(4 times 3)" in tensor and "dot.o" in tensor and "lambda" in tensor


# ── nothing the user typed is read as Typst code ─────────────────────────────────────────


@pytest.mark.parametrize("name, expected", [
    ("x", "x"), ("lambda", "lambda"), ("v3", "v_3"), ("W1", "W_1"), ("y_pred", 'y_"pred"'),
    ("loss", '"loss"'), ("L_total", 'L_"total"'), ("frac", '"frac"'), ("sum", '"sum"'),
    ("_a", '"_a"'), ('a"b', '"a\\"b"'), ("a)$#import", '"a)$#import"'), ("x\\", '"x\\\\"'),
])
def test_names_are_letters_greek_or_quoted_text(name, expected):
    assert typst_name(name) == expected


@pytest.mark.parametrize("name", ['a") #panic("x', "x$ #panic() $", "a\\", 'z"', "x__2", "b_c_d", "import", "_"])
def test_a_hostile_name_compiles_as_text(name):
    source = f"${typst_name(name)}$ and #{typst_string(name)}"
    assert compile_pdf(source).startswith(b"%PDF")


def test_formula_names_that_are_typst_words_compile():
    trace = derive("frac*mat + import*dot + lambda*let + sigma_2*x__2 + _a", at="frac=1,mat=2,import=3,dot=4,"
                   "lambda=5,let=6,sigma_2=7,x__2=8,_a=9")
    assert render(trace, "pdf").startswith(b"%PDF")


HOSTILE = '# $ ] #import "x" \\ * _ @ <a> `b` [c] // not a comment /* nor this */ -- ~ = + 1. \'q\''


def test_program_comment_title_and_text_are_escaped(tmp_path):
    program = f"{HOSTILE}\nparam w = 1\ndata x = 2\nL = (w*x - 3)**2   # {HOSTILE}\n"
    trace = derive(program, filename="hostile.ws")
    source = render(trace, "typ")
    assert compile_pdf(source).startswith(b"%PDF")
    doc = Document(HOSTILE, (Heading(HOSTILE), Paragraph((HOSTILE, Form(trace.graph.node("L").symbol))),
                             Table((HOSTILE, "b"), ((HOSTILE, Number(trace.gradients[0].value)),), "lr"),
                             Listing(HOSTILE), Equations((Equation((Form(trace.graph.node("L").symbol),
                                                                    Number(trace.gradients[0].value))),))))
    pdf = compile_pdf(render_typ(doc))
    assert pdf.startswith(b"%PDF")
    if HAS_POPPLER:
        text = _text(pdf, tmp_path)
        assert text.count('#import "x"') >= 4 and "// not a comment /* nor this */" in text
        assert "[c]" in text and "<a>" in text and "`b`" in text


def test_escape_leaves_no_markup_character_bare():
    text = escape("#$*_@<>`[]\\/=-+~'\".")
    assert re.fullmatch(r"(\\.)+", text)


def test_notation_prints_accents():
    from worksheet.accents import Bar, Dot, Update

    notation = TypstNotation()
    assert notation._print(Dot("v3")) == "dot(v)_3"
    assert notation._print(Bar("y_pred")) == 'overline(y)_"pred"'
    assert notation._print(Update(Bar("x"), Bar("v1"))) == "overline(x) <- overline(v)_1"


# ── the command line ─────────────────────────────────────────────────────────────────────


def test_cli_writes_pdf_and_typ_by_extension(cli, tmp_path):
    pdf, typ = tmp_path / "ws.pdf", tmp_path / "ws.typ"
    assert cli(*README_ARGS, "-o", str(pdf)).code == 0
    assert cli(*README_ARGS, "-o", str(typ)).code == 0
    assert pdf.read_bytes().startswith(b"%PDF") and _pages(pdf.read_bytes()) == 2
    assert typ.read_text(encoding="utf-8") == (ROOT / "tests" / "golden" / "readme.typ").read_text(encoding="utf-8")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left behind


def test_cli_train_writes_pdf(cli, tmp_path):
    out = tmp_path / "t.pdf"
    result = cli("train", str(SAMPLES / "per_sample.ws"), "--lr", "0.01", "--epochs", "3", "--per-sample",
                 "--predict", "x=4", "-o", str(out))
    assert result.code == 0 and out.read_bytes().startswith(b"%PDF")


def test_cli_pdf_to_a_pipe_is_bytes():
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    done = subprocess.run([sys.executable, "-m", "worksheet", *README_ARGS, "--format", "pdf"],
                          capture_output=True, timeout=120, env=env, cwd=ROOT)
    assert done.returncode == 0 and done.stdout.startswith(b"%PDF") and _pages(done.stdout) == 2


def test_cli_refuses_pdf_to_a_terminal():
    main, secondary = pty.openpty()
    try:
        done = subprocess.run([sys.executable, "-m", "worksheet", *README_ARGS, "--format", "pdf"],
                              stdout=secondary, stderr=subprocess.PIPE, timeout=120, cwd=ROOT)
    finally:
        os.close(secondary)
        os.close(main)
    assert done.returncode == 2
    err = done.stderr.decode()
    assert err.count("\n") == 1 and "use -o FILE.pdf" in err


def test_no_glyph_is_missing():
    """typst warns of a character none of its fonts has: no worksheet text may need one."""
    import tempfile

    import typst

    traces = [derive("ln(x1) + x1*x2 - sin(x2)", at="x1=2,x2=5", mode="both", check_numeric=True),
              _derive_sample("linear_bce_aux.ws", target="loss,z"), _derive_sample("mlp_l2.ws")]
    for trace in traces:
        with tempfile.TemporaryDirectory() as root:
            _, warnings = typst.compile_with_warnings(render(trace, "typ").encode(), root=root,
                                                      ignore_system_fonts=True)
        assert not [w.message for w in warnings]


# ── the compile: a child process, an empty directory, a time limit ──────────────────────

ENDLESS = "#for i in range(100000) { for j in range(100000) { } }\ndone\n"  # 10¹⁰ steps, no memory


def test_typesetting_is_stopped_at_its_time_limit(monkeypatch):
    import time

    from worksheet.errors import WorksheetError
    from worksheet.render import typst as module

    monkeypatch.setattr(module, "TYPESET_SECONDS", 1)
    start = time.monotonic()
    with pytest.raises(WorksheetError, match="longer than 1 s"):
        compile_pdf(ENDLESS)
    assert time.monotonic() - start < 10


def test_typst_reads_no_file(tmp_path, monkeypatch):
    (tmp_path / "manifest.json").write_text('{"answer": 42}')
    monkeypatch.chdir(tmp_path)
    for path in ("manifest.json", str(tmp_path / "manifest.json"), "/etc/hostname"):
        with pytest.raises(RuntimeError, match="file not found"):
            compile_pdf(f'#raw(read("{path}"))')


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="needs Linux's /proc to find the child")
def test_ctrl_c_stops_typesetting_and_its_child():
    import signal
    import time
    from pathlib import Path

    parent = subprocess.Popen([sys.executable, "-c", f"from worksheet.render.typst import compile_pdf; "
                               f"compile_pdf({ENDLESS!r})"], cwd=ROOT, stderr=subprocess.PIPE)
    children: list[int] = []
    for _ in range(200):  # the child typesetting
        time.sleep(0.05)
        children = [int(c) for t in Path(f"/proc/{parent.pid}/task").iterdir()
                    for c in (t / "children").read_text().split()] if Path(f"/proc/{parent.pid}").exists() else []
        if children:
            break
    assert children, "no child process typesets"
    time.sleep(0.5)
    parent.send_signal(signal.SIGINT)
    parent.wait(timeout=10)
    assert b"KeyboardInterrupt" in parent.stderr.read()
    time.sleep(0.2)
    for child in children:  # killed and reaped, not left running
        assert not Path(f"/proc/{child}").exists() or "Z" in Path(f"/proc/{child}/stat").read_text().split()[2]
