"""This family's lab for tests/families/test_in_step.py: its simulator on its real transport, and a device
whose every channel has its own, distinct value."""

from __future__ import annotations

from typing import Any

from telegraf_inputs.families.thorlabs_kpa101.simulator import Kpa101Simulator
from tests.families.lab import TIMEOUT_S, serial_lab


def entry(path: str) -> dict[str, Any]:
    return {"Device": "beam", "Model": "Thorlabs KPA101", "Address": path, "SerialNumber": 69252254,
            "Timeout": TIMEOUT_S, "measurement": "beamposition",
            "Channels": {t: {"Type": t, "field-key": t} for t in ("XDiff", "YDiff", "Sum")}}  # fmt: skip


lab = serial_lab(Kpa101Simulator, entry)
