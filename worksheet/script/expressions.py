"""A script's expressions → the formula language's, as syntax trees (``ast``), never run.

``Expressions.of(node)`` checks an expression against the subset and rewrites it into one
the formula language reads (``ast.unparse`` then writes it out): arithmetic and ``@`` as
written; a call of a function the script defines is inlined (its arguments put for its
parameters); ``loss_fn(p, y)`` of ``nn.MSELoss()`` is ``mse(p, y)``; ``model(x)`` of an
``nn.Linear`` is ``x @ W.T + b``; ``F.relu``, ``torch.exp``, ``np.exp``, ``math.exp`` are the
language's functions; ``.relu()``, ``.pow(2)``, ``.sum()`` its methods; ``.data`` and
``.item()`` are the value itself. Everything else is refused with its line and column.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from ..errors import WorksheetError
from ..lang.vocabulary import ALIASES, CALLED, FUNCTIONS, METHODS, QUALIFIED

OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.MatMult: "@"}
BUILTINS = {"max": "max", "min": "min", "abs": "abs"}
CONSTANTS = {"pi": "pi", "e": "e"}
NUMBER_MAKERS = ("tensor", "Tensor", "Value", "array", "asarray", "float64", "float32", "Parameter")
"""Calls that wrap a number: torch.tensor(2.0), Value(2.0), np.array(2.0)."""


def refuse(node: ast.AST, message: str) -> WorksheetError:
    return WorksheetError(message, line=getattr(node, "lineno", None),
                          column=getattr(node, "col_offset", -1) + 1 if hasattr(node, "col_offset") else None)


def dotted(node: ast.expr) -> list[str] | None:
    """torch.nn.functional.relu → ['torch', 'nn', 'functional', 'relu']; None if not a dotted name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return [node.id, *reversed(parts)]


