"""What both ends of a CTC100 line share.

ASCII; commands end in LF, replies in CR LF.  A channel is named as on the
front panel with its spaces removed (``In 1`` -> ``In1``); ``<name>?`` reads its
value, ``<name>.PID.Setpoint?`` an output's PID set point.  ``geterror?``
answers ``code,description``.
"""

from __future__ import annotations

import math
import re

from ...base import Wire
from ...vocabulary import Kind, Slot, Vocabulary

COMMAND_END = b"\n"
REPLY_END = b"\r\n"
NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*|\s*[+-]?(nan|inf)\s*", re.I)
#: the channel Types: what each asks of the channel named in its tags, and the simulator's answer
VOCABULARY = Vocabulary(
    Kind("Temperature", "{name}?", "an input's value", "value"),
    Kind("HeaterPower", "{name}?", "an output's value", "value"),
    Kind("PIDSetpoint", "{name}.PID.Setpoint?", "an output's PID set point", "setpoint"),
    Kind("Custom", None, "the query in tags.CTC100CustomCommand"),
    slots={
        "name": Slot("CTC100ChannelName", r"[^\s.?]+", "the channel's name on the panel without spaces", example="Out1")
    },
)


class ReplyError(Exception):
    """A reply that is not a number."""


def remote_name(name: str) -> str:
    """The name a channel is programmed by: the panel's name without spaces."""
    return "".join(name.split())


def parse_number(raw: bytes, query: str) -> float:
    """The number of a reply (NaN and infinities included: the caller decides); ReplyError otherwise."""
    text = raw.decode("latin-1")  # the CTC100 writes ° as 0xB0 and Ω as 0xEA in unit strings
    if not NUMBER.fullmatch(text.strip()):
        raise ReplyError(f"reply to {query!r} is not a number: {text.strip()[:120]!r}")
    return float(text)


def format_number(value: float) -> bytes:
    return (f"{value:.6g}" if math.isfinite(value) else "NaN").encode("ascii") + REPLY_END


WIRE = Wire(request_end=COMMAND_END, reply_end=REPLY_END, parse=parse_number, refusals=(ReplyError,), limit=512)
