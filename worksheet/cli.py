"""The command line: arguments, files and exit codes. Every decision lives in the library.

Exit status: 0 done, 2 bad input or usage (one line on stderr, nothing written).
"""

from __future__ import annotations

import os
import sys
import tempfile
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from . import __version__
from .errors import WorksheetError
from .limits import MAX_PROGRAM_CHARS

try:  # Typer ≥ 0.29 vendors Click
    from typer._click.exceptions import ClickException
except ImportError:  # pragma: no cover - older Typer
    from click.exceptions import ClickException

PROGRAM_SUFFIXES = (".ws", ".txt")

app = typer.Typer(
    name="worksheet",
    help="Step-by-step backpropagation worksheets: the computational graph, every forward "
    "value and every chain-rule product of a formula's gradients.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class Format(str, Enum):
    md = "md"
    tex = "tex"
    txt = "txt"
    json = "json"
    torch = "torch"


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


@app.command(no_args_is_help=True)
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
        typer.Option("--wrt", "-w", help="Variables to differentiate with respect to, e.g. w,b. "
                     "Default: the program's params, else every variable.", show_default=False),
    ] = None,
    at: Annotated[
        Optional[str],
        typer.Option("--at", "-a", help="Values, e.g. w=1,b=0,x=2,y=4 (exact: 0.1 is 1/10). "
                     "Without values the worksheet is symbolic.", show_default=False),
    ] = None,
    let: Annotated[
        Optional[list[str]],
        typer.Option("--let", "-l", help="Name a sub-expression of the formula, e.g. "
                     "y_pred=w*x+b (repeatable).", show_default=False),
    ] = None,
    target: Annotated[
        Optional[str],
        typer.Option("--target", "-t", help="The assignment of a program to differentiate "
                     "(default: the last).", show_default=False),
    ] = None,
    format: Annotated[
        Optional[Format],
        typer.Option("--format", "-f", help="Output format: md, tex, txt, json, or torch (a PyTorch "
                     "script that checks every gradient). Default: from the -o extension (.py is "
                     "torch); else txt on a terminal, md when piped.", show_default=False),
    ] = None,
    output: Annotated[
        Optional[Path],
        typer.Option("--output", "-o", help="Write to this file instead of standard output.",
                     show_default=False, dir_okay=False),
    ] = None,
    digits: Annotated[
        int, typer.Option("--digits", min=1, max=30, help="Significant digits of rounded values.")
    ] = 6,
) -> None:
    """Derive the gradients of a formula, step by step: graph, forward pass, backward pass, result.

    Example: worksheet derive "(w*x+b-y)**2" --wrt w,b --at w=1,b=0,x=2,y=4
    """
    from .api import derive as run
    from .render import render

    fmt = _format(format, output)
    text, filename = _source(formula)
    trace = run(text, wrt, at, let=let or (), target=target, filename=filename)
    _emit(render(trace, fmt, digits=digits), output)


def _format(format: Format | None, output: Path | None) -> str:
    from .render import EXTENSIONS

    if format is not None:
        return format.value
    if output is None:  # Markdown, except for a person reading a terminal
        return "txt" if sys.stdout.isatty() else "md"
    suffix = output.suffix.lower()
    if suffix not in EXTENSIONS:
        known = ", ".join(EXTENSIONS)
        raise WorksheetError(
            f"cannot tell the format from {output.name!r} (use --format, or one of {known})",
            where="--output",
        )
    return EXTENSIONS[suffix]


def _source(formula: str) -> tuple[str, str | None]:
    """The formula's text, and the file it came from (None for a formula typed inline)."""
    if formula == "-":
        return sys.stdin.read(MAX_PROGRAM_CHARS + 1), "<stdin>"
    path = Path(formula)
    try:
        is_file = path.is_file()
    except (OSError, ValueError):
        is_file = False
    if not is_file:
        if path.suffix in PROGRAM_SUFFIXES:
            raise WorksheetError(f"no such file: {formula}")
        return formula, None
    if path.stat().st_size > 4 * MAX_PROGRAM_CHARS:
        raise WorksheetError(f"the file is larger than {MAX_PROGRAM_CHARS:,} characters", where=formula)
    try:
        return path.read_text(encoding="utf-8"), formula
    except UnicodeDecodeError:
        raise WorksheetError("the file is not UTF-8 text", where=formula) from None
    except OSError as error:
        raise WorksheetError(f"cannot read the file: {error.strerror}", where=formula) from None


def _emit(text: str, output: Path | None) -> None:
    """Print, or write the whole file at once (no partial file is ever left behind)."""
    if output is None:
        sys.stdout.write(text)
        return
    if output.exists() and not output.is_file():  # /dev/null, /dev/stdout, a pipe: write through
        if output.is_dir():
            raise WorksheetError(f"{output} is a directory", where="--output")
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
        return
    directory = output.resolve().parent
    if not directory.is_dir():
        raise WorksheetError(f"no such directory: {directory}", where="--output")
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{output.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def fail(message: str) -> int:
    print(f"worksheet: error: {message}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    """The console script: run the app, turn every kind of bad input into one line and exit 2."""
    try:
        result = app(args=argv, prog_name="worksheet", standalone_mode=False)
    except WorksheetError as error:
        return fail(str(error))
    except ClickException as error:
        message = error.format_message()
        if message:  # (no message: the help was shown for a command given no arguments)
            hint = " (see worksheet --help)" if error.exit_code == 2 else ""
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
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
