"""The command line: arguments, files and exit codes. Every decision lives in the library.

Exit status: 0 done, 2 bad input or usage (one line on stderr, nothing written).
"""

from __future__ import annotations

import os
import signal
import stat
import sys
import tempfile
import threading
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from typer.core import TyperCommand, TyperGroup, TyperOption

from . import __version__, formats
from .errors import WorksheetError
from .limits import MAX_PROGRAM_CHARS

try:  # Typer ≥ 0.29 vendors Click
    from typer._click.exceptions import ClickException
except ImportError:  # pragma: no cover - older Typer
    from click.exceptions import ClickException

PROGRAM_SUFFIXES = (".ws", ".txt")


class _PlainMetavars:
    """Help that names an option's value as argparse does (--format FORMAT), a flag bare.

    Typer would print the Python type beside each (<str>, <bool>, the whole choice list),
    which wraps the choices mid-word and claims a flag takes a value.
    """

    def get_params(self, ctx):
        params = super().get_params(ctx)
        for param in params:
            if isinstance(param, TyperOption) and param.metavar is None:
                param.metavar = "" if param.is_flag else _metavar(param)
            elif not isinstance(param, TyperOption):
                param.display_type_rich = _untyped
        return params


def _untyped(ctx) -> None:
    """An argument's help names it alone: `program`, not `program <str>`."""


def _metavar(option: TyperOption) -> str:
    long = max(option.opts, key=len)
    return long.lstrip("-").replace("-", "_").upper()


class _Command(_PlainMetavars, TyperCommand):
    pass


class _Group(_PlainMetavars, TyperGroup):
    pass


