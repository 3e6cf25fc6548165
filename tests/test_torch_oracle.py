"""Tensor programs against PyTorch autograd (float64, CPU): the tensor samples written again by
hand in PyTorch, 160 generated models built twice from the same random choices (once as a
program, once as PyTorch code), shape errors, and the ``--format torch`` script run as a process.

PyTorch is optional: without it these tests skip, except under CI, where they fail."""

from __future__ import annotations

import math
import random
import re
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest

from conftest import ROOT, SAMPLES, optional_torch, run_process, run_scripts
from worksheet import WorksheetError, derive
from worksheet.render import render
from worksheet.tensors import to_float

torch = optional_torch()
if torch is None:
    pytest.skip("PyTorch is not installed (pip install torch)", allow_module_level=True)
F = torch.nn.functional

RTOL, ATOL = 1e-9, 1e-12
F64 = torch.float64


def assert_agrees(trace, tensors: dict, output) -> None:
    """``output`` (PyTorch, from ``tensors``) has the worksheet's forward value, and each gradient
    the worksheet gives is PyTorch's ``.grad`` (rtol 1e-9, atol 1e-12)."""
    torch.testing.assert_close(torch.from_numpy(to_float(trace.values[trace.target])), output.detach(),
                               rtol=RTOL, atol=ATOL, msg=lambda text: f"forward value of {trace.target}: {text}")
    output.backward()
    assert {g.wrt for g in trace.gradients} == {n for n, t in tensors.items() if t.requires_grad}
    for g in trace.gradients:
        grad = tensors[g.wrt].grad
        want = torch.zeros_like(tensors[g.wrt]) if grad is None else grad
        torch.testing.assert_close(torch.from_numpy(to_float(g.value)), want, rtol=RTOL, atol=ATOL,
                                   msg=lambda text, w=g.wrt: f"d{trace.target}/d{w}: {text}")


def exactly(array) -> list:
    """An object array of exact numbers as nested lists, every element checked to be a Fraction."""
    assert all(isinstance(v, Fraction) for v in np.ravel(array)), array
    return np.asarray(array).tolist()


# ── the samples, written again by hand ───────────────────────────────────────────────────

def linear_bce(t):
    z = t["x"] @ t["W"] + t["b"]
    return F.binary_cross_entropy_with_logits(z, t["y"])


def mlp_l2(t):
    h = torch.relu(t["W1"] @ t["x"])
    loss = F.cross_entropy(t["W2"] @ h, t["y"])
    return loss + t["lambda"] / 2 * (torch.sum(t["W1"] ** 2) + torch.sum(t["W2"] ** 2))


def batch_vector(t):
    return torch.mean((t["w"] * t["x"] + t["b"] - t["y"]) ** 2)


def nn_linear(t):
    return F.mse_loss(t["x"] @ t["W"].T + t["b"], t["y"])


def gelu_mlp(t):
    h = F.gelu(t["W1"] @ t["x"] + t["b1"])
    return -torch.sum(t["y"] * torch.log_softmax(t["W2"] @ h, dim=-1))


TENSOR_SAMPLES = {
    # sample: (the model in PyTorch, class-index inputs, nodes that feed relu/abs)
    "linear_bce.ws": (linear_bce, set(), ()),
    "linear_bce_aux.ws": (linear_bce, set(), ()),  # its default output is loss (test_stop_gradient.py: the others)
    "mlp_l2.ws": (mlp_l2, {"y"}, ("z",)),
    "batch_vector.ws": (batch_vector, set(), ()),
    "nn_linear.ws": (nn_linear, set(), ()),
    "gelu_mlp.ws": (gelu_mlp, set(), ()),
}


def sample_trace(sample: str):
    return derive((SAMPLES / sample).read_text(), filename=sample)


def torch_inputs(trace, indices=()) -> dict:
    """PyTorch tensors of the trace's inputs; the differentiated ones require a gradient."""
    wrt = {g.wrt for g in trace.gradients}
    out = {}
    for name, value in trace.point.items():
        if name in indices:
            out[name] = torch.tensor(np.vectorize(int, otypes=[np.int64])(value))
        else:
            out[name] = torch.tensor(to_float(value), dtype=F64, requires_grad=name in wrt)
    return out


