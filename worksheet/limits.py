"""Bounds on the work any input can ask for. Untrusted input is normal input."""

MAX_FORMULA_CHARS = 20_000
"""A formula (or one statement of a program) longer than this is refused."""

MAX_PROGRAM_CHARS = 2_000_000
"""A program file longer than this is refused."""

MAX_NESTING = 100
"""Parentheses, calls, unary signs and powers nested deeper than this are refused."""

MAX_NODES = 100_000
"""A program that needs more operation nodes than this is refused."""

MAX_CHECKED_OPERATIONS = 1_000
"""A question whose graph has more operations than this is not checked: an answer is compared
with the derivative written out in the inputs, and that grows with the square of a chain."""

MAX_DRAWN_ARROWS = 400
"""A worksheet draws its graph when it has at most this many arrows (below Mermaid's 500, which
GitHub refuses to draw); a larger graph is named, and ``worksheet graph`` draws it alone."""

TYPESET_SECONDS = 120
"""Typst (PDF, PNG) is stopped after this long: its loops cannot be interrupted, and no input
reaches its code (a 1,200-page worksheet takes about 15 s)."""

MAX_DIGITS = 1_000_000
"""An exact number (or a decimal's exponent) beyond this many digits is refused."""

PRECISION = 30
"""Significant digits carried once a value leaves exact arithmetic."""

MAX_EXACT_OPS = 8
"""An exact value in closed form (``sin(2)``, ``e**(1/2)``) is kept while it has at most this
many operations; beyond that it is carried as a decimal of PRECISION digits."""

MAX_FORM_OPS = 400
MAX_FORM_DEPTH = 40
"""A symbolic form (a gradient written out) with more nodes than MAX_FORM_OPS, or nested
deeper than MAX_FORM_DEPTH, is omitted, and the worksheet says so; its value is still
computed."""

MAX_TENSOR_ELEMENTS = 100_000
"""A tensor (declared or computed) with more elements than this is refused."""

MAX_TENSOR_WORK = 2_000_000
"""A tensor program that needs more element operations than this, forward and backward, is
refused before anything is computed: a matrix product m×k by k×n counts 3·m·k·n (its
backward pass is two more products), an elementwise operation 10 for each element (a
certified function and its derivative cost about ten multiply-adds), anything else 1 for
each element. About 10 s on a 2-core machine at the limit."""
