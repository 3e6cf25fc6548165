"""Trace (or Graph) → ``Figure``: the computational graph as a picture, in no output syntax.

The d2l picture of a graph: each variable a box, each operation a circle with its symbol
(×, +, −, ÷, ^2, σ, relu, @, ᵀ, Σ …) and its name beside it, an arrow per *use* of a value
(``a*a`` has two arrows from a to ×). With values, each arrow carries the forward value it
delivers (drawn above it, green) and the gradient that flows back along it (below, red):
the chain-rule product of that use, ∂L/∂v · ∂v/∂u, the ``Step`` (or ``TensorStep``) of the
backward pass for that node, input and position. A tensor's value is shown by its shape.

The layout is computed here, in plain numbers (no Graphviz): layers from left to right, a
node's layer the longest path to it from an input, the output alone in the last layer;
within a layer, nodes ordered by a few barycenter passes to reduce crossings; columns as
wide as their labels need. Units are CSS pixels; renderers (``render/figures.py``) scale.
"""

from __future__ import annotations

from dataclasses import dataclass

from sympy import Symbol

from .lang.graph import Graph
from .notation import TextNotation
from .ops import RULES

PREFIX_CONSTANT = {"add", "sub", "mul", "div", "pow"}  # 2×, 1−: a number written before the symbol

FONT = 12  # px: names and symbols
SMALL = 10  # px: edge labels and names under circles
CHAR = 0.62  # an average character's width, in font sizes (a conservative sans-serif estimate)
BOX_HEIGHT = 28
PORT = 26  # px between the ends of two arrows at one node: room for a label above and below each


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
    """One use of ``source`` as argument ``position`` of ``target``."""

    source: str
    target: str
    position: int
    value: str | None  # the forward value it carries (shown above)
    grad: str | None  # the gradient flowing back along it (shown below)
    start: tuple[float, float] = (0.0, 0.0)
    end: tuple[float, float] = (0.0, 0.0)
    label_at: tuple[float, float] = (0.0, 0.0)  # where its labels go, on the line


@dataclass(frozen=True)
class Figure:
    nodes: tuple[FigureNode, ...]  # in the graph's order: inputs, then operations
    edges: tuple[FigureEdge, ...]
    width: float
    height: float
    output: str
    values: bool  # does it carry values and gradients?
    seed: str | None = None  # ∂L/∂L, shown below the output's outgoing stub

    def node(self, name: str) -> FigureNode:
        return next(n for n in self.nodes if n.name == name)


def text_width(text: str, size: float = FONT) -> float:
    return len(text) * size * CHAR


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
    labels = {n.name: (n.name if n.is_input else _symbol(n, shown)) for n in graph.nodes}
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


class _Shown:
    """A short text for a value: a number (rounded to ``digits``), or a tensor's shape."""

    def __init__(self, digits: int, numbers: str = "exact"):
        self.notation = TextNotation(digits, numbers)

    def __call__(self, value) -> str:
        import numpy as np
        import sympy

        if isinstance(value, np.ndarray):
            if value.shape != ():
                return "×".join(str(d) for d in value.shape)
            value = value[()]
        if not isinstance(value, sympy.Basic):
            value = sympy.nsimplify(value) if hasattr(value, "numerator") else sympy.Float(float(value), 17)
            if hasattr(value, "p") and not value.is_Integer and value.q > 10**6:
                value = sympy.Float(float(value), 17)
        if not value.is_number:
            return self.notation.doprint(value)
        if value.is_Rational and not value.is_Integer and _long_fraction(value):  # 24599/2500: 9.8396
            return self.notation.rounded(value)
        return self.notation.number(value)


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
    if node.op in PREFIX_CONSTANT:
        return f"{text}{symbol}" if i == 0 else f"{symbol}{text}"
    return f"{symbol} {text}"


# ── layout ───────────────────────────────────────────────────────────────────────────────


