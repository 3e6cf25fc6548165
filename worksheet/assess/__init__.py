"""Judging students: answers read through the formula parser (``answers``), the points two
expressions are compared at (``sampling``), the usual chain-rule mistakes (``mistakes``), the
verdict on one answer (``check``, ``tensor_check`` for vectors and matrices), a handout's blanks
(``blanks``) and a course's submissions (``grading``)."""
