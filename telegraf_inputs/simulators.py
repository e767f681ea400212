"""What every family's simulator shares: standalone running, one simulator per connection."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from .base import DeviceSpec, by_connection


def run_standalone(banner: str, stop: Callable[[], None]) -> int:
    """Print where the simulator is, serve until Ctrl-C or SIGTERM-as-KeyboardInterrupt, then stop it."""
    print(banner, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    stop()
    return 0


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


class Stoppable(Protocol):
    def stop(self) -> None: ...


D = TypeVar("D", bound=DeviceSpec)
S = TypeVar("S", bound=Stoppable)


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
