"""This family's lab for tests/families/test_in_step.py: its simulator on its real transport, and a device
whose every channel has its own, distinct value."""

from __future__ import annotations

from typing import Any

from tests.families.lab import TIMEOUT_S, serial_lab
from tests.helpers import smc_device


def simulator() -> Any:
    from telegraf_inputs.families.smc_hrs.simulator import HrsSimulator

    return HrsSimulator(protocol="modbus")


def entry(path: str) -> dict[str, Any]:
    channels = {t: {"Type": t, "field-key": t.lower()} for t in ("PV1", "PRESSURE", "RESISTIVITY")}
    return smc_device(path, channels=channels, Timeout=TIMEOUT_S, DeviceSpecificParams={"Protocol": "modbus"})


lab = serial_lab(simulator, entry)