app = typer.Typer(
    cls=_Group,
    rich_markup_mode=None,
    name="worksheet",
    help="Step-by-step backpropagation worksheets: the computational graph, every forward "
    "value and every chain-rule product of a formula's gradients.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


OutputFile = Annotated[
    Optional[Path],
    typer.Option("--output", "-o", metavar="FILE", help="Write to this file instead of standard output.",
                 show_default=False, dir_okay=False),
]
"""The -o option of every command that writes one file (derive, train, graph)."""


Formula = Annotated[
    str,
    typer.Argument(help="A formula such as \"(w*x+b-y)**2\", a program file, or - for standard input.",
                   show_default=False),
]
"""The formula argument of graph and check (derive's help says more)."""


def _formats(command: str, first: str | None = None) -> type[Enum]:
    """--format's choices for ``command``, from the one table of formats (``first``: listed first)."""
    names = list(formats.of(command))
    if first:
        names.insert(0, names.pop(names.index(first)))
    return Enum(f"{command.title()}Format", {name: name for name in names}, type=str)


Format = _formats("derive")
FigureFormat = _formats("graph")
TrainFormat = _formats("train")
HandoutFormat = _formats("handout", first="pdf")
CheckFormat = _formats("check")


class Detail(str, Enum):
    brief = "brief"
    standard = "standard"
    full = "full"


class Numbers(str, Enum):
    auto = "auto"
    exact = "exact"
    decimal = "decimal"


NumbersOption = Annotated[
    Numbers,
    typer.Option("--numbers", help="How values are written: auto (decimals, 0.5 and 9.8396, where the "
                 "inputs were written with a decimal point and the value ends within --digits; else "
                 "exact), exact (fractions, 1/2) or decimal (0.5, and 1/3 ≈ 0.333333)."),
]
"""The --numbers option of every command that writes values (derive, graph, train, handout)."""


class Mode(str, Enum):
    forward = "forward"
    reverse = "reverse"
    both = "both"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"worksheet {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Step-by-step backpropagation worksheets."""


@app.command(no_args_is_help=True, cls=_Command)
def derive(
    formula: Annotated[
        str,
        typer.Argument(
            help="A formula such as \"(w*x+b-y)**2\", a program file (one assignment per "
            "line), or - to read the program from standard input.",
            show_default=False,
        ),
    ],
    wrt: Annotated[
        Optional[str],
        typer.Option("--wrt", "-w", metavar="VARS", help="Variables to differentiate with respect to, e.g. w,b. "
                     "Default: the program's params, else every variable.", show_default=False),
    ] = None,
    at: Annotated[
        Optional[str],
        typer.Option("--at", "-a", metavar="VALUES", help="Values, e.g. w=1,b=0,x=2,y=4 (exact: 0.1 is 1/10). "
                     "Without values the worksheet is symbolic.", show_default=False),
    ] = None,
    let: Annotated[
        Optional[list[str]],
        typer.Option("--let", "-l", metavar="NAME=EXPR", help="Name a sub-expression of the formula, e.g. "
                     "y_pred=w*x+b (repeatable).", show_default=False),
    ] = None,
    target: Annotated[
        Optional[str],
        typer.Option("--target", "-t", metavar="NAMES", help="The assignment of a program to differentiate "
                     "(default: the last). Several, comma-separated (loss,z), are differentiated "
                     "through their sum L_total = loss + sum(z), each output seeded with ones of its "
                     "shape (MindSpore's grad of a function returning (loss, z)).", show_default=False),
    ] = None,
    aux: Annotated[
        Optional[str],
        typer.Option("--aux", metavar="NAMES", help="Assignments to report by value without differentiating them, "
                     "comma-separated, e.g. z (MindSpore's has_aux).", show_default=False),
    ] = None,
    seed_grad: Annotated[
        Optional[str],
        typer.Option("--seed-grad", metavar="ARRAY", help="For an output that is a vector or a matrix: the gradient "
                     "to start the backward pass from, of the output's shape, e.g. \"[1, 0, 2]\" "
                     "(the gradient argument of PyTorch's backward(); a vector-Jacobian product).",
                     show_default=False),
    ] = None,
    format: Annotated[
        Optional[Format],
        typer.Option("--format", "-f", help="Output format: md, tex, txt, json, typ (Typst), pdf (typeset "
                     "by typst, no TeX needed), or torch (a PyTorch script that checks every gradient). "
                     "Default: from the -o extension (.py is torch); else txt on a terminal, md when piped.",
                     show_default=False),
    ] = None,
    output: OutputFile = None,
    digits: Annotated[
        int, typer.Option("--digits", metavar="N", min=1, max=30, help="Significant digits of rounded values.")
    ] = 6,
    mode: Annotated[
        Optional[Mode],
        typer.Option("--mode", "-m", help="reverse: the backward pass, plus the adjoint trace "
                     "(v̄ = ∂L/∂v, fan-out as running updates v̄ ← v̄ + v̄ᵢ·∂vᵢ/∂v). forward: the "
                     "evaluation trace, each node's value beside its tangent, one tangent column per "
                     "--wrt variable (seeded ẋ = 1). both: all of it. Default: the reverse-mode "
                     "worksheet alone. Forward mode is for scalar formulas.", show_default=False),
    ] = None,
    check_numeric: Annotated[
        bool,
        typer.Option("--check-numeric", help="Check each gradient against a central difference "
                     "(L(x+h) − L(x−h))/2h (h = max(1, |x|)/10¹² with 60 digits; for a model, /10⁶), flagging any that "
                     "DIFFERS, and "
                     "compare four ways to it: by hand (sympy.diff), numerically, forward and "
                     "reverse mode. Needs values (--at)."),
    ] = False,
    detail: Annotated[
        Detail,
        typer.Option("--detail", help="brief: the forward table, one line per gradient of the "
                     "backward pass (∂L/∂u = value) and the result. standard: every chain-rule "
                     "product. full: as standard, and after each node the rule of each local "
                     "derivative (constant multiple rule, quotient rule, power rule, chain rule with σ′ …). "
                     "For models too."),
    ] = Detail.standard,
    numbers: NumbersOption = Numbers.auto,
) -> None:
    """Derive the gradients of a formula, step by step: graph, forward pass, backward pass, result.

    \b
    Example:
      worksheet derive "(w*x+b-y)**2" --wrt w,b --at w=1,b=0,x=2,y=4
    """
    _separate([formula], {"--output": output})
    text, filename = _source(formula)
    from .api import derive as run
    from .render import render

    fmt = _format(format, output)
    trace = run(text, wrt, at, let=let or (), target=target, filename=filename,
                aux=aux or (), seed_grad=seed_grad, mode=mode.value if mode else None,
                check_numeric=check_numeric)
    _emit(render(trace, fmt, digits=digits, detail=detail.value, numbers=numbers.value), output)


@app.command(no_args_is_help=True, cls=_Command)
def graph(
    formula: Formula,
    at: Annotated[
        Optional[str],
        typer.Option("--at", "-a", metavar="VALUES", help="Values, e.g. w=1,b=0,x=2,y=4: each arrow then shows its value "
                     "(above, green) and its gradient (below, red). Without values: the structure alone.",
                     show_default=False),
    ] = None,
    wrt: Annotated[
        Optional[str],
        typer.Option("--wrt", "-w", metavar="VARS", help="Variables to differentiate with respect to (the gradients shown "
                     "flow toward them). Default: the program's params, else every variable.", show_default=False),
    ] = None,
    let: Annotated[
        Optional[list[str]],
        typer.Option("--let", "-l", metavar="NAME=EXPR", help="Name a sub-expression, e.g. y_pred=w*x+b (repeatable).",
                     show_default=False),
    ] = None,
    target: Annotated[
        Optional[str],
        typer.Option("--target", "-t", metavar="NAME", help="The assignment of a program to draw (default: the last).",
                     show_default=False),
    ] = None,
    format: Annotated[
        Optional[FigureFormat],
        typer.Option("--format", "-f", help="mermaid, tikz (a LaTeX document), svg or png. Default: from the "
                     "-o extension (.mmd, .tex, .svg, .png); else mermaid.", show_default=False),
    ] = None,
    output: OutputFile = None,
    digits: Annotated[
        int, typer.Option("--digits", metavar="N", min=1, max=30, help="Significant digits of rounded values.")
    ] = 6,
    numbers: NumbersOption = Numbers.auto,
) -> None:
    """Draw the computational graph, with each arrow's forward value and gradient.

    Variables are boxes, operations circles; each arrow carries the forward value it delivers
    and the gradient flowing back along it.

    \b
    Example:
      worksheet graph "(w*x+b-y)**2" --at w=1,b=0,x=2,y=4 -o graph.svg
    """
    _separate([formula], {"--output": output})
    text, filename = _source(formula)
    from .figure import draw
    from .render.figures import render_figure

    if format is not None:
        fmt = format.value
    elif output is None:
        fmt = "mermaid"
    elif output.suffix.lower() in formats.by_extension("graph"):
        fmt = formats.by_extension("graph")[output.suffix.lower()]
    else:
        raise WorksheetError(f"cannot tell the format from {output.name!r} (use --format, or one of "
                             f"{', '.join(formats.by_extension('graph'))})", where="--output")
    if fmt == "png" and output is None and sys.stdout.isatty():
        raise WorksheetError("a PNG is binary: write it to a file (-o graph.png) or pipe it", where="--format")
    picture = render_figure(draw(text, wrt, at, let=let or (), target=target, filename=filename,
                                 digits=digits, numbers=numbers.value), fmt)
    _emit(picture, output)  # a PNG is bytes: binary, and never to a terminal


PROGRESS_FROM = 500  # steps: a longer run shows a progress bar on a terminal


@app.command(no_args_is_help=True, cls=_Command)
def train(
    program: Annotated[
        str,
        typer.Argument(help="A program file with param and data declarations (or - for standard input).",
                       show_default=False),
    ],
    lr: Annotated[str, typer.Option("--lr", metavar="RATE", help="Learning rate, e.g. 0.01 (exact: 0.1 is 1/10).",
                                    show_default=False)],
    epochs: Annotated[int, typer.Option("--epochs", "-e", metavar="N", min=1, help="Passes over the data.")] = 1,
    per_sample: Annotated[
        bool, typer.Option("--per-sample", help="One update per sample: walk every data array along its "
                           "first axis in lockstep, as a `for x, y in zip(xs, ys)` loop does.")
    ] = False,
    zero_grad: Annotated[
        bool, typer.Option("--zero-grad/--no-zero-grad", help="Zero the gradients after each update "
                           "(optimizer.zero_grad()). --no-zero-grad lets them add up, as PyTorch does without it.")
    ] = True,
    exact: Annotated[bool, typer.Option("--exact", help="Exact fractions instead of float64.")] = False,
    predict: Annotated[
        Optional[str], typer.Option("--predict", metavar="VALUES", help="Inputs for a prediction before and after training, "
                                    "e.g. x=4.", show_default=False)
    ] = None,
    at: Annotated[
        Optional[str], typer.Option("--at", "-a", metavar="VALUES", help="Override declared values, e.g. w=0.5.", show_default=False)
    ] = None,
    explain_steps: Annotated[
        int, typer.Option("--explain-steps", metavar="N", min=0, help="How many first steps to show as full worksheets.")
    ] = 1,
    format: Annotated[
        Optional[TrainFormat],
        typer.Option("--format", "-f", help="md, tex, txt, json (schema worksheet.train/1), typ or pdf. "
                     "Default: from the -o extension; else txt on a terminal, md when piped.",
                     show_default=False),
    ] = None,
    output: OutputFile = None,
    digits: Annotated[
        int, typer.Option("--digits", metavar="N", min=1, max=17, help="Significant digits of rounded values.")
    ] = 6,
    numbers: NumbersOption = Numbers.auto,
) -> None:
    """Train a program's params by SGD and print every step: loss, gradients, params.

    \b
    Example:
      worksheet train samples/per_sample.ws --lr 0.01 --epochs 100 \\
          --per-sample --predict x=4
    """
    _separate([program], {"--output": output})
    text, filename = _source(program, max_chars=MAX_PROGRAM_CHARS)
    from .render import render_training
    from .train import train as run

    fmt = _format(format, output)
    if fmt not in formats.of("train"):
        raise WorksheetError(f"a training trace is written as {', '.join(formats.of('train'))}, not {fmt}",
                             where="--output")
    progress = _Progress()
    try:
        training = run(text, lr=lr, epochs=epochs, per_sample=per_sample, zero_grad=zero_grad,
                       exact=exact, at=at, predict=predict, explain_steps=explain_steps,
                       filename=filename, on_step=progress)
    finally:
        progress.close()
    _emit(render_training(training, fmt, digits=digits, numbers=numbers.value), output)


@app.command(no_args_is_help=True, cls=_Command)
def handout(
    problem_set: Annotated[
        Path, typer.Argument(help="A problem set in TOML (see README, 'worksheet handout').", show_default=False),
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", metavar="DIR", help="The directory to write the handouts and manifest.json to "
                           "(created if missing).", show_default=False, file_okay=False),
    ],
    variants: Annotated[int, typer.Option("--variants", "-n", metavar="N", min=1, max=500, help="How many variants.")] = 1,
    seed: Annotated[int, typer.Option("--seed", "-s", metavar="N", help="The seed: the same seed draws the same variants.")] = 0,
    key: Annotated[bool, typer.Option("--key", help="Also write each variant's answer key.")] = False,
    format: Annotated[HandoutFormat, typer.Option("--format", "-f", help="pdf, tex, md, typ or txt.")] = HandoutFormat.pdf,
    numbers: NumbersOption = Numbers.auto,
) -> None:
    """Student sheets with numbered blanks (and answer keys) for N variants of a problem set.

    \b
    Example:
      worksheet handout samples/backprop_set.toml --variants 3 --seed 7 \\
          --key -o handouts
    """
    from .handout import handout as build
    from .problems import draw, load

    problems = load(problem_set)
    if output.exists() and not output.is_dir():
        raise WorksheetError(f"{output} is not a directory", where="--output")
    progress = _Progress(label="handout", threshold=2)
    try:
        drawn = draw(problems, variants, seed)
        files, manifest = build(problems, drawn, seed, format.value, key=key, on_file=progress,
                                numbers=numbers.value)
    finally:
        progress.close()
    output.mkdir(parents=True, exist_ok=True)
    _emit_all([(content, output / name) for name, content in files.items()]
              + [(manifest, output / "manifest.json")])  # the whole set, or nothing


