"""Text → ``Program``: an allow-listed grammar, parsed by hand, with exact positions.

The formula language (documented in the README):

    program    := line*                       one statement per line, or several split by ';'
    statement  := ('param' | 'data') NAME ['=' expr]  |  NAME '=' expr  |  expr
    expr       := term (('+' | '-') term)*
    term       := unary (('*' | '/' | '@') unary | implicit)*      '@' is the matrix product
    implicit   := unary   after a number or ')' and before a name or '('   (2x, 2(x+1), (a)(b))
    unary      := ('-' | '+') unary | power
    power      := postfix (('**' | '^') unary)?          right-associative: 2^3^2 = 2^9
    postfix    := atom ('.T')*                           the transpose
    atom       := NUMBER | NAME | FUNCTION '(' expr (',' expr)* ')' | '(' expr ')'
                | '[' item (',' item)* ']'               a vector; a list of lists is a matrix
                | MAKER '(' expr [',' expr] [',' 'seed' '=' expr] ')'    ones, zeros, randn

The tree it makes is ``syntax``'s; numbers are read exactly (``0.01`` is 1/100) by ``numerals``.
Nothing here calls ``eval``, ``sympify`` or ``parse_expr``: every construct outside this
grammar is refused with its line and column.
"""

from __future__ import annotations

from fractions import Fraction

from ..errors import WorksheetError
from ..limits import MAX_FORMULA_CHARS, MAX_NESTING, MAX_PROGRAM_CHARS
from .numerals import exact_number
from .syntax import Apply, Ast, ListLit, Make, Num, Program, Statement, Var
from .tokens import Token, check_plain, describe, tokenize
from .vocabulary import ALIASES, CALLED, FUNCTIONS, IDENTITY_METHODS, METHODS, MODULES, QUALIFIED

CONSTANTS = ("pi", "e")
CONSTANT_MEANING = {"pi": "π = 3.14159…", "e": "e = 2.71828…"}
UPDATES = {"+=": "add", "-=": "sub", "*=": "mul", "/=": "div"}  # c += 1 is c = c + 1
KEYWORDS = ("param", "data")
MAKERS = ("ones", "zeros", "randn", "eye", "arange")
"""Tensor values: ones(n), zeros(m, n), randn(m, n, seed=S), eye(n), arange(n), arange(a, b, step)."""
RESERVED = set(FUNCTIONS) | set(ALIASES) | set(CONSTANTS) | set(KEYWORDS) | set(MAKERS)


