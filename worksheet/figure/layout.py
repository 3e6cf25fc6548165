"""A figure's layout: the Sugiyama method for layered graphs, in plain numbers (no Graphviz).

1. **Layers.** An input in layer 0, an operation one layer right of its last argument, the
   output alone in the last layer. Layer k is the column of rank 2k; the rank 2k − 1 between
   two columns holds the labels of the arrows that end in column k.
2. **Dummies.** An arrow that skips ranks passes through each as an item (a *pass*), so it
   bends around the nodes and labels it would cross; the arrows out of one node share their
   passes, a trunk (they carry one value). The items of a rank — nodes, labels, passes — are
   stacked and never overlap.
3. **Crossing reduction.** Barycenter sweeps, left to right and back, keeping the order with
   the fewest crossings.
4. **Coordinates.** Each item as near as it can be to the mean height of its neighbours, its
   rank's order and gaps kept: an isotonic regression (pool adjacent violators), in sweeps.
5. **Arrows.** Polylines, horizontal through their passes and labels, straight between ranks.

So every text (a node's symbol and name, an arrow's value above its line and gradient below)
lies in a box of its own rank, disjoint from every other text, node and arrow: only slanted
segments cross the space between ranks, where nothing is written. Units are CSS px; text
extents are exact for the figure's one font, DejaVu Sans Mono (every glyph 0.602 em wide).
"""

from __future__ import annotations

from dataclasses import dataclass, field

FONT = 13  # px: names and symbols (9.75 pt at print size)
SMALL = 11  # px: arrow labels and the names under circles (8.25 pt)
CHAR = 1233 / 2048  # DejaVu Sans Mono: the advance of every glyph, in em
ASCENT = 1901 / 2048  # its ascender and descender (hhea), in em: a text's box
DESCENT = 483 / 2048
BOX_HEIGHT = 28
PORT = 26  # px between the ends of two arrows at one node
COLUMN_GAP = 18.0  # px between two ranks: where arrows slant
LINE_GAP = 1.5  # px between an arrow's line and its labels
MARGIN = 16.0
PASS_BUDGET = 20_000  # dummies at most; past it, the longest trunks run straight
SWEEPS = 8


def text_width(text: str, size: float = FONT) -> float:
    return len(text) * size * CHAR


def text_height(size: float) -> float:
    return (ASCENT + DESCENT) * size


@dataclass(eq=False)
class Item:
    """One thing in a rank: a node, an arrow's label, or an arrow passing through. ``y`` is its
    line (a node's centre, an arrow's height); it reaches ``above`` and ``below`` that line."""

    kind: str  # "node", "label" or "pass"
    key: object  # the node's name, or the arrow's index
    width: float
    above: float
    below: float
    y: float = 0.0
    pos: int = 0
    preds: list = field(default_factory=list)  # the items an arrow joins it to, one rank left
    succs: list = field(default_factory=list)


def layers(names, inputs, preds, target) -> dict[str, int]:
    """The longest path from an input; the output alone in the last layer."""
    layer: dict[str, int] = {}
    for name in names:  # evaluation order: every argument before its node
        layer[name] = 0 if name in inputs else 1 + max((layer[p] for p in preds[name]), default=-1)
    last = max(layer.values())
    if layer[target] != last or any(layer[n] == last for n in names if n != target):
        last += 1
    layer[target] = last
    return layer


def ranked(node_items: dict[str, Item], layer: dict[str, int], arrows, labelled) -> tuple[list, list, dict]:
    """The ranks, each arrow's chain of items from its source to its target, and each source's
    trunk (its passes, by rank). The arrows out
    of one node share a trunk: one pass per rank they skip (they carry the same value), while
    the dummies' budget lasts, the shortest trunks first; each arrow leaves the trunk for its
    label (or a pass of its own) in the rank just before its target."""
    ranks: list[list[Item]] = [[] for _ in range(2 * max(layer.values()) + 1)]
    for name, item in node_items.items():
        ranks[2 * layer[name]].append(item)
    reach: dict[str, int] = {}  # how far each source's trunk runs: the rank before its last label
    for source, target in arrows:
        reach[source] = max(reach.get(source, 0), 2 * layer[target] - 2)
    trunks, budget = {}, PASS_BUDGET
    for source in sorted(reach, key=lambda s: reach[s] - 2 * layer[s]):
        first = 2 * layer[source] + 1
        if reach[source] - first + 1 > budget:
            break
        budget -= max(0, reach[source] - first + 1)
        trunks[source] = {r: Item("pass", source, 0.0, 2.0, 2.0) for r in range(first, reach[source] + 1)}
        for r, item in trunks[source].items():
            ranks[r].append(item)

        if not trunks[source]:
            del trunks[source]
    chains, linked = [], set()
    for i, (source, target) in enumerate(arrows):
        a, b = 2 * layer[source], 2 * layer[target]
        trunk = trunks.get(source, {})
        chain = [node_items[source], *(trunk[r] for r in range(a + 1, b - 1) if r in trunk)]
        chain.append(labelled(i) or Item("pass", i, 0.0, 2.0, 2.0))
        ranks[b - 1].append(chain[-1])
        chain.append(node_items[target])
        for left, right in zip(chain, chain[1:]):
            if (id(left), id(right)) not in linked:  # a trunk's link once, however many arrows share it
                linked.add((id(left), id(right)))
                left.succs.append(right)
                right.preds.append(left)
        chains.append(chain)
    return ranks, chains, trunks


