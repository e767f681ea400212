"""A simulated KJLC ACG capacitance manometer on a pty: it streams a 9-byte frame every 20 ms.

Frames follow INFICON's CDG protocol (see protocol.py): page 3, the unit the
gauge displays in the status byte, the head's full scale in the sensor-type
byte (0x06: 1000 Torr by default), the pressure as a signed 16-bit value.  When
the program's port is set to another line, it reads noise instead, as on a
real line.  Commands sent to the gauge are ignored.

Faults: ``faults.silent`` (no frames: gauge off or cable out), ``garble``
(every frame's checksum is wrong), ``cut_short_next`` (half a frame, then
silence), ``late_next_s`` (a pause in the stream), ``stall_next_s`` (half a frame,
a pause, its rest), ``error`` (the error byte), ``value`` (raw, signed: 32000 = full scale,
32767 over range), ``sensor_type``; ``vanish`` / ``reappear``.

Run standalone:  python -m telegraf_inputs.families.kjlc_acg.simulator --link /tmp/acg
"""

from __future__ import annotations

import argparse
import math
import time
from typing import Any

from ...serial_sim import LineSimulator
from ...simulators import run_standalone, stopwatch
from .protocol import FrameError, encode, full_scale


class AcgSimulator(LineSimulator):
    name = "acg-sim"
    title = "KJLC ACG gauge streaming frames"

    def __init__(
        self,
        *,
        sensor_type: int = 0x06,
        torr: float = 12.5,
        unit_code: int = 1,
        **line: Any,
    ) -> None:
        super().__init__(**line)
        self.sensor_type = sensor_type
        self.torr = torr
        self.unit_code = unit_code
        self.error = 0
        self.value: int | None = None  # a fixed raw value instead of the drifting pressure
        self.garble = False
        self.frames = 0
        self.elapsed = stopwatch()
        self.last = 0.0

    def raw(self) -> int:
        if self.value is not None:
            return self.value
        t = self.elapsed()
        try:
            scale = full_scale(self.sensor_type)
        except FrameError:  # a code INFICON does not define: the gauge still sends something
            scale = 1000.0
        return round(self.torr * (1 + 0.01 * math.sin(2 * math.pi * t / 60)) / scale * 32000)

    def frame(self) -> bytes:
        status = (self.unit_code << 4) | 0x80
        data = encode(3, status, self.error, self.raw(), self.sensor_type)
        return data[:-1] + bytes([data[-1] ^ 0xFF]) if self.garble else data

    def next_request(self, buffer: bytes) -> tuple[bytes | None, bytes]:
        return None, b""  # commands to the gauge are not simulated

    def respond(self, request: bytes) -> bytes | None:
        return None

    def idle(self) -> None:
        if time.monotonic() - self.last < 0.02:
            return
        self.last = time.monotonic()
        frame = self.frame()
        late = self.faults.take_delay("late_next_s")
        if late:  # the gauge pauses: the next frame comes this much later
            self.last += late
            return
        stall = self.faults.take_delay("stall_next_s")
        if stall:  # half a frame, a pause, then its rest
            self.stream(frame[:4])
            time.sleep(stall)
            self.stream(frame[4:])
            return
        if self.faults.take("cut_short_next"):
            self.stream(frame[:4])
            self.faults.silent = True  # the cable came out mid-frame
            return
        self.frames += 1
        self.stream(frame)


def main(argv: list[str] | None = None) -> int:
    def options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--sensor-type", type=lambda s: int(s, 0), default=0x06,
                            help="full-scale code (0x06: 1000 Torr)")  # fmt: skip
        parser.add_argument("--torr", type=float, default=12.5)

    args, line = AcgSimulator.command_line(argv, options)
    sim = AcgSimulator(sensor_type=args.sensor_type, torr=args.torr, **line).start()
    return run_standalone(f"simulated KJLC ACG ({full_scale(args.sensor_type):g} Torr head); Address: {sim.path}",
                          sim.stop)  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
