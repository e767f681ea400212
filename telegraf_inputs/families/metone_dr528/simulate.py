"""--simulate for DR-528 counters: one simulated counter per port."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ...base import DeviceSpec
from ...serial_sim import line_keywords, simulate_lines
from .driver import CounterDevice
from .simulator import Dr528Simulator


def simulate(devices: Sequence[DeviceSpec]) -> tuple[list[DeviceSpec], Callable[[], None]]:
    return simulate_lines(devices, CounterDevice, lambda group: Dr528Simulator(**line_keywords(group[0].line)))