# ── crossing reduction ───────────────────────────────────────────────────────────────────


def order(ranks: list[list[Item]]) -> None:
    """Barycenter sweeps; the ranks are left in the order with the fewest crossings."""
    _number(ranks)
    best, fewest = [list(r) for r in ranks], crossings(ranks)
    for _ in range(SWEEPS):
        if fewest == 0:
            break
        for r in range(1, len(ranks)):
            _sort(ranks, r, "preds")
        for r in range(len(ranks) - 2, -1, -1):
            _sort(ranks, r, "succs")
        count = crossings(ranks)
        if count < fewest:
            best, fewest = [list(r) for r in ranks], count
    ranks[:] = best
    _number(ranks)


def _number(ranks) -> None:
    for rank in ranks:
        for i, item in enumerate(rank):
            item.pos = i


def _sort(ranks, r: int, side: str) -> None:
    def barycenter(item: Item) -> float:
        others = getattr(item, side)
        return sum(o.pos for o in others) / len(others) if others else item.pos

    ranks[r].sort(key=lambda item: (barycenter(item), item.pos))
    for i, item in enumerate(ranks[r]):
        item.pos = i


def crossings(ranks) -> int:
    """Pairs of segments between neighbouring ranks that cross (inversions, by a Fenwick tree)."""
    total = 0
    for rank in ranks:
        pairs = sorted((item.pos, s.pos) for item in rank for s in item.succs)
        if len(pairs) < 2:
            continue
        size = max(b for _, b in pairs) + 1
        tree = [0] * (size + 1)
        seen = 0
        for _, b in pairs:  # each later segment ending above an earlier one crosses it
            i, below = b + 1, 0
            while i > 0:
                below += tree[i]
                i -= i & -i
            total += seen - below
            i = b + 1
            while i <= size:
                tree[i] += 1
                i += i & -i
            seen += 1
    return total


# ── coordinates ──────────────────────────────────────────────────────────────────────────


def ports(items: dict[str, Item]) -> dict[tuple[int, int], float]:
    """Where each arrow meets its node: offsets from the centre, PORT apart, in the order of the
    items at the arrows' other ends (so arrows into one node do not cross there)."""
    offset: dict[tuple[int, int], float] = {}
    for item in items.values():
        for side in (item.preds, item.succs):
            ends = sorted(side, key=lambda o: o.pos)
            spacing = min(PORT, (item.above + item.below) / max(1, len(ends)))
            for j, other in enumerate(ends):
                offset[(id(item), id(other))] = (j - (len(ends) - 1) / 2) * spacing
    return offset


def heights(ranks: list[list[Item]], offset, gap) -> None:
    """Each item's ``y``: near its neighbours' arrows, its rank's order and gaps kept."""
    for rank in ranks:  # start stacked
        y = 0.0
        for a, b in zip([None, *rank], rank):
            y += (a.below + gap(a, b) + b.above) if a else 0.0
            b.y = y
    for sweep in range(2 * SWEEPS):
        down = sweep % 2 == 0
        for r in (range(1, len(ranks)) if down else range(len(ranks) - 2, -1, -1)):
            _place(ranks[r], "preds" if down else "succs", offset, gap)
    for r in range(len(ranks)):
        _place(ranks[r], "both", offset, gap)


def _place(rank: list[Item], side: str, offset, gap) -> None:
    if not rank:
        return
    targets, weights = [], []
    for item in rank:
        others = item.preds + item.succs if side == "both" else getattr(item, side)
        if not others:
            others = item.preds + item.succs
        if item.kind == "pass":  # a trunk keeps to its own line; the arrows leaving it follow it
            others = [o for o in others if o.kind != "label"] or others
        if others:
            ys = [o.y + offset.get((id(o), id(item)), 0.0) - offset.get((id(item), id(o)), 0.0) for o in others]
            targets.append(sum(ys) / len(ys))
            weights.append(len(ys) * (50.0 if item.kind == "pass" else 1.0))  # long arrows keep straight
        else:
            targets.append(item.y)
            weights.append(0.1)
    least = [0.0]  # the least distance from the first item's line to each item's line
    for a, b in zip(rank, rank[1:]):
        least.append(least[-1] + a.below + gap(a, b) + b.above)
    shifted = isotonic([t - s for t, s in zip(targets, least)], weights)
    for item, z, s in zip(rank, shifted, least):
        item.y = z + s


def isotonic(values: list[float], weights: list[float]) -> list[float]:
    """The nondecreasing sequence nearest ``values`` in weighted squares (pool adjacent violators)."""
    blocks: list[list[float]] = []  # [mean, weight, count]
    for v, w in zip(values, weights):
        blocks.append([v, w, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            v2, w2, n2 = blocks.pop()
            v1, w1, n1 = blocks.pop()
            blocks.append([(v1 * w1 + v2 * w2) / (w1 + w2), w1 + w2, n1 + n2])
    out: list[float] = []
    for v, _, n in blocks:
        out += [v] * int(n)
    return out


def columns(ranks: list[list[Item]]) -> list[tuple[float, float]]:
    """Each rank's (left, right), from the left margin, COLUMN_GAP apart."""
    out, x = [], MARGIN
    for rank in ranks:
        width = max((item.width for item in rank), default=0.0)
        out.append((x, x + width))
        x += width + COLUMN_GAP
    return out
