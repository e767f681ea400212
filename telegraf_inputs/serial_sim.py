"""Simulated instruments on a serial line: a pseudo-terminal (or a TCP socket for pyserial's ``socket://``).

The program under test opens the pty's slave side (or a symlink to it, like
``/dev/serial/by-id/...``) with pyserial, exactly as it would open
``/dev/ttyUSB0``.  The simulator answers on the master side:

* only if the program set the port to the instrument's baud rate, data bits and
  stop bits (the pty carries these termios settings; an instrument on a
  mismatched line sees framing errors and stays silent).  Linux ptys drop the
  parity flag, so parity cannot be checked;
* after the time the bytes take on the line at that baud rate.

``LineSimulator`` is the shared loop: a family's simulator says how requests
are framed (``next_request``) and what the instrument answers (``respond``),
and gets the faults every serial instrument shows (``LineFaults``), an
unplugged adapter (``vanish`` / ``reappear``) and the log of the traffic.

On Windows, which has no ptys, and wherever ``transport="socket"`` is chosen,
the line is a TCP server on 127.0.0.1 that pyserial opens as
``socket://127.0.0.1:PORT``; the line settings cannot be checked there.
"""

from __future__ import annotations

import argparse
import os
import queue
import select
import socket
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol, TypeVar

from .base import DeviceSpec
from .serial_lines import SerialDevice
from .simulators import LateFaults, deliver, run_standalone, simulate_per_connection, simulator_parser
from .vocabulary import Vocabulary

#: baud rate, data bits, parity, stop bits (as serial_lines.Line)
LineSetting = tuple[int, int, str, float]
S = TypeVar("S", bound="LineSimulator")
ENDLESS = b"x" * 2048  # no terminator, no frame: as long as a pty's buffer takes at once
D = TypeVar("D", bound=SerialDevice)


class Line(Protocol):
    """One serial line as the simulator sees it: where the program connects, bytes in and out."""

    @property
    def path(self) -> str: ...
    def poll(self, timeout: float) -> bytes | None: ...
    def write(self, data: bytes) -> None: ...
    def writable(self) -> bool: ...
    def matches(self, line: LineSetting) -> bool: ...
    def close(self) -> None: ...


class SocketLine:
    """The serial line as a TCP server on 127.0.0.1, for pyserial's ``socket://`` URLs (every OS).

    A TCP connection has no baud rate or framing, so the line settings cannot be
    checked here; the transmission time is still taken.
    """

    def __init__(self, port: int = 0) -> None:
        self.server = socket.create_server(("127.0.0.1", port))
        self.port = self.server.getsockname()[1]
        self.client: socket.socket | None = None

    @property
    def path(self) -> str:
        return f"socket://127.0.0.1:{self.port}"

    def poll(self, timeout: float) -> bytes | None:
        """Bytes that came within ``timeout`` (b"" for none), None if the line failed."""
        sources = [self.server] + ([self.client] if self.client is not None else [])
        ready, _, _ = select.select(sources, [], [], timeout)
        if self.server in ready:
            if self.client is not None:
                self.client.close()
            self.client, _ = self.server.accept()  # the newest connection is the line
            return b""
        if self.client is not None and self.client in ready:
            try:
                data = self.client.recv(256)
            except OSError:
                data = b""
            if not data:  # the program closed its port
                self.client.close()
                self.client = None
            return data
        return b""

    def write(self, data: bytes) -> None:
        if self.client is not None:
            self.client.sendall(data)

    def writable(self) -> bool:
        """True if bytes written now would not wait (a program is connected and reading)."""
        return self.client is not None and bool(select.select([], [self.client], [], 0)[1])

    def matches(self, line: LineSetting) -> bool:
        return True

    def close(self) -> None:
        for sock in (self.client, self.server):
            if sock is not None:
                sock.close()
        self.client = None