def number(node: ast.expr) -> ast.Constant | None:
    """A number as written (2, -4.0), or None."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = number(node.operand)
        if inner is None:
            return None
        value = -inner.value if isinstance(node.op, ast.USub) else inner.value
        return ast.copy_location(ast.Constant(value), node)
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node
    return None


class Expressions:
    """The rewriting of one script's expressions; ``reader`` knows its names (values, functions,
    modules, losses) and ``modules`` its imports (alias → module path)."""

    def __init__(self, reader, modules: dict[str, str]):
        self.reader = reader
        self.modules = modules
        self.scopes: list[dict[str, ast.expr]] = []  # inlined functions' parameters and locals
        self.depth = 0

    def of(self, node: ast.expr) -> ast.expr:
        method: Callable = getattr(self, f"_{type(node).__name__}", None)
        if method is None:
            raise refuse(node, f"{construct(node)} is not read (the script's expressions are arithmetic, "
                               "calls of known functions and methods, and indexing)")
        return ast.copy_location(method(node), node)

    # ── leaves ──
    def _Constant(self, node: ast.Constant) -> ast.expr:
        if type(node.value) in (int, float):
            return node
        raise refuse(node, f"the constant {node.value!r} is not a number (only numbers are read)")

    def _Name(self, node: ast.Name) -> ast.expr:
        for scope in reversed(self.scopes):
            if node.id in scope:
                return scope[node.id]
        return ast.Name(self.reader.use(node))

    # ── operators ──
    def _BinOp(self, node: ast.BinOp) -> ast.expr:
        if type(node.op) not in OPERATORS:
            raise refuse(node, f"the operator {_operator(node.op)} is not read (+ - * / ** @ are)")
        return ast.BinOp(self.of(node.left), node.op, self.of(node.right))

    def _UnaryOp(self, node: ast.UnaryOp) -> ast.expr:
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise refuse(node, "only - and + are read as unary operators")
        return ast.UnaryOp(node.op, self.of(node.operand))

    def _Subscript(self, node: ast.Subscript) -> ast.expr:
        _constant_index(node.slice)
        return ast.Subscript(self.of(node.value), node.slice, ast.Load())

    def _Attribute(self, node: ast.Attribute) -> ast.expr:
        path = self._module_path(node)
        if path is not None:
            if path[-1] in CONSTANTS:
                return ast.Attribute(ast.Name("math"), path[-1], ast.Load())
            raise refuse(node, f"{'.'.join(path)} is not read (module constants: pi, e)")
        if node.attr == "data":
            return self.of(node.value)
        if node.attr == "T":
            return ast.Attribute(self.of(node.value), "T", ast.Load())
        if node.attr == "grad":
            raise refuse(node, "a gradient (.grad) is what the worksheet computes; it cannot be part of the model")
        raise refuse(node, f"the attribute .{node.attr} is not read (.T, .data are)")

    # ── calls ──
    def _Call(self, node: ast.Call) -> ast.expr:
        if node.keywords:
            keyword = node.keywords[0]
            raise refuse(keyword.value, f"the keyword argument {keyword.arg or '**'}= is not read here")
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise refuse(node, "*arguments are not read")
        func = node.func
        if isinstance(func, ast.Name):
            return self._named_call(node, func.id)
        if isinstance(func, ast.Attribute):
            path = self._module_path(func)
            if path is not None:
                return self._module_call(node, path)
            return self._method(node, func)
        raise refuse(node, "only calls of named functions and methods are read")

    def _named_call(self, node: ast.Call, name: str) -> ast.expr:
        if any(name in scope for scope in self.scopes):
            raise refuse(node, f"{name} is a value here, not a function")
        called = self.reader.called(name)
        if called is not None:
            return called(node, self)
        if name in BUILTINS:
            return ast.Call(ast.Name(BUILTINS[name]), [self.of(a) for a in node.args], [])
        if name in NUMBER_MAKERS:
            return self._wrapped_number(node, name)
        raise refuse(node, f"{name}(…) is not a function this reader knows (define it with def, or use "
                           "torch's, numpy's or math's functions)")

    def _module_call(self, node: ast.Call, path: list[str]) -> ast.expr:
        last = path[-1]
        if last in NUMBER_MAKERS:
            return self._wrapped_number(node, ".".join(path))
        if last in FUNCTIONS or last in ALIASES or last in CALLED or last in QUALIFIED:
            bare = ALIASES.get(last) or CALLED.get(last) or QUALIFIED.get(last, last)
            func = ast.Name(bare) if bare in FUNCTIONS else ast.Attribute(ast.Name("torch"), last, ast.Load())
            return ast.Call(func, [self.of(a) for a in node.args], [])  # jnp.sin(x) is sin(x); torch.matmul stays
        raise refuse(node, f"{'.'.join(path)}(…) is not an operation this reader knows")

    def _method(self, node: ast.Call, func: ast.Attribute) -> ast.expr:
        receiver = self.of(func.value)
        if func.attr in ("item", "clone", "float", "double") and not node.args:
            return receiver
        if func.attr not in METHODS:
            raise refuse(func, f"the method .{func.attr}() is not read (methods: {', '.join(sorted(METHODS))})")
        return ast.Call(ast.Attribute(receiver, func.attr, ast.Load()), [self.of(a) for a in node.args], [])

    def _wrapped_number(self, node: ast.Call, name: str) -> ast.expr:
        value = number(node.args[0]) if len(node.args) == 1 else None
        if value is None:
            raise refuse(node, f"{name}(…) inside a formula must wrap one number; give a tensor a name on a "
                               "line of its own (x = torch.tensor([1.0, 2.0]))")
        return value

    def _module_path(self, node: ast.expr) -> list[str] | None:
        """The module path of a dotted name whose root is an import (F.relu → torch.nn.functional.relu)."""
        path = dotted(node)
        if path is None or path[0] not in self.modules or any(path[0] in s for s in self.scopes):
            return None
        if self.reader.is_value(path[0]):
            return None
        return [*self.modules[path[0]].split("."), *path[1:]]

    def inline(self, node: ast.Call, definition: ast.FunctionDef) -> ast.expr:
        """A call of a function the script defines: its return expression, the arguments put
        for the parameters (its own assignments too), as the call's value."""
        params = [a.arg for a in definition.args.args]
        if len(node.args) != len(params):
            raise refuse(node, f"{definition.name} takes {len(params)} arguments, got {len(node.args)}")
        self.depth += 1
        if self.depth > 20:
            raise refuse(node, f"{definition.name} calls itself (or functions nest more than 20 deep)")
        scope = {p: self.of(a) for p, a in zip(params, node.args)}
        self.scopes.append(scope)
        try:
            for statement in definition.body:
                result = self._body_statement(statement, scope)
                if result is not None:
                    return result
        finally:
            self.scopes.pop()
            self.depth -= 1
        raise refuse(definition, f"{definition.name} returns nothing (it needs a return)")

    def _body_statement(self, statement: ast.stmt, scope: dict) -> ast.expr | None:
        if isinstance(statement, ast.Return):
            if statement.value is None:
                raise refuse(statement, "return without a value")
            return self.of(statement.value)
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
            name, value = statement.targets[0].id, self.of(statement.value)
            scope[name] = self.reader.local(name, value, statement)  # y_pred = forward(x): a named node
            return None
        if is_ignored(statement):
            return None
        raise refuse(statement, f"{construct(statement)} inside a function is not read "
                                "(a function is assignments, print and return)")


