"""The versions of a reassigned name (``c = c + 1``, ``c += 1``): the graph is single
assignment, so each assignment is a node of its own, named c, c′, c″, c‴, c⁽⁴⁾, … — the
user's name kept, its version marked as a mathematician marks one. No SymPy here; the
notations read the marks back to write them in their own way (LaTeX ``c''``, Python ``c_2``)."""

from __future__ import annotations

PRIMES = ("", "′", "″", "‴")


def versioned(count: int) -> str:
    """The mark of a name's version ``count`` (0 the first): c, c′, c″, c‴, c⁽⁴⁾."""
    if count < len(PRIMES):
        return PRIMES[count]
    return "⁽" + str(count).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")) + "⁾"


def unversioned(name: str) -> tuple[str, int]:
    """(the user's name, the version) of a node's name: c″ → (c, 2)."""
    base = name.rstrip("′″‴")
    primes = {"′": 1, "″": 2, "‴": 3}
    if base != name:
        return base, sum(primes[ch] for ch in name[len(base):])
    if name.endswith("⁾") and "⁽" in name:
        base, _, mark = name[:-1].rpartition("⁽")
        return base, int(mark.translate(str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")))
    return name, 0