@app.command(no_args_is_help=True, cls=_Command)
def check(
    formula: Formula,
    wrt: Annotated[str, typer.Option("--wrt", "-w", metavar="VARS", help="The variable of the derivative asked for, e.g. w.",
                                     show_default=False)],
    answer: Annotated[str, typer.Option("--answer", help="The student's answer, e.g. \"2(w*x+b-y)x\" "
                                        "(or a number, with --at).", show_default=False)],
    at: Annotated[
        Optional[str],
        typer.Option("--at", "-a", metavar="VALUES", help="Values, e.g. x=2,y=4; with every variable given, the answer is "
                     "a number.", show_default=False),
    ] = None,
    format: Annotated[CheckFormat, typer.Option("--format", "-f", help="txt or json.")] = CheckFormat.txt,
) -> int:
    """Check a student's answer for a derivative: correct, incorrect (and why) or invalid.

    Exit status 0 correct, 1 incorrect (with a diagnosis and feedback), 2 invalid (with why: the
    answer cannot be read, or is not an expression of the question's variables).

    \b
    Example:
      worksheet check "(w*x+b-y)**2" --wrt w --answer "2*(w*x+b-y)"
    """
    text, filename = _source(formula)
    from .check import question as asked
    from .render.check import render_check

    question = asked(text, wrt, at, filename=filename)
    verdict = question.judge(answer)  # an answer that cannot be read is the verdict invalid, with why
    _emit(render_check(question, answer, verdict, format.value), None)
    return {"correct": 0, "incorrect": 1}.get(verdict.verdict, 2)


