"""--simulate for SIM922 modules: one simulated line per port (a SIM900 with the configured slots, if any)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ...base import DeviceSpec
from ...serial_sim import line_keywords, simulate_lines
from .driver import Sim922Device
from .simulator import Sim922Simulator


def simulate(devices: Sequence[DeviceSpec]) -> tuple[list[DeviceSpec], Callable[[], None]]:
    def make(group: list[Sim922Device]) -> Sim922Simulator:
        slots = [d.sim900_port for d in group if d.sim900_port is not None]
        return Sim922Simulator(slots or None, **line_keywords(group[0].line))

    return simulate_lines(devices, Sim922Device, make)
