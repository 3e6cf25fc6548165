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
from .vocabulary import ALIASES, CALLED, FUNCTIONS

CONSTANTS = ("pi", "e")
KEYWORDS = ("param", "data")
MAKERS = ("ones", "zeros", "randn")  # tensor values: ones(n), zeros(m, n), randn(m, n, seed=S)
RESERVED = set(FUNCTIONS) | set(ALIASES) | set(CONSTANTS) | set(KEYWORDS) | set(MAKERS)


class Parser:
    """A recursive-descent parser over one statement's tokens, depth-limited."""

    def __init__(self, tokens: list[Token]):
        self.tokens = tokens
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

    # postfix := atom ('.T')*
    def postfix(self) -> Ast:
        operand = self.atom()
        while self.at(".T"):
            op = self.advance()
            operand = Apply("transpose", (operand,), op.pos)
        return operand

    # atom := NUMBER | NAME | FUNCTION '(' args ')' | '(' expr ')' | '[' items ']' | MAKER '(' … ')'
    def atom(self) -> Ast:
        token = self.advance()
        if token.kind == "num":
            return Num(exact_number(token), token.pos, token.text)
        if token.kind == "name":
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
        """ones(n), zeros(m, n), randn(m, n, seed=S): one or two sizes, and randn's seed."""
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
        if not 1 <= len(args) <= 2:
            raise WorksheetError(
                f"{token.text} takes one or two sizes ({token.text}(n) or {token.text}(m, n)), got {len(args)}",
                line=token.pos[0], column=token.pos[1],
            )
        return Make(token.text, tuple(args), seed, token.pos)

    def name(self, token: Token) -> Ast:
        if token.text in CONSTANTS:
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

    def call(self, token: Token) -> Ast:
        function = ALIASES.get(token.text) or CALLED.get(token.text, token.text)
        if function not in FUNCTIONS:
            known = ", ".join(sorted(set(FUNCTIONS) | set(ALIASES)))
            hint = f"write {token.text}*(…) to multiply; " if token.text not in KEYWORDS else ""
            raise WorksheetError(
                f"unknown function {token.text!r} ({hint}functions: {known})",
                line=token.pos[0], column=token.pos[1],
            )
        opened = self.advance()
        self.nest(opened)
        args = [self.expr()]
        while self.at(","):
            self.advance()
            args.append(self.expr())
        self.expect(")", opened=opened)
        self.unnest()
        arity = FUNCTIONS[function]
        if len(args) != arity:
            plural = "argument" if arity == 1 else "arguments"
            raise WorksheetError(
                f"{token.text} takes {arity} {plural}, got {len(args)}",
                line=token.pos[0], column=token.pos[1],
            )
        return Apply(function, tuple(args), token.pos)


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
    statements = []
    for number, raw in enumerate(text.splitlines(), start=1):
        content = raw.split("#", 1)[0]
        column = 1
        for piece in content.split(";"):
            if piece.strip():
                statements.append(_statement(piece, number, column))
            column += len(piece) + 1
    if not statements:
        raise WorksheetError("the formula is empty", line=1, column=1)
    return Program(tuple(statements), text)


def parse_source(text: str, filename: str | None = None, max_chars: int | None = None) -> Program:
    """A formula, or a program file's text (``filename``), as ``derive`` reads it: a file's
    size limit or a formula's (or ``max_chars``), and every error told where it was found."""
    limit = max_chars or (MAX_PROGRAM_CHARS if filename else MAX_FORMULA_CHARS)
    try:
        return parse_program(text, max_chars=limit)
    except WorksheetError as error:
        raise error.located(source=text, where=filename) from None


def _statement(text: str, line: int, column: int) -> Statement:
    _check_length(text, MAX_FORMULA_CHARS, "statement", line, column)
    parser = Parser(tokenize(text, line, column))
    first, second = parser.tokens[0], parser.tokens[1]
    if first.kind == "name" and first.text in KEYWORDS and second.kind == "name":
        return _declaration(parser, first.text)
    if first.kind == "name" and second.text == "=":
        _check_assignable(first)
        parser.advance(), parser.advance()
        expr = parser.expr()
        parser.finish()
        return Statement("assign", first.text, expr, first.pos)
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
    if token.text in RESERVED:
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
