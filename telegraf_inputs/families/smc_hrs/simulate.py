"""--simulate for SMC HRS chillers: one simulated line (a pty) per port, every station on it answering."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from ...base import DeviceSpec
from ...simulators import simulate_per_connection
from .driver import HrsDevice
from .simulator import HrsSimulator


def simulate(devices: Sequence[DeviceSpec]) -> tuple[list[DeviceSpec], Callable[[], None]]:
    """Start the simulators; the devices pointed at them, and a function that stops them."""

    def start(group: list[HrsDevice]) -> HrsSimulator:
        first = group[0]  # check_all made sure that chillers sharing a port share its settings
        return HrsSimulator(
            stations=[d.station for d in group],
            protocol=first.protocol,
            bcc=first.bcc,
            baudrate=first.baudrate,
            bytesize=first.bytesize,
            parity=first.parity,
            stopbits=first.stopbits,
            model=first.model,
        ).start()

    def point(device: HrsDevice, sim: HrsSimulator) -> DeviceSpec:
        return replace(device, address=sim.path, connection=f"sim|{sim.path}")

    return simulate_per_connection([d for d in devices if isinstance(d, HrsDevice)], start, point)
