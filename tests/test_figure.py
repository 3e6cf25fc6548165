"""Graph figures: the layout, the four formats, escaping, the worksheet's figure, `worksheet graph`."""

import itertools
import re
import subprocess
import xml.etree.ElementTree as ET

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SAMPLES, latex_available
from worksheet import derive, render
from worksheet.figure import FigureEdge, FigureNode, Figure, draw, figure
from worksheet.figure.layout import crossings, isotonic
from worksheet.render.figures import mermaid, mermaid_text, png, render_figure, svg
from worksheet.render.tikz import tex_text, tikz_document

README = ("(w*x+b-y)**2", "w=1,b=0,x=2,y=4")
SVG = "{http://www.w3.org/2000/svg}"


def readme_figure():
    return figure(derive(README[0], at=README[1]))


def edge(fig, source, target):
    return next(e for e in fig.edges if (e.source, e.target) == (source, target))


def test_edges_carry_value_and_gradient_of_that_use():
    fig = readme_figure()
    assert (edge(fig, "x", "v1").value, edge(fig, "x", "v1").grad) == ("2", "−4")  # ∂L/∂x = −4·w
    assert (edge(fig, "w", "v1").value, edge(fig, "w", "v1").grad) == ("1", "−8")
    assert (edge(fig, "v3", "L").value, edge(fig, "v3", "L").grad) == ("−2", "−4")
    assert fig.node("L").value == "4" and fig.seed == "1"
    assert [n.shape for n in fig.nodes] == ["box"] * 4 + ["circle"] * 4
    assert [n.label for n in fig.nodes[4:]] == ["×", "+", "−", "(·)²"]


def test_each_use_is_its_own_edge():
    fig = figure(derive("a*a", at="a=3"))
    uses = [e for e in fig.edges if e.source == "a"]
    assert len(uses) == 2 and {e.position for e in uses} == {0, 1}
    assert all(e.grad == "3" for e in uses)  # each use: ∂L/∂v · ∂v/∂a = 1 · 3
    assert uses[0].start != uses[1].start and uses[0].end != uses[1].end  # two arrows, not one
    assert mermaid(fig).count("n0 -->") == 2


def test_without_values_the_structure_alone():
    fig = draw("(w*x+b-y)**2")
    assert not fig.values and all(e.value is None and e.grad is None for e in fig.edges)
    root = ET.fromstring(svg(fig))
    assert {t.text for t in root.iter(f"{SVG}text")} >= {"w", "x", "b", "y", "×", "v₁", "L"}


def test_tensor_program_shows_shapes():
    fig = draw("param W = [[1, 2], [3, 4]]\ndata x = [1, 1]\nz = W @ x\nL = sum(z)", filename="f.ws")
    assert edge(fig, "W", "z").value == "2×2" and edge(fig, "W", "z").grad == "2×2"
    assert edge(fig, "z", "L").value == "2"
    assert fig.node("z").label == "@" and fig.node("L").label == "Σ"


def check_layout(fig: Figure):
    nodes = {n.name: n for n in fig.nodes}
    for e in fig.edges:  # every node left of every node that uses it
        assert nodes[e.source].right < nodes[e.target].left, (e.source, e.target)
    output = nodes[fig.output]
    assert all(n.x < output.x for n in fig.nodes if n is not output)
    for a, b in itertools.combinations(fig.nodes, 2):  # no two nodes overlap
        apart = a.right <= b.left or b.right <= a.left or a.bottom <= b.top or b.bottom <= a.top
        assert apart, (a.name, b.name)
    for n in fig.nodes:
        assert 0 <= n.left and n.right <= fig.width and 0 <= n.top and n.bottom <= fig.height


def test_layout_inputs_left_output_right():
    check_layout(readme_figure())
    check_layout(figure(derive("sigmoid(w*x + b) + w*w - relu(b)/x", at="w=1,b=2,x=3")))


