"""A program's params trained by SGD, step by step, the way PyTorch's loop does it:

    for epoch in range(epochs):
        for x, y in zip(x_data, y_data):      # --per-sample; else the whole batch at once
            loss = model(x, y)
            loss.backward()                   # .grad += ∂loss/∂param
            param -= lr * param.grad          # optimizer.step()
            param.grad.zero_()                # optimizer.zero_grad(), unless --no-zero-grad

Each step records the loss, the gradients the update used and the params after it.
Numbers are float64 by default (as in the frameworks) or exact fractions (``exact``).
The gradients come from the same reverse sweep as a worksheet (``tensor_trace``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction


from ..lang.options import located, point_of, decimal_inputs, parse_point
from ..arith import Refused
from ..errors import WorksheetError
from ..lang.graph import Graph, build
from ..limits import MAX_PROGRAM_CHARS
from ..lang.parse import parse_source
from .numbers import DOUBLES, ELEMENTS, FRACTIONS
from .tensor_trace import infer_shapes, tensor_work
from .trace import backward, forward
from ..tensors import as_array, number
from ..lazy import lazy

np = lazy("numpy")

MAX_TRAIN_STEPS = 100_000
"""More SGD steps (epochs × samples) than this are refused."""

MAX_TRAIN_WORK = 12_000_000
STEP_WORK = 400
EXACT_WORK = 10
"""A training whose steps need more element operations than MAX_TRAIN_WORK is refused before
the first step (about 10 s on a 2-core machine): a step counts the work of its forward and
backward pass (``tensor_work``) and STEP_WORK more, each EXACT_WORK times over with --exact
(fractions, and the balls that huge ones become, cost about ten times a double)."""


@dataclass(frozen=True)
class TrainStep:
    epoch: int  # counted from 1
    sample: int | None  # counted from 0 with --per-sample, else None
    loss: np.ndarray  # before the update
    grads: Mapping[str, np.ndarray]  # the .grad each update used (summed over steps without zero_grad)
    params: Mapping[str, np.ndarray]  # after the update


@dataclass(frozen=True)
class Prediction:
    node: str  # the model's output: the last assignment that needs no other data
    at: Mapping[str, np.ndarray]
    before: np.ndarray
    after: np.ndarray


@dataclass(frozen=True)
class Training:
    graph: Graph
    lr: Fraction | float  # as given (0.01 is 1/100); the loop uses it as a double unless exact
    epochs: int
    per_sample: bool
    zero_grad: bool
    exact: bool
    start: Mapping[str, np.ndarray]  # every input's value before training
    steps: tuple[TrainStep, ...]
    prediction: Prediction | None = None
    samples: int | None = None  # how many samples an epoch walks (with --per-sample)
    explained: tuple = field(default=())  # (step index, worksheet trace) for the first steps
    decimal_inputs: bool = False  # the program, --lr or --at written with decimals (--numbers auto)

    @property
    def params(self) -> tuple[str, ...]:
        return self.graph.params

    @property
    def final(self) -> Mapping[str, np.ndarray]:
        return self.steps[-1].params if self.steps else {p: self.start[p] for p in self.params}

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        """In a notebook, the training trace: HTML, Markdown and text (``worksheet.display``)."""
        from ..display import training

        return training(self, include, exclude)


def train(
    source: str,
    *,
    lr,
    epochs: int,
    per_sample: bool = False,
    zero_grad: bool = True,
    exact: bool = False,
    at: str | Mapping | None = None,
    predict: str | Mapping | None = None,
    explain_steps: int = 1,
    filename: str | None = None,
    on_step: Callable[[int, int], None] | None = None,
) -> Training:
    """SGD on the params of the program ``source`` for ``epochs`` epochs at learning rate ``lr``.

        >>> from worksheet import train
        >>> run = train(open("samples/per_sample.ws").read(), lr="0.01", epochs=100, per_sample=True, predict="x=4")
        >>> run            # in a notebook: the training trace (worksheet.display)

    ``source``: a program that declares its params and data (``param w = 1``, ``data x = [1, 2, 3]``)
    and ends with the loss, a scalar. ``lr``: the learning rate, a number or its text (``"0.01"``,
    read exactly). ``per_sample``: one update per sample, walking every data array along its first
    axis (``for x, y in zip(xs, ys)``); else one per epoch on the whole batch. ``zero_grad`` False:
    the gradients add up between updates, as without ``optimizer.zero_grad()``. ``exact``: exact
    fractions instead of float64. ``at``: values that override the declared ones (``"w=0.5"``).
    ``predict``: inputs for the model's output before and after training (``"x=4"``).
    ``explain_steps``: how many first steps get a full worksheet. ``filename``: where ``source``
    came from, for error messages; ``on_step(done, total)`` is called after each step. Bad input
    raises ``WorksheetError``. The result records every step (``steps``: loss, gradients, params)
    and renders with ``render.render_training``."""
    program = parse_source(source, filename, max_chars=MAX_PROGRAM_CHARS)
    graph = located(lambda: build(program), source, filename)
    if not graph.params:
        raise WorksheetError("nothing to train: declare the parameters with param (param w = 1)")
    given = point_of(graph, parse_point(at) if at is not None else {})
    if given is None:
        raise WorksheetError("training needs a value for every input: declare them (param w = 1, data x = [1, 2])")
    numbers = FRACTIONS if exact else DOUBLES
    start = {name: numbers.input(value) for name, value in given.items()}
    given_rate = number(_rate(lr))
    try:
        rate = numbers.input(given_rate)[()]
    except Refused as error:  # 10**400 is no double
        raise WorksheetError(f"the learning rate would be {error}", where="--lr") from None
    samples = _samples(graph, start) if per_sample else None
    total = epochs * (samples or 1)
    if not 1 <= epochs or total > MAX_TRAIN_STEPS:
        raise WorksheetError(f"epochs × samples must be from 1 to {MAX_TRAIN_STEPS:,}, not {total:,}", where="--epochs")
    values = {**start, **_sample(graph, start, 0 if samples else None)}
    shapes = located(lambda: infer_shapes(graph, {k: v.shape for k, v in values.items()}), source, filename)
    _check_work(tensor_work(graph, shapes), total, exact)
    params = {p: start[p] for p in graph.params}
    stored: dict[str, np.ndarray] = {}
    steps: list[TrainStep] = []
    for epoch in range(1, epochs + 1):
        for sample in range(samples) if samples else (None,):
            values = {**start, **params, **_sample(graph, start, sample)}
            try:
                loss, grads = _loss_and_gradients(graph, values, source, filename)
            except WorksheetError as error:
                if "overflow" in error.message and steps:  # the params ran away: say so
                    error.message = (f"the training diverges: at step {len(steps) + 1} (epoch {epoch}) "
                                     f"{error.message}; try a smaller --lr")
                raise
            for p in graph.params:
                stored[p] = grads[p] if zero_grad or p not in stored else as_array(stored[p] + grads[p])
            params = {p: as_array(params[p] - rate * stored[p]) for p in graph.params}
            steps.append(TrainStep(epoch, sample, loss, dict(stored), params))
            if on_step:
                on_step(len(steps), total)
    prediction = _prediction(program, graph, start, params, predict, numbers, source, filename)
    explained = _explained(source, graph, start, steps, explain_steps, filename)
    written = decimal_inputs(source, lr if isinstance(lr, str) else {"lr": lr}, at or "")
    return Training(graph, given_rate, epochs, per_sample, zero_grad, exact, start, tuple(steps),
                    prediction, samples, explained, written)


def _check_work(pass_work: int, steps: int, exact: bool) -> None:
    """Refuse a training longer than MAX_TRAIN_WORK (``pass_work``: one step's passes), before its first step."""
    step = (pass_work + STEP_WORK) * (EXACT_WORK if exact else 1)
    work = steps * step
    if work > MAX_TRAIN_WORK:
        most = MAX_TRAIN_WORK // step
        raise WorksheetError(f"{steps:,} steps of this model need about {work:,} element operations (the limit is "
                             f"{MAX_TRAIN_WORK:,}): train for at most {most:,} steps", where="--epochs")


# ── one step ─────────────────────────────────────────────────────────────────────────────

def _loss_and_gradients(graph: Graph, values: dict, source: str, filename: str | None):
    """The loss and ∂loss/∂param at ``values`` — already training's numbers, so computed as a
    model's are (``ELEMENTS``)."""
    def run():
        shapes = infer_shapes(graph, {k: v.shape for k, v in values.items()})
        if shapes[graph.target]:
            raise WorksheetError(f"the loss {graph.target} must be a scalar to train on it; reduce it with mean(…) or sum(…)")
        computed = forward(graph, values, ELEMENTS)
        _, adjoints = backward(graph, graph.params, computed, ELEMENTS, shapes=shapes, forms=False)
        grads = {p: adjoints[p].value if p in adjoints else _zeros(values[p]) for p in graph.params}
        return computed[graph.target], grads

    return located(run, source, filename)


def _zeros(like: np.ndarray) -> np.ndarray:
    """The gradient of a param the loss does not depend on, in its number type."""
    return as_array(like * 0)


def _samples(graph: Graph, start: Mapping[str, np.ndarray]) -> int:
    """How many samples --per-sample walks: the common length of the data arrays' first axis."""
    lengths = {name: start[name].shape[0] for name in _walked(graph, start)}
    if not lengths:
        raise WorksheetError("--per-sample walks the data arrays, and this program has none (data x = [1, 2, 3])",
                             where="--per-sample")
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{n} has {k}" for n, k in lengths.items())
        raise WorksheetError(f"the data arrays must have the same number of samples ({shown})", where="--per-sample")
    return next(iter(lengths.values()))


def _walked(graph: Graph, start) -> list[str]:
    return [n.name for n in graph.inputs if n.kind == "data" and start[n.name].ndim >= 1]


def _sample(graph: Graph, start, sample: int | None) -> dict:
    if sample is None:
        return {}
    return {name: as_array(start[name][sample]) for name in _walked(graph, start)}


# ── numbers ──────────────────────────────────────────────────────────────────────────────

def _rate(lr):
    if isinstance(lr, str):
        try:
            value = parse_point(f"lr={lr}")["lr"]
        except WorksheetError as error:
            error.where = "--lr"
            raise
        if not (value.is_number and value.is_real):  # 0 and below too: no step, gradient ascent
            raise WorksheetError(f"the learning rate must be a real number, not {lr}", where="--lr")
        return value
    return lr


# ── prediction and the steps explained ───────────────────────────────────────────────────

def _prediction(program, graph, start, params, predict, numbers, source, filename) -> Prediction | None:
    if predict is None:
        return None
    given = {k: numbers.input(v) for k, v in parse_point(predict).items()}
    node = _prediction_node(graph, set(given))
    model = located(lambda: build(program, target=node), source, filename)

    def output(values):
        inputs = {n.name: values[n.name] for n in model.inputs}
        infer_shapes(model, {k: v.shape for k, v in inputs.items()})
        return forward(model, inputs, ELEMENTS)[node]

    before = located(lambda: output({**start, **given}), source, filename)
    after = located(lambda: output({**start, **params, **given}), source, filename)
    return Prediction(node, given, before, after)


def _prediction_node(graph: Graph, given: set[str]) -> str:
    """The last assignment that needs no data beyond ``given`` (y_pred, not the loss)."""
    unknown = given - {n.name for n in graph.inputs}
    if unknown:
        raise WorksheetError(f"{', '.join(sorted(unknown))} is not an input of the program", where="--predict")
    needs: dict[str, set[str]] = {}
    for node in graph.nodes:
        if node.is_input:
            needs[node.name] = {node.name} if node.kind != "param" else set()
        else:
            needs[node.name] = set().union(*(needs[i] for i in node.inputs)) if node.inputs else set()
    candidates = [n.name for n in graph.operations if n.named and needs[n.name] and needs[n.name] <= given]
    if not candidates:
        raise WorksheetError("no assignment of the program is computed from these inputs alone", where="--predict")
    return candidates[-1]


def _explained(source, graph, start, steps, count, filename) -> tuple:
    """Worksheets of the first ``count`` steps, at the values each step started from."""
    from .derive import derive

    explained = []
    params = {p: start[p] for p in graph.params}
    for index, step in enumerate(steps[:max(count, 0)]):
        values = {**start, **params, **_sample(graph, start, step.sample)}
        at = {name: _plain(value) for name, value in values.items()}
        explained.append((index, derive(source, at=at, filename=filename)))
        params = step.params
    return tuple(explained)


def _plain(value: np.ndarray):
    """A value for derive(at=…): a number (read exactly), or nested lists of them."""
    x = value.tolist()
    return x if isinstance(x, (list, Fraction)) else repr(float(x))
