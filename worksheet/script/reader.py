"""A script's statements → the program, the output to differentiate and the training loop.

The script is parsed by ``ast.parse`` and walked; nothing of it is imported, compiled to code
or run. What is read:

- imports of torch, numpy, math, micrograd and jax (their names become prefixes: ``F.relu``);
- leaves: ``torch.tensor(…)``/``torch.Tensor(…)``/``np.array(…)`` of numbers or lists, with
  ``requires_grad=True`` (or ``w.requires_grad = True`` later), micrograd's ``Value(…)``, plain
  numbers and lists; ``torch.ones/zeros(n)``;
- ``nn.Linear(i, o)`` with its weights set in the script (``model.weight.data = torch.tensor(…)``),
  the losses ``nn.MSELoss()``, ``nn.BCEWithLogitsLoss()``, ``nn.CrossEntropyLoss()``, and
  ``optim.SGD(params, lr=…)``;
- ``def`` functions of assignments and a ``return`` (inlined where they are called);
- assignments, reassignments and ``+=`` of expressions (``expressions``);
- ``X.backward()``, ``X.backward(gradient=g)``; ``optimizer.zero_grad()``, ``w.grad.zero_()``;
  ``optimizer.step()`` and the updates ``w.data = w.data - lr * w.grad``, ``w -= lr * w.grad``
  (in ``with torch.no_grad():``), ``a.data += 0.01 * a.grad`` (a negative rate);
- ``for epoch in range(N):`` and ``for x, y in zip(xs, ys):`` around them: the epochs, and one
  update per sample;
- ``print(…)``, ``.item()``, docstrings and ``if __name__ == "__main__":`` are read and ignored
  (a ``print(forward(4))`` before and after the loop is the prediction).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from fractions import Fraction

from ..errors import WorksheetError
from ..lang.parse import CONSTANTS, RESERVED
from ..lang.tokens import check_plain
from .expressions import Expressions, construct, dotted, is_ignored, number, refuse

MODULES = ("torch", "numpy", "math", "micrograd", "jax", "matplotlib")
REPORTING = ("matplotlib",)  # modules whose calls only report (plots): read and ignored
FORBIDDEN = {"exec", "eval", "open", "compile", "getattr", "setattr", "delattr", "globals", "locals", "vars",
             "input", "breakpoint", "exit", "quit", "help", "memoryview", "type", "object", "super", "os", "sys",
             "subprocess", "importlib", "builtins", "file", "reload"}
LEAVES = ("tensor", "Tensor", "Value", "array", "asarray", "Parameter", "FloatTensor", "DoubleTensor")
MAKERS = ("ones", "zeros")
RANGES = ("arange", "eye")  # torch.arange(4.0), torch.eye(3): the language's own, checked there
LOSSES = {"MSELoss": "mse", "BCEWithLogitsLoss": "bce_with_logits", "CrossEntropyLoss": "cross_entropy"}
MAX_EPOCHS = 100_000  # as train's limit on steps
SCRIPT_COLUMN = 40  # the widest the program's column is padded to, beside the script's lines


@dataclass(frozen=True)
class TrainPlan:
    """How the script trains: its rate, epochs, one update per sample or per batch, zero_grad."""

    lr: str
    epochs: int
    per_sample: bool
    zero_grad: bool


@dataclass(frozen=True)
class Script:
    """What a script means: ``program`` in the formula language (each line with the script's
    line beside it), the ``target`` backward() starts from and its ``seed_grad``, the ``wrt``
    params, and ``train`` when it trains (with ``predict``, inputs of a prediction)."""

    program: str
    origin: tuple[int, ...]  # the script line of each program line
    source: str
    filename: str | None
    target: str
    seed_grad: str | None
    wrt: tuple[str, ...]
    train: TrainPlan | None
    predict: str | None

    def locate(self, error: WorksheetError) -> WorksheetError:
        """An error found in the program, told at the script's line it came from."""
        if error.source == self.program and error.line is not None and 1 <= error.line <= len(self.origin):
            error.line = self.origin[error.line - 1]
            error.column = _indent(self.source, error.line) + 1
            error.source = self.source
        return error


@dataclass
class Leaf:
    """A value the script writes: a tensor, a Value, a number or a list."""

    name: str
    value: str  # in the formula language: 2.0, [1.0, 2.0], [[0.5, 0.5]], ones(3)
    line: int
    grad: bool
    emitted: bool = False


@dataclass
class Linear:
    """nn.Linear(inputs, outputs): y = x Wᵀ + b, with W and b set in the script."""

    name: str
    bias: bool
    weight: Leaf | None = None
    offset: Leaf | None = None


@dataclass
class Loop:
    epochs: int = 1
    samples: tuple[str, ...] = ()  # zip's loop variables