@pytest.mark.parametrize("sample", TENSOR_SAMPLES)
def test_sample_against_torch(sample):
    model, indices, kinked = TENSOR_SAMPLES[sample]
    trace = sample_trace(sample)
    for name in kinked:  # relu'(0) is a convention, not a derivative: the sample must avoid it
        assert all(v != 0 for v in np.ravel(trace.values[name])), f"{name} has a 0 at a kink"
    tensors = torch_inputs(trace, indices)
    assert_agrees(trace, tensors, model(tensors))


TRAINING_ONLY = {"per_sample.ws"}  # a loss per sample, for `worksheet train --per-sample` (test_train.py)


def test_every_tensor_sample_is_covered():
    names = {p.name for p in SAMPLES.glob("*.ws")} - TRAINING_ONLY
    tensor_samples = {name for name in names if sample_trace(name).tensor}
    assert tensor_samples == set(TENSOR_SAMPLES)


def test_batch_vector_tutorial_numbers():
    """The comment's numbers, exactly: dloss/dw = -30, dloss/db = -10; SGD lr 0.01 → 0.3, 0.1."""
    trace = sample_trace("batch_vector.ws")
    grads = {g.wrt: g.value for g in trace.gradients}
    assert {k: exactly(v) for k, v in grads.items()} == {"w": -30, "b": -10}
    lr = Fraction(1, 100)
    updated = {k: trace.point[k][()] - lr * v[()] for k, v in grads.items()}
    assert updated == {"w": Fraction(3, 10), "b": Fraction(1, 10)}


def test_nn_linear_tutorial_numbers():
    """The comment's numbers, exactly: dloss/dW = [[-12, -17]], dloss/db = [-5]; y_pred = [[1.5], [3.5]]."""
    trace = sample_trace("nn_linear.ws")
    grads = {g.wrt: exactly(g.value) for g in trace.gradients}
    assert grads == {"W": [[-12, -17]], "b": [-5]}
    assert exactly(trace.values["y_pred"]) == [[Fraction(3, 2)], [Fraction(7, 2)]]


# ── generated models ─────────────────────────────────────────────────────────────────────

ACTIVATIONS = {
    "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "softplus": F.softplus,
    "exp": torch.exp, "abs": torch.abs, "sin": torch.sin, "cos": torch.cos,
    "silu": F.silu, "elu": F.elu, "gelu": F.gelu, "leaky_relu": lambda z: F.leaky_relu(z, 0.2),
    "normal_cdf": torch.special.ndtr, "normal_pdf": lambda z: torch.exp(-z ** 2 / 2) / math.sqrt(2 * math.pi),
}
WRITTEN = {"leaky_relu": "leaky_relu({}, 0.2)"}  # how a call is written, where not f(z)
BOUNDED = ("sigmoid", "tanh", "sin")  # for outputs that may be large
KINKED = {"relu", "abs", "leaky_relu"}
MODELS = 160


def decimal(n: int) -> str:
    """Hundredths as a decimal literal: -105 → -1.05."""
    return f"{'-' if n < 0 else ''}{abs(n) // 100}.{abs(n) % 100:02d}"


def nested(array: np.ndarray, text) -> str:
    if array.ndim == 0:
        return text(int(array))
    return "[" + ", ".join(nested(a, text) for a in array) + "]"


def mse(a, b):
    return F.mse_loss(*torch.broadcast_tensors(a, b))


def bce(z, y):
    return F.binary_cross_entropy_with_logits(*torch.broadcast_tensors(z, y))


