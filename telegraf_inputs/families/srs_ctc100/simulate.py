"""--simulate for CTC100s: one simulated controller per port, with the channel names the config uses."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from ...base import DeviceSpec
from ...simulators import simulate_per_connection
from .driver import CtcDevice
from .simulator import Ctc100Simulator


def simulate(devices: Sequence[DeviceSpec]) -> tuple[list[DeviceSpec], Callable[[], None]]:
    def start(group: list[CtcDevice]) -> Ctc100Simulator:
        baud, size, parity, stop = group[0].line
        sim = Ctc100Simulator(baudrate=baud, bytesize=size, parity=parity, stopbits=stop)
        for device in group:  # channels renamed on the panel answer under their names
            for ch in device.channels:
                name = ch.query.split("?")[0].split(".")[0]
                if ch.type == "Custom":
                    sim.custom[ch.query] = 0.01
                elif name not in sim.values:
                    sim.values[name] = 20.0 + len(sim.values)
                    if ch.type == "PIDSetpoint":
                        sim.setpoints[name] = 4.0
        return sim.start()

    def point(device: CtcDevice, sim: Ctc100Simulator) -> DeviceSpec:
        return replace(device, address=sim.path, connection=f"sim|{sim.path}")

    return simulate_per_connection([d for d in devices if isinstance(d, CtcDevice)], start, point)
