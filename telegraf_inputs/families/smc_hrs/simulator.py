"""A simulated SMC HRS chiller on a pseudo-terminal, as if on the end of an RS-232C cable (or on TCP).

The program under test opens the pty's slave side (or a symlink to it, like
``/dev/serial/by-id/...``) with pyserial, exactly as it would open
``/dev/ttyUSB0``.  The simulator answers on the master side:

* with the simple communication protocol (PV1, SV1 readable, SV1 writable,
  LOC and STR accepted; unknown commands get no reply, as on the chiller) or
  MODBUS RTU (function 03 on registers 0000h-000Fh, 06 on the set
  temperature), with or without BCC;
* only if the port is set to the simulator's baud rate, data bits and stop
  bits (the pty carries these termios settings; a chiller on a mismatched line
  sees framing errors and stays silent).  Linux ptys drop the parity flag, so
  parity cannot be checked;
* after the time the bytes take on the line at that baud rate.

Several stations can share one simulator (an RS-485 bus).  The fluid
temperature drifts slowly around the set point.  Faults are switched on
``HrsSimulator.faults`` and with ``raise_alarm``, ``vanish`` and ``reappear``.

On Windows, which has no ptys, and wherever ``transport="socket"`` is chosen, the
line is a TCP server on 127.0.0.1 that pyserial opens as ``socket://127.0.0.1:PORT``;
the line settings cannot be checked there.

Run standalone:  python -m telegraf_inputs.families.smc_hrs.simulator --link /tmp/chiller  (or --socket)
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...modbus import crc16, with_crc
from ...serial_sim import LineFaults, LineSimulator
from ...simulators import run_standalone, stopwatch
from .protocol import ACK, ALARM_BITS, ETX, NAK, STX, bcc


@dataclass
class Faults(LineFaults):
    """The chiller's faults beside every serial instrument's; the ``*_next`` ones apply to one reply."""

    nak_next: str | None = None  # a negative reply with this exception code (MODBUS: exception number)
    bad_check_next: bool = False  # wrong BCC (simple) or CRC (MODBUS)
    wrong_station_next: bool = False  # the reply carries another station number
    truncate_next: bool = False  # the reply stops halfway

    def take_nak(self) -> str | None:
        code, self.nak_next = self.nak_next, None
        return code


@dataclass
class Chiller:
    """One station's state."""

    set_point: float = 20.0
    pressure_mpa: float = 0.25
    resistivity: float = 2.5  # MΩ·cm (or µS/cm conductivity on HRS100/150)
    flow: float = 31.4  # L/min, HRS100/150 only
    alarm_words: list[int] = field(default_factory=lambda: [0, 0, 0])
    pressure_unit_psi: bool = False
    elapsed: Callable[[], float] = field(default_factory=stopwatch)

    def temperature(self) -> float:
        t = self.elapsed()
        return self.set_point + 0.4 * math.sin(2 * math.pi * t / 120) + 0.1 * math.sin(2 * math.pi * t / 17)

    def registers(self, model: str) -> list[int]:
        regs = [0] * 16
        regs[0] = round(self.temperature() * 10) & 0xFFFF
        big = model.upper().startswith(("HRS100", "HRS150"))
        regs[1] = round(self.flow * 10) if big else 0
        regs[2] = round(self.pressure_mpa / 0.006894757) if self.pressure_unit_psi else round(self.pressure_mpa * 100)
        regs[3] = round(self.resistivity * 10)
        any_alarm = any(self.alarm_words)
        ready = abs(self.temperature() - self.set_point) < 1
        status = 1 | (1 << 5) | (ready << 9) | (any_alarm << 2) | (self.pressure_unit_psi << 4)
        regs[4] = status
        regs[5:8] = self.alarm_words
        regs[0x0B] = round(self.set_point * 10) & 0xFFFF
        return regs


def simple_data(tenths: int) -> str:
    """Five characters: 00258 for 25.8, -0050 for -5.0."""
    return f"-{-tenths:04d}" if tenths < 0 else f"{tenths:05d}"


