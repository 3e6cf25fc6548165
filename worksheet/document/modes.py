"""The sections ``--mode`` and ``--check-numeric`` add to a worksheet, in no output syntax.

* Forward mode: the evaluation trace of the autodiff literature (Baydin et al., Table 2) —
  one row per node, its primal value beside its tangent, one tangent column per variable,
  each tangent the chain rule in the node's inputs with the numbers put in.
* Reverse mode's adjoint trace: v̄ = ∂L/∂v for every node, step by step from the output
  back, a fan-out written as running updates v̄ ← v̄ + v̄ᵢ·∂vᵢ/∂v.
* The check: the gradient four ways — by hand (sympy.diff), numerically (a central
  difference), forward mode, reverse mode — and whether the difference agrees.

Everything here is arrangement: the numbers come from ``forward.py``, ``modes.py`` and
``numeric.py``.
"""

from __future__ import annotations

from sympy import Abs, Expr, Function, Max, Pow, Rational, S

from .. import document as scalar_document
from . import model as tensor_document
from ..accents import Bar, Dot, PartialOf, Ratio, Update
from . import Document, Equations, Heading, Paragraph, Table, distinct
from ..forms import call, difference, power, product, substitute, total
from ..lang.graph import symbol
from ..limits import MAX_FORM_DEPTH, MAX_FORM_OPS
from ..engine.modes import Modes
from ..engine.numeric import RELATIVE_STEP, SCALAR_FLOOR, TENSOR_RELATIVE_STEP, TOLERANCE
from ..ops import RULES
from ..terms import Equation, Form, Number, Partial, Shown, Tensor
from ..engine.trace import Trace
from ..lazy import lazy

np = lazy("numpy")

AGREES, DIFFERS = "agrees", "DIFFERS"
TOLERANCE_STEP = Rational(1, round(1 / TOLERANCE))  # 10⁻⁶, as the check's relative tolerance


def worksheet(trace: Trace, *, detail: str = "standard", numbers: str = "exact") -> Document:
    """The worksheet of ``trace`` with the sections its ``modes`` ask for (``detail``: see
    ``document.DETAILS``)."""
    modes: Modes = trace.modes
    if trace.tensor:
        base = scalar_document.worksheet(trace, numbers=numbers, detail=detail)
        blocks = list(base.blocks)
        if modes.estimates is not None:
            blocks += [Heading(f"{_next(blocks)}. Checking the gradients: central differences"),
                       *tensor_check(trace)]
        return Document(base.title, tuple(blocks), numbers)
    base = scalar_document.worksheet(trace, detail=detail, numbers=numbers)
    if modes.mode == "forward":
        blocks = _problem(base)
        blocks += [Heading("1. Forward mode: the evaluation trace"), *forward_trace(trace),
                   Heading("2. Result"), *forward_result(trace)]
        title = "Forward-mode worksheet"
    else:
        blocks, title = list(base.blocks), base.title
        if modes.explicit:
            blocks += [Heading(f"{_next(blocks)}. Reverse mode: the adjoint trace"), *adjoint_trace(trace)]
        if modes.mode == "both":
            blocks += [Heading(f"{_next(blocks)}. Forward mode: the evaluation trace"), *forward_trace(trace),
                       *forward_result(trace), *_agreement(trace)]
    if modes.estimates is not None:
        blocks += [Heading(f"{_next(blocks)}. Four ways to the gradient"), *four_ways(trace)]
    return Document(title, tuple(blocks), numbers)


def _problem(base: Document) -> list:
    """The statement of the problem: the blocks before the first section."""
    blocks = []
    for block in base.blocks:
        if isinstance(block, Heading):
            break
        blocks.append(block)
    return blocks


def _next(blocks) -> int:
    """The number of the next numbered section."""
    numbered = [b for b in blocks if isinstance(b, Heading) and b.text[:1].isdigit()]
    return len(numbered) + 1


# ── forward mode ─────────────────────────────────────────────────────────────────────────


