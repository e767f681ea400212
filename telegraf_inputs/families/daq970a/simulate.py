"""--simulate for the DAQ970A/973A: one simulated instrument per address, each device pointed at its own."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from ...base import DeviceSpec
from ...simulators import simulate_per_connection
from .driver import DaqDevice
from .simulator import Daq970aSimulator


def simulate(devices: Sequence[DeviceSpec]) -> tuple[list[DeviceSpec], Callable[[], None]]:
    """Start the simulators; the devices pointed at them, and a function that stops them."""

    def start(group: list[DaqDevice]) -> Daq970aSimulator:
        model = "DAQ973A" if "973" in group[0].config.model else "DAQ970A"
        return Daq970aSimulator(model=model).start()

    def point(device: DaqDevice, sim: Daq970aSimulator) -> DeviceSpec:
        address = sim.address_like(device.address)  # the transport the file names: raw socket, VXI-11 or HiSLIP
        return replace(device, address=address, visa_library="@py", visa_idn=None, connection=f"sim|{address}")

    return simulate_per_connection([d for d in devices if isinstance(d, DaqDevice)], start, point)
