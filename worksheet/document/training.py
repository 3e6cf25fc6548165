"""``Training`` → ``Document``: the SGD loop written out — the update rule, the first steps as
full worksheets, every step in a table, the final params and the prediction."""

from __future__ import annotations

import re


from .. import document
from . import model as tensor_document
from . import Document, Equations, Heading, Listing, Paragraph, Table, notes_paragraph
from ..lang.graph import symbol
from ..notation.matrices import entry
from ..terms import Chain, Difference, Equation, Form, Partial, Sum
from ..engine.train import Training
from ..lazy import lazy

np = lazy("numpy")

INLINE = 4  # a vector or matrix with at most this many elements is written out in the table


def training_document(training: Training, *, title: str = "Training trace", digits: int = 6,
                      numbers: str = "exact") -> Document:
    blocks = [
        Listing(training.graph.source.strip()),
        _setting(training),
        *notes_paragraph(notes(training)),
        Heading("1. The update rule"),
        *_rule(training),
    ]
    section = 2
    for index, trace in training.explained:
        step = training.steps[index]
        blocks.append(Heading(f"{section}. Step {index + 1} in full{_where(training, step)}"))
        blocks += _explained(trace, training, index, section, numbers)
        section += 1
    blocks.append(Heading(f"{section}. Every step"))
    blocks += _table(training, digits)
    blocks.append(Heading(f"{section + 1}. Result"))
    blocks += _result(training)
    return Document(title, tuple(blocks), numbers)


def _setting(training: Training) -> Paragraph:
    params = ", ".join(training.params)
    loop = (f"one sample at a time ({training.samples} samples, one update per sample, in order)"
            if training.per_sample else "on the whole batch at once (one update per epoch)")
    numbers = "exact fractions" if training.exact else "float64, as the frameworks do"
    zero = (
        "After each update the gradients are zeroed (optimizer.zero_grad()), so each update uses "
        "only its own step's gradient."
        if training.zero_grad else
        "The gradients are NOT zeroed between steps (no optimizer.zero_grad()): each backward() "
        "adds to .grad, so every update uses the sum of all the gradients so far, exactly as "
        "PyTorch does without zero_grad()."
    )
    return Paragraph((
        f"Stochastic gradient descent on {params} with learning rate ", _number(training.lr),
        f" for {training.epochs} epoch{'s' if training.epochs != 1 else ''}, {loop}, "
        f"in {numbers}. {zero}",
    ))


def notes(training: Training) -> tuple:
    """What the reader should know of the run: how the program was read (``Graph.notes``), and a
    learning rate of 0 or below — each a sentence (text, or a tuple of text and terms)."""
    return (*training.graph.notes, *_rate_note(training.lr))


def _rate_note(lr) -> list:
    """A learning rate of 0 (the params stay put) or a negative one (micrograd's
    ``p.data += 0.01 * p.grad``: gradient ascent)."""
    if lr == 0:
        return ["The learning rate is 0: the params do not change; each step only computes the gradients "
                "(and, without zero_grad, adds them up)."]
    if lr < 0:
        return [("The learning rate is negative (", _number(lr), "): each update moves the params up the "
                 "gradient (gradient ascent), increasing the loss.")]
    return []


def _rule(training: Training) -> list:
    target, eta = training.graph.target, Form(symbol("eta"))
    rows = []
    for p in training.params:
        grad = Partial(target, p)
        if training.zero_grad:
            rows.append(Equation((Form(symbol(p)), Difference(Form(symbol(p)), Chain((eta, grad))))))
        else:
            stored = Form(symbol(f"g_{p}"))
            rows.append(Equation((stored, Sum((stored, grad)))))
            rows.append(Equation((Form(symbol(p)), Difference(Form(symbol(p)), Chain((eta, stored))))))
    arrow = Paragraph((
        "Each line is an assignment (the new value on the left), with ", Equation((Form(symbol("eta")),
                                                                                   _number(training.lr))),
        "." if training.zero_grad else ", and g the stored .grad, starting at 0.",
    ))
    return [arrow, Equations(tuple(rows))]


def _where(training: Training, step) -> str:
    if step.sample is None:
        return f" (epoch {step.epoch})"
    return f" (epoch {step.epoch}, sample {step.sample})"


def _explained(trace, training: Training, index: int, section: int, numbers: str) -> list:
    """The step's worksheet, its sections numbered within this one (2.1, 2.2, …), then the update."""
    blocks = []
    said = notes_paragraph(trace.graph.notes)  # said once, under the setting
    for block in document.worksheet(trace, numbers=numbers).blocks:
        if isinstance(block, Listing) or block in said:
            continue
        if isinstance(block, Heading):
            block = Heading(re.sub(r"^(\d+)\. ", lambda m: f"{section}.{m.group(1)} ", block.text), level=3)
        blocks.append(block)
    blocks.append(Paragraph(("The update, with the gradients above:",)))
    blocks.append(Equations(tuple(_update(training, index, p) for p in training.params), keys=training.params))
    return blocks


