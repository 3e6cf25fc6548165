"""Trace (or Graph) → ``Figure``: the computational graph as a picture, in no output syntax.

The d2l picture of a graph: each variable a box, each operation a circle with its symbol
(×, +, −, ÷, (·)², σ, relu, @, ᵀ, Σ …) and its name beside it, an arrow per *use* of a value
(``a*a`` has two arrows from a to ×). With values, each arrow carries the forward value it
delivers (drawn above it, green) and the gradient that flows back along it (below, red):
the chain-rule product of that use, ∂L/∂v · ∂v/∂u, the ``Step`` of the backward pass for
that node, input and position. A tensor's value is shown by its shape. Names are written as
in the text: λ for lambda, W₁ for W1.

The layout (``figure.layout``: layered, with dummies, crossing reduction and a rank of its
own for the arrows' labels) is computed here once; every renderer (``render/figures.py``,
``render/tikz.py``, ``render/typst_figure.py``) draws the same boxes, polylines and texts.
"""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass

from sympy import Symbol
from sympy.printing.conventions import split_super_sub

from ..lang.graph import Graph
from ..lang.versions import unversioned, versioned
from ..notation import TextNotation
from ..notation.base import SUPERSCRIPTS
from ..ops import RULES
from ..tensors import is_array
from . import layout as L
from .layout import ASCENT, BOX_HEIGHT, DESCENT, FONT, LINE_GAP, MARGIN, PORT, SMALL, text_height, text_width

PREFIX_CONSTANT = {"add", "sub", "mul", "div"}  # 2×, 1−: a number written before the symbol
SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


@dataclass(frozen=True)
class FigureNode:
    name: str  # the user's name (or v1, v2, …)
    label: str  # what is written in it: the name for a variable, the symbol for an operation
    shape: str  # "box" (a variable) or "circle" (an operation)
    layer: int
    x: float  # centre
    y: float
    width: float
    height: float
    op: str = "input"
    output: bool = False
    value: str | None = None  # the output's value (the figure's last label)
    caption: str | None = None  # the name written under a circle, as in the text (v₁, λ)

    @property
    def left(self) -> float:
        return self.x - self.width / 2

    @property
    def right(self) -> float:
        return self.x + self.width / 2

    @property
    def top(self) -> float:
        return self.y - self.height / 2

    @property
    def bottom(self) -> float:
        return self.y + self.height / 2


@dataclass(frozen=True)
class FigureEdge:
    """One use of ``source`` as argument ``position`` of ``target``, drawn as a polyline."""

    source: str
    target: str
    position: int
    value: str | None  # the forward value it carries (shown above)
    grad: str | None  # the gradient flowing back along it (shown below)
    points: tuple[tuple[float, float], ...] = ((0.0, 0.0), (0.0, 0.0))
    label_at: tuple[float, float] | None = None  # the middle of its labels' line

    @property
    def start(self) -> tuple[float, float]:
        return self.points[0]

    @property
    def end(self) -> tuple[float, float]:
        return self.points[-1]


@dataclass(frozen=True)
class FigureText:
    """A text where it is drawn: centred on ``x``, on the ``baseline``; ``role`` says which
    (a node's ``label``, a circle's ``name``, an arrow's ``value`` or ``grad``)."""

    text: str
    x: float
    baseline: float
    size: float
    role: str
    of: object = None  # what it labels: a FigureNode, or a FigureEdge (the output's own arrow: its node)

    @property
    def box(self) -> tuple[float, float, float, float]:
        """(left, top, right, bottom): the advance widths, from the ascender to the descender."""
        half = text_width(self.text, self.size) / 2
        return (self.x - half, self.baseline - ASCENT * self.size,
                self.x + half, self.baseline + DESCENT * self.size)