if sys.platform != "win32":
    import termios
    import tty

    PARITY_FLAGS = {"N": 0, "E": termios.PARENB, "O": termios.PARENB | termios.PARODD}
    SIZE_FLAGS = {5: termios.CS5, 6: termios.CS6, 7: termios.CS7, 8: termios.CS8}

    class PtyLine:
        """The serial line as a pseudo-terminal: the program opens its slave side like /dev/ttyUSB0."""

        def __init__(self, line: LineSetting, link: Path | None) -> None:
            self.master, self.slave = os.openpty()
            tty.setraw(self.slave)
            baud, size, parity, stop = line
            attrs = termios.tcgetattr(self.slave)
            speed = getattr(termios, f"B{baud}")
            attrs[2] = (attrs[2] & ~(termios.CSIZE | termios.PARENB | termios.PARODD | termios.CSTOPB)) | (
                SIZE_FLAGS[size] | PARITY_FLAGS.get(parity, 0) | (termios.CSTOPB if stop != 1 else 0)
            )
            attrs[4] = attrs[5] = speed
            termios.tcsetattr(self.slave, termios.TCSANOW, attrs)
            self.tty = os.ttyname(self.slave)
            self.link = link
            if link is not None:
                tmp = link.with_name(link.name + ".new")
                tmp.unlink(missing_ok=True)
                tmp.symlink_to(self.tty)
                os.replace(tmp, link)

        @property
        def path(self) -> str:
            return str(self.link) if self.link is not None else self.tty

        def poll(self, timeout: float) -> bytes | None:
            ready, _, _ = select.select([self.master], [], [], timeout)
            if not ready:
                return b""
            try:
                return os.read(self.master, 256)
            except OSError:
                return None

        def write(self, data: bytes) -> None:
            os.write(self.master, data)

        def writable(self) -> bool:
            """True if the pty's buffer has room (nobody reading the port fills it)."""
            return bool(select.select([], [self.master], [], 0)[1])

        def matches(self, line: LineSetting) -> bool:
            """True if the program opened the port with the simulator's baud rate, data bits and stop bits."""
            attrs = termios.tcgetattr(self.master)
            baud, size, _parity, stop = line
            cflag = attrs[2]
            return (
                attrs[4] == getattr(termios, f"B{baud}")
                and cflag & termios.CSIZE == SIZE_FLAGS[size]
                and bool(cflag & termios.CSTOPB) == (stop != 1)
            )

        def close(self) -> None:
            for fd in (self.master, self.slave):
                os.close(fd)
            if self.link is not None:
                self.link.unlink(missing_ok=True)


def open_line(transport: str, line: LineSetting, link: Path | None, port: int = 0) -> Line:
    """A pty (POSIX) or a ``socket://`` server with the given settings."""
    if transport == "socket":
        return SocketLine(port)
    if sys.platform != "win32":
        return PtyLine(line, link)
    raise ValueError("a pty needs a POSIX system; use transport='socket'")


@dataclass
class LineFaults(LateFaults):
    """Faults every serial instrument shows; the ``*_next`` ones apply to one reply and then clear.

    ``late_next_s`` and ``stall_next_s`` (from LateFaults): the next reply comes late, or stops halfway and
    its rest comes later: what a driver must not read as the answer to its next question.
    """

    silent: bool = False  # answer nothing (instrument off, cable unplugged)
    delay_s: float = 0.0  # extra time before every reply
    error_next: bool = False  # the instrument's error reply instead of data
    garble_next: bool = False  # a bit flipped on the line in the middle of the reply
    cut_short_next: bool = False  # the reply stops halfway
    endless_next: bool = False  # 2 KiB of noise without an end instead of the reply (a confused device)

    def take(self, name: str) -> bool:
        value = bool(getattr(self, name))
        setattr(self, name, False)
        return value


