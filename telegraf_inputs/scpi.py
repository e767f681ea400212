"""What every SCPI conversation shares: the error queue's "no error", and the units of a compound reply."""

from __future__ import annotations

import re
from collections.abc import Callable

from .logs import excerpt

ERROR_QUEUE_LIMIT = 30  # error-queue replies read at most in one go (a queue that never says "no error")

#: a reply that is an instrument's error report, not data: -113,"Undefined header" (SCPI's errors are negative)
ERROR_REPLY = re.compile(r'\s*-\d{1,4}\s*,\s*"[^"]*"\s*')


def is_no_error(reply: str) -> bool:
    """True if an error-queue reply (SYST:ERR?) says the queue is empty: 0,"No error" or +0,..."""
    return reply.startswith(("+0,", "0,")) or reply in ("+0", "0")


def split_units(reply: str) -> list[str]:
    """The response units of one reply: ``1;+0,"No error"`` -> ``['1', '+0,"No error"']`` (``;`` in quotes kept)."""
    units: list[str] = []
    current: list[str] = []
    quoted = False
    for c in reply:
        if c == '"':
            quoted = not quoted
        if c == ";" and not quoted:
            units.append("".join(current))
            current = []
        else:
            current.append(c)
    units.append("".join(current))
    return units


def read_error_queue(
    ask: Callable[[], str],
    first: str | None = None,
    *,
    into: list[str] | None = None,
    limit: int = ERROR_QUEUE_LIMIT,
    bound: int | None = 200,
) -> list[str]:
    """The errors an instrument's queue holds: ``ask`` (its SYST:ERR?) until it reports none, ``limit`` errors
    at most; ``first`` is a reply already read.  Each error is cut to ``bound`` characters.  ``into``
    collects them as they come, so that those read before ``ask`` raises are kept."""
    errors = [] if into is None else into
    reply = first if first is not None else ask()
    for _ in range(limit):
        if is_no_error(reply):
            break
        errors.append(reply if bound is None else excerpt(reply, bound))
        reply = ask()
    return errors