@dataclass(frozen=True)
class Figure:
    nodes: tuple[FigureNode, ...]  # in the graph's order: inputs, then operations
    edges: tuple[FigureEdge, ...]
    width: float
    height: float
    output: str
    values: bool  # does it carry values and gradients?
    seed: str | None = None  # ∂L/∂L, shown below the output's outgoing stub
    cuts: tuple[float, ...] = ()  # x where it may be cut into parts: between ranks, no text there
    trunks: tuple[tuple[tuple[float, float], ...], ...] = ()  # lines the arrows out of one node share
    trunk_sources: tuple[str, ...] = ()  # the node each trunk leaves

    def node(self, name: str) -> FigureNode:
        return next(n for n in self.nodes if n.name == name)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        """In a notebook, the picture: SVG (``worksheet.display``)."""
        from ..display import picture

        return picture(self, include, exclude)

    @property
    def stub(self) -> tuple[tuple[float, float], tuple[float, float]] | None:
        """The output's own arrow out to the right, when the figure has values."""
        if not self.values:
            return None
        n = self.node(self.output)
        return (n.right, n.y), (self.width - 10, n.y)

    def lines(self) -> list[tuple[tuple[tuple[float, float], ...], bool]]:
        """Every line drawn, and whether it ends in an arrowhead: the arrows, the trunks they
        share (no head), the output's own arrow."""
        out = [(e.points, True) for e in self.edges] + [(t, False) for t in self.trunks]
        return out + ([(self.stub, True)] if self.stub is not None else [])

    def texts(self) -> list[FigureText]:
        """Every text of the figure, placed: what each renderer writes, and where."""
        out = []
        for n in self.nodes:
            out.append(FigureText(n.label, n.x, n.y + (ASCENT - DESCENT) * FONT / 2, FONT, "label", n))
            if n.caption is not None:
                out.append(FigureText(n.caption, n.x, n.bottom + 2 + ASCENT * SMALL, SMALL, "name", n))
        labelled = [(e.label_at, e.value, e.grad, e) for e in self.edges if e.label_at is not None]
        if self.stub is not None:
            (x1, y), (x2, _) = self.stub
            output = self.node(self.output)
            labelled.append((((x1 + x2) / 2, y), output.value, self.seed, output))
        for (x, y), value, grad, of in labelled:
            if value is not None:
                out.append(FigureText(value, x, y - LINE_GAP - DESCENT * SMALL, SMALL, "value", of))
            if grad is not None:
                out.append(FigureText(grad, x, y + LINE_GAP + ASCENT * SMALL, SMALL, "grad", of))
        return out


# ── building ─────────────────────────────────────────────────────────────────────────────


def figure(source, *, digits: int = 6, numbers: str = "exact") -> Figure:
    """The figure of a ``Trace``, a ``TensorTrace`` or a bare ``Graph`` (structure only)."""
    graph: Graph = source if isinstance(source, Graph) else source.graph
    values = None if isinstance(source, Graph) else source.values
    shown = _Shown(digits, numbers)
    grads: dict[tuple[str, str, int], str] = {}
    if values is not None:
        for step in source.steps:
            value = step.value
            if value is not None:
                grads[(step.node, step.input, step.position)] = shown(value)
    edges = []
    for node, position, arg in uses(graph):
        value = shown(values[arg.name]) if values is not None else None
        edges.append(FigureEdge(arg.name, node.name, position, value, grads.get((node.name, arg.name, position))))
    labels = {n.name: (display(n.name) if n.is_input else _symbol(n, shown)) for n in graph.nodes}
    output_value = shown(values[graph.target]) if values is not None else None
    seed = None
    if values is not None:
        seed_value = source.seed
        seed = shown(seed_value) if seed_value is not None else "1"
    return _layout(graph, labels, edges, output_value, seed, values is not None)


def uses(graph: Graph):
    """Each use of a node by another, (node, position, the symbol used): the figure's arrows."""
    for node in graph.operations:
        for position, arg in enumerate(node.args):
            if isinstance(arg, Symbol) and arg.name in graph.by_name:
                yield node, position, arg


