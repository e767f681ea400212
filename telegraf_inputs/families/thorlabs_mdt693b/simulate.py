"""--simulate for MDT693B piezo controllers: one simulated controller per port."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ...base import DeviceSpec
from ...serial_sim import line_keywords, simulate_lines
from .driver import PiezoDevice
from .simulator import Mdt693bSimulator


def simulate(devices: Sequence[DeviceSpec]) -> tuple[list[DeviceSpec], Callable[[], None]]:
    return simulate_lines(devices, PiezoDevice, lambda group: Mdt693bSimulator(**line_keywords(group[0].line)))