@dataclass
class _Reader:
    source: str
    filename: str | None
    modules: dict[str, str] = field(default_factory=dict)  # alias → module path (F → torch.nn.functional)
    imported: dict[str, str] = field(default_factory=dict)  # from-imported names (Value, Linear, SGD)
    leaves: dict[str, Leaf] = field(default_factory=dict)
    assigned: dict[str, str] = field(default_factory=dict)  # script name → program name
    functions: dict[str, ast.FunctionDef] = field(default_factory=dict)
    records: set[str] = field(default_factory=set)  # empty lists the script appends losses to
    linears: dict[str, Linear] = field(default_factory=dict)
    losses: dict[str, str] = field(default_factory=dict)
    optimizers: dict[str, tuple[tuple[str, ...], str]] = field(default_factory=dict)  # name → (params, lr)
    lines: list = field(default_factory=list)  # (script line, program text or Leaf)
    roles: dict[int, str] = field(default_factory=dict)  # script line → what it was read as
    shown: dict[int, str] = field(default_factory=dict)  # script line → its code as the listing shows it
    backward: tuple[str, str | None] | None = None
    backward_calls: int = 0  # outside a loop: two calls without an update add up the gradients
    updates: dict[str, str] = field(default_factory=dict)  # param → rate
    zero_grad: bool = False
    loop: Loop | None = None
    predict: str | None = None
    line: int = 0

    # ── names, as expressions use them ──
    def use(self, node: ast.Name) -> str:
        name = node.id
        if name in self.assigned:
            return self.assigned[name]
        if name in self.leaves:
            leaf = self.leaves[name]
            if not leaf.emitted:
                leaf.emitted = True
                self.lines.append((leaf.line, leaf))
            return _program_name(name)
        if name in self.functions or name in self.linears or name in self.losses:
            raise refuse(node, f"{name} is a function or a model: call it")
        if name in CONSTANTS:
            return name
        raise refuse(node, f"{name} is not defined in the script before this line")

    def local(self, name: str, value: ast.expr, statement: ast.stmt) -> ast.expr:
        """An assignment inside an inlined function: a line of the program of its own (so that
        y_pred = forward(x) is a node the worksheet names), unless the name is the script's."""
        if self.is_value(name) or name in self.functions or not name.isascii():
            return value
        self.lines.append((self.line, f"{_program_name(name)} = {ast.unparse(value)}"))  # beside the call
        return ast.Name(_program_name(name))

    def is_value(self, name: str) -> bool:
        return name in self.assigned or name in self.leaves

    def called(self, name: str):
        """How a call of ``name`` is read: a function inlined, a loss, a linear layer; None if neither."""
        if name in self.functions:
            definition = self.functions[name]
            return lambda node, expressions: expressions.inline(node, definition)
        if name in self.losses:
            op = self.losses[name]
            if op == "sse":  # MSELoss(reduction='sum'): Σ (p − y)²
                return lambda node, expressions: _sum_of_squares(node, [expressions.of(a) for a in node.args])
            return lambda node, expressions: ast.Call(ast.Name(op), [expressions.of(a) for a in node.args], [])
        if name in self.linears:
            return lambda node, expressions: self._linear(self.linears[name], node, expressions)
        return None

    def _linear(self, layer: Linear, node: ast.Call, expressions: Expressions) -> ast.expr:
        if layer.weight is None or (layer.bias and layer.offset is None):
            missing = f"{layer.name}.weight" if layer.weight is None else f"{layer.name}.bias"
            raise refuse(node, f"{layer.name} = nn.Linear(…) starts from random weights, which cannot be "
                               f"reproduced here: set them in the script before this line, e.g. {missing}.data = "
                               "torch.tensor([[0.5, 0.5]])")
        if len(node.args) != 1:
            raise refuse(node, f"{layer.name}(…) takes one input")
        x = expressions.of(node.args[0])
        weight = ast.Name(self.use(ast.copy_location(ast.Name(layer.weight.name), node)))
        out = ast.BinOp(x, ast.MatMult(), ast.Attribute(weight, "T", ast.Load()))
        if layer.bias:
            out = ast.BinOp(out, ast.Add(), ast.Name(self.use(ast.copy_location(ast.Name(layer.offset.name), node))))
        return out

    # ── statements ──
    def statements(self, body: list[ast.stmt], loop: bool = False, no_grad: bool = False) -> None:
        for statement in body:
            self.line = statement.lineno
            self.statement(statement, loop, no_grad)

    def statement(self, node: ast.stmt, loop: bool, no_grad: bool) -> None:
        if is_ignored(node):
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
                if not self._grad_call(node.value, node):
                    self._prediction(node.value)
                    self.shown[node.lineno] = "print(…)"  # its text is not the model's (and may be any script)
            self.roles.setdefault(node.lineno, "ignored")
            return
        if self._reporting(node):
            self.roles.setdefault(node.lineno, "ignored")
            return
        handler = getattr(self, f"_{type(node).__name__}", None)
        if handler is None:
            raise refuse(node, f"{construct(node)} is not read by the script reader")
        handler(node, loop, no_grad)

    def _Import(self, node: ast.Import, loop, no_grad) -> None:
        for alias in node.names:
            _check_module(node, alias.name)
            if alias.asname:
                self.modules[alias.asname] = alias.name
            else:
                self.modules[alias.name.split(".")[0]] = alias.name.split(".")[0]
        self.roles[node.lineno] = "ignored"

    def _ImportFrom(self, node: ast.ImportFrom, loop, no_grad) -> None:
        _check_module(node, node.module or "")
        for alias in node.names:
            if alias.name == "*":
                raise refuse(node, "from … import * is not read: import the names you use")
            self.modules[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            self.imported[alias.asname or alias.name] = alias.name
        self.roles[node.lineno] = "ignored"

    def _FunctionDef(self, node: ast.FunctionDef, loop, no_grad) -> None:
        arguments = node.args
        if node.decorator_list or arguments.vararg or arguments.kwarg or arguments.kwonlyargs or arguments.defaults \
                or arguments.posonlyargs:
            raise refuse(node, f"def {node.name}: only plain parameters are read (no defaults, *args or decorators)")
        for statement in node.body:
            plain = isinstance(statement, ast.Return) or is_ignored(statement) or (
                isinstance(statement, ast.Assign) and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name))
            if not plain:
                raise refuse(statement, f"{construct(statement)} inside def {node.name} is not read "
                                        "(a function is assignments, print and return)")
        self.functions[node.name] = node
        self.roles[node.lineno] = f"def {node.name}: inlined"

    def _If(self, node: ast.If, loop, no_grad) -> None:
        test = node.test
        main = (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"
                and len(test.comparators) == 1 and isinstance(test.comparators[0], ast.Constant)
                and test.comparators[0].value == "__main__" and not node.orelse)
        if not main and self._bookkeeping(node.body + node.orelse):
            self.roles[node.lineno] = "ignored"  # if epoch % 10 == 0: print(…), a report, not the model
            self.shown.update({s.lineno: "print(…)" for s in ast.walk(node) if isinstance(s, ast.Expr)
                               and is_ignored(s) and isinstance(s.value, ast.Call)})
            return
        if not main:
            raise refuse(node, "an if statement is not read (a worksheet follows one path through the code)")
        self.roles[node.lineno] = "ignored"
        self.statements(node.body, loop, no_grad)

    def _bookkeeping(self, body: list[ast.stmt]) -> bool:
        """Statements that only report (print, a list of losses appended to, a plot): ignored."""
        return all(is_ignored(s) or self._reporting(s) or (isinstance(s, ast.If) and self._bookkeeping(s.body + s.orelse))
                   for s in body)

    def _reporting(self, node: ast.stmt) -> bool:
        """losses.append(l.item()), plt.plot(…), torch.manual_seed(0): read and ignored."""
        if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
            return False
        path = dotted(node.value.func)
        if path is None:
            return False
        if len(path) == 2 and path[0] in self.records and path[1] in ("append", "extend"):
            return True
        if self.modules.get(path[0], "").split(".")[0] in REPORTING:
            return True
        return path[-1] in ("manual_seed", "seed") and path[0] in self.modules

    def _With(self, node: ast.With, loop, no_grad) -> None:
        if len(node.items) != 1 or dotted(node.items[0].context_expr.func if isinstance(
                node.items[0].context_expr, ast.Call) else node.items[0].context_expr) not in (
                ["torch", "no_grad"], ["no_grad"]):
            raise refuse(node, "only with torch.no_grad(): is read")
        self.roles[node.lineno] = "ignored"
        self.statements(node.body, loop, True)

    def _For(self, node: ast.For, loop, no_grad) -> None:
        if node.orelse:
            raise refuse(node, "for … else is not read")
        call = node.iter
        name = dotted(call.func) if isinstance(call, ast.Call) else None
        if name == ["range"] and isinstance(node.target, ast.Name):
            if self.loop is not None:
                raise refuse(node, "one loop over the epochs is read (a range loop inside another is not)")
            self.loop = Loop(epochs=self._epochs(call))
            self.roles[node.lineno] = f"epochs: {self.loop.epochs}"
        elif name == ["zip"] and isinstance(node.target, ast.Tuple):
            self._samples(node, call)
        else:
            raise refuse(node, "a for loop is read as for epoch in range(N): or for x, y in zip(xs, ys):")
        self.statements(node.body, True, no_grad)

    def _epochs(self, call: ast.Call) -> int:
        value = number(call.args[0]) if len(call.args) == 1 and not call.keywords else None
        if value is None and len(call.args) == 1 and isinstance(call.args[0], ast.Name):
            leaf = self.leaves.get(call.args[0].id)
            value = ast.Constant(_fraction(leaf.value)) if leaf and _fraction(leaf.value) is not None else None
        if value is None or not isinstance(value.value, (int, Fraction)) or value.value != int(value.value):
            raise refuse(call, "range(N) is read with N a whole number written in the script")
        epochs = int(value.value)
        if not 1 <= epochs <= MAX_EPOCHS:
            raise refuse(call, f"range({epochs}): the epochs must be from 1 to {MAX_EPOCHS:,}")
        return epochs

    def _samples(self, node: ast.For, call: ast.Call) -> None:
        targets = node.target.elts
        if not all(isinstance(t, ast.Name) for t in targets) or len(targets) != len(call.args) or call.keywords:
            raise refuse(node, "for x, y in zip(xs, ys): names one loop variable for each list")
        if self.loop is None:
            self.loop = Loop()
        if self.loop.samples:
            raise refuse(node, "one loop over the samples is read")
        names = []
        for target, source in zip(targets, call.args):
            if not isinstance(source, ast.Name) or source.id not in self.leaves:
                raise refuse(source, "zip(…) is read over lists or tensors named in the script")
            data = self.leaves[source.id]
            self.leaves[target.id] = Leaf(target.id, data.value, node.lineno, False)
            names.append(target.id)
        self.loop.samples = tuple(names)
        self.roles[node.lineno] = "one update per sample"

    def _Assign(self, node: ast.Assign, loop, no_grad) -> None:
        if len(node.targets) != 1:
            raise refuse(node, "a = b = … is not read: one name per assignment")
        target = node.targets[0]
        if isinstance(target, ast.Name):
            self._assign_name(target.id, node.value, node)
        elif isinstance(target, ast.Attribute):
            self._assign_attribute(target, node.value, node, no_grad)
        else:
            raise refuse(target, "an assignment is read to one name (x = …) or to .data/.requires_grad")

    def _assign_name(self, name: str, value: ast.expr, node: ast.stmt) -> None:
        _check_name(name, node)
        if self._special(name, value, node) or self._grad_call(value, node):
            return
        if isinstance(value, (ast.List, ast.Tuple)) and not value.elts:  # losses = []: a record, for a plot
            self.records.add(name)
            self.roles[node.lineno] = "ignored"
            return
        constant = number(value)
        if constant is not None or _is_list(value):
            text = ast.unparse(value) if constant is None else repr(constant.value)
            self.leaves[name] = Leaf(name, text, node.lineno, False)
            self.assigned.pop(name, None)
            self.roles[node.lineno] = "ignored"
            return
        expression = ast.unparse(Expressions(self, self.modules).of(value))
        self.assigned[name] = _program_name(name)
        self.lines.append((node.lineno, f"{_program_name(name)} = {expression}"))

    def _special(self, name: str, value: ast.expr, node: ast.stmt) -> bool:
        """A leaf, a layer, a loss or an optimizer: read, and True; else False."""
        if not isinstance(value, ast.Call):
            return False
        kind = self._callee(value.func)
        if kind in LEAVES or kind in MAKERS or kind in RANGES:
            self.leaves[name] = self._leaf(name, value, node, kind)
            self.assigned.pop(name, None)
            self.roles[node.lineno] = "ignored"
        elif kind == "Linear":
            self.linears[name] = _layer(name, value)
            self.roles[node.lineno] = "a linear layer: x @ W.T + b"
        elif kind in LOSSES:
            reduction = _reduction(value, kind)
            self.losses[name] = LOSSES[kind] if reduction == "mean" else "sse"
            self.roles[node.lineno] = f"loss: {LOSSES[kind]}" + (", summed" if reduction == "sum" else "")
        elif kind == "SGD":
            self.optimizers[name] = self._optimizer(value)
            self.roles[node.lineno] = f"SGD, lr = {self.optimizers[name][1]}"
        elif kind in ("randn", "rand", "randint", "normal", "uniform", "manual_seed"):
            raise refuse(value, f"{kind}(…) draws random numbers, which cannot be reproduced here: write the "
                                "values in the script (torch.tensor([[0.5, -0.2]]))")
        else:
            return False
        return True

    def _callee(self, func: ast.expr) -> str | None:
        """The last name of what is called, when it comes from an import (torch.tensor, nn.Linear, Value)."""
        path = dotted(func)
        if path is None:
            return None
        if len(path) == 1:
            return self.imported.get(path[0])
        if path[0] in self.modules and not self.is_value(path[0]):
            return path[-1]
        return None

    def _leaf(self, name: str, call: ast.Call, node: ast.stmt, kind: str) -> Leaf:
        grad = kind == "Value"
        for keyword in call.keywords:
            if keyword.arg == "requires_grad":
                grad = _boolean(keyword.value)
            elif keyword.arg not in ("dtype", "device", "label"):  # micrograd's Value(2.0, label='x1')
                raise refuse(keyword.value, f"{kind}(…, {keyword.arg}=…) is not read")
        if kind in RANGES:
            return Leaf(name, f"{kind}({', '.join(_value_text(a, self.source) for a in call.args)})", node.lineno, grad)
        if kind in MAKERS:
            sizes = [number(a) for a in call.args]
            if not sizes or len(sizes) > 2 or any(s is None or not isinstance(s.value, int) for s in sizes):
                raise refuse(call, f"{kind}(n) or {kind}(m, n) is read with whole sizes written in the script")
            return Leaf(name, f"{kind}({', '.join(str(s.value) for s in sizes)})", node.lineno, grad)
        if len(call.args) != 1:
            raise refuse(call, f"{kind}(…) is read with one value: a number or a list")
        inner = call.args[0]
        if isinstance(inner, ast.Call) and self._callee(inner.func) in LEAVES:  # Parameter(Tensor(…))
            wrapped = self._leaf(name, inner, node, self._callee(inner.func))
            return Leaf(name, wrapped.value, node.lineno, grad or wrapped.grad or kind == "Parameter")
        return Leaf(name, _value_text(inner, self.source), node.lineno, grad or kind == "Parameter")

    def _optimizer(self, call: ast.Call) -> tuple[tuple[str, ...], str]:
        if not call.args:
            raise refuse(call, "optim.SGD(params, lr=…) needs its params")
        params = call.args[0]
        if isinstance(params, (ast.List, ast.Tuple)) and all(isinstance(p, ast.Name) for p in params.elts):
            names = tuple(p.id for p in params.elts)
        elif isinstance(params, ast.Call) and isinstance(params.func, ast.Attribute) and \
                params.func.attr == "parameters" and isinstance(params.func.value, ast.Name) and \
                params.func.value.id in self.linears:
            layer = self.linears[params.func.value.id]
            names = tuple(leaf.name for leaf in (layer.weight, layer.offset) if leaf is not None)
        else:
            raise refuse(params, "optim.SGD is read with [w, b] or model.parameters()")
        rate = None
        for keyword in call.keywords:
            if keyword.arg == "lr":
                rate = self._rate(keyword.value)
            elif keyword.arg in ("momentum", "weight_decay", "dampening", "nesterov"):
                if not (number(keyword.value) is not None and number(keyword.value).value == 0) and not (
                        isinstance(keyword.value, ast.Constant) and keyword.value.value is False):
                    raise refuse(keyword.value, f"SGD with {keyword.arg} is not read (plain SGD is)")
            else:
                raise refuse(keyword.value, f"optim.SGD(…, {keyword.arg}=…) is not read")
        if rate is None and len(call.args) == 2:
            rate = self._rate(call.args[1])
        if rate is None:
            raise refuse(call, "optim.SGD needs its learning rate, lr=…")
        return names, rate

    def _rate(self, node: ast.expr) -> str:
        """A learning rate written in the script: a number, or a name given a number."""
        value = number(node)
        if value is not None:
            return repr(value.value)
        if isinstance(node, ast.Name) and node.id in self.leaves and _fraction(self.leaves[node.id].value) is not None:
            return self.leaves[node.id].value
        raise refuse(node, "a learning rate is read as a number, or a name given a number")

    def _assign_attribute(self, target: ast.Attribute, value: ast.expr, node: ast.stmt, no_grad: bool) -> None:
        path = dotted(target)
        if path and len(path) == 2 and path[1] == "label":  # micrograd's n.label = 'n', for its graph
            self.roles[node.lineno] = "ignored"
            return
        if path and len(path) == 2 and path[1] == "requires_grad" and path[0] in self.leaves:
            self.leaves[path[0]].grad = _boolean(value)
            self.roles[node.lineno] = f"{path[0]}: differentiated"
            return
        if path and len(path) >= 2 and path[1] == "grad":  # w.grad = None, w.grad.data = …
            self.zero_grad = True
            self.roles[node.lineno] = "zero_grad"
            return
        if path and len(path) in (2, 3) and path[0] in self.linears and path[1] in ("weight", "bias"):
            self._set_layer(self.linears[path[0]], path[1], value, node)
            return
        if path and len(path) == 2 and path[1] == "data" and path[0] in self.leaves | self.assigned:
            self._update(path[0], value, node, None)
            return
        raise refuse(target, f"an assignment to {ast.unparse(target)} is not read")

    def _set_layer(self, layer: Linear, part: str, value: ast.expr, node: ast.stmt) -> None:
        call = value
        if not (isinstance(call, ast.Call) and self._callee(call.func) in LEAVES):
            raise refuse(value, f"{layer.name}.{part} is read when set to torch.tensor(…)")
        name = _free_name("W" if part == "weight" else "b", self, layer.name)
        leaf = self._leaf(name, call, node, self._callee(call.func))
        leaf.grad = True
        self.leaves[name] = leaf
        setattr(layer, "weight" if part == "weight" else "offset", leaf)
        self.roles[node.lineno] = f"{layer.name}.{part}: {name}"

    def _AugAssign(self, node: ast.AugAssign, loop, no_grad) -> None:
        target = node.target
        path = dotted(target)
        if isinstance(target, ast.Attribute) and path and len(path) == 2 and path[1] == "data":
            self._update(path[0], node.value, node, node.op)
        elif isinstance(target, ast.Name) and no_grad and _reads_grad(node.value):
            self._update(target.id, node.value, node, node.op)
        elif isinstance(target, ast.Name):
            if type(node.op) not in (ast.Add, ast.Sub, ast.Mult, ast.Div):
                raise refuse(node, "an in-place update is read as +=, -=, *= or /=")
            current = self.use(ast.copy_location(ast.Name(target.id), target))
            expression = ast.unparse(Expressions(self, self.modules).of(node.value))
            symbol = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}[type(node.op)]
            self.assigned[target.id] = current
            self.lines.append((node.lineno, f"{current} {symbol}= {expression}"))
        else:
            raise refuse(target, f"an in-place update of {ast.unparse(target)} is not read")

    def _update(self, name: str, value: ast.expr, node: ast.stmt, op) -> None:
        """w.data = w.data − lr·w.grad, w.data −= lr·w.grad, a.data += 0.01·a.grad: SGD at rate lr."""
        step = value
        if op is None:
            if not (isinstance(value, ast.BinOp) and isinstance(value.op, (ast.Sub, ast.Add))
                    and dotted(value.left) in ([name], [name, "data"])):
                raise refuse(value, f"an update of {name} is read as {name}.data = {name}.data - lr * {name}.grad")
            op, step = value.op, value.right
        sign = {ast.Sub: 1, ast.Add: -1}.get(type(op))
        rate = _rate_of(step, name)
        if sign is None or rate is None:
            raise refuse(value, f"an update of {name} is read as lr * {name}.grad subtracted from {name}")
        rate = rate if isinstance(rate, str) else self._rate(rate)
        negative = (sign < 0) != rate.startswith("-")
        self.updates[name] = ("-" if negative else "") + rate.lstrip("-")
        self.roles[node.lineno] = f"update: lr = {self.updates[name]}"

    def _Expr(self, node: ast.Expr, loop, no_grad) -> None:
        call = node.value
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)):
            raise refuse(node, f"{construct(call)} as a statement is not read")
        method, owner = call.func.attr, call.func.value
        path = dotted(owner)
        if method == "backward":
            self._backward(call, owner)
        elif method in ("zero_grad", "zero_") and (path and (path[0] in self.optimizers or path[0] in self.linears
                                                             or "grad" in path[1:])):
            self.zero_grad = True
            self.roles[node.lineno] = "zero_grad"
        elif method == "step" and path and path[0] in self.optimizers:
            params, rate = self.optimizers[path[0]]
            for param in params:
                self.updates[param] = rate
            self.roles[node.lineno] = f"update: SGD, lr = {rate}"
        elif method == "requires_grad_" and path and len(path) == 1 and path[0] in self.leaves:
            self.leaves[path[0]].grad = not call.args or _boolean(call.args[0])
            self.roles[node.lineno] = f"{path[0]}: differentiated"
        else:
            raise refuse(node, f"the call .{method}(…) as a statement is not read")

    def _backward(self, call: ast.Call, owner: ast.expr) -> None:
        if not isinstance(owner, ast.Name) or owner.id not in self.assigned:
            raise refuse(call, "backward() is read on a name the script computed (loss.backward())")
        if self.backward is not None and self.backward[0] != self.assigned[owner.id] and not self.loop:
            raise refuse(call, "a second backward() of another output is not read")
        gradient = None
        given = [k.value for k in call.keywords if k.arg == "gradient"] + list(call.args[:1])
        if any(k.arg not in ("gradient", "retain_graph") for k in call.keywords) or len(call.args) > 1:
            raise refuse(call, "backward() is read with gradient=… only")
        if given:
            gradient = self._gradient(given[0])
        self.backward = (self.assigned[owner.id], gradient)
        self.backward_calls += 0 if self.loop else 1
        self.roles[call.lineno] = "backward()" + (f" from {gradient}" if gradient else "")

    def _gradient(self, node: ast.expr) -> str:
        if isinstance(node, ast.Name) and node.id in self.leaves:
            return self.leaves[node.id].value
        if isinstance(node, ast.Call) and self._callee(node.func) in LEAVES and len(node.args) == 1:
            return _value_text(node.args[0], self.source)
        raise refuse(node, "backward(gradient=…) is read with a tensor written in the script")

    def _grad_call(self, value: ast.expr, node: ast.stmt) -> bool:
        """JAX's grad(f)(2.0) (or grad(f, argnums=(0, 1))(…)), anywhere in a print or an
        assignment: f's return value at those arguments is the output, differentiated with
        respect to the arguments argnums names (the first by default). True if it was one."""
        for inner in ast.walk(value):
            outer = inner.func if isinstance(inner, ast.Call) else None
            if not (isinstance(outer, ast.Call) and self._callee(outer.func) in ("grad", "value_and_grad")
                    and outer.args and isinstance(outer.args[0], ast.Name) and outer.args[0].id in self.functions):
                continue
            if self.backward is not None:
                raise refuse(inner, "a second grad(…) is not read: one output a worksheet")
            definition = self.functions[outer.args[0].id]
            params = [a.arg for a in definition.args.args]
            if len(inner.args) != len(params) or inner.keywords:
                raise refuse(inner, f"{definition.name} takes {len(params)} arguments, got {len(inner.args)}")
            chosen = _argnums(outer, len(params))
            for k, (param, argument) in enumerate(zip(params, inner.args)):
                self.leaves[param] = Leaf(param, _value_text(argument, self.source), node.lineno, k in chosen)
            call = ast.copy_location(ast.Call(ast.Name(definition.name), [ast.Name(p) for p in params], []), inner)
            expression = ast.unparse(Expressions(self, self.modules).of(call))
            output = _program_name(definition.name)
            self.assigned[definition.name] = output
            self.lines.append((node.lineno, f"{output} = {expression}"))
            self.backward = (output, None)
            self.roles[node.lineno] = "grad"
            return True
        return False

    def _prediction(self, call: ast.Call) -> None:
        """print(forward(4).item()): the model at an input, before or after training."""
        for inner in ast.walk(call):
            if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) and inner.func.id in self.functions:
                definition = self.functions[inner.func.id]
                values = [number(a) for a in inner.args]
                params = [a.arg for a in definition.args.args]
                if values and all(v is not None for v in values) and len(values) == len(params):
                    self.predict = ",".join(f"{_program_name(p)}={v.value}" for p, v in zip(params, values))
                return

    # ── the result ──
    def script(self) -> Script:
        if self.backward is None:
            raise WorksheetError("the script never calls backward() (or JAX's grad(f)(…)): nothing to differentiate "
                                 "(end it with loss.backward())", where=self.filename)
        target, seed = self.backward
        trains = bool(self.updates) or self.loop is not None or self.backward_calls > 1
        differentiated = tuple(n for n, leaf in self.leaves.items() if leaf.grad)
        if trains and not self.updates:  # backward() again and again, no update: the gradients add up
            self.updates = {name: "0" for name in differentiated}
        params = tuple(self.updates) if trains else differentiated
        rates = set(self.updates.values())
        if len(rates) > 1:
            raise WorksheetError(f"the params are updated at different rates ({', '.join(sorted(rates))}); "
                                 "one learning rate is read", where=self.filename)
        for leaf in self.leaves.values():
            leaf.grad = leaf.name in params
        program, origin = self._program()
        plan = None
        if trains:
            loop = self.loop or Loop(epochs=max(self.backward_calls, 1))
            plan = TrainPlan(rates.pop() if rates else "0", loop.epochs, bool(loop.samples), self.zero_grad)
        wrt = tuple(_program_name(p) for p in params if self.leaves.get(p) and self.leaves[p].emitted)
        return Script(program, origin, self.source, self.filename, target, seed, wrt, plan,
                      self.predict if plan else None)

    def _program(self) -> tuple[str, tuple[int, ...]]:
        """The program, each line beside the script's line it came from; the lines read and
        ignored as comments, so that the listing follows the script."""
        script = self.source.splitlines()
        by_line: dict[int, list[str]] = {}
        for line, item in self.lines:
            text = item if isinstance(item, str) else _declaration(item)
            by_line.setdefault(line, []).append(text)
        name = self.filename.rsplit("/", 1)[-1] if self.filename else "the script"
        width = min(max([len(t) for texts in by_line.values() for t in texts] + [24]), SCRIPT_COLUMN)
        code = _code_lines(self.source)
        out, origin = [f"{'# the program':<{width}}  # line  {name}"], [1]
        for number_, raw in enumerate(script, start=1):
            text = code.get(number_, raw).rstrip()
            if not text.strip():
                continue
            if number_ in self.shown:
                text = text[:len(text) - len(text.lstrip())] + self.shown[number_]
            role = self.roles.get(number_, "ignored")
            texts = by_line.get(number_) or ["" if role == "ignored" else f"# {role}"]
            for k, program_line in enumerate(texts):
                beside = f"{number_:>3}  {text}" if k == 0 else f"{'':>3}  …"
                out.append(f"{program_line:<{width}}  # {beside}".replace("\t", "    "))
                origin.append(number_)
        return "\n".join(out) + "\n", tuple(origin)