def _update(training: Training, index: int, p: str) -> Equation:
    """p = old − η·gradient = new, for a scalar param (a tensor: p = new)."""
    step = training.steps[index]
    new = step.params[p]
    if new.shape:
        return Equation((Form(symbol(p)), _value(new)))
    old = training.steps[index - 1].params[p] if index else training.start[p]
    return Equation((Form(symbol(p)), Difference(_value(old), Chain((_number(training.lr), _value(step.grads[p])))),
                     _value(new)))


def _table(training: Training, digits: int) -> list:
    target = training.graph.target
    header = ["step", "epoch"] + (["sample"] if training.per_sample else []) + [target]
    header += [f"∂{target}/∂{p}" if training.zero_grad else f".grad of {p}" for p in training.params]
    header += [f"{p} after" for p in training.params]
    runs = {first: last for first, last in _repeated_epochs(training, digits)}
    rows, notes, i = [], [], 0
    while i < len(training.steps):
        step = training.steps[i]
        if i in runs:
            last = runs[i]
            span = (f"{i + 1}–{last + 1}", f"{step.epoch}–{training.steps[last].epoch}")
            rows.append(span + ("",) * training.per_sample + ("same",) * (len(header) - 2 - training.per_sample))
            notes.append(f"Epochs {span[1]} (steps {span[0]}) repeat epoch {step.epoch - 1}, "
                         f"to {digits} significant digits.")
            i = last + 1
            continue
        row = [str(i + 1), str(step.epoch)] + ([str(step.sample)] if training.per_sample else [])
        row.append(_cell(step.loss, digits))
        row += [_cell(step.grads[p], digits) for p in training.params]
        row += [_cell(step.params[p], digits) for p in training.params]
        rows.append(tuple(row))
        i += 1
    several = len(training.params) > 1
    intro = Paragraph((
        "The loss is computed before each update; the gradient" + ("s shown are those" if several else
                                                                    " shown is the one")
        + " the update used" + ("" if training.zero_grad else " (the running sum in .grad)") + ".",
    ))
    return [intro, Table(tuple(header), tuple(rows), "r" * len(header)), *(Paragraph((n,)) for n in notes)]


def _repeated_epochs(training: Training, digits: int) -> list[tuple[int, int]]:
    """Runs of two or more epochs whose rows repeat the epoch before, to the digits shown:
    (first step, last step) of each run. A converged training is then one row, not a thousand."""
    epochs: dict[int, list[int]] = {}
    for i, step in enumerate(training.steps):
        epochs.setdefault(step.epoch, []).append(i)
    order = list(epochs)
    seen = [tuple(_shown(training.steps[i], training.params, digits) for i in epochs[e]) for e in order]
    runs, k = [], 1
    while k < len(order):
        end = k
        while end < len(order) and seen[end] == seen[k - 1]:
            end += 1
        if end - k >= 2:
            runs.append((epochs[order[k]][0], epochs[order[end - 1]][-1]))
        k = max(end, k + 1)
    return runs


def _shown(step, params, digits: int) -> tuple[str, ...]:
    values = [step.loss, *(step.grads[p] for p in params), *(step.params[p] for p in params)]
    return tuple(f"{float(x):.{digits}g}" for value in values for x in np.asarray(value).flat)


def _result(training: Training) -> list:
    rows = [Equation((Form(symbol(p)), _value(training.final[p]))) for p in training.params]
    blocks: list = [Paragraph(("After training:",)), Equations(tuple(rows))]
    prediction = training.prediction
    if prediction is not None:
        at: list = []
        for k, v in prediction.at.items():
            at += [", " if at else "", Equation((Form(symbol(k)), _value(v)))]
        node = Form(symbol(prediction.node))
        blocks.append(Paragraph(("The model's output ", node, " at ", *at, ", before training and after:")))
        blocks.append(Table(("", node.expr.name), (("before", _value(prediction.before)),
                                                   ("after", _value(prediction.after))), "lr"))
    return blocks


def _value(value: np.ndarray):
    return tensor_document.shown(value)


def _number(x):
    """The learning rate as people write it: 0.01, not 1/100."""
    return tensor_document.shown(np.asarray(float(x), dtype=object))


def _cell(value: np.ndarray, digits: int):
    """A scalar as a number; a small tensor written inline, a large one elided."""
    if not value.shape:
        return _value(value)
    flat = [entry(x, digits, latex=False) for x in value.flat]  # −1.49255, as every matrix writes it
    shown = flat if len(flat) <= INLINE else flat[:INLINE - 1] + ["…"]
    return "[" + ", ".join(shown) + "]"
