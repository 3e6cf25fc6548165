"""Hard limits on time for work whose cost no bound on the input predicts (SymPy's algebra).

``time_limit(seconds)`` raises ``TimeLimit`` in its block once ``seconds`` have passed. On the
main thread a timer signal (SIGALRM) raises it; on any other thread (a Dask worker runs its
tasks on threads) one watcher thread raises it there as an asynchronous exception
(``PyThreadState_SetAsyncExc``). Either arrives at the thread's next Python instruction, so
neither stops one long call into C: the process pool's hard limit does (``assess/pool.py``). It
nests: an inner limit never outlasts an outer one, and when the outer one runs out inside the
inner block, the ``TimeLimit`` raised there is the outer one's (``expired()`` tells them apart).
A block that ends after its time ran out raises ``TimeLimit`` as it ends, whatever became of the
one raised in it: one that arrives in a ``__del__`` or a collector's callback (hypothesis has
one) is printed and dropped by Python, and the work goes on to the end; its result is not used.
"""

from __future__ import annotations

import ctypes
import signal
import threading
import time
from contextlib import contextmanager


class TimeLimit(BaseException):
    """The time ran out (a BaseException: SymPy's own ``except Exception`` must not swallow it)."""


_deadlines: list[float] = []  # the main thread's: the monotonic times its active limits expire, outermost first


class _Deadlines(threading.local):
    def __init__(self):
        self.stack: list[float] = []  # another thread's, as ``_deadlines``


_elsewhere = _Deadlines()


def _stack() -> list[float]:
    return _deadlines if threading.current_thread() is threading.main_thread() else _elsewhere.stack


def expired() -> bool:
    """Has the innermost enclosing limit run out? (False outside every limit.)"""
    stack = _stack()
    return bool(stack) and time.monotonic() >= stack[-1]


@contextmanager
def time_limit(seconds: float):
    if threading.current_thread() is not threading.main_thread():
        with _thread_limit(seconds):
            yield
        return
    if not hasattr(signal, "setitimer"):
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
    _late(deadline)


@contextmanager
def _thread_limit(seconds: float):
    """``time_limit`` off the main thread: the watcher holds this thread's innermost deadline.

    A TimeLimit may arrive at any Python instruction, including this function's own: what it
    must undo is undone whatever point it arrived at (the stack back to its depth on entry, the
    deadline dropped), and one that arrives while undoing (the time ran out as the block ended)
    is dropped."""
    stack, me = _elsewhere.stack, threading.get_ident()
    depth = len(stack)
    deadline = min([time.monotonic() + seconds] + stack)
    try:
        stack.append(deadline)
        _WATCHER.arm(me, deadline)
        yield
    finally:
        while True:
            try:
                _WATCHER.disarm(me)
                break
            except TimeLimit:
                continue
        del stack[depth:]
        if stack:  # the enclosing limit, for what is left of it (at once, if it ran out too)
            _WATCHER.arm(me, stack[-1])
    _late(deadline)


def _late(deadline: float) -> None:
    """A block that ended normally after ``deadline``: its TimeLimit was dropped on the way."""
    if time.monotonic() >= deadline:
        raise TimeLimit


class _Watcher:
    """One thread that raises ``TimeLimit`` in other threads at their deadlines, as SIGALRM does
    on the main thread: each watched thread has one deadline (its innermost limit's), looked at
    every POLL seconds (IDLE when none is due).

    A watched thread takes ``lock`` with ``with`` on the lock itself, whose taking is one call
    into C: a TimeLimit arriving just after it is inside the ``with``, which lets the lock go
    (after a Python method, a Condition's, it could arrive between the taking and the ``with``,
    and the lock would never be let go); and it never waits for the watcher."""

    POLL, IDLE = 0.005, 0.1

    def __init__(self):
        self.due: dict[int, float] = {}  # thread id → when its time runs out
        self.rang: set[int] = set()  # threads sent a TimeLimit that may not have arrived yet
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def arm(self, ident: int, deadline: float) -> None:
        with self.lock:
            self.due[ident] = deadline
            if self.thread is None:
                self.thread = threading.Thread(target=self._watch, name="worksheet time limits", daemon=True)
                self.thread.start()

    def disarm(self, ident: int) -> None:
        """No TimeLimit for ``ident`` after this returns: its deadline is dropped, and one sent but
        not arrived yet is taken back. One that arrives while this runs (the block had ended as
        the time ran out) is too late to matter, and is dropped."""
        while True:
            try:
                with self.lock:
                    self.due.pop(ident, None)
                    if ident in self.rang:
                        self.rang.discard(ident)
                        _raise_in(ident, None)
                return
            except TimeLimit:
                continue

    def _watch(self) -> None:
        while True:
            with self.lock:
                now = time.monotonic()
                for ident in [i for i, deadline in self.due.items() if deadline <= now]:
                    del self.due[ident]
                    self.rang.add(ident)
                    _raise_in(ident, TimeLimit)
                pause = min([self.POLL if self.due else self.IDLE] + [d - now for d in self.due.values()])
            time.sleep(pause)


def _raise_in(ident: int, exception: type[BaseException] | None) -> None:
    """Raise ``exception`` in thread ``ident`` at its next Python instruction (None: take back
    one raised that has not arrived yet)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident),
                                               ctypes.py_object(exception) if exception else None)


_WATCHER = _Watcher()
