"""What both ends of the KJLC 354 / 352 (InstruTech IGM401 / IGM402) RS-485 line share.

ASCII, 19200 baud 8N1 by default.  A command is ``#`` + two-character address
+ command + CR (``#01RD\\r``); a reply is 12 characters + CR: ``*`` + address +
space + data (``*01 1.53E-06\\r``), or ``?`` + address + space + an error
(``?01 INVALID \\r``).  A command to another address gets no reply.  Commands on
the bus must be at least 50 ms apart.  Pressures are in Torr, ``y.yyE±zz``; an
ion gauge whose filament is off reads 9.90E+09, a convection gauge over range
or unplugged 1.01E+03.  A reading of zero comes with a NUL before its CR
(13 + 1 bytes): the egse project's IGM402 driver (igm402_controller.py) strips it,
"only when the pressure is zero, the device appends a null character".
"""

from __future__ import annotations

import re

from ...vocabulary import Kind, Vocabulary

END = b"\r"
REPLY_LENGTH = 13  # with its CR
COMMAND_GAP_S = 0.05  # the least time between commands on the bus
IG_OFF = 9.90e9  # ion gauge pressure while its filament is off
CG_OVER_RANGE = 1.01e3  # convection gauge over range or unplugged
PRESSURE = re.compile(r"[0-9]\.[0-9]{2}E[+-][0-9]{2}")
ADDRESS = re.compile(r"[0-9A-Fa-f]{2}")

#: the channel Types: the command each sends (framed by ``request``), and the simulator's answer
VOCABULARY = Vocabulary(
    Kind("Pressure", None, "RD, or RDS with ReadCombinedPressure"),
    Kind("IGPressure", "RD", "the ion gauge, Torr", "ion_gauge"),
    Kind("CombinedPressure", "RDS", "the ion gauge, or convection gauge 1 while it is off (KJLC 352)", "combined"),
    Kind("CG1Pressure", "RDCG1", "convection gauge 1, Torr", "convection_gauge_1"),
    Kind("CG2Pressure", "RDCG2", "convection gauge 2, Torr", "convection_gauge_2"),
    Kind("FilamentOn", "IGS", "the filament's status, a boolean", "filament_status", field="boolean"),
)


class ReplyError(Exception):
    """A reply that is not a valid answer to its command."""


def request(address: str, command: str) -> bytes:
    return f"#{address}{command}\r".encode("ascii")


def reply(address: str, data: str, error: bool = False) -> bytes:
    """A 12-character reply and its CR: ``*01 1.53E-06``; a zero pressure with the NUL the gauge adds."""
    nul = "\0" if not error and PRESSURE.fullmatch(data) and float(data) == 0 else ""
    return f"{'?' if error else '*'}{address} {data:<8.8}{nul}\r".encode("ascii")


def format_pressure(torr: float) -> str:
    """8 characters, as the gauge sends them: 1.53E-06."""
    return f"{torr:.2E}"


def payload(raw: bytes, address: str, command: str) -> str:
    """The data of a checked reply to ``command`` at ``address``; ReplyError if it is not one."""
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise ReplyError(f"reply to {command} is not ASCII (garbled on the line?): {raw!r}") from None
    if raw.endswith(b"\0\r"):  # a zero pressure: the gauge adds a NUL
        raw, text = raw[:-2] + END, text[:-2] + "\r"
    if len(raw) != REPLY_LENGTH:
        raise ReplyError(f"reply to {command} has {len(raw)} bytes, not {REPLY_LENGTH}: {raw!r}")
    if text[1:3].upper() != address.upper() or text[3] != " ":
        raise ReplyError(f"reply to {command} is not from address {address}: {raw!r}")
    if text[0] == "?":
        raise ReplyError(f"the gauge refused {command}: {text[4:].strip()!r}")
    if text[0] != "*":
        raise ReplyError(f"reply to {command} does not start with '*': {raw!r}")
    return text[4:-1]


def pressure(data: str, command: str) -> float:
    """The pressure of a reply's data; ReplyError if it is not in the gauge's format."""
    if not PRESSURE.fullmatch(data.strip()):
        raise ReplyError(f"reply to {command} is not a pressure: {data!r}")
    return float(data)


def filament(data: str) -> bool:
    """IGS: True if the filament is on."""
    text = data.strip().upper()
    if text.startswith("1") and "ON" in text:
        return True
    if text.startswith("0") and "OFF" in text:
        return False
    raise ReplyError(f"reply to IGS is not a filament status: {data!r}")
