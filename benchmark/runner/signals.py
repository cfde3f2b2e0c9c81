"""Interrupts told apart: a signal the user sent, or a ``KeyboardInterrupt`` some code raised.

The command line turns SIGINT and SIGTERM into :class:`Interrupted` and
:class:`Terminated`; a run stops cleanly on those.  A plain ``KeyboardInterrupt``
where the process does not take signals the default way (the command line, a
worker process, which ignores SIGINT) was raised by code, a plugin say, and is
that code's failure, not a reason to stop the run.
"""
from __future__ import annotations

import signal

__all__ = ["Interrupted", "Terminated", "is_signal"]


class Interrupted(KeyboardInterrupt):
    """SIGINT (Ctrl-C) received by the command line."""


class Terminated(Interrupted):
    """SIGTERM received by the command line: handled as an interrupt."""


def is_signal(exc: BaseException) -> bool:
    """Whether ``exc`` comes from a signal rather than from code that raised it."""
    if isinstance(exc, Interrupted):
        return True
    # Python's own SIGINT handler raises a plain KeyboardInterrupt (a library user's Ctrl-C)
    default = signal.getsignal(signal.SIGINT) is signal.default_int_handler
    return isinstance(exc, KeyboardInterrupt) and default