def _layout(graph: Graph, labels, edges: list[FigureEdge], output_value, seed, has_values) -> Figure:
    names = [n.name for n in graph.nodes]
    preds: dict[str, list[str]] = {n: [] for n in names}
    succs: dict[str, list[str]] = {n: [] for n in names}
    for e in edges:
        preds[e.target].append(e.source)
        succs[e.source].append(e.target)

    # layers: the longest path from an input; the output alone, rightmost
    layer: dict[str, int] = {}
    for node in graph.nodes:  # evaluation order: every input of a node comes before it
        layer[node.name] = 1 + max((layer[p] for p in preds[node.name]), default=-1) if not node.is_input else 0
    last = max(layer.values())
    if any(layer[n] == last for n in names if n != graph.target) or layer[graph.target] != last:
        last += 1
    layer[graph.target] = last
    columns: list[list[str]] = [[] for _ in range(last + 1)]
    for name in names:
        columns[layer[name]].append(name)

    # order within layers: barycenter passes, left to right then right to left; ``where`` (each
    # node's relative place in its layer) is updated one layer at a time, so a pass is linear
    def ranked(col: list[str]) -> dict[str, float]:
        return {n: i / max(1, len(col) - 1) for i, n in enumerate(col)}

    where = {n: r for col in columns for n, r in ranked(col).items()}
    for _ in range(4):
        for direction, neighbours in ((range(1, last + 1), preds), (range(last - 1, -1, -1), succs)):
            for k in direction:
                col = columns[k]
                place = {n: i for i, n in enumerate(col)}
                columns[k] = sorted(col, key=lambda n: (
                    sum(where[m] for m in neighbours[n]) / len(neighbours[n]) if neighbours[n] else where[n],
                    place[n]))
                where.update(ranked(columns[k]))

    # sizes: a box as wide as its name; a circle wide enough for its symbol and its arrows
    ins = {n: len(preds[n]) for n in names}
    outs = {n: len(succs[n]) for n in names}
    size: dict[str, tuple[float, float]] = {}
    for node in graph.nodes:
        label = labels[node.name]
        ports = min(max(ins[node.name], outs[node.name], 1), 4)  # a value used often: ends closer together
        if node.is_input:
            size[node.name] = (max(40.0, text_width(label) + 18), max(float(BOX_HEIGHT), ports * PORT))
        else:
            d = max(34.0, text_width(label) + 16, ports * PORT)
            size[node.name] = (d, d)
    below = {n: (0.0 if graph.node(n).is_input or labels[n] == n else SMALL + 4) for n in names}  # name under a circle

    # column widths and the gaps between columns: room for the widest label of the arrows
    # that end in the next column
    label_width = {}
    for e in edges:
        width = max(text_width(e.value or "", SMALL), text_width(e.grad or "", SMALL))
        label_width[layer[e.target]] = max(label_width.get(layer[e.target], 0.0), width)
    margin = 16.0
    x = margin
    centres = []
    for k, col in enumerate(columns):
        if k:
            x += max(56.0, label_width.get(k, 0.0) + 36)
        width = max((size[n][0] for n in col), default=40.0)
        width = max(width, max((text_width(n, SMALL) for n in col if below[n]), default=0.0))
        centres.append(x + width / 2)
        x += width
    stub = 0.0
    if has_values:
        stub = max(48.0, text_width(output_value or "", SMALL) + 24, text_width(seed or "", SMALL) + 24)
    width = x + stub + margin

    gap = 30.0 if has_values else 22.0  # between nodes of a column, room for labels in between
    heights = [sum(size[n][1] + below[n] for n in col) + gap * (len(col) - 1) for col in columns]
    height = max(heights) + 2 * margin + 12
    nodes: dict[str, FigureNode] = {}
    for k, col in enumerate(columns):
        y = margin + 6 + (max(heights) - heights[k]) / 2
        for name in col:
            w, h = size[name]
            node = graph.node(name)
            nodes[name] = FigureNode(
                name, labels[name], "box" if node.is_input else "circle", k, centres[k], y + h / 2, w, h,
                node.op, name == graph.target, output_value if name == graph.target else None,
            )
            y += h + below[name] + gap

    # arrows: spread the ends over each node's side in the order of the nodes at the other end
    lefts = [c - max(size[n][0] for n in col) / 2 if col else c for c, col in zip(centres, columns)]
    rights = [2 * c - l for c, l in zip(centres, lefts)]
    starts = _ports(edges, nodes, "source", lambda e: (nodes[e.target].y, e.position))
    ends = _ports(edges, nodes, "target", lambda e: (e.position, nodes[e.source].y))
    taken = _Boxes((n.left - 2, n.top - 2, n.right + 2, n.bottom + below[n.name] + 2) for n in nodes.values())
    placed = []
    for i, e in enumerate(edges):
        source, target = nodes[e.source], nodes[e.target]
        start = (_side(source, starts[i], +1), starts[i])
        end = (_side(target, ends[i], -1), ends[i])
        label = _place_label(e, start, end, source.layer, target.layer, lefts, rights, taken)
        placed.append(FigureEdge(e.source, e.target, e.position, e.value, e.grad, start, end, label))
    return Figure(tuple(nodes[n] for n in names), tuple(placed), round(width, 1), round(height, 1),
                  graph.target, has_values, seed)


