"""A simulated Cryomech CPA panel: a Modbus TCP server on 127.0.0.1 answering function 04.

Input registers 1-55 in the 3.x layout (integers x 10) or 1-53 in the 2.x
layout (32-bit floats, low word first), for one unit id; a read outside them
gets exception 2, another function exception 1, another unit id nothing.
Values drift slowly.  ``state``, ``warnings``, ``alarms``, ``pressure_scale``
and ``temperature_scale`` are settable.

Faults (``faults``): ``silent`` (connections accepted, requests unanswered),
``exception_next`` (an exception code for the next reply), ``garble_next`` (a
reply to another transaction), ``cut_short_next`` (half a reply, then nothing),
``wrong_unit_next``; ``stop()`` leaves the port refusing connections.

Run standalone:  python -m telegraf_inputs.families.cryomech_cpa.simulator --port 5020 [--panel 2]
"""

from __future__ import annotations

import argparse
import math
import socket
import time
from dataclasses import dataclass

from ...modbus import TCP_HEADER, tcp_frame
from ...simulators import LateFaults, TcpServer, deliver, network_command_line, run_standalone, stopwatch
from .protocol import COUNT, FIRST, HOURS3, QUANTITIES, WARNINGS2, WARNINGS3, float_of_flags, float_words


@dataclass
class Faults(LateFaults):
    silent: bool = False
    exception_next: int | None = None
    garble_next: bool = False
    cut_short_next: bool = False
    wrong_unit_next: bool = False


class CpaSimulator(TcpServer):
    def __init__(self, *, panel: str = "3", unit: int = 1, port: int = 0, latency_s: float = 0.0) -> None:
        super().__init__(port)
        self.panel = panel
        self.latency_s = latency_s  # the panel's time to answer (the benchmarks' L)
        self.unit = unit
        self.state = 3
        self.running = True
        self.warnings = 0
        self.alarms = 0
        self.pressure_scale = 0  # psi
        self.temperature_scale = 0  # °F
        self.readings = {
            "CoolantIntTemperature": 75.0, "CoolantOutTemperature": 95.2, "OilTemperature": 110.3,
            "HeTemperature": 140.7, "LowPressure": 95.4, "LowPressureAverage": 95.0, "HighPressure": 288.6,
            "HighPressureAverage": 288.1, "DeltaPressureAverage": 193.1, "MotorCurrent": 18.4,
            "HoursOfOperation": 12345.6,
        }  # fmt: skip
        self.faults = Faults()
        self.floats2: dict[int, float] = {}  # 2.x panel: register -> a float sent as it is (NaN, 1.5 ...)
        self.requests: list[bytes] = []
        self.elapsed = stopwatch()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def registers(self) -> list[int]:
        """Registers 1 to 55 (or 53) as the panel holds them now."""
        regs = [0] * (COUNT[self.panel] + FIRST)  # index = register number
        drift = 1 + 0.002 * math.sin(2 * math.pi * self.elapsed() / 120)
        regs[1], regs[2] = self.state, int(self.running)
        regs[29], regs[30], regs[31], regs[32] = self.pressure_scale, self.temperature_scale, 4321, 0x0401
        for name, quantity in QUANTITIES.items():
            value = self.readings[name] * (drift if quantity.kind != "hours" else 1)
            if self.panel == "3":
                if quantity.kind == "hours":
                    raw = round(value * 10)
                    regs[HOURS3], regs[HOURS3 + 1] = raw & 0xFFFF, raw >> 16
                else:
                    regs[quantity.register3] = round(value * 10) & 0xFFFF
            else:
                regs[quantity.register2], regs[quantity.register2 + 1] = float_words(value)
        if self.panel == "3":
            for first, word in ((WARNINGS3, self.warnings), (WARNINGS3 + 2, self.alarms)):
                regs[first], regs[first + 1] = word & 0xFFFF, word >> 16
        else:
            for first, word in ((WARNINGS2, self.warnings), (WARNINGS2 + 2, self.alarms)):
                regs[first], regs[first + 1] = float_words(float_of_flags(word))
            for register, value in self.floats2.items():
                regs[register], regs[register + 1] = float_words(value)
        return regs[FIRST:]

    def serve(self, conn: socket.socket) -> None:
        buffer = b""
        while not self._stop.is_set():
            data = conn.recv(1024)
            if not data:
                return
            buffer += data
            while len(buffer) >= TCP_HEADER:
                length = int.from_bytes(buffer[4:6], "big")
                if len(buffer) < 6 + length:
                    break
                request, buffer = buffer[: 6 + length], buffer[6 + length :]
                self.requests.append(request)
                reply = self.respond(request)
                if reply is None or self.faults.silent:
                    continue
                if self.latency_s:
                    time.sleep(self.latency_s)
                if self.faults.cut_short_next:
                    self.faults.cut_short_next = False
                    reply = reply[: len(reply) // 2]
                deliver(conn.sendall, reply, self.faults)

    def respond(self, request: bytes) -> bytes | None:
        transaction, unit, pdu = int.from_bytes(request[:2], "big"), request[6], request[7:]
        if unit != self.unit:
            return None
        if self.faults.wrong_unit_next:
            self.faults.wrong_unit_next, unit = False, (unit + 1) & 0xFF
        if self.faults.garble_next:
            self.faults.garble_next, transaction = False, (transaction + 7) & 0xFFFF
        function = pdu[0]
        if self.faults.exception_next is not None:
            code, self.faults.exception_next = self.faults.exception_next, None
            return tcp_frame(transaction, unit, bytes([function | 0x80, code]))
        if function != 0x04 or len(pdu) != 5:
            return tcp_frame(transaction, unit, bytes([function | 0x80, 1]))
        start, count = int.from_bytes(pdu[1:3], "big"), int.from_bytes(pdu[3:5], "big")
        if start < FIRST or count < 1 or start + count > FIRST + COUNT[self.panel]:
            return tcp_frame(transaction, unit, bytes([0x84, 2]))
        regs = self.registers()[start - FIRST : start - FIRST + count]
        data = b"".join(r.to_bytes(2, "big") for r in regs)
        return tcp_frame(transaction, unit, bytes([0x04, len(data)]) + data)


def main(argv: list[str] | None = None) -> int:
    def options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--panel", choices=["2", "3"], default="3")
        parser.add_argument("--unit", type=int, default=1)

    args = network_command_line(__spec__, "Cryomech CPA panel, Modbus TCP on 127.0.0.1; prints the Address", argv,
                                options)  # fmt: skip
    sim = CpaSimulator(panel=args.panel, unit=args.unit, port=args.port).start()
    return run_standalone(f"simulated Cryomech CPA ({args.panel}.x panel, unit {args.unit}); Address: {sim.address}",
                          sim.stop)  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
