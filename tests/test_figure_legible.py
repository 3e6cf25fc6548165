"""Figures a teacher can print: in the SVG of every sample and of generated graphs of up to 50
nodes, no text overlaps another text, a node or any arrow — measured with the font's own
metrics (fontTools on DejaVu Sans Mono, the figure's font), not the layout's estimate."""

import functools
import itertools
import random
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SAMPLES
from worksheet.figure import draw, figure
from worksheet.lang.options import program_graph
from worksheet.render.figures import svg

SVG = "{http://www.w3.org/2000/svg}"
FONT_FILE = Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf")
README = ("(w*x+b-y)**2", "w=1,b=0,x=2,y=4")


@pytest.fixture
def metrics():
    return font_box()


@functools.cache
def font_box():
    """A text's box from the font's advance widths, ascender and descender."""
    if not FONT_FILE.exists():
        pytest.skip(f"{FONT_FILE} (Debian's fonts-dejavu-core) is missing: the text extents come from it")
    from fontTools.ttLib import TTFont

    font = TTFont(FONT_FILE)
    cmap, advance, em = font.getBestCmap(), font["hmtx"], font["head"].unitsPerEm
    ascent, descent = font["hhea"].ascent / em, -font["hhea"].descent / em

    def box(text: str, x: float, baseline: float, size: float):
        missing = [ch for ch in text if ord(ch) not in cmap]
        assert not missing, f"the font has no glyph for {missing}"
        width = sum(advance[cmap[ord(ch)]][0] for ch in text) / em * size
        return (x - width / 2, baseline - ascent * size, x + width / 2, baseline + descent * size)

    return box


def parts(svg_text: str, box):
    """The SVG's texts (role, box), node shapes (boxes) and arrow segments."""
    root = ET.fromstring(svg_text)
    texts = [(t.get("class"), box(t.text, float(t.get("x")), float(t.get("y")), float(t.get("font-size"))))
             for t in root.iter(f"{SVG}text")]
    shapes = [(float(r.get("x")), float(r.get("y")), float(r.get("x")) + float(r.get("width")),
               float(r.get("y")) + float(r.get("height"))) for r in root.iter(f"{SVG}rect") if r.get("rx")]
    for c in root.iter(f"{SVG}circle"):
        x, y, r = float(c.get("cx")), float(c.get("cy")), float(c.get("r"))
        shapes.append((x - r, y - r, x + r, y + r))
    segments = []
    for line in root.iter(f"{SVG}polyline"):
        points = [tuple(map(float, p.split(","))) for p in line.get("points").split()]
        segments += list(zip(points, points[1:]))
    return texts, shapes, segments


def overlap(a, b, eps: float = 0.05) -> bool:
    return a[0] + eps < b[2] and b[0] + eps < a[2] and a[1] + eps < b[3] and b[1] + eps < a[3]


def inside(a, b) -> bool:
    return b[0] <= a[0] and a[2] <= b[2] and b[1] <= a[1] and a[3] <= b[3]


def crosses(segment, box, eps: float = 0.05) -> bool:
    """Does the segment meet the box's interior? (Liang–Barsky clipping.)"""
    (x0, y0), (x1, y1) = segment
    left, top, right, bottom = box[0] + eps, box[1] + eps, box[2] - eps, box[3] - eps
    t0, t1, dx, dy = 0.0, 1.0, x1 - x0, y1 - y0
    for p, q in ((-dx, x0 - left), (dx, right - x0), (-dy, y0 - top), (dy, bottom - y0)):
        if p == 0:
            if q < 0:
                return False
        else:
            t = q / p
            if p < 0:
                t0 = max(t0, t)
            else:
                t1 = min(t1, t)
    return t0 < t1


def assert_legible(fig, box):
    texts, shapes, segments = parts(svg(fig), box)
    for (ra, a), (rb, b) in itertools.combinations(texts, 2):
        assert not overlap(a, b), (ra, a, rb, b)
    for role, t in texts:
        assert 0 <= t[0] and t[2] <= fig.width and 0 <= t[1] and t[3] <= fig.height, (role, t)
        for segment in segments:
            assert not crosses(segment, t), (role, t, segment)
        for shape in shapes:
            if role == "label" and inside(t, shape):
                continue  # a node's own symbol, inside it
            assert not overlap(t, shape), (role, t, shape)


def sample_figures():
    yield "README", lambda: draw(README[0], at=README[1])
    yield "README, no values", lambda: draw(README[0])
    for path in sorted(SAMPLES.glob("*.ws")):
        if path.name == "per_sample.ws":  # train's: one sample's loss is a vector, so the structure
            yield path.name, lambda path=path: figure(program_graph(path.read_text(encoding="utf-8"),
                                                                    filename=path.name))
        else:
            yield path.name, lambda path=path: draw(path.read_text(encoding="utf-8"), filename=path.name)
    yield "fan-out", lambda: draw("y_pred = w*x + w*w\nL = (y_pred - y)**2", at="w=2,x=3,y=1", filename="f.ws")
    yield "sigmoid", lambda: draw("(sigmoid(w*x+b) - y)**2", at="w=1,x=2,b=-1/2,y=1")


@pytest.mark.parametrize("name,make", list(sample_figures()), ids=[n for n, _ in sample_figures()])
def test_every_sample_figure_is_legible(name, make, metrics):
    assert_legible(make(), metrics)


def random_program(rng: random.Random, nodes: int) -> str:
    """A program of about ``nodes`` nodes: a few inputs, operations on earlier names (some used
    many times, some far back), every unused name summed into the output."""
    inputs = [f"x{i}" for i in range(rng.randint(1, 6))]
    names, lines, used = list(inputs), [], set()
    for i in range(max(1, nodes - len(inputs) - 2)):
        op = rng.choice(["+", "-", "*", "tanh", "sigmoid", "relu", "+"])
        a, b = rng.choice(names), rng.choice(names[-4:] if rng.random() < 0.6 else names)
        used |= {a, b}
        lines.append(f"h{i} = {op}({a})" if op.isalpha() else f"h{i} = {a} {op} {b}")
        names.append(f"h{i}")
    unused = [n for n in names if n not in used] or names[-1:]
    lines.append("L = " + " + ".join(unused))
    declared = [f"data {x} = {rng.choice(['1', '-1', '2', '0.5', '0'])}" for x in inputs]
    return "\n".join(declared + lines)


@given(st.integers(0, 10**9), st.integers(3, 50), st.booleans())
@settings(max_examples=60, deadline=None)
def test_generated_graphs_up_to_fifty_nodes_are_legible(seed, nodes, values):
    box = font_box()
    text = random_program(random.Random(seed), nodes)
    fig = draw(text, filename="g.ws", digits=4) if values else figure(program_graph(text, filename="g.ws"))
    assert_legible(fig, box)


def test_labels_are_seven_points_or_more_when_printed():
    from worksheet.render.figures import PX, placement
    from worksheet.figure.layout import SMALL

    for name, make in sample_figures():
        where = placement(make())
        assert SMALL * PX * where.scale >= 7 - 1e-9, name
