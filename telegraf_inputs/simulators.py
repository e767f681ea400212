"""What every family's simulator shares: standalone running, one simulator per connection, TCP servers."""

from __future__ import annotations

import argparse
import http.server
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.machinery import ModuleSpec
from typing import Any, Protocol, TypeVar

from .base import DeviceSpec, by_connection

#: holds every simulator's clock at this many seconds after its start (reproducible readings, as the
#: cases' expected lines need them); unset, the clocks run
FROZEN_CLOCK = "TELEGRAF_LAB_SIM_TIME"


def stopwatch() -> Callable[[], float]:
    """A simulator's clock: seconds since it started, which every simulated drift is a function of.

    Injectable: give a simulator another (``sim.elapsed = lambda: 15.0``), or set ``TELEGRAF_LAB_SIM_TIME``
    for the simulators ``--simulate`` starts.
    """
    frozen = os.environ.get(FROZEN_CLOCK)
    if frozen is not None:
        held = float(frozen)
        return lambda: held
    start = time.monotonic()
    return lambda: time.monotonic() - start


class ErrorQueue:
    """An instrument's error queue: read oldest first, ``none`` once empty, as SCPI instruments keep theirs.

    Full (``size`` entries), its newest entry becomes ``overflow`` and later errors are lost (SCPI-99 21.8's
    -350); without an ``overflow`` entry the newest error takes the last place instead (an instrument that
    keeps only its last error has ``size=1``).
    """

    def __init__(self, none: str, overflow: str | None = None, size: int = 20) -> None:
        self.none, self.overflow, self.size = none, overflow, size
        self.entries: list[str] = []

    def push(self, entry: str) -> None:
        if len(self.entries) < self.size:
            self.entries.append(entry)
        else:
            self.entries[-1] = self.overflow if self.overflow is not None else entry

    def pop(self) -> str:
        """The oldest error, taken off the queue; ``none`` if there is none."""
        return self.entries.pop(0) if self.entries else self.none

    def clear(self) -> None:
        self.entries.clear()

    def __len__(self) -> int:
        return len(self.entries)