@app.command(no_args_is_help=True, cls=_Command)
def grade(
    key: Annotated[Path, typer.Argument(help="The key: questions in TOML ([[question]] with id, expression "
                                        "or program, wrt, points, at), or a handout's manifest.json.",
                                        show_default=False)],
    submissions: Annotated[Path, typer.Argument(help="A CSV with the columns student, question, answer "
                                                "(and variant, for a handout of several variants).",
                                                show_default=False)],
    output: OutputFile = None,
    totals: Annotated[
        Optional[Path],
        typer.Option("--totals", metavar="FILE", help="Also write each student's total score to this CSV file.",
                     show_default=False, dir_okay=False),
    ] = None,
    bom: Annotated[
        bool, typer.Option("--bom", help="Start each CSV with a UTF-8 byte-order mark, as Excel needs to show "
                                          "é, ∂ and − rightly.")
    ] = False,
) -> None:
    """Grade a file of submissions against a key: one report row per submission.

    The report (CSV) has student, variant, question, answer, verdict, score, diagnosis, feedback,
    in input order. SUBMISSIONS may be - (standard input); its separator may be , ; or tab.

    \b
    Example:
      worksheet grade key.toml submissions.csv -o report.csv \\
          --totals totals.csv
    """
    from .grading import grade as run, load_key, read_submissions, report_csv, totals_csv

    _separate([key, submissions], {"--output": output, "--totals": totals})
    for option, path in (("--output", output), ("--totals", totals)):
        if path is not None and path.suffix.lower() not in ("", ".csv", ".txt"):
            raise WorksheetError(f"the report is CSV (comma-separated text), not {path.suffix}: name it .csv",
                                 where=option)
    answer_key = load_key(key)
    rows = read_submissions(submissions)
    progress = _Progress(label="grading", threshold=100)
    done = iter(range(1, len(rows) + 1))
    try:
        results = run(answer_key, rows, lambda: progress(next(done), len(rows)))
    finally:
        progress.close()
    mark = "\ufeff" if bom else ""
    report = mark + report_csv(results)
    if totals is None:
        _emit(report, output)
    elif output is None:
        _emit_all([(mark + totals_csv(answer_key, rows, results), totals)])
        _emit(report, None)
    else:
        _emit_all([(report, output), (mark + totals_csv(answer_key, rows, results), totals)])


