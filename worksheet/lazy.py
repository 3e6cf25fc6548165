"""Modules loaded on first use.

NumPy takes about 60 ms of a 0.45 s start, and a formula's worksheet never needs it: its
values are SymPy numbers; only a model's (tensors) are arrays. A module that uses NumPy names
it ``np = lazy("numpy")``, and NumPy is imported the first time an attribute is asked of it.

    np = lazy("numpy")
    np.zeros(3)          # numpy is imported here, once
    loaded("numpy")      # True from then on: a value can only be an array after it

Unlike ``importlib.util.LazyLoader``, the stand-in never enters ``sys.modules`` (so another
library asking whether NumPy is loaded is told the truth), and the import goes through the
import system's own lock, so two threads touching it at once import NumPy once.
"""

from __future__ import annotations

import importlib
import sys
import types


class Lazy(types.ModuleType):
    """A stand-in for the module of its name: the first attribute asked of it imports the
    module, copies its attributes in (later look-ups cost what the module's own do), and
    answers; an attribute the module makes only on request is asked of the module each time."""

    def __getattr__(self, attribute: str):
        module = importlib.import_module(self.__name__)
        self.__dict__.update(module.__dict__)
        return getattr(module, attribute)


def lazy(name: str) -> types.ModuleType:
    """The module ``name`` if it is imported already, else a stand-in that imports it on use."""
    return sys.modules.get(name) or Lazy(name)


def loaded(name: str) -> bool:
    """Whether the module ``name`` has been imported (by anyone)."""
    return name in sys.modules