class Model:
    """One random model written twice: program lines for worksheet, and PyTorch steps.

    Every random choice is made once, here, and used for both."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.lines: list[str] = []
        self.steps: list = []        # (name, PyTorch function, argument names)
        self.exact: dict = {}        # input → its exact value (None: a randn draw, from trace.point)
        self.indices: set[str] = set()
        self.params: list[str] = []
        self.kinks: list = []        # (a, b): relu/abs of a (b None), max/min of a and b
        self.tags: set[str] = set()
        self.wrt: list[str] | None = None
        self.at: dict | str | None = None
        self.override: tuple | None = None   # (param, exact value) given with at=
        self.shapes: dict[str, tuple] = {}
        self.scale: str | None = None

    def hundredths(self, shape, values: str) -> np.ndarray:
        rng = self.rng
        draw = {
            "real": lambda: rng.choice((-1, 1)) * rng.randint(1, 150),
            "small": lambda: rng.choice((-1, 1)) * rng.randint(1, 80),
            "positive": lambda: rng.randint(50, 150),
            "lambda": lambda: rng.randint(1, 30),
            "prob": lambda: rng.randint(0, 100),
            "binary": lambda: 100 * rng.randint(0, 1),
        }[values]
        return np.array([draw() for _ in range(math.prod(shape))], dtype=np.int64).reshape(shape)

    def input(self, kind: str, name: str, shape: tuple, values: str = "real") -> str:
        dims = ", ".join(map(str, shape))
        if values == "randn":
            text, exact = f"randn({dims}, seed={self.rng.randrange(100)})", None
        elif values in ("ones", "zeros"):
            text, exact = f"{values}({dims})", np.full(shape, Fraction(int(values == "ones")), dtype=object)
        else:
            ints = self.hundredths(shape, values)
            text = nested(ints, (lambda n: str(n // 100)) if values == "binary" else decimal)
            exact = np.vectorize(lambda n: Fraction(int(n), 100), otypes=[object])(ints)
        self.lines.append(f"{kind} {name} = {text}")
        self.exact[name] = exact
        self.shapes[name] = shape
        if kind == "param":
            self.params.append(name)
        return name

    def index(self, name: str, shape: tuple, classes: int) -> str:
        draws = [self.rng.randrange(classes) for _ in range(math.prod(shape))]
        ints = np.array(draws, dtype=np.int64).reshape(shape)
        self.lines.append(f"data {name} = {nested(ints, str)}")
        self.exact[name] = np.vectorize(Fraction, otypes=[object])(ints)
        self.indices.add(name)
        return name

    def let(self, name: str, text: str, function, *args: str, tags=()) -> str:
        self.lines.append(f"{name} = {text}")
        self.steps.append((name, function, args))
        self.tags.update(tags)
        return name

    def scalar(self) -> str:
        """The model's scalar param ``a``; each further use is a fan-out."""
        if self.scale is None:
            self.scale = self.input("param", "a", (), "positive")
        else:
            self.tags.add("fan-out")
        self.tags.add("scalar param")
        return self.scale

    @property
    def program(self) -> str:
        return "\n".join(self.lines) + "\n"

    def torch_run(self, point):
        """The inputs as PyTorch tensors (``at`` overrides applied), and every named step's tensor."""
        wrt = set(self.wrt.split(",") if isinstance(self.wrt, str) else self.wrt or self.params)
        overrides = dict([self.override]) if self.override else {}
        env = {}
        for name, exact in self.exact.items():
            exact = overrides.get(name, exact)
            if exact is None:  # a randn draw: its values, rounded to hundredths, from the trace
                exact = point[name]
                assert all(isinstance(v, Fraction) and (100 * v).denominator == 1 for v in np.ravel(exact))
            if name in self.indices:
                env[name] = torch.tensor(np.vectorize(int, otypes=[np.int64])(exact))
            else:
                floats = np.vectorize(float, otypes=[np.float64])(np.asarray(exact, dtype=object))
                env[name] = torch.tensor(floats, dtype=F64, requires_grad=name in wrt)
        tensors = dict(env)
        for name, function, args in self.steps:
            env[name] = function(*(env[a] for a in args))
        return tensors, {name: env[name] for name, _, _ in self.steps}


def vector_layer(m: Model, x: str, n_in: int, n_out: int, i: int) -> str:
    """z = W x + b, in one of four spellings (W @ x, x @ W, W.T @ x, x @ W.T)."""
    form = m.rng.randrange(4)
    shape = (n_out, n_in) if form in (0, 3) else (n_in, n_out)
    W = m.input("param", f"W{i}", shape, m.rng.choice(["real", "real", "small", "randn"]))
    text, product = [
        (f"{W} @ {x}", lambda W, x: W @ x),
        (f"{x} @ {W}", lambda W, x: x @ W),
        (f"{W}.T @ {x}", lambda W, x: W.T @ x),
        (f"{x} @ {W}.T", lambda W, x: x @ W.T),
    ][form]
    tags = {"vector layer", ".T"} if form >= 2 else {"vector layer"}
    if m.rng.random() < 0.3:
        return m.let(f"z{i}", text, product, W, x, tags=tags)
    b = m.input("param", f"b{i}", (n_out,), m.rng.choice(["real", "small", "randn"]))
    text = f"{text} + {b}" if m.rng.random() < 0.7 else f"{b} + {text}"
    return m.let(f"z{i}", text, lambda W, x, b: product(W, x) + b, W, x, b, tags=tags)