LONG = 10  # characters: a number written longer is abbreviated to SHORT significant digits
SHORT = 4


class _Shown:
    """A short text for a value: a number (rounded to ``digits``, and to SHORT digits when it
    would still be longer than LONG characters), or a tensor's shape."""

    def __init__(self, digits: int, numbers: str = "exact"):
        self.notation = TextNotation(digits, numbers)
        self.short = TextNotation(min(digits, SHORT), numbers)

    def __call__(self, value) -> str:
        text, number = self._text(value)
        return self.short.rounded(number) if len(text) > LONG and number is not None else text

    def _text(self, value) -> tuple[str, object]:
        """The text, and the number it writes (None for a shape or a symbol)."""
        import sympy

        if is_array(value):
            if value.shape != ():
                return "×".join(str(d) for d in value.shape), None
            value = value[()]
        if not isinstance(value, sympy.Basic):
            value = sympy.nsimplify(value) if hasattr(value, "numerator") else sympy.Float(float(value), 17)
            if hasattr(value, "p") and not value.is_Integer and value.q > 10**6:
                value = sympy.Float(float(value), 17)
        if not value.is_number:
            return self.notation.doprint(value), None
        if value.is_Rational and not value.is_Integer and _long_fraction(value):  # 24599/2500: 9.8396
            return self.notation.rounded(value), value
        return self.notation.number(value), value


def _long_fraction(value) -> bool:
    """Is p/q longer than 7 characters? (Told from the sizes first: str() of a number of
    100,000 digits is refused by Python.)"""
    return value.p.bit_length() + value.q.bit_length() > 64 or len(str(value)) > 7


def _symbol(node, shown) -> str:
    symbol = RULES[node.op].symbol if node.op in RULES else node.op  # what the operation is drawn as
    constants = [(i, a) for i, a in enumerate(node.args) if not isinstance(a, Symbol)]
    if not constants or len(node.args) < 2:
        return symbol
    i, number = constants[0]
    text = shown(number)
    if node.op == "pow":  # (·)², 2^(·): the exponent raised where Unicode has its digits
        raised = text.replace("−", "-").translate(SUPERSCRIPTS)
        if i == 0:
            return f"{text}^(·)"
        return "(·)" + (raised if raised != text.replace("−", "-") or text.isdigit() else f"^{text}")
    if node.op in PREFIX_CONSTANT:
        return f"{text}{symbol}" if i == 0 else f"{symbol}{text}"
    return f"{symbol} {text}"


def display(name: str) -> str:
    """A name as the text writes it: λ for lambda, W₁ for W1 (digits as subscripts); a
    version's primes as single primes, c″ → c′′ (the figure's font has no double prime)."""
    from sympy.printing.pretty.pretty_symbology import greek_unicode

    name, version = unversioned(name)
    if version:
        return display(name) + ("′" * version if version < 4 else versioned(version))
    base, sup, sub = split_super_sub(name)
    if sup or not all(part.isdigit() for part in sub) or (sub and not base):
        return greek_unicode.get(name, name)
    return greek_unicode.get(base, base) + "".join(part.translate(SUBSCRIPTS) for part in sub)


# ── layout ───────────────────────────────────────────────────────────────────────────────


