"""--simulate for PM100 meters: one simulated meter per address, reached as a VISA SOCKET resource."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from ...base import DeviceSpec
from ...simulators import simulate_per_connection
from .driver import MeterDevice
from .simulator import IDN, Pm100Simulator


def simulate(devices: Sequence[DeviceSpec]) -> tuple[list[DeviceSpec], Callable[[], None]]:
    def start(group: list[MeterDevice]) -> Pm100Simulator:
        return Pm100Simulator().start()

    def point(device: MeterDevice, sim: Pm100Simulator) -> DeviceSpec:
        return replace(device, address=sim.address, visa_library="@py", visa_idn=device.visa_idn and IDN,
                       connection=f"sim|{sim.address}")  # fmt: skip

    return simulate_per_connection([d for d in devices if isinstance(d, MeterDevice)], start, point)