class HrsSimulator(LineSimulator):
    """SMC HRS chiller(s) on a pty; ``path`` is what to give as the device's Address."""

    name = "smc-hrs-sim"
    title = "SMC HRS chiller"
    default_line = (9600, 8, "N", 2)
    reset_on_silence = True  # silence on the line ends any partial frame (MODBUS RTU frames end by silence)

    def __init__(
        self,
        stations: list[int] | tuple[int, ...] = (1,),
        protocol: str = "simple",
        bcc: bool = False,
        model: str = "HRS012-AN-10-T",
        **line: Any,
    ) -> None:
        super().__init__(**line)
        self.chillers = {station: Chiller() for station in stations}
        self.protocol = protocol
        self.bcc = bcc
        self.model = model
        self.faults: Faults = Faults()

    # ------------------------------------------------------------------ control

    def raise_alarm(self, name: str, station: int | None = None) -> None:
        """Set an alarm flag by name (see ALARM_BITS), or ``flag3_bitN``."""
        if name.startswith("flag3_bit"):
            word, bit = 3, int(name.removeprefix("flag3_bit"))
        else:
            word, bit = next(k for k, v in ALARM_BITS.items() if v == name)
        chiller = self.chillers[station if station is not None else next(iter(self.chillers))]
        chiller.alarm_words[word - 1] |= 1 << bit

    def clear_alarms(self) -> None:
        for chiller in self.chillers.values():
            chiller.alarm_words = [0, 0, 0]

    # ------------------------------------------------------------------ serving

    def respond(self, request: bytes) -> bytes | None:
        return self._simple(request) if self.protocol == "simple" else self._modbus(request)

    def next_request(self, buffer: bytes) -> tuple[bytes | None, bytes]:
        return self._next_frame(buffer)

    def _next_frame(self, buffer: bytes) -> tuple[bytes | None, bytes]:
        if self.protocol == "simple":
            etx = buffer.find(bytes([ETX]))
            if etx < 0:  # incomplete: keep from the last STX (an STX clears what came before it)
                start = buffer.rfind(bytes([STX]))
                return None, buffer[start:] if start >= 0 else b""
            start = buffer.rfind(bytes([STX]), 0, etx)
            if start < 0:  # an ETX without STX: noise
                return self._next_frame(buffer[etx + 1 :])
            end = etx + 1 + self.bcc
            if len(buffer) < end:
                return None, buffer[start:]
            return buffer[start:end], buffer[end:]
        if len(buffer) < 8:  # function 03 and 06 requests are 8 bytes; others end at silence
            return None, buffer
        return buffer[:8], buffer[8:]

    def damage(self, reply: bytes) -> bytes:
        f = self.faults
        if f.take("wrong_station_next"):
            reply = self._restation(reply)
        if f.take("bad_check_next"):
            reply = reply[:-1] + bytes([reply[-1] ^ 0x5A])
        if f.take("garble_next"):  # noise flips a bit in the middle of the reply
            middle = len(reply) // 2 + 1
            reply = reply[:middle] + bytes([reply[middle] ^ 0x40]) + reply[middle + 1 :]
        if f.take("truncate_next"):
            reply = reply[: len(reply) // 2]
        return reply

    def _restation(self, reply: bytes) -> bytes:
        if self.protocol == "simple":
            other = (int(reply[1:3]) % 99) + 1
            frame = bytes([STX]) + f"{other:02d}".encode() + reply[3 : reply.index(ETX) + 1]
            return frame + bytes([bcc(frame)]) if self.bcc else frame
        return with_crc(bytes([(reply[0] % 247) + 1]) + reply[1:-2])

    # ------------------------------------------------------------------ the simple protocol

    def _frame(self, body: str | bytes) -> bytes:
        frame = bytes([STX]) + (body.encode("ascii") if isinstance(body, str) else body) + bytes([ETX])
        return frame + bytes([bcc(frame)]) if self.bcc else frame

    def _simple(self, request: bytes) -> bytes | None:
        if self.bcc and bcc(request[:-1]) != request[-1]:
            return None  # a request with a bad BCC is not answered
        body = request[1 : request.index(ETX)].decode("ascii", "replace")
        if len(body) < 6 or not body[:2].isdigit() or int(body[:2]) not in self.chillers:
            return None  # another station's request (or noise) on the bus
        station, kind, command, data = body[:2], body[2], body[3:6], body[6:]
        chiller = self.chillers[int(station)]
        if (code := self.faults.take_nak()) is not None:
            return self._frame(station.encode() + bytes([NAK]) + str(code).encode())
        if kind == "R" and not data and command in ("PV1", "SV1"):
            value = chiller.temperature() if command == "PV1" else chiller.set_point
            return self._frame(station.encode() + bytes([ACK]) + (command + simple_data(round(value * 10))).encode())
        if kind == "W" and command == "SV1":
            if len(data) != 5 or not (data.isdigit() or (data[0] == "-" and data[1:].isdigit())):
                return self._frame(station.encode() + bytes([NAK]) + b"3")
            value = int(data) / 10
            if not 5.0 <= value <= 40.0:
                return self._frame(station.encode() + bytes([NAK]) + b"1")
            chiller.set_point = value
            return self._frame(station.encode() + bytes([ACK]))
        if kind == "W" and command in ("LOC", "STR"):
            return self._frame(station.encode() + bytes([ACK]))
        return None  # not in the command table: no response at all

    # ------------------------------------------------------------------ MODBUS RTU

    def _modbus(self, request: bytes) -> bytes | None:
        if crc16(request[:-2]) != int.from_bytes(request[-2:], "little"):
            return None  # a frame with a CRC error is ignored
        station, function = request[0], request[1]
        if station not in self.chillers:
            return None
        chiller = self.chillers[station]
        if (code := self.faults.take_nak()) is not None:
            return with_crc(bytes([station, function | 0x80, int(str(code))]))
        first, second = int.from_bytes(request[2:4], "big"), int.from_bytes(request[4:6], "big")
        if function == 0x03:
            if not 1 <= second <= 16 or first + second > 16:
                return with_crc(bytes([station, 0x83, 2]))
            regs = chiller.registers(self.model)[first : first + second]
            data = b"".join((r & 0xFFFF).to_bytes(2, "big") for r in regs)
            return with_crc(bytes([station, 0x03, len(data)]) + data)
        if function == 0x06:
            if first != 0x0B:
                return with_crc(bytes([station, 0x86, 2]))
            if not 50 <= second <= 400:
                return with_crc(bytes([station, 0x86, 3]))
            chiller.set_point = second / 10
            return request
        return with_crc(bytes([station, function | 0x80, 1]))


def main(argv: list[str] | None = None) -> int:
    def options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--station", type=int, action="append", help="station number(s) (default 1)")
        parser.add_argument("--protocol", choices=["simple", "modbus"], default="simple")
        parser.add_argument("--bcc", action="store_true", help="BCC on (simple protocol)")
        parser.add_argument("--model", default="HRS012-AN-10-T")

    args, line = HrsSimulator.command_line(argv, options)
    sim = HrsSimulator(stations=args.station or [1], protocol=args.protocol, bcc=args.bcc, model=args.model,
                       **line).start()  # fmt: skip
    return run_standalone(f"simulated SMC {args.model} ({args.protocol} protocol); Address: {sim.path}", sim.stop)


if __name__ == "__main__":
    raise SystemExit(main())
