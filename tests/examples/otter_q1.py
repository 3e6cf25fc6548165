# tests/q1.py of an Otter-Grader assignment: the notebook's answer dL_dw, a string such as
# "2*(w*x + b - y)*x", graded by worksheet; a wrong one fails with the feedback as the message.
from otter.test_files import test_case

from worksheet.assess import Question

OK_FORMAT = False
name = "q1"
points = 2

DL_DW = Question("(w*x+b-y)**2", wrt="w")


@test_case(points=2)
def test_dL_dw(dL_dw):
    mark = DL_DW.grade(dL_dw)
    assert mark.score == 1, mark.feedback