class _Progress:
    """A progress bar on standard error for long runs, when it is a terminal."""

    def __init__(self, label: str = "training", threshold: int = PROGRESS_FROM):
        self.bar = None
        self.label, self.threshold = label, threshold

    def __call__(self, done: int, total: int) -> None:
        if total < self.threshold or not sys.stderr.isatty():
            return
        if self.bar is None:
            self.bar = typer.progressbar(length=total, label=self.label, file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def _format(format: Format | None, output: Path | None) -> str:
    if format is not None:
        if format.value == "pdf" and output is None and sys.stdout.isatty():  # bytes would garble it
            raise WorksheetError("a PDF is not printed to a terminal: use -o FILE.pdf, or pipe it",
                                 where="--format")
        return format.value
    if output is None:  # Markdown, except for a person reading a terminal
        return "txt" if sys.stdout.isatty() else "md"
    suffix, extensions = output.suffix.lower(), formats.by_extension("derive")
    if suffix not in extensions:
        known = ", ".join(extensions)
        raise WorksheetError(
            f"cannot tell the format from {output.name!r} (use --format, or one of {known})",
            where="--output",
        )
    return extensions[suffix]


SHIELD = " "
"""Put before an argument that is a formula starting with a minus ("-(y*log(p) + …)",
"-x^2 + 3x"), so that Click does not read it as an option; ``_source`` takes it off again."""


def _shielded(argv: list[str]) -> list[str]:
    """``argv`` with SHIELD before each formula that starts with a minus, where Click would take
    it for an option: not after an option that takes a value (``--answer -2x`` is its value)."""
    if not any(_negated_formula(a) for a in argv):
        return argv
    valued = _valued_options()
    return [SHIELD + a if _negated_formula(a) and (i == 0 or argv[i - 1] not in valued) else a
            for i, a in enumerate(argv)]


def _valued_options() -> set[str]:
    """Every option name that takes a value (``--answer``, ``-a``, …), of every command."""
    commands = typer.main.get_command(app).commands.values()
    return {name for command in commands for p in command.params
            if p.param_type_name == "option" and not p.is_flag for name in (*p.opts, *p.secondary_opts)}


def _negated_formula(arg: str) -> bool:
    """A minus, then what no option looks like: a digit, a parenthesis, an operator or a space."""
    return (len(arg) > 1 and arg[0] in "-−" and arg[1] != "-"
            and (not arg[1].isalpha() or any(ch in arg for ch in "()*/^+ ·−")))


def _source(formula: str, max_chars: int | None = None) -> tuple[str, str | None]:
    """The formula's text, and the file it came from (None for a formula typed inline); a
    syntax error is refused here, before SymPy is imported (a tenth of a second, not two)."""
    from .parse import parse_source

    text, filename = _read_source(formula)
    parse_source(text, filename, max_chars)
    return text, filename


def _read_source(formula: str) -> tuple[str, str | None]:
    if formula.startswith(SHIELD) and _negated_formula(formula[len(SHIELD):]):
        formula = formula[len(SHIELD):]
    from .textfiles import read_text

    if formula == "-":
        return read_text("-", 4 * MAX_PROGRAM_CHARS, "the program"), "<stdin>"
    path = Path(formula)
    if not _is_file(path):
        if path.suffix in PROGRAM_SUFFIXES:
            raise WorksheetError(f"no such file: {formula}")
        return formula, None
    return read_text(path, 4 * MAX_PROGRAM_CHARS), formula


def _emit(text: str | bytes, output: Path | None) -> None:
    """Print, or write the whole file at once (no partial file is ever left behind).

    Bytes (a PDF, a PNG) are written in binary mode, and never to a terminal.
    """
    if output is None:
        if isinstance(text, bytes):
            sys.stdout.flush()
            sys.stdout.buffer.write(text)
            sys.stdout.buffer.flush()
        else:
            sys.stdout.write(text)
        return
    _emit_all([(text, output)])


def _emit_all(files: list[tuple[str | bytes, Path]]) -> None:
    """Write several files all or nothing: each into a temporary file beside it, then each moved
    into place once all are written. A replaced file keeps its permissions; a write that fails
    is one line naming the path, and leaves every file as it was."""
    staged: list[tuple[Path, Path]] = []
    current = files[0][1]
    try:
        through = [(text, path) for text, path in files if path.exists() and not path.is_file()]
        for text, current in files:
            if all(current is not path for _, path in through):
                staged.append((_staged(text, current), current))
        for text, current in through:  # /dev/null, /dev/stdout, a pipe: written through, last
            _write_through(text, current)
        with _signals_held():  # Ctrl-C or SIGTERM now waits until every file is in place
            for temporary, current in staged:
                os.replace(temporary, current)
    except OSError as error:
        raise WorksheetError(f"cannot write {current}: {error.strerror or error}", where="--output") from None
    finally:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)


