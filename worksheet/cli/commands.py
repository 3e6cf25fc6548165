"""The commands: derive, graph, train, handout, check and grade, each a Typer function over one
library function; their options, help and examples are here, the file writing in ``files``."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from .. import formats
from ..errors import WorksheetError
from ..limits import MAX_PROGRAM_CHARS
from . import (
    CheckFormat, Detail, FigureFormat, Format, Formula, HandoutFormat, Mode, Numbers, NumbersOption, OutputFile,
    TrainFormat, _format, _Progress, _program_source, app, in_script,
)
from .files import _emit, _emit_all, _separate
from ..assess.report import FORMATS as REPORT_FORMATS, report_line
from .reports import _emit_lines, _kept, _of_student, _report_format, _totals_file, _workers, _write_report
from .help import _Command


def _numbers(numbers: Numbers | None, script) -> str:
    """--numbers as given; else auto, or decimal for a script (its numbers are Python's floats)."""
    if numbers is not None:
        return numbers.value
    return Numbers.decimal.value if script is not None else Numbers.auto.value


@app.command(no_args_is_help=True, cls=_Command)
def derive(
    formula: Annotated[
        str,
        typer.Argument(
            help="A formula such as \"(w*x+b-y)**2\", a program file (one assignment per "
            "line), a PyTorch or micrograd script (.py: read, never run), or - to read the program "
            "from standard input.",
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
                     "by typst, no TeX needed), html (one offline page: MathML, the graph linked to its "
                     "rows), or torch (a PyTorch script that checks every gradient). "
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
    numbers: NumbersOption = None,  # auto; decimal for a script (Python's floats)
) -> None:
    """Derive the gradients of a formula, step by step: graph, forward pass, backward pass, result.

    \b
    Example:
      worksheet derive "(w*x+b-y)**2" --wrt w,b --at w=1,b=0,x=2,y=4
    """
    _separate([formula], {"--output": output})
    text, filename, script = _program_source(formula)
    from ..api import derive as run
    from ..render import render

    fmt = _format(format, output)
    if script is not None:  # what the script differentiates, unless the options say otherwise
        wrt = wrt or ",".join(script.wrt) or None
        target, seed_grad = target or script.target, seed_grad or script.seed_grad
    trace = in_script(script, lambda: run(text, wrt, at, let=let or (), target=target, filename=filename,
                                          aux=aux or (), seed_grad=seed_grad, mode=mode.value if mode else None,
                                          check_numeric=check_numeric))
    _emit(render(trace, fmt, digits=digits, detail=detail.value, numbers=_numbers(numbers, script)), output)


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
    text, filename, script = _program_source(formula)
    from ..figure import draw
    from ..render.figures import render_figure

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
    if script is not None:
        wrt, target = wrt or ",".join(script.wrt) or None, target or script.target
    picture = render_figure(in_script(script, lambda: draw(text, wrt, at, let=let or (), target=target, filename=filename,
                                                           digits=digits, numbers=numbers.value)), fmt)
    _emit(picture, output)  # a PNG is bytes: binary, and never to a terminal


@app.command(no_args_is_help=True, cls=_Command)
def train(
    program: Annotated[
        str,
        typer.Argument(help="A program file with param and data declarations, a PyTorch or micrograd "
                       "training script (.py: read, never run; its loop, rate and zero_grad are the defaults), "
                       "or - for standard input.",
                       show_default=False),
    ],
    lr: Annotated[Optional[str], typer.Option("--lr", metavar="RATE", help="Learning rate, e.g. 0.01 (exact: 0.1 "
                                              "is 1/10; 0 only computes the gradients, a negative rate is "
                                              "gradient ascent). Required, except for a script that sets it.",
                                              show_default=False)] = None,
    epochs: Annotated[Optional[int], typer.Option("--epochs", "-e", metavar="N", min=1, help="Passes over the data. "
                                                  "Default: 1, or a script's range(N).", show_default=False)] = None,
    per_sample: Annotated[
        Optional[bool], typer.Option("--per-sample", help="One update per sample: walk every data array along its "
                                     "first axis in lockstep, as a `for x, y in zip(xs, ys)` loop does.",
                                     show_default=False)
    ] = None,
    zero_grad: Annotated[
        Optional[bool], typer.Option("--zero-grad/--no-zero-grad", help="Zero the gradients after each update "
                                     "(optimizer.zero_grad()). --no-zero-grad lets them add up, as PyTorch does "
                                     "without it. Default: zero-grad, or as a script does.", show_default=False)
    ] = None,
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
        typer.Option("--format", "-f", help="md, tex, txt, json (schema worksheet.train/1), typ, pdf or html. "
                     "Default: from the -o extension; else txt on a terminal, md when piped.",
                     show_default=False),
    ] = None,
    output: OutputFile = None,
    digits: Annotated[
        int, typer.Option("--digits", metavar="N", min=1, max=17, help="Significant digits of rounded values.")
    ] = 6,
    numbers: NumbersOption = None,  # auto; decimal for a script (Python's floats)
) -> None:
    """Train a program's params by SGD and print every step: loss, gradients, params.

    \b
    Example:
      worksheet train samples/per_sample.ws --lr 0.01 --epochs 100 \\
          --per-sample --predict x=4
    """
    _separate([program], {"--output": output})
    text, filename, script = _program_source(program, max_chars=MAX_PROGRAM_CHARS)
    from ..render import render_training
    from ..engine.train import train as run

    fmt = _format(format, output)
    if fmt not in formats.of("train"):
        raise WorksheetError(f"a training trace is written as {', '.join(formats.of('train'))}, not {fmt}",
                             where="--output")
    plan = script.train if script is not None else None
    if script is not None and plan is None:
        raise WorksheetError("the script does not train (no optimizer.step() or update of a param): "
                             f"use worksheet derive {filename}", where=filename)
    if plan is not None:  # the script's loop, unless the options say otherwise
        lr = lr if lr is not None else plan.lr
        epochs = epochs if epochs is not None else plan.epochs
        per_sample = per_sample if per_sample is not None else plan.per_sample
        zero_grad = zero_grad if zero_grad is not None else plan.zero_grad
        predict = predict if predict is not None else script.predict
    if lr is None:
        raise WorksheetError("Missing option '--lr': the learning rate, e.g. --lr 0.01. (see worksheet train --help)")
    progress = _Progress()
    try:
        training = in_script(script, lambda: run(
            text, lr=lr, epochs=epochs or 1, per_sample=bool(per_sample), zero_grad=zero_grad is not False,
            exact=exact, at=at, predict=predict, explain_steps=explain_steps, filename=filename, on_step=progress))
    finally:
        progress.close()
    _emit(render_training(training, fmt, digits=digits, numbers=_numbers(numbers, script)), output)


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
    format: Annotated[HandoutFormat, typer.Option("--format", "-f", help="pdf, tex, md, typ, txt or html.")] = HandoutFormat.pdf,
    numbers: NumbersOption = Numbers.auto,
) -> None:
    """Student sheets with numbered blanks (and answer keys) for N variants of a problem set.

    \b
    Example:
      worksheet handout samples/backprop_set.toml --variants 3 --seed 7 \\
          --key -o handouts
    """
    from ..handout import handout as build
    from ..handout.problems import draw, load

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
    text, filename, script = _program_source(formula)
    from ..assess.check import question as asked
    from ..render.check import render_check

    question = in_script(script, lambda: asked(text, wrt, at, filename=filename))
    verdict = question.judge(answer)  # an answer that cannot be read is the verdict invalid, with why
    _emit(render_check(question, answer, verdict, format.value), None)
    return {"correct": 0, "incorrect": 1}.get(verdict.verdict, 2)


GradeFormat = Enum("GradeFormat", {name: name for name in REPORT_FORMATS}, type=str)


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
    format: Annotated[
        Optional[GradeFormat],
        typer.Option("--format", "-f", help="csv (the report), jsonl (one JSON object a row, written as each "
                     "is graded) or gradescope (Gradescope's results.json, for one student). Default: from "
                     "the -o extension (.csv, .jsonl, .json); else csv.", show_default=False),
    ] = None,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", metavar="N", min=0,
                          help="Grade on N processes (0: one per CPU), each answer under a hard time "
                          "limit. The report is the same as with 1.")
    ] = 1,
    dask: Annotated[
        Optional[str],
        typer.Option("--dask", metavar="ADDRESS", help="Grade on the Dask cluster whose scheduler is at "
                     "ADDRESS, e.g. tcp://10.0.0.5:8786 (needs pip install 'worksheet[dask]').",
                     show_default=False),
    ] = None,
    student: Annotated[
        Optional[str],
        typer.Option("--student", metavar="NAME", help="Grade only this student's rows.", show_default=False),
    ] = None,
    bom: Annotated[
        bool, typer.Option("--bom", help="Start each CSV with a UTF-8 byte-order mark, as Excel needs to show "
                                          "é, ∂ and − rightly.")
    ] = False,
) -> None:
    """Grade a file of submissions against a key: one report row per submission.

    The report has student, variant, question, answer, verdict, score, diagnosis, feedback, in
    input order. SUBMISSIONS may be - (standard input); its separator may be , ; or tab.

    \b
    Example:
      worksheet grade key.toml submissions.csv -o report.csv \\
          --totals totals.csv
    """
    from ..assess.grading import grade as run, load_key, read_submissions, report_csv, totals_csv

    _separate([key, submissions], {"--output": output, "--totals": totals})
    fmt = _report_format(format, output)
    _totals_file(totals)
    workers = _workers(jobs, dask)
    answer_key = load_key(key)
    rows = _of_student(read_submissions(submissions), student)
    if fmt == "gradescope":
        from ..assess.gradescope import one_student

        one_student(rows)  # refused before any work
    mark = "\ufeff" if bom else ""

    def summed(results: list) -> tuple[str, Path] | None:  # the totals file, where one is asked for
        return None if totals is None else (mark + totals_csv(answer_key, rows, results), totals)

    progress = _Progress(label="grading", threshold=100)
    done = iter(range(1, len(rows) + 1))
    tick = lambda: progress(next(done), len(rows))  # noqa: E731
    try:
        if fmt == "jsonl":
            from ..assess.batch import graded

            results = []
            lines = (report_line(result) for result in _kept(graded(answer_key, rows, tick, **workers), results))
            _emit_lines(lines, output, lambda: [summed(results)] if totals else [])
            return
        results = run(answer_key, rows, tick, **workers)  # (keyword options only where they are not the default)
    finally:
        progress.close()
    if fmt == "gradescope":
        from ..assess.gradescope import results_json

        report = results_json(answer_key, rows, results)
    else:
        report = mark + report_csv(results)
    _write_report(report, summed(results), output)
