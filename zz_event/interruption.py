"""Interruptions (SIGINT, SIGTERM) that unwind the program and are not lost on the way.

The CLI's handlers raise where the program is, so that every `finally` and context manager cleans up. A
raise can be swallowed, though: ZigZag 3.9.1's `pickle_deepcopy`, run for every cost-model evaluation,
catches everything with a bare `except:` and falls back to `deepcopy`
(patches/zigzag-dse-3.9.1-pickle-deepcopy-swallows-interrupts.patch). So each handler also records its
signal, and the loops that run once per mapping call `raise_if_interrupted` to raise it again.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["Terminated", "raise_if_interrupted", "signal_behind", "signals_unwind"]


class Terminated(SystemExit):
    """SIGTERM, raised where the program is."""


_received: list[int] = []  # the signals caught by `signals_unwind`'s handlers, oldest first


def _stop(signum: int) -> BaseException:
    return Terminated(128 + signum) if signum == signal.SIGTERM else KeyboardInterrupt()


def _on_signal(signum, _frame):
    _received.append(signum)
    raise _stop(signum)


def raise_if_interrupted() -> None:
    """Raise the first interruption received in `signals_unwind` again: its first raise may have been
    swallowed. No-op without one (and outside the CLI, which installs no handlers)."""
    if _received:
        raise _stop(_received[0])


def signal_behind(error: BaseException) -> KeyboardInterrupt | Terminated | None:
    """The interruption that caused `error`, if one did: a raise inside a C callback (numba loading its
    cache) comes back wrapped in a SystemError."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, (KeyboardInterrupt, Terminated)):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


@contextmanager
def signals_unwind() -> Iterator[None]:
    """SIGTERM raises `Terminated` and SIGINT `KeyboardInterrupt` for the block, whatever handlers were
    installed before; both are recorded for `raise_if_interrupted`."""
    previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    for signum in previous:
        signal.signal(signum, _on_signal)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _received.clear()
