"""The documented path of ``load`` (``worksheet.problems.load``): the module is
``handout/problems.py``."""

from .handout.problems import load  # noqa: F401