def batch_layer(m: Model, X: str, n_in: int, n_out: int, i: int) -> str:
    """Z = X W^T + b on a batch (rows of X), the bias broadcast over the rows."""
    form = m.rng.randrange(3)
    shape = (n_in, n_out) if form == 1 else (n_out, n_in)
    W = m.input("param", f"W{i}", shape, m.rng.choice(["real", "small", "randn"]))
    text, product = [
        (f"{X} @ {W}.T", lambda W, X: X @ W.T),
        (f"{X} @ {W}", lambda W, X: X @ W),
        (f"({W} @ {X}.T).T", lambda W, X: (W @ X.T).T),
    ][form]
    tags = {"batch layer", ".T"} if form != 1 else {"batch layer"}
    if m.rng.random() < 0.25:
        return m.let(f"z{i}", text, product, W, X, tags=tags)
    row = m.rng.random() < 0.2
    b = m.input("param", f"b{i}", (1, n_out) if row else (n_out,), m.rng.choice(["real", "small"]))
    tags |= {"1×n + matrix" if row else "vector + matrix"}
    return m.let(f"z{i}", f"{text} + {b}", lambda W, X, b: product(W, X) + b, W, X, b, tags=tags)


def activate(m: Model, z: str, name: str, choices=tuple(ACTIVATIONS)) -> str:
    act = m.rng.choice(choices)
    if act in KINKED:
        m.kinks.append((z, None))
    return m.let(name, WRITTEN.get(act, "%s({})" % act).format(z), ACTIVATIONS[act], z, tags={act})


def elementwise(m: Model, h: str, width: int, name: str, batch: bool) -> str:
    """One elementwise operation on a hidden layer, mostly with broadcasting."""
    rng = m.rng
    kind = rng.choice(["scale", "constant", "gate", "shift", "center", "square", "negate", "divide", "maxmin"])
    on = "matrix" if batch else "vector"
    if kind == "scale":
        a = m.scalar()
        return m.let(name, f"{a} * {h}", lambda a, h: a * h, a, h, tags={f"scalar * {on}"})
    if kind == "constant":
        c = int(m.hundredths((), "positive"))
        if rng.random() < 0.5:
            return m.let(name, f"{decimal(c)} * {h}", lambda h: (c / 100) * h, h, tags={f"number * {on}"})
        return m.let(name, f"{h} / {decimal(c)}", lambda h: h / (c / 100), h, tags={f"{on} / number"})
    if kind == "gate":
        g = m.input("param", f"g_{name}", (width,), "real")
        return m.let(name, f"{h} * {g}", lambda h, g: h * g, h, g, tags={f"{on} * vector"})
    if kind == "shift":
        s = m.input(rng.choice(["param", "data"]), f"s_{name}", (width,), "real")
        if rng.random() < 0.5:
            return m.let(name, f"{h} + {s}", lambda h, s: h + s, h, s, tags={f"{on} + vector"})
        return m.let(name, f"{s} - {h}", lambda h, s: s - h, h, s, tags={f"vector - {on}"})
    if kind == "center":
        return m.let(name, f"{h} - mean({h})", lambda h: h - torch.mean(h), h, tags={"mean", "fan-out"})
    if kind == "square":
        power = rng.choice(["**", "^"])
        return m.let(name, f"{h} {power} 2", lambda h: h ** 2, h, tags={power})
    if kind == "negate":
        return m.let(name, f"-{h}", lambda h: -h, h, tags={"negate"})
    if kind == "divide":
        d = m.input("param", f"d_{name}", (), "positive")
        return m.let(name, f"{h} / {d}", lambda h, d: h / d, h, d, tags={f"{on} / scalar", "scalar param"})
    g = m.input("param", f"g_{name}", (width,), "real")
    m.kinks.append((h, g))
    if rng.random() < 0.5:
        return m.let(name, f"max({h}, {g})", torch.maximum, h, g, tags={"max"})
    return m.let(name, f"min({g}, {h})", torch.minimum, g, h, tags={"min"})


