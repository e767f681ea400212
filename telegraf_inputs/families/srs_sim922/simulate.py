"""--simulate for SIM922 modules: one simulated line per port (a SIM900 with the configured slots, if any)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from ...base import DeviceSpec
from ...simulators import simulate_per_connection
from .driver import Sim922Device
from .simulator import Sim922Simulator


def simulate(devices: Sequence[DeviceSpec]) -> tuple[list[DeviceSpec], Callable[[], None]]:
    def start(group: list[Sim922Device]) -> Sim922Simulator:
        baud, size, parity, stop = group[0].line
        slots = [d.sim900_port for d in group if d.sim900_port is not None]
        return Sim922Simulator(slots or None, baudrate=baud, bytesize=size, parity=parity, stopbits=stop).start()

    def point(device: Sim922Device, sim: Sim922Simulator) -> DeviceSpec:
        return replace(device, address=sim.path, connection=f"sim|{sim.path}")

    return simulate_per_connection([d for d in devices if isinstance(d, Sim922Device)], start, point)
