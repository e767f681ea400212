"""This family's lab for tests/families/test_in_step.py: its simulator on its real transport, and a device
whose every channel has its own, distinct value."""

from __future__ import annotations

from typing import Any

from telegraf_inputs.families.srs_sim922.simulator import Sim922Simulator
from tests.families.lab import TIMEOUT_S, serial_lab


def entry(path: str) -> dict[str, Any]:
    return {"Device": "diodes", "Model": "SRS SIM922", "Address": path, "Timeout": TIMEOUT_S,
            "measurement": "cryotemperature",
            "Channels": {f"t{n}": {"DeviceChannel": n, "Type": "Temperature", "field-key": f"t{n}"} for n in (1, 3)}
            | {"v1": {"DeviceChannel": 1, "Type": "Voltage", "field-key": "v1"}}}  # fmt: skip


lab = serial_lab(Sim922Simulator, entry)
