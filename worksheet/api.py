"""The library's front door: ``derive`` runs parse → graph → trace, with every check the CLI has.

    >>> from worksheet import derive, render
    >>> trace = derive("(w*x+b-y)**2", wrt="w,b", at="w=1,b=0,x=2,y=4")
    >>> [str(g.value) for g in trace.gradients]
    ['-8', '-4']
    >>> print(render(trace, "txt"))      # or "md", "tex", "json"
"""

from __future__ import annotations

from .engine.derive import derive  # noqa: F401
from .engine.trace import Trace  # noqa: F401
from .lang.options import (  # noqa: F401  (the names the library's callers had here)
    Number, decimal_inputs, given_values, located, parse_lets, parse_names, parse_point, parse_seed, point_of,
    program_graph, wrt_names,
)
