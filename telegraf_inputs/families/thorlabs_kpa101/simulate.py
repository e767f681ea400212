"""--simulate for KPA101 cubes: one simulated cube per device, its pty given as the Address."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from ...base import DeviceSpec
from ...simulators import simulate_per_connection
from .driver import KpaDevice
from .simulator import Kpa101Simulator


def simulate(devices: Sequence[DeviceSpec]) -> tuple[list[DeviceSpec], Callable[[], None]]:
    def start(group: list[KpaDevice]) -> Kpa101Simulator:
        return Kpa101Simulator(serial_number=group[0].serial_number or 0).start()

    def point(device: KpaDevice, sim: Kpa101Simulator) -> DeviceSpec:
        return replace(device, address=sim.path, connection=f"sim|{sim.path}")

    return simulate_per_connection([d for d in devices if isinstance(d, KpaDevice)], start, point)
