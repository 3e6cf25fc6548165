"""``Program`` → ``Graph``: one node per operation the user wrote, in their order.

``(w*x+b-y)**2`` becomes the inputs w, x, b, y and four operation nodes
v1 = w·x, v2 = v1 + b, v3 = v2 − y, L = v3². The structure is the parse tree's, not
SymPy's canonical form: subtraction and division are nodes of their own, nothing is
reordered or flattened. Operations on numbers alone are folded into one number
(``1/2*x`` has one node). Names the user gives (an assignment, ``--let``) are kept; the
other nodes are v1, v2, … in evaluation order and an unnamed output is L.

Every walk over a parse tree here is iterative: a formula of 10,000 terms is 10,000 deep.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sympy import Expr, Symbol

from ..errors import WorksheetError
from ..forms import evaluate
from ..limits import MAX_NODES
from ..ops import RULES
from .. import tensors
from ..arith import OutsideDomain, Refused, settle, short_expression, short_text
from .lets import Let, LetKeys
from .versions import versioned
from .nodes import Graph, Node, ancestor_nodes, number_unnamed, symbol
from .syntax import Apply, Ast, ListLit, Make, Num, Program, Statement, Var, _postorder
from .tokens import Pos

OUTPUT_NAMES = ("L", "f", "out", "result")
COMBINED_NAME = "L_total"  # the sum of several outputs (--target L,z)


def build(
    program: Program, *, target: str | Sequence[str] | None = None, lets: Sequence[Let] = (),
    aux: Sequence[str] = (),
) -> Graph:
    """The graph of ``program`` up to ``target`` (default: its last assignment).

    Several targets (a list of names) are several outputs: the graph gets one more node,
    their sum ``L_total = L + z`` (a tensor output summed over its elements when traced),
    which is the output the sweep starts from, so that each output is seeded with ones of its
    shape and their gradients add. ``aux`` names assignments that are computed and reported
    but not differentiated (MindSpore's ``has_aux``).
    """
    targets = [target] if isinstance(target, str) else list(target or ())
    return _Builder(program, lets).build(targets, list(aux))


class _Builder:
    def __init__(self, program: Program, lets: Sequence[Let]):
        self.program = program
        self.let_keys = LetKeys(lets)
        self.inputs: dict[str, Node] = {}
        self.operations: list[Node] = []
        self.env: dict[str, Expr] = {}  # name → symbol of its node
        self.named: dict[str, Pos] = {}  # names the program or a let defined, where
        self.defaults: dict[str, Expr] = {}
        self.used: dict[str, Pos] = {}  # free names, first use
        self.counter = 0
        self.let_done: dict[str, Expr] = {}
        self.versions: dict[str, int] = {}  # reassigned names: how many versions so far

    # ── statements ──
    def build(self, targets: list[str], aux: list[str]) -> Graph:
        output = None
        statements = self.program.statements
        for index, statement in enumerate(statements):
            if statement.kind in ("param", "data"):
                self._declare(statement)
            elif statement.kind == "assign":
                self._assign(statement)
                output = self.env[statement.name].name
            else:
                if index != len(statements) - 1:
                    raise self._error(
                        "a formula without a name must be the last line (it is the output); "
                        "name it: NAME = formula",
                        statement.pos,
                    )
                output = self._output(statement)
        self.let_keys.check_all_found(self.let_done)
        outputs = list(dict.fromkeys(self._target(t, output) for t in targets or [None]))
        for name in aux:
            if name in outputs:
                raise WorksheetError(
                    f"{name} is an output (--target); --aux names a value reported without "
                    "being differentiated", where="--aux",
                )
            self._assigned(name, "--aux")
        return self._finish(outputs, list(dict.fromkeys(aux)))

    def _declare(self, statement: Statement) -> None:
        name = statement.name
        self._check_new(name, statement.pos, "declared")
        self.inputs[name] = Node(name, "input", (), (), symbol(name), statement.pos, True, statement.kind)
        self.env[name] = symbol(name)
        self.named[name] = statement.pos
        if isinstance(statement.expr, (ListLit, Make)):
            self.defaults[name] = literal(statement.expr, self.program.source)
        elif statement.expr is not None:
            self.defaults[name] = self._constant(statement.expr, f"the value of {name}")

    def _assign(self, statement: Statement) -> None:
        user_name = statement.name
        if user_name in self.named:  # reassigned (c = c + 1, c += 1): a new version, c′
            name = self._version(user_name)
        else:
            self._check_new(user_name, statement.pos, "assigned")
            name = user_name
        if isinstance(statement.expr, (ListLit, Make)):
            self.inputs[name] = Node(name, "input", (), (), symbol(name), statement.pos, True, "data")
            self.defaults[name] = literal(statement.expr, self.program.source)
            self.env[user_name] = symbol(name)
            self.named[user_name] = statement.pos
            return
        result = self._expression(statement.expr)
        if not isinstance(result, Symbol):
            # a number: a named constant, which the worksheet shows as an input with a value
            self.inputs[name] = Node(name, "input", (), (), symbol(name), statement.pos, True, "data")
            self.defaults[name] = result
        else:
            self._name_result(result, name, statement.pos)
        self.env[user_name] = symbol(name)
        self.named[user_name] = statement.pos

    def _version(self, name: str) -> str:
        """The next version of a reassigned name: c, c′, c″, c‴, c⁽⁴⁾, … (the user's name kept,
        each version a node of its own)."""
        taken = {n.name for n in self.operations} | set(self.inputs) | set(self.used) | set(self.env)
        count = self.versions.get(name, 0)
        while True:
            count += 1
            version = name + versioned(count)
            if version not in taken:
                self.versions[name] = count
                return version

    def _output(self, statement: Statement) -> str:
        result = self._expression(statement.expr)
        if not isinstance(result, Symbol):
            raise self._error("the formula has no variables to differentiate", statement.pos)
        free = [n for n in OUTPUT_NAMES if n not in self.env and n not in self.used]
        name = free[0] if free else f"{OUTPUT_NAMES[-1]}_{self.counter + 1}"
        self._name_result(result, name, statement.pos)
        return name

    def _name_result(self, result: Symbol, name: str, pos: Pos) -> None:
        """Name the node computing ``result``; a copy node when it already has a name (L = w)."""
        if self._is_fresh(result):
            self._rename(result.name, name, pos)
        else:
            self._operation("id", [result], pos, name=name)

    def _target(self, target: str | None, output: str | None) -> str:
        if target is None:
            if output is None:
                raise WorksheetError("nothing to differentiate: the program has no assignment")
            return output
        return self._assigned(target, "--target")

    def _assigned(self, name: str, option: str) -> str:
        """The node an assigned name stands for (its last version, if it was reassigned)."""
        current = self.env.get(name)
        if current is None or current.name in self.inputs:
            assigned = [n.name for n in self.operations if n.named]
            raise WorksheetError(
                f"no assignment named {name!r}"
                + (f" (assigned: {', '.join(assigned)})" if assigned else ""),
                where=option,
            )
        return current.name

    # ── expressions ──
    def _expression(self, root: Ast) -> Expr:
        """The symbol of the node computing ``root`` (or its number, when it is constant)."""
        values: dict[int, Expr] = {}
        keys: dict[int, int] = {}
        for item in _postorder(root):
            own = self.let_keys.own_key(item, keys)
            let = self.let_keys.find(own)
            keys[id(item)] = self.let_keys.seen_as(own)
            if let is not None and let.name in self.let_done:
                values[id(item)] = self.let_done[let.name]
                continue
            value = self._evaluate(item, values)
            if let is not None:
                value = self._name_let(let, value, item.pos)
            values[id(item)] = value
        return values[id(root)]

    def _evaluate(self, item: Ast, results: Mapping[int, Expr]) -> Expr:
        if isinstance(item, Num):
            return item.exact()
        if isinstance(item, Var):
            return self._variable(item)
        if isinstance(item, (ListLit, Make)):
            shown = "a list" if isinstance(item, ListLit) else f"{item.name}(…)"
            raise self._error(
                f"{shown} is a value: give it a name on a line of its own (data x = [1, 2] or "
                "param W = randn(4, 3, seed=0)) and use the name",
                item.pos,
            )
        args = [results[id(a)] for a in item.args]
        if all(not isinstance(a, Symbol) for a in args):
            return self._fold(item, args)
        return self._operation(item.op, args, item.pos)

    def _variable(self, var: Var) -> Expr:
        if var.name in self.env:
            return self.env[var.name]
        self.used.setdefault(var.name, var.pos)
        self.inputs[var.name] = Node(var.name, "input", (), (), symbol(var.name), var.pos, False, "input")
        self.env[var.name] = symbol(var.name)
        return self.env[var.name]

    def _fold(self, item: Apply, args: list[Expr]) -> Expr:
        """An operation on numbers alone is a number: 1/2, 2**10, sqrt(2)."""
        rule = RULES[item.op]
        if rule.tensor:
            raise self._error(f"{rule.title} needs a tensor; here it has only numbers", item.pos)
        try:
            return settle_constant(evaluate(rule.form(*args)))
        except OutsideDomain:
            shown = ", ".join(short_text(a) for a in args)
            raise self._error(f"{rule.op}({shown}) is undefined ({rule.domain})", item.pos) from None
        except Refused as error:
            shown = ", ".join(short_text(a) for a in args)  # 3**(2**20) is ≈ 4.4e+500000, not its digits
            raise self._error(f"{rule.op}({shown}) would be {error}", item.pos) from None

    def _operation(self, op: str, args: list[Expr], pos: Pos | None, name: str | None = None) -> Symbol:
        if len(self.operations) >= MAX_NODES:
            raise self._error(f"the program needs more than {MAX_NODES:,} operations", pos)
        self.counter += 1
        provisional = name or f"\0{self.counter}"
        rule = RULES[op]
        inputs = tuple(a.name for a in args if isinstance(a, Symbol))
        node = Node(provisional, op, inputs, tuple(args), rule.form(*args), pos, name is not None)
        self.operations.append(node)
        return symbol(provisional)

    def _is_fresh(self, result: Symbol) -> bool:
        return result.name.startswith("\0")

    def _rename(self, old: str, new: str, pos: Pos | None) -> None:
        """Give the operation computing ``old`` the user's name ``new``."""
        for i in range(len(self.operations) - 1, -1, -1):
            node = self.operations[i]
            if node.name == old:
                self.operations[i] = Node(new, node.op, node.inputs, node.args, node.expr, node.pos, True)
                return

    def _name_let(self, let: Let, value: Expr, pos: Pos) -> Expr:
        if not (isinstance(value, Symbol) and self._is_fresh(value)):
            raise WorksheetError(
                "a --let names an operation on variables, not a number",
                where=f"--let {let.name}", source=let.source, line=1, column=1,
            )
        self._rename(value.name, let.name, pos)
        self.let_done[let.name] = symbol(let.name)
        self.env[let.name] = symbol(let.name)
        return symbol(let.name)

    def _constant(self, expr: Ast, what: str) -> Expr:
        value = self._expression(expr)
        if isinstance(value, Symbol):
            raise self._error(f"{what} must be a number", expr.pos)
        return value

    # ── checks and the result ──
    def _check_new(self, name: str, pos: Pos, verb: str) -> None:
        if name in self.named:
            line, _ = self.named[name]
            raise self._error(f"{name} is already defined (line {line}); an input is declared once", pos)
        if name in self.used:
            line, column = self.used[name]
            raise self._error(f"{name} is used at {line}:{column} before it is {verb}", pos)

    def _error(self, message: str, pos: Pos | None) -> WorksheetError:
        line, column = pos if pos else (None, None)
        return WorksheetError(message, line=line, column=column, source=self.program.source or None)

    def _finish(self, outputs: list[str], aux: list[str]) -> Graph:
        roots = outputs + aux
        operations = ancestor_nodes(self.operations, roots)
        needed = {name for node in operations for name in node.inputs} | set(roots)
        inputs = [n for name, n in self.inputs.items() if name in needed or n.kind != "input"]
        taken = set(self.inputs) | {n.name for n in operations}
        operations = number_unnamed(operations, taken)
        defaults = {k: v for k, v in self.defaults.items() if k in {n.name for n in inputs}}
        target, combined = outputs[0], ()
        if len(outputs) > 1:  # the sum of the outputs, the node the sweep starts from
            taken |= {n.name for n in operations} | set(self.env) | set(self.used)
            target = COMBINED_NAME
            counter = 1
            while target in taken:
                counter += 1
                target = f"{COMBINED_NAME}{counter}"
            args = tuple(symbol(name) for name in outputs)
            operations = [*operations, Node(target, "outputs", tuple(outputs), args,
                                            RULES["outputs"].form(*args), None, True)]
            combined = tuple(outputs)
        return Graph(
            tuple(inputs) + tuple(operations), target, defaults,
            self.program.source, len(self.program.statements), combined, tuple(aux), self.program.notes,
        )


def constant(expr: Ast) -> Expr:
    """The value of a formula of numbers alone: ``-1.5``, ``1/3``, ``pi/4`` (or a tensor:
    ``[1, 2]``, ``ones(3)``)."""
    if isinstance(expr, (ListLit, Make)):
        return literal(expr, "")
    for item in _postorder(expr):
        if isinstance(item, Var):
            raise WorksheetError(
                f"expected a number, found the variable {item.name}", line=item.pos[0], column=item.pos[1]
            )
    return _Builder(Program((), ""), ())._expression(expr)


def literal(expr: ListLit | Make, source: str):
    """The tensor a list or ``ones``/``zeros``/``randn``/``eye``/``arange`` stands for."""
    def error(message: str, pos: Pos) -> WorksheetError:
        return WorksheetError(message, line=pos[0], column=pos[1], source=source or None)

    if isinstance(expr, Make) and expr.name == "arange":
        bounds = [constant(a) for a in expr.args]
        for arg, value in zip(expr.args, bounds):
            if not value.is_Rational:
                raise error(f"arange takes exact numbers (integers, decimals, fractions), not "
                            f"{short_expression(value, None)}", arg.pos)
        try:
            return tensors.arange(*(tensors.number(b) for b in bounds))
        except tensors.ShapeError as problem:
            raise error(str(problem), expr.pos) from None
    if isinstance(expr, Make):
        sizes = tuple(_whole(a, "a size", source, minimum=1) for a in expr.args)
        shape = sizes * 2 if expr.name == "eye" and len(sizes) == 1 else sizes  # eye(n) is n×n
        try:
            tensors.check_size(shape, f"{expr.name}({', '.join(map(str, sizes))})")
        except tensors.ShapeError as problem:
            raise error(str(problem), expr.pos) from None
        if expr.name == "eye":
            return tensors.eye(shape)
        if expr.name == "randn":
            if expr.seed is None:
                raise error("randn needs a seed, so the worksheet is the same every time: randn(4, 3, seed=0)", expr.pos)
            return tensors.randn(sizes, _whole(expr.seed, "the seed", source, minimum=0))
        return tensors.full(sizes, 1 if expr.name == "ones" else 0)
    nested = _nested(expr, source)
    return tensors.from_nested(nested)


def _nested(expr: ListLit, source: str) -> list:
    """Nested lists of numbers, checked to be rectangular (a vector or a matrix)."""
    rows = []
    for item in expr.items:
        if isinstance(item, ListLit):
            rows.append(_nested(item, source))
        elif isinstance(item, Make):
            raise WorksheetError(f"{item.name}(…) cannot stand inside a list", line=item.pos[0],
                                 column=item.pos[1], source=source or None)
        else:
            rows.append(tensors.number(constant(item)))
    kinds = {isinstance(r, list) for r in rows}
    lengths = {len(r) for r in rows if isinstance(r, list)}
    if len(kinds) > 1 or len(lengths) > 1:
        raise WorksheetError(
            "the rows of a matrix must all be lists of the same length",
            line=expr.pos[0], column=expr.pos[1], source=source or None,
        )
    if any(isinstance(x, list) for r in rows if isinstance(r, list) for x in r):
        raise WorksheetError(
            "a value is a vector or a matrix (lists nested at most two deep)",
            line=expr.pos[0], column=expr.pos[1], source=source or None,
        )
    try:
        tensors.check_size((len(rows), *lengths), "the list")
    except tensors.ShapeError as problem:
        raise WorksheetError(str(problem), line=expr.pos[0], column=expr.pos[1], source=source or None) from None
    return rows


def _whole(expr: Ast, what: str, source: str, minimum: int) -> int:
    value = constant(expr)
    if not (value.is_Integer and value >= minimum):
        line, column = expr.pos
        raise WorksheetError(
            f"{what} must be a whole number ≥ {minimum}, not {short_expression(value, None)}",
            line=line, column=column, source=source or None,
        )
    return int(value)


def settle_constant(value: Expr) -> Expr:
    """A folded constant, kept exact (sqrt(2) stays √2) but refused outside the domain."""
    settle(value)
    return value
