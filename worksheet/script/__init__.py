"""Tutorial code as input: a PyTorch, micrograd or NumPy script → the program it means.

``read_script(text, filename)`` reads a safe subset of Python through the ``ast`` module —
the script is never imported, compiled or executed — and gives a ``Script``: the program in
the formula language (one statement a line, each with the script line it came from beside it
as a comment, so the worksheet begins with the program it understood), what to differentiate
(the tensor ``backward()`` was called on, its ``gradient=``), and, when the script trains, how
(``for epoch in range(N)``, ``zip(xs, ys)``, the learning rate of ``optim.SGD`` or of the
hand-written update, ``zero_grad``). Anything outside the subset is refused in one line that
names the construct and its line. The reader is in ``reader``, the expressions in
``expressions``.
"""

from .reader import Script, TrainPlan, read_script

__all__ = ["Script", "TrainPlan", "read_script"]
