"""What both ends of an MDT693B line share.

ASCII at 115200 baud 8N1.  A command ends in LF; the reply is its value in
brackets and a CR (``[  24.8]\\r``), then the prompt ``>``, which is the reply's
real end.  With echo on, the command comes back first.  An unknown command is
answered ``CMD_NOT_DEFINED``.  Outputs are 0 to 150 V.
"""

from __future__ import annotations

import re

from ...base import Wire
from ...vocabulary import Kind, Slot, Vocabulary

COMMAND_END = b"\n"
PROMPT = b">"
MAX_VOLTS = 150.0
VALUE = re.compile(r"\[\s*([-+]?\d+(?:\.\d*)?)\s*\]")
AXES = ("x", "y", "z")
#: the channel Types: what each asks (with the channel's Axis where it has one), and the simulator's answer
VOCABULARY = Vocabulary(
    Kind("Vout", "{axis}voltage?", "an axis's output voltage", "voltage"),
    Kind("Vmin", "{axis}min?", "an axis's lower limit", "lower_limit"),
    Kind("Vmax", "{axis}max?", "an axis's upper limit", "upper_limit"),
    Kind("Vlimit", "vlimit?", "the output limit switch, 75, 100 or 150 V", "output_limit"),
    slots={"axis": Slot("Axis", "[xyz]", "x, y or z", example="y")},
)


class ReplyError(Exception):
    """A reply without a bracketed value, or with one out of range."""


def format_value(value: float) -> bytes:
    return f"[{value:6.1f}]\r".encode("ascii")


def parse_value(raw: bytes, query: str) -> float:
    """The bracketed value of a reply read up to its prompt (a command echo before it is skipped)."""
    text = raw.decode("ascii", "replace").removesuffix(">")
    lines = [line.strip() for line in re.split(r"[\r\n]+", text) if line.strip()]
    if lines and lines[0] == query:
        lines = lines[1:]  # echo on: the command comes back first
    if len(lines) != 1:
        raise ReplyError(f"reply to {query!r} is not one value: {text[:120]!r}")
    match = VALUE.fullmatch(lines[0])
    if match is None:
        raise ReplyError(f"reply to {query!r} is not a bracketed value: {lines[0][:120]!r}")
    value = float(match.group(1))
    if not 0 <= value <= MAX_VOLTS:
        raise ReplyError(f"reply to {query!r} is {value} V, outside 0 to {MAX_VOLTS:g} V")
    return value


WIRE = Wire(request_end=COMMAND_END, reply_end=PROMPT, parse=parse_value, refusals=(ReplyError,))
