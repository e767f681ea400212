"""--simulate for DR-528 counters: one simulated counter per port."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from ...base import DeviceSpec
from ...simulators import simulate_per_connection
from .driver import CounterDevice
from .simulator import Dr528Simulator


def simulate(devices: Sequence[DeviceSpec]) -> tuple[list[DeviceSpec], Callable[[], None]]:
    def start(group: list[CounterDevice]) -> Dr528Simulator:
        baud, size, parity, stop = group[0].line
        return Dr528Simulator(baudrate=baud, bytesize=size, parity=parity, stopbits=stop).start()

    def point(device: CounterDevice, sim: Dr528Simulator) -> DeviceSpec:
        return replace(device, address=sim.path, connection=f"sim|{sim.path}")

    return simulate_per_connection([d for d in devices if isinstance(d, CounterDevice)], start, point)