def _layout(graph: Graph, labels, edges: list[FigureEdge], output_value, seed, has_values) -> Figure:
    names = [n.name for n in graph.nodes]
    preds: dict[str, list[str]] = {n: [] for n in names}
    outs = dict.fromkeys(names, 0)
    for e in edges:
        preds[e.target].append(e.source)
        outs[e.source] += 1
    inputs = {n.name for n in graph.inputs}
    layer = L.layers(names, inputs, preds, graph.target)
    captions = {n: None if n in inputs or labels[n] == n else display(n) for n in names}
    shapes = {n: _shape(n in inputs, labels[n], len(preds[n]), outs[n]) for n in names}
    items = {n: _node_item(shapes[n], captions[n]) for n in names}
    ranks, chains, trunks, offset, height = _arranged(items, layer, edges, has_values)
    spans = L.columns(ranks)
    nodes = {}
    for n in names:
        (left, right), (w, h) = spans[2 * layer[n]], shapes[n]
        nodes[n] = FigureNode(n, labels[n], "box" if n in inputs else "circle", layer[n],
                              round((left + right) / 2, 2), items[n].y, w, h, graph.node(n).op,
                              n == graph.target, output_value if n == graph.target else None, captions[n])
    rank_of = {id(item): r for r, rank in enumerate(ranks) for item in rank}
    placed = [_route(e, chain, nodes, offset, spans, rank_of) for e, chain in zip(edges, chains)]
    trunk_lines = tuple(_trunk(nodes[s], items[s], passes, offset, spans) for s, passes in trunks.items())
    stub = 0.0
    if has_values:
        stub = max(48.0, text_width(output_value or "", SMALL) + 24, text_width(seed or "", SMALL) + 24)
    cuts = tuple(round((a[1] + b[0]) / 2, 2) for a, b in zip(spans, spans[1:]))
    return Figure(tuple(nodes[n] for n in names), tuple(placed), round(spans[-1][1] + stub + MARGIN, 1),
                  height, graph.target, has_values, seed, cuts, trunk_lines, tuple(trunks))


def _arranged(items: dict[str, L.Item], layer, edges: list[FigureEdge], has_values: bool):
    """The ranks with every item ordered and at its height (from the top margin), each arrow's
    chain, the trunks, the arrows' ports and the figure's height."""

    def labelled(i: int):
        e = edges[i]
        if e.value is None and e.grad is None:
            return None
        width = max(text_width(e.value or "", SMALL), text_width(e.grad or "", SMALL)) + 6
        return L.Item("label", i, width, _extent(e.value), _extent(e.grad))

    ranks, chains, trunks = L.ranked(items, layer, [(e.source, e.target) for e in edges], labelled)
    L.order(ranks)
    offset = L.ports(items)
    node_gap = 14.0 if has_values else 10.0
    L.heights(ranks, offset, lambda a, b: node_gap if a.kind == b.kind == "node" else 5.0)
    everything = [item for rank in ranks for item in rank]
    top = min(i.y - i.above for i in everything)
    bottom = max(i.y + i.below for i in everything)
    for item in everything:
        item.y = round(item.y + MARGIN - top, 2)
    return ranks, chains, trunks, offset, round(bottom - top + 2 * MARGIN, 1)


def _extent(text: str | None) -> float:
    """How far an arrow's label reaches from its line (above for a value, below for a gradient)."""
    return text_height(SMALL) + LINE_GAP + 1 if text is not None else 2.0


def _shape(is_input: bool, label: str, ins: int, outs: int) -> tuple[float, float]:
    """A box as wide as its name; a circle wide enough for its symbol and its arrows."""
    ports = min(max(ins, outs, 1), 4)  # a value used often: its arrows' ends closer together
    if is_input:
        return max(40.0, text_width(label) + 18), max(float(BOX_HEIGHT), ports * PORT)
    d = max(34.0, text_width(label) + 16, ports * PORT)
    return d, d


def _node_item(shape: tuple[float, float], caption: str | None) -> L.Item:
    """A node in its rank: its shape, and its name under it."""
    w, h = shape
    below = text_height(SMALL) + 3 if caption is not None else 0.0
    return L.Item("node", None, max(w, text_width(caption, SMALL) if caption else 0.0), h / 2 + 2, h / 2 + below + 2)


