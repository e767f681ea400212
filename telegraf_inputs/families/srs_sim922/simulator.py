"""Simulated SRS SIM922 module(s) on a pty: one on its own port, or several in a simulated SIM900 mainframe.

A module answers ``TVAL? n`` / ``VOLT? n`` (n = 1-4, or 0 for all four,
comma-separated) and ``*IDN?``, each reply ending in CR LF; it stays silent on
anything else, as SRS modules do.  With ``slots`` (a SIM900), the host talks to
the mainframe until ``CONN p,"esc"`` connects it to slot p, and to that module
until the escape string comes; or it hands ``SNDT p,"msg"`` to slot p and keeps
the reply for ``NINP? p`` (its length) and ``RAWN? p,n`` (n raw bytes; ``GETN?``
with a ``#3nnn`` block header).  Replies come after the line's transmission
time, and only at the line's settings (9600 8N1 by default).

Faults (``faults``): ``silent``, ``delay_s``, ``garble_next``,
``cut_short_next``; per module ``disconnected`` channels (read 0 K, as an open
diode input is taken to read here); ``vanish`` / ``reappear``.

Run standalone:  python -m telegraf_inputs.families.srs_sim922.simulator [--slot 3 --slot 5]
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...serial_sim import LineSimulator, split_at
from ...simulators import run_standalone, stopwatch
from .protocol import COMMAND_END, REPLY_END, VOCABULARY, format_values

CONN = re.compile(r'CONN\s+(\d)\s*,\s*"([^"]+)"')
SNDT = re.compile(r'SNDT\s+(\d)\s*,\s*"([^"]*)"')
NINP = re.compile(r"NINP\?\s*(\d)")
RAWN = re.compile(r"(RAWN|GETN)\?\s*(\d)\s*,\s*(\d+)")


@dataclass
class Module:
    kelvin: list[float] = field(default_factory=lambda: [4.2, 40.1, 77.3, 295.0])
    disconnected: set[int] = field(default_factory=set)
    elapsed: Callable[[], float] = field(default_factory=stopwatch)

    def temperatures(self) -> list[float]:
        t = self.elapsed()
        drift = 1 + 0.01 * math.sin(2 * math.pi * t / 300)
        return [0.0 if i + 1 in self.disconnected else k * drift for i, k in enumerate(self.kelvin)]

    def volts(self) -> list[float]:
        return [0.0 if k <= 0 else 1.7 - 0.0023 * k for k in self.temperatures()]


class Sim922Simulator(LineSimulator):
    name = "sim922-sim"
    title = "SRS SIM922 (or a SIM900 with SIM922s)"
    vocabulary = VOCABULARY

    def __init__(
        self,
        slots: list[int] | tuple[int, ...] | None = None,
        **line: Any,
    ) -> None:
        super().__init__(**line)
        self.mainframe = bool(slots)
        self.modules = {slot: Module() for slot in (slots or [0])}
        self.connected: int | None = None if self.mainframe else 0
        self.answering = next(iter(self.modules.values()))  # the module whose message is being answered
        self.escape = ""
        self.outbox = {slot: bytearray() for slot in self.modules}  # replies to SNDT messages, per slot

    def next_request(self, buffer: bytes) -> tuple[bytes | None, bytes]:
        if self.connected is not None and self.escape:
            at = buffer.find(self.escape.encode())
            end = buffer.find(COMMAND_END)
            if at >= 0 and (end < 0 or at < end):  # the escape: back to the mainframe
                self.connected = None
                return buffer[: at + len(self.escape)], buffer[at + len(self.escape) :]
        return split_at(buffer, COMMAND_END)

    def respond(self, request: bytes) -> bytes | None:
        text = request.decode("ascii", "replace").strip()
        if self.escape and text.endswith(self.escape) and self.connected is None:
            return None  # the escape itself
        if self.connected is None:  # the mainframe
            return self.mainframe_reply(text)
        return self.module_reply(self.modules[self.connected], text)

    def mainframe_reply(self, text: str) -> bytes | None:
        """CONN, and the SNDT / NINP? / RAWN? (GETN?) addressing QMI's SIM900 driver uses."""
        if match := CONN.fullmatch(text):
            if int(match.group(1)) in self.modules:
                self.connected, self.escape = int(match.group(1)), match.group(2)
            return None
        if (match := SNDT.fullmatch(text)) and int(match.group(1)) in self.modules:
            slot = int(match.group(1))
            self.outbox[slot] += self.module_reply(self.modules[slot], match.group(2)) or b""
            return None
        if (match := NINP.fullmatch(text)) and int(match.group(1)) in self.modules:
            return str(len(self.outbox[int(match.group(1))])).encode("ascii") + REPLY_END
        if (match := RAWN.fullmatch(text)) and int(match.group(2)) in self.modules:
            box, count = self.outbox[int(match.group(2))], int(match.group(3))
            taken = bytes(box[:count])
            del box[:count]
            return taken if match.group(1) == "RAWN" else f"#3{len(taken):03d}".encode("ascii") + taken
        if text == "*IDN?":
            return b"Stanford_Research_Systems,SIM900,s/n000001,ver3.6" + REPLY_END
        return None

    def module_reply(self, module: Module, text: str) -> bytes | None:
        if text == "*IDN?":
            return b"Stanford_Research_Systems,SIM922,s/n105794,ver3.6" + REPLY_END
        self.answering = module
        return self.answer(text)

    # the answers of its vocabulary's rows, from the module addressed
    def temperatures(self, channel: str) -> bytes:
        return _some(self.answering.temperatures(), int(channel))

    def volts(self, channel: str) -> bytes:
        return _some(self.answering.volts(), int(channel))

    def unlisted(self, text: str) -> bytes | None:
        return None  # an SRS module does not answer what it does not know


def _some(values: list[float], channel: int) -> bytes:
    """Channel ``channel``'s value (0: all four), as the module writes them."""
    return format_values(values if channel == 0 else [values[channel - 1]])


def main(argv: list[str] | None = None) -> int:
    def options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--slot", type=int, action="append", help="SIM900 slot(s) with a SIM922 (default: none)")

    args, line = Sim922Simulator.command_line(argv, options)
    sim = Sim922Simulator(args.slot, **line).start()
    where = f"SIM900 slots {args.slot}" if args.slot else "its own port"
    return run_standalone(f"simulated SRS SIM922 on {where}; Address: {sim.path}", sim.stop)


if __name__ == "__main__":
    raise SystemExit(main())
