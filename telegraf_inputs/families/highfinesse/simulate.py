"""--simulate for wavelength meters: the library's worker answers from the simulated wavemeter (no library)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from ...base import DeviceSpec
from .driver import WavemeterDevice
from .worker import SIMULATED


def simulate(devices: Sequence[DeviceSpec]) -> tuple[list[DeviceSpec], Callable[[], None]]:
    pointed: list[DeviceSpec] = [
        replace(d, library=SIMULATED, connection=f"wlm|{SIMULATED}|{d.connection}")
        for d in devices
        if isinstance(d, WavemeterDevice)
    ]
    return pointed, lambda: None
