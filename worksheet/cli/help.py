"""Click's plain help layout, with argparse's names for values: ``--at VALUES``, and bare flags."""

from __future__ import annotations

from typer.core import TyperCommand, TyperGroup, TyperOption


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
