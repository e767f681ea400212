"""A simulated rp-lockbox SCPI server on 127.0.0.1 (port 5000 on the Red Pitaya; any port here).

It keeps the state of the fast analog inputs and outputs and of the four PIDs,
which it names as the lock box does, output first: ``pids["PID21"]`` is the
controller from input 1 to output 2, read with ``PID:IN1:OUT2:KP?``.  Queries
are case-insensitive, long or short forms (``SETPoint``, ``SETP``), answered
with one line and CR LF; anything else gets no reply, as from the real server.

Faults (``faults``): ``silent``, ``garble_next`` (the reply's digits as ``#``),
``cut_short_next`` (half a reply, no CR LF); ``stop()`` refuses connections.

Run standalone:  python -m telegraf_inputs.families.rp_lockbox.simulator --port 5000
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from ...simulators import LineServer, serve_on_a_port, stopwatch
from .protocol import END, readme_name

QUERY = re.compile(
    r"PID:IN([12]):OUT([12]):(KG|KP|KII|KI|KD|SETP(?:OINT)?|HOLD|REL(?:OCK)?|INV(?:ERTED)?)\?"
    r"|ANALOG:(IN|OUT)([12]):VOLT\?",
    re.I,
)


@dataclass
class Pid:
    kg: float = 4096
    kp: float = 0
    ki: float = 0
    kii: float = 0
    kd: float = 0
    setpoint: float = 0.0
    hold: bool = False
    relock: bool = False
    inverted: bool = False


@dataclass
class Lockbox:
    pids: dict[str, Pid] = field(default_factory=lambda: {readme_name(i, o): Pid() for i in (1, 2) for o in (1, 2)})
    outputs: dict[int, float] = field(default_factory=lambda: {1: 0.125, 2: -0.25})
    levels: dict[int, float] = field(default_factory=lambda: {1: 0.0, 2: 0.5})  # each input its own level
    elapsed: Callable[[], float] = field(default_factory=stopwatch)

    def input(self, n: int) -> float:
        t = self.elapsed()
        return round(self.levels[n] + 0.01 * n * math.sin(2 * math.pi * t / 10), 6)


def result_double(value: float) -> str:
    """A voltage as the server writes it: read as a C float, widened, printed by scpi-parser with %.15lg
    (rp-lockbox scpi-server/src/apin.c; ``0.123`` comes as ``0.123000003397465``, ``6e-06`` in exponent form)."""
    widened = struct.unpack("<f", struct.pack("<f", value))[0]
    return f"{widened:.15g}"


class LockboxSimulator(LineServer):
    reply_end = END.encode("ascii")

    title = "rp-lockbox SCPI server on 127.0.0.1; prints its port"

    def banner(self) -> str:
        return f"simulated rp-lockbox; Address: 127.0.0.1, SCPIConnectionParams.Port: {self.port}"

    def __init__(self, port: int = 0) -> None:
        super().__init__(port)
        self.box = Lockbox()
        self.pids = self.box.pids

    def answer(self, text: str) -> str | None:
        match = QUERY.fullmatch(text)
        if match is None:
            return None  # the real server answers nothing to what it rejects
        if match.group(4):
            n = int(match.group(5))
            value = self.box.input(n) if match.group(4).upper() == "IN" else self.box.outputs[n]
            return result_double(value)
        pid = self.pids[readme_name(int(match.group(1)), int(match.group(2)))]
        what = match.group(3).upper()
        if what in ("HOLD", "REL", "RELOCK", "INV", "INVERTED"):
            flag = {"HOLD": pid.hold, "REL": pid.relock, "RELOCK": pid.relock}.get(what, pid.inverted)
            return "ON" if flag else "OFF"
        number = {"KG": pid.kg, "KP": pid.kp, "KI": pid.ki, "KII": pid.kii, "KD": pid.kd}.get(what, pid.setpoint)
        return f"{number:g}"


main = serve_on_a_port(__spec__, LockboxSimulator)


if __name__ == "__main__":
    raise SystemExit(main())