def forward_trace(trace: Trace) -> list:
    forward = trace.modes.forward
    values = trace.values
    wrt = forward.wrt
    v = "v"
    rule = total(product(Dot("u1"), PartialOf(v, "u1")), product(Dot("u2"), PartialOf(v, "u2")))
    seeds: list = []
    for i, x in enumerate(wrt):
        seeds += ["The column of " if i == 0 else ", that of ", Form(symbol(x)),
                  " is seeded with " if i == 0 else " with ", Equation((Form(Dot(x)), Number(S.One)))]
    seeds.append(", and every other input with 0")
    intro = Paragraph((
        "Forward mode carries beside each node's value (the primal) its tangent ", Form(Dot(v)),
        ", the derivative of the node with respect to a variable: one column of tangents per "
        "variable. ", *seeds, ". Then, in evaluation order, each node's tangent is the chain rule "
        "in its inputs, ", Equation((Form(Dot(v)), Form(rule))),
        ", with the local derivatives of the backward pass; the chain rule is the same in every "
        "column, each column puts in its own tangents. One sweep gives the derivative of every "
        "node with respect to one variable; the output's tangent is the gradient.",
    ))
    header = ("node", "primal", "tangent", *(f"for {x}" for x in wrt))
    rows = []
    for name, row in forward.rows.items():
        node = trace.graph.node(name)
        primal = [Form(node.symbol)]
        if not node.is_input:
            primal.append(Form(node.expr))
        if values is not None:
            primal.append(Number(values[name]))
        chain = Form(Dot(name))
        if row.chain is not None:
            chain = Equation((chain, Form(row.chain)))
        elif not node.is_input:  # no input depends on a variable
            chain = Equation((chain, Number(S.Zero)))
        cells = [Form(node.symbol), Equation(tuple(distinct(primal))) if len(primal) > 1 else primal[0], chain]
        cells += [_tangent_cell(trace, row, x) for x in wrt]
        rows.append(tuple(cells))
    return [intro, Table(header, tuple(rows), "lll" + "l" * len(wrt))]


def _tangent_cell(trace: Trace, row, x: str):
    """The tangent in the column of ``x``: the chain rule with the numbers put in, and its value
    (or, without values, the tangent in node names)."""
    forward, values = trace.modes.forward, trace.values
    tangent = row.tangents[x]
    if tangent.seed:
        return Number(tangent.form) if row.chain is None else f"{tangent.form} (seed)"
    if values is None:
        return Form(tangent.form) if tangent.form is not None else None
    if row.chain is None or not row.chain.free_symbols:  # stop_gradient: v̇ = 0
        return Number(tangent.value)
    inputs = [trace.graph.node(row.node).args[i].name for i in row.positions]
    mapping = {Dot(u): Shown(forward.rows[u].tangents[x].value) for u in inputs}
    mapping.update({s: Shown(values[s.name]) for s in row.chain.free_symbols
                    if not isinstance(s, Dot) and s.name in values})
    numbers = substitute(row.chain, mapping)
    if says_nothing(numbers, tangent.value):
        return Number(tangent.value)
    return Equation((Form(numbers), Number(tangent.value)))


def says_nothing(numbers: Expr, value: Expr | None) -> bool:
    """Would the numbers put in read the same as the value after them? (1 = 1, −1 = −1,
    1/2 = 1/2: a single number, its negation, or a quotient of two integers in lowest terms.)"""
    shown = list(numbers.atoms(Shown))
    if isinstance(numbers, Shown) or (len(shown) == 1 and numbers == product(-1, shown[0])):
        return True
    if value is None or not (value.is_Rational and numbers.is_Mul and len(numbers.args) == 2):
        return False
    top, bottom = numbers.args
    if not (isinstance(top, Shown) and bottom.is_Pow and isinstance(bottom.base, Shown) and bottom.exp == -1):
        return False
    p, q = top.value, bottom.base.value
    return p.is_Integer and q.is_Integer and q > 1 and Rational(p, q) == value and Rational(p, q).q == q


def forward_result(trace: Trace) -> list:
    forward = trace.modes.forward
    target = trace.target
    rows, notes = [], []
    for x in forward.wrt:
        tangent = forward.gradients[x]
        sides: list = [Partial(target, x), Form(Dot(target))]
        sides += [Form(f) for f in (tangent.form, forward.written[x]) if f is not None]
        if tangent.value is not None:
            sides.append(Number(tangent.value))
        rows.append(Equation(tuple(distinct(sides))))
        if forward.written[x] is None:
            notes.append(Paragraph((
                Partial(target, x), " written out in the inputs would be too long to read (more than "
                f"{MAX_FORM_OPS} operations, or nested more than {MAX_FORM_DEPTH} deep), so it is not shown.",
            )))
    intro = Paragraph(("The output's tangent in the column of each variable is the gradient:",))
    return [intro, Equations(tuple(rows)), *notes]


