"""Judging students: answers read through the formula parser (``answers``), the points two
expressions are compared at (``sampling``), the usual chain-rule mistakes (``mistakes``), the
verdict on one answer (``check``, its kinds in ``verdict``, why a wrong one is wrong in
``diagnosis``; ``tensor_check`` for vectors and matrices), a handout's blanks (``blanks``, its
manifest read in ``manifest``) and a course's submissions (``grading``: the key, with the
submissions read in ``submissions`` and the report written in ``report``)."""
