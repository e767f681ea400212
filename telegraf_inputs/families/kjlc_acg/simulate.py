"""--simulate for ACG gauges: one simulated gauge per port."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ...base import DeviceSpec
from ...serial_sim import line_keywords, simulate_lines
from .driver import AcgDevice
from .simulator import AcgSimulator


def simulate(devices: Sequence[DeviceSpec]) -> tuple[list[DeviceSpec], Callable[[], None]]:
    return simulate_lines(devices, AcgDevice, lambda group: AcgSimulator(**line_keywords(group[0].line)))
