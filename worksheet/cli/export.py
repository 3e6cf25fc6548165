"""The export command: a handout's manifest → a quiz for a learning-management system (Moodle
XML, a QTI 2.1 package or a Canvas package), over ``worksheet.export``; the file written whole."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from ..errors import WorksheetError
from . import app
from .files import _emit, _separate
from .help import _Command


class Lms(str, Enum):
    moodle = "moodle"
    qti = "qti"
    canvas = "canvas"


@app.command(no_args_is_help=True, cls=_Command)
def export(
    lms: Annotated[Lms, typer.Argument(help="moodle (Moodle XML, .xml), qti (a QTI 2.1 package, .zip) or canvas "
                                       "(a Canvas quiz package in QTI 1.2, .zip).", show_default=False)],
    manifest: Annotated[Path, typer.Argument(help="A handout's manifest.json (worksheet handout … -o DIR writes "
                                             "DIR/manifest.json).", show_default=False)],
    output: Annotated[
        Path, typer.Option("--output", "-o", metavar="FILE", help="The file to write: .xml for moodle, .zip for qti "
                           "and canvas.", show_default=False, dir_okay=False),
    ],
) -> None:
    """Export a handout's problems as a quiz for Moodle, a QTI 2.1 LMS or Canvas.

    One question per problem of each variant: the sheet with a box per blank (one per element
    of a vector or matrix), each graded as a number — exactly, or within the tolerance that
    worksheet grade accepts (a value rounded to d places: ±1 in the last place). Moodle also
    gets the diagnosed wrong answers (sign, a factor 2, a missing chain factor) with feedback,
    and the key as general feedback.

    \b
    Example:
      worksheet handout samples/backprop_set.toml -n 3 --key -o handouts
      worksheet export moodle handouts/manifest.json -o quiz.xml
    """
    from ..export import FORMATS, export as run

    _separate([manifest], {"--output": output})
    wanted = FORMATS[lms.value]
    if output.suffix.lower() != wanted.suffix:
        raise WorksheetError(f"{lms.value} writes {wanted.what}: name the file {output.stem or 'quiz'}{wanted.suffix}",
                             where="--output")
    _emit(run(lms.value, manifest), output)
