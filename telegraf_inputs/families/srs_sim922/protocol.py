"""What both ends of a SIM922 line share (directly, or through a SIM900 mainframe).

ASCII commands end in LF, replies in CR LF (read to the LF: QMI's SIM900 driver takes LF alone as
the end).  ``TVAL? n`` answers channel n's temperature in kelvin, ``TVAL? 0`` all four,
comma-separated; ``VOLT?`` likewise the diode voltages.  In a SIM900 mainframe, either
``CONN p,"xyz"`` connects the host to the module in slot p until the escape string ``xyz`` comes,
or (``SNDT`` addressing, as QMI's SIM900 driver uses it) ``SNDT p,"msg"`` hands one message to slot
p, ``NINP? p`` says how many reply bytes slot p holds and ``RAWN? p,n`` returns exactly n of them.
"""

from __future__ import annotations

import re

from ...vocabulary import Kind, Slot, Vocabulary

COMMAND_END = b"\n"
REPLY_END = b"\r\n"  # what a module sends
READ_TO = b"\n"  # what a reply is read to
CHANNELS = 4
ESCAPE = "xyz"  # ends a SIM900 CONN pass-through
#: the channel Types: the query of one channel (1 to 4) or of all four (0), and the simulator's answer
VOCABULARY = Vocabulary(
    Kind("Temperature", "TVAL? {channel}", "the diode's temperature, K", "temperatures"),
    Kind("Voltage", "VOLT? {channel}", "the diode's voltage, V", "volts"),
    slots={"channel": Slot("DeviceChannel", "[0-4]", "1 to 4 (0: all four)", example="2")},
)
ALL_FROM = 3  # channels of one kind from which one query for all four costs fewer bytes than one each
NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


class ReplyError(Exception):
    """A reply that is not four numbers."""


ADDRESSING = ("CONN", "SNDT")


def connect(slot: int) -> bytes:
    return f'CONN {slot},"{ESCAPE}"\n'.encode("ascii")


def send_terminated(slot: int, message: str) -> bytes:
    return f'SNDT {slot},"{message}"\n'.encode("ascii")


def bytes_waiting(slot: int) -> bytes:
    return f"NINP? {slot}\n".encode("ascii")


def raw_bytes(slot: int, count: int) -> bytes:
    return f"RAWN? {slot},{count}\n".encode("ascii")


def format_values(values: list[float]) -> bytes:
    """As the module writes them: ``2.299000E+00``, no sign when positive (QMI's recorded SIM922 replies)."""
    return (",".join(f"{v:.6E}" for v in values)).encode("ascii") + REPLY_END


def parse_values(raw: bytes, query: str, count: int = CHANNELS) -> list[float]:
    """The ``count`` numbers of a reply; ReplyError if it is anything else."""
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise ReplyError(f"reply to {query!r} is not ASCII (garbled on the line?): {raw!r}") from None
    items = [item.strip() for item in text.strip().split(",")]
    if len(items) != count or not all(NUMBER.fullmatch(item) for item in items):
        raise ReplyError(f"reply to {query!r} is not {count} number(s): {raw[:120]!r}")
    return [float(item) for item in items]
