"""Judging students: answers read through the formula parser (``answers``), the points two
expressions are compared at (``sampling``), the usual chain-rule mistakes (``mistakes``), the
verdict on one answer (``check``, its kinds in ``verdict``, why a wrong one is wrong in
``diagnosis``; ``tensor_check`` for vectors and matrices), a handout's blanks (``blanks``, its
manifest read in ``manifest``) and a course's submissions (``grading``: the key, with the
submissions read in ``submissions``, the work run in ``batch`` — here, on a process pool in
``pool``, on Dask in ``distributed`` — and the report written in ``report`` and
``gradescope``).

For an autograder (PrairieLearn, Otter, Gradescope), one answer at a time (``autograde``):

    from worksheet.assess import Question
    Question("(w*x+b-y)**2", wrt="w").grade("2(w*x+b-y)x")   # Grade(score=1.0, feedback=…, …)
"""

__all__ = ["Grade", "Question"]


def __getattr__(name: str):
    """``Question`` and ``Grade`` load on first use (SymPy takes a second to import)."""
    if name in __all__:
        from . import autograde

        return getattr(autograde, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
