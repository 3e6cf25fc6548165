"""Hard limits on time for work whose cost no bound on the input predicts (SymPy's algebra).

``time_limit(seconds)`` raises ``TimeLimit`` in its block once ``seconds`` have passed, on the
main thread, where signals work (elsewhere it only runs the block). It nests: an inner limit
never outlasts an outer one, and when the outer one runs out inside the inner block, the
``TimeLimit`` raised there is the outer one's (``expired()`` tells them apart).
"""

from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager


class TimeLimit(BaseException):
    """The time ran out (a BaseException: SymPy's own ``except Exception`` must not swallow it)."""


_deadlines: list[float] = []  # the monotonic times at which the active limits expire, outermost first


def expired() -> bool:
    """Has the innermost enclosing limit run out? (False outside every limit.)"""
    return bool(_deadlines) and time.monotonic() >= _deadlines[-1]


@contextmanager
def time_limit(seconds: float):
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return
    now = time.monotonic()
    deadline = min([now + seconds] + _deadlines)
    outer_handler = signal.getsignal(signal.SIGALRM)

    def expire(signum, frame):
        raise TimeLimit

    _deadlines.append(deadline)
    signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, max(deadline - now, 1e-4))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        _deadlines.pop()
        signal.signal(signal.SIGALRM, outer_handler)
        if _deadlines:  # re-arm the enclosing limit for what is left of it
            signal.setitimer(signal.ITIMER_REAL, max(_deadlines[-1] - time.monotonic(), 1e-4))
