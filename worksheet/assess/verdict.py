"""The verdict on a student's answer: correct, incorrect (with the codes of its diagnosis) or
invalid, and one sentence of feedback (``check`` and ``tensor_check`` give it)."""

from __future__ import annotations

from dataclasses import dataclass

CORRECT, INCORRECT, INVALID = "correct", "incorrect", "invalid"


@dataclass(frozen=True)
class Verdict:
    verdict: str  # correct, incorrect or invalid
    diagnosis: tuple[str, ...] = ()  # sign, constant_factor, missing_chain_factor, …
    feedback: str = ""  # one sentence for the student
