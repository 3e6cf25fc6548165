"""The time limit off the main thread (a Dask worker's tasks run on threads): it raises there as
SIGALRM does on the main thread, nests, and leaves nothing behind once its block has ended."""

from __future__ import annotations

import threading
import time

import pytest

from worksheet.deadline import TimeLimit, expired, time_limit

from test_grade import HOSTILE, KEY


def on_a_thread(work):
    """``work()``'s value or exception, run on a new thread (joined: a hang fails the test)."""
    out = {}

    def run():
        try:
            out["value"] = work()
        except BaseException as error:  # noqa: BLE001 — handed to the test
            out["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(120)
    assert not thread.is_alive(), "the limit never stopped the work"
    if "error" in out:
        raise out["error"]
    return out["value"]


def spin(seconds: float = 3600) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def test_a_limit_on_another_thread_stops_python_work():
    def limited():
        with time_limit(0.2):
            spin()

    with pytest.raises(TimeLimit):
        on_a_thread(limited)


def test_an_outer_limit_running_out_inside_an_inner_one_is_the_outer_ones():
    def nested():
        seen = []
        try:
            with time_limit(0.3):
                try:
                    with time_limit(60):
                        spin()
                except TimeLimit:
                    seen.append(expired())  # the outer one ran out: not the inner one's to swallow
                    raise
        except TimeLimit:
            seen.append("outer")
        return seen

    assert on_a_thread(nested) == [True, "outer"]


def test_an_inner_limit_leaves_the_outer_one_running():
    def nested():
        with time_limit(0.5):
            with pytest.raises(TimeLimit):
                with time_limit(0.05):
                    spin()
            assert not expired()
            spin()  # the outer limit, re-armed, still stops this

    with pytest.raises(TimeLimit):
        on_a_thread(nested)


def test_blocks_that_end_in_time_leave_no_time_limit_behind():
    """Thousands of blocks ending about when their time runs out; afterwards none arrives."""
    def many():
        ended = {"in time": 0, "late": 0}
        for _ in range(2000):
            try:
                with time_limit(0.0005):
                    sum(range(500))
                ended["in time"] += 1
            except TimeLimit:
                ended["late"] += 1
        spin(0.3)  # a stray TimeLimit would arrive here, and fail the test
        return ended

    assert sum(on_a_thread(many).values()) == 2000


class Spins:
    """An object whose ``__del__`` runs long: a TimeLimit that arrives in it is printed and dropped
    by Python ("Exception ignored in"), as in any finalizer or collector callback."""

    def __del__(self):
        spin(0.3)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("where", ["main thread", "another thread"])
def test_a_limit_dropped_in_a_finalizer_is_raised_as_its_block_ends(where):
    """The TimeLimit lands in a ``__del__`` and is lost there; the block still ends in a TimeLimit."""
    def block():
        start = time.monotonic()
        with pytest.raises(TimeLimit):
            with time_limit(0.05):
                Spins()  # deleted at once: its __del__ outlasts the limit; the TimeLimit ends it, and is lost
                spin(0.01)  # the block's own work goes on, then ends
        return time.monotonic() - start

    took = block() if where == "main thread" else on_a_thread(block)
    assert 0.05 <= took < 0.3  # the TimeLimit cut the finalizer short, where Python dropped it
    assert not expired()


SLOW = " + ".join(f"max(w*x-{i}, b*{i})" for i in range(1, 150))
"""An answer whose checking takes seconds (a sum of 149 kinks to put points beside): far past
the short limit the test sets, on any machine."""


def forget_values() -> None:
    """Empty the caches an answer's judging fills (the answer's parts and SymPy's own)."""
    from sympy.core.cache import clear_cache
    from worksheet.assess import answers

    answers._value.cache_clear()
    clear_cache()


def test_answers_judged_on_a_thread_get_the_main_threads_verdicts_under_the_same_limit(monkeypatch):
    from worksheet.assess import check
    from worksheet.assess.grading import load_key

    answers = [(q, a) for q, a in HOSTILE if a in ("(x+1)**99999", "exp(exp(exp(x)))", "0e999999999", "-7")]
    here = [load_key(KEY).questions[q].judge(a) for q, a in answers]
    key = load_key(KEY)
    there = on_a_thread(lambda: [key.questions[q].judge(a) for q, a in answers])
    assert there == here and len(here) == 4
    monkeypatch.setattr(check, "TIME_LIMIT", 0.2)  # the slow answer: out of time on both, whatever the load
    slow_here = load_key(KEY).questions["q1"].judge(SLOW)
    forget_values()  # else the second judging starts from the first one's parts and may finish in time
    slow_there = on_a_thread(lambda: key.questions["q1"].judge(SLOW))
    assert slow_there == slow_here
    assert slow_here.verdict == "invalid" and "took longer than 0.2 s" in slow_here.feedback
