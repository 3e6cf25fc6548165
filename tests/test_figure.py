"""Graph figures: the layout, the four formats, escaping, the worksheet's figure, `worksheet graph`."""

import itertools
import re
import subprocess
import xml.etree.ElementTree as ET

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import latex_available
from worksheet import derive, render
from worksheet.figure import FigureEdge, FigureNode, Figure, _Boxes, _gaps, draw, figure
from worksheet.render.figures import mermaid, mermaid_text, png, render_figure, svg, tex_text, tikz_document

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
    assert [n.label for n in fig.nodes[4:]] == ["×", "+", "−", "^2"]


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
    assert {t.text for t in root.iter(f"{SVG}text")} >= {"w", "x", "b", "y", "×", "v1", "L"}


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


@given(st.lists(st.tuples(*[st.floats(-500, 500, allow_nan=False)] * 2, *[st.floats(0, 300)] * 2), max_size=40),
       st.tuples(*[st.floats(-500, 500, allow_nan=False)] * 2, *[st.floats(0, 300)] * 2))
@settings(max_examples=300, deadline=None)
def test_boxes_find_an_overlap_exactly_when_one_is_there(boxes, probe):
    def box(x, y, w, h):
        return (x, y, x + w, y + h)

    taken = _Boxes(box(*b) for b in boxes)
    probe = box(*probe)
    everyone = any(probe[0] < t[2] and t[0] < probe[2] and probe[1] < t[3] and t[1] < probe[3]
                   for t in map(lambda b: box(*b), boxes))
    assert taken.overlaps(probe) == everyone


def test_a_long_arrow_tries_the_gaps_near_its_ends_only():
    assert _gaps(2, 5) == [5, 4, 3]
    assert _gaps(0, 8) == list(range(8, 0, -1))
    assert _gaps(0, 3000) == [3000, 2999, 2998, 2997, 4, 3, 2, 1]


def test_an_input_used_on_every_line_of_a_long_program_keeps_labels_on_their_arrows():
    lines = ["a0 = x"] + [f"a{i} = a{i - 1}*x + {i}" for i in range(1, 400)]
    fig = draw("\n".join(lines), at="x=1/2", filename="fan.ws")
    check_layout(fig)
    for e in fig.edges:  # each label on its own arrow, between its ends
        (x0, y0), (x1, y1) = e.start, e.end
        x, y = e.label_at
        assert x0 - 1 <= x <= x1 + 1, (e.source, e.target)
        assert y == pytest.approx(y0 + (x - x0) / (x1 - x0) * (y1 - y0), abs=0.1)


def test_svg_is_xml_with_every_name_value_and_gradient():
    fig = readme_figure()
    root = ET.fromstring(svg(fig))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    for n in fig.nodes:
        assert n.name in texts
    for e in fig.edges:
        assert e.value in texts and e.grad in texts
    assert root.find(f"{SVG}defs/{SVG}marker") is not None
    assert len(list(root.iter(f"{SVG}line"))) == len(fig.edges) + 1  # and the output's own arrow


def test_mermaid_one_line_per_node_and_labelled_edges():
    fig = readme_figure()
    text = mermaid(fig)
    assert text.startswith("flowchart LR\n")
    node_lines = [line for line in text.splitlines() if line.strip().startswith("n") and "-->" not in line]
    assert len(node_lines) == len(fig.nodes)
    assert '-->|"2 / −4"|' in text and '-->|"1 / −8"|' in text
    assert 'n0["w"]' in text and '(("×<br>v1"))' in text


def hostile_figure(label: str) -> Figure:
    nodes = (
        FigureNode("a", label, "box", 0, 40, 40, 60, 28),
        FigureNode("L", label, "circle", 1, 160, 40, 40, 40, op="mul", output=True, value=label),
    )
    return Figure(nodes, (FigureEdge("a", "L", 0, label, label, (70, 40), (140, 40), (105, 40)),),
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
    assert "\\begin{tikzpicture}" in tex and "\\usepackage{graphicx,tikz}" in tex
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