def is_ignored(statement: ast.stmt) -> bool:
    """print(…), a docstring, pass, a value shown as a notebook cell shows it (x.grad,
    x.grad == 4 * x): read and ignored."""
    if isinstance(statement, ast.Pass):
        return True
    if isinstance(statement, ast.Expr):
        value = statement.value
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            return True
        if isinstance(value, (ast.Name, ast.Attribute, ast.Compare, ast.Subscript, ast.Tuple)):
            return True
        return isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "print"
    return False


def _constant_index(node: ast.expr) -> None:
    items = node.elts if isinstance(node, ast.Tuple) else [node]
    for item in items:
        parts = [item.lower, item.upper, item.step] if isinstance(item, ast.Slice) else [item]
        for part in parts:
            if part is not None and not (number(part) is not None and isinstance(number(part).value, int)):
                raise refuse(part, "an index must be a whole number written in the script (x[0], x[1:3])")


def _operator(op: ast.operator) -> str:
    return {ast.FloorDiv: "//", ast.Mod: "%", ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^",
            ast.LShift: "<<", ast.RShift: ">>"}.get(type(op), type(op).__name__)


def construct(node: ast.AST) -> str:
    """What a construct is called, for a message: 'a lambda', 'a comparison', 'an if statement'."""
    names = {
        "Lambda": "a lambda", "Compare": "a comparison", "BoolOp": "and/or", "IfExp": "a conditional expression",
        "ListComp": "a list comprehension", "GeneratorExp": "a generator", "DictComp": "a dict comprehension",
        "SetComp": "a set comprehension", "Dict": "a dict", "Set": "a set", "List": "a list", "Tuple": "a tuple",
        "JoinedStr": "an f-string", "Await": "await", "Yield": "yield", "YieldFrom": "yield", "Starred": "*",
        "NamedExpr": "an assignment expression (:=)", "If": "an if statement", "While": "a while loop",
        "Try": "a try statement", "ClassDef": "a class", "Global": "global", "Nonlocal": "nonlocal",
        "Delete": "del", "Raise": "raise", "Assert": "assert", "With": "a with statement", "For": "a for loop",
        "AsyncFunctionDef": "an async function", "Match": "a match statement", "Import": "an import",
        "FunctionDef": "a function definition", "AugAssign": "an in-place update",
    }
    return names.get(type(node).__name__, type(node).__name__)