def test_fifty_nodes_lay_out_without_overlap():
    lines = [f"data x{i} = {i + 1}" for i in range(8)]
    names = [f"x{i}" for i in range(8)]
    for i in range(24):
        a, b = names[(i * 3) % len(names)], names[(i * 7 + 1) % len(names)]
        op = ["*", "+", "-", "/"][i % 4]
        lines.append(f"h{i} = {a} {op} {b}" if i % 5 else f"h{i} = tanh({a})")
        names.append(f"h{i}")
    lines.append("L = " + " + ".join(names[8:]))  # every h used: 8 inputs, 24 + 23 operations
    fig = draw("\n".join(lines), filename="big.ws")
    assert len(fig.nodes) >= 50
    check_layout(fig)
    ET.fromstring(svg(fig))


@given(st.lists(st.floats(-100, 100, allow_nan=False), max_size=30),
       st.lists(st.floats(0.1, 10, allow_nan=False), min_size=30, max_size=30))
@settings(max_examples=200, deadline=None)
def test_isotonic_regression_is_nondecreasing_and_keeps_the_weighted_mean(values, weights):
    weights = weights[:len(values)]
    fitted = isotonic(values, weights)
    assert all(a <= b + 1e-9 for a, b in zip(fitted, fitted[1:]))
    if values:  # pooling keeps each block's weighted mean, so the whole one's
        mean = sum(v * w for v, w in zip(values, weights)) / sum(weights)
        assert sum(f * w for f, w in zip(fitted, weights)) / sum(weights) == pytest.approx(mean, abs=1e-6)
    if values == sorted(values):
        assert fitted == pytest.approx(values)


def test_crossings_counts_each_crossing_pair_once():
    from worksheet.figure.layout import Item

    def ranks(pairs):
        left = [Item("pass", i, 0, 1, 1, pos=i) for i in range(4)]
        right = [Item("pass", i, 0, 1, 1, pos=i) for i in range(4)]
        for a, b in pairs:
            left[a].succs.append(right[b])
        return [left, right]

    assert crossings(ranks([(0, 0), (1, 1), (2, 2)])) == 0
    assert crossings(ranks([(0, 1), (1, 0)])) == 1
    assert crossings(ranks([(0, 3), (1, 2), (2, 1), (3, 0)])) == 6  # every pair
    assert crossings(ranks([(0, 1), (0, 0)])) == 0  # from one end: they meet, not cross


def test_an_input_used_on_every_line_of_a_long_program_keeps_labels_on_their_arrows():
    lines = ["a0 = x"] + [f"a{i} = a{i - 1}*x + {i}" for i in range(1, 400)]
    fig = draw("\n".join(lines), at="x=1/2", filename="fan.ws")
    check_layout(fig)
    for e in fig.edges:  # each label on a level stretch of its own arrow
        x, y = e.label_at
        assert any(a[1] == b[1] == y and a[0] - 1 <= x <= b[0] + 1 for a, b in zip(e.points, e.points[1:])), e


def test_svg_is_xml_with_every_name_value_and_gradient():
    fig = readme_figure()
    root = ET.fromstring(svg(fig))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    for n in fig.nodes:
        assert n.label in texts and (n.caption is None or n.caption in texts)
    for e in fig.edges:
        assert e.value in texts and e.grad in texts
    assert root.find(f"{SVG}defs/{SVG}marker") is not None
    assert len(list(root.iter(f"{SVG}polyline"))) == len(fig.edges) + len(fig.trunks) + 1  # and the stub


def test_mermaid_one_line_per_node_and_labelled_edges():
    fig = readme_figure()
    text = mermaid(fig)
    assert text.startswith("flowchart LR\n")
    node_lines = [line for line in text.splitlines() if line.strip().startswith("n") and "-->" not in line]
    assert len(node_lines) == len(fig.nodes)
    assert '-->|"→ 2<br>← −4"|' in text and '-->|"→ 1<br>← −8"|' in text
    assert 'n0["w"]' in text and '(("×<br>v₁"))' in text
    assert '--> out' not in text and '-->|"→ 4<br>← 1"| out' in text  # the output's own arrow


def hostile_figure(label: str) -> Figure:
    nodes = (
        FigureNode("a", label, "box", 0, 40, 40, 60, 28),
        FigureNode("L", label, "circle", 1, 160, 40, 40, 40, op="mul", output=True, value=label, caption=label),
    )
    return Figure(nodes, (FigureEdge("a", "L", 0, label, label, ((70, 40), (140, 40)), (105, 40)),),
                  220, 80, "L", True, label)


