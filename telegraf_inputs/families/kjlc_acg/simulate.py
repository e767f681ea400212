"""--simulate for ACG gauges: one simulated gauge per port."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from ...base import DeviceSpec
from ...simulators import simulate_per_connection
from .driver import AcgDevice
from .simulator import AcgSimulator


def simulate(devices: Sequence[DeviceSpec]) -> tuple[list[DeviceSpec], Callable[[], None]]:
    def start(group: list[AcgDevice]) -> AcgSimulator:
        baud, size, parity, stop = group[0].line
        return AcgSimulator(baudrate=baud, bytesize=size, parity=parity, stopbits=stop).start()

    def point(device: AcgDevice, sim: AcgSimulator) -> DeviceSpec:
        return replace(device, address=sim.path, connection=f"sim|{sim.path}")

    return simulate_per_connection([d for d in devices if isinstance(d, AcgDevice)], start, point)
