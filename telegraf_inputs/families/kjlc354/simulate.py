"""--simulate for KJLC 354 / 352 gauges: one simulated line (a pty) per port, every address on it answering."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ...base import DeviceSpec
from ...serial_sim import line_keywords, simulate_lines
from .driver import GaugeDevice
from .simulator import Kjlc354Simulator


def simulate(devices: Sequence[DeviceSpec]) -> tuple[list[DeviceSpec], Callable[[], None]]:
    # check_all made sure that gauges on one port share its line
    return simulate_lines(devices, GaugeDevice, lambda group: Kjlc354Simulator(
        [d.gauge_address for d in group], **line_keywords(group[0].line)))  # fmt: skip
