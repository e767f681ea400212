"""--simulate for pydase services: one simulated service per address, holding every configured path."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from ...base import DeviceSpec
from ...simulators import simulate_per_connection
from .driver import PydaseDevice
from .simulator import PydaseSimulator, Quantity


def simulate(devices: Sequence[DeviceSpec]) -> tuple[list[DeviceSpec], Callable[[], None]]:
    def start(group: list[PydaseDevice]) -> PydaseSimulator:
        sim = PydaseSimulator()
        for device in group:  # each configured access path holds a number (or a Quantity in the unit tag's unit)
            for ch in device.channels:
                try:
                    sim.resolve(ch.path)
                except (AttributeError, IndexError, KeyError, TypeError):
                    sim.service[ch.path] = Quantity(1.0, ch.unit) if ch.unit else 1.0
                except Exception:  # noqa: BLE001 (an attribute whose getter raises: served raising, as pydase does)
                    continue
        return sim.start()

    def point(device: PydaseDevice, sim: PydaseSimulator) -> DeviceSpec:
        return replace(device, base_url=sim.address, connection=f"sim|{sim.port}")

    return simulate_per_connection([d for d in devices if isinstance(d, PydaseDevice)], start, point)