def run_standalone(banner: str, stop: Callable[[], None]) -> int:
    """Print where the simulator is, serve until Ctrl-C or SIGTERM-as-KeyboardInterrupt, then stop it."""
    print(banner, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    stop()
    return 0


def simulator_parser(spec: ModuleSpec | None, description: str) -> argparse.ArgumentParser:
    """A standalone simulator's argument parser, named as it is run: ``python -m <module>`` (``spec`` is the
    module's ``__spec__``: run with -m, the module is __main__ but its spec keeps the name)."""
    return argparse.ArgumentParser(
        prog=f"python -m {spec.name if spec else 'telegraf_inputs'}", description=description
    )


def network_command_line(
    spec: ModuleSpec | None,
    what: str,
    argv: Sequence[str] | None,
    options: Callable[[argparse.ArgumentParser], object] | None = None,
    port: int = 0,
) -> argparse.Namespace:
    """A standalone network simulator's arguments: ``options`` of its own, then --port (``port`` by default)."""
    parser = simulator_parser(spec, f"Simulated {what}.")
    if options is not None:
        options(parser)
    parser.add_argument("--port", type=int, default=port, help=f"TCP port (default {port}; 0: any free one)")
    return parser.parse_args(argv)


def serve_on_a_port(spec: ModuleSpec | None, kind: Any) -> Callable[..., int]:
    """The ``main`` of a network simulator whose one option is its port: ``kind(port)``, started, serving until
    Ctrl-C.  ``kind.title`` says what it simulates, and the running simulator's ``banner()`` where it is."""

    def main(argv: Sequence[str] | None = None) -> int:
        sim = kind(network_command_line(spec, kind.title, argv).port).start()
        return run_standalone(sim.banner(), sim.stop)

    return main


class QuietHandler(http.server.BaseHTTPRequestHandler):
    """An HTTP/1.1 handler of a simulated server (``HttpServer``): keep-alive, no log, replies never held back.

    Headers and body go out in two writes: without TCP_NODELAY, Nagle would hold the body back for the
    client's delayed ACK (40 ms) on a kept-alive connection, which no real server does."""

    protocol_version = "HTTP/1.1"
    server: HttpServer

    def log_message(self, *args: object) -> None:
        pass

    def setup(self) -> None:
        self.server.connections += 1
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().setup()

    def write_now(self, data: bytes) -> None:
        self.wfile.write(data)
        self.wfile.flush()


class HttpServer(http.server.ThreadingHTTPServer):
    """A simulator's HTTP server: ``sim`` is the simulator its handlers answer for."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[QuietHandler], sim: Any) -> None:
        self.sim = sim
        self.connections = 0
        super().__init__(address, handler)


def close_server(server: socket.socket) -> None:
    """Stop listening now: a thread blocked in accept() keeps a closed socket listening until it wakes."""
    try:
        server.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    server.close()


def drip(write: Callable[[bytes], object], data: bytes, interval: float) -> None:
    """Send ``data`` one byte every ``interval`` seconds (a fault: a reply that trickles in)."""
    for i in range(len(data)):
        write(data[i : i + 1])
        time.sleep(interval)


@dataclass
class LateFaults:
    """The two faults that put a conversation out of step, for one reply each (then they clear).

    ``late_next_s``: the next reply comes this many seconds late (set it past the client's Timeout);
    ``stall_next_s``: the next reply stops halfway for this many seconds, then its rest comes.
    """

    late_next_s: float = 0.0
    stall_next_s: float = 0.0

    def take_delay(self, name: str) -> float:
        value = float(getattr(self, name))
        setattr(self, name, 0.0)
        return value


def deliver(write: Callable[[bytes], object], data: bytes, faults: LateFaults) -> None:
    """Write one reply, late or stalled halfway if the faults say so."""
    late = faults.take_delay("late_next_s")
    if late:
        time.sleep(late)
    stall = faults.take_delay("stall_next_s")
    if stall and len(data) > 1:
        half = len(data) // 2
        write(data[:half])
        time.sleep(stall)
        data = data[half:]
    write(data)


class Stoppable(Protocol):
    def stop(self) -> None: ...


D = TypeVar("D", bound=DeviceSpec)
S = TypeVar("S", bound=Stoppable)
T = TypeVar("T", bound="TcpServer")


def simulate_per_connection(
    devices: Sequence[D], start: Callable[[list[D]], S], point: Callable[[D, S], DeviceSpec]
) -> tuple[list[DeviceSpec], Callable[[], None]]:
    """Start one simulator per connection (``start`` gets the devices sharing it), point each device at its own.

    Returns the re-pointed devices and a function that stops every simulator.
    """
    sims = {connection: start(group) for connection, group in by_connection(devices).items()}

    def stop() -> None:
        for sim in sims.values():
            sim.stop()

    return [point(device, sims[device.connection]) for device in devices], stop


class TcpServer:
    """A simulator's TCP server on 127.0.0.1: one thread accepting, one thread per connection running ``serve``."""

    def __init__(self, port: int = 0) -> None:
        self.server = socket.create_server(("127.0.0.1", port))
        self.port: int = self.server.getsockname()[1]
        self._stop = threading.Event()

    def start(self: T) -> T:
        threading.Thread(target=self._accept, name=type(self).__name__, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        close_server(self.server)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._serve_closing, args=(conn,), daemon=True).start()

    def _serve_closing(self, conn: socket.socket) -> None:
        with conn:
            try:
                self.serve(conn)
            except OSError:
                pass

    def serve(self, conn: socket.socket) -> None:
        """Talk on one accepted connection until it ends."""
        raise NotImplementedError


@dataclass
class TextFaults(LateFaults):
    """Faults of a text instrument; the ``*_next`` ones apply to one reply and then clear."""

    silent: bool = False  # no reply to anything
    garble_next: bool = False  # the next reply's digits come as '#'
    cut_short_next: bool = False  # half the next reply and no terminator (the rest never comes)


class LineServer(TcpServer):
    """A text instrument on TCP: each message (to ``message_end``) answered by ``answer`` (None: nothing),
    each reply sent with ``reply_end``, after ``latency_s``; ``received`` holds every message as it came."""

    message_end = b"\n"
    reply_end = b"\n"

    def __init__(self, port: int = 0, latency_s: float = 0.0) -> None:
        super().__init__(port)
        self.latency_s = latency_s
        self.faults: TextFaults = TextFaults()
        self.received: list[bytes] = []

    def answer(self, message: str) -> str | None:
        raise NotImplementedError

    def serve(self, conn: socket.socket) -> None:
        buffer = b""
        while not self._stop.is_set():
            data = conn.recv(4096)
            if not data:
                return
            buffer += data
            while (end := buffer.find(self.message_end)) >= 0:
                message, buffer = buffer[:end], buffer[end + len(self.message_end) :]
                self.received.append(message + self.message_end)
                reply = self.answer(message.decode("ascii", "replace").strip())
                if reply is None or self.faults.silent:
                    continue
                if self.latency_s:
                    time.sleep(self.latency_s)
                if self.faults.garble_next:
                    self.faults.garble_next = False
                    reply = "".join("#" if c.isdigit() else c for c in reply)
                if self.faults.cut_short_next:
                    self.faults.cut_short_next = False
                    conn.sendall(reply.encode("ascii", "replace")[: max(1, len(reply) // 2)])
                    continue
                deliver(conn.sendall, reply.encode("ascii", "replace") + self.reply_end, self.faults)
