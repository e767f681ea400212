"""What both ends of the ACG's RS-232 line share: the gauge's 9-byte frames.

The gauge sends a frame on its own about every 20 ms, 9600 baud 8N1, binary
(INFICON's CDG RS-232 protocol, which the ACG's frames match: length byte 7,
the checksum rule, the error bits and the pin-out):

    0 length (7)   1 page (2, 3: CDGxxxD; 4: CDGsci)   2 status   3 error
    4 value high   5 value low   6 read-command result   7 sensor type
    8 checksum = low byte of the sum of bytes 1 to 7

Pressure = value / b x full scale, b = 32000 (pages 2, 3) or 32767 (page 4),
the value a signed 16-bit number (page 4's b is the largest one: taken as
signed; a slightly negative reading near zero is then what it says);
the full scale is in Torr: sensor-type bits 4-7 a mantissa code (1.0, 1.1,
2.0, 2.5, 5.0), bits 0-3 an exponent code (exponent = code - 3).  Status bits
5-4 give the unit the gauge displays (mbar, Torr, Pa); bit 7 heater at
temperature.  Error bits: 0 sync, 1 syntax, 2 inadmissible read, 3 and 4 set
points 1 and 2, 7 an extended error.

The older logger took the nibbles the other way round (mantissa from bits
0-3, exponent from 4-7, unshifted): a 1000 Torr head (0x06) stopped it with an
IndexError, and 0x03/0x04 heads read scaled wrongly.  This follows INFICON.
"""

from __future__ import annotations

from dataclasses import dataclass

FRAME_LENGTH = 9
LENGTH_BYTE = 7
PAGES = {2: 32000, 3: 32000, 4: 32767}  # page -> the value at full scale
MANTISSAS = (1.0, 1.1, 2.0, 2.5, 5.0)
UNITS = {0: "mbar", 1: "Torr", 2: "Pa"}
ERROR_BITS = {0: "RS-232 sync error", 1: "syntax error", 2: "inadmissible read", 7: "extended error"}
SETPOINT_BITS = {3: "setpoint1", 4: "setpoint2"}


class FrameError(Exception):
    """Bytes that hold no valid frame, or a frame that is not a reading."""


@dataclass(frozen=True)
class Frame:
    page: int
    status: int
    error: int
    value: int  # signed
    sensor_type: int

    @property
    def full_scale_torr(self) -> float:
        return full_scale(self.sensor_type)

    @property
    def torr(self) -> float:
        return self.value / PAGES[self.page] * self.full_scale_torr

    @property
    def unit(self) -> str:
        return UNITS.get((self.status >> 4) & 0b11, "unknown")


def full_scale(sensor_type: int) -> float:
    """The head's full scale in Torr; FrameError for a code INFICON does not define."""
    mantissa, exponent = sensor_type >> 4, sensor_type & 0x0F
    if mantissa >= len(MANTISSAS) or exponent > 7:
        raise FrameError(f"sensor type 0x{sensor_type:02X} is not a full scale INFICON defines")
    return MANTISSAS[mantissa] * 10.0 ** (exponent - 3)


def checksum(body: bytes) -> int:
    return sum(body) & 0xFF


def encode(page: int, status: int, error: int, value: int, sensor_type: int, read_result: int = 0) -> bytes:
    body = bytes([page, status, error]) + (value & 0xFFFF).to_bytes(2, "big") + bytes([read_result, sensor_type])
    return bytes([LENGTH_BYTE]) + body + bytes([checksum(body)])


def find_frame(data: bytes) -> Frame | None:
    """The last valid frame in ``data`` (length byte, checksum, known page), or None."""
    for start in range(len(data) - FRAME_LENGTH, -1, -1):
        chunk = data[start : start + FRAME_LENGTH]
        if chunk[0] == LENGTH_BYTE and chunk[1] in PAGES and checksum(chunk[1:8]) == chunk[8]:
            value = int.from_bytes(chunk[4:6], "big", signed=True)
            return Frame(page=chunk[1], status=chunk[2], error=chunk[3], value=value, sensor_type=chunk[7])
    return None
