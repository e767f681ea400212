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


def is_no_error(reply: str) -> bool:
    """True if a SYST:ERR? reply says the queue is empty."""
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


#: VISA resource forms the driver can send messages to
RESOURCE_FORMS = (
    "TCPIP0::<host>::5025::SOCKET",
    "TCPIP0::<host>::inst0::INSTR",
    "TCPIP0::<host>::hislip0::INSTR",
    "USB0::<vendor>::<product>::<serial>::INSTR",
    "ASRL<port>::INSTR",
    "GPIB0::<address>::INSTR",
)
RESOURCE_PATTERN = re.compile(r"\s*(TCPIP|USB|ASRL|GPIB|VXI|PXI|VICP)[^:]*(::.+)?::(INSTR|SOCKET)\s*", re.I)
