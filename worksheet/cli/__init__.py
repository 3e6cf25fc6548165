"""The command line: arguments, files and exit codes. Every decision lives in the library.

Exit status: 0 done, 2 bad input or usage (one line on stderr, nothing written).
"""

from __future__ import annotations

import copy
import gc
import os
import signal
import sys
import threading
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from .. import __version__, formats
from ..errors import WorksheetError
from ..limits import MAX_PROGRAM_CHARS
from .files import _emit, _emit_all, _is_file, _separate  # noqa: F401  (the commands' and the tests')
from .help import _Group

try:  # Typer ≥ 0.27 vendors Click
    from typer._click.exceptions import ClickException
except ImportError:  # pragma: no cover - older Typer
    from click.exceptions import ClickException

PROGRAM_SUFFIXES = (".ws", ".txt", ".py")
SCRIPT_SUFFIX = ".py"  # a PyTorch, micrograd or NumPy script, read (never run) by worksheet.script


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
    typer.Argument(help="A formula such as \"(w*x+b-y)**2\", a program file, a script (.py, read, never run), "
                   "or - for standard input.",
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
                 "exact), exact (fractions, 1/2) or decimal (0.5, and 1/3 ≈ 0.333333). Default: auto; "
                 "decimal for a .py script."),
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


PROGRESS_FROM = 500  # steps: a longer run shows a progress bar on a terminal


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
"-x^2 + 3x"), so that Click does not read it as an option; ``_read_source`` takes it off again."""


def _shielded(argv: list[str]) -> list[str]:
    """``argv`` with SHIELD before each formula that starts with a minus, where Click would take
    it for an option: not after an option that takes a value (``--answer -2x`` is its value)."""
    if not any(_negated_formula(a) for a in argv):
        return argv
    valued = _valued_options()
    return [SHIELD + a if _negated_formula(a) and (i == 0 or argv[i - 1] not in valued) else a
            for i, a in enumerate(argv)]


def _for(argv: list[str]) -> typer.Typer:
    """The app, or for ``worksheet COMMAND …`` the app with that command alone: Typer builds
    every command from its signature at each start, and a run needs only the one it runs."""
    named = [c for c in app.registered_commands
             if argv and argv[0] == (c.name or typer.main.get_command_name(c.callback.__name__))]
    if not named:
        return app
    alone = copy.copy(app)
    alone.registered_commands = named
    return alone


def _valued_options() -> set[str]:
    """Every option name that takes a value (``--answer``, ``-a``, …), of every command."""
    every = typer.main.get_command(app).commands.values()
    return {name for command in every for p in command.params
            if p.param_type_name == "option" and not p.is_flag for name in (*p.opts, *p.secondary_opts)}


def _negated_formula(arg: str) -> bool:
    """A minus, then what no option looks like: a digit, a parenthesis, an operator or a space."""
    return (len(arg) > 1 and arg[0] in "-−" and arg[1] != "-"
            and (not arg[1].isalpha() or any(ch in arg for ch in "()*/^+ ·−")))


def _program_source(formula: str, max_chars: int | None = None):
    """The program's text, the file it came from (None for a formula typed inline), and the
    ``Script`` when the file is a ``.py`` script, read as the program it means (``worksheet.script``).
    A syntax error is refused here, before SymPy is imported (a tenth of a second, not two)."""
    from ..lang.parse import parse_source

    text, filename = _read_source(formula)
    if filename is None or not filename.endswith(SCRIPT_SUFFIX):
        parse_source(text, filename, max_chars)
        return text, filename, None
    from ..script import read_script

    script = read_script(text, filename)
    in_script(script, lambda: parse_source(script.program, filename, max_chars))
    return script.program, filename, script


def in_script(script, run):
    """``run()``, an error it raises in a script's program told at the script's line."""
    try:
        return run()
    except WorksheetError as error:
        raise (script.locate(error) if script is not None else error) from None


def _read_source(formula: str) -> tuple[str, str | None]:
    if formula.startswith(SHIELD) and _negated_formula(formula[len(SHIELD):]):
        formula = formula[len(SHIELD):]
    from ..textfiles import read_text

    if formula == "-":
        return read_text("-", 4 * MAX_PROGRAM_CHARS, "the program"), "<stdin>"
    path = Path(formula)
    if not _is_file(path):
        if path.suffix in PROGRAM_SUFFIXES:
            raise WorksheetError(f"no such file: {formula}")
        return formula, None
    return read_text(path, 4 * MAX_PROGRAM_CHARS), formula


def fail(message: str) -> int:
    print(f"worksheet: error: {message}", file=sys.stderr)
    return 2


def console() -> None:
    """The console script (and ``python -m worksheet``): ``main``, then exit without Python's
    collector scanning every object still alive — a long trace's are, held by SymPy's caches,
    and scanning them at exit took 0.5 s of a 5,000-node program."""
    status = main()
    gc.freeze()
    sys.exit(status)


def main(argv: list[str] | None = None) -> int:
    """Run the app on ``argv``: every kind of bad input becomes one line and status 2."""
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
        argv = _shielded(sys.argv[1:] if argv is None else argv)
        result = _for(argv)(args=argv, prog_name="worksheet", standalone_mode=False)
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
    console()


from . import commands, export  # noqa: E402,F401  (registers the commands on ``app``: they build on the above)
