"""A simulated Thorlabs KPA101 on a pty, speaking APT at 115200 baud.

Answers MGMSG_QUAD_REQ_PARAMS for the readings (sub-id 0x03) with
MGMSG_QUAD_GET_PARAMS, and MGMSG_HW_REQ_INFO with its 84-byte MGMSG_HW_GET_INFO;
other requests get no reply.  ``readings`` (raw counts) is settable; the spot
drifts slowly.  Only at its line settings, after the bytes' transmission time.

Faults (``faults``): ``silent``, ``delay_s``, ``garble_next`` (the reply's
source byte wrong), ``cut_short_next``; ``status_next`` (an unsolicited status
update before the reply); ``unknown_next`` (a message id the cube does not
send); ``vanish`` / ``reappear``.

Run standalone:  python -m telegraf_inputs.families.thorlabs_kpa101.simulator --link /tmp/kpa101
"""

from __future__ import annotations

import math
import struct
from typing import Any

from ...serial_sim import LineSimulator
from ...simulators import stopwatch
from .protocol import (
    GET_PARAMS,
    HEADER,
    HW_GET_INFO,
    HW_REQ_INFO,
    READINGS,
    REQ_PARAMS,
    STATUS_UPDATE,
    Readings,
    long_message,
    readings_data,
)


class Kpa101Simulator(LineSimulator):
    name = "kpa101-sim"
    title = "Thorlabs KPA101 (APT)"
    default_line = (115200, 8, "N", 1)

    def banner(self) -> str:
        return f"simulated Thorlabs KPA101 {self.serial_number}; Address: {self.path}"

    def __init__(
        self,
        *,
        serial_number: int = 69252254,
        **line: Any,
    ) -> None:
        super().__init__(**line)
        self.serial_number = serial_number
        self.readings = Readings(xdiff=3277, ydiff=-1638, sum=32767, xpos=2000, ypos=-1000)
        self.status_next = False
        self.unknown_next = False
        self.elapsed = stopwatch()

    def next_request(self, buffer: bytes) -> tuple[bytes | None, bytes]:
        if len(buffer) < HEADER:
            return None, buffer
        length = struct.unpack("<H", buffer[2:4])[0] if buffer[4] & 0x80 else 0
        if len(buffer) < HEADER + length:
            return None, buffer
        return buffer[: HEADER + length], buffer[HEADER + length :]

    def respond(self, request: bytes) -> bytes | None:
        message_id, param1 = struct.unpack("<HB", request[:3])
        if request[4] & 0x7F != 0x50 or request[5] != 0x01:
            return None  # not for this cube
        reply = None
        if message_id == REQ_PARAMS and param1 == READINGS:
            drift = math.sin(2 * math.pi * self.elapsed() / 20)
            r = self.readings
            now = Readings(r.xdiff + round(30 * drift), r.ydiff, r.sum, r.xpos + round(30 * drift), r.ypos)
            reply = long_message(GET_PARAMS, readings_data(now))
        elif message_id == HW_REQ_INFO:
            info = struct.pack("<I8sH", self.serial_number, b"KPA101\0\0", 44) + bytes(70)
            reply = long_message(HW_GET_INFO, info)
        if reply is None:
            return None
        if self.status_next:
            self.status_next = False
            reply = long_message(STATUS_UPDATE, bytes(14)) + reply
        if self.unknown_next:
            self.unknown_next = False
            reply = struct.pack("<HBBBB", 0x0999, 0, 0, 0x01, 0x50)
        return reply

    def damage(self, reply: bytes) -> bytes:
        if self.faults.take("garble_next"):
            reply = reply[:5] + bytes([reply[5] ^ 0x40]) + reply[6:]  # the source byte
        return super().damage(reply)


main = Kpa101Simulator.standalone


if __name__ == "__main__":
    raise SystemExit(main())