@pytest.mark.parametrize("label", ['"]; click a href "x"', "<b>&amp;</b>", "a|b#c;d`e", "\\end{tikzpicture}$%_{}"])
def test_hostile_labels_are_escaped(label):
    fig = hostile_figure(label)
    root = ET.fromstring(svg(fig))  # still well-formed, the text intact
    assert label in [t.text for t in root.iter(f"{SVG}text")]
    text = mermaid(fig)
    for line in text.splitlines()[1:3]:
        inner = line.split('"')
        assert len(inner) == 3, line  # exactly one quoted label: nothing escapes it
        bare = re.sub(r"#\d+;", "", inner[1].replace("<br>", ""))
        assert not set(bare) & set("\"[]<>&|`;#(){}"), line
    assert mermaid_text('a"b') == "a#34;b" and mermaid_text("#") == "#35;"
    tex = tex_text(label)
    assert "\\end{" not in tex and "$%" not in tex


@pytest.mark.parametrize("fig", [
    lambda: readme_figure(),
    lambda: hostile_figure("\\end{tikzpicture}$%_{}^~#&"),
    lambda: draw("sigmoid(w*x+b) + abs(w) - sqrt(x)", at="w=0.5,b=-1,x=3"),
])
def test_tikz_compiles(fig, tmp_path):
    latex_available()
    (tmp_path / "figure.tex").write_text(tikz_document(fig()), encoding="utf-8")
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "figure.tex"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:]
    assert (tmp_path / "figure.pdf").stat().st_size > 1000


def test_png_has_the_signature_and_is_not_blank():
    data = png(readme_figure())
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 2000
    assert len(set(data[100:4000])) > 20  # compressed pixels vary: something is drawn


def test_worksheet_markdown_embeds_mermaid_and_latex_tikz():
    trace = derive(README[0], wrt="w,b", at=README[1])
    md = render(trace, "md")
    assert "```mermaid\nflowchart LR\n" in md
    tex = render(trace, "tex")
    assert "\\begin{tikzpicture}" in tex and "\\usepackage{graphicx,tikz,lscape,afterpage}" in tex
    assert "flowchart" not in render(trace, "txt")
    tensor = derive("param W = [[1, 2], [3, 4]]\ndata x = [1, 1]\nz = W @ x\nL = sum(z)", filename="f.ws")
    assert "```mermaid" in render(tensor, "md")


@pytest.mark.parametrize("fmt", ["svg", "tikz", "mermaid"])
def test_cli_graph_formats(cli, fmt):
    result = cli("graph", README[0], "--at", README[1], "--format", fmt)
    assert result.code == 0 and result.err == ""
    assert "−4" in result.out or "$-$4" in result.out


def test_cli_graph_png_and_extension(cli, tmp_path):
    out = tmp_path / "g.png"
    assert cli("graph", README[0], "--at", README[1], "-o", str(out)).code == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg_out = tmp_path / "g.svg"
    assert cli("graph", README[0], "-o", str(svg_out)).code == 0
    ET.fromstring(svg_out.read_text(encoding="utf-8"))


@pytest.mark.parametrize("args", [
    ["graph", "(w*x+)"],
    ["graph", "w*x", "--at", "w=1"],
    ["graph", "w*x", "-o", "figure.docx"],
    ["graph", "w*x", "--format", "gif"],
])
def test_cli_graph_bad_input(cli, args):
    result = cli(*args)
    assert result.code == 2 and result.out == ""
    assert len(result.err.strip().splitlines()) == 1 and result.err.startswith("worksheet: error:")


def test_render_figure_rejects_unknown_format():
    with pytest.raises(ValueError):
        render_figure(readme_figure(), "gif")


def test_symbolic_values_are_short_text():
    fig = figure(derive("exp(w)*x", at="w=1,x=1/3"))
    assert edge(fig, "w", "v1").value == "1"
    assert edge(fig, "v1", "L").value == "2.71828"
    assert isinstance(fig.width, float) and sympy.Float(fig.height) > 0


