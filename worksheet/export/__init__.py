"""Handouts to learning-management systems: a manifest's problems as Moodle XML, a QTI 2.1
package or a Canvas (QTI 1.2) package.

    manifest.json ──load_manifest──▶ Manifest ──questions──▶ [Question] ──FORMATS[name]──▶ text or zip bytes

One module per format (``moodle``, ``qti``, ``canvas``) over what they share: the questions
(``questions``: the sheet and each blank's numbers), the intervals an LMS accepts
(``accepted``), the diagnosed wrong answers (``wrong``), the sheet as HTML (``sheet``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Format:
    name: str
    suffix: str  # the file it is written to
    what: str  # in words, for --help and errors


FORMATS = {
    "moodle": Format("moodle", ".xml", "Moodle XML (a Cloze question per problem)"),
    "qti": Format("qti", ".zip", "a QTI 2.1 package (IMS Content Packaging)"),
    "canvas": Format("canvas", ".zip", "a Canvas quiz package (QTI 1.2)"),
}


def export(name: str, manifest_path: str | Path) -> str | bytes:
    """The manifest at ``manifest_path`` (read and checked as ``worksheet grade`` reads it) in
    the LMS format ``name``: Moodle XML text, or a zip's bytes."""
    from ..assess.manifest import load_manifest
    from .questions import questions

    manifest = load_manifest(manifest_path)
    asked = questions(manifest, str(manifest_path))
    if name == "moodle":
        from .moodle import moodle

        return moodle(asked, manifest.title)
    if name == "qti":
        from .qti import qti

        return qti(asked, manifest.title)
    if name == "canvas":
        from .canvas import canvas

        return canvas(asked, manifest.title)
    raise ValueError(f"unknown LMS format {name!r} (formats: {', '.join(FORMATS)})")


__all__ = ["FORMATS", "Format", "export"]
