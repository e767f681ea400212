"""What both ends of the DAQ970A/973A wire share: numbers, channel lists, readings, the error queue.

The instrument's raw socket (port 5025) and its USB/LAN VISA resources speak
SCPI with newline-terminated messages.  With ``FORM:READ:CHAN ON``, ``READ?``
answers ``value,channel`` pairs (``+2.21E+01,101,...``); an overloaded or open
input reads +/-9.9E+37.  ``SYST:ERR?`` answers ``+0,"No error"`` once the queue
is empty.
"""

from __future__ import annotations

import re

OVERLOAD = 9.9e37  # the instrument's +/-9.9E+37 overload / open-input reading
NO_ERROR = '+0,"No error"'
ERROR_QUEUE_SIZE = 20  # the instrument keeps at most this many errors


def scpi_number(value: float) -> str:
    """A number as SCPI text: 10 -> '10', 0.1 -> '0.1', 1e-06 -> '1e-06'."""
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(float(value))


def channel_list(numbers: list[int]) -> str:
    """[101, 102] -> '(@101,102)'."""
    return "(@" + ",".join(str(n) for n in numbers) + ")"


def parse_channel_list(text: str) -> list[int] | None:
    """'(@101,103:105)' -> [101, 103, 104, 105]; None if it is not a channel list."""
    m = re.fullmatch(r"\s*\(@([0-9,:\s]*)\)\s*", text)
    if not m:
        return None
    channels: list[int] = []
    for part in filter(None, (p.strip() for p in m.group(1).split(","))):
        if ":" in part:
            a, b = (int(x) for x in part.split(":"))
            channels.extend(range(a, b + 1))
        else:
            channels.append(int(part))
    return channels


def format_reading(value: float, channel: int | None) -> str:
    """One reading as READ? sends it: '+2.21000000E+01,101' (the channel only with FORM:READ:CHAN ON)."""
    return f"{value:+.8E}" if channel is None else f"{value:+.8E},{channel}"
