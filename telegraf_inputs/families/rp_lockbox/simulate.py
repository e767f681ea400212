"""--simulate for rp-lockbox devices: one simulated lock box per address."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from ...base import DeviceSpec
from ...simulators import simulate_per_connection
from .driver import LockDevice
from .simulator import LockboxSimulator


def simulate(devices: Sequence[DeviceSpec]) -> tuple[list[DeviceSpec], Callable[[], None]]:
    def start(group: list[LockDevice]) -> LockboxSimulator:
        return LockboxSimulator().start()

    def point(device: LockDevice, sim: LockboxSimulator) -> DeviceSpec:
        return replace(device, host="127.0.0.1", port=sim.port, connection=f"sim|{sim.port}")

    return simulate_per_connection([d for d in devices if isinstance(d, LockDevice)], start, point)