def _agreement(trace: Trace) -> list:
    agree = trace.modes.forward_agrees or {}
    differ = [x for x, same in agree.items() if same is False]
    if not differ and all(agree.values()):
        return [Paragraph((
            "Forward mode " + AGREES + " with reverse mode on every gradient: one forward sweep per "
            "variable, or one backward sweep for all of them.",
        ))]
    if not differ:
        return [Paragraph((
            "Forward mode builds its forms in another order than reverse mode; at a point (values "
            "given) their numbers can be compared.",
        ))]
    return [Paragraph((
        "Forward mode " + DIFFERS + " from reverse mode for ",
        *[p for i, x in enumerate(differ) for p in ([", "] if i else []) + [Partial(trace.target, x)]],
        ".",
    ))]


# ── reverse mode: the adjoint trace ──────────────────────────────────────────────────────


def adjoint_trace(trace: Trace) -> list:
    target, values = trace.target, trace.values
    u, v = "u", "v"
    intro = Paragraph((
        "The backward pass in the notation of the autodiff literature: the adjoint ",
        Equation((Form(Bar(v)), Partial(target, v))), " of each node, seeded with ",
        Equation((Form(Bar(target)), Number(S.One))), ". From the output back, each step sends ",
        Form(product(Bar(v), PartialOf(v, u))), " to an input ", Form(symbol(u)), " of a node ",
        Form(symbol(v)), ". Where ", Form(symbol(u)), " feeds several nodes, its adjoint is a running "
        "sum: the first path sets it, each later one adds to it, ",
        Form(Update(Bar(u), total(Bar(u), product(Bar(v), PartialOf(v, u))))), ".",
    ))
    if not trace.steps:
        return [intro, Paragraph((f"No requested variable affects {target}: every gradient is 0.",))]
    rows = [("", Equation((Form(Bar(target)), Number(S.One))))]
    for update in trace.modes.updates:
        step = trace.steps[update.step]
        path = product(Bar(step.node), PartialOf(step.node, step.input))
        contribution = product(Bar(step.node), step.local)
        mapping = {Bar(step.node): Shown(step.upstream_value)} if values is not None else {}
        if values is not None:
            mapping.update({s: Shown(values[s.name]) for s in step.local.free_symbols if s.name in values})
        if update.first:
            sides: list = [Form(Bar(step.input)), Form(path), Form(contribution)]
            shown = substitute(contribution, mapping) if values is not None else None
        else:
            sides = [Form(Update(Bar(step.input), total(Bar(step.input), path))),
                     Form(total(Bar(step.input), contribution))]
            if values is not None:
                mapping[Bar(step.input)] = Shown(update.before)
            shown = substitute(total(Bar(step.input), contribution), mapping) if values is not None else None
        if shown is not None and not says_nothing(shown, update.after):
            sides.append(Form(shown))
        if update.after is not None:
            sides.append(Number(update.after))
        elif update.first and step.product is not None:
            sides.append(Form(step.product))
        rows.append((str(update.step + 1), Equation(tuple(distinct(sides)))))
    gradients = []
    for g in trace.gradients:
        sides = [Partial(target, g.wrt), Form(Bar(g.wrt))]
        if g.wrt not in trace.adjoints:
            sides = [Partial(target, g.wrt), Number(S.Zero)]
        elif g.value is not None:
            sides.append(Number(g.value))
        elif g.in_trace is not None:
            sides.append(Form(g.in_trace))
        gradients.append(Equation(tuple(sides)))
    return [
        intro,
        Table(("step", "adjoint"), tuple(rows), "rl"),
        Paragraph(("The adjoints of the variables are the gradients:",)),
        Equations(tuple(gradients)),
    ]


# ── the check: four ways to the gradient ─────────────────────────────────────────────────


def _difference_quotient(target: str) -> Expr:
    L, x, h = Function(target), symbol("x"), symbol("h")
    return Ratio(difference(call(L, total(x, h)), call(L, difference(x, h))), product(2, h))


def _scaled(name: str, step: Rational) -> Expr:
    """max(1, |name|)/10ⁿ, for a relative step of 10⁻ⁿ."""
    exponent = len(str(step.q)) - 1
    return Ratio(call(Max, S.One, call(Abs, symbol(name))), Pow(10, exponent, evaluate=False))


def _step_rule(step: Rational) -> Equation:
    return Equation((Form(symbol("h")), Form(_scaled("x", step))))  # h ≈ this, for a formula (a power of 2)