def _place_label(e: FigureEdge, start, end, first: int, last: int, lefts, rights, taken) -> tuple[float, float]:
    """A point on the arrow for its labels (value above, gradient below): in a gap between
    columns, the gap before the target first, where they overlap no node and no other label."""
    half = max(text_width(e.value or "", SMALL), text_width(e.grad or "", SMALL)) / 2 + 2
    above = SMALL + 4 if e.value is not None else 2
    below_ = SMALL + 4 if e.grad is not None else 2

    def at(x: float) -> tuple[float, float]:
        t = (x - start[0]) / (end[0] - start[0]) if end[0] != start[0] else 0.5
        return x, start[1] + t * (end[1] - start[1])

    def candidates():  # lazily: the first one is nearly always free, and an arrow may span 5,000 gaps
        for gap in _gaps(first, last):  # the gap between column gap-1 and column gap
            a, b = max(rights[gap - 1], start[0]), min(lefts[gap], end[0])
            if b - a < 2 * half:
                a, b = a - half + (b - a) / 2, b + half - (b - a) / 2
            for f in (0.5, 0.3, 0.7, 0.15, 0.85, 0.05, 0.95):
                yield at(a + half + f * max(0.0, b - a - 2 * half))

    first_candidate = None
    for x, y in candidates():
        first_candidate = first_candidate or (x, y)
        box = (x - half, y - above, x + half, y + below_)
        if not taken.overlaps(box):
            break
    else:
        x, y = first_candidate or at((start[0] + end[0]) / 2)
        box = (x - half, y - above, x + half, y + below_)
    if e.value is not None or e.grad is not None:
        taken.add(box)
    return round(x, 2), round(y, 2)


def _gaps(first: int, last: int, near: int = 4) -> list[int]:
    """The gaps an arrow from column ``first`` to column ``last`` crosses, where its labels may
    go: the ``near`` gaps before its target, then the ``near`` after its source (so a long arrow
    costs as much as a short one, and a figure's layout stays linear in its arrows)."""
    gaps = range(last, first, -1)
    if len(gaps) <= 2 * near:
        return list(gaps)
    return list(gaps[:near]) + list(gaps[-near:])


class _Boxes:
    """Rectangles (left, top, right, bottom), found by the ``CELL``-point squares they cover:
    an overlap test looks at its neighbours only, not at every node and label of the figure
    (nor at a whole column of 3,000 nodes)."""

    CELL = 64.0

    def __init__(self, boxes=()):
        self.cells: dict[tuple[int, int], list[tuple]] = {}
        for box in boxes:
            self.add(box)

    def _span(self, box):
        c = self.CELL
        return ((i, j) for i in range(int(box[0] // c), int(box[2] // c) + 1)
                for j in range(int(box[1] // c), int(box[3] // c) + 1))

    def add(self, box) -> None:
        for cell in self._span(box):
            self.cells.setdefault(cell, []).append(box)

    def overlaps(self, box) -> bool:
        return any(box[0] < t[2] and t[0] < box[2] and box[1] < t[3] and t[1] < box[3]
                   for cell in self._span(box) for t in self.cells.get(cell, ()))


def _ports(edges, nodes, end: str, key) -> list[float]:
    """The y of each arrow's end at its ``end`` node, spread PORT apart, centred."""
    groups: dict[str, list[int]] = {}
    for i, e in enumerate(edges):
        groups.setdefault(getattr(e, end), []).append(i)
    ys = [0.0] * len(edges)
    for name, members in groups.items():
        members.sort(key=lambda i: key(edges[i]))
        node = nodes[name]
        spacing = min(PORT, node.height / max(1, len(members)))
        for j, i in enumerate(members):
            ys[i] = node.y + (j - (len(members) - 1) / 2) * spacing
    return ys


def _side(node: FigureNode, y: float, direction: int) -> float:
    """The x where a horizontal-ish arrow at height y meets the node's right (+1) or left (−1) side."""
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
    from .engine.derive import derive
    from .lang.options import program_graph

    graph = program_graph(formula, filename=filename, let=let, target=target)
    if at is None and not all(n.name in graph.defaults for n in graph.inputs):  # no values: the structure
        return figure(graph, digits=digits)
    if wrt is None and not graph.params and all(n.kind == "data" for n in graph.inputs):
        wrt = [n.name for n in graph.inputs]  # only data: show the gradient toward every input
    trace = derive(formula, wrt, at, let=let, target=target, filename=filename)
    from .render import numbers_shown

    return figure(trace, digits=digits, numbers=numbers_shown(numbers, trace.decimal_inputs))