def loss(m: Model, o: str, shape: tuple) -> str:
    """A scalar from the output ``o`` (a vector of k logits, or a batch of them)."""
    rng = m.rng
    k = shape[-1]
    kinds = ["mse", "mse", "bce", "softmax", "log_softmax", "reduce"] + ["cross_entropy"] * 2 * (k >= 2)
    kind = rng.choice(kinds)
    batch = len(shape) == 2
    if kind == "mse":
        target = rng.choice([shape, shape, (), (k,)] + [(shape[0], 1)] * batch)
        y = m.input("data", "y", target, rng.choice(["real", "prob"]))
        tags = {"mse", "mse broadcast"} if target != shape else {"mse"}
        if rng.random() < 0.3:
            p = activate(m, o, "p", BOUNDED)
            return m.let("L", f"mse({p}, {y})", mse, p, y, tags=tags)
        if rng.random() < 0.5:
            return m.let("L", f"mse({y}, {o})", mse, y, o, tags=tags)
        return m.let("L", f"mse({o}, {y})", mse, o, y, tags=tags)
    if kind == "bce":
        y = m.input("data", "y", shape, rng.choice(["binary", "binary", "prob", "zeros", "ones"]))
        return m.let("L", f"bce_with_logits({o}, {y})", bce, o, y, tags={"bce_with_logits"})
    if kind == "cross_entropy":
        c = m.index("c", shape[:1] if batch else (), k)
        return m.let("L", f"cross_entropy({o}, {c})", F.cross_entropy, o, c,
                     tags={"batched cross_entropy" if batch else "cross_entropy"})
    if kind == "log_softmax":
        if rng.random() < 0.5:
            y = m.input("data", "y", shape, "prob")
            q = m.let("q", f"log_softmax({o})", lambda o: torch.log_softmax(o, dim=-1), o,
                      tags={"log_softmax"})
            return m.let("L", f"-mean({y} * {q})", lambda q, y: -torch.mean(y * q), q, y, tags={"mean"})
        s = m.let("s", f"logsumexp({o})", lambda o: torch.logsumexp(o, dim=-1), o, tags={"logsumexp"})
        return m.let("L", f"sum({s} * {s})" if batch else f"{s} * {s}",
                     lambda s: torch.sum(s * s), s, tags={"sum"} if batch else set())
    if kind == "softmax":
        p = m.let("p", f"softmax({o})", lambda o: torch.softmax(o, dim=-1), o,
                  tags={"row softmax" if batch else "softmax"})
        form = rng.randrange(3)
        if form == 0:
            return m.let("L", f"-sum(log({p}))", lambda p: -torch.sum(torch.log(p)), p, tags={"sum", "log"})
        y = m.input("data", "y", shape, "prob")
        if form == 1:
            return m.let("L", f"mse({p}, {y})", mse, p, y, tags={"mse"})
        return m.let("L", f"-mean({y} * log({p}))", lambda p, y: -torch.mean(y * torch.log(p)), p, y,
                     tags={"mean", "log"})
    form = rng.randrange(5)
    if form == 0:
        act = rng.choice(BOUNDED)
        return m.let("L", f"sum({act}({o}))", lambda o: torch.sum(ACTIVATIONS[act](o)), o, tags={"sum", act})
    if form == 1:
        return m.let("L", f"mean({o} ^ 2)", lambda o: torch.mean(o ** 2), o, tags={"mean", "^"})
    if form == 2:
        return m.let("L", f"sumsq({o})", lambda o: torch.sum(o ** 2), o, tags={"sumsq"})
    if form == 3:
        return m.let("L", f"sqrt(sumsq({o}) + 1)", lambda o: torch.sqrt(torch.sum(o ** 2) + 1), o,
                     tags={"sumsq", "sqrt"})
    a = m.scalar()
    return m.let("L", f"mean({a} * {o}.T)", lambda a, o: torch.mean(a * o.t()), a, o, tags={"mean", ".T"})


def regularise(m: Model, L: str, weights: list[str]) -> str:
    """J = L + lam/2·(|W1|² + …), or lam·|W1|² + lam·|W2|² (lam used twice: a fan-out if a param)."""
    lam = m.input(m.rng.choice(["param", "data"]), "lam", (), "lambda")
    if len(weights) == 2 and m.rng.random() < 0.5:
        m.tags.update({"fan-out"} if lam in m.params else ())
        text = " + ".join(f"{lam} * sumsq({W})" for W in weights)

        def penalty(lam, *Ws):
            return sum(lam * torch.sum(W ** 2) for W in Ws)
    else:
        text = f"{lam} / 2 * (" + " + ".join(f"sumsq({W})" for W in weights) + ")"

        def penalty(lam, *Ws):
            return lam / 2 * sum(torch.sum(W ** 2) for W in Ws)
    R = m.let("R", text, penalty, lam, *weights, tags={"sumsq", "L2"})
    return m.let("J", f"{L} + {R}", lambda L, R: L + R, L, R)