class LineSimulator:
    """An instrument on a serial line; subclasses frame requests and answer them.

    ``path`` is what to give as the device's Address.  ``log`` records every
    request with its reply (None: not answered).
    """

    name = "serial-sim"
    title = "serial instrument"  # what the standalone command says it simulates
    default_line: LineSetting = (9600, 8, "N", 1)  # the instrument's factory line settings
    request_end = b""  # a request ends with these bytes (next_request); empty: the family frames its own
    error_answer: bytes | None = None  # the instrument's error reply, for faults.error_next
    reset_on_silence = False  # drop a partial request when the line falls silent (frames that end by silence)
    vocabulary: Vocabulary | None = None  # the family's channel Types: each request's answer is a method here

    def __init__(
        self,
        line: LineSetting | None = None,
        *,
        baudrate: int | None = None,
        bytesize: int | None = None,
        parity: str | None = None,
        stopbits: float | None = None,
        link: str | os.PathLike[str] | None = None,
        transport: str = "pty" if sys.platform != "win32" else "socket",
    ) -> None:
        """The line is ``line``, or the family's ``default_line`` with any setting given by keyword instead."""
        if line is None:
            baud, size, par, stop = self.default_line
            line = (baudrate or baud, bytesize or size, parity or par, stopbits or stop)
        self.line = line
        baud, size, parity, stop = line
        self.char_time = (1 + size + (parity != "N") + stop) / baud
        self.link = Path(link) if link is not None else None
        self.transport = transport
        self.faults = LineFaults()
        self.log: list[tuple[bytes, bytes | None]] = []
        self.line_mismatches = 0
        self._line: Line | None = None
        self._path = ""
        self._port = 0  # a socket line comes back on the same port
        self._commands: queue.Queue[tuple[str, threading.Event]] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=self.name, daemon=True)

    # ------------------------------------------------------------------ to be given by the family
    def next_request(self, buffer: bytes) -> tuple[bytes | None, bytes]:
        """The first complete request in ``buffer`` and what is left; (None, buffer) while incomplete."""
        if not self.request_end:
            raise NotImplementedError(f"{type(self).__name__}: no request_end, and no next_request of its own")
        return split_at(buffer, self.request_end)

    def respond(self, request: bytes) -> bytes | None:
        """The reply to one request (None: the instrument stays silent): ``answer`` to its text."""
        return self.answer(request.decode("ascii", "replace").strip())

    def answer(self, text: str) -> bytes | None:
        """A request of the family's vocabulary goes to the method its row names (with the request's slots);
        any other to ``unlisted``."""
        found = self.vocabulary.match(text) if self.vocabulary is not None else None
        if found is None:
            return self.unlisted(text)
        kind, slots = found
        reply: bytes | None = getattr(self, kind.answer)(**slots)
        return reply

    def unlisted(self, text: str) -> bytes | None:
        """The answer to a request that reads no channel Type (a setting, ``*IDN?``...): the error reply."""
        return self.error_answer

    def error_reply(self, request: bytes) -> bytes | None:
        """The instrument's error reply, for ``faults.error_next``."""
        return self.error_answer

    def banner(self) -> str:
        """What the standalone simulator prints: what it is, and the Address to give."""
        return f"simulated {self.title}; Address: {self.path}"

    @classmethod
    def standalone(cls, argv: Sequence[str] | None = None) -> int:
        """``python -m <family>.simulator``: the instrument at the line settings given, until Ctrl-C."""
        _, line = cls.command_line(argv)
        sim = cls(**line).start()
        return run_standalone(sim.banner(), sim.stop)

    @classmethod
    def command_line(
        cls, argv: Sequence[str] | None, options: Callable[[argparse.ArgumentParser], object] | None = None
    ) -> tuple[argparse.Namespace, dict[str, Any]]:
        """The standalone simulator's arguments (the family's ``options``, the line's settings with the
        instrument's as defaults, --link and --socket), and the line and transport as keyword arguments."""
        what = f"Simulated {cls.title} on a pseudo-terminal; prints the path to use as Address."
        parser = simulator_parser(sys.modules[cls.__module__].__spec__, what)
        if options is not None:
            options(parser)
        baud, size, parity, stop = cls.default_line
        parser.add_argument("--baudrate", type=int, default=baud)
        parser.add_argument("--bytesize", type=int, default=size, choices=[5, 6, 7, 8])
        parser.add_argument("--parity", default=parity, choices=["N", "E", "O"])
        parser.add_argument("--stopbits", type=float, default=stop, choices=[1, 2])
        line_arguments(parser)
        args = parser.parse_args(argv)
        line = {"baudrate": args.baudrate, "bytesize": args.bytesize, "parity": args.parity, "stopbits": args.stopbits}
        return args, {**line, **transport_of(args)}

    def idle(self) -> None:
        """Called about every 20 ms while the line is quiet (an instrument that sends on its own)."""

    # ------------------------------------------------------------------ control
    @property
    def path(self) -> str:
        return self._path

    def start(self: S) -> S:
        self._open()
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; the line is closed by the serving thread as it ends, never under it (a closed fd
        number is soon another pty's, and a thread still polling it would read that pty's bytes)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)
        else:
            self._close()

    def vanish(self) -> None:
        """The USB adapter is unplugged: the port fails and its path disappears."""
        self._command("vanish")

    def reappear(self) -> None:
        """Plugged back in: a new pty, reachable under the same link."""
        self._command("reappear")

    def _command(self, what: str) -> None:
        done = threading.Event()
        self._commands.put((what, done))
        if not done.wait(2):
            raise RuntimeError(f"simulator did not {what}")

    def _open(self) -> None:
        line = open_line(self.transport, self.line, self.link, self._port)
        if isinstance(line, SocketLine):
            self._port = line.port
        self._line, self._path = line, line.path

    def _close(self) -> None:
        line, self._line = self._line, None
        if line is not None:
            line.close()

    # ------------------------------------------------------------------ serving
    def _serve(self) -> None:
        try:
            self._serve_until_stopped()
        finally:
            self._close()

    def _serve_until_stopped(self) -> None:
        buffer = b""
        while not self._stop.is_set():
            while not self._commands.empty():
                what, done = self._commands.get()
                self._close()
                buffer = b""
                if what == "reappear":
                    self._open()
                done.set()
            if self._line is None:
                time.sleep(0.01)
                continue
            data = self._line.poll(0.02)
            if not data:
                if self.reset_on_silence:
                    buffer = b""
                self.idle()
                continue
            buffer = self._handle(buffer + data)

    def _handle(self, buffer: bytes) -> bytes:
        while True:
            request, buffer = self.next_request(buffer)
            if request is None:
                return buffer
            if self._line is None or not self._line.matches(self.line):
                self.line_mismatches += 1
                self.log.append((request, None))
                continue
            if self.faults.silent or not request:
                self.log.append((request, None))
                continue
            if self.faults.take("endless_next"):
                self.log.append((request, None))
                self._line.write(ENDLESS)  # at once: noise does not wait for the baud rate
                continue
            reply = self.error_reply(request) if self.faults.take("error_next") else None
            if reply is None:
                reply = self.respond(request)
            if reply is None:
                self.log.append((request, None))
                continue
            self.send(request, self.damage(reply))

    def damage(self, reply: bytes) -> bytes:
        if self.faults.take("garble_next") and len(reply) > 1:
            middle = len(reply) // 2
            reply = reply[:middle] + bytes([reply[middle] ^ 0x40]) + reply[middle + 1 :]
        if self.faults.take("cut_short_next"):
            reply = reply[: len(reply) // 2]
        return reply

    def stream(self, data: bytes) -> None:
        """Send ``data`` unasked (an instrument that streams), dropped when nobody reads the line."""
        line = self._line
        if line is None or self.faults.silent or not line.writable():
            return
        if not line.matches(self.line):  # the program's port runs at another speed: it reads framing noise
            data = bytes((b * 37 + 11) & 0xFF for b in data)
        try:
            line.write(data)
        except OSError:
            pass

    def send(self, request: bytes, reply: bytes) -> None:
        """Write ``reply`` as the line would deliver it: after the request's and its own transmission time."""
        self.log.append((request, reply))
        time.sleep(len(request) * self.char_time + self.faults.delay_s)
        deliver(self.write, reply, self.faults)

    def write(self, data: bytes) -> None:
        half = len(data) // 2
        for part in (data[:half], data[half:]):
            time.sleep(len(part) * self.char_time)
            line = self._line
            if line is None:
                return
            try:
                line.write(part)
            except OSError:
                return


def split_at(buffer: bytes, end: bytes) -> tuple[bytes | None, bytes]:
    """A request up to and including ``end``, and the rest; (None, buffer) while incomplete."""
    index = buffer.find(end)
    if index < 0:
        return None, buffer[-4096:]  # noise without an end is not kept forever
    return buffer[: index + len(end)], buffer[index + len(end) :]


def line_keywords(line: LineSetting) -> dict[str, Any]:
    """A device's line as a simulator's keyword arguments."""
    baud, size, parity, stop = line
    return {"baudrate": baud, "bytesize": size, "parity": parity, "stopbits": stop}


def simulate_lines(
    devices: Sequence[DeviceSpec], kind: type[D], make: Callable[[list[D]], LineSimulator]
) -> tuple[list[DeviceSpec], Callable[[], None]]:
    """--simulate for a serial family: ``make`` one simulator per port for the devices of ``kind`` on it;
    each device then reads the simulator's line."""

    def point(device: D, sim: LineSimulator) -> DeviceSpec:
        return replace(device, address=sim.path, connection=f"sim|{sim.path}")

    return simulate_per_connection([d for d in devices if isinstance(d, kind)], lambda g: make(g).start(), point)


def line_arguments(parser: argparse.ArgumentParser) -> None:
    """The standalone simulators' --link and --socket."""
    parser.add_argument("--link", help="also make this symlink to the pty (a stable name, like /dev/serial/by-id)")
    parser.add_argument("--socket", action="store_true", default=sys.platform == "win32",
                        help="serve on a TCP port for pyserial's socket:// URLs instead of a pty")  # fmt: skip


def transport_of(args: argparse.Namespace) -> dict[str, Any]:
    return {"link": args.link, "transport": "socket" if args.socket else "pty"}
