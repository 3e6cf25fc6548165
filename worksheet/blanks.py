"""The documented path of ``load_manifest`` (``worksheet.blanks.load_manifest``): the module is
``assess/manifest.py``."""

from .assess.manifest import load_manifest  # noqa: F401