def _tolerance(floor: float = TOLERANCE) -> list:
    """… when it is within 10⁻⁶ of the larger of the two (and a floor, near 0)."""
    return [" when it is within ", Form(TOLERANCE_STEP), " of the larger of it and the gradient ",
            Form(symbol("g")), f", or within {floor:.0e} of it near 0"]


def four_ways(trace: Trace) -> list:
    modes: Modes = trace.modes
    target = trace.target
    reverse = {g.wrt: g.value for g in trace.gradients}
    intro = Paragraph((
        "The same derivatives four ways: by hand (sympy.diff of ", Form(symbol(target)),
        " written out in the inputs, at the point); numerically, by the central difference ",
        Form(_difference_quotient(target)), " with ", _step_rule(RELATIVE_STEP), " (the nearest power of 2) "
        "and every value certified (in double precision a step near ", Form(_scaled("x", TENSOR_RELATIVE_STEP)),
        " balances the truncation error, of order ", Form(power(symbol("h"), 2)), ", against rounding); "
        "in forward mode (one sweep per variable); and in reverse mode (one sweep for all). The "
        "central difference " + AGREES, *_tolerance(SCALAR_FLOOR), ".",
    ))
    rows = []
    for x in trace.wrt:
        estimate = modes.estimates[x]
        forward = modes.forward.gradients[x].value if modes.forward is not None else None
        rows.append((
            Partial(target, x),
            Number(estimate.symbolic) if estimate.symbolic is not None else "n/a",
            Number(estimate.value) if estimate.value is not None else "undefined",
            Number(forward) if forward is not None else "n/a",
            Number(reverse[x]),
            verdict(estimate.agrees),
        ))
    header = ("gradient", "by hand", "central difference", "forward mode", "reverse mode", "check")
    blocks = [intro, Table(header, tuple(rows), "lrrrrl")]
    blocks += _check_notes(trace, [e for e in modes.estimates.values()])
    return blocks


def verdict(agrees: bool | None) -> str:
    """The check column: agrees, DIFFERS, or undefined (no estimate)."""
    if agrees is None:
        return "undefined"
    return AGREES if agrees else DIFFERS


def _check_notes(trace, estimates) -> list:
    notes = []
    if any(e.agrees is False for e in estimates):
        notes.append(Paragraph((
            "Where the central difference " + DIFFERS + ": at a kink (relu, abs, max or min at a tie) "
            "it averages the two sides, while the gradient takes one side by the frameworks' "
            "convention; anywhere else a difference means an error in the gradient.",
        )))
    if any(e.symbolic is None for e in estimates) and not trace.tensor:
        notes.append(Paragraph((
            "n/a by hand: the output written out in the inputs would be too long to differentiate "
            "and read (or its derivative is undefined at the point).",
        )))
    if any(e.value is None for e in estimates):
        notes.append(Paragraph((
            "Where the central difference is undefined, the function is not defined on both "
            "sides of the point (at x - h or x + h).",
        )))
    if any(RULES[n.op].stops_gradient for n in trace.graph.operations):
        notes.append(Paragraph((
            "A stop_gradient node keeps its value at x - h and x + h: the gradient treats it as a "
            "constant, and so does the check.",
        )))
    return notes


def tensor_check(trace: Trace) -> list:
    target = trace.target
    estimates = trace.modes.estimates
    intro = Paragraph((
        "Each element ", Form(symbol("x")), " of each variable is moved by ", Form(symbol("h")),
        " either way, ", _step_rule(TENSOR_RELATIVE_STEP), ", and the forward pass run again: the central difference ",
        Form(_difference_quotient(target)), " estimates that element of the gradient, and " + AGREES,
        *_tolerance(), ".",
    ))
    rows, checks = [], []
    for g in trace.gradients:
        estimate = estimates[g.wrt]
        if estimate.value is not None:
            rows.append(Equation((Partial(target, g.wrt), _tensor_term(estimate.value))))
        checks.append((Partial(target, g.wrt), verdict(estimate.agrees)))
    blocks = [intro]
    if rows:
        blocks.append(Equations(tuple(rows)))
    blocks.append(Table(("gradient", "check"), tuple(checks), "ll"))
    return blocks + _check_notes(trace, list(estimates.values()))


def _tensor_term(value: np.ndarray):
    if value.shape == ():
        return tensor_document.shown(value)
    return Tensor(value)
