"""What both ends of a KPA101 USB serial link share: Thorlabs' APT messages.

115200 baud 8N1, RTS/CTS.  A short message is 6 bytes, little-endian: message
id (2), parameter 1, parameter 2, destination, source.  A long message: id (2),
data length (2), destination | 0x80, source, then the data.  The host is 0x01,
the device 0x50.

Used here: MGMSG_QUAD_REQ_PARAMS (0x0871, parameter 1 = sub-id) answered by
MGMSG_QUAD_GET_PARAMS (0x0872), whose data starts with the sub-id.  Sub-id 0x03
(readings) carries 12 bytes: sub-id, XDiff i16, YDiff i16, Sum u16, XPos i16,
YPos i16.  The device may also send MGMSG_QUAD_GET_STATUSUPDATE (0x0881) on
its own; it is skipped.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

HOST, DEVICE = 0x01, 0x50
REQ_PARAMS, GET_PARAMS, STATUS_UPDATE = 0x0871, 0x0872, 0x0881
HW_REQ_INFO, HW_GET_INFO = 0x0005, 0x0006
READINGS = 0x03
READINGS_LENGTH = 12
HEADER = 6
MAX_DATA = 128  # the longest long message accepted (HW_GET_INFO is 84 bytes)
KNOWN = {GET_PARAMS, STATUS_UPDATE, HW_GET_INFO}
VOLTS = 10 / 32767


class FrameError(Exception):
    """Bytes that are not the expected APT message."""


def short_message(message_id: int, param1: int = 0, param2: int = 0, dest: int = DEVICE, source: int = HOST) -> bytes:
    return struct.pack("<HBBBB", message_id, param1, param2, dest, source)


def long_message(message_id: int, data: bytes, dest: int = HOST, source: int = DEVICE) -> bytes:
    return struct.pack("<HHBB", message_id, len(data), dest | 0x80, source) + data


def request_readings() -> bytes:
    return short_message(REQ_PARAMS, READINGS)


@dataclass(frozen=True)
class Header:
    message_id: int
    length: int  # data bytes that follow (0 for a short message)
    dest: int
    source: int


def parse_header(raw: bytes) -> Header:
    """The header of a message from the device; FrameError if it is not one the host should get."""
    message_id, word, dest, source = struct.unpack("<HHBB", raw)
    long = bool(dest & 0x80)
    if (dest & 0x7F) != HOST or source != DEVICE:
        raise FrameError(f"a message from {source:#04x} to {dest & 0x7F:#04x}, not from the device (0x50) to the "
                         f"host (0x01): {raw.hex(' ')}")  # fmt: skip
    if message_id not in KNOWN:
        raise FrameError(f"message id {message_id:#06x} is not one the KPA101 sends here: {raw.hex(' ')}")
    length = word if long else 0
    if length > MAX_DATA:
        raise FrameError(f"a message announcing {length} data bytes (at most {MAX_DATA}): {raw.hex(' ')}")
    return Header(message_id, length, dest, source)


@dataclass(frozen=True)
class Readings:
    xdiff: int
    ydiff: int
    sum: int
    xpos: int
    ypos: int

    def volts(self) -> dict[str, float]:
        return {
            "XDiff": self.xdiff * VOLTS,
            "YDiff": self.ydiff * VOLTS,
            "Sum": self.sum * VOLTS / 2,  # 0 ... 65535 is 0 ... 10 V
            "XPos": self.xpos * VOLTS,
            "YPos": self.ypos * VOLTS,
        }


def parse_readings(data: bytes) -> Readings:
    if len(data) != READINGS_LENGTH:
        raise FrameError(f"readings of {len(data)} bytes, not {READINGS_LENGTH}")
    sub_id, xdiff, ydiff, total, xpos, ypos = struct.unpack("<HhhHhh", data)
    if sub_id != READINGS:
        raise FrameError(f"parameters of sub-id {sub_id:#04x}, not the readings ({READINGS:#04x})")
    return Readings(xdiff, ydiff, total, xpos, ypos)


def readings_data(r: Readings) -> bytes:
    return struct.pack("<HhhHhh", READINGS, r.xdiff, r.ydiff, r.sum, r.xpos, r.ypos)
