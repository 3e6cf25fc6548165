"""A verdict on a student's answer, as text for the terminal or JSON (schema worksheet.check/1)."""

from __future__ import annotations

import json

from ..arith import exact_text
from ..assess.check import SCHEMA, Question, Verdict


def render_check(question: Question, answer: str, verdict: Verdict, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(as_json(question, answer, verdict), indent=2, ensure_ascii=False) + "\n"
    codes = f" ({', '.join(verdict.diagnosis)})" if verdict.diagnosis else ""
    return f"{verdict.verdict}{codes}\n{verdict.feedback}\n"


def as_json(question: Question, answer: str, verdict: Verdict) -> dict:
    """``schema``, ``verdict``, ``diagnosis`` (codes), ``feedback``, and what was checked:
    ``target``, ``wrt``, ``at`` (the given values, exact strings), ``answer`` (as typed)."""
    return {
        "schema": SCHEMA,
        "verdict": verdict.verdict,
        "diagnosis": list(verdict.diagnosis),
        "feedback": verdict.feedback,
        "target": question.target,
        "wrt": question.wrt,
        "at": {s.name: exact_text(v) for s, v in question.given.items()} or None,
        "answer": answer,
    }