def read_script(text: str, filename: str | None = None) -> Script:
    """The ``Script`` a Python text means, or a WorksheetError naming the line it cannot read."""
    text = text.removeprefix("\ufeff")
    try:
        check_plain(text, "the script")
        tree = _parse(text)
        _check_names(tree)
        reader = _Reader(text, filename)
        reader.statements(tree.body)
        return reader.script()
    except WorksheetError as error:
        raise error.located(source=text, where=filename) from None


def _code_lines(source: str) -> dict[int, str]:
    """Each line's code without its comment (the listing shows code; a comment in any script
    may hold characters a printed page has no font for)."""
    import io
    import tokenize

    lines = dict(enumerate(source.splitlines(), start=1))
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                row, column = token.start
                lines[row] = lines[row][:column].rstrip()
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass
    return lines


def _parse(text: str) -> ast.Module:
    try:
        return ast.parse(text, filename="<script>", mode="exec")
    except SyntaxError as error:
        raise WorksheetError(f"not valid Python: {error.msg}", line=error.lineno, column=error.offset) from None
    except (RecursionError, MemoryError, ValueError) as error:
        raise WorksheetError(f"the script cannot be read: {type(error).__name__}") from None


def _check_names(tree: ast.Module) -> None:
    """No dunder names or attributes (except if __name__ == "__main__"), none of exec, eval,
    open and the like, anywhere in the script — refused before anything else is read."""
    for node in ast.walk(tree):
        name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None
        if isinstance(node, ast.alias):
            name = node.asname
        if name is None:
            continue
        if name.startswith("__") and name != "__name__" or name in FORBIDDEN:
            raise refuse(node, f"{name} is not read: the script is read as a model, never run")


