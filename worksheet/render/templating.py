"""The Jinja2 environments the renderers share: templates live in worksheet/templates/."""

from __future__ import annotations

from functools import cache

import jinja2

from .. import document


def kind(block) -> str:
    """A block's kind for the templates: "heading", "paragraph", "table", …"""
    return type(block).__name__.lower()


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
