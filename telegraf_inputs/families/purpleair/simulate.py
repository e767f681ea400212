"""--simulate for PurpleAir: one simulated cloud API and LAN sensors on 127.0.0.1 for every device."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from ...base import DeviceSpec
from .driver import PaDevice
from .simulator import PurpleAirSimulator

SIMULATOR_KEY = "simulated-key"


def simulate(devices: Sequence[DeviceSpec]) -> tuple[list[DeviceSpec], Callable[[], None]]:
    """Start the simulator; the devices pointed at it, and a function that stops it."""
    sim = PurpleAirSimulator(api_key=SIMULATOR_KEY).start()
    out: list[DeviceSpec] = []
    for device in devices:
        assert isinstance(device, PaDevice)
        for ch in device.channels:
            sim.add_sensor(ch.sensor, read_key=ch.read_key)
        if device.lan_url is not None:
            sensor = device.channels[0].sensor
            out.append(replace(device, lan_url=sim.lan_url(sensor), connection=f"sim|{sim.lan_url(sensor)}"))
        else:
            out.append(replace(device, base_url=sim.base_url, api_key=SIMULATOR_KEY))
    return out, sim.stop
