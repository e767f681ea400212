"""A simulated Met One DR-528 on a pty, as if on the end of its RS-232 cable.

On ``4`` CR it sends its latest record: a CSV header line and a data line,
CR LF each (a time stamp, eight particle sizes in counts, AT(C), RH(%)); it
says nothing to anything else.  Only at its line settings (115200 8N1 by
default), after the bytes' transmission time.  Counts change from record to
record.

Faults (``faults``): ``silent``, ``delay_s``, ``garble_next``,
``cut_short_next`` (the data line never comes); ``values`` to set any label;
``vanish`` / ``reappear``.

Run standalone:  python -m telegraf_inputs.families.metone_dr528.simulator --link /tmp/dr528
"""

from __future__ import annotations

import random
import time
from typing import Any

from ...serial_sim import LineSimulator
from .protocol import LABELS, REQUEST, format_record


class Dr528Simulator(LineSimulator):
    name = "dr528-sim"
    title = "Met One DR-528"
    default_line = (115200, 8, "N", 1)
    request_end = b"\r"

    def __init__(
        self,
        **line: Any,
    ) -> None:
        super().__init__(**line)
        base = [35200, 12100, 5300, 2100, 640, 210, 55, 9]
        self.values: dict[str, float] = {label: float(n) for label, n in zip(LABELS, base, strict=False)}
        self.values["AT(C)"], self.values["RH(%)"] = 21.4, 43.0
        self.random = random.Random(528)
        self.echo = b""  # sent back before the record, as a terminal program's echo (b"4\r\n")

    def damage(self, reply: bytes) -> bytes:
        if self.faults.take("garble_next"):  # noise on the line, in the data line's counts
            at = reply.index(b"\r\n") + 2 + 25
            reply = reply[:at] + bytes([reply[at] ^ 0x40]) + reply[at + 1 :]
        return super().damage(reply)

    def respond(self, request: bytes) -> bytes | None:
        if request != REQUEST:
            return None
        record = {k: (round(v * self.random.uniform(0.9, 1.1)) if "(CF)" in k else v) for k, v in self.values.items()}
        return self.echo + format_record(time.strftime("%Y-%m-%d %H:%M:%S"), record)


main = Dr528Simulator.standalone


if __name__ == "__main__":
    raise SystemExit(main())
