"""What every SCPI conversation shares: the error queue's "no error", and the units of a compound reply."""

from __future__ import annotations

import re

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
