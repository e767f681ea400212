"""--simulate for Cryomech CPA compressors: one simulated panel per address, with the configured unit ids."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from ...base import DeviceSpec
from ...simulators import simulate_per_connection
from .driver import CpaDevice
from .simulator import CpaSimulator


def simulate(devices: Sequence[DeviceSpec]) -> tuple[list[DeviceSpec], Callable[[], None]]:
    def start(group: list[CpaDevice]) -> CpaSimulator:
        return CpaSimulator(panel=group[0].panel, unit=group[0].unit).start()

    def point(device: CpaDevice, sim: CpaSimulator) -> DeviceSpec:
        return replace(device, host="127.0.0.1", port=sim.port, connection=f"sim|{sim.port}")

    return simulate_per_connection([d for d in devices if isinstance(d, CpaDevice)], start, point)