class Parser:
    """A recursive-descent parser over one statement's tokens, depth-limited."""

    def __init__(self, tokens: list[Token], shadowed: frozenset[str] = frozenset()):
        self.tokens = tokens
        self.shadowed = shadowed  # constants the program has assigned: from there on, names
        self.i = 0
        self.depth = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def at(self, *texts: str) -> bool:
        return self.token.kind == "op" and self.token.text in texts

    def expect(self, text: str, opened: Token | None = None) -> Token:
        if self.at(text):
            return self.advance()
        if opened is not None and self.token.kind == "end":
            raise WorksheetError(
                f"'(' at {opened.pos[0]}:{opened.pos[1]} is never closed",
                line=self.token.pos[0], column=self.token.pos[1],
            )
        raise WorksheetError(
            f"expected {text!r} but found {describe(self.token)}",
            line=self.token.pos[0], column=self.token.pos[1],
        )

    def nest(self, token: Token) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise WorksheetError(
                f"nesting is deeper than {MAX_NESTING} levels",
                line=token.pos[0], column=token.pos[1],
            )

    def unnest(self) -> None:
        self.depth -= 1

    def finish(self) -> None:
        token = self.token
        if token.kind == "end":
            return
        if token.text in (")", "]"):
            message = f"unmatched {token.text!r}"
        elif token.text == "=":
            message = "unexpected '=' (an assignment is NAME = formula, one per line)"
        else:
            message = f"expected an operator but found {describe(token)}"
        raise WorksheetError(message, line=token.pos[0], column=token.pos[1])

    # expr := term (('+' | '-') term)*
    def expr(self) -> Ast:
        left = self.term()
        while self.at("+", "-"):
            op = self.advance()
            right = self.term()
            left = Apply("add" if op.text == "+" else "sub", (left, right), op.pos)
        return left

    # term := unary (('*' | '/' | '@') unary | implicit)*
    def term(self) -> Ast:
        left = self.unary()
        while True:
            if self.at("*", "/", "@"):
                op = self.advance()
                right = self.unary()
                left = Apply(BINARY[op.text], (left, right), op.pos)
            elif self.implicit_product():
                start = self.token
                right = self.unary()
                left = Apply("mul", (left, right), start.pos)
            else:
                return left

    def implicit_product(self) -> bool:
        """2x, 2(x+1), (a+b)(a-b), 2(w*x+b-y)x: after a number or ')', before a name or '(';
        and beside a typeset letter, as it is printed: 2λw, λw², wλ."""
        previous, token = self.tokens[self.i - 1], self.token
        after_value = previous.kind == "num" or previous.text == ")" or (previous.kind == "name" and (
            previous.letter or token.letter))
        before_value = token.kind == "name" or token.text == "("
        if after_value and token.kind == "num":
            raise WorksheetError(
                f"missing operator between {previous.text} and {token.text}",
                line=token.pos[0], column=token.pos[1],
            )
        return after_value and before_value

    # unary := ('-' | '+') unary | power
    def unary(self) -> Ast:
        if self.at("-", "+"):
            op = self.advance()
            self.nest(op)
            operand = self.unary()
            self.unnest()
            if op.text == "+":
                return operand
            if isinstance(operand, Num) and isinstance(operand.value, Fraction):
                return Num(-operand.value, op.pos, "-" + operand.text)
            return Apply("neg", (operand,), op.pos)
        return self.power()

    # power := postfix (('**' | '^') unary)?
    def power(self) -> Ast:
        base = self.postfix()
        if self.at("**", "^"):
            op = self.advance()
            self.nest(op)
            exponent = self.unary()
            self.unnest()
            return Apply("pow", (base, exponent), op.pos)
        return base

    # postfix := atom ('.T' | '.' METHOD '(' [expr (',' expr)*] ')' | '[' index ']')*
    def postfix(self) -> Ast:
        operand = self.atom()
        while True:
            if self.at(".T"):
                op = self.advance()
                operand = Apply("transpose", (operand,), op.pos)
            elif self.at("."):
                operand = self.method(operand, self.advance())
            elif self.at("["):
                operand = self.subscript(operand, self.advance())
            else:
                return operand

    def method(self, operand: Ast, dot: Token) -> Ast:
        """x.relu(), x.sum(), x.pow(2), x.t(), a.dot(b), x.item(): the operation of that name
        with the value before the dot as its first argument (tutorial code's methods)."""
        token = self.advance()
        if token.kind != "name" or token.text not in METHODS or not self.at("("):
            shown = token.text if token.kind == "name" else describe(token)
            raise WorksheetError(
                f".{shown} is not a method of the formula language (no other attribute access; "
                f"methods: {', '.join(sorted(METHODS))})",
                line=dot.pos[0], column=dot.pos[1],
            )
        opened = self.advance()
        self.nest(opened)
        args = [] if self.at(")") else self.arguments()
        self.expect(")", opened=opened)
        self.unnest()
        if token.text in IDENTITY_METHODS and not args:
            return operand
        return self.operation(token, token.text, [operand, *args], method=True)

    def subscript(self, operand: Ast, opened: Token) -> Ast:
        """x[0], x[-1], W[0, 1], W[:, 0], x[1:3], x[::2]: constant integers, and slices of
        constant bounds with a positive step, as NumPy and PyTorch read them; its
        vector-Jacobian product is a scatter (``ops.indexing``). A node's shape depends on its
        index, so the index travels in the op's name, as written: ``index[:, 0]``."""
        self.nest(opened)
        axes = [self.index_axis()]
        while self.at(","):
            self.advance()
            axes.append(self.index_axis())
        if self.token.kind == "end":
            raise WorksheetError(f"'[' at {opened.pos[0]}:{opened.pos[1]} is never closed",
                                 line=self.token.pos[0], column=self.token.pos[1])
        if not self.at("]"):
            raise self.index_error(self.token)
        self.advance()
        self.unnest()
        return Apply(f"index[{', '.join(axes)}]", (operand,), opened.pos)

    def index_axis(self) -> str:
        """One axis of an index: an integer i, or a slice start:stop[:step], each part optional."""
        first = self.token
        parts = [self.index_bound()]
        while self.at(":") and len(parts) < 3:
            self.advance()
            parts.append(self.index_bound())
        if parts == [None]:
            raise self.index_error(first)
        if len(parts) == 3 and parts[2] is not None and int(parts[2]) <= 0:
            raise WorksheetError(f"a slice's step must be positive (as in PyTorch), not {parts[2]}",
                                 line=first.pos[0], column=first.pos[1])
        return ":".join(p or "" for p in parts)

    def index_bound(self) -> str | None:
        """An integer constant (possibly negative), or None where a slice leaves it out."""
        if self.at(":", ",", "]"):
            return None
        start = self.token
        sign = self.advance().text if self.at("-") else ""
        token = self.token
        if token.kind == "num" and not token.text.isdigit():
            raise WorksheetError(f"an index must be a whole number, not {token.text}",
                                 line=token.pos[0], column=token.pos[1])
        if token.kind == "num" and len(token.text.lstrip("0")) > self.MAX_INDEX_DIGITS:
            raise WorksheetError(f"an index has at most {self.MAX_INDEX_DIGITS} digits",
                                 line=token.pos[0], column=token.pos[1])
        if token.kind != "num":
            raise self.index_error(start)
        self.advance()
        return str(int(sign + token.text))

    MAX_INDEX_DIGITS = 15  # far past any axis (tensors.MAX_TENSOR_ELEMENTS); ops.indexing reads as many

    @staticmethod
    def index_error(token: Token) -> WorksheetError:
        shown = f"the variable {token.text}" if token.kind == "name" else describe(token)
        return WorksheetError(
            f"an index is a constant integer or a slice of constant integers (x[0], x[-1], W[0, 1], "
            f"x[1:3], W[:, 0]), not {shown}",
            line=token.pos[0], column=token.pos[1],
        )

    # atom := NUMBER | NAME | FUNCTION '(' args ')' | '(' expr ')' | '[' items ']' | MAKER '(' … ')'
    def atom(self) -> Ast:
        token = self.advance()
        if token.kind == "num":
            return Num(exact_number(token), token.pos, token.text)
        if token.kind == "name":
            if token.text in MODULES and self.at("."):
                token = self.qualified(token)
            if self.at("(") and token.text in MAKERS:
                return self.make(token)
            if self.at("("):
                return self.call(token)
            return self.name(token)
        if token.text == "[":
            return self.list_literal(token)
        if token.text == "(":
            self.nest(token)
            inner = self.expr()
            self.expect(")", opened=token)
            self.unnest()
            return inner
        if token.text in (")", "]"):
            message = f"expected a number, a name or '(' but found {token.text!r}"
        else:
            message = f"expected a number, a name or '(' but found {describe(token)}"
        raise WorksheetError(message, line=token.pos[0], column=token.pos[1])

    def list_literal(self, opened: Token) -> ListLit | Apply:
        """[a, b, …]: numbers, or lists of the same length (checked when the value is made);
        [a > b] is the Iverson bracket, step(a − b), as relu′ is printed ([w·x > 0]·x)."""
        self.nest(opened)
        items = [self.expr()]
        if self.at(">", "<") and len(items) == 1:
            return self.iverson(opened, items[0])
        while self.at(","):
            self.advance()
            items.append(self.expr())
        if self.token.kind == "end":
            raise WorksheetError(
                f"'[' at {opened.pos[0]}:{opened.pos[1]} is never closed",
                line=self.token.pos[0], column=self.token.pos[1],
            )
        self.expect("]")
        self.unnest()
        return ListLit(tuple(items), opened.pos)

    def iverson(self, opened: Token, left: Ast) -> Apply:
        """[a > b] = step(a − b) and [a < b] = step(b − a): 1 where it holds, else 0."""
        relation = self.advance()
        right = self.expr()
        self.expect("]", opened=opened)
        self.unnest()
        if relation.text == "<":
            left, right = right, left
        if isinstance(right, Num) and right.value == 0:
            return Apply("step", (left,), opened.pos)
        return Apply("step", (Apply("sub", (left, right), relation.pos),), opened.pos)

    def make(self, token: Token) -> Make:
        """ones(n), zeros(m, n), randn(m, n, seed=S), eye(n), eye(m, n): one or two sizes, and
        randn's seed; arange(n), arange(a, b), arange(a, b, step): one to three numbers."""
        opened = self.advance()
        self.nest(opened)
        args, seed = [], None
        while True:
            if self.token.kind == "name" and self.token.text == "seed" and self.tokens[self.i + 1].text == "=":
                if token.text != "randn":
                    raise WorksheetError(
                        f"{token.text} takes no seed (only randn does)",
                        line=self.token.pos[0], column=self.token.pos[1],
                    )
                self.advance(), self.advance()
                seed = self.expr()
            else:
                args.append(self.expr())
            if not self.at(","):
                break
            self.advance()
        self.expect(")", opened=opened)
        self.unnest()
        if token.text == "arange" and not 1 <= len(args) <= 3:
            raise WorksheetError(
                f"arange takes one to three numbers (arange(n), arange(a, b) or arange(a, b, step)), got {len(args)}",
                line=token.pos[0], column=token.pos[1],
            )
        if token.text != "arange" and not 1 <= len(args) <= 2:
            raise WorksheetError(
                f"{token.text} takes one or two sizes ({token.text}(n) or {token.text}(m, n)), got {len(args)}",
                line=token.pos[0], column=token.pos[1],
            )
        return Make(token.text, tuple(args), seed, token.pos)

    def name(self, token: Token) -> Ast:
        if token.text in CONSTANTS and token.text not in self.shadowed:
            return Num(token.text, token.pos, token.text)
        function = ALIASES.get(token.text, token.text)
        if function in FUNCTIONS:
            raise WorksheetError(
                f"{token.text} is a function: call it as {token.text}(…)",
                line=token.pos[0], column=token.pos[1],
            )
        if token.text in KEYWORDS:
            raise WorksheetError(
                f"{token.text!r} starts a declaration ({token.text} NAME = value) at the start of a line",
                line=token.pos[0], column=token.pos[1],
            )
        return Var(token.text, token.pos)

    def qualified(self, module: Token) -> Token:
        """math.exp, torch.exp, np.exp, F.relu, torch.nn.functional.relu: the last name, which
        must be a function, a constant or a maker of the language, at the prefix's place."""
        parts = [module.text]
        while self.at("."):
            self.advance()
            token = self.advance()
            if token.kind != "name":
                raise WorksheetError(f"expected a name after '{'.'.join(parts)}.' but found {describe(token)}",
                                     line=token.pos[0], column=token.pos[1])
            parts.append(token.text)
            if token.text not in MODULES or not self.at("."):
                break
        last = parts[-1]
        known = (last in FUNCTIONS or last in ALIASES or last in CALLED or last in QUALIFIED
                 or last in MAKERS or last in CONSTANTS)
        if not known or (last not in CONSTANTS and not self.at("(")):
            raise WorksheetError(
                f"{'.'.join(parts)} is not an operation of the formula language",
                line=module.pos[0], column=module.pos[1],
            )
        return Token("name", last, module.pos)

    def arguments(self) -> list[Ast]:
        args = [self.expr()]
        while self.at(","):
            self.advance()
            args.append(self.expr())
        return args

    def call(self, token: Token) -> Ast:
        function = ALIASES.get(token.text) or CALLED.get(token.text) or QUALIFIED.get(token.text, token.text)
        if function not in FUNCTIONS and function not in SPECIAL:
            known = ", ".join(sorted(set(FUNCTIONS) | set(ALIASES)))
            hint = f"write {token.text}*(…) to multiply; " if token.text not in KEYWORDS else ""
            raise WorksheetError(
                f"unknown function {token.text!r} ({hint}functions: {known})",
                line=token.pos[0], column=token.pos[1],
            )
        opened = self.advance()
        self.nest(opened)
        args = self.arguments()
        self.expect(")", opened=opened)
        self.unnest()
        return self.operation(token, token.text, args)

    def operation(self, token: Token, written: str, args: list[Ast], method: bool = False) -> Apply:
        """The operation ``written`` (a function, an alias, a method's name) on ``args``, its
        number of arguments checked; x.square() is x², dot(a, b) the product a @ b."""
        function = ALIASES.get(written) or CALLED.get(written) or QUALIFIED.get(written, written)
        if function == "square" and len(args) == 1:
            function, args = "pow", [*args, Num(Fraction(2), token.pos, "2")]
        op, arity = SPECIAL.get(function) or (function, FUNCTIONS[function])
        if len(args) != arity:
            given, wanted = len(args) - method, arity - method
            plural = "argument" if wanted == 1 else "arguments"
            raise WorksheetError(
                f"{'.' if method else ''}{written} takes {wanted} {plural}, got {given}",
                line=token.pos[0], column=token.pos[1],
            )
        return Apply(op, tuple(args), token.pos)


