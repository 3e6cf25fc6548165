"""Worker processes (pebble pools) for grading and typesetting: how they start, how an end is told."""

from __future__ import annotations

import multiprocessing
import sys


def context():
    """How workers start: forked on Linux, else as the platform starts processes (spawned)."""
    return multiprocessing.get_context("fork") if sys.platform == "linux" else multiprocessing.get_context()


def ended(error) -> str:
    """How a worker's process stopped (a pebble ``ProcessExpired``): its signal or exit status."""
    code = error.exitcode
    return f"signal {-code}" if code is not None and code < 0 else f"exit status {code}"
