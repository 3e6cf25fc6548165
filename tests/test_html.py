"""--format html (issue 16): one self-contained page, every formula MathML with no <merror>, user
text escaped, the values it shows those of an independent oracle (sympy.diff at the point); and,
in a real headless Chromium with the network shut, the math laid out as math, the figure linked
to the rows both ways, and a page that is not blank."""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import sympy

from conftest import README_ARGS, SAMPLES
from test_golden import CASES, HANDOUTS
from worksheet import derive, render
from worksheet.lang.vocabulary import FUNCTIONS
from worksheet.notation.mathml import ELEMENTS, mathml

lxml_html = pytest.importorskip("lxml.html")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
MATH = re.compile(r"<math\b.*?</math>", re.S)
HOSTILE = "<script>alert(1)</script> & \"quoted\" 'single' </pre>"


def _html_cases() -> dict[str, list[str]]:
    """Every worksheet the goldens freeze (each sample and formula, every --detail, --mode,
    --target/--aux, --seed-grad and training), as HTML."""
    cases = {}
    for name, args in CASES.items():
        if args[0] != "graph" and "-f" in args and args[args.index("-f") + 1] in ("md", "txt"):
            html = list(args)
            html[html.index("-f") + 1] = "html"
            cases.setdefault(tuple(html), name)
    return {name: list(args) for args, name in cases.items()}


HTML_CASES = _html_cases()


def _page(cli, *args: str) -> str:
    result = cli(*args)
    assert result.code == 0, result.err
    return result.out


def _assert_self_contained(page: str) -> None:
    """One HTML document that fetches nothing: no URL of any scheme, no src, href or @import,
    no url() but the arrowhead's own #arrow, and a policy that forbids loading anything."""
    assert page.startswith("<!DOCTYPE html>\n") and page.count("<html") == 1 and page.rstrip().endswith("</html>")
    assert not re.search(r"https?:|ftp:|//[a-z]", page, re.I)
    assert not re.search(r"\b(src|href|srcset|action)\s*=", page, re.I) and "@import" not in page
    assert set(re.findall(r"url\([^)]*\)", page)) <= {"url(#arrow)"}
    assert "default-src 'none'" in page


def _assert_math_is_mathml(page: str) -> None:
    """Every formula is a well-formed <math> of MathML Core's elements: no <merror>, no command
    latex2mathml left unread (\\foo), no raw LaTeX ($…$, \\frac) outside it."""
    formulas = MATH.findall(page)
    assert formulas and page.count("<math") == len(formulas)
    for formula in formulas:
        root = ET.fromstring(formula)  # well formed: escaped text, closed elements
        tags = {e.tag for e in root.iter()}
        assert tags <= ELEMENTS and "merror" not in tags, tags - ELEMENTS
        assert not any((e.text or "").startswith("\\") for e in root.iter()), formula
    text = MATH.sub("", page)
    assert "\\frac" not in text and "\\partial" not in text and not re.search(r"\$[^$\s][^$]*\$", text)


@pytest.mark.parametrize("name", sorted(HTML_CASES))
def test_every_worksheet_is_a_self_contained_page_of_mathml(cli, name):
    page = _page(cli, *HTML_CASES[name])
    _assert_self_contained(page)
    _assert_math_is_mathml(page)


@pytest.mark.parametrize("problem_set", sorted(HANDOUTS))
def test_handout_sheets_and_keys_are_pages_with_numbered_boxes(cli, tmp_path, problem_set):
    out = tmp_path / "h"
    result = cli("handout", str(SAMPLES / f"{problem_set}.toml"), "-n", "2", "--seed", HANDOUTS[problem_set][0],
                 "--key", "-f", "html", "-o", str(out))
    assert result.code == 0, result.err
    pages = sorted(out.glob("*.html"))
    assert len(pages) == 4 and (out / "manifest.json").exists()
    for path in pages:
        page = path.read_text(encoding="utf-8")
        _assert_self_contained(page)
        _assert_math_is_mathml(page)
        numbers = [int(n) for n in re.findall(r'<mn class="number">\((\d+)\)</mn>', page)]
        assert numbers[:3] == [1, 2, 3] and len(set(numbers)) == len(numbers)  # every blank once, in order
        filled = page.count('class="blank filled"')
        assert filled == (len(numbers) if path.stem.endswith("-key") else 0)
        assert ("Name:" in page) == (not path.stem.endswith("-key"))  # a student's sheet has its Name/Date line