def generate(rng: random.Random) -> Model:
    m = Model(rng)
    batch = rng.random() < 0.5
    n = rng.randint(1, 4)
    sizes = [rng.randint(1, 4) for _ in range(rng.choice([2, 3, 3]))]
    if rng.random() < 0.5:
        sizes[-1] = max(sizes[-1], 2)  # room for a class index
    m.tags.add(f"{len(sizes) - 1}-layer")
    features = "X" if batch else "x"
    h = m.input("data", features, (n, sizes[0]) if batch else (sizes[0],),
                rng.choice(["real", "real", "small", "randn", "ones"]))
    for i in range(1, len(sizes)):
        h = (batch_layer if batch else vector_layer)(m, h, sizes[i - 1], sizes[i], i)
        if i < len(sizes) - 1:
            h = activate(m, h, f"h{i}")
        if rng.random() < 0.4:
            h = elementwise(m, h, sizes[i], f"e{i}", batch)
    out = loss(m, h, (n, sizes[-1]) if batch else (sizes[-1],))
    weights = [name for name in m.params if name.startswith("W")]
    if rng.random() < 0.5:
        out = regularise(m, out, weights)
    if rng.random() < 0.2:  # the features too, as a list or as "W1,b1,x"
        m.wrt = m.params + [features]
        m.tags.add("wrt data")
        if rng.random() < 0.5:
            m.wrt = ",".join(m.wrt)
    if rng.random() < 0.2:  # another value for one param, given with at= (text or a mapping)
        name = rng.choice(m.params)
        ints = m.hundredths(m.shapes[name], "real")
        m.override = (name, np.vectorize(lambda v: Fraction(int(v), 100), otypes=[object])(ints))
        m.at = {name: m.override[1].tolist()} if rng.random() < 0.5 else f"{name}={nested(ints, decimal)}"
        m.tags.add("at")
    return m


def kinked(m: Model, trace) -> bool:
    """Whether relu/abs meets an exact 0, or max/min a tie, where PyTorch's choice of a
    one-sided derivative is a convention, not the derivative: such a model is drawn again."""
    for a, b in m.kinks:
        left = trace.values[a]
        right = 0 if b is None else trace.values[b]
        if np.any(np.asarray(left == right, dtype=bool)):
            return True
    return False


def model_and_trace(seed: int):
    for attempt in range(20):
        m = generate(random.Random(f"{seed}/{attempt}"))
        trace = derive(m.program, wrt=m.wrt, at=m.at, filename="model.ws")
        if not kinked(m, trace):
            return m, trace
    raise AssertionError(f"seed {seed}: every draw met a kink")


@pytest.mark.parametrize("seed", range(MODELS))
def test_generated_model_against_torch(seed):
    m, trace = model_and_trace(seed)
    given = {**m.exact, **dict([m.override] if m.override else [])}
    for name, exact in given.items():  # decimal literals and at= values are exact
        if exact is not None:
            assert exactly(trace.point[name]) == exact.tolist(), name
    tensors, steps = m.torch_run(trace.point)
    try:
        for name, tensor in steps.items():  # every named step: its shape and forward value
            assert trace.shapes[name] == tuple(tensor.shape), name
            torch.testing.assert_close(torch.from_numpy(to_float(trace.values[name])), tensor.detach(),
                                       rtol=RTOL, atol=ATOL, msg=lambda text, n=name: f"value of {n}: {text}")
        assert_agrees(trace, tensors, steps[trace.target])
    except AssertionError as error:
        raise AssertionError(f"{error}\n--- model.ws (wrt={m.wrt}, at={m.at}):\n{m.program}") from None


REQUIRED = {
    "1-layer", "2-layer", "vector layer", "batch layer", ".T", "vector + matrix",
    "sigmoid", "tanh", "relu", "softplus", "exp", "abs", "sin", "silu", "elu", "gelu", "leaky_relu",
    "log_softmax", "logsumexp",
    "scalar * matrix", "scalar * vector", "number * matrix", "matrix * vector", "vector - matrix",
    "sum", "mean", "sumsq", "mse", "mse broadcast", "bce_with_logits", "cross_entropy",
    "batched cross_entropy", "softmax", "row softmax", "log", "L2", "fan-out", "scalar param",
    "max", "min", "^", "**", "negate", "wrt data", "at",
}


def test_generated_models_cover_the_language():
    covered = set().union(*(model_and_trace(seed)[0].tags for seed in range(MODELS)))
    assert REQUIRED <= covered, REQUIRED - covered