@contextmanager
def _signals_held():
    """Ctrl-C and SIGTERM held off for the block (a few renames), then delivered.

    The handlers are swapped, rather than the signals masked: a signal that arrived just
    before the block has its Python handler run at the interpreter's next check, which may fall
    between two renames; the swapped handler only notes it.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    before = {}
    try:
        for number in (signal.SIGINT, signal.SIGTERM):
            before[number] = signal.signal(number, lambda signum, frame: held.append(signum))
        yield
    finally:
        for number, handler in before.items():
            signal.signal(number, handler)
    if held:
        raise KeyboardInterrupt


def _staged(text: str | bytes, output: Path) -> Path:
    """``text`` written whole into a temporary file beside ``output``, with the mode it will have."""
    directory = output.resolve().parent
    if not directory.is_dir():
        raise WorksheetError(f"cannot write {output}: no such directory: {directory}")
    mode = stat.S_IMODE(output.stat().st_mode) if output.exists() else 0o666 & ~_umask()
    fd, name = tempfile.mkstemp(dir=directory, prefix=f".{output.name}.", suffix=".tmp")
    temporary = Path(name)
    try:
        with os.fdopen(fd, "wb") if isinstance(text, bytes) else os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temporary, mode)  # the old file's, or as open() would create it (mkstemp makes 0600)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def _write_through(text: str | bytes, output: Path) -> None:
    if output.is_dir():
        raise WorksheetError(f"{output} is a directory", where="--output")
    with open(output, "wb") if isinstance(text, bytes) else open(output, "w", encoding="utf-8") as handle:
        handle.write(text)


def _is_file(name: str | Path) -> bool:
    try:
        return Path(name).is_file()
    except (OSError, ValueError):  # an inline formula: too long for a name, or with a NUL
        return False


def _separate(inputs: Iterable[str | Path | None], outputs: Mapping[str, Path | None]) -> None:
    """Refuse, before any work, an output that is one of the inputs or another output's path:
    an output never replaces an input (``derive prog.ws -o prog.ws``, ``grade … -o subs.csv``)."""
    sources = [Path(p) for p in inputs if p is not None and _is_file(p)]
    taken: dict[Path, str] = {}
    for option, path in outputs.items():
        if path is None or (path.exists() and not path.is_file()):
            continue  # standard output, /dev/null
        if any(path.exists() and os.path.samefile(path, source) for source in sources):
            raise WorksheetError(f"{path} is an input: an output never replaces one (choose another path)",
                                 where=option)
        key = path.resolve()
        if key in taken:
            raise WorksheetError(f"{path} is also the {taken[key]} path: give each output its own",
                                 where=option)
        taken[key] = option


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def fail(message: str) -> int:
    print(f"worksheet: error: {message}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    """The console script: run the app, turn every kind of bad input into one line and exit 2."""
    with _terminated_cleanly():
        return _main(argv)


@contextmanager
def _terminated_cleanly():
    """SIGTERM ends the run as Ctrl-C does, so that no temporary file is left behind."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _main(argv: list[str] | None) -> int:
    try:
        result = app(args=_shielded(sys.argv[1:] if argv is None else argv), prog_name="worksheet",
                     standalone_mode=False)
    except WorksheetError as error:
        return fail(str(error))
    except ClickException as error:
        message = error.format_message()
        if message:  # (no message: the help was shown for a command given no arguments)
            context = getattr(error, "ctx", None)  # the command's own help, where there is one
            hint = f" (see {context.command_path if context else 'worksheet'} --help)" if error.exit_code == 2 else ""
            print(f"worksheet: error: {message}{hint}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("worksheet: interrupted", file=sys.stderr)
        return 130
    except RecursionError:
        return fail("the input is nested too deeply to process")
    except MemoryError:
        return fail("the input needs more memory than is available")
    except BrokenPipeError:
        return 0
    except Exception as error:  # a bug: still one line, still nothing written
        if os.environ.get("WORKSHEET_DEBUG"):
            raise
        return fail(f"internal error ({type(error).__name__}: {error}); "
                    "set WORKSHEET_DEBUG=1 for the traceback and please report it")
    if result == 130:  # Typer turns Ctrl-C inside a command into exit status 130
        print("worksheet: interrupted", file=sys.stderr)
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
