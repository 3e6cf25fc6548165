# server.py of a PrairieLearn question: the gradients of a squared error, graded by worksheet.
# question.html asks for two answers as text:
#   <pl-string-input answers-name="dL_dw" label="$\partial L/\partial w =$"></pl-string-input>
#   <pl-string-input answers-name="dL_db" label="$\partial L/\partial b =$"></pl-string-input>
from worksheet.assess import Question

# Built once, when PrairieLearn loads server.py; each answer is then judged in milliseconds.
PARTS = {
    "dL_dw": Question("(w*x+b-y)**2", wrt="w"),
    "dL_db": Question("(w*x+b-y)**2", wrt="b"),
}


def grade(data):
    for name, question in PARTS.items():
        mark = question.grade(data["submitted_answers"].get(name, ""))
        data["partial_scores"][name] = {"score": mark.score, "weight": 1, "feedback": mark.feedback}
        data["feedback"][name] = mark.feedback
    scores = data["partial_scores"].values()
    data["score"] = sum(p["score"] * p["weight"] for p in scores) / sum(p["weight"] for p in scores)