def _check_module(node: ast.stmt, module: str) -> None:
    if module.split(".")[0] not in MODULES:
        raise refuse(node, f"import {module}: only {', '.join(MODULES)} are read (the script is never run)")


def _check_name(name: str, node: ast.stmt) -> None:
    if not name.isascii():
        raise refuse(node, f"the name {name!r} is not read: names are ASCII letters, digits and _")


def _program_name(name: str) -> str:
    """The script's name in the program: the same, unless the language reserves it (sum → sum_)."""
    return name + "_" if name in RESERVED and name not in CONSTANTS else name


def _free_name(wanted: str, reader: _Reader, owner: str) -> str:
    taken = set(reader.leaves) | set(reader.assigned)
    return wanted if wanted not in taken else f"{owner}_{wanted}"


def _declaration(leaf: Leaf) -> str:
    return f"{'param' if leaf.grad else 'data'} {_program_name(leaf.name)} = {leaf.value}"


def _is_list(node: ast.expr) -> bool:
    return isinstance(node, (ast.List, ast.Tuple)) and all(
        number(item) is not None or _is_list(item) for item in node.elts)


NUMERAL = re.compile(r"-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
"""A number as the formula language reads it (exactly, as written: 6.8813735870195432, not the double's repr)."""


def _value_text(node: ast.expr, source: str, top: bool = True) -> str:
    """A number or a (nested) list of numbers, written as the script writes it (when the
    language reads it so; else as Python's repr)."""
    if number(node) is not None:
        written = (ast.get_source_segment(source, node) or "").replace(" ", "")
        return written if NUMERAL.fullmatch(written) else repr(number(node).value)
    if _is_list(node):
        items = [_value_text(item, source, False) for item in node.elts]
        if top and len(items) == 1 and not isinstance(node.elts[0], (ast.List, ast.Tuple)):
            return items[0]  # torch.Tensor([1.0]): a tensor of one element is its number
        return "[" + ", ".join(items) + "]"
    raise refuse(node, "a tensor's value is read as numbers or lists of numbers written in the script")


def _fraction(text: str) -> Fraction | None:
    try:
        return Fraction(text)
    except (ValueError, ZeroDivisionError):
        return None


def _boolean(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, bool):
        return node.value
    raise refuse(node, "expected True or False")


def _argnums(call: ast.Call, count: int) -> set[int]:
    """grad(f, argnums=1) or argnums=(0, 1): which arguments are differentiated (the first by default)."""
    for keyword in call.keywords:
        if keyword.arg != "argnums":
            raise refuse(keyword.value, f"grad(…, {keyword.arg}=…) is not read (argnums is)")
        items = keyword.value.elts if isinstance(keyword.value, ast.Tuple) else [keyword.value]
        chosen = {number(i).value if number(i) is not None else None for i in items}
        if not all(isinstance(k, int) and 0 <= k < count for k in chosen):
            raise refuse(keyword.value, f"argnums must name arguments 0 to {count - 1}")
        return chosen
    if len(call.args) > 1:
        raise refuse(call, "grad(f, …) is read with argnums= as a keyword")
    return {0}


def _reduction(call: ast.Call, kind: str) -> str:
    """How a loss module reduces: 'mean' (the default), or 'sum' for nn.MSELoss(reduction='sum')
    (and the old size_average=False); anything else is refused."""
    reduction = "mean"
    for keyword in call.keywords:
        value = keyword.value.value if isinstance(keyword.value, ast.Constant) else None
        if keyword.arg == "reduction" and value in ("mean", "sum"):
            reduction = value
        elif keyword.arg == "size_average" and value in (True, False):
            reduction = "mean" if value else "sum"
        else:
            raise refuse(keyword.value, f"nn.{kind}(…, {keyword.arg}=…) is not read (reduction='mean' or 'sum' is)")
    if call.args:
        raise refuse(call, f"nn.{kind}(…) is read with keyword options only")
    if reduction == "sum" and kind != "MSELoss":
        raise refuse(call, f"nn.{kind}(reduction='sum') is not read (reduction='mean' is)")
    return reduction


def _sum_of_squares(node: ast.Call, args: list[ast.expr]) -> ast.expr:
    if len(args) != 2:
        raise refuse(node, "a loss takes the prediction and the target")
    error = ast.BinOp(args[0], ast.Sub(), args[1])
    return ast.Call(ast.Name("sum"), [ast.BinOp(error, ast.Pow(), ast.Constant(2))], [])


def _layer(name: str, call: ast.Call) -> Linear:
    sizes = [number(a) for a in call.args]
    if len(sizes) != 2 or any(s is None or not isinstance(s.value, int) for s in sizes):
        raise refuse(call, "nn.Linear(inputs, outputs) is read with whole sizes")
    bias = True
    for keyword in call.keywords:
        if keyword.arg != "bias":
            raise refuse(keyword.value, f"nn.Linear(…, {keyword.arg}=…) is not read")
        bias = _boolean(keyword.value)
    return Linear(name, bias)


def _reads_grad(node: ast.expr) -> bool:
    return any(isinstance(n, ast.Attribute) and n.attr == "grad" for n in ast.walk(node))


def _rate_of(step: ast.expr, name: str):
    """lr in lr * w.grad (or w.grad * lr, or w.grad.data): its number text, or the node naming it."""
    if not isinstance(step, ast.BinOp) or not isinstance(step.op, ast.Mult):
        return None
    for rate, grad in ((step.left, step.right), (step.right, step.left)):
        if dotted(grad) in ([name, "grad"], [name, "grad", "data"], [name, "data", "grad"]):
            value = number(rate)
            return repr(value.value) if value is not None else rate
    return None


def _indent(source: str, line: int) -> int:
    lines = source.splitlines()
    text = lines[line - 1] if 1 <= line <= len(lines) else ""
    return len(text) - len(text.lstrip())
