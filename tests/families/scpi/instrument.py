"""A third-party-like SCPI instrument, written for these tests independently of the package's simulator.

It behaves like a Lake Shore 336 temperature controller with a few lock-in and
counter queries: fixed-width readings, a CR LF reply end, an error queue read
with ``SYST:ERR?`` that answers ``0,"No error"`` (no plus sign), no reply at all
to an unknown query.  ``joins`` off makes it answer only the first query of a
joined message, as instruments without compound messages do.  It is served on a
TCP port or on a pty (the latter silent when the port's baud rate is wrong).
"""

from __future__ import annotations

import os
import select
import socket
import sys
import threading
from typing import Any

from tests.tcp import TcpServer


class Instrument:
    def __init__(self, joins: bool = True) -> None:
        self.joins = joins
        self.values: dict[str, str] = {
            "*IDN?": "LSCI,MODEL336,LSA1234,2.9",
            "*OPC?": "1",
            "KRDG? A": "+077.350",
            "KRDG? B": "+004.212",
            "HTR? 1": "+045.20",
            "MEAS:VOLT?": "+1.23456789E+00",
            "SNAP? 1,2": "1.234e-03,5.678e-06",
            "STAT?": "MODE=LOCK T=12.500K",
            "OUTP?": "ON",
            "COUNT?": "42",
            "FUNC?": '"VOLT:DC"',
            "LIMIT?": '-222,"Data out of range"',
            "HUGE?": "1" * 100_000,
        }
        self.queue: list[str] = []
        self.received: list[bytes] = []
        self.commands: list[str] = []

    def handle(self, message: str) -> str | None:
        units = [u.strip() for u in message.split(";")]
        if not self.joins and len(units) > 1:
            self.queue.extend('-113,"Undefined header"' for _ in units[1:])
            units = units[:1]
        answers = []
        for unit in units:
            if unit == "SYST:ERR?":
                answers.append(self.queue.pop(0) if self.queue else '0,"No error"')
            elif unit in self.values:
                answers.append(self.values[unit])
            elif "?" in unit:
                self.queue.append('-113,"Undefined header"')
            elif unit == "*CLS":
                self.queue.clear()
            elif unit.split(" ")[0] in ("CONF:VOLT", "*RST", "OUTP"):
                self.commands.append(unit)
            else:
                self.queue.append('-113,"Undefined header"')
        return ";".join(answers) if answers else None


class TcpServed(TcpServer):
    """The instrument on 127.0.0.1: messages end in ``message_end``, replies in ``reply_end``."""

    def __init__(self, instrument: Instrument, message_end: bytes = b"\n", reply_end: bytes = b"\r\n") -> None:
        self.instrument = instrument
        self.message_end, self.reply_end = message_end, reply_end
        super().__init__()

    @property
    def address(self) -> str:
        return f"TCPIP0::127.0.0.1::{self.port}::SOCKET"

    def talk(self, conn: socket.socket) -> None:
        buffer = b""
        with conn:
            while data := conn.recv(4096):
                buffer += data
                while self.message_end in buffer:
                    message, buffer = buffer.split(self.message_end, 1)
                    self.instrument.received.append(message + self.message_end)
                    reply = self.instrument.handle(message.decode())
                    if reply is not None:
                        conn.sendall(reply.encode() + self.reply_end)

    def close(self) -> None:
        try:  # stop listening now: a thread blocked in accept() keeps a merely closed socket listening
            self.server.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.server.close()


if sys.platform != "win32":
    import termios
    import tty

    class PtyServed:
        """The instrument on a pty, at ``baud`` 8N1; silent when the program opened the port at another rate."""

        def __init__(self, instrument: Instrument, baud: int, message_end: bytes = b"\r", reply_end: bytes = b"\r\n"):
            self.instrument = instrument
            self.message_end, self.reply_end = message_end, reply_end
            self.master, self.slave = os.openpty()
            tty.setraw(self.slave)
            self.speed = getattr(termios, f"B{baud}")
            self.path = os.ttyname(self.slave)
            self.stop = threading.Event()
            self.thread = threading.Thread(target=self._serve, daemon=True)
            self.thread.start()

        def _serve(self) -> None:
            buffer = b""
            while not self.stop.is_set():
                ready, _, _ = select.select([self.master], [], [], 0.05)
                if not ready:
                    continue
                try:
                    buffer += os.read(self.master, 4096)
                except OSError:
                    return
                while self.message_end in buffer:
                    message, buffer = buffer.split(self.message_end, 1)
                    self.instrument.received.append(message + self.message_end)
                    attrs: Any = termios.tcgetattr(self.master)
                    if attrs[4] != self.speed:
                        continue  # framing errors on a real line: nothing understood, nothing answered
                    reply = self.instrument.handle(message.decode())
                    if reply is not None:
                        os.write(self.master, reply.encode() + self.reply_end)

        def close(self) -> None:
            # the serving thread must be gone before its fds are closed: a fd number closed under a
            # thread still polling it is soon the next pty's, and the thread would read that pty's requests
            self.stop.set()
            self.thread.join()
            os.close(self.master)
            os.close(self.slave)
