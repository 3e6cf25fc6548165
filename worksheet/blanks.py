"""The documented path of ``load_manifest`` (``worksheet.blanks.load_manifest``): the module is
``assess/blanks.py``."""

from .assess.blanks import load_manifest  # noqa: F401