def test_train_writes_a_page(cli, tmp_path):
    out = tmp_path / "train.html"
    result = cli("train", str(SAMPLES / "per_sample.ws"), "--lr", "0.01", "--epochs", "3", "--per-sample",
                 "--predict", "x=4", "--explain-steps", "2", "-o", str(out))
    assert result.code == 0, result.err
    page = out.read_text(encoding="utf-8")
    _assert_self_contained(page)
    _assert_math_is_mathml(page)
    assert page.count('<figure class="graph"') == 2  # each explained step's graph, linked to its own rows
    assert set(re.findall(r'<figure class="graph" data-scope="(\d+)"', page)) == {"1", "2"}


@pytest.mark.parametrize("suffix", [".html", ".htm"])
def test_the_output_suffix_chooses_html(cli, tmp_path, suffix):
    out = tmp_path / f"ws{suffix}"
    result = cli(*README_ARGS, "-o", str(out))
    assert result.code == 0, result.err
    assert out.read_text(encoding="utf-8") == render(derive("(w*x+b-y)**2", wrt="w,b", at="w=1,b=0,x=2,y=4"), "html")


FUNCTION_FORMULAS = [f"{name}(w*x) + w" for name, arity in FUNCTIONS.items()
                     if arity == 1 and name not in ("sum", "mean", "sumsq", "softmax", "log_softmax", "logsumexp")]
FUNCTION_FORMULAS += ["leaky_relu(w*x - 1, 0.1)", "max(w, x) * min(w, x)", "w**x + 2**w + w**(1/2) - 1/w"]
EVERY_TENSOR_FUNCTION = """param W = [[1, 2], [3, -1]]
data x = [1, -2]
data c = 1
data t = [1, 0]
z = W @ x
h = tanh(z) * sigmoid(z) + relu(z) - gelu(z)
L = cross_entropy(z, c) + mse(h, x) + sum(softmax(z)) + mean(log_softmax(z)) + logsumexp(z) + sumsq(W) + bce_with_logits(z, t) + sum(W.T @ h)
"""


@pytest.mark.parametrize("formula", FUNCTION_FORMULAS)
def test_every_function_of_the_language_is_mathml(formula):
    """Each function's LaTeX (its operator name, its derivative's) converts: at a point with every
    rule named and both modes, and symbolically."""
    for page in (render(derive(formula, wrt="w", at="w=1/2,x=3", mode="both"), "html", detail="full"),
                 render(derive(formula, wrt="w"), "html")):
        _assert_math_is_mathml(page)


@pytest.mark.parametrize("detail", ["brief", "standard", "full"])
def test_every_tensor_function_is_mathml(detail):
    _assert_math_is_mathml(render(derive(EVERY_TENSOR_FUNCTION, check_numeric=True), "html", detail=detail))


# ── user text ─────────────────────────────────────────────────────────────────────────────


def test_hostile_titles_and_listings_are_text(cli, tmp_path):
    problem_set = tmp_path / "set.toml"
    problem_set.write_text(
        f"title = {_toml(HOSTILE)}\n[[problem]]\nprogram = '''\n# {HOSTILE}\ny = w*w\nL = y + 1\n'''\n"
        "wrt = \"w\"\nat = \"w=2\"\n", encoding="utf-8")
    result = cli("handout", str(problem_set), "-o", str(tmp_path / "out"), "-f", "html", "--key")
    assert result.code == 0, result.err
    for path in sorted((tmp_path / "out").glob("*.html")):
        page = path.read_text(encoding="utf-8")
        assert "<script>alert" not in page and page.count("</pre>") == page.count("<pre")
        tree = lxml_html.fromstring(page)
        assert tree.findtext(".//title").startswith(HOSTILE) and tree.findtext(".//h1").startswith(HOSTILE)
        listing = tree.find(".//pre")
        assert listing is not None and f"# {HOSTILE}" in listing.text_content()
        assert [s.text_content().count("root.getAttribute") for s in tree.iter("script")] == [1]  # ours alone
    program = tmp_path / "model.ws"
    program.write_text(f"# {HOSTILE}\nparam w = 3\ny_pred = w*w\nL = y_pred + 1\n", encoding="utf-8")
    page = _page(cli, "derive", str(program), "-f", "html")
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; " in page
    assert lxml_html.fromstring(page).find(".//pre").text_content().startswith(f"# {HOSTILE}\n")
    _assert_math_is_mathml(page)


