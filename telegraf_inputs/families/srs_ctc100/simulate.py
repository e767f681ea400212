"""--simulate for CTC100s: one simulated controller per port, with the channel names the config uses."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ...base import DeviceSpec
from ...serial_sim import line_keywords, simulate_lines
from .driver import CtcDevice
from .simulator import Ctc100Simulator


def simulate(devices: Sequence[DeviceSpec]) -> tuple[list[DeviceSpec], Callable[[], None]]:
    def make(group: list[CtcDevice]) -> Ctc100Simulator:
        sim = Ctc100Simulator(**line_keywords(group[0].line))
        for device in group:  # channels renamed on the panel answer under their names
            for ch in device.channels:
                name = ch.request.split("?")[0].split(".")[0]
                if ch.type == "Custom":
                    sim.custom[ch.request] = 0.01
                elif name not in sim.values:
                    sim.values[name] = 20.0 + len(sim.values)
                    if ch.type == "PIDSetpoint":
                        sim.setpoints[name] = 4.0
        return sim

    return simulate_lines(devices, CtcDevice, make)