# ── hand-picked programs: products, powers, kinks near ties, large logits ────────────────

HAND_PICKED = [
    # (program, the same model in PyTorch, class-index inputs)
    ("param a = [1, 2]\nparam b = [3, -4]\nL = a @ b", lambda t: t["a"] @ t["b"], ()),
    ("param W = [[1, 2], [3, 4]]\nparam x = [1, -2]\nL = x @ W.T @ W @ x",
     lambda t: t["x"] @ t["W"].T @ t["W"] @ t["x"], ()),
    ("param A = [[1, 2], [3, 4]]\nparam B = [[0.5, -1], [2, 1]]\nL = sum(tanh(A @ B @ A.T))",
     lambda t: torch.sum(torch.tanh(t["A"] @ t["B"] @ t["A"].T)), ()),
    ("param a = [[1], [2]]\nparam b = [[3, -4, 5]]\nL = sum(sin(a * b))",  # an outer product by broadcasting
     lambda t: torch.sum(torch.sin(t["a"] * t["b"])), ()),
    ("param x = [1, 2, 3]\nparam w = 2\nL = sum(x ** w) + sum(2 ** x)",
     lambda t: torch.sum(t["x"] ** t["w"]) + torch.sum(2 ** t["x"]), ()),
    ("param x = [1, 2, 3]\nparam p = [0.5, 2, 1.5]\nL = sum(x ^ p)", lambda t: torch.sum(t["x"] ** t["p"]), ()),
    ("param x = [1.5, -2, 3]\nparam s = 0.7\nL = sum(max(x, 0.5)) + sum(min(1, x)) + sum(max(s, x))",
     lambda t: torch.sum(torch.clamp(t["x"], min=0.5)) + torch.sum(torch.clamp(t["x"], max=1))
     + torch.sum(torch.maximum(t["s"], t["x"])), ()),
    ("param x = [0.5, 2]\nL = sum(log(x) + sqrt(x) + cosh(x) + sinh(x) + tan(x) + cos(x) + exp(-x))",
     lambda t: torch.sum(torch.log(t["x"]) + torch.sqrt(t["x"]) + torch.cosh(t["x"]) + torch.sinh(t["x"])
                         + torch.tan(t["x"]) + torch.cos(t["x"]) + torch.exp(-t["x"])), ()),
    ("param W = [[1, 2], [3, 4]]\nparam x = 0.5\nL = sum(W / x) + sum(x / W) + sum(W - x) + mean(x - W)",
     lambda t: torch.sum(t["W"] / t["x"]) + torch.sum(t["x"] / t["W"]) + torch.sum(t["W"] - t["x"])
     + torch.mean(t["x"] - t["W"]), ()),
    ("param x = [2, 1]\nL = mse(x, 1) + bce_with_logits(x, 0)",  # a number as the target
     lambda t: mse(t["x"], torch.tensor(1.0, dtype=F64)) + bce(t["x"], torch.tensor(0.0, dtype=F64)), ()),
    ("param x = 2\ndata y = [1, 0, 1]\nL = bce_with_logits(x, y) + mse(x, y)",  # a scalar logit broadcast
     lambda t: bce(t["x"], t["y"]) + mse(t["x"], t["y"]), ()),
    ("param o = [3, 1, -2]\nL = cross_entropy(o, 1)", lambda t: F.cross_entropy(t["o"], torch.tensor(1)), ()),
    ("param o = [1000, 0, -1000]\ndata c = 1\nL = cross_entropy(o, c)",  # logits beyond exp's range
     lambda t: F.cross_entropy(t["o"], t["c"]), {"c"}),
    ("param o = [[1000, 0], [1, 2]]\ndata c = [1, 0]\nL = cross_entropy(o, c)",
     lambda t: F.cross_entropy(t["o"], t["c"]), {"c"}),
    ("param o = [[710, 0], [1, 2]]\ndata y = [[0, 1], [1, 0]]\nL = mse(softmax(o), y)",
     lambda t: mse(torch.softmax(t["o"], dim=-1), t["y"]), ()),
    ("param o = [700, 0]\nL = sum(log(softmax(o)))",
     lambda t: torch.sum(torch.log(torch.softmax(t["o"], dim=-1))), ()),
    ("param z = [800, -800, 40, -40]\ndata y = [1, 0, 0, 1]\nL = bce_with_logits(z, y) + sum(softplus(z))",
     lambda t: bce(t["z"], t["y"]) + torch.sum(F.softplus(t["z"])), ()),
    ("param z = [800, -800, 40, -40]\nL = sum(sigmoid(z) * z)",
     lambda t: torch.sum(torch.sigmoid(t["z"]) * t["z"]), ()),
    ("param W = [[1, 2], [3, 4]]\nparam lambda = 0.5\nL = lambda * sumsq(W) + lambda ^ 2 + sum(-W ** 2)",
     lambda t: t["lambda"] * torch.sum(t["W"] ** 2) + t["lambda"] ** 2 + torch.sum(-t["W"] ** 2), ()),
    ("param w = [0.5, -1]\ndata x = [1, 2]\ndata y = 3\nL = mse(w @ x, y)",  # one prediction
     lambda t: F.mse_loss(t["w"] @ t["x"], t["y"]), ()),
    ("param a = 3\ndata v = [2, 1]\nL = sumsq(a) + sum(v)",
     lambda t: t["a"] ** 2 + torch.sum(t["v"]), ()),
]