SPECIAL = {"pow": ("pow", 2), "matmul": ("matmul", 2), "dot": ("matmul", 2), "transpose": ("transpose", 1),
           "neg": ("neg", 1), "square": ("pow", 2)}
"""Operations that are written as operators in the language (x ** 2, A @ B, A.T, −x) and as
functions or methods in tutorial code."""


BINARY = {"*": "mul", "/": "div", "@": "matmul"}


def parse_expression(text: str, *, line: int = 1, column: int = 1) -> Ast:
    """One formula, e.g. ``"(w*x+b-y)**2"``."""
    _check_length(text, MAX_FORMULA_CHARS, "formula", line, column)
    check_plain(text, "the formula", line, column)
    parser = Parser(tokenize(text, line, column))
    if parser.token.kind == "end":
        raise WorksheetError("the formula is empty", line=line, column=column)
    expr = parser.expr()
    parser.finish()
    return expr


def parse_program(text: str, *, max_chars: int = MAX_PROGRAM_CHARS) -> Program:
    """A program: statements one per line (or split by ';'), ``#`` comments."""
    _check_length(text, max_chars, "program" if "\n" in text.strip() else "formula", 1, 1)
    text = text.removeprefix("\ufeff")  # a byte-order mark, as Windows editors write
    check_plain(text, "the program" if "\n" in text.strip() else "the formula")
    statements, shadowed, notes = [], frozenset(), []
    for number, raw in enumerate(text.splitlines(), start=1):
        content = raw.split("#", 1)[0]
        column = 1
        for piece in content.split(";"):
            if piece.strip():
                statement = _statement(piece, number, column, shadowed)
                statements.append(statement)
                if statement.name in CONSTANTS and statement.name not in shadowed:
                    shadowed |= {statement.name}
                    written = piece.strip() if len(piece.strip()) <= 40 else piece.strip()[:39] + "…"
                    notes.append(f"{written} assigns the name {statement.name}: from there on {statement.name} "
                                 f"is that value, not the constant {CONSTANT_MEANING[statement.name]}.")
            column += len(piece) + 1
    if not statements:
        raise WorksheetError("the formula is empty", line=1, column=1)
    return Program(tuple(statements), text, tuple(notes))