# ── on the page: print size, a turned page of its own, parts ─────────────────────────────


def chain_program(lines: int) -> str:
    return "data x = 0.5\nv1 = sin(x)\n" + "\n".join(f"v{i} = sigmoid(v{i - 1})*x" for i in range(2, lines + 1))


def test_placement_never_shrinks_text_below_seven_points():
    from worksheet.render.figures import PX, SMALL, placement

    small, wide = readme_figure(), draw(chain_program(30), filename="c.ws")
    mlp = draw((SAMPLES / "mlp_l2.ws").read_text(), filename="mlp_l2.ws")
    assert placement(small).kind == "inline" and placement(small).scale == 1.0
    assert placement(mlp).kind == "landscape"
    where = placement(wide)
    assert where.kind == "split" and len(where.parts) > 1
    for fig in (small, mlp, wide):
        assert SMALL * PX * placement(fig).scale >= 7 - 1e-9
    assert where.parts[0][0] == 0 and where.parts[-1][1] == wide.width  # the parts cover it, in order
    assert all(a[1] == b[0] for a, b in zip(where.parts, where.parts[1:]))
    assert all(p[1] in wide.cuts or p[1] == wide.width for p in where.parts)  # cut between ranks only


def test_a_turned_page_for_a_wide_model_and_parts_for_a_long_chain_in_pdf(tmp_path):
    import shutil

    if not shutil.which("pdfinfo"):
        pytest.skip("pdfinfo (poppler-utils) is not installed")
    for name, trace in (("mlp", derive((SAMPLES / "mlp_l2.ws").read_text(), filename="mlp_l2.ws")),
                        ("chain", derive(chain_program(30), wrt="x", filename="c.ws"))):
        (tmp_path / f"{name}.pdf").write_bytes(render(trace, "pdf"))
        info = subprocess.run(["pdfinfo", "-f", "1", "-l", "99", f"{name}.pdf"], cwd=tmp_path,
                              capture_output=True, text=True).stdout
        sizes = [tuple(map(float, m)) for m in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)]
        turned = [w > h for w, h in sizes]
        text = subprocess.run(["pdftotext", f"{name}.pdf", "-"], cwd=tmp_path, capture_output=True,
                              text=True).stdout
        if name == "mlp":
            assert turned[-1] and not any(turned[:-1])  # the graph's own page, at the end
            assert "drawn on a page of its own, turned: page" in text and "relu" in text
        else:
            assert not any(turned) and "The computational graph, in" in text


def test_latex_worksheets_with_a_turned_page_and_with_parts_compile(tmp_path):
    latex_available()
    for name, trace in (("mlp", derive((SAMPLES / "mlp_l2.ws").read_text(), filename="mlp_l2.ws")),
                        ("chain", derive(chain_program(30), wrt="x", filename="c.ws"))):
        (tmp_path / f"{name}.tex").write_text(render(trace, "tex"), encoding="utf-8")
        done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", f"{name}.tex"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout[-3000:]
    tex = render(derive((SAMPLES / "mlp_l2.ws").read_text(), filename="mlp_l2.ws"), "tex")
    assert "\\afterpage{\\begin{landscape}" in tex
    assert "\\useasboundingbox" in render(derive(chain_program(30), wrt="x", filename="c.ws"), "tex")


def test_long_values_are_abbreviated_to_four_digits():
    fig = draw("exp(-40*x)*x", at="x=1")
    assert all(len(t) <= 10 for e in fig.edges for t in (e.value, e.grad))
    assert edge(fig, "v2", "L").value == "4.248e-18"  # e^−40 = 4.2483542552915889e-18


def test_names_are_written_as_in_the_text():
    fig = draw((SAMPLES / "mlp_l2.ws").read_text(), filename="mlp_l2.ws")
    assert fig.node("lambda").label == "λ" and fig.node("W1").label == "W₁"
    assert fig.node("v1").caption == "v₁" and fig.node("z").caption == "z"
    assert draw("x**3 + x**-1", at="x=2").node("v1").label == "(·)³"
    assert "^" not in tikz_document(readme_figure()).split("\\begin{document}")[1].replace("$^{2}$", "")