def last_line(case) -> str:
    program = case.values[0] if hasattr(case, "values") else case[0]
    return program.splitlines()[-1]


@pytest.mark.parametrize("program, model, indices", HAND_PICKED, ids=[last_line(c) for c in HAND_PICKED])
def test_hand_picked_program_against_torch(program, model, indices):
    trace = derive(program, filename="model.ws")
    tensors = torch_inputs(trace, indices)
    assert_agrees(trace, tensors, model(tensors))


# ── shape errors ─────────────────────────────────────────────────────────────────────────

SHAPE_ERROR = """# a 3×2 matrix times a vector of 3
param W = randn(3, 2, seed=1)
data  x = [1, 2, 3]
z = W @ x
L = sum(z)
"""


def test_shape_error_is_one_line_with_both_shapes():
    with pytest.raises(WorksheetError) as caught:
        derive(SHAPE_ERROR, filename="model.ws")
    message = str(caught.value)
    assert "\n" not in message
    assert "model.ws:4" in message
    assert "3×2" in message and re.search(r"(?<![\d×])3(?![\d×:])", message.replace("3×2", "")), message


def test_shape_error_from_the_command_line(cli, tmp_path):
    program = tmp_path / "model.ws"
    program.write_text(SHAPE_ERROR, encoding="utf-8")
    for result in (cli("derive", str(program)), run_process("derive", str(program))):
        assert result.code == 2 and result.out == ""
        assert len(result.err.strip().splitlines()) == 1, result.err
        assert "Traceback" not in result.err
        assert "3×2" in result.err and "model.ws:4" in result.err


# ── the --format torch script ────────────────────────────────────────────────────────────

def run_script(path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(path)], check=False, capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


def tampered(script: str) -> str:
    """The script with its first nonzero expected number multiplied by 1.001."""
    start = script.index("expected = {")
    end = script.index("\n}", start)
    block = script[start:end]
    done = False

    def bump(match):
        nonlocal done
        if done or float(match.group()) == 0:
            return match.group()
        done = True
        return repr(float(match.group()) * 1.001)

    lines = []
    for line in block.split("\n"):
        key, sep, value = line.partition('": ')
        lines.append(key + sep + re.sub(r"-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?", bump, value) if sep else line)
    assert done, block
    return script[:start] + "\n".join(lines) + script[end:]


@pytest.mark.parametrize("sample", TENSOR_SAMPLES)
def test_torch_script_runs_and_catches_a_wrong_number(sample, tmp_path):
    script = render(sample_trace(sample), "torch")
    good = tmp_path / "check.py"
    good.write_text(script, encoding="utf-8")
    done = run_script(good)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "agree" in done.stdout and "DIFFERS" not in done.stdout

    bad = tmp_path / "tampered.py"
    bad.write_text(tampered(script), encoding="utf-8")
    done = run_script(bad)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "DIFFERS" in done.stdout


def test_torch_script_agrees_on_every_generated_model(tmp_path):
    """The exported scripts of all generated models, run in one Python process (one torch import)."""
    paths = []
    for seed in range(MODELS):
        path = tmp_path / f"model_{seed}.py"
        path.write_text(render(model_and_trace(seed)[1], "torch"), encoding="utf-8")
        paths.append(str(path))
    lines = run_scripts(paths)
    failed = [line for line in lines if line.split("\t")[0] != "0"]
    assert len(lines) == MODELS and not failed, "\n".join(failed or lines)