def _route(e: FigureEdge, chain, nodes, offset, spans, rank_of) -> FigureEdge:
    """The arrow's polyline: out of its source's side (or off its source's trunk, where it
    leaves it), level through its label (across the rank's column), slanting only between
    ranks, into its target's side."""
    source, target = nodes[e.source], nodes[e.target]
    shared = [item for item in chain[1:-1] if item.kind == "pass" and item.key == e.source]
    if shared:  # it leaves the trunk at the end of its last shared pass
        points = [(spans[rank_of[id(shared[-1])]][1], shared[-1].y)]
    else:
        y0 = chain[0].y + offset[(id(chain[0]), id(chain[1]))]
        points = [(_side(source, y0, +1), y0), (spans[rank_of[id(chain[0])]][1], y0)]
    label_at = None
    for item in chain[1 + len(shared):-1]:
        left, right = spans[rank_of[id(item)]]
        points += [(left, item.y), (right, item.y)]
        if item.kind == "label":
            label_at = (round((left + right) / 2, 2), item.y)
    y1 = chain[-1].y + offset[(id(chain[-1]), id(chain[-2]))]
    points += [(spans[rank_of[id(chain[-1])]][0], y1), (_side(target, y1, -1), y1)]
    return FigureEdge(e.source, e.target, e.position, e.value, e.grad, _polyline(points), label_at)


def _trunk(node: FigureNode, item, passes: dict, offset, spans) -> tuple[tuple[float, float], ...]:
    """A source's trunk: out of its side, level through each pass it shares with its arrows."""
    first = passes[min(passes)]
    y0 = item.y + offset[(id(item), id(first))]
    points = [(_side(node, y0, +1), y0), (spans[min(passes) - 1][1], y0)]
    for r in sorted(passes):
        points += [(spans[r][0], passes[r].y), (spans[r][1], passes[r].y)]
    return _polyline(points)


def _polyline(points) -> tuple[tuple[float, float], ...]:
    """The points rounded, each one that repeats the one before left out."""
    kept = [points[0]]
    for p in points[1:]:
        if abs(p[0] - kept[-1][0]) > 0.01 or abs(p[1] - kept[-1][1]) > 0.01:
            kept.append(p)
    return tuple((round(x, 2), round(y, 2)) for x, y in kept)


def _side(node: FigureNode, y: float, direction: int) -> float:
    """The x where a level arrow at height y meets the node's right (+1) or left (−1) side."""
    if node.shape == "box":
        return node.x + direction * node.width / 2
    r = node.width / 2
    dy = min(abs(y - node.y), r * 0.95)
    return node.x + direction * (r * r - dy * dy) ** 0.5


# ── from a formula ───────────────────────────────────────────────────────────────────────


def draw(formula: str, wrt=None, at=None, *, let=(), target=None, filename: str | None = None,
         digits: int = 6, numbers: str = "auto") -> Figure:
    """The figure of ``formula`` (a formula or a program's text), with the options of
    ``worksheet.api.derive``. With values (``at``, or every input declared with one), each
    arrow carries its value and gradient; without, the figure is the structure alone."""
    from ..engine.derive import derive
    from ..lang.options import program_graph

    graph = program_graph(formula, filename=filename, let=let, target=target)
    if at is None and not all(n.name in graph.defaults for n in graph.inputs):  # no values: the structure
        return figure(graph, digits=digits)
    if wrt is None and not graph.params and all(n.kind == "data" for n in graph.inputs):
        wrt = [n.name for n in graph.inputs]  # only data: show the gradient toward every input
    trace = derive(formula, wrt, at, let=let, target=target, filename=filename)
    from ..render import numbers_shown

    return figure(trace, digits=digits, numbers=numbers_shown(numbers, trace.decimal_inputs))


class _Figures(types.ModuleType):
    """This package, callable as its ``draw``: ``from worksheet import figure`` gives the package
    (loaded on first use, as ``render`` is), and ``figure("(w*x+b-y)**2", at="w=1,b=0,x=2,y=4")``
    draws, a ``Figure`` that a notebook shows as SVG."""

    def __call__(self, formula: str, wrt=None, at=None, **options) -> Figure:
        return draw(formula, wrt, at, **options)


sys.modules[__name__].__class__ = _Figures
