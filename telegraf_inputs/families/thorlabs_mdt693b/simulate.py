"""--simulate for MDT693B piezo controllers: one simulated controller per port."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from ...base import DeviceSpec
from ...simulators import simulate_per_connection
from .driver import PiezoDevice
from .simulator import Mdt693bSimulator


def simulate(devices: Sequence[DeviceSpec]) -> tuple[list[DeviceSpec], Callable[[], None]]:
    def start(group: list[PiezoDevice]) -> Mdt693bSimulator:
        baud, size, parity, stop = group[0].line
        return Mdt693bSimulator(baudrate=baud, bytesize=size, parity=parity, stopbits=stop).start()

    def point(device: PiezoDevice, sim: Mdt693bSimulator) -> DeviceSpec:
        return replace(device, address=sim.path, connection=f"sim|{sim.path}")

    return simulate_per_connection([d for d in devices if isinstance(d, PiezoDevice)], start, point)