def test_math_text_cannot_become_markup():
    """latex2mathml writes the text of \\text{…} unescaped; our MathML is taken as a tree and escaped."""
    written = mathml(r"\text{</math><script>alert(1)</script>&amp;} + x")
    root = ET.fromstring(written)
    assert [e.tag for e in root.iter()] == ["math", "mrow", "mtext", "mo", "mi"]
    assert root.find("./mrow/mtext").text == "</math><script>alert(1)</script>&"  # shown as written


def _toml(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ── the values shown, against sympy ────────────────────────────────────────────────────────

w, x, b, y, a, c = sympy.symbols("w x b y a c")
ORACLE_CASES = [  # (formula, wrt, at, the same function for sympy)
    ("(w*x+b-y)**2", "w,b", {w: 1, b: 0, x: 2, y: 4}, (w * x + b - y) ** 2),
    ("a*c + a", "a,c", {a: 2, c: -3}, a * c + a),  # a fans out: its sum is a row of its own
    ("x/(1+x*x)", "x", {x: sympy.Rational(1, 3)}, x / (1 + x * x)),  # fractions
    ("sigmoid(w*x + b)", "w,b", {w: sympy.Rational(1, 2), x: sympy.Rational(3, 2), b: sympy.Rational(1, 4)},
     1 / (1 + sympy.exp(-(w * x + b)))),  # rounded, ≈
    ("log(x)*y + exp(y)/x", "x,y", {x: 2, y: sympy.Rational(1, 2)}, sympy.log(x) * y + sympy.exp(y) / x),
]


@pytest.mark.parametrize("formula, wrt, at, function", ORACLE_CASES, ids=[c[0] for c in ORACLE_CASES])
def test_the_values_shown_are_the_derivatives(formula, wrt, at, function):
    point = ",".join(f"{k}={v}" for k, v in at.items())
    tree = lxml_html.fromstring(render(derive(formula, wrt=wrt, at=point), "html"))
    forward = tree.xpath('//tr[@data-node="L"]/td[last()]/math')[0]
    _assert_shows(forward, function.subs(at))
    result = tree.xpath('//h2[contains(., "Result")]/following-sibling::div[@class="equations"][1]')[0]
    for name in wrt.split(","):
        row = result.xpath(f'./div[@data-node="{name}"]/math')[0]
        _assert_shows(row, sympy.diff(function, sympy.Symbol(name)).subs(at))


def _assert_shows(math, value) -> None:
    """The last side of a row (or a cell's number) is ``value``: exactly where it is rational,
    after = in a row; to the digits shown, after ≈, where it is not. A long row is a table,
    a side per line: its last line's."""
    parts = list(math[0])
    if len(parts) == 1 and parts[0].tag == "mtable":
        parts = list(parts[0][-1][-1])
    relations = [i for i, p in enumerate(parts) if p.tag == "mo" and p.text in ("=", "≈")]
    shown = _number(parts[relations[-1] + 1:] if relations else parts)
    if relations:
        assert parts[relations[-1]].text == ("=" if value.is_Rational else "≈")
    if value.is_Rational:
        assert shown == value, (shown, value)
    else:
        assert abs(float(shown) - float(value)) <= 1e-5 * abs(float(value)), (shown, value)


def _number(parts):
    """The number a row of MathML shows: [−] then an <mn> or a fraction of two."""
    sign = 1
    if parts and parts[0].tag == "mo" and parts[0].text == "−":
        sign, parts = -1, parts[1:]
    assert len(parts) == 1, [p.tag for p in parts]
    if parts[0].tag == "mn":
        return sign * sympy.Rational(parts[0].text)
    assert parts[0].tag == "mfrac"
    top, bottom = (sympy.Rational("".join(p.itertext())) for p in parts[0])
    return sign * top / bottom


def test_rows_and_figure_carry_the_keys_of_their_nodes():
    """The forward rows name their nodes; each chain-rule step names its use; every node and
    arrow of the figure says the same, so that the page's script can link them."""
    trace = derive("a*c + a", at="a=2,c=-3")
    tree = lxml_html.fromstring(render(trace, "html"))
    assert tree.xpath("//tbody/tr/@data-node") == [n.name for n in trace.graph.nodes]
    steps = {f"{s.input}>{s.node}:{s.position}" for s in trace.steps}
    assert set(tree.xpath("//div[@class='eq']/@data-use")) == steps
    assert set(tree.xpath("//svg/polyline/@data-use")) == steps
    assert set(tree.xpath("//svg/circle/@data-node") + tree.xpath("//svg/rect/@data-node")) == {
        n.name for n in trace.graph.nodes}
    assert tree.xpath("//div[@class='eq'][@data-node='a'][not(@data-use)]")  # ∂L/∂a, the sum of its paths


# ── in a browser ──────────────────────────────────────────────────────────────────────────


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (Debian: apt-get install chromium; .ci/run installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def open_page(browser, tmp_path):
    """Open an HTML text from a file:// URL, every other request refused (and recorded)."""
    opened = []

    def open_(html: str, width: int = 1000):
        path = tmp_path / f"page{len(opened)}.html"
        path.write_text(html, encoding="utf-8")
        page = browser.new_page(viewport={"width": width, "height": 900})
        fetched, errors = [], []
        page.route("**", lambda route: route.continue_() if route.request.url.startswith("file:")
                   else (fetched.append(route.request.url), route.abort()))
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(path.as_uri())
        opened.append((page, fetched, errors))
        return page

    yield open_
    for page, fetched, errors in opened:
        assert fetched == [] and errors == []  # it asked for nothing outside, and its script ran clean
        page.close()


README_PAGE = lambda: render(derive("(w*x+b-y)**2", wrt="w,b", at="w=1,b=0,x=2,y=4"), "html")  # noqa: E731


def test_the_math_is_laid_out_as_math(open_page):
    page = open_page(README_PAGE())
    boxes = page.eval_on_selector_all("math", "els => els.map(e => [e.getBoundingClientRect().width, "
                                      "e.getBoundingClientRect().height])")
    assert boxes and all(w > 0 and h > 0 for w, h in boxes)
    line = page.eval_on_selector("p", "p => parseFloat(getComputedStyle(p).lineHeight)")
    fraction = page.eval_on_selector(".eq mfrac", "f => f.getBoundingClientRect().height")
    assert fraction > 1.2 * line  # ∂L/∂v₃ stacked, as a fraction, not a line of text
    base, script = page.eval_on_selector(".eq msub", "s => [s.children[0].getBoundingClientRect().bottom, "
                                         "s.children[1].getBoundingClientRect().bottom]")
    assert script > base  # v₃: the 3 set below the v


def test_a_blank_is_a_numbered_box(open_page, cli, tmp_path):
    cli("handout", str(SAMPLES / "backprop_set.toml"), "--seed", "7", "-f", "html", "-o", str(tmp_path / "h"))
    page = open_page(next((tmp_path / "h").glob("*-v01.html")).read_text(encoding="utf-8"))
    box = page.eval_on_selector("mrow.blank", "b => { const s = getComputedStyle(b), r = b.getBoundingClientRect();"
                                " return [s.borderTopStyle, parseFloat(s.borderLeftWidth), r.width, r.height,"
                                " b.textContent]; }")
    style, border, width, height, text = box
    assert style == "solid" and border >= 1 and width > 2 * height > 0 and text == "(1)"


def _highlighted(page, selector: str, name: str = "on") -> list[bool]:
    return page.eval_on_selector_all(selector, f"els => els.map(e => e.classList.contains('{name}'))")


def _background(page, selector: str) -> str:
    return page.eval_on_selector(selector, "e => getComputedStyle(e).backgroundColor")


def test_clicking_a_node_highlights_its_row_and_its_steps(open_page):
    page = open_page(README_PAGE())
    plain = _background(page, 'tr[data-node="v3"] > td')
    page.click('svg circle[data-node="v3"]', force=True)
    assert _highlighted(page, 'tr[data-node="v3"]') == [True]
    assert _background(page, 'tr[data-node="v3"] > td') != plain
    assert sum(_highlighted(page, "tbody tr")) == 1
    assert _highlighted(page, '.eq[data-use="v3>L:0"]') == [True]  # ∂L/∂v₃ = 2v₃ = −4, its step
    assert not any(_highlighted(page, '.eq[data-use="v2>v3:0"]'))  # what v₃ sends on is another node's
    assert _highlighted(page, 'svg polyline[data-use="v3>L:0"]') == [True]
    page.click('svg circle[data-node="v3"]', force=True)  # a second click lets go
    assert not any(_highlighted(page, "[data-node]"))


def test_hovering_an_arrow_highlights_its_step_and_the_value_it_carries(open_page):
    page = open_page(README_PAGE())
    page.hover('svg text[data-use="w>v1:0"]', force=True)  # ← −8 on the arrow out of w
    assert _highlighted(page, '.eq[data-use="w>v1:0"]', "hl") == [True]
    assert _highlighted(page, 'tr[data-node="w"]', "hl") == [True]
    assert _highlighted(page, '.eq[data-node="w"]:not([data-use])', "hl") == [True]  # the result ∂L/∂w
    assert not any(_highlighted(page, '.eq[data-use="x>v1:1"]', "hl"))


def test_clicking_a_row_highlights_the_node_in_the_figure(open_page):
    page = open_page(README_PAGE())
    fill = page.eval_on_selector('svg circle[data-node="v1"]', "c => getComputedStyle(c).fill")
    page.click('tr[data-node="v1"]')
    assert _highlighted(page, 'svg circle[data-node="v1"]') == [True]
    assert page.eval_on_selector('svg circle[data-node="v1"]', "c => getComputedStyle(c).fill") != fill
    assert _highlighted(page, '.eq[data-use="v1>v2:0"]') == [True]
    assert not any(_highlighted(page, 'svg circle[data-node="v2"]'))


def test_each_worksheet_of_a_training_trace_links_its_own_rows(open_page):
    from worksheet.engine.train import train
    from worksheet.render import render_training

    run = train((SAMPLES / "per_sample.ws").read_text(), lr="0.01", epochs=1, per_sample=True, explain_steps=2)
    page = open_page(render_training(run, "html"))
    page.click('figure[data-scope="2"] svg rect[data-node="w"]', force=True)
    assert _highlighted(page, 'tr[data-node="w"]') == [False, True]


def test_a_screenshot_shows_the_page(open_page, browser, tmp_path):
    page = open_page(README_PAGE())
    page.click('svg circle[data-node="v3"]', force=True)
    shot = tmp_path / "worksheet.png"
    page.screenshot(path=str(shot), full_page=True)
    counter = browser.new_page()  # a blank page counts its pixels: the worksheet's policy forbids images
    inked, coloured = counter.evaluate(PIXELS, "data:image/png;base64," + base64.b64encode(shot.read_bytes()).decode())
    counter.close()
    assert inked > 0.02 and coloured > 0.001  # text and lines; the figure's colours and the highlight


PIXELS = """async url => {
  const image = new Image(); image.src = url; await image.decode();
  const canvas = document.createElement("canvas"); canvas.width = image.width; canvas.height = image.height;
  const context = canvas.getContext("2d"); context.drawImage(image, 0, 0);
  const data = context.getImageData(0, 0, image.width, image.height).data;
  let inked = 0, coloured = 0;
  for (let i = 0; i < data.length; i += 4) {
    const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
    if (r + g + b < 600) inked++;
    if (Math.max(r, g, b) - Math.min(r, g, b) > 60) coloured++;
  }
  const n = data.length / 4; return [inked / n, coloured / n];
}"""


def test_fragments_in_one_notebook_each_link_their_own_rows(open_page):
    """A notebook shows many worksheets on one page: each fragment's script binds to its own."""
    from worksheet.render import worksheet_document
    from worksheet.render.html import fragment

    document = worksheet_document(derive("(w*x+b-y)**2", wrt="w,b", at="w=1,b=0,x=2,y=4"))
    first, second = fragment(document), fragment(document)
    assert "<html" not in first and first.startswith('<div class="worksheet" id="worksheet-') and first != second
    page = open_page(f"<!DOCTYPE html><html><body>{first}{second}</body></html>")
    page.click('.worksheet:nth-of-type(2) svg circle[data-node="v1"]', force=True)
    assert _highlighted(page, 'tr[data-node="v1"]') == [False, True]
