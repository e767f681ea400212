"""Simulated KJLC 354 / 352 ion gauges on a pty, as if on an RS-485 line (several addresses on one line).

Answers ``RD`` (ion gauge), ``RDS`` (combined), ``RDCG1``/``RDCG2``, ``IGS``,
``IG1``/``IG0`` (filament on/off) with 12-character replies and CR, after the
line's transmission time, only at the line's settings (19200 8N1 by default).
A command to another address, or without its CR, gets no reply; an unknown
command gets ``?xx INVALID``.  The pressure drifts slowly.

Faults (``faults``): ``silent``, ``delay_s``, ``error_next`` (``?xx INVALID``),
``garble_next``, ``cut_short_next``; per gauge ``filament_on`` (off: 9.90E+09)
and ``cg_unplugged`` (1.01E+03); ``vanish`` / ``reappear`` for the USB adapter.

Run standalone:  python -m telegraf_inputs.families.kjlc354.simulator --address 01 --address 02
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...serial_sim import LineSimulator, split_at
from ...simulators import run_standalone, stopwatch
from .protocol import CG_OVER_RANGE, END, IG_OFF, VOCABULARY, format_pressure, reply


@dataclass
class Gauge:
    base_torr: float = 2.0e-7
    cg1_torr: float = 3.1e-3
    cg2_torr: float = 7.6e2
    filament_on: bool = True
    cg_unplugged: bool = False
    elapsed: Callable[[], float] = field(default_factory=stopwatch)

    def ion(self) -> float:
        t = self.elapsed()
        return self.base_torr * (1 + 0.1 * math.sin(2 * math.pi * t / 300))


class Kjlc354Simulator(LineSimulator):
    name = "kjlc354-sim"
    title = "KJLC 354/352 ion gauge(s)"
    default_line = (19200, 8, "N", 1)
    vocabulary = VOCABULARY

    def __init__(
        self,
        addresses: tuple[str, ...] | list[str] = ("01",),
        **line: Any,
    ) -> None:
        super().__init__(**line)
        self.gauges = {a.upper(): Gauge() for a in addresses}
        self.addressed = next(iter(self.gauges))  # the gauge the command being answered is for

    def next_request(self, buffer: bytes) -> tuple[bytes | None, bytes]:
        request, rest = split_at(buffer, END)
        if request is None:
            return None, rest
        start = request.rfind(b"#")  # noise before '#' is not a command
        return (request[start:] if start >= 0 else b""), rest

    def _parts(self, request: bytes) -> tuple[str, str] | None:
        text = request.decode("ascii", "replace").rstrip("\r")
        if len(text) < 4 or text[0] != "#" or text[1:3].upper() not in self.gauges:
            return None  # another gauge's command, or noise
        return text[1:3].upper(), text[3:]

    def error_reply(self, request: bytes) -> bytes | None:
        parts = self._parts(request)
        return reply(parts[0], "INVALID", error=True) if parts else None

    def respond(self, request: bytes) -> bytes | None:
        parts = self._parts(request)
        if parts is None:
            return None
        self.addressed, command = parts
        return self.answer(command)

    # the answers of its vocabulary's rows, from the gauge addressed
    def ion_gauge(self) -> bytes:
        gauge = self.gauges[self.addressed]
        return self._reply(format_pressure(gauge.ion() if gauge.filament_on else IG_OFF))

    def combined(self) -> bytes:
        return self.ion_gauge() if self.gauges[self.addressed].filament_on else self.convection_gauge_1()

    def convection_gauge_1(self) -> bytes:
        gauge = self.gauges[self.addressed]
        return self._reply(format_pressure(CG_OVER_RANGE if gauge.cg_unplugged else gauge.cg1_torr))

    def convection_gauge_2(self) -> bytes:
        gauge = self.gauges[self.addressed]
        return self._reply(format_pressure(CG_OVER_RANGE if gauge.cg_unplugged else gauge.cg2_torr))

    def filament_status(self) -> bytes:
        return self._reply("1 IG ON" if self.gauges[self.addressed].filament_on else "0 IG OFF")

    def unlisted(self, text: str) -> bytes:
        if text in ("IG1", "IG0"):  # filament on, off
            self.gauges[self.addressed].filament_on = text == "IG1"
            return self._reply("PROGM OK")
        return reply(self.addressed, "INVALID", error=True)

    def _reply(self, data: str) -> bytes:
        return reply(self.addressed, data)


def main(argv: list[str] | None = None) -> int:
    def options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--address", action="append", help="gauge address(es), two hex digits (default 01)")

    args, line = Kjlc354Simulator.command_line(argv, options)
    sim = Kjlc354Simulator(args.address or ["01"], **line).start()
    return run_standalone(f"simulated KJLC 354 gauge(s) {', '.join(sim.gauges)}; Address: {sim.path}", sim.stop)


if __name__ == "__main__":
    raise SystemExit(main())
