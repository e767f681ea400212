"""--simulate for KJLC 354 / 352 gauges: one simulated line (a pty) per port, every address on it answering."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from ...base import DeviceSpec
from ...simulators import simulate_per_connection
from .driver import GaugeDevice
from .simulator import Kjlc354Simulator


def simulate(devices: Sequence[DeviceSpec]) -> tuple[list[DeviceSpec], Callable[[], None]]:
    def start(group: list[GaugeDevice]) -> Kjlc354Simulator:
        baud, size, parity, stop = group[0].line  # check_all made sure gauges on one port share its line
        return Kjlc354Simulator([d.gauge_address for d in group], baudrate=baud, bytesize=size, parity=parity,
                                stopbits=stop).start()  # fmt: skip

    def point(device: GaugeDevice, sim: Kjlc354Simulator) -> DeviceSpec:
        return replace(device, address=sim.path, connection=f"sim|{sim.path}")

    return simulate_per_connection([d for d in devices if isinstance(d, GaugeDevice)], start, point)