def parse_source(text: str, filename: str | None = None, max_chars: int | None = None) -> Program:
    """A formula, or a program file's text (``filename``), as ``derive`` reads it: a file's
    size limit or a formula's (or ``max_chars``), and every error told where it was found."""
    limit = max_chars or (MAX_PROGRAM_CHARS if filename else MAX_FORMULA_CHARS)
    try:
        return parse_program(text, max_chars=limit)
    except WorksheetError as error:
        raise error.located(source=text, where=filename) from None


def _statement(text: str, line: int, column: int, shadowed: frozenset[str] = frozenset()) -> Statement:
    _check_length(text, MAX_FORMULA_CHARS, "statement", line, column)
    parser = Parser(tokenize(text, line, column), shadowed)
    first, second = parser.tokens[0], parser.tokens[1]
    if first.kind == "name" and first.text in KEYWORDS and second.kind == "name":
        return _declaration(parser, first.text)
    if first.kind == "name" and second.text == "=":
        _check_assignable(first)
        parser.advance(), parser.advance()
        expr = parser.expr()
        parser.finish()
        return Statement("assign", first.text, expr, first.pos)
    if first.kind == "name" and second.text in UPDATES:
        _check_assignable(first)
        parser.advance(), parser.advance()
        expr = parser.expr()
        parser.finish()  # c += e is c = c + (e): a new version of c (graph's single assignment)
        return Statement("assign", first.text, Apply(UPDATES[second.text], (Var(first.text, first.pos), expr), second.pos),
                         first.pos)
    expr = parser.expr()
    parser.finish()
    return Statement("expr", None, expr, first.pos)


def _declaration(parser: Parser, kind: str) -> Statement:
    keyword = parser.advance()
    name = parser.advance()
    _check_assignable(name)
    expr = None
    if parser.at("="):
        parser.advance()
        expr = parser.expr()
    parser.finish()
    return Statement(kind, name.text, expr, keyword.pos)


def _check_assignable(token: Token) -> None:
    if token.text in RESERVED and token.text not in CONSTANTS:
        raise WorksheetError(
            f"{token.text!r} is a reserved name (a function, a constant or a keyword)",
            line=token.pos[0], column=token.pos[1],
        )


def _check_length(text: str, limit: int, what: str, line: int, column: int) -> None:
    if len(text) > limit:
        raise WorksheetError(
            f"the {what} is {len(text):,} characters long (the limit is {limit:,})",
            line=line, column=column,
        )
