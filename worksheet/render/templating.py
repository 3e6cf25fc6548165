"""The Jinja2 environments the renderers share: templates live in worksheet/templates/.

A template compiled once is kept in templates/__pycache__, as Python keeps compiled modules
(compiling the Markdown template is 15 ms of a 0.5 s run): written unless
PYTHONDONTWRITEBYTECODE is set or the folder cannot be written, and used only while the
template's source is unchanged.
"""

from __future__ import annotations

import contextlib
import sys
from functools import cache
from pathlib import Path

import jinja2

from .. import document


def kind(block) -> str:
    """A block's kind for the templates: "heading", "paragraph", "table", …"""
    return type(block).__name__.lower()


class CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """Jinja2's cache of compiled templates in a folder, kept as Python keeps its bytecode."""

    def get_bucket(self, environment, name, filename, source):
        """The bucket of ``name`` as ``environment`` compiles it: its delimiters and escaping
        change the code, so they are part of the key (the HTML page is an escaping overlay)."""
        settings = (environment.block_start_string, environment.variable_start_string,
                    environment.comment_start_string, environment.autoescape)
        return super().get_bucket(environment, f"{name} {settings}", filename, source)

    def dump_bytecode(self, bucket) -> None:
        """Keep a compiled template, unless bytecode is not to be written or cannot be."""
        if sys.dont_write_bytecode:
            return
        with contextlib.suppress(OSError):
            Path(self.directory).mkdir(exist_ok=True)
            super().dump_bytecode(bucket)


CACHE = Path(__file__).resolve().parent.parent / "templates" / "__pycache__"


@cache
def environment(latex: bool = False) -> jinja2.Environment:
    """Templates for Markdown and text; for LaTeX, delimiters that do not clash with TeX."""
    options = dict(
        loader=jinja2.PackageLoader("worksheet", "templates"),
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        bytecode_cache=CompiledTemplates(str(CACHE)),
    )
    if latex:
        options.update(
            block_start_string="<%", block_end_string="%>",
            variable_start_string="<<", variable_end_string=">>",
            comment_start_string="<#", comment_end_string="#>",
        )
    env = jinja2.Environment(**options)
    env.globals["kind"] = kind
    env.tests.update(
        heading=lambda b: isinstance(b, document.Heading),
        paragraph=lambda b: isinstance(b, document.Paragraph),
        table=lambda b: isinstance(b, document.Table),
        equations=lambda b: isinstance(b, document.Equations),
        listing=lambda b: isinstance(b, document.Listing),
        figure=lambda b: isinstance(b, document.Figure),
        together=lambda b: isinstance(b, document.Together),
        display=lambda b: isinstance(b, document.DISPLAYS),  # what a paragraph just before introduces
    )
    return env
